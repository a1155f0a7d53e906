/* core/cidr.c — client networks (see cidr.h). */
#include "core/cidr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "core/err.h"

static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static bool is_v4_mapped(const uint8_t a[16])
{
    return memcmp(a, v4_mapped, sizeof v4_mapped) == 0;
}

/* Parses a decimal prefix length of 1..3 digits. */
static int parse_bits(const char *s, size_t len, unsigned *out)
{
    if (len == 0 || len > 3)
        return HB_EINVAL;
    unsigned v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return HB_EINVAL;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (len > 1 && s[0] == '0')
        return HB_EINVAL; /* "08": not a plain number */
    *out = v;
    return 0;
}

int hb_cidr_parse(const char *s, size_t len, struct hb_cidr *out)
{
    char a[INET6_ADDRSTRLEN];
    const char *slash = memchr(s, '/', len);
    size_t alen = slash ? (size_t)(slash - s) : len;
    if (alen == 0 || alen >= sizeof a)
        return HB_EINVAL;
    memcpy(a, s, alen);
    a[alen] = 0;
    struct hb_cidr c = {{0}, 0};
    unsigned max;
    struct in_addr v4;
    if (inet_pton(AF_INET, a, &v4) == 1) {
        memcpy(c.addr, v4_mapped, sizeof v4_mapped);
        memcpy(c.addr + 12, &v4, 4);
        max = 32;
    } else if (inet_pton(AF_INET6, a, c.addr) == 1) {
        max = 128;
    } else {
        return HB_EINVAL;
    }
    unsigned bits = max;
    if (slash && parse_bits(slash + 1, len - alen - 1, &bits) != 0)
        return HB_EINVAL;
    if (bits > max)
        return HB_EINVAL;
    bits += 128 - max;
    /* Host bits past the prefix must be zero. */
    for (unsigned i = bits; i < 128; i++)
        if (c.addr[i / 8] & (0x80u >> (i % 8)))
            return HB_EINVAL;
    c.bits = (uint8_t)bits;
    *out = c;
    return 0;
}

bool hb_cidr_contains(const struct hb_cidr *c, const uint8_t addr[16])
{
    unsigned full = c->bits / 8, rest = c->bits % 8;
    if (memcmp(c->addr, addr, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xffu << (8 - rest));
    return (c->addr[full] & mask) == (addr[full] & mask);
}

bool hb_cidr_addr_of(const struct sockaddr *sa, uint8_t out[16])
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const void *)sa;
        memcpy(out, v4_mapped, sizeof v4_mapped);
        memcpy(out + 12, &s4->sin_addr, 4);
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const void *)sa;
        memcpy(out, &s6->sin6_addr, 16);
        return true;
    }
    return false;
}

bool hb_cidr_contains_any(const struct hb_cidr *v, size_t n, const uint8_t addr[16])
{
    for (size_t i = 0; i < n; i++)
        if (hb_cidr_contains(&v[i], addr))
            return true;
    return false;
}

bool hb_cidr_match_any(const struct hb_cidr *v, size_t n, const struct sockaddr *sa)
{
    uint8_t a[16];
    return n && hb_cidr_addr_of(sa, a) && hb_cidr_contains_any(v, n, a);
}

char *hb_cidr_format(const struct hb_cidr *c, char *buf, size_t size)
{
    char a[INET6_ADDRSTRLEN] = "?";
    if (c->bits >= 96 && is_v4_mapped(c->addr)) {
        inet_ntop(AF_INET, c->addr + 12, a, sizeof a);
        snprintf(buf, size, "%s/%u", a, c->bits - 96u);
    } else {
        inet_ntop(AF_INET6, c->addr, a, sizeof a);
        snprintf(buf, size, "%s/%u", a, (unsigned)c->bits);
    }
    return buf;
}
