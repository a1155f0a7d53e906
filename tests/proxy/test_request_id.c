/* tests/proxy/test_request_id.c — request ids and traceparent
 * (proxy/exchange/request_id.h). */
#include "testutil/testutil.h"

#include <stdlib.h>
#include <string.h>

#include "proxy/exchange/request_id.h"

static int strcmp_fixed(const void *a, const void *b)
{
    return memcmp(a, b, PX_RID_LEN);
}

static struct hb_str S(const char *s)
{
    return hb_str_c(s);
}

static void test_ids_unique_and_hex(void **st)
{
    (void)st;
    struct px_rid_gen a, b;
    px_rid_init(&a, 1);
    px_rid_init(&b, 2);
    enum { N = 20000 };
    static char ids[2 * N][PX_RID_LEN];
    for (int i = 0; i < N; i++) {
        px_rid_next(&a, ids[i]);
        px_rid_next(&b, ids[N + i]);
    }
    for (int i = 0; i < 2 * N; i++)
        assert_true(px_rid_is_trace_id(hb_str_make(ids[i], PX_RID_LEN)));
    /* No repeats within or across the two workers. */
    qsort(ids, 2 * N, PX_RID_LEN, strcmp_fixed);
    for (int i = 1; i < 2 * N; i++)
        assert_true(memcmp(ids[i - 1], ids[i], PX_RID_LEN) != 0);
    /* Same seed, same sequence (a worker's ids depend on its key only). */
    struct px_rid_gen c, d;
    px_rid_init(&c, 7);
    px_rid_init(&d, 7);
    char x[PX_RID_LEN], y[PX_RID_LEN];
    px_rid_next(&c, x);
    px_rid_next(&d, y);
    assert_memory_equal(x, y, PX_RID_LEN);
    px_rid_next(&c, x);
    assert_memory_not_equal(x, y, PX_RID_LEN);
}

static void test_acceptable(void **st)
{
    (void)st;
    assert_true(px_rid_acceptable(S("abc-123")));
    assert_true(px_rid_acceptable(S("!~")));
    assert_false(px_rid_acceptable(S("")));
    assert_false(px_rid_acceptable(S("a b")));
    assert_false(px_rid_acceptable(S("a\nb")));
    assert_false(px_rid_acceptable(hb_str_make("a\x7f", 2)));
    assert_false(px_rid_acceptable(hb_str_make("\xc3\xa9", 2)));
    char big[PX_RID_CLIENT_MAX + 1];
    memset(big, 'a', sizeof big);
    assert_true(px_rid_acceptable(hb_str_make(big, PX_RID_CLIENT_MAX)));
    assert_false(px_rid_acceptable(hb_str_make(big, PX_RID_CLIENT_MAX + 1)));
}

static void test_traceparent(void **st)
{
    (void)st;
    /* The W3C specification's example, and its variations. */
    assert_true(px_traceparent_valid(S("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")));
    assert_true(px_traceparent_valid(S("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")));
    assert_true(px_traceparent_valid(S("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")));
    assert_true(
        px_traceparent_valid(S("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra")));
    const char *bad[] = {
        "",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", /* 00: exact size */
        "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",       /* version ff */
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",       /* zero trace id */
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",       /* zero parent id */
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",       /* uppercase */
        "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
        "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(px_traceparent_valid(S(bad[i])));
    char out[PX_TRACEPARENT_LEN];
    px_traceparent_make("4bf92f3577b34da6a3ce929d0e0e4736", 0x00f067aa0ba902b7ull, out);
    assert_memory_equal(out, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                        PX_TRACEPARENT_LEN);
    /* What we make is valid, from generated ids and parent ids. */
    struct px_rid_gen g;
    px_rid_init(&g, 42);
    for (int i = 0; i < 1000; i++) {
        char id[PX_RID_LEN];
        px_rid_next(&g, id);
        px_traceparent_make(id, px_rid_next64(&g), out);
        assert_true(px_traceparent_valid(hb_str_make(out, PX_TRACEPARENT_LEN)));
    }
    assert_false(px_rid_is_trace_id(S("00000000000000000000000000000000")));
    assert_false(px_rid_is_trace_id(S("4bf92f3577b34da6a3ce929d0e0e473")));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ids_unique_and_hex),
        cmocka_unit_test(test_acceptable),
        cmocka_unit_test(test_traceparent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
