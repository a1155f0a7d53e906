#include "core/h2_frame.h"

#include <string.h>

void h2_frame_hdr_unpack(struct h2_frame_hdr *h, const uint8_t *p)
{
    h->length = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
    h->type = p[3];
    h->flags = p[4];
    h->stream_id = h2_get32(p + 5) & H2_STREAM_ID_MASK;
}

void h2_frame_hdr_pack(uint8_t *p, uint32_t length, uint8_t type, uint8_t flags, uint32_t stream_id)
{
    p[0] = (uint8_t)(length >> 16);
    p[1] = (uint8_t)(length >> 8);
    p[2] = (uint8_t)length;
    p[3] = type;
    p[4] = flags;
    h2_put32(p + 5, stream_id & H2_STREAM_ID_MASK);
}

/* The rule table. stream: 0 = must be zero, 1 = must be non-zero, 2 = any.
 * len_kind: 0 = any, 1 = exactly len, 2 = at least len. The error for a bad
 * length is FRAME_SIZE_ERROR; size_stream_err marks the one case the RFC
 * makes a stream error (PRIORITY, §6.3). */
struct frame_rule {
    uint8_t stream;
    uint8_t len_kind;
    uint8_t len;
    uint8_t size_stream_err;
};

static const struct frame_rule rules[] = {
    [H2_DATA] = {1, 0, 0, 0},          /* §6.1 */
    [H2_HEADERS] = {1, 0, 0, 0},       /* §6.2 */
    [H2_PRIORITY] = {1, 1, 5, 1},      /* §6.3: bad length is a stream error */
    [H2_RST_STREAM] = {1, 1, 4, 0},    /* §6.4 */
    [H2_SETTINGS] = {0, 0, 0, 0},      /* §6.5: length checked below */
    [H2_PUSH_PROMISE] = {1, 2, 4, 0},  /* §6.6 */
    [H2_PING] = {0, 1, 8, 0},          /* §6.7 */
    [H2_GOAWAY] = {0, 2, 8, 0},        /* §6.8 */
    [H2_WINDOW_UPDATE] = {2, 1, 4, 0}, /* §6.9 */
    [H2_CONTINUATION] = {1, 0, 0, 0},  /* §6.10 */
};

enum h2_frame_check h2_frame_check_hdr(const struct h2_frame_hdr *h, uint32_t *code)
{
    if (h->type == H2_PRIORITY_UPDATE) {
        /* RFC 9218 §7.1: stream 0 only; at least the prioritized id. */
        if (h->stream_id != 0) {
            *code = H2_PROTOCOL_ERROR;
            return H2_FRAME_CONN_ERROR;
        }
        if (h->length < 4) {
            *code = H2_FRAME_SIZE_ERROR;
            return H2_FRAME_CONN_ERROR;
        }
        return H2_FRAME_OK;
    }
    if (h->type >= sizeof rules / sizeof rules[0])
        return H2_FRAME_OK; /* §4.1: unknown types are ignored */
    const struct frame_rule *r = &rules[h->type];
    if ((r->stream == 0 && h->stream_id != 0) || (r->stream == 1 && h->stream_id == 0)) {
        *code = H2_PROTOCOL_ERROR;
        return H2_FRAME_CONN_ERROR;
    }
    bool bad_len =
        (r->len_kind == 1 && h->length != r->len) || (r->len_kind == 2 && h->length < r->len);
    if (h->type == H2_SETTINGS)
        /* §6.5: an ACK carries nothing; otherwise a multiple of 6 octets. */
        bad_len = (h->flags & H2_F_ACK) ? h->length != 0 : h->length % 6 != 0;
    if (bad_len) {
        *code = H2_FRAME_SIZE_ERROR;
        return r->size_stream_err ? H2_FRAME_STREAM_ERROR : H2_FRAME_CONN_ERROR;
    }
    return H2_FRAME_OK;
}

bool h2_frame_strip_padding(const uint8_t *payload, uint32_t length, uint8_t flags,
                            uint32_t min_fixed, uint32_t *off, uint32_t *len)
{
    if (!(flags & H2_F_PADDED)) {
        if (length < min_fixed)
            return false;
        *off = 0;
        *len = length;
        return true;
    }
    if (length < 1 + min_fixed)
        return false;
    uint32_t pad = payload[0];
    /* §6.1: padding that is not shorter than the rest is PROTOCOL_ERROR. */
    if (pad > length - 1 - min_fixed)
        return false;
    *off = 1;
    *len = length - 1 - pad;
    return true;
}

size_t h2_pack_settings(uint8_t *p, const uint16_t *ids, const uint32_t *values, size_t n, bool ack)
{
    if (ack)
        n = 0;
    h2_frame_hdr_pack(p, (uint32_t)(6 * n), H2_SETTINGS, ack ? H2_F_ACK : 0, 0);
    uint8_t *q = p + H2_FRAME_HDR_LEN;
    for (size_t i = 0; i < n; i++, q += 6) {
        q[0] = (uint8_t)(ids[i] >> 8);
        q[1] = (uint8_t)ids[i];
        h2_put32(q + 2, values[i]);
    }
    return H2_FRAME_HDR_LEN + 6 * n;
}

size_t h2_pack_ping(uint8_t *p, const uint8_t opaque[8], bool ack)
{
    h2_frame_hdr_pack(p, 8, H2_PING, ack ? H2_F_ACK : 0, 0);
    memcpy(p + H2_FRAME_HDR_LEN, opaque, 8);
    return H2_FRAME_HDR_LEN + 8;
}

size_t h2_pack_goaway(uint8_t *p, uint32_t last_stream_id, uint32_t code, const uint8_t *debug,
                      size_t debug_len)
{
    h2_frame_hdr_pack(p, (uint32_t)(8 + debug_len), H2_GOAWAY, 0, 0);
    h2_put32(p + 9, last_stream_id & H2_STREAM_ID_MASK);
    h2_put32(p + 13, code);
    if (debug_len)
        memcpy(p + 17, debug, debug_len);
    return 17 + debug_len;
}

size_t h2_pack_rst_stream(uint8_t *p, uint32_t stream_id, uint32_t code)
{
    h2_frame_hdr_pack(p, 4, H2_RST_STREAM, 0, stream_id);
    h2_put32(p + 9, code);
    return 13;
}

size_t h2_pack_window_update(uint8_t *p, uint32_t stream_id, uint32_t increment)
{
    h2_frame_hdr_pack(p, 4, H2_WINDOW_UPDATE, 0, stream_id);
    h2_put32(p + 9, increment & H2_STREAM_ID_MASK);
    return 13;
}

size_t h2_pack_data(uint8_t *p, uint32_t stream_id, const uint8_t *data, size_t len,
                    bool end_stream, uint8_t pad, bool force_padded)
{
    bool padded = pad || force_padded;
    uint32_t plen = (uint32_t)len + (padded ? 1u + pad : 0u);
    h2_frame_hdr_pack(p, plen, H2_DATA,
                      (uint8_t)((end_stream ? H2_F_END_STREAM : 0) | (padded ? H2_F_PADDED : 0)),
                      stream_id);
    uint8_t *q = p + H2_FRAME_HDR_LEN;
    if (padded)
        *q++ = pad;
    if (data && len)
        memmove(q, data, len);
    if (pad)
        memset(q + len, 0, pad);
    return H2_FRAME_HDR_LEN + plen;
}

size_t h2_pack_headers(uint8_t *p, uint32_t stream_id, uint8_t flags, const uint8_t *block,
                       size_t len, uint32_t dep, bool exclusive, uint8_t weight, uint8_t pad)
{
    uint32_t plen = (uint32_t)len;
    if (flags & H2_F_PADDED)
        plen += 1u + pad;
    if (flags & H2_F_PRIORITY)
        plen += 5;
    h2_frame_hdr_pack(p, plen, H2_HEADERS, flags, stream_id);
    uint8_t *q = p + H2_FRAME_HDR_LEN;
    if (flags & H2_F_PADDED)
        *q++ = pad;
    if (flags & H2_F_PRIORITY) {
        h2_put32(q, (dep & H2_STREAM_ID_MASK) | (exclusive ? 0x80000000u : 0));
        q[4] = weight;
        q += 5;
    }
    if (len)
        memmove(q, block, len);
    if (flags & H2_F_PADDED)
        memset(q + len, 0, pad);
    return H2_FRAME_HDR_LEN + plen;
}

size_t h2_pack_continuation(uint8_t *p, uint32_t stream_id, const uint8_t *block, size_t len,
                            bool end_headers)
{
    h2_frame_hdr_pack(p, (uint32_t)len, H2_CONTINUATION, end_headers ? H2_F_END_HEADERS : 0,
                      stream_id);
    if (len)
        memmove(p + H2_FRAME_HDR_LEN, block, len);
    return H2_FRAME_HDR_LEN + len;
}

