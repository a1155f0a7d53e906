/* proxy/obs/alog_fmt.h — the access log formatter, sans-IO.
 *
 * A format (combined, common, json, or a user template of named fields) is
 * compiled once into a program (px_alog_compile, at worker start; the
 * configuration check compiles it too to report errors); then each request
 * is formatted into a caller buffer with px_alog_format, which allocates
 * nothing, calls nothing that locks, and never writes past the buffer.
 *
 * The entry is a flat struct, not tied to a connection, so that tests and
 * the fuzzer build it by hand. docs/observability.md lists the fields and
 * the exact layout of every format.
 *
 * Escaping (log injection: a request can never make two lines or fake a
 * field):
 * - text formats (combined, common, template): every byte below 0x20, 0x7f
 *   and every byte from 0x80 becomes \xHH; '"' becomes \" and '\' becomes
 *   \\; an absent (empty) string or number is "-".
 * - json: a string is a JSON string, '"' '\' and bytes below 0x20 escaped
 *   (\n, \t, … or \u00XX), valid UTF-8 kept, and each byte of an invalid
 *   UTF-8 sequence (and 0x7f) written as \u00XX; numbers are JSON numbers;
 *   absent values are null.
 */
#ifndef H2B_PROXY_OBS_ALOG_FMT_H
#define H2B_PROXY_OBS_ALOG_FMT_H

#include <stddef.h>
#include <stdint.h>

#include "core/str.h"

/* One request as the access log sees it. Strings are views (empty = absent)
 * valid during px_alog_format only. Times in nanoseconds; a negative
 * duration is absent. */
struct px_alog_entry {
    int64_t time_ns;          /* wall clock (CLOCK_REALTIME) when the request head arrived */
    struct hb_str client_addr; /* "203.0.113.7", "2001:db8::1" (no brackets) */
    uint16_t client_port;      /* 0: absent */
    struct hb_str listener;    /* listeners[].name, else "address:port" */
    struct hb_str tls_version; /* "TLSv1.3"; empty on cleartext */
    struct hb_str tls_cipher;  /* "TLS_AES_128_GCM_SHA256" */
    struct hb_str sni;         /* server name the client sent */
    struct hb_str protocol;    /* "h2", "h2c", "http/1.1", "http/1.0" */
    int version;               /* 10, 11, 20: the HTTP version of the request line */
    uint32_t stream_id;        /* 0: absent */
    struct hb_str method, authority, path;
    int status;                /* 0: none sent */
    uint64_t req_body_bytes, resp_body_bytes;
    uint64_t wire_in, wire_out; /* bytes of this request on the client connection, framed
                                   (no TLS overhead); PX_ALOG_NO_BYTES: not known */
    int64_t duration_ns;        /* head received → ended */
    struct hb_str upstream, backend; /* empty or "-": absent */
    int64_t connect_ns;          /* head received → backend connection in hand */
    int64_t first_byte_ns;       /* head received → first response byte from the backend */
    uint32_t retries;
    struct hb_str end_reason; /* "COMPLETE", "CLIENT_RESET", … (px_ex_end_name) */
    struct hb_str end_detail; /* the 502 cause, the RST code, …; empty: none */
    struct hb_str request_id, traceparent, user_agent, referer;
    struct hb_str tunnel; /* the tunnel the request became; empty: none */
    uint32_t pushed_by;   /* a pushed response: the stream whose response promised it;
                             0: absent (not pushed) */
};

#define PX_ALOG_NO_BYTES UINT64_MAX

/* The named fields (${name} in a template; the keys of the json format). */
enum px_alog_field {
    PX_ALOG_TIME,
    PX_ALOG_TIME_CLF, /* [03/Dec/2026:14:00:00.123 +0000] without the brackets */
    PX_ALOG_CLIENT_ADDR,
    PX_ALOG_CLIENT_PORT,
    PX_ALOG_LISTENER,
    PX_ALOG_TLS_VERSION,
    PX_ALOG_TLS_CIPHER,
    PX_ALOG_SNI,
    PX_ALOG_PROTOCOL,
    PX_ALOG_STREAM_ID,
    PX_ALOG_METHOD,
    PX_ALOG_AUTHORITY,
    PX_ALOG_PATH,
    PX_ALOG_REQUEST_LINE, /* GET /x HTTP/2 */
    PX_ALOG_STATUS,
    PX_ALOG_REQ_BODY,
    PX_ALOG_RESP_BODY,
    PX_ALOG_WIRE_IN,
    PX_ALOG_WIRE_OUT,
    PX_ALOG_DURATION,
    PX_ALOG_UPSTREAM,
    PX_ALOG_BACKEND,
    PX_ALOG_CONNECT_TIME,
    PX_ALOG_FIRST_BYTE_TIME,
    PX_ALOG_RETRIES,
    PX_ALOG_END_REASON,
    PX_ALOG_END_DETAIL,
    PX_ALOG_REQUEST_ID,
    PX_ALOG_TRACEPARENT,
    PX_ALOG_USER_AGENT,
    PX_ALOG_REFERER,
    PX_ALOG_TUNNEL, /* "upgrade", "websocket-h2" (proxy/exchange/tunnel.h) */
    PX_ALOG_PUSHED_BY, /* the stream whose response promised this one (server push) */
    PX_ALOG_NFIELDS,
};

/* "time", "client_addr", … (the template name). Static storage. */
const char *px_alog_field_name(enum px_alog_field f);

enum px_alog_format {
    PX_ALOG_COMBINED,
    PX_ALOG_COMMON,
    PX_ALOG_JSON,
    PX_ALOG_TEMPLATE,
};

/* The text templates behind combined and common (docs/observability.md). */
extern const char px_alog_combined_template[];
extern const char px_alog_common_template[];

struct px_alog_op;

/* A compiled format. Owned by whoever compiled it; read-only after, so one
 * program may be used from several threads. */
struct px_alog_prog {
    struct px_alog_op *ops;
    size_t nops;
    char *text; /* the literal bytes the ops point into */
    uint64_t uses; /* bit f set: the format shows field f (PX_ALOG_USES) */
};

/* True when p shows field f: what is not shown need not be filled in. */
#define PX_ALOG_USES(p, f) (((p)->uses >> (f)) & 1u)

/* Where a template is wrong: offset (0-based) of the byte in the template,
 * and what was expected. */
struct px_alog_error {
    size_t offset;
    char msg[160];
};

/* Compiles format fmt; for PX_ALOG_TEMPLATE, tmpl[0..len) is the user's
 * template: literal text, "${name}" for a field, "$$" for one '$'. A '$'
 * followed by anything else, an unterminated "${", an unknown name, or a
 * control character other than a tab (a newline would make two lines) is
 * an error (err filled). Returns 0, HB_EINVAL (err set) or HB_ENOMEM. */
int px_alog_compile(struct px_alog_prog *p, enum px_alog_format fmt, const char *tmpl,
                    size_t len, struct px_alog_error *err);

/* Frees what px_alog_compile allocated; p is then empty. */
void px_alog_prog_free(struct px_alog_prog *p);

/* The smallest buffer px_alog_format accepts. */
#define PX_ALOG_MIN_LINE 32

/* Formats e as one line ending in "\n" into buf[0..size) (size >=
 * PX_ALOG_MIN_LINE). A line that does not fit is cut at a field or escape
 * boundary and ends in PX_ALOG_TRUNCATED "\n". Returns the line's length
 * (at most size; no NUL is written). */
#define PX_ALOG_TRUNCATED "...[truncated]"
size_t px_alog_format(const struct px_alog_prog *p, const struct px_alog_entry *e, char *buf,
                      size_t size);

#endif
