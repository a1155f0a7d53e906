/* libFuzzer target: the demo origin's parsers (tools/origin/origin_parse.c).
 * The input is parsed as a request head (and, if it parses, its framing),
 * and decoded as a chunked body twice — whole and one byte at a time — which
 * must agree on the data, the consumed length and the result. */
#include "tools/origin/origin_parse.c"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct run {
    int rc;
    size_t pos, n;
    uint8_t out[8192];
};

static void decode(const uint8_t *in, size_t len, size_t step, struct run *r)
{
    struct og_chunked c;
    og_chunked_init(&c, 256);
    size_t have = 0;
    r->rc = HB_EAGAIN;
    r->pos = r->n = 0;
    while (!og_chunked_done(&c)) {
        if (r->pos == have) {
            if (have == len)
                return;
            have = have + step < len ? have + step : len;
        }
        uint64_t left = og_chunked_data_left(&c);
        if (left) {
            size_t n = left < have - r->pos ? (size_t)left : have - r->pos;
            memcpy(r->out + r->n, in + r->pos, n);
            r->n += n;
            r->pos += n;
            og_chunked_data_done(&c, n);
            continue;
        }
        ptrdiff_t k = og_chunked_feed(&c, (const char *)in + r->pos, have - r->pos);
        if (k < 0) {
            r->rc = (int)k;
            return;
        }
        r->pos += (size_t)k;
    }
    r->rc = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct run whole, bytes;
    if (size > sizeof(whole.out))
        return 0;

    struct og_field f[16];
    struct og_head h = {.fields = f, .cap = 16};
    if (og_parse_head((const char *)data, size, &h) == 0) {
        struct og_framing fr;
        const char *why = NULL;
        if (h.method.len == 0 || h.target.len == 0 || h.nfields > 16)
            abort();
        if (og_head_framing(&h, &fr, &why) != 0 && !why)
            abort();
    }

    decode(data, size, size ? size : 1, &whole);
    decode(data, size, 1, &bytes);
    /* an error may be found at a different point only if it is the same error */
    if (whole.rc != bytes.rc || whole.n != bytes.n || memcmp(whole.out, bytes.out, whole.n) != 0)
        abort();
    if (whole.rc == 0 && whole.pos != bytes.pos)
        abort();
    return 0;
}
