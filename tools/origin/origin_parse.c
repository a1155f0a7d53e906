/* tools/origin/origin_parse.c — the origin's pure parsers: request head,
 * request framing, chunked request bodies. No I/O, no allocation; strict and
 * simple on purpose (this origin is a test instrument, so it rejects what a
 * lenient server would guess at). */
#include "tools/origin/origin.h"

#include <string.h>

#include "core/err.h"

/* RFC 9110 §5.6.2: tchar. */
static int is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return 1;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* RFC 9110 §5.5: field-vchar / SP / HTAB (obs-text allowed). */
static int is_value_char(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* The next CRLF-terminated line of [*p, end): sets *line (without CRLF) and
 * advances *p. Returns 0, HB_EAGAIN without a CRLF, HB_ESYNTAX on a bare LF
 * or a CR not followed by LF. */
static int next_line(const char **p, const char *end, struct hb_str *line)
{
    const char *s = *p;
    for (const char *q = s; q < end; q++) {
        if (*q == '\n')
            return HB_ESYNTAX; /* RFC 9112 §2.2: we do not accept bare LF */
        if (*q == '\r') {
            if (q + 1 >= end)
                return HB_EAGAIN;
            if (q[1] != '\n')
                return HB_ESYNTAX;
            *line = hb_str_make(s, (size_t)(q - s));
            *p = q + 2;
            return 0;
        }
    }
    return HB_EAGAIN;
}

/* RFC 9112 §3: request-line = method SP request-target SP HTTP-version */
static int parse_request_line(struct hb_str l, struct og_head *h)
{
    size_t i = 0;
    while (i < l.len && is_tchar((unsigned char)l.p[i]))
        i++;
    if (i == 0 || i >= l.len || l.p[i] != ' ')
        return HB_ESYNTAX;
    h->method = hb_str_make(l.p, i);
    size_t t = ++i;
    while (i < l.len && (unsigned char)l.p[i] > 0x20 && (unsigned char)l.p[i] < 0x7f)
        i++;
    if (i == t || i >= l.len || l.p[i] != ' ')
        return HB_ESYNTAX;
    h->target = hb_str_make(l.p + t, i - t);
    struct hb_str v = hb_str_make(l.p + i + 1, l.len - i - 1);
    /* RFC 9112 §2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT (case-sensitive) */
    if (v.len != 8 || memcmp(v.p, "HTTP/", 5) != 0 || v.p[6] != '.' || v.p[5] < '0' ||
        v.p[5] > '9' || v.p[7] < '0' || v.p[7] > '9')
        return HB_ESYNTAX;
    if (v.p[5] != '1' || (v.p[7] != '0' && v.p[7] != '1'))
        return HB_EUNSUPPORTED;
    h->minor = v.p[7] - '0';
    return 0;
}

/* RFC 9112 §5: field-line = field-name ":" OWS field-value OWS */
static int parse_field(struct hb_str l, struct og_field *f)
{
    size_t i = 0;
    if (l.len && (l.p[0] == ' ' || l.p[0] == '\t'))
        return HB_ESYNTAX; /* §5.2: obs-fold is rejected with 400 */
    while (i < l.len && is_tchar((unsigned char)l.p[i]))
        i++;
    /* §5.1: no whitespace is allowed between the field name and colon */
    if (i == 0 || i >= l.len || l.p[i] != ':')
        return HB_ESYNTAX;
    f->name = hb_str_make(l.p, i);
    struct hb_str v = hb_str_make(l.p + i + 1, l.len - i - 1);
    for (size_t j = 0; j < v.len; j++)
        if (!is_value_char((unsigned char)v.p[j]))
            return HB_ESYNTAX;
    f->value = hb_str_trim_ows(v);
    return 0;
}

int og_parse_head(const char *p, size_t len, struct og_head *h)
{
    const char *end = p + len;
    struct hb_str line;
    int rc;

    h->nfields = 0;
    /* RFC 9112 §2.2: ignore at least one empty line before the request-line */
    for (;;) {
        if ((rc = next_line(&p, end, &line)) != 0)
            return rc == HB_EAGAIN ? HB_ESYNTAX : rc;
        if (line.len)
            break;
    }
    if ((rc = parse_request_line(line, h)) != 0)
        return rc;
    for (;;) {
        if ((rc = next_line(&p, end, &line)) != 0)
            return HB_ESYNTAX; /* the caller hands us a complete head */
        if (line.len == 0)
            break;
        if (h->nfields == h->cap)
            return HB_ELIMIT;
        if ((rc = parse_field(line, &h->fields[h->nfields])) != 0)
            return rc;
        h->nfields++;
    }
    return p == end ? 0 : HB_ESYNTAX;
}

/* True when the comma-separated list value contains token tok (lowercase). */
static int list_has(struct hb_str v, struct hb_str tok)
{
    struct hb_str e;
    while (hb_str_next_list_elem(&v, &e))
        if (hb_str_eq_lower(e, tok))
            return 1;
    return 0;
}

static int framing_fields(const struct og_head *h, struct og_framing *f, int *conn_close,
                          int *conn_keep, int *hosts, const char **why)
{
    int te = 0, cl = 0;
    for (unsigned i = 0; i < h->nfields; i++) {
        struct hb_str n = h->fields[i].name, v = h->fields[i].value;
        if (hb_str_eq_lower(n, HB_STR_LIT("host"))) {
            (*hosts)++;
        } else if (hb_str_eq_lower(n, HB_STR_LIT("content-length"))) {
            unsigned long long x;
            if (hb_str_to_u64(v, (1ULL << 62), &x) != 0)
                return *why = "invalid Content-Length", 400;
            /* RFC 9110 §8.6: differing repeated lengths are unrecoverable */
            if (cl && x != f->length)
                return *why = "conflicting Content-Length fields", 400;
            cl = 1;
            f->length = x;
        } else if (hb_str_eq_lower(n, HB_STR_LIT("transfer-encoding"))) {
            /* We implement exactly one coding, "chunked", once. */
            if (te || !hb_str_eq_lower(v, HB_STR_LIT("chunked"))) {
                if (!list_has(v, HB_STR_LIT("chunked")))
                    return *why = "unsupported transfer coding", 501;
                return *why = "chunked must be the only transfer coding, once", 400;
            }
            te = 1;
        } else if (hb_str_eq_lower(n, HB_STR_LIT("connection"))) {
            *conn_close |= list_has(v, HB_STR_LIT("close"));
            *conn_keep |= list_has(v, HB_STR_LIT("keep-alive"));
        } else if (hb_str_eq_lower(n, HB_STR_LIT("expect"))) {
            /* RFC 9110 §10.1.1: 100-continue is the only expectation */
            if (!hb_str_eq_lower(v, HB_STR_LIT("100-continue")))
                return *why = "unsupported expectation", 417;
            f->expect_continue = h->minor >= 1;
        }
    }
    if (te && cl)
        return *why = "both Transfer-Encoding and Content-Length", 400; /* RFC 9112 §6.1 */
    if (te && h->minor == 0)
        return *why = "Transfer-Encoding in an HTTP/1.0 request", 400; /* RFC 9112 §6.1 */
    f->body = te ? OG_BODY_CHUNKED : cl && f->length ? OG_BODY_LENGTH : OG_BODY_NONE;
    return 0;
}

int og_head_framing(const struct og_head *h, struct og_framing *f, const char **why)
{
    int conn_close = 0, conn_keep = 0, hosts = 0;
    memset(f, 0, sizeof(*f));
    int st = framing_fields(h, f, &conn_close, &conn_keep, &hosts, why);
    if (st)
        return st;
    /* RFC 9112 §3.2: exactly one Host in HTTP/1.1; at most one in 1.0 */
    if (hosts > 1 || (hosts == 0 && h->minor >= 1))
        return *why = hosts ? "more than one Host field" : "missing Host field", 400;
    if (h->target.len && h->target.p[0] != '/') {
        int abs = (h->target.len > 7 && memcmp(h->target.p, "http://", 7) == 0) ||
                  (h->target.len > 8 && memcmp(h->target.p, "https://", 8) == 0);
        int star = h->target.len == 1 && h->target.p[0] == '*' &&
                   hb_str_eq(h->method, HB_STR_LIT("OPTIONS"));
        if (hb_str_eq(h->method, HB_STR_LIT("CONNECT")))
            return *why = "CONNECT is not implemented", 501;
        if (!abs && !star)
            return *why = "request-target is not origin-form or absolute-form", 400;
    }
    /* RFC 9112 §9.3: 1.1 persists unless "close"; 1.0 only with keep-alive */
    f->keep_alive = h->minor >= 1 ? !conn_close : conn_keep && !conn_close;
    return 0;
}

/* ---- chunked request bodies (RFC 9112 §7.1) ------------------------------ */
enum {
    CK_SIZE0,      /* first hex digit of chunk-size */
    CK_SIZE,       /* more hex digits, or ext/CR */
    CK_EXT,        /* BWS ";" chunk-ext ... up to CR */
    CK_SIZE_LF,    /* LF after the size line */
    CK_DATA,       /* chunk-data */
    CK_DATA_CR,    /* CR after chunk-data */
    CK_DATA_LF,    /* LF after chunk-data */
    CK_TRAILER0,   /* start of a trailer line, or CR of the final CRLF */
    CK_TRAILER,    /* inside a trailer field line */
    CK_TRAILER_LF, /* LF after a trailer field line */
    CK_FINAL_LF,   /* LF of the final CRLF */
    CK_DONE,
    CK_ERROR,
};

void og_chunked_init(struct og_chunked *c, size_t max_trailer)
{
    memset(c, 0, sizeof(*c));
    c->state = CK_SIZE0;
    c->max_trailer = max_trailer;
}

static int hexval(unsigned char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch |= 0x20;
    return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* One framing byte. Returns 0, HB_ESYNTAX or HB_ELIMIT. */
static int chunked_byte(struct og_chunked *c, unsigned char ch)
{
    int d;
    switch (c->state) {
    case CK_SIZE0:
    case CK_SIZE:
        if ((d = hexval(ch)) >= 0) {
            if (c->left >> 56)
                return HB_ELIMIT; /* a chunk of 2^60 bytes or more */
            c->left = c->left * 16 + (uint64_t)d;
            c->state = CK_SIZE;
        } else if (c->state == CK_SIZE && (ch == ';' || ch == ' ' || ch == '\t')) {
            c->state = CK_EXT;
        } else if (c->state == CK_SIZE && ch == '\r') {
            c->state = CK_SIZE_LF;
        } else {
            return HB_ESYNTAX;
        }
        break;
    case CK_EXT: /* extensions are ignored (§7.1.1), but only visible text */
        if (ch == '\r')
            c->state = CK_SIZE_LF;
        else if (!is_value_char(ch))
            return HB_ESYNTAX;
        break;
    case CK_SIZE_LF:
        if (ch != '\n')
            return HB_ESYNTAX;
        c->state = c->left ? CK_DATA : CK_TRAILER0;
        c->line = 0;
        break;
    case CK_DATA_CR:
        if (ch != '\r')
            return HB_ESYNTAX;
        c->state = CK_DATA_LF;
        break;
    case CK_DATA_LF:
        if (ch != '\n')
            return HB_ESYNTAX;
        c->state = CK_SIZE0;
        break;
    case CK_TRAILER0:
        if (ch == '\r') {
            c->state = CK_FINAL_LF;
            break;
        }
        c->state = CK_TRAILER;
        c->name_ok = 0;
        return chunked_byte(c, ch); /* the byte starts the field name */
    case CK_TRAILER:
        if (ch == '\r') {
            if (c->name_ok != 2)
                return HB_ESYNTAX; /* a trailer line without "name:" */
            c->state = CK_TRAILER_LF;
        } else if (c->name_ok < 2 && is_tchar(ch)) {
            c->name_ok = 1;
        } else if (c->name_ok == 1 && ch == ':') {
            c->name_ok = 2;
        } else if (c->name_ok != 2 || !is_value_char(ch)) {
            return HB_ESYNTAX;
        }
        break;
    case CK_TRAILER_LF:
        if (ch != '\n')
            return HB_ESYNTAX;
        c->state = CK_TRAILER0;
        break;
    case CK_FINAL_LF:
        if (ch != '\n')
            return HB_ESYNTAX;
        c->state = CK_DONE;
        break;
    default:
        return HB_ESYNTAX;
    }
    return 0;
}

ptrdiff_t og_chunked_feed(struct og_chunked *c, const char *p, size_t len)
{
    size_t i = 0;
    if (c->state == CK_ERROR)
        return HB_ESYNTAX;
    while (i < len && c->state != CK_DATA && c->state != CK_DONE) {
        int in_trailer = c->state >= CK_TRAILER0;
        int rc = chunked_byte(c, (unsigned char)p[i++]);
        /* size/ext lines and the trailer section are bounded */
        if (rc == 0 && (in_trailer ? ++c->trailer : ++c->line) > c->max_trailer)
            rc = HB_ELIMIT;
        if (rc) {
            c->state = CK_ERROR;
            return rc;
        }
    }
    return (ptrdiff_t)i;
}

uint64_t og_chunked_data_left(const struct og_chunked *c)
{
    return c->state == CK_DATA ? c->left : 0;
}

void og_chunked_data_done(struct og_chunked *c, uint64_t n)
{
    c->left -= n;
    if (c->left == 0)
        c->state = CK_DATA_CR;
}

int og_chunked_done(const struct og_chunked *c)
{
    return c->state == CK_DONE;
}
