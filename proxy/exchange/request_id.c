/* proxy/exchange/request_id.c — request ids and traceparent (see request_id.h). */
#include "proxy/exchange/request_id.h"

#include <string.h>

#include "core/mix.h"


/* "000102…ff": a byte's two digits in one copy (an id is made for every
 * request, so this is on the request path). */
static const char pairs[513] =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
    "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
    "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
    "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
    "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
    "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
    "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
    "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

static void hex64(uint64_t v, char out[16])
{
    for (int i = 14; i >= 0; i -= 2, v >>= 8)
        memcpy(out + i, pairs + 2 * (v & 0xff), 2);
}

void px_rid_init(struct px_rid_gen *g, uint64_t seed)
{
    g->key = hb_mix64(seed ^ 0x9e3779b97f4a7c15ull);
    g->n = 0;
}

void px_rid_next(struct px_rid_gen *g, char out[PX_RID_LEN])
{
    uint64_t n = ++g->n;
    hex64(hb_mix64(g->key ^ n), out);
    hex64(hb_mix64(g->key + n * 0x9e3779b97f4a7c15ull), out + 16);
}

uint64_t px_rid_next64(struct px_rid_gen *g)
{
    uint64_t v = hb_mix64(g->key + ++g->n);
    return v ? v : 1; /* a parent id of zeros is invalid */
}

bool px_rid_acceptable(struct hb_str v)
{
    if (v.len == 0 || v.len > PX_RID_CLIENT_MAX)
        return false;
    for (size_t i = 0; i < v.len; i++)
        if ((unsigned char)v.p[i] < 0x21 || (unsigned char)v.p[i] > 0x7e)
            return false;
    return true;
}

static bool lhex(const char *p, size_t n, bool *nonzero)
{
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
        if (c != '0')
            *nonzero = true;
    }
    return true;
}

bool px_rid_is_trace_id(struct hb_str v)
{
    bool nz = false;
    return v.len == 32 && lhex(v.p, 32, &nz) && nz;
}

bool px_traceparent_valid(struct hb_str v)
{
    if (v.len < PX_TRACEPARENT_LEN)
        return false;
    const char *p = v.p;
    bool nz = false, tnz = false, pnz = false;
    if (!lhex(p, 2, &nz) || (p[0] == 'f' && p[1] == 'f'))
        return false;
    bool v00 = p[0] == '0' && p[1] == '0';
    if (v00 && v.len != PX_TRACEPARENT_LEN)
        return false;
    if (!v00 && v.len > PX_TRACEPARENT_LEN && p[PX_TRACEPARENT_LEN] != '-')
        return false;
    return p[2] == '-' && lhex(p + 3, 32, &tnz) && tnz && p[35] == '-' &&
           lhex(p + 36, 16, &pnz) && pnz && p[52] == '-' && lhex(p + 53, 2, &nz);
}

void px_traceparent_make(const char trace_id[32], uint64_t parent_id,
                         char out[PX_TRACEPARENT_LEN])
{
    memcpy(out, "00-", 3);
    memcpy(out + 3, trace_id, 32);
    out[35] = '-';
    hex64(parent_id, out + 36);
    memcpy(out + 52, "-01", 3);
}
