/* The encoder's policy and table-size signalling: what gets indexed, what
 * never is, when Huffman is used, which size updates start a block; and
 * every block decodes back (with our decoder) to the list given. */
#include "hpack_testlib.h"
#include "hpack/hpack_internal.h"

/* The representations of a block, one letter each: I indexed, L literal
 * with incremental indexing, N without indexing, V never indexed, S size
 * update; lowercase when a literal's name is a literal too. *huff counts
 * Huffman-coded strings. */
static void kinds(const uint8_t *p, size_t len, char *out, int *huff)
{
    const uint8_t *end = p + len;
    *huff = 0;
    while (p < end) {
        uint8_t c = *p;
        uint32_t v;
        unsigned n;
        char k;
        if (c & 0x80) {
            k = 'I', n = 7;
        } else if (c & 0x40) {
            k = 'L', n = 6;
        } else if (c & 0x20) {
            k = 'S', n = 5;
        } else {
            k = c & 0x10 ? 'V' : 'N', n = 4;
        }
        assert_int_equal(hpack_int_decode(&p, end, n, &v), 0);
        if (k != 'I' && k != 'S') {
            int strings = v == 0 ? 2 : 1;
            if (v == 0)
                k = (char)(k - 'A' + 'a');
            for (int s = 0; s < strings; s++) {
                *huff += (*p & 0x80) != 0;
                assert_int_equal(hpack_int_decode(&p, end, 7, &v), 0);
                p += v;
            }
        }
        *out++ = k;
    }
    *out = '\0';
}

/* Encodes fields, checks our decoder gives them back, returns the kinds. */
static void roundtrip(struct hpack_encoder *e, struct hpack_decoder *d,
                      const struct hpack_field *f, size_t n, char *k, int *huff)
{
    uint8_t out[8192];
    ssize_t len = hpack_encode_block(e, f, n, out, sizeof out);
    assert_true(len >= 0);
    assert_true((size_t)len <= hpack_encode_bound(f, n));
    struct hpack_field got[64];
    char scratch[65536];
    size_t ng;
    assert_int_equal(hpack_decode_block(d, out, (size_t)len, got, 64, &ng, scratch, sizeof scratch),
                     0);
    assert_int_equal(ng, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(got[i].name_len, f[i].name_len);
        assert_memory_equal(got[i].name, f[i].name, f[i].name_len);
        assert_int_equal(got[i].value_len, f[i].value_len);
        assert_memory_equal(got[i].value, f[i].value, f[i].value_len);
    }
    kinds(out, (size_t)len, k, huff);
}

#define F(n, v) tl_field(n, v)

static void test_index_what_repeats(void **state)
{
    struct hpack_encoder *e = hpack_encoder_new();
    struct hpack_decoder *d = hpack_decoder_new(4096);
    struct hpack_field f[] = {F(":method", "GET"), F(":authority", "example.com"),
                              F("user-agent", "curl/8"), F("x-custom", "abc")};
    char k[64];
    int huff;
    roundtrip(e, d, f, 4, k, &huff);
    assert_string_equal(k, "ILLl"); /* static full match; the rest indexed */
    roundtrip(e, d, f, 4, k, &huff);
    assert_string_equal(k, "IIII"); /* the second time, all from the tables */
    hpack_encoder_del(e);
    hpack_decoder_del(d);
}

static void test_not_indexed(void **state)
{
    struct hpack_encoder *e = hpack_encoder_new();
    struct hpack_decoder *d = hpack_decoder_new(4096);
    char big[600];
    memset(big, 'q', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    struct hpack_field f[] = {F(":path", "/search?q=secret"), F(":path", "/style.css"),
                              F("x-big", big), F("content-length", "1234"), F("etag", "\"abc\"")};
    char k[64];
    int huff;
    roundtrip(e, d, f, 5, k, &huff);
    assert_string_equal(k, "NNnNN");
    roundtrip(e, d, f, 5, k, &huff); /* still not in the table */
    assert_string_equal(k, "NNnNN");
    assert_int_equal(hpack_decoder_table_size(d), 0);
    /* The large-value threshold is configurable. */
    hpack_encoder_set_large_value(e, 1000);
    roundtrip(e, d, &f[2], 1, k, &huff);
    assert_string_equal(k, "l");
    roundtrip(e, d, &f[2], 1, k, &huff);
    assert_string_equal(k, "I");
    hpack_encoder_set_large_value(e, 3);
    struct hpack_field g = F("x-small", "abcd");
    roundtrip(e, d, &g, 1, k, &huff);
    assert_string_equal(k, "n");
    hpack_encoder_del(e);
    hpack_decoder_del(d);
}

static void test_never_indexed(void **state)
{
    struct hpack_encoder *e = hpack_encoder_new();
    struct hpack_decoder *d = hpack_decoder_new(4096);
    assert_int_equal(hpack_encoder_add_never_index(e, "x-api-key"), 0);
    struct hpack_field f[] = {F("authorization", "Bearer abc"),
                              F("set-cookie", "id=1; Secure"),
                              F("cookie", "session=0123456789abcdef0123"), /* >= 20: secret */
                              F("cookie", "lang=en"),                      /* short crumb */
                              F("proxy-authorization", "Basic xyz"),
                              F("x-api-key", "k"),
                              F("x-flagged", "v")};
    f[6].flags = HPACK_FIELD_NEVER_INDEX;
    char k[64];
    int huff;
    roundtrip(e, d, f, 7, k, &huff);
    assert_string_equal(k, "VVVLVvv");
    roundtrip(e, d, f, 7, k, &huff);
    assert_string_equal(k, "VVVIVvv");
    /* The decoder reports the never-indexed flag (§6.2.3). */
    uint8_t out[1024];
    ssize_t len = hpack_encode_block(e, f, 1, out, sizeof out);
    struct hpack_field got[2];
    char s[256];
    size_t n;
    assert_int_equal(hpack_decode_block(d, out, (size_t)len, got, 2, &n, s, sizeof s), 0);
    assert_true(got[0].flags & HPACK_FIELD_NEVER_INDEX);
    /* Cookie threshold: UINT32_MAX indexes every cookie. */
    hpack_encoder_set_cookie_short(e, UINT32_MAX);
    roundtrip(e, d, &f[2], 1, k, &huff);
    assert_string_equal(k, "L");
    hpack_encoder_del(e);
    hpack_decoder_del(d);
}

static void test_huffman_only_when_shorter(void **state)
{
    struct hpack_encoder *e = hpack_encoder_new();
    struct hpack_decoder *d = hpack_decoder_new(4096);
    char k[64];
    int huff;
    struct hpack_field text = F("x-aaaaaa", "www.example.com"); /* 8 -> 6, 15 -> 12 */
    roundtrip(e, d, &text, 1, k, &huff);
    assert_int_equal(huff, 2);
    struct hpack_field bin = F("x-bbbbbb", "\x01\x02\x03\x7f");
    roundtrip(e, d, &bin, 1, k, &huff);
    assert_int_equal(huff, 1); /* the name only: the value is longer coded */
    struct hpack_field tie = F("x-a", "www.example.com"); /* 18 bits: 3 -> 3, a tie */
    roundtrip(e, d, &tie, 1, k, &huff);
    assert_int_equal(huff, 1);
    /* 130 raw bytes take a 2-byte length; coded (82 bytes) a 1-byte one. */
    char as[131], bs[301];
    memset(as, 'a', 130);
    as[130] = '\0';
    for (int i = 0; i < 300; i++)
        bs[i] = (char)(i % 2 ? 0x01 : 'a'); /* longer coded: given up half way */
    bs[300] = '\0';
    struct hpack_field longs[] = {F("x-long", as), F("x-bin", bs), F("x-long", as)};
    roundtrip(e, d, longs, 3, k, &huff);
    assert_int_equal(huff, 3); /* both names, the 130 a's */
    assert_int_equal(hpack_encode_bound(longs, 3),
                     2 * 6 + 4 + 3 * (1 + 2 * 6) + 6 + 130 + 5 + 300 + 6 + 130);
    hpack_encoder_set_options(e, HPACK_ENC_NO_HUFFMAN);
    struct hpack_field t2 = F("x-c", "www.example.com");
    roundtrip(e, d, &t2, 1, k, &huff);
    assert_int_equal(huff, 0);
    hpack_encoder_del(e);
    hpack_decoder_del(d);
}

/* §4.2: size updates at the start of the next block, the smallest first
 * when the size went down and back up; none when nothing changed. */
static void test_table_size_changes(void **state)
{
    struct hpack_encoder *e = hpack_encoder_new();
    struct hpack_decoder *d = hpack_decoder_new(4096);
    struct hpack_field f[] = {F("x-one", "1"), F("x-two", "2")};
    char k[64];
    int huff;
    roundtrip(e, d, f, 2, k, &huff);
    assert_string_equal(k, "ll");
    /* Peer allows more than our cap (4096): nothing to signal. */
    hpack_encoder_set_peer_max_table_size(e, 8192);
    hpack_decoder_set_max_table_size(d, 8192);
    roundtrip(e, d, f, 2, k, &huff);
    assert_string_equal(k, "II");
    /* Down to 0 and back to 4096 before the next block. */
    hpack_encoder_set_peer_max_table_size(e, 0);
    hpack_decoder_set_max_table_size(d, 0);
    hpack_encoder_set_peer_max_table_size(e, 4096);
    hpack_decoder_set_max_table_size(d, 4096);
    uint8_t out[256];
    ssize_t len = hpack_encode_block(e, f, 2, out, sizeof out);
    assert_true(len > 3);
    assert_memory_equal(out, "\x20\x3f\xe1\x1f", 4); /* 0, then 4096 */
    struct hpack_field got[4];
    char s[256];
    size_t n;
    assert_int_equal(hpack_decode_block(d, out, (size_t)len, got, 4, &n, s, sizeof s), 0);
    /* The table was emptied: the fields went out as literals again. */
    kinds(out, (size_t)len, k, &huff);
    assert_string_equal(k, "SSll");
    /* Shrinking to 100 evicts and signals 100 once. */
    hpack_encoder_set_peer_max_table_size(e, 100);
    hpack_decoder_set_max_table_size(d, 100);
    roundtrip(e, d, f, 2, k, &huff);
    assert_string_equal(k, "SII");
    assert_int_equal(hpack_decoder_table_size(d), 76);
    roundtrip(e, d, f, 2, k, &huff);
    assert_string_equal(k, "II");
    /* Our own cap below the peer's limit: 40 keeps x-two (38) only, and
     * x-one (38) is now over 3/4 of the table: not indexed. */
    hpack_encoder_set_table_cap(e, 40);
    roundtrip(e, d, f, 2, k, &huff);
    assert_string_equal(k, "SnI");
    assert_int_equal(hpack_decoder_table_size(d), 38);
    hpack_encoder_del(e);
    hpack_decoder_del(d);
}

static void test_buffer_too_small(void **state)
{
    struct hpack_encoder *e = hpack_encoder_new();
    struct hpack_decoder *d = hpack_decoder_new(4096);
    struct hpack_field f[] = {F("x-one", "1")};
    uint8_t out[64];
    size_t bound = hpack_encode_bound(f, 1);
    assert_int_equal(hpack_encode_block(e, f, 1, out, bound - 1), HPACK_ERR_BUFFER);
    /* State unchanged: the next block still indexes the field first. */
    char k[64];
    int huff;
    roundtrip(e, d, f, 1, k, &huff);
    assert_string_equal(k, "l");
    hpack_encoder_del(e);
    hpack_decoder_del(d);
}

/* Fill the table far past its size: eviction on the encoder side agrees
 * with the decoder's at every step. */
static void test_eviction_agrees(void **state)
{
    struct hpack_encoder *e = hpack_encoder_new();
    struct hpack_decoder *d = hpack_decoder_new(4096);
    char names[300][16], values[300][64];
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 300; i++) {
            snprintf(names[i], sizeof names[i], "x-h%d", i % 37);
            snprintf(values[i], sizeof values[i], "value-%d-%d", i, (i * 7919) % 101);
            struct hpack_field f[2] = {F(names[i], values[i]), F(names[i / 2], values[i / 2])};
            char k[8];
            int huff;
            roundtrip(e, d, f, 2, k, &huff);
        }
    }
    hpack_encoder_del(e);
    hpack_decoder_del(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_index_what_repeats),
        cmocka_unit_test(test_not_indexed),
        cmocka_unit_test(test_never_indexed),
        cmocka_unit_test(test_huffman_only_when_shorter),
        cmocka_unit_test(test_table_size_changes),
        cmocka_unit_test(test_buffer_too_small),
        cmocka_unit_test(test_eviction_agrees),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
