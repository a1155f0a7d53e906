/* HTTP/2 engine: incremental input (a whole session split at every byte
 * offset, byte by byte, and from a buffer ending at a guard page) and a
 * failing-allocation loop over a full exchange. */
#include "h2_harness.h"

static uint8_t session[1 << 16];
static size_t session_len;

/* A client session exercising most frame kinds, padding and CONTINUATION. */
static void build_session(void)
{
    struct hx *x = hx_new_raw(NULL);
    hx_preface(x);
    uint16_t ids[] = {H2_SET_HEADER_TABLE_SIZE, H2_SET_INITIAL_WINDOW_SIZE};
    uint32_t vals[] = {2048, 100000};
    hx_settings(x, ids, vals, 2);
    hx_settings_ack(x);
    uint8_t blk[512];
    size_t n = hx_block(x, blk, sizeof blk, hx_post);
    x->npend +=
        h2_pack_headers(hx_room(x, 600), 1, H2_F_PADDED | H2_F_PRIORITY, blk, 4, 0, false, 200, 7);
    x->npend += h2_pack_continuation(hx_room(x, 600), 1, blk + 4, n - 4, true);
    x->npend += h2_pack_data(hx_room(x, 600), 1, (const uint8_t *)"hello ", 6, false, 30, false);
    uint8_t ping[8] = {9, 8, 7, 6, 5, 4, 3, 2};
    hx_frame(x, H2_PING, 0, 0, ping, 8);
    hx_frame(x, 0x33, 0x1, 1, "unknown", 7);
    static uint8_t big[16000];
    memset(big, 'b', sizeof big);
    hx_data(x, 1, big, sizeof big, false);
    hx_data(x, 1, "world", 5, false);
    static const char *const tr[] = {"x-sum", "1", NULL};
    hx_headers(x, 1, H2_F_END_STREAM, tr);
    hx_headers(x, 3, H2_F_END_STREAM, hx_get);
    uint8_t pr[5] = {0, 0, 0, 1, 3};
    hx_frame(x, H2_PRIORITY, 0, 3, pr, 5);
    hx_u32(x, H2_WINDOW_UPDATE, 0, 1000);
    hx_headers(x, 5, 0, hx_post);
    hx_u32(x, H2_RST_STREAM, 5, H2_CANCEL);
    uint8_t pu[7] = {0, 0, 0, 3, 'u', '=', '1'};
    hx_frame(x, H2_PRIORITY_UPDATE, 0, 0, pu, 7);
    memcpy(session, x->pend, x->npend);
    session_len = x->npend;
    x->npend = 0;
    hx_del(x);
}

struct trace {
    char ev[8192];
    uint8_t out[1 << 16];
    size_t nout;
};

static void trace_of(struct hx *x, struct trace *t)
{
    size_t o = 0;
    for (size_t i = 0; i < x->nev; i++)
        o +=
            (size_t)snprintf(t->ev + o, sizeof t->ev - o, "%c%u:%u:%d:%zu:%s;", x->ev[i].kind,
                             x->ev[i].id, x->ev[i].code, x->ev[i].end, x->ev[i].len, x->ev[i].text);
    t->nout = 0;
    for (;;) {
        const uint8_t *d;
        ptrdiff_t n = h2_conn_send(x->c, &d);
        assert_true(n >= 0);
        if (n == 0)
            break;
        memcpy(t->out + t->nout, d, (size_t)n);
        t->nout += (size_t)n;
        h2_conn_sent(x->c, (size_t)n);
    }
}

static void feed(struct hx *x, const uint8_t *p, size_t n)
{
    assert_int_equal(h2_conn_recv(x->c, p, n, x->now), (ptrdiff_t)n);
}

static struct trace whole, part;

static void test_split_every_offset(void **state)
{
    build_session();
    struct hx *x = hx_new_raw(NULL);
    feed(x, session, session_len);
    trace_of(x, &whole);
    assert_int_equal(h2_conn_goaway_sent_code(x->c), -1);
    assert_non_null(strstr(whole.ev, "R1:0:0:0:"));
    assert_non_null(strstr(whole.ev, "T1:0:1:0:"));
    assert_non_null(strstr(whole.ev, "C5:8:0:0:"));
    hx_del(x);
    for (size_t k = 1; k < session_len; k++) {
        x = hx_new_raw(NULL);
        feed(x, session, k);
        feed(x, session + k, session_len - k);
        trace_of(x, &part);
        assert_string_equal(part.ev, whole.ev);
        assert_int_equal(part.nout, whole.nout);
        assert_memory_equal(part.out, whole.out, whole.nout);
        hx_del(x);
    }
}

static void test_byte_by_byte_guard_page(void **state)
{
    build_session();
    uint8_t *g = tu_guard_copy(session, session_len);
    struct hx *x = hx_new_raw(NULL);
    for (size_t i = 0; i < session_len; i++)
        feed(x, g + i, 1);
    trace_of(x, &part);
    hx_del(x);
    x = hx_new_raw(NULL);
    feed(x, g, session_len); /* whole, ending at the guard page */
    trace_of(x, &whole);
    hx_del(x);
    tu_guard_free(g, session_len);
    assert_string_equal(part.ev, whole.ev);
    assert_memory_equal(part.out, whole.out, whole.nout);
}

/* ---- failing allocations ---- */

struct fail_alloc {
    long countdown; /* fail when it reaches 0; -1 never */
    long calls;
    size_t live;
};

static void *fa_alloc(void *ud, size_t n)
{
    struct fail_alloc *a = ud;
    a->calls++;
    if (a->countdown >= 0 && a->countdown-- == 0)
        return NULL;
    a->live += n;
    return malloc(n);
}

static void fa_free(void *ud, void *p, size_t n)
{
    struct fail_alloc *a = ud;
    a->live -= n;
    free(p);
}

/* A full exchange; returns true when it completed, false when an
 * allocation failure stopped it (cleanly). */
static bool exchange(struct fail_alloc *fa)
{
    struct h2_config cfg;
    h2_config_defaults(&cfg);
    cfg.allocator = (struct h2_allocator){fa_alloc, fa_free, fa};
    struct hx *x = hx_alloc();
    x->cfg = cfg;
    x->c = h2_conn_new(H2_ROLE_SERVER, &cfg, &hx_cb, x);
    if (!x->c) {
        free(x);
        return false;
    }
    x->enc = hpack_encoder_new();
    x->dec = hpack_decoder_new(4096);
    x->auto_consume = true;
    x->now = HB_NS_PER_SEC;
    bool ok = false;
    const uint8_t *d;
    /* The session fed in two halves, so frames straddle (payload buffer). */
    if (h2_conn_recv(x->c, session, session_len / 2, x->now) < 0 ||
        h2_conn_recv(x->c, session + session_len / 2, session_len - session_len / 2, x->now) < 0)
        goto out;
    static char big[30000];
    memset(big, 'h', sizeof big - 1);
    struct hpack_field f[] = {{"x-big", big, 5, sizeof big - 1, 0}};
    struct hb_msg m = {.status = 200, .fields = f, .nfields = 1};
    static uint8_t body[50000];
    hx_body(x, 3, body, sizeof body);
    if (h2_conn_submit_response(x->c, 3, &m, false) != 0)
        goto out;
    struct hpack_field tf[] = {{"x-t", "1", 3, 1, 0}};
    struct hb_msg t = {.fields = tf, .nfields = 1};
    if (h2_conn_submit_trailers(x->c, 3, &t) != 0 || h2_conn_resume_data(x->c, 3) != 0)
        goto out;
    for (int i = 0; i < 100; i++) {
        ptrdiff_t n = h2_conn_send(x->c, &d);
        if (n < 0)
            goto out;
        if (n == 0)
            break;
        h2_conn_sent(x->c, (size_t)n);
    }
    ok = hx_count_ev(x, 'C') >= 2;
out:
    h2_conn_del(x->c);
    x->c = NULL;
    hx_del(x);
    return ok;
}

static void test_failing_allocations(void **state)
{
    build_session();
    struct fail_alloc fa = {-1, 0, 0};
    assert_true(exchange(&fa));
    long total = fa.calls;
    assert_true(total > 3);
    assert_int_equal(fa.live, 0);
    for (long k = 0; k < total; k++) {
        fa = (struct fail_alloc){k, 0, 0};
        bool done = exchange(&fa);
        if (done)
            print_message("completed despite failing allocation %ld of %ld\n", k, total);
        assert_false(done);
        assert_int_equal(fa.live, 0); /* nothing leaked */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_every_offset),
        cmocka_unit_test(test_byte_by_byte_guard_page),
        cmocka_unit_test(test_failing_allocations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
