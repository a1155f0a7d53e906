/* HTTP/1.1 writer: message heads straight into the caller's buffer. Every
 * name, value and target is checked before it is written, so nothing we emit
 * can be framed differently by the next parser (RFC 9110 §5.5, RFC 9112 §11.2). */
#include "core/h1_write.h"

#include <string.h>

#include "core/h1_chars.h"

struct out {
    char *p;
    size_t cap, len;
    bool full;
};

static void put(struct out *w, const char *s, size_t n)
{
    if (n == 0)
        return; /* s may be NULL then (an empty view) */
    if (w->full || n > w->cap - w->len) {
        w->full = true;
        return;
    }
    memcpy(w->p + w->len, s, n);
    w->len += n;
}

#define PUT_LIT(w, lit) put((w), (lit), sizeof(lit) - 1)

static void put_str(struct out *w, struct hb_str s)
{
    put(w, s.p, s.len);
}

/* Names whose usual spelling is not Title-Case (legacy software that
 * compares names case-sensitively expects these). Sorted by nothing: the
 * length is checked first. */
static const char *const title_exceptions[] = {
    "WWW-Authenticate", "ETag", "Content-MD5", "Content-ID", "DNT", "TE", "X-XSS-Protection",
    "X-UA-Compatible", "X-ATT-DeviceId", "Sec-WebSocket-Key", "Sec-WebSocket-Accept",
    "Sec-WebSocket-Version", "Sec-WebSocket-Protocol", "Sec-WebSocket-Extensions", "X-WAP-Profile",
};

static const char *title_exception(const char *name, size_t n)
{
    for (size_t i = 0; i < sizeof title_exceptions / sizeof title_exceptions[0]; i++) {
        const char *e = title_exceptions[i];
        if (strlen(e) == n && hb_str_eq_nocase(hb_str_make(e, n), hb_str_make(name, n)))
            return e;
    }
    return NULL;
}

const char *h1_name_case_name(enum h1_name_case nc)
{
    switch (nc) {
    case H1_CASE_LOWER:
        return "lower";
    case H1_CASE_TITLE:
        return "title";
    case H1_CASE_PRESERVE:
        return "preserve";
    }
    return "unknown";
}

/* The name as the sender spelt it: its lowercase bytes, upper-cased where
 * cm's bits say (the name lies inside cm's buffer). Only a-z is ever
 * changed, so what was checked as a token stays one. */
static void put_orig(struct out *w, const char *name, size_t n, const struct h1_case_map *cm)
{
    if (n > w->cap - w->len) {
        w->full = true;
        return;
    }
    char *d = w->p + w->len;
    size_t off = (size_t)((uintptr_t)name - (uintptr_t)cm->base);
    for (size_t i = 0; i < n; i++, off++) {
        char c = name[i];
        bool up = (cm->upper[off / 8] >> (off % 8)) & 1;
        d[i] = up && c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
    }
    w->len += n;
}

/* Title-Case: the first letter and each one after '-' upper case, but for
 * the exceptions above. PRESERVE: the original spelling when cm has it. */
static void put_name(struct out *w, const char *name, size_t n, enum h1_name_case nc,
                     const struct h1_case_map *cm)
{
    if (nc == H1_CASE_LOWER || w->full) {
        put(w, name, n);
        return;
    }
    if (nc == H1_CASE_PRESERVE && cm && h1_case_map_covers(cm, name, n)) {
        put_orig(w, name, n, cm);
        return;
    }
    const char *ex = n <= 24 ? title_exception(name, n) : NULL;
    if (ex) {
        put(w, ex, n);
        return;
    }
    if (n > w->cap - w->len) {
        w->full = true;
        return;
    }
    char *d = w->p + w->len;
    bool up = true;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (up && c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        else if (!up && c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        d[i] = c;
        up = c == '-';
    }
    w->len += n;
}

static void put_u64(struct out *w, uint64_t v, unsigned base)
{
    char tmp[24];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    put(w, tmp + i, sizeof tmp - i);
}

static bool all_class(const char *p, size_t n, unsigned cls)
{
    for (size_t i = 0; i < n; i++)
        if (!h1_is((unsigned char)p[i], cls))
            return false;
    return true;
}

static bool safe_field(const struct hpack_field *f)
{
    return f->name_len > 0 && all_class(f->name, f->name_len, H1_C_TCHAR) &&
           h1_scan_value(f->value, 0, f->value_len) == f->value_len;
}

static bool name_eq(const struct hpack_field *f, struct hb_str lname)
{
    return hb_str_eq_lower(hb_str_make(f->name, f->name_len), lname);
}

static bool in_list(struct hb_str list, const struct hpack_field *f)
{
    struct hb_str e;
    while (hb_str_next_list_elem(&list, &e))
        if (hb_str_eq_nocase(hb_str_make(f->name, f->name_len), e))
            return true;
    return false;
}

/* Named in one of m's Connection fields (RFC 9110 §7.6.1). */
static bool listed_in_connection(const struct hb_msg *m, const struct hpack_field *f)
{
    for (uint32_t i = 0; i < m->nfields; i++)
        if (name_eq(&m->fields[i], HB_STR_LIT("connection")) &&
            in_list(hb_str_make(m->fields[i].value, m->fields[i].value_len), f))
            return true;
    return false;
}

/* Every response passes each of its fields through here: the length
 * picks the one candidate name to compare. */
static bool hop_name(const struct hpack_field *f)
{
    switch (f->name_len) {
    case 7:
        return name_eq(f, HB_STR_LIT("upgrade"));
    case 10:
        return name_eq(f, HB_STR_LIT("connection")) || name_eq(f, HB_STR_LIT("keep-alive"));
    case 14:
        return name_eq(f, HB_STR_LIT("http2-settings"));
    case 16:
        return name_eq(f, HB_STR_LIT("proxy-connection"));
    case 17:
        return name_eq(f, HB_STR_LIT("transfer-encoding"));
    default:
        return false;
    }
}

static bool is_connection(const struct hpack_field *f)
{
    return f->name_len == 10 && name_eq(f, HB_STR_LIT("connection"));
}

/* RFC 9113 §8.2.2: TE may cross into h2 only as "trailers". */
static bool bad_te(const struct hpack_field *f)
{
    return f->name_len == 2 && name_eq(f, HB_STR_LIT("te")) &&
           !hb_str_eq_lower(hb_str_make(f->value, f->value_len), HB_STR_LIT("trailers"));
}

bool h1_field_is_hop(const struct hb_msg *m, const struct hpack_field *f)
{
    return hop_name(f) || bad_te(f) || listed_in_connection(m, f);
}

/* Options named in one of the lines (RFC 9110 §7.6.1) that are not
 * hop-by-hop names already. */
struct conn_opts {
    struct hb_str tok[H1_MAX_CONNECTION_OPTIONS];
    size_t n;
    struct hb_str line[H1_MAX_CONNECTION_FIELDS]; /* when tok overflows */
    size_t nline;
    bool overflow;
};

static void add_options(struct conn_opts *o, struct hb_str list)
{
    o->line[o->nline++] = list;
    struct hb_str e;
    while (!o->overflow && hb_str_next_list_elem(&list, &e)) {
        struct hpack_field as_name = {.name = e.p, .name_len = (uint32_t)e.len};
        if (hop_name(&as_name)) /* keep-alive, upgrade: dropped anyway */
            continue;
        if (o->n == H1_MAX_CONNECTION_OPTIONS)
            o->overflow = true; /* then each line is searched per field */
        else
            o->tok[o->n++] = e;
    }
}

static bool named(const struct conn_opts *o, const struct hpack_field *f)
{
    struct hb_str name = hb_str_make(f->name, f->name_len);
    if (o->overflow) {
        for (size_t i = 0; i < o->nline; i++)
            if (in_list(o->line[i], f))
                return true;
        return false;
    }
    for (size_t i = 0; i < o->n; i++)
        if (o->tok[i].len == name.len && hb_str_eq_nocase(o->tok[i], name))
            return true;
    return false;
}

int h1_drop_hop_fields(struct hpack_field *f, uint32_t *n)
{
    /* The Connection options are gathered before the compaction below
     * moves fields over their lines (f may be the message's own array); the
     * bytes they point at never move. A typical response names only
     * keep-alive or close: then no field is compared at all. */
    struct conn_opts o;
    o.n = o.nline = 0;
    o.overflow = false;
    for (uint32_t i = 0; i < *n; i++) {
        if (!is_connection(&f[i]))
            continue;
        if (o.nline == H1_MAX_CONNECTION_FIELDS)
            return H1_ECONNECTION;
        add_options(&o, hb_str_make(f[i].value, f[i].value_len));
    }
    uint32_t k = 0;
    for (uint32_t i = 0; i < *n; i++) {
        if (hop_name(&f[i]) || bad_te(&f[i]) || (o.n + o.overflow && named(&o, &f[i])))
            continue;
        f[k++] = f[i];
    }
    *n = k;
    return 0;
}

/* Fields we never copy to an h1 hop: hop-by-hop, TE (we would have to list
 * it in Connection), and the framing, which comes from the options. With
 * the "Connection: close" we add, a field named close would be one the
 * Connection line nominates (RFC 9110 §7.6.1): the next hop drops it, so
 * it is not written (found by fuzz_h1_roundtrip). */
static bool skip_field(const struct hb_msg *m, const struct hpack_field *f, bool drop_host,
                       bool has_conn, bool adds_close)
{
    return hop_name(f) || name_eq(f, HB_STR_LIT("te")) ||
           name_eq(f, HB_STR_LIT("content-length")) ||
           (drop_host && name_eq(f, HB_STR_LIT("host"))) ||
           (has_conn && listed_in_connection(m, f)) ||
           (adds_close && f->name_len == 5 && name_eq(f, HB_STR_LIT("close")));
}

static int put_field(struct out *w, const struct hpack_field *f, enum h1_name_case nc,
                     const struct h1_case_map *cm)
{
    if (!safe_field(f))
        return H1_EWFIELD;
    put_name(w, f->name, f->name_len, nc, cm);
    PUT_LIT(w, ": ");
    put(w, f->value, f->value_len);
    PUT_LIT(w, "\r\n");
    return 0;
}

/* The fields, the framing and the empty line that end every head. */
static ptrdiff_t finish_head(struct out *w, const struct hb_msg *m, const struct h1_write_opts *o,
                             const struct hpack_field *extra, size_t nextra, bool drop_host)
{
    /* Most messages have no Connection field: then no field is listed in
     * one, and each field is checked without scanning them all again. */
    bool has_conn = false;
    for (uint32_t i = 0; i < m->nfields && !has_conn; i++)
        has_conn = name_eq(&m->fields[i], HB_STR_LIT("connection"));
    for (uint32_t i = 0; i < m->nfields; i++) {
        if (skip_field(m, &m->fields[i], drop_host, has_conn, o->close))
            continue;
        if (put_field(w, &m->fields[i], o->name_case, m->orig_case) < 0)
            return H1_EWFIELD;
    }
    /* An extra field may be one of m's own (a tunnel's Upgrade): it keeps
     * its spelling the same way. */
    for (size_t i = 0; i < nextra; i++)
        if (put_field(w, &extra[i], o->name_case, m->orig_case) < 0)
            return H1_EWFIELD;
    bool title = o->name_case != H1_CASE_LOWER;
    if (o->framing == H1_FRAME_LENGTH) {
        put(w, title ? "Content-Length: " : "content-length: ", 16);
        put_u64(w, o->content_length, 10);
        PUT_LIT(w, "\r\n");
    } else if (o->framing == H1_FRAME_CHUNKED) {
        put(w, title ? "Transfer-Encoding: chunked\r\n" : "transfer-encoding: chunked\r\n", 28);
    }
    if (o->close)
        put(w, title ? "Connection: close\r\n" : "connection: close\r\n", 19);
    PUT_LIT(w, "\r\n");
    return w->full ? H1_EWBUF : (ptrdiff_t)w->len;
}

ptrdiff_t h1_write_request_head(const struct hb_msg *m, const struct h1_write_opts *o,
                                const struct hpack_field *extra, size_t nextra, char *out,
                                size_t cap)
{
    struct out w = {out, cap, 0, false};
    struct hb_str target = m->path;
    if (target.len == 0 && hb_str_eq(m->method, HB_STR_LIT("CONNECT")))
        target = m->authority;
    if (m->method.len == 0 || target.len == 0)
        return H1_EWMSG;
    if (!all_class(m->method.p, m->method.len, H1_C_TCHAR) ||
        !all_class(target.p, target.len, H1_C_TARGET) ||
        !all_class(m->authority.p, m->authority.len, H1_C_AUTH))
        return H1_EWFIELD;
    put_str(&w, m->method);
    PUT_LIT(&w, " ");
    put_str(&w, target);
    PUT_LIT(&w, " HTTP/1.1\r\n");
    /* RFC 9112 §3.2: Host first, from :authority (RFC 9113 §8.3.1); with
     * no authority and no host field, an empty Host (HTTP/1.1 requires one). */
    bool has_auth = m->authority.len > 0;
    if (has_auth || !hb_msg_find(m, HB_STR_LIT("host"))) {
        put(&w, o->name_case != H1_CASE_LOWER ? "Host: " : "host: ", 6);
        put_str(&w, m->authority);
        PUT_LIT(&w, "\r\n");
    }
    return finish_head(&w, m, o, extra, nextra, has_auth);
}

ptrdiff_t h1_write_response_head(const struct hb_msg *m, const struct h1_write_opts *o,
                                 const struct hpack_field *extra, size_t nextra, char *out,
                                 size_t cap)
{
    struct out w = {out, cap, 0, false};
    if (m->status < 100 || m->status > 599)
        return H1_EWMSG;
    PUT_LIT(&w, "HTTP/1.1 ");
    put_u64(&w, (uint64_t)m->status, 10);
    PUT_LIT(&w, " ");
    const char *reason = h1_reason_phrase(m->status);
    put(&w, reason, strlen(reason));
    PUT_LIT(&w, "\r\n");
    return finish_head(&w, m, o, extra, nextra, false);
}

size_t h1_write_head_bound(const struct hb_msg *m, const struct hpack_field *extra, size_t nextra)
{
    /* start line + Host + framing + Connection + final CRLF, then 4 bytes
     * (": " and CRLF) around every field */
    size_t n = m->method.len + m->path.len + 2 * m->authority.len + 192;
    for (uint32_t i = 0; i < m->nfields; i++)
        n += (size_t)m->fields[i].name_len + m->fields[i].value_len + 4;
    for (size_t i = 0; i < nextra; i++)
        n += (size_t)extra[i].name_len + extra[i].value_len + 4;
    return n;
}

ptrdiff_t h1_write_chunk_header(uint64_t size, char *out, size_t cap)
{
    if (size == 0)
        return H1_EWMSG;
    struct out w = {out, cap, 0, false};
    put_u64(&w, size, 16);
    PUT_LIT(&w, "\r\n");
    return w.full ? H1_EWBUF : (ptrdiff_t)w.len;
}

ptrdiff_t h1_write_last_chunk(const struct hpack_field *trailers, size_t n,
                              enum h1_name_case name_case, char *out, size_t cap)
{
    struct out w = {out, cap, 0, false};
    PUT_LIT(&w, "0\r\n");
    for (size_t i = 0; i < n; i++) {
        const struct hpack_field *f = &trailers[i];
        /* RFC 9110 §6.5.1: framing and routing fields are not trailers. */
        if (hop_name(f) || name_eq(f, HB_STR_LIT("te")) ||
            name_eq(f, HB_STR_LIT("content-length")) || name_eq(f, HB_STR_LIT("host")))
            continue;
        if (put_field(&w, f, name_case, NULL) < 0)
            return H1_EWFIELD;
    }
    PUT_LIT(&w, "\r\n");
    return w.full ? H1_EWBUF : (ptrdiff_t)w.len;
}
