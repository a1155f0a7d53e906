/* libFuzzer target: the Cookie field lookup (core/cookie.h). The first
 * byte is the name's length, then the name, then the field. A value found
 * lies inside the field, holds no ';', and the name really is there: the
 * field contains "name" followed (after optional blanks) by '='. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/cookie.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096)
        return 0;
    size_t nl = data[0] % 32;
    if (nl + 1 > size)
        return 0;
    /* Exact-size copies, so ASan sees any read past either end. */
    char *name = malloc(nl ? nl : 1), *field = malloc(size - 1 - nl ? size - 1 - nl : 1);
    if (!name || !field)
        abort();
    memcpy(name, data + 1, nl);
    size_t fl = size - 1 - nl;
    memcpy(field, data + 1 + nl, fl);
    struct hb_str v;
    if (hb_cookie_find(hb_str_make(field, fl), hb_str_make(name, nl), &v)) {
        if (v.len > fl || (v.len && (v.p < field || v.p + v.len > field + fl)))
            abort();
        if (v.len && memchr(v.p, ';', v.len))
            abort();
        if (nl && !memmem(field, fl, name, nl))
            abort();
    }
    free(name);
    free(field);
    return 0;
}
