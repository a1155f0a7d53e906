/* tests/config/test_cfg_push.c — routes[].push: defaults, values, the
 * connection-wide switch, and exact errors (file:line:column). */
#include "cfg_test.h"

#include <stdio.h>

#include "config/cfg.h"

#define BASE                                                                                       \
    "listeners:\n  - address: \"127.0.0.1:8080\"\nupstreams:\n  u: {servers: [\"h:1\"]}\n"     \
    "routes:\n"

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
    struct cfg *c = load(BASE "  - {path: /a, upstream: u}\n"
                              "  - {path: /b, upstream: u, push: {}}\n"
                              "  - {upstream: u, push: {enabled: false}}\n", &e);
    assert_non_null(c);
    assert_false(c->push_any); /* no route pushes: connections do not enable it */
    for (size_t i = 0; i < 3; i++) {
        const struct cfg_push *p = &c->routes[i].push;
        assert_false(p->enabled);
        assert_false(p->forward_cookies);
        assert_int_equal(p->max_per_connection, 16);
        assert_int_equal(p->max_per_response, 8);
    }
    cfg_unref(c);
    cfg_errors_free(&e);
}

static void test_values(void **st)
{
    (void)st;
    struct cfg_errors e;
    struct cfg *c = load(BASE "  - upstream: u\n"
                              "    path: /a\n"
                              "    push:\n"
                              "      enabled: true\n"
                              "      max_per_connection: 1000\n"
                              "      max_per_response: 1\n"
                              "      forward_cookies: true\n"
                              "  - {upstream: u}\n",
                         &e);
    assert_non_null(c);
    const struct cfg_push *a = &c->routes[0].push, *b = &c->routes[1].push;
    assert_true(c->push_any);
    assert_true(a->enabled);
    assert_true(a->forward_cookies);
    assert_int_equal(a->max_per_connection, 1000);
    assert_int_equal(a->max_per_response, 1);
    assert_false(b->enabled);
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
    expect_error(BASE "  - {upstream: u, push: {enabled: yes please}}\n",
                 "t.yaml:6:35: expected a boolean (true or false) for "
                 "routes[0].push.enabled, found \"yes please\"");
    expect_error(BASE "  - {upstream: u, push: {max_per_connection: 0}}\n",
                 "t.yaml:6:46: expected an integer from 1 to 1000 for "
                 "routes[0].push.max_per_connection, found \"0\"");
    expect_error(BASE "  - {upstream: u, push: {max_per_response: 101}}\n",
                 "t.yaml:6:44: expected an integer from 1 to 100 for "
                 "routes[0].push.max_per_response, found \"101\"");
    expect_error(BASE "  - {upstream: u, push: {forward_cookie: true}}\n",
                 "t.yaml:6:26: expected a known key in routes[0].push (did you mean "
                 "\"forward_cookies\"?), found \"forward_cookie\"");
    expect_error(BASE "  - {upstream: u, push: true}\n",
                 "t.yaml:6:25: expected a mapping (enabled, max_per_connection, "
                 "max_per_response, forward_cookies) for routes[0].push");
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
