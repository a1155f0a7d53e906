/* proxy/obs/alog_fmt.c — compiling access log formats and formatting one
 * entry (see alog_fmt.h). No allocation and no libc call that locks on the
 * formatting path: numbers and dates are written by hand. */
#include "proxy/obs/alog_fmt.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

static const char *const field_names[PX_ALOG_NFIELDS] = {
    [PX_ALOG_TIME] = "time",
    [PX_ALOG_TIME_CLF] = "time_clf",
    [PX_ALOG_CLIENT_ADDR] = "client_addr",
    [PX_ALOG_CLIENT_PORT] = "client_port",
    [PX_ALOG_LISTENER] = "listener",
    [PX_ALOG_TLS_VERSION] = "tls_version",
    [PX_ALOG_TLS_CIPHER] = "tls_cipher",
    [PX_ALOG_SNI] = "sni",
    [PX_ALOG_PROTOCOL] = "protocol",
    [PX_ALOG_STREAM_ID] = "stream_id",
    [PX_ALOG_METHOD] = "method",
    [PX_ALOG_AUTHORITY] = "authority",
    [PX_ALOG_PATH] = "path",
    [PX_ALOG_REQUEST_LINE] = "request_line",
    [PX_ALOG_STATUS] = "status",
    [PX_ALOG_REQ_BODY] = "request_body_bytes",
    [PX_ALOG_RESP_BODY] = "response_body_bytes",
    [PX_ALOG_WIRE_IN] = "bytes_received",
    [PX_ALOG_WIRE_OUT] = "bytes_sent",
    [PX_ALOG_DURATION] = "duration",
    [PX_ALOG_UPSTREAM] = "upstream",
    [PX_ALOG_BACKEND] = "backend",
    [PX_ALOG_CONNECT_TIME] = "connect_time",
    [PX_ALOG_FIRST_BYTE_TIME] = "first_byte_time",
    [PX_ALOG_RETRIES] = "retries",
    [PX_ALOG_END_REASON] = "end_reason",
    [PX_ALOG_END_DETAIL] = "end_detail",
    [PX_ALOG_TUNNEL] = "tunnel",
    [PX_ALOG_PUSHED_BY] = "pushed_by",
    [PX_ALOG_REQUEST_ID] = "request_id",
    [PX_ALOG_TRACEPARENT] = "traceparent",
    [PX_ALOG_USER_AGENT] = "user_agent",
    [PX_ALOG_REFERER] = "referer",
};

const char *px_alog_field_name(enum px_alog_field f)
{
    return (unsigned)f < PX_ALOG_NFIELDS ? field_names[f] : "?";
}

const char px_alog_combined_template[] =
    "${client_addr} - - [${time_clf}] \"${request_line}\" ${status} ${response_body_bytes} "
    "\"${referer}\" \"${user_agent}\" ${protocol} ${duration} ${upstream} ${request_id}";
const char px_alog_common_template[] =
    "${client_addr} - - [${time_clf}] \"${request_line}\" ${status} ${response_body_bytes}";

static const char hex[] = "0123456789abcdef";

enum op_kind { OP_LIT, OP_TEXT, OP_JSON };

/* prog->text has this many readable bytes after its last literal, so that a
 * literal is copied in whole 16-byte blocks (put_lit). */
#define LIT_PAD 16

struct px_alog_op {
    uint8_t kind;  /* enum op_kind: literal, a field escaped for text, or as a JSON value */
    uint8_t field; /* enum px_alog_field */
    uint32_t off, len; /* OP_LIT: prog->text[off..off+len) */
};

/* ---- compiling ------------------------------------------------------------ */

struct builder {
    struct px_alog_op *ops;
    size_t nops, cap;
    char *text;
    size_t tlen, tcap;
    uint64_t uses;
    bool oom;
};

static void b_op(struct builder *b, struct px_alog_op op)
{
    if (b->oom)
        return;
    if (op.kind == OP_LIT && b->nops && b->ops[b->nops - 1].kind == OP_LIT &&
        b->ops[b->nops - 1].off + b->ops[b->nops - 1].len == op.off) {
        b->ops[b->nops - 1].len += op.len; /* adjacent literals: one copy */
        return;
    }
    if (b->nops == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 16;
        struct px_alog_op *v = realloc(b->ops, cap * sizeof *v);
        if (!v) {
            b->oom = true;
            return;
        }
        b->ops = v;
        b->cap = cap;
    }
    b->ops[b->nops++] = op;
    if (op.kind != OP_LIT)
        b->uses |= 1ull << op.field;
}

static void b_lit(struct builder *b, const char *s, size_t n)
{
    if (b->oom || n == 0)
        return;
    if (b->tlen + n + LIT_PAD > b->tcap) {
        size_t cap = b->tcap ? b->tcap : 64;
        while (cap < b->tlen + n + LIT_PAD)
            cap *= 2;
        char *t = realloc(b->text, cap);
        if (!t) {
            b->oom = true;
            return;
        }
        b->text = t;
        b->tcap = cap;
    }
    memcpy(b->text + b->tlen, s, n);
    memset(b->text + b->tlen + n, 0, LIT_PAD); /* defined bytes for put_lit to read */
    b_op(b, (struct px_alog_op){OP_LIT, 0, (uint32_t)b->tlen, (uint32_t)n});
    b->tlen += n;
}

static int lookup(const char *name, size_t n)
{
    for (int f = 0; f < PX_ALOG_NFIELDS; f++)
        if (strlen(field_names[f]) == n && memcmp(field_names[f], name, n) == 0)
            return f;
    return -1;
}

static int fail(struct px_alog_error *err, size_t off, const char *fmt, const char *arg, int n)
{
    if (err) {
        err->offset = off;
        snprintf(err->msg, sizeof err->msg, fmt, n, arg);
    }
    return HB_EINVAL;
}

static int parse_template(struct builder *b, const char *t, size_t len, struct px_alog_error *err)
{
    size_t lit = 0; /* start of the pending literal */
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)t[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f) /* a line stays one line */
            return fail(err, i, "expected text without control characters (a tab is allowed), "
                                "found byte 0x%.*s", (const char[]){hex[c >> 4], hex[c & 15]}, 2);
        if (c != '$') {
            i++;
            continue;
        }
        b_lit(b, t + lit, i - lit);
        if (i + 1 < len && t[i + 1] == '$') {
            b_lit(b, "$", 1);
            i += 2;
            lit = i;
            continue;
        }
        if (i + 1 >= len || t[i + 1] != '{')
            return fail(err, i, "expected \"${field}\" or \"$$\" after '$'%.*s", "", 0);
        size_t name = i + 2, end = name;
        while (end < len && t[end] != '}')
            end++;
        if (end == len)
            return fail(err, i, "expected '}' closing \"${\"%.*s", "", 0);
        int f = lookup(t + name, end - name);
        if (f < 0) {
            int n = end - name > 40 ? 40 : (int)(end - name);
            return fail(err, name,
                        "expected a field name (time, client_addr, status, … see "
                        "docs/observability.md), found \"%.*s\"",
                        t + name, n);
        }
        b_op(b, (struct px_alog_op){OP_TEXT, (uint8_t)f, 0, 0});
        i = end + 1;
        lit = i;
    }
    b_lit(b, t + lit, len - lit);
    return 0;
}

/* The json format: every field but the two text-only ones, in enum order. */
static void build_json(struct builder *b)
{
    bool first = true;
    for (int f = 0; f < PX_ALOG_NFIELDS; f++) {
        if (f == PX_ALOG_TIME_CLF || f == PX_ALOG_REQUEST_LINE)
            continue;
        char key[64];
        int n = snprintf(key, sizeof key, "%s\"%s\":", first ? "{" : ",", field_names[f]);
        b_lit(b, key, (size_t)n);
        b_op(b, (struct px_alog_op){OP_JSON, (uint8_t)f, 0, 0});
        first = false;
    }
    b_lit(b, "}", 1);
}

int px_alog_compile(struct px_alog_prog *p, enum px_alog_format fmt, const char *tmpl,
                    size_t len, struct px_alog_error *err)
{
    memset(p, 0, sizeof *p);
    struct builder b = {0};
    int rc = 0;
    switch (fmt) {
    case PX_ALOG_COMBINED:
        rc = parse_template(&b, px_alog_combined_template, sizeof px_alog_combined_template - 1,
                            err);
        break;
    case PX_ALOG_COMMON:
        rc = parse_template(&b, px_alog_common_template, sizeof px_alog_common_template - 1, err);
        break;
    case PX_ALOG_JSON:
        build_json(&b);
        break;
    case PX_ALOG_TEMPLATE:
        rc = parse_template(&b, tmpl ? tmpl : "", tmpl ? len : 0, err);
        break;
    }
    if (rc == 0 && b.oom)
        rc = HB_ENOMEM;
    if (rc != 0) {
        free(b.ops);
        free(b.text);
        return rc;
    }
    p->ops = b.ops;
    p->nops = b.nops;
    p->text = b.text;
    p->uses = b.uses;
    if (p->uses >> PX_ALOG_REQUEST_LINE & 1) /* made of these */
        p->uses |= 1ull << PX_ALOG_METHOD | 1ull << PX_ALOG_PATH;
    return 0;
}

void px_alog_prog_free(struct px_alog_prog *p)
{
    free(p->ops);
    free(p->text);
    memset(p, 0, sizeof *p);
}

/* ---- formatting ----------------------------------------------------------- */

struct out {
    char *p;
    size_t n;
    size_t lim;  /* room for the line without its newline */
    size_t soft; /* room left when the line is cut: without the marker */
    size_t safe; /* the longest prefix, within soft, that ends on a boundary */
    bool cut;
};

/* Appends s[0..n). A split put (printable bytes, literal text) may be cut
 * anywhere; any other (an escape, a UTF-8 sequence, a number) is whole or
 * absent in a cut line.
 *
 * While the line stays within soft, its end is always a boundary, so the
 * common case is a bare copy (put_any); the first put that passes soft
 * records the cut point (put_slow), and from then on safe stays. */
static bool put_slow(struct out *o, const char *s, size_t n, bool split)
{
    if (o->cut)
        return false;
    if (o->n <= o->soft) { /* this put crosses soft: a cut line ends at soft, or before it */
        size_t k = 0;
        if (split) { /* the part up to soft is written now, whether the rest fits or not */
            k = o->soft - o->n < n ? o->soft - o->n : n;
            memcpy(o->p + o->n, s, k);
        }
        o->safe = o->n + k;
    }
    if (n > o->lim - o->n) {
        o->cut = true;
        return false;
    }
    memcpy(o->p + o->n, s, n);
    o->n += n;
    return true;
}

static inline bool put_any(struct out *o, const char *s, size_t n, bool split)
{
    if (__builtin_expect(!o->cut && o->n + n <= o->soft, 1)) {
        memcpy(o->p + o->n, s, n);
        o->n += n;
        return true;
    }
    return put_slow(o, s, n, split);
}

/* Room for n more bytes while staying within soft (the fast paths below
 * write without further checks then). */
static inline bool room(const struct out *o, size_t n)
{
    return !o->cut && o->n + n <= o->soft;
}

static inline bool put(struct out *o, const char *s, size_t n)
{
    return put_any(o, s, n, false);
}

/* A literal of the program: its text may be read up to LIT_PAD bytes past
 * its end, and the line's buffer written as far while within soft (those
 * bytes are overwritten by what follows or not part of the line). */
static inline void put_lit(struct out *o, const char *s, size_t n)
{
    if (room(o, n + LIT_PAD)) {
        char *d = o->p + o->n;
        for (size_t k = 0; k < n; k += 16)
            memcpy(d + k, s + k, 16);
        o->n += n;
        return;
    }
    put_slow(o, s, n, true);
}

static inline bool put_run(struct out *o, const char *s, size_t n)
{
    return put_any(o, s, n, true);
}

static const char digits2[] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                              "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                              "8081828384858687888990919293949596979899";

/* Bytes a text format writes as they are: printable ASCII but '"' and '\'. */
static const uint8_t safe_tbl[256] = {
#define R16(v) v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v
    R16(0), R16(0),                                           /* 0x00-0x1f */
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,           /* 0x20-0x2f: '"' */
    R16(1), R16(1),                                           /* 0x30-0x4f */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,           /* 0x50-0x5f: '\' */
    R16(1),                                                   /* 0x60-0x6f */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0,           /* 0x70-0x7f: DEL */
    R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), /* 0x80-0xff */
#undef R16
};

static inline bool text_safe(unsigned char c)
{
    return safe_tbl[c];
}

/* False when none of the 8 bytes of w needs escaping (below 0x20, from
 * 0x7f, '"' or '\\'); true when one may (a borrow or carry between bytes can
 * only flag a word too many: the caller then looks at each byte). */
static inline bool word_unsafe(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
    return ((w | (w + ones) | (w - ones * 0x20) | ((w ^ (ones * '"')) - ones) |
             ((w ^ (ones * '\\')) - ones)) &
            high) != 0;
}

#ifdef __SSE2__
/* The same test on 16 bytes: a signed compare below 0x20 also catches every
 * byte from 0x80. */
static inline int block_unsafe(__m128i v)
{
    __m128i m = _mm_or_si128(
        _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)), _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f))),
        _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));
    return _mm_movemask_epi8(m);
}
#endif

/* Most strings need no escape at all: checks p[0..n) in (overlapping)
 * blocks and copies it to d as it goes. Returns false when a byte may need
 * an escape (d[0..n) then holds bytes to be overwritten). d has room for n
 * bytes; nothing past p[n) is read. */
static inline bool copy_if_clean(char *d, const unsigned char *p, size_t n)
{
    if (n >= 16) {
#ifdef __SSE2__
        for (size_t i = 0;; i += 16) {
            size_t at = i + 16 <= n ? i : n - 16; /* the last block overlaps */
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + at));
            if (block_unsafe(v))
                return false;
            _mm_storeu_si128((__m128i *)(void *)(d + at), v);
            if (at + 16 == n)
                return true;
        }
#else
        for (size_t i = 0;; i += 8) {
            size_t at = i + 8 <= n ? i : n - 8;
            uint64_t w;
            memcpy(&w, p + at, 8);
            if (word_unsafe(w))
                return false;
            memcpy(d + at, &w, 8);
            if (at + 8 == n)
                return true;
        }
#endif
    }
    if (n >= 8) {
        uint64_t a, b;
        memcpy(&a, p, 8);
        memcpy(&b, p + n - 8, 8);
        if (word_unsafe(a) || word_unsafe(b))
            return false;
        memcpy(d, &a, 8);
        memcpy(d + n - 8, &b, 8);
        return true;
    }
    if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, p, 4);
        memcpy(&b, p + n - 4, 4);
        if (word_unsafe((uint64_t)a << 32 | b))
            return false;
        memcpy(d, &a, 4);
        memcpy(d + n - 4, &b, 4);
        return true;
    }
    for (size_t i = 0; i < n; i++) {
        if (!text_safe(p[i]))
            return false;
        d[i] = (char)p[i];
    }
    return true;
}

/* Escapes one byte for a text format at d; returns the new end. */
static inline char *text_byte(char *d, unsigned char c)
{
    if (text_safe(c)) {
        *d++ = (char)c;
    } else if (c == '"' || c == '\\') {
        *d++ = '\\';
        *d++ = (char)c;
    } else {
        d[0] = '\\';
        d[1] = 'x';
        d[2] = hex[c >> 4];
        d[3] = hex[c & 15];
        d += 4;
    }
    return d;
}

static void put_text_slow(struct out *o, struct hb_str s);

static void put_text(struct out *o, struct hb_str s)
{
    if (!room(o, 4 * s.len)) { /* near the end: checked, one piece at a time */
        put_text_slow(o, s);
        return;
    }
    const unsigned char *p = (const unsigned char *)s.p;
    char *d = o->p + o->n;
    if (copy_if_clean(d, p, s.len)) {
        o->n += s.len;
        return;
    }
    size_t i = 0;
#ifdef __SSE2__
    for (; i + 16 <= s.len; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        if (!block_unsafe(v)) {
            _mm_storeu_si128((__m128i *)(void *)d, v);
            d += 16;
            continue;
        }
        for (size_t k = 0; k < 16; k++)
            d = text_byte(d, p[i + k]);
    }
#endif
    for (; i + 8 <= s.len; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        if (!word_unsafe(w)) {
            memcpy(d, &w, 8);
            d += 8;
            continue;
        }
        for (size_t k = 0; k < 8; k++)
            d = text_byte(d, p[i + k]);
    }
    for (; i < s.len; i++)
        d = text_byte(d, p[i]);
    o->n = (size_t)(d - o->p);
}

static void put_text_slow(struct out *o, struct hb_str s)
{
    const unsigned char *p = (const unsigned char *)s.p;
    size_t i = 0;
    while (i < s.len && !o->cut) {
        size_t run = i;
        while (run < s.len && text_safe(p[run]))
            run++;
        if (run > i && !put_run(o, s.p + i, run - i))
            return;
        i = run;
        if (i == s.len)
            return;
        unsigned char c = p[i++];
        char esc[4] = {'\\', (char)c, 0, 0};
        if (c == '"' || c == '\\') {
            put(o, esc, 2);
        } else {
            esc[1] = 'x';
            esc[2] = hex[c >> 4];
            esc[3] = hex[c & 15];
            put(o, esc, 4);
        }
    }
}

/* Length of the valid UTF-8 sequence at p[0..n) (RFC 3629: no overlongs,
 * no surrogates, at most U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    size_t len;
    unsigned lo = 0x80, hi = 0xbf; /* the allowed range of the second byte */
    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0)
            lo = 0xa0;
        if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0)
            lo = 0x90;
        if (c == 0xf4)
            hi = 0x8f;
    } else
        return 0;
    if (n < len || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t k = 2; k < len; k++)
        if ((p[k] & 0xc0) != 0x80)
            return 0;
    return len;
}

static void put_json_slow(struct out *o, struct hb_str s);

static void put_json_str(struct out *o, struct hb_str s)
{
    if (!room(o, 6 * s.len + 2)) {
        put_json_slow(o, s);
        return;
    }
    const unsigned char *p = (const unsigned char *)s.p;
    char *d = o->p + o->n;
    *d++ = '"';
    if (copy_if_clean(d, p, s.len)) {
        d[s.len] = '"';
        o->n += s.len + 2;
        return;
    }
    size_t i = 0;
    while (i < s.len) {
        uint64_t w;
#ifdef __SSE2__
        if (i + 16 <= s.len) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
            if (!block_unsafe(v)) {
                _mm_storeu_si128((__m128i *)(void *)d, v);
                d += 16;
                i += 16;
                continue;
            }
        }
#endif
        if (i + 8 <= s.len && (memcpy(&w, p + i, 8), !word_unsafe(w))) {
            memcpy(d, &w, 8);
            d += 8;
            i += 8;
            continue;
        }
        unsigned char c = p[i];
        if (text_safe(c)) {
            *d++ = (char)c;
            i++;
            continue;
        }
        size_t u = c >= 0x80 ? utf8_len(p + i, s.len - i) : 0;
        if (u) {
            memcpy(d, p + i, u);
            d += u;
            i += u;
            continue;
        }
        i++;
        *d++ = '\\';
        switch (c) {
        case '"': *d++ = '"'; break;
        case '\\': *d++ = '\\'; break;
        case '\n': *d++ = 'n'; break;
        case '\r': *d++ = 'r'; break;
        case '\t': *d++ = 't'; break;
        default:
            memcpy(d, "u00", 3);
            d[3] = hex[c >> 4];
            d[4] = hex[c & 15];
            d += 5;
        }
    }
    *d++ = '"';
    o->n = (size_t)(d - o->p);
}

static void put_json_slow(struct out *o, struct hb_str s)
{
    if (!put(o, "\"", 1))
        return;
    const unsigned char *p = (const unsigned char *)s.p;
    size_t i = 0;
    while (i < s.len && !o->cut) {
        size_t run = i;
        while (run < s.len && text_safe(p[run]))
            run++;
        if (run > i && !put_run(o, s.p + i, run - i))
            return;
        i = run;
        if (i == s.len)
            break;
        unsigned char c = p[i];
        size_t u = c >= 0x80 ? utf8_len(p + i, s.len - i) : 0;
        if (u) {
            put(o, s.p + i, u);
            i += u;
            continue;
        }
        i++;
        char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        switch (c) {
        case '"': put(o, "\\\"", 2); break;
        case '\\': put(o, "\\\\", 2); break;
        case '\n': put(o, "\\n", 2); break;
        case '\r': put(o, "\\r", 2); break;
        case '\t': put(o, "\\t", 2); break;
        default: put(o, esc, 6); break;
        }
    }
    put(o, "\"", 1);
}


static inline unsigned ndigits(uint64_t v)
{
    unsigned n = 1;
    for (uint64_t p = 10; n < 20 && v >= p; p *= 10)
        n++;
    return n;
}

/* v in decimal, written backwards from d + n (n = ndigits(v)). */
static inline void digits_at(char *d, unsigned n, uint64_t v)
{
    while (v >= 100) { /* two digits a step */
        unsigned r = (unsigned)(v % 100);
        v /= 100;
        n -= 2;
        memcpy(d + n, digits2 + 2 * r, 2);
    }
    if (v >= 10)
        memcpy(d + n - 2, digits2 + 2 * v, 2);
    else
        d[n - 1] = (char)('0' + v);
}

static void put_u64(struct out *o, uint64_t v)
{
    unsigned n = ndigits(v);
    if (room(o, n)) {
        digits_at(o->p + o->n, n, v);
        o->n += n;
        return;
    }
    char b[20];
    digits_at(b, n, v);
    put(o, b, n);
}

static void put_digits(char *dst, unsigned v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        dst[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

/* Seconds with millisecond precision ("0.012"), rounded. */
static void put_secs(struct out *o, int64_t ns)
{
    uint64_t ms = ((uint64_t)ns + 500000u) / 1000000u;
    char frac[4] = {'.'};
    put_u64(o, ms / 1000);
    put_digits(frac + 1, (unsigned)(ms % 1000), 3);
    put(o, frac, 4);
}

/* Days since 1970-01-01 → civil date (H. Hinnant's algorithm), UTC. */
static void civil(int64_t days, int *y, unsigned *m, unsigned *d)
{
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    unsigned doe = (unsigned)(days - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

/* The date and time of one second, in both layouts, without the
 * milliseconds: "2026-12-03T14:00:00" and "03/Dec/2026:14:00:00". */
struct secs_text {
    int64_t sec;
    char rfc[19], clf[20];
};

static void secs_format(int64_t s, struct secs_text *t)
{
    static const char mon[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    t->sec = s;
    int64_t days = s / 86400, sod = s % 86400;
    if (sod < 0) {
        sod += 86400;
        days--;
    }
    int y;
    unsigned m, d;
    civil(days, &y, &m, &d);
    if (y < 0 || y > 9999)
        y = 0; /* out of the 4-digit range: not a real clock */
    unsigned hh = (unsigned)(sod / 3600), mm = (unsigned)(sod / 60 % 60), ss = (unsigned)(sod % 60);
    char *r = t->rfc, *c = t->clf;
    put_digits(r, (unsigned)y, 4);
    r[4] = '-';
    put_digits(r + 5, m, 2);
    r[7] = '-';
    put_digits(r + 8, d, 2);
    r[10] = 'T';
    put_digits(r + 11, hh, 2);
    r[13] = ':';
    put_digits(r + 14, mm, 2);
    r[16] = ':';
    put_digits(r + 17, ss, 2);
    put_digits(c, d, 2);
    c[2] = '/';
    memcpy(c + 3, mon + 3 * (m - 1), 3);
    c[6] = '/';
    put_digits(c + 7, (unsigned)y, 4);
    c[11] = ':';
    memcpy(c + 12, r + 11, 8); /* hh:mm:ss */
}

/* Lines of one second share their date: each thread keeps the last one
 * (a pure cache: the output does not depend on it). */
static _Thread_local struct secs_text secs_cache = {.sec = INT64_MIN};

static void put_time(struct out *o, int64_t t_ns, bool clf)
{
    int64_t s = t_ns / 1000000000;
    int64_t rem = t_ns % 1000000000;
    if (rem < 0) {
        rem += 1000000000;
        s--;
    }
    if (secs_cache.sec != s)
        secs_format(s, &secs_cache);
    unsigned ms = (unsigned)(rem / 1000000);
    char b[32];
    if (clf) { /* 03/Dec/2026:14:00:00.123 +0000 */
        memcpy(b, secs_cache.clf, 20);
        b[20] = '.';
        put_digits(b + 21, ms, 3);
        memcpy(b + 24, " +0000", 6);
        put(o, b, 30);
    } else { /* 2026-12-03T14:00:00.123Z */
        memcpy(b, secs_cache.rfc, 19);
        b[19] = '.';
        put_digits(b + 20, ms, 3);
        b[23] = 'Z';
        put(o, b, 24);
    }
}

static struct hb_str version_text(int v)
{
    switch (v) {
    case 10: return HB_STR_LIT("HTTP/1.0");
    case 11: return HB_STR_LIT("HTTP/1.1");
    case 20: return HB_STR_LIT("HTTP/2");
    }
    return HB_STR_NULL;
}

/* "-" means absent in the record's upstream and backend. */
static struct hb_str present(struct hb_str s)
{
    return s.len == 1 && s.p[0] == '-' ? HB_STR_NULL : s;
}

/* What a field is: a string (its view), a number, or a time. */
enum val_kind { V_STR, V_NUM, V_SECS, V_TIME, V_TIME_CLF, V_REQLINE };

static enum val_kind value(const struct px_alog_entry *e, enum px_alog_field f, struct hb_str *s,
                           uint64_t *n, bool *absent)
{
    *absent = false;
    switch (f) {
    case PX_ALOG_TIME: return V_TIME;
    case PX_ALOG_TIME_CLF: return V_TIME_CLF;
    case PX_ALOG_REQUEST_LINE: *absent = e->method.len == 0; return V_REQLINE;
    case PX_ALOG_CLIENT_ADDR: *s = e->client_addr; break;
    case PX_ALOG_LISTENER: *s = e->listener; break;
    case PX_ALOG_TLS_VERSION: *s = e->tls_version; break;
    case PX_ALOG_TLS_CIPHER: *s = e->tls_cipher; break;
    case PX_ALOG_SNI: *s = e->sni; break;
    case PX_ALOG_PROTOCOL: *s = e->protocol; break;
    case PX_ALOG_METHOD: *s = e->method; break;
    case PX_ALOG_AUTHORITY: *s = e->authority; break;
    case PX_ALOG_PATH: *s = e->path; break;
    case PX_ALOG_UPSTREAM: *s = present(e->upstream); break;
    case PX_ALOG_BACKEND: *s = present(e->backend); break;
    case PX_ALOG_END_REASON: *s = e->end_reason; break;
    case PX_ALOG_END_DETAIL: *s = e->end_detail; break;
    case PX_ALOG_REQUEST_ID: *s = e->request_id; break;
    case PX_ALOG_TRACEPARENT: *s = e->traceparent; break;
    case PX_ALOG_USER_AGENT: *s = e->user_agent; break;
    case PX_ALOG_REFERER: *s = e->referer; break;
    case PX_ALOG_TUNNEL: *s = e->tunnel; break;
    case PX_ALOG_CLIENT_PORT: *n = e->client_port; *absent = !*n; return V_NUM;
    case PX_ALOG_STREAM_ID: *n = e->stream_id; *absent = !*n; return V_NUM;
    case PX_ALOG_PUSHED_BY: *n = e->pushed_by; *absent = !*n; return V_NUM;
    case PX_ALOG_STATUS: *n = (uint64_t)e->status; *absent = e->status <= 0; return V_NUM;
    case PX_ALOG_REQ_BODY: *n = e->req_body_bytes; return V_NUM;
    case PX_ALOG_RESP_BODY: *n = e->resp_body_bytes; return V_NUM;
    case PX_ALOG_WIRE_IN: *n = e->wire_in; *absent = *n == PX_ALOG_NO_BYTES; return V_NUM;
    case PX_ALOG_WIRE_OUT: *n = e->wire_out; *absent = *n == PX_ALOG_NO_BYTES; return V_NUM;
    case PX_ALOG_RETRIES: *n = e->retries; return V_NUM;
    case PX_ALOG_DURATION:
        *n = (uint64_t)e->duration_ns;
        *absent = e->duration_ns < 0;
        return V_SECS;
    case PX_ALOG_CONNECT_TIME:
        *n = (uint64_t)e->connect_ns;
        *absent = e->connect_ns < 0;
        return V_SECS;
    case PX_ALOG_FIRST_BYTE_TIME:
        *n = (uint64_t)e->first_byte_ns;
        *absent = e->first_byte_ns < 0;
        return V_SECS;
    case PX_ALOG_NFIELDS: break;
    }
    *absent = s->len == 0;
    return V_STR;
}

static void put_field(struct out *o, const struct px_alog_entry *e, enum px_alog_field f, bool json)
{
    struct hb_str s = HB_STR_NULL;
    uint64_t n = 0;
    bool absent;
    enum val_kind k = value(e, f, &s, &n, &absent);
    if (absent) {
        put(o, json ? "null" : "-", json ? 4 : 1);
        return;
    }
    switch (k) {
    case V_STR:
        if (json)
            put_json_str(o, s);
        else
            put_text(o, s);
        return;
    case V_NUM: put_u64(o, n); return;
    case V_SECS: put_secs(o, (int64_t)n); return;
    case V_TIME:
    case V_TIME_CLF:
        if (json)
            put(o, "\"", 1);
        put_time(o, e->time_ns, k == V_TIME_CLF);
        if (json)
            put(o, "\"", 1);
        return;
    case V_REQLINE: { /* text only (not a json key) */
        put_text(o, e->method);
        put(o, " ", 1);
        put_text(o, e->path.len ? e->path : HB_STR_LIT("-"));
        struct hb_str v = version_text(e->version);
        if (v.len) {
            put(o, " ", 1);
            put(o, v.p, v.len);
        }
        return;
    }
    }
}

size_t px_alog_format(const struct px_alog_prog *p, const struct px_alog_entry *e, char *buf,
                      size_t size)
{
    static const char marker[] = PX_ALOG_TRUNCATED "\n";
    if (size < PX_ALOG_MIN_LINE)
        return 0;
    struct out o = {buf, 0, size - 1, size - (sizeof marker - 1), 0, false};
    for (size_t i = 0; i < p->nops && !o.cut; i++) {
        const struct px_alog_op *op = &p->ops[i];
        if (op->kind == OP_LIT)
            put_lit(&o, p->text + op->off, op->len);
        else
            put_field(&o, e, (enum px_alog_field)op->field, op->kind == OP_JSON);
    }
    if (o.cut) {
        memcpy(buf + o.safe, marker, sizeof marker - 1);
        return o.safe + sizeof marker - 1;
    }
    buf[o.n++] = '\n'; /* lim kept this byte */
    return o.n;
}
