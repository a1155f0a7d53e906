/* tests/core/test_cookie.c — one cookie out of a Cookie field (core/cookie.h). */
#include "testutil/testutil.h"

#include "core/cookie.h"

static bool find(const char *field, const char *name, const char **want)
{
    struct hb_str v = HB_STR_LIT("untouched");
    bool ok = hb_cookie_find(hb_str_c(field), hb_str_c(name), &v);
    if (ok && *want) {
        assert_int_equal(v.len, strlen(*want));
        assert_memory_equal(v.p, *want, v.len);
    }
    return ok;
}

static void test_find(void **st)
{
    (void)st;
    const char *w;
    w = "b1";
    assert_true(find("a=1; b=b1; c=3", "b", &w));
    w = "1";
    assert_true(find("a=1", "a", &w));
    w = "x y"; /* spaces inside a value stay, around it go */
    assert_true(find("  a =  x y ;b=2", "a", &w));
    w = "q"; /* one pair of quotes removed */
    assert_true(find("a=\"q\"", "a", &w));
    w = ""; /* empty value */
    assert_true(find("a=; b=2", "a", &w));
    w = "first"; /* the first one wins */
    assert_true(find("a=first; a=second", "a", &w));
    w = "v=w"; /* '=' inside the value */
    assert_true(find("flag; a=v=w", "a", &w));
    w = NULL;
    assert_false(find("A=1; ab=2; b=3", "a", &w)); /* case-sensitive, whole name */
    assert_false(find("", "a", &w));
    assert_false(find(";;;", "a", &w));
    assert_false(find("a", "a", &w)); /* no '=' */
    struct hb_str v = HB_STR_LIT("untouched");
    assert_false(hb_cookie_find(hb_str_c("b=1"), hb_str_c("a"), &v));
    assert_int_equal(v.len, 9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
