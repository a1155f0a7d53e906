/* tests/config/test_cfg_queue.c — upstreams.*.queue_timeout / queue_size:
 * defaults, parsing, and exact errors for out-of-range values. */
#include "cfg_test.h"

#include <stdio.h>

#include "config/cfg.h"

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
    struct cfg *c = load(LISTEN "  u: {servers: [\"127.0.0.1:9000\"], connect_timeout: 1s}\n", &e);
    assert_non_null(c);
    const struct cfg_upstream *u = cfg_find_upstream(c, "u");
    /* Not tied to connect_timeout any more. */
    assert_int_equal(u->queue_timeout_ms, 5000);
    assert_int_equal(u->queue_size, 4096);
    cfg_unref(c);
    cfg_errors_free(&e);
}

static void test_values(void **st)
{
    (void)st;
    struct cfg_errors e;
    struct cfg *c = load(LISTEN "  a: {servers: [\"h:1\"], queue_timeout: 250ms, queue_size: 0}\n"
                                "  b: {servers: [\"h:2\"], queue_timeout: 10m, queue_size: 1000000}\n",
                         &e);
    assert_non_null(c);
    assert_int_equal(cfg_find_upstream(c, "a")->queue_timeout_ms, 250);
    assert_int_equal(cfg_find_upstream(c, "a")->queue_size, 0);
    assert_int_equal(cfg_find_upstream(c, "b")->queue_timeout_ms, 600000);
    assert_int_equal(cfg_find_upstream(c, "b")->queue_size, 1000000);
    cfg_unref(c);
    cfg_errors_free(&e);
}

static void expect_error(const char *yaml, const char *want)
{
    struct cfg_errors e;
    struct cfg *c = load(yaml, &e);
    assert_null(c);
    char buf[4096];
    FILE *f = fmemopen(buf, sizeof buf, "w");
    assert_non_null(f);
    cfg_errors_print(&e, f);
    fclose(f);
    if (!strstr(buf, want))
        fprintf(stderr, "got: %s\nwant: %s\n", buf, want);
    assert_non_null(strstr(buf, want));
    cfg_errors_free(&e);
}

static void test_errors(void **st)
{
    (void)st;
    expect_error(LISTEN "  u: {servers: [\"h:1\"], queue_size: 1000001}\n",
                 "t.yaml:4:37: expected an integer from 0 to 1000000 for upstreams.u.queue_size, "
                 "found \"1000001\"");
    expect_error(LISTEN "  u: {servers: [\"h:1\"], queue_timeout: 0s}\n",
                 "for upstreams.u.queue_timeout, found \"0s\"");
    expect_error(LISTEN "  u: {servers: [\"h:1\"], queue_timeout: 11m}\n",
                 "for upstreams.u.queue_timeout, found \"11m\"");
    expect_error(LISTEN "  u: {servers: [\"h:1\"], queue_size: -1}\n",
                 "for upstreams.u.queue_size, found \"-1\"");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
