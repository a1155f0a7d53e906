/* core/msg.h — the neutral message: the only thing that crosses between the
 * HTTP/2 side and the HTTP/1.1 side (DESIGN.md).
 *
 * A request has method, scheme, authority, path (and protocol for extended
 * CONNECT, RFC 8441); a response has status. Regular fields are in `fields`,
 * pseudo-headers never are. All views point into storage owned by whoever
 * filled the message (a stream's arena, a parser's input buffer): a msg owns
 * nothing and is valid as long as that storage is.
 *
 * Field names in a msg are lowercase (h2 requires it; the h1 parser
 * lowercases in place or the consumer compares case-insensitively — see
 * the producer's contract). The spelling an HTTP/1.1 sender used may be
 * kept beside them (orig_case), for a writer that preserves it.
 */
#ifndef H2B_CORE_MSG_H
#define H2B_CORE_MSG_H

#include <stdbool.h>
#include <stdint.h>

#include "core/str.h"
#include "hpack/hpack.h"

struct h1_case_map; /* core/h1_common.h */

/* Message flags. */
#define HB_MSG_END_STREAM 0x1u  /* no body follows the head */
#define HB_MSG_HAS_CL 0x2u      /* content_length is valid */
#define HB_MSG_CHUNKED 0x4u     /* h1: body is chunked */
#define HB_MSG_CLOSE 0x8u       /* h1: connection closes after this message */
#define HB_MSG_CLOSE_DELIM 0x10u /* h1 response: body runs until close */
#define HB_MSG_HEAD_REQ 0x20u   /* response to a HEAD request: no body */
#define HB_MSG_UPGRADE 0x40u    /* h1: Upgrade requested */
#define HB_MSG_EXPECT_100 0x80u /* h1 request: Expect: 100-continue */
#define HB_MSG_NO_REUSE 0x100u  /* h1 response: framing doubt, never reuse the connection */
#define HB_MSG_TUNNEL 0x200u    /* h1: 2xx to CONNECT or 101: no longer HTTP after the head */
#define HB_MSG_TE_CODED 0x400u  /* h1 response: a transfer coding other than chunked remains */

struct hb_msg {
    /* request */
    struct hb_str method;
    struct hb_str scheme;
    struct hb_str authority;
    struct hb_str path;
    struct hb_str protocol; /* :protocol (extended CONNECT), else empty */
    /* response */
    int status;
    /* HTTP version of an h1 message: 10 or 11 (0 for h2) */
    int version;
    /* regular fields, in order */
    struct hpack_field *fields;
    uint32_t nfields;
    uint32_t flags;            /* HB_MSG_* */
    uint64_t content_length;   /* valid when flags & HB_MSG_HAS_CL */
    /* h1: the names' case as the sender wrote them, when its parser was
     * asked to keep it (h1_parser_keep_case), else NULL (always for h2).
     * Points into the parser: valid as long as the message's views. */
    const struct h1_case_map *orig_case;
};

/* Returns the first field named `lname` (lowercase), or NULL. */
const struct hpack_field *hb_msg_find(const struct hb_msg *m, struct hb_str lname);

#endif
