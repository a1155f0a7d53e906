/* tests/config/test_cfg_ticket_mc.c — listeners[].tls.ticket_memcached:
 * defaults, values, and exact errors (docs/configuration.md). */
#include "cfg_test.h"

#include <stdio.h>

#include "config/cfg.h"

#define HEAD                                                                                       \
    "upstreams:\n  u: {servers: [\"127.0.0.1:9000\"]}\n"                                           \
    "listeners:\n"                                                                                 \
    "  - address: \"127.0.0.1:8443\"\n"                                                            \
    "    tls:\n"                                                                                   \
    "      certificates: [{cert: @D@/cert.pem, key: @D@/key.pem}]\n"

static struct cfg *load(const char *yaml, struct cfg_errors *errs)
{
    char *y = cfg_test_subst(yaml);
    cfg_errors_init(errs);
    struct cfg *c = NULL;
    int rc = cfg_load_buffer("t.yaml", y, strlen(y), &c, errs);
    free(y);
    assert_true(rc == 0 ? c != NULL : c == NULL);
    return c;
}

static void test_off_and_defaults(void **st)
{
    (void)st;
    struct cfg_errors e;
    struct cfg *c = load(HEAD, &e);
    assert_non_null(c);
    assert_null(c->listeners[0].tls_cfg.ticket_mc.address.s); /* off by default */
    cfg_unref(c);
    cfg_errors_free(&e);
    c = load(HEAD "      ticket_memcached: {address: mc.internal}\n", &e);
    assert_non_null(c);
    const struct cfg_ticket_mc *m = &c->listeners[0].tls_cfg.ticket_mc;
    assert_string_equal(m->address.s, "mc.internal");
    assert_int_equal(m->port, 11211);
    assert_string_equal(m->key.s, "h2bridge/ticket-keys");
    assert_int_equal(m->interval_ms, 60000);
    assert_int_equal(m->timeout_ms, 2000);
    assert_int_equal(m->lifetime_ms, 3600000);
    assert_int_equal(m->mark.line, 7);
    cfg_unref(c);
    cfg_errors_free(&e);
}

static void test_values(void **st)
{
    (void)st;
    struct cfg_errors e;
    /* The memcached port is not the listener's: no port clash with port:. */
    struct cfg *c = load(HEAD "      ticket_memcached:\n"
                              "        address: \"[::1]:11311\"\n"
                              "        key: edge/tickets\n"
                              "        interval: 5s\n"
                              "        timeout: 300ms\n"
                              "        lifetime: 2h\n",
                         &e);
    assert_non_null(c);
    const struct cfg_ticket_mc *m = &c->listeners[0].tls_cfg.ticket_mc;
    assert_string_equal(m->address.s, "::1");
    assert_int_equal(m->port, 11311);
    assert_string_equal(m->key.s, "edge/tickets");
    assert_int_equal(m->interval_ms, 5000);
    assert_int_equal(m->timeout_ms, 300);
    assert_int_equal(m->lifetime_ms, 7200000);
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
    char *w = cfg_test_subst(want);
    if (!strstr(buf, w))
        fprintf(stderr, "got: %s\nwant: %s\n", buf, w);
    assert_non_null(strstr(buf, w));
    free(w);
    cfg_errors_free(&e);
}

static void test_errors(void **st)
{
    (void)st;
    expect_error(HEAD "      ticket_memcached: {key: k}\n",
                 "t.yaml:7:25: expected address: (the memcached \"HOST:PORT\") in "
                 "listeners[0].tls.ticket_memcached, found no such key");
    expect_error(HEAD "      ticket_memcached: {address: \"mc:0\"}\n",
                 "t.yaml:7:35: expected a port from 1 to 65535 in \"HOST:PORT\"");
    expect_error(HEAD "      ticket_memcached: {address: mc, key: \"a b\"}\n",
                 "t.yaml:7:44: expected a memcached key (1 to 250 printable characters, no "
                 "spaces)");
    expect_error(HEAD "      ticket_memcached: {address: mc, interval: 500ms}\n",
                 "for listeners[0].tls.ticket_memcached.interval, found \"500ms\"");
    expect_error(HEAD "      ticket_memcached: {address: mc, timeout: 2m}\n",
                 "for listeners[0].tls.ticket_memcached.timeout, found \"2m\"");
    expect_error(HEAD "      ticket_memcached: {address: mc, lifetime: 8d}\n",
                 "for listeners[0].tls.ticket_memcached.lifetime, found \"8d\"");
    expect_error(HEAD "      ticket_memcached: {address: mc, intervl: 5s}\n",
                 "t.yaml:7:39: expected a known key in listeners[0].tls.ticket_memcached (did you "
                 "mean \"interval\"?), found \"intervl\"");
    expect_error(HEAD "      ticket_memcached: mc:11211\n",
                 "t.yaml:7:25: expected a mapping (address, key, interval, timeout, lifetime)");
    expect_error(HEAD "      ticket_key_file: @D@/key.pem\n"
                      "      ticket_memcached: {address: mc}\n",
                 "t.yaml:8:25: expected one source of ticket keys, found ticket_memcached: and "
                 "ticket_key_file: (at 7:24)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_off_and_defaults),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
