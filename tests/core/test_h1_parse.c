/* HTTP/1.1 head parser: tables of valid and invalid requests and responses,
 * including the request-smuggling corpus. Every input is parsed whole, byte
 * by byte, and split in two at every offset, each time from a buffer whose
 * end touches a guard page, and must give the same answer every way. */
#include "testutil/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/h1_chars.h"
#include "core/h1_parse.h"
#include "test_h1_util.h"

/* Table rows leave the trailing members out (dump of an error, req of a
 * request): zero is what they mean. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define B(s) s, sizeof(s) - 1
#define H    "Host: a\r\n"
#define MAXF 128

struct ptest {
    const char *in;
    size_t len;
    int rc;           /* 0: the whole input is one valid head */
    const char *dump; /* expected h1t_dump() when rc == 0 */
    unsigned req;     /* responses: H1_REQ_* */
};

static ptrdiff_t parse(bool resp, struct h1_parser *p, unsigned req, char *buf, size_t len,
                       struct hb_msg *m, struct hpack_field *f)
{
    return resp ? h1_parse_response(p, req, buf, len, m, f, MAXF)
                : h1_parse_request(p, buf, len, m, f, MAXF);
}

static void fail_case(const struct ptest *t, const char *how, ptrdiff_t got, const char *dump)
{
    fprintf(stderr, "input %.*s\n  %s: got %s (%td)%s%s, want %s%s%s\n", (int)t->len, t->in, how,
            h1_err_name((int)got), got, dump ? " " : "", dump ? dump : "", h1_err_name(t->rc),
            t->rc ? "" : " ", t->rc ? "" : t->dump);
    fail();
}

/* The final answer for a complete input: rc, and the dump when valid. */
static void check_final(const struct ptest *t, const char *how, ptrdiff_t r, const struct hb_msg *m)
{
    char dump[2048];
    if (t->rc) {
        if (r != t->rc)
            fail_case(t, how, r, NULL);
        return;
    }
    if (r != (ptrdiff_t)t->len)
        fail_case(t, how, r, NULL);
    h1t_dump(m, dump, sizeof dump, NULL);
    if (strcmp(dump, t->dump) != 0)
        fail_case(t, how, r, dump);
}

/* A partial input may only say "need more" or already the final error. */
static bool check_partial(const struct ptest *t, const char *how, ptrdiff_t r)
{
    if (r == 0)
        return true;
    if (r != t->rc || t->rc == 0)
        fail_case(t, how, r, NULL);
    return false;
}

static void run_one(const struct ptest *t, bool resp, const struct h1_limits *lim)
{
    struct h1_parser p;
    struct hb_msg m;
    struct hpack_field f[MAXF];

    /* whole */
    h1_parser_init(&p, lim);
    uint8_t *g = tu_guard_copy(t->in, t->len);
    check_final(t, "whole", parse(resp, &p, t->req, (char *)g, t->len, &m, f), &m);
    tu_guard_free(g, t->len);

    /* byte by byte, the buffer moving every time */
    h1_parser_init(&p, lim);
    for (size_t k = 1; k <= t->len; k++) {
        g = tu_guard_copy(t->in, k);
        ptrdiff_t r = parse(resp, &p, t->req, (char *)g, k, &m, f);
        bool more = k < t->len ? check_partial(t, "bytewise", r) : false;
        if (k == t->len || !more)
            check_final(t, "bytewise", r, &m);
        tu_guard_free(g, k);
        if (!more)
            break;
    }

    /* two pieces */
    for (size_t k = 1; k < t->len; k++) {
        h1_parser_init(&p, lim);
        g = tu_guard_copy(t->in, k);
        ptrdiff_t r = parse(resp, &p, t->req, (char *)g, k, &m, f);
        tu_guard_free(g, k);
        if (!check_partial(t, "split", r))
            continue;
        g = tu_guard_copy(t->in, t->len);
        check_final(t, "split", parse(resp, &p, t->req, (char *)g, t->len, &m, f), &m);
        tu_guard_free(g, t->len);
    }
}

/* The same input followed by a body byte: the buffer no longer ends with
 * the head, so the incremental end scan (not the whole-head fast path)
 * finds it. The answer must not change. */
static void run_with_suffix(const struct ptest *t, bool resp, const struct h1_limits *lim)
{
    struct h1_parser p;
    struct hb_msg m;
    struct hpack_field f[MAXF];
    size_t n = t->len + 1;
    char *in = malloc(n);
    memcpy(in, t->in, t->len);
    in[t->len] = 'Z';
    for (size_t k = 0; k < n; k++) {
        h1_parser_init(&p, lim);
        uint8_t *g;
        if (k) {
            g = tu_guard_copy(in, k);
            ptrdiff_t r = parse(resp, &p, t->req, (char *)g, k, &m, f);
            if (k == t->len || r != 0) {
                /* the head alone, or an early error: already final */
                check_final(t, "suffix-prefix", r, &m);
                tu_guard_free(g, k);
                continue;
            }
            tu_guard_free(g, k);
        }
        g = tu_guard_copy(in, n);
        check_final(t, k ? "suffix-split" : "suffix-whole",
                    parse(resp, &p, t->req, (char *)g, n, &m, f), &m);
        tu_guard_free(g, n);
    }
    free(in);
}

static void run_table(const struct ptest *t, size_t n, bool resp, const struct h1_limits *lim)
{
    for (size_t i = 0; i < n; i++) {
        run_one(&t[i], resp, lim);
        run_with_suffix(&t[i], resp, lim);
    }
}

#define RUN(tab, resp, lim) run_table((tab), sizeof(tab) / sizeof((tab)[0]), (resp), (lim))

static const struct ptest requests_ok[] = {
    {B("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"), 0,
     "GET / a=example.com v=11 [END] cl=0 | host: example.com"},
    {B("GET /a/b?c=d&e HTTP/1.1\r\nHOST: Example.COM\r\nX-Foo: Bar  \r\nAccept:\t*/*\r\n\r\n"), 0,
     "GET /a/b?c=d&e a=Example.COM v=11 [END] cl=0 | host: Example.COM | x-foo: Bar | accept: */*"},
    {B("get / HTTP/1.1\r\n" H "\r\n"), 0, "get / a=a v=11 [END] cl=0 | host: a"},
    {B("GET / HTTP/1.0\r\n\r\n"), 0, "GET / a= v=10 [END,CLOSE] cl=0"},
    {B("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"), 0,
     "GET / a= v=10 [END] cl=0 | connection: Keep-Alive"},
    {B("GET / HTTP/1.1\r\n" H "Connection: close\r\n\r\n"), 0,
     "GET / a=a v=11 [END,CLOSE] cl=0 | host: a | connection: close"},
    {B("\r\n\r\nGET / HTTP/1.1\r\n" H "\r\n"), 0, "GET / a=a v=11 [END] cl=0 | host: a"},
    {B("POST /u HTTP/1.1\r\n" H "Content-Length: 5\r\n\r\n"), 0,
     "POST /u a=a v=11 [CL] cl=5 | host: a | content-length: 5"},
    {B("POST /u HTTP/1.1\r\n" H "Content-Length: 0\r\n\r\n"), 0,
     "POST /u a=a v=11 [END,CL] cl=0 | host: a | content-length: 0"},
    {B("POST /u HTTP/1.1\r\n" H "Content-Length:  007 \r\n\r\n"), 0,
     "POST /u a=a v=11 [CL] cl=7 | host: a | content-length: 007"},
    /* identical repeated values are folded (RFC 9110 §8.6 allows it) */
    {B("POST /u HTTP/1.1\r\n" H "Content-Length: 5\r\nContent-Length: 5\r\n\r\n"), 0,
     "POST /u a=a v=11 [CL] cl=5 | host: a | content-length: 5 | content-length: 5"},
    {B("POST /u HTTP/1.1\r\n" H "Content-Length: 5, 5\r\n\r\n"), 0,
     "POST /u a=a v=11 [CL] cl=5 | host: a | content-length: 5, 5"},
    {B("POST /u HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n"), 0,
     "POST /u a=a v=11 [CHUNKED] cl=0 | host: a | transfer-encoding: chunked"},
    {B("POST /u HTTP/1.1\r\n" H "Transfer-Encoding:\tChunKed\t\r\n\r\n"), 0,
     "POST /u a=a v=11 [CHUNKED] cl=0 | host: a | transfer-encoding: ChunKed"},
    {B("GET / HTTP/1.1\r\n" H "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n"), 0,
     "GET / a=a v=11 [END,UPGRADE] cl=0 | host: a | connection: Upgrade | upgrade: websocket"},
    {B("PUT / HTTP/1.1\r\n" H "Expect: 100-Continue\r\nContent-Length: 1\r\n\r\n"), 0,
     "PUT / a=a v=11 [CL,EXPECT] cl=1 | host: a | expect: 100-Continue | content-length: 1"},
    {B("PUT / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n"), 0,
     "PUT / a= v=10 [END,CLOSE] cl=0 | expect: 100-continue"},
    {B("GET / HTTP/1.1\r\n" H "X-Obs: caf\xc3\xa9\x80\xff\r\nX-Empty:\r\n\r\n"), 0,
     "GET / a=a v=11 [END] cl=0 | host: a | x-obs: caf\xc3\xa9\x80\xff | x-empty: "},
    {B("GET / HTTP/1.1\r\n" H "Transfer_Encoding: chunked\r\n\r\n"), 0,
     "GET / a=a v=11 [END] cl=0 | host: a | transfer_encoding: chunked"},
    {B("GET /p|{}^`\"<> HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n"), 0,
     "GET /p|{}^`\"<> a=[::1]:8080 v=11 [END] cl=0 | host: [::1]:8080"},
    /* request-target forms (RFC 9112 §3.2) */
    {B("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"), 0,
     "CONNECT  a=example.com:443 v=11 [END] cl=0 | host: example.com:443"},
    {B("OPTIONS * HTTP/1.1\r\n" H "\r\n"), 0, "OPTIONS * a=a v=11 [END] cl=0 | host: a"},
    {B("GET http://example.com/x?y HTTP/1.1\r\nHost: other\r\n\r\n"), 0,
     "GET http:///x?y a=example.com v=11 [END] cl=0 | host: other"},
    {B("GET HTTPS://example.com HTTP/1.1\r\n" H "\r\n"), 0,
     "GET HTTPS:/// a=example.com v=11 [END] cl=0 | host: a"},
    {B("GET http://example.com:8080?q=1 HTTP/1.1\r\n" H "\r\n"), 0,
     "GET http:///?q=1 a=example.com:8080 v=11 [END] cl=0 | host: a"},
    {B("GET / HTTP/1.1\r\nHost:\r\n\r\n"), 0, "GET / a= v=11 [END] cl=0 | host: "},
};

/* The smuggling corpus and everything else a strict parser must refuse. */
static const struct ptest requests_bad[] = {
    /* CL.TE / TE.CL: both framings present */
    {B("POST / HTTP/1.1\r\n" H "Content-Length: 13\r\nTransfer-Encoding: chunked\r\n\r\n"),
     H1_ETE_WITH_CL},
    {B("POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"),
     H1_ETE_WITH_CL},
    /* TE.TE obfuscations */
    {B("POST / HTTP/1.1\r\n" H "Transfer-Encoding: xchunked\r\n\r\n"), H1_ETE_NOT_CHUNKED},
    {B("POST / HTTP/1.1\r\n" H "Transfer-Encoding : chunked\r\n\r\n"), H1_ENAME_WS},
    {B("POST / HTTP/1.1\r\n" H "Transfer-Encoding\t: chunked\r\n\r\n"), H1_ENAME_WS},
    {B("POST / HTTP/1.1\r\n Transfer-Encoding: chunked\r\n" H "\r\n"), H1_EOBS_FOLD},
    {B("POST / HTTP/1.1\r\n" H "X: y\r\n Transfer-Encoding: chunked\r\n\r\n"), H1_EOBS_FOLD},
    {B("POST / HTTP/1.1\r\n" H "Transfer-Encoding:\r\n chunked\r\n\r\n"), H1_EOBS_FOLD},
    {B("POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked, identity\r\n\r\n"), H1_ETE_NOT_CHUNKED},
    {B("POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n"),
     H1_ETE_NOT_CHUNKED},
    {B("POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"),
     H1_ETE_CHUNKED_TWICE},
    {B("POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked, chunked\r\n\r\n"),
     H1_ETE_CHUNKED_TWICE},
    {B("POST / HTTP/1.1\r\n" H "Transfer-Encoding: gzip, chunked\r\n\r\n"), H1_ETE_UNSUPPORTED},
    {B("POST / HTTP/1.1\r\n" H "Transfer-Encoding: \"chunked\"\r\n\r\n"), H1_ETE_INVALID},
    {B("POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked;q=1\r\n\r\n"), H1_ETE_NOT_CHUNKED},
    {B("POST / HTTP/1.1\r\n" H "Transfer-Encoding:\r\n\r\n"), H1_ETE_INVALID},
    {B("POST / HTTP/1.1\r\n" H "Transfer-Encoding: ,\r\n\r\n"), H1_ETE_INVALID},
    {B("POST / HTTP/1.1\r\n" H "Transfer-Encoding: chun ked\r\n\r\n"), H1_ETE_INVALID},
    {B("POST / HTTP/1.1\r\n" H "Transfer-Encoding: chu\0nked\r\n\r\n"), H1_EVALUE},
    {B("POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\rX: y\r\n\r\n"), H1_EBARE_CR},
    {B("POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\nX: y\r\n\r\n"), H1_EBARE_LF},
    {B("POST / HTTP/1.1\r\n" H "Transfer-\0Encoding: chunked\r\n\r\n"), H1_ENAME},
    {B("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), H1_ETE_HTTP10},
    {B("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n"),
     H1_ETE_HTTP10},
    /* Content-Length */
    {B("POST / HTTP/1.1\r\n" H "Content-Length: 5\r\nContent-Length: 6\r\n\r\n"), H1_ECL_CONFLICT},
    {B("POST / HTTP/1.1\r\n" H "Content-Length: 5, 6\r\n\r\n"), H1_ECL_CONFLICT},
    {B("POST / HTTP/1.1\r\n" H "Content-Length: +5\r\n\r\n"), H1_ECL_INVALID},
    {B("POST / HTTP/1.1\r\n" H "Content-Length: -5\r\n\r\n"), H1_ECL_INVALID},
    {B("POST / HTTP/1.1\r\n" H "Content-Length: 0x5\r\n\r\n"), H1_ECL_INVALID},
    {B("POST / HTTP/1.1\r\n" H "Content-Length: 5 5\r\n\r\n"), H1_ECL_INVALID},
    {B("POST / HTTP/1.1\r\n" H "Content-Length: 5a\r\n\r\n"), H1_ECL_INVALID},
    {B("POST / HTTP/1.1\r\n" H "Content-Length: 1e3\r\n\r\n"), H1_ECL_INVALID},
    {B("POST / HTTP/1.1\r\n" H "Content-Length:\r\n\r\n"), H1_ECL_INVALID},
    {B("POST / HTTP/1.1\r\n" H "Content-Length: 99999999999999999999\r\n\r\n"), H1_ECL_INVALID},
    {B("POST / HTTP/1.1\r\n" H "Content-Length: 9223372036854775808\r\n\r\n"), H1_ECL_INVALID},
    {B("POST / HTTP/1.1\r\n" H "Content-Length : 5\r\n\r\n"), H1_ENAME_WS},
    {B("POST / HTTP/1.1\r\n" H "Content-Length: 5\0\r\n\r\n"), H1_EVALUE},
    /* field lines */
    {B("GET / HTTP/1.1\r\n" H "X: a\x01"
       "b\r\n\r\n"),
     H1_EVALUE},
    {B("GET / HTTP/1.1\r\n" H "X: a\x7f\r\n\r\n"), H1_EVALUE},
    {B("GET / HTTP/1.1\r\n" H "X: a\rb\r\n\r\n"), H1_EBARE_CR},
    {B("GET / HTTP/1.1\r\n" H "X: a\r\r\n\r\n"), H1_EBARE_CR},
    {B("GET / HTTP/1.1\r\n" H ": x\r\n\r\n"), H1_ENAME},
    {B("GET / HTTP/1.1\r\n" H "X\r\n\r\n"), H1_ENO_COLON},
    {B("GET / HTTP/1.1\r\n" H "X(y): z\r\n\r\n"), H1_ENAME},
    {B("GET / HTTP/1.1\r\n" H "X\xc3\xa9: z\r\n\r\n"), H1_ENAME},
    {B("GET / HTTP/1.1\r\n" H "\n"), H1_EBARE_LF},
    {B("GET / HTTP/1.1\n" H "\r\n"), H1_EBARE_LF},
    /* request line */
    {B("GET  / HTTP/1.1\r\n" H "\r\n"), H1_ESTART_LINE},
    {B("GET / HTTP/1.1 \r\n" H "\r\n"), H1_EVERSION},
    {B(" GET / HTTP/1.1\r\n" H "\r\n"), H1_EMETHOD},
    {B("G(T / HTTP/1.1\r\n" H "\r\n"), H1_EMETHOD},
    {B("GET\t/ HTTP/1.1\r\n" H "\r\n"), H1_EMETHOD},
    {B("GET /a#b HTTP/1.1\r\n" H "\r\n"), H1_ETARGET},
    {B("GET /a\x01 HTTP/1.1\r\n" H "\r\n"), H1_ETARGET},
    {B("GET /\xc3\xa9 HTTP/1.1\r\n" H "\r\n"), H1_ETARGET},
    {B("GET /\r\n\r\n"), H1_ESTART_LINE},
    {B("GET / HTTP/2.0\r\n" H "\r\n"), H1_EVERSION_UNSUPPORTED},
    {B("GET / HTTP/1.2\r\n" H "\r\n"), H1_EVERSION_UNSUPPORTED},
    {B("GET / HTTP/0.9\r\n" H "\r\n"), H1_EVERSION_UNSUPPORTED},
    {B("GET / http/1.1\r\n" H "\r\n"), H1_EVERSION},
    {B("GET / HTTP/1.10\r\n" H "\r\n"), H1_EVERSION},
    {B("GET / HTTP/1\r\n" H "\r\n"), H1_EVERSION},
    {B("GET / HTTP/1.1\r\r\n" H "\r\n"), H1_EBARE_CR},
    /* Host (RFC 9112 §3.2) */
    {B("GET / HTTP/1.1\r\n\r\n"), H1_EHOST_MISSING},
    {B("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"), H1_EHOST_DUP},
    {B("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n"), H1_EHOST_DUP},
    {B("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), H1_EHOST_INVALID},
    {B("GET / HTTP/1.1\r\nHost: u@a\r\n\r\n"), H1_EHOST_INVALID},
    {B("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"), H1_EHOST_INVALID},
    /* request-target forms */
    {B("CONNECT / HTTP/1.1\r\n" H "\r\n"), H1_ETARGET_FORM},
    {B("CONNECT example.com HTTP/1.1\r\n" H "\r\n"), H1_ETARGET_FORM},
    {B("CONNECT example.com: HTTP/1.1\r\n" H "\r\n"), H1_ETARGET_FORM},
    {B("CONNECT :443 HTTP/1.1\r\n" H "\r\n"), H1_ETARGET_FORM},
    {B("GET * HTTP/1.1\r\n" H "\r\n"), H1_ETARGET_FORM},
    {B("GET example.com:80 HTTP/1.1\r\n" H "\r\n"), H1_ETARGET_FORM},
    {B("GET ftp://example.com/ HTTP/1.1\r\n" H "\r\n"), H1_ETARGET_FORM},
    {B("GET http:/example.com/ HTTP/1.1\r\n" H "\r\n"), H1_ETARGET_FORM},
    {B("GET http://user@example.com/ HTTP/1.1\r\n" H "\r\n"), H1_ETARGET},
    {B("GET http:///x HTTP/1.1\r\n" H "\r\n"), H1_ETARGET},
};

static void test_requests_ok(void **state)
{
    RUN(requests_ok, false, NULL);
}

static void test_requests_bad(void **state)
{
    RUN(requests_bad, false, NULL);
}

static void test_error_codes(void **state)
{
    assert_string_equal(h1_err_name(H1_ETE_WITH_CL), "TE_WITH_CL");
    assert_string_equal(h1_err_name(0), "NEED_MORE");
    assert_string_equal(h1_err_name(-9999), "UNKNOWN");
    assert_string_equal(h1_err_name(1), "UNKNOWN");
    assert_int_equal(h1_err_status(H1_ELINE_TOO_LONG), 414);
    assert_int_equal(h1_err_status(H1_EHEAD_TOO_LARGE), 431);
    assert_int_equal(h1_err_status(H1_ETE_UNSUPPORTED), 501);
    assert_int_equal(h1_err_status(H1_EVERSION_UNSUPPORTED), 505);
    assert_int_equal(h1_err_status(H1_ETE_NOT_CHUNKED), 400);
    assert_int_equal(h1_err_status(0), 0);
    assert_int_equal(H1_EBARE_LF, -1);
    assert_true(strstr(h1_err_message(H1_EOBS_FOLD), "obs-fold") != NULL);
}

static const struct ptest responses[] = {
    {B("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"), 0,
     "200 v=11 [CL] cl=5 | content-length: 5"},
    {B("HTTP/1.1 200 OK\r\n\r\n"), 0, "200 v=11 [CLOSE,DELIM] cl=0"},
    {B("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n"), 0,
     "200 v=11 [END,CL] cl=0 | content-length: 0"},
    {B("HTTP/1.1 200 \r\nContent-Length: 1\r\n\r\n"), 0, "200 v=11 [CL] cl=1 | content-length: 1"},
    {B("HTTP/1.1 404 Not\tFound \xe9t\xe9\r\nContent-Length: 1\r\n\r\n"), 0,
     "404 v=11 [CL] cl=1 | content-length: 1"},
    {B("HTTP/1.1 204 No Content\r\n\r\n"), 0, "204 v=11 [END] cl=0"},
    {B("HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n"), 0,
     "304 v=11 [END] cl=0 | content-length: 100 | transfer-encoding: chunked"},
    {B("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"), 0,
     "200 v=11 [END] cl=0 | content-length: 100", H1_REQ_HEAD},
    {B("HTTP/1.1 100 Continue\r\n\r\n"), 0, "100 v=11 [END] cl=0"},
    {B("HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n"), 0,
     "101 v=11 [END,UPGRADE,TUNNEL] cl=0 | connection: upgrade | upgrade: websocket"},
    {B("HTTP/1.1 200 Connection established\r\n\r\n"), 0, "200 v=11 [END,TUNNEL] cl=0",
     H1_REQ_CONNECT},
    {B("HTTP/1.1 407 Auth\r\nContent-Length: 2\r\n\r\n"), 0,
     "407 v=11 [CL] cl=2 | content-length: 2", H1_REQ_CONNECT},
    {B("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), 0,
     "200 v=11 [CHUNKED] cl=0 | transfer-encoding: chunked"},
    /* TE overrides CL: the CL field is removed, the connection not reused */
    {B("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\nX: y\r\n\r\n"), 0,
     "200 v=11 [CHUNKED,CLOSE,NO_REUSE] cl=0 | transfer-encoding: chunked | x: y"},
    {B("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"), 0,
     "200 v=11 [CLOSE,DELIM,TE_CODED] cl=0 | transfer-encoding: gzip"},
    {B("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, identity\r\n\r\n"), 0,
     "200 v=11 [CLOSE,DELIM,TE_CODED] cl=0 | transfer-encoding: chunked, identity"},
    {B("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), 0,
     "200 v=11 [CHUNKED,TE_CODED] cl=0 | transfer-encoding: gzip, chunked"},
    {B("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n"), 0,
     "200 v=10 [CL,CLOSE] cl=1 | content-length: 1"},
    {B("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\n"), 0,
     "200 v=10 [CL] cl=1 | connection: keep-alive | content-length: 1"},
    {B("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\n"), 0,
     "200 v=11 [CL,CLOSE] cl=1 | connection: close | content-length: 1"},
    {B("HTTP/1.1 200 OK\r\nSet-Cookie: a=b\r\nSet-Cookie: c=d\r\nContent-Length: 5, 5\r\n\r\n"), 0,
     "200 v=11 [CL] cl=5 | set-cookie: a=b | set-cookie: c=d | content-length: 5, 5"},
};

static const struct ptest responses_bad[] = {
    {B("HTTP/1.1 20 OK\r\n\r\n"), H1_ESTATUS},
    {B("HTTP/1.1 2000 OK\r\n\r\n"), H1_ESTATUS},
    {B("HTTP/1.1 099 X\r\n\r\n"), H1_ESTATUS},
    {B("HTTP/1.1 600 X\r\n\r\n"), H1_ESTATUS},
    {B("HTTP/1.1 2x0 X\r\n\r\n"), H1_ESTATUS},
    {B("HTTP/1.1  200 X\r\n\r\n"), H1_ESTATUS},
    {B("HTTP/1.1 200 O\x01K\r\n\r\n"), H1_EREASON},
    {B("HTTP/1.1 200 O\x7fK\r\n\r\n"), H1_EREASON},
    {B("HTTP/1.1 200 OK\rX\r\n\r\n"), H1_EBARE_CR},
    {B("HTTP/1.1 200 OK\n\r\n"), H1_EBARE_LF},
    {B("HTTP/1.1\t200 OK\r\n\r\n"), H1_ESTART_LINE},
    {B("HTTP/2 200 OK\r\n\r\n"), H1_EVERSION},
    {B("HTTP/2.0 200 OK\r\n\r\n"), H1_EVERSION_UNSUPPORTED},
    {B("ICY 200 OK\r\n\r\n"), H1_EVERSION},
    {B("\r\nHTTP/1.1 200 OK\r\n\r\n"), H1_EVERSION},
    {B("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), H1_ETE_HTTP10},
    {B("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"), H1_ECL_CONFLICT},
    {B("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"), H1_ECL_INVALID},
    {B("HTTP/1.1 304 Not Modified\r\nContent-Length: x\r\n\r\n"), H1_ECL_INVALID},
    {B("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n"), H1_ETE_CHUNKED_TWICE},
    {B("HTTP/1.1 200 OK\r\nTransfer-Encoding: \r\n\r\n"), H1_ETE_INVALID},
    {B("HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n"), H1_EOBS_FOLD},
    {B("HTTP/1.1 200 OK\r\nX : b\r\n\r\n"), H1_ENAME_WS},
    {B("HTTP/1.1 200 OK\r\nX: \0\r\n\r\n"), H1_EVALUE},
};

static void test_responses(void **state)
{
    RUN(responses, true, NULL);
    RUN(responses_bad, true, NULL);
}

static void test_bare_lf_allowed(void **state)
{
    struct h1_limits lim;
    h1_limits_default(&lim);
    lim.allow_bare_lf = true;
    static const struct ptest t[] = {
        {B("GET / HTTP/1.1\nHost: a\n\n"), 0, "GET / a=a v=11 [END] cl=0 | host: a"},
        {B("\nGET / HTTP/1.1\r\nHost: a\n\r\n"), 0, "GET / a=a v=11 [END] cl=0 | host: a"},
        {B("GET / HTTP/1.1\nHost: a\rb\n\n"), H1_EBARE_CR},
    };
    RUN(t, false, &lim);
    static const struct ptest r[] = {
        {B("HTTP/1.1 200 OK\nContent-Length: 1\n\n"), 0, "200 v=11 [CL] cl=1 | content-length: 1"},
    };
    RUN(r, true, &lim);
}

/* Each limit has its own error, exactly at the boundary. */
static void test_limits(void **state)
{
    struct h1_limits lim;
    h1_limits_default(&lim);
    lim.max_start_line = 18; /* "GET /abc HTTP/1.1\r\n" is 19 */
    lim.max_field_line = 9;  /* "Host: a\r\n" is 9 */
    lim.max_fields = 2;
    lim.max_head = 40;
    static const struct ptest t[] = {
        {B("GET /ab HTTP/1.1\r\nHost: a\r\n\r\n"), 0, "GET /ab a=a v=11 [END] cl=0 | host: a"},
        {B("GET /abc HTTP/1.1\r\nHost: a\r\n\r\n"), H1_ELINE_TOO_LONG},
        {B("GET /abcdefghijklmnopqrstuvwxyz"), H1_ELINE_TOO_LONG},
        {B("GET /ab HTTP/1.1\r\nHost: ab\r\n\r\n"), H1_EFIELD_TOO_LONG},
        {B("GET / HTTP/1.1\r\nHost: a\r\nA: b\r\nB: c\r\n\r\n"), H1_ETOO_MANY_FIELDS},
        {B("GET / HTTP/1.1\r\nHost: a\r\nA: b\r\n\r\n"), 0,
         "GET / a=a v=11 [END] cl=0 | host: a | a: b"},
        {B("GET / HTTP/1.1\r\nHost: a\r\nA: b\r\nBB: cccccc"), H1_EHEAD_TOO_LARGE},
    };
    RUN(t, false, &lim);
    /* the caller's array is a limit too */
    struct h1_parser p;
    struct hb_msg m;
    struct hpack_field f[2];
    char buf[] = "GET / HTTP/1.1\r\nHost: a\r\nA: b\r\n\r\n";
    h1_parser_init(&p, NULL);
    assert_int_equal(h1_parse_request(&p, buf, strlen(buf), &m, f, 1), H1_ETOO_MANY_FIELDS);
    /* and errors are sticky until reset */
    assert_int_equal(h1_parse_request(&p, buf, strlen(buf), &m, f, 1), H1_ETOO_MANY_FIELDS);
    h1_parser_reset(&p);
    assert_int_equal(h1_parse_request(&p, buf, strlen(buf), &m, f, 2), (ptrdiff_t)strlen(buf));
}

/* A huge head fails as soon as the limit is passed, not when it ends. */
static void test_limit_early(void **state)
{
    struct h1_parser p;
    struct hb_msg m;
    struct hpack_field f[4];
    size_t n = 70000;
    char *buf = malloc(n);
    memcpy(buf, "GET / HTTP/1.1\r\n", 16);
    for (size_t i = 16; i < n; i += 8)
        memcpy(buf + i, "X: yyy\r\n", 8);
    h1_parser_init(&p, NULL);
    ptrdiff_t r = 0;
    size_t len;
    for (len = 100; len <= n && r == 0; len += 100) {
        r = h1_parse_request(&p, buf, len, &m, f, 4);
        /* resumable in O(n): what was scanned is not scanned again */
        assert_true(r != 0 || p.scanned + 3 >= len);
    }
    assert_int_equal(r, H1_EHEAD_TOO_LARGE);
    assert_true(len - 100 <= 65536 + 100);
    free(buf);
}

/* The head length leaves the body and the next message alone, and names
 * are lowercased in place. */
static void test_pipelined(void **state)
{
    char buf[] = "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET /b HTTP/1.1\r\n";
    struct h1_parser p;
    struct hb_msg m;
    struct hpack_field f[8];
    h1_parser_init(&p, NULL);
    ptrdiff_t r = h1_parse_request(&p, buf, strlen(buf), &m, f, 8);
    assert_int_equal(r, 48);
    assert_memory_equal(buf + r, "abcGET", 6);
    assert_memory_equal(buf + 27, "content-length", 14);
    h1_parser_reset(&p);
    assert_int_equal(h1_parse_request(&p, buf + r + 3, strlen(buf) - (size_t)r - 3, &m, f, 8), 0);
}

/* A name as the map says the sender spelt it (the contract of
 * h1_case_map in h1_common.h), or "" when the map does not cover it. */
static const char *orig_name(const struct h1_case_map *cm, const struct hpack_field *f)
{
    static char out[256];
    if (!h1_case_map_covers(cm, f->name, f->name_len))
        return "";
    size_t off = (size_t)(f->name - cm->base);
    for (size_t i = 0; i < f->name_len; i++, off++) {
        char c = f->name[i];
        out[i] = (cm->upper[off / 8] >> (off % 8)) & 1 ? (char)(c - 'a' + 'A') : c;
    }
    out[f->name_len] = '\0';
    return out;
}

/* The names' original case is kept only when asked, and names are
 * lowercased in buf either way. */
static void test_keep_case(void **state)
{
    static const char req[] = "GET / HTTP/1.1\r\nHost: a\r\nx-MiXeD-Case: Va\r\n"
                              "CONTENT-type: TEXT\r\nx-a-very-long-Name-OVER-sixteen-Bytes: 1\r\n"
                              "lower: l\r\n\r\n";
    static const char *const want[] = {"Host", "x-MiXeD-Case", "CONTENT-type",
                                       "x-a-very-long-Name-OVER-sixteen-Bytes", "lower"};
    struct h1_parser p;
    struct hb_msg m;
    struct hpack_field f[8];
    char buf[sizeof req];
    uint8_t bits[64];

    memcpy(buf, req, sizeof req);
    h1_parser_init(&p, NULL);
    assert_int_equal(h1_parse_request(&p, buf, sizeof req - 1, &m, f, 8), sizeof req - 1);
    assert_null(m.orig_case); /* not asked: nothing kept */
    assert_memory_equal(m.fields[1].name, "x-mixed-case", 12);

    /* Asked: the same lowercase names, and the map gives the sender's spelling,
     * also for a head that came byte by byte. */
    for (size_t step = 0; step < 2; step++) {
        memcpy(buf, req, sizeof req);
        memset(bits, 0xa5, sizeof bits);
        h1_parser_init(&p, NULL);
        h1_parser_keep_case(&p, bits, sizeof bits);
        ptrdiff_t r = 0;
        for (size_t n = step ? 1 : sizeof req - 1; n < sizeof req && r == 0; n++)
            r = h1_parse_request(&p, buf, n, &m, f, 8);
        assert_int_equal(r, sizeof req - 1);
        assert_non_null(m.orig_case);
        assert_ptr_equal(m.orig_case->base, buf);
        assert_int_equal(m.orig_case->len, sizeof req - 1);
        assert_int_equal(m.nfields, 5);
        for (uint32_t i = 0; i < m.nfields; i++) {
            char low[64];
            size_t n = strlen(want[i]);
            for (size_t k = 0; k <= n; k++)
                low[k] = (char)h1_lower((unsigned char)want[i][k]);
            assert_memory_equal(m.fields[i].name, low, n);
            assert_string_equal(orig_name(m.orig_case, &m.fields[i]), want[i]);
        }
        /* bits for the value bytes too, but values are never lowercased */
        assert_memory_equal(m.fields[2].value, "TEXT", 4);
    }

    /* reset keeps the storage for the next head; init forgets it */
    h1_parser_reset(&p);
    char next[] = "GET / HTTP/1.1\r\nHOST: b\r\n\r\n";
    assert_true(h1_parse_request(&p, next, strlen(next), &m, f, 8) > 0);
    assert_string_equal(orig_name(m.orig_case, &m.fields[0]), "HOST");
    h1_parser_init(&p, NULL);
    memcpy(next, "GET / HTTP/1.1\r\nHOST: b\r\n\r\n", sizeof next);
    assert_true(h1_parse_request(&p, next, strlen(next), &m, f, 8) > 0);
    assert_null(m.orig_case);

    /* Responses the same way. */
    char resp[] = "HTTP/1.1 200 OK\r\nX-Backend-ID: 7\r\ncontent-LENGTH: 0\r\n\r\n";
    h1_parser_init(&p, NULL);
    h1_parser_keep_case(&p, bits, sizeof bits);
    assert_true(h1_parse_response(&p, 0, resp, strlen(resp), &m, f, 8) > 0);
    assert_memory_equal(m.fields[0].name, "x-backend-id", 12);
    assert_string_equal(orig_name(m.orig_case, &m.fields[0]), "X-Backend-ID");
    assert_string_equal(orig_name(m.orig_case, &m.fields[1]), "content-LENGTH");

    /* Storage for fewer bytes than the head: the names past it have no
     * original spelling (and nothing is written past the storage). */
    memcpy(buf, req, sizeof req);
    uint8_t small[6] = {0}; /* 48 head bytes: "x-MiXeD-Case" in, "CONTENT-type" cut */
    uint8_t *g = tu_guard_copy(small, sizeof small);
    h1_parser_init(&p, NULL);
    h1_parser_keep_case(&p, g, sizeof small);
    assert_int_equal(h1_parse_request(&p, buf, sizeof req - 1, &m, f, 8), sizeof req - 1);
    assert_int_equal(m.orig_case->len, 48);
    assert_string_equal(orig_name(m.orig_case, &m.fields[1]), "x-MiXeD-Case");
    assert_string_equal(orig_name(m.orig_case, &m.fields[2]), "");
    tu_guard_free(g, sizeof small);
}

/* h1_mark_upper against the obvious loop, every length around the 16-byte
 * steps, writing exactly (n + 7) / 8 bytes. */
static void test_mark_upper(void **state)
{
    char in[80];
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = "aZ-A@[`z{0"[(i * 7 + i / 3) % 10];
    for (size_t n = 0; n <= sizeof in; n++) {
        size_t nb = (n + 7) / 8;
        static const uint8_t zero[16];
        uint8_t *g = tu_guard_copy(zero, nb);
        memset(g, 0xff, nb);
        h1_mark_upper(in, n, g);
        for (size_t i = 0; i < n; i++)
            assert_int_equal((g[i / 8] >> (i % 8)) & 1, in[i] >= 'A' && in[i] <= 'Z');
        for (size_t i = n; i < nb * 8; i++)
            assert_int_equal((g[i / 8] >> (i % 8)) & 1, 0);
        tu_guard_free(g, nb);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keep_case),       cmocka_unit_test(test_mark_upper),
        cmocka_unit_test(test_requests_ok),     cmocka_unit_test(test_requests_bad),
        cmocka_unit_test(test_error_codes),     cmocka_unit_test(test_responses),
        cmocka_unit_test(test_bare_lf_allowed), cmocka_unit_test(test_limits),
        cmocka_unit_test(test_limit_early),     cmocka_unit_test(test_pipelined),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
