/* libFuzzer target: decode(encode(x)) == x for our encoder and decoder on
 * one connection. Input: one option byte (table sizes, encoder options),
 * then fields as <name length, value length, flags, name, value>; a name
 * length of 0xff ends a header list (one block), and a flags byte with
 * bit 7 set changes the peer's table size before the next block. */
#include "hpack/hpack.h"

#include <stdlib.h>
#include <string.h>

#define MAX_FIELDS 64
#define SCRATCH 65536

static struct hpack_field list[MAX_FIELDS], got[MAX_FIELDS];
static uint8_t out[SCRATCH];
static char scratch[SCRATCH];

static void roundtrip(struct hpack_encoder *e, struct hpack_decoder *d, size_t n)
{
    size_t bound = hpack_encode_bound(list, n);
    if (bound > sizeof out)
        abort();
    ssize_t len = hpack_encode_block(e, list, n, out, sizeof out);
    if (len < 0 || (size_t)len > bound)
        abort();
    size_t ng = 0;
    if (hpack_decode_block(d, out, (size_t)len, got, MAX_FIELDS, &ng, scratch, sizeof scratch))
        abort();
    if (ng != n)
        abort();
    for (size_t i = 0; i < n; i++) {
        if (got[i].name_len != list[i].name_len || got[i].value_len != list[i].value_len ||
            memcmp(got[i].name, list[i].name, list[i].name_len) != 0 ||
            memcmp(got[i].value, list[i].value, list[i].value_len) != 0)
            abort();
        if ((list[i].flags & HPACK_FIELD_NEVER_INDEX) && !(got[i].flags & HPACK_FIELD_NEVER_INDEX))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct hpack_encoder *e = hpack_encoder_new();
    struct hpack_decoder *d = hpack_decoder_new(4096);
    if (!e || !d)
        goto out;
    hpack_encoder_set_options(e, data[0] & 0x7);
    hpack_decoder_set_limits(d, SCRATCH, MAX_FIELDS);
    if (data[0] & 0x8)
        hpack_encoder_set_large_value(e, 16);
    size_t n = 0, i = 1;
    while (i < size) {
        uint8_t nl = data[i++];
        if (nl == 0xff || n == MAX_FIELDS) {
            roundtrip(e, d, n);
            n = 0;
            continue;
        }
        if (i + 2 > size)
            break;
        uint8_t vl = data[i++], flags = data[i++];
        if (flags & 0x80) {
            /* A SETTINGS change: the decoder's limit, then the encoder. */
            uint32_t sz = (uint32_t)(flags & 0x7f) * 64;
            hpack_decoder_set_max_table_size(d, sz);
            hpack_encoder_set_peer_max_table_size(e, sz);
        }
        if (nl > size - i || vl > size - i - nl)
            break;
        list[n++] = (struct hpack_field){(const char *)data + i, (const char *)data + i + nl, nl,
                                         vl, flags & 1 ? HPACK_FIELD_NEVER_INDEX : 0};
        i += nl + vl;
    }
    roundtrip(e, d, n);
out:
    hpack_encoder_del(e);
    hpack_decoder_del(d);
    return 0;
}
