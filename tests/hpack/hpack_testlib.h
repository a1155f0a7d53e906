/* tests/hpack/hpack_testlib.h — helpers shared by the hpack test binaries
 * (header-only: each test_*.c is its own binary). */
#ifndef H2B_HPACK_TESTLIB_H
#define H2B_HPACK_TESTLIB_H

#include "hpack/hpack.h"
#include "testutil/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TL_MAX_FIELDS 512
#define TL_SCRATCH (256 * 1024)

/* An expected field, by NUL-terminated strings. */
struct tl_kv {
    const char *name;
    const char *value;
};

static inline struct hpack_field tl_field(const char *name, const char *value)
{
    struct hpack_field f = {name, value, (uint32_t)strlen(name), (uint32_t)strlen(value), 0};
    return f;
}

/* Decodes in[0..len) from a copy that ends at a guard page. */
static inline int tl_decode(struct hpack_decoder *d, const uint8_t *in, size_t len,
                            struct hpack_field *fields, size_t max, size_t *n, char *scratch,
                            size_t scratch_len)
{
    uint8_t *g = tu_guard_copy(in, len);
    int r = hpack_decode_block(d, g, len, fields, max, n, scratch, scratch_len);
    tu_guard_free(g, len);
    return r;
}

/* Decodes a hex block and asserts it gives exactly want[0..nwant). */
static inline void tl_expect_decode(struct hpack_decoder *d, const char *hex,
                                    const struct tl_kv *want, size_t nwant)
{
    uint8_t in[4096];
    long len = tu_unhex(hex, in, sizeof in);
    assert_true(len >= 0);
    static struct hpack_field fields[TL_MAX_FIELDS];
    static char scratch[TL_SCRATCH];
    size_t n = 0;
    int r = tl_decode(d, in, (size_t)len, fields, TL_MAX_FIELDS, &n, scratch, sizeof scratch);
    if (r != 0)
        fprintf(stderr, "decode: %s (%s)\n", hpack_err_name(r), hpack_decoder_error_detail(d));
    assert_int_equal(r, 0);
    assert_int_equal(n, nwant);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(fields[i].name_len, strlen(want[i].name));
        assert_memory_equal(fields[i].name, want[i].name, fields[i].name_len);
        assert_int_equal(fields[i].value_len, strlen(want[i].value));
        assert_memory_equal(fields[i].value, want[i].value, fields[i].value_len);
    }
}

/* Decodes a hex block that must fail with err and the given detail. */
static inline void tl_expect_fail(struct hpack_decoder *d, const char *hex, int err,
                                  const char *detail)
{
    uint8_t in[4096];
    long len = tu_unhex(hex, in, sizeof in);
    assert_true(len >= 0);
    struct hpack_field fields[64];
    char scratch[4096];
    size_t n = 99;
    int r = tl_decode(d, in, (size_t)len, fields, 64, &n, scratch, sizeof scratch);
    if (r != err || strcmp(hpack_decoder_error_detail(d), detail) != 0)
        fprintf(stderr, "%s: got %s (%s), want %s (%s)\n", hex, hpack_err_name(r),
                hpack_decoder_error_detail(d), hpack_err_name(err), detail);
    assert_int_equal(r, err);
    assert_string_equal(hpack_decoder_error_detail(d), detail);
    assert_int_equal(n, 0);
}

/* Encodes kv[0..n) and asserts the bytes equal hex. */
static inline void tl_expect_encode(struct hpack_encoder *e, const struct tl_kv *kv, size_t n,
                                    const char *hex)
{
    struct hpack_field f[64];
    for (size_t i = 0; i < n; i++)
        f[i] = tl_field(kv[i].name, kv[i].value);
    uint8_t want[4096], out[4096];
    long wl = tu_unhex(hex, want, sizeof want);
    assert_true(wl >= 0);
    ssize_t got = hpack_encode_block(e, f, n, out, sizeof out);
    assert_int_equal(got, wl);
    assert_memory_equal(out, want, (size_t)wl);
}

#ifdef H2B_HAVE_NGHTTP2
#include <nghttp2/nghttp2.h>

/* nghttp2 inflates blk to exactly want[0..n). */
static inline void tl_oracle_inflate(nghttp2_hd_inflater *inf, const uint8_t *blk, size_t len,
                                     const struct hpack_field *want, size_t n)
{
    size_t got = 0;
    for (;;) {
        nghttp2_nv nv;
        int flags = 0;
        ssize_t r = nghttp2_hd_inflate_hd2(inf, &nv, &flags, blk, len, 1);
        assert_true(r >= 0);
        blk += r;
        len -= (size_t)r;
        if (flags & NGHTTP2_HD_INFLATE_EMIT) {
            assert_true(got < n);
            assert_int_equal(nv.namelen, want[got].name_len);
            assert_memory_equal(nv.name, want[got].name, nv.namelen);
            assert_int_equal(nv.valuelen, want[got].value_len);
            assert_memory_equal(nv.value, want[got].value, nv.valuelen);
            got++;
        }
        if (flags & NGHTTP2_HD_INFLATE_FINAL)
            break;
    }
    nghttp2_hd_inflate_end_headers(inf);
    assert_int_equal(got, n);
}
#endif

#endif
