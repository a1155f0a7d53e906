/* HTTP/2 engine: RFC 9113 §8 request semantics, one table row per rule.
 * A malformed request is a stream error PROTOCOL_ERROR (§8.1.1) and never
 * reaches the application. */
#include "h2_harness.h"

#define REQ(...) ((const char *const[]){__VA_ARGS__, NULL})
#define BASE     ":method", "GET", ":scheme", "https", ":path", "/", ":authority", "a.example"

struct row {
    const char *what;
    const char *const *kv;
    bool end_stream;
    bool ok;
};

static const struct row rows[] = {
    {"plain GET", REQ(BASE), true, true},
    {"missing :method", REQ(":scheme", "https", ":path", "/", ":authority", "a"), true, false},
    {"missing :scheme", REQ(":method", "GET", ":path", "/", ":authority", "a"), true, false},
    {"missing :path", REQ(":method", "GET", ":scheme", "https", ":authority", "a"), true, false},
    {"empty :path", REQ(":method", "GET", ":scheme", "https", ":path", "", ":authority", "a"), true,
     false},
    {"no :authority is fine", REQ(":method", "GET", ":scheme", "https", ":path", "/"), true, true},
    {"duplicate :path", REQ(BASE, ":path", "/x"), true, false},
    {"duplicate :method", REQ(":method", "GET", BASE), true, false},
    {"unknown pseudo", REQ(BASE, ":foo", "bar"), true, false},
    {":status in a request", REQ(BASE, ":status", "200"), true, false},
    {"pseudo after regular",
     REQ(":method", "GET", ":scheme", "https", "accept", "*/*", ":path", "/"), true, false},
    {"uppercase name", REQ(BASE, "Accept", "x"), true, false},
    {"space in name", REQ(BASE, "acc ept", "x"), true, false},
    {"colon in name", REQ(BASE, "acc:ept", "x"), true, false},
    {"DEL in name", REQ(BASE, "acc\x7f", "x"), true, false},
    {"CR in value", REQ(BASE, "x-a", "a\rb"), true, false},
    {"LF in value", REQ(BASE, "x-a", "a\nb"), true, false},
    {"control byte in value", REQ(BASE, "x-a", "a\x01b"), true, false},
    {"DEL in value", REQ(BASE, "x-a", "a\x7f"), true, false},
    {"HTAB inside value ok", REQ(BASE, "x-a", "a\tb"), true, true},
    {"8-bit value ok (obs-text)", REQ(BASE, "x-a", "caf\xc3\xa9"), true, true},
    {"leading space in value", REQ(BASE, "x-a", " a"), true, false},
    {"trailing tab in value", REQ(BASE, "x-a", "a\t"), true, false},
    {"inner space ok", REQ(BASE, "x-a", "a b"), true, true},
    {"empty value ok", REQ(BASE, "x-a", ""), true, true},
    {"connection", REQ(BASE, "connection", "keep-alive"), true, false},
    {"keep-alive", REQ(BASE, "keep-alive", "5"), true, false},
    {"proxy-connection", REQ(BASE, "proxy-connection", "x"), true, false},
    {"transfer-encoding", REQ(BASE, "transfer-encoding", "chunked"), true, false},
    {"upgrade", REQ(BASE, "upgrade", "websocket"), true, false},
    {"te: trailers ok", REQ(BASE, "te", "trailers"), true, true},
    {"te: gzip", REQ(BASE, "te", "gzip"), true, false},
    {"te: trailers, gzip", REQ(BASE, "te", "trailers, gzip"), true, false},
    {"space in :path",
     REQ(":method", "GET", ":scheme", "https", ":path", "/a b", ":authority", "a"), true, false},
    {":path not origin-form",
     REQ(":method", "GET", ":scheme", "https", ":path", "a", ":authority", "a"), true, false},
    {"OPTIONS *", REQ(":method", "OPTIONS", ":scheme", "https", ":path", "*", ":authority", "a"),
     true, true},
    {"GET *", REQ(":method", "GET", ":scheme", "https", ":path", "*", ":authority", "a"), true,
     false},
    {"bad method token", REQ(":method", "G T", ":scheme", "https", ":path", "/", ":authority", "a"),
     true, false},
    {"userinfo in :authority",
     REQ(":method", "GET", ":scheme", "https", ":path", "/", ":authority", "u@a"), true, false},
    {"host equal to :authority", REQ(BASE, "host", "A.Example"), true, true},
    {"host differs", REQ(BASE, "host", "b.example"), true, false},
    {"two hosts", REQ(":method", "GET", ":scheme", "https", ":path", "/", "host", "a", "host", "a"),
     true, false},
    {"CONNECT", REQ(":method", "CONNECT", ":authority", "a:443"), false, true},
    {"CONNECT with :path", REQ(":method", "CONNECT", ":authority", "a:443", ":path", "/"), false,
     false},
    {"CONNECT with :scheme", REQ(":method", "CONNECT", ":authority", "a:443", ":scheme", "https"),
     false, false},
    {"CONNECT without :authority", REQ(":method", "CONNECT"), false, false},
    {"extended CONNECT",
     REQ(":method", "CONNECT", ":protocol", "websocket", ":scheme", "https", ":path", "/chat",
         ":authority", "a"),
     false, true},
    {"extended CONNECT without :path",
     REQ(":method", "CONNECT", ":protocol", "websocket", ":scheme", "https", ":authority", "a"),
     false, false},
    {":protocol on GET", REQ(BASE, ":protocol", "websocket"), true, false},
    {"content-length 0 with END_STREAM", REQ(BASE, "content-length", "0"), true, true},
    {"content-length 5 with END_STREAM", REQ(BASE, "content-length", "5"), true, false},
    {"content-length not a number", REQ(BASE, "content-length", "5x"), false, false},
    {"content-length conflicting", REQ(BASE, "content-length", "5", "content-length", "6"), false,
     false},
};

static void test_request_table(void **state)
{
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const struct row *r = &rows[i];
        print_message("%s\n", r->what);
        struct hx *x = hx_new(NULL);
        hx_headers(x, 1, r->end_stream ? H2_F_END_STREAM : 0, r->kv);
        hx_flush(x);
        assert_int_equal(hx_goaway(x), -1);
        if (r->ok) {
            assert_int_equal(hx_count_ev(x, 'R'), 1);
            assert_int_equal(hx_rst(x, 1), -1);
        } else {
            assert_int_equal(hx_count_ev(x, 'R'), 0);
            assert_int_equal(hx_rst(x, 1), H2_PROTOCOL_ERROR);
            /* The reason is reported for the logs. */
            struct hx_ev *e = hx_find_ev(x, 'E', 0);
            assert_non_null(e);
            assert_int_equal(e->id, 1);
            assert_int_equal(e->code, H2_PROTOCOL_ERROR);
            assert_true(strlen(e->text) > 5);
            print_message("  -> %s\n", e->text);
        }
        /* The connection goes on either way. */
        hx_headers(x, 3, H2_F_END_STREAM, hx_get);
        hx_flush(x);
        assert_int_equal(hx_find_ev(x, 'R', r->ok ? 1 : 0)->id, 3);
        hx_del(x);
    }
}

static void test_extended_connect_disabled(void **state)
{
    struct h2_config cfg;
    h2_config_defaults(&cfg);
    cfg.enable_connect_protocol = false;
    struct hx *x = hx_new(&cfg);
    hx_headers(x, 1, 0,
               REQ(":method", "CONNECT", ":protocol", "websocket", ":scheme", "https", ":path",
                   "/chat", ":authority", "a"));
    hx_flush(x);
    assert_int_equal(hx_rst(x, 1), H2_PROTOCOL_ERROR);
    hx_del(x);
}

static void test_msg_contents(void **state)
{
    struct hx *x = hx_new(NULL);
    hx_headers(x, 1, 0,
               REQ(":method", "POST", ":scheme", "http", ":path", "/p?q=1", "host", "h.example",
                   "content-length", "3", "cookie", "a=1", "cookie", "b=2"));
    hx_flush(x);
    struct hx_ev *e = hx_find_ev(x, 'R', 0);
    assert_non_null(e);
    /* host fills the authority when :authority is absent (§8.3.1). */
    assert_string_equal(e->text, "POST http h.example /p?q=1|host=h.example|content-length=3"
                                 "|cookie=a=1|cookie=b=2");
    hx_del(x);
}

static void test_content_length_vs_data(void **state)
{
    const char *const *post =
        REQ(":method", "POST", ":scheme", "https", ":path", "/", "content-length", "5");
    /* Too much. */
    struct hx *x = hx_new(NULL);
    hx_headers(x, 1, 0, post);
    hx_data(x, 1, "abc", 3, false);
    hx_data(x, 1, "def", 3, true);
    hx_flush(x);
    assert_int_equal(hx_rst(x, 1), H2_PROTOCOL_ERROR);
    assert_int_equal(hx_count_ev(x, 'D'), 1);
    assert_int_equal(hx_find_ev(x, 'C', 0)->code, H2_PROTOCOL_ERROR);
    hx_del(x);
    /* Too little. */
    x = hx_new(NULL);
    hx_headers(x, 1, 0, post);
    hx_data(x, 1, "abcd", 4, true);
    hx_flush(x);
    assert_int_equal(hx_rst(x, 1), H2_PROTOCOL_ERROR);
    assert_int_equal(hx_count_ev(x, 'D'), 0);
    hx_del(x);
    /* Too little, ended by trailers. */
    x = hx_new(NULL);
    hx_headers(x, 1, 0, post);
    hx_data(x, 1, "abcd", 4, false);
    hx_headers(x, 1, H2_F_END_STREAM, REQ("x-t", "1"));
    hx_flush(x);
    assert_int_equal(hx_rst(x, 1), H2_PROTOCOL_ERROR);
    assert_int_equal(hx_count_ev(x, 'T'), 0);
    hx_del(x);
    /* Exact. */
    x = hx_new(NULL);
    hx_headers(x, 1, 0, post);
    hx_data(x, 1, "ab", 2, false);
    hx_data(x, 1, "cde", 3, true);
    hx_flush(x);
    assert_int_equal(hx_rst(x, 1), -1);
    assert_true(hx_find_ev(x, 'D', 1)->end);
    hx_del(x);
}

static void test_trailers_in(void **state)
{
    struct hx *x = hx_new(NULL);
    hx_headers(x, 1, 0, hx_post);
    hx_data(x, 1, "abc", 3, false);
    hx_headers(x, 1, H2_F_END_STREAM, REQ("x-checksum", "42"));
    hx_flush(x);
    struct hx_ev *t = hx_find_ev(x, 'T', 0);
    assert_non_null(t);
    assert_string_equal(t->text, "   |x-checksum=42");
    hx_del(x);
    /* §8.1: pseudo-headers in trailers. */
    x = hx_new(NULL);
    hx_headers(x, 1, 0, hx_post);
    hx_headers(x, 1, H2_F_END_STREAM, REQ(":path", "/x"));
    hx_flush(x);
    assert_int_equal(hx_rst(x, 1), H2_PROTOCOL_ERROR);
    hx_del(x);
    /* Trailers that do not end the stream. */
    x = hx_new(NULL);
    hx_headers(x, 1, 0, hx_post);
    hx_headers(x, 1, 0, REQ("x-a", "1"));
    hx_flush(x);
    assert_int_equal(hx_rst(x, 1), H2_PROTOCOL_ERROR);
    hx_del(x);
}

static void test_header_list_too_large(void **state)
{
    struct h2_config cfg;
    h2_config_defaults(&cfg);
    cfg.max_header_list_size = 1024;
    struct hx *x = hx_new(&cfg);
    static char v[2000];
    memset(v, 'x', sizeof v - 1);
    hx_headers(x, 1, H2_F_END_STREAM, REQ(BASE, "x-big", v));
    hx_headers(x, 3, H2_F_END_STREAM, hx_get);
    hx_flush(x);
    assert_int_equal(hx_rst(x, 1), H2_PROTOCOL_ERROR);
    /* HPACK stayed in sync: the next request decodes. */
    assert_int_equal(hx_count_ev(x, 'R'), 1);
    assert_int_equal(hx_goaway(x), -1);
    hx_del(x);
}

static void test_priority_field(void **state)
{
    /* RFC 9218: urgency orders DATA; lower first. */
    struct hx *x = hx_new(NULL);
    hx_headers(x, 1, H2_F_END_STREAM, REQ(BASE, "priority", "u=5"));
    hx_headers(x, 3, H2_F_END_STREAM, REQ(BASE, "priority", "u=1, i"));
    hx_flush(x);
    static uint8_t a[40000], b[40000];
    hx_respond(x, 1, 200, a, sizeof a);
    hx_respond(x, 3, 200, b, sizeof b);
    hx_collect(x);
    struct hx_frame *d = hx_find(x, H2_DATA, 0);
    assert_int_equal(d->h.stream_id, 3);
    assert_int_equal(hx_find(x, H2_DATA, 1)->h.stream_id, 3);
    hx_del(x);
    /* PRIORITY_UPDATE moves a stream. */
    x = hx_new(NULL);
    hx_headers(x, 1, H2_F_END_STREAM, hx_get);
    hx_headers(x, 3, H2_F_END_STREAM, hx_get);
    uint8_t pu[8] = {0, 0, 0, 3, 'u', '=', '0'};
    hx_frame(x, H2_PRIORITY_UPDATE, 0, 0, pu, 7);
    hx_flush(x);
    hx_respond(x, 1, 200, a, sizeof a);
    hx_respond(x, 3, 200, b, sizeof b);
    hx_collect(x);
    assert_int_equal(hx_find(x, H2_DATA, 0)->h.stream_id, 3);
    hx_del(x);
    /* A PRIORITY_UPDATE ahead of its HEADERS applies when they arrive. */
    x = hx_new(NULL);
    hx_headers(x, 1, H2_F_END_STREAM, hx_get);
    hx_frame(x, H2_PRIORITY_UPDATE, 0, 0, pu, 7); /* for stream 3, still idle */
    hx_headers(x, 3, H2_F_END_STREAM, REQ(BASE, "priority", "u=7"));
    hx_flush(x);
    assert_int_equal(hx_goaway(x), -1);
    hx_respond(x, 1, 200, a, sizeof a);
    hx_respond(x, 3, 200, b, sizeof b);
    hx_collect(x);
    assert_int_equal(hx_find(x, H2_DATA, 0)->h.stream_id, 3);
    hx_del(x);
}

static void test_rfc7540_weights(void **state)
{
    /* Weights share bandwidth; both streams progress. */
    struct hx *x = hx_new(NULL);
    uint16_t ids[] = {H2_SET_INITIAL_WINDOW_SIZE};
    uint32_t vals[] = {1u << 20};
    hx_settings(x, ids, vals, 1);
    hx_u32(x, H2_WINDOW_UPDATE, 0, 1u << 20);
    uint8_t blk[256];
    size_t n = hx_block(x, blk, sizeof blk, hx_get);
    x->npend +=
        h2_pack_headers(hx_room(x, 300), 1, H2_F_END_HEADERS | H2_F_END_STREAM | H2_F_PRIORITY, blk,
                        n, 0, false, 255, 0);
    n = hx_block(x, blk, sizeof blk, hx_get);
    x->npend +=
        h2_pack_headers(hx_room(x, 300), 3, H2_F_END_HEADERS | H2_F_END_STREAM | H2_F_PRIORITY, blk,
                        n, 0, false, 31, 0);
    hx_flush(x);
    static uint8_t a[300000], b[300000];
    hx_respond(x, 1, 200, a, sizeof a);
    hx_respond(x, 3, 200, b, sizeof b);
    hx_collect(x);
    /* In the first 320 KiB, stream 1 (weight 256) gets about 8x stream 3. */
    size_t got1 = 0, got3 = 0, tot = 0;
    for (size_t i = 0; i < x->nframes && tot < 320 * 1024; i++) {
        if (x->frames[i].h.type != H2_DATA)
            continue;
        tot += x->frames[i].h.length;
        if (x->frames[i].h.stream_id == 1)
            got1 += x->frames[i].h.length;
        else
            got3 += x->frames[i].h.length;
    }
    assert_true(got3 > 0);
    assert_true(got1 > 4 * got3);
    hx_del(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_table),  cmocka_unit_test(test_extended_connect_disabled),
        cmocka_unit_test(test_msg_contents),   cmocka_unit_test(test_content_length_vs_data),
        cmocka_unit_test(test_trailers_in),    cmocka_unit_test(test_header_list_too_large),
        cmocka_unit_test(test_priority_field), cmocka_unit_test(test_rfc7540_weights),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
