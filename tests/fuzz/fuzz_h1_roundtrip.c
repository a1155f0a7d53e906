/* libFuzzer target: differential round trip. A request (or, when the first
 * byte is odd, a response) that parses is written back with the h1 writer
 * and parsed again: the second parse must succeed and give the same message
 * (as far as the writer forwards it). With names in preserve mode (the
 * parsers keep the case), writing the second parse again must give the very
 * same bytes, and each request name must be written as the input spelt it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/h1_parse.h"
#include "core/h1_write.h"
#include "tests/core/test_h1_util.h"

#define MAXF 64
/* The writer may add Host, framing and Connection: room for them */
#define MAXF2 (MAXF + 4)
#define CASE_BYTES (70000 / 8 + 1)

static uint8_t case1[CASE_BYTES], case2[CASE_BYTES];

/* preserve: parse `out` again keeping the case and write it again: the
 * same bytes must come out. */
static void same_again(const char *out, size_t w, bool resp)
{
    struct h1_parser p;
    struct hb_msg m;
    struct hpack_field f[MAXF2];
    char *copy = malloc(w), *again = malloc(w);
    memcpy(copy, out, w);
    h1_parser_init(&p, NULL);
    h1_parser_keep_case(&p, case2, sizeof case2);
    ptrdiff_t r = resp ? h1_parse_response(&p, 0, copy, w, &m, f, MAXF2)
                       : h1_parse_request(&p, copy, w, &m, f, MAXF2);
    if (r != (ptrdiff_t)w)
        abort();
    struct h1_write_opts o = h1t_opts_for(&m, H1_CASE_PRESERVE);
    ptrdiff_t w2 = resp ? h1_write_response_head(&m, &o, NULL, 0, again, w)
                        : h1_write_request_head(&m, &o, NULL, 0, again, w);
    if (w2 != (ptrdiff_t)w || memcmp(again, out, w) != 0)
        abort();
    free(copy);
    free(again);
}

/* Fields the writer drops and writes itself, in Title-Case. */
static bool writers_own(const struct hpack_field *f)
{
    static const char *const own[] = {"host", "content-length", "transfer-encoding", "connection"};
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
        if (hb_str_eq(hb_str_make(f->name, f->name_len), hb_str_c(own[i])))
            return true;
    return false;
}

/* Each name of m (parsed from in, a copy of orig) spelt as in orig. */
static void spelt_as_sent(const struct hb_msg *m, const char *in, const uint8_t *orig,
                          const char *out, size_t w)
{
    for (uint32_t i = 0; i < m->nfields; i++) {
        const struct hpack_field *f = &m->fields[i];
        char line[80];
        if (f->name_len + 3 > sizeof line)
            continue;
        /* "\n<Name>:" occurs in the output unless the writer drops the field */
        line[0] = '\n';
        memcpy(line + 1, orig + (f->name - in), f->name_len);
        line[f->name_len + 1] = ':';
        bool found = false;
        for (size_t k = 0; !found && k + f->name_len + 2 <= w; k++)
            found = memcmp(out + k, line, f->name_len + 2) == 0;
        bool lower_found = false;
        for (size_t k = 0; !lower_found && k + f->name_len + 2 <= w; k++)
            lower_found = out[k] == '\n' && out[k + f->name_len + 1] == ':' &&
                          hb_str_eq_nocase(hb_str_make(out + k + 1, f->name_len),
                                           hb_str_make(f->name, f->name_len));
        if (lower_found && !found && !writers_own(f))
            abort(); /* written, but not as sent */
    }
}

static void response_roundtrip(char *in, size_t size, enum h1_name_case nc)
{
    struct h1_parser p;
    struct hb_msg m1, m2;
    struct hpack_field f1[MAXF], f2[MAXF2];
    h1_parser_init(&p, NULL);
    if (nc == H1_CASE_PRESERVE)
        h1_parser_keep_case(&p, case1, sizeof case1);
    if (h1_parse_response(&p, 0, in, size, &m1, f1, MAXF) <= 0)
        return;
    struct h1_write_opts o = h1t_opts_for(&m1, nc);
    size_t cap = h1_write_head_bound(&m1, NULL, 0);
    char *out = malloc(cap);
    ptrdiff_t w = h1_write_response_head(&m1, &o, NULL, 0, out, cap);
    if (w <= 0)
        abort();
    char *sent = malloc((size_t)w); /* the parse below lowercases out */
    memcpy(sent, out, (size_t)w);
    h1_parser_init(&p, NULL);
    if (h1_parse_response(&p, 0, out, (size_t)w, &m2, f2, MAXF2) != w)
        abort();
    char d1[8192], d2[8192];
    m1.version = m2.version = 0;
    /* CLOSE stays: both sides have it (the writer adds Connection: close),
     * and the comparison leaves out a field named close then. */
    m1.flags &= HB_MSG_HAS_CL | HB_MSG_CHUNKED | HB_MSG_END_STREAM | HB_MSG_CLOSE;
    m2.flags &= HB_MSG_HAS_CL | HB_MSG_CHUNKED | HB_MSG_END_STREAM | HB_MSG_CLOSE;
    h1t_dump(&m1, d1, sizeof d1, h1t_not_forwarded);
    h1t_dump(&m2, d2, sizeof d2, h1t_not_forwarded);
    if (strcmp(d1, d2) != 0)
        abort();
    if (nc == H1_CASE_PRESERVE)
        same_again(sent, (size_t)w, true);
    free(sent);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 70000)
        return 0;
    enum h1_name_case nc = (data[0] & 4)   ? H1_CASE_PRESERVE
                           : (data[0] & 2) ? H1_CASE_TITLE
                                           : H1_CASE_LOWER;
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
    if (nc == H1_CASE_PRESERVE)
        h1_parser_keep_case(&p, case1, sizeof case1);
    if (h1_parse_request(&p, in, size - 1, &m1, f1, MAXF) > 0) {
        struct h1_write_opts o = h1t_opts_for(&m1, nc);
        size_t cap = h1_write_head_bound(&m1, NULL, 0);
        char *out = malloc(cap);
        ptrdiff_t w = h1_write_request_head(&m1, &o, NULL, 0, out, cap);
        if (w <= 0)
            abort(); /* whatever the parser accepts, the writer can write */
        char *sent = malloc((size_t)w); /* the parse below lowercases out */
        memcpy(sent, out, (size_t)w);
        h1_parser_init(&p, NULL);
        if (h1_parse_request(&p, out, (size_t)w, &m2, f2, MAXF2) != w)
            abort();
        char d1[8192], d2[8192];
        h1t_roundtrip_dump(&m1, d1, sizeof d1);
        h1t_roundtrip_dump(&m2, d2, sizeof d2);
        if (strcmp(d1, d2) != 0)
            abort();
        if (nc == H1_CASE_PRESERVE) {
            spelt_as_sent(&m1, in, data + 1, sent, (size_t)w);
            same_again(sent, (size_t)w, false);
        }
        free(sent);
        free(out);
    }
    free(in);
    return 0;
}
