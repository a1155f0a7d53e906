/* libFuzzer target: the HTTP/1.1 request head parser, then the body decoder
 * on what follows. Checks that the answer does not depend on how the input
 * is split, and the invariants of an accepted head (what reaches h2 must be
 * clean: lowercase token names, no CR/LF/NUL in values, one framing). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/h1_chars.h"
#include "core/h1_parse.h"
#include "tests/core/test_h1_util.h"

#define MAXF 64

static ptrdiff_t parse_at(const uint8_t *data, size_t size, size_t cut, bool bare_lf,
                          struct hb_msg *m, struct hpack_field *f, char **keep)
{
    struct h1_limits lim;
    struct h1_parser p;
    h1_limits_default(&lim);
    lim.allow_bare_lf = bare_lf;
    h1_parser_init(&p, &lim);
    ptrdiff_t r = 0;
    if (cut && cut < size) {
        char *a = malloc(cut);
        memcpy(a, data, cut);
        r = h1_parse_request(&p, a, cut, m, f, MAXF);
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
    r = h1_parse_request(&p, b, size, m, f, MAXF);
    *keep = b;
    return r;
}

static void check_head(const struct hb_msg *m)
{
    for (uint32_t i = 0; i < m->nfields; i++) {
        const struct hpack_field *f = &m->fields[i];
        if (f->name_len == 0)
            abort();
        for (uint32_t k = 0; k < f->name_len; k++)
            if (!h1_is((unsigned char)f->name[k], H1_C_TCHAR) ||
                (f->name[k] >= 'A' && f->name[k] <= 'Z'))
                abort();
        if (h1_scan_value(f->value, 0, f->value_len) != f->value_len)
            abort();
    }
    uint32_t framing = m->flags & (HB_MSG_CHUNKED | HB_MSG_HAS_CL);
    if (framing == (HB_MSG_CHUNKED | HB_MSG_HAS_CL))
        abort();
    if ((m->flags & HB_MSG_END_STREAM) && (m->flags & HB_MSG_CHUNKED))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 70000)
        return 0;
    bool bare_lf = size % 5 == 0;
    struct hb_msg m1, m2;
    struct hpack_field f1[MAXF], f2[MAXF];
    char *b1 = NULL, *b2 = NULL;
    ptrdiff_t r1 = parse_at(data, size, 0, bare_lf, &m1, f1, &b1);
    ptrdiff_t r2 = parse_at(data, size, size ? (data[0] * 131u) % size : 0, bare_lf, &m2, f2, &b2);
    if (r1 != r2)
        abort();
    if (r1 > 0) {
        char d1[8192], d2[8192];
        h1t_dump(&m1, d1, sizeof d1, NULL);
        h1t_dump(&m2, d2, sizeof d2, NULL);
        if (strcmp(d1, d2) != 0)
            abort();
        check_head(&m1);
        struct h1_body body;
        struct h1t_body_out o1, o2;
        h1_body_init(&body, &m1, NULL);
        h1t_body_run(&body, (const char *)data + r1, size - (size_t)r1, size, &o1);
        h1_body_init(&body, &m1, NULL);
        h1t_body_run(&body, (const char *)data + r1, size - (size_t)r1, 3, &o2);
        if (!h1t_body_same(&o1, &o2))
            abort();
    }
    free(b1);
    free(b2);
    return 0;
}
