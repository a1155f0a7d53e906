/* core/h1_parse.h — strict, incremental, zero-allocation HTTP/1.1 head parser
 * (RFC 9112 §2-§6, RFC 9110 §5, §8.6). Requests (HTTP/1.1 frontend) and
 * responses (backend side).
 *
 * Incremental use: keep the bytes of the message from its first byte in one
 * buffer and call again with the longer buffer after each read. The buffer
 * may move between calls (only offsets are remembered) but the bytes already
 * passed must not change. The parser remembers how far it scanned for the
 * end of the head, so a head arriving byte by byte costs O(n), not O(n^2).
 * Nothing is parsed into `out` until the whole head is in the buffer, so the
 * result never depends on how the input was split.
 *
 * Views: every view in `out` (method, path, authority, scheme, field names
 * and values) points into `buf` and is valid until the caller moves or reuses
 * those bytes. Field names are LOWERCASED IN PLACE in `buf` (so the h2 side
 * can use them as is; their original case may be kept aside, see
 * h1_parser_keep_case()); nothing else in `buf` is modified (but see
 * absolute-form below). `out->fields` is the
 * caller's array (its entries may be overwritten by a call that fails); the
 * parser never allocates. Bytes after the head may be read, never changed in
 * value (the name scanner may store back bytes it read).
 *
 * Message body length (RFC 9112 §6.3), reported through out->flags:
 *   HB_MSG_END_STREAM   no body (request without CL/TE, CL: 0, 1xx/204/304,
 *                       response to HEAD, 2xx to CONNECT)
 *   HB_MSG_HAS_CL       body of out->content_length bytes
 *   HB_MSG_CHUNKED      chunked is the final transfer coding
 *   HB_MSG_CLOSE_DELIM  response body runs until the connection closes
 *   HB_MSG_TE_CODED     response with a transfer coding other than chunked:
 *                       the decoded body is still encoded with it (the proxy
 *                       cannot pass it on as content: answer 502)
 *   HB_MSG_NO_REUSE     response framing was doubtful (TE with CL): read it,
 *                       then close the backend connection
 *   HB_MSG_CLOSE        the connection closes after this message (Connection:
 *                       close, HTTP/1.0 without keep-alive, close-delimited)
 *   HB_MSG_TUNNEL       2xx to CONNECT or 101: the connection is no longer HTTP
 *   HB_MSG_UPGRADE      Connection lists "upgrade" and Upgrade is present
 *   HB_MSG_EXPECT_100   request with Expect: 100-continue
 * Repeated Content-Length: identical values (in one line as a list or in
 * several lines) are folded into one; differing ones are CL_CONFLICT. When a
 * response has both TE and CL, the Content-Length fields are removed from
 * out->fields (RFC 9112 §6.3 item 3) and HB_MSG_NO_REUSE is set. Fields are
 * otherwise kept as received, including hop-by-hop ones: dropping those at the
 * h1/h2 boundary is the consumer's job (see h1_field_is_hop() in h1_write.h).
 *
 * Request targets (RFC 9112 §3.2): origin-form → out->path, out->authority from
 * Host; absolute-form (http/https only, no userinfo) → out->scheme,
 * out->authority and out->path from the target (Host is still required for
 * HTTP/1.1 but ignored); authority-form only for CONNECT → out->authority,
 * empty path; "*" only for OPTIONS → path "*". An absolute-form target
 * with a query but an empty path ("http://a?q") gets path "/?q": the
 * authority is moved one byte left in buf (over the second '/' of "//") to
 * make room for the '/'. out->version is 10 or 11.
 * Responses: out->status; the reason phrase is checked and dropped.
 */
#ifndef H2B_CORE_H1_PARSE_H
#define H2B_CORE_H1_PARSE_H

#include <stddef.h>

#include "core/h1_common.h"
#include "core/msg.h"

struct h1_parser {
    struct h1_limits lim;
    size_t scanned;  /* offset of the first byte not yet scanned for the end of the head */
    size_t skip;     /* leading empty lines skipped before a request line */
    size_t first_lf; /* offset just past the start line's LF, 0 until seen */
    int err;         /* sticky: once negative, every call returns it */
    /* h1_parser_keep_case: where the names' original case goes (NULL: it
     * is not kept, the default), its size, and the map of the last head */
    uint8_t *case_bits;
    size_t case_cap;
    struct h1_case_map case_map;
};

/* Starts (or restarts, for the next message) a parser. lim == NULL uses the
 * defaults; the limits are copied. */
void h1_parser_init(struct h1_parser *p, const struct h1_limits *lim);

/* Ready for the next message with the same limits (after a complete head).
 * Keeps the h1_parser_keep_case() storage. */
void h1_parser_reset(struct h1_parser *p);

/* From the next head on, the case the sender gave each field name is kept
 * (names are still lowercased in buf): a parsed message's orig_case then
 * points to a map (h1_common.h) of bits[0..cap), valid until the next
 * parse, reset or init, and as long as buf. bits is the caller's, cap
 * bytes cover 8 * cap head bytes: (lim.max_head + 7) / 8 cover every head
 * (a larger head has its names past the covered bytes without an original
 * spelling). It costs one pass over each complete head; a parser never
 * asked keeps nothing and costs nothing (orig_case NULL). bits == NULL
 * stops keeping. h1_parser_init() forgets it. */
void h1_parser_keep_case(struct h1_parser *p, uint8_t *bits, size_t cap);

/* Parses a request head from buf[0..len).
 * Returns the head's length in bytes (> 0; the body starts at buf + result) when
 * the head is complete and valid: *out is filled, out->fields = fields.
 * Returns H1_NEED_MORE (0) when the head is not complete yet: call again with
 * more bytes; *out is untouched.
 * Returns a negative H1_E* code naming the rule broken (h1_err_status() gives
 * the answer: 400, 414, 431, 501, 505); the error is sticky until init/reset.
 * At most min(max_fields, lim.max_fields) fields are accepted. Empty lines
 * before the request line are skipped (RFC 9112 §2.2) and counted in the result. */
ptrdiff_t h1_parse_request(struct h1_parser *p, char *buf, size_t len, struct hb_msg *out,
                           struct hpack_field *fields, size_t max_fields);

/* What the response answers, for its body length (RFC 9112 §6.3 items 1-2). */
#define H1_REQ_HEAD    0x1u /* the request was HEAD: no body */
#define H1_REQ_CONNECT 0x2u /* the request was CONNECT: 2xx means a tunnel */

/* Parses a response head from buf[0..len); `req` is H1_REQ_* flags of the
 * request it answers. Returns exactly as h1_parse_request(). A 1xx response
 * is returned like any other (flags END_STREAM, and TUNNEL for 101): the
 * caller handles it, resets the parser and parses the final response that
 * follows. Any error means 502 for the client and closing the backend
 * connection. */
ptrdiff_t h1_parse_response(struct h1_parser *p, unsigned req, char *buf, size_t len,
                            struct hb_msg *out, struct hpack_field *fields, size_t max_fields);

#endif
