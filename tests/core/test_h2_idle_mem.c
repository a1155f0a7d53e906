/* Memory per idle connection (issue 9): a server connection that exchanged
 * prefaces and SETTINGS (ACKed) and never saw a request holds only
 *   struct h2_conn (~1 KiB: the config and callback copies, budgets,
 *   scheduler list heads) + the two HPACK context structs (~300 bytes),
 * every allocation going through the h2_allocator hook (HPACK included):
 * no output/payload/header buffers, no stream table, no closed-stream ring,
 * no HPACK table. IDLE_BOUND below is that bound. Requests make the
 * buffers and tables appear; once the last stream is closed and the output
 * has drained, the buffers go again and what stays is state (stream table,
 * closed ring, HPACK tables), accounted here byte for byte. */
#include "h2_harness.h"

#include <malloc.h>

#include "core/h2_int.h" /* white-box: which buffers are held */

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NO_MALLINFO 1
#endif
#endif
#ifdef __SANITIZE_ADDRESS__
#define NO_MALLINFO 1
#endif

/* struct h2_conn (1 KiB on x86-64) + the HPACK decoder and encoder structs. */
#define IDLE_BOUND (sizeof(struct h2_conn) + 512)

static void counted_cfg(struct h2_config *cfg, struct tu_counter *k)
{
    h2_config_defaults(cfg);
    tu_counter_init(k);
    cfg->allocator = (struct h2_allocator){tu_counter_alloc, tu_counter_free, k};
}

/* The client's side of an idle connection: preface, a SETTINGS with a few
 * values (so its payload can straddle recv calls), the ACK of ours. */
static size_t idle_client_bytes(uint8_t *buf)
{
    static const uint16_t ids[] = {H2_SET_HEADER_TABLE_SIZE, H2_SET_ENABLE_PUSH,
                                   H2_SET_INITIAL_WINDOW_SIZE};
    static const uint32_t vals[] = {4096, 0, 6291456};
    size_t n = H2_PREFACE_LEN;
    memcpy(buf, H2_PREFACE, n);
    n += h2_pack_settings(buf + n, ids, vals, 3, false);
    n += h2_pack_settings(buf + n, NULL, NULL, 0, true);
    return n;
}

static void drain(struct h2_conn *c)
{
    const uint8_t *d;
    ptrdiff_t n;
    while ((n = h2_conn_send(c, &d)) > 0)
        h2_conn_sent(c, (size_t)n);
    assert_int_equal(n, 0);
}

static void assert_holds_nothing(const struct h2_conn *c)
{
    assert_null(c->out);
    assert_int_equal(c->out_cap, 0);
    assert_null(c->payload);
    assert_null(c->block);
    assert_null(c->fields);
    assert_null(c->scratch);
    assert_null(c->spare);
}

static void assert_idle(const struct h2_conn *c, const struct tu_counter *k)
{
    assert_holds_nothing(c);
    assert_null(c->buckets);
    assert_null(c->closed);
    assert_null(c->pclose);
    assert_int_equal(hpack_decoder_mem(c->dec), 0);
    assert_int_equal(hpack_encoder_mem(c->enc), 0);
    assert_int_equal(k->live, c->mem); /* everything went through the hook */
    assert_true(k->live <= IDLE_BOUND);
}

static void test_idle_connection(void **state)
{
    struct h2_config cfg;
    struct tu_counter k;
    counted_cfg(&cfg, &k);
    struct h2_conn *c = h2_conn_new(H2_ROLE_SERVER, &cfg, NULL, NULL);
    assert_non_null(c);
    uint8_t in[256];
    size_t len = idle_client_bytes(in);
    assert_int_equal(h2_conn_recv(c, in, len, HB_NS_PER_SEC), (ptrdiff_t)len);
    drain(c);
    assert_true(c->settings_acked);
    assert_idle(c, &k);
    print_message("idle connection: %zu bytes (struct h2_conn %zu)\n", k.live,
                  sizeof(struct h2_conn));
    h2_conn_del(c);
    assert_int_equal(k.live, 0);
}

/* The same bytes split at every offset: frames straddling recv calls use the
 * payload buffer, which an idle connection gives back. Then the ACK alone,
 * after the output drained: nothing to write, nothing kept. */
static void test_idle_after_split_input(void **state)
{
    uint8_t in[256];
    size_t len = idle_client_bytes(in);
    size_t ack = H2_FRAME_HDR_LEN;
    for (size_t cut = 1; cut < len - ack; cut++) {
        struct h2_config cfg;
        struct tu_counter k;
        counted_cfg(&cfg, &k);
        struct h2_conn *c = h2_conn_new(H2_ROLE_SERVER, &cfg, NULL, NULL);
        assert_int_equal(h2_conn_recv(c, in, cut, HB_NS_PER_SEC), (ptrdiff_t)cut);
        assert_int_equal(h2_conn_recv(c, in + cut, len - ack - cut, HB_NS_PER_SEC),
                         (ptrdiff_t)(len - ack - cut));
        drain(c);
        assert_int_equal(h2_conn_recv(c, in + len - ack, ack, HB_NS_PER_SEC), (ptrdiff_t)ack);
        assert_false(h2_conn_want_write(c));
        assert_idle(c, &k);
        h2_conn_del(c);
        assert_int_equal(k.live, 0);
    }
}

/* 1,000 idle connections: the hook's count per connection, and glibc's
 * (mallinfo2) to show that nothing bypasses the hook. */
static void test_thousand_idle_connections(void **state)
{
    enum { CONNS = 1000 };
    static struct h2_conn *cs[CONNS];
    struct h2_config cfg;
    struct tu_counter k;
    counted_cfg(&cfg, &k);
    uint8_t in[256];
    size_t len = idle_client_bytes(in);
    struct mallinfo2 before = mallinfo2();
    for (int i = 0; i < CONNS; i++) {
        cs[i] = h2_conn_new(H2_ROLE_SERVER, &cfg, NULL, NULL);
        assert_non_null(cs[i]);
        assert_int_equal(h2_conn_recv(cs[i], in, len, HB_NS_PER_SEC), (ptrdiff_t)len);
        drain(cs[i]);
    }
    struct mallinfo2 after = mallinfo2();
    size_t per_conn = k.live / CONNS;
    assert_true(per_conn <= IDLE_BOUND);
    /* 3 allocations per connection: struct h2_conn, the two HPACK contexts. */
    assert_int_equal(k.nlive, 3 * CONNS);
#ifndef NO_MALLINFO
    /* glibc: each chunk adds a header and rounds to 16. */
    size_t heap = (after.uordblks - before.uordblks) / CONNS;
    print_message("1000 idle connections: %zu bytes each (hook), %zu (malloc)\n", per_conn, heap);
    assert_true(heap <= per_conn + 3 * 24 + 16);
#else
    (void)before;
    (void)after;
#endif
    for (int i = 0; i < CONNS; i++)
        h2_conn_del(cs[i]);
    assert_int_equal(k.live, 0);
}

/* Bytes the connection holds as state once idle again. */
static size_t state_bytes(const struct h2_conn *c)
{
    return hpack_decoder_mem(c->dec) + hpack_encoder_mem(c->enc) +
           c->nbuckets * sizeof *c->buckets + c->closed_cap * sizeof *c->closed;
}

static void respond(struct hx *x, uint32_t id, const void *body, size_t len)
{
    struct hpack_field f[] = {{"content-type", "text/plain", 12, 10, 0},
                              {"server", "h2bridge", 6, 8, 0}};
    struct hb_msg m = {.status = 200, .fields = f, .nfields = 2};
    hx_body(x, id, body, len);
    assert_int_equal(h2_conn_submit_response(x->c, id, &m, false), 0);
    assert_int_equal(h2_conn_resume_data(x->c, id), 0);
}

static void test_request_then_idle_again(void **state)
{
    struct h2_config cfg;
    struct tu_counter k;
    counted_cfg(&cfg, &k);
    struct hx *x = hx_new(&cfg);
    assert_idle(x->c, &k);
    size_t idle = k.live;

    static uint8_t body[40000];
    hx_headers(x, 1, H2_F_END_STREAM, hx_get);
    hx_flush(x);
    assert_int_equal(hx_count_ev(x, 'R'), 1);
    /* The request made the decode buffers and the decoder table (the
     * client indexed :authority) appear. */
    assert_non_null(x->c->fields);
    assert_non_null(x->c->scratch);
    assert_true(hpack_decoder_mem(x->c->dec) > 0);
    respond(x, 1, body, sizeof body);
    assert_true(hpack_encoder_mem(x->c->enc) > 0); /* content-type, server indexed */
    hx_collect(x);
    assert_int_equal(hx_count_ev(x, 'C'), 1);
    struct hx_frame *h = hx_find(x, H2_HEADERS, 0);
    assert_string_equal(h->hdrs, ":status: 200\ncontent-type: text/plain\nserver: h2bridge\n");
    assert_int_equal(hx_count(x, H2_DATA), 3);
    assert_true(k.peak > idle + 65536); /* the scratch, the output buffer */

    /* Closed and drained: buffers gone; what stays is state, and the
     * tables are small (rings sized to one or two entries). */
    assert_holds_nothing(x->c);
    assert_int_equal(k.live, idle + state_bytes(x->c));
    assert_true(state_bytes(x->c) <= 1536);
    print_message("after one request: %zu bytes (state %zu)\n", k.live, state_bytes(x->c));

    /* Again: same state, nothing grows; the second response head is
     * smaller (the encoder's table is in use). */
    size_t after_one = k.live;
    hx_free_frames(x);
    hx_headers(x, 3, H2_F_END_STREAM, hx_get);
    hx_flush(x);
    respond(x, 3, body, 10);
    hx_collect(x);
    assert_int_equal(hx_count_ev(x, 'C'), 2);
    h = hx_find(x, H2_HEADERS, 0);
    assert_string_equal(h->hdrs, ":status: 200\ncontent-type: text/plain\nserver: h2bridge\n");
    assert_true(h->h.length <= 3);
    assert_holds_nothing(x->c);
    assert_int_equal(k.live, after_one);
    hx_del(x);
    assert_int_equal(k.live, 0);
}

/* A busy connection (a stream stays open) keeps its output buffer and decode
 * buffers: requests on it allocate nothing once warm. */
static void test_busy_connection_keeps_buffers(void **state)
{
    struct h2_config cfg;
    struct tu_counter k;
    counted_cfg(&cfg, &k);
    struct hx *x = hx_new(&cfg);
    hx_headers(x, 1, 0, hx_post); /* stays open: no END_STREAM */
    hx_flush(x);
    static uint8_t body[1000];
    long warm = 0;
    for (uint32_t id = 3; id < 3 + 2 * 50; id += 2) {
        hx_free_frames(x);
        x->nev = 0;
        x->nbodies = 0;
        hx_headers(x, id, H2_F_END_STREAM, hx_get);
        hx_flush(x);
        respond(x, id, body, sizeof body);
        hx_collect(x);
        assert_int_equal(hx_count_ev(x, 'C'), 1);
        assert_non_null(x->c->out); /* kept: stream 1 is open */
        assert_non_null(x->c->scratch);
        if (id == 3 + 2 * 10)
            warm = k.nallocs;
    }
    /* The closed ring grows to its limit (64) meanwhile: at most 3 more
     * growths after the 10th request (16 → 32 → 64), nothing per request. */
    assert_true(k.nallocs - warm <= 3);
    /* Stream 1 ends: idle, the buffers go. */
    hx_data(x, 1, "x", 1, true);
    hx_flush(x);
    respond(x, 1, body, 1);
    hx_collect(x);
    assert_holds_nothing(x->c);
    hx_del(x);
    assert_int_equal(k.live, 0);
}

/* The HPACK tables count against cfg.max_memory like the engine's own
 * buffers: a decoder table that would cross it is ENHANCE_YOUR_CALM (a
 * connection error, not a fatal out-of-memory). */
static bool big_indexed_header(size_t max_memory_over_idle, struct tu_counter *k)
{
    struct h2_config cfg;
    counted_cfg(&cfg, k);
    cfg.max_header_list_size = 4096;
    cfg.max_header_fields = 16;
    struct hx *x = hx_new(&cfg);
    x->cfg.max_memory = cfg.max_memory = k->live + max_memory_over_idle;
    x->c->cfg.max_memory = cfg.max_memory; /* white-box: the bound from now on */
    static char big[2001];
    memset(big, 'v', 2000);
    const char *kv[] = {":method", "GET", ":scheme", "https", ":path", "/", ":authority", "a.example",
                        "x-big", big, NULL};
    hpack_encoder_set_large_value(x->enc, 4096); /* the client indexes it */
    hx_headers(x, 1, H2_F_END_STREAM, kv);
    hx_flush(x);
    bool calm = hx_goaway(x) == H2_ENHANCE_YOUR_CALM;
    if (!calm)
        assert_int_equal(hx_count_ev(x, 'R'), 1);
    hx_del(x);
    assert_int_equal(k->live, 0);
    return calm;
}

static void test_max_memory_covers_hpack(void **state)
{
    struct tu_counter k;
    /* fields (16 x 32) + scratch (4096) + a stream + the stream table fit
     * in 6 KiB; the 2 KiB entry's table (2048 + 8 descriptors) does not. */
    size_t buffers = 16 * sizeof(struct hpack_field) + 4096 + sizeof(struct h2_stream) + 64;
    assert_true(buffers < 6 * 1024);
    assert_true(big_indexed_header(6 * 1024, &k));
    assert_false(big_indexed_header(16 * 1024, &k));
}

/* SETTINGS_HEADER_TABLE_SIZE with lazy tables. Ours is 256: the client
 * must announce a size <= 256 in its first block after our SETTINGS were
 * acknowledged (RFC 7541 §4.2), and our table never needs more than 256
 * bytes. The peer's is 0: our first response head starts with a size
 * update to 0 and our encoder never allocates a table. */
static void test_table_size_settings(void **state)
{
    struct h2_config cfg;
    struct tu_counter k;
    counted_cfg(&cfg, &k);
    cfg.header_table_size = 256;
    struct hx *x = hx_new_raw(&cfg);
    static const uint16_t ids[] = {H2_SET_HEADER_TABLE_SIZE};
    static const uint32_t zero[] = {0};
    hx_preface(x);
    hx_settings(x, ids, zero, 1);
    hx_settings_ack(x);
    hx_flush(x);
    hx_free_frames(x);
    hpack_encoder_set_peer_max_table_size(x->enc, 256);
    hpack_encoder_set_options(x->enc, HPACK_ENC_INDEX_ALL);
    hpack_decoder_set_max_table_size(x->dec, 0);
    const char *kv[] = {":method", "GET", ":scheme", "https", ":path", "/", ":authority",
                        "a.example", "x-a", "0123456789012345678901234567890123456789",
                        "x-b", "0123456789012345678901234567890123456789", NULL};
    for (uint32_t id = 1; id <= 9; id += 2) {
        hx_free_frames(x);
        hx_headers(x, id, H2_F_END_STREAM, kv);
        hx_flush(x);
        respond(x, id, "ok", 2);
        hx_collect(x);
        struct hx_frame *h = hx_find(x, H2_HEADERS, 0);
        assert_non_null(h);
        if (id == 1)
            assert_int_equal(h->payload[0], 0x20); /* §6.3: size update to 0 */
        assert_string_equal(h->hdrs,
                            ":status: 200\ncontent-type: text/plain\nserver: h2bridge\n");
    }
    assert_int_equal(hx_count_ev(x, 'R'), 5);
    assert_int_equal(hx_goaway(x), -1);
    /* Our decoder's table: at most 256 bytes of entries, rings to match. */
    assert_true(hpack_decoder_mem(x->c->dec) > 0);
    assert_true(hpack_decoder_mem(x->c->dec) <= 256 + 8 * 40);
    assert_int_equal(hpack_encoder_mem(x->c->enc), 0);
    assert_int_equal(hpack_decoder_table_size(x->dec), 0);
    hx_del(x);
    assert_int_equal(k.live, 0);
}

/* A client that ignores our smaller table size (no size update in its
 * first block after the ACK) is a COMPRESSION_ERROR, lazy table or not. */
static void test_missing_size_update(void **state)
{
    struct h2_config cfg;
    h2_config_defaults(&cfg);
    cfg.header_table_size = 256;
    struct hx *x = hx_new(&cfg);
    hx_headers(x, 1, H2_F_END_STREAM, hx_get);
    hx_flush(x);
    assert_int_equal(hx_goaway(x), H2_COMPRESSION_ERROR);
    hx_del(x);
}

/* ---- failing allocations: the lazily made state ---- */

/* 20 concurrent streams (the stream table and the closed ring grow), each
 * answered; true when it all completed. */
static bool concurrent_exchange(long fail_at, struct tu_counter *k)
{
    struct h2_config cfg;
    counted_cfg(&cfg, k);
    k->fail_at = fail_at;
    struct hx *x = calloc(1, sizeof *x);
    x->cfg = cfg;
    x->now = HB_NS_PER_SEC;
    x->c = h2_conn_new(H2_ROLE_SERVER, &cfg, &hx_cb, x);
    x->enc = hpack_encoder_new();
    x->dec = hpack_decoder_new(4096);
    x->auto_consume = true;
    bool ok = false;
    if (!x->c)
        goto out;
    hx_preface(x);
    hx_settings(x, NULL, NULL, 0);
    hx_settings_ack(x);
    for (uint32_t i = 0; i < 20; i++)
        hx_headers(x, 2 * i + 1, H2_F_END_STREAM, hx_get);
    if (h2_conn_recv(x->c, x->pend, x->npend, x->now) < 0)
        goto out;
    x->npend = 0;
    static const uint8_t body[10] = "0123456789";
    for (uint32_t i = 0; i < 20; i++) {
        struct hpack_field f[] = {{"x-n", "v", 3, 1, 0}};
        struct hb_msg m = {.status = 200, .fields = f, .nfields = 1};
        hx_body(x, 2 * i + 1, body, sizeof body);
        if (h2_conn_submit_response(x->c, 2 * i + 1, &m, false) != 0 ||
            h2_conn_resume_data(x->c, 2 * i + 1) != 0)
            goto out;
    }
    const uint8_t *d;
    ptrdiff_t n;
    while ((n = h2_conn_send(x->c, &d)) > 0)
        h2_conn_sent(x->c, (size_t)n);
    ok = n == 0 && hx_count_ev(x, 'C') == 20;
out:
    h2_conn_del(x->c);
    x->c = NULL;
    hx_del(x);
    return ok;
}

static void test_failing_allocations(void **state)
{
    struct tu_counter k;
    assert_true(concurrent_exchange(-1, &k));
    long total = k.calls;
    assert_int_equal(k.live, 0);
    for (long i = 0; i < total; i++) {
        bool done = concurrent_exchange(i, &k);
        if (done)
            print_message("completed despite failing allocation %ld of %ld\n", i, total);
        assert_false(done);
        assert_int_equal(k.live, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idle_connection),
        cmocka_unit_test(test_idle_after_split_input),
        cmocka_unit_test(test_thousand_idle_connections),
        cmocka_unit_test(test_request_then_idle_again),
        cmocka_unit_test(test_busy_connection_keeps_buffers),
        cmocka_unit_test(test_max_memory_covers_hpack),
        cmocka_unit_test(test_table_size_settings),
        cmocka_unit_test(test_missing_size_update),
        cmocka_unit_test(test_failing_allocations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
