/* config/: units, HOST:PORT, the error list, the command-line builder, route
 * matching and reference counting. */
#include "testutil/testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfg.h"
#include "cfg_test.h"
#include "config/cfg_internal.h"
#include "core/err.h"

#define DATA CFG_TEST_DATA

static void test_durations(void **state)
{
    static const struct {
        const char *s;
        int rc;
        uint32_t ms;
    } v[] = {
        {"0", 0, 0},
        {"250", 0, 250},
        {"250ms", 0, 250},
        {"5s", 0, 5000},
        {"1m", 0, 60000},
        {"2h", 0, 7200000},
        {"1193h", 0, 4294800000u},
        {"4294967295ms", 0, 4294967295u},
        {"4294967296", HB_ERANGE, 0},
        {"1194h", HB_ERANGE, 0},
        {"99999999999999999999s", HB_ERANGE, 0},
        {"", HB_ESYNTAX, 0},
        {"s", HB_ESYNTAX, 0},
        {"5 s", HB_ESYNTAX, 0},
        {"5S", HB_ESYNTAX, 0},
        {"1.5s", HB_ESYNTAX, 0},
        {"-1s", HB_ESYNTAX, 0},
        {"+1s", HB_ESYNTAX, 0},
        {"5sec", HB_ESYNTAX, 0},
        {"5d", HB_ESYNTAX, 0},
        {"5s ", HB_ESYNTAX, 0},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint32_t ms = 12345;
        int rc = cfg_parse_duration_ms(v[i].s, &ms);
        if (rc != v[i].rc)
            fail_msg("\"%s\": rc %d, want %d", v[i].s, rc, v[i].rc);
        if (rc == 0 && ms != v[i].ms)
            fail_msg("\"%s\": %u ms, want %u", v[i].s, ms, v[i].ms);
        if (rc != 0)
            assert_int_equal(ms, 12345); /* untouched on error */
    }
}

static void test_sizes(void **state)
{
    static const struct {
        const char *s;
        int rc;
        uint32_t b;
    } v[] = {
        {"0", 0, 0},
        {"512", 0, 512},
        {"512B", 0, 512},
        {"64KiB", 0, 65536},
        {"1MiB", 0, 1048576},
        {"3GiB", 0, 3221225472u},
        {"16KB", 0, 16000},
        {"2MB", 0, 2000000},
        {"4GB", 0, 4000000000u},
        {"4GiB", HB_ERANGE, 0},
        {"5GB", HB_ERANGE, 0},
        {"4294967296", HB_ERANGE, 0},
        {"64kib", HB_ESYNTAX, 0},
        {"64kb", HB_ESYNTAX, 0},
        {"64 KiB", HB_ESYNTAX, 0},
        {"KiB", HB_ESYNTAX, 0},
        {"1.5MiB", HB_ESYNTAX, 0},
        {"-1", HB_ESYNTAX, 0},
        {"1TiB", HB_ESYNTAX, 0},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint32_t b = 7;
        int rc = cfg_parse_size(v[i].s, &b);
        if (rc != v[i].rc)
            fail_msg("\"%s\": rc %d, want %d", v[i].s, rc, v[i].rc);
        if (rc == 0 && b != v[i].b)
            fail_msg("\"%s\": %u bytes, want %u", v[i].s, b, v[i].b);
    }
}

static void test_hostport(void **state)
{
    static const struct {
        const char *s;
        int rc;
        const char *host;
        uint16_t port;
    } v[] = {
        {"127.0.0.1:8080", 0, "127.0.0.1", 8080},
        {"[::1]:443", 0, "::1", 443},
        {":80", 0, "0.0.0.0", 80},
        {"example.com:65535", 0, "example.com", 65535},
        {"h:0", HB_ERANGE, NULL, 0},
        {"h:65536", HB_ERANGE, NULL, 0},
        {"h:", HB_ESYNTAX, NULL, 0},
        {"h", HB_ESYNTAX, NULL, 0},
        {"::1:80", HB_ESYNTAX, NULL, 0},
        {"[::1]", HB_ESYNTAX, NULL, 0},
        {"[::1]80", HB_ESYNTAX, NULL, 0},
        {"[]:80", HB_ESYNTAX, NULL, 0},
        {"a b:80", HB_ESYNTAX, NULL, 0},
        {"h:8x", HB_ESYNTAX, NULL, 0},
        {"h:+80", HB_ESYNTAX, NULL, 0},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char host[64];
        uint16_t port = 0;
        int rc = cfg_parse_hostport(v[i].s, host, sizeof host, &port);
        if (rc != v[i].rc)
            fail_msg("\"%s\": rc %d, want %d", v[i].s, rc, v[i].rc);
        if (rc == 0) {
            assert_string_equal(host, v[i].host);
            assert_int_equal(port, v[i].port);
        }
    }
    char small[4];
    uint16_t port;
    assert_int_equal(cfg_parse_hostport("abcd:1", small, sizeof small, &port), HB_ESYNTAX);
    assert_int_equal(cfg_parse_hostport("abc:1", small, sizeof small, &port), 0);
}

static void test_names(void **state)
{
    assert_string_equal(cfg_proto_name(CFG_PROTO_H2), "h2");
    assert_string_equal(cfg_proto_name(CFG_PROTO_HTTP11), "http/1.1");
    assert_string_equal(cfg_proto_name(CFG_PROTO_H2C), "h2c");
    assert_string_equal(cfg_tls_version_name(CFG_TLS_1_2), "1.2");
    assert_string_equal(cfg_tls_version_name(CFG_TLS_1_3), "1.3");
    assert_string_equal(cfg_access_format_name(CFG_ACCESS_COMMON), "common");
    assert_string_equal(cfg_access_format_name(CFG_ACCESS_JSON), "json");
    assert_string_equal(cfg_access_format_name(CFG_ACCESS_COMBINED), "combined");
    assert_string_equal(cfg_path_match_name(CFG_PATH_ANY), "any");
    assert_string_equal(cfg_path_match_name(CFG_PATH_PREFIX), "path_prefix");
    assert_string_equal(cfg_path_match_name(CFG_PATH_EXACT), "path");
    assert_int_equal(cfg_edit_distance("port", "prot"), 1);
    assert_int_equal(cfg_edit_distance("", "abc"), 3);
    assert_int_equal(cfg_edit_distance("kitten", "sitting"), 3);
    static const char *const cands[] = {"address", "port", "tls"};
    assert_string_equal(cfg_closest("adress", cands, 3), "address");
    assert_string_equal(cfg_closest("tsl", cands, 3), "tls");
    assert_null(cfg_closest("xyz", cands, 3));
}

static void test_error_list(void **state)
{
    struct cfg_errors errs;
    cfg_errors_init(&errs);
    struct cfg_mark m = {"f.yaml", 3, 7};
    assert_int_equal(cfg_errors_add(&errs, &m, "expected %s, found %d", "x", 1), 0);
    assert_int_equal(cfg_errors_add(&errs, &m, "expected %s, found %d", "x", 1), 0); /* once */
    struct cfg_mark nofile_line = {"f.yaml", 0, 0};
    assert_int_equal(cfg_errors_add(&errs, &nofile_line, "whole file"), 0);
    assert_int_equal(cfg_errors_add(&errs, NULL, "no position"), 0);
    assert_int_equal(errs.n, 3);
    char buf[256];
    assert_string_equal(cfg_error_format(&errs.v[0], buf, sizeof buf),
                        "f.yaml:3:7: expected x, found 1");
    assert_string_equal(cfg_error_format(&errs.v[1], buf, sizeof buf), "f.yaml: whole file");
    assert_string_equal(cfg_error_format(&errs.v[2], buf, sizeof buf), "no position");
    assert_string_equal(cfg_mark_format(&m, buf, sizeof buf), "f.yaml:3:7");
    assert_string_equal(cfg_mark_format(&cfg_cmdline_mark, buf, sizeof buf), "command line");
    for (int i = 0; i < 200; i++) {
        struct cfg_mark mi = {"g.yaml", (uint32_t)i + 1, 1};
        assert_int_equal(cfg_errors_add(&errs, &mi, "e%d", i), 0);
    }
    assert_int_equal(errs.n, CFG_MAX_ERRORS);
    assert_int_equal(errs.n_dropped, 103);
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    cfg_errors_print(&errs, f);
    fclose(f);
    /* Printed in position order: no line first, then by file, line, column. */
    static const char head[] = "f.yaml: whole file\nno position\nf.yaml:3:7: expected x, found 1\n"
                               "g.yaml:1:1: e0\n";
    assert_int_equal(strncmp(out, head, sizeof head - 1), 0);
    assert_non_null(strstr(out, "g.yaml:97:1: e96\n... and 103 more errors\n"));
    free(out);
    cfg_errors_free(&errs);
    assert_int_equal(errs.n, 0);
}

static void test_builder(void **state)
{
    struct cfg_errors errs;
    cfg_errors_init(&errs);
    struct cfg *c = cfg_new_defaults();
    assert_non_null(c);
    assert_int_equal(
        cfg_add_listener(c, "127.0.0.1:8443", DATA "/cert.pem", DATA "/key.pem", &errs), 0);
    assert_int_equal(cfg_add_listener(c, "[::1]:8080", NULL, NULL, &errs), 0);
    assert_int_equal(cfg_add_backend(c, "127.0.0.1:9001", &errs), 0);
    assert_int_equal(cfg_add_backend(c, "127.0.0.1:9002", &errs), 0);
    assert_int_equal(cfg_finalize(c, &errs), 0);
    assert_int_equal(errs.n, 0);
    assert_int_equal(c->n_listeners, 2);
    assert_true(c->listeners[0].tls);
    assert_int_equal(c->listeners[0].protocols, CFG_PROTO_H2 | CFG_PROTO_HTTP11);
    assert_string_equal(c->listeners[0].tls_cfg.certs[0].key.s, DATA "/key.pem");
    assert_string_equal(c->listeners[0].tls_cfg.certs[0].key.mark.file, "command line");
    assert_int_equal(c->listeners[0].tls_cfg.min_version, CFG_TLS_1_2);
    assert_false(c->listeners[1].tls);
    assert_string_equal(c->listeners[1].address.s, "::1");
    assert_int_equal(c->listeners[1].protocols, CFG_PROTO_H2C | CFG_PROTO_HTTP11);
    assert_int_equal(c->n_upstreams, 1);
    assert_string_equal(c->upstreams[0].name.s, "default");
    assert_int_equal(c->upstreams[0].n_servers, 2);
    assert_int_equal(c->upstreams[0].servers[1].port, 9002);
    assert_int_equal(c->upstreams[0].connect_timeout_ms, 5000);
    assert_int_equal(c->n_routes, 1); /* one catch-all route, not one per backend */
    assert_ptr_equal(cfg_route_match(c, "any", 3, "/x", 2), &c->routes[0]);
    assert_int_equal(c->routes[0].upstream_index, 0);
    cfg_unref(c);

    /* Bad flags are reported at "command line", and finalize finds the rest. */
    c = cfg_new_defaults();
    assert_int_equal(cfg_add_listener(c, "nohostport", NULL, NULL, &errs), HB_EINVAL);
    assert_int_equal(cfg_add_listener(c, "h:99999", NULL, NULL, &errs), HB_EINVAL);
    assert_int_equal(cfg_add_listener(c, "h:1", DATA "/cert.pem", NULL, &errs), HB_EINVAL);
    assert_int_equal(cfg_add_backend(c, "[::1", &errs), HB_EINVAL);
    assert_int_equal(cfg_add_listener(c, "h:1", "/nonexistent.pem", DATA "/key.pem", &errs), 0);
    assert_int_equal(cfg_add_listener(c, "h:1", NULL, NULL, &errs), 0);
    assert_int_equal(cfg_finalize(c, &errs), HB_EINVAL);
    static const char *const want[] = {
        "command line: expected a listener address as \"HOST:PORT\", found \"nohostport\"",
        "command line: expected a listener address as \"HOST:PORT\" with a port from 1 to 65535, "
        "found \"h:99999\"",
        "command line: expected both a certificate and a key for h:1, found only the certificate",
        "command line: expected a backend address as \"HOST:PORT\", found \"[::1\"",
        "command line: expected a readable certificate file, found \"/nonexistent.pem\" (No such "
        "file or directory)",
        "command line: expected a unique listener address, found h:1 again (first at command line)",
    };
    char buf[512];
    assert_int_equal(errs.n, 6);
    for (size_t i = 0; i < 6; i++)
        assert_string_equal(cfg_error_format(&errs.v[i], buf, sizeof buf), want[i]);
    cfg_unref(c);
    cfg_errors_free(&errs);

    c = cfg_new_defaults();
    assert_int_equal(cfg_finalize(c, &errs), HB_EINVAL);
    assert_string_equal(cfg_error_format(&errs.v[0], buf, sizeof buf),
                        "command line: expected at least one listener (listeners: in the file or "
                        "a listen flag), found none");
    cfg_unref(c);
    cfg_errors_free(&errs);
}

/* A file and flags build one configuration: the flag's backend joins the
 * file's "default" upstream, and no second catch-all route is added. */
static void test_file_then_flags(void **state)
{
    static const char yaml[] =
        "listeners: [{address: \":8080\"}]\n"
        "upstreams: {default: {servers: [\"h:1\"]}, api: {servers: [\"h:2\"]}}\n"
        "routes: [{path_prefix: /api/, upstream: api}, {upstream: default}]\n";
    struct cfg_errors errs;
    cfg_errors_init(&errs);
    struct cfg *c = cfg_new_defaults();
    assert_int_equal(cfg_parse_buffer(c, "f.yaml", yaml, sizeof yaml - 1, &errs), 0);
    assert_int_equal(cfg_add_backend(c, "h:3", &errs), 0);
    assert_int_equal(cfg_add_listener(c, ":8081", NULL, NULL, &errs), 0);
    assert_int_equal(cfg_finalize(c, &errs), 0);
    assert_int_equal(cfg_find_upstream(c, "default")->n_servers, 2);
    assert_int_equal(c->n_routes, 2);
    assert_int_equal(c->n_listeners, 2);
    assert_string_equal(cfg_route_match(c, "x", 1, "/api/v", 6)->upstream.s, "api");
    assert_int_equal(cfg_route_match(c, "x", 1, "/api/v", 6)->upstream_index, 1);
    assert_string_equal(cfg_route_match(c, "x", 1, "/", 1)->upstream.s, "default");
    cfg_unref(c);
    cfg_errors_free(&errs);
}

static void test_route_match(void **state)
{
    static const char yaml[] = "listeners: [{address: \":8080\"}]\n"
                               "upstreams: {u: {servers: [\"h:1\"]}}\n"
                               "routes:\n"
                               "  - {host: a.com, path: /x, upstream: u}\n"
                               "  - {host: \"*.a.com\", path_prefix: /p/, upstream: u}\n"
                               "  - {host: a.com, upstream: u}\n"
                               "  - {path_prefix: /only, upstream: u}\n";
    struct cfg_errors errs;
    cfg_errors_init(&errs);
    struct cfg *c = NULL;
    assert_int_equal(cfg_load_buffer("r.yaml", yaml, sizeof yaml - 1, &c, &errs), 0);
    static const struct {
        const char *host, *path;
        int route; /* -1: none */
    } v[] = {
        {"a.com", "/x", 0},    {"A.Com", "/x", 0},     {"B.A.COM", "/p/", 1},
        {"a.com", "/X", 2},    {"a.com", "/x?q=1", 0}, {"a.com", "/x/", 2},
        {"a.com", "/xy", 2},   {"b.a.com", "/p/", 1},  {"c.b.a.com", "/p/z", 1},
        {"b.a.com", "/p", -1}, {"a.com", "/p/", 2},    {"xa.com", "/p/", -1},
        {".a.com", "/p/", -1}, {"", "/only/x", 3},     {NULL, "/onlyx", 3},
        {"z.com", "/", -1},    {"a.co", "/x", -1},     {"a.com", "", 2},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        const struct cfg_route *r = cfg_route_match(c, v[i].host, v[i].host ? strlen(v[i].host) : 0,
                                                    v[i].path, strlen(v[i].path));
        int got = r ? (int)(r - c->routes) : -1;
        if (got != v[i].route)
            fail_msg("%s %s: route %d, want %d", v[i].host, v[i].path, got, v[i].route);
    }
    cfg_unref(c);
    cfg_errors_free(&errs);
}

static void *ref_worker(void *arg)
{
    struct cfg *c = arg;
    for (int i = 0; i < 10000; i++)
        cfg_unref(cfg_ref(c));
    cfg_unref(c); /* the reference given to this thread */
    return NULL;
}

/* Generations: references taken and dropped on several threads; the last
 * drop frees (ASan reports a leak or a use after free otherwise). */
static void test_refcount(void **state)
{
    struct cfg *c = cfg_new_defaults();
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, ref_worker, cfg_ref(c)), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(atomic_load(&c->refs), 1);
    cfg_del(c);
    cfg_unref(NULL);
    cfg_del(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_durations),       cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_hostport),        cmocka_unit_test(test_names),
        cmocka_unit_test(test_error_list),      cmocka_unit_test(test_builder),
        cmocka_unit_test(test_file_then_flags), cmocka_unit_test(test_route_match),
        cmocka_unit_test(test_refcount),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
