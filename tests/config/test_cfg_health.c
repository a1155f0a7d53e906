/* tests/config/test_cfg_health.c — upstreams.*.health_check, on_no_healthy
 * slow_start, outlier_detection and the retry keys: defaults, every key, and exact errors at line:column. */
#include "cfg_test.h"

#include <stdio.h>

#include "config/cfg.h"
#include "core/outlier.h"

#define LISTEN "listeners:\n  - address: \"127.0.0.1:8080\"\nupstreams:\n"

static struct cfg *load(const char *yaml, struct cfg_errors *errs)
{
    cfg_errors_init(errs);
    struct cfg *c = NULL;
    int rc = cfg_load_buffer("t.yaml", yaml, strlen(yaml), &c, errs);
    assert_true(rc == 0 ? c != NULL : c == NULL);
    return c;
}

static void test_defaults(void **st)
{
    (void)st;
    struct cfg_errors e;
    struct cfg *c = load(LISTEN "  u: {servers: [\"127.0.0.1:9000\"]}\n"
                                "  v: {servers: [\"127.0.0.1:9001\"], health_check: }\n",
                         &e);
    assert_non_null(c);
    const struct cfg_upstream *u = cfg_find_upstream(c, "u");
    assert_false(u->health_check.enabled);
    assert_int_equal(u->on_no_healthy, CFG_NO_HEALTHY_PANIC);
    assert_int_equal(u->slow_start_ms, 0);
    const struct cfg_health_check *h = &cfg_find_upstream(c, "v")->health_check;
    assert_true(h->enabled);
    assert_false(h->tcp);
    assert_string_equal(h->method.s, "GET");
    assert_string_equal(h->path.s, "/");
    assert_null(h->host.s);
    assert_string_equal(h->expect.s, "200-399");
    assert_true(hb_status_ranges_match(&h->expect_ranges, 200));
    assert_true(hb_status_ranges_match(&h->expect_ranges, 399));
    assert_false(hb_status_ranges_match(&h->expect_ranges, 404));
    assert_int_equal(h->interval_ms, 2000);
    assert_int_equal(h->jitter_ms, 200);
    assert_int_equal(h->timeout_ms, 1000);
    assert_int_equal(h->rise, 2);
    assert_int_equal(h->fall, 3);
    cfg_unref(c);
    cfg_errors_free(&e);
}

static void test_every_key(void **st)
{
    (void)st;
    struct cfg_errors e;
    struct cfg *c = load(LISTEN "  u:\n"
                                "    servers: [\"127.0.0.1:9000\"]\n"
                                "    on_no_healthy: fail\n"
                                "    slow_start: 30s\n"
                                "    health_check:\n"
                                "      type: http\n"
                                "      method: HEAD\n"
                                "      path: /healthz?full=1\n"
                                "      host: app.internal\n"
                                "      expect_status: \"200, 204-206\"\n"
                                "      interval: 5s\n"
                                "      jitter: 0s\n"
                                "      timeout: 5s\n"
                                "      rise: 1\n"
                                "      fall: 100\n"
                                "  t: {servers: [\"h:1\"], health_check: {type: tcp}}\n",
                         &e);
    assert_non_null(c);
    const struct cfg_upstream *u = cfg_find_upstream(c, "u");
    assert_int_equal(u->on_no_healthy, CFG_NO_HEALTHY_FAIL);
    assert_int_equal(u->slow_start_ms, 30000);
    const struct cfg_health_check *h = &u->health_check;
    assert_true(h->enabled);
    assert_string_equal(h->method.s, "HEAD");
    assert_string_equal(h->path.s, "/healthz?full=1");
    assert_string_equal(h->host.s, "app.internal");
    assert_string_equal(h->expect.s, "200, 204-206");
    assert_int_equal(h->expect_ranges.n, 2);
    assert_true(hb_status_ranges_match(&h->expect_ranges, 205));
    assert_false(hb_status_ranges_match(&h->expect_ranges, 201));
    assert_int_equal(h->interval_ms, 5000);
    assert_int_equal(h->jitter_ms, 0);
    assert_int_equal(h->timeout_ms, 5000);
    assert_int_equal(h->rise, 1);
    assert_int_equal(h->fall, 100);
    assert_true(cfg_find_upstream(c, "t")->health_check.tcp);
    cfg_unref(c);
    cfg_errors_free(&e);
}

/* The errors of yaml, in order, must be exactly want (NULL-terminated). */
static void expect_errors(const char *yaml, const char *const *want)
{
    struct cfg_errors e;
    struct cfg *c = load(yaml, &e);
    assert_null(c);
    size_t i = 0;
    for (; want[i]; i++) {
        assert_true(i < e.n);
        char buf[512];
        cfg_error_format(&e.v[i], buf, sizeof buf);
        if (strcmp(buf, want[i]) != 0)
            fprintf(stderr, "got:  %s\nwant: %s\n", buf, want[i]);
        assert_string_equal(buf, want[i]);
    }
    assert_int_equal(e.n, i);
    cfg_errors_free(&e);
}

static void test_errors(void **st)
{
    (void)st;
    expect_errors(LISTEN "  u:\n"
                         "    servers: [\"h:1\"]\n"
                         "    on_no_healthy: retry\n"
                         "    slow_start: 2h\n"
                         "    health_check:\n"
                         "      type: udp\n"
                         "      method: get\n"
                         "      path: healthz\n"
                         "      host: \"a b\"\n"
                         "      expect_status: 200-600\n"
                         "      interval: 5ms\n"
                         "      rise: 0\n"
                         "      fall: 101\n"
                         "      tiemout: 1s\n",
                  (const char *const[]){
                      "t.yaml:6:20: expected what to do with no healthy server (panic, fail) for "
                      "upstreams.u.on_no_healthy, found \"retry\"",
                      "t.yaml:7:17: expected a duration from 0ms to 1h (like \"250ms\", \"5s\", "
                      "\"1m\") for upstreams.u.slow_start, found \"2h\"",
                      "t.yaml:9:13: expected a check type (http, tcp) for "
                      "upstreams.u.health_check.type, found \"udp\"",
                      "t.yaml:10:15: expected an HTTP method in upper case (GET, HEAD, OPTIONS, "
                      "...) for upstreams.u.health_check.method, found \"get\"",
                      "t.yaml:11:13: expected a request path starting with / (visible ASCII, no "
                      "spaces) for upstreams.u.health_check.path, found \"healthz\"",
                      "t.yaml:12:13: expected a Host header value (visible ASCII, no spaces) for "
                      "upstreams.u.health_check.host, found \"a b\"",
                      "t.yaml:13:22: expected statuses as \"200-399\" or \"200,204,300-308\" "
                      "(100..599, at most 16 items) for upstreams.u.health_check.expect_status, "
                      "found \"200-600\"",
                      "t.yaml:14:17: expected a duration from 10ms to 1h (like \"250ms\", \"5s\", "
                      "\"1m\") for upstreams.u.health_check.interval, found \"5ms\"",
                      "t.yaml:15:13: expected an integer from 1 to 100 for "
                      "upstreams.u.health_check.rise, found \"0\"",
                      "t.yaml:16:13: expected an integer from 1 to 100 for "
                      "upstreams.u.health_check.fall, found \"101\"",
                      "t.yaml:17:7: expected a known key in upstreams.u.health_check (did you "
                      "mean \"timeout\"?), found \"tiemout\"",
                      NULL});
    /* Cross checks, at the section. */
    expect_errors(LISTEN "  u:\n"
                         "    servers: [\"h:1\"]\n"
                         "    health_check: {interval: 1s, jitter: 1s, timeout: 2s}\n",
                  (const char *const[]){
                      "t.yaml:6:19: expected health_check.jitter (1000 ms) below interval (1000 "
                      "ms)",
                      "t.yaml:6:19: expected health_check.timeout (2000 ms) at most interval "
                      "(1000 ms)",
                      NULL});
    expect_errors(LISTEN "  u: {servers: [\"h:1\"], health_check: [1]}\n",
                  (const char *const[]){
                      "t.yaml:4:39: expected a mapping (type, path, interval, ...) for "
                      "upstreams.u.health_check, found a sequence",
                      NULL});
}

static void test_outlier(void **st)
{
    (void)st;
    struct cfg_errors e;
    struct cfg *c = load(LISTEN "  u: {servers: [\"h:1\"]}\n"
                                "  v: {servers: [\"h:2\"], outlier_detection: }\n"
                                "  w:\n"
                                "    servers: [\"h:3\"]\n"
                                "    outlier_detection:\n"
                                "      consecutive_failures: 2\n"
                                "      count: [5xx, timeout]\n"
                                "      base_ejection_time: 1s\n"
                                "      max_ejection_time: 1s\n"
                                "      max_ejected_percent: 100\n",
                         &e);
    assert_non_null(c);
    assert_false(cfg_find_upstream(c, "u")->outlier_detection.enabled);
    const struct cfg_outlier *o = &cfg_find_upstream(c, "v")->outlier_detection;
    assert_true(o->enabled);
    assert_int_equal(o->consecutive_failures, 5);
    assert_int_equal(o->count, 0xf);
    assert_int_equal(o->base_ejection_ms, 30000);
    assert_int_equal(o->max_ejection_ms, 300000);
    assert_int_equal(o->max_ejected_percent, 50);
    o = &cfg_find_upstream(c, "w")->outlier_detection;
    assert_int_equal(o->consecutive_failures, 2);
    assert_int_equal(o->count, (1u << HB_OUTCOME_5XX) | (1u << HB_OUTCOME_TIMEOUT));
    assert_int_equal(o->base_ejection_ms, 1000);
    assert_int_equal(o->max_ejection_ms, 1000);
    assert_int_equal(o->max_ejected_percent, 100);
    cfg_unref(c);
    cfg_errors_free(&e);
    expect_errors(LISTEN "  u:\n"
                         "    servers: [\"h:1\"]\n"
                         "    outlier_detection:\n"
                         "      consecutive_failures: 0\n"
                         "      count: [5xx, 4xx]\n"
                         "      max_ejected_percent: 101\n"
                         "      base_ejection_time: 10s\n"
                         "      max_ejection_time: 5s\n",
                  (const char *const[]){
                      "t.yaml:7:7: expected outlier_detection.max_ejection_time (5000 ms) at "
                      "least base_ejection_time (10000 ms)",
                      "t.yaml:7:29: expected an integer from 1 to 1000 for "
                      "upstreams.u.outlier_detection.consecutive_failures, found \"0\"",
                      "t.yaml:8:20: expected a failure to count (connect_failure, reset, timeout, "
                      "5xx) for upstreams.u.outlier_detection.count[1], found \"4xx\"",
                      "t.yaml:9:28: expected an integer from 0 to 100 for "
                      "upstreams.u.outlier_detection.max_ejected_percent, found \"101\"",
                      NULL});
    expect_errors(LISTEN "  u: {servers: [\"h:1\"], outlier_detection: {count: []}}\n",
                  (const char *const[]){
                      "t.yaml:4:52: expected a list of failures to count (connect_failure, reset, "
                      "timeout, 5xx) for upstreams.u.outlier_detection.count, found an empty "
                      "sequence",
                      NULL});
}

static void test_retry(void **st)
{
    (void)st;
    struct cfg_errors e;
    struct cfg *c = load(LISTEN "  u: {servers: [\"h:1\"]}\n"
                                "  v:\n"
                                "    servers: [\"h:2\"]\n"
                                "    retry_on: [connect_failure, reset, timeout, 502, 503, 504]\n"
                                "    per_try_timeout: 250ms\n"
                                "    retry_budget: {percent: 100, min_retries: 0}\n"
                                "    max_requests: 10000000\n"
                                "  w: {servers: [\"h:3\"], retry_on: []}\n",
                         &e);
    assert_non_null(c);
    const struct cfg_upstream *u = cfg_find_upstream(c, "u");
    assert_int_equal(u->retry_on, CFG_RETRY_CONNECT | CFG_RETRY_RESET);
    assert_int_equal(u->per_try_timeout_ms, 0);
    assert_int_equal(u->retry_budget.percent, 20);
    assert_int_equal(u->retry_budget.min_retries, 3);
    assert_int_equal(u->max_requests, 0);
    const struct cfg_upstream *v = cfg_find_upstream(c, "v");
    assert_int_equal(v->retry_on, 0x3f);
    assert_int_equal(v->per_try_timeout_ms, 250);
    assert_int_equal(v->retry_budget.percent, 100);
    assert_int_equal(v->retry_budget.min_retries, 0);
    assert_int_equal(v->max_requests, 10000000);
    assert_int_equal(cfg_find_upstream(c, "w")->retry_on, 0);
    cfg_unref(c);
    cfg_errors_free(&e);
    expect_errors(LISTEN "  u:\n"
                         "    servers: [\"h:1\"]\n"
                         "    retry_on: [503, 500]\n"
                         "    per_try_timeout: 25h\n"
                         "    retry_budget: {percent: 101, min: 3}\n",
                  (const char *const[]){
                      "t.yaml:6:21: expected a retry condition (connect_failure, reset, timeout, "
                      "502, 503, 504) for upstreams.u.retry_on[1], found \"500\"",
                      "t.yaml:7:22: expected a duration from 0ms to 24h (like \"250ms\", \"5s\", "
                      "\"1m\") for upstreams.u.per_try_timeout, found \"25h\"",
                      "t.yaml:8:29: expected an integer from 0 to 100 for "
                      "upstreams.u.retry_budget.percent, found \"101\"",
                      "t.yaml:8:34: expected a known key in upstreams.u.retry_budget (one of: "
                      "percent, min_retries), found \"min\"",
                      NULL});
    expect_errors(LISTEN "  u: {servers: [\"h:1\"], max_requests: 10000001}\n",
                  (const char *const[]){
                      "t.yaml:4:39: expected an integer from 0 to 10000000 for "
                      "upstreams.u.max_requests, found \"10000001\"",
                      NULL});
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_every_key),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_outlier),
        cmocka_unit_test(test_retry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
