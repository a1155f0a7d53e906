/* tests/config/test_cfg_legacy.c — the keys for legacy backends:
 * upstreams.*.tls (TLS to the servers): defaults, every key, and exact
 * errors at line:column; header_case (lower, title, preserve) on upstreams
 * and listeners. */
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

static void test_tls_defaults(void **st)
{
    (void)st;
    struct cfg_errors e;
    struct cfg *c = load(LISTEN "  u: {servers: [\"127.0.0.1:9000\"]}\n"
                                "  v: {servers: [\"app.internal:443\"], tls: }\n",
                         &e);
    assert_non_null(c);
    const struct cfg_upstream_tls *u = &cfg_find_upstream(c, "u")->tls;
    assert_false(u->enabled);
    const struct cfg_upstream_tls *t = &cfg_find_upstream(c, "v")->tls;
    assert_true(t->enabled);
    assert_true(t->verify);
    assert_true(t->session_reuse);
    assert_int_equal(t->min_version, CFG_TLS_1_2);
    assert_null(t->ca_file.s);
    assert_null(t->sni.s);
    assert_null(t->verify_name.s);
    assert_null(t->cert.s);
    assert_null(t->key.s);
    cfg_unref(c);
    cfg_errors_free(&e);
}

static void test_tls_every_key(void **st)
{
    (void)st;
    struct cfg_errors e;
    struct cfg *c = load(LISTEN "  u:\n"
                                "    servers: [\"10.0.0.1:443\"]\n"
                                "    tls:\n"
                                "      verify: false\n"
                                "      ca_file: /etc/app/ca.pem\n"
                                "      sni: App.Internal\n"
                                "      verify_name: app.example.com\n"
                                "      cert: client.pem\n"
                                "      key: /k/client.key\n"
                                "      session_reuse: false\n"
                                "      min_version: \"1.3\"\n",
                         &e);
    assert_non_null(c);
    const struct cfg_upstream_tls *t = &cfg_find_upstream(c, "u")->tls;
    assert_true(t->enabled);
    assert_false(t->verify);
    assert_false(t->session_reuse);
    assert_int_equal(t->min_version, CFG_TLS_1_3);
    assert_string_equal(t->ca_file.s, "/etc/app/ca.pem");
    assert_string_equal(t->sni.s, "app.internal"); /* names are lowercased */
    assert_string_equal(t->verify_name.s, "app.example.com");
    assert_string_equal(t->cert.s, "client.pem"); /* relative to t.yaml's folder: none */
    assert_string_equal(t->key.s, "/k/client.key");
    cfg_unref(c);
    cfg_errors_free(&e);
}

static void test_tls_errors(void **st)
{
    (void)st;
    expect_errors(LISTEN "  u:\n"
                         "    servers: [\"h:1\"]\n"
                         "    tls:\n"
                         "      verify: maybe\n"
                         "      sni: \"a b\"\n"
                         "      min_version: \"1.1\"\n"
                         "      ca_fille: x.pem\n",
                  (const char *const[]){
                      "t.yaml:7:15: expected a boolean (true or false) for "
                      "upstreams.u.tls.verify, found \"maybe\"",
                      "t.yaml:8:12: expected a host name (\"example.com\") for "
                      "upstreams.u.tls.sni, found \"a b\"",
                      "t.yaml:9:20: expected a TLS version (\"1.2\" or \"1.3\") for "
                      "upstreams.u.tls.min_version, found \"1.1\"",
                      "t.yaml:10:7: expected a known key in upstreams.u.tls (did you mean "
                      "\"ca_file\"?), found \"ca_fille\"",
                      NULL});
    expect_errors(LISTEN "  u: {servers: [\"h:1\"], tls: {cert: c.pem}}\n"
                         "  v: {servers: [\"h:1\"], tls: {key: k.pem}}\n"
                         "  w: {servers: [\"h:1\"], tls: [1]}\n",
                  (const char *const[]){
                      "t.yaml:4:37: expected key: (the client certificate's PEM private key) "
                      "in upstreams.u.tls, found no such key",
                      "t.yaml:5:36: expected cert: (the PEM client certificate chain for this "
                      "key) in upstreams.v.tls, found no such key",
                      "t.yaml:6:30: expected a mapping (verify, ca_file, sni, verify_name, cert, "
                      "key, ...) for upstreams.w.tls, found a sequence",
                      NULL});
    /* HTTP health checks speak TLS to a tls: upstream: accepted. */
    struct cfg_errors e;
    struct cfg *c = load(LISTEN "  u: {servers: [\"h:1\"], tls: , health_check: }\n", &e);
    assert_non_null(c);
    assert_true(c->upstreams[0].tls.enabled);
    assert_true(c->upstreams[0].health_check.enabled);
    assert_false(c->upstreams[0].health_check.tcp);
    cfg_unref(c);
    cfg_errors_free(&e);
}

/* upstreams.*.proxy_protocol: off (default), v1, v2; anything else at its
 * line:column. */
static void test_proxy_protocol(void **st)
{
    (void)st;
    struct cfg_errors e;
    struct cfg *c = load(LISTEN "  a: {servers: [\"h:1\"]}\n"
                                "  b: {servers: [\"h:1\"], proxy_protocol: v1}\n"
                                "  c: {servers: [\"h:1\"], proxy_protocol: v2}\n"
                                "  d: {servers: [\"h:1\"], proxy_protocol: off}\n",
                         &e);
    assert_non_null(c);
    assert_int_equal(c->n_upstreams, 4);
    for (size_t i = 0; i < 4; i++) {
        const char *n = c->upstreams[i].name.s;
        uint8_t want = strcmp(n, "b") == 0 ? 1 : strcmp(n, "c") == 0 ? 2 : 0;
        assert_int_equal(c->upstreams[i].proxy_protocol, want);
    }
    cfg_unref(c);
    cfg_errors_free(&e);
    expect_errors(LISTEN "  u: {servers: [\"h:1\"], proxy_protocol: v3}\n"
                         "  v: {servers: [\"h:1\"], proxy_protocol: [v1]}\n"
                         "  w: {servers: [\"h:1\"], proxy_protocol: 2}\n",
                  (const char *const[]){
                      "t.yaml:4:41: expected a PROXY protocol version (v1, v2 or off) for "
                      "upstreams.u.proxy_protocol, found \"v3\"",
                      "t.yaml:5:41: expected a PROXY protocol version (v1, v2 or off) for "
                      "upstreams.v.proxy_protocol, found a sequence",
                      "t.yaml:6:41: expected a PROXY protocol version (v1, v2 or off) for "
                      "upstreams.w.proxy_protocol, found \"2\"",
                      NULL});
}

static void test_header_case(void **st)
{
    (void)st;
    struct cfg_errors e;
    struct cfg *c = load("listeners:\n"
                         "  - address: \"127.0.0.1:8080\"\n"
                         "    header_case: preserve\n"
                         "  - {address: \"127.0.0.1:8081\", header_case: title}\n"
                         "  - {address: \"127.0.0.1:8082\"}\n"
                         "upstreams:\n"
                         "  u: {servers: [\"127.0.0.1:9000\"], header_case: preserve}\n"
                         "  v: {servers: [\"127.0.0.1:9001\"], header_case: title}\n"
                         "  w: {servers: [\"127.0.0.1:9002\"], header_case: lower}\n"
                         "  x: {servers: [\"127.0.0.1:9003\"]}\n",
                         &e);
    assert_non_null(c);
    assert_int_equal(c->listeners[0].header_case, CFG_HCASE_PRESERVE);
    assert_int_equal(c->listeners[1].header_case, CFG_HCASE_TITLE);
    assert_int_equal(c->listeners[2].header_case, CFG_HCASE_LOWER);
    assert_int_equal(cfg_find_upstream(c, "u")->header_case, CFG_HCASE_PRESERVE);
    assert_int_equal(cfg_find_upstream(c, "v")->header_case, CFG_HCASE_TITLE);
    assert_int_equal(cfg_find_upstream(c, "w")->header_case, CFG_HCASE_LOWER);
    assert_int_equal(cfg_find_upstream(c, "x")->header_case, CFG_HCASE_LOWER);
    assert_true(c->keep_request_case); /* u preserves: request heads keep their case */
    cfg_unref(c);
    cfg_errors_free(&e);
    /* A preserve listener alone keeps nothing on the request side. */
    c = load("listeners:\n  - {address: \"127.0.0.1:8080\", header_case: preserve}\n"
             "upstreams:\n  u: {servers: [\"127.0.0.1:9000\"], header_case: title}\n",
             &e);
    assert_non_null(c);
    assert_false(c->keep_request_case);
    cfg_unref(c);
    cfg_errors_free(&e);
    assert_string_equal(cfg_header_case_name(CFG_HCASE_LOWER), "lower");
    assert_string_equal(cfg_header_case_name(CFG_HCASE_TITLE), "title");
    assert_string_equal(cfg_header_case_name(CFG_HCASE_PRESERVE), "preserve");

    expect_errors(
        "listeners:\n"
        "  - address: \"127.0.0.1:8080\"\n"
        "    header_case: Preserve\n"
        "upstreams:\n"
        "  u:\n"
        "    servers: [\"127.0.0.1:9000\"]\n"
        "    header_case: keep\n"
        "  v: {servers: [\"127.0.0.1:9001\"], header_case: [title]}\n",
        (const char *const[]){"t.yaml:3:18: expected a header case (lower, title or preserve) for "
                              "listeners[0].header_case, found \"Preserve\"",
                              "t.yaml:7:18: expected a header case (lower, title or preserve) for "
                              "upstreams.u.header_case, found \"keep\"",
                              "t.yaml:8:49: expected a header case (lower, title or preserve) for "
                              "upstreams.v.header_case, found a sequence",
                              NULL});
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tls_defaults), cmocka_unit_test(test_tls_every_key),
        cmocka_unit_test(test_tls_errors),   cmocka_unit_test(test_proxy_protocol),
        cmocka_unit_test(test_header_case),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
