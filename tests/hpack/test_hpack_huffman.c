/* Huffman coding (RFC 7541 §5.2, Appendix B): our tables against
 * libnghttp2's inflater (a test-only oracle), exhaustively per symbol, and
 * round trips. */
#include "hpack_testlib.h"
#include "hpack/hpack_internal.h"

#ifdef H2B_HAVE_NGHTTP2
#include <nghttp2/nghttp2.h>
#endif

/* A block with one literal-without-indexing field "x": value Huffman-coded
 * by our encoder. Returns the block length. */
static size_t huff_block(const uint8_t *s, size_t len, uint8_t *out)
{
    uint8_t *o = out;
    *o++ = 0x00;
    *o++ = 0x01;
    *o++ = 'x';
    o = hpack_int_encode(o, 0x80, 7, (uint32_t)hpack_huff_encoded_len((const char *)s, len));
    o = hpack_huff_encode(o, (const char *)s, len);
    return (size_t)(o - out);
}

#ifdef H2B_HAVE_NGHTTP2
/* nghttp2 decodes the block to a single field equal to x: s. */
static void nghttp2_check(const uint8_t *blk, size_t blen, const uint8_t *s, size_t len)
{
    nghttp2_hd_inflater *inf;
    assert_int_equal(nghttp2_hd_inflate_new(&inf), 0);
    nghttp2_nv nv;
    int flags = 0, got = 0;
    const uint8_t *p = blk;
    size_t left = blen;
    for (;;) {
        ssize_t r = nghttp2_hd_inflate_hd2(inf, &nv, &flags, p, left, 1);
        assert_true(r >= 0);
        p += r;
        left -= (size_t)r;
        if (flags & NGHTTP2_HD_INFLATE_EMIT) {
            assert_int_equal(nv.valuelen, len);
            assert_memory_equal(nv.value, s, len);
            got++;
        }
        if (flags & NGHTTP2_HD_INFLATE_FINAL)
            break;
    }
    assert_int_equal(got, 1);
    nghttp2_hd_inflate_del(inf);
}
#endif

static void check_both(const uint8_t *s, size_t len)
{
    static uint8_t blk[8192];
    size_t blen = huff_block(s, len, blk);
    struct hpack_decoder *d = hpack_decoder_new(4096);
    struct hpack_field f[2];
    static char scratch[8192];
    size_t n;
    int r = tl_decode(d, blk, blen, f, 2, &n, scratch, sizeof scratch);
    assert_int_equal(r, 0);
    assert_int_equal(n, 1);
    assert_int_equal(f[0].value_len, len);
    assert_memory_equal(f[0].value, s, len);
    hpack_decoder_del(d);
#ifdef H2B_HAVE_NGHTTP2
    nghttp2_check(blk, blen, s, len);
#endif
}

static void test_every_symbol(void **state)
{
    /* Each symbol alone, twice and thrice (different padding each time). */
    for (int b = 0; b < 256; b++) {
        uint8_t s[3] = {(uint8_t)b, (uint8_t)b, (uint8_t)b};
        for (size_t len = 1; len <= 3; len++)
            check_both(s, len);
    }
    /* Every pair of symbols, which moves every code to every bit offset. */
    for (int a = 0; a < 256; a += 3)
        for (int b = 0; b < 256; b++) {
            uint8_t s[2] = {(uint8_t)a, (uint8_t)b};
            check_both(s, 2);
        }
}

static void test_random_strings(void **state)
{
    srand(7541);
    static uint8_t s[3000];
    for (int i = 0; i < 400; i++) {
        size_t len = (size_t)rand() % sizeof s;
        int text = i & 1; /* half printable (the common case), half binary */
        for (size_t j = 0; j < len; j++)
            s[j] = text ? (uint8_t)(' ' + rand() % 95) : (uint8_t)rand();
        check_both(s, len);
    }
}

static void test_encoded_len(void **state)
{
    /* Appendix C.4.1: "www.example.com" is 12 bytes Huffman-coded. */
    assert_int_equal(hpack_huff_encoded_len("www.example.com", 15), 12);
    uint8_t out[16];
    uint8_t *end = hpack_huff_encode(out, "www.example.com", 15);
    assert_int_equal(end - out, 12);
    uint8_t want[12];
    tu_unhex("f1e3c2e5f23a6ba0ab90f4ff", want, sizeof want);
    assert_memory_equal(out, want, 12);
    assert_int_equal(hpack_huff_encoded_len("", 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encoded_len),
        cmocka_unit_test(test_every_symbol),
        cmocka_unit_test(test_random_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
