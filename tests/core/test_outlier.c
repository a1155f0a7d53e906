/* tests/core/test_outlier.c — passive outlier ejection (core/outlier.h). */
#include "testutil/testutil.h"

#include "core/outlier.h"

#define S 1000000000ull

static const struct hb_outlier_cfg cfg = {
    .threshold = 3, .base_ns = 10 * S, .max_ns = 60 * S, .max_percent = 50};

static void test_threshold_and_success(void **st)
{
    (void)st;
    struct hb_outlier o = {0};
    assert_int_equal(hb_outlier_failure(&o, &cfg, 0, 4, 1), HB_OUTLIER_NONE);
    assert_int_equal(hb_outlier_failure(&o, &cfg, 0, 4, 1), HB_OUTLIER_NONE);
    hb_outlier_success(&o); /* the run starts over */
    assert_int_equal(hb_outlier_failure(&o, &cfg, 0, 4, 1), HB_OUTLIER_NONE);
    assert_int_equal(hb_outlier_failure(&o, &cfg, 0, 4, 1), HB_OUTLIER_NONE);
    assert_int_equal(hb_outlier_failure(&o, &cfg, 0, 4, 1), HB_OUTLIER_EJECTED);
    assert_true(o.ejected);
    assert_int_equal(o.until, 1 + 10 * S);
    /* Failures of requests under way while out do not count. */
    assert_int_equal(hb_outlier_failure(&o, &cfg, 1, 4, 2), HB_OUTLIER_NONE);
    assert_false(hb_outlier_tick(&o, 10 * S));
    assert_true(o.ejected);
    assert_true(hb_outlier_tick(&o, 10 * S + 1));
    assert_false(o.ejected);
    assert_int_equal(o.back_at, 10 * S + 1);
    assert_false(hb_outlier_tick(&o, 10 * S + 2));
}

static void test_exponential_capped_and_reset(void **st)
{
    (void)st;
    struct hb_outlier o = {0};
    uint64_t now = S, want[] = {10, 20, 40, 60, 60};
    for (size_t k = 0; k < 5; k++) {
        for (int i = 0; i < 2; i++)
            assert_int_equal(hb_outlier_failure(&o, &cfg, 0, 4, now), HB_OUTLIER_NONE);
        assert_int_equal(hb_outlier_failure(&o, &cfg, 0, 4, now), HB_OUTLIER_EJECTED);
        assert_int_equal(o.until - now, want[k] * S);
        now = o.until;
        assert_true(hb_outlier_tick(&o, now));
        now += S; /* back only briefly */
    }
    /* In for a whole max: back to base. */
    now += 60 * S;
    for (int i = 0; i < 2; i++)
        hb_outlier_failure(&o, &cfg, 0, 4, now);
    assert_int_equal(hb_outlier_failure(&o, &cfg, 0, 4, now), HB_OUTLIER_EJECTED);
    assert_int_equal(o.until - now, 10 * S);
}

static void test_cap(void **st)
{
    (void)st;
    assert_int_equal(hb_outlier_cap(&cfg, 0), 0);
    assert_int_equal(hb_outlier_cap(&cfg, 1), 0); /* never the only server */
    assert_int_equal(hb_outlier_cap(&cfg, 2), 1);
    assert_int_equal(hb_outlier_cap(&cfg, 3), 1);
    assert_int_equal(hb_outlier_cap(&cfg, 10), 5);
    struct hb_outlier_cfg all = cfg, none = cfg;
    all.max_percent = 100;
    none.max_percent = 0;
    assert_int_equal(hb_outlier_cap(&all, 3), 2); /* never all */
    assert_int_equal(hb_outlier_cap(&none, 10), 1); /* at least one */
    struct hb_outlier o = {0};
    for (int i = 0; i < 2; i++)
        hb_outlier_failure(&o, &cfg, 1, 3, 1);
    assert_int_equal(hb_outlier_failure(&o, &cfg, 1, 3, 1), HB_OUTLIER_CAPPED);
    assert_false(o.ejected);
    /* Still over the threshold: ejected at the next failure with room. */
    assert_int_equal(hb_outlier_failure(&o, &cfg, 0, 3, 1), HB_OUTLIER_EJECTED);
    assert_string_equal(hb_outcome_name(HB_OUTCOME_5XX), "5xx");
    assert_string_equal(hb_outcome_name(HB_OUTCOME_CONNECT_FAILURE), "connect_failure");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threshold_and_success),
        cmocka_unit_test(test_exponential_capped_and_reset),
        cmocka_unit_test(test_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
