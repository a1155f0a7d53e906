/* HTTP/1.1 writer: exact bytes for request and response heads, hop-by-hop
 * removal, name case, framing, refusal of unsafe bytes, exact buffer sizes
 * (written into buffers that end at a guard page), chunk framing, and the
 * differential round trip parse → write → parse. */
#include "testutil/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/h1_parse.h"
#include "core/h1_write.h"
#include "test_h1_util.h"

#define F(n, v)                                                                                    \
    {                                                                                              \
        (n), (v), sizeof(n) - 1, sizeof(v) - 1, 0                                                  \
    }

static struct hb_msg request(const char *method, const char *path, const char *authority,
                             struct hpack_field *f, uint32_t n)
{
    struct hb_msg m = {0};
    m.method = hb_str_c(method);
    m.path = hb_str_c(path);
    m.authority = hb_str_c(authority);
    m.fields = f;
    m.nfields = n;
    return m;
}

/* Writes with every capacity from 0 up: too small must say so and never
 * write past the end; exactly enough must give `want`. */
static void expect_head(const struct hb_msg *m, const struct h1_write_opts *o,
                        const struct hpack_field *extra, size_t nextra, bool resp, const char *want)
{
    size_t n = strlen(want);
    assert_true(h1_write_head_bound(m, extra, nextra) >= n);
    for (size_t cap = 0; cap <= n; cap++) {
        uint8_t *g = tu_guard_copy(want, cap); /* any bytes: it is overwritten */
        ptrdiff_t r = resp ? h1_write_response_head(m, o, extra, nextra, (char *)g, cap)
                           : h1_write_request_head(m, o, extra, nextra, (char *)g, cap);
        if (cap < n) {
            assert_int_equal(r, H1_EWBUF);
        } else {
            if (r != (ptrdiff_t)n || memcmp(g, want, n) != 0) {
                fprintf(stderr, "got  %.*s\nwant %s\n", r > 0 ? (int)r : 0, (char *)g, want);
                fail();
            }
        }
        tu_guard_free(g, cap);
    }
}

static void test_request_from_h2(void **state)
{
    struct hpack_field f[] = {
        F("user-agent", "ua/1"),
        F("connection", "foo, close"),
        F("foo", "bar"),
        F("te", "trailers"),
        F("keep-alive", "1"),
        F("content-length", "5"),
        F("host", "other"),
        F("accept", "*/*"),
        F("upgrade", "h2c"),
        F("transfer-encoding", "chunked"),
        F("proxy-connection", "x"),
        F("http2-settings", "y"),
        F("cookie", "a=b"),
    };
    struct hpack_field extra[] = {F("x-forwarded-for", "192.0.2.1")};
    struct hb_msg m = request("GET", "/x?y", "example.com", f, sizeof f / sizeof f[0]);
    struct h1_write_opts o = {0};
    expect_head(&m, &o, extra, 1, false,
                "GET /x?y HTTP/1.1\r\nhost: example.com\r\nuser-agent: ua/1\r\naccept: */*\r\n"
                "cookie: a=b\r\nx-forwarded-for: 192.0.2.1\r\n\r\n");

    o = (struct h1_write_opts){H1_CASE_TITLE, H1_FRAME_LENGTH, 10, true};
    struct hpack_field g[] = {F("content-type", "text/plain"), F("x-request-id", "1"),
                              F("www-authenticate", "x")};
    m = request("POST", "/u", "a", g, 3);
    expect_head(&m, &o, NULL, 0, false,
                "POST /u HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\nX-Request-Id: 1\r\n"
                "WWW-Authenticate: x\r\nContent-Length: 10\r\nConnection: close\r\n\r\n");

    o = (struct h1_write_opts){.framing = H1_FRAME_CHUNKED};
    m = request("PUT", "/", "a", NULL, 0);
    expect_head(&m, &o, NULL, 0, false,
                "PUT / HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n");

    /* CONNECT: authority-form; no :authority → the host field is kept */
    o = (struct h1_write_opts){0};
    m = request("CONNECT", "", "a:443", NULL, 0);
    expect_head(&m, &o, NULL, 0, false, "CONNECT a:443 HTTP/1.1\r\nhost: a:443\r\n\r\n");
    struct hpack_field h[] = {F("host", "b")};
    m = request("OPTIONS", "*", "", h, 1);
    expect_head(&m, &o, NULL, 0, false, "OPTIONS * HTTP/1.1\r\nhost: b\r\n\r\n");
    m = request("GET", "/", "", NULL, 0);
    expect_head(&m, &o, NULL, 0, false, "GET / HTTP/1.1\r\nhost: \r\n\r\n");
}

static void test_unsafe_refused(void **state)
{
    char buf[512];
    struct h1_write_opts o = {0};
    static const struct hpack_field bad[][1] = {
        {F("x", "a\r\nInjected: 1")},
        {F("x", "a\nb")},
        {F("x", "a\rb")},
        {F("x", "a\0b")},
        {F("x", "a\x7f")},
        {F("x y", "1")},
        {F("x:", "1")},
        {F("", "1")},
        {F("x\r\n", "1")},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct hb_msg m = request("GET", "/", "a", (struct hpack_field *)bad[i], 1);
        assert_int_equal(h1_write_request_head(&m, &o, NULL, 0, buf, sizeof buf), H1_EWFIELD);
        m.nfields = 0;
        assert_int_equal(h1_write_request_head(&m, &o, bad[i], 1, buf, sizeof buf), H1_EWFIELD);
        m.status = 200;
        m.nfields = 1;
        assert_int_equal(h1_write_response_head(&m, &o, NULL, 0, buf, sizeof buf), H1_EWFIELD);
        assert_int_equal(h1_write_last_chunk(bad[i], 1, H1_CASE_LOWER, buf, sizeof buf),
                         H1_EWFIELD);
    }
    struct hb_msg m = request("GET", "/a b", "a", NULL, 0);
    assert_int_equal(h1_write_request_head(&m, &o, NULL, 0, buf, sizeof buf), H1_EWFIELD);
    m = request("GET", "/a\r\nX: y", "a", NULL, 0);
    assert_int_equal(h1_write_request_head(&m, &o, NULL, 0, buf, sizeof buf), H1_EWFIELD);
    m = request("GET", "/", "a\r\nX: y", NULL, 0);
    assert_int_equal(h1_write_request_head(&m, &o, NULL, 0, buf, sizeof buf), H1_EWFIELD);
    m = request("G T", "/", "a", NULL, 0);
    assert_int_equal(h1_write_request_head(&m, &o, NULL, 0, buf, sizeof buf), H1_EWFIELD);
    m = request("", "/", "a", NULL, 0);
    assert_int_equal(h1_write_request_head(&m, &o, NULL, 0, buf, sizeof buf), H1_EWMSG);
    m = request("GET", "", "a", NULL, 0);
    assert_int_equal(h1_write_request_head(&m, &o, NULL, 0, buf, sizeof buf), H1_EWMSG);
}

static void test_response(void **state)
{
    struct hpack_field f[] = {F("content-type", "text/html"),
                              F("connection", "x-hop"),
                              F("x-hop", "1"),
                              F("set-cookie", "a=b"),
                              F("transfer-encoding", "chunked"),
                              F("content-length", "9")};
    struct hb_msg m = {.status = 404, .fields = f, .nfields = 6};
    struct h1_write_opts o = {.framing = H1_FRAME_LENGTH, .content_length = 0};
    expect_head(&m, &o, NULL, 0, true,
                "HTTP/1.1 404 Not Found\r\ncontent-type: text/html\r\nset-cookie: a=b\r\n"
                "content-length: 0\r\n\r\n");
    m = (struct hb_msg){.status = 599};
    o = (struct h1_write_opts){.close = true};
    expect_head(&m, &o, NULL, 0, true, "HTTP/1.1 599 \r\nconnection: close\r\n\r\n");
    /* A field named close next to the Connection: close we add would be
     * one that line nominates (RFC 9110 §7.6.1): not written. Without the
     * close it is an ordinary field. */
    struct hpack_field cf[] = {F("Close", "a=b"), F("x-a", "1")};
    m = (struct hb_msg){.status = 200, .fields = cf, .nfields = 2};
    expect_head(&m, &o, NULL, 0, true, "HTTP/1.1 200 OK\r\nx-a: 1\r\nconnection: close\r\n\r\n");
    struct h1_write_opts keep = {.framing = H1_FRAME_LENGTH, .content_length = 0};
    expect_head(&m, &keep, NULL, 0, true,
                "HTTP/1.1 200 OK\r\nClose: a=b\r\nx-a: 1\r\ncontent-length: 0\r\n\r\n");
    m = (struct hb_msg){.status = 599};
    m.status = 99;
    char buf[64];
    assert_int_equal(h1_write_response_head(&m, &o, NULL, 0, buf, sizeof buf), H1_EWMSG);
    m.status = 600;
    assert_int_equal(h1_write_response_head(&m, &o, NULL, 0, buf, sizeof buf), H1_EWMSG);
    assert_string_equal(h1_reason_phrase(200), "OK");
    assert_string_equal(h1_reason_phrase(431), "Request Header Fields Too Large");
    assert_string_equal(h1_reason_phrase(299), "");
}

static void test_chunks(void **state)
{
    char buf[64];
    assert_int_equal(h1_write_chunk_header(1, buf, sizeof buf), 3);
    assert_memory_equal(buf, "1\r\n", 3);
    assert_int_equal(h1_write_chunk_header(0xabc, buf, sizeof buf), 5);
    assert_memory_equal(buf, "abc\r\n", 5);
    assert_int_equal(h1_write_chunk_header(UINT64_MAX, buf, sizeof buf), H1_CHUNK_HEADER_MAX);
    assert_memory_equal(buf, "ffffffffffffffff\r\n", 18);
    assert_int_equal(h1_write_chunk_header(0, buf, sizeof buf), H1_EWMSG);
    assert_int_equal(h1_write_chunk_header(0xabc, buf, 4), H1_EWBUF);

    struct hpack_field t[] = {F("grpc-status", "0"), F("content-length", "5"),
                              F("transfer-encoding", "x"), F("x-y", "z")};
    assert_int_equal(h1_write_last_chunk(t, 4, H1_CASE_TITLE, buf, sizeof buf), 29);
    assert_memory_equal(buf, "0\r\nGrpc-Status: 0\r\nX-Y: z\r\n\r\n", 29);
    assert_int_equal(h1_write_last_chunk(NULL, 0, H1_CASE_LOWER, buf, sizeof buf), 5);
    assert_memory_equal(buf, "0\r\n\r\n", 5);
    assert_int_equal(h1_write_last_chunk(t, 4, H1_CASE_LOWER, buf, 28), H1_EWBUF);
}

static void test_field_is_hop(void **state)
{
    struct hpack_field f[] = {
        F("connection", "X-Custom"), F("x-custom", "1"),       F("te", "trailers"), F("te", "gzip"),
        F("keep-alive", "t=5"),      F("content-length", "1"), F("accept", "*/*")};
    struct hb_msg m = {.fields = f, .nfields = 7};
    bool want[] = {true, true, false, true, true, false, false};
    for (size_t i = 0; i < 7; i++)
        assert_int_equal(h1_field_is_hop(&m, &f[i]), want[i]);
}

static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

/* In place over the message's own array: a field named in a Connection
 * line that comes before it must go even after the compaction moved other
 * fields over that line (the proxy filters ex->rfields in place). */
static void test_drop_hop_fields(void **state)
{
    struct hpack_field f[] = {F("a", "1"),          F("b", "2"),          F("Connection", "Foo, bar"),
                              F("c", "3"),          F("FOO", "x"),        F("te", "trailers"),
                              F("te", "gzip"),      F("keep-alive", "5"), F("Transfer-Encoding", "chunked"),
                              F("upgrade", "h2c"),  F("bar", "y"),        F("proxy-connection", "k"),
                              F("http2-settings", "AA"), F("d", "4")};
    uint32_t n = sizeof f / sizeof f[0];
    assert_int_equal(h1_drop_hop_fields(f, &n), 0);
    const char *want[] = {"a", "b", "c", "te", "d"};
    assert_int_equal(n, 5);
    for (uint32_t i = 0; i < n; i++)
        assert_memory_equal(f[i].name, want[i], f[i].name_len);
    /* The same answer as h1_field_is_hop, field by field, on random lists. */
    static const char *names[] = {"connection", "x-a", "x-b", "te", "keep-alive", "upgrade", "X-A"};
    static const char *values[] = {"x-a", "x-b, x-a", "trailers", "close", "", "gzip"};
    uint32_t seed = 7;
    for (int round = 0; round < 2000; round++) {
        struct hpack_field g[12], orig[12];
        uint32_t m = lcg(&seed) % 12;
        for (uint32_t i = 0; i < m; i++) {
            const char *nm = names[lcg(&seed) % 7], *v = values[lcg(&seed) % 6];
            g[i] = orig[i] = (struct hpack_field){.name = nm, .name_len = (uint32_t)strlen(nm),
                                                  .value = v, .value_len = (uint32_t)strlen(v)};
        }
        struct hb_msg msg = {.fields = orig, .nfields = m};
        uint32_t k = m, j = 0;
        assert_int_equal(h1_drop_hop_fields(g, &k), 0);
        for (uint32_t i = 0; i < m; i++) {
            if (h1_field_is_hop(&msg, &orig[i]))
                continue;
            assert_true(j < k);
            assert_ptr_equal(g[j].name, orig[i].name);
            assert_ptr_equal(g[j].value, orig[i].value);
            j++;
        }
        assert_int_equal(j, k);
    }
    /* More options than H1_MAX_CONNECTION_OPTIONS: every one still counts. */
    char list[512] = "";
    for (int i = 0; i < H1_MAX_CONNECTION_OPTIONS + 4; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%so%d", i ? ", " : "", i);
    struct hpack_field lots[] = {F("x", "1"), F("O19", "y"), F("o0", "z"), F("o200", "w"),
                                 {"connection", list, 10, (uint32_t)strlen(list), 0},
                                 F("o17", "v")};
    n = 6;
    assert_int_equal(h1_drop_hop_fields(lots, &n), 0);
    assert_int_equal(n, 2);
    assert_memory_equal(lots[0].name, "x", 1);
    assert_memory_equal(lots[1].name, "o200", 4);
    /* More Connection lines than the bound: refused, nothing changed. */
    struct hpack_field many[H1_MAX_CONNECTION_FIELDS + 2];
    for (size_t i = 0; i < H1_MAX_CONNECTION_FIELDS + 1; i++)
        many[i] = (struct hpack_field)F("connection", "close");
    many[H1_MAX_CONNECTION_FIELDS + 1] = (struct hpack_field)F("x", "1");
    n = H1_MAX_CONNECTION_FIELDS + 2;
    assert_int_equal(h1_drop_hop_fields(many, &n), H1_ECONNECTION);
    assert_int_equal(n, H1_MAX_CONNECTION_FIELDS + 2);
}

/* parse → write → parse gives the same message (what the writer forwards). */
static void roundtrip(const char *raw, enum h1_name_case nc)
{
    char in[2048], out[4096], d1[4096], d2[4096];
    struct h1_parser p;
    struct hb_msg m1, m2;
    struct hpack_field f1[64], f2[64];
    uint8_t bits[2048 / 8];
    size_t n = strlen(raw);
    memcpy(in, raw, n);
    h1_parser_init(&p, NULL);
    if (nc == H1_CASE_PRESERVE)
        h1_parser_keep_case(&p, bits, sizeof bits);
    assert_int_equal(h1_parse_request(&p, in, n, &m1, f1, 64), (ptrdiff_t)n);
    struct h1_write_opts o = h1t_opts_for(&m1, nc);
    ptrdiff_t w = h1_write_request_head(&m1, &o, NULL, 0, out, sizeof out);
    assert_true(w > 0);
    h1t_roundtrip_dump(&m1, d1, sizeof d1);
    h1_parser_init(&p, NULL);
    assert_int_equal(h1_parse_request(&p, out, (size_t)w, &m2, f2, 64), w);
    h1t_roundtrip_dump(&m2, d2, sizeof d2);
    if (strcmp(d1, d2) != 0) {
        fprintf(stderr, "wrote %.*s\n1: %s\n2: %s\n", (int)w, out, d1, d2);
        fail();
    }
}

static void test_roundtrip(void **state)
{
    static const char *const raw[] = {
        "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
        "GET /a?b HTTP/1.1\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\nHost: a:8080\r\n"
        "Accept: text/html,*/*;q=0.8\r\nAccept-Encoding: gzip, br\r\nCookie: a=b; c=d\r\n"
        "Connection: keep-alive, X-Hop\r\nX-Hop: 1\r\nTE: trailers\r\n\r\n",
        "POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\nExpect: 100-continue\r\n\r\n",
        "POST /u HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nX-Empty:\r\n\r\n",
        "GET / HTTP/1.0\r\nHost: a\r\n\r\n",
        "GET / HTTP/1.0\r\n\r\n",
        "PUT / HTTP/1.1\r\nHost: a\r\nConnection: expect, x\r\nExpect: 100-continue\r\n\r\n",
        "GET http://example.com/p HTTP/1.1\r\nHost: b\r\n\r\n",
        "GET http://example.com?q HTTP/1.1\r\nHost: b\r\n\r\n",
        "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
        "OPTIONS * HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\nConnection: upgrade\r\n\r\n",
        "DELETE /x HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nX-Obs: caf\xc3\xa9\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof raw / sizeof raw[0]; i++) {
        roundtrip(raw[i], H1_CASE_LOWER);
        roundtrip(raw[i], H1_CASE_TITLE);
        roundtrip(raw[i], H1_CASE_PRESERVE);
    }
}

/* One parsed request written in each of the three modes, exact bytes:
 * preserve writes the client's own spelling for its untouched fields, and
 * Title-Case for a rewritten field, an added one (x-forwarded-for), Host and
 * the framing; with no map (a request from HTTP/2) it is title. */
static void test_name_case_modes(void **state)
{
    char in[] = "POST /p HTTP/1.1\r\nhost: a\r\nx-MiXeD-Case: 1\r\nCONTENT-type: t\r\n"
                "etag: e\r\ncontent-LENGTH: 3\r\nx-EDITED: old\r\n\r\n";
    struct h1_parser p;
    struct hb_msg m;
    struct hpack_field f[8];
    uint8_t bits[sizeof in / 8 + 1];
    h1_parser_init(&p, NULL);
    h1_parser_keep_case(&p, bits, sizeof bits);
    assert_int_equal(h1_parse_request(&p, in, strlen(in), &m, f, 8), (ptrdiff_t)strlen(in));
    assert_int_equal(m.nfields, 6);
    f[5] = (struct hpack_field)F("x-edited", "new"); /* a route's set: from the config */
    struct hpack_field extra[] = {F("x-forwarded-for", "192.0.2.1")};
    struct h1_write_opts o = {H1_CASE_LOWER, H1_FRAME_LENGTH, 3, false};
    expect_head(&m, &o, extra, 1, false,
                "POST /p HTTP/1.1\r\nhost: a\r\nx-mixed-case: 1\r\ncontent-type: t\r\n"
                "etag: e\r\nx-edited: new\r\nx-forwarded-for: 192.0.2.1\r\n"
                "content-length: 3\r\n\r\n");
    o.name_case = H1_CASE_TITLE;
    static const char title[] =
        "POST /p HTTP/1.1\r\nHost: a\r\nX-Mixed-Case: 1\r\nContent-Type: t\r\n"
        "ETag: e\r\nX-Edited: new\r\nX-Forwarded-For: 192.0.2.1\r\nContent-Length: 3\r\n\r\n";
    expect_head(&m, &o, extra, 1, false, title);
    o.name_case = H1_CASE_PRESERVE;
    expect_head(&m, &o, extra, 1, false,
                "POST /p HTTP/1.1\r\nHost: a\r\nx-MiXeD-Case: 1\r\nCONTENT-type: t\r\n"
                "etag: e\r\nX-Edited: new\r\nX-Forwarded-For: 192.0.2.1\r\n"
                "Content-Length: 3\r\n\r\n");
    /* A field moved by an edit keeps its spelling: it is where its name points. */
    struct hpack_field moved[] = {f[2], f[1]};
    struct hb_msg mm = m;
    mm.fields = moved;
    mm.nfields = 2;
    o.close = true;
    expect_head(&mm, &o, NULL, 0, false,
                "POST /p HTTP/1.1\r\nHost: a\r\nCONTENT-type: t\r\nx-MiXeD-Case: 1\r\n"
                "Content-Length: 3\r\nConnection: close\r\n\r\n");
    o.close = false;
    /* No map: preserve is title, byte for byte. */
    m.orig_case = NULL;
    expect_head(&m, &o, extra, 1, false, title);

    /* A response from a backend to an HTTP/1.1 client. */
    char rin[] = "HTTP/1.1 200 OK\r\nX-Backend-ID: 7\r\nwww-AUTHENTICATE: Basic\r\n"
                 "content-length: 0\r\nSet-Cookie: a=b\r\n\r\n";
    h1_parser_init(&p, NULL);
    h1_parser_keep_case(&p, bits, sizeof bits);
    assert_true(h1_parse_response(&p, 0, rin, strlen(rin), &m, f, 8) > 0);
    o = (struct h1_write_opts){H1_CASE_PRESERVE, H1_FRAME_LENGTH, 0, false};
    expect_head(&m, &o, NULL, 0, true,
                "HTTP/1.1 200 OK\r\nX-Backend-ID: 7\r\nwww-AUTHENTICATE: Basic\r\n"
                "Set-Cookie: a=b\r\nContent-Length: 0\r\n\r\n");
    o.name_case = H1_CASE_TITLE;
    expect_head(&m, &o, NULL, 0, true,
                "HTTP/1.1 200 OK\r\nX-Backend-Id: 7\r\nWWW-Authenticate: Basic\r\n"
                "Set-Cookie: a=b\r\nContent-Length: 0\r\n\r\n");

    /* Trailers have no map: preserve is title. */
    char buf[64];
    struct hpack_field t[] = {F("x-checksum", "1")};
    assert_int_equal(h1_write_last_chunk(t, 1, H1_CASE_PRESERVE, buf, sizeof buf), 20);
    assert_memory_equal(buf, "0\r\nX-Checksum: 1\r\n\r\n", 20);

    assert_string_equal(h1_name_case_name(H1_CASE_LOWER), "lower");
    assert_string_equal(h1_name_case_name(H1_CASE_TITLE), "title");
    assert_string_equal(h1_name_case_name(H1_CASE_PRESERVE), "preserve");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_from_h2), cmocka_unit_test(test_unsafe_refused),
        cmocka_unit_test(test_response),        cmocka_unit_test(test_chunks),
        cmocka_unit_test(test_field_is_hop),    cmocka_unit_test(test_drop_hop_fields),
        cmocka_unit_test(test_roundtrip),       cmocka_unit_test(test_name_case_modes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
