/* tests/core/test_addrset.c — address sets: normalizing, diffs, the
 * re-resolution rule (core/addrset.h). */
#include "testutil/testutil.h"

#include <string.h>

#include "core/addrset.h"

static struct hb_addr v4(unsigned a, unsigned b, unsigned c, unsigned d, uint16_t port)
{
    struct hb_addr x = {.len = 4, .port = port};
    x.b[0] = (uint8_t)a;
    x.b[1] = (uint8_t)b;
    x.b[2] = (uint8_t)c;
    x.b[3] = (uint8_t)d;
    return x;
}

static struct hb_addr v6(const uint8_t b[16], uint16_t port)
{
    struct hb_addr x = {.len = 16, .port = port};
    memcpy(x.b, b, 16);
    return x;
}

static void test_normalize_sorts_dedupes_caps(void **st)
{
    (void)st;
    static const uint8_t loop6[16] = {[15] = 1};
    struct hb_addr v[] = {v4(10, 0, 0, 3, 80), v6(loop6, 80), v4(10, 0, 0, 1, 80),
                          v4(10, 0, 0, 3, 80), v4(10, 0, 0, 2, 80)};
    size_t n = hb_addrset_normalize(v, 5, 64);
    assert_int_equal(n, 4);
    char buf[HB_ADDR_STRLEN];
    assert_string_equal(hb_addr_format(&v[0], buf, sizeof buf), "10.0.0.1:80");
    assert_string_equal(hb_addr_format(&v[2], buf, sizeof buf), "10.0.0.3:80");
    assert_string_equal(hb_addr_format(&v[3], buf, sizeof buf), "[::1]:80"); /* v6 after v4 */
    /* The cap keeps the lowest addresses, whatever the answer's order. */
    struct hb_addr w[] = {v4(10, 0, 0, 9, 80), v4(10, 0, 0, 1, 80), v4(10, 0, 0, 5, 80)};
    assert_int_equal(hb_addrset_normalize(w, 3, 2), 2);
    assert_string_equal(hb_addr_format(&w[1], buf, sizeof buf), "10.0.0.5:80");
    assert_int_equal(hb_addrset_normalize(w, 0, 2), 0);
}

static void test_format_v6(void **st)
{
    (void)st;
    char buf[HB_ADDR_STRLEN];
    static const uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    struct hb_addr x = v6(a, 8080);
    assert_string_equal(hb_addr_format(&x, buf, sizeof buf), "[2001:db8::1]:8080");
    static const uint8_t b[16] = {0, 1, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3};
    x = v6(b, 1); /* the longest zero run becomes :: */
    assert_string_equal(hb_addr_format(&x, buf, sizeof buf), "[1:0:0:2::3]:1");
    static const uint8_t c[16] = {0, 1, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 3, 0, 4};
    x = v6(c, 1); /* two runs of 2: the first */
    assert_string_equal(hb_addr_format(&x, buf, sizeof buf), "[1::2:0:0:3:4]:1");
    static const uint8_t z[16] = {0};
    x = v6(z, 2);
    assert_string_equal(hb_addr_format(&x, buf, sizeof buf), "[::]:2");
}

static void test_diff(void **st)
{
    (void)st;
    struct hb_addr old[] = {v4(127, 0, 0, 2, 9), v4(127, 0, 0, 3, 9), v4(127, 0, 0, 4, 9)};
    struct hb_addr now[] = {v4(127, 0, 0, 3, 9), v4(127, 0, 0, 4, 9), v4(127, 0, 0, 5, 9),
                            v4(127, 0, 0, 6, 9)};
    long o2n[3], n2o[4];
    struct hb_addrset_diff d;
    hb_addrset_diff(old, 3, now, 4, o2n, n2o, &d);
    assert_int_equal(d.kept, 2);
    assert_int_equal(d.added, 2);
    assert_int_equal(d.removed, 1);
    assert_int_equal(o2n[0], -1);
    assert_int_equal(o2n[1], 0);
    assert_int_equal(o2n[2], 1);
    assert_int_equal(n2o[0], 1);
    assert_int_equal(n2o[1], 2);
    assert_int_equal(n2o[2], -1);
    assert_int_equal(n2o[3], -1);
    assert_false(hb_addrset_equal(old, 3, now, 4));
    assert_true(hb_addrset_equal(now, 4, now, 4));
    /* The same address on another port is another server. */
    struct hb_addr p1[] = {v4(127, 0, 0, 2, 9)}, p2[] = {v4(127, 0, 0, 2, 10)};
    hb_addrset_diff(p1, 1, p2, 1, NULL, NULL, &d);
    assert_int_equal(d.kept, 0);
    assert_int_equal(d.added, 1);
    assert_int_equal(d.removed, 1);
    /* From and to nothing. */
    hb_addrset_diff(NULL, 0, now, 4, NULL, n2o, &d);
    assert_int_equal(d.added, 4);
    hb_addrset_diff(old, 3, NULL, 0, o2n, NULL, &d);
    assert_int_equal(d.removed, 3);
    assert_int_equal(o2n[2], -1);
}

static void test_next_ms(void **st)
{
    (void)st;
    /* min(TTL, interval), never below min_interval. */
    assert_int_equal(hb_dns_next_ms(false, true, 5, 30000, 1000), 5000);
    assert_int_equal(hb_dns_next_ms(false, true, 300, 30000, 1000), 30000);
    assert_int_equal(hb_dns_next_ms(false, true, 0, 30000, 1000), 1000);
    assert_int_equal(hb_dns_next_ms(false, false, 0, 30000, 1000), 30000);
    assert_int_equal(hb_dns_next_ms(true, true, 300, 30000, 1000), 1000);
    assert_int_equal(hb_dns_next_ms(false, true, UINT32_MAX, 30000, 1000), 30000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalize_sorts_dedupes_caps),
        cmocka_unit_test(test_format_v6),
        cmocka_unit_test(test_diff),
        cmocka_unit_test(test_next_ms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
