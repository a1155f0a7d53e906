/* core/link_hdr.c — RFC 8288 link-value parsing (see link_hdr.h). */
#include "core/link_hdr.h"

#include <string.h>

#include "core/err.h"

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* RFC 9110 §5.6.2 tchar. */
static bool is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* RFC 9110 §5.6.4 qdtext and quoted-pair's second octet (obs-text too). */
static bool is_qdtext(unsigned char c)
{
    return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5b) ||
           (c >= 0x5d && c <= 0x7e) || c >= 0x80;
}

static bool is_qpair(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static size_t skip_ows(const char *v, size_t len, size_t i)
{
    while (i < len && is_ows(v[i]))
        i++;
    return i;
}

/* Moves past the malformed element starting at i (rescanned from its
 * start, so quotes and angle brackets are tracked): to just after the next
 * comma outside <...> and quotes, or to len. Always past i when i < len. */
static size_t skip_elem(const char *v, size_t len, size_t i)
{
    bool angle = false, quote = false;
    for (; i < len; i++) {
        char c = v[i];
        if (quote) {
            if (c == '\\' && i + 1 < len)
                i++;
            else if (c == '"')
                quote = false;
        } else if (angle) {
            angle = c != '>';
        } else if (c == '<') {
            angle = true;
        } else if (c == '"') {
            quote = true;
        } else if (c == ',') {
            return i + 1;
        }
    }
    return len;
}

/* Relation types in a rel value: space-separated (RFC 8288 §3.3). */
static unsigned rel_bits(const char *p, size_t n, bool quoted)
{
    unsigned bits = 0;
    size_t i = 0;
    while (i < n) {
        while (i < n && (p[i] == ' ' || p[i] == '\t'))
            i++;
        size_t s = i;
        while (i < n && p[i] != ' ' && p[i] != '\t')
            i++;
        if (i == s)
            break;
        struct hb_str t = hb_str_make(p + s, i - s);
        if (quoted && memchr(t.p, '\\', t.len)) /* escaped: not a name we know */
            bits |= HB_LINK_REL_OTHER;
        else if (hb_str_eq_lower(t, HB_STR_LIT("preload")))
            bits |= HB_LINK_REL_PRELOAD;
        else if (hb_str_eq_lower(t, HB_STR_LIT("preconnect")))
            bits |= HB_LINK_REL_PRECONNECT;
        else
            bits |= HB_LINK_REL_OTHER;
    }
    return bits;
}

static const char *const as_names[] = {
    "audio", "document", "embed", "fetch", "font", "image",
    "object", "script", "style", "track", "video", "worker",
};

unsigned hb_link_as_bit(struct hb_str s)
{
    for (unsigned i = 0; i < sizeof as_names / sizeof as_names[0]; i++)
        if (hb_str_eq_lower(s, hb_str_make(as_names[i], strlen(as_names[i]))))
            return 1u << i;
    return 0;
}

const char *hb_link_as_name(unsigned bit)
{
    if (bit == HB_LINK_AS_OTHER)
        return "other";
    for (unsigned i = 0; i < sizeof as_names / sizeof as_names[0]; i++)
        if (bit == 1u << i)
            return as_names[i];
    return NULL;
}

int hb_link_next(const char *v, size_t len, size_t *pos, struct hb_link *out)
{
    size_t i = *pos;
    /* Empty list elements (RFC 9110 §5.6.1) are skipped. */
    while (i < len && (is_ows(v[i]) || v[i] == ','))
        i++;
    if (i >= len) {
        *pos = len;
        return 0;
    }
    size_t start = i;
    memset(out, 0, sizeof *out);
    if (v[i] != '<')
        goto bad;
    size_t u = ++i;
    while (i < len && v[i] != '>') {
        unsigned char c = (unsigned char)v[i];
        if (c <= 0x20 || c == 0x7f || c == '<' || c == '"')
            goto bad; /* RFC 3986 has no spaces, controls, '<' or '"' */
        i++;
    }
    if (i >= len)
        goto bad;
    out->uri = hb_str_make(v + u, i - u);
    size_t end = ++i; /* end of the value so far (no trailing OWS) */
    bool seen_rel = false, seen_as = false;
    for (;;) {
        i = skip_ows(v, len, i);
        if (i >= len || v[i] == ',')
            break;
        if (v[i] != ';')
            goto bad;
        i = skip_ows(v, len, i + 1);
        size_t ns = i;
        while (i < len && is_tchar((unsigned char)v[i]))
            i++;
        if (i == ns)
            goto bad;
        struct hb_str name = hb_str_make(v + ns, i - ns);
        struct hb_str val = HB_STR_NULL;
        bool quoted = false;
        size_t j = skip_ows(v, len, i);
        if (j < len && v[j] == '=') {
            i = skip_ows(v, len, j + 1);
            if (i < len && v[i] == '"') {
                quoted = true;
                size_t vs = ++i;
                for (;;) {
                    if (i >= len)
                        goto bad;
                    unsigned char c = (unsigned char)v[i];
                    if (c == '"')
                        break;
                    if (c == '\\') {
                        if (i + 1 >= len || !is_qpair((unsigned char)v[i + 1]))
                            goto bad;
                        i += 2;
                        continue;
                    }
                    if (!is_qdtext(c))
                        goto bad;
                    i++;
                }
                val = hb_str_make(v + vs, i - vs);
                i++;
            } else {
                size_t vs = i;
                while (i < len && is_tchar((unsigned char)v[i]))
                    i++;
                if (i == vs)
                    goto bad;
                val = hb_str_make(v + vs, i - vs);
            }
        }
        end = i;
        if (hb_str_eq_lower(name, HB_STR_LIT("rel"))) {
            if (!seen_rel) /* §3.3: occurrences after the first are ignored */
                out->rel = rel_bits(val.p, val.len, quoted);
            seen_rel = true;
        } else if (hb_str_eq_lower(name, HB_STR_LIT("as"))) {
            if (!seen_as) { /* an escape in a quoted value names nothing we know */
                unsigned bit = quoted && memchr(val.p, '\\', val.len) ? 0 : hb_link_as_bit(val);
                out->as = bit ? bit : HB_LINK_AS_OTHER;
            }
            seen_as = true;
        } else if (hb_str_eq_lower(name, HB_STR_LIT("nopush"))) {
            out->nopush = true;
        }
    }
    out->raw = hb_str_make(v + start, end - start);
    *pos = i < len ? i + 1 : len;
    return 1;
bad:
    memset(out, 0, sizeof *out);
    *pos = skip_elem(v, len, start);
    return HB_ESYNTAX;
}
