/* HTTP/2 engine: connection preface, SETTINGS, PING, GOAWAY, a complete
 * exchange in both directions, timeouts (RFC 9113 §3.4, §6.5, §6.7, §6.8). */
#include "h2_harness.h"

static void test_server_preface(void **state)
{
    struct hx *x = hx_new_raw(NULL);
    hx_collect(x);
    /* §3.4: our SETTINGS first, then the connection window raise. */
    assert_true(x->nframes >= 2);
    assert_int_equal(x->frames[0].h.type, H2_SETTINGS);
    assert_int_equal(x->frames[0].h.flags, 0);
    bool saw_push0 = false, saw_mcs = false, saw_ecp = false;
    for (uint32_t o = 0; o < x->frames[0].h.length; o += 6) {
        uint16_t id = (uint16_t)(x->frames[0].payload[o] << 8 | x->frames[0].payload[o + 1]);
        uint32_t v = h2_get32(x->frames[0].payload + o + 2);
        if (id == H2_SET_ENABLE_PUSH)
            saw_push0 = v == 0;
        if (id == H2_SET_MAX_CONCURRENT_STREAMS)
            saw_mcs = v == 100;
        if (id == H2_SET_ENABLE_CONNECT_PROTOCOL)
            saw_ecp = v == 1;
    }
    assert_true(saw_push0 && saw_mcs && saw_ecp);
    assert_int_equal(x->frames[1].h.type, H2_WINDOW_UPDATE);
    assert_int_equal(x->frames[1].h.stream_id, 0);
    assert_int_equal(h2_get32(x->frames[1].payload), (1u << 20) - 65535);
    assert_false(h2_conn_want_close(x->c));
    hx_del(x);
}

static void test_bad_preface(void **state)
{
    struct hx *x = hx_new_raw(NULL);
    hx_raw(x, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27);
    hx_flush(x);
    assert_int_equal(hx_goaway(x), H2_PROTOCOL_ERROR);
    assert_true(h2_conn_want_close(x->c));
    assert_int_equal(hx_count_ev(x, 'R'), 0);
    hx_del(x);
}

static void test_preface_then_not_settings(void **state)
{
    struct hx *x = hx_new_raw(NULL);
    hx_preface(x);
    uint8_t ping[8] = {0};
    hx_frame(x, H2_PING, 0, 0, ping, 8);
    hx_flush(x);
    assert_int_equal(hx_goaway(x), H2_PROTOCOL_ERROR);
    assert_int_equal(hx_count(x, H2_PING), 0);
    assert_true(h2_conn_want_close(x->c));
    hx_del(x);
}

static void test_settings_ack_sent(void **state)
{
    struct hx *x = hx_new_raw(NULL);
    hx_preface(x);
    uint16_t ids[] = {H2_SET_HEADER_TABLE_SIZE, H2_SET_MAX_FRAME_SIZE, 0x77};
    uint32_t vals[] = {8192, 20000, 5};
    hx_settings(x, ids, vals, 3);
    hx_flush(x);
    struct hx_frame *f = hx_find(x, H2_SETTINGS, 1);
    assert_non_null(f);
    assert_int_equal(f->h.flags, H2_F_ACK);
    assert_int_equal(f->h.length, 0);
    assert_int_equal(h2_conn_peer_setting(x->c, H2_SET_MAX_FRAME_SIZE), 20000);
    assert_int_equal(hx_goaway(x), -1);
    hx_del(x);
}

static void test_settings_timeout(void **state)
{
    struct hx *x = hx_new_raw(NULL);
    hx_preface(x);
    hx_settings(x, NULL, NULL, 0);
    hx_flush(x); /* no ACK from the client */
    hb_ns_t t = h2_conn_next_timeout(x->c);
    assert_int_equal(t, x->now + 10 * HB_NS_PER_SEC);
    assert_int_equal(h2_conn_on_timeout(x->c, t - 1), 0);
    hx_free_frames(x);
    hx_collect(x);
    assert_int_equal(hx_goaway(x), -1);
    assert_int_equal(h2_conn_on_timeout(x->c, t), 0);
    hx_collect(x);
    assert_int_equal(hx_goaway(x), H2_SETTINGS_TIMEOUT);
    assert_true(h2_conn_want_close(x->c));
    hx_del(x);
}

static void test_settings_ack_clears_timer(void **state)
{
    struct hx *x = hx_new(NULL);
    assert_int_equal(h2_conn_next_timeout(x->c), 0);
    hx_del(x);
}

struct bad_setting {
    uint16_t id;
    uint32_t v;
    uint32_t code;
};

static void test_settings_validation(void **state)
{
    const struct bad_setting rows[] = {
        {H2_SET_ENABLE_PUSH, 2, H2_PROTOCOL_ERROR},
        {H2_SET_INITIAL_WINDOW_SIZE, 0x80000000u, H2_FLOW_CONTROL_ERROR},
        {H2_SET_MAX_FRAME_SIZE, 16383, H2_PROTOCOL_ERROR},
        {H2_SET_MAX_FRAME_SIZE, 16777216, H2_PROTOCOL_ERROR},
        {H2_SET_ENABLE_CONNECT_PROTOCOL, 2, H2_PROTOCOL_ERROR},
        {H2_SET_NO_RFC7540_PRIORITIES, 2, H2_PROTOCOL_ERROR},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct hx *x = hx_new(NULL);
        hx_settings(x, &rows[i].id, &rows[i].v, 1);
        hx_flush(x);
        assert_int_equal(hx_goaway(x), rows[i].code);
        hx_del(x);
    }
    /* Valid extremes pass. */
    struct hx *x = hx_new(NULL);
    uint16_t ids[] = {H2_SET_ENABLE_PUSH,           H2_SET_INITIAL_WINDOW_SIZE,
                      H2_SET_MAX_FRAME_SIZE,        H2_SET_ENABLE_CONNECT_PROTOCOL,
                      H2_SET_NO_RFC7540_PRIORITIES, 0xffff};
    uint32_t vals[] = {1, 0x7fffffff, 16777215, 1, 1, 12345};
    hx_settings(x, ids, vals, 6);
    hx_flush(x);
    assert_int_equal(hx_goaway(x), -1);
    /* RFC 8441 §3: ENABLE_CONNECT_PROTOCOL may not go from 1 back to 0. */
    uint16_t ecp = H2_SET_ENABLE_CONNECT_PROTOCOL;
    uint32_t zero = 0;
    hx_settings(x, &ecp, &zero, 1);
    hx_flush(x);
    assert_int_equal(hx_goaway(x), H2_PROTOCOL_ERROR);
    hx_del(x);
}

static void test_ping(void **state)
{
    struct hx *x = hx_new(NULL);
    uint8_t d[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    hx_frame(x, H2_PING, 0, 0, d, 8);
    hx_frame(x, H2_PING, H2_F_ACK, 0, d, 8); /* an ACK is not answered */
    hx_flush(x);
    assert_int_equal(hx_count(x, H2_PING), 1);
    struct hx_frame *f = hx_find(x, H2_PING, 0);
    assert_int_equal(f->h.flags, H2_F_ACK);
    assert_memory_equal(f->payload, d, 8);
    hx_del(x);
}

static void test_get_exchange(void **state)
{
    struct hx *x = hx_new(NULL);
    hx_headers(x, 1, H2_F_END_STREAM, hx_get);
    hx_flush(x);
    assert_int_equal(hx_count_ev(x, 'R'), 1);
    struct hx_ev *e = hx_find_ev(x, 'R', 0);
    assert_int_equal(e->id, 1);
    assert_true(e->end);
    assert_string_equal(e->text, "GET https example.com /");
    assert_int_equal(h2_conn_open_streams(x->c), 1);
    static const char body[] = "hello, world";
    struct hpack_field f[] = {{"content-type", "text/plain", 12, 10, 0},
                              {"connection", "close", 10, 5, 0}};
    struct hb_msg m = {.status = 200, .fields = f, .nfields = 2};
    hx_body(x, 1, body, 12);
    assert_int_equal(h2_conn_submit_response(x->c, 1, &m, false), 0);
    assert_int_equal(h2_conn_resume_data(x->c, 1), 0);
    assert_true(h2_conn_want_write(x->c));
    hx_collect(x);
    struct hx_frame *h = hx_find(x, H2_HEADERS, 0);
    assert_non_null(h);
    assert_int_equal(h->h.stream_id, 1);
    assert_int_equal(h->h.flags, H2_F_END_HEADERS);
    /* connection-specific fields are dropped (§8.2.2) */
    assert_string_equal(h->hdrs, ":status: 200\ncontent-type: text/plain\n");
    struct hx_frame *d = hx_find(x, H2_DATA, 0);
    assert_non_null(d);
    assert_int_equal(d->h.flags, H2_F_END_STREAM);
    assert_int_equal(d->h.length, 12);
    assert_memory_equal(d->payload, body, 12);
    e = hx_find_ev(x, 'C', 0);
    assert_non_null(e);
    assert_int_equal(e->id, 1);
    assert_int_equal(e->code, H2_NO_ERROR);
    assert_int_equal(h2_conn_open_streams(x->c), 0);
    assert_false(h2_conn_want_write(x->c));
    hx_del(x);
}

static void test_post_body_and_credit(void **state)
{
    struct hx *x = hx_new(NULL);
    x->auto_consume = false;
    hx_headers(x, 1, 0, hx_post);
    static uint8_t chunk[16384];
    memset(chunk, 'a', sizeof chunk);
    for (int i = 0; i < 2; i++)
        hx_data(x, 1, chunk, sizeof chunk, false);
    hx_flush(x);
    assert_int_equal(hx_count_ev(x, 'D'), 2);
    /* Nothing is credited before the app consumes. */
    assert_int_equal(hx_count(x, H2_WINDOW_UPDATE), 0);
    assert_int_equal(h2_conn_consumed(x->c, 1, 32768), 0);
    hx_collect(x);
    /* Half of the 65535 stream window: a stream WINDOW_UPDATE. */
    struct hx_frame *w = hx_find(x, H2_WINDOW_UPDATE, 0);
    assert_non_null(w);
    assert_int_equal(w->h.stream_id, 1);
    assert_int_equal(h2_get32(w->payload), 32768);
    assert_int_equal(h2_conn_consumed(x->c, 1, 1), HB_EINVAL); /* more than delivered */
    hx_data(x, 1, "z", 1, true);
    hx_flush(x);
    struct hx_ev *e = hx_find_ev(x, 'D', 2);
    assert_true(e->end);
    assert_int_equal(e->len, 1);
    hx_respond(x, 1, 204, NULL, 0);
    hx_collect(x);
    assert_int_equal(hx_count_ev(x, 'C'), 1);
    hx_del(x);
}

static void test_goaway_graceful(void **state)
{
    struct hx *x = hx_new(NULL);
    hx_headers(x, 1, H2_F_END_STREAM, hx_get);
    hx_flush(x);
    hx_free_frames(x);
    assert_int_equal(h2_conn_goaway(x->c, H2_NO_ERROR, true), 0);
    hx_collect(x);
    struct hx_frame *g = hx_find(x, H2_GOAWAY, 0);
    assert_non_null(g);
    assert_int_equal(h2_get32(g->payload), 0x7fffffff);
    struct hx_frame *p = hx_find(x, H2_PING, 0);
    assert_non_null(p);
    assert_int_equal(p->h.flags, 0);
    /* A stream opened before the PING ACK is still served (§6.8). */
    hx_headers(x, 3, H2_F_END_STREAM, hx_get);
    hx_frame(x, H2_PING, H2_F_ACK, 0, p->payload, 8);
    hx_free_frames(x);
    hx_flush(x);
    assert_int_equal(hx_count_ev(x, 'R'), 2);
    g = hx_find(x, H2_GOAWAY, 0);
    assert_non_null(g);
    assert_int_equal(h2_get32(g->payload), 3);
    assert_int_equal(h2_get32(g->payload + 4), H2_NO_ERROR);
    /* Streams above the last id are ignored now, with their frames. */
    hx_free_frames(x);
    hx_headers(x, 5, 0, hx_post);
    hx_data(x, 5, "body", 4, true);
    hx_flush(x);
    assert_int_equal(hx_count_ev(x, 'R'), 2);
    assert_int_equal(hx_count(x, H2_RST_STREAM), 0);
    assert_int_equal(hx_goaway(x), -1);
    assert_false(h2_conn_want_close(x->c));
    hx_respond(x, 1, 200, NULL, 0);
    hx_respond(x, 3, 200, NULL, 0);
    hx_collect(x);
    assert_true(h2_conn_want_close(x->c));
    hx_del(x);
}

static void test_goaway_graceful_timer(void **state)
{
    struct hx *x = hx_new(NULL);
    assert_int_equal(h2_conn_goaway(x->c, H2_NO_ERROR, true), 0);
    hx_collect(x);
    hb_ns_t t = h2_conn_next_timeout(x->c);
    assert_true(t > 0);
    /* The engine's idea of "now" was stale (last input long ago): the
     * first timer call only restarts the delay from the real time. */
    hb_ns_t late = t + 100 * HB_NS_PER_SEC;
    assert_int_equal(h2_conn_on_timeout(x->c, late), 0);
    hx_free_frames(x);
    hx_collect(x);
    assert_int_equal(hx_count(x, H2_GOAWAY), 0);
    t = h2_conn_next_timeout(x->c);
    assert_int_equal(t, late + HB_NS_PER_SEC);
    assert_int_equal(h2_conn_on_timeout(x->c, t - 1), 0);
    hx_collect(x);
    assert_int_equal(hx_count(x, H2_GOAWAY), 0);
    assert_int_equal(h2_conn_on_timeout(x->c, t), 0);
    hx_free_frames(x);
    hx_collect(x);
    struct hx_frame *g = hx_find(x, H2_GOAWAY, 0);
    assert_non_null(g);
    assert_int_equal(h2_get32(g->payload), 0);
    assert_true(h2_conn_want_close(x->c));
    hx_del(x);
}

static void test_goaway_error(void **state)
{
    struct hx *x = hx_new(NULL);
    hx_headers(x, 1, H2_F_END_STREAM, hx_get);
    hx_flush(x);
    assert_int_equal(h2_conn_goaway(x->c, H2_INTERNAL_ERROR, false), 0);
    hx_collect(x);
    assert_int_equal(hx_goaway(x), H2_INTERNAL_ERROR);
    struct hx_ev *e = hx_find_ev(x, 'C', 0);
    assert_non_null(e);
    assert_int_equal(e->code, H2_INTERNAL_ERROR);
    assert_true(h2_conn_want_close(x->c));
    hx_del(x);
}

static void test_goaway_received(void **state)
{
    struct hx *x = hx_new(NULL);
    uint8_t g[12] = {0, 0, 0, 0, 0, 0, 0, 0, 'b', 'y', 'e', '!'};
    hx_frame(x, H2_GOAWAY, 0, 0, g, sizeof g);
    hx_flush(x);
    struct hx_ev *e = hx_find_ev(x, 'G', 0);
    assert_non_null(e);
    assert_int_equal(e->code, 0);
    assert_int_equal(e->len, 4);
    assert_true(h2_conn_want_close(x->c));
    hx_del(x);
}

static void test_trailers_and_info(void **state)
{
    struct hx *x = hx_new(NULL);
    hx_headers(x, 1, H2_F_END_STREAM, hx_get);
    hx_flush(x);
    struct hb_msg info = {.status = 103};
    assert_int_equal(h2_conn_submit_response(x->c, 1, &info, true), HB_EINVAL);
    assert_int_equal(h2_conn_submit_response(x->c, 1, &info, false), 0);
    struct hb_msg sw = {.status = 101};
    assert_int_equal(h2_conn_submit_response(x->c, 1, &sw, false), HB_EINVAL);
    hx_body(x, 1, "abc", 3);
    struct hb_msg m = {.status = 200};
    assert_int_equal(h2_conn_submit_response(x->c, 1, &m, false), 0);
    assert_int_equal(h2_conn_submit_response(x->c, 1, &m, false), HB_EINVAL);
    struct hpack_field tf[] = {{"grpc-status", "0", 11, 1, 0}};
    struct hb_msg t = {.fields = tf, .nfields = 1};
    assert_int_equal(h2_conn_submit_trailers(x->c, 1, &t), 0);
    assert_int_equal(h2_conn_resume_data(x->c, 1), 0);
    hx_collect(x);
    assert_int_equal(hx_count(x, H2_HEADERS), 3);
    assert_string_equal(hx_find(x, H2_HEADERS, 0)->hdrs, ":status: 103\n");
    assert_string_equal(hx_find(x, H2_HEADERS, 1)->hdrs, ":status: 200\n");
    struct hx_frame *tr = hx_find(x, H2_HEADERS, 2);
    assert_string_equal(tr->hdrs, "grpc-status: 0\n");
    assert_int_equal(tr->h.flags, H2_F_END_HEADERS | H2_F_END_STREAM);
    struct hx_frame *d = hx_find(x, H2_DATA, 0);
    assert_int_equal(d->h.flags, 0);
    assert_true(d < tr);
    assert_int_equal(hx_count_ev(x, 'C'), 1);
    hx_del(x);
}

static void test_large_response_head_continuation(void **state)
{
    struct hx *x = hx_new(NULL);
    hx_headers(x, 1, H2_F_END_STREAM, hx_get);
    hx_flush(x);
    static char big[40000];
    memset(big, 'v', sizeof big - 1);
    struct hpack_field f[] = {{"x-big", big, 5, sizeof big - 1, 0}};
    struct hb_msg m = {.status = 200, .fields = f, .nfields = 1};
    assert_int_equal(h2_conn_submit_response(x->c, 1, &m, true), 0);
    hx_collect(x);
    struct hx_frame *h = hx_find(x, H2_HEADERS, 0);
    assert_non_null(h);
    assert_int_equal(h->h.flags, H2_F_END_STREAM);
    assert_int_equal(h->h.length, 16384);
    assert_int_equal(hx_count(x, H2_CONTINUATION), 2);
    assert_int_equal(hx_find(x, H2_CONTINUATION, 1)->h.flags, H2_F_END_HEADERS);
    assert_int_equal(h->nfields, 2);
    hx_del(x);
}

static void test_push(void **state)
{
    struct hx *x = hx_new(NULL);
    hx_headers(x, 1, H2_F_END_STREAM, hx_get);
    hx_flush(x);
    struct hb_msg req = {.method = HB_STR_LIT("GET"),
                         .scheme = HB_STR_LIT("https"),
                         .authority = HB_STR_LIT("example.com"),
                         .path = HB_STR_LIT("/s.css")};
    /* Off by default. */
    assert_false(h2_conn_push_allowed(x->c));
    assert_int_equal(h2_conn_submit_push_promise(x->c, 1, &req), HB_EUNSUPPORTED);
    hx_del(x);

    struct h2_config cfg;
    h2_config_defaults(&cfg);
    cfg.enable_push = true;
    x = hx_new(&cfg);
    hx_headers(x, 1, H2_F_END_STREAM, hx_get);
    hx_flush(x);
    assert_true(h2_conn_push_allowed(x->c)); /* the peer's ENABLE_PUSH defaults to 1 */
    int64_t id = h2_conn_submit_push_promise(x->c, 1, &req);
    assert_int_equal(id, 2);
    hx_respond(x, 2, 200, "css", 3);
    hx_respond(x, 1, 200, NULL, 0);
    hx_collect(x);
    struct hx_frame *pp = hx_find(x, H2_PUSH_PROMISE, 0);
    assert_non_null(pp);
    assert_int_equal(pp->h.stream_id, 1);
    assert_int_equal(h2_get32(pp->payload), 2);
    assert_non_null(strstr(pp->hdrs, ":path: /s.css"));
    assert_int_equal(hx_count_ev(x, 'C'), 2);
    /* §5.1: a client sending DATA on a reserved (local) stream. */
    struct hb_msg req2 = req;
    req2.path = HB_STR_LIT("/t.js");
    hx_headers(x, 5, H2_F_END_STREAM, hx_get);
    hx_flush(x);
    int64_t id2 = h2_conn_submit_push_promise(x->c, 5, &req2);
    assert_int_equal(id2, 4);
    hx_collect(x);
    hx_data(x, 4, "x", 1, false);
    hx_flush(x);
    assert_int_equal(hx_goaway(x), H2_PROTOCOL_ERROR);
    hx_del(x);
    x = hx_new(&cfg);
    hx_headers(x, 1, H2_F_END_STREAM, hx_get);
    hx_flush(x);
    /* The peer says ENABLE_PUSH=0: no more promises. */
    uint16_t ep = H2_SET_ENABLE_PUSH;
    uint32_t zero = 0;
    hx_settings(x, &ep, &zero, 1);
    hx_headers(x, 3, H2_F_END_STREAM, hx_get);
    hx_flush(x);
    assert_false(h2_conn_push_allowed(x->c));
    assert_int_equal(h2_conn_submit_push_promise(x->c, 3, &req), HB_EUNSUPPORTED);
    hx_del(x);
}

/* §8.4 / §5.1: the client cancels a promised stream (RST_STREAM CANCEL)
 * while it is reserved (local) and again once its response head is out:
 * each is reported once with CANCEL (the proxy stops the pushed request
 * there), nothing more is sent on it, and the connection carries on. */
static void test_push_cancelled(void **state)
{
    struct h2_config cfg;
    h2_config_defaults(&cfg);
    cfg.enable_push = true;
    struct hx *x = hx_new(&cfg);
    hx_headers(x, 1, H2_F_END_STREAM, hx_get);
    hx_flush(x);
    struct hb_msg req = {.method = HB_STR_LIT("GET"),
                         .scheme = HB_STR_LIT("https"),
                         .authority = HB_STR_LIT("example.com"),
                         .path = HB_STR_LIT("/a.css")};
    assert_int_equal(h2_conn_submit_push_promise(x->c, 1, &req), 2);
    req.path = HB_STR_LIT("/b.js");
    assert_int_equal(h2_conn_submit_push_promise(x->c, 1, &req), 4);
    hx_collect(x);
    assert_int_equal(hx_count(x, H2_PUSH_PROMISE), 2);
    /* Reserved (local): cancelled before any response. */
    hx_u32(x, H2_RST_STREAM, 2, H2_CANCEL);
    hx_flush(x);
    struct hx_ev *e = hx_find_ev(x, 'C', 0);
    assert_non_null(e);
    assert_int_equal(e->id, 2);
    assert_int_equal(e->code, H2_CANCEL);
    assert_int_equal(h2_conn_submit_response(x->c, 2, &(struct hb_msg){.status = 200}, true),
                     HB_ENOTFOUND);
    /* Half-closed (remote) with its body pending: cancelled mid-response. */
    hx_body(x, 4, "js", 2);
    x->bodies[0].eof_known = false;
    assert_int_equal(h2_conn_submit_response(x->c, 4, &(struct hb_msg){.status = 200}, false), 0);
    hx_collect(x);
    hx_u32(x, H2_RST_STREAM, 4, H2_CANCEL);
    hx_flush(x);
    e = hx_find_ev(x, 'C', 1);
    assert_non_null(e);
    assert_int_equal(e->id, 4);
    assert_int_equal(e->code, H2_CANCEL);
    assert_int_equal(hx_count_ev(x, 'C'), 2);
    assert_int_equal(h2_conn_resume_data(x->c, 4), HB_ENOTFOUND);
    /* The connection carries on: the associated stream is answered, a new
     * request is served, and no RST_STREAM or GOAWAY came from us. */
    hx_respond(x, 1, 200, "page", 4);
    hx_headers(x, 3, H2_F_END_STREAM, hx_get);
    hx_flush(x);
    hx_respond(x, 3, 200, NULL, 0);
    hx_collect(x);
    assert_int_equal(hx_goaway(x), -1);
    assert_int_equal(hx_rst(x, 2), -1);
    assert_int_equal(hx_rst(x, 4), -1);
    assert_int_equal(hx_count_ev(x, 'C'), 4);
    hx_del(x);
}

static void test_pull_park_resume(void **state)
{
    struct hx *x = hx_new(NULL);
    hx_headers(x, 1, H2_F_END_STREAM, hx_get);
    hx_flush(x);
    hx_body(x, 1, "partial", 7);
    x->bodies[0].eof_known = false; /* the backend has not finished yet */
    struct hb_msg m = {.status = 200};
    assert_int_equal(h2_conn_submit_response(x->c, 1, &m, false), 0);
    assert_int_equal(h2_conn_resume_data(x->c, 1), 0);
    hx_collect(x);
    assert_int_equal(hx_count(x, H2_DATA), 1);
    assert_int_equal(hx_find(x, H2_DATA, 0)->h.flags, 0);
    /* read_data returned 0 without eof: the stream is parked. */
    assert_false(h2_conn_want_write(x->c));
    x->bodies[0].eof_known = true;
    assert_int_equal(h2_conn_resume_data(x->c, 1), 0);
    assert_true(h2_conn_want_write(x->c));
    hx_collect(x);
    struct hx_frame *d = hx_find(x, H2_DATA, 1);
    assert_non_null(d);
    assert_int_equal(d->h.length, 0);
    assert_int_equal(d->h.flags, H2_F_END_STREAM);
    assert_int_equal(hx_count_ev(x, 'C'), 1);
    /* Gone: the API says so. */
    assert_int_equal(h2_conn_resume_data(x->c, 1), HB_ENOTFOUND);
    assert_int_equal(h2_conn_reset_stream(x->c, 1, H2_CANCEL), HB_ENOTFOUND);
    assert_int_equal(h2_conn_consumed(x->c, 1, 1), HB_ENOTFOUND);
    hx_del(x);
}

struct reentrant {
    struct h2_conn *c;
    int calls;
    int rc_resume, rc_goaway, rc_consumed;
};

static ptrdiff_t re_read(void *ud, uint32_t id, uint8_t *dst, size_t max, bool *eof)
{
    struct reentrant *r = ud;
    r->calls++;
    r->rc_resume = h2_conn_resume_data(r->c, 3);
    r->rc_goaway = h2_conn_goaway(r->c, H2_NO_ERROR, true);
    r->rc_consumed = h2_conn_consumed(r->c, id, 0);
    memcpy(dst, "ok", 2);
    *eof = true;
    return 2;
}

static void test_read_data_may_not_reenter(void **state)
{
    struct reentrant r = {0};
    struct h2_callbacks cb = {.read_data = re_read};
    r.c = h2_conn_new(H2_ROLE_SERVER, NULL, &cb, &r);
    uint8_t in[256];
    size_t n = 0;
    memcpy(in, H2_PREFACE, H2_PREFACE_LEN);
    n = H2_PREFACE_LEN;
    n += h2_pack_settings(in + n, NULL, NULL, 0, false);
    static const uint8_t get_block[] = {0x82, 0x87, 0x84}; /* GET https / (static table) */
    n += h2_pack_headers(in + n, 1, H2_F_END_HEADERS | H2_F_END_STREAM, get_block, 3, 0, false, 0,
                         0);
    assert_int_equal(h2_conn_recv(r.c, in, n, 1), (ptrdiff_t)n);
    struct hb_msg m = {.status = 200};
    assert_int_equal(h2_conn_submit_response(r.c, 1, &m, false), 0);
    assert_int_equal(h2_conn_resume_data(r.c, 1), 0);
    const uint8_t *d;
    ptrdiff_t got = h2_conn_send(r.c, &d);
    assert_true(got > 0);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.rc_resume, HB_EINVAL);
    assert_int_equal(r.rc_goaway, HB_EINVAL);
    assert_int_equal(r.rc_consumed, HB_EINVAL);
    /* The DATA frame is intact at the end of the output. */
    assert_memory_equal(d + got - 11, "\x00\x00\x02\x00\x01\x00\x00\x00\x01ok", 11);
    h2_conn_del(r.c);
}

static size_t live_bytes;
static void *count_alloc(void *ud, size_t n)
{
    live_bytes += n;
    return malloc(n);
}
static void count_free(void *ud, void *p, size_t n)
{
    live_bytes -= n;
    free(p);
}

static void test_idle_connection_releases_buffers(void **state)
{
    struct h2_config cfg;
    h2_config_defaults(&cfg);
    cfg.allocator = (struct h2_allocator){count_alloc, count_free, NULL};
    live_bytes = 0;
    struct hx *x = hx_new(&cfg);
    size_t idle = live_bytes;
    static uint8_t body[100000];
    hx_headers(x, 1, H2_F_END_STREAM, hx_get);
    hx_flush(x);
    hx_u32(x, H2_WINDOW_UPDATE, 0, 1u << 20);
    hx_u32(x, H2_WINDOW_UPDATE, 1, 1u << 20);
    hx_flush(x);
    hx_respond(x, 1, 200, body, sizeof body);
    size_t busy = live_bytes;
    hx_collect(x);
    assert_int_equal(hx_count_ev(x, 'C'), 1);
    /* Decode scratch and output buffers were in use, and are gone again. */
    assert_true(busy > idle + 60000);
    /* What stays is state, made at first use: the stream table, the closed
     * ring and the HPACK decoder table (one entry, :authority). */
    assert_true(live_bytes <= idle + 1024);
    assert_true(live_bytes < 8192);
    hx_del(x);
    assert_int_equal(live_bytes, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_server_preface),
        cmocka_unit_test(test_bad_preface),
        cmocka_unit_test(test_preface_then_not_settings),
        cmocka_unit_test(test_settings_ack_sent),
        cmocka_unit_test(test_settings_timeout),
        cmocka_unit_test(test_settings_ack_clears_timer),
        cmocka_unit_test(test_settings_validation),
        cmocka_unit_test(test_ping),
        cmocka_unit_test(test_get_exchange),
        cmocka_unit_test(test_post_body_and_credit),
        cmocka_unit_test(test_goaway_graceful),
        cmocka_unit_test(test_goaway_graceful_timer),
        cmocka_unit_test(test_goaway_error),
        cmocka_unit_test(test_goaway_received),
        cmocka_unit_test(test_trailers_and_info),
        cmocka_unit_test(test_large_response_head_continuation),
        cmocka_unit_test(test_push),
        cmocka_unit_test(test_push_cancelled),
        cmocka_unit_test(test_idle_connection_releases_buffers),
        cmocka_unit_test(test_pull_park_resume),
        cmocka_unit_test(test_read_data_may_not_reenter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
