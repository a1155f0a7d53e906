/* HTTP/2 engine: hardening. Every flood breaks its budget or cap and gets
 * GOAWAY ENHANCE_YOUR_CALM; traffic under the budget passes. */
#include "h2_harness.h"

/* GOAWAY ENHANCE_YOUR_CALM, and the engine names the protection that
 * tripped (h2_conn_flood: the proxy's h2bridge_http2_floods_total). */
static void expect_calm(struct hx *x, enum h2_flood kind)
{
    assert_int_equal(hx_goaway(x), H2_ENHANCE_YOUR_CALM);
    assert_true(h2_conn_want_close(x->c));
    assert_string_equal(h2_flood_name(h2_conn_flood(x->c)), h2_flood_name(kind));
}

static void test_rapid_reset(void **state)
{
    /* CVE-2023-44487: open and cancel streams as fast as possible. */
    struct hx *x = hx_new(NULL);
    for (uint32_t i = 0; i < 250; i++) {
        hx_headers(x, 2 * i + 1, 0, hx_post);
        hx_u32(x, H2_RST_STREAM, 2 * i + 1, H2_CANCEL);
    }
    hx_flush(x);
    expect_calm(x, H2_FLOOD_RST_STREAM);
    assert_true(hx_count_ev(x, 'R') <= 201);
    hx_del(x);
    /* The same at a sustainable rate (50/s under a 100/s refill) passes. */
    x = hx_new(NULL);
    for (uint32_t i = 0; i < 1000; i++) {
        hx_headers(x, 2 * i + 1, 0, hx_post);
        hx_u32(x, H2_RST_STREAM, 2 * i + 1, H2_CANCEL);
        x->now += 20 * HB_NS_PER_MS;
        hx_flush(x);
        hx_free_frames(x);
        x->nev = 0;
    }
    assert_int_equal(hx_goaway(x), -1);
    assert_int_equal(h2_conn_goaway_sent_code(x->c), -1);
    hx_del(x);
}

static void test_made_you_reset(void **state)
{
    /* CVE-2025-8671: provoke the server into resetting (WINDOW_UPDATE 0). */
    struct hx *x = hx_new(NULL);
    for (uint32_t i = 0; i < 250; i++) {
        hx_headers(x, 2 * i + 1, 0, hx_post);
        hx_u32(x, H2_WINDOW_UPDATE, 2 * i + 1, 0);
        hx_flush(x);
    }
    expect_calm(x, H2_FLOOD_RST_STREAM);
    hx_del(x);
    /* Malformed requests count the same way. */
    x = hx_new(NULL);
    static const char *const bad[] = {":method", "GET", ":path", "/", NULL};
    for (uint32_t i = 0; i < 250; i++) {
        hx_headers(x, 2 * i + 1, H2_F_END_STREAM, bad);
        hx_flush(x);
    }
    expect_calm(x, H2_FLOOD_RST_STREAM);
    hx_del(x);
    /* Mixed: half client resets, half provoked, one budget. */
    x = hx_new(NULL);
    for (uint32_t i = 0; i < 250; i++) {
        hx_headers(x, 2 * i + 1, 0, hx_post);
        if (i & 1)
            hx_u32(x, H2_RST_STREAM, 2 * i + 1, H2_CANCEL);
        else
            hx_data(x, 2 * i + 1, "x", 1, false), hx_u32(x, H2_RST_STREAM, 2 * i + 1, 0),
                hx_data(x, 2 * i + 1, "x", 1, false);
        hx_flush(x);
    }
    expect_calm(x, H2_FLOOD_RST_STREAM);
    hx_del(x);
}

static void test_continuation_flood(void **state)
{
    struct hx *x = hx_new(NULL);
    uint8_t blk[256];
    size_t n = hx_block(x, blk, sizeof blk, hx_get);
    hx_frame(x, H2_HEADERS, 0, 1, blk, n);
    for (int i = 0; i < 40; i++)
        hx_frame(x, H2_CONTINUATION, 0, 1, "\x40\x01x\x01y", 5);
    hx_flush(x);
    expect_calm(x, H2_FLOOD_HEADER_BLOCK);
    assert_int_equal(hx_count_ev(x, 'R'), 0);
    hx_del(x);
    /* Bytes: a block over max_header_block_bytes. */
    x = hx_new(NULL);
    static uint8_t junk[16384];
    hx_frame(x, H2_HEADERS, 0, 1, junk, sizeof junk);
    for (int i = 0; i < 4; i++)
        hx_frame(x, H2_CONTINUATION, 0, 1, junk, sizeof junk);
    hx_flush(x);
    expect_calm(x, H2_FLOOD_HEADER_BLOCK);
    hx_del(x);
    /* Empty CONTINUATION frames are a flood of their own. */
    struct h2_config cfg;
    h2_config_defaults(&cfg);
    cfg.max_continuation_frames = 1000;
    x = hx_new(&cfg);
    hx_frame(x, H2_HEADERS, 0, 1, blk, 1);
    for (int i = 0; i < 150; i++)
        hx_frame(x, H2_CONTINUATION, 0, 1, NULL, 0);
    hx_flush(x);
    expect_calm(x, H2_FLOOD_EMPTY_FRAMES);
    hx_del(x);
}

static void test_settings_flood(void **state)
{
    /* CVE-2019-9515: SETTINGS whose ACKs we cannot send (peer not reading). */
    struct hx *x = hx_new(NULL);
    for (int i = 0; i < 40; i++)
        hx_settings(x, NULL, NULL, 0);
    hx_flush(x); /* one recv: nothing is written in between */
    expect_calm(x, H2_FLOOD_CONTROL_QUEUE);
    assert_true(hx_count(x, H2_SETTINGS) <= 32);
    hx_del(x);
    /* And a budget on SETTINGS frames even when the ACKs drain. */
    x = hx_new(NULL);
    for (int i = 0; i < 120; i++) {
        hx_settings(x, NULL, NULL, 0);
        hx_flush(x);
    }
    expect_calm(x, H2_FLOOD_SETTINGS);
    hx_del(x);
}

static void test_ping_flood(void **state)
{
    /* CVE-2019-9512 */
    struct hx *x = hx_new(NULL);
    uint8_t d[8] = {0};
    for (int i = 0; i < 40; i++)
        hx_frame(x, H2_PING, 0, 0, d, 8);
    hx_flush(x);
    expect_calm(x, H2_FLOOD_CONTROL_QUEUE);
    hx_del(x);
    x = hx_new(NULL);
    for (int i = 0; i < 120; i++) {
        hx_frame(x, H2_PING, 0, 0, d, 8);
        hx_flush(x);
    }
    expect_calm(x, H2_FLOOD_PING);
    hx_del(x);
    /* Slow pings are fine. */
    x = hx_new(NULL);
    for (int i = 0; i < 300; i++) {
        hx_frame(x, H2_PING, 0, 0, d, 8);
        x->now += 100 * HB_NS_PER_MS;
        hx_flush(x);
        hx_free_frames(x);
    }
    hx_collect(x);
    assert_int_equal(h2_conn_goaway_sent_code(x->c), -1);
    hx_del(x);
}

static void test_empty_frames_flood(void **state)
{
    /* CVE-2019-9518: DATA without payload and without END_STREAM. */
    struct hx *x = hx_new(NULL);
    hx_headers(x, 1, 0, hx_post);
    for (int i = 0; i < 150; i++)
        hx_data(x, 1, NULL, 0, false);
    hx_flush(x);
    expect_calm(x, H2_FLOOD_EMPTY_FRAMES);
    hx_del(x);
    /* An empty DATA with END_STREAM is normal. */
    x = hx_new(NULL);
    hx_headers(x, 1, 0, hx_post);
    hx_data(x, 1, NULL, 0, true);
    hx_flush(x);
    assert_int_equal(hx_goaway(x), -1);
    assert_true(hx_find_ev(x, 'D', 0)->end);
    hx_del(x);
}

static void test_priority_churn(void **state)
{
    /* CVE-2019-9513 */
    struct hx *x = hx_new(NULL);
    for (uint32_t i = 0; i < 1100; i++) {
        uint8_t pr[5] = {0, 0, 0, (uint8_t)(i % 7 * 2 + 1), (uint8_t)i};
        hx_frame(x, H2_PRIORITY, 0, 2 * (i % 50) + 101, pr, 5);
    }
    hx_flush(x);
    expect_calm(x, H2_FLOOD_PRIORITY);
    hx_del(x);
}

static void test_window_update_dribble(void **state)
{
    /* CVE-2019-9511: tiny WINDOW_UPDATEs. */
    struct hx *x = hx_new(NULL);
    for (int i = 0; i < 2100; i++)
        hx_u32(x, H2_WINDOW_UPDATE, 0, 1);
    hx_flush(x);
    expect_calm(x, H2_FLOOD_WINDOW_UPDATE);
    hx_del(x);
    /* Normal-sized increments are not counted. */
    x = hx_new(NULL);
    for (int i = 0; i < 3000; i++)
        hx_u32(x, H2_WINDOW_UPDATE, 0, 1u << 20);
    hx_flush(x);
    assert_int_equal(hx_goaway(x), H2_FLOW_CONTROL_ERROR); /* it overflows eventually */
    hx_del(x);
}

static void test_reset_queue_cap(void **state)
{
    /* CVE-2019-9514: provoke RST_STREAMs while never reading them. */
    struct h2_config cfg;
    h2_config_defaults(&cfg);
    cfg.reset_budget.burst = 10000;
    struct hx *x = hx_new(&cfg);
    for (uint32_t i = 0; i < 150; i++) {
        hx_headers(x, 2 * i + 1, 0, hx_post);
        hx_u32(x, H2_WINDOW_UPDATE, 2 * i + 1, 0);
    }
    hx_flush(x);
    expect_calm(x, H2_FLOOD_CONTROL_QUEUE);
    assert_true(hx_count(x, H2_RST_STREAM) <= 100);
    hx_del(x);
}

static void test_outbound_bytes_cap(void **state)
{
    struct h2_config cfg;
    h2_config_defaults(&cfg);
    cfg.max_outbound_bytes = 1024;
    cfg.max_queued_ping_acks = 1000;
    cfg.ping_budget.burst = 1000;
    struct hx *x = hx_new(&cfg);
    uint8_t d[8] = {0};
    for (int i = 0; i < 100; i++)
        hx_frame(x, H2_PING, 0, 0, d, 8);
    hx_flush(x);
    expect_calm(x, H2_FLOOD_CONTROL_QUEUE);
    /* The output never grew far past the cap. */
    assert_true(x->out_bytes < 1024 + 200);
    hx_del(x);
}

static void test_memory_bound(void **state)
{
    struct h2_config cfg;
    h2_config_defaults(&cfg);
    cfg.max_memory = 96 * 1024;
    cfg.max_concurrent_streams = 1000;
    struct hx *x = hx_new(&cfg);
    for (uint32_t i = 0; i < 1000; i++)
        hx_headers(x, 2 * i + 1, 0, hx_post);
    hx_flush(x);
    expect_calm(x, H2_FLOOD_MEMORY);
    assert_true(hx_count_ev(x, 'R') < 1000);
    hx_del(x);
}

static void test_budget_disabled(void **state)
{
    struct h2_config cfg;
    h2_config_defaults(&cfg);
    cfg.ping_budget.burst = 0;
    struct hx *x = hx_new(&cfg);
    uint8_t d[8] = {0};
    for (int i = 0; i < 500; i++) {
        hx_frame(x, H2_PING, 0, 0, d, 8);
        hx_flush(x);
        hx_free_frames(x);
    }
    hx_collect(x);
    assert_int_equal(h2_conn_goaway_sent_code(x->c), -1);
    hx_del(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rapid_reset),        cmocka_unit_test(test_made_you_reset),
        cmocka_unit_test(test_continuation_flood), cmocka_unit_test(test_settings_flood),
        cmocka_unit_test(test_ping_flood),         cmocka_unit_test(test_empty_frames_flood),
        cmocka_unit_test(test_priority_churn),     cmocka_unit_test(test_window_update_dribble),
        cmocka_unit_test(test_reset_queue_cap),    cmocka_unit_test(test_outbound_bytes_cap),
        cmocka_unit_test(test_memory_bound),       cmocka_unit_test(test_budget_disabled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
