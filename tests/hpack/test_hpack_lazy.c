/* Lazy dynamic tables and the allocator hook: a context that never saw a
 * block holds only its own struct; tables come with the first insertion and
 * grow with their live entries (never past what the table size allows);
 * every allocation goes through the hook, and a failing one (the 1st, 2nd,
 * ... in turn) leaves the decoder failed and the encoder unchanged. Uses the
 * hook, not malloc interposition, so it also runs under ASan. */
#include "hpack_testlib.h"

#include <stdbool.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

static struct hpack_allocator hook(struct tu_counter *k)
{
    tu_counter_init(k);
    return (struct hpack_allocator){tu_counter_alloc, tu_counter_free, k};
}

static int decode(struct hpack_decoder *d, const uint8_t *in, size_t len, size_t *n)
{
    static struct hpack_field f[TL_MAX_FIELDS];
    static char scratch[TL_SCRATCH];
    return tl_decode(d, in, len, f, TL_MAX_FIELDS, n, scratch, sizeof scratch);
}

static void test_new_contexts_hold_no_table(void **state)
{
    struct tu_counter kd, ke;
    struct hpack_allocator ad = hook(&kd), ae = hook(&ke);
    struct hpack_decoder *d = hpack_decoder_new_with(4096, &ad);
    struct hpack_encoder *e = hpack_encoder_new_with(&ae);
    assert_non_null(d);
    assert_non_null(e);
    /* One allocation each: the context struct. */
    assert_int_equal(kd.nallocs, 1);
    assert_int_equal(ke.nallocs, 1);
    assert_int_equal(hpack_decoder_mem(d), 0);
    assert_int_equal(hpack_encoder_mem(e), 0);
    assert_true(kd.live < 256 && ke.live < 256);
    /* Size changes before any block allocate nothing either. */
    hpack_decoder_set_max_table_size(d, 65536);
    hpack_encoder_set_peer_max_table_size(e, 65536);
    hpack_encoder_set_table_cap(e, 65536);
    assert_int_equal(kd.nallocs + ke.nallocs, 2);
    hpack_encoder_del(e);
    hpack_decoder_del(d);
    assert_int_equal(kd.live, 0);
    assert_int_equal(ke.live, 0);
}

static void test_blocks_that_index_nothing_allocate_nothing(void **state)
{
    struct tu_counter kd, ke;
    struct hpack_allocator ad = hook(&kd), ae = hook(&ke);
    struct hpack_decoder *d = hpack_decoder_new_with(4096, &ad);
    struct hpack_encoder *e = hpack_encoder_new_with(&ae);
    /* A response head our policy does not index: static entries, a
     * content-length (changes every time), a path. */
    struct hpack_field f[] = {tl_field(":status", "200"), tl_field("content-length", "1234"),
                              tl_field(":path", "/a/b?c"), tl_field("set-cookie", "id=1")};
    uint8_t out[256];
    size_t n;
    for (int i = 0; i < 3; i++) {
        ssize_t len = hpack_encode_block(e, f, N(f), out, sizeof out);
        assert_true(len > 0);
        assert_int_equal(decode(d, out, (size_t)len, &n), 0);
        assert_int_equal(n, N(f));
    }
    /* RFC 7541 C.2.2 (literal without indexing), C.2.3 (never indexed),
     * C.2.4 (indexed static). */
    uint8_t in[64];
    long len = tu_unhex("040c2f73616d706c652f70617468100870617373776f72640673656372657482", in,
                        sizeof in);
    assert_int_equal(decode(d, in, (size_t)len, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(hpack_decoder_mem(d), 0);
    assert_int_equal(hpack_encoder_mem(e), 0);
    assert_int_equal(kd.nallocs + ke.nallocs, 2);
    hpack_encoder_del(e);
    hpack_decoder_del(d);
    assert_int_equal(kd.live + ke.live, 0);
}

static void test_first_insert_allocates_small_and_grows(void **state)
{
    struct tu_counter kd, ke;
    struct hpack_allocator ad = hook(&kd), ae = hook(&ke);
    struct hpack_decoder *d = hpack_decoder_new_with(4096, &ad);
    struct hpack_encoder *e = hpack_encoder_new_with(&ae);
    hpack_encoder_set_options(e, HPACK_ENC_INDEX_ALL);
    size_t struct_bytes = kd.live;
    /* C.3.1: one indexed literal (:authority www.example.com). */
    uint8_t in[64];
    long len = tu_unhex("828684410f7777772e6578616d706c652e636f6d", in, sizeof in);
    size_t n;
    assert_int_equal(decode(d, in, (size_t)len, &n), 0);
    assert_int_equal(hpack_decoder_table_size(d), 57);
    size_t small = hpack_decoder_mem(d);
    /* The smallest rings: 128 bytes and 8 descriptors, not 4 KiB + 128. */
    assert_true(small > 0 && small <= 512);
    assert_int_equal(kd.live, struct_bytes + small); /* allocated through the hook */
    /* Fill the table: the rings grow, but never past what 4096 bytes of
     * entries need (4096 bytes + 128 descriptors + the encoder's buckets). */
    char name[32], value[64];
    size_t prev = 0;
    int grew = 0;
    for (int i = 0; i < 400; i++) {
        snprintf(name, sizeof name, "x-h%d", i);
        snprintf(value, sizeof value, "value-%d-%.*s", i, i % 40,
                 "abcdefghijklmnopqrstuvwxyz0123456789ABCD");
        struct hpack_field f = tl_field(name, value);
        uint8_t out[256];
        ssize_t l = hpack_encode_block(e, &f, 1, out, sizeof out);
        assert_true(l > 0);
        struct hpack_field got[4];
        char scratch[256];
        assert_int_equal(tl_decode(d, out, (size_t)l, got, 4, &n, scratch, sizeof scratch), 0);
        assert_int_equal(n, 1);
        assert_int_equal(got[0].value_len, f.value_len);
        assert_memory_equal(got[0].value, value, f.value_len);
        grew += hpack_encoder_mem(e) != prev;
        prev = hpack_encoder_mem(e);
    }
    print_message("encoder table grew %d times to %zu bytes\n", grew, hpack_encoder_mem(e));
    assert_true(grew >= 3 && grew <= 12); /* doubling: a few growths */
    assert_true(hpack_decoder_mem(d) <= 4096 + 128 * 40);
    assert_true(hpack_encoder_mem(e) <= 4096 + 128 * 40 + 128 * 8);
    assert_true(hpack_decoder_table_size(d) > 3900);
    hpack_encoder_del(e);
    hpack_decoder_del(d);
    assert_int_equal(kd.live + ke.live, 0);
}

static void test_zero_table_never_allocates(void **state)
{
    struct tu_counter kd;
    struct hpack_allocator ad = hook(&kd);
    struct hpack_decoder *d = hpack_decoder_new_with(4096, &ad);
    hpack_decoder_set_max_table_size(d, 0);
    /* Size update to 0, then an incrementally indexed literal: §4.4, the
     * entry does not fit and the table stays empty. */
    uint8_t in[64];
    long len = tu_unhex("20400a637573746f6d2d6b65790d637573746f6d2d686561646572", in, sizeof in);
    size_t n;
    assert_int_equal(decode(d, in, (size_t)len, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(hpack_decoder_table_size(d), 0);
    assert_int_equal(hpack_decoder_mem(d), 0);
    assert_int_equal(kd.nallocs, 1);
    hpack_decoder_del(d);
    assert_int_equal(kd.live, 0);
}

/* Over the list limits, indexed literals still enter the table: decoded
 * into the caller's scratch when it is large enough (no allocation), else
 * into a buffer made once and kept. */
static void test_skip_buffer(void **state)
{
    struct tu_counter kd;
    struct hpack_allocator ad = hook(&kd);
    struct hpack_decoder *d = hpack_decoder_new_with(4096, &ad);
    hpack_decoder_set_limits(d, 64, 1); /* the 2nd field is over */
    uint8_t in[] = {0x82, 0x40, 0x03, 'x', '-', 'a', 0x05, 'h', 'e', 'l', 'l', 'o'};
    struct hpack_field f[4];
    char big[4096], tiny[8];
    size_t n;
    assert_int_equal(hpack_decode_block(d, in, sizeof in, f, 4, &n, big, sizeof big),
                     HPACK_ERR_LIST_TOO_LARGE);
    assert_int_equal(hpack_decoder_table_size(d), 3 + 5 + 32);
    size_t table_only = hpack_decoder_mem(d);
    long allocs = kd.nallocs;
    /* A scratch smaller than the table: the decoder's own buffer, once. */
    for (int i = 0; i < 3; i++)
        assert_int_equal(hpack_decode_block(d, in, sizeof in, f, 4, &n, tiny, sizeof tiny),
                         HPACK_ERR_LIST_TOO_LARGE);
    assert_int_equal(hpack_decoder_table_size(d), 4 * 40);
    assert_int_equal(hpack_decoder_mem(d), table_only + 4096);
    assert_int_equal(kd.nallocs, allocs + 1);
    /* The entries are right: index 62 is the newest x-a: hello. */
    uint8_t again[] = {0xbe};
    hpack_decoder_set_limits(d, 65536, 16);
    assert_int_equal(hpack_decode_block(d, again, 1, f, 4, &n, big, sizeof big), 0);
    assert_int_equal(n, 1);
    assert_memory_equal(f[0].value, "hello", 5);
    hpack_decoder_del(d);
    assert_int_equal(kd.live, 0);
}

/* ---- failing allocations through the hook ---- */

/* Headers that make the tables grow several times, with size changes. */
static void block_fields(int i, struct hpack_field *f, char (*buf)[80], size_t *n)
{
    *n = 0;
    for (int j = 0; j < 4; j++) {
        snprintf(buf[2 * j], 80, "x-f%d", (i * 3 + j) % 23);
        snprintf(buf[2 * j + 1], 80, "%d-%.*s", i, (i * 7 + j * 13) % 60,
                 "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnop");
        f[(*n)++] = tl_field(buf[2 * j], buf[2 * j + 1]);
    }
}

#define BLOCKS 40

/* The encoder: a failure leaves it unchanged, so retrying with memory gives
 * exactly the bytes of an encoder that never failed. */
static void encoder_run(long fail_at, uint8_t (*ref)[512], ssize_t *ref_len, bool *completed)
{
    struct tu_counter k;
    struct hpack_allocator a = hook(&k);
    k.fail_at = fail_at;
    struct hpack_encoder *e = hpack_encoder_new_with(&a);
    *completed = e != NULL;
    if (!e) {
        assert_int_equal(k.live, 0);
        return;
    }
    hpack_encoder_set_options(e, HPACK_ENC_INDEX_ALL);
    bool failed = false;
    for (int i = 0; i < BLOCKS; i++) {
        if (i == BLOCKS / 2)
            hpack_encoder_set_peer_max_table_size(e, 1024);
        if (i == BLOCKS / 2 + 5)
            hpack_encoder_set_peer_max_table_size(e, 4096);
        struct hpack_field f[4];
        char buf[8][80];
        size_t n;
        block_fields(i, f, buf, &n);
        uint8_t out[512];
        ssize_t len = hpack_encode_block(e, f, n, out, sizeof out);
        if (len == HPACK_ERR_NOMEM) {
            assert_false(failed); /* only the one injected failure */
            failed = true;
            len = hpack_encode_block(e, f, n, out, sizeof out);
        }
        assert_true(len > 0);
        if (fail_at < 0) {
            memcpy(ref[i], out, (size_t)len);
            ref_len[i] = len;
        } else {
            assert_int_equal(len, ref_len[i]);
            assert_memory_equal(out, ref[i], (size_t)len);
        }
    }
    *completed = !failed;
    hpack_encoder_del(e);
    assert_int_equal(k.live, 0);
}

static void test_encoder_failing_allocations(void **state)
{
    static uint8_t ref[BLOCKS][512];
    static ssize_t ref_len[BLOCKS];
    bool completed;
    encoder_run(-1, ref, ref_len, &completed);
    assert_true(completed);
    for (long k = 0; k < 100; k++) {
        encoder_run(k, ref, ref_len, &completed);
        if (completed)
            return; /* the k-th allocation never came: all covered */
    }
    fail_msg("more than 100 allocations");
}

/* The decoder: a failure is NOMEM, sticky, and nothing leaks. */
static bool decoder_run(long fail_at, uint8_t (*blocks)[512], const ssize_t *lens)
{
    struct tu_counter k;
    struct hpack_allocator a = hook(&k);
    k.fail_at = fail_at;
    struct hpack_decoder *d = hpack_decoder_new_with(4096, &a);
    if (!d) {
        assert_int_equal(k.live, 0);
        return false;
    }
    bool ok = true;
    for (int i = 0; i < BLOCKS && ok; i++) {
        if (i == BLOCKS / 2)
            hpack_decoder_set_max_table_size(d, 1024);
        if (i == BLOCKS / 2 + 5)
            hpack_decoder_set_max_table_size(d, 4096);
        size_t n;
        int r = decode(d, blocks[i], (size_t)lens[i], &n);
        if (r == HPACK_ERR_NOMEM) {
            assert_int_equal(decode(d, blocks[i], (size_t)lens[i], &n), HPACK_ERR_NOMEM);
            ok = false;
        } else {
            assert_int_equal(r, 0);
            assert_int_equal(n, 4);
        }
    }
    hpack_decoder_del(d);
    assert_int_equal(k.live, 0);
    return ok;
}

static void test_decoder_failing_allocations(void **state)
{
    static uint8_t blocks[BLOCKS][512];
    static ssize_t lens[BLOCKS];
    bool completed;
    encoder_run(-1, blocks, lens, &completed);
    assert_true(decoder_run(-1, blocks, lens));
    for (long k = 0; k < 100; k++)
        if (decoder_run(k, blocks, lens))
            return;
    fail_msg("more than 100 allocations");
}

#ifdef H2B_HAVE_NGHTTP2
/* Table sizes the peer announces along the way (§4.2, §6.3): shrinking to
 * nothing and growing past the default while the lazy rings grow. */
static const uint32_t sizes[] = {4096, 512, 0, 4096, 16384, 100, 4096};
#define SIZE_EVERY 12

/* Our encoder against libnghttp2's inflater and libnghttp2's deflater
 * against our decoder, both with table size changes while our tables are
 * being made and grown. */
static void test_oracle_with_size_changes(void **state)
{
    struct tu_counter ke, kd;
    struct hpack_allocator ae = hook(&ke), ad = hook(&kd);
    struct hpack_encoder *e = hpack_encoder_new_with(&ae);
    struct hpack_decoder *d = hpack_decoder_new_with(4096, &ad);
    hpack_encoder_set_table_cap(e, 16384);
    nghttp2_hd_inflater *inf;
    nghttp2_hd_deflater *def;
    assert_int_equal(nghttp2_hd_inflate_new(&inf), 0);
    assert_int_equal(nghttp2_hd_deflate_new(&def, 16384), 0);
    for (int i = 0; i < (int)N(sizes) * SIZE_EVERY; i++) {
        if (i % SIZE_EVERY == 0) {
            uint32_t sz = sizes[i / SIZE_EVERY];
            hpack_encoder_set_peer_max_table_size(e, sz);
            assert_int_equal(nghttp2_hd_inflate_change_table_size(inf, sz), 0);
            hpack_decoder_set_max_table_size(d, sz);
            assert_int_equal(nghttp2_hd_deflate_change_table_size(def, sz), 0);
        }
        struct hpack_field f[4];
        char buf[8][80];
        size_t n;
        block_fields(i, f, buf, &n);
        uint8_t out[1024];
        ssize_t len = hpack_encode_block(e, f, n, out, sizeof out);
        assert_true(len > 0);
        tl_oracle_inflate(inf, out, (size_t)len, f, n);
        nghttp2_nv nv[4];
        for (size_t j = 0; j < n; j++)
            nv[j] = (nghttp2_nv){(uint8_t *)f[j].name, (uint8_t *)f[j].value, f[j].name_len,
                                 f[j].value_len, NGHTTP2_NV_FLAG_NONE};
        len = nghttp2_hd_deflate_hd(def, out, sizeof out, nv, n);
        assert_true(len > 0);
        struct hpack_field got[8];
        char scratch[1024];
        size_t ng;
        assert_int_equal(tl_decode(d, out, (size_t)len, got, 8, &ng, scratch, sizeof scratch), 0);
        assert_int_equal(ng, n);
        for (size_t j = 0; j < n; j++) {
            assert_int_equal(got[j].value_len, f[j].value_len);
            assert_memory_equal(got[j].value, f[j].value, f[j].value_len);
        }
        assert_true(hpack_decoder_table_size(d) <= sizes[i / SIZE_EVERY]);
    }
    /* The 16384 phase made the tables grow past 4 KiB of entries. */
    assert_true(hpack_decoder_mem(d) > 4096);
    nghttp2_hd_inflate_del(inf);
    nghttp2_hd_deflate_del(def);
    hpack_encoder_del(e);
    hpack_decoder_del(d);
    assert_int_equal(ke.live + kd.live, 0);
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_contexts_hold_no_table),
        cmocka_unit_test(test_blocks_that_index_nothing_allocate_nothing),
        cmocka_unit_test(test_first_insert_allocates_small_and_grows),
        cmocka_unit_test(test_zero_table_never_allocates),
        cmocka_unit_test(test_skip_buffer),
        cmocka_unit_test(test_encoder_failing_allocations),
        cmocka_unit_test(test_decoder_failing_allocations),
#ifdef H2B_HAVE_NGHTTP2
        cmocka_unit_test(test_oracle_with_size_changes),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
