/* tests/core/test_h2_autowin.c — receive windows that follow the path: the
 * estimator with a fake clock, then the engine driven by a client that
 * uploads as fast as its windows allow, answering our probe PINGs one round
 * trip later. */
#include "h2_harness.h"

#include "core/h2_int.h" /* white-box: the engine's current window targets */

#include "core/h2_autowin.h"
#include "core/h2_frame.h"

#define MS (HB_NS_PER_SEC / 1000)

static void ack_probe(struct h2_autowin *a, hb_ns_t now, uint32_t *delta)
{
    uint8_t o[8];
    h2_autowin_probe_opaque(a, o);
    assert_true(h2_autowin_ack(a, o, now, delta));
}

static void test_window_limited_doubles_to_the_cap(void **state)
{
    (void)state;
    struct h2_autowin a;
    h2_autowin_init(&a, 65535, 1u << 20, 1u << 20, 4u << 20);
    hb_ns_t t = 0;
    uint32_t expect = 65535, delta;
    for (int round = 0; round < 10; round++) {
        /* A round trip in which the client used the whole stream window. */
        assert_true(h2_autowin_consumed(&a, expect / 2, t));
        assert_false(h2_autowin_consumed(&a, expect - expect / 2, t + 10 * MS));
        ack_probe(&a, t + 40 * MS, &delta);
        assert_int_equal(a.rtt, 40 * MS);
        expect = 2 * expect > (1u << 20) ? (1u << 20) : 2 * expect;
        assert_int_equal(a.stream_window, expect);
        t += 40 * MS;
    }
    assert_int_equal(a.stream_window, 1u << 20); /* capped */
    /* The connection window follows once a round trip fills half of it: the
     * round of 8 x 65535 bytes made it twice that, then 16 x 65535 twice
     * that again. */
    assert_int_equal(a.conn_window, 2u << 20);
    /* Both at their maxima: no more probes. */
    assert_true(h2_autowin_consumed(&a, 4u << 20, t));
    ack_probe(&a, t + 40 * MS, &delta);
    assert_int_equal(a.conn_window, 4u << 20);
    assert_false(h2_autowin_active(&a));
    assert_false(h2_autowin_consumed(&a, 1, t + 50 * MS));
}

static void test_path_limited_does_not_grow(void **state)
{
    (void)state;
    struct h2_autowin a;
    h2_autowin_init(&a, 65535, 1u << 20, 8u << 20, 16u << 20);
    uint32_t delta;
    /* Under half the window per round trip: the path (or the backend) is
     * the limit, a larger window would only hold more bytes in the proxy. */
    for (int i = 0; i < 5; i++) {
        assert_true(h2_autowin_consumed(&a, 32000, i * 100 * MS));
        ack_probe(&a, i * 100 * MS + 50 * MS, &delta);
        assert_int_equal(delta, 0);
    }
    assert_int_equal(a.stream_window, 65535);
    assert_int_equal(a.conn_window, 1u << 20);
    assert_int_equal(a.grown, 0);
}

static void test_foreign_and_stale_acks_are_ignored(void **state)
{
    (void)state;
    struct h2_autowin a;
    h2_autowin_init(&a, 65535, 1u << 20, 8u << 20, 16u << 20);
    uint32_t delta;
    uint8_t old[8], other[8] = {'h', '2', 'b', 'g', 'o', 'a', 'w', 'y'};
    assert_true(h2_autowin_consumed(&a, 65535, 0));
    h2_autowin_probe_opaque(&a, old);
    ack_probe(&a, 10 * MS, &delta);
    assert_true(h2_autowin_consumed(&a, 100, 20 * MS));
    assert_false(h2_autowin_ack(&a, old, 30 * MS, &delta));   /* the previous probe */
    assert_false(h2_autowin_ack(&a, other, 30 * MS, &delta)); /* the graceful PING */
    assert_true(a.probing);
}

static void test_off_when_maxima_not_above_start(void **state)
{
    (void)state;
    struct h2_autowin a;
    h2_autowin_init(&a, 65535, 1u << 20, 0, 0);
    assert_false(h2_autowin_active(&a));
    assert_false(h2_autowin_consumed(&a, 1u << 20, 0));
}

/* ---- the engine ---- */

static struct h2_config tuned(void)
{
    struct h2_config cfg;
    h2_config_defaults(&cfg);
    cfg.max_window_size = 1u << 20;
    cfg.max_connection_window_size = 4u << 20;
    return cfg;
}

/* The increments the engine granted stream id (or the connection, id 0). */
static uint64_t granted(struct hx *x, uint32_t id)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < x->nframes; i++)
        if (x->frames[i].h.type == H2_WINDOW_UPDATE && x->frames[i].h.stream_id == id)
            sum += h2_get32(x->frames[i].payload) & 0x7fffffff;
    return sum;
}

static struct hx_frame *probe(struct hx *x)
{
    for (size_t i = 0; i < x->nframes; i++)
        if (x->frames[i].h.type == H2_PING && !(x->frames[i].h.flags & H2_F_ACK))
            return &x->frames[i];
    return NULL;
}

/* A client uploading on stream 1: each round sends all the window it has,
 * the application consumes it all, and the client answers the probe a
 * round trip later. Returns the stream window at the end. */
static int64_t upload_rounds(struct hx *x, int rounds, bool consume)
{
    static uint8_t chunk[16384];
    int64_t window = 65535, conn = 1u << 20;
    x->auto_consume = consume;
    for (int r = 0; r < rounds; r++) {
        int64_t budget = window < conn ? window : conn;
        while (budget > 0) {
            size_t n = budget > (int64_t)sizeof chunk ? sizeof chunk : (size_t)budget;
            hx_data(x, 1, chunk, n, false);
            budget -= (int64_t)n;
            window -= (int64_t)n;
            conn -= (int64_t)n;
        }
        hx_free_frames(x);
        hx_flush(x);
        x->now += 40 * MS; /* one round trip */
        struct hx_frame *p = probe(x);
        uint8_t opaque[8];
        bool answer = p != NULL;
        if (p)
            memcpy(opaque, p->payload, 8);
        window += (int64_t)granted(x, 1);
        conn += (int64_t)granted(x, 0);
        if (answer) {
            hx_frame(x, H2_PING, H2_F_ACK, 0, opaque, 8);
            hx_free_frames(x);
            hx_flush(x);
            window += (int64_t)granted(x, 1);
            conn += (int64_t)granted(x, 0);
        }
    }
    return window;
}

static void test_engine_grows_windows_of_a_fast_upload(void **state)
{
    (void)state;
    struct h2_config cfg = tuned();
    struct hx *x = hx_new(&cfg);
    hx_headers(x, 1, 0, hx_post);
    hx_flush(x);
    /* Each round trip that fills the window doubles it: 64 KiB to the 1 MiB
     * cap in well under 10 round trips; the client always has at least half
     * the window to send (credit is returned per half window). */
    int64_t w = upload_rounds(x, 10, true);
    assert_int_equal(x->c->aw.stream_window, cfg.max_window_size);
    assert_true(w >= (int64_t)cfg.max_window_size / 2);
    assert_true(w <= (int64_t)cfg.max_window_size);
    assert_true(x->c->aw.conn_window > cfg.connection_window_size);
    assert_int_equal(hx_goaway(x), -1);
    hx_del(x);
}

static void test_engine_slow_consumer_keeps_windows(void **state)
{
    (void)state;
    struct h2_config cfg = tuned();
    struct hx *x = hx_new(&cfg);
    hx_headers(x, 1, 0, hx_post);
    hx_flush(x);
    /* Nothing consumed (a backend that does not read): no probe, no credit,
     * the client stays within the 64 KiB it was given. */
    int64_t w = upload_rounds(x, 4, false);
    assert_true(w <= 0);
    assert_null(probe(x));
    hx_del(x);
}

static void test_engine_padding_is_not_consumption(void **state)
{
    (void)state;
    struct h2_config cfg = tuned();
    struct hx *x = hx_new(&cfg);
    x->auto_consume = false;
    hx_headers(x, 1, 0, hx_post);
    /* Padded DATA: the padding is credited at once, the payload waits. A
     * client cannot make the windows grow by sending padding. */
    static uint8_t chunk[1000];
    for (int i = 0; i < 16; i++)
        x->npend += h2_pack_data(hx_room(x, 9 + 1 + sizeof chunk + 200), 1, chunk, sizeof chunk,
                                 false, 200, true);
    hx_flush(x);
    assert_null(probe(x));
    hx_del(x);
}

static void test_engine_default_config_sends_no_probe(void **state)
{
    (void)state;
    struct hx *x = hx_new(NULL);
    hx_headers(x, 1, 0, hx_post);
    hx_flush(x);
    int64_t w = upload_rounds(x, 4, true);
    assert_int_equal(w, 65535); /* every byte credited back, never more */
    hx_del(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window_limited_doubles_to_the_cap),
        cmocka_unit_test(test_path_limited_does_not_grow),
        cmocka_unit_test(test_foreign_and_stale_acks_are_ignored),
        cmocka_unit_test(test_off_when_maxima_not_above_start),
        cmocka_unit_test(test_engine_grows_windows_of_a_fast_upload),
        cmocka_unit_test(test_engine_slow_consumer_keeps_windows),
        cmocka_unit_test(test_engine_padding_is_not_consumption),
        cmocka_unit_test(test_engine_default_config_sends_no_probe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
