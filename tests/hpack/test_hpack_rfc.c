/* RFC 7541 Appendix C: every example, byte for byte, decoded and encoded. */
#include "hpack_testlib.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- C.2: one representation each, empty tables --------------------- */

static const struct tl_kv c21[] = {{"custom-key", "custom-header"}};
static const char c21_hex[] = "400a637573746f6d2d6b65790d637573746f6d2d686561646572";
static const struct tl_kv c22[] = {{":path", "/sample/path"}};
static const char c22_hex[] = "040c2f73616d706c652f70617468";
static const struct tl_kv c23[] = {{"password", "secret"}};
static const char c23_hex[] = "100870617373776f726406736563726574";
static const struct tl_kv c24[] = {{":method", "GET"}};
static const char c24_hex[] = "82";

static void test_c2_decode(void **state)
{
    struct hpack_decoder *d = hpack_decoder_new(4096);
    tl_expect_decode(d, c21_hex, c21, 1);
    assert_int_equal(hpack_decoder_table_size(d), 55);
    hpack_decoder_del(d);

    d = hpack_decoder_new(4096);
    tl_expect_decode(d, c22_hex, c22, 1);
    assert_int_equal(hpack_decoder_table_size(d), 0);
    hpack_decoder_del(d);

    d = hpack_decoder_new(4096);
    uint8_t in[64];
    long len = tu_unhex(c23_hex, in, sizeof in);
    struct hpack_field f[4];
    char scratch[256];
    size_t n;
    assert_int_equal(hpack_decode_block(d, in, (size_t)len, f, 4, &n, scratch, sizeof scratch), 0);
    assert_int_equal(n, 1);
    assert_true(f[0].flags & HPACK_FIELD_NEVER_INDEX); /* §6.2.3: the flag is kept */
    assert_int_equal(hpack_decoder_table_size(d), 0);
    hpack_decoder_del(d);

    d = hpack_decoder_new(4096);
    tl_expect_decode(d, c24_hex, c24, 1);
    assert_int_equal(hpack_decoder_table_size(d), 0);
    hpack_decoder_del(d);
}

static void test_c2_encode(void **state)
{
    struct hpack_encoder *e = hpack_encoder_new();
    hpack_encoder_set_options(e, HPACK_ENC_NO_HUFFMAN);
    tl_expect_encode(e, c21, 1, c21_hex);
    hpack_encoder_del(e);

    /* C.2.2 is our default policy's choice for a path: not indexed. */
    e = hpack_encoder_new();
    hpack_encoder_set_options(e, HPACK_ENC_NO_HUFFMAN);
    tl_expect_encode(e, c22, 1, c22_hex);
    hpack_encoder_del(e);

    e = hpack_encoder_new();
    hpack_encoder_set_options(e, HPACK_ENC_NO_HUFFMAN);
    assert_int_equal(hpack_encoder_add_never_index(e, "password"), 0);
    tl_expect_encode(e, c23, 1, c23_hex);
    hpack_encoder_del(e);

    e = hpack_encoder_new();
    tl_expect_encode(e, c24, 1, c24_hex);
    hpack_encoder_del(e);
}

/* ---- C.3 / C.4: three requests on one connection -------------------- */

static const struct tl_kv req1[] = {
    {":method", "GET"}, {":scheme", "http"}, {":path", "/"}, {":authority", "www.example.com"}};
static const struct tl_kv req2[] = {{":method", "GET"},
                                    {":scheme", "http"},
                                    {":path", "/"},
                                    {":authority", "www.example.com"},
                                    {"cache-control", "no-cache"}};
static const struct tl_kv req3[] = {{":method", "GET"},
                                    {":scheme", "https"},
                                    {":path", "/index.html"},
                                    {":authority", "www.example.com"},
                                    {"custom-key", "custom-value"}};

static const char *const c3_hex[] = {
    "828684410f7777772e6578616d706c652e636f6d",
    "828684be58086e6f2d6361636865",
    "828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565",
};
static const char *const c4_hex[] = {
    "828684418cf1e3c2e5f23a6ba0ab90f4ff",
    "828684be5886a8eb10649cbf",
    "828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf",
};
static const size_t req_sizes[] = {57, 110, 164};

static void run_requests(const char *const *hex, uint32_t opts)
{
    const struct tl_kv *lists[] = {req1, req2, req3};
    size_t lens[] = {N(req1), N(req2), N(req3)};
    struct hpack_decoder *d = hpack_decoder_new(4096);
    struct hpack_encoder *e = hpack_encoder_new();
    hpack_encoder_set_options(e, opts);
    for (int i = 0; i < 3; i++) {
        tl_expect_decode(d, hex[i], lists[i], lens[i]);
        assert_int_equal(hpack_decoder_table_size(d), req_sizes[i]);
        tl_expect_encode(e, lists[i], lens[i], hex[i]);
    }
    hpack_encoder_del(e);
    hpack_decoder_del(d);
}

static void test_c3_requests_raw(void **state)
{
    run_requests(c3_hex, HPACK_ENC_NO_HUFFMAN | HPACK_ENC_INDEX_ALL);
}

static void test_c4_requests_huffman(void **state)
{
    run_requests(c4_hex, HPACK_ENC_INDEX_ALL);
}

/* ---- C.5 / C.6: three responses, table of 256 bytes (evictions) ------ */

static const struct tl_kv resp1[] = {{":status", "302"},
                                     {"cache-control", "private"},
                                     {"date", "Mon, 21 Oct 2013 20:13:21 GMT"},
                                     {"location", "https://www.example.com"}};
static const struct tl_kv resp2[] = {{":status", "307"},
                                     {"cache-control", "private"},
                                     {"date", "Mon, 21 Oct 2013 20:13:21 GMT"},
                                     {"location", "https://www.example.com"}};
static const struct tl_kv resp3[] = {
    {":status", "200"},
    {"cache-control", "private"},
    {"date", "Mon, 21 Oct 2013 20:13:22 GMT"},
    {"location", "https://www.example.com"},
    {"content-encoding", "gzip"},
    {"set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"}};

static const char *const c5_hex[] = {
    "4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a31333a323120474d"
    "546e1768747470733a2f2f7777772e6578616d706c652e636f6d",
    "4803333037c1c0bf",
    "88c1611d4d6f6e2c203231204f637420323031332032303a31333a323220474d54c05a04677a697077386"
    "66f6f3d4153444a4b48514b425a584f5157454f50495541585157454f49553b206d61782d6167653d3336"
    "30303b2076657273696f6e3d31",
};
static const char *const c6_hex[] = {
    "488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863"
    "c78f0b97c8e9ae82ae43d3",
    "4883640effc1c0bf",
    "88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b3"
    "35dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007",
};
static const size_t resp_sizes[] = {222, 222, 215};

static void run_responses(const char *const *hex, uint32_t opts)
{
    const struct tl_kv *lists[] = {resp1, resp2, resp3};
    size_t lens[] = {N(resp1), N(resp2), N(resp3)};
    struct hpack_decoder *d = hpack_decoder_new(256);
    struct hpack_encoder *e = hpack_encoder_new();
    hpack_encoder_set_options(e, opts);
    /* The examples assume both tables start at 256 bytes; we get there by a
     * settings change, so our first block starts with the size update 256
     * (3f e1 01) and then carries exactly the RFC's bytes. */
    hpack_encoder_set_peer_max_table_size(e, 256);
    for (int i = 0; i < 3; i++) {
        tl_expect_decode(d, hex[i], lists[i], lens[i]);
        assert_int_equal(hpack_decoder_table_size(d), resp_sizes[i]);
        char want[1024];
        snprintf(want, sizeof want, "%s%s", i == 0 ? "3fe101" : "", hex[i]);
        tl_expect_encode(e, lists[i], lens[i], want);
    }
    hpack_encoder_del(e);
    hpack_decoder_del(d);
}

static void test_c5_responses_raw(void **state)
{
    run_responses(c5_hex, HPACK_ENC_NO_HUFFMAN | HPACK_ENC_INDEX_ALL);
}

static void test_c6_responses_huffman(void **state)
{
    run_responses(c6_hex, HPACK_ENC_INDEX_ALL | HPACK_ENC_HUFFMAN_TIES);
}

/* C.1: the integer examples, through a field that carries them. */
static void test_c1_integers(void **state)
{
    /* C.1.3: 42 with an 8-bit prefix is the string length byte 0x2a;
     * C.1.2: 1337 with a 5-bit prefix is 1f 9a 0a, seen as a size update. */
    struct hpack_decoder *d = hpack_decoder_new(4096);
    hpack_decoder_set_max_table_size(d, 4096);
    uint8_t in[] = {0x3f, 0x9a, 0x0a};
    struct hpack_field f[1];
    char s[16];
    size_t n;
    assert_int_equal(hpack_decode_block(d, in, sizeof in, f, 1, &n, s, sizeof s), 0);
    hpack_decoder_del(d);
    /* C.1.1: 10 with a 5-bit prefix fits the prefix: 0x2a is "size 10". */
    struct hpack_encoder *e = hpack_encoder_new();
    hpack_encoder_set_peer_max_table_size(e, 10);
    uint8_t out[32];
    assert_int_equal(hpack_encode_block(e, NULL, 0, out, sizeof out), 1);
    assert_int_equal(out[0], 0x2a);
    hpack_encoder_set_peer_max_table_size(e, 1337);
    hpack_encoder_set_table_cap(e, 1337);
    assert_int_equal(hpack_encode_block(e, NULL, 0, out, sizeof out), 3);
    assert_memory_equal(out, "\x3f\x9a\x0a", 3);
    hpack_encoder_del(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_c1_integers),
        cmocka_unit_test(test_c2_decode),
        cmocka_unit_test(test_c2_encode),
        cmocka_unit_test(test_c3_requests_raw),
        cmocka_unit_test(test_c4_requests_huffman),
        cmocka_unit_test(test_c5_responses_raw),
        cmocka_unit_test(test_c6_responses_huffman),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
