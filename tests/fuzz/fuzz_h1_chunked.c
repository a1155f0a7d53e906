/* libFuzzer target: the chunked body decoder. Decoding the input whole, one
 * byte at a time and in 13-byte pieces must give the same data, trailers,
 * leftover and error. */
#include <stdint.h>
#include <stdlib.h>

#include "core/h1_body.h"
#include "tests/core/test_h1_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 8192)
        return 0;
    struct h1_body b;
    struct h1t_body_out whole, bytes, pieces;
    h1_body_init_kind(&b, H1_BODY_CHUNKED, 0, NULL);
    h1t_body_run(&b, (const char *)data, size, size ? size : 1, &whole);
    h1_body_init_kind(&b, H1_BODY_CHUNKED, 0, NULL);
    h1t_body_run(&b, (const char *)data, size, 1, &bytes);
    h1_body_init_kind(&b, H1_BODY_CHUNKED, 0, NULL);
    h1t_body_run(&b, (const char *)data, size, 13, &pieces);
    if (!h1t_body_same(&whole, &bytes) || !h1t_body_same(&whole, &pieces))
        abort();
    if (whole.rc == 0 && whole.data_len > size)
        abort();
    return 0;
}
