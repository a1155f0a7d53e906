/* proxy/front/authority.c — 421 Misdirected Request decisions (see authority.h). */
#include "proxy/front/authority.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "proxy/front/conn.h"

#define HOST_MAX 256 /* covered_len is a uint8_t */

/* Copies the host of an authority ("name:port", "[v6]:port", "name") into
 * out, NUL-terminated, brackets removed. Returns false when it does not fit. */
static bool host_of(struct hb_str a, char *out, size_t cap, bool *ip6)
{
    const char *p = a.p;
    size_t n = a.len;
    *ip6 = false;
    if (n && p[0] == '[') {
        const char *e = memchr(p, ']', n);
        if (!e)
            return false;
        p++;
        n = (size_t)(e - p);
        *ip6 = true;
    } else {
        const char *c = memchr(p, ':', n);
        if (c)
            n = (size_t)(c - p);
    }
    if (n == 0 || n >= cap)
        return false;
    memcpy(out, p, n);
    out[n] = '\0';
    if (out[n - 1] == '.') /* a fully qualified "name." is the same name */
        out[n - 1] = '\0';
    return true;
}

static bool is_ipv4(const char *h)
{
    for (; *h; h++)
        if (!((*h >= '0' && *h <= '9') || *h == '.'))
            return false;
    return true;
}

static bool covered(X509 *cert, const char *host, bool ip6)
{
    if (ip6 || is_ipv4(host))
        return X509_check_ip_asc(cert, host, 0) == 1;
    return X509_check_host(cert, host, strlen(host), X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS,
                           NULL) == 1;
}

bool px_misdirected(struct px_fconn *fc, const struct hb_msg *req)
{
    if (!fc->io.ssl || req->authority.len == 0)
        return false;
    /* One SSL_CTX per certificate (tls.c): the handshake's is the one SNI
     * selected, and it stays readable after the handshake configuration was
     * shed. */
    X509 *cert = SSL_CTX_get0_certificate(SSL_get_SSL_CTX(fc->io.ssl));
    if (!cert)
        return false;
    char host[HOST_MAX];
    bool ip6;
    if (!host_of(req->authority, host, sizeof host, &ip6))
        return true;
    /* Checking a name against the certificate parses its subjectAltNames:
     * a few microseconds, for every request. A connection's requests almost
     * always name one host, so the last covered one is remembered (exactly,
     * not by hash: a collision must not let a misdirected request in). */
    size_t n = strlen(host);
    if (fc->covered_host && fc->covered_len == n && memcmp(fc->covered_host, host, n) == 0)
        return false;
    if (!covered(cert, host, ip6))
        return true;
    char *copy = realloc(fc->covered_host, n);
    if (copy) { /* else: checked again next time */
        memcpy(copy, host, n);
        fc->covered_host = copy;
        fc->covered_len = (uint8_t)n;
    }
    return false;
}

void px_authority_forget(struct px_fconn *fc)
{
    free(fc->covered_host);
    fc->covered_host = NULL;
    fc->covered_len = 0;
}
