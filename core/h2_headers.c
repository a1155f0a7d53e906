/* core/h2_headers.c — header blocks in both directions.
 *
 * In: HEADERS + CONTINUATION reassembly (§6.2, §6.10; nothing may
 * interleave; frames and bytes per block capped against the CONTINUATION
 * flood), one HPACK decode per block (always, even for streams we will
 * ignore: the dynamic table must stay in sync, §4.3), then the §5.1 decision
 * (new stream, trailers, or a frame on a closed stream) and the §8 checks.
 *
 * Out: a field list encoded once and split into HEADERS/PUSH_PROMISE +
 * CONTINUATION frames in place in the output buffer. */
#include <string.h>

#include "core/err.h"
#include "core/h2_int.h"

void h2_headers_free(struct h2_conn *c)
{
    h2_free(c, c->block, c->block_cap);
    h2_free(c, c->fields, c->cfg.max_header_fields * sizeof *c->fields);
    h2_free(c, c->scratch, c->cfg.max_header_list_size);
    c->block = NULL;
    c->block_cap = 0;
    c->fields = NULL;
    c->scratch = NULL;
}

/* ---- receive --------------------------------------------------------- */

static bool block_append(struct h2_conn *c, const uint8_t *p, size_t len)
{
    /* CONTINUATION flood (CVE-2024-27316 and kin): bounded frames and bytes. */
    if (++c->block_frames > c->cfg.max_continuation_frames + 1 ||
        c->block_len + len > c->cfg.max_header_block_bytes) {
        h2_conn_flood_error(c, H2_FLOOD_HEADER_BLOCK, "header block too large (CONTINUATION flood)");
        return false;
    }
    if (len == 0)
        return true;
    if (!c->block) {
        c->block = h2_alloc(c, c->cfg.max_header_block_bytes, true);
        if (!c->block)
            return false;
        c->block_cap = c->cfg.max_header_block_bytes;
    }
    memcpy(c->block + c->block_len, p, len);
    c->block_len += len;
    return true;
}

static bool decode_space(struct h2_conn *c)
{
    if (!c->fields)
        c->fields = h2_alloc(c, c->cfg.max_header_fields * sizeof *c->fields, true);
    if (c->fields && !c->scratch)
        c->scratch = h2_alloc(c, c->cfg.max_header_list_size, true);
    return c->fields && c->scratch;
}

/* Marks id as reset by us without a stream object (refused, ignored). */
static void refuse(struct h2_conn *c, uint32_t id, uint32_t code, const char *reason)
{
    if (!h2_spend(c, &c->b_reset, "reset budget (refused streams)"))
        return;
    h2_queue_rst(c, id, code);
    if (c->cb.on_protocol_error)
        c->cb.on_protocol_error(c->ud, id, code, reason);
    h2_closed_add(c, id, H2_CLOSED_WE_RST);
}

static void on_trailers(struct h2_conn *c, struct h2_stream *s, size_t nf, bool too_large)
{
    uint32_t id = s->id;
    struct hb_msg msg;
    /* §8.1: a second HEADERS must end the stream and carries no pseudo-
     * headers; content-length must match what arrived. */
    const char *why = !(c->block_flags & H2_F_END_STREAM) ? "trailers without END_STREAM"
                      : too_large                         ? "trailers over the header list limits"
                                                          : h2_http_trailers(c->fields, nf, &msg);
    if (!why && s->has_cl && s->data_received != s->content_length)
        why = "DATA does not match content-length";
    if (why) {
        h2_stream_error(c, id, H2_PROTOCOL_ERROR, true, why);
        return;
    }
    if (c->cb.on_trailers)
        c->cb.on_trailers(c->ud, id, &msg);
    if ((s = h2_stream_find(c, id)) != NULL)
        h2_stream_end_remote(c, s);
}

static void apply_priority(struct h2_conn *c, struct h2_stream *s, const struct hb_msg *m)
{
    const struct hpack_field *pf = hb_msg_find(m, HB_STR_LIT("priority"));
    if (pf) {
        h2_http_parse_priority(pf->value, pf->value_len, &s->urgency, &s->incremental);
        s->has_9218 = true;
        h2_prio_to_urgency(c);
    } else if (c->block_prio) {
        h2_apply_rfc7540(c, s->id, c->block_dep, c->block_excl,
                         (uint8_t)(c->block_weight - 1));
    }
}

static void on_request(struct h2_conn *c, uint32_t id, size_t nf, bool too_large)
{
    bool end = c->block_flags & H2_F_END_STREAM;
    c->last_peer_id = id; /* §5.1.1: opening id closes every lower idle id */
    if (c->goaway_code >= 0 && id > c->goaway_last) {
        /* §6.8: after our GOAWAY, new streams are ignored, and so are the
         * frames that follow on them. */
        h2_closed_add(c, id, H2_CLOSED_WE_RST);
        return;
    }
    if (c->block_prio && c->block_dep == id) {
        refuse(c, id, H2_PROTOCOL_ERROR, "stream depends on itself"); /* §5.3.1 */
        return;
    }
    if (c->open_peer >= c->cfg.max_concurrent_streams) {
        refuse(c, id, H2_REFUSED_STREAM, "MAX_CONCURRENT_STREAMS reached"); /* §5.1.2 */
        return;
    }
    struct hb_msg msg;
    const char *why = too_large
                          ? "request head over the header list limits"
                          : h2_http_request(c->fields, nf, c->cfg.enable_connect_protocol, &msg);
    if (!why && end && (msg.flags & HB_MSG_HAS_CL) && msg.content_length != 0)
        why = "END_STREAM with a non-zero content-length";
    if (why) {
        refuse(c, id, H2_PROTOCOL_ERROR, why); /* §8.1.1 malformed */
        return;
    }
    struct h2_stream *s = h2_stream_new(c, id, end ? H2_SS_HALF_CLOSED_REMOTE : H2_SS_OPEN);
    if (!s)
        return;
    s->wire.in = c->block_wire;
    s->has_cl = msg.flags & HB_MSG_HAS_CL;
    s->content_length = msg.content_length;
    s->is_head = hb_str_eq(msg.method, HB_STR_LIT("HEAD"));
    h2_prio_stream_open(c, s); /* tree mode: default priority until a signal */
    apply_priority(c, s, &msg);
    h2_apply_early_priority(c, s);
    s->announced = true;
    if (end)
        msg.flags |= HB_MSG_END_STREAM;
    if (c->cb.on_request)
        c->cb.on_request(c->ud, id, &msg, end);
}

static void block_done(struct h2_conn *c, const uint8_t *data, size_t len)
{
    uint32_t id = c->block_stream;
    c->block_stream = 0;
    c->block_len = 0;
    c->block_since = 0;
    if (!decode_space(c))
        return;
    size_t nf = 0;
    int rc = hpack_decode_block(c->dec, data, len, c->fields, c->cfg.max_header_fields, &nf,
                                c->scratch, c->cfg.max_header_list_size);
    if (rc == HPACK_ERR_NOMEM) {
        /* The table could not grow: out of memory (c->fatal, set by the
         * hook) or over cfg.max_memory (ENHANCE_YOUR_CALM raised). */
        if (!h2_conn_failed(c))
            c->fatal = HB_ENOMEM;
        return;
    }
    if (rc != HPACK_OK && rc != HPACK_ERR_LIST_TOO_LARGE) {
        h2_conn_error(c, H2_COMPRESSION_ERROR, "HPACK decoding failed"); /* §4.3 */
        return;
    }
    bool too_large = rc == HPACK_ERR_LIST_TOO_LARGE;
    if (nf == 0 && !too_large && !h2_spend(c, &c->b_empty, "empty header blocks"))
        return;
    struct h2_stream *s = h2_stream_find(c, id);
    if (s) {
        s->wire.in += c->block_wire;
        if (s->state == H2_SS_OPEN || s->state == H2_SS_HALF_CLOSED_LOCAL)
            on_trailers(c, s, nf, too_large);
        else if (s->state == H2_SS_RESERVED_LOCAL) /* §5.1 reserved (local) */
            h2_conn_error(c, H2_PROTOCOL_ERROR, "HEADERS on a reserved stream");
        else /* §5.1: half-closed (remote) */
            h2_stream_error(c, id, H2_STREAM_CLOSED, true,
                            "HEADERS on a half-closed (remote) stream");
        return;
    }
    if (!h2_id_is_peer(c, id)) {
        h2_conn_error(c, H2_PROTOCOL_ERROR, "HEADERS on a stream id the peer cannot open");
        return;
    }
    if (!h2_id_is_idle(c, id)) {
        if (h2_closed_find(c, id))
            h2_late_frame(c, id);
        else /* §5.1.1: ids of new streams must increase */
            h2_conn_error(c, H2_PROTOCOL_ERROR, "stream id not larger than earlier streams");
        return;
    }
    on_request(c, id, nf, too_large);
}

void h2_on_headers(struct h2_conn *c, const uint8_t *p)
{
    const struct h2_frame_hdr *h = &c->fh;
    bool prio = h->flags & H2_F_PRIORITY;
    uint32_t off, len;
    if (!h2_frame_strip_padding(p, h->length, h->flags, prio ? 5 : 0, &off, &len)) {
        h2_conn_error(c, H2_PROTOCOL_ERROR, "HEADERS padding exceeds the payload");
        return;
    }
    c->block_stream = h->stream_id;
    c->block_wire = H2_FRAME_HDR_LEN + h->length;
    c->block_frames = 0;
    c->block_len = 0;
    c->block_flags = h->flags;
    c->block_prio = prio;
    if (prio) {
        c->block_dep = h2_get32(p + off) & H2_STREAM_ID_MASK;
        c->block_excl = (p[off] & 0x80) != 0;
        c->block_weight = (uint16_t)(p[off + 4] + 1);
        off += 5;
        len -= 5;
        if (!h2_spend(c, &c->b_prio, "PRIORITY flood"))
            return;
    }
    if (h->flags & H2_F_END_HEADERS) {
        if (len > c->cfg.max_header_block_bytes) {
            h2_conn_flood_error(c, H2_FLOOD_HEADER_BLOCK, "header block too large");
            return;
        }
        block_done(c, p + off, len); /* whole block in one frame: no copy */
        return;
    }
    block_append(c, p + off, len);
}

void h2_on_continuation(struct h2_conn *c, const uint8_t *p)
{
    if (!c->block_stream) { /* §6.10 */
        h2_conn_error(c, H2_PROTOCOL_ERROR, "CONTINUATION without a header block");
        return;
    }
    bool end = c->fh.flags & H2_F_END_HEADERS;
    c->block_wire += H2_FRAME_HDR_LEN + c->fh.length;
    if (c->fh.length == 0 && !end && !h2_spend(c, &c->b_empty, "empty CONTINUATION frames"))
        return;
    if (!block_append(c, p, c->fh.length))
        return;
    if (end)
        block_done(c, c->block, c->block_len);
}

void h2_on_push_promise(struct h2_conn *c, const uint8_t *p)
{
    /* §8.4: only servers push; we told the peer ENABLE_PUSH=0 anyway. */
    h2_conn_error(c, H2_PROTOCOL_ERROR, "PUSH_PROMISE received by a server");
}

/* ---- send ------------------------------------------------------------ */

int h2_send_block(struct h2_conn *c, uint8_t type, uint32_t stream_id, uint32_t promised_id,
                  const struct hpack_field *fields, size_t n, bool end_stream)
{
    size_t bound = hpack_encode_bound(fields, n);
    size_t mfs = c->peer_set[H2_SET_MAX_FRAME_SIZE];
    size_t prefix = type == H2_PUSH_PROMISE ? 4 : 0;
    size_t nframes = (bound + prefix) / mfs + 2;
    uint8_t *p = h2_out_reserve(c, bound + prefix + nframes * H2_FRAME_HDR_LEN);
    if (!p)
        return c->fatal ? c->fatal : HB_ECLOSED;
    uint8_t *blk = p + H2_FRAME_HDR_LEN + prefix;
    ssize_t len = hpack_encode_block(c->enc, fields, n, blk, bound);
    if (len < 0)
        /* NOMEM: out of memory (c->fatal) or over cfg.max_memory (the
         * connection error is raised); the encoder is unchanged. */
        return len != HPACK_ERR_NOMEM ? HB_EINVAL : c->fatal ? c->fatal : HB_ELIMIT;
    size_t first = (size_t)len < mfs - prefix ? (size_t)len : mfs - prefix;
    size_t rest = (size_t)len - first, k = (rest + mfs - 1) / mfs;
    /* Open 9-byte gaps for the CONTINUATION headers, last chunk first. */
    uint8_t *tail = blk + first;
    for (size_t j = k; j-- > 0;) {
        size_t clen = rest - j * mfs < mfs ? rest - j * mfs : mfs;
        uint8_t *dst = tail + j * (mfs + H2_FRAME_HDR_LEN);
        memmove(dst + H2_FRAME_HDR_LEN, tail + j * mfs, clen);
        h2_frame_hdr_pack(dst, (uint32_t)clen, H2_CONTINUATION, j == k - 1 ? H2_F_END_HEADERS : 0,
                          stream_id);
    }
    uint8_t flags = (uint8_t)((k == 0 ? H2_F_END_HEADERS : 0) |
                              (end_stream && type == H2_HEADERS ? H2_F_END_STREAM : 0));
    h2_frame_hdr_pack(p, (uint32_t)(prefix + first), type, flags, stream_id);
    if (prefix)
        h2_put32(p + H2_FRAME_HDR_LEN, promised_id);
    c->sent_block_wire = H2_FRAME_HDR_LEN + prefix + (size_t)len + k * H2_FRAME_HDR_LEN;
    h2_out_commit(c, c->sent_block_wire);
    return 0;
}
