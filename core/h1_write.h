/* core/h1_write.h — HTTP/1.1 writer: a neutral message (core/msg.h) to a
 * request head for a backend or a response head for the HTTP/1.1 frontend,
 * written straight into the caller's buffer (no intermediate copy), and the
 * chunked framing for bodies.
 *
 * What is written (RFC 9112, RFC 9110 §7.6.1):
 * - Hop-by-hop fields are never copied from the message: connection,
 *   keep-alive, proxy-connection, transfer-encoding, upgrade, te,
 *   http2-settings, and every field named in the message's Connection
 *   field(s). content-length is never copied either: framing comes from the
 *   options only. host is not copied when m->authority is set (Host is
 *   written from it, first after the request line); with neither, an empty
 *   Host is written (RFC 9112 §3.2).
 * - Field names in the chosen case: as stored (lowercase), Title-Case
 *   ("content-type" → "Content-Type") for legacy applications, or as the
 *   sender spelt them: PRESERVE writes a field whose name points into the
 *   parsed head that m->orig_case describes (h1_common.h: the field came
 *   from an HTTP/1.1 peer and was not rewritten) in its original case, and
 *   every other one (from HTTP/2, added or rewritten by the proxy, no map)
 *   in Title-Case. Host, the framing fields and Connection are written by
 *   the writer itself: Title-Case in TITLE and PRESERVE.
 * - Every name must be a token and every value free of NUL/CR/LF (and other
 *   controls but HTAB), or nothing is written and H1_EWFIELD is returned: the
 *   writer never emits bytes a parser could split differently (smuggling).
 * - `extra` fields (e.g. x-forwarded-for, via) are written after the
 *   message's, validated the same way but not filtered.
 */
#ifndef H2B_CORE_H1_WRITE_H
#define H2B_CORE_H1_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/h1_common.h"
#include "core/msg.h"

enum h1_name_case {
    H1_CASE_LOWER = 0, /* names as stored in the message (lowercase): default */
    H1_CASE_TITLE,     /* Title-Case */
    H1_CASE_PRESERVE,  /* the sender's own spelling where m->orig_case has it, else Title-Case */
};

/* "lower", "title", "preserve". Static storage. */
const char *h1_name_case_name(enum h1_name_case nc);

enum h1_framing {
    H1_FRAME_NONE = 0, /* no framing field (bodiless request; 204/304/HEAD
                          response; close-delimited response with close set) */
    H1_FRAME_LENGTH,   /* Content-Length: content_length */
    H1_FRAME_CHUNKED,  /* Transfer-Encoding: chunked (trailers allowed) */
};

struct h1_write_opts {
    enum h1_name_case name_case;
    enum h1_framing framing;
    uint64_t content_length; /* with H1_FRAME_LENGTH */
    bool close;              /* write "Connection: close" */
};

/* Writes "METHOD target HTTP/1.1\r\nHost: authority\r\n<fields>\r\n" into
 * out[0..cap). The target is m->path, or m->authority for CONNECT (when path
 * is empty). Returns the byte count, H1_EWBUF when cap is too small (out then
 * holds garbage), H1_EWFIELD for an unsafe name/value/target, H1_EWMSG when
 * method or target is missing. m and extra are only read. */
ptrdiff_t h1_write_request_head(const struct hb_msg *m, const struct h1_write_opts *o,
                                const struct hpack_field *extra, size_t nextra, char *out,
                                size_t cap);

/* Writes "HTTP/1.1 <status> <standard reason>\r\n<fields>\r\n" into
 * out[0..cap) (the backend's reason phrase is never forwarded). For an
 * HTTP/1.0 client use H1_FRAME_LENGTH or H1_FRAME_NONE with close (it does
 * not know chunked, RFC 9112 §7). Returns as
 * h1_write_request_head(); H1_EWMSG for a status outside 100..599. */
ptrdiff_t h1_write_response_head(const struct hb_msg *m, const struct h1_write_opts *o,
                                 const struct hpack_field *extra, size_t nextra, char *out,
                                 size_t cap);

/* An upper bound on the head size either writer needs for m + extra. */
size_t h1_write_head_bound(const struct hb_msg *m, const struct hpack_field *extra, size_t nextra);

/* Writes a chunk header "<hex size>\r\n" (size > 0) into out[0..cap). The
 * caller then writes the size data bytes followed by H1_CRLF. Returns the
 * byte count (at most H1_CHUNK_HEADER_MAX), H1_EWBUF, or H1_EWMSG for size 0
 * (use h1_write_last_chunk). */
#define H1_CRLF             "\r\n"
#define H1_CHUNK_HEADER_MAX 18 /* 16 hex digits + CRLF */
ptrdiff_t h1_write_chunk_header(uint64_t size, char *out, size_t cap);

/* Writes the last chunk "0\r\n", the trailer fields (hop-by-hop ones and
 * framing fields dropped as above, names in `name_case`; trailers have no
 * map, so PRESERVE is Title-Case) and the final "\r\n". Returns the byte
 * count, H1_EWBUF or H1_EWFIELD. */
ptrdiff_t h1_write_last_chunk(const struct hpack_field *trailers, size_t n,
                              enum h1_name_case name_case, char *out, size_t cap);

/* The standard reason phrase for status ("OK", "Not Found"...), "" if none. */
const char *h1_reason_phrase(int status);

/* True when f must not cross the h1/h2 boundary (or be forwarded to another
 * h1 hop): a hop-by-hop field, one named in m's Connection field(s), or a
 * framing field (content-length excepted: it may be forwarded to h2 when it
 * describes the body). For the h2 side building HEADERS from a parsed h1
 * message. */
bool h1_field_is_hop(const struct hb_msg *m, const struct hpack_field *f);

/* Connection field lines one message may have for h1_drop_hop_fields, and
 * the options it collects from them before it searches line by line. */
#define H1_MAX_CONNECTION_FIELDS 16
#define H1_MAX_CONNECTION_OPTIONS 16

/* Removes from f[0..*n) every field h1_field_is_hop() names, in place,
 * keeping the order of the rest; f is the message's whole field list (its
 * Connection fields are the ones that count). One pass per Connection
 * field instead of one per field pair. Returns 0 (*n updated) or
 * H1_ECONNECTION for more than H1_MAX_CONNECTION_FIELDS Connection field
 * lines (f unchanged). */
int h1_drop_hop_fields(struct hpack_field *f, uint32_t *n);

#endif
