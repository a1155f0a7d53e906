/* tools/origin/origin_stream.c — bodies that are streamed, never held whole:
 * /bytes/N, /chunked/N and /trailers are generated piece by piece as the
 * output drains; /echo moves request-body buffers to the output (no copy). */
#include "tools/origin/origin.h"

#include <string.h>

#define PIECE 16384 /* bytes generated per step (one chunk when chunked) */

void og_pattern_fill(uint8_t *dst, uint64_t off, size_t n)
{
    /* Within a 256-byte block (fixed i >> 8) the pattern is 31*lo plus a
     * constant: one table row plus one add per byte, which vectorises. */
    static uint8_t base[256];
    if (base[1] == 0)
        for (unsigned lo = 0; lo < 256; lo++)
            base[lo] = (uint8_t)(31 * lo);
    while (n) {
        uint64_t hi = off >> 8;
        unsigned lo = (unsigned)(off & 255);
        size_t m = 256 - lo < n ? 256 - lo : n;
        uint8_t k = (uint8_t)(7 * hi + 3 * (hi >> 8) + 7);
        for (size_t j = 0; j < m; j++)
            dst[j] = (uint8_t)(base[lo + j] + k);
        dst += m;
        off += m;
        n -= m;
    }
}

/* RFC 9112 §7.1.2: last-chunk, then the trailer section. */
static void finish_chunked(struct og_conn *c)
{
    struct evbuffer *out = og_out(c);
    if (c->rq.route != OG_R_TRAILERS) {
        evbuffer_add(out, "0\r\n\r\n", 5);
        return;
    }
    uint8_t d[SHA256_DIGEST_LENGTH];
    char hex[65];
    SHA256_Final(d, &c->rq.gen_sha);
    og_hex_sha256(d, hex);
    evbuffer_add_printf(out, "0\r\nX-Body-Sha256: %s\r\nX-Origin-Trailer: end\r\n\r\n", hex);
}

void og_stream_produce(struct og_conn *c)
{
    struct og_req *rq = &c->rq;
    struct evbuffer *out = og_out(c);

    while (rq->gen_off < rq->gen_len && evbuffer_get_length(out) < c->srv->lim.out_high) {
        uint64_t left = rq->gen_len - rq->gen_off;
        size_t m = left < PIECE ? (size_t)left : PIECE;
        struct evbuffer_iovec v;
        if (rq->resp_chunked)
            evbuffer_add_printf(out, "%zx\r\n", m);
        if (evbuffer_reserve_space(out, (ev_ssize_t)m, &v, 1) != 1) {
            c->dead = 1; /* out of memory: this connection only */
            return;
        }
        og_pattern_fill(v.iov_base, rq->gen_off, m);
        if (rq->route == OG_R_TRAILERS)
            SHA256_Update(&rq->gen_sha, v.iov_base, m);
        v.iov_len = m;
        evbuffer_commit_space(out, &v, 1);
        if (rq->resp_chunked)
            evbuffer_add(out, "\r\n", 2);
        rq->gen_off += m;
        rq->bytes_out += m;
    }
    if (rq->gen_off == rq->gen_len) {
        if (rq->resp_chunked)
            finish_chunked(c);
        rq->resp = OG_RESP_DONE;
    }
}

void og_echo_start(struct og_conn *c)
{
    struct og_req *rq = &c->rq;
    int64_t len = rq->fr.body == OG_BODY_LENGTH ? (int64_t)rq->fr.length
                  : rq->fr.body == OG_BODY_NONE ? 0
                                                : OG_LEN_CHUNKED;
    og_resp_head(c, 200, "application/octet-stream", len, NULL);
    rq->resp = rq->body_done ? OG_RESP_DONE : OG_RESP_STREAMING;
}

void og_echo_body(struct og_conn *c, struct evbuffer *in, size_t n)
{
    struct evbuffer *out = og_out(c);
    if (c->rq.head_only) {
        evbuffer_drain(in, n);
        return;
    }
    if (c->rq.resp_chunked)
        evbuffer_add_printf(out, "%zx\r\n", n);
    evbuffer_remove_buffer(in, out, n);
    if (c->rq.resp_chunked)
        evbuffer_add(out, "\r\n", 2);
    c->rq.bytes_out += n;
}

void og_echo_end(struct og_conn *c)
{
    if (c->rq.resp_chunked && !c->rq.head_only)
        evbuffer_add(og_out(c), "0\r\n\r\n", 5);
    c->rq.resp = OG_RESP_DONE;
}
