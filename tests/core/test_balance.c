/* tests/core/test_balance.c — balancing policies (core/balance.h). */
#include "testutil/testutil.h"

#include <stdio.h>

#include "core/balance.h"

static void set(struct hb_backend *be, size_t n, const uint32_t *w)
{
    for (size_t i = 0; i < n; i++)
        be[i] = (struct hb_backend){.weight = w[i], .healthy = true};
}

static void test_parse(void **st)
{
    (void)st;
    enum hb_balance p = HB_BAL_RANDOM;
    assert_int_equal(hb_balance_parse("round_robin", &p), 0);
    assert_int_equal(p, HB_BAL_ROUND_ROBIN);
    assert_int_equal(hb_balance_parse("least_conn", &p), 0);
    assert_int_equal(p, HB_BAL_LEAST_CONN);
    assert_int_equal(hb_balance_parse("random", &p), 0);
    assert_int_equal(p, HB_BAL_RANDOM);
    assert_int_equal(hb_balance_parse("least_request", &p), 0);
    assert_int_equal(p, HB_BAL_LEAST_REQUEST);
    assert_int_equal(hb_balance_parse("consistent_hash", &p), 0);
    assert_int_equal(p, HB_BAL_CONSISTENT_HASH);
    p = HB_BAL_RANDOM;
    assert_int_equal(hb_balance_parse("roundrobin", &p), -1);
    assert_int_equal(hb_balance_parse(NULL, &p), -1);
    assert_int_equal(p, HB_BAL_RANDOM);
}

static void test_rr_equal_weights_cycle(void **st)
{
    (void)st;
    struct hb_balancer b;
    hb_balancer_init(&b, HB_BAL_ROUND_ROBIN, 1);
    struct hb_backend be[3];
    set(be, 3, (const uint32_t[]){1, 1, 1});
    for (int i = 0; i < 30; i++)
        assert_int_equal(hb_balance_pick(&b, be, 3, NULL), i % 3);
}

static void test_rr_smooth_weights(void **st)
{
    (void)st;
    struct hb_balancer b;
    hb_balancer_init(&b, HB_BAL_ROUND_ROBIN, 1);
    struct hb_backend be[3];
    set(be, 3, (const uint32_t[]){5, 1, 1});
    /* nginx's documented sequence for 5,1,1: a a b a c a a */
    const int want[] = {0, 0, 1, 0, 2, 0, 0};
    for (int round = 0; round < 10; round++)
        for (int i = 0; i < 7; i++)
            assert_int_equal(hb_balance_pick(&b, be, 3, NULL), want[i]);
    /* weights 3,2 over 5000 picks: exactly 3000/2000, never 3 in a row of b */
    set(be, 2, (const uint32_t[]){3, 2});
    size_t cnt[2] = {0};
    for (int i = 0; i < 5000; i++)
        cnt[hb_balance_pick(&b, be, 2, NULL)]++;
    assert_int_equal(cnt[0], 3000);
    assert_int_equal(cnt[1], 2000);
}

static void test_unhealthy_skipped(void **st)
{
    (void)st;
    for (int pol = HB_BAL_ROUND_ROBIN; pol <= HB_BAL_LEAST_REQUEST; pol++) {
        struct hb_balancer b;
        hb_balancer_init(&b, (enum hb_balance)pol, 42);
        struct hb_backend be[4];
        set(be, 4, (const uint32_t[]){1, 10, 1, 1});
        be[1].healthy = false;
        be[3].healthy = false;
        size_t cnt[4] = {0};
        for (int i = 0; i < 1000; i++) {
            ptrdiff_t k = hb_balance_pick(&b, be, 4, NULL);
            assert_true(k == 0 || k == 2);
            cnt[k]++;
        }
        assert_true(cnt[0] > 300 && cnt[2] > 300);
        be[0].healthy = be[2].healthy = false;
        assert_int_equal(hb_balance_pick(&b, be, 4, NULL), -1);
        assert_int_equal(hb_balance_pick(&b, be, 0, NULL), -1);
    }
}

static void test_least_conn(void **st)
{
    (void)st;
    struct hb_balancer b;
    hb_balancer_init(&b, HB_BAL_LEAST_CONN, 1);
    struct hb_backend be[3];
    set(be, 3, (const uint32_t[]){1, 1, 2});
    be[0].active = 4;
    be[1].active = 1;
    be[2].active = 4; /* 4/2 = 2 per weight */
    assert_int_equal(hb_balance_pick(&b, be, 3, NULL), 1);
    be[1].active = 2; /* tie 2 vs 4/2: both candidates, share by weight */
    size_t cnt[3] = {0};
    for (int i = 0; i < 300; i++)
        cnt[hb_balance_pick(&b, be, 3, NULL)]++;
    assert_int_equal(cnt[0], 0);
    assert_int_equal(cnt[1], 100);
    assert_int_equal(cnt[2], 200);
    /* Simulated traffic: each pick holds a connection; loads stay level
     * in proportion to weight. */
    set(be, 3, (const uint32_t[]){1, 1, 2});
    for (int i = 0; i < 400; i++)
        be[hb_balance_pick(&b, be, 3, NULL)].active++;
    assert_int_equal(be[0].active, 100);
    assert_int_equal(be[1].active, 100);
    assert_int_equal(be[2].active, 200);
}

static void test_random_weighted_distribution(void **st)
{
    (void)st;
    struct hb_balancer b;
    hb_balancer_init(&b, HB_BAL_RANDOM, 0); /* 0 seed still works */
    struct hb_backend be[3];
    set(be, 3, (const uint32_t[]){1, 2, 7});
    size_t cnt[3] = {0};
    for (int i = 0; i < 100000; i++)
        cnt[hb_balance_pick(&b, be, 3, NULL)]++;
    /* expected 10k/20k/70k; 5 sigma is well under 1.5k */
    assert_true(cnt[0] > 8500 && cnt[0] < 11500);
    assert_true(cnt[1] > 18500 && cnt[1] < 21500);
    assert_true(cnt[2] > 68500 && cnt[2] < 71500);
    /* weight 0 counts as 1 */
    set(be, 2, (const uint32_t[]){0, 1});
    size_t z = 0;
    for (int i = 0; i < 10000; i++)
        z += hb_balance_pick(&b, be, 2, NULL) == 0;
    assert_true(z > 4500 && z < 5500);
}

/* ---- least_request: power of two choices ---- */

static void test_p2c_weights_at_idle(void **st)
{
    (void)st;
    struct hb_balancer b;
    hb_balancer_init(&b, HB_BAL_LEAST_REQUEST, 7);
    struct hb_backend be[3];
    set(be, 3, (const uint32_t[]){1, 2, 7});
    size_t cnt[3] = {0};
    /* No load (every active 0): ties go to the first draw, drawn by weight. */
    for (int i = 0; i < 100000; i++)
        cnt[hb_balance_pick(&b, be, 3, NULL)]++;
    assert_true(cnt[0] > 8500 && cnt[0] < 11500);
    assert_true(cnt[1] > 18500 && cnt[1] < 21500);
    assert_true(cnt[2] > 68500 && cnt[2] < 71500);
    /* The only healthy server is always the pick. */
    be[0].healthy = be[2].healthy = false;
    for (int i = 0; i < 100; i++)
        assert_int_equal(hb_balance_pick(&b, be, 3, NULL), 1);
}

/* A slow server holds its requests longer: simulated as requests that
 * finish at once on the fast servers and stay on the slow one for 20
 * picks. Its share must drop far below a third (round-robin would give it
 * exactly a third). */
static void test_p2c_slow_server_share_drops(void **st)
{
    (void)st;
    struct hb_balancer b;
    hb_balancer_init(&b, HB_BAL_LEAST_REQUEST, 3);
    struct hb_backend be[3];
    set(be, 3, (const uint32_t[]){1, 1, 1});
    size_t cnt[3] = {0};
    int done_at[64], nslow = 0;
    for (int t = 0; t < 30000; t++) {
        for (int k = 0; k < nslow;)
            if (done_at[k] <= t) {
                be[2].active--;
                done_at[k] = done_at[--nslow];
            } else {
                k++;
            }
        ptrdiff_t i = hb_balance_pick(&b, be, 3, NULL);
        cnt[i]++;
        if (i == 2 && nslow < 64) {
            be[2].active++;
            done_at[nslow++] = t + 20;
        }
    }
    assert_true(cnt[2] < 30000 / 10);
    assert_true(cnt[0] > 12000 && cnt[1] > 12000);
    /* Active per weight: 4 on weight 2 (2 per weight) beats 3 on weight 1. */
    set(be, 2, (const uint32_t[]){1, 2});
    be[0].active = 3;
    be[1].active = 4;
    for (int i = 0; i < 50; i++)
        assert_int_equal(hb_balance_pick(&b, be, 2, NULL), 1);
}

/* ---- consistent_hash: Maglev ---- */

#define NKEYS 100000

static void names_of(struct hb_maglev_server *s, char (*buf)[32], size_t n, const uint32_t *w)
{
    for (size_t i = 0; i < n; i++) {
        int len = snprintf(buf[i], sizeof buf[i], "10.0.0.%zu:8080", i + 1);
        s[i] = (struct hb_maglev_server){buf[i], (size_t)len, w ? w[i] : 1};
    }
}

static uint64_t key(int k)
{
    char b[32];
    int len = snprintf(b, sizeof b, "user-%d", k);
    return hb_hash_bytes(b, (size_t)len, 0);
}

static void test_prime(void **st)
{
    (void)st;
    assert_true(hb_is_prime(2) && hb_is_prime(65537) && hb_is_prime(1000003) &&
                hb_is_prime(101));
    assert_false(hb_is_prime(0) || hb_is_prime(1) || hb_is_prime(65536) || hb_is_prime(1000001));
    /* A stable hash: pinned values, the same on every host and run. */
    assert_true(hb_hash_bytes("", 0, 0) == hb_hash_bytes("", 0, 0));
    assert_true(hb_hash_bytes("abc", 3, 0) != hb_hash_bytes("abd", 3, 0));
    assert_true(hb_hash_bytes("abc", 3, 0) != hb_hash_bytes("abc", 3, 1));
    assert_true(hb_hash_bytes("abcdefgh", 8, 0) != hb_hash_bytes("abcdefgh\0", 9, 0));
}

static void test_maglev_build_errors(void **st)
{
    (void)st;
    struct hb_maglev m = {0};
    struct hb_maglev_server s[2];
    char buf[2][32];
    names_of(s, buf, 2, NULL);
    assert_int_equal(hb_maglev_build(&m, s, 0, 65537), -1);
    assert_int_equal(hb_maglev_build(&m, s, 2, 65536), -1); /* not a prime */
    assert_int_equal(hb_maglev_build(&m, s, 2, 97), -1);    /* below the minimum */
    assert_int_equal(hb_maglev_build(&m, s, 2, 1000033), -1);
    assert_int_equal(m.size, 0);
    struct hb_backend be[2];
    set(be, 2, (const uint32_t[]){1, 1});
    assert_int_equal(hb_maglev_lookup(&m, 1, be, 2), -1);
    /* consistent_hash without a table or key: smooth round-robin */
    struct hb_balancer b;
    hb_balancer_init(&b, HB_BAL_CONSISTENT_HASH, 1);
    uint64_t k = 5;
    for (int i = 0; i < 10; i++)
        assert_int_equal(hb_balance_pick(&b, be, 2, &k), i % 2);
    assert_int_equal(hb_maglev_build(&m, s, 2, 101), 0);
    b.maglev = &m;
    ptrdiff_t first = hb_balance_pick(&b, be, 2, &k);
    for (int i = 0; i < 10; i++)
        assert_int_equal(hb_balance_pick(&b, be, 2, &k), first);
    for (int i = 0; i < 10; i++) /* no key: round-robin still */
        assert_int_not_equal(hb_balance_pick(&b, be, 2, NULL), hb_balance_pick(&b, be, 2, NULL));
    /* a failed rebuild keeps the last good table */
    assert_int_equal(hb_maglev_build(&m, s, 2, 100), -1);
    assert_int_equal(m.size, 101);
    hb_maglev_free(&m);
    hb_maglev_free(&m);
}

static void test_maglev_weights(void **st)
{
    (void)st;
    struct hb_maglev m = {0};
    struct hb_maglev_server s[4];
    char buf[4][32];
    const uint32_t w[] = {1, 1, 2, 4};
    names_of(s, buf, 4, w);
    assert_int_equal(hb_maglev_build(&m, s, 4, HB_MAGLEV_DEFAULT_SIZE), 0);
    size_t slots[4] = {0};
    for (uint32_t i = 0; i < m.size; i++) {
        assert_true(m.entry[i] < 4);
        slots[m.entry[i]]++;
    }
    /* Shares of the table within 1 % of weight / 8. */
    for (size_t i = 0; i < 4; i++) {
        double want = (double)m.size * w[i] / 8;
        assert_true(slots[i] > want * 0.99 && slots[i] < want * 1.01);
    }
    struct hb_backend be[4];
    set(be, 4, w);
    size_t cnt[4] = {0};
    for (int k = 0; k < NKEYS; k++)
        cnt[hb_maglev_lookup(&m, key(k), be, 4)]++;
    for (size_t i = 0; i < 4; i++) {
        double want = (double)NKEYS * w[i] / 8;
        assert_true(cnt[i] > want * 0.95 && cnt[i] < want * 1.05);
    }
    hb_maglev_free(&m);
}

/* The same set of servers in another order (another worker, a reload, a
 * DNS answer in another order) builds the same owner for every slot. */
static void test_maglev_order_independent(void **st)
{
    (void)st;
    struct hb_maglev a = {0}, b = {0};
    struct hb_maglev_server s[5], r[5];
    char buf[5][32];
    names_of(s, buf, 5, (const uint32_t[]){1, 3, 1, 2, 1});
    for (size_t i = 0; i < 5; i++)
        r[i] = s[4 - i];
    assert_int_equal(hb_maglev_build(&a, s, 5, 5003), 0);
    assert_int_equal(hb_maglev_build(&b, r, 5, 5003), 0);
    for (uint32_t i = 0; i < a.size; i++)
        assert_int_equal(a.entry[i], 4 - b.entry[i]);
    hb_maglev_free(&a);
    hb_maglev_free(&b);
}

/* The bound: with N servers, removing one moves at most about 1/N
 * of 100,000 keys. Measured for N = 5 and 10 both ways: the server removed
 * from the list (a rebuild, what a DNS change does) and the server marked
 * unhealthy (the table kept, keys walk on). */
static void test_maglev_removal_moves_one_nth(void **st)
{
    (void)st;
    static ptrdiff_t before[NKEYS];
    const size_t sizes[] = {5, 10};
    for (size_t t = 0; t < 2; t++) {
        size_t n = sizes[t];
        struct hb_maglev_server s[10], rest[10];
        char buf[10][32];
        names_of(s, buf, n, NULL);
        struct hb_maglev m = {0};
        assert_int_equal(hb_maglev_build(&m, s, n, HB_MAGLEV_DEFAULT_SIZE), 0);
        struct hb_backend be[10];
        set(be, n, (const uint32_t[]){1, 1, 1, 1, 1, 1, 1, 1, 1, 1});
        for (int k = 0; k < NKEYS; k++)
            before[k] = hb_maglev_lookup(&m, key(k), be, n);
        size_t gone = n / 2; /* remove a middle one */

        /* 1. unhealthy: only its own keys move, and spread over the others */
        be[gone].healthy = false;
        size_t moved = 0, own = 0, to[10] = {0};
        for (int k = 0; k < NKEYS; k++) {
            ptrdiff_t now = hb_maglev_lookup(&m, key(k), be, n);
            assert_true(now != (ptrdiff_t)gone);
            if (before[k] == (ptrdiff_t)gone)
                own++, to[now]++;
            else
                assert_int_equal(now, before[k]);
            moved += now != before[k];
        }
        assert_int_equal(moved, own);
        assert_true(moved < (size_t)(NKEYS * 1.1 / n));
        for (size_t i = 0; i < n; i++)
            if (i != gone) /* each of the others takes a fair part of them */
                assert_true(to[i] > own / (n - 1) / 2);
        be[gone].healthy = true;
        for (int k = 0; k < NKEYS; k++) /* back: every key is home again */
            assert_int_equal(hb_maglev_lookup(&m, key(k), be, n), before[k]);

        /* The retry order: try 2 of a key is where the key goes once
         * its server is out; every try a distinct server. */
        for (int k = 0; k < 2000; k++) {
            ptrdiff_t tr[3];
            for (unsigned j = 0; j < 3; j++)
                tr[j] = hb_maglev_lookup_nth(&m, key(k), be, n, j);
            assert_int_equal(tr[0], before[k]);
            assert_true(tr[1] >= 0 && tr[1] != tr[0] && tr[2] >= 0 && tr[2] != tr[1] && tr[2] != tr[0]);
            be[tr[0]].healthy = false;
            assert_int_equal(hb_maglev_lookup(&m, key(k), be, n), tr[1]);
            assert_int_equal(hb_maglev_lookup_nth(&m, key(k), be, n, 0), tr[1]);
            be[tr[0]].healthy = true;
        }
        assert_int_equal(hb_maglev_lookup_nth(&m, key(1), be, n, (unsigned)n), -1);
        assert_int_equal(hb_maglev_lookup_nth(&m, key(1), be, n, 16), -1);

        /* 2. removed, table rebuilt from the n - 1 others */
        size_t nr = 0;
        for (size_t i = 0; i < n; i++)
            if (i != gone)
                rest[nr++] = s[i];
        struct hb_maglev m2 = {0};
        assert_int_equal(hb_maglev_build(&m2, rest, nr, HB_MAGLEV_DEFAULT_SIZE), 0);
        moved = 0;
        size_t others_moved = 0;
        for (int k = 0; k < NKEYS; k++) {
            ptrdiff_t now = hb_maglev_lookup(&m2, key(k), be, nr);
            ptrdiff_t orig = now >= (ptrdiff_t)gone ? now + 1 : now; /* index in s[] */
            if (orig != before[k]) {
                moved++;
                others_moved += before[k] != (ptrdiff_t)gone;
            }
        }
        print_message("maglev n=%zu: removing one moved %zu of %d keys (1/n = %d), %zu of them "
                      "from other servers\n",
                      n, moved, NKEYS, NKEYS / (int)n, others_moved);
        assert_true(moved < (size_t)(NKEYS * 1.1 / n));
        hb_maglev_free(&m);
        hb_maglev_free(&m2);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_rr_equal_weights_cycle),
        cmocka_unit_test(test_rr_smooth_weights),
        cmocka_unit_test(test_unhealthy_skipped),
        cmocka_unit_test(test_least_conn),
        cmocka_unit_test(test_random_weighted_distribution),
        cmocka_unit_test(test_p2c_weights_at_idle),
        cmocka_unit_test(test_p2c_slow_server_share_drops),
        cmocka_unit_test(test_prime),
        cmocka_unit_test(test_maglev_build_errors),
        cmocka_unit_test(test_maglev_weights),
        cmocka_unit_test(test_maglev_order_independent),
        cmocka_unit_test(test_maglev_removal_moves_one_nth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
