/* HTTP/1.1 message body decoder (RFC 9112 §6.3, §7.1). The chunk framing is
 * parsed byte by byte (it is a few bytes per chunk); chunk data is handed
 * out as spans of the caller's input without being touched. */
#include "core/h1_body.h"

#include <string.h>

#include "core/h1_chars.h"

enum {
    S_SIZE = 0, /* chunk-size digits */
    S_EXT,      /* after the size: BWS, ";" extensions, up to CR */
    S_SIZE_LF,  /* CR seen, LF expected */
    S_DATA,     /* chunk data */
    S_DATA_CR,  /* CRLF after the data */
    S_DATA_LF,
    S_TRAILER, /* trailer section, parsed once whole */
    S_DONE,
};

/* 16 hex digits is every uint64_t; more is refused even with leading zeros,
 * so the digits a peer can make us read per chunk are bounded. */
#define MAX_SIZE_DIGITS 16

void h1_body_init_kind(struct h1_body *b, enum h1_body_kind kind, uint64_t length,
                       const struct h1_limits *lim)
{
    memset(b, 0, sizeof *b);
    if (lim)
        b->lim = *lim;
    else
        h1_limits_default(&b->lim);
    b->kind = kind;
    b->remaining = kind == H1_BODY_LENGTH ? length : 0;
    if (kind == H1_BODY_NONE || (kind == H1_BODY_LENGTH && length == 0))
        b->state = S_DONE;
}

void h1_body_init(struct h1_body *b, const struct hb_msg *m, const struct h1_limits *lim)
{
    enum h1_body_kind k = H1_BODY_NONE;
    if (m->flags & (HB_MSG_END_STREAM | HB_MSG_TUNNEL))
        k = H1_BODY_NONE;
    else if (m->flags & HB_MSG_CHUNKED)
        k = H1_BODY_CHUNKED;
    else if (m->flags & HB_MSG_HAS_CL)
        k = H1_BODY_LENGTH;
    else if (m->flags & HB_MSG_CLOSE_DELIM)
        k = H1_BODY_CLOSE;
    h1_body_init_kind(b, k, m->content_length, lim);
}

bool h1_body_done(const struct h1_body *b)
{
    return b->state == S_DONE;
}

int h1_body_eof(struct h1_body *b)
{
    if (b->kind == H1_BODY_CLOSE && !b->err) {
        b->state = S_DONE;
        return 0;
    }
    return b->state == S_DONE ? 0 : H1_EBODY_TRUNCATED;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = h1_lower(c);
    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

/* One byte after the chunk-size digits, up to the line's CR. */
static int ext_byte(struct h1_body *b, unsigned char c)
{
    if (c == '\r') {
        /* BWS with no ";" after it is not a chunk-ext */
        if (b->ext_len && !b->ext_open)
            return H1_ECHUNK_EXT;
        b->state = S_SIZE_LF;
        return 0;
    }
    if (c == '\n')
        return H1_EBARE_LF; /* always refused in framing, whatever lim says */
    if (++b->ext_len > b->lim.max_chunk_ext)
        return H1_ECHUNK_EXT_TOO_LONG;
    /* chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS value ] ): BWS, then
     * ";"; after it any visible byte (tokens, quoted strings) is passed
     * over, but never a control. */
    if (!b->ext_open) {
        if (c == ';')
            b->ext_open = true;
        else if (c != ' ' && c != '\t')
            return b->ext_len == 1 ? H1_ECHUNK_SIZE : H1_ECHUNK_EXT; /* "5x", "0x1" */
        return 0;
    }
    if (!h1_is(c, H1_C_VALUE))
        return H1_ECHUNK_EXT;
    return 0;
}

/* One byte of the chunk-size line: chunk-size [ chunk-ext ] CRLF (§7.1).
 * Returns 0 or a negative H1_E*. */
static int size_line_byte(struct h1_body *b, unsigned char c)
{
    switch (b->state) {
    case S_SIZE: {
        int v = hexval(c);
        if (v >= 0) {
            /* Overflow check before shifting; the digit cap also bounds
             * leading zeros. Sizes stay <= INT64_MAX like Content-Length. */
            if (++b->ndigits > MAX_SIZE_DIGITS || b->remaining > (uint64_t)INT64_MAX >> 4)
                return H1_ECHUNK_SIZE_RANGE;
            b->remaining = (b->remaining << 4) | (unsigned)v;
            return 0;
        }
        if (b->ndigits == 0)
            return H1_ECHUNK_SIZE; /* no digit: "-1", " 5", ";x", "\r\n" */
        b->state = S_EXT;
        /* this byte starts the extensions or ends the line */
        return ext_byte(b, c);
    }
    case S_EXT:
        return ext_byte(b, c);
    case S_SIZE_LF:
        if (c != '\n')
            return H1_EBARE_CR;
        b->state = b->remaining ? S_DATA : S_TRAILER;
        b->ndigits = 0;
        b->ext_len = 0;
        b->ext_open = false;
        b->scanned = 0;
        return 0;
    default:
        return H1_ECHUNK_SIZE;
    }
}

/* The whole trailer section must be in in[0..len) (§7.1.2). Returns the
 * bytes it takes, 0 for need more, or an error. */
static ptrdiff_t trailer_section(struct h1_body *b, char *in, size_t len,
                                 struct hpack_field *trailers, size_t max, struct h1_body_event *ev)
{
    /* Never scan past the limit: an end beyond it is too large anyway. */
    size_t scan = len < b->lim.max_trailer ? len : b->lim.max_trailer;
    size_t end = h1_find_section_end(in, scan, 0, &b->scanned, NULL);
    if (end == 0)
        return len >= b->lim.max_trailer ? H1_ETRAILER_TOO_LARGE : 0;
    size_t cap = max < b->lim.max_trailers ? max : b->lim.max_trailers;
    uint32_t n = 0;
    ptrdiff_t e =
        h1_parse_field_lines(in, 0, end, &b->lim, trailers, cap, H1_ETRAILER_TOO_MANY, &n);
    if (e < 0)
        return e;
    ev->trailers = n ? trailers : NULL;
    ev->ntrailers = n;
    b->state = S_DONE;
    ev->done = true;
    return (ptrdiff_t)end;
}

static ptrdiff_t chunked(struct h1_body *b, char *in, size_t len, struct hpack_field *trailers,
                         size_t max, struct h1_body_event *ev)
{
    size_t i = 0;
    while (i < len) {
        switch (b->state) {
        case S_DATA: {
            size_t n = len - i;
            if (n > b->remaining)
                n = (size_t)b->remaining;
            ev->data = in + i;
            ev->data_len = n;
            b->remaining -= n;
            if (b->remaining == 0)
                b->state = S_DATA_CR;
            return (ptrdiff_t)(i + n);
        }
        case S_DATA_CR:
        case S_DATA_LF:
            if (in[i] != (b->state == S_DATA_CR ? '\r' : '\n'))
                return H1_ECHUNK_DATA_END;
            b->state = b->state == S_DATA_CR ? S_DATA_LF : S_SIZE;
            i++;
            break;
        case S_TRAILER: {
            if (i > 0)
                return (ptrdiff_t)i; /* the trailer section starts at in[0] */
            return trailer_section(b, in, len, trailers, max, ev);
        }
        case S_DONE:
            return (ptrdiff_t)i;
        default: {
            int e = size_line_byte(b, (unsigned char)in[i]);
            if (e < 0)
                return e;
            i++;
            break;
        }
        }
    }
    return (ptrdiff_t)i;
}

ptrdiff_t h1_body_parse(struct h1_body *b, char *in, size_t len, struct hpack_field *trailers,
                        size_t max_trailers, struct h1_body_event *ev)
{
    memset(ev, 0, sizeof *ev);
    if (b->err)
        return b->err;
    if (b->state == S_DONE) {
        ev->done = true;
        return 0;
    }
    ptrdiff_t r = 0;
    switch (b->kind) {
    case H1_BODY_LENGTH: {
        size_t n = len < b->remaining ? len : (size_t)b->remaining;
        ev->data = n ? in : NULL;
        ev->data_len = n;
        b->remaining -= n;
        if (b->remaining == 0)
            b->state = S_DONE;
        r = (ptrdiff_t)n;
        break;
    }
    case H1_BODY_CLOSE:
        ev->data = len ? in : NULL;
        ev->data_len = len;
        r = (ptrdiff_t)len;
        break;
    case H1_BODY_CHUNKED:
        r = chunked(b, in, len, trailers, max_trailers, ev);
        break;
    case H1_BODY_NONE:
        b->state = S_DONE;
        break;
    }
    if (r < 0) {
        b->err = (int)r;
        memset(ev, 0, sizeof *ev);
        return r;
    }
    ev->done = b->state == S_DONE;
    return r;
}
