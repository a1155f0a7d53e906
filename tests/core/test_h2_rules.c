/* HTTP/2 engine: one row or test per MUST of RFC 9113 §4-§6 (frame rules),
 * §5.1 (stream states), §5.2/§6.9 (flow control) and §6.10 (CONTINUATION):
 * bytes in, the exact frame and error code out. */
#include "h2_harness.h"

enum expect { CONN, STREAM, NONE };

struct frame_row {
    const char *what;
    uint8_t type, flags;
    uint32_t stream;
    size_t len;
    enum expect kind;
    uint32_t code;
};

/* Frames sent on an open connection (stream 1 open, request not ended). */
static const struct frame_row frame_rows[] = {
    {"DATA on stream 0", H2_DATA, 0, 0, 4, CONN, H2_PROTOCOL_ERROR},
    {"HEADERS on stream 0", H2_HEADERS, H2_F_END_HEADERS, 0, 4, CONN, H2_PROTOCOL_ERROR},
    {"PRIORITY on stream 0", H2_PRIORITY, 0, 0, 5, CONN, H2_PROTOCOL_ERROR},
    {"PRIORITY length 4", H2_PRIORITY, 0, 1, 4, STREAM, H2_FRAME_SIZE_ERROR},
    {"PRIORITY length 6", H2_PRIORITY, 0, 1, 6, STREAM, H2_FRAME_SIZE_ERROR},
    {"RST_STREAM on stream 0", H2_RST_STREAM, 0, 0, 4, CONN, H2_PROTOCOL_ERROR},
    {"RST_STREAM length 3", H2_RST_STREAM, 0, 1, 3, CONN, H2_FRAME_SIZE_ERROR},
    {"RST_STREAM length 5", H2_RST_STREAM, 0, 1, 5, CONN, H2_FRAME_SIZE_ERROR},
    {"SETTINGS on stream 1", H2_SETTINGS, 0, 1, 6, CONN, H2_PROTOCOL_ERROR},
    {"SETTINGS length 5", H2_SETTINGS, 0, 0, 5, CONN, H2_FRAME_SIZE_ERROR},
    {"SETTINGS ACK with payload", H2_SETTINGS, H2_F_ACK, 0, 6, CONN, H2_FRAME_SIZE_ERROR},
    {"PUSH_PROMISE from a client", H2_PUSH_PROMISE, H2_F_END_HEADERS, 1, 4, CONN,
     H2_PROTOCOL_ERROR},
    {"PING on stream 1", H2_PING, 0, 1, 8, CONN, H2_PROTOCOL_ERROR},
    {"PING length 7", H2_PING, 0, 0, 7, CONN, H2_FRAME_SIZE_ERROR},
    {"PING length 9", H2_PING, 0, 0, 9, CONN, H2_FRAME_SIZE_ERROR},
    {"GOAWAY on stream 1", H2_GOAWAY, 0, 1, 8, CONN, H2_PROTOCOL_ERROR},
    {"GOAWAY length 7", H2_GOAWAY, 0, 0, 7, CONN, H2_FRAME_SIZE_ERROR},
    {"WINDOW_UPDATE length 3", H2_WINDOW_UPDATE, 0, 0, 3, CONN, H2_FRAME_SIZE_ERROR},
    {"WINDOW_UPDATE length 5", H2_WINDOW_UPDATE, 0, 1, 5, CONN, H2_FRAME_SIZE_ERROR},
    {"CONTINUATION on stream 0", H2_CONTINUATION, 0, 0, 0, CONN, H2_PROTOCOL_ERROR},
    {"CONTINUATION without HEADERS", H2_CONTINUATION, H2_F_END_HEADERS, 1, 0, CONN,
     H2_PROTOCOL_ERROR},
    {"PRIORITY_UPDATE on stream 1", H2_PRIORITY_UPDATE, 0, 1, 4, CONN, H2_PROTOCOL_ERROR},
    {"PRIORITY_UPDATE length 3", H2_PRIORITY_UPDATE, 0, 0, 3, CONN, H2_FRAME_SIZE_ERROR},
    {"unknown type 0x21", 0x21, 0xff, 1, 7, NONE, 0},
    {"unknown type on stream 0", 0xfa, 0, 0, 0, NONE, 0},
    {"DATA with unknown flags", H2_DATA, 0xf6, 1, 3, NONE, 0},
};

static void test_frame_rule_table(void **state)
{
    uint8_t payload[16] = {0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0};
    for (size_t i = 0; i < sizeof frame_rows / sizeof frame_rows[0]; i++) {
        const struct frame_row *r = &frame_rows[i];
        struct hx *x = hx_new(NULL);
        hx_headers(x, 1, 0, hx_post);
        hx_frame(x, r->type, r->flags, r->stream, payload, r->len);
        hx_flush(x);
        print_message("%s\n", r->what);
        if (r->kind == CONN) {
            assert_int_equal(hx_goaway(x), r->code);
            assert_true(h2_conn_want_close(x->c));
            struct hx_ev *e = hx_find_ev(x, 'E', 0);
            assert_non_null(e);
            assert_int_equal(e->id, 0);
            assert_int_equal(e->code, r->code);
        } else if (r->kind == STREAM) {
            assert_int_equal(hx_goaway(x), -1);
            assert_int_equal(hx_rst(x, r->stream), r->code);
        } else {
            assert_int_equal(hx_goaway(x), -1);
            assert_int_equal(hx_count(x, H2_RST_STREAM), 0);
        }
        hx_del(x);
    }
}

static void test_frame_too_large(void **state)
{
    struct hx *x = hx_new(NULL);
    static uint8_t big[16385];
    hx_headers(x, 1, 0, hx_post);
    hx_frame(x, H2_DATA, 0, 1, big, sizeof big);
    hx_flush(x);
    assert_int_equal(hx_goaway(x), H2_FRAME_SIZE_ERROR);
    hx_del(x);
}

static void test_padding(void **state)
{
    /* §6.1: pad length >= payload length is PROTOCOL_ERROR. */
    struct hx *x = hx_new(NULL);
    hx_headers(x, 1, 0, hx_post);
    uint8_t p[4] = {4, 'a', 'b', 'c'};
    hx_frame(x, H2_DATA, H2_F_PADDED, 1, p, 4);
    hx_flush(x);
    assert_int_equal(hx_goaway(x), H2_PROTOCOL_ERROR);
    hx_del(x);

    x = hx_new(NULL);
    uint8_t blk[256];
    size_t n = hx_block(x, blk, sizeof blk, hx_get);
    uint8_t h[300];
    h[0] = (uint8_t)(n + 1); /* pad one more than there is */
    memcpy(h + 1, blk, n);
    hx_frame(x, H2_HEADERS, H2_F_PADDED | H2_F_END_HEADERS | H2_F_END_STREAM, 1, h, n + 1);
    hx_flush(x);
    assert_int_equal(hx_goaway(x), H2_PROTOCOL_ERROR);
    hx_del(x);

    /* Valid padding is stripped; it still counts for flow control. */
    x = hx_new(NULL);
    x->auto_consume = false;
    hx_headers(x, 1, 0, hx_post);
    x->npend += h2_pack_data(hx_room(x, 300), 1, (const uint8_t *)"body", 4, true, 200, false);
    x->npend += h2_pack_headers(hx_room(x, 400), 3,
                                H2_F_END_HEADERS | H2_F_END_STREAM | H2_F_PADDED | H2_F_PRIORITY,
                                blk, 0, 0, false, 0, 10);
    hx_flush(x);
    struct hx_ev *e = hx_find_ev(x, 'D', 0);
    assert_non_null(e);
    assert_int_equal(e->len, 4);
    assert_string_equal(e->text, "body");
    assert_int_equal(hx_goaway(x), -1);
    hx_del(x);
}

static void test_stream_ids(void **state)
{
    /* §5.1.1: an even id from a client. */
    struct hx *x = hx_new(NULL);
    hx_headers(x, 2, H2_F_END_STREAM, hx_get);
    hx_flush(x);
    assert_int_equal(hx_goaway(x), H2_PROTOCOL_ERROR);
    hx_del(x);
    /* ... and a smaller id than an earlier stream. */
    x = hx_new(NULL);
    hx_headers(x, 5, H2_F_END_STREAM, hx_get);
    hx_headers(x, 3, H2_F_END_STREAM, hx_get);
    hx_flush(x);
    assert_int_equal(hx_count_ev(x, 'R'), 1);
    assert_int_equal(hx_goaway(x), H2_PROTOCOL_ERROR);
    /* The GOAWAY names the last stream processed. */
    assert_int_equal(h2_get32(hx_find(x, H2_GOAWAY, 0)->payload), 5);
    hx_del(x);
}

static void test_idle_stream_frames(void **state)
{
    /* §5.1 idle: anything but HEADERS/PRIORITY is a connection error. */
    const uint8_t types[] = {H2_DATA, H2_RST_STREAM, H2_WINDOW_UPDATE};
    for (size_t i = 0; i < sizeof types; i++) {
        struct hx *x = hx_new(NULL);
        hx_u32(x, types[i], 1, 1);
        hx_flush(x);
        assert_int_equal(hx_goaway(x), H2_PROTOCOL_ERROR);
        hx_del(x);
    }
    /* PRIORITY on an idle stream is fine and does not open it. */
    struct hx *x = hx_new(NULL);
    uint8_t pr[5] = {0, 0, 0, 0, 10};
    hx_frame(x, H2_PRIORITY, 0, 9, pr, 5);
    hx_headers(x, 3, H2_F_END_STREAM, hx_get);
    hx_flush(x);
    assert_int_equal(hx_goaway(x), -1);
    assert_int_equal(hx_count_ev(x, 'R'), 1);
    hx_del(x);
}

static void test_half_closed_remote(void **state)
{
    /* §5.1: half-closed (remote) gets STREAM_CLOSED for DATA and HEADERS. */
    struct hx *x = hx_new(NULL);
    hx_headers(x, 1, H2_F_END_STREAM, hx_get);
    hx_data(x, 1, "x", 1, false);
    hx_flush(x);
    assert_int_equal(hx_rst(x, 1), H2_STREAM_CLOSED);
    assert_int_equal(hx_goaway(x), -1);
    struct hx_ev *e = hx_find_ev(x, 'C', 0);
    assert_int_equal(e->code, H2_STREAM_CLOSED);
    hx_del(x);

    x = hx_new(NULL);
    hx_headers(x, 1, H2_F_END_STREAM, hx_get);
    hx_headers(x, 1, H2_F_END_STREAM, hx_get);
    hx_flush(x);
    assert_int_equal(hx_rst(x, 1), H2_STREAM_CLOSED);
    hx_del(x);

    /* WINDOW_UPDATE, PRIORITY and RST_STREAM remain allowed. */
    x = hx_new(NULL);
    hx_headers(x, 1, H2_F_END_STREAM, hx_get);
    hx_u32(x, H2_WINDOW_UPDATE, 1, 100);
    uint8_t pr[5] = {0, 0, 0, 0, 10};
    hx_frame(x, H2_PRIORITY, 0, 1, pr, 5);
    hx_u32(x, H2_RST_STREAM, 1, H2_CANCEL);
    hx_flush(x);
    assert_int_equal(hx_goaway(x), -1);
    assert_int_equal(hx_count(x, H2_RST_STREAM), 0);
    assert_int_equal(hx_find_ev(x, 'C', 0)->code, H2_CANCEL);
    hx_del(x);
}

static void test_closed_after_peer_reset(void **state)
{
    struct hx *x = hx_new(NULL);
    hx_headers(x, 1, 0, hx_post);
    hx_u32(x, H2_RST_STREAM, 1, H2_CANCEL);
    hx_data(x, 1, "x", 1, false);
    hx_flush(x);
    assert_int_equal(hx_rst(x, 1), H2_STREAM_CLOSED);
    hx_del(x);
    /* HEADERS after the peer's RST_STREAM: STREAM_CLOSED too. */
    x = hx_new(NULL);
    hx_headers(x, 1, 0, hx_post);
    hx_u32(x, H2_RST_STREAM, 1, H2_CANCEL);
    hx_headers(x, 1, H2_F_END_STREAM, hx_get);
    hx_flush(x);
    assert_true(hx_rst(x, 1) == H2_STREAM_CLOSED || hx_goaway(x) == H2_STREAM_CLOSED);
    hx_del(x);
}

static void test_closed_after_our_reset_ignored(void **state)
{
    struct hx *x = hx_new(NULL);
    hx_headers(x, 1, 0, hx_post);
    hx_flush(x);
    /* The reset comes much later than the last input: the ignore window
     * starts when the engine next learns the time, not at the stale one. */
    x->now += 60 * HB_NS_PER_SEC;
    assert_int_equal(h2_conn_reset_stream(x->c, 1, H2_CANCEL), 0);
    hx_collect(x);
    assert_int_equal(hx_rst(x, 1), H2_CANCEL);
    hx_free_frames(x);
    /* Frames in flight are ignored (§5.1), HEADERS still decoded. */
    hx_data(x, 1, "late", 4, false);
    hx_headers(x, 1, H2_F_END_STREAM, hx_get); /* trailers in flight */
    hx_u32(x, H2_WINDOW_UPDATE, 1, 10);
    hx_u32(x, H2_RST_STREAM, 1, H2_CANCEL);
    hx_headers(x, 3, H2_F_END_STREAM, hx_get);
    hx_flush(x);
    assert_int_equal(hx_count(x, H2_RST_STREAM), 0);
    assert_int_equal(hx_goaway(x), -1);
    assert_int_equal(hx_count_ev(x, 'R'), 2);
    /* After the window, late frames are STREAM_CLOSED. */
    x->now += 6 * HB_NS_PER_SEC;
    hx_data(x, 1, "late", 4, false);
    hx_flush(x);
    assert_int_equal(hx_rst(x, 1), H2_STREAM_CLOSED);
    hx_del(x);
}

static void test_closed_after_end_stream(void **state)
{
    struct hx *x = hx_new(NULL);
    hx_headers(x, 1, H2_F_END_STREAM, hx_get);
    hx_flush(x);
    hx_respond(x, 1, 200, NULL, 0);
    hx_collect(x);
    hx_data(x, 1, "x", 1, false);
    hx_flush(x);
    assert_int_equal(hx_goaway(x), H2_STREAM_CLOSED);
    hx_del(x);
}

static void test_continuation(void **state)
{
    /* A request split over HEADERS + 2 CONTINUATION frames. */
    struct hx *x = hx_new(NULL);
    uint8_t blk[256];
    size_t n = hx_block(x, blk, sizeof blk, hx_get);
    hx_frame(x, H2_HEADERS, H2_F_END_STREAM, 1, blk, 3);
    hx_frame(x, H2_CONTINUATION, 0, 1, blk + 3, 2);
    hx_frame(x, H2_CONTINUATION, H2_F_END_HEADERS, 1, blk + 5, n - 5);
    hx_flush(x);
    assert_int_equal(hx_count_ev(x, 'R'), 1);
    assert_string_equal(hx_find_ev(x, 'R', 0)->text, "GET https example.com /");
    hx_del(x);

    /* §6.10: anything else in between is a connection PROTOCOL_ERROR. */
    const uint8_t between[] = {H2_DATA, H2_PING, H2_HEADERS, H2_CONTINUATION, 0x42};
    for (size_t i = 0; i < sizeof between; i++) {
        x = hx_new(NULL);
        n = hx_block(x, blk, sizeof blk, hx_get);
        hx_frame(x, H2_HEADERS, H2_F_END_STREAM, 1, blk, 3);
        uint8_t pl[8] = {0};
        uint32_t sid = between[i] == H2_PING ? 0 : between[i] == H2_CONTINUATION ? 3 : 1;
        hx_frame(x, between[i], 0, sid, pl, 8);
        hx_flush(x);
        assert_int_equal(hx_goaway(x), H2_PROTOCOL_ERROR);
        assert_int_equal(hx_count_ev(x, 'R'), 0);
        hx_del(x);
    }
}

static void test_hpack_error(void **state)
{
    struct hx *x = hx_new(NULL);
    uint8_t bad[] = {0xff, 0xff, 0xff, 0xff, 0x7f}; /* index far out of range */
    hx_frame(x, H2_HEADERS, H2_F_END_HEADERS, 1, bad, sizeof bad);
    hx_flush(x);
    assert_int_equal(hx_goaway(x), H2_COMPRESSION_ERROR);
    hx_del(x);
}

static void test_max_concurrent_streams(void **state)
{
    struct h2_config cfg;
    h2_config_defaults(&cfg);
    cfg.max_concurrent_streams = 2;
    struct hx *x = hx_new(&cfg);
    hx_headers(x, 1, 0, hx_post);
    hx_headers(x, 3, 0, hx_post);
    hx_headers(x, 5, 0, hx_post);
    hx_flush(x);
    assert_int_equal(hx_count_ev(x, 'R'), 2);
    assert_int_equal(hx_rst(x, 5), H2_REFUSED_STREAM);
    assert_int_equal(hx_goaway(x), -1);
    /* Once one ends, a new one fits. */
    hx_u32(x, H2_RST_STREAM, 1, H2_CANCEL);
    hx_headers(x, 7, 0, hx_post);
    hx_flush(x);
    assert_int_equal(hx_count_ev(x, 'R'), 3);
    hx_del(x);
}

static void test_flow_control_receive(void **state)
{
    /* Stream window exceeded: stream FLOW_CONTROL_ERROR. */
    struct h2_config cfg;
    h2_config_defaults(&cfg);
    cfg.initial_window_size = 100;
    struct hx *x = hx_new(&cfg);
    x->auto_consume = false;
    static uint8_t d[200];
    hx_headers(x, 1, 0, hx_post);
    hx_data(x, 1, d, 100, false);
    hx_data(x, 1, d, 1, false);
    hx_flush(x);
    assert_int_equal(hx_rst(x, 1), H2_FLOW_CONTROL_ERROR);
    assert_int_equal(hx_goaway(x), -1);
    hx_del(x);

    /* Connection window exceeded: connection FLOW_CONTROL_ERROR. */
    h2_config_defaults(&cfg);
    cfg.connection_window_size = 65535;
    cfg.initial_window_size = 1u << 20;
    x = hx_new(&cfg);
    x->auto_consume = false;
    static uint8_t big[16384];
    hx_headers(x, 1, 0, hx_post);
    for (int i = 0; i < 4; i++)
        hx_data(x, 1, big, 16383, false);
    hx_data(x, 1, big, 4, false);
    hx_flush(x);
    assert_int_equal(hx_goaway(x), H2_FLOW_CONTROL_ERROR);
    hx_del(x);
}

static void test_window_update_rules(void **state)
{
    struct hx *x = hx_new(NULL);
    hx_headers(x, 1, 0, hx_post);
    hx_u32(x, H2_WINDOW_UPDATE, 1, 0);
    hx_flush(x);
    assert_int_equal(hx_rst(x, 1), H2_PROTOCOL_ERROR);
    assert_int_equal(hx_goaway(x), -1);
    hx_u32(x, H2_WINDOW_UPDATE, 0, 0);
    hx_flush(x);
    assert_int_equal(hx_goaway(x), H2_PROTOCOL_ERROR);
    hx_del(x);

    x = hx_new(NULL);
    hx_headers(x, 1, 0, hx_post);
    hx_u32(x, H2_WINDOW_UPDATE, 1, 0x7fffffff - 65535 + 1);
    hx_flush(x);
    assert_int_equal(hx_rst(x, 1), H2_FLOW_CONTROL_ERROR);
    hx_u32(x, H2_WINDOW_UPDATE, 0, 0x7fffffff - 65535);
    hx_flush(x);
    assert_int_equal(hx_goaway(x), -1);
    hx_u32(x, H2_WINDOW_UPDATE, 0, 1);
    hx_flush(x);
    assert_int_equal(hx_goaway(x), H2_FLOW_CONTROL_ERROR);
    hx_del(x);
}

static uint8_t body64k[70000];

static void test_flow_control_send(void **state)
{
    /* The peer's windows bound what we send; INITIAL_WINDOW_SIZE changes
     * apply to open streams and may make a window negative (§6.9.2). */
    struct hx *x = hx_new(NULL);
    hx_headers(x, 1, H2_F_END_STREAM, hx_get);
    hx_flush(x);
    hx_respond(x, 1, 200, body64k, sizeof body64k);
    hx_collect(x);
    size_t sent = 0;
    for (size_t i = 0; i < x->nframes; i++)
        if (x->frames[i].h.type == H2_DATA) {
            sent += x->frames[i].h.length;
            assert_true(x->frames[i].h.length <= 16384);
        }
    assert_int_equal(sent, 65535);
    assert_false(h2_conn_want_write(x->c));
    /* Shrink the initial window by 1000: the stream window is -1000. */
    uint16_t iw = H2_SET_INITIAL_WINDOW_SIZE;
    uint32_t v = 65535 - 1000;
    hx_settings(x, &iw, &v, 1);
    hx_u32(x, H2_WINDOW_UPDATE, 0, 100000);
    hx_u32(x, H2_WINDOW_UPDATE, 1, 1000);
    hx_free_frames(x);
    hx_flush(x);
    assert_int_equal(hx_count(x, H2_DATA), 0);
    hx_u32(x, H2_WINDOW_UPDATE, 1, 5000);
    hx_flush(x);
    /* The window is 5000 now; the 4465 bytes left go, ending the stream. */
    assert_int_equal(hx_count(x, H2_DATA), 1);
    assert_int_equal(hx_find(x, H2_DATA, 0)->h.length, sizeof body64k - 65535);
    assert_int_equal(hx_find(x, H2_DATA, 0)->h.flags, H2_F_END_STREAM);
    assert_int_equal(hx_count_ev(x, 'C'), 1);
    hx_del(x);
}

static void test_initial_window_overflow(void **state)
{
    struct hx *x = hx_new(NULL);
    hx_headers(x, 1, H2_F_END_STREAM, hx_get);
    hx_u32(x, H2_WINDOW_UPDATE, 1, 0x7fffffff - 65535);
    uint16_t iw = H2_SET_INITIAL_WINDOW_SIZE;
    uint32_t v = 65536;
    hx_settings(x, &iw, &v, 1);
    hx_flush(x);
    assert_int_equal(hx_goaway(x), H2_FLOW_CONTROL_ERROR);
    hx_del(x);
}

static void test_initial_window_repeated(void **state)
{
    /* §6.5.3: values in order; the last one counts. */
    struct hx *x = hx_new(NULL);
    hx_headers(x, 1, H2_F_END_STREAM, hx_get);
    uint16_t ids[] = {H2_SET_INITIAL_WINDOW_SIZE, H2_SET_INITIAL_WINDOW_SIZE,
                      H2_SET_INITIAL_WINDOW_SIZE};
    uint32_t vals[] = {100, 0x7fffffff, 10};
    hx_settings(x, ids, vals, 3);
    hx_flush(x);
    hx_respond(x, 1, 200, body64k, 100);
    hx_collect(x);
    assert_int_equal(hx_count(x, H2_DATA), 1);
    assert_int_equal(hx_find(x, H2_DATA, 0)->h.length, 10);
    hx_del(x);
}

static void test_max_frame_size_respected(void **state)
{
    struct hx *x = hx_new(NULL);
    uint16_t ids[] = {H2_SET_MAX_FRAME_SIZE, H2_SET_INITIAL_WINDOW_SIZE};
    uint32_t vals[] = {20000, 100000};
    hx_settings(x, ids, vals, 2);
    hx_u32(x, H2_WINDOW_UPDATE, 0, 100000);
    hx_headers(x, 1, H2_F_END_STREAM, hx_get);
    hx_flush(x);
    hx_respond(x, 1, 200, body64k, sizeof body64k);
    hx_collect(x);
    assert_int_equal(hx_find(x, H2_DATA, 0)->h.length, 20000);
    size_t sent = 0;
    for (size_t i = 0; i < x->nframes; i++)
        if (x->frames[i].h.type == H2_DATA)
            sent += x->frames[i].h.length;
    assert_int_equal(sent, sizeof body64k);
    hx_del(x);
}

static void test_self_dependency(void **state)
{
    struct hx *x = hx_new(NULL);
    hx_headers(x, 1, 0, hx_post);
    uint8_t pr[5] = {0, 0, 0, 1, 10};
    hx_frame(x, H2_PRIORITY, 0, 1, pr, 5);
    hx_flush(x);
    assert_int_equal(hx_rst(x, 1), H2_PROTOCOL_ERROR);
    hx_del(x);
    x = hx_new(NULL);
    uint8_t blk[256];
    size_t n = hx_block(x, blk, sizeof blk, hx_get);
    x->npend +=
        h2_pack_headers(hx_room(x, 300), 3, H2_F_END_HEADERS | H2_F_END_STREAM | H2_F_PRIORITY, blk,
                        n, 3, false, 0, 0);
    hx_flush(x);
    assert_int_equal(hx_rst(x, 3), H2_PROTOCOL_ERROR);
    assert_int_equal(hx_count_ev(x, 'R'), 0);
    hx_del(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frame_rule_table),
        cmocka_unit_test(test_frame_too_large),
        cmocka_unit_test(test_padding),
        cmocka_unit_test(test_stream_ids),
        cmocka_unit_test(test_idle_stream_frames),
        cmocka_unit_test(test_half_closed_remote),
        cmocka_unit_test(test_closed_after_peer_reset),
        cmocka_unit_test(test_closed_after_our_reset_ignored),
        cmocka_unit_test(test_closed_after_end_stream),
        cmocka_unit_test(test_continuation),
        cmocka_unit_test(test_hpack_error),
        cmocka_unit_test(test_max_concurrent_streams),
        cmocka_unit_test(test_flow_control_receive),
        cmocka_unit_test(test_window_update_rules),
        cmocka_unit_test(test_flow_control_send),
        cmocka_unit_test(test_initial_window_overflow),
        cmocka_unit_test(test_initial_window_repeated),
        cmocka_unit_test(test_max_frame_size_respected),
        cmocka_unit_test(test_self_dependency),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
