/* tests/proxy/test_origin_parse.c — the demo origin's pure parsers
 * (tools/origin/origin_parse.c): request heads, request framing, chunked
 * bodies. The origin is an executable, not a library, so its parser file is
 * compiled into this test directly. Heads are parsed from a buffer ending at
 * a guard page; chunked bodies are fed split at every offset and byte by
 * byte. */
#include "tools/origin/origin_parse.c"

#include <stdlib.h>
#include <string.h>

#include "testutil/testutil.h"

#define S(lit) (lit), (sizeof(lit) - 1)

static int parse(const char *p, size_t len, struct og_head *h, struct og_field *f, unsigned cap)
{
    uint8_t *g = tu_guard_copy(p, len);
    h->fields = f;
    h->cap = cap;
    int rc = og_parse_head((const char *)g, len, h);
    /* views point into g: the caller checks them before we free, so copy
     * only the return code out and re-parse from p for the views */
    tu_guard_free(g, len);
    if (rc == 0)
        og_parse_head(p, len, h);
    return rc;
}

static int view_is(struct hb_str v, const char *s)
{
    return v.len == strlen(s) && memcmp(v.p, s, v.len) == 0;
}

static void test_head_ok(void **state)
{
    static const char req[] = "\r\nPOST /a/b?c=d HTTP/1.1\r\nHost: example\r\n"
                              "x-Mixed:  v 1 \t\r\nEmpty:\r\nBin: \xe9\x80\r\n\r\n";
    struct og_field f[8];
    struct og_head h;
    assert_int_equal(parse(S(req), &h, f, 8), 0);
    assert_true(view_is(h.method, "POST"));
    assert_true(view_is(h.target, "/a/b?c=d"));
    assert_int_equal(h.minor, 1);
    assert_int_equal(h.nfields, 4);
    assert_true(view_is(f[0].name, "Host") && view_is(f[0].value, "example"));
    assert_true(view_is(f[1].name, "x-Mixed") && view_is(f[1].value, "v 1"));
    assert_true(view_is(f[2].name, "Empty") && f[2].value.len == 0);
    assert_true(view_is(f[3].name, "Bin") && view_is(f[3].value, "\xe9\x80"));
}

static void test_head_bad(void **state)
{
    static const struct {
        const char *in;
        int rc;
    } cases[] = {
        {"GET / HTTP/1.1\n\r\n", HB_ESYNTAX},                 /* bare LF */
        {"GET / HTTP/1.1\r\nA: b\nc\r\n\r\n", HB_ESYNTAX},    /* LF in a value */
        {"GET / HTTP/1.1\r\nA : b\r\n\r\n", HB_ESYNTAX},      /* space before colon */
        {"GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n", HB_ESYNTAX}, /* obs-fold */
        {"GET / HTTP/1.1\r\n: b\r\n\r\n", HB_ESYNTAX},        /* empty name */
        {"GET / HTTP/1.1\r\nA: \x01\r\n\r\n", HB_ESYNTAX},    /* control in value */
        {"GET / HTTP/1.1\r\nA: \x7f\r\n\r\n", HB_ESYNTAX},    /* DEL in value */
        {"GET  / HTTP/1.1\r\n\r\n", HB_ESYNTAX},
        {"GET / HTTP/1.1 \r\n\r\n", HB_ESYNTAX},
        {"GET /\x80 HTTP/1.1\r\n\r\n", HB_ESYNTAX},
        {"G(T / HTTP/1.1\r\n\r\n", HB_ESYNTAX},
        {"GET / http/1.1\r\n\r\n", HB_ESYNTAX},
        {"GET / HTTP/1.10\r\n\r\n", HB_ESYNTAX},
        {"GET / HTTP/2.0\r\n\r\n", HB_EUNSUPPORTED},
        {"GET / HTTP/1.2\r\n\r\n", HB_EUNSUPPORTED},
        {"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", HB_ELIMIT}, /* cap 2 */
        {"\r\n\r\n", HB_ESYNTAX},
        {"GET / HTTP/1.1\r\n\r\nX", HB_ESYNTAX}, /* bytes after the head */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct og_field f[2];
        struct og_head h;
        int rc = parse(cases[i].in, strlen(cases[i].in), &h, f, 2);
        if (rc != cases[i].rc)
            fail_msg("case %zu (%s): rc %d, want %d", i, cases[i].in, rc, cases[i].rc);
    }
}

static void test_framing(void **state)
{
    static const struct {
        const char *in;
        int status;
        enum og_body_kind body;
        uint64_t length;
        int keep_alive;
    } cases[] = {
        {"GET / HTTP/1.1\r\nHost: a\r\n\r\n", 0, OG_BODY_NONE, 0, 1},
        {"GET / HTTP/1.1\r\nHost: a\r\nConnection: x, Close\r\n\r\n", 0, OG_BODY_NONE, 0, 0},
        {"GET / HTTP/1.0\r\n\r\n", 0, OG_BODY_NONE, 0, 0},
        {"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 0, OG_BODY_NONE, 0, 1},
        {"PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n\r\n", 0, OG_BODY_LENGTH, 12, 1},
        {"PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", 0, OG_BODY_NONE, 0, 1},
        {"PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", 0,
         OG_BODY_LENGTH, 5, 1},
        {"PUT / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n", 0, OG_BODY_CHUNKED, 0,
         1},
        {"GET http://a/x HTTP/1.1\r\nHost: a\r\n\r\n", 0, OG_BODY_NONE, 0, 1},
        {"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", 0, OG_BODY_NONE, 0, 1},
        {"GET / HTTP/1.1\r\n\r\n", 400, 0, 0, 0},
        {"GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", 400, 0, 0, 0},
        {"PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400, 0, 0,
         0},
        {"PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 1,1\r\n\r\n", 400, 0, 0, 0},
        {"PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n", 400, 0, 0, 0},
        {"PUT / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n",
         400, 0, 0, 0},
        {"PUT / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 400, 0, 0, 0},
        {"PUT / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: "
         "chunked\r\n\r\n",
         400, 0, 0, 0},
        {"PUT / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 501, 0, 0, 0},
        {"PUT / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400, 0, 0, 0},
        {"GET / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n", 417, 0, 0, 0},
        {"CONNECT a:1 HTTP/1.1\r\nHost: a\r\n\r\n", 501, 0, 0, 0},
        {"GET a/b HTTP/1.1\r\nHost: a\r\n\r\n", 400, 0, 0, 0},
        {"GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct og_field f[8];
        struct og_head h;
        struct og_framing fr;
        const char *why = NULL;
        if (parse(cases[i].in, strlen(cases[i].in), &h, f, 8) != 0)
            fail_msg("case %zu does not parse", i);
        int st = og_head_framing(&h, &fr, &why);
        if (st != cases[i].status)
            fail_msg("case %zu (%s): status %d, want %d", i, cases[i].in, st, cases[i].status);
        if (st) {
            assert_non_null(why);
            continue;
        }
        if (fr.body != cases[i].body || fr.keep_alive != cases[i].keep_alive ||
            (fr.body == OG_BODY_LENGTH && fr.length != cases[i].length))
            fail_msg("case %zu: body %d length %llu keep-alive %d", i, fr.body,
                     (unsigned long long)fr.length, fr.keep_alive);
    }
}

/* Decodes in[0..len) delivered in pieces of `step` bytes (0: split once at
 * `split`), as origin_conn.c does: data taken by count, framing fed. Returns
 * 0, or the decoder's error; data lands in out (*outlen). */
static int run_chunked(const char *in, size_t len, size_t split, size_t step, char *out,
                       size_t *outlen, size_t max_trailer)
{
    struct og_chunked c;
    og_chunked_init(&c, max_trailer);
    size_t have = 0, pos = 0; /* bytes delivered so far, bytes consumed */
    *outlen = 0;
    while (!og_chunked_done(&c)) {
        if (pos == have) {
            if (have == len)
                return HB_EAGAIN;
            have = step ? (have + step < len ? have + step : len) : (have < split ? split : len);
        }
        uint64_t left = og_chunked_data_left(&c);
        if (left) {
            size_t n = left < have - pos ? (size_t)left : have - pos;
            memcpy(out + *outlen, in + pos, n);
            *outlen += n;
            pos += n;
            og_chunked_data_done(&c, n);
            continue;
        }
        uint8_t *g = tu_guard_copy(in + pos, have - pos);
        ptrdiff_t r = og_chunked_feed(&c, (const char *)g, have - pos);
        tu_guard_free(g, have - pos);
        if (r < 0)
            return (int)r;
        pos += (size_t)r;
    }
    return pos == len ? 0 : HB_ESYNTAX; /* the test inputs end with the body */
}

static void test_chunked_every_split(void **state)
{
    static const char body[] = "5;name=\"v\"\r\nhello\r\n6 ; x\r\n world\r\n"
                               "A\r\n0123456789\r\n0\r\nX-T: 1\r\nY:\r\n\r\n";
    char out[64];
    size_t n;
    for (size_t split = 0; split <= sizeof(body) - 1; split++) {
        assert_int_equal(run_chunked(S(body), split, 0, out, &n, 1024), 0);
        assert_int_equal(n, 21);
        assert_memory_equal(out, "hello world0123456789", 21);
    }
    assert_int_equal(run_chunked(S(body), 0, 1, out, &n, 1024), 0);
    assert_int_equal(n, 21);
    assert_int_equal(run_chunked(S("0\r\n\r\n"), 0, 1, out, &n, 1024), 0);
    assert_int_equal(n, 0);
    assert_int_equal(run_chunked(S("5\r\nhel"), 0, 1, out, &n, 1024), HB_EAGAIN);
}

static void test_chunked_bad(void **state)
{
    static const struct {
        const char *in;
        int rc;
    } cases[] = {
        {"\r\n", HB_ESYNTAX}, /* no size */
        {"zz\r\n", HB_ESYNTAX},
        {"-1\r\n", HB_ESYNTAX},
        {"5\nhello\r\n0\r\n\r\n", HB_ESYNTAX},    /* bare LF after the size */
        {"5\r\nhelloX\r\n0\r\n\r\n", HB_ESYNTAX}, /* data not followed by CRLF */
        {"5\r\nhello\n0\r\n\r\n", HB_ESYNTAX},
        {"5;a\x01\r\nhello\r\n0\r\n\r\n", HB_ESYNTAX}, /* control in an extension */
        {"1000000000000000\r\n", HB_ELIMIT},           /* 2^60 */
        {"0\r\nNoColon\r\n\r\n", HB_ESYNTAX},          /* trailer line without ':' */
        {"0\r\n: v\r\n\r\n", HB_ESYNTAX},              /* trailer with an empty name */
        {"0\r\nA : v\r\n\r\n", HB_ESYNTAX},
        {"0\r\n\rX", HB_ESYNTAX}, /* CR not followed by LF */
        {"0\r\nA: 0123456789012345678901234567890123456789\r\n\r\n", HB_ELIMIT}, /* trailer > 32 */
        {"1;0123456789012345678901234567890123456789\r\nx\r\n0\r\n\r\n", HB_ELIMIT},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[64];
        size_t n;
        for (size_t step = 1; step <= 3; step += 2) {
            int rc = run_chunked(cases[i].in, strlen(cases[i].in), 0, step, out, &n, 32);
            if (rc != cases[i].rc)
                fail_msg("case %zu step %zu: rc %d, want %d", i, step, rc, cases[i].rc);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_head_ok),     cmocka_unit_test(test_head_bad),
        cmocka_unit_test(test_framing),     cmocka_unit_test(test_chunked_every_split),
        cmocka_unit_test(test_chunked_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
