/* tests/core/test_link_hdr.c — RFC 8288 link-value parsing (core/link_hdr.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "core/link_hdr.h"

static bool view_is(struct hb_str s, const char *want)
{
    return s.len == strlen(want) && memcmp(s.p, want, s.len) == 0;
}

static void one_preload(void **state)
{
    (void)state;
    const char *v = "</style.css>; rel=preload; as=style";
    size_t pos = 0;
    struct hb_link l;
    assert_int_equal(hb_link_next(v, strlen(v), &pos, &l), 1);
    assert_true(view_is(l.uri, "/style.css"));
    assert_true(view_is(l.raw, v));
    assert_int_equal(l.rel, HB_LINK_REL_PRELOAD);
    assert_int_equal(l.as, HB_LINK_AS_STYLE);
    assert_false(l.nopush);
    assert_int_equal(hb_link_next(v, strlen(v), &pos, &l), 0);
}

/* The "as" parameter: the first one counts, case is ignored, a quoted
 * value is read inside its quotes, an unknown or escaped value is OTHER,
 * a link without it has 0. */
static void as_destination(void **state)
{
    (void)state;
    static const struct {
        const char *v;
        unsigned as;
    } cases[] = {
        {"</f.ttf>; rel=preload; as=font; crossorigin", HB_LINK_AS_FONT},
        {"</a.js>; as=\"Script\"; rel=preload", HB_LINK_AS_SCRIPT},
        {"</h.png>; rel=preload; as = image ; as=font", HB_LINK_AS_IMAGE},
        {"</x>; rel=preload; as=hologram", HB_LINK_AS_OTHER},
        {"</x>; rel=preload; as=\"s\\tyle\"", HB_LINK_AS_OTHER},
        {"</x>; rel=preload; as", HB_LINK_AS_OTHER},
        {"</x>; rel=preload", 0},
        {"<https://cdn.test>; rel=preconnect", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t pos = 0;
        struct hb_link l;
        assert_int_equal(hb_link_next(cases[i].v, strlen(cases[i].v), &pos, &l), 1);
        if (l.as != cases[i].as)
            fprintf(stderr, "%s: as %#x, want %#x\n", cases[i].v, l.as, cases[i].as);
        assert_int_equal(l.as, cases[i].as);
    }
    /* Names and bits round-trip; unknown names have no bit. */
    for (unsigned b = 1; b < HB_LINK_AS_OTHER; b <<= 1) {
        const char *n = hb_link_as_name(b);
        assert_non_null(n);
        assert_int_equal(hb_link_as_bit(hb_str_make(n, strlen(n))), b);
    }
    assert_string_equal(hb_link_as_name(HB_LINK_AS_OTHER), "other");
    assert_null(hb_link_as_name(HB_LINK_AS_OTHER << 1));
    assert_int_equal(hb_link_as_bit(HB_STR_LIT("other")), 0);
    assert_int_equal(hb_link_as_bit(HB_STR_LIT("FONT")), HB_LINK_AS_FONT);
    assert_int_equal(hb_link_as_bit(HB_STR_LIT("")), 0);
}

static void several_with_quotes(void **state)
{
    (void)state;
    /* A comma inside quotes or <...> does not separate; empty elements and
     * OWS are skipped; the rel value is a space-separated, case-blind list. */
    const char *v = " , </a,b.js>; rel=\"PreLoad nothing\"; title=\"x, \\\"y\\\"\" ,,"
                    "<https://cdn.example>;rel=preconnect;crossorigin , "
                    "</c.css> ; rel = preload ; nopush";
    size_t len = strlen(v), pos = 0;
    struct hb_link l;
    assert_int_equal(hb_link_next(v, len, &pos, &l), 1);
    assert_true(view_is(l.uri, "/a,b.js"));
    assert_true(view_is(l.raw, "</a,b.js>; rel=\"PreLoad nothing\"; title=\"x, \\\"y\\\"\""));
    assert_int_equal(l.rel, HB_LINK_REL_PRELOAD | HB_LINK_REL_OTHER);
    assert_int_equal(hb_link_next(v, len, &pos, &l), 1);
    assert_true(view_is(l.uri, "https://cdn.example"));
    assert_true(view_is(l.raw, "<https://cdn.example>;rel=preconnect;crossorigin"));
    assert_int_equal(l.rel, HB_LINK_REL_PRECONNECT);
    assert_int_equal(hb_link_next(v, len, &pos, &l), 1);
    assert_true(view_is(l.uri, "/c.css"));
    assert_true(view_is(l.raw, "</c.css> ; rel = preload ; nopush"));
    assert_int_equal(l.rel, HB_LINK_REL_PRELOAD);
    assert_true(l.nopush);
    assert_int_equal(hb_link_next(v, len, &pos, &l), 0);
}

static void first_rel_counts(void **state)
{
    (void)state;
    const char *v = "</x>; rel=stylesheet; rel=preload";
    size_t pos = 0;
    struct hb_link l;
    assert_int_equal(hb_link_next(v, strlen(v), &pos, &l), 1);
    assert_int_equal(l.rel, HB_LINK_REL_OTHER);
    v = "</x>; anchor=\"#a\"";
    pos = 0;
    assert_int_equal(hb_link_next(v, strlen(v), &pos, &l), 1);
    assert_int_equal(l.rel, 0);
}

static void malformed_skipped(void **state)
{
    (void)state;
    /* Each bad element is reported, and the next good one still parses. */
    static const char *const bad[] = {
        "/no-angle.css; rel=preload",   "</unterminated; rel=preload", "</a b>; rel=preload",
        "</a>; rel=\"open",             "</a>; =x",                    "</a>; rel=",
        "</a> junk",                    "</a>; rel=\"bad\\\x01\"",     "</a>; rel=pre\x01load",
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        char v[128];
        snprintf(v, sizeof v, "%s, </ok>; rel=preload", bad[k]);
        size_t len = strlen(v), pos = 0;
        struct hb_link l;
        int rc = hb_link_next(v, len, &pos, &l);
        if (rc == HB_ESYNTAX) {
            assert_true(pos > 0);
            rc = hb_link_next(v, len, &pos, &l);
            /* an unterminated < or " swallows the rest */
            if (k == 1 || k == 3) {
                assert_int_equal(rc, 0);
                continue;
            }
        } else {
            fail_msg("case %zu parsed: %s", k, v);
        }
        assert_int_equal(rc, 1);
        assert_true(view_is(l.uri, "/ok"));
        assert_int_equal(hb_link_next(v, len, &pos, &l), 0);
    }
}

static void empty_and_bounds(void **state)
{
    (void)state;
    size_t pos = 0;
    struct hb_link l;
    assert_int_equal(hb_link_next("", 0, &pos, &l), 0);
    pos = 0;
    assert_int_equal(hb_link_next(" ,\t, ", 5, &pos, &l), 0);
    assert_int_equal(pos, 5);
    /* len, not NUL, ends the value: "</a>" cut before '>' is malformed. */
    pos = 0;
    assert_int_equal(hb_link_next("</a>; rel=preload", 3, &pos, &l), HB_ESYNTAX);
    assert_int_equal(pos, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_preload),
        cmocka_unit_test(as_destination),
        cmocka_unit_test(several_with_quotes),
        cmocka_unit_test(first_rel_counts),
        cmocka_unit_test(malformed_skipped),
        cmocka_unit_test(empty_and_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
