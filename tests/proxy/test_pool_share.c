/* tests/proxy/test_pool_share.c — the pool's fairness against real loopback
 * sockets: the per-client share (client_share), the wait queue served
 * round-robin over clients (core/fairq.h), the upstream-wide waiter cap
 * (px_pool_group) and surplus idle connections past keepalive. */
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


static struct px_pool *mkpool(struct fixture *f, uint32_t max, uint32_t share, uint32_t keepalive,
                              uint32_t surplus_ms, struct px_pool_group *g)
{
    struct px_pool_opts o = {.connect_timeout_ms = 1000, .idle_timeout_ms = 60000,
                             .keepalive = keepalive, .surplus_idle_ms = surplus_ms,
                             .max_conns = max, .client_share = share, .queue_max = 64,
                             .queue_timeout_ms = 5000, .group = g};
    struct px_pool *p = px_pool_new(f->base, (struct sockaddr *)&f->addr, sizeof f->addr,
                                    "test", &o);
    assert_non_null(p);
    return p;
}

#define A ((uintptr_t)1)
#define B ((uintptr_t)2)

struct req {
    struct owner o;
    struct px_pool_wait w;
};

static int lease(struct px_pool *p, struct req *r, uintptr_t client)
{
    memset(r, 0, sizeof *r);
    r->w.client = client;
    struct px_bconn *c = NULL;
    int rc = px_pool_lease(p, &r->w, &r->o, &ops, false, &c);
    if (c) {
        r->o.ready++;
        r->o.c = c;
    }
    return rc;
}

static int all_ready(void *arg)
{
    struct req **rs = arg;
    for (; *rs; rs++)
        if (!(*rs)->o.ready)
            return 0;
    return 1;
}

/* A client at its share waits even though the pool has room; another is
 * served at once; a release by the first goes to its own waiter. */
static void test_share(void **state)
{
    struct fixture *f = *state;
    struct px_pool *p = mkpool(f, 4, 50, 4, 0, NULL); /* 2 per client */
    struct px_pool_stats st;
    px_pool_stats(p, &st);
    assert_int_equal(st.client_cap, 2);
    struct req a1, a2, a3, b1;
    assert_int_equal(lease(p, &a1, A), 0);
    assert_int_equal(lease(p, &a2, A), 0);
    assert_int_equal(lease(p, &a3, A), 0);
    assert_int_equal(lease(p, &b1, B), 0);
    struct req *want[] = {&a1, &a2, &b1, NULL};
    run_until(f, 1000, all_ready, want);
    assert_true(a1.o.ready && a2.o.ready && b1.o.ready);
    assert_int_equal(a3.o.ready, 0); /* at its share, with 1 connection free */
    px_pool_stats(p, &st);
    assert_int_equal(st.open, 3);
    assert_int_equal(st.waiting, 1);
    assert_int_equal(st.share_waits, 1);
    assert_int_equal(px_pool_client_held(p, A), 2);
    assert_int_equal(px_pool_client_held(p, B), 1);
    px_bconn_release(a1.o.c);
    assert_int_equal(a3.o.ready, 1); /* handed over by the release */
    assert_ptr_equal(a3.o.c, a1.o.c);
    assert_int_equal(px_pool_client_held(p, A), 2);
    px_bconn_close(a2.o.c);
    px_bconn_close(a3.o.c);
    px_bconn_close(b1.o.c);
    assert_int_equal(px_pool_client_held(p, A), 0);
    px_pool_del(p);
}

/* One client's waiters do not stand in front of another's first. */
static void test_round_robin(void **state)
{
    struct fixture *f = *state;
    struct px_pool *p = mkpool(f, 2, 100, 2, 0, NULL); /* no share */
    struct req h1, h2, a[3], b1;
    assert_int_equal(lease(p, &h1, A), 0);
    assert_int_equal(lease(p, &h2, A), 0);
    struct req *want[] = {&h1, &h2, NULL};
    run_until(f, 1000, all_ready, want);
    for (int i = 0; i < 3; i++)
        assert_int_equal(lease(p, &a[i], A), 0);
    assert_int_equal(lease(p, &b1, B), 0);
    px_bconn_release(h1.o.c);
    assert_int_equal(a[0].o.ready, 1); /* A was first in line */
    px_bconn_release(h2.o.c);
    assert_int_equal(b1.o.ready, 1); /* then B, before A's second */
    assert_int_equal(a[1].o.ready, 0);
    px_bconn_release(a[0].o.c);
    assert_int_equal(a[1].o.ready, 1);
    px_pool_cancel(&a[2].w);
    px_bconn_close(a[1].o.c);
    px_bconn_close(b1.o.c);
    px_pool_del(p);
}

/* The group's cap counts waiters across pools. */
static void test_group(void **state)
{
    struct fixture *f = *state;
    struct px_pool_group g = {.max_waiting = 2};
    struct px_pool *p1 = mkpool(f, 1, 100, 1, 0, &g), *p2 = mkpool(f, 1, 100, 1, 0, &g);
    struct req h1, h2, w1, w2, w3;
    assert_int_equal(lease(p1, &h1, A), 0);
    assert_int_equal(lease(p2, &h2, A), 0);
    struct req *want[] = {&h1, &h2, NULL};
    run_until(f, 1000, all_ready, want);
    assert_int_equal(lease(p1, &w1, A), 0);
    assert_int_equal(lease(p2, &w2, B), 0);
    assert_int_equal(g.waiting, 2);
    assert_true(px_pool_group_full(&g));
    assert_int_equal(lease(p1, &w3, B), HB_ELIMIT);
    px_pool_cancel(&w1.w);
    assert_int_equal(g.waiting, 1);
    px_bconn_release(h2.o.c);
    assert_int_equal(w2.o.ready, 1);
    assert_int_equal(g.waiting, 0);
    px_bconn_close(h1.o.c);
    px_bconn_close(w2.o.c);
    px_pool_del(p1);
    px_pool_del(p2);
}

/* Past keepalive, idle connections linger surplus_idle_ms, then close;
 * keepalive of them stay. */
static void test_surplus(void **state)
{
    struct fixture *f = *state;
    struct px_pool *p = mkpool(f, 8, 100, 1, 50, NULL);
    struct req r[3];
    for (int i = 0; i < 3; i++)
        assert_int_equal(lease(p, &r[i], A), 0);
    struct req *want[] = {&r[0], &r[1], &r[2], NULL};
    run_until(f, 1000, all_ready, want);
    for (int i = 0; i < 3; i++)
        px_bconn_release(r[i].o.c);
    struct px_pool_stats st;
    px_pool_stats(p, &st);
    assert_int_equal(st.idle, 3);
    run_until(f, 300, NULL, NULL);
    px_pool_stats(p, &st);
    assert_int_equal(st.idle, 1);
    assert_int_equal(st.open, 1);
    px_pool_del(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_share, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_robin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group, setup, teardown),
        cmocka_unit_test_setup_teardown(test_surplus, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
