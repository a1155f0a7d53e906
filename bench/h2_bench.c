/* bench/h2_bench — our HTTP/2 server engine against libnghttp2's server
 * session, in memory (no sockets), on identical input: a recorded client
 * byte stream (preface, SETTINGS with the largest windows, then rounds of
 * 100 browser-like GET requests). Each server answers every request with a
 * response head and a body pulled through its data callback (one copy in
 * both), and its output is drained and discarded. Prints ns per request
 * (small bodies) and ns per MB of DATA (1 MiB bodies), side by side.
 * CPU time of the server side only; best of several runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/h2_conn.h"
#include "core/h2_frame.h"
#include "hpack/hpack.h"

#ifdef H2B_HAVE_NGHTTP2
#include <nghttp2/nghttp2.h>
#endif

#define ROUND 100

static uint8_t *rounds_buf;
static size_t *round_off; /* round i is rounds_buf[round_off[i] .. round_off[i+1]) */
static size_t nrounds;
static uint8_t body_src[1 << 20];
static size_t body_len;

static double cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* ---- the recorded client (our frame packers + our HPACK encoder) ---- */

static void record(size_t nreq)
{
    nrounds = (nreq + ROUND - 1) / ROUND + 1;
    round_off = calloc(nrounds + 1, sizeof *round_off);
    size_t cap = 64 + nreq * 400;
    rounds_buf = malloc(cap);
    size_t n = 0;
    memcpy(rounds_buf, H2_PREFACE, H2_PREFACE_LEN);
    n = H2_PREFACE_LEN;
    uint16_t ids[] = {H2_SET_INITIAL_WINDOW_SIZE, H2_SET_MAX_FRAME_SIZE, H2_SET_ENABLE_PUSH};
    uint32_t vals[] = {0x7fffffff, 16384, 0};
    n += h2_pack_settings(rounds_buf + n, ids, vals, 3, false);
    n += h2_pack_window_update(rounds_buf + n, 0, 0x7fffffff - 65535);
    n += h2_pack_settings(rounds_buf + n, NULL, NULL, 0, true); /* ACK of theirs */
    round_off[1] = n;
    struct hpack_encoder *enc = hpack_encoder_new();
    for (size_t i = 0; i < nreq; i++) {
        char path[64];
        snprintf(path, sizeof path, "/static/js/chunk.%zu.js?v=3", i);
        struct hpack_field f[] = {
            {":method", "GET", 7, 3, 0},
            {":scheme", "https", 7, 5, 0},
            {":authority", "www.example.com", 10, 15, 0},
            {":path", path, 5, (uint32_t)strlen(path), 0},
            {"user-agent", "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
             10, 70, 0},
            {"accept", "*/*", 6, 3, 0},
            {"accept-language", "en-US,en;q=0.5", 15, 14, 0},
            {"accept-encoding", "gzip, deflate, br", 15, 17, 0},
            {"referer", "https://www.example.com/", 7, 24, 0},
            {"cookie", "session=0123456789abcdef; theme=dark", 6, 36, 0},
        };
        uint8_t blk[1024];
        ssize_t len = hpack_encode_block(enc, f, 10, blk, sizeof blk);
        n += h2_pack_headers(rounds_buf + n, (uint32_t)(2 * i + 1),
                             H2_F_END_HEADERS | H2_F_END_STREAM, blk, (size_t)len, 0, false, 0, 0);
        if ((i + 1) % ROUND == 0 || i + 1 == nreq)
            round_off[(i + 1 + ROUND - 1) / ROUND + 1] = n;
    }
    hpack_encoder_del(enc);
}

static char resp_len_buf[32]; /* body_len as text, set per scenario */

static const char *resp_len_str(void)
{
    return resp_len_buf;
}

/* ---- ours ---- */

struct ours {
    struct h2_conn *c;
    size_t done;
    size_t *pos; /* body position per stream (by id / 2) */
};

static void o_request(void *ud, uint32_t id, const struct hb_msg *m, bool end)
{
    struct ours *o = ud;
    const char *cl = resp_len_str();
    struct hpack_field f[] = {
        {"content-type", "application/javascript", 12, 22, 0},
        {"content-length", cl, 14, (uint32_t)strlen(cl), 0},
        {"cache-control", "public, max-age=31536000", 13, 24, 0},
        {"server", "h2bridge", 6, 8, 0},
        {"date", "Mon, 23 Nov 2026 12:00:00 GMT", 4, 29, 0},
    };
    struct hb_msg r = {.status = 200, .fields = f, .nfields = 5};
    o->pos[id / 2] = 0;
    h2_conn_submit_response(o->c, id, &r, body_len == 0);
    if (body_len)
        h2_conn_resume_data(o->c, id);
}

static ptrdiff_t o_read(void *ud, uint32_t id, uint8_t *dst, size_t max, bool *eof)
{
    struct ours *o = ud;
    size_t *p = &o->pos[id / 2];
    size_t n = body_len - *p < max ? body_len - *p : max;
    memcpy(dst, body_src + *p, n);
    *p += n;
    *eof = *p == body_len;
    return (ptrdiff_t)n;
}

static void o_close(void *ud, uint32_t id, uint32_t code)
{
    ((struct ours *)ud)->done++;
}

static size_t run_ours(size_t nreq, size_t *out_bytes)
{
    struct ours o = {0};
    o.pos = calloc(nreq + 1, sizeof *o.pos);
    struct h2_callbacks cb = {
        .on_request = o_request, .on_stream_close = o_close, .read_data = o_read};
    struct h2_config cfg;
    h2_config_defaults(&cfg);
    o.c = h2_conn_new(H2_ROLE_SERVER, &cfg, &cb, &o);
    size_t out = 0;
    for (size_t r = 0; r < nrounds; r++) {
        h2_conn_recv(o.c, rounds_buf + round_off[r], round_off[r + 1] - round_off[r], 1);
        const uint8_t *d;
        ptrdiff_t n;
        while ((n = h2_conn_send(o.c, &d)) > 0) {
            out += (size_t)n;
            h2_conn_sent(o.c, (size_t)n);
        }
    }
    if (o.done != nreq || h2_conn_goaway_sent_code(o.c) != -1)
        fprintf(stderr, "ours: %zu of %zu done, goaway %lld (%s)\n", o.done, nreq,
                (long long)h2_conn_goaway_sent_code(o.c), h2_conn_error_reason(o.c));
    h2_conn_del(o.c);
    free(o.pos);
    *out_bytes = out;
    return o.done;
}

#ifdef H2B_HAVE_NGHTTP2
struct ng {
    nghttp2_session *s;
    size_t done;
    size_t *pos;
};

static ssize_t n_read(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
                      nghttp2_data_source *src, void *ud)
{
    struct ng *g = ud;
    size_t *p = &g->pos[id / 2];
    size_t n = body_len - *p < len ? body_len - *p : len;
    memcpy(buf, body_src + *p, n);
    *p += n;
    if (*p == body_len)
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

static int n_frame(nghttp2_session *s, const nghttp2_frame *fr, void *ud)
{
    struct ng *g = ud;
    if (fr->hd.type != NGHTTP2_HEADERS || !(fr->hd.flags & NGHTTP2_FLAG_END_STREAM))
        return 0;
    const char *cl = resp_len_str();
#define NV(n, v) {(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v), 0}
    nghttp2_nv nv[] = {NV(":status", "200"),     NV("content-type", "application/javascript"),
                       NV("content-length", cl), NV("cache-control", "public, max-age=31536000"),
                       NV("server", "h2bridge"), NV("date", "Mon, 23 Nov 2026 12:00:00 GMT")};
    g->pos[fr->hd.stream_id / 2] = 0;
    nghttp2_data_provider prd = {.read_callback = n_read};
    nghttp2_submit_response(s, fr->hd.stream_id, nv, 6, body_len ? &prd : NULL);
    return 0;
}

static int n_close(nghttp2_session *s, int32_t id, uint32_t code, void *ud)
{
    ((struct ng *)ud)->done++;
    return 0;
}

static size_t run_nghttp2(size_t nreq, size_t *out_bytes)
{
    struct ng g = {0};
    g.pos = calloc(nreq + 1, sizeof *g.pos);
    nghttp2_session_callbacks *cbs;
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, n_frame);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, n_close);
    nghttp2_session_server_new(&g.s, cbs, &g);
    nghttp2_session_callbacks_del(cbs);
    nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100}};
    nghttp2_submit_settings(g.s, NGHTTP2_FLAG_NONE, iv, 1);
    size_t out = 0;
    for (size_t r = 0; r < nrounds; r++) {
        nghttp2_session_mem_recv(g.s, rounds_buf + round_off[r], round_off[r + 1] - round_off[r]);
        const uint8_t *d;
        ssize_t n;
        while ((n = nghttp2_session_mem_send(g.s, &d)) > 0)
            out += (size_t)n;
    }
    if (g.done != nreq)
        fprintf(stderr, "nghttp2: %zu of %zu done\n", g.done, nreq);
    nghttp2_session_del(g.s);
    free(g.pos);
    *out_bytes = out;
    return g.done;
}
#endif

typedef size_t (*runner)(size_t, size_t *);

static double timed(runner fn, size_t nreq, size_t *out)
{
    double t0 = cpu_ns();
    fn(nreq, out);
    return cpu_ns() - t0;
}

static void scenario(const char *name, size_t nreq, size_t blen, int reps)
{
    body_len = blen;
    snprintf(resp_len_buf, sizeof resp_len_buf, "%zu", blen);
    free(rounds_buf);
    free(round_off);
    record(nreq);
    size_t out_o = 0, out_n = 0;
    double to = 1e300, tn = 1e300;
    /* Alternate the two so a noisy neighbour hurts both alike; keep the
     * best run of each. */
    for (int i = 0; i < reps; i++) {
        double t = timed(run_ours, nreq, &out_o);
        to = t < to ? t : to;
#ifdef H2B_HAVE_NGHTTP2
        t = timed(run_nghttp2, nreq, &out_n);
        tn = t < tn ? t : tn;
#endif
    }
    double mb = (double)nreq * (double)blen / (1024.0 * 1024.0);
    printf("%-24s ours    %8.0f ns/request", name, to / (double)nreq);
    if (blen >= 65536)
        printf("  %8.0f ns/MB", to / mb);
    printf("  (%zu bytes out)\n", out_o);
#ifdef H2B_HAVE_NGHTTP2
    printf("%-24s nghttp2 %8.0f ns/request", name, tn / (double)nreq);
    if (blen >= 65536)
        printf("  %8.0f ns/MB", tn / mb);
    printf("  (%zu bytes out)\n", out_n);
    printf("%-24s ours is %.2fx faster\n", name, tn / to);
#else
    (void)tn;
    (void)out_n;
    printf("(libnghttp2 not found: no comparison)\n");
#endif
}

int main(int argc, char **argv)
{
    for (size_t i = 0; i < sizeof body_src; i++)
        body_src[i] = (uint8_t)(i * 7 + 3);
    scenario("20000 req, no body", 20000, 0, 7);
    scenario("20000 req, 1 KiB body", 20000, 1024, 7);
    scenario("200 req, 1 MiB body", 200, 1u << 20, 7);
    return 0;
}
