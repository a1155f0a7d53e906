/* tests/core/test_h2_wire.c — per-stream frame bytes (core/h2_conn.h:
 * h2_conn_stream_wire): what the client sent and what we wrote on one
 * stream, counted from the frames themselves, readable while the stream is
 * open and during its on_stream_close. */
#include "h2_harness.h"

#include "core/err.h"

/* Frame bytes on stream id among the frames the engine wrote. */
static uint64_t out_bytes_of(struct hx *x, uint32_t id)
{
    uint64_t n = 0;
    for (size_t i = 0; i < x->nframes; i++)
        if (x->frames[i].h.stream_id == id)
            n += H2_FRAME_HDR_LEN + x->frames[i].h.length;
    return n;
}

static void test_post_and_response(void **st)
{
    (void)st;
    struct hx *x = hx_new(NULL);
    size_t before = x->npend;
    hx_headers(x, 1, 0, hx_post);
    size_t headers_bytes = x->npend - before;
    uint8_t body[100] = {0};
    hx_data(x, 1, body, sizeof body, true);
    hx_flush(x);
    assert_int_equal(hx_count_ev(x, 'R'), 1);
    struct h2_wire w = h2_conn_stream_wire(x->c, 1);
    assert_int_equal(w.in, headers_bytes + H2_FRAME_HDR_LEN + sizeof body);
    assert_int_equal(w.out, 0);
    hx_free_frames(x);
    static uint8_t resp[40000];
    hx_respond(x, 1, 200, resp, sizeof resp); /* several DATA frames */
    hx_collect(x);
    struct hx_ev *e = hx_find_ev(x, 'C', 0);
    assert_non_null(e);
    assert_int_equal(e->wire.in, headers_bytes + H2_FRAME_HDR_LEN + sizeof body);
    uint64_t out = out_bytes_of(x, 1);
    assert_true(out > sizeof resp + 3 * H2_FRAME_HDR_LEN);
    assert_int_equal(e->wire.out, out);
    /* Gone after its close. */
    w = h2_conn_stream_wire(x->c, 1);
    assert_int_equal(w.in + w.out, 0);
    hx_del(x);
}

/* The client's RST_STREAM and WINDOW_UPDATE count for the stream. */
static void test_reset_and_window_update(void **st)
{
    (void)st;
    struct hx *x = hx_new(NULL);
    size_t before = x->npend;
    hx_headers(x, 1, H2_F_END_STREAM, hx_get);
    size_t headers_bytes = x->npend - before;
    hx_u32(x, H2_WINDOW_UPDATE, 1, 1000);
    hx_flush(x);
    hx_u32(x, H2_RST_STREAM, 1, H2_CANCEL);
    hx_flush(x);
    struct hx_ev *e = hx_find_ev(x, 'C', 0);
    assert_non_null(e);
    assert_int_equal(e->code, H2_CANCEL);
    assert_int_equal(e->wire.in, headers_bytes + 2 * (H2_FRAME_HDR_LEN + 4));
    assert_int_equal(e->wire.out, 0);
    hx_del(x);
}

/* Our RST_STREAM counts, and a close owed by a submit call outside the
 * callbacks still carries the stream's bytes. */
static void test_our_reset_deferred(void **st)
{
    (void)st;
    struct hx *x = hx_with_gets(1);
    struct h2_wire open = h2_conn_stream_wire(x->c, 1);
    assert_true(open.in > H2_FRAME_HDR_LEN);
    assert_int_equal(h2_conn_reset_stream(x->c, 1, H2_CANCEL), 0);
    hx_collect(x);
    struct hx_ev *e = hx_find_ev(x, 'C', 0);
    assert_non_null(e);
    assert_int_equal(e->wire.in, open.in);
    assert_int_equal(e->wire.out, H2_FRAME_HDR_LEN + 4);
    hx_del(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_post_and_response),
        cmocka_unit_test(test_reset_and_window_update),
        cmocka_unit_test(test_our_reset_deferred),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
