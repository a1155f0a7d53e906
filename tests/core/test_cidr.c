/* tests/core/test_cidr.c — client networks (core/cidr.h). */
#include "testutil/testutil.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "core/cidr.h"
#include "core/err.h"

static struct hb_cidr parse_ok(const char *s)
{
    struct hb_cidr c;
    assert_int_equal(hb_cidr_parse(s, strlen(s), &c), 0);
    return c;
}

static struct sockaddr_in v4(const char *a)
{
    struct sockaddr_in s = {.sin_family = AF_INET};
    assert_int_equal(inet_pton(AF_INET, a, &s.sin_addr), 1);
    return s;
}

static struct sockaddr_in6 v6(const char *a)
{
    struct sockaddr_in6 s = {.sin6_family = AF_INET6};
    assert_int_equal(inet_pton(AF_INET6, a, &s.sin6_addr), 1);
    return s;
}

static bool in4(const struct hb_cidr *c, size_t n, const char *a)
{
    struct sockaddr_in s = v4(a);
    return hb_cidr_match_any(c, n, (const struct sockaddr *)&s);
}

static bool in6(const struct hb_cidr *c, size_t n, const char *a)
{
    struct sockaddr_in6 s = v6(a);
    return hb_cidr_match_any(c, n, (const struct sockaddr *)&s);
}

static void test_parse_and_format(void **st)
{
    (void)st;
    char buf[64];
    struct { const char *in, *out; } ok[] = {
        {"10.0.0.0/8", "10.0.0.0/8"},       {"127.0.0.1", "127.0.0.1/32"},
        {"0.0.0.0/0", "0.0.0.0/0"},         {"192.0.2.128/25", "192.0.2.128/25"},
        {"::1", "::1/128"},                 {"2001:db8::/32", "2001:db8::/32"},
        {"::/0", "::/0"},                   {"fe80::/10", "fe80::/10"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        struct hb_cidr c = parse_ok(ok[i].in);
        assert_string_equal(hb_cidr_format(&c, buf, sizeof buf), ok[i].out);
    }
    const char *bad[] = {"", "/8", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0.1/8",
                         "10.0.0.0/08", "10.0.0.0/8x", "10.0.0", "[::1]", "::1/1000",
                         "host.example", "10.0.0.0 /8", "2001:db8::1/32"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct hb_cidr c;
        assert_int_equal(hb_cidr_parse(bad[i], strlen(bad[i]), &c), HB_EINVAL);
    }
    /* Only len bytes are read: a longer buffer is cut where told. */
    struct hb_cidr c;
    assert_int_equal(hb_cidr_parse("10.0.0.0/8,junk", 10, &c), 0);
    assert_string_equal(hb_cidr_format(&c, buf, sizeof buf), "10.0.0.0/8");
}

static void test_match(void **st)
{
    (void)st;
    struct hb_cidr nets[] = {parse_ok("10.0.0.0/8"), parse_ok("192.0.2.128/25"),
                             parse_ok("2001:db8::/32")};
    size_t n = 3;
    assert_true(in4(nets, n, "10.1.2.3"));
    assert_true(in4(nets, n, "10.255.255.255"));
    assert_false(in4(nets, n, "11.0.0.0"));
    assert_true(in4(nets, n, "192.0.2.128"));
    assert_true(in4(nets, n, "192.0.2.255"));
    assert_false(in4(nets, n, "192.0.2.127"));
    assert_true(in6(nets, n, "2001:db8:ffff::1"));
    assert_false(in6(nets, n, "2001:db9::1"));
    /* An IPv4 client on a dual-stack socket. */
    assert_true(in6(nets, n, "::ffff:10.9.9.9"));
    assert_false(in6(nets, n, "::ffff:11.9.9.9"));
    /* Nothing matches an empty list; /0 matches everything of its family. */
    assert_false(in4(nets, 0, "10.1.2.3"));
    struct hb_cidr any4 = parse_ok("0.0.0.0/0");
    assert_true(in4(&any4, 1, "203.0.113.9"));
    assert_false(in6(&any4, 1, "2001:db8::1"));
    struct hb_cidr lo = parse_ok("127.0.0.1");
    assert_true(in4(&lo, 1, "127.0.0.1"));
    assert_false(in4(&lo, 1, "127.0.0.2"));
    struct sockaddr other = {.sa_family = AF_UNIX};
    assert_false(hb_cidr_match_any(nets, n, &other));
}

/* Every prefix length: the network itself matches, the first address past
 * its end does not. */
static void test_every_prefix(void **st)
{
    (void)st;
    for (unsigned bits = 1; bits <= 32; bits++) {
        char s[32];
        snprintf(s, sizeof s, "128.0.0.0/%u", bits);
        struct hb_cidr c = parse_ok(s);
        uint32_t last = 0x80000000u | (bits == 32 ? 0 : (0xffffffffu >> bits));
        uint32_t past = bits == 1 ? 0 : last + 1;
        struct in_addr a = {htonl(last)}, b = {htonl(past)};
        char as[16], bs[16];
        inet_ntop(AF_INET, &a, as, sizeof as);
        inet_ntop(AF_INET, &b, bs, sizeof bs);
        assert_true(in4(&c, 1, as));
        assert_false(in4(&c, 1, bs));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_and_format),
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_every_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
