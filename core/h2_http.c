/* core/h2_http.c — HTTP semantics of RFC 9113 §8 on a decoded header list.
 *
 * This is security code: every request that passes becomes an HTTP/1.1
 * request to a backend, so anything that could be read differently there
 * (smuggled CR/LF, spaces in the target, conflicting Host, framing fields)
 * is refused here as a malformed request (§8.1.1: stream error
 * PROTOCOL_ERROR). */
#include <string.h>
#include <strings.h>

#include "core/h2_int.h"
#include "core/str.h"

/* §8.2.1: name bytes 0x00-0x20, 0x41-0x5a (uppercase), 0x7f-0xff and ':'
 * (outside the pseudo-header prefix) are malformed. */
static bool bad_name_char(unsigned char ch)
{
    return ch <= 0x20 || (ch >= 'A' && ch <= 'Z') || ch >= 0x7f || ch == ':';
}

static bool name_ok(const char *p, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (bad_name_char((unsigned char)p[i]))
            return false;
    return true;
}

/* §8.2.1: no NUL, CR or LF; no leading or trailing SP/HTAB. Stricter, as
 * §8.2.1 allows and the HTTP/1.1 side requires (RFC 9110 §5.5): no other
 * control byte (HTAB excepted) and no DEL either, so nothing reaches a
 * backend that an HTTP/1.1 parser could read differently. */
static bool byte_bad(unsigned char ch)
{
    return (ch < 0x20 && ch != '\t') || ch == 0x7f;
}

static bool value_ok(const char *p, size_t len)
{
    if (len && (p[0] == ' ' || p[0] == '\t' || p[len - 1] == ' ' || p[len - 1] == '\t'))
        return false;
    /* Eight bytes at a time: flag words holding a byte < 0x20 or 0x7f
     * (then look closer: HTAB is fine). */
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        uint64_t lt20 = (w - ones * 0x20) & ~w & highs;
        uint64_t x7f = w ^ (ones * 0x7f);
        uint64_t is7f = (x7f - ones) & ~x7f & highs;
        if (lt20 | is7f)
            for (size_t k = i; k < i + 8; k++)
                if (byte_bad((unsigned char)p[k]))
                    return false;
    }
    for (; i < len; i++)
        if (byte_bad((unsigned char)p[i]))
            return false;
    return true;
}

/* Visible ASCII only (no SP, no controls, no DEL, no 8-bit): for :path and
 * :authority, whose bytes go into an HTTP/1.1 request line / Host. */
static bool visible_ok(struct hb_str s)
{
    for (size_t i = 0; i < s.len; i++) {
        unsigned char ch = (unsigned char)s.p[i];
        if (ch <= 0x20 || ch >= 0x7f)
            return false;
    }
    return true;
}

/* RFC 9110 §5.6.2 token. */
static bool token_ok(struct hb_str s)
{
    static const char extra[] = "!#$%&'*+-.^_`|~";
    if (s.len == 0)
        return false;
    for (size_t i = 0; i < s.len; i++) {
        char ch = s.p[i];
        bool alnum =
            (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
        if (!alnum && !memchr(extra, ch, sizeof extra - 1))
            return false;
    }
    return true;
}

bool h2_http_is_conn_specific(const char *name, size_t len)
{
    /* §8.2.2; dispatch on length first: this runs for every field. */
    switch (len) {
    case 7:
        return memcmp(name, "upgrade", 7) == 0;
    case 10:
        return memcmp(name, "connection", 10) == 0 || memcmp(name, "keep-alive", 10) == 0;
    case 16:
        return memcmp(name, "proxy-connection", 16) == 0;
    case 17:
        return memcmp(name, "transfer-encoding", 17) == 0;
    default:
        return false;
    }
}

/* Checks one regular field; returns a reason or NULL. */
static const char *check_regular(const struct hpack_field *f)
{
    if (!name_ok(f->name, f->name_len))
        return "invalid field name (empty, uppercase or forbidden character)";
    if (!value_ok(f->value, f->value_len))
        return "invalid field value (control byte, DEL or surrounding whitespace)";
    if (h2_http_is_conn_specific(f->name, f->name_len))
        return "connection-specific header field";
    /* §8.2.2: TE may only carry "trailers". */
    if (f->name_len == 2 && f->name[0] == 't' && f->name[1] == 'e' &&
        !hb_str_eq_lower(hb_str_make(f->value, f->value_len), HB_STR_LIT("trailers")))
        return "TE other than \"trailers\"";
    return NULL;
}

/* Which pseudo-header (bit index into `seen`), by name; -1 if unknown. */
static int pseudo_index(const char *n, size_t len)
{
    switch (len) {
    case 5:
        return memcmp(n, ":path", 5) == 0 ? 3 : -1;
    case 7:
        return memcmp(n, ":method", 7) == 0 ? 0 : memcmp(n, ":scheme", 7) == 0 ? 1 : -1;
    case 9:
        return memcmp(n, ":protocol", 9) == 0 ? 4 : -1;
    case 10:
        return memcmp(n, ":authority", 10) == 0 ? 2 : -1;
    default:
        return -1;
    }
}

static const char *take_pseudo(const struct hpack_field *f, struct hb_msg *m, unsigned *seen)
{
    int i = pseudo_index(f->name, f->name_len);
    if (i < 0)
        return "unknown or response pseudo-header in a request";
    if (*seen & (1u << i))
        return "duplicate pseudo-header";
    if (!value_ok(f->value, f->value_len))
        return "invalid pseudo-header value";
    *seen |= 1u << i;
    struct hb_str *slots[] = {&m->method, &m->scheme, &m->authority, &m->path, &m->protocol};
    *slots[i] = hb_str_make(f->value, f->value_len);
    return NULL;
}

static const char *check_content_length(const struct hpack_field *f, struct hb_msg *m)
{
    unsigned long long v;
    if (hb_str_to_u64(hb_str_make(f->value, f->value_len), ~0ULL >> 1, &v) != 0)
        return "invalid content-length";
    if ((m->flags & HB_MSG_HAS_CL) && m->content_length != v)
        return "conflicting content-length values";
    m->flags |= HB_MSG_HAS_CL;
    m->content_length = v;
    return NULL;
}

static const char *check_target(struct hb_msg *m, unsigned seen, bool connect_protocol)
{
    bool has_scheme = seen & 2, has_auth = seen & 4, has_path = seen & 8, has_proto = seen & 16;
    if (!(seen & 1) || !token_ok(m->method))
        return "missing or invalid :method";
    bool connect = hb_str_eq(m->method, HB_STR_LIT("CONNECT"));
    if (has_proto) {
        /* RFC 8441 §4: extended CONNECT, only if we enabled it. */
        if (!connect_protocol)
            return ":protocol without SETTINGS_ENABLE_CONNECT_PROTOCOL";
        if (!connect)
            return ":protocol on a method other than CONNECT";
        if (!has_scheme || !has_path || !has_auth || m->path.len == 0)
            return "extended CONNECT without :scheme, :path and :authority";
    } else if (connect) {
        /* §8.5: CONNECT has :authority only. */
        if (has_scheme || has_path)
            return "CONNECT with :scheme or :path";
        if (!has_auth || m->authority.len == 0)
            return "CONNECT without :authority";
    } else if (!has_scheme || !has_path) {
        return "missing :scheme or :path";
    }
    if (has_path) {
        if (m->path.len == 0 || !visible_ok(m->path))
            return "empty or invalid :path";
        bool star = hb_str_eq(m->path, HB_STR_LIT("*"));
        bool http =
            hb_str_eq(m->scheme, HB_STR_LIT("http")) || hb_str_eq(m->scheme, HB_STR_LIT("https"));
        /* §8.3.1: origin-form, or "*" for OPTIONS. */
        if (http && m->path.p[0] != '/' && !(star && hb_str_eq(m->method, HB_STR_LIT("OPTIONS"))))
            return ":path not in origin form";
    }
    if (has_scheme && !token_ok(m->scheme))
        return "invalid :scheme";
    /* §8.3.1: no userinfo in :authority. */
    if (has_auth && (!visible_ok(m->authority) || memchr(m->authority.p, '@', m->authority.len)))
        return "invalid :authority";
    return NULL;
}

const char *h2_http_request(struct hpack_field *f, size_t n, bool connect_protocol,
                            struct hb_msg *m)
{
    memset(m, 0, sizeof *m);
    unsigned seen = 0;
    bool regular = false;
    struct hb_str host = HB_STR_NULL; /* a copy: the array is compacted below */
    bool has_host = false;
    size_t out = 0;
    const char *why;
    for (size_t i = 0; i < n; i++) {
        if (f[i].name_len > 0 && f[i].name[0] == ':') {
            /* §8.3: pseudo-headers come first. */
            if (regular)
                return "pseudo-header after a regular field";
            if ((why = take_pseudo(&f[i], m, &seen)) != NULL)
                return why;
            continue;
        }
        regular = true;
        if ((why = check_regular(&f[i])) != NULL)
            return why;
        if (f[i].name_len == 4 && memcmp(f[i].name, "host", 4) == 0) {
            if (has_host)
                return "more than one host field";
            has_host = true;
            host = hb_str_make(f[i].value, f[i].value_len);
        } else if (f[i].name_len == 14 && memcmp(f[i].name, "content-length", 14) == 0 &&
                   (why = check_content_length(&f[i], m)) != NULL) {
            return why;
        }
        f[out++] = f[i];
    }
    m->fields = f;
    m->nfields = (uint32_t)out;
    if ((why = check_target(m, seen, connect_protocol)) != NULL)
        return why;
    if (has_host) {
        struct hb_str hv = host;
        if (!visible_ok(hv) || memchr(hv.p, '@', hv.len))
            return "invalid host";
        /* §8.3.1: host and :authority must name the same thing. */
        if ((seen & 4) &&
            (m->authority.len != hv.len || strncasecmp(m->authority.p, hv.p, hv.len) != 0))
            return "host differs from :authority";
        if (!(seen & 4))
            m->authority = hv;
    }
    return NULL;
}

const char *h2_http_trailers(struct hpack_field *f, size_t n, struct hb_msg *m)
{
    memset(m, 0, sizeof *m);
    const char *why;
    for (size_t i = 0; i < n; i++) {
        if (f[i].name_len > 0 && f[i].name[0] == ':')
            return "pseudo-header in trailers"; /* §8.1 */
        if ((why = check_regular(&f[i])) != NULL)
            return why;
    }
    m->fields = f;
    m->nfields = (uint32_t)n;
    return NULL;
}

void h2_http_parse_priority(const char *v, size_t len, uint8_t *urgency, bool *incremental)
{
    /* RFC 9218 §4: a Structured Fields dictionary; u=0..7, i (boolean).
     * Unknown members and bad values are ignored (§4). */
    struct hb_str rest = hb_str_make(v, len), e;
    while (hb_str_next_list_elem(&rest, &e)) {
        if (e.len == 3 && e.p[0] == 'u' && e.p[1] == '=' && e.p[2] >= '0' && e.p[2] <= '7')
            *urgency = (uint8_t)(e.p[2] - '0');
        else if (hb_str_eq(e, HB_STR_LIT("i")) || hb_str_eq(e, HB_STR_LIT("i=?1")))
            *incremental = true;
        else if (hb_str_eq(e, HB_STR_LIT("i=?0")))
            *incremental = false;
    }
}
