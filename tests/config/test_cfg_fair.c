/* tests/config/test_cfg_fair.c — the fairness keys: servers[].max_connections
 * (default CFG_SERVER_MAX_CONNECTIONS, 0: no limit), upstreams.*.per_client_share,
 * upstreams.*.max_pending, limits.response_stall_timeout and
 * limits.request_body_timeout: defaults, values, exact errors. */
#include "cfg_test.h"

#include <stdio.h>

#include "config/cfg.h"

#define LISTEN "listeners:\n  - address: \"127.0.0.1:8080\"\n"
#define UPS "upstreams:\n"

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
    struct cfg *c = load(LISTEN UPS "  u: {servers: [\"127.0.0.1:9000\"]}\n", &e);
    assert_non_null(c);
    const struct cfg_upstream *u = cfg_find_upstream(c, "u");
    assert_int_equal(u->servers[0].max_connections, 1024);
    assert_int_equal(u->keepalive, 32); /* idle connections only */
    assert_int_equal(u->surplus_idle_timeout_ms, 1000);
    assert_int_equal(u->per_client_share, 25);
    assert_int_equal(u->max_pending, 0);
    assert_int_equal(c->limits.response_stall_timeout_ms, 30000);
    assert_int_equal(c->limits.request_body_timeout_ms, 60000);
    cfg_unref(c);
    cfg_errors_free(&e);
}

static void test_values(void **st)
{
    (void)st;
    struct cfg_errors e;
    struct cfg *c = load(LISTEN
                         "limits: {response_stall_timeout: 1500ms, request_body_timeout: 0}\n" UPS
                         "  a: {servers: [{address: \"h:1\", max_connections: 0}], "
                         "per_client_share: 100, max_pending: 7, surplus_idle_timeout: 0}\n"
                         "  b: {servers: [{address: \"h:2\", max_connections: 8}], "
                         "per_client_share: 1}\n",
                         &e);
    assert_non_null(c);
    const struct cfg_upstream *a = cfg_find_upstream(c, "a"), *b = cfg_find_upstream(c, "b");
    assert_int_equal(a->servers[0].max_connections, 0);
    assert_int_equal(a->per_client_share, 100);
    assert_int_equal(a->max_pending, 7);
    assert_int_equal(a->surplus_idle_timeout_ms, 0);
    assert_int_equal(b->servers[0].max_connections, 8);
    assert_int_equal(b->per_client_share, 1);
    assert_int_equal(c->limits.response_stall_timeout_ms, 1500);
    assert_int_equal(c->limits.request_body_timeout_ms, 0);
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
    expect_error(LISTEN UPS "  u: {servers: [\"h:1\"], per_client_share: 0}\n",
                 "t.yaml:4:43: expected an integer from 1 to 100 for "
                 "upstreams.u.per_client_share, found \"0\"");
    expect_error(LISTEN UPS "  u: {servers: [\"h:1\"], per_client_share: 101}\n",
                 "for upstreams.u.per_client_share, found \"101\"");
    expect_error(LISTEN UPS "  u: {servers: [\"h:1\"], max_pending: -1}\n",
                 "for upstreams.u.max_pending, found \"-1\"");
    expect_error(LISTEN "limits: {response_stall_timeout: 2h}\n" UPS
                 "  u: {servers: [\"h:1\"]}\n",
                 "t.yaml:3:34: expected a duration from 0ms to 1h");
    expect_error(LISTEN "limits: {response_stall_timeout: 2h}\n" UPS
                 "  u: {servers: [\"h:1\"]}\n",
                 "for limits.response_stall_timeout, found \"2h\"");
    expect_error(LISTEN "limits: {request_body_timeout: fast}\n" UPS
                 "  u: {servers: [\"h:1\"]}\n",
                 "for limits.request_body_timeout, found \"fast\"");
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
