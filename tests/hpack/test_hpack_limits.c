/* Decoder limits: header list size (name + value + 32 per field), field
 * count, HPACK bombs, scratch space; the table stays in sync when a list
 * is refused. Truncations of valid blocks never crash. */
#include "hpack_testlib.h"

static void expect_too_large(struct hpack_decoder *d, const char *hex)
{
    tl_expect_fail(d, hex, HPACK_ERR_LIST_TOO_LARGE, "header list too large");
}

static void test_list_size_boundary(void **state)
{
    struct hpack_decoder *d = hpack_decoder_new(4096);
    hpack_decoder_set_limits(d, 68, 256); /* two "a: b" fields are 34 + 34 */
    tl_expect_decode(d, "4001610162 be", (struct tl_kv[]){{"a", "b"}, {"a", "b"}}, 2);
    hpack_decoder_set_limits(d, 67, 256);
    expect_too_large(d, "be be");
    /* Not sticky: the table is in sync and the next block decodes. */
    tl_expect_decode(d, "be", (struct tl_kv[]){{"a", "b"}}, 1);
    hpack_decoder_del(d);
}

static void test_refused_list_keeps_table(void **state)
{
    struct hpack_decoder *d = hpack_decoder_new(4096);
    hpack_decoder_set_limits(d, 100, 256);
    /* 3 x 34 > 100: refused, but all three entries enter the table, the
     * third through the over-limit path (with a dynamic name reference). */
    expect_too_large(d, "4001610162 4001630164 7f000165");
    assert_int_equal(hpack_decoder_table_size(d), 102);
    hpack_decoder_set_limits(d, 1000, 256);
    tl_expect_decode(d, "be bf c0", (struct tl_kv[]){{"a", "e"}, {"c", "d"}, {"a", "b"}}, 3);
    /* Over the limit, a Huffman error is still found (the table would be
     * out of sync otherwise). */
    hpack_decoder_set_limits(d, 40, 256);
    tl_expect_fail(d, "be be 40017881 18", HPACK_ERR_COMPRESSION, "huffman padding not all ones");
    hpack_decoder_del(d);

    /* Over the limit, an entry larger than the table empties it (§4.4). */
    d = hpack_decoder_new(64);
    hpack_decoder_set_limits(d, 40, 256);
    tl_expect_decode(d, "4001610162", (struct tl_kv[]){{"a", "b"}}, 1);
    expect_too_large(d, "be 400161213031323334353637383930313233343536373839303132333435363738393031 32");
    assert_int_equal(hpack_decoder_table_size(d), 0);
    hpack_decoder_del(d);
}

static void test_max_fields(void **state)
{
    struct hpack_decoder *d = hpack_decoder_new(4096);
    hpack_decoder_set_limits(d, 65536, 2);
    tl_expect_decode(d, "82 84", (struct tl_kv[]){{":method", "GET"}, {":path", "/"}}, 2);
    tl_expect_fail(d, "82 84 86", HPACK_ERR_LIST_TOO_LARGE, "too many header fields");
    hpack_decoder_set_limits(d, 65536, 256);
    /* The caller's array is a limit too. */
    struct hpack_field f[2];
    char s[64];
    size_t n = 9;
    uint8_t in[] = {0x82, 0x84, 0x86};
    assert_int_equal(hpack_decode_block(d, in, 3, f, 2, &n, s, sizeof s),
                     HPACK_ERR_LIST_TOO_LARGE);
    assert_int_equal(n, 0);
    assert_string_equal(hpack_decoder_error_detail(d), "too many header fields");
    hpack_decoder_del(d);
}

/* Many references to one large dynamic entry: the list limit is checked
 * before the bytes are copied, so the decoder writes at most the limit and
 * the rest costs one table lookup per input byte. */
static void test_bomb_references(void **state)
{
    struct hpack_decoder *d = hpack_decoder_new(4096);
    hpack_decoder_set_limits(d, 65536, 100000);
    size_t vlen = 4000;
    size_t nrefs = 50000;
    size_t len = 4 + 3 + vlen + nrefs;
    uint8_t *in = malloc(len);
    uint8_t *o = in;
    *o++ = 0x40; /* incremental, literal name "x", value 4000 raw bytes */
    *o++ = 0x01;
    *o++ = 'x';
    *o++ = 0x7f;
    *o++ = (uint8_t)(0x80 | ((vlen - 127) & 0x7f));
    *o++ = (uint8_t)((vlen - 127) >> 7);
    memset(o, 'a', vlen);
    o += vlen;
    memset(o, 0xbe, nrefs);
    o += nrefs;
    size_t scratch_len = 4 * 65536;
    char *scratch = malloc(scratch_len);
    memset(scratch, 0x5a, scratch_len);
    static struct hpack_field f[100000];
    size_t n;
    int r = hpack_decode_block(d, in, (size_t)(o - in), f, 100000, &n, scratch, scratch_len);
    assert_int_equal(r, HPACK_ERR_LIST_TOO_LARGE);
    /* Nothing written past the 64 KiB the list may take. */
    for (size_t i = 65536; i < scratch_len; i++)
        assert_int_equal(scratch[i], 0x5a);
    assert_int_equal(hpack_decoder_table_size(d), 4000 + 1 + 32);
    free(scratch);
    free(in);
    hpack_decoder_del(d);
}

/* Thousands of tiny fields: the field limit stops them. */
static void test_bomb_tiny_fields(void **state)
{
    struct hpack_decoder *d = hpack_decoder_new(4096);
    size_t nrefs = 100000;
    uint8_t *in = malloc(nrefs);
    memset(in, 0x82, nrefs);
    static struct hpack_field f[512];
    static char scratch[65536];
    size_t n;
    assert_int_equal(hpack_decode_block(d, in, nrefs, f, 512, &n, scratch, sizeof scratch),
                     HPACK_ERR_LIST_TOO_LARGE);
    free(in);
    hpack_decoder_del(d);
}

static void test_scratch_too_small(void **state)
{
    struct hpack_decoder *d = hpack_decoder_new(4096);
    uint8_t in[] = {0x00, 0x01, 'a', 0x0c, '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'a', 'b'};
    struct hpack_field f[4];
    char s[10];
    size_t n;
    assert_int_equal(hpack_decode_block(d, in, sizeof in, f, 4, &n, s, sizeof s), HPACK_ERR_BUFFER);
    assert_string_equal(hpack_decoder_error_detail(d), "scratch buffer too small");
    /* The context is failed: the same answer afterwards. */
    assert_int_equal(hpack_decode_block(d, (const uint8_t *)"\x82", 1, f, 4, &n, s, sizeof s),
                     HPACK_ERR_BUFFER);
    hpack_decoder_del(d);
}

/* Every truncation of the C.6 blocks either decodes or is a compression
 * error, read from a buffer ending at a guard page. */
static void test_truncations(void **state)
{
    static const char *const hex[] = {
        "488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863"
        "c78f0b97c8e9ae82ae43d3",
        "4883640effc1c0bf",
        "88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b3"
        "35dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007",
    };
    for (int b = 0; b < 3; b++) {
        uint8_t in[256];
        long len = tu_unhex(hex[b], in, sizeof in);
        for (long cut = 0; cut <= len; cut++) {
            struct hpack_decoder *d = hpack_decoder_new(256);
            struct hpack_field f[16];
            char s[1024];
            size_t n;
            for (int prev = 0; prev < b; prev++) {
                uint8_t p[256];
                long pl = tu_unhex(hex[prev], p, sizeof p);
                assert_int_equal(hpack_decode_block(d, p, (size_t)pl, f, 16, &n, s, sizeof s), 0);
            }
            int r = tl_decode(d, in, (size_t)cut, f, 16, &n, s, sizeof s);
            assert_true(r == 0 || r == HPACK_ERR_COMPRESSION);
            hpack_decoder_del(d);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_size_boundary),
        cmocka_unit_test(test_refused_list_keeps_table),
        cmocka_unit_test(test_max_fields),
        cmocka_unit_test(test_bomb_references),
        cmocka_unit_test(test_bomb_tiny_fields),
        cmocka_unit_test(test_scratch_too_small),
        cmocka_unit_test(test_truncations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
