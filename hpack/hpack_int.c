/* hpack/hpack_int.c — RFC 7541 §5.1 prefixed integers. */
#include "hpack/hpack_internal.h"

int hpack_int_decode(const uint8_t **pp, const uint8_t *end, unsigned n, uint32_t *out)
{
    const uint8_t *p = *pp;
    if (p >= end)
        return HPACK_INT_E_TRUNC;
    uint32_t mask = (1u << n) - 1;
    uint32_t v = *p++ & mask;
    if (v < mask) {
        *pp = p;
        *out = v;
        return 0;
    }
    /* §5.1: continuation bytes carry 7 bits each, least significant first.
     * Five of them reach 2^35; we accept only what fits in 32 bits, and no
     * sixth byte (an encoding padded with 0x80 bytes is an overflow too:
     * §5.1 lets a decoder treat encodings past its limits as errors). */
    uint64_t acc = v;
    for (unsigned shift = 0;; shift += 7) {
        if (shift > 28)
            return HPACK_INT_E_OVERFLOW;
        if (p >= end)
            return HPACK_INT_E_TRUNC;
        uint8_t b = *p++;
        acc += (uint64_t)(b & 0x7f) << shift;
        if (acc > UINT32_MAX)
            return HPACK_INT_E_OVERFLOW;
        if (!(b & 0x80))
            break;
    }
    *pp = p;
    *out = (uint32_t)acc;
    return 0;
}

uint8_t *hpack_int_encode(uint8_t *out, uint8_t first, unsigned n, uint32_t v)
{
    uint32_t mask = (1u << n) - 1;
    if (v < mask) {
        *out++ = (uint8_t)(first | v);
        return out;
    }
    *out++ = (uint8_t)(first | mask);
    v -= mask;
    while (v >= 0x80) {
        *out++ = (uint8_t)(0x80 | (v & 0x7f));
        v >>= 7;
    }
    *out++ = (uint8_t)v;
    return out;
}
