/* libFuzzer target: differential round trip. A request (or, when the first
 * byte is odd, a response) that parses is written back with the h1 writer
 * and parsed again: the second parse must succeed and give the same message
 * (as far as the writer forwards it). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/h1_parse.h"
#include "core/h1_write.h"
#include "tests/core/test_h1_util.h"

#define MAXF 64
/* The writer may add Host, framing and Connection: room for them */
#define MAXF2 (MAXF + 4)

static void response_roundtrip(char *in, size_t size, enum h1_name_case nc)
{
    struct h1_parser p;
    struct hb_msg m1, m2;
    struct hpack_field f1[MAXF], f2[MAXF2];
    h1_parser_init(&p, NULL);
    if (h1_parse_response(&p, 0, in, size, &m1, f1, MAXF) <= 0)
        return;
    struct h1_write_opts o = h1t_opts_for(&m1, nc);
    size_t cap = h1_write_head_bound(&m1, NULL, 0);
    char *out = malloc(cap);
    ptrdiff_t w = h1_write_response_head(&m1, &o, NULL, 0, out, cap);
    if (w <= 0)
        abort();
    h1_parser_init(&p, NULL);
    if (h1_parse_response(&p, 0, out, (size_t)w, &m2, f2, MAXF2) != w)
        abort();
    char d1[8192], d2[8192];
    m1.version = m2.version = 0;
    m1.flags &= HB_MSG_HAS_CL | HB_MSG_CHUNKED | HB_MSG_END_STREAM;
    m2.flags &= HB_MSG_HAS_CL | HB_MSG_CHUNKED | HB_MSG_END_STREAM;
    h1t_dump(&m1, d1, sizeof d1, h1t_not_forwarded);
    h1t_dump(&m2, d2, sizeof d2, h1t_not_forwarded);
    if (strcmp(d1, d2) != 0)
        abort();
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 70000)
        return 0;
    enum h1_name_case nc = (data[0] & 2) ? H1_CASE_TITLE : H1_CASE_LOWER;
    bool resp = data[0] & 1;
    char *in = malloc(size);
    memcpy(in, data + 1, size - 1);
    if (resp) {
        response_roundtrip(in, size - 1, nc);
        free(in);
        return 0;
    }
    struct h1_parser p;
    struct hb_msg m1, m2;
    struct hpack_field f1[MAXF], f2[MAXF2];
    h1_parser_init(&p, NULL);
    if (h1_parse_request(&p, in, size - 1, &m1, f1, MAXF) > 0) {
        struct h1_write_opts o = h1t_opts_for(&m1, nc);
        size_t cap = h1_write_head_bound(&m1, NULL, 0);
        char *out = malloc(cap);
        ptrdiff_t w = h1_write_request_head(&m1, &o, NULL, 0, out, cap);
        if (w <= 0)
            abort(); /* whatever the parser accepts, the writer can write */
        h1_parser_init(&p, NULL);
        if (h1_parse_request(&p, out, (size_t)w, &m2, f2, MAXF2) != w)
            abort();
        char d1[8192], d2[8192];
        h1t_roundtrip_dump(&m1, d1, sizeof d1);
        h1t_roundtrip_dump(&m2, d2, sizeof d2);
        if (strcmp(d1, d2) != 0)
            abort();
        free(out);
    }
    free(in);
    return 0;
}
