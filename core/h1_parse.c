/* HTTP/1.1 head parser: finds the end of the head incrementally, then parses
 * the complete head in one pass (RFC 9112 §2-§5) and derives the body length
 * (§6.3) in h1_semantics.c. */
#include "core/h1_parse.h"

#include <string.h>

#include "core/h1_chars.h"
#include "core/h1_sem.h"

void h1_parser_init(struct h1_parser *p, const struct h1_limits *lim)
{
    if (lim)
        p->lim = *lim;
    else
        h1_limits_default(&p->lim);
    p->case_bits = NULL;
    p->case_cap = 0;
    p->case_map = (struct h1_case_map){0};
    h1_parser_reset(p);
}

void h1_parser_keep_case(struct h1_parser *p, uint8_t *bits, size_t cap)
{
    p->case_bits = bits;
    p->case_cap = bits ? cap : 0;
}

/* Before the names are lowercased: the upper-case letters of the head
 * buf[0..bound) (as far as the caller's bits reach), for orig_case. */
static const struct h1_case_map *keep_case(struct h1_parser *p, const char *buf, size_t bound)
{
    size_t n = bound / 8 < p->case_cap ? bound : 8 * p->case_cap;
    h1_mark_upper(buf, n, p->case_bits);
    p->case_map = (struct h1_case_map){.base = buf, .len = n, .upper = p->case_bits};
    return &p->case_map;
}

void h1_parser_reset(struct h1_parser *p)
{
    p->scanned = 0;
    p->skip = 0;
    p->first_lf = 0;
    p->err = 0;
}

/* RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the
 * request-line. Returns 0 when the request line may start at p->skip, or
 * H1_NEED_MORE-as-1 when more bytes are needed to tell. */
static int skip_empty_lines(struct h1_parser *p, const char *buf, size_t len)
{
    while (p->skip < len) {
        if (buf[p->skip] == '\n' && p->lim.allow_bare_lf) {
            p->skip += 1;
        } else if (buf[p->skip] == '\r') {
            if (p->skip + 1 == len)
                return 1;
            if (buf[p->skip + 1] != '\n')
                return 0; /* the request-line parser names the error */
            p->skip += 2;
        } else {
            return 0;
        }
    }
    return 1;
}

/* True when buf[start..len) ends with an empty line ("\n\n" or "\n\r\n"):
 * then it holds a whole head, whose first empty line the field parser finds. */
static bool ends_with_empty_line(const char *buf, size_t len, size_t start)
{
    if (len < start + 2 || buf[len - 1] != '\n')
        return false;
    return buf[len - 2] == '\n' ||
           (len >= start + 3 && buf[len - 2] == '\r' && buf[len - 3] == '\n');
}

/* Decides whether a whole head is in buf. Returns the bound to parse up to
 * (buf[bound-1] is a LF at or after the head's empty line), 0 for need more,
 * or an error. Size limits are checked here, before any parsing, so a huge
 * head fails before it is whole and the answer never depends on the split. */
static ptrdiff_t find_head(struct h1_parser *p, const char *buf, size_t len, bool request)
{
    const struct h1_limits *lim = &p->lim;
    if (request && p->first_lf == 0 && p->scanned <= p->skip) {
        if (skip_empty_lines(p, buf, len))
            return p->skip > lim->max_head ? H1_EHEAD_TOO_LARGE : H1_NEED_MORE;
    }
    if (len <= lim->max_head && ends_with_empty_line(buf, len, p->skip)) {
        /* Fast path (the usual whole head in one read): no end scan. No
         * size limit can be broken but the start line's, checked as below. */
        const char *lf = memchr(buf + p->skip, '\n', len - p->skip);
        p->first_lf = (size_t)(lf - buf) + 1;
        if (p->first_lf - p->skip > lim->max_start_line)
            return H1_ELINE_TOO_LONG;
        return (ptrdiff_t)len;
    }
    size_t cap = len < lim->max_head ? len : lim->max_head;
    size_t end = h1_find_section_end(buf, cap, p->skip, &p->scanned, &p->first_lf);
    if (end && p->first_lf == 0)
        p->first_lf = end; /* the head is a single empty line */
    size_t line = (p->first_lf ? p->first_lf : end ? end : cap) - p->skip;
    if (line > lim->max_start_line)
        return H1_ELINE_TOO_LONG;
    if (end == 0 && len >= lim->max_head)
        return H1_EHEAD_TOO_LARGE; /* an end past here would be too far */
    return (ptrdiff_t)end;
}

/* "HTTP/1.x" at buf[v..lf): returns 10 or 11, or an error. */
static int parse_version(const char *buf, size_t v, size_t avail)
{
    if (avail < 8 || memcmp(buf + v, "HTTP/", 5) != 0)
        return H1_EVERSION;
    unsigned char maj = (unsigned char)buf[v + 5], min = (unsigned char)buf[v + 7];
    if (maj < '0' || maj > '9' || buf[v + 6] != '.' || min < '0' || min > '9')
        return H1_EVERSION;
    if (maj != '1' || min > '1')
        return H1_EVERSION_UNSUPPORTED; /* RFC 9112 §2.3; HTTP/2 never starts here */
    return 10 + (min - '0');
}

/* The start line must end at buf[i]: CRLF (or a bare LF when allowed) with
 * `lf` just past the LF. Returns lf, or an error (err for anything else). */
static ptrdiff_t start_line_end(const char *buf, size_t i, size_t lf, bool bare_lf, int err)
{
    if (buf[i] == '\r')
        return i + 2 == lf ? (ptrdiff_t)lf : H1_EBARE_CR;
    if (buf[i] == '\n')
        return bare_lf ? (ptrdiff_t)lf : H1_EBARE_LF;
    return err;
}

/* request-line = method SP request-target SP HTTP-version (RFC 9112 §3),
 * single spaces only. `lf` is just past the line's LF. */
static ptrdiff_t parse_request_line(const char *buf, size_t pos, size_t lf,
                                    const struct h1_limits *lim, struct hb_msg *out, size_t *target)
{
    size_t i = pos;
    while (h1_is((unsigned char)buf[i], H1_C_TCHAR))
        i++;
    if (buf[i] != ' ' || i == pos)
        return (buf[i] == '\r' || buf[i] == '\n') && i > pos ? H1_ESTART_LINE : H1_EMETHOD;
    out->method = hb_str_make(buf + pos, i - pos);
    size_t t = ++i;
    while (h1_is((unsigned char)buf[i], H1_C_TARGET))
        i++;
    if (buf[i] != ' ' || i == t)
        return (buf[i] == '\r' || buf[i] == '\n' || i == t) ? H1_ESTART_LINE : H1_ETARGET;
    target[0] = t;
    target[1] = i - t;
    size_t v = i + 1;
    int ver = parse_version(buf, v, lf - v);
    if (ver < 0)
        return ver;
    out->version = ver;
    return start_line_end(buf, v + 8, lf, lim->allow_bare_lf, H1_EVERSION);
}

/* status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112
 * §4). A missing SP after the code is tolerated (common, unambiguous). The
 * reason phrase is checked and dropped: it never reaches h2. */
static ptrdiff_t parse_status_line(const char *buf, size_t pos, size_t lf,
                                   const struct h1_limits *lim, struct hb_msg *out)
{
    int ver = parse_version(buf, pos, lf - pos);
    if (ver < 0)
        return ver;
    out->version = ver;
    size_t i = pos + 8;
    if (buf[i] != ' ')
        return H1_ESTART_LINE;
    i++;
    int status = 0;
    for (size_t k = 0; k < 3; k++, i++) {
        unsigned char c = (unsigned char)buf[i];
        if (c < '0' || c > '9')
            return H1_ESTATUS;
        status = status * 10 + (c - '0');
    }
    if (status < 100 || status > 599)
        return H1_ESTATUS;
    out->status = status;
    if (buf[i] == ' ') {
        i = h1_scan_value(buf, i + 1, lf);
    } else if (buf[i] != '\r' && buf[i] != '\n') {
        return H1_ESTATUS; /* a fourth digit or junk */
    }
    if (buf[i] != '\r' && buf[i] != '\n')
        return H1_EREASON;
    return start_line_end(buf, i, lf, lim->allow_bare_lf, H1_EBARE_CR);
}

static ptrdiff_t fail(struct h1_parser *p, ptrdiff_t err)
{
    p->err = (int)err;
    return err;
}

static void msg_clear(struct hb_msg *out, struct hpack_field *fields)
{
    memset(out, 0, sizeof *out);
    out->fields = fields;
}

ptrdiff_t h1_parse_request(struct h1_parser *p, char *buf, size_t len, struct hb_msg *out,
                           struct hpack_field *fields, size_t max_fields)
{
    if (p->err)
        return p->err;
    ptrdiff_t bound = find_head(p, buf, len, true);
    if (bound <= 0)
        return bound < 0 ? fail(p, bound) : H1_NEED_MORE;
    struct hb_msg m;
    size_t target[2]; /* offset, length */
    msg_clear(&m, fields);
    if (p->case_bits) /* asked for: one pass over the whole head, never per byte below */
        m.orig_case = keep_case(p, buf, (size_t)bound);
    ptrdiff_t r = parse_request_line(buf, p->skip, p->first_lf, &p->lim, &m, target);
    if (r < 0)
        return fail(p, r);
    size_t max = max_fields < p->lim.max_fields ? max_fields : p->lim.max_fields;
    ptrdiff_t end = h1_parse_field_lines(buf, (size_t)r, (size_t)bound, &p->lim, fields, max,
                                         H1_ETOO_MANY_FIELDS, &m.nfields);
    if (end < 0)
        return fail(p, end);
    int e = h1_request_semantics(&m, buf + target[0], target[1]);
    if (e < 0)
        return fail(p, e);
    *out = m;
    return end;
}

ptrdiff_t h1_parse_response(struct h1_parser *p, unsigned req, char *buf, size_t len,
                            struct hb_msg *out, struct hpack_field *fields, size_t max_fields)
{
    if (p->err)
        return p->err;
    ptrdiff_t bound = find_head(p, buf, len, false);
    if (bound <= 0)
        return bound < 0 ? fail(p, bound) : H1_NEED_MORE;
    struct hb_msg m;
    msg_clear(&m, fields);
    if (p->case_bits)
        m.orig_case = keep_case(p, buf, (size_t)bound);
    ptrdiff_t r = parse_status_line(buf, 0, p->first_lf, &p->lim, &m);
    if (r < 0)
        return fail(p, r);
    size_t max = max_fields < p->lim.max_fields ? max_fields : p->lim.max_fields;
    ptrdiff_t end = h1_parse_field_lines(buf, (size_t)r, (size_t)bound, &p->lim, fields, max,
                                         H1_ETOO_MANY_FIELDS, &m.nfields);
    if (end < 0)
        return fail(p, end);
    int e = h1_response_semantics(&m, req);
    if (e < 0)
        return fail(p, e);
    *out = m;
    return end;
}
