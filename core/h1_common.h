/* core/h1_common.h — what the HTTP/1.1 parser, body decoder and writer share:
 * the error table (one code per rule broken) and the configurable limits.
 *
 * Every h1_* function that can fail returns ptrdiff_t: a byte count (>= 0)
 * or a negative H1_E* code. 0 from a parser means "need more input"; it is
 * never an error. Codes are distinct from HB_E* (core/err.h) and stable
 * (append only: they appear in logs).
 */
#ifndef H2B_CORE_H1_COMMON_H
#define H2B_CORE_H1_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* X(NAME, status to answer a client with, "message").
 * The status is for a REQUEST that broke the rule (the HTTP/1.1 frontend
 * answers it and closes). A RESPONSE from a backend that breaks any rule is
 * a 502 for the client, whatever the column says. */
// clang-format off
#define H1_ERRORS(X)                                                            \
    X(BARE_LF, 400, "bare LF line ending (RFC 9112 §2.2)")                      \
    X(BARE_CR, 400, "CR not followed by LF (RFC 9112 §2.2)")                    \
    X(START_LINE, 400, "malformed start line (RFC 9112 §3, §4)")                \
    X(METHOD, 400, "method is not a token (RFC 9112 §3.1)")                     \
    X(TARGET, 400, "invalid character in request-target (RFC 9112 §3.2)")       \
    X(TARGET_FORM, 400, "request-target form not allowed here (RFC 9112 §3.2)") \
    X(VERSION, 400, "malformed HTTP-version (RFC 9112 §2.3)")                   \
    X(VERSION_UNSUPPORTED, 505, "HTTP version other than 1.0 and 1.1")          \
    X(LINE_TOO_LONG, 414, "request or status line longer than the limit")       \
    X(STATUS, 400, "status code is not three digits in 100..599 (RFC 9112 §4)") \
    X(REASON, 400, "invalid character in reason phrase (RFC 9112 §4)")          \
    X(OBS_FOLD, 400, "line starts with whitespace: obs-fold (RFC 9112 §5.2)")   \
    X(NAME, 400, "empty field name or non-token character (RFC 9110 §5.1)")     \
    X(NAME_WS, 400, "whitespace between field name and colon (RFC 9112 §5.1)")  \
    X(NO_COLON, 400, "field line without a colon (RFC 9112 §5)")                \
    X(VALUE, 400, "NUL, CR, LF or other control in field value (RFC 9110 §5.5)") \
    X(FIELD_TOO_LONG, 431, "field line longer than the limit")                  \
    X(TOO_MANY_FIELDS, 431, "more header fields than the limit")                \
    X(HEAD_TOO_LARGE, 431, "header section larger than the limit")              \
    X(HOST_MISSING, 400, "HTTP/1.1 request without Host (RFC 9112 §3.2)")       \
    X(HOST_DUP, 400, "more than one Host field line (RFC 9112 §3.2)")           \
    X(HOST_INVALID, 400, "invalid Host value (RFC 9112 §3.2)")                  \
    X(CL_INVALID, 400, "Content-Length is not 1*DIGIT (RFC 9110 §8.6)")         \
    X(CL_CONFLICT, 400, "differing Content-Length values (RFC 9112 §6.3)")      \
    X(TE_INVALID, 400, "malformed Transfer-Encoding (RFC 9112 §6.1)")           \
    X(TE_NOT_CHUNKED, 400, "request whose final transfer coding is not chunked") \
    X(TE_UNSUPPORTED, 501, "request with a transfer coding other than chunked") \
    X(TE_CHUNKED_TWICE, 400, "chunked applied more than once (RFC 9112 §6.1)")  \
    X(TE_WITH_CL, 400, "request with both Transfer-Encoding and Content-Length") \
    X(TE_HTTP10, 400, "Transfer-Encoding in an HTTP/1.0 message (RFC 9112 §6.1)") \
    X(CHUNK_SIZE, 400, "chunk-size is not 1*HEXDIG (RFC 9112 §7.1)")           \
    X(CHUNK_SIZE_RANGE, 400, "chunk-size has too many digits or overflows")     \
    X(CHUNK_EXT, 400, "invalid chunk extension (RFC 9112 §7.1.1)")              \
    X(CHUNK_EXT_TOO_LONG, 400, "chunk extensions longer than the limit")        \
    X(CHUNK_DATA_END, 400, "chunk data not followed by CRLF (RFC 9112 §7.1)")   \
    X(TRAILER_TOO_LARGE, 431, "trailer section larger than the limit")          \
    X(TRAILER_TOO_MANY, 431, "more trailer fields than the limit")              \
    X(BODY_TRUNCATED, 400, "connection closed before the body was complete")    \
    X(CONNECTION, 400, "more Connection field lines than H1_MAX_CONNECTION_FIELDS") \
    X(WBUF, 500, "writer: output buffer too small")                             \
    X(WFIELD, 500, "writer: field name or value not safe to write")             \
    X(WMSG, 500, "writer: message lacks what the start line needs")

/* Codes count down from -1 in table order: H1_EBARE_LF = -1, H1_EBARE_CR = -2 ... */
enum h1_err_index_ {
#define H1_ERR_IDX(name, status, msg) H1_IDX_##name,
    H1_ERRORS(H1_ERR_IDX)
#undef H1_ERR_IDX
    H1_ERR_COUNT_
};

enum h1_err {
    H1_NEED_MORE = 0, /* not an error: call again with more bytes */
#define H1_ERR_ENUM(name, status, msg) H1_E##name = -1 - (int)H1_IDX_##name,
    H1_ERRORS(H1_ERR_ENUM)
#undef H1_ERR_ENUM
};

// clang-format on

/* "BARE_LF", ... (the constant without "H1_E"), "NEED_MORE" for 0, "UNKNOWN"
 * for anything else. Never NULL; static storage. */
const char *h1_err_name(int err);

/* A one-line description citing the rule. Never NULL; static storage. */
const char *h1_err_message(int err);

/* The status code to answer a client whose REQUEST failed with err
 * (400, 414, 431, 501, 505, or 500 for writer errors); 0 when err is not
 * an H1_E* code. A backend RESPONSE that fails is always a 502. */
int h1_err_status(int err);

/* Every limit of the codec. Each violation has its own code (see above). */
struct h1_limits {
    uint32_t max_start_line; /* request/status line incl. CRLF; 8192 → LINE_TOO_LONG */
    uint32_t max_field_line; /* one field line incl. CRLF; 8192 → FIELD_TOO_LONG */
    uint32_t max_head;       /* whole head incl. final CRLF; 65536 → HEAD_TOO_LARGE */
    uint32_t max_fields;     /* field lines in a head; 100 → TOO_MANY_FIELDS (the
                                caller's array size also bounds it) */
    uint32_t max_chunk_ext;  /* bytes after chunk-size before CRLF; 256 → CHUNK_EXT_TOO_LONG */
    uint32_t max_trailer;    /* trailer section incl. final CRLF; 16384 → TRAILER_TOO_LARGE */
    uint32_t max_trailers;   /* trailer fields; 32 → TRAILER_TOO_MANY */
    bool allow_bare_lf;      /* false: a bare LF is BARE_LF (RFC 9112 §2.2 lets a
                                recipient accept it; we do not by default). Never
                                applies to chunk framing, where it is always refused. */
};

/* The safe defaults listed above. */
void h1_limits_default(struct h1_limits *l);

/* The case the sender gave the field names of one parsed head, which the
 * parser lowercased in place (h1_parser_keep_case() in h1_parse.h asks for
 * it): bit i of upper[] (byte i / 8, bit i % 8) is set when base[i] was an
 * upper-case letter A-Z. Field names are tokens, whose only case change is
 * A-Z to a-z, so a name at base + k of n bytes is exactly recovered from its
 * lowercase bytes and bits k..k+n-1. Bits are recorded for the whole head
 * (start line and values too); only the names' are read. A field whose name
 * points outside base[0..len) (added or rewritten after parsing) has no
 * original spelling. The writer's H1_CASE_PRESERVE reads this (h1_write.h). */
struct h1_case_map {
    const char *base;     /* the buffer the head was parsed from */
    size_t len;           /* bytes of it the bits describe */
    const uint8_t *upper; /* (len + 7) / 8 bytes, owned by the parser's user */
};

/* True when name[0..n) lies inside cm's buffer. */
static inline bool h1_case_map_covers(const struct h1_case_map *cm, const char *name, size_t n)
{
    uintptr_t b = (uintptr_t)cm->base, p = (uintptr_t)name;
    return p >= b && p - b <= cm->len && n <= cm->len - (p - b);
}

#endif
