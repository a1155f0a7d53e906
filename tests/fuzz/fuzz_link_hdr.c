/* libFuzzer target: the Link field parser (core/link_hdr.h). Every call
 * makes progress and stays inside the input; every returned view lies
 * inside it; the raw text of a link-value parses back to the same link. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/link_hdr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_inside(const char *s, size_t size, struct hb_str v)
{
    if (v.len && (v.p < s || v.p + v.len > s + size))
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
            if (l.raw.len == 0 || l.raw.p[0] != '<')
                abort();
            size_t p2 = 0;
            struct hb_link again;
            if (hb_link_next(l.raw.p, l.raw.len, &p2, &again) != 1 || again.rel != l.rel ||
                again.nopush != l.nopush || !hb_str_eq(again.uri, l.uri) ||
                again.raw.len != l.raw.len)
                abort();
        }
    }
    free(s);
    return 0;
}
