/* proxy/exchange/pp_out.c — PROXY protocol headers for backends (pp_out.h). */
#include "proxy/exchange/pp_out.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "proxy/front/conn.h"
#include "proxy/worker.h"

/* PP2_TYPE_SSL's client bits (the PROXY protocol specification, 2.2.5). */
#define PP2_CLIENT_SSL 0x01
#define PP2_CLIENT_CERT_CONN 0x02
#define PP2_CLIENT_CERT_SESS 0x04

/* The client's address: fc->peer_addr/peer_port, which a balancer's PROXY
 * header may have set (front/proxy_hdr.c). */
static void client_addr(const struct px_fconn *fc, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, fc->peer_addr, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons(fc->peer_port);
    } else if (inet_pton(AF_INET6, fc->peer_addr, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(fc->peer_port);
    }
}

/* Both sides in one family: an IPv4 client on a dual-stack socket appears
 * as ::ffff:a.b.c.d to one and a.b.c.d to the other. */
static void same_family(struct sockaddr_storage *src, struct sockaddr_storage *dst)
{
    if (src->ss_family == AF_INET && dst->ss_family == AF_INET6) {
        struct sockaddr_in6 *d6 = (struct sockaddr_in6 *)dst;
        if (IN6_IS_ADDR_V4MAPPED(&d6->sin6_addr)) {
            struct sockaddr_in d4 = {.sin_family = AF_INET, .sin_port = d6->sin6_port};
            memcpy(&d4.sin_addr, &d6->sin6_addr.s6_addr[12], 4);
            memset(dst, 0, sizeof *dst);
            memcpy(dst, &d4, sizeof d4);
        }
    }
}

static int build(struct px_fconn *fc, struct px_pp_out *o, int version)
{
    struct sockaddr_storage src, dst;
    socklen_t dl = sizeof dst;
    client_addr(fc, &src);
    if (fc->lb_dst) /* what the balancer's header said the client connected to */
        memcpy(&dst, fc->lb_dst, sizeof dst);
    else if (getsockname(fc->fd, (struct sockaddr *)&dst, &dl) != 0)
        memset(&dst, 0, sizeof dst); /* UNKNOWN / LOCAL */
    same_family(&src, &dst);
    ptrdiff_t n;
    if (version == 1) {
        n = hb_pp_write_v1((struct sockaddr *)&src, (struct sockaddr *)&dst, (char *)o->v1,
                           sizeof o->v1);
        o->v[0] = (struct px_pool_client){o->v1, (uint16_t)(n > 0 ? n : 0)};
        return n > 0 ? 0 : -1;
    }
    struct hb_str alpn = HB_STR_NULL, sni = HB_STR_NULL;
    struct hb_pp_ssl ssl = {0};
    char cn[256];
    SSL *t = fc->io.ssl;
    if (t) {
        const uint8_t *p;
        unsigned len;
        SSL_get0_alpn_selected(t, &p, &len);
        if (len)
            alpn = hb_str_make((const char *)p, len);
        const char *name = SSL_get_servername(t, TLSEXT_NAMETYPE_host_name);
        if (name)
            sni = hb_str_c(name);
        /* PP2_TYPE_SSL: the certificate bits and verify as the
         * specification defines them: verify is 0 only for a certificate
         * presented and verified (fc->cert is set for those alone). */
        ssl.client = PP2_CLIENT_SSL;
        ssl.verify = 1;
        if (fc->cert) {
            ssl.client |= PP2_CLIENT_CERT_SESS | (SSL_session_reused(t) ? 0 : PP2_CLIENT_CERT_CONN);
            ssl.verify = 0;
            X509 *x = SSL_get_peer_certificate(t);
            int cl = x ? X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn,
                                                  sizeof cn)
                      : -1;
            if (cl > 0)
                ssl.cn = hb_str_make(cn, (size_t)cl);
            X509_free(x);
        }
        ssl.version = hb_str_c(SSL_get_version(t));
        const SSL_CIPHER *ci = SSL_get_current_cipher(t);
        if (ci)
            ssl.cipher = hb_str_c(SSL_CIPHER_standard_name(ci));
    }
    n = hb_pp_write_v2((struct sockaddr *)&src, (struct sockaddr *)&dst, alpn, sni,
                       t ? &ssl : NULL, o->v2, sizeof o->v2);
    o->v[1] = (struct px_pool_client){o->v2, (uint16_t)(n > 0 ? n : 0)};
    return n > 0 ? 0 : -1;
}

const struct px_pool_client *px_pp_out_client(struct px_fconn *fc, int version)
{
    if (!fc->pp_out && !(fc->pp_out = calloc(1, sizeof *fc->pp_out)))
        return NULL;
    struct px_pp_out *o = fc->pp_out;
    int i = version == 1 ? 0 : 1;
    if (!o->v[i].len && build(fc, o, version) != 0)
        return NULL;
    return &o->v[i];
}

void px_pp_out_forget(struct px_fconn *fc)
{
    struct px_worker *w = fc->w;
    for (size_t i = 0; i < w->nups; i++)
        if (w->ups[i].cfg->proxy_protocol)
            for (size_t j = 0; j < w->ups[i].npools; j++)
                px_pool_forget_client(w->ups[i].pools[j], (uintptr_t)fc->serial);
    free(fc->pp_out);
    fc->pp_out = NULL;
}
