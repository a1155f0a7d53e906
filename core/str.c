#include "core/str.h"

#include "core/err.h"

static inline unsigned char lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c | 0x20) : c;
}

bool hb_str_eq_lower(struct hb_str a, struct hb_str low)
{
    if (a.len != low.len)
        return false;
    for (size_t i = 0; i < a.len; i++)
        if (lower((unsigned char)a.p[i]) != (unsigned char)low.p[i])
            return false;
    return true;
}

bool hb_str_eq_nocase(struct hb_str a, struct hb_str b)
{
    if (a.len != b.len)
        return false;
    for (size_t i = 0; i < a.len; i++)
        if (lower((unsigned char)a.p[i]) != lower((unsigned char)b.p[i]))
            return false;
    return true;
}

static inline bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

struct hb_str hb_str_trim_ows(struct hb_str s)
{
    while (s.len && is_ows(s.p[0])) {
        s.p++;
        s.len--;
    }
    while (s.len && is_ows(s.p[s.len - 1]))
        s.len--;
    return s;
}

int hb_str_to_u64(struct hb_str s, unsigned long long max, unsigned long long *out)
{
    if (s.len == 0)
        return HB_ESYNTAX;
    unsigned long long v = 0;
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.p[i];
        if (c < '0' || c > '9')
            return HB_ESYNTAX;
        unsigned d = c - '0';
        /* Check before multiplying: no wrap-around is ever computed. */
        if (v > (max - d) / 10)
            return HB_ERANGE;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

bool hb_str_next_list_elem(struct hb_str *rest, struct hb_str *elem)
{
    while (rest->len) {
        const char *comma = memchr(rest->p, ',', rest->len);
        size_t n = comma ? (size_t)(comma - rest->p) : rest->len;
        struct hb_str e = hb_str_trim_ows(hb_str_make(rest->p, n));
        rest->p += comma ? n + 1 : n;
        rest->len -= comma ? n + 1 : n;
        if (e.len) {
            *elem = e;
            return true;
        }
    }
    return false;
}
