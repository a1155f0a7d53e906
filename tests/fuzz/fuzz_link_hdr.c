/* libFuzzer target: the Link field parser (core/link_hdr.h). Every call
 * makes progress and stays inside the input; every returned view lies
 * inside it; "as" is at most one destination bit; the raw text of a
 * link-value parses back to the same link.
 * Each target also goes through push's resolver (core/link_target.h): an
 * accepted one fits its bound, starts with '/', holds only 0x21..0x7e and
 * no fragment, and resolving it again (as an absolute path) gives it back. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/link_hdr.h"
#include "core/link_target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_inside(const char *s, size_t size, struct hb_str v)
{
    if (v.len && (v.p < s || v.p + v.len > s + size))
        abort();
}

static void check_target(struct hb_str uri)
{
    char out[64], again[64];
    size_t cap = 1 + uri.len % sizeof out; /* bounds from tight to roomy */
    int n = hb_link_target(uri, HB_STR_LIT("https"), HB_STR_LIT("example.com"),
                           HB_STR_LIT("/d/p?q"), out, cap);
    if (n == HB_EINVAL || n == HB_ELIMIT)
        return;
    if (n <= 0 || (size_t)n > cap || out[0] != '/')
        abort();
    for (int i = 0; i < n; i++)
        if ((unsigned char)out[i] < 0x21 || (unsigned char)out[i] > 0x7e || out[i] == '#')
            abort();
    int m = hb_link_target(hb_str_make(out, (size_t)n), HB_STR_LIT("https"),
                           HB_STR_LIT("example.com"), HB_STR_LIT("/"), again, sizeof again);
    if (m != n || memcmp(out, again, (size_t)n) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    /* An exact-size copy, so ASan sees any read past the end. */
    char *s = malloc(size ? size : 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    size_t pos = 0;
    for (;;) {
        size_t before = pos;
        struct hb_link l;
        int rc = hb_link_next(s, size, &pos, &l);
        if (pos > size)
            abort();
        if (rc == 0)
            break;
        if (rc != 1 && rc != HB_ESYNTAX)
            abort();
        if (pos <= before) /* no progress: a loop */
            abort();
        if (rc == 1) {
            check_inside(s, size, l.raw);
            check_inside(s, size, l.uri);
            check_target(l.uri);
            if (l.raw.len == 0 || l.raw.p[0] != '<')
                abort();
            size_t p2 = 0;
            struct hb_link again;
            /* "as" is one bit: a known destination or OTHER. */
            if (l.as & (l.as - 1) || l.as > HB_LINK_AS_OTHER)
                abort();
            if (hb_link_next(l.raw.p, l.raw.len, &p2, &again) != 1 || again.rel != l.rel ||
                again.as != l.as || again.nopush != l.nopush || !hb_str_eq(again.uri, l.uri) ||
                again.raw.len != l.raw.len)
                abort();
        }
    }
    free(s);
    return 0;
}
