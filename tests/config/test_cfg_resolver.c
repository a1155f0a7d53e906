/* tests/config/test_cfg_resolver.c — the resolver: section and
 * servers[].resolve (backend DNS names): defaults, every key, which servers
 * are names, and exact errors at line:column. */
#include "cfg_test.h"

#include <stdio.h>

#include "config/cfg.h"

#define LISTEN "listeners:\n  - address: \"127.0.0.1:8080\"\n"

static struct cfg *load(const char *yaml, struct cfg_errors *errs)
{
    cfg_errors_init(errs);
    struct cfg *c = NULL;
    int rc = cfg_load_buffer("t.yaml", yaml, strlen(yaml), &c, errs);
    assert_true(rc == 0 ? c != NULL : c == NULL);
    return c;
}

static void expect_errors(const char *yaml, const char *const *want)
{
    struct cfg_errors e;
    struct cfg *c = load(yaml, &e);
    assert_null(c);
    size_t i = 0;
    for (; want[i]; i++) {
        char buf[512] = "";
        if (i < e.n)
            cfg_error_format(&e.v[i], buf, sizeof buf);
        if (strcmp(buf, want[i]) != 0) {
            fprintf(stderr, "got:  %s\nwant: %s\n", buf, want[i]);
            for (size_t k = 0; k < e.n; k++) {
                char all[512];
                fprintf(stderr, "  error %zu: %s\n", k, cfg_error_format(&e.v[k], all, sizeof all));
            }
        }
        assert_string_equal(buf, want[i]);
    }
    for (size_t k = i; k < e.n; k++) {
        char buf[512];
        fprintf(stderr, "extra: %s\n", cfg_error_format(&e.v[k], buf, sizeof buf));
    }
    assert_int_equal(e.n, i);
    cfg_errors_free(&e);
}

static void test_defaults_and_names(void **st)
{
    (void)st;
    struct cfg_errors e;
    struct cfg *c = load(LISTEN "upstreams:\n"
                                "  u: {servers: [\"127.0.0.1:9000\", \"[::1]:9001\", "
                                "\"app.internal:9002\", {address: localhost, port: 1}]}\n",
                         &e);
    assert_non_null(c);
    assert_int_equal(c->resolver.n_servers, 0);
    assert_int_equal(c->resolver.interval_ms, 30000);
    assert_int_equal(c->resolver.min_interval_ms, 1000);
    assert_int_equal(c->resolver.timeout_ms, 2000);
    assert_int_equal(c->resolver.attempts, 2);
    assert_int_equal(c->resolver.max_addresses, 64);
    const struct cfg_upstream *u = cfg_find_upstream(c, "u");
    assert_false(u->servers[0].is_name);
    assert_false(u->servers[1].is_name);
    assert_true(u->servers[2].is_name);
    assert_true(u->servers[3].is_name);
    assert_int_equal(u->servers[2].resolve, CFG_RESOLVE_START);
    cfg_unref(c);
    cfg_errors_free(&e);
}

static void test_every_key(void **st)
{
    (void)st;
    struct cfg_errors e;
    struct cfg *c = load(LISTEN "resolver:\n"
                                "  servers: [\"127.0.0.1:5353\", \"::1\", \"[2001:db8::1]:54\"]\n"
                                "  interval: 10s\n"
                                "  min_interval: 500ms\n"
                                "  timeout: 250ms\n"
                                "  attempts: 3\n"
                                "  max_addresses: 8\n"
                                "upstreams:\n"
                                "  u: {servers: [{address: a.test, port: 80, resolve: lazy},\n"
                                "                {address: b.test, port: 80, resolve: start}]}\n",
                         &e);
    assert_non_null(c);
    const struct cfg_resolver *r = &c->resolver;
    assert_int_equal(r->n_servers, 3);
    assert_string_equal(r->servers[0].address.s, "127.0.0.1");
    assert_int_equal(r->servers[0].port, 5353);
    assert_string_equal(r->servers[1].address.s, "::1");
    assert_int_equal(r->servers[1].port, 53);
    assert_string_equal(r->servers[2].address.s, "2001:db8::1");
    assert_int_equal(r->servers[2].port, 54);
    assert_int_equal(r->interval_ms, 10000);
    assert_int_equal(r->min_interval_ms, 500);
    assert_int_equal(r->timeout_ms, 250);
    assert_int_equal(r->attempts, 3);
    assert_int_equal(r->max_addresses, 8);
    const struct cfg_upstream *u = cfg_find_upstream(c, "u");
    assert_int_equal(u->servers[0].resolve, CFG_RESOLVE_LAZY);
    assert_int_equal(u->servers[1].resolve, CFG_RESOLVE_START);
    cfg_unref(c);
    cfg_errors_free(&e);
}

static void test_errors(void **st)
{
    (void)st;
    expect_errors(LISTEN "resolver:\n"
                         "  servers: [\"dns.example:53\", \"127.0.0.1:0\", 5]\n"
                         "  interval: 50ms\n"
                         "  timeout: 2m\n"
                         "  attempts: 0\n"
                         "  max_addresses: 2000\n"
                         "  retries: 1\n"
                         "upstreams:\n"
                         "  u: {servers: [{address: 10.0.0.1, port: 80, resolve: lazy},\n"
                         "                {address: a.test, port: 80, resolve: later}]}\n",
                  (const char *const[]){
                      "t.yaml:4:13: expected a nameserver's IP address (\"IP\" or \"IP:PORT\") for "
                      "resolver.servers[0], found \"dns.example:53\"",
                      "t.yaml:4:31: expected a port from 1 to 65535 in \"HOST:PORT\" for "
                      "resolver.servers[1], found \"127.0.0.1:0\"",
                      "t.yaml:4:46: expected a nameserver's IP address (\"IP\" or \"IP:PORT\") for "
                      "resolver.servers[2], found \"5\"",
                      "t.yaml:5:13: expected a duration from 100ms to 24h (like \"250ms\", \"5s\", "
                      "\"1m\") for resolver.interval, found \"50ms\"",
                      "t.yaml:6:12: expected a duration from 10ms to 1m (like \"250ms\", \"5s\", "
                      "\"1m\") for resolver.timeout, found \"2m\"",
                      "t.yaml:7:13: expected an integer from 1 to 10 for resolver.attempts, found "
                      "\"0\"",
                      "t.yaml:8:18: expected an integer from 1 to 1024 for resolver.max_addresses, "
                      "found \"2000\"",
                      "t.yaml:9:3: expected a known key in resolver (one of: servers, interval, "
                      "min_interval, timeout, attempts, max_addresses), found \"retries\"",
                      "t.yaml:11:56: expected resolve: only on a server given as a DNS name, found "
                      "the IP address 10.0.0.1",
                      "t.yaml:12:54: expected when a DNS name must resolve (start, lazy) for "
                      "upstreams.u.servers[1].resolve, found \"later\"",
                      NULL});
}

static void test_cross_checks(void **st)
{
    (void)st;
    expect_errors(LISTEN "resolver: {interval: 1s, min_interval: 2s}\n"
                         "upstreams:\n  u: {servers: [\"a.test:1\"]}\n",
                  (const char *const[]){"t.yaml:3:11: expected resolver.min_interval at most "
                                        "resolver.interval (1000 ms), found 2000 ms",
                                        NULL});
    expect_errors(LISTEN "resolver: {servers: [\"127.0.0.1\", \"127.0.0.2\", \"127.0.0.3\", "
                         "\"127.0.0.4\", \"127.0.0.5\", \"127.0.0.6\", \"127.0.0.7\", "
                         "\"127.0.0.8\", \"127.0.0.9\"]}\n"
                         "upstreams:\n  u: {servers: [\"a.test:1\"]}\n",
                  (const char *const[]){"t.yaml:3:21: expected at most 8 nameservers (\"IP\" or "
                                        "\"IP:PORT\") (found 9) for resolver.servers, found a "
                                        "sequence",
                                        NULL});
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_names),
        cmocka_unit_test(test_every_key),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_cross_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
