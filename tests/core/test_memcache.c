/* tests/core/test_memcache.c — the memcached text protocol client
 * (core/memcache.h) and the shared ticket key set (core/ticket_set.h). */
#include "testutil/testutil.h"

#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/memcache.h"
#include "core/ticket_set.h"

/* Feeds s in pieces of `step` bytes; returns the bytes used. */
static size_t feed(struct hb_mc_reply *r, const char *s, size_t len, size_t step)
{
    size_t used = 0;
    while (used < len && r->state != HB_MC_ST_DONE && r->state != HB_MC_ST_BAD) {
        size_t n = len - used < step ? len - used : step;
        size_t u = hb_mc_reply_feed(r, (const uint8_t *)s + used, n);
        used += u;
        if (u < n)
            break;
    }
    return used;
}

static void test_requests(void **state)
{
    (void)state;
    char out[300];
    assert_int_equal(hb_mc_write_gets(out, sizeof out, "a/b"), 10);
    assert_string_equal(out, "gets a/b\r\n");
    assert_int_equal(hb_mc_write_gets(out, sizeof out, "has space"), HB_EINVAL);
    assert_int_equal(hb_mc_write_gets(out, sizeof out, ""), HB_EINVAL);
    assert_int_equal(hb_mc_write_gets(out, 5, "abc"), HB_ELIMIT);
    char longkey[252];
    memset(longkey, 'k', 251);
    longkey[251] = '\0';
    assert_false(hb_mc_key_ok(longkey));
    longkey[250] = '\0';
    assert_true(hb_mc_key_ok(longkey));
    assert_false(hb_mc_key_ok("tab\there"));

    uint8_t buf[64];
    ptrdiff_t n = hb_mc_write_store(buf, sizeof buf, "set", "k", 3, 0, (const uint8_t *)"xyz", 3, 0);
    assert_int_equal(n, 18);
    assert_memory_equal(buf, "set k 3 0 3\r\nxyz\r\n", 18);
    n = hb_mc_write_store(buf, sizeof buf, "cas", "k", 0, 0, (const uint8_t *)"ab", 2, 77);
    assert_memory_equal(buf, "cas k 0 0 2 77\r\nab\r\n", (size_t)n);
    assert_int_equal(hb_mc_write_store(buf, sizeof buf, "incr", "k", 0, 0, NULL, 0, 0), HB_EINVAL);
    assert_int_equal(hb_mc_write_store(buf, 10, "set", "k", 0, 0, (const uint8_t *)"xyz", 3, 0),
                     HB_ELIMIT);
}

static void test_get_hit_any_split(void **state)
{
    (void)state;
    const char *wire = "VALUE k 5 4 99\r\na\r\nb\r\nEND\r\nSTORED\r\n";
    size_t reply_len = strlen(wire) - strlen("STORED\r\n");
    for (size_t step = 1; step <= strlen(wire); step++) {
        uint8_t v[16];
        struct hb_mc_reply r;
        hb_mc_reply_init(&r, HB_MC_RETRIEVAL, "k", v, sizeof v);
        assert_int_equal(feed(&r, wire, strlen(wire), step), reply_len);
        assert_int_equal(r.state, HB_MC_ST_DONE);
        assert_int_equal(r.result, HB_MC_HIT);
        assert_int_equal(r.value_len, 4);
        assert_memory_equal(v, "a\r\nb", 4); /* CRLF inside a value is data */
        assert_int_equal(r.flags, 5);
        assert_true(r.has_cas);
        assert_int_equal(r.cas, 99);
    }
}

static void test_get_miss_and_errors(void **state)
{
    (void)state;
    uint8_t v[8];
    struct hb_mc_reply r;
    hb_mc_reply_init(&r, HB_MC_RETRIEVAL, "k", v, sizeof v);
    feed(&r, "END\r\n", 5, 100);
    assert_int_equal(r.result, HB_MC_MISS);
    hb_mc_reply_init(&r, HB_MC_RETRIEVAL, "k", v, sizeof v);
    feed(&r, "SERVER_ERROR out of memory\r\n", 28, 3);
    assert_int_equal(r.result, HB_MC_ERROR);
    assert_string_equal(r.msg, "SERVER_ERROR out of memory");
    hb_mc_reply_init(&r, HB_MC_STORAGE, NULL, NULL, 0);
    feed(&r, "EXISTS\r\n", 8, 2);
    assert_int_equal(r.result, HB_MC_EXISTS);
    assert_string_equal(hb_mc_result_name(r.result), "exists");
    assert_string_equal(hb_mc_state_name(r.state), "DONE");
}

static void bad_get(const char *wire, size_t cap, const char *why)
{
    uint8_t v[64];
    struct hb_mc_reply r;
    hb_mc_reply_init(&r, HB_MC_RETRIEVAL, "k", v, cap);
    feed(&r, wire, strlen(wire), 1);
    assert_int_equal(r.state, HB_MC_ST_BAD);
    assert_string_equal(r.why, why);
}

static void test_get_bad(void **state)
{
    (void)state;
    bad_get("VALUE other 0 1\r\nx\r\nEND\r\n", 64, "a VALUE line for another key");
    bad_get("VALUE k 0 9\r\n", 8, "a value longer than the limit");
    bad_get("VALUE k 0 2\r\nxyz\r\n", 64, "a value not followed by CRLF");
    bad_get("VALUE k 0 1\r\nx\r\nSTORED\r\n", 64, "a value not followed by END");
    bad_get("VALUE k x 1\r\n", 64, "a VALUE line without flags and length");
    bad_get("VALUE k 0 99999999999999999999999\r\n", 64, "a VALUE line without flags and length");
    bad_get("VALUE k 0 1 2 3\r\n", 64, "a VALUE line with trailing bytes");
    bad_get("END\n", 64, "a line feed without a carriage return");
    bad_get("EN\rD\r\n", 64, "a carriage return without a line feed");
    bad_get("STORED\r\n", 64, "not a retrieval reply");
    char longline[600];
    memset(longline, 'A', sizeof longline - 1);
    longline[sizeof longline - 1] = '\0';
    bad_get(longline, 64, "a reply line longer than 512 bytes");
}

static struct hb_tks_key key(uint8_t fill, uint8_t len)
{
    struct hb_tks_key k = {.len = len};
    memset(k.bytes, fill, len);
    return k;
}

static void test_set_roundtrip_and_rotate(void **state)
{
    (void)state;
    struct hb_tks s = {0};
    struct hb_tks_key k1 = key(1, 48), k2 = key(2, 80), k3 = key(3, 48);
    assert_int_equal(hb_tks_rotate(&s, &k1, 2, 1000), 0);
    assert_int_equal(s.generation, 1);
    assert_int_equal(hb_tks_rotate(&s, &k2, 2, 2000), 0);
    assert_int_equal(hb_tks_rotate(&s, &k3, 2, 3000), 0);
    assert_int_equal(s.n, 3);
    assert_int_equal(hb_tks_rotate(&s, &k1, 2, 4000), 0); /* the oldest (k1) drops */
    assert_int_equal(s.n, 3);
    assert_int_equal(s.generation, 4);
    assert_int_equal(s.keys[0].bytes[0], 1);
    assert_int_equal(s.keys[1].bytes[0], 3);
    assert_int_equal(s.keys[2].bytes[0], 2);
    assert_int_equal(s.keys[2].len, 80);

    uint8_t buf[HB_TKS_BYTES_MAX];
    ptrdiff_t n = hb_tks_write(&s, buf, sizeof buf);
    assert_int_equal(n, HB_TKS_HEAD + 49 + 49 + 81);
    struct hb_tks back;
    const char *why = NULL;
    assert_int_equal(hb_tks_parse(buf, (size_t)n, &back, &why), 0);
    assert_int_equal(back.generation, 4);
    assert_int_equal(back.created, 4000);
    assert_int_equal(back.n, 3);
    assert_memory_equal(back.keys, s.keys, sizeof s.keys[0] * 3);
    assert_int_equal(hb_tks_write(&s, buf, 10), HB_ELIMIT);

    /* Every truncation is refused; so is a byte more. */
    for (size_t i = 0; i < (size_t)n; i++)
        assert_int_equal(hb_tks_parse(buf, i, &back, &why), HB_EPROTO);
    buf[n] = 0;
    assert_int_equal(hb_tks_parse(buf, (size_t)n + 1, &back, &why), HB_EPROTO);
    assert_string_equal(why, "a ticket key set with bytes after its last key");
    buf[0] = 'X';
    assert_int_equal(hb_tks_parse(buf, (size_t)n, &back, &why), HB_EPROTO);
    assert_string_equal(why, "not a ticket key set (bad magic)");
    buf[0] = 'H';
    buf[4] = 2;
    assert_int_equal(hb_tks_parse(buf, (size_t)n, &back, &why), HB_EPROTO);
    assert_string_equal(why, "a ticket key set of an unknown format version");
    buf[4] = 1;
    buf[HB_TKS_HEAD] = 47;
    assert_int_equal(hb_tks_parse(buf, (size_t)n, &back, &why), HB_EPROTO);
    assert_string_equal(why, "a ticket key that is neither 48 nor 80 bytes");

    /* keep 0: only the new key; a bad key length or keep is refused. */
    assert_int_equal(hb_tks_rotate(&s, &k2, 0, 5000), 0);
    assert_int_equal(s.n, 1);
    struct hb_tks_key bad = key(9, 32);
    assert_int_equal(hb_tks_rotate(&s, &bad, 1, 0), HB_EINVAL);
    assert_int_equal(hb_tks_rotate(&s, &k1, HB_TKS_MAX, 0), HB_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_requests),
        cmocka_unit_test(test_get_hit_any_split),
        cmocka_unit_test(test_get_miss_and_errors),
        cmocka_unit_test(test_get_bad),
        cmocka_unit_test(test_set_roundtrip_and_rotate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
