/* tests/proxy/test_forward_headers.c — the fields forwarded to a backend. */
#include <stdio.h>
#include <string.h>

#include "config/cfg.h"
#include "core/err.h"
#include "proxy/exchange/forward_headers.h"
#include "testutil/testutil.h"

#define F(n, v) {n, v, sizeof(n) - 1, sizeof(v) - 1, 0}

static size_t build(const struct hpack_field *in, size_t nin, const struct px_fwd_opts *o,
                    struct hb_arena *a, struct hpack_field *out, size_t cap)
{
    struct hb_msg m = {.fields = (struct hpack_field *)in, .nfields = (uint32_t)nin};
    size_t n = 0;
    assert_int_equal(px_fwd_build(&m, o, a, out, cap, &n), 0);
    return n;
}

/* "name: value" of out[i], for compact assertions. */
static const char *fmt(const struct hpack_field *f)
{
    static char buf[512];
    snprintf(buf, sizeof buf, "%.*s: %.*s", (int)f->name_len, f->name, (int)f->value_len,
             f->value);
    return buf;
}

static void test_cookie_join_and_forwarding(void **state)
{
    struct hpack_field in[] = {
        F("accept", "*/*"),          F("cookie", "a=1"),
        F("x-forwarded-for", "10.0.0.1"), F("cookie", "b=2"),
        F("x-forwarded-proto", "http"), F("cookie", "c=3"),
    };
    struct px_fwd_opts o = {.keep_client_xff = true, .x_forwarded_for = true, .x_forwarded_proto = true,
                            .forwarded = true, .via = true, .proto = "https",
                            .client_addr = "192.0.2.7"};
    struct hb_arena a;
    hb_arena_init(&a, NULL, 0, 0, 0);
    struct hpack_field out[16];
    size_t n = build(in, 6, &o, &a, out, 16);
    assert_int_equal(n, 6);
    assert_string_equal(fmt(&out[0]), "accept: */*");
    assert_string_equal(fmt(&out[1]), "cookie: a=1; b=2; c=3");
    assert_string_equal(fmt(&out[2]), "x-forwarded-for: 10.0.0.1, 192.0.2.7");
    assert_string_equal(fmt(&out[3]), "x-forwarded-proto: https");
    assert_string_equal(fmt(&out[4]), "forwarded: for=192.0.2.7;proto=https");
    assert_string_equal(fmt(&out[5]), "via: 2 h2bridge");
    hb_arena_free(&a);
}

static void test_options_off_and_ipv6(void **state)
{
    struct hpack_field in[] = {F("x-forwarded-proto", "http"), F("forwarded", "for=1.2.3.4"),
                               F("via", "1.1 other")};
    struct px_fwd_opts o = {.keep_client_xff = true, .forwarded = true, .via = true, .proto = "https",
                            .client_addr = "2001:db8::1"};
    struct hb_arena a;
    hb_arena_init(&a, NULL, 0, 0, 0);
    struct hpack_field out[8];
    size_t n = build(in, 3, &o, &a, out, 8);
    assert_int_equal(n, 3);
    assert_string_equal(fmt(&out[0]), "x-forwarded-proto: http"); /* kept: option off */
    assert_string_equal(fmt(&out[1]), "forwarded: for=1.2.3.4, for=\"[2001:db8::1]\";proto=https");
    assert_string_equal(fmt(&out[2]), "via: 1.1 other, 2 h2bridge");
    hb_arena_free(&a);
}

/* RFC 9110 §7.6.3: Via names the version the request was received in. */
static void test_via_names_the_client_version(void **state)
{
    struct hpack_field in[] = {F("accept", "*/*")};
    struct px_fwd_opts o = {.via = true, .proto = "https", .client_addr = "192.0.2.7"};
    const struct {
        int version;
        const char *want;
    } cases[] = {{0, "via: 2 h2bridge"}, {11, "via: 1.1 h2bridge"}, {10, "via: 1.0 h2bridge"}};
    for (size_t i = 0; i < 3; i++) {
        struct hb_msg m = {.fields = in, .nfields = 1, .version = cases[i].version};
        struct hb_arena a;
        hb_arena_init(&a, NULL, 0, 0, 0);
        struct hpack_field out[4];
        size_t n = 0;
        assert_int_equal(px_fwd_build(&m, &o, &a, out, 4, &n), 0);
        assert_int_equal(n, 2);
        assert_string_equal(fmt(&out[1]), cases[i].want);
        hb_arena_free(&a);
    }
}

static void test_limits(void **state)
{
    struct hpack_field in[] = {F("a", "1"), F("b", "2"), F("cookie", "x")};
    struct hb_msg m = {.fields = in, .nfields = 3};
    struct px_fwd_opts o = {.keep_client_xff = true, .x_forwarded_for = true, .proto = "https",
                            .client_addr = "1.2.3.4"};
    struct hpack_field out[8];
    size_t n;
    struct hb_arena a;
    hb_arena_init(&a, NULL, 0, 0, 0);
    assert_true(px_fwd_fields_bound(&m) >= 5);
    assert_int_equal(px_fwd_build(&m, &o, &a, out, 2, &n), HB_ELIMIT);
    hb_arena_free(&a);
    /* An arena with no room: the joined values cannot be made. */
    char tiny[16];
    hb_arena_init(&a, tiny, sizeof tiny, 16, 1);
    assert_int_equal(px_fwd_build(&m, &o, &a, out, 8, &n), HB_ENOMEM);
    hb_arena_free(&a);
}

/* x_forwarded_for_mode replace (or an untrusted client in trust mode):
 * the client's X-Forwarded-For and Forwarded are dropped, ours alone go. A
 * trusted proxy's X-Forwarded-Proto passes as it came. */
static void test_replace_and_trusted_proto(void **state)
{
    (void)state;
    struct hpack_field in[] = {F("x-forwarded-for", "6.6.6.6"), F("forwarded", "for=6.6.6.6"),
                               F("x-forwarded-proto", "http")};
    struct px_fwd_opts o = {.x_forwarded_for = true, .x_forwarded_proto = true,
                            .forwarded = true, .proto = "https", .client_addr = "192.0.2.7"};
    char initial[1024];
    struct hb_arena a;
    hb_arena_init(&a, initial, sizeof initial, 1024, 65536);
    struct hpack_field out[16];
    size_t n = build(in, 3, &o, &a, out, 16);
    assert_int_equal(n, 3);
    assert_string_equal(fmt(&out[0]), "x-forwarded-for: 192.0.2.7");
    assert_string_equal(fmt(&out[1]), "x-forwarded-proto: https");
    assert_string_equal(fmt(&out[2]), "forwarded: for=192.0.2.7;proto=https");
    o.keep_client_xff = o.keep_client_xfp = true; /* a trusted proxy */
    n = build(in, 3, &o, &a, out, 16);
    assert_int_equal(n, 3);
    assert_string_equal(fmt(&out[0]), "x-forwarded-proto: http");
    assert_string_equal(fmt(&out[1]), "x-forwarded-for: 6.6.6.6, 192.0.2.7");
    assert_string_equal(fmt(&out[2]), "forwarded: for=6.6.6.6, for=192.0.2.7;proto=https");
    hb_arena_free(&a);
}

/* The rightmost untrusted address of X-Forwarded-For, as nginx's realip. */
static void test_client_from_xff(void **state)
{
    (void)state;
    struct cfg_networks nets = {0};
    struct hb_cidr v[2];
    assert_int_equal(hb_cidr_parse("10.0.0.0/8", 10, &v[0]), 0);
    assert_int_equal(hb_cidr_parse("2001:db8::/32", 13, &v[1]), 0);
    nets.v = v;
    nets.n = 2;
    struct {
        const char *a, *b, *want;
    } cases[] = {
        {"203.0.113.9, 10.0.0.2", NULL, "203.0.113.9"},
        {"198.51.100.1, 203.0.113.9, 10.1.1.1,10.0.0.2", NULL, "203.0.113.9"},
        {"10.0.0.5, 10.0.0.2", NULL, "10.0.0.5"},          /* all trusted: the leftmost */
        {"203.0.113.9", "10.0.0.3", "203.0.113.9"},        /* two fields: the last one first */
        {"198.51.100.1", "2001:db8::1, 2001:db9::7", "2001:db9::7"},
        {"unknown, 10.0.0.1", NULL, "unknown"},            /* not an address: that hop's word */
        {" , 203.0.113.9 ,  ", NULL, "203.0.113.9"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct hpack_field f[2] = {{"x-forwarded-for", cases[i].a, 15, (uint32_t)strlen(cases[i].a), 0},
                                   {"x-forwarded-for", cases[i].b, 15,
                                    cases[i].b ? (uint32_t)strlen(cases[i].b) : 0, 0}};
        struct hb_msg m = {.fields = f, .nfields = cases[i].b ? 2 : 1};
        struct hb_str got = px_fwd_client_from_xff(&m, &nets);
        assert_int_equal(got.len, strlen(cases[i].want));
        assert_memory_equal(got.p, cases[i].want, got.len);
    }
    struct hb_msg none = {0};
    assert_int_equal(px_fwd_client_from_xff(&none, &nets).len, 0);
}

/* RFC 8470 §5.1: Early-Data: 1 is added to a request from early data, and
 * a client's own Early-Data is kept (never removed, early or not). */
static void test_early_data(void **state)
{
    (void)state;
    struct hpack_field in[] = {F("accept", "*/*")};
    struct hpack_field theirs[] = {F("Early-Data", "1")};
    struct px_fwd_opts o = {.proto = "https", .client_addr = "192.0.2.7", .early_data = true};
    struct hb_arena a;
    hb_arena_init(&a, NULL, 0, 0, 0);
    struct hpack_field out[16];
    size_t n = build(in, 1, &o, &a, out, 16);
    assert_int_equal(n, 2);
    assert_string_equal(fmt(&out[1]), "early-data: 1");
    n = build(theirs, 1, &o, &a, out, 16);
    assert_int_equal(n, 1);
    assert_string_equal(fmt(&out[0]), "Early-Data: 1");
    o.early_data = false;
    n = build(theirs, 1, &o, &a, out, 16);
    assert_int_equal(n, 1);
    assert_string_equal(fmt(&out[0]), "Early-Data: 1");
    n = build(in, 1, &o, &a, out, 16);
    assert_int_equal(n, 1);
    hb_arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cookie_join_and_forwarding),
        cmocka_unit_test(test_options_off_and_ipv6),
        cmocka_unit_test(test_via_names_the_client_version),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_replace_and_trusted_proto),
        cmocka_unit_test(test_client_from_xff),
        cmocka_unit_test(test_early_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
