/* core/h2_frame.h — HTTP/2 frame codec (RFC 9113 §4, §6): the 9-byte frame
 * header, the per-type rule table, and packers for every frame type.
 *
 * Packers write into caller-provided memory (the connection's output buffer)
 * and return the byte count; callers size the space with H2_FRAME_HDR_LEN +
 * payload. Nothing here allocates.
 */
#ifndef H2B_CORE_H2_FRAME_H
#define H2B_CORE_H2_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/h2_errors.h"

#define H2_FRAME_HDR_LEN  9u
#define H2_PREFACE        "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define H2_PREFACE_LEN    24u
#define H2_DEFAULT_WINDOW 65535u
#define H2_MAX_WINDOW     0x7fffffffu
#define H2_MIN_FRAME_SIZE 16384u
#define H2_MAX_FRAME_SIZE 16777215u
#define H2_STREAM_ID_MASK 0x7fffffffu

enum h2_frame_type {
    H2_DATA = 0x0,
    H2_HEADERS = 0x1,
    H2_PRIORITY = 0x2,
    H2_RST_STREAM = 0x3,
    H2_SETTINGS = 0x4,
    H2_PUSH_PROMISE = 0x5,
    H2_PING = 0x6,
    H2_GOAWAY = 0x7,
    H2_WINDOW_UPDATE = 0x8,
    H2_CONTINUATION = 0x9,
    H2_PRIORITY_UPDATE = 0x10, /* RFC 9218 §7.1 */
};

/* Flags (RFC 9113 §6). */
#define H2_F_END_STREAM  0x1u
#define H2_F_ACK         0x1u
#define H2_F_END_HEADERS 0x4u
#define H2_F_PADDED      0x8u
#define H2_F_PRIORITY    0x20u

/* SETTINGS identifiers (§6.5.2, RFC 8441 §3, RFC 9218 §2.1). */
enum h2_setting_id {
    H2_SET_HEADER_TABLE_SIZE = 0x1,
    H2_SET_ENABLE_PUSH = 0x2,
    H2_SET_MAX_CONCURRENT_STREAMS = 0x3,
    H2_SET_INITIAL_WINDOW_SIZE = 0x4,
    H2_SET_MAX_FRAME_SIZE = 0x5,
    H2_SET_MAX_HEADER_LIST_SIZE = 0x6,
    H2_SET_ENABLE_CONNECT_PROTOCOL = 0x8,
    H2_SET_NO_RFC7540_PRIORITIES = 0x9,
};

struct h2_frame_hdr {
    uint32_t length; /* 24 bits */
    uint8_t type;
    uint8_t flags;
    uint32_t stream_id; /* reserved bit cleared (§4.1: ignored on receipt) */
};

/* Parses the 9 bytes at p. */
void h2_frame_hdr_unpack(struct h2_frame_hdr *h, const uint8_t *p);

/* Writes the 9-byte header for (length, type, flags, stream_id) at p. */
void h2_frame_hdr_pack(uint8_t *p, uint32_t length, uint8_t type, uint8_t flags,
                       uint32_t stream_id);

/* Per-type rules checked on the frame header alone, before the payload is
 * read: which error the RFC names, and whether it is a stream or a
 * connection error. */
enum h2_frame_check {
    H2_FRAME_OK,
    H2_FRAME_CONN_ERROR,   /* connection error with *code */
    H2_FRAME_STREAM_ERROR, /* stream error with *code on h->stream_id */
};

/* Checks h against the rule table for its type: stream id zero / non-zero,
 * fixed or minimum lengths, ACK frames without payload. Unknown types always
 * pass (§4.1: they are ignored). *code receives the RFC 9113 §7 code. */
enum h2_frame_check h2_frame_check_hdr(const struct h2_frame_hdr *h, uint32_t *code);

/* Removes padding (§6.1, §6.2, §6.6) from a payload whose frame has
 * H2_F_PADDED: on success *off and *len delimit the content (after the pad
 * length byte and any other fixed fields the caller skips itself). Returns
 * false when the pad length is not smaller than the rest of the payload
 * (a connection error PROTOCOL_ERROR). min_fixed: bytes of fixed fields
 * that follow the pad length byte and must also fit (5 for HEADERS with
 * PRIORITY, 4 for PUSH_PROMISE, 0 for DATA). */
bool h2_frame_strip_padding(const uint8_t *payload, uint32_t length, uint8_t flags,
                            uint32_t min_fixed, uint32_t *off, uint32_t *len);

/* Big-endian helpers. */
static inline uint32_t h2_get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void h2_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* ---- packers: each returns the total bytes written (header + payload) ---- */

/* A SETTINGS frame from n (id, value) pairs, or an ACK when ack. */
size_t h2_pack_settings(uint8_t *p, const uint16_t *ids, const uint32_t *values, size_t n,
                        bool ack);
size_t h2_pack_ping(uint8_t *p, const uint8_t opaque[8], bool ack);
size_t h2_pack_goaway(uint8_t *p, uint32_t last_stream_id, uint32_t code, const uint8_t *debug,
                      size_t debug_len);
size_t h2_pack_rst_stream(uint8_t *p, uint32_t stream_id, uint32_t code);
size_t h2_pack_window_update(uint8_t *p, uint32_t stream_id, uint32_t increment);
/* DATA with optional padding (pad: number of padding bytes, 0 = no PADDED
 * flag unless force_padded). data may be NULL when the payload was already
 * written at p + H2_FRAME_HDR_LEN (+1 when padded). */
size_t h2_pack_data(uint8_t *p, uint32_t stream_id, const uint8_t *data, size_t len,
                    bool end_stream, uint8_t pad, bool force_padded);
/* HEADERS carrying block[0..len): flags as given (END_HEADERS, END_STREAM,
 * PRIORITY, PADDED); with PRIORITY the 5 bytes (dep, excl, weight) are
 * written; with PADDED `pad` zero bytes follow. */
size_t h2_pack_headers(uint8_t *p, uint32_t stream_id, uint8_t flags, const uint8_t *block,
                       size_t len, uint32_t dep, bool exclusive, uint8_t weight, uint8_t pad);
size_t h2_pack_continuation(uint8_t *p, uint32_t stream_id, const uint8_t *block, size_t len,
                            bool end_headers);

#endif
