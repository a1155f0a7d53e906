/* core/proxy_proto.c — PROXY protocol v1 and v2 (see proxy_proto.h). */
#include "core/proxy_proto.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"

#define SIG_LEN 12
#define V2_HDR 16
#define PP2_TYPE_ALPN 0x01
#define PP2_TYPE_AUTHORITY 0x02
#define PP2_TYPE_SSL 0x20
#define PP2_CLIENT_SSL 0x01
#define PP2_SUBTYPE_SSL_VERSION 0x21
#define PP2_SUBTYPE_SSL_CN 0x22
#define PP2_SUBTYPE_SSL_CIPHER 0x23

static const uint8_t sig[SIG_LEN] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
                                     0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};

const char *hb_pp_cmd_name(enum hb_pp_cmd c)
{
    return c == HB_PP_LOCAL ? "LOCAL" : c == HB_PP_PROXY ? "PROXY" : "?";
}

static ptrdiff_t fail(const char **why, const char *reason)
{
    *why = reason;
    return HB_EPROTO;
}

/* ---- v1 ------------------------------------------------------------------ */

/* The next space-separated token of line[*pos..end); false when empty. */
static bool token(const char *line, size_t end, size_t *pos, struct hb_str *tok)
{
    size_t s = *pos, e = s;
    while (e < end && line[e] != ' ')
        e++;
    if (e == s)
        return false;
    *tok = hb_str_make(line + s, e - s);
    *pos = e < end ? e + 1 : e; /* one space separates tokens */
    return true;
}

static bool v1_port(struct hb_str t, uint16_t *port)
{
    if (t.len == 0 || t.len > 5 || (t.len > 1 && t.p[0] == '0'))
        return false;
    unsigned v = 0;
    for (size_t i = 0; i < t.len; i++) {
        if (t.p[i] < '0' || t.p[i] > '9')
            return false;
        v = v * 10 + (unsigned)(t.p[i] - '0');
    }
    if (v > 65535)
        return false;
    *port = (uint16_t)v;
    return true;
}

static bool v1_addr(int family, struct hb_str t, uint16_t port, struct sockaddr_storage *ss)
{
    char buf[INET6_ADDRSTRLEN];
    if (t.len >= sizeof buf)
        return false;
    memcpy(buf, t.p, t.len);
    buf[t.len] = 0;
    memset(ss, 0, sizeof *ss);
    if (family == AF_INET) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
        s4->sin_family = AF_INET;
        s4->sin_port = htons(port);
        return inet_pton(AF_INET, buf, &s4->sin_addr) == 1;
    }
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(port);
    return inet_pton(AF_INET6, buf, &s6->sin6_addr) == 1;
}

static ptrdiff_t parse_v1(const uint8_t *p, size_t len, struct hb_pp *out, const char **why)
{
    static const char prefix[] = "PROXY ";
    size_t n = len < 6 ? len : 6;
    if (memcmp(p, prefix, n) != 0)
        return fail(why, "not a PROXY protocol header");
    const char *line = (const char *)p;
    size_t scan = len < HB_PP_V1_MAX ? len : HB_PP_V1_MAX;
    const char *cr = memchr(line, '\r', scan);
    if (!cr) {
        if (len >= HB_PP_V1_MAX)
            return fail(why, "v1 line longer than 107 bytes");
        return 0;
    }
    size_t end = (size_t)(cr - line);
    if (end + 1 >= len)
        return 0; /* the LF is still to come */
    if (line[end + 1] != '\n')
        return fail(why, "v1 line not ended by CRLF");
    if (memchr(line, '\n', end))
        return fail(why, "v1 line not ended by CRLF");
    size_t pos = 6;
    struct hb_str proto, src, dst, sp, dp;
    if (!token(line, end, &pos, &proto))
        return fail(why, "v1 line without a protocol");
    memset(out, 0, sizeof *out);
    out->version = 1;
    if (hb_str_eq(proto, HB_STR_LIT("UNKNOWN"))) {
        out->cmd = HB_PP_LOCAL; /* the rest of the line is ignored (specification) */
        return (ptrdiff_t)(end + 2);
    }
    int family = hb_str_eq(proto, HB_STR_LIT("TCP4"))   ? AF_INET
                 : hb_str_eq(proto, HB_STR_LIT("TCP6")) ? AF_INET6
                                                        : 0;
    if (!family)
        return fail(why, "v1 protocol other than TCP4, TCP6 or UNKNOWN");
    uint16_t sport, dport;
    if (!token(line, end, &pos, &src) || !token(line, end, &pos, &dst) ||
        !token(line, end, &pos, &sp) || !token(line, end, &pos, &dp) || pos != end)
        return fail(why, "v1 line without exactly two addresses and two ports");
    if (!v1_port(sp, &sport) || !v1_port(dp, &dport))
        return fail(why, "v1 port not a number 0..65535");
    if (!v1_addr(family, src, sport, &out->src) || !v1_addr(family, dst, dport, &out->dst))
        return fail(why, "v1 address not of the stated family");
    out->cmd = HB_PP_PROXY;
    out->addr_len = family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
    return (ptrdiff_t)(end + 2);
}

/* ---- v2 ------------------------------------------------------------------ */

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static ptrdiff_t tlvs(const uint8_t *p, size_t len, struct hb_pp *out, const char **why)
{
    size_t i = 0;
    while (i < len) {
        if (len - i < 3)
            return fail(why, "v2 TLV header cut short");
        uint8_t type = p[i];
        size_t l = get16(p + i + 1);
        if (l > len - i - 3)
            return fail(why, "v2 TLV longer than the header");
        const uint8_t *v = p + i + 3;
        if (type == PP2_TYPE_ALPN)
            out->alpn = hb_str_make(v, l);
        else if (type == PP2_TYPE_AUTHORITY)
            out->authority = hb_str_make(v, l);
        else if (type == PP2_TYPE_SSL && l >= 5) /* client (1), verify (4), sub-TLVs */
            out->ssl = (v[0] & PP2_CLIENT_SSL) != 0;
        i += 3 + l;
    }
    return 0;
}

static ptrdiff_t parse_v2(const uint8_t *p, size_t len, struct hb_pp *out, const char **why)
{
    if (len < V2_HDR)
        return 0;
    uint8_t ver = p[12] >> 4, cmd = p[12] & 0xf, fam = p[13] >> 4, tr = p[13] & 0xf;
    size_t body = get16(p + 14), total = V2_HDR + body;
    if (ver != 2)
        return fail(why, "v2 signature with a version other than 2");
    if (cmd > 1)
        return fail(why, "v2 command other than LOCAL or PROXY");
    if (total > HB_PP_V2_MAX)
        return fail(why, "v2 header longer than 1024 bytes");
    if (len < total)
        return 0;
    memset(out, 0, sizeof *out);
    out->version = 2;
    out->cmd = HB_PP_LOCAL;
    const uint8_t *b = p + V2_HDR;
    size_t alen = 0;
    if (cmd == 1 && fam != 0) {
        if (tr != 1 || (fam != 1 && fam != 2))
            return fail(why, "v2 address family other than TCP over IPv4 or IPv6");
        alen = fam == 1 ? 12 : 36;
        if (body < alen)
            return fail(why, "v2 addresses longer than the header");
        if (fam == 1) {
            struct sockaddr_in *s = (struct sockaddr_in *)&out->src;
            struct sockaddr_in *d = (struct sockaddr_in *)&out->dst;
            s->sin_family = d->sin_family = AF_INET;
            memcpy(&s->sin_addr, b, 4);
            memcpy(&d->sin_addr, b + 4, 4);
            memcpy(&s->sin_port, b + 8, 2);
            memcpy(&d->sin_port, b + 10, 2);
            out->addr_len = sizeof(struct sockaddr_in);
        } else {
            struct sockaddr_in6 *s = (struct sockaddr_in6 *)&out->src;
            struct sockaddr_in6 *d = (struct sockaddr_in6 *)&out->dst;
            s->sin6_family = d->sin6_family = AF_INET6;
            memcpy(&s->sin6_addr, b, 16);
            memcpy(&d->sin6_addr, b + 16, 16);
            memcpy(&s->sin6_port, b + 32, 2);
            memcpy(&d->sin6_port, b + 34, 2);
            out->addr_len = sizeof(struct sockaddr_in6);
        }
        out->cmd = HB_PP_PROXY;
    } else if (cmd == 1) {
        alen = 0; /* AF_UNSPEC: the receiver uses the socket's own addresses */
    } else {
        alen = body; /* LOCAL: whatever follows is ignored */
    }
    if (cmd == 1 && tlvs(b + alen, body - alen, out, why) < 0)
        return HB_EPROTO;
    return (ptrdiff_t)total;
}

ptrdiff_t hb_pp_parse(const uint8_t *p, size_t len, struct hb_pp *out, const char **why)
{
    *why = NULL;
    if (len == 0)
        return 0;
    if (p[0] == sig[0]) {
        size_t n = len < SIG_LEN ? len : SIG_LEN;
        if (memcmp(p, sig, n) != 0)
            return fail(why, "not a PROXY protocol header");
        return len < SIG_LEN ? 0 : parse_v2(p, len, out, why);
    }
    return parse_v1(p, len, out, why);
}

/* ---- writers ------------------------------------------------------------- */

ptrdiff_t hb_pp_write_v1(const struct sockaddr *src, const struct sockaddr *dst, char *out,
                         size_t cap)
{
    char line[HB_PP_V1_MAX + 1];
    int n;
    if (src->sa_family == AF_INET && dst->sa_family == AF_INET) {
        const struct sockaddr_in *s = (const void *)src, *d = (const void *)dst;
        char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &s->sin_addr, a, sizeof a);
        inet_ntop(AF_INET, &d->sin_addr, b, sizeof b);
        n = snprintf(line, sizeof line, "PROXY TCP4 %s %s %u %u\r\n", a, b, ntohs(s->sin_port),
                     ntohs(d->sin_port));
    } else if (src->sa_family == AF_INET6 && dst->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const void *)src, *d = (const void *)dst;
        char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
        inet_ntop(AF_INET6, &s->sin6_addr, a, sizeof a);
        inet_ntop(AF_INET6, &d->sin6_addr, b, sizeof b);
        n = snprintf(line, sizeof line, "PROXY TCP6 %s %s %u %u\r\n", a, b, ntohs(s->sin6_port),
                     ntohs(d->sin6_port));
    } else {
        n = snprintf(line, sizeof line, "PROXY UNKNOWN\r\n");
    }
    if (n < 0 || (size_t)n > cap)
        return HB_ELIMIT;
    memcpy(out, line, (size_t)n);
    return n;
}

static size_t put_tlv(uint8_t *p, uint8_t type, const void *v, size_t len)
{
    p[0] = type;
    p[1] = (uint8_t)(len >> 8);
    p[2] = (uint8_t)len;
    memcpy(p + 3, v, len);
    return 3 + len;
}

ptrdiff_t hb_pp_write_v2(const struct sockaddr *src, const struct sockaddr *dst,
                         struct hb_str alpn, struct hb_str authority,
                         const struct hb_pp_ssl *ssl, uint8_t *out, size_t cap)
{
    uint8_t h[HB_PP_V2_MAX];
    int fam = src->sa_family == dst->sa_family ? src->sa_family : 0;
    size_t alen = fam == AF_INET ? 12 : fam == AF_INET6 ? 36 : 0;
    size_t sub = 0;
    if (ssl)
        sub = (ssl->version.len ? 3 + ssl->version.len : 0) +
              (ssl->cipher.len ? 3 + ssl->cipher.len : 0) + (ssl->cn.len ? 3 + ssl->cn.len : 0);
    /* Each length is checked against the total first: no size_t wraps. */
    if (alpn.len > HB_PP_V2_MAX || authority.len > HB_PP_V2_MAX || sub > 3 * HB_PP_V2_MAX)
        return HB_EINVAL;
    size_t tl = (alpn.len ? 3 + alpn.len : 0) + (authority.len ? 3 + authority.len : 0) +
                (ssl ? 3 + 5 + sub : 0);
    if (V2_HDR + alen + tl > HB_PP_V2_MAX)
        return HB_EINVAL;
    memcpy(h, sig, SIG_LEN);
    h[12] = alen ? 0x21 : 0x20; /* version 2, PROXY, or LOCAL without addresses */
    h[13] = fam == AF_INET ? 0x11 : fam == AF_INET6 ? 0x21 : 0x00;
    uint8_t *b = h + V2_HDR;
    if (fam == AF_INET) {
        const struct sockaddr_in *s = (const void *)src, *d = (const void *)dst;
        memcpy(b, &s->sin_addr, 4);
        memcpy(b + 4, &d->sin_addr, 4);
        memcpy(b + 8, &s->sin_port, 2);
        memcpy(b + 10, &d->sin_port, 2);
    } else if (fam == AF_INET6) {
        const struct sockaddr_in6 *s = (const void *)src, *d = (const void *)dst;
        memcpy(b, &s->sin6_addr, 16);
        memcpy(b + 16, &d->sin6_addr, 16);
        memcpy(b + 32, &s->sin6_port, 2);
        memcpy(b + 34, &d->sin6_port, 2);
    }
    size_t off = V2_HDR + alen;
    if (alen) { /* TLVs belong to a PROXY header only */
        if (alpn.len)
            off += put_tlv(h + off, PP2_TYPE_ALPN, alpn.p, alpn.len);
        if (authority.len)
            off += put_tlv(h + off, PP2_TYPE_AUTHORITY, authority.p, authority.len);
        if (ssl) {
            /* client (1), verify (4, network order), then the sub-TLVs */
            uint8_t *t = h + off;
            size_t l = 5 + sub;
            t[0] = PP2_TYPE_SSL;
            t[1] = (uint8_t)(l >> 8);
            t[2] = (uint8_t)l;
            t[3] = ssl->client;
            t[4] = (uint8_t)(ssl->verify >> 24);
            t[5] = (uint8_t)(ssl->verify >> 16);
            t[6] = (uint8_t)(ssl->verify >> 8);
            t[7] = (uint8_t)ssl->verify;
            size_t o = 8;
            if (ssl->version.len)
                o += put_tlv(t + o, PP2_SUBTYPE_SSL_VERSION, ssl->version.p, ssl->version.len);
            if (ssl->cn.len)
                o += put_tlv(t + o, PP2_SUBTYPE_SSL_CN, ssl->cn.p, ssl->cn.len);
            if (ssl->cipher.len)
                o += put_tlv(t + o, PP2_SUBTYPE_SSL_CIPHER, ssl->cipher.p, ssl->cipher.len);
            off += o;
        }
    }
    size_t body = off - V2_HDR;
    h[14] = (uint8_t)(body >> 8);
    h[15] = (uint8_t)body;
    if (off > cap)
        return HB_ELIMIT;
    memcpy(out, h, off);
    return (ptrdiff_t)off;
}
