/* HTTP/1.1 body decoder: chunked (sizes, extensions, trailers, every framing
 * error), fixed length and close-delimited. Every input is decoded whole,
 * byte by byte and split in two at every offset, each call reading from a
 * buffer that ends at a guard page, and must give the same bytes out. */
#include "testutil/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/h1_body.h"
#include "core/h1_parse.h"
#include "test_h1_util.h"

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define B(s)       s, sizeof(s) - 1
#define INCOMPLETE 1

struct btest {
    const char *in;
    size_t len;
    int rc;               /* 0 done, INCOMPLETE, or an H1_E* code */
    const char *data;     /* decoded body (when rc == 0) */
    const char *trailers; /* " | name: value" each */
    size_t leftover;      /* bytes after the body, not consumed */
};

struct result {
    int rc;
    char data[4096];
    size_t data_len;
    char trailers[1024];
    size_t leftover;
};

/* Feeds in[0..len) cut at cuts[0..n) and decodes as far as it goes. */
static void decode(struct h1_body *b, const char *in, size_t len, const size_t *cuts, size_t n,
                   struct result *res)
{
    char pending[8192];
    size_t plen = 0, fed = 0;
    memset(res, 0, sizeof *res);
    res->rc = INCOMPLETE;
    for (size_t piece = 0; piece <= n; piece++) {
        size_t to = piece < n ? cuts[piece] : len;
        memcpy(pending + plen, in + fed, to - fed);
        plen += to - fed;
        fed = to;
        for (;;) {
            struct h1_body_event ev;
            struct hpack_field tr[8];
            uint8_t *g = tu_guard_copy(pending, plen);
            ptrdiff_t r = h1_body_parse(b, (char *)g, plen, tr, 8, &ev);
            if (r < 0) {
                tu_guard_free(g, plen);
                res->rc = (int)r;
                return;
            }
            assert_true((size_t)r <= plen);
            if (ev.data_len) {
                assert_true(ev.data >= (char *)g && ev.data + ev.data_len <= (char *)g + r);
                memcpy(res->data + res->data_len, ev.data, ev.data_len);
                res->data_len += ev.data_len;
            }
            for (size_t i = 0; i < ev.ntrailers; i++) {
                h1t_cat(res->trailers, sizeof res->trailers, " | ", 3);
                h1t_cat(res->trailers, sizeof res->trailers, tr[i].name, tr[i].name_len);
                h1t_cat(res->trailers, sizeof res->trailers, ": ", 2);
                h1t_cat(res->trailers, sizeof res->trailers, tr[i].value, tr[i].value_len);
            }
            tu_guard_free(g, plen);
            memmove(pending, pending + r, plen - (size_t)r);
            plen -= (size_t)r;
            if (ev.done) {
                res->rc = 0;
                res->leftover = plen + (len - fed);
                return;
            }
            if (r == 0 && ev.data_len == 0)
                break;
        }
    }
}

static void check(const struct btest *t, const struct result *r, const char *how)
{
    bool ok = r->rc == t->rc;
    if (ok && t->rc == 0)
        ok = r->data_len == strlen(t->data) && memcmp(r->data, t->data, r->data_len) == 0 &&
             strcmp(r->trailers, t->trailers ? t->trailers : "") == 0 && r->leftover == t->leftover;
    if (!ok) {
        fprintf(stderr, "input %.*s\n  %s: got %s data '%.*s' trailers '%s' left %zu\n",
                (int)t->len, t->in, how, h1_err_name(r->rc), (int)r->data_len, r->data, r->trailers,
                r->leftover);
        fail();
    }
}

static void run_one(const struct btest *t, enum h1_body_kind kind, uint64_t length,
                    const struct h1_limits *lim)
{
    struct h1_body b;
    struct result r;
    h1_body_init_kind(&b, kind, length, lim);
    decode(&b, t->in, t->len, NULL, 0, &r);
    check(t, &r, "whole");

    size_t cuts[4096];
    for (size_t i = 0; i + 1 < t->len; i++)
        cuts[i] = i + 1;
    h1_body_init_kind(&b, kind, length, lim);
    decode(&b, t->in, t->len, cuts, t->len ? t->len - 1 : 0, &r);
    check(t, &r, "bytewise");

    for (size_t k = 1; k < t->len; k++) {
        h1_body_init_kind(&b, kind, length, lim);
        decode(&b, t->in, t->len, &k, 1, &r);
        check(t, &r, "split");
    }
}

#define RUN(tab, kind, length, lim)                                                                \
    for (size_t i_ = 0; i_ < sizeof(tab) / sizeof((tab)[0]); i_++)                                 \
    run_one(&(tab)[i_], (kind), (length), (lim))

static const struct btest chunked_ok[] = {
    {B("5\r\nhello\r\n0\r\n\r\n"), 0, "hello"},
    {B("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\nNEXT"), 0, "hello world", "", 4},
    {B("A\r\n0123456789\r\na\r\nabcdefghij\r\n0\r\n\r\n"), 0, "0123456789abcdefghij"},
    {B("5;a=b\r\nhello\r\n0;last\r\n\r\n"), 0, "hello"},
    {B("5 ; a=\"x y;z\" ;b\r\nhello\r\n0\t;c\r\n\r\n"), 0, "hello"},
    {B("000000000000005\r\nhello\r\n0000\r\n\r\n"), 0, "hello"},
    {B("0\r\n\r\n"), 0, ""},
    {B("0\r\nX-T: 1\r\nChecksum:ab \r\n\r\nGET"), 0, "", " | x-t: 1 | checksum: ab", 3},
    {B("3\r\n\r\n\x01\r\n0\r\nA: b\r\n\r\n"), 0, "\r\n\x01", " | a: b"},
    /* incomplete at every stage */
    {B("5\r\nhello\r\n"), INCOMPLETE},
    {B("5\r\nhel"), INCOMPLETE},
    {B("5;ext"), INCOMPLETE},
    {B("0\r\nX: y\r\n"), INCOMPLETE},
    {B("0\r\n\r"), INCOMPLETE},
};

static const struct btest chunked_bad[] = {
    {B("-5\r\nhello\r\n0\r\n\r\n"), H1_ECHUNK_SIZE},
    {B("+5\r\nhello\r\n0\r\n\r\n"), H1_ECHUNK_SIZE},
    {B(" 5\r\nhello\r\n0\r\n\r\n"), H1_ECHUNK_SIZE},
    {B("\r\n"), H1_ECHUNK_SIZE},
    {B(";a\r\n"), H1_ECHUNK_SIZE},
    {B("0x5\r\nhello\r\n0\r\n\r\n"), H1_ECHUNK_SIZE},
    {B("5x\r\nhello\r\n0\r\n\r\n"), H1_ECHUNK_SIZE},
    {B("g\r\n"), H1_ECHUNK_SIZE},
    {B("5 \r\nhello\r\n0\r\n\r\n"), H1_ECHUNK_EXT},
    {B("5 5\r\nhello\r\n0\r\n\r\n"), H1_ECHUNK_EXT},
    {B("5;a\x01\r\nhello\r\n0\r\n\r\n"), H1_ECHUNK_EXT},
    {B("5;a\x7f\r\nhello\r\n0\r\n\r\n"), H1_ECHUNK_EXT},
    {B("5;a\0\r\nhello\r\n0\r\n\r\n"), H1_ECHUNK_EXT},
    /* overflow: more than 16 digits, or above INT64_MAX */
    {B("FFFFFFFFFFFFFFFFF\r\n"), H1_ECHUNK_SIZE_RANGE},
    {B("FFFFFFFFFFFFFFFF\r\n"), H1_ECHUNK_SIZE_RANGE},
    {B("8000000000000000\r\n"), H1_ECHUNK_SIZE_RANGE},
    {B("00000000000000001\r\n"), H1_ECHUNK_SIZE_RANGE},
    /* line endings: a bare LF or CR is never a chunk line ending */
    {B("5\nhello\r\n0\r\n\r\n"), H1_EBARE_LF},
    {B("5;a\nhello\r\n0\r\n\r\n"), H1_EBARE_LF},
    {B("5\rhello\r\n0\r\n\r\n"), H1_EBARE_CR},
    /* data not followed by CRLF: the TE.CL desync shape */
    {B("5\r\nhelloX\r\n0\r\n\r\n"), H1_ECHUNK_DATA_END},
    {B("5\r\nhello\n0\r\n\r\n"), H1_ECHUNK_DATA_END},
    {B("5\r\nhello\r0\r\n\r\n"), H1_ECHUNK_DATA_END},
    {B("3\r\nhello\r\n0\r\n\r\n"), H1_ECHUNK_DATA_END},
    /* trailer section */
    {B("0\r\nX: a\r\n b\r\n\r\n"), H1_EOBS_FOLD},
    {B("0\r\n b\r\n\r\n"), H1_EOBS_FOLD},
    {B("0\r\nX : a\r\n\r\n"), H1_ENAME_WS},
    {B("0\r\nX: a\0\r\n\r\n"), H1_EVALUE},
    {B("0\r\nX: a\n\r\n"), H1_EBARE_LF},
    {B("0\r\nX\r\n\r\n"), H1_ENO_COLON},
    {B("0\r\n\n"), H1_EBARE_LF},
};

static void test_chunked(void **state)
{
    RUN(chunked_ok, H1_BODY_CHUNKED, 0, NULL);
    RUN(chunked_bad, H1_BODY_CHUNKED, 0, NULL);
}

static void test_chunked_limits(void **state)
{
    struct h1_limits lim;
    h1_limits_default(&lim);
    lim.max_chunk_ext = 4;
    lim.max_trailer = 16;
    lim.max_trailers = 2;
    static const struct btest t[] = {
        {B("1;abc\r\nx\r\n0\r\n\r\n"), 0, "x"},
        {B("1;abcd\r\nx\r\n0\r\n\r\n"), H1_ECHUNK_EXT_TOO_LONG},
        {B("1     \r\n"), H1_ECHUNK_EXT_TOO_LONG},
        {B("0\r\nA: 1\r\nB: 2\r\n\r\n"), 0, "", " | a: 1 | b: 2"},
        {B("0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"), H1_ETRAILER_TOO_LARGE},
        {B("0\r\nA:1\r\nB:2\r\nC:\r\n\r\n"), H1_ETRAILER_TOO_MANY},
        {B("0\r\nAAAAAAAAAAAAAAAAAAAAAAA"), H1_ETRAILER_TOO_LARGE},
    };
    RUN(t, H1_BODY_CHUNKED, 0, &lim);
}

static void test_length(void **state)
{
    static const struct btest t5[] = {
        {B("hello"), 0, "hello"},
        {B("helloGET / HTTP/1.1\r\n"), 0, "hello", "", 16},
        {B("hell"), INCOMPLETE},
    };
    RUN(t5, H1_BODY_LENGTH, 5, NULL);
    static const struct btest t0[] = {
        {B(""), 0, ""},
        {B("GET"), 0, "", "", 3},
    };
    RUN(t0, H1_BODY_LENGTH, 0, NULL);
    RUN(t0, H1_BODY_NONE, 0, NULL);
}

static void test_close_and_eof(void **state)
{
    struct h1_body b;
    struct h1_body_event ev;
    char in[] = "all of it";
    h1_body_init_kind(&b, H1_BODY_CLOSE, 0, NULL);
    assert_int_equal(h1_body_parse(&b, in, 9, NULL, 0, &ev), 9);
    assert_int_equal(ev.data_len, 9);
    assert_false(ev.done);
    assert_int_equal(h1_body_eof(&b), 0);
    assert_true(h1_body_done(&b));
    assert_int_equal(h1_body_parse(&b, in, 9, NULL, 0, &ev), 0);
    assert_true(ev.done);

    h1_body_init_kind(&b, H1_BODY_LENGTH, 10, NULL);
    assert_int_equal(h1_body_parse(&b, in, 9, NULL, 0, &ev), 9);
    assert_int_equal(h1_body_eof(&b), H1_EBODY_TRUNCATED);

    h1_body_init_kind(&b, H1_BODY_CHUNKED, 0, NULL);
    assert_int_equal(h1_body_eof(&b), H1_EBODY_TRUNCATED);
    /* errors are sticky */
    char bad[] = "x\r\n5\r\n";
    assert_int_equal(h1_body_parse(&b, bad, 3, NULL, 0, &ev), H1_ECHUNK_SIZE);
    assert_int_equal(h1_body_parse(&b, bad + 3, 3, NULL, 0, &ev), H1_ECHUNK_SIZE);
}

/* h1_body_init() picks the kind from a parsed head. */
static void test_init_from_head(void **state)
{
    static const struct {
        const char *head;
        unsigned req;
        enum h1_body_kind kind;
    } t[] = {
        {"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n", 0, H1_BODY_LENGTH},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 0, H1_BODY_CHUNKED},
        {"HTTP/1.1 200 OK\r\n\r\n", 0, H1_BODY_CLOSE},
        {"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n", H1_REQ_HEAD, H1_BODY_NONE},
        {"HTTP/1.1 204 No Content\r\n\r\n", 0, H1_BODY_NONE},
        {"HTTP/1.1 200 OK\r\n\r\n", H1_REQ_CONNECT, H1_BODY_NONE},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char buf[256];
        struct h1_parser p;
        struct hb_msg m;
        struct hpack_field f[4];
        struct h1_body b;
        strcpy(buf, t[i].head);
        h1_parser_init(&p, NULL);
        assert_true(h1_parse_response(&p, t[i].req, buf, strlen(buf), &m, f, 4) > 0);
        h1_body_init(&b, &m, NULL);
        assert_int_equal(b.kind, t[i].kind);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chunked),        cmocka_unit_test(test_chunked_limits),
        cmocka_unit_test(test_length),         cmocka_unit_test(test_close_and_eof),
        cmocka_unit_test(test_init_from_head),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
