/* tests/config/test_cfg_balance.c — upstreams.*.balance (least_request,
 * consistent_hash), consistent_hash and sticky_cookie: defaults, every key,
 * and exact errors at line:column. */
#include "cfg_test.h"

#include <stdio.h>

#include "config/cfg.h"
#include "core/balance.h"

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
                                "  v: {servers: [\"127.0.0.1:9001\"], balance: consistent_hash}\n"
                                "  w: {servers: [\"127.0.0.1:9002\"], balance: least_request,\n"
                                "      sticky_cookie: }\n",
                         &e);
    assert_non_null(c);
    const struct cfg_upstream *u = cfg_find_upstream(c, "u");
    assert_string_equal(u->balance.s, "round_robin");
    assert_int_equal(u->consistent_hash.mark.line, 0);
    assert_false(u->sticky_cookie.enabled);
    const struct cfg_upstream *v = cfg_find_upstream(c, "v");
    assert_string_equal(v->balance.s, "consistent_hash");
    assert_int_equal(v->consistent_hash.key, CFG_HASH_CLIENT_ADDRESS);
    assert_null(v->consistent_hash.name.s);
    assert_int_equal(v->consistent_hash.table_size, HB_MAGLEV_DEFAULT_SIZE);
    const struct cfg_upstream *w = cfg_find_upstream(c, "w");
    assert_string_equal(w->balance.s, "least_request");
    const struct cfg_sticky *s = &w->sticky_cookie;
    assert_true(s->enabled);
    assert_string_equal(s->name.s, "h2bridge_server");
    assert_string_equal(s->path.s, "/");
    assert_null(s->domain.s);
    assert_int_equal(s->max_age_ms, 0);
    assert_true(s->http_only);
    assert_false(s->secure);
    assert_int_equal(s->same_site, CFG_SAME_SITE_LAX);
    cfg_unref(c);
    cfg_errors_free(&e);
}

static void test_every_key(void **st)
{
    (void)st;
    struct cfg_errors e;
    struct cfg *c = load(LISTEN "  h:\n"
                                "    servers: [\"h:1\", \"h:2\"]\n"
                                "    balance: consistent_hash\n"
                                "    consistent_hash: {key: header, name: X-Tenant-ID, "
                                "table_size: 101}\n"
                                "  k:\n"
                                "    servers: [\"h:1\"]\n"
                                "    balance: consistent_hash\n"
                                "    consistent_hash: {key: cookie, name: SessionID}\n"
                                "  p:\n"
                                "    servers: [\"h:1\"]\n"
                                "    balance: consistent_hash\n"
                                "    consistent_hash: {key: path}\n"
                                "  s:\n"
                                "    servers: [\"h:1\"]\n"
                                "    sticky_cookie:\n"
                                "      name: SRV\n"
                                "      path: /app\n"
                                "      domain: example.com\n"
                                "      max_age: 1h\n"
                                "      http_only: false\n"
                                "      secure: true\n"
                                "      same_site: none\n",
                         &e);
    assert_non_null(c);
    const struct cfg_consistent_hash *h = &cfg_find_upstream(c, "h")->consistent_hash;
    assert_int_equal(h->key, CFG_HASH_HEADER);
    assert_string_equal(h->name.s, "x-tenant-id"); /* lowercased: HTTP/2 field names */
    assert_int_equal(h->table_size, 101);
    h = &cfg_find_upstream(c, "k")->consistent_hash;
    assert_int_equal(h->key, CFG_HASH_COOKIE);
    assert_string_equal(h->name.s, "SessionID"); /* cookie names keep their case */
    assert_int_equal(h->table_size, 65537);
    assert_int_equal(cfg_find_upstream(c, "p")->consistent_hash.key, CFG_HASH_PATH);
    const struct cfg_sticky *s = &cfg_find_upstream(c, "s")->sticky_cookie;
    assert_true(s->enabled);
    assert_string_equal(s->name.s, "SRV");
    assert_string_equal(s->path.s, "/app");
    assert_string_equal(s->domain.s, "example.com");
    assert_int_equal(s->max_age_ms, 3600000);
    assert_false(s->http_only);
    assert_true(s->secure);
    assert_int_equal(s->same_site, CFG_SAME_SITE_NONE);
    cfg_unref(c);
    cfg_errors_free(&e);
}

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
    if (e.n != i) {
        char buf[512];
        cfg_error_format(&e.v[i], buf, sizeof buf);
        fprintf(stderr, "extra: %s\n", buf);
    }
    assert_int_equal(e.n, i);
    cfg_errors_free(&e);
}

static void test_errors(void **st)
{
    (void)st;
    expect_errors(LISTEN "  u:\n"
                         "    servers: [\"h:1\"]\n"
                         "    balance: maglev\n",
                  (const char *const[]){
                      "t.yaml:6:14: expected a balancing policy (round_robin, least_conn, "
                      "random, least_request, consistent_hash) for upstreams.u.balance, found "
                      "\"maglev\"",
                      NULL});
    expect_errors(LISTEN "  u:\n"
                         "    servers: [\"h:1\"]\n"
                         "    balance: consistent_hash\n"
                         "    consistent_hash:\n"
                         "      key: ip\n"
                         "      name: \"a b\"\n"
                         "      table_size: 65536\n"
                         "      tabel_size: 3\n",
                  (const char *const[]){
                      "t.yaml:8:12: expected a hash key (client_address, path, header, cookie) "
                      "for upstreams.u.consistent_hash.key, found \"ip\"",
                      "t.yaml:9:13: expected a header or cookie name (letters, digits, \"-\", "
                      "\"_\"; up to 64 bytes) for upstreams.u.consistent_hash.name, found \"a b\"",
                      "t.yaml:10:19: expected a prime number from 101 to 1000003 (like 65537) "
                      "for upstreams.u.consistent_hash.table_size, found \"65536\"",
                      "t.yaml:11:7: expected a known key in upstreams.u.consistent_hash (did you "
                      "mean \"table_size\"?), found \"tabel_size\"",
                      NULL});
    expect_errors(LISTEN "  u:\n"
                         "    servers: [\"h:1\"]\n"
                         "    balance: consistent_hash\n"
                         "    consistent_hash: {key: header}\n"
                         "  v:\n"
                         "    servers: [\"h:1\"]\n"
                         "    balance: consistent_hash\n"
                         "    consistent_hash: {key: path, name: x}\n"
                         "  w:\n"
                         "    servers: [\"h:1\"]\n"
                         "    consistent_hash: {table_size: 1000033}\n",
                  (const char *const[]){
                      "t.yaml:7:22: expected consistent_hash.name (the header's name) with "
                      "key: header",
                      "t.yaml:11:40: expected no consistent_hash.name with key: path (a name is "
                      "for header or cookie), found \"x\"",
                      "t.yaml:14:22: expected balance: consistent_hash in upstream \"w\" with "
                      "consistent_hash:, found balance: round_robin",
                      "t.yaml:14:35: expected a prime number from 101 to 1000003 (like 65537) "
                      "for upstreams.w.consistent_hash.table_size, found \"1000033\"",
                      NULL});
    {
        /* A table smaller than the server list cannot give each a slot. */
        char y[8192];
        int o = snprintf(y, sizeof y, LISTEN "  u:\n    balance: consistent_hash\n"
                                             "    consistent_hash: {table_size: 101}\n"
                                             "    servers:\n");
        for (int i = 0; i < 102; i++)
            o += snprintf(y + o, sizeof y - (size_t)o, "      - \"h:%d\"\n", i + 1);
        expect_errors(y, (const char *const[]){
                             "t.yaml:6:22: expected consistent_hash.table_size (101) at least "
                             "the number of servers (102) in upstream \"u\"",
                             NULL});
    }
    /* The section without the policy is an error, not a key ignored. */
    expect_errors(LISTEN "  w:\n"
                         "    servers: [\"h:1\"]\n"
                         "    balance: least_conn\n"
                         "    consistent_hash: {key: path}\n",
                  (const char *const[]){
                      "t.yaml:7:22: expected balance: consistent_hash in upstream \"w\" with "
                      "consistent_hash:, found balance: least_conn",
                      NULL});
    expect_errors(LISTEN "  s:\n"
                         "    servers: [\"h:1\"]\n"
                         "    sticky_cookie:\n"
                         "      name: \"my cookie\"\n"
                         "      path: app\n"
                         "      domain: \"a;b\"\n"
                         "      max_age: 2000h\n"
                         "      http_only: maybe\n"
                         "      same_site: loose\n",
                  (const char *const[]){
                      "t.yaml:7:13: expected a cookie name (letters, digits, \"-\", \"_\"; up to "
                      "64 bytes) for upstreams.s.sticky_cookie.name, found \"my cookie\"",
                      "t.yaml:8:13: expected a cookie path starting with / (visible ASCII, no "
                      "spaces, \";\" or \",\") for upstreams.s.sticky_cookie.path, found \"app\"",
                      "t.yaml:9:15: expected a cookie domain (visible ASCII, no spaces, \";\" or "
                      "\",\") for upstreams.s.sticky_cookie.domain, found \"a;b\"",
                      "t.yaml:10:16: expected a duration from 0ms to 1000h (like \"250ms\", "
                      "\"5s\", \"1m\") for upstreams.s.sticky_cookie.max_age, found \"2000h\"",
                      "t.yaml:11:18: expected a boolean (true or false) for "
                      "upstreams.s.sticky_cookie.http_only, found \"maybe\"",
                      "t.yaml:12:18: expected a SameSite value (lax, strict, none, omit) for "
                      "upstreams.s.sticky_cookie.same_site, found \"loose\"",
                      NULL});
    expect_errors(LISTEN "  s:\n"
                         "    servers: [\"h:1\"]\n"
                         "    sticky_cookie: {same_site: none}\n",
                  (const char *const[]){
                      "t.yaml:6:20: expected sticky_cookie.secure: true with same_site: none",
                      NULL});
    expect_errors(LISTEN "  s: {servers: [\"h:1\"], sticky_cookie: [x]}\n",
                  (const char *const[]){
                      "t.yaml:4:40: expected a mapping (name, path, max_age, ...) for "
                      "upstreams.s.sticky_cookie, found a sequence",
                      NULL});
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_every_key),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
