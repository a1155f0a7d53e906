/* core/cookie.c — one cookie out of a Cookie field value (see cookie.h). */
#include "core/cookie.h"

#include <string.h>

static struct hb_str trim(struct hb_str s)
{
    while (s.len && (s.p[0] == ' ' || s.p[0] == '\t'))
        s.p++, s.len--;
    while (s.len && (s.p[s.len - 1] == ' ' || s.p[s.len - 1] == '\t'))
        s.len--;
    return s;
}

bool hb_cookie_find(struct hb_str field, struct hb_str name, struct hb_str *value)
{
    size_t i = 0;
    while (i < field.len) {
        const char *semi = memchr(field.p + i, ';', field.len - i);
        size_t end = semi ? (size_t)(semi - field.p) : field.len;
        struct hb_str pair = hb_str_make(field.p + i, end - i);
        i = end + 1;
        const char *eq = pair.len ? memchr(pair.p, '=', pair.len) : NULL;
        if (!eq)
            continue;
        struct hb_str n = trim(hb_str_make(pair.p, (size_t)(eq - pair.p)));
        if (!hb_str_eq(n, name))
            continue;
        struct hb_str v = trim(hb_str_make(eq + 1, pair.len - (size_t)(eq - pair.p) - 1));
        if (v.len >= 2 && v.p[0] == '"' && v.p[v.len - 1] == '"')
            v = hb_str_make(v.p + 1, v.len - 2);
        *value = v;
        return true;
    }
    return false;
}
