/* The decoder's rules: every malformed input is a sticky COMPRESSION error
 * with a precise detail; limits; size updates; table edge cases. */
#include "hpack_testlib.h"

static struct hpack_decoder *dec(uint32_t size)
{
    struct hpack_decoder *d = hpack_decoder_new(size);
    assert_non_null(d);
    return d;
}

static void expect_fail(const char *hex, const char *detail)
{
    struct hpack_decoder *d = dec(4096);
    tl_expect_fail(d, hex, HPACK_ERR_COMPRESSION, detail);
    /* Sticky: a valid block fails the same way afterwards. */
    tl_expect_fail(d, "82", HPACK_ERR_COMPRESSION, detail);
    hpack_decoder_del(d);
}

static void test_integer_overflow(void **state)
{
    expect_fail("0fffffffff7f", "integer overflow");     /* > 2^32 - 1 */
    expect_fail("ff8080808080800001", "integer overflow"); /* a sixth continuation byte */
    expect_fail("ff", "integer past the block end");
    expect_fail("ff80", "integer past the block end");
    /* 2^32 - 1 itself is an integer, just not an index. */
    expect_fail("ff80ffffff0f", "index out of range");
}

static void test_index_rules(void **state)
{
    expect_fail("80", "index 0");
    expect_fail("be", "index out of range");   /* 62, empty dynamic table */
    expect_fail("7e0161", "index out of range"); /* name index 62 */
    expect_fail("0f30", "index out of range");  /* name index 63, no indexing */
    expect_fail("1f30", "index out of range");  /* never indexed */
    struct hpack_decoder *d = dec(4096);
    tl_expect_decode(d, "bd", (struct tl_kv[]){{"www-authenticate", ""}}, 1); /* 61 */
    hpack_decoder_del(d);
}

static void test_huffman_rules(void **state)
{
    /* 'a' is 00011: one byte 0x1f is 'a' + 3 bits of padding (ones). */
    struct hpack_decoder *d = dec(4096);
    tl_expect_decode(d, "000178811f", (struct tl_kv[]){{"x", "a"}}, 1);
    hpack_decoder_del(d);
    expect_fail("00017882 1fff", "huffman padding longer than 7 bits");
    expect_fail("00017881 18", "huffman padding not all ones");
    expect_fail("00017881 ff", "huffman padding longer than 7 bits");
    expect_fail("00017884 ffffffff", "huffman EOS in string"); /* 30 ones = EOS */
    expect_fail("0081ff 0161", "huffman padding longer than 7 bits"); /* in a name */
}

static void test_string_rules(void **state)
{
    expect_fail("00017805 61", "string past the block end");
    expect_fail("0005 78", "string past the block end");
    expect_fail("0001", "string past the block end");
    expect_fail("000178", "string past the block end");
    expect_fail("00", "string past the block end");
    expect_fail("0001787f", "integer past the block end");
}

static void test_size_updates(void **state)
{
    expect_fail("3fe21f", "table size update above the limit"); /* 4097 */
    expect_fail("82 20", "table size update not at the start of the block");
    struct hpack_decoder *d = dec(4096);
    /* Several in a row are allowed: 0, then 4096. */
    tl_expect_decode(d, "20 3fe11f 82", (struct tl_kv[]){{":method", "GET"}}, 1);
    /* An update alone is a valid (empty) block. */
    tl_expect_decode(d, "3fe11f", NULL, 0);
    /* Our limit went below the table size: the next block must say so. */
    hpack_decoder_set_max_table_size(d, 100);
    tl_expect_fail(d, "82", HPACK_ERR_COMPRESSION, "missing table size update");
    hpack_decoder_del(d);

    d = dec(4096);
    hpack_decoder_set_max_table_size(d, 100);
    tl_expect_decode(d, "3f45 82", (struct tl_kv[]){{":method", "GET"}}, 1); /* 100 */
    /* Lowered to 0 and raised again: the minimum must appear first. */
    hpack_decoder_set_max_table_size(d, 0);
    hpack_decoder_set_max_table_size(d, 4096);
    tl_expect_fail(d, "3fe11f 82", HPACK_ERR_COMPRESSION, "missing table size update");
    hpack_decoder_del(d);

    d = dec(4096);
    hpack_decoder_set_max_table_size(d, 0);
    hpack_decoder_set_max_table_size(d, 4096);
    tl_expect_decode(d, "20 3fe11f 82", (struct tl_kv[]){{":method", "GET"}}, 1);
    /* A raised limit needs no update; a larger table is then allowed. */
    hpack_decoder_set_max_table_size(d, 8192);
    tl_expect_decode(d, "82", (struct tl_kv[]){{":method", "GET"}}, 1);
    tl_expect_decode(d, "3fe13f 4001610162 be", (struct tl_kv[]){{"a", "b"}, {"a", "b"}}, 2);
    hpack_decoder_del(d);
}

static void test_table_size_zero(void **state)
{
    struct hpack_decoder *d = dec(0);
    tl_expect_decode(d, "4001610162", (struct tl_kv[]){{"a", "b"}}, 1);
    assert_int_equal(hpack_decoder_table_size(d), 0);
    tl_expect_fail(d, "be", HPACK_ERR_COMPRESSION, "index out of range");
    hpack_decoder_del(d);
    /* Shrinking to 0 empties the table. */
    d = dec(4096);
    tl_expect_decode(d, "4001610162", (struct tl_kv[]){{"a", "b"}}, 1);
    assert_int_equal(hpack_decoder_table_size(d), 34);
    tl_expect_decode(d, "20", NULL, 0);
    assert_int_equal(hpack_decoder_table_size(d), 0);
    tl_expect_fail(d, "be", HPACK_ERR_COMPRESSION, "index out of range");
    hpack_decoder_del(d);
}

static void test_evict_referenced_name(void **state)
{
    /* Table of 64: "aaaa: bbbb" (40) is entry 62. A literal with
     * incremental indexing names it by index and brings a 20-byte value:
     * the new entry (56) evicts the one it was named from (§4.4). */
    struct hpack_decoder *d = dec(64);
    tl_expect_decode(d, "400461616161 0462626262", (struct tl_kv[]){{"aaaa", "bbbb"}}, 1);
    assert_int_equal(hpack_decoder_table_size(d), 40);
    tl_expect_decode(d, "7e 14 3031323334353637383930313233343536373839 be",
                     (struct tl_kv[]){{"aaaa", "01234567890123456789"},
                                      {"aaaa", "01234567890123456789"}},
                     2);
    assert_int_equal(hpack_decoder_table_size(d), 56);
    tl_expect_fail(d, "bf", HPACK_ERR_COMPRESSION, "index out of range");
    hpack_decoder_del(d);
    /* An entry larger than the table empties it (§4.4) without error. */
    d = dec(64);
    tl_expect_decode(d, "400461616161 0462626262", (struct tl_kv[]){{"aaaa", "bbbb"}}, 1);
    tl_expect_decode(
        d, "7e 21 303132333435363738393031323334353637383930313233343536373839303132",
        (struct tl_kv[]){{"aaaa", "012345678901234567890123456789012"}}, 1);
    assert_int_equal(hpack_decoder_table_size(d), 0);
    hpack_decoder_del(d);
}

/* Lengths around every boundary of a 7-bit string length prefix and of the
 * 4-, 6- and 7-bit index prefixes, through our encoder and decoder. */
static void test_prefix_boundaries(void **state)
{
    static char big[20000];
    memset(big, 'z', sizeof big); /* 'z' is 7 bits: Huffman loses, sent raw */
    size_t lens[] = {0, 1, 126, 127, 128, 254, 255, 256, 16382, 16383, 16384, 16510, 16511};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        struct hpack_encoder *e = hpack_encoder_new();
        hpack_encoder_set_options(e, HPACK_ENC_NO_HUFFMAN);
        struct hpack_field f = {"x-v", big, 3, (uint32_t)lens[i], 0};
        static uint8_t out[40000];
        ssize_t n = hpack_encode_block(e, &f, 1, out, sizeof out);
        assert_true(n > 0);
        /* 4 bytes of representation and name, then the length integer. */
        const uint8_t *p = out + 5;
        size_t want_int = lens[i] < 127 ? 1 : lens[i] - 127 < 128 ? 2 : lens[i] - 127 < 16384 ? 3 : 4;
        assert_int_equal((size_t)n, 5 + want_int + lens[i]);
        assert_int_equal(p[0] & 0x7f, lens[i] < 127 ? lens[i] : 127);
        struct hpack_decoder *d = dec(4096);
        struct hpack_field got[2];
        static char scratch[40000];
        size_t nf;
        assert_int_equal(tl_decode(d, out, (size_t)n, got, 2, &nf, scratch, sizeof scratch), 0);
        assert_int_equal(nf, 1);
        assert_int_equal(got[0].value_len, lens[i]);
        assert_memory_equal(got[0].value, big, lens[i]);
        hpack_decoder_del(d);
        hpack_encoder_del(e);
    }
    /* Index prefixes: 80 dynamic entries "<k>: v" (k = two letters), so
     * index 61 + 80 - k is entry k. Then every boundary: 7-bit indexed 126,
     * 127, 128; 4-bit name index 14, 15, 16; 6-bit name index 62, 63. */
    struct hpack_decoder *d = dec(8192);
    hpack_decoder_set_max_table_size(d, 8192);
    char hex[8192];
    size_t o = (size_t)sprintf(hex, "3fe13f");
    for (int k = 0; k < 80; k++)
        o += (size_t)sprintf(hex + o, "4002%02x%02x0176", 'a' + k / 26, 'a' + k % 26);
    static struct tl_kv want[80];
    static char names[80][3];
    for (int k = 0; k < 80; k++) {
        sprintf(names[k], "%c%c", 'a' + k / 26, 'a' + k % 26);
        want[k] = (struct tl_kv){names[k], "v"};
    }
    tl_expect_decode(d, hex, want, 80);
    struct tl_kv refs[] = {
        {names[141 - 126], "v"},    {names[141 - 127], "v"},  {names[141 - 128], "v"},
        {":status", "w"},           {"accept-charset", "w"},  {"accept-encoding", "w"},
        {names[79], "w"}, /* 62, then inserted: the old 62 is now 63 */
        {names[79], "w"},
    };
    tl_expect_decode(d, "fe ff00 ff01 0e0177 0f000177 0f010177 7e0177 7f000177", refs, 8);
    hpack_decoder_del(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_integer_overflow),
        cmocka_unit_test(test_index_rules),
        cmocka_unit_test(test_huffman_rules),
        cmocka_unit_test(test_string_rules),
        cmocka_unit_test(test_size_updates),
        cmocka_unit_test(test_table_size_zero),
        cmocka_unit_test(test_evict_referenced_name),
        cmocka_unit_test(test_prefix_boundaries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
