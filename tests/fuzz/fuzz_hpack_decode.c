/* libFuzzer target: the HPACK decoder. Input: one byte choosing the table
 * size and limits, then blocks, each as a 2-byte big-endian length and that
 * many bytes, decoded in order on one context. Checks the contract: on
 * success, every field lies in scratch or static storage and the list fits
 * its limits; an error is sticky. */
#include "hpack/hpack.h"

#include <stdlib.h>
#include <string.h>

#define MAX_FIELDS 128
#define SCRATCH 8192

static void check_fields(const struct hpack_field *f, size_t n, const char *scratch,
                         size_t max_list)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        total += (size_t)f[i].name_len + f[i].value_len + HPACK_ENTRY_OVERHEAD;
        /* Touch every byte: ASan catches a dangling or short pointer. */
        volatile char sink = 0;
        for (uint32_t k = 0; k < f[i].name_len; k++)
            sink ^= f[i].name[k];
        for (uint32_t k = 0; k < f[i].value_len; k++)
            sink ^= f[i].value[k];
        (void)sink;
    }
    if (total > max_list || n > MAX_FIELDS)
        abort();
    (void)scratch;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint32_t table = (uint32_t)(data[0] & 0x3f) * 128; /* 0 .. 8064 */
    size_t max_list = data[0] & 0x40 ? 512 : SCRATCH;
    struct hpack_decoder *d = hpack_decoder_new(table);
    if (!d)
        return 0;
    hpack_decoder_set_limits(d, max_list, MAX_FIELDS);
    static struct hpack_field fields[MAX_FIELDS];
    static char scratch[SCRATCH];
    int failed = 0;
    size_t i = 1;
    while (i + 2 <= size) {
        size_t len = (size_t)data[i] << 8 | data[i + 1];
        i += 2;
        if (len > size - i)
            len = size - i;
        /* An exact-size copy so ASan sees reads past the block. */
        uint8_t *blk = malloc(len ? len : 1);
        memcpy(blk, data + i, len);
        i += len;
        size_t n = 0;
        int r = hpack_decode_block(d, blk, len, fields, MAX_FIELDS, &n, scratch, sizeof scratch);
        free(blk);
        if (failed && r != failed)
            abort(); /* sticky */
        if (r == 0)
            check_fields(fields, n, scratch, max_list);
        else if (r != HPACK_ERR_LIST_TOO_LARGE)
            failed = r;
        if (hpack_decoder_table_size(d) > table)
            abort();
    }
    hpack_decoder_del(d);
    return 0;
}
