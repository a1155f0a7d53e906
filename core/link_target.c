/* core/link_target.c — same-origin Link target resolution (see link_target.h). */
#include "core/link_target.h"

#include <stdint.h>
#include <string.h>

#include "core/err.h"

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Length of a scheme followed by ':' at the start of s (RFC 3986 §3.1:
 * ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )), 0 when s has none: a
 * relative reference whose first segment holds a ':' is not one we accept
 * anyway (§4.2 asks for "./" before it, a dot segment). */
static size_t scheme_len(struct hb_str s)
{
    if (s.len == 0 || !is_alpha(s.p[0]))
        return 0;
    for (size_t i = 1; i < s.len; i++) {
        char c = s.p[i];
        if (c == ':')
            return i;
        if (!is_alpha(c) && !(c >= '0' && c <= '9') && c != '+' && c != '-' && c != '.')
            return 0;
    }
    return 0;
}

/* One segment is "." or "..", also spelt %2e / %2E. */
static bool is_dot_segment(const char *p, size_t n)
{
    size_t dots = 0;
    for (size_t i = 0; i < n;) {
        if (p[i] == '.') {
            i++;
        } else if (n - i >= 3 && p[i] == '%' && p[i + 1] == '2' && (p[i + 2] | 0x20) == 'e') {
            i += 3;
        } else {
            return false;
        }
        dots++;
    }
    return dots == 1 || dots == 2;
}

/* True when the path part (before '?') of out[0..n) has a dot segment. */
static bool has_dot_segment(const char *p, size_t n)
{
    const char *q = memchr(p, '?', n);
    size_t end = q ? (size_t)(q - p) : n;
    size_t start = 0;
    for (size_t i = 0; i <= end; i++) {
        if (i == end || p[i] == '/') {
            if (is_dot_segment(p + start, i - start))
                return true;
            start = i + 1;
        }
    }
    return false;
}

static int put(char *out, size_t cap, size_t *n, const char *p, size_t len)
{
    if (len > cap - *n)
        return HB_ELIMIT;
    memcpy(out + *n, p, len);
    *n += len;
    return 0;
}

int hb_link_target(struct hb_str uri, struct hb_str scheme, struct hb_str authority,
                   struct hb_str base, char *out, size_t cap)
{
    const char *hash = uri.len ? memchr(uri.p, '#', uri.len) : NULL;
    if (hash)
        uri.len = (size_t)(hash - uri.p);
    if (uri.len == 0 || base.len == 0 || base.p[0] != '/')
        return HB_EINVAL;
    for (size_t i = 0; i < uri.len; i++)
        if ((unsigned char)uri.p[i] < 0x21 || (unsigned char)uri.p[i] > 0x7e)
            return HB_EINVAL;

    size_t sl = scheme_len(uri);
    if (sl) {
        if (!hb_str_eq_nocase(hb_str_make(uri.p, sl), scheme))
            return HB_EINVAL;
        uri.p += sl + 1;
        uri.len -= sl + 1;
        if (uri.len < 2 || uri.p[0] != '/' || uri.p[1] != '/')
            return HB_EINVAL; /* "https:x" has no authority: not a form we resolve */
    }
    if (uri.len >= 2 && uri.p[0] == '/' && uri.p[1] == '/') {
        size_t i = 2;
        while (i < uri.len && uri.p[i] != '/' && uri.p[i] != '?')
            i++;
        if (!hb_str_eq_nocase(hb_str_make(uri.p + 2, i - 2), authority))
            return HB_EINVAL;
        uri.p += i;
        uri.len -= i;
        if (uri.len == 0) /* "https://host": the root */
            uri = HB_STR_LIT("/");
        else if (uri.p[0] == '?') {
            size_t n = 0;
            int rc = put(out, cap, &n, "/", 1);
            if (!rc)
                rc = put(out, cap, &n, uri.p, uri.len);
            return rc ? rc : (int)n;
        }
    }

    size_t n = 0;
    int rc;
    if (uri.p[0] == '/') {
        rc = put(out, cap, &n, uri.p, uri.len);
    } else {
        /* Relative: merged with the base path (§5.2.3), whose query goes. */
        const char *q = memchr(base.p, '?', base.len);
        size_t blen = q ? (size_t)(q - base.p) : base.len;
        if (uri.p[0] != '?') { /* up to and including the last '/' */
            while (blen > 0 && base.p[blen - 1] != '/')
                blen--;
        }
        rc = put(out, cap, &n, base.p, blen);
        if (!rc)
            rc = put(out, cap, &n, uri.p, uri.len);
    }
    if (rc)
        return rc;
    /* "//x" is no origin-form path (RFC 3986 path-absolute): a backend could
     * read it as a network-path reference to host x. */
    if (has_dot_segment(out, n) || (n >= 2 && out[1] == '/'))
        return HB_EINVAL;
    return n > (size_t)INT32_MAX ? HB_ELIMIT : (int)n;
}
