/* core/h1_body.h — HTTP/1.1 message body decoder (RFC 9112 §6, §7): fixed
 * length, chunked (with extensions and trailers), close-delimited. Zero-copy:
 * data spans point into the caller's input with the chunk framing stripped.
 *
 * Use: after h1_parse_*() returns the head length n, h1_body_init() from the
 * parsed message, then feed the bytes after the head:
 *
 *     for (;;) {
 *         ptrdiff_t r = h1_body_parse(&b, in, len, trailers, max, &ev);
 *         if (r < 0) → bad body (request: h1_err_status(r); response: 502)
 *         forward ev.data[0..ev.data_len) if any; if ev.done → message complete
 *         drop r bytes from the front of in; if r == 0 and !ev.done and
 *         ev.data_len == 0 → read more bytes first
 *     }
 *
 * Every call yields at most one data span; call again while it consumes
 * bytes. Bytes after the end of the message (ev.done) are not consumed: they
 * are the next message on the connection.
 */
#ifndef H2B_CORE_H1_BODY_H
#define H2B_CORE_H1_BODY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/h1_common.h"
#include "core/msg.h"

enum h1_body_kind {
    H1_BODY_NONE,    /* no body: done at once */
    H1_BODY_LENGTH,  /* Content-Length bytes */
    H1_BODY_CHUNKED, /* chunked coding */
    H1_BODY_CLOSE,   /* until the connection closes (responses only) */
};

struct h1_body {
    enum h1_body_kind kind;
    int state;          /* chunked: where in the framing we are */
    int err;            /* sticky negative H1_E* code, or 0 */
    uint64_t remaining; /* LENGTH: body bytes left; CHUNKED: bytes left of the chunk */
    uint32_t ndigits;   /* chunk-size digits seen on the current line */
    uint32_t ext_len;   /* chunk extension bytes seen on the current line */
    bool ext_open;      /* a ";" was seen on the current chunk-size line */
    size_t scanned;     /* trailer section: offset scanned for its end */
    struct h1_limits lim;
};

/* One step's result. data points into the caller's `in`. trailers (when done
 * and the chunked message had a trailer section) is the caller's array; the
 * names are lowercased in place in `in` and the views point into `in`: valid
 * until the caller drops or moves those bytes — use them before discarding
 * the consumed prefix. */
struct h1_body_event {
    const char *data;
    size_t data_len;
    struct hpack_field *trailers;
    size_t ntrailers;
    bool done; /* the body is complete (for CLOSE: only after h1_body_eof()) */
};

/* Sets up the decoder for the body of a parsed head: m->flags END_STREAM or
 * TUNNEL → NONE, CHUNKED → CHUNKED, HAS_CL → LENGTH, CLOSE_DELIM → CLOSE,
 * otherwise NONE. lim == NULL uses the defaults (copied). */
void h1_body_init(struct h1_body *b, const struct hb_msg *m, const struct h1_limits *lim);

/* As h1_body_init() with an explicit kind and length (for LENGTH). */
void h1_body_init_kind(struct h1_body *b, enum h1_body_kind kind, uint64_t length,
                       const struct h1_limits *lim);

/* Decodes from in[0..len). Returns the bytes consumed (>= 0) and fills *ev
 * (always reset first), or a negative H1_E* code (CHUNK_SIZE,
 * CHUNK_SIZE_RANGE, CHUNK_EXT, CHUNK_EXT_TOO_LONG, CHUNK_DATA_END, BARE_LF,
 * BARE_CR, TRAILER_TOO_LARGE, TRAILER_TOO_MANY, or a field-line error in a
 * trailer); errors are sticky. A trailer section is only parsed once it is
 * entirely in `in` (up to lim.max_trailer bytes): until then the call
 * returns 0 with nothing to report. max_trailers (with lim.max_trailers)
 * bounds the trailer count. */
ptrdiff_t h1_body_parse(struct h1_body *b, char *in, size_t len, struct hpack_field *trailers,
                        size_t max_trailers, struct h1_body_event *ev);

/* The connection reached end of file. Returns 0 when that completes the
 * body (CLOSE, or a body already done / NONE), H1_EBODY_TRUNCATED when a
 * LENGTH or CHUNKED body was cut short. */
int h1_body_eof(struct h1_body *b);

/* True once the body is complete. */
bool h1_body_done(const struct h1_body *b);

#endif
