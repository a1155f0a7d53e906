/* tests/core/h2_harness.h — a hand-driven HTTP/2 client for the engine's
 * tests: packs frames (core/h2_frame.h packers + a client-side HPACK
 * encoder), feeds them to a server h2_conn, records every callback, and
 * parses what the engine writes back into frames (HEADERS decoded with a
 * client-side HPACK decoder). Header-only: each test binary includes it. */
#ifndef H2B_TESTS_H2_HARNESS_H
#define H2B_TESTS_H2_HARNESS_H

#include "testutil/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/h2_conn.h"
#include "core/h2_frame.h"
#include "hpack/hpack.h"

#define HX_MAX_FRAMES 2048
#define HX_MAX_EV     4096

struct hx_frame {
    struct h2_frame_hdr h;
    uint8_t *payload;
    /* decoded header block of HEADERS/PUSH_PROMISE (+CONTINUATION) */
    char hdrs[1024]; /* "name: value\n"... */
    size_t nfields;
};

struct hx_ev { /* one callback */
    char kind; /* 'R' request, 'D' data, 'T' trailers, 'C' close, 'G' goaway,
                  'E' protocol error (text: the reason) */
    uint32_t id;
    uint32_t code;
    bool end;
    size_t len;
    void *user_data; /* 'C': h2_conn_stream_user_data() during the callback */
    struct h2_wire wire; /* 'C': h2_conn_stream_wire() during the callback */
    char text[512];
};

struct hx_body { /* response body source for read_data */
    uint32_t id;
    const uint8_t *data;
    size_t len, pos;
    bool eof_known;
};

struct hx {
    struct h2_conn *c;
    struct h2_config cfg;
    hb_ns_t now;
    struct hpack_encoder *enc;
    struct hpack_decoder *dec;
    struct hx_frame frames[HX_MAX_FRAMES];
    size_t nframes;
    struct hx_ev ev[HX_MAX_EV];
    size_t nev;
    struct hx_body bodies[64];
    size_t nbodies;
    bool auto_consume;
    size_t out_bytes;
    uint8_t pend[1 << 20]; /* packed frames not yet fed */
    size_t npend;
};

static inline void hx_ev_add(struct hx *x, char kind, uint32_t id, uint32_t code, bool end,
                             size_t len, const char *text)
{
    if (x->nev >= HX_MAX_EV)
        return;
    struct hx_ev *e = &x->ev[x->nev++];
    e->kind = kind;
    e->id = id;
    e->code = code;
    e->end = end;
    e->len = len;
    e->user_data = NULL;
    snprintf(e->text, sizeof e->text, "%s", text ? text : "");
}

static inline void hx_msg_text(const struct hb_msg *m, char *buf, size_t cap)
{
    size_t o = 0;
    o += (size_t)snprintf(
        buf + o, cap - o, "%.*s %.*s %.*s %.*s", (int)m->method.len, m->method.p ? m->method.p : "",
        (int)m->scheme.len, m->scheme.p ? m->scheme.p : "", (int)m->authority.len,
        m->authority.p ? m->authority.p : "", (int)m->path.len, m->path.p ? m->path.p : "");
    for (uint32_t i = 0; i < m->nfields && o < cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, "|%.*s=%.*s", (int)m->fields[i].name_len,
                              m->fields[i].name, (int)m->fields[i].value_len, m->fields[i].value);
}

static void hx_on_request(void *ud, uint32_t id, const struct hb_msg *m, bool end)
{
    char t[512];
    hx_msg_text(m, t, sizeof t);
    hx_ev_add(ud, 'R', id, 0, end, 0, t);
}

static void hx_on_data(void *ud, uint32_t id, const uint8_t *d, size_t len, bool end)
{
    struct hx *x = ud;
    char t[512];
    snprintf(t, sizeof t, "%.*s", (int)(len < 500 ? len : 500), (const char *)d);
    hx_ev_add(x, 'D', id, 0, end, len, t);
    if (x->auto_consume)
        h2_conn_consumed(x->c, id, len);
}

static void hx_on_trailers(void *ud, uint32_t id, const struct hb_msg *m)
{
    char t[512];
    hx_msg_text(m, t, sizeof t);
    hx_ev_add(ud, 'T', id, 0, true, 0, t);
}

static void hx_on_close(void *ud, uint32_t id, uint32_t code)
{
    struct hx *x = ud;
    hx_ev_add(x, 'C', id, code, false, 0, NULL);
    if (x->nev) {
        x->ev[x->nev - 1].user_data = h2_conn_stream_user_data(x->c, id);
        x->ev[x->nev - 1].wire = h2_conn_stream_wire(x->c, id);
    }
}

static void hx_on_goaway(void *ud, uint32_t last, uint32_t code, const uint8_t *d, size_t n)
{
    hx_ev_add(ud, 'G', last, code, false, n, NULL);
}

static ptrdiff_t hx_read_data(void *ud, uint32_t id, uint8_t *dst, size_t max, bool *eof)
{
    struct hx *x = ud;
    for (size_t i = 0; i < x->nbodies; i++) {
        struct hx_body *b = &x->bodies[i];
        if (b->id != id)
            continue;
        size_t n = b->len - b->pos < max ? b->len - b->pos : max;
        memcpy(dst, b->data + b->pos, n);
        b->pos += n;
        *eof = b->pos == b->len && b->eof_known;
        return (ptrdiff_t)n;
    }
    return -1;
}

static void hx_on_protocol_error(void *ud, uint32_t id, uint32_t code, const char *reason)
{
    hx_ev_add(ud, 'E', id, code, false, 0, reason);
}

static const struct h2_callbacks hx_cb = {hx_on_request,       hx_on_data,   hx_on_trailers,
                                          hx_on_close,         hx_on_goaway, hx_read_data,
                                          hx_on_protocol_error};

/* One freed harness kept for the next hx_new_raw: a struct hx is over
 * 1 MiB, and under ASan every calloc of it is fresh pages, faulted in and
 * zeroed; tests that make one per split offset (test_h2_robust) spent 80 s
 * on that alone. The engine's own allocations are not cached: ASan still
 * sees every use after free of those. */
static struct hx *hx_spare;

static inline struct hx *hx_alloc(void)
{
    struct hx *x = hx_spare;
    hx_spare = NULL;
    if (x)
        memset(x, 0, sizeof *x);
    else
        x = calloc(1, sizeof *x);
    assert_non_null(x);
    return x;
}

/* Creates the server engine only (nothing fed). */
static inline struct hx *hx_new_raw(const struct h2_config *cfg)
{
    struct hx *x = hx_alloc();
    if (cfg)
        x->cfg = *cfg;
    else
        h2_config_defaults(&x->cfg);
    x->now = HB_NS_PER_SEC;
    x->c = h2_conn_new(H2_ROLE_SERVER, &x->cfg, &hx_cb, x);
    assert_non_null(x->c);
    x->enc = hpack_encoder_new();
    x->dec = hpack_decoder_new(4096);
    x->auto_consume = true;
    return x;
}

static inline void hx_free_frames(struct hx *x)
{
    for (size_t i = 0; i < x->nframes; i++)
        free(x->frames[i].payload);
    x->nframes = 0;
}

static inline void hx_del(struct hx *x)
{
    hx_free_frames(x);
    h2_conn_del(x->c);
    hpack_encoder_del(x->enc);
    hpack_decoder_del(x->dec);
    free(hx_spare);
    hx_spare = x;
}

/* ---- packing into x->pend ---- */

static inline uint8_t *hx_room(struct hx *x, size_t n)
{
    assert_true(x->npend + n <= sizeof x->pend);
    return x->pend + x->npend;
}

static inline void hx_raw(struct hx *x, const void *p, size_t n)
{
    memcpy(hx_room(x, n), p, n);
    x->npend += n;
}

/* Any frame from parts. */
static inline void hx_frame(struct hx *x, uint8_t type, uint8_t flags, uint32_t id,
                            const void *payload, size_t len)
{
    uint8_t *p = hx_room(x, 9 + len);
    h2_frame_hdr_pack(p, (uint32_t)len, type, flags, id);
    if (len)
        memcpy(p + 9, payload, len);
    x->npend += 9 + len;
}

static inline void hx_preface(struct hx *x)
{
    hx_raw(x, H2_PREFACE, H2_PREFACE_LEN);
}

static inline void hx_settings(struct hx *x, const uint16_t *ids, const uint32_t *vals, size_t n)
{
    x->npend += h2_pack_settings(hx_room(x, 9 + 6 * n), ids, vals, n, false);
}

static inline void hx_settings_ack(struct hx *x)
{
    x->npend += h2_pack_settings(hx_room(x, 9), NULL, NULL, 0, true);
}

/* Encodes "name", "value" pairs (NULL-terminated list) as a block. */
static inline size_t hx_block(struct hx *x, uint8_t *out, size_t cap, const char *const *kv)
{
    struct hpack_field f[128];
    size_t n = 0;
    for (; kv[2 * n]; n++) {
        f[n].name = kv[2 * n];
        f[n].name_len = (uint32_t)strlen(kv[2 * n]);
        f[n].value = kv[2 * n + 1];
        f[n].value_len = (uint32_t)strlen(kv[2 * n + 1]);
        f[n].flags = 0;
    }
    ssize_t len = hpack_encode_block(x->enc, f, n, out, cap);
    assert_true(len >= 0);
    return (size_t)len;
}

static inline void hx_headers(struct hx *x, uint32_t id, uint8_t flags, const char *const *kv)
{
    uint8_t blk[16384];
    size_t len = hx_block(x, blk, sizeof blk, kv);
    x->npend += h2_pack_headers(hx_room(x, 9 + len), id, flags | H2_F_END_HEADERS, blk, len, 0,
                                false, 0, 0);
}

static const char *const hx_get[] = {":method", "GET",        ":scheme",     "https", ":path",
                                     "/",       ":authority", "example.com", NULL};
static const char *const hx_post[] = {":method", "POST",       ":scheme",     "https", ":path",
                                      "/up",     ":authority", "example.com", NULL};

static inline void hx_data(struct hx *x, uint32_t id, const void *d, size_t len, bool end)
{
    x->npend += h2_pack_data(hx_room(x, 9 + len), id, d, len, end, 0, false);
}

static inline void hx_u32(struct hx *x, uint8_t type, uint32_t id, uint32_t v)
{
    uint8_t p[4];
    h2_put32(p, v);
    hx_frame(x, type, 0, id, p, 4);
}

/* ---- driving ---- */

/* Collects everything the engine wants to write into x->frames. */
static inline void hx_collect(struct hx *x)
{
    static uint8_t acc[1 << 22];
    size_t n = 0;
    for (;;) {
        const uint8_t *d;
        ptrdiff_t got = h2_conn_send(x->c, &d);
        assert_true(got >= 0);
        if (got == 0)
            break;
        assert_true(n + (size_t)got <= sizeof acc);
        memcpy(acc + n, d, (size_t)got);
        n += (size_t)got;
        h2_conn_sent(x->c, (size_t)got);
    }
    x->out_bytes += n;
    size_t pos = 0;
    static uint8_t block[1 << 17];
    size_t blen = 0;
    struct hx_frame *hf = NULL;
    while (pos + 9 <= n) {
        assert_true(x->nframes < HX_MAX_FRAMES);
        struct hx_frame *f = &x->frames[x->nframes++];
        memset(f, 0, sizeof *f);
        h2_frame_hdr_unpack(&f->h, acc + pos);
        assert_true(pos + 9 + f->h.length <= n); /* frames are never cut */
        f->payload = malloc(f->h.length + 1);
        memcpy(f->payload, acc + pos + 9, f->h.length);
        pos += 9 + f->h.length;
        if (f->h.type == H2_HEADERS || f->h.type == H2_PUSH_PROMISE) {
            hf = f;
            uint32_t off = f->h.type == H2_PUSH_PROMISE ? 4 : 0;
            blen = f->h.length - off;
            memcpy(block, f->payload + off, blen);
        } else if (f->h.type == H2_CONTINUATION && hf) {
            memcpy(block + blen, f->payload, f->h.length);
            blen += f->h.length;
        } else {
            continue;
        }
        if (f->h.flags & H2_F_END_HEADERS) {
            struct hpack_field fl[256];
            static char scratch[1 << 16];
            size_t nf = 0;
            int rc = hpack_decode_block(x->dec, block, blen, fl, 256, &nf, scratch, sizeof scratch);
            assert_int_equal(rc, 0);
            size_t o = 0;
            for (size_t i = 0; i < nf; i++)
                o += (size_t)snprintf(hf->hdrs + o, sizeof hf->hdrs - o, "%.*s: %.*s\n",
                                      (int)fl[i].name_len, fl[i].name, (int)fl[i].value_len,
                                      fl[i].value);
            hf->nfields = nf;
            hf = NULL;
        }
    }
    assert_int_equal(pos, n);
}

/* Feeds the pending bytes (whole), then collects the output. */
static inline void hx_flush(struct hx *x)
{
    ptrdiff_t r = h2_conn_recv(x->c, x->pend, x->npend, x->now);
    assert_int_equal(r, (ptrdiff_t)x->npend);
    x->npend = 0;
    hx_collect(x);
}

/* A connection past the preface: client preface + SETTINGS + ACK of ours;
 * the server's SETTINGS etc. are collected then cleared. */
static inline struct hx *hx_new(const struct h2_config *cfg)
{
    struct hx *x = hx_new_raw(cfg);
    hx_preface(x);
    hx_settings(x, NULL, NULL, 0);
    hx_settings_ack(x);
    hx_flush(x);
    hx_free_frames(x);
    x->nev = 0;
    return x;
}

/* The nth (0-based) output frame of a type, or NULL. */
static inline struct hx_frame *hx_find(struct hx *x, uint8_t type, size_t nth)
{
    for (size_t i = 0; i < x->nframes; i++)
        if (x->frames[i].h.type == type && nth-- == 0)
            return &x->frames[i];
    return NULL;
}

static inline size_t hx_count(struct hx *x, uint8_t type)
{
    size_t k = 0;
    for (size_t i = 0; i < x->nframes; i++)
        k += x->frames[i].h.type == type;
    return k;
}

/* Error code of the GOAWAY sent, or -1. */
static inline int64_t hx_goaway(struct hx *x)
{
    struct hx_frame *f = hx_find(x, H2_GOAWAY, 0);
    return f ? (int64_t)h2_get32(f->payload + 4) : -1;
}

/* Code of the RST_STREAM sent on id, or -1. */
static inline int64_t hx_rst(struct hx *x, uint32_t id)
{
    for (size_t i = 0; i < x->nframes; i++)
        if (x->frames[i].h.type == H2_RST_STREAM && x->frames[i].h.stream_id == id)
            return (int64_t)h2_get32(x->frames[i].payload);
    return -1;
}

static inline size_t hx_count_ev(struct hx *x, char kind)
{
    size_t k = 0;
    for (size_t i = 0; i < x->nev; i++)
        k += x->ev[i].kind == kind;
    return k;
}

static inline struct hx_ev *hx_find_ev(struct hx *x, char kind, size_t nth)
{
    for (size_t i = 0; i < x->nev; i++)
        if (x->ev[i].kind == kind && nth-- == 0)
            return &x->ev[i];
    return NULL;
}

/* Registers a response body for id (eof at the end). */
static inline void hx_body(struct hx *x, uint32_t id, const void *data, size_t len)
{
    assert_true(x->nbodies < 64);
    x->bodies[x->nbodies++] = (struct hx_body){id, data, len, 0, true};
}

static inline void hx_respond(struct hx *x, uint32_t id, int status, const void *body, size_t len)
{
    struct hb_msg m = {0};
    m.status = status;
    if (body)
        hx_body(x, id, body, len);
    assert_int_equal(h2_conn_submit_response(x->c, id, &m, body == NULL), 0);
    if (body)
        assert_int_equal(h2_conn_resume_data(x->c, id), 0);
}

/* Opens GET streams 1, 3, … 2n-1 (END_STREAM: half-closed remote), checks
 * that each was announced, and clears the frames and events seen so far. */
static inline struct hx *hx_with_gets(int n)
{
    struct hx *x = hx_new(NULL);
    for (int i = 0; i < n; i++)
        hx_headers(x, (uint32_t)(2 * i + 1), H2_F_END_STREAM, hx_get);
    hx_flush(x);
    assert_int_equal(hx_count_ev(x, 'R'), (size_t)n);
    hx_free_frames(x);
    x->nev = 0;
    return x;
}

#endif
