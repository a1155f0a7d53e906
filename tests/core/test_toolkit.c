/* Unit tests for the core/ toolkit: err, str, buf, arena, list, log, time. */
#include "testutil/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/list.h"
#include "core/log.h"
#include "core/str.h"
#include "core/time.h"

static void test_err_names(void **state)
{
    assert_string_equal(hb_err_name(HB_ENOMEM), "NOMEM");
    assert_string_equal(hb_err_message(HB_ENOMEM), "out of memory");
    assert_string_equal(hb_err_name(HB_EUNSUPPORTED), "UNSUPPORTED");
    assert_string_equal(hb_err_name(0), "OK");
    assert_string_equal(hb_err_name(-1), "UNKNOWN");
    assert_string_equal(hb_err_name(12345), "UNKNOWN");
    assert_true(HB_ENOMEM < 0 && HB_EUNSUPPORTED < 0);
    assert_int_not_equal(HB_ENOMEM, HB_EAGAIN);
}

static void test_str(void **state)
{
    assert_true(hb_str_eq(HB_STR_LIT("abc"), hb_str_c("abc")));
    assert_false(hb_str_eq(HB_STR_LIT("abc"), hb_str_c("abd")));
    assert_true(hb_str_eq(HB_STR_NULL, hb_str_c("")));
    assert_true(hb_str_eq_lower(HB_STR_LIT("Content-Length"), HB_STR_LIT("content-length")));
    assert_false(hb_str_eq_lower(HB_STR_LIT("Content-Lengt"), HB_STR_LIT("content-length")));
    struct hb_str t = hb_str_trim_ows(HB_STR_LIT(" \t x y\t "));
    assert_int_equal(t.len, 3);
    assert_memory_equal(t.p, "x y", 3);
    assert_int_equal(hb_str_trim_ows(HB_STR_LIT("  ")).len, 0);

    unsigned long long v;
    assert_int_equal(hb_str_to_u64(HB_STR_LIT("1234"), ~0ULL, &v), 0);
    assert_int_equal(v, 1234);
    assert_int_equal(hb_str_to_u64(HB_STR_LIT("18446744073709551615"), ~0ULL, &v), 0);
    assert_true(v == ~0ULL);
    assert_int_equal(hb_str_to_u64(HB_STR_LIT("18446744073709551616"), ~0ULL, &v), HB_ERANGE);
    assert_int_equal(hb_str_to_u64(HB_STR_LIT("101"), 100, &v), HB_ERANGE);
    assert_int_equal(hb_str_to_u64(HB_STR_LIT("100"), 100, &v), 0);
    assert_int_equal(hb_str_to_u64(HB_STR_LIT("+1"), 100, &v), HB_ESYNTAX);
    assert_int_equal(hb_str_to_u64(HB_STR_LIT(" 1"), 100, &v), HB_ESYNTAX);
    assert_int_equal(hb_str_to_u64(HB_STR_LIT(""), 100, &v), HB_ESYNTAX);
    assert_int_equal(hb_str_to_u64(HB_STR_LIT("0x1"), 100, &v), HB_ESYNTAX);

    struct hb_str rest = HB_STR_LIT(" gzip ,, chunked,\tx ,"), e;
    const char *want[] = {"gzip", "chunked", "x"};
    int n = 0;
    while (hb_str_next_list_elem(&rest, &e)) {
        assert_true(n < 3);
        assert_true(hb_str_eq(e, hb_str_c(want[n])));
        n++;
    }
    assert_int_equal(n, 3);
}

static void test_buf(void **state)
{
    struct hb_buf b;
    hb_buf_init(&b, 1024);
    assert_null(b.data);
    assert_int_equal(hb_buf_append(&b, "hello", 5), 0);
    assert_int_equal(hb_buf_len(&b), 5);
    assert_memory_equal(hb_buf_rptr(&b), "hello", 5);
    hb_buf_consume(&b, 2);
    assert_memory_equal(hb_buf_rptr(&b), "llo", 3);
    hb_buf_consume(&b, 3);
    assert_int_equal(b.rpos, 0); /* rewound when emptied */
    assert_int_equal(b.wpos, 0);

    /* The ceiling holds: 1024 bytes fit, 1025 do not, nothing is appended. */
    char big[1025];
    memset(big, 'x', sizeof big);
    assert_int_equal(hb_buf_append(&b, big, 1025), HB_ELIMIT);
    assert_int_equal(hb_buf_len(&b), 0);
    assert_int_equal(hb_buf_append(&b, big, 1000), 0);
    hb_buf_consume(&b, 900);
    /* Compaction makes room under the ceiling without growing. */
    assert_int_equal(hb_buf_append(&b, big, 924), 0);
    assert_int_equal(hb_buf_len(&b), 1024);
    assert_true(b.cap <= 1024);
    assert_int_equal(hb_buf_append(&b, "y", 1), HB_ELIMIT);

    assert_int_equal(hb_buf_reserve(&b, 0), 0);
    hb_buf_consume(&b, 1024);
    hb_buf_release_if_empty(&b);
    assert_null(b.data);

    /* reserve/commit writes in place. */
    assert_int_equal(hb_buf_reserve(&b, 10), 0);
    memcpy(hb_buf_wptr(&b), "0123456789", 10);
    hb_buf_commit(&b, 10);
    assert_memory_equal(hb_buf_rptr(&b), "0123456789", 10);
    hb_buf_free(&b);

    /* No ceiling: grows as needed. */
    hb_buf_init(&b, 0);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(hb_buf_append(&b, big, 1000), 0);
    assert_int_equal(hb_buf_len(&b), 1000000);
    hb_buf_free(&b);
}

static void test_arena(void **state)
{
    char first[256];
    struct hb_arena a;
    hb_arena_init(&a, first, sizeof first, 1024, 4096);
    char *p = hb_arena_alloc(&a, 10);
    assert_true(p >= first && p < first + sizeof first); /* initial chunk used first */
    assert_int_equal(((uintptr_t)p) % 16, 0);
    char *d = hb_arena_dup(&a, "abc", 3);
    assert_string_equal(d, "abc");
    assert_int_equal(((uintptr_t)d) % 16, 0);
    /* Spill to the heap. */
    char *q = hb_arena_alloc(&a, 500);
    assert_non_null(q);
    assert_false(q >= first && q < first + sizeof first);
    memset(q, 1, 500);
    /* Cap: 4096 heap bytes in all. */
    assert_non_null(hb_arena_alloc(&a, 2000));
    assert_null(hb_arena_alloc(&a, 3000));
    hb_arena_free(&a);
    assert_int_equal(a.used, 0);
    /* After free the initial chunk is available again. */
    p = hb_arena_alloc(&a, 10);
    assert_true(p >= first && p < first + sizeof first);
    hb_arena_free(&a);

    /* No initial chunk, no cap. */
    hb_arena_init(&a, NULL, 0, 0, 0);
    for (int i = 0; i < 100; i++)
        assert_non_null(hb_arena_alloc(&a, 1000));
    assert_non_null(hb_arena_alloc(&a, 100000)); /* larger than a chunk */
    hb_arena_free(&a);
}

struct item {
    int v;
    struct hb_list link;
};

static void test_list(void **state)
{
    struct hb_list head, *it, *tmp;
    struct item items[5];
    hb_list_init(&head);
    assert_true(hb_list_empty(&head));
    for (int i = 0; i < 5; i++) {
        items[i].v = i;
        hb_list_init(&items[i].link);
        assert_false(hb_list_linked(&items[i].link));
        hb_list_push_back(&head, &items[i].link);
        assert_true(hb_list_linked(&items[i].link));
    }
    int expect = 0;
    hb_list_foreach(it, &head)
    {
        assert_int_equal(hb_container_of(it, struct item, link)->v, expect++);
    }
    assert_int_equal(expect, 5);
    /* Remove the odd ones while iterating. */
    hb_list_foreach_safe(it, tmp, &head)
    {
        if (hb_container_of(it, struct item, link)->v % 2)
            hb_list_remove(it);
    }
    hb_list_remove(&items[1].link); /* removing twice is harmless */
    struct hb_list *n = hb_list_pop_front(&head);
    assert_int_equal(hb_container_of(n, struct item, link)->v, 0);
    hb_list_push_front(&head, n);
    int seen[3], k = 0;
    hb_list_foreach(it, &head) seen[k++] = hb_container_of(it, struct item, link)->v;
    assert_int_equal(k, 3);
    assert_int_equal(seen[0], 0);
    assert_int_equal(seen[1], 2);
    assert_int_equal(seen[2], 4);
    while (hb_list_pop_front(&head))
        ;
    assert_true(hb_list_empty(&head));
    assert_null(hb_list_pop_front(&head));
}

struct captured {
    int calls;
    enum hb_log_level level;
    char msg[4096];
    int len;
};

static void capture_sink(void *ud, enum hb_log_level level, const char *msg, int len)
{
    struct captured *c = ud;
    c->calls++;
    c->level = level;
    memcpy(c->msg, msg, (size_t)len + 1);
    c->len = len;
}

static void test_log(void **state)
{
    struct captured c = {0};
    hb_log_set_sink(capture_sink, &c);
    hb_log_set_level(HB_LOG_INFO);
    hb_debug("dropped %d", 1);
    assert_int_equal(c.calls, 0);
    hb_warn("stream %u: %s", 3u, "backend\r\nreset");
    assert_int_equal(c.calls, 1);
    assert_int_equal(c.level, HB_LOG_WARN);
    assert_string_equal(c.msg, "stream 3: backend  reset"); /* one event, one line */
    char big[5000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    hb_error("%s", big);
    assert_int_equal(c.len, 2047);
    assert_string_equal(c.msg + c.len - 3, "...");
    hb_log_set_level(HB_LOG_OFF);
    hb_error("off");
    assert_int_equal(c.calls, 2);

    enum hb_log_level l;
    assert_int_equal(hb_log_level_parse("Debug", &l), 0);
    assert_int_equal(l, HB_LOG_DEBUG);
    assert_int_equal(hb_log_level_parse("warning", &l), 0);
    assert_int_equal(l, HB_LOG_WARN);
    assert_int_equal(hb_log_level_parse("loud", &l), HB_EINVAL);
    assert_string_equal(hb_log_level_name(HB_LOG_ERROR), "ERROR");
    hb_log_set_sink(NULL, NULL);
    hb_log_set_level(HB_LOG_INFO);
}

struct lines {
    int n;
    char msg[8][256];
};

static void lines_sink(void *ud, enum hb_log_level level, const char *msg, int len)
{
    struct lines *c = ud;
    (void)level;
    if (c->n < 8)
        snprintf(c->msg[c->n], sizeof c->msg[0], "%.*s", len, msg);
    c->n++;
}

static void log_site_a(int i) { hb_warn("site a %d", i); }
static void log_site_b(int i) { hb_warn("site b %d", i); }

/* logging.error_log_rate: per call site, per second, then one count line. */
static void test_log_rate(void **state)
{
    struct lines c = {0};
    hb_log_set_sink(lines_sink, &c);
    hb_log_set_rate(3);
    for (int i = 0; i < 10; i++)
        log_site_a(i);
    log_site_b(0); /* another call site has its own budget */
    assert_int_equal(c.n, 4);
    assert_string_equal(c.msg[2], "site a 2");
    assert_string_equal(c.msg[3], "site b 0");
    struct timespec ts = {1, 100 * 1000 * 1000};
    nanosleep(&ts, NULL);
    log_site_a(10);
    assert_int_equal(c.n, 6);
    assert_string_equal(c.msg[4], "7 similar lines suppressed (logging.error_log_rate): site a %d");
    assert_string_equal(c.msg[5], "site a 10");
    hb_log_set_rate(0); /* no limit */
    for (int i = 0; i < 10; i++)
        log_site_b(i);
    assert_int_equal(c.n, 16);
    /* Sites that alternate keep their own budgets, however their format
     * pointers hash: 40 sites, 10 rounds, 3 lines each. (A direct-mapped
     * table let two alternating sites reset each other's count.) */
    static char fmts[40][24];
    for (int k = 0; k < 40; k++)
        snprintf(fmts[k], sizeof fmts[k], "alt %02d %%d", k);
    hb_log_set_rate(3);
    for (int r = 0; r < 10; r++)
        for (int k = 0; k < 40; k++)
            hb_log(HB_LOG_WARN, fmts[k], r);
    assert_int_equal(c.n, 16 + 40 * 3);
    hb_log_set_rate(0);
    hb_log_set_sink(NULL, NULL);
    /* The line format of the stderr sink, for other sinks. */
    char line[HB_LOG_LINE_MAX];
    int n = hb_log_format_line(line, sizeof line, HB_LOG_WARN, "hi", 2);
    assert_int_equal(n, 24 + 1 + 5 + 1 + 2 + 1);
    assert_string_equal(line + 24, " WARN  hi\n");
    char small[64];
    char big[200];
    memset(big, 'x', sizeof big);
    n = hb_log_format_line(small, sizeof small, HB_LOG_INFO, big, (int)sizeof big);
    assert_int_equal(n, 63);
    assert_int_equal(small[62], '\n');
}

static void test_time(void **state)
{
    hb_ns_t a = hb_time_now_ns(), b = hb_time_now_ns();
    assert_true(a > 0 && b >= a);
    assert_false(hb_time_expired(100, 0));
    assert_false(hb_time_expired(99, 100));
    assert_true(hb_time_expired(100, 100));
    assert_int_equal(hb_time_until_ms(0, 0), -1);
    assert_int_equal(hb_time_until_ms(5 * HB_NS_PER_MS, 1), 0);
    assert_int_equal(hb_time_until_ms(0, HB_NS_PER_MS + 1), 2); /* rounds up */
    assert_int_equal(hb_time_ms(3), 3 * HB_NS_PER_MS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_err_names), cmocka_unit_test(test_str),
        cmocka_unit_test(test_buf),       cmocka_unit_test(test_arena),
        cmocka_unit_test(test_list),      cmocka_unit_test(test_log), cmocka_unit_test(test_log_rate),
        cmocka_unit_test(test_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
