/* libFuzzer target: the network parser (core/cidr.h). What parses must
 * format back to a form that parses to the same network, contain its own
 * network address, and never read past len. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/cidr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 256)
        return 0;
    /* An exact-size copy, so ASan sees any read past the end. */
    char *s = malloc(size ? size : 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    struct hb_cidr c;
    if (hb_cidr_parse(s, size, &c) == 0) {
        if (c.bits > 128)
            abort();
        char buf[64];
        hb_cidr_format(&c, buf, sizeof buf);
        struct hb_cidr again;
        if (hb_cidr_parse(buf, strlen(buf), &again) != 0 || again.bits != c.bits ||
            memcmp(again.addr, c.addr, 16) != 0)
            abort();
        if (!hb_cidr_contains(&c, c.addr))
            abort();
    }
    free(s);
    return 0;
}
