/* tests/core/test_health.c — rise/fall, status ranges, jitter, slow start
 * (core/health.h). */
#include "testutil/testutil.h"

#include "core/health.h"

static void test_fall_then_rise(void **st)
{
    (void)st;
    struct hb_health h;
    hb_health_init(&h, HB_HEALTH_UP, 2, 3);
    assert_false(hb_health_result(&h, false));
    assert_false(hb_health_result(&h, false));
    assert_false(hb_health_result(&h, true)); /* a pass resets the failure run */
    assert_false(hb_health_result(&h, false));
    assert_false(hb_health_result(&h, false));
    assert_true(hb_health_result(&h, false)); /* the third in a row */
    assert_int_equal(h.state, HB_HEALTH_DOWN);
    assert_false(hb_health_result(&h, false));
    assert_false(hb_health_result(&h, true));
    assert_false(hb_health_result(&h, false)); /* a failure resets the pass run */
    assert_false(hb_health_result(&h, true));
    assert_true(hb_health_result(&h, true));
    assert_int_equal(h.state, HB_HEALTH_UP);
    assert_string_equal(hb_health_state_name(h.state), "up");
    assert_string_equal(hb_health_state_name(HB_HEALTH_DOWN), "down");
}

static void test_zero_counts_as_one(void **st)
{
    (void)st;
    struct hb_health h;
    hb_health_init(&h, HB_HEALTH_DOWN, 0, 0);
    assert_true(hb_health_result(&h, true));
    assert_true(hb_health_result(&h, false));
}

static void test_ranges(void **st)
{
    (void)st;
    struct hb_status_ranges r;
    assert_int_equal(hb_status_ranges_parse("200-399", &r), 0);
    assert_int_equal(r.n, 1);
    assert_true(hb_status_ranges_match(&r, 200));
    assert_true(hb_status_ranges_match(&r, 399));
    assert_false(hb_status_ranges_match(&r, 199));
    assert_false(hb_status_ranges_match(&r, 400));
    assert_int_equal(hb_status_ranges_parse(" 204 , 300 - 308,418", &r), 0);
    assert_int_equal(r.n, 3);
    assert_true(hb_status_ranges_match(&r, 204));
    assert_false(hb_status_ranges_match(&r, 200));
    assert_true(hb_status_ranges_match(&r, 305));
    assert_true(hb_status_ranges_match(&r, 418));
    const char *bad[] = {"", " ", "20", "2000", "099", "600", "300-200", "200-", "200,",
                         "200;300", "abc", "200-399x", "1,2",
                         "100,101,102,103,104,105,106,107,108,109,110,111,112,113,114,115,116"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(hb_status_ranges_parse(bad[i], &r), -1);
    assert_int_equal(hb_status_ranges_parse(NULL, &r), -1);
}

static void test_jitter(void **st)
{
    (void)st;
    uint64_t rng = 0;
    uint32_t lo = UINT32_MAX, hi = 0;
    for (int i = 0; i < 10000; i++) {
        uint32_t d = hb_health_next_delay(1000, 100, &rng);
        assert_in_range(d, 900, 1100);
        lo = d < lo ? d : lo;
        hi = d > hi ? d : hi;
    }
    assert_true(lo < 920 && hi > 1080); /* spread over the whole window */
    assert_int_equal(hb_health_next_delay(1000, 0, &rng), 1000);
    for (int i = 0; i < 1000; i++) /* jitter >= interval: clamped, never 0 */
        assert_in_range(hb_health_next_delay(10, 50, &rng), 1, 19);
    assert_int_equal(hb_health_next_delay(0, 0, &rng), 1);
}

static void test_slow_start(void **st)
{
    (void)st;
    assert_int_equal(hb_slow_start_weight(3, 0, 0), 3 * HB_WEIGHT_SCALE);
    assert_int_equal(hb_slow_start_weight(0, 5, 0), HB_WEIGHT_SCALE);
    assert_int_equal(hb_slow_start_weight(1, 0, 10000), 1);
    assert_int_equal(hb_slow_start_weight(1, 5000, 10000), HB_WEIGHT_SCALE / 2);
    assert_int_equal(hb_slow_start_weight(4, 2500, 10000), 4 * HB_WEIGHT_SCALE / 4);
    assert_int_equal(hb_slow_start_weight(4, 10000, 10000), 4 * HB_WEIGHT_SCALE);
    assert_int_equal(hb_slow_start_weight(4, 99999, 10000), 4 * HB_WEIGHT_SCALE);
    uint32_t prev = 0;
    for (uint64_t t = 0; t <= 10000; t += 100) {
        uint32_t w = hb_slow_start_weight(2, t, 10000);
        assert_true(w >= prev && w >= 1);
        prev = w;
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fall_then_rise), cmocka_unit_test(test_zero_counts_as_one),
        cmocka_unit_test(test_ranges),         cmocka_unit_test(test_jitter),
        cmocka_unit_test(test_slow_start),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
