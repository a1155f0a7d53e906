/* HTTP/2 engine interop: libnghttp2 (test-only oracle) as the client drives
 * our server engine in memory through hundreds of randomised exchanges —
 * request and response bodies of random sizes, small windows on both sides,
 * lazy consumption, random chunking of the byte streams, client resets,
 * trailers — and every completed body is checked byte for byte. */
#include "testutil/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/h2_conn.h"

#ifdef H2B_HAVE_NGHTTP2
#include <nghttp2/nghttp2.h>

#define MAX_STREAMS 64

static uint64_t rng_state;
static uint32_t rnd(uint32_t n)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return n ? (uint32_t)(rng_state >> 33) % n : 0;
}

static uint8_t req_byte(uint32_t id, size_t i)
{
    return (uint8_t)(i * 31 + id * 7 + (i >> 9));
}
static uint8_t resp_byte(uint32_t id, size_t i)
{
    return (uint8_t)(i * 13 + id * 5 + (i >> 7) + 1);
}

struct cli_stream { /* client's view */
    int32_t id;
    size_t req_len, req_pos;
    size_t resp_len_expected;
    size_t resp_got;
    bool resp_ok; /* every byte matched */
    int status;
    bool closed;
    uint32_t close_code;
    bool reset_by_client;
    bool trailers_seen;
    bool want_trailers;
};

struct srv_stream { /* server app's view */
    uint32_t id;
    bool used;
    size_t req_got;
    bool req_ok;
    bool req_done;
    size_t resp_len, resp_pos;
    size_t unconsumed;
    bool closed;
    uint32_t close_code;
    bool trailers;
};

struct world {
    nghttp2_session *cli;
    struct h2_conn *srv;
    struct cli_stream cs[MAX_STREAMS];
    int ncs;
    struct srv_stream ss[MAX_STREAMS];
    int nss;
    uint8_t to_srv[1 << 20];
    size_t n_to_srv;
    bool goaway_seen;
    int closes;
};

static struct cli_stream *cli_find(struct world *w, int32_t id)
{
    for (int i = 0; i < w->ncs; i++)
        if (w->cs[i].id == id)
            return &w->cs[i];
    return NULL;
}

static struct srv_stream *srv_find(struct world *w, uint32_t id)
{
    for (int i = 0; i < w->nss; i++)
        if (w->ss[i].id == id)
            return &w->ss[i];
    return NULL;
}

/* ---- server app ---- */

static void s_request(void *ud, uint32_t id, const struct hb_msg *m, bool end);

static void s_respond(struct world *w, struct srv_stream *s)
{
    struct hpack_field f[] = {{"x-served-by", "h2bridge", 11, 8, 0}};
    struct hb_msg resp = {.status = 200, .fields = f, .nfields = 1};
    if (s->resp_len == 0 && !s->trailers) {
        assert_int_equal(h2_conn_submit_response(w->srv, s->id, &resp, true), 0);
        return;
    }
    assert_int_equal(h2_conn_submit_response(w->srv, s->id, &resp, false), 0);
    if (s->trailers) {
        struct hpack_field t[] = {{"x-trailer", "yes", 9, 3, 0}};
        struct hb_msg tm = {.fields = t, .nfields = 1};
        assert_int_equal(h2_conn_submit_trailers(w->srv, s->id, &tm), 0);
    }
    assert_int_equal(h2_conn_resume_data(w->srv, s->id), 0);
}

static void s_request(void *ud, uint32_t id, const struct hb_msg *m, bool end)
{
    struct world *w = ud;
    assert_true(w->nss < MAX_STREAMS);
    struct srv_stream *s = &w->ss[w->nss++];
    memset(s, 0, sizeof *s);
    s->id = id;
    s->used = true;
    s->req_ok = true;
    /* The client put the wanted response size in the path. */
    char path[64];
    snprintf(path, sizeof path, "%.*s", (int)m->path.len, m->path.p);
    unsigned long rl = 0, tr = 0;
    assert_int_equal(sscanf(path, "/r/%lu/%lu", &rl, &tr), 2);
    s->resp_len = rl;
    s->trailers = tr != 0;
    if (end) {
        s->req_done = true;
        s_respond(w, s);
    }
}

static void s_data(void *ud, uint32_t id, const uint8_t *d, size_t len, bool end)
{
    struct world *w = ud;
    struct srv_stream *s = srv_find(w, id);
    assert_non_null(s);
    for (size_t i = 0; i < len; i++)
        if (d[i] != req_byte(id, s->req_got + i))
            s->req_ok = false;
    s->req_got += len;
    s->unconsumed += len;
    if (end) {
        s->req_done = true;
        s_respond(w, s);
    }
}

static void s_close(void *ud, uint32_t id, uint32_t code)
{
    struct world *w = ud;
    struct srv_stream *s = srv_find(w, id);
    assert_non_null(s);
    assert_false(s->closed); /* exactly once */
    s->closed = true;
    s->close_code = code;
}

static ptrdiff_t s_read(void *ud, uint32_t id, uint8_t *dst, size_t max, bool *eof)
{
    struct world *w = ud;
    struct srv_stream *s = srv_find(w, id);
    assert_non_null(s);
    size_t n = s->resp_len - s->resp_pos;
    if (n > max)
        n = max;
    /* Sometimes hand out less than asked, or nothing (parks the stream). */
    if (n > 1 && rnd(4) == 0)
        n = 1 + rnd((uint32_t)n);
    for (size_t i = 0; i < n; i++)
        dst[i] = resp_byte(id, s->resp_pos + i);
    s->resp_pos += n;
    *eof = s->resp_pos == s->resp_len;
    return (ptrdiff_t)n;
}

static const struct h2_callbacks srv_cb = {s_request, s_data, NULL, s_close, NULL, s_read, NULL};

/* ---- nghttp2 client ---- */

static ssize_t c_send(nghttp2_session *session, const uint8_t *data, size_t len, int flags,
                      void *ud)
{
    struct world *w = ud;
    if (w->n_to_srv + len > sizeof w->to_srv)
        return NGHTTP2_ERR_WOULDBLOCK;
    memcpy(w->to_srv + w->n_to_srv, data, len);
    w->n_to_srv += len;
    return (ssize_t)len;
}

static int c_chunk(nghttp2_session *session, uint8_t flags, int32_t id, const uint8_t *d,
                   size_t len, void *ud)
{
    struct cli_stream *c = cli_find(ud, id);
    assert_non_null(c);
    for (size_t i = 0; i < len; i++)
        if (d[i] != resp_byte((uint32_t)id, c->resp_got + i))
            c->resp_ok = false;
    c->resp_got += len;
    return 0;
}

static int c_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
                    size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags, void *ud)
{
    struct cli_stream *c = cli_find(ud, frame->hd.stream_id);
    if (!c)
        return 0;
    if (namelen == 7 && memcmp(name, ":status", 7) == 0)
        c->status = atoi((const char *)value);
    if (namelen == 9 && memcmp(name, "x-trailer", 9) == 0)
        c->trailers_seen = true;
    return 0;
}

static int c_close(nghttp2_session *session, int32_t id, uint32_t code, void *ud)
{
    struct cli_stream *c = cli_find(ud, id);
    if (c) {
        c->closed = true;
        c->close_code = code;
    }
    return 0;
}

static int c_frame(nghttp2_session *session, const nghttp2_frame *frame, void *ud)
{
    if (frame->hd.type == NGHTTP2_GOAWAY)
        ((struct world *)ud)->goaway_seen = true;
    return 0;
}

static ssize_t c_read(nghttp2_session *session, int32_t id, uint8_t *buf, size_t len,
                      uint32_t *flags, nghttp2_data_source *src, void *ud)
{
    struct cli_stream *c = cli_find(ud, id);
    size_t n = c->req_len - c->req_pos;
    if (n > len)
        n = len;
    for (size_t i = 0; i < n; i++)
        buf[i] = req_byte((uint32_t)id, c->req_pos + i);
    c->req_pos += n;
    if (c->req_pos == c->req_len)
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

/* Moves bytes both ways in random chunks until both sides are idle. */
static void pump(struct world *w, int rounds)
{
    for (int r = 0; r < rounds; r++) {
        bool moved = false;
        int rv = nghttp2_session_send(w->cli);
        assert_int_equal(rv, 0);
        size_t pos = 0;
        while (pos < w->n_to_srv) {
            size_t n = 1 + rnd(3000);
            if (n > w->n_to_srv - pos)
                n = w->n_to_srv - pos;
            assert_int_equal(h2_conn_recv(w->srv, w->to_srv + pos, n, HB_NS_PER_SEC), (ptrdiff_t)n);
            pos += n;
            moved = true;
        }
        w->n_to_srv = 0;
        /* The app consumes lazily, a random part of what it got. */
        for (int i = 0; i < w->nss; i++) {
            struct srv_stream *s = &w->ss[i];
            if (!s->closed && s->unconsumed)
                moved = true; /* still work to do: do not stop */
            if (!s->closed && s->unconsumed && rnd(2)) {
                size_t n = 1 + rnd((uint32_t)s->unconsumed);
                assert_int_equal(h2_conn_consumed(w->srv, s->id, n), 0);
                s->unconsumed -= n;
            }
        }
        for (int k = 0; k < 4; k++) {
            const uint8_t *d;
            ptrdiff_t n = h2_conn_send(w->srv, &d);
            assert_true(n >= 0);
            if (n == 0)
                break;
            size_t take = (size_t)n;
            if (rnd(3) == 0)
                take = 1 + rnd((uint32_t)n); /* a short write */
            ssize_t got = nghttp2_session_mem_recv(w->cli, d, take);
            assert_int_equal(got, (ssize_t)take);
            h2_conn_sent(w->srv, take);
            moved = true;
        }
        if (!moved && !nghttp2_session_want_write(w->cli) && !h2_conn_want_write(w->srv))
            break;
    }
}

static void one_connection(int nstreams)
{
    struct world *w = calloc(1, sizeof *w);
    struct h2_config cfg;
    h2_config_defaults(&cfg);
    cfg.initial_window_size = 1000 + rnd(70000);
    cfg.connection_window_size = 65535 + rnd(200000);
    w->srv = h2_conn_new(H2_ROLE_SERVER, &cfg, &srv_cb, w);
    assert_non_null(w->srv);

    nghttp2_session_callbacks *cbs;
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_send_callback(cbs, c_send);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, c_chunk);
    nghttp2_session_callbacks_set_on_header_callback(cbs, c_header);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, c_close);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, c_frame);
    assert_int_equal(nghttp2_session_client_new(&w->cli, cbs, w), 0);
    nghttp2_session_callbacks_del(cbs);
    nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 500 + rnd(100000)},
                                   {NGHTTP2_SETTINGS_MAX_FRAME_SIZE, 16384 + rnd(30000)}};
    assert_int_equal(nghttp2_submit_settings(w->cli, NGHTTP2_FLAG_NONE, iv, 2), 0);

    for (int i = 0; i < nstreams; i++) {
        struct cli_stream *c = &w->cs[w->ncs];
        memset(c, 0, sizeof *c);
        c->resp_ok = true;
        bool post = rnd(2);
        c->req_len = post ? rnd(4) == 0 ? 0 : rnd(150000) : 0;
        c->resp_len_expected = rnd(5) == 0 ? 0 : rnd(200000);
        c->want_trailers = rnd(4) == 0;
        char path[64];
        snprintf(path, sizeof path, "/r/%zu/%d", c->resp_len_expected, c->want_trailers);
        nghttp2_nv nv[] = {
            {(uint8_t *)":method", (uint8_t *)(post ? "POST" : "GET"), 7, post ? 4 : 3, 0},
            {(uint8_t *)":scheme", (uint8_t *)"https", 7, 5, 0},
            {(uint8_t *)":authority", (uint8_t *)"example.com", 10, 11, 0},
            {(uint8_t *)":path", (uint8_t *)path, 5, strlen(path), 0},
        };
        nghttp2_data_provider prd = {.read_callback = c_read};
        int32_t id = nghttp2_submit_request(w->cli, NULL, nv, 4, post ? &prd : NULL, NULL);
        assert_true(id > 0);
        c->id = id;
        w->ncs++;
        /* Interleave: move some bytes between submissions. */
        if (rnd(2))
            pump(w, 1 + (int)rnd(3));
        /* Some streams get cancelled by the client midway. */
        if (i > 0 && rnd(10) == 0) {
            struct cli_stream *v = &w->cs[rnd((uint32_t)w->ncs)];
            if (!v->closed && !v->reset_by_client) {
                nghttp2_submit_rst_stream(w->cli, NGHTTP2_FLAG_NONE, v->id, NGHTTP2_CANCEL);
                v->reset_by_client = true;
            }
        }
    }
    pump(w, 100000);

    assert_false(w->goaway_seen);
    assert_int_equal(h2_conn_goaway_sent_code(w->srv), -1);
    for (int i = 0; i < w->ncs; i++) {
        struct cli_stream *c = &w->cs[i];
        assert_true(c->closed);
        if (c->reset_by_client)
            continue;
        if (c->close_code != 0) {
            struct srv_stream *x = srv_find(w, (uint32_t)c->id);
            print_message("stream %d: client close %u, server close %u, req %zu/%zu resp %zu/%zu\n",
                          c->id, c->close_code, x ? x->close_code : 999, x ? x->req_got : 0,
                          c->req_len, c->resp_got, c->resp_len_expected);
        }
        assert_int_equal(c->close_code, 0);
        assert_int_equal(c->status, 200);
        assert_true(c->resp_ok);
        assert_int_equal(c->resp_got, c->resp_len_expected);
        assert_int_equal(c->trailers_seen, c->want_trailers);
        struct srv_stream *s = srv_find(w, (uint32_t)c->id);
        assert_non_null(s);
        assert_true(s->req_ok);
        assert_int_equal(s->req_got, c->req_len);
        assert_true(s->closed);
        assert_int_equal(s->close_code, 0);
    }
    for (int i = 0; i < w->nss; i++)
        assert_true(w->ss[i].closed);
    assert_int_equal(h2_conn_open_streams(w->srv), 0);
    nghttp2_session_del(w->cli);
    h2_conn_del(w->srv);
    free(w);
}

static void test_nghttp2_random_exchanges(void **state)
{
    rng_state = 0x5eed;
    int total = 0;
    for (int conn = 0; conn < 25; conn++) {
        int n = 4 + (int)rnd(20);
        one_connection(n);
        total += n;
    }
    print_message("%d randomised exchanges over 25 connections\n", total);
    assert_true(total >= 200);
}

static void test_nghttp2_graceful_shutdown(void **state)
{
    rng_state = 7;
    struct world *w = calloc(1, sizeof *w);
    w->srv = h2_conn_new(H2_ROLE_SERVER, NULL, &srv_cb, w);
    nghttp2_session_callbacks *cbs;
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_send_callback(cbs, c_send);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, c_chunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, c_close);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, c_frame);
    nghttp2_session_callbacks_set_on_header_callback(cbs, c_header);
    nghttp2_session_client_new(&w->cli, cbs, w);
    nghttp2_session_callbacks_del(cbs);
    nghttp2_submit_settings(w->cli, NGHTTP2_FLAG_NONE, NULL, 0);
    struct cli_stream *c = &w->cs[w->ncs++];
    memset(c, 0, sizeof *c);
    c->resp_ok = true;
    c->resp_len_expected = 100000;
    nghttp2_nv nv[] = {{(uint8_t *)":method", (uint8_t *)"GET", 7, 3, 0},
                       {(uint8_t *)":scheme", (uint8_t *)"https", 7, 5, 0},
                       {(uint8_t *)":authority", (uint8_t *)"e", 10, 1, 0},
                       {(uint8_t *)":path", (uint8_t *)"/r/100000/0", 5, 11, 0}};
    c->id = nghttp2_submit_request(w->cli, NULL, nv, 4, NULL, NULL);
    pump(w, 1);
    assert_int_equal(h2_conn_goaway(w->srv, H2_NO_ERROR, true), 0);
    pump(w, 100000);
    assert_true(w->goaway_seen);
    assert_true(c->closed);
    assert_int_equal(c->resp_got, 100000);
    assert_true(c->resp_ok);
    assert_true(h2_conn_want_close(w->srv));
    nghttp2_session_del(w->cli);
    h2_conn_del(w->srv);
    free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nghttp2_random_exchanges),
        cmocka_unit_test(test_nghttp2_graceful_shutdown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

#else
int main(void)
{
    printf("libnghttp2 not found: interop test skipped\n");
    return 0;
}
#endif
