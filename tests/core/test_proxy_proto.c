/* tests/core/test_proxy_proto.c — PROXY protocol v1/v2 (core/proxy_proto.h). */
#include "testutil/testutil.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/proxy_proto.h"

static ptrdiff_t parse(const void *p, size_t len, struct hb_pp *pp, const char **why)
{
    return hb_pp_parse(p, len, pp, why);
}

/* Every proper prefix of an acceptable header asks for more. */
static void all_prefixes_need_more(const void *p, size_t len)
{
    struct hb_pp pp;
    const char *why;
    for (size_t i = 0; i < len; i++)
        assert_int_equal(parse(p, i, &pp, &why), 0);
}

static void addr_is(const struct sockaddr_storage *ss, const char *want, unsigned port)
{
    char a[INET6_ADDRSTRLEN];
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *s = (const void *)ss;
        inet_ntop(AF_INET, &s->sin_addr, a, sizeof a);
        assert_int_equal(ntohs(s->sin_port), port);
    } else {
        assert_int_equal(ss->ss_family, AF_INET6);
        const struct sockaddr_in6 *s = (const void *)ss;
        inet_ntop(AF_INET6, &s->sin6_addr, a, sizeof a);
        assert_int_equal(ntohs(s->sin6_port), port);
    }
    assert_string_equal(a, want);
}

static void test_v1(void **st)
{
    (void)st;
    struct hb_pp pp;
    const char *why;
    const char *l4 = "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\nGET / HTTP/1.1\r\n";
    size_t hl = strlen("PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n");
    all_prefixes_need_more(l4, hl);
    assert_int_equal(parse(l4, strlen(l4), &pp, &why), (ptrdiff_t)hl);
    assert_int_equal(pp.version, 1);
    assert_int_equal(pp.cmd, HB_PP_PROXY);
    addr_is(&pp.src, "192.0.2.1", 56324);
    addr_is(&pp.dst, "198.51.100.2", 443);
    const char *l6 = "PROXY TCP6 2001:db8::1 ::1 0 65535\r\n";
    assert_int_equal(parse(l6, strlen(l6), &pp, &why), (ptrdiff_t)strlen(l6));
    addr_is(&pp.src, "2001:db8::1", 0);
    addr_is(&pp.dst, "::1", 65535);
    assert_int_equal(pp.addr_len, sizeof(struct sockaddr_in6));
    const char *lu = "PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n";
    assert_int_equal(parse(lu, strlen(lu), &pp, &why), (ptrdiff_t)strlen(lu));
    assert_int_equal(pp.cmd, HB_PP_LOCAL);
    assert_int_equal(parse("PROXY UNKNOWN\r\n", 15, &pp, &why), 15);
    struct { const char *in, *why; } bad[] = {
        {"GET / HTTP/1.1\r\n", "not a PROXY protocol header"},
        {"PROXY\tTCP4", "not a PROXY protocol header"},
        {"PROXY UDP4 1.2.3.4 1.2.3.4 1 2\r\n", "v1 protocol other than TCP4, TCP6 or UNKNOWN"},
        {"PROXY TCP4 1.2.3.4 1.2.3.4 1\r\n", "v1 line without exactly two addresses and two ports"},
        {"PROXY TCP4 1.2.3.4 1.2.3.4 1 2 3\r\n", "v1 line without exactly two addresses and two ports"},
        {"PROXY TCP4 1.2.3.4  1.2.3.4 1 2\r\n", "v1 line without exactly two addresses and two ports"},
        {"PROXY TCP4 1.2.3.4 1.2.3.4 1 65536\r\n", "v1 port not a number 0..65535"},
        {"PROXY TCP4 1.2.3.4 1.2.3.4 01 2\r\n", "v1 port not a number 0..65535"},
        {"PROXY TCP4 ::1 ::1 1 2\r\n", "v1 address not of the stated family"},
        {"PROXY TCP6 1.2.3.4 ::1 1 2\r\n", "v1 address not of the stated family"},
        {"PROXY TCP4 1.2.3.4 1.2.3.4 1 2\rX", "v1 line not ended by CRLF"},
        {"PROXY TCP4 1.2.3.4\n1.2.3.4 1 2\r\n", "v1 line not ended by CRLF"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(parse(bad[i].in, strlen(bad[i].in), &pp, &why), HB_EPROTO);
        assert_string_equal(why, bad[i].why);
    }
    char longer[200];
    memset(longer, 'A', sizeof longer);
    memcpy(longer, "PROXY UNKNOWN ", 14);
    assert_int_equal(parse(longer, 106, &pp, &why), 0);
    assert_int_equal(parse(longer, 107, &pp, &why), HB_EPROTO);
    assert_string_equal(why, "v1 line longer than 107 bytes");
}

static struct sockaddr_storage sa(const char *a, unsigned port)
{
    struct sockaddr_storage ss = {0};
    if (strchr(a, ':')) {
        struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;
        s->sin6_family = AF_INET6;
        s->sin6_port = htons((uint16_t)port);
        assert_int_equal(inet_pton(AF_INET6, a, &s->sin6_addr), 1);
    } else {
        struct sockaddr_in *s = (struct sockaddr_in *)&ss;
        s->sin_family = AF_INET;
        s->sin_port = htons((uint16_t)port);
        assert_int_equal(inet_pton(AF_INET, a, &s->sin_addr), 1);
    }
    return ss;
}

static void test_v2_roundtrip(void **st)
{
    (void)st;
    struct sockaddr_storage s4 = sa("203.0.113.7", 5555), d4 = sa("10.0.0.1", 443);
    struct sockaddr_storage s6 = sa("2001:db8::7", 1), d6 = sa("2001:db8::1", 8443);
    uint8_t buf[HB_PP_V2_MAX + 64];
    struct hb_pp pp;
    const char *why;
    const struct hb_pp_ssl ssl = {.client = 0x01,
                                  .verify = 0x01020304,
                                  .version = HB_STR_LIT("TLSv1.3"),
                                  .cipher = HB_STR_LIT("TLS_AES_128_GCM_SHA256")};
    ptrdiff_t n = hb_pp_write_v2((void *)&s4, (void *)&d4, HB_STR_LIT("h2"),
                                 HB_STR_LIT("www.example.com"), &ssl, buf, sizeof buf);
    /* The SSL TLV's exact bytes: type, length, client, verify, sub-TLVs. */
    static const uint8_t want_ssl[] = "\x20\x00\x28\x01\x01\x02\x03\x04"
                                      "\x21\x00\x07TLSv1.3"
                                      "\x23\x00\x16TLS_AES_128_GCM_SHA256";
    assert_int_equal(n, 16 + 12 + 5 + 18 + (ptrdiff_t)sizeof want_ssl - 1);
    assert_memory_equal(buf + n - (sizeof want_ssl - 1), want_ssl, sizeof want_ssl - 1);
    assert_true(n > 16 + 12);
    assert_memory_equal(buf, HB_PP_V2_SIG, 12);
    all_prefixes_need_more(buf, (size_t)n);
    memcpy(buf + n, "PRI * HTTP/2.0", 14); /* what follows is not consumed */
    assert_int_equal(parse(buf, (size_t)n + 14, &pp, &why), n);
    assert_int_equal(pp.version, 2);
    assert_int_equal(pp.cmd, HB_PP_PROXY);
    addr_is(&pp.src, "203.0.113.7", 5555);
    addr_is(&pp.dst, "10.0.0.1", 443);
    assert_true(hb_str_eq(pp.alpn, HB_STR_LIT("h2")));
    assert_true(hb_str_eq(pp.authority, HB_STR_LIT("www.example.com")));
    assert_true(pp.ssl);
    n = hb_pp_write_v2((void *)&s6, (void *)&d6, HB_STR_NULL, HB_STR_NULL, NULL, buf, sizeof buf);
    assert_int_equal(n, 16 + 36);
    assert_int_equal(parse(buf, (size_t)n, &pp, &why), n);
    addr_is(&pp.src, "2001:db8::7", 1);
    addr_is(&pp.dst, "2001:db8::1", 8443);
    assert_int_equal(pp.alpn.len, 0);
    assert_false(pp.ssl);
    /* Families that differ: LOCAL, no addresses. */
    n = hb_pp_write_v2((void *)&s4, (void *)&d6, HB_STR_LIT("h2"), HB_STR_NULL, &ssl, buf,
                       sizeof buf);
    assert_int_equal(n, 16);
    assert_int_equal(parse(buf, (size_t)n, &pp, &why), 16);
    assert_int_equal(pp.cmd, HB_PP_LOCAL);
    /* Too small a buffer, too many TLV bytes. */
    assert_int_equal(hb_pp_write_v2((void *)&s4, (void *)&d4, HB_STR_NULL, HB_STR_NULL, NULL,
                                    buf, 20),
                     HB_ELIMIT);
    static char big[HB_PP_V2_MAX];
    memset(big, 'a', sizeof big);
    assert_int_equal(hb_pp_write_v2((void *)&s4, (void *)&d4, hb_str_make(big, 1000),
                                    HB_STR_NULL, NULL, buf, sizeof buf),
                     HB_EINVAL);
    /* v1 writer, parsed back. */
    char line[HB_PP_V1_MAX];
    n = hb_pp_write_v1((void *)&s6, (void *)&d6, line, sizeof line);
    assert_memory_equal(line, "PROXY TCP6 2001:db8::7 2001:db8::1 1 8443\r\n", (size_t)n);
    assert_int_equal(n, strlen("PROXY TCP6 2001:db8::7 2001:db8::1 1 8443\r\n"));
    assert_int_equal(parse(line, (size_t)n, &pp, &why), n);
    n = hb_pp_write_v1((void *)&s4, (void *)&d6, line, sizeof line);
    assert_int_equal(n, 15);
    assert_int_equal(hb_pp_write_v1((void *)&s4, (void *)&d4, line, 10), HB_ELIMIT);
}

static void test_v2_errors(void **st)
{
    (void)st;
    struct hb_pp pp;
    const char *why;
    uint8_t h[64];
    memcpy(h, HB_PP_V2_SIG, 12);
    struct { uint8_t vc, fam; uint16_t len; const char *why; } bad[] = {
        {0x11, 0x11, 12, "v2 signature with a version other than 2"},
        {0x22, 0x11, 12, "v2 command other than LOCAL or PROXY"},
        {0x21, 0x12, 12, "v2 address family other than TCP over IPv4 or IPv6"},
        {0x21, 0x31, 12, "v2 address family other than TCP over IPv4 or IPv6"},
        {0x21, 0x11, 8, "v2 addresses longer than the header"},
        {0x21, 0x21, 20, "v2 addresses longer than the header"},
        {0x21, 0x11, 14, "v2 TLV header cut short"},
        {0x21, 0x11, 2000, "v2 header longer than 1024 bytes"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(h + 12, 0, sizeof h - 12);
        h[12] = bad[i].vc;
        h[13] = bad[i].fam;
        h[14] = (uint8_t)(bad[i].len >> 8);
        h[15] = (uint8_t)bad[i].len;
        assert_int_equal(parse(h, sizeof h, &pp, &why), HB_EPROTO);
        assert_string_equal(why, bad[i].why);
    }
    /* A TLV that runs past the end. */
    memset(h + 12, 0, sizeof h - 12);
    h[12] = 0x21, h[13] = 0x11, h[15] = 12 + 3 + 1;
    h[16 + 12] = 0x01, h[16 + 13] = 0, h[16 + 14] = 5;
    assert_int_equal(parse(h, sizeof h, &pp, &why), HB_EPROTO);
    assert_string_equal(why, "v2 TLV longer than the header");
    /* LOCAL with a body: ignored, consumed. */
    h[12] = 0x20, h[13] = 0x00, h[15] = 4;
    assert_int_equal(parse(h, 20, &pp, &why), 20);
    assert_int_equal(pp.cmd, HB_PP_LOCAL);
    /* A near-signature. */
    memcpy(h, HB_PP_V2_SIG, 12);
    h[5] = 'x';
    assert_int_equal(parse(h, 6, &pp, &why), HB_EPROTO);
    assert_string_equal(why, "not a PROXY protocol header");
    assert_int_equal(parse(h, 0, &pp, &why), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v1),
        cmocka_unit_test(test_v2_roundtrip),
        cmocka_unit_test(test_v2_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
