/* tests/proxy/test_pool.c — the backend pool against real loopback sockets
 * in a libevent loop: dial, idle reuse, the bounded wait queue and its
 * timeout, refused connects, idle timeout, a backend closing an idle
 * connection, keepalive 0, cancel, fresh leases. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "core/err.h"
#include "core/time.h"
#include "proxy/backend/pool.h"
#include "testutil/testutil.h"

struct owner {
    int ready, failed, err;
    struct px_bconn *c;
};

static void on_ready(void *o, struct px_bconn *c)
{
    ((struct owner *)o)->ready++;
    ((struct owner *)o)->c = c;
}
static void on_fail(void *o, int err)
{
    ((struct owner *)o)->failed++;
    ((struct owner *)o)->err = err;
}
static void ignore(void *o, struct px_bconn *c)
{
}
static const struct px_bconn_ops ops = {on_ready, on_fail, ignore, ignore, ignore};

struct fixture {
    struct event_base *base;
    int lfd; /* the "backend" */
    struct sockaddr_in addr;
    int accepted[16];
    int naccepted;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    f->base = event_base_new();
    f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    f->addr.sin_family = AF_INET;
    f->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(f->lfd, (struct sockaddr *)&f->addr, sizeof f->addr), 0);
    socklen_t len = sizeof f->addr;
    getsockname(f->lfd, (struct sockaddr *)&f->addr, &len);
    assert_int_equal(listen(f->lfd, 16), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    for (int i = 0; i < f->naccepted; i++)
        close(f->accepted[i]);
    close(f->lfd);
    event_base_free(f->base);
    free(f);
    return 0;
}

static void accept_all(struct fixture *f)
{
    int fd;
    while (f->naccepted < 16 && (fd = accept(f->lfd, NULL, NULL)) >= 0)
        f->accepted[f->naccepted++] = fd;
}

/* Runs the loop until cond() or ms elapse. */
static void run_until(struct fixture *f, int ms, int (*cond)(void *), void *arg)
{
    hb_ns_t end = hb_time_now_ns() + ms * HB_NS_PER_MS;
    while (hb_time_now_ns() < end && !(cond && cond(arg))) {
        struct timeval tv = {0, 5000};
        event_base_loopexit(f->base, &tv);
        event_base_dispatch(f->base);
        accept_all(f);
    }
}

static int is_ready(void *o)
{
    return ((struct owner *)o)->ready > 0;
}
static int is_failed(void *o)
{
    return ((struct owner *)o)->failed > 0;
}

static struct px_pool *mkpool(struct fixture *f, uint32_t max, uint32_t qmax, uint32_t qms,
                              uint32_t idle_ms, uint32_t keepalive)
{
    struct px_pool_opts o = {.connect_timeout_ms = 1000, .idle_timeout_ms = idle_ms,
                             .keepalive = keepalive, .max_conns = max, .queue_max = qmax,
                             .queue_timeout_ms = qms};
    struct px_pool *p = px_pool_new(f->base, (struct sockaddr *)&f->addr, sizeof f->addr,
                                    "test", &o);
    assert_non_null(p);
    return p;
}

static void test_dial_release_reuse(void **state)
{
    struct fixture *f = *state;
    struct px_pool *p = mkpool(f, 0, 8, 1000, 60000, 4);
    struct owner a = {0};
    struct px_pool_wait w;
    struct px_bconn *c = NULL;
    assert_int_equal(px_pool_lease(p, &w, &a, &ops, false, &c), 0);
    assert_null(c); /* dialling */
    run_until(f, 1000, is_ready, &a);
    assert_int_equal(a.ready, 1);
    assert_false(px_bconn_reused(a.c));
    px_bconn_release(a.c);
    struct px_pool_stats st;
    px_pool_stats(p, &st);
    assert_int_equal(st.open, 1);
    assert_int_equal(st.idle, 1);
    struct owner b = {0};
    assert_int_equal(px_pool_lease(p, &w, &b, &ops, false, &c), 0);
    assert_non_null(c); /* the idle one, at once, no callback */
    assert_true(px_bconn_reused(c));
    assert_int_equal(b.ready, 0);
    px_pool_stats(p, &st);
    assert_int_equal(st.dials, 1);
    assert_int_equal(st.reuses, 1);
    /* A fresh lease never takes an idle connection. */
    px_bconn_release(c);
    struct owner d = {0};
    assert_int_equal(px_pool_lease(p, &w, &d, &ops, true, &c), 0);
    assert_null(c);
    run_until(f, 1000, is_ready, &d);
    assert_false(px_bconn_reused(d.c));
    px_pool_stats(p, &st);
    assert_int_equal(st.open, 2);
    px_bconn_close(d.c);
    px_pool_del(p);
}

static void test_queue(void **state)
{
    struct fixture *f = *state;
    struct px_pool *p = mkpool(f, 1, 1, 100, 60000, 4);
    struct owner a = {0}, b = {0}, c3 = {0};
    struct px_pool_wait wa, wb, wc;
    struct px_bconn *c = NULL;
    assert_int_equal(px_pool_lease(p, &wa, &a, &ops, false, &c), 0);
    run_until(f, 1000, is_ready, &a);
    assert_int_equal(px_pool_lease(p, &wb, &b, &ops, false, &c), 0);
    assert_null(c); /* queued */
    assert_int_equal(px_pool_lease(p, &wc, &c3, &ops, false, &c), HB_ELIMIT); /* queue full */
    struct px_pool_stats st;
    px_pool_stats(p, &st);
    assert_int_equal(st.waiting, 1);
    /* Releasing hands the connection to the waiter at once. */
    px_bconn_release(a.c);
    assert_int_equal(b.ready, 1);
    assert_ptr_equal(b.c, a.c);
    /* Now wait in the queue until the timeout: 503 material. */
    struct owner d = {0};
    assert_int_equal(px_pool_lease(p, &wa, &d, &ops, false, &c), 0);
    hb_ns_t t0 = hb_time_now_ns();
    run_until(f, 2000, is_failed, &d);
    assert_int_equal(d.failed, 1);
    assert_int_equal(d.err, HB_ELIMIT);
    assert_true(hb_time_now_ns() - t0 >= 90 * HB_NS_PER_MS);
    /* A cancelled waiter gets nothing. */
    struct owner e = {0};
    assert_int_equal(px_pool_lease(p, &wa, &e, &ops, false, &c), 0);
    px_pool_cancel(&wa);
    px_bconn_close(b.c);
    run_until(f, 150, NULL, NULL);
    assert_int_equal(e.ready + e.failed, 0);
    px_pool_del(p);
}

static void test_refused(void **state)
{
    struct fixture *f = *state;
    /* A port nobody listens on. */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(s, (struct sockaddr *)&a, sizeof a);
    socklen_t len = sizeof a;
    getsockname(s, (struct sockaddr *)&a, &len);
    close(s);
    struct px_pool_opts o = {.connect_timeout_ms = 1000, .idle_timeout_ms = 1000,
                             .keepalive = 1, .queue_max = 1, .queue_timeout_ms = 100};
    struct px_pool *p = px_pool_new(f->base, (struct sockaddr *)&a, sizeof a, "dead", &o);
    struct owner w1 = {0};
    struct px_pool_wait w;
    struct px_bconn *c = NULL;
    int rc = px_pool_lease(p, &w, &w1, &ops, false, &c);
    if (rc == 0) {
        run_until(f, 1000, is_failed, &w1);
        assert_int_equal(w1.err, HB_EIO);
    } else {
        assert_int_equal(rc, HB_EIO);
    }
    struct px_pool_stats st;
    px_pool_stats(p, &st);
    assert_int_equal(st.open, 0);
    px_pool_del(p);
}

static void test_idle_end(void **state)
{
    struct fixture *f = *state;
    struct px_pool *p = mkpool(f, 0, 4, 100, 50, 4);
    struct owner a = {0}, b = {0};
    struct px_pool_wait w;
    struct px_bconn *c = NULL;
    struct px_pool_stats st;
    /* Idle timeout. */
    px_pool_lease(p, &w, &a, &ops, false, &c);
    run_until(f, 1000, is_ready, &a);
    px_bconn_release(a.c);
    run_until(f, 300, NULL, NULL);
    px_pool_stats(p, &st);
    assert_int_equal(st.open, 0);
    /* The backend closes an idle connection: the pool drops it. */
    px_pool_lease(p, &w, &b, &ops, false, &c);
    run_until(f, 1000, is_ready, &b);
    px_bconn_release(b.c);
    accept_all(f);
    for (int i = 0; i < f->naccepted; i++)
        shutdown(f->accepted[i], SHUT_RDWR);
    run_until(f, 30, NULL, NULL);
    px_pool_stats(p, &st);
    assert_int_equal(st.open, 0);
    px_pool_del(p);
    /* keepalive 0: nothing is kept. */
    p = mkpool(f, 0, 4, 100, 60000, 0);
    struct owner d = {0};
    px_pool_lease(p, &w, &d, &ops, false, &c);
    run_until(f, 1000, is_ready, &d);
    px_bconn_release(d.c);
    px_pool_stats(p, &st);
    assert_int_equal(st.open, 0);
    /* Cancelling a dial closes it. */
    struct owner e = {0};
    px_pool_lease(p, &w, &e, &ops, false, &c);
    px_pool_cancel(&w);
    px_pool_stats(p, &st);
    assert_int_equal(st.open, 0);
    px_pool_del(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_dial_release_reuse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idle_end, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
