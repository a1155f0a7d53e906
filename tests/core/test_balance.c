/* tests/core/test_balance.c — balancing policies (core/balance.h). */
#include "testutil/testutil.h"

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
        assert_int_equal(hb_balance_pick(&b, be, 3), i % 3);
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
            assert_int_equal(hb_balance_pick(&b, be, 3), want[i]);
    /* weights 3,2 over 5000 picks: exactly 3000/2000, never 3 in a row of b */
    set(be, 2, (const uint32_t[]){3, 2});
    size_t cnt[2] = {0};
    for (int i = 0; i < 5000; i++)
        cnt[hb_balance_pick(&b, be, 2)]++;
    assert_int_equal(cnt[0], 3000);
    assert_int_equal(cnt[1], 2000);
}

static void test_unhealthy_skipped(void **st)
{
    (void)st;
    for (int pol = HB_BAL_ROUND_ROBIN; pol <= HB_BAL_RANDOM; pol++) {
        struct hb_balancer b;
        hb_balancer_init(&b, (enum hb_balance)pol, 42);
        struct hb_backend be[4];
        set(be, 4, (const uint32_t[]){1, 10, 1, 1});
        be[1].healthy = false;
        be[3].healthy = false;
        size_t cnt[4] = {0};
        for (int i = 0; i < 1000; i++) {
            ptrdiff_t k = hb_balance_pick(&b, be, 4);
            assert_true(k == 0 || k == 2);
            cnt[k]++;
        }
        assert_true(cnt[0] > 300 && cnt[2] > 300);
        be[0].healthy = be[2].healthy = false;
        assert_int_equal(hb_balance_pick(&b, be, 4), -1);
        assert_int_equal(hb_balance_pick(&b, be, 0), -1);
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
    assert_int_equal(hb_balance_pick(&b, be, 3), 1);
    be[1].active = 2; /* tie 2 vs 4/2: both candidates, share by weight */
    size_t cnt[3] = {0};
    for (int i = 0; i < 300; i++)
        cnt[hb_balance_pick(&b, be, 3)]++;
    assert_int_equal(cnt[0], 0);
    assert_int_equal(cnt[1], 100);
    assert_int_equal(cnt[2], 200);
    /* Simulated traffic: each pick holds a connection; loads stay level
     * in proportion to weight. */
    set(be, 3, (const uint32_t[]){1, 1, 2});
    for (int i = 0; i < 400; i++)
        be[hb_balance_pick(&b, be, 3)].active++;
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
        cnt[hb_balance_pick(&b, be, 3)]++;
    /* expected 10k/20k/70k; 5 sigma is well under 1.5k */
    assert_true(cnt[0] > 8500 && cnt[0] < 11500);
    assert_true(cnt[1] > 18500 && cnt[1] < 21500);
    assert_true(cnt[2] > 68500 && cnt[2] < 71500);
    /* weight 0 counts as 1 */
    set(be, 2, (const uint32_t[]){0, 1});
    size_t z = 0;
    for (int i = 0; i < 10000; i++)
        z += hb_balance_pick(&b, be, 2) == 0;
    assert_true(z > 4500 && z < 5500);
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
