/* bench/hpack_bench — our HPACK decoder and encoder against libnghttp2's,
 * on the hpack-test-case corpus: decode = the nghttp2/ folder's encodings
 * of every story (one context per story), encode = every raw-data story.
 * Prints ns per header field and MB/s (decode: wire bytes in; encode: name
 * + value bytes in) side by side, with ratios, and compressed sizes. */
#include "hpack/hpack.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef H2B_HAVE_NGHTTP2
#include <nghttp2/nghttp2.h>
#endif

#define MAX_STORIES 64
#define MAX_CASES 512
#define MAX_FIELDS 256

struct bcase {
    uint8_t *wire;
    size_t wire_len;
    struct hpack_field *fields;
    size_t n;
};

struct story {
    struct bcase cases[MAX_CASES];
    size_t n;
};

static struct story wired[MAX_STORIES], raw[MAX_STORIES];
static size_t n_wired, n_raw;

/* A minimal scan of a story file: we need "wire" hex strings and the
 * "headers" [{"name": "value"}] lists; the corpus has no escapes in
 * either besides \" and \\, which we undo. */
static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    size_t got = fread(b, 1, (size_t)n, f);
    b[got] = '\0';
    fclose(f);
    return b;
}

/* Reads a JSON string at p (at '"'); returns a malloc'd copy, *end after. */
static char *jstr(const char *p, const char **end, size_t *len)
{
    p++;
    const char *e = p;
    while (*e && *e != '"')
        e += e[0] == '\\' && e[1] ? 2 : 1;
    char *o = malloc((size_t)(e - p) + 1), *q = o;
    while (*p && *p != '"') {
        if (*p == '\\' && p[1]) {
            p++;
            *q++ = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
            p++;
        } else {
            *q++ = *p++;
        }
    }
    *q = '\0';
    *len = (size_t)(q - o);
    *end = *p ? p + 1 : p;
    return o;
}

static void parse_story(const char *text, struct story *s)
{
    const char *p = text;
    while ((p = strstr(p, "\"headers\"")) && s->n < MAX_CASES) {
        /* The case object around this "headers": its "wire", if any, may
         * come before or after; we look back to the case start. */
        struct bcase *c = &s->cases[s->n++];
        const char *start = p;
        while (start > text && *start != '{')
            start--;
        const char *w = strstr(start, "\"wire\"");
        const char *next = strstr(p + 1, "\"headers\"");
        if (w && (!next || w < next) && (w > start)) {
            const char *q = strchr(w + 6, '"');
            size_t hl;
            char *hex = jstr(q, &q, &hl);
            c->wire = malloc(hl / 2 + 1);
            for (size_t i = 0; i + 1 < hl; i += 2) {
                unsigned v;
                sscanf(hex + i, "%2x", &v);
                c->wire[c->wire_len++] = (uint8_t)v;
            }
            free(hex);
        }
        c->fields = calloc(MAX_FIELDS, sizeof *c->fields);
        p = strchr(p, '[') + 1;
        for (;;) {
            while (*p == ' ' || *p == '\n' || *p == ',' || *p == '\r')
                p++;
            if (*p != '{')
                break;
            const char *q = strchr(p, '"');
            size_t nl, vl;
            char *name = jstr(q, &q, &nl);
            q = strchr(q, '"');
            char *value = jstr(q, &q, &vl);
            if (c->n < MAX_FIELDS)
                c->fields[c->n++] = (struct hpack_field){name, value, (uint32_t)nl, (uint32_t)vl, 0};
            p = strchr(q, '}') + 1;
        }
    }
}

static size_t load(const char *folder, struct story *out)
{
    size_t n = 0;
    for (int i = 0; i < MAX_STORIES; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s/story_%02d.json", H2B_HPACK_TEST_CASES, folder, i);
        char *t = read_all(path);
        if (!t)
            continue;
        parse_story(t, &out[n++]);
        free(t);
    }
    return n;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts); /* CPU time: the box is shared */
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static volatile size_t sink;

static void our_decode_pass(void)
{
    static struct hpack_field f[MAX_FIELDS];
    static char scratch[65536];
    for (size_t s = 0; s < n_wired; s++) {
        struct hpack_decoder *d = hpack_decoder_new(4096);
        for (size_t i = 0; i < wired[s].n; i++) {
            size_t n;
            if (hpack_decode_block(d, wired[s].cases[i].wire, wired[s].cases[i].wire_len, f,
                                   MAX_FIELDS, &n, scratch, sizeof scratch) != 0)
                abort();
            sink += n;
        }
        hpack_decoder_del(d);
    }
}

static size_t g_out_bytes;

static void our_encode_pass(void)
{
    static uint8_t out[65536];
    g_out_bytes = 0;
    for (size_t s = 0; s < n_raw; s++) {
        struct hpack_encoder *e = hpack_encoder_new();
        for (size_t i = 0; i < raw[s].n; i++) {
            ssize_t r = hpack_encode_block(e, raw[s].cases[i].fields, raw[s].cases[i].n, out,
                                           sizeof out);
            if (r < 0)
                abort();
            g_out_bytes += (size_t)r;
        }
        hpack_encoder_del(e);
    }
}

#ifdef H2B_HAVE_NGHTTP2
static void ng_decode_pass(void)
{
    for (size_t s = 0; s < n_wired; s++) {
        nghttp2_hd_inflater *inf;
        nghttp2_hd_inflate_new(&inf);
        for (size_t i = 0; i < wired[s].n; i++) {
            const uint8_t *p = wired[s].cases[i].wire;
            size_t left = wired[s].cases[i].wire_len;
            for (;;) {
                nghttp2_nv nv;
                int flags = 0;
                ssize_t r = nghttp2_hd_inflate_hd2(inf, &nv, &flags, p, left, 1);
                if (r < 0)
                    abort();
                p += r;
                left -= (size_t)r;
                if (flags & NGHTTP2_HD_INFLATE_EMIT)
                    sink += nv.namelen;
                if (flags & NGHTTP2_HD_INFLATE_FINAL)
                    break;
            }
            nghttp2_hd_inflate_end_headers(inf);
        }
        nghttp2_hd_inflate_del(inf);
    }
}

static nghttp2_nv *ng_nv[MAX_STORIES][MAX_CASES];

static void ng_encode_pass(void)
{
    static uint8_t out[65536];
    g_out_bytes = 0;
    for (size_t s = 0; s < n_raw; s++) {
        nghttp2_hd_deflater *def;
        nghttp2_hd_deflate_new(&def, 4096);
        for (size_t i = 0; i < raw[s].n; i++) {
            ssize_t r = nghttp2_hd_deflate_hd(def, out, sizeof out, ng_nv[s][i], raw[s].cases[i].n);
            if (r < 0)
                abort();
            g_out_bytes += (size_t)r;
        }
        nghttp2_hd_deflate_del(def);
    }
}
#endif

/* Seconds per pass of pass(), timed over at least 0.05 s of CPU time. */
static double measure_once(void (*pass)(void))
{
    int reps = 0;
    double t0 = now(), t;
    do {
        pass();
        reps++;
    } while ((t = now()) - t0 < 0.05);
    return (t - t0) / reps;
}

/* The machine is shared: a and b are timed in alternation, 15 rounds, and
 * each keeps its best round, so a busy moment hurts both or neither. */
static void measure_pair(void (*a)(void), void (*b)(void), double *ta, double *tb)
{
    a();
    if (b)
        b();
    *ta = *tb = 1e9;
    for (int r = 0; r < 15; r++) {
        double x = measure_once(a);
        if (x < *ta)
            *ta = x;
        if (b) {
            x = measure_once(b);
            if (x < *tb)
                *tb = x;
        }
    }
}

static void count(struct story *st, size_t n, int wire, size_t *fields, size_t *bytes)
{
    *fields = *bytes = 0;
    for (size_t s = 0; s < n; s++)
        for (size_t i = 0; i < st[s].n; i++) {
            *fields += st[s].cases[i].n;
            if (wire) {
                *bytes += st[s].cases[i].wire_len;
            } else {
                for (size_t k = 0; k < st[s].cases[i].n; k++)
                    *bytes += st[s].cases[i].fields[k].name_len + st[s].cases[i].fields[k].value_len;
            }
        }
}

static void row(const char *what, const char *who, double sec, size_t fields, size_t bytes)
{
    printf("%-8s %-8s %8.1f ns/field %8.1f MB/s\n", what, who, sec * 1e9 / (double)fields,
           (double)bytes / sec / 1e6);
}

int main(void)
{
    n_wired = load("nghttp2", wired);
    n_raw = load("raw-data", raw);
    if (!n_wired || !n_raw) {
        printf("hpack-test-case corpus not found at %s\n", H2B_HPACK_TEST_CASES);
        return 1;
    }
    size_t df, db, ef, eb;
    count(wired, n_wired, 1, &df, &db);
    count(raw, n_raw, 0, &ef, &eb);
    printf("decode: %zu stories, %zu fields, %zu wire bytes (nghttp2/ encodings)\n", n_wired, df, db);
    printf("encode: %zu stories, %zu fields, %zu header bytes (raw-data)\n\n", n_raw, ef, eb);
    double od, oe, nd = 0, ne = 0;
#ifdef H2B_HAVE_NGHTTP2
    for (size_t s = 0; s < n_raw; s++)
        for (size_t i = 0; i < raw[s].n; i++) {
            ng_nv[s][i] = calloc(raw[s].cases[i].n + 1, sizeof(nghttp2_nv));
            for (size_t k = 0; k < raw[s].cases[i].n; k++) {
                struct hpack_field *f = &raw[s].cases[i].fields[k];
                ng_nv[s][i][k] = (nghttp2_nv){(uint8_t *)f->name, (uint8_t *)f->value, f->name_len,
                                              f->value_len, NGHTTP2_NV_FLAG_NONE};
            }
        }
    measure_pair(our_decode_pass, ng_decode_pass, &od, &nd);
    measure_pair(our_encode_pass, ng_encode_pass, &oe, &ne);
    ng_encode_pass();
    size_t ng_size = g_out_bytes;
#else
    measure_pair(our_decode_pass, NULL, &od, &nd);
    measure_pair(our_encode_pass, NULL, &oe, &ne);
#endif
    our_encode_pass();
    size_t our_size = g_out_bytes;
    row("decode", "h2bridge", od, df, db);
#ifdef H2B_HAVE_NGHTTP2
    row("decode", "nghttp2", nd, df, db);
    row("encode", "h2bridge", oe, ef, eb);
    row("encode", "nghttp2", ne, ef, eb);
    printf("\nspeed ratio (h2bridge / nghttp2): decode %.2fx, encode %.2fx\n", nd / od, ne / oe);
    printf("compressed raw-data: h2bridge %zu bytes, nghttp2 %zu bytes (%.3f)\n", our_size, ng_size,
           (double)our_size / (double)ng_size);
#else
    row("encode", "h2bridge", oe, ef, eb);
    printf("(libnghttp2 not found: no comparison)\ncompressed raw-data: %zu bytes\n", our_size);
#endif
    return 0;
}
