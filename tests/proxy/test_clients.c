/* tests/proxy/test_clients.c — the per-client table (proxy/clients.h):
 * connection limits, the request rate (GCRA), a full window, and the
 * counts staying exact when threads race on one address. */
#include "testutil/testutil.h"

#include <pthread.h>
#include <string.h>

#include "proxy/clients.h"

static void addr_n(uint8_t a[16], uint32_t n)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    memcpy(a, mapped, 12);
    a[12] = (uint8_t)(n >> 24), a[13] = (uint8_t)(n >> 16), a[14] = (uint8_t)(n >> 8),
    a[15] = (uint8_t)n;
}

static void test_connections(void **st)
{
    (void)st;
    struct px_clients *t = px_clients_new(1024, 1);
    uint8_t a[16], b[16];
    addr_n(a, 0x0a000001);
    addr_n(b, 0x0a000002);
    for (int i = 0; i < 3; i++)
        assert_int_equal(px_clients_open(t, a, 3, 1), PX_CLIENT_OK);
    assert_int_equal(px_clients_open(t, a, 3, 1), PX_CLIENT_OVER);
    assert_int_equal(px_clients_conns(t, a), 3);
    assert_int_equal(px_clients_open(t, b, 3, 1), PX_CLIENT_OK); /* another client */
    px_clients_close(t, a);
    assert_int_equal(px_clients_open(t, a, 3, 1), PX_CLIENT_OK);
    assert_int_equal(px_clients_conns(t, a), 3);
    for (int i = 0; i < 3; i++)
        px_clients_close(t, a);
    assert_int_equal(px_clients_conns(t, a), 0);
    px_clients_close(t, a); /* not below 0 */
    assert_int_equal(px_clients_conns(t, a), 0);
    /* max 0: no limit, still counted. */
    for (int i = 0; i < 1000; i++)
        assert_int_equal(px_clients_open(t, a, 0, 1), PX_CLIENT_OK);
    assert_int_equal(px_clients_conns(t, a), 1000);
    assert_int_equal(px_clients_untracked(t), 0);
    px_clients_del(t);
}

/* One window's worth of slots: the 17th live address is not tracked; once
 * one is gone (no connection, full bucket), its slot serves a new one. */
static void test_full_window(void **st)
{
    (void)st;
    struct px_clients *t = px_clients_new(PX_CLIENTS_WINDOW, 2);
    assert_int_equal(px_clients_bytes(t) > PX_CLIENTS_WINDOW * 16, true);
    uint8_t a[16];
    for (uint32_t i = 0; i < PX_CLIENTS_WINDOW; i++) {
        addr_n(a, i + 1);
        assert_int_equal(px_clients_open(t, a, 10, 1), PX_CLIENT_OK);
    }
    uint8_t extra[16];
    addr_n(extra, 1000);
    assert_int_equal(px_clients_open(t, extra, 10, 1), PX_CLIENT_UNTRACKED);
    assert_int_equal(px_clients_untracked(t), 1);
    assert_int_equal(px_clients_request(t, extra, 1, 1, 1), PX_CLIENT_UNTRACKED);
    addr_n(a, 5);
    /* Address 5 used its bucket: not reclaimable until the bucket refills. */
    assert_int_equal(px_clients_request(t, a, 1, 1, 1), PX_CLIENT_OK);
    px_clients_close(t, a);
    assert_int_equal(px_clients_open(t, extra, 10, 2), PX_CLIENT_UNTRACKED);
    assert_int_equal(px_clients_open(t, extra, 10, 2 * HB_NS_PER_SEC), PX_CLIENT_OK);
    assert_int_equal(px_clients_conns(t, extra), 1);
    assert_int_equal(px_clients_conns(t, a), 0);
    px_clients_del(t);
}

static void test_rate(void **st)
{
    (void)st;
    struct px_clients *t = px_clients_new(64, 3);
    uint8_t a[16];
    addr_n(a, 7);
    assert_int_equal(px_clients_open(t, a, 0, 1), PX_CLIENT_OK);
    hb_ns_t now = 10 * HB_NS_PER_SEC;
    /* 10 a second, bursts of 5: five at once, then one per 100 ms. */
    for (int i = 0; i < 5; i++)
        assert_int_equal(px_clients_request(t, a, 10, 5, now), PX_CLIENT_OK);
    assert_int_equal(px_clients_request(t, a, 10, 5, now), PX_CLIENT_OVER);
    assert_int_equal(px_clients_request(t, a, 10, 5, now + 50 * HB_NS_PER_MS), PX_CLIENT_OVER);
    assert_int_equal(px_clients_request(t, a, 10, 5, now + 100 * HB_NS_PER_MS), PX_CLIENT_OK);
    assert_int_equal(px_clients_request(t, a, 10, 5, now + 100 * HB_NS_PER_MS), PX_CLIENT_OVER);
    /* Over a long run the rate holds: 10 s at 1,000 tries a second → ~100 + burst. */
    int ok = 0;
    for (int ms = 0; ms < 10000; ms++)
        ok += px_clients_request(t, a, 10, 5, now + HB_NS_PER_SEC + ms * HB_NS_PER_MS) ==
              PX_CLIENT_OK;
    assert_true(ok >= 100 && ok <= 106);
    /* Off. */
    assert_int_equal(px_clients_request(t, a, 0, 0, now), PX_CLIENT_OK);
    px_clients_del(t);
}

struct race {
    struct px_clients *t;
    int ok;
};

static void *open_many(void *arg)
{
    struct race *r = arg;
    uint8_t a[16];
    addr_n(a, 42);
    for (int i = 0; i < 1000; i++)
        r->ok += px_clients_open(r->t, a, 100, 1) == PX_CLIENT_OK;
    return NULL;
}

static void *churn(void *arg)
{
    struct race *r = arg;
    uint8_t a[16];
    addr_n(a, 43);
    for (int i = 0; i < 20000; i++) {
        if (px_clients_open(r->t, a, 0, 1) == PX_CLIENT_OK)
            px_clients_close(r->t, a);
    }
    return NULL;
}

/* Eight threads: exactly max connections are counted; opens and closes
 * racing on one address leave it at 0. */
static void test_threads(void **st)
{
    (void)st;
    struct px_clients *t = px_clients_new(1024, 4);
    pthread_t th[8];
    struct race r[8];
    for (int i = 0; i < 8; i++) {
        r[i] = (struct race){t, 0};
        pthread_create(&th[i], NULL, open_many, &r[i]);
    }
    int total = 0;
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        total += r[i].ok;
    }
    assert_int_equal(total, 100);
    for (int i = 0; i < 8; i++)
        pthread_create(&th[i], NULL, churn, &r[i]);
    for (int i = 0; i < 8; i++)
        pthread_join(th[i], NULL);
    uint8_t a[16];
    addr_n(a, 43);
    assert_int_equal(px_clients_conns(t, a), 0);
    px_clients_del(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connections),
        cmocka_unit_test(test_full_window),
        cmocka_unit_test(test_rate),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
