/* tests/proxy/test_route_edit.c — route header edits and path rewrite. */
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "proxy/exchange/route_edit.h"
#include "testutil/testutil.h"

#define F(n, v) {n, v, sizeof(n) - 1, sizeof(v) - 1, 0}
#define H(n, v) {{n, {0}}, {v, {0}}}

static void test_edits(void **state)
{
    struct cfg_header set[] = {H("x-env", "prod")};
    struct cfg_header add[] = {H("x-a", "1"), H("x-env", "extra")};
    struct cfg_header rm[] = {H("x-drop", NULL)};
    struct cfg_header_ops ops = {set, 1, add, 2, rm, 1};
    struct hpack_field f[8] = {F("x-drop", "1"), F("x-env", "dev"), F("keep", "k"),
                               F("x-env", "dev2"), F("x-drop", "2")};
    size_t n = 5;
    assert_int_equal(px_route_edit_extra(&ops), 3);
    assert_int_equal(px_route_edit_fields(&ops, f, &n, 8), 0);
    assert_int_equal(n, 4);
    const char *want[][2] = {{"keep", "k"}, {"x-env", "prod"}, {"x-a", "1"}, {"x-env", "extra"}};
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(f[i].name_len, strlen(want[i][0]));
        assert_memory_equal(f[i].name, want[i][0], f[i].name_len);
        assert_int_equal(f[i].value_len, strlen(want[i][1]));
        assert_memory_equal(f[i].value, want[i][1], f[i].value_len);
    }
    /* Not enough room: HB_ELIMIT. */
    struct hpack_field g[2] = {F("a", "1"), F("b", "2")};
    n = 2;
    assert_int_equal(px_route_edit_fields(&ops, g, &n, 2), HB_ELIMIT);
    /* No edits: untouched. */
    struct cfg_header_ops none = {0};
    assert_int_equal(px_route_edit_fields(&none, g, &n, 2), 0);
    assert_int_equal(n, 2);
}

static void test_rewrite(void **state)
{
    struct cfg_route r = {.path_match = CFG_PATH_PREFIX};
    r.path.s = "/api/";
    r.rewrite_prefix.s = "/";
    struct hb_arena a;
    hb_arena_init(&a, NULL, 0, 0, 0);
    struct hb_str out;
    assert_int_equal(px_route_rewrite_path(&r, HB_STR_LIT("/api/x?y=1"), &a, &out), 0);
    assert_int_equal(out.len, 6);
    assert_memory_equal(out.p, "/x?y=1", 6);
    r.rewrite_prefix.s = "/v2/api/";
    assert_int_equal(px_route_rewrite_path(&r, HB_STR_LIT("/api/"), &a, &out), 0);
    assert_int_equal(out.len, 8);
    assert_memory_equal(out.p, "/v2/api/", 8);
    r.rewrite_prefix.s = NULL; /* no rewrite: the same view */
    struct hb_str in = HB_STR_LIT("/api/z");
    assert_int_equal(px_route_rewrite_path(&r, in, &a, &out), 0);
    assert_ptr_equal(out.p, in.p);
    hb_arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edits),
        cmocka_unit_test(test_rewrite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
