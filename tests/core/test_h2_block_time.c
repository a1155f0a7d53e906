/* tests/core/test_h2_block_time.c — when a request's header block began
 * (h2_conn_header_block_since) and whether a request came yet
 * (h2_conn_had_request): what the proxy's slowloris timeouts for HTTP/2
 * are built on. */
#include "h2_harness.h"

static void test_block_in_pieces(void **st)
{
    (void)st;
    struct hx *x = hx_new(NULL);
    assert_false(h2_conn_had_request(x->c));
    assert_int_equal(h2_conn_header_block_since(x->c), 0);
    uint8_t blk[256];
    size_t len = hx_block(x, blk, sizeof blk, hx_get);
    assert_true(len > 4);
    /* HEADERS without END_HEADERS at t=5 s, the rest as CONTINUATION later. */
    x->now = 5 * HB_NS_PER_SEC;
    hx_frame(x, H2_HEADERS, H2_F_END_STREAM, 1, blk, 2);
    hx_flush(x);
    assert_int_equal(h2_conn_header_block_since(x->c), 5 * HB_NS_PER_SEC);
    assert_false(h2_conn_had_request(x->c));
    x->now = 9 * HB_NS_PER_SEC;
    hx_frame(x, H2_CONTINUATION, 0, 1, blk + 2, 1);
    hx_flush(x);
    assert_int_equal(h2_conn_header_block_since(x->c), 5 * HB_NS_PER_SEC); /* unchanged */
    hx_frame(x, H2_CONTINUATION, H2_F_END_HEADERS, 1, blk + 3, len - 3);
    hx_flush(x);
    assert_int_equal(h2_conn_header_block_since(x->c), 0);
    assert_true(h2_conn_had_request(x->c));
    assert_int_equal(hx_count_ev(x, 'R'), 1);
    hx_del(x);
}

/* One HEADERS frame whose payload trickles in: the block began when its
 * frame header was complete. */
static void test_frame_trickles(void **st)
{
    (void)st;
    struct hx *x = hx_new(NULL);
    uint8_t blk[256], frame[300];
    size_t len = hx_block(x, blk, sizeof blk, hx_get);
    size_t n = h2_pack_headers(frame, 1, H2_F_END_STREAM | H2_F_END_HEADERS, blk, len, 0, false,
                               0, 0);
    x->now = 2 * HB_NS_PER_SEC;
    assert_int_equal(h2_conn_recv(x->c, frame, 5, x->now), 5); /* part of the frame header */
    assert_int_equal(h2_conn_header_block_since(x->c), 0);
    x->now = 3 * HB_NS_PER_SEC;
    assert_int_equal(h2_conn_recv(x->c, frame + 5, 6, x->now), 6); /* header + 2 bytes */
    assert_int_equal(h2_conn_header_block_since(x->c), 3 * HB_NS_PER_SEC);
    x->now = 4 * HB_NS_PER_SEC;
    assert_int_equal(h2_conn_recv(x->c, frame + 11, n - 11, x->now), (ptrdiff_t)(n - 11));
    assert_int_equal(h2_conn_header_block_since(x->c), 0);
    assert_true(h2_conn_had_request(x->c));
    /* Other frames do not start a block. */
    hx_frame(x, H2_PING, 0, 0, "12345678", 8);
    hx_u32(x, H2_WINDOW_UPDATE, 0, 100);
    hx_flush(x);
    assert_int_equal(h2_conn_header_block_since(x->c), 0);
    hx_del(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_block_in_pieces),
        cmocka_unit_test(test_frame_trickles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
