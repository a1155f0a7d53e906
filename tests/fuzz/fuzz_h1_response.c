/* libFuzzer target: the HTTP/1.1 response head parser (the first byte picks
 * HEAD/CONNECT for the request answered), then the body decoder. The result
 * must not depend on how the input is split. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/h1_parse.h"
#include "tests/core/test_h1_util.h"

#define MAXF 64

static ptrdiff_t parse_at(const uint8_t *data, size_t size, size_t cut, unsigned req,
                          struct hb_msg *m, struct hpack_field *f, char **keep)
{
    struct h1_parser p;
    h1_parser_init(&p, NULL);
    ptrdiff_t r;
    if (cut && cut < size) {
        char *a = malloc(cut);
        memcpy(a, data, cut);
        r = h1_parse_response(&p, req, a, cut, m, f, MAXF);
        if (r > 0) {
            *keep = a; /* the head ended inside the prefix: same answer expected */
            return r;
        }
        free(a);
        if (r < 0)
            return r;
    }
    char *b = malloc(size ? size : 1);
    memcpy(b, data, size);
    r = h1_parse_response(&p, req, b, size, m, f, MAXF);
    *keep = b;
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 70000)
        return 0;
    unsigned req = data[0] & 3u;
    data++;
    size--;
    struct hb_msg m1, m2;
    struct hpack_field f1[MAXF], f2[MAXF];
    char *b1 = NULL, *b2 = NULL;
    ptrdiff_t r1 = parse_at(data, size, 0, req, &m1, f1, &b1);
    ptrdiff_t r2 = parse_at(data, size, size ? (size * 7u / 11u) : 0, req, &m2, f2, &b2);
    if (r1 != r2)
        abort();
    if (r1 > 0) {
        char d1[8192], d2[8192];
        h1t_dump(&m1, d1, sizeof d1, NULL);
        h1t_dump(&m2, d2, sizeof d2, NULL);
        if (strcmp(d1, d2) != 0 || m1.status < 100 || m1.status > 599)
            abort();
        if ((m1.flags & HB_MSG_CHUNKED) && (m1.flags & HB_MSG_HAS_CL))
            abort();
        if ((m1.flags & HB_MSG_CHUNKED) && hb_msg_find(&m1, HB_STR_LIT("content-length")))
            abort(); /* TE overrides CL: the CL must be gone */
        struct h1_body body;
        struct h1t_body_out o1, o2;
        h1_body_init(&body, &m1, NULL);
        h1t_body_run(&body, (const char *)data + r1, size - (size_t)r1, size, &o1);
        h1_body_init(&body, &m1, NULL);
        h1t_body_run(&body, (const char *)data + r1, size - (size_t)r1, 5, &o2);
        if (!h1t_body_same(&o1, &o2))
            abort();
    }
    free(b1);
    free(b2);
    return 0;
}
