/* tests/proxy/test_alog_fmt.c — the access log formatter: every field,
 * the three formats, escaping (text and JSON, parsed back), templates and
 * their errors, truncation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "proxy/obs/alog_fmt.h"
#include "testutil/json.h"
#include "testutil/testutil.h"

#define S(lit) HB_STR_LIT(lit)

/* 2026-12-03T14:00:00.123Z */
#define T0 ((int64_t)1796306400 * 1000000000 + 123456789)

static struct px_alog_entry sample(void)
{
    return (struct px_alog_entry){
        .time_ns = T0,
        .client_addr = S("203.0.113.7"),
        .client_port = 50123,
        .listener = S("public"),
        .tls_version = S("TLSv1.3"),
        .tls_cipher = S("TLS_AES_128_GCM_SHA256"),
        .sni = S("www.example.com"),
        .protocol = S("h2"),
        .version = 20,
        .stream_id = 3,
        .method = S("GET"),
        .authority = S("www.example.com"),
        .path = S("/x?y=1"),
        .status = 200,
        .req_body_bytes = 0,
        .resp_body_bytes = 512,
        .wire_in = 40,
        .wire_out = 600,
        .duration_ns = 12345678,
        .upstream = S("app"),
        .backend = S("127.0.0.1:8080"),
        .connect_ns = 1000000,
        .first_byte_ns = 9000000,
        .retries = 1,
        .end_reason = S("COMPLETE"),
        .request_id = S("9f3c"),
        .traceparent = S("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
        .user_agent = S("curl/7.88"),
        .referer = S("https://ref.example/"),
    };
}

static char *fmt_line(enum px_alog_format f, const char *tmpl, const struct px_alog_entry *e,
                      size_t size, size_t *len)
{
    struct px_alog_prog p;
    struct px_alog_error err;
    assert_int_equal(px_alog_compile(&p, f, tmpl, tmpl ? strlen(tmpl) : 0, &err), 0);
    char *buf = malloc(size + 1);
    assert_non_null(buf);
    *len = px_alog_format(&p, e, buf, size);
    buf[*len] = 0;
    px_alog_prog_free(&p);
    return buf;
}

static void expect(enum px_alog_format f, const char *tmpl, const struct px_alog_entry *e,
                   const char *want)
{
    size_t n;
    char *got = fmt_line(f, tmpl, e, 8192, &n);
    assert_string_equal(got, want);
    assert_int_equal(n, strlen(want));
    free(got);
}

static void test_combined_common(void **state)
{
    struct px_alog_entry e = sample();
    expect(PX_ALOG_COMBINED, NULL, &e,
           "203.0.113.7 - - [03/Dec/2026:14:00:00.123 +0000] \"GET /x?y=1 HTTP/2\" 200 512 "
           "\"https://ref.example/\" \"curl/7.88\" h2 0.012 app 9f3c\n");
    expect(PX_ALOG_COMMON, NULL, &e,
           "203.0.113.7 - - [03/Dec/2026:14:00:00.123 +0000] \"GET /x?y=1 HTTP/2\" 200 512\n");
    /* Absent values are "-". A connection-level 400 has no request line. */
    struct px_alog_entry z = {.time_ns = 0, .client_addr = S("::1"), .protocol = S("http/1.1"),
                              .status = 400, .duration_ns = 0, .upstream = S("-")};
    expect(PX_ALOG_COMBINED, NULL, &z,
           "::1 - - [01/Jan/1970:00:00:00.000 +0000] \"-\" 400 0 \"-\" \"-\" http/1.1 0.000 - -\n");
    z.method = S("POST");
    z.version = 10;
    expect(PX_ALOG_COMMON, NULL, &z,
           "::1 - - [01/Jan/1970:00:00:00.000 +0000] \"POST - HTTP/1.0\" 400 0\n");
}

static void test_every_field_template(void **state)
{
    struct px_alog_entry e = sample();
    e.end_detail = S("CANCEL");
    e.tunnel = S("websocket-h2");
    e.pushed_by = 1;
    char tmpl[4096] = "";
    char want[4096] = "";
    static const char *const values[PX_ALOG_NFIELDS] = {
        "2026-12-03T14:00:00.123Z", "03/Dec/2026:14:00:00.123 +0000", "203.0.113.7", "50123",
        "public", "TLSv1.3", "TLS_AES_128_GCM_SHA256", "www.example.com", "h2", "3", "GET",
        "www.example.com", "/x?y=1", "GET /x?y=1 HTTP/2", "200", "0", "512", "40", "600",
        "0.012", "app", "127.0.0.1:8080", "0.001", "0.009", "1", "COMPLETE", "CANCEL", "9f3c",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "curl/7.88",
        "https://ref.example/", "websocket-h2", "1"};
    for (int f = 0; f < PX_ALOG_NFIELDS; f++) {
        char one[64];
        snprintf(one, sizeof one, "%s${%s}|", f ? "" : "$$", px_alog_field_name(f));
        strcat(tmpl, one);
        strcat(want, f ? "" : "$");
        strcat(want, values[f]);
        strcat(want, "|");
    }
    strcat(want, "\n");
    expect(PX_ALOG_TEMPLATE, tmpl, &e, want);
    /* Literal-only and empty templates. */
    expect(PX_ALOG_TEMPLATE, "plain", &e, "plain\n");
    expect(PX_ALOG_TEMPLATE, "${status}\t${method}", &e, "200\tGET\n"); /* a tab is text */
    expect(PX_ALOG_TEMPLATE, "", &e, "\n");
}

/* A format shows what it names, and only that needs filling in. */
static void test_uses(void **state)
{
    struct px_alog_prog p;
    assert_int_equal(px_alog_compile(&p, PX_ALOG_COMBINED, NULL, 0, NULL), 0);
    assert_true(PX_ALOG_USES(&p, PX_ALOG_STATUS));
    assert_true(PX_ALOG_USES(&p, PX_ALOG_METHOD)); /* through request_line */
    assert_false(PX_ALOG_USES(&p, PX_ALOG_TLS_VERSION));
    assert_false(PX_ALOG_USES(&p, PX_ALOG_TIME));
    px_alog_prog_free(&p);
    assert_int_equal(px_alog_compile(&p, PX_ALOG_JSON, NULL, 0, NULL), 0);
    assert_true(PX_ALOG_USES(&p, PX_ALOG_TLS_CIPHER) && PX_ALOG_USES(&p, PX_ALOG_REFERER));
    assert_false(PX_ALOG_USES(&p, PX_ALOG_TIME_CLF));
    px_alog_prog_free(&p);
    assert_int_equal(px_alog_compile(&p, PX_ALOG_TEMPLATE, "${sni}", 6, NULL), 0);
    assert_int_equal(p.uses, 1ull << PX_ALOG_SNI);
    px_alog_prog_free(&p);
}

static void test_template_errors(void **state)
{
    static const struct {
        const char *t;
        size_t off;
        const char *msg;
    } bad[] = {
        {"${nope}", 2, "found \"nope\""},
        {"ab ${status} ${Status}", 15, "found \"Status\""},
        {"x $y", 2, "after '$'"},
        {"x $", 2, "after '$'"},
        {"x ${status", 2, "closing"},
        {"${}", 2, "found \"\""},
        {"a\nb", 1, "found byte 0x0a"},
        {"${status}\x7f", 9, "found byte 0x7f"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct px_alog_prog p;
        struct px_alog_error err;
        assert_int_equal(px_alog_compile(&p, PX_ALOG_TEMPLATE, bad[i].t, strlen(bad[i].t), &err),
                         HB_EINVAL);
        assert_int_equal(err.offset, bad[i].off);
        assert_non_null(strstr(err.msg, bad[i].msg));
        assert_non_null(strstr(err.msg, "expected"));
    }
}

static void test_text_escaping(void **state)
{
    struct px_alog_entry e = sample();
    e.path = S("/a\nb\"c\\d\x01\x7f\xc3\xa9 e");
    e.user_agent = S("x\r\n1.2.3.4 - - [fake]");
    size_t n;
    char *got = fmt_line(PX_ALOG_TEMPLATE, "${path} ${user_agent}", &e, 8192, &n);
    assert_string_equal(got, "/a\\x0ab\\\"c\\\\d\\x01\\x7f\\xc3\\xa9 e x\\x0d\\x0a1.2.3.4 - - [fake]\n");
    /* One line: the only newline is the last byte. */
    assert_ptr_equal(strchr(got, '\n'), got + n - 1);
    free(got);
}

static void test_json(void **state)
{
    struct px_alog_entry e = sample();
    /* Every byte value in a path: control bytes, quotes, invalid UTF-8. */
    char path[256];
    for (int i = 0; i < 256; i++)
        path[i] = (char)i;
    e.path = (struct hb_str){path, 256};
    e.user_agent = S("ok \xc3\xa9 \xe2\x82\xac bad \xc3 \xed\xa0\x80 \xf4\x90\x80\x80 \xc0\xaf");
    e.tls_version = HB_STR_NULL; /* absent → null */
    e.first_byte_ns = -1;
    size_t n;
    char *line = fmt_line(PX_ALOG_JSON, NULL, &e, 1 << 16, &n);
    assert_ptr_equal(strchr(line, '\n'), line + n - 1);
    char err[128];
    struct tu_json *j = tu_json_parse(line, n - 1, err, sizeof err);
    if (!j)
        fail_msg("json: %s in %s", err, line);
    assert_int_equal(j->type, TU_JSON_OBJ);
    assert_int_equal(j->n, PX_ALOG_NFIELDS - 2); /* all but time_clf and request_line */
    const struct tu_json *v = tu_json_get(j, "path");
    assert_non_null(v);
    assert_int_equal(v->type, TU_JSON_STR);
    /* Bytes below 0x80 round-trip; each byte from 0x80 (none is valid UTF-8
     * alone) came as \u00XX, i.e. U+0080..U+00FF in UTF-8 (2 bytes). */
    assert_int_equal(v->len, 128 + 2 * 128);
    assert_memory_equal(v->str, path, 128);
    assert_memory_equal(v->str + 128, "\xc2\x80", 2);
    v = tu_json_get(j, "user_agent");
    assert_string_equal(v->str, "ok \xc3\xa9 \xe2\x82\xac bad \xc3\x83 \xc3\xad\xc2\xa0\xc2\x80 "
                                "\xc3\xb4\xc2\x90\xc2\x80\xc2\x80 \xc3\x80\xc2\xaf");
    assert_int_equal(tu_json_get(j, "tls_version")->type, TU_JSON_NULL);
    assert_int_equal(tu_json_get(j, "first_byte_time")->type, TU_JSON_NULL);
    assert_int_equal(tu_json_get(j, "end_detail")->type, TU_JSON_NULL);
    assert_int_equal(tu_json_get(j, "pushed_by")->type, TU_JSON_NULL); /* not pushed */
    v = tu_json_get(j, "status");
    assert_int_equal(v->type, TU_JSON_NUM);
    assert_true(v->num == 200);
    v = tu_json_get(j, "duration");
    assert_int_equal(v->type, TU_JSON_NUM);
    assert_true(v->num > 0.0119 && v->num < 0.0121);
    assert_true(tu_json_get(j, "client_port")->num == 50123);
    assert_string_equal(tu_json_get(j, "time")->str, "2026-12-03T14:00:00.123Z");
    assert_string_equal(tu_json_get(j, "backend")->str, "127.0.0.1:8080");
    assert_null(tu_json_get(j, "time_clf"));
    tu_json_free(j);
    free(line);
}

static void test_truncation(void **state)
{
    struct px_alog_entry e = sample();
    char big[3000];
    memset(big, 'a', sizeof big);
    big[100] = '\n';
    e.path = (struct hb_str){big, sizeof big};
    size_t full_n;
    char *full_line = fmt_line(PX_ALOG_COMBINED, NULL, &e, 1 << 16, &full_n);
    for (size_t size = PX_ALOG_MIN_LINE; size < 400; size += 7) {
        char *buf = malloc(size); /* exact: ASan sees an overrun */
        memset(buf, '#', size);   /* a byte not written would show */
        struct px_alog_prog p;
        assert_int_equal(px_alog_compile(&p, PX_ALOG_COMBINED, NULL, 0, NULL), 0);
        size_t n = px_alog_format(&p, &e, buf, size);
        /* A cut line is the start of the whole line, then the marker. */
        assert_memory_equal(buf, full_line, n - 1 - strlen(PX_ALOG_TRUNCATED));
        assert_true(n <= size);
        assert_true(n > strlen(PX_ALOG_TRUNCATED));
        assert_int_equal(buf[n - 1], '\n');
        assert_null(memchr(buf, '\n', n - 1));
        assert_memory_equal(buf + n - 1 - strlen(PX_ALOG_TRUNCATED), PX_ALOG_TRUNCATED,
                            strlen(PX_ALOG_TRUNCATED));
        /* An escape is never cut in the middle. */
        const char *bs = memchr(buf, '\\', n);
        if (bs)
            assert_true(bs + 4 <= buf + n - 1 - strlen(PX_ALOG_TRUNCATED));
        px_alog_prog_free(&p);
        free(buf);
    }
    free(full_line);
    /* Too small a buffer: nothing is written. */
    struct px_alog_prog p;
    assert_int_equal(px_alog_compile(&p, PX_ALOG_JSON, NULL, 0, NULL), 0);
    char tiny[PX_ALOG_MIN_LINE - 1];
    assert_int_equal(px_alog_format(&p, &e, tiny, sizeof tiny), 0);
    /* A line that fits exactly is not cut. */
    size_t n;
    struct px_alog_entry s = sample();
    char *full = fmt_line(PX_ALOG_COMMON, NULL, &s, 8192, &n);
    char *exact = malloc(n);
    struct px_alog_prog c;
    assert_int_equal(px_alog_compile(&c, PX_ALOG_COMMON, NULL, 0, NULL), 0);
    assert_int_equal(px_alog_format(&c, &s, exact, n), n);
    assert_memory_equal(exact, full, n);
    px_alog_prog_free(&c);
    px_alog_prog_free(&p);
    free(exact);
    free(full);
}

static void test_time(void **state)
{
    struct px_alog_entry e = sample();
    static const struct {
        int64_t s;
        const char *want;
    } t[] = {
        {951782400, "2000-02-29T00:00:00.000Z"}, /* leap day */
        {4102444799, "2099-12-31T23:59:59.000Z"},
        {-1, "1969-12-31T23:59:59.000Z"},
        {1709251199, "2024-02-29T23:59:59.000Z"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        e.time_ns = t[i].s * 1000000000;
        char want[64];
        snprintf(want, sizeof want, "%s\n", t[i].want);
        expect(PX_ALOG_TEMPLATE, "${time}", &e, want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_combined_common), cmocka_unit_test(test_every_field_template),
        cmocka_unit_test(test_template_errors), cmocka_unit_test(test_text_escaping),
        cmocka_unit_test(test_json),           cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_time),            cmocka_unit_test(test_uses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
