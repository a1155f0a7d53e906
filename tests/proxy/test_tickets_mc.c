/* tests/proxy/test_tickets_mc.c — one fetch of the ticket key set
 * (proxy/tls/tls_tickets_mc.h) against a scripted server on loopback: each
 * way it can fail has its own reason, a good set is decoded, and a key set
 * object in memcached mode takes the fetched generation (or works on keys
 * of its own when nothing answers). The real memcached: tests/e2e/
 * test_ticket_memcached.py. */
#include "testutil/testutil.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/ticket_set.h"
#include "proxy/tls/tls.h"
#include "proxy/tls/tls_tickets_mc.h"

struct script {
    int lfd;
    uint16_t port;
    const uint8_t *reply;
    size_t reply_len;
    int hold_ms; /* wait before replying */
    char request[128];
    pthread_t th;
};

static void *serve(void *arg)
{
    struct script *s = arg;
    int fd = accept(s->lfd, NULL, NULL);
    if (fd < 0)
        return NULL;
    ssize_t n = recv(fd, s->request, sizeof s->request - 1, 0);
    if (n > 0)
        s->request[n] = '\0';
    if (s->hold_ms)
        usleep((useconds_t)s->hold_ms * 1000);
    if (s->reply_len)
        (void)!send(fd, s->reply, s->reply_len, MSG_NOSIGNAL);
    close(fd);
    return NULL;
}

static void start(struct script *s, const void *reply, size_t len, int hold_ms)
{
    memset(s, 0, sizeof *s);
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s->lfd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(s->lfd, 4), 0);
    socklen_t sl = sizeof a;
    getsockname(s->lfd, (struct sockaddr *)&a, &sl);
    s->port = ntohs(a.sin_port);
    s->reply = reply;
    s->reply_len = len;
    s->hold_ms = hold_ms;
    assert_int_equal(pthread_create(&s->th, NULL, serve, s), 0);
}

static void finish(struct script *s)
{
    pthread_join(s->th, NULL);
    close(s->lfd);
}

/* Nothing listening: the port of a socket bound and closed. */
static uint16_t dead_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t sl = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &sl);
    close(fd);
    return ntohs(a.sin_port);
}

static struct px_ticket_mc_opts opts(uint16_t port, uint32_t timeout_ms)
{
    return (struct px_ticket_mc_opts){"127.0.0.1", port, "t/k", 1000, timeout_ms};
}

/* A VALUE reply carrying a set of generation gen. */
static size_t good_reply(uint8_t *out, size_t cap, uint64_t gen)
{
    struct hb_tks s = {.generation = gen - 1};
    struct hb_tks_key k = {.len = 48};
    memset(k.bytes, 7, 48);
    hb_tks_rotate(&s, &k, 2, 1700000000);
    uint8_t v[HB_TKS_BYTES_MAX];
    ptrdiff_t n = hb_tks_write(&s, v, sizeof v);
    int h = snprintf((char *)out, cap, "VALUE t/k 0 %td 5\r\n", n);
    memcpy(out + h, v, (size_t)n);
    memcpy(out + h + n, "\r\nEND\r\n", 7);
    return (size_t)h + (size_t)n + 7;
}

static void expect_failure(const char *reply, int hold_ms, uint32_t timeout_ms, const char *why)
{
    struct script s;
    start(&s, reply, strlen(reply), hold_ms);
    struct px_ticket_mc_opts o = opts(s.port, timeout_ms);
    struct hb_tks set;
    char got[512];
    assert_int_equal(px_tkmc_fetch(&o, &set, got, sizeof got), -1);
    if (!strstr(got, why))
        print_error("got \"%s\", want \"%s\"\n", got, why);
    assert_non_null(strstr(got, why));
    finish(&s);
}

static void test_fetch_failures(void **state)
{
    (void)state;
    expect_failure("END\r\n", 0, 1000, "has no key \"t/k\"");
    expect_failure("HELLO\r\n", 0, 1000, "not a memcached reply: not a retrieval reply");
    expect_failure("VALUE t/k 0 3\r\nabc\r\nEND\r\n", 0, 1000,
                   "key \"t/k\": not a ticket key set (shorter than its 22-byte header)");
    expect_failure("SERVER_ERROR busy\r\n", 0, 1000, "answered SERVER_ERROR busy");
    expect_failure("VALUE t/k 0 10\r\nabc", 0, 1000, "closed the connection mid-reply");
    expect_failure("END\r\n", 800, 200, "no reply from 127.0.0.1:");

    struct px_ticket_mc_opts o = opts(dead_port(), 500);
    struct hb_tks set;
    char got[512];
    assert_int_equal(px_tkmc_fetch(&o, &set, got, sizeof got), -1);
    assert_non_null(strstr(got, "Connection refused"));
}

static void test_fetch_good(void **state)
{
    (void)state;
    uint8_t reply[1024];
    size_t n = good_reply(reply, sizeof reply, 42);
    struct script s;
    start(&s, reply, n, 0);
    struct px_ticket_mc_opts o = opts(s.port, 1000);
    struct hb_tks set;
    char why[512];
    assert_int_equal(px_tkmc_fetch(&o, &set, why, sizeof why), 0);
    finish(&s);
    assert_string_equal(s.request, "gets t/k\r\n");
    assert_int_equal(set.generation, 42);
    assert_int_equal(set.n, 1);
    assert_int_equal(set.keys[0].bytes[0], 7);
}

static void test_keys_mc_mode(void **state)
{
    (void)state;
    uint8_t reply[1024];
    size_t n = good_reply(reply, sizeof reply, 9);
    struct script s;
    start(&s, reply, n, 0);
    struct px_ticket_mc_opts o = opts(s.port, 1000);
    o.interval_ms = 3600000; /* only the first fetch, in px_ticket_keys_new_mc */
    char err[256];
    struct px_ticket_keys *k = px_ticket_keys_new_mc(&o, 3600, 600, err, sizeof err);
    assert_non_null(k);
    finish(&s);
    assert_int_equal(px_ticket_keys_generation(k), 9);
    struct px_tkmc_stats st;
    px_tkmc_stats_get(&st);
    assert_true(st.fetchers >= 1);
    assert_int_equal(st.generation, 9);
    px_ticket_keys_del(k);

    /* Nothing answers on another key: keys of its own, generation 0. */
    o = opts(dead_port(), 300);
    o.key = "other/key";
    o.interval_ms = 3600000;
    k = px_ticket_keys_new_mc(&o, 3600, 600, err, sizeof err);
    assert_non_null(k);
    assert_int_equal(px_ticket_keys_generation(k), 0);
    px_tkmc_stats_get(&st);
    assert_true(st.failing);
    px_ticket_keys_del(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fetch_failures),
        cmocka_unit_test(test_fetch_good),
        cmocka_unit_test(test_keys_mc_mode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
