/* tests/core/test_link_target.c — same-origin resolution of Link targets
 * for push (core/link_target.h): every accepted form, every refusal, and
 * the output bound. */
#include "testutil/testutil.h"

#include "core/err.h"
#include "core/link_target.h"

/* Resolves uri for a request https://Example.com/dir/page.html?x=1. */
static int resolve(const char *uri, char *out, size_t cap)
{
    return hb_link_target(hb_str_c(uri), HB_STR_LIT("https"), HB_STR_LIT("example.com"),
                          HB_STR_LIT("/dir/page.html?x=1"), out, cap);
}

static void ok(const char *uri, const char *want)
{
    char out[256];
    memset(out, 'Z', sizeof out);
    int n = resolve(uri, out, sizeof out);
    if (n < 0 || (size_t)n != strlen(want) || memcmp(out, want, (size_t)n) != 0)
        fail_msg("%s: got %d \"%.*s\", want \"%s\"", uri, n, n > 0 ? n : 0, out, want);
}

static void refused(const char *uri)
{
    char out[256];
    int n = resolve(uri, out, sizeof out);
    if (n != HB_EINVAL)
        fail_msg("%s: got %d (%.*s), want HB_EINVAL", uri, n, n > 0 ? n : 0, out);
}

static void test_accepted(void **st)
{
    (void)st;
    ok("/style.css", "/style.css");
    ok("/a/b.js?v=2", "/a/b.js?v=2");
    ok("/s.css#frag", "/s.css");
    ok("img.png", "/dir/img.png");
    ok("sub/img.png?q", "/dir/sub/img.png?q");
    ok("?page=2", "/dir/page.html?page=2");
    ok("https://example.com/x.css", "/x.css");
    ok("HTTPS://EXAMPLE.COM/x.css", "/x.css"); /* scheme and host ignore case */
    ok("https://example.com", "/");
    ok("https://example.com?q=1", "/?q=1");
    ok("//example.com/y.js", "/y.js");
    ok("/a..b/.c/d.", "/a..b/.c/d."); /* dots inside names are not dot segments */
    ok("/%2e%2ex/", "/%2e%2ex/");
}

static void test_refused(void **st)
{
    (void)st;
    refused("");
    refused("#only-a-fragment");
    refused("http://example.com/x.css");   /* another scheme */
    refused("https://other.test/x.css");   /* another host */
    refused("https://example.com:443/x");  /* spelt differently: not ours to equate */
    refused("https://u@example.com/x");    /* userinfo */
    refused("//other.test/y.js");
    refused("https:x.css");                /* a scheme without an authority */
    refused("mailto:a@example.com");
    refused("/a/../b");
    refused("/a/./b");
    refused("../b");
    refused("./b");
    refused("/a/%2e%2E/b");
    refused("/a/.%2e");
    refused("/a/..?q");
    refused("/..");
    refused("https://example.com//evil.test/x"); /* "//evil.test/x": a host to some */
    refused("/\x2f/evil.test/x");
    refused("/a b");                       /* bytes outside 0x21..0x7e */
    refused("/a\tb");
    refused("/caf\xc3\xa9");
    char out[64];
    /* A base that is not origin-form cannot anchor anything. */
    assert_int_equal(hb_link_target(HB_STR_LIT("x"), HB_STR_LIT("https"), HB_STR_LIT("e"),
                                    HB_STR_LIT("*"), out, sizeof out),
                     HB_EINVAL);
    assert_int_equal(hb_link_target(HB_STR_LIT("/x"), HB_STR_LIT("https"), HB_STR_LIT("e"),
                                    HB_STR_NULL, out, sizeof out),
                     HB_EINVAL);
    /* A base with a dot segment makes a relative target refused too. */
    assert_int_equal(hb_link_target(HB_STR_LIT("x"), HB_STR_LIT("https"), HB_STR_LIT("e"),
                                    HB_STR_LIT("/a/../b/"), out, sizeof out),
                     HB_EINVAL);
}

static void test_bound(void **st)
{
    (void)st;
    char out[12];
    memset(out, 'Z', sizeof out);
    /* "/dir/img.png" is 12 bytes: fits exactly; one more does not. */
    assert_int_equal(resolve("img.png", out, 12), 12);
    assert_memory_equal(out, "/dir/img.png", 12);
    memset(out, 'Z', sizeof out);
    assert_int_equal(resolve("img.pngx", out, 11), HB_ELIMIT);
    assert_int_equal(out[11], 'Z'); /* never past cap */
    assert_int_equal(resolve("/abcdefghijkl", out, 12), HB_ELIMIT);
    assert_int_equal(resolve("https://example.com?q", out, 1), HB_ELIMIT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepted),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
