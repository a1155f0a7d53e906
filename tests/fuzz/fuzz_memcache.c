/* libFuzzer target: the memcached reply parser (core/memcache.h) and the
 * ticket key set decoder (core/ticket_set.h). The first byte picks the
 * reply kind and the split: a reply fed whole and fed in pieces ends in the
 * same state, result and value; a value never exceeds its buffer; a hit's
 * value that decodes as a key set encodes back to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/memcache.h"
#include "core/ticket_set.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 8192)
        return 0;
    enum hb_mc_kind kind = (data[0] & 1) ? HB_MC_STORAGE : HB_MC_RETRIEVAL;
    size_t step = 1 + (data[0] >> 1);
    data++;
    size--;
    uint8_t *p = malloc(size ? size : 1); /* exact size: ASan sees overreads */
    if (!p)
        return 0;
    memcpy(p, data, size);
    size_t cap = HB_TKS_BYTES_MAX;
    uint8_t *v1 = malloc(cap), *v2 = malloc(cap);
    if (!v1 || !v2)
        abort();
    struct hb_mc_reply a, b;
    hb_mc_reply_init(&a, kind, "k", v1, cap);
    hb_mc_reply_init(&b, kind, "k", v2, cap);
    size_t ua = hb_mc_reply_feed(&a, p, size);
    size_t ub = 0;
    while (ub < size && b.state != HB_MC_ST_DONE && b.state != HB_MC_ST_BAD) {
        size_t n = size - ub < step ? size - ub : step;
        size_t u = hb_mc_reply_feed(&b, p + ub, n);
        ub += u;
        if (u < n)
            break;
    }
    if (ua > size || a.state != b.state || a.result != b.result || ua != ub)
        abort();
    if (a.state == HB_MC_ST_BAD && !a.why)
        abort();
    if (a.result == HB_MC_HIT) {
        if (a.value_len > cap || a.value_len != b.value_len ||
            memcmp(v1, v2, a.value_len) != 0)
            abort();
        struct hb_tks s;
        const char *why;
        if (hb_tks_parse(v1, a.value_len, &s, &why) == 0) {
            uint8_t out[HB_TKS_BYTES_MAX];
            ptrdiff_t n = hb_tks_write(&s, out, sizeof out);
            if (n != (ptrdiff_t)a.value_len || memcmp(out, v1, a.value_len) != 0)
                abort();
        }
    }
    /* The decoder on the raw bytes too. */
    struct hb_tks s;
    const char *why = NULL;
    if (hb_tks_parse(p, size, &s, &why) != 0 && !why)
        abort();
    free(v1);
    free(v2);
    free(p);
    return 0;
}
