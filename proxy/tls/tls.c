/* proxy/tls/tls.c — SSL_CTX per certificate, SNI/ALPN selection, protocol policy. */
#include "proxy/tls/tls.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/log.h"
#include "proxy/tls/ocsp.h"

/* TLS 1.2 default (listeners[].tls.ciphers replaces it): forward secrecy and
 * AEAD only (RFC 9113 §9.2.2 also forbids the rest for h2). TLS 1.3 suites
 * are all AEAD and not configurable here. */
static const char tls12_ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384";

#define MAX_NAMES_PER_CERT 64

struct cert {
    SSL_CTX *ctx;
    char **names; /* lowercase; "*.suffix" for wildcards */
    size_t nnames;
    bool ecdsa;
    struct px_ocsp *ocsp; /* stapled response, or NULL */
};

struct px_tls {
    struct cert *certs;
    size_t ncerts;
    struct px_ticket_keys *tickets;
    uint8_t alpn[32]; /* our preference list, wire format */
    size_t alpn_len;
};

static int tls_ex_index = -1;
static pthread_once_t tls_once = PTHREAD_ONCE_INIT;

static void tls_ex_init(void)
{
    tls_ex_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

void px_tls_opts_default(struct px_tls_opts *o)
{
    memset(o, 0, sizeof *o);
    o->min_version = TLS1_2_VERSION;
    o->alpn_h2 = true;
    o->alpn_http1 = true;
    o->ticket_rotate_sec = 3600;
    o->ocsp_check_sec = 60;
}

static void ssl_reason(char *err, size_t errlen, const char *file, const char *what)
{
    char e[160] = "";
    uint32_t code = ERR_peek_last_error();
    if (code)
        ERR_error_string_n(code, e, sizeof e);
    ERR_clear_error();
    snprintf(err, errlen, "%s: %s%s%s", file, what, e[0] ? ": " : "", e);
}

static EVP_PKEY *read_key(const char *key_file)
{
    FILE *f = fopen(key_file, "r");
    if (!f)
        return NULL;
    EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    return k;
}

/* Loads the pair into ctx. Returns 0 or -1 with a reason. */
static int load_pair(SSL_CTX *ctx, const char *cert_file, const char *key_file, char *err,
                     size_t errlen)
{
    if (!SSL_CTX_use_certificate_chain_file(ctx, cert_file)) {
        ssl_reason(err, errlen, cert_file, "cannot load certificate chain (PEM)");
        return -1;
    }
    EVP_PKEY *key = read_key(key_file);
    if (!key) {
        ssl_reason(err, errlen, key_file, "cannot load private key (PEM)");
        return -1;
    }
    int rc = 0;
    if (!X509_check_private_key(SSL_CTX_get0_certificate(ctx), key)) {
        ERR_clear_error();
        snprintf(err, errlen, "%s: private key does not match the certificate in %s", key_file,
                 cert_file);
        rc = -1;
    } else if (!SSL_CTX_use_PrivateKey(ctx, key)) {
        ssl_reason(err, errlen, key_file, "cannot use private key");
        rc = -1;
    }
    EVP_PKEY_free(key);
    return rc;
}

int px_tls_check_pair(const char *cert_file, const char *key_file, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_method());
    if (!ctx) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = load_pair(ctx, cert_file, key_file, err, errlen);
    SSL_CTX_free(ctx);
    return rc;
}

int px_tls_check_ciphers(const char *list, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_method());
    if (!ctx) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* Strict: an unknown name fails instead of being skipped; a list that
     * selects nothing fails too (NO_CIPHER_MATCH). */
    int rc = 0;
    if (!SSL_CTX_set_strict_cipher_list(ctx, list)) {
        ssl_reason(err, errlen, "ciphers", "BoringSSL refuses the list");
        rc = -1;
    }
    SSL_CTX_free(ctx);
    return rc;
}

static char *lower_dup(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (!d)
        return NULL;
    for (size_t i = 0; i < n; i++)
        d[i] = (char)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] + 32 : s[i]);
    d[n] = 0;
    return d;
}

static int add_name(struct cert *c, const char *s, size_t n)
{
    if (c->nnames == MAX_NAMES_PER_CERT || n == 0)
        return 0;
    char *d = lower_dup(s, n);
    if (!d)
        return -1;
    c->names[c->nnames++] = d;
    return 0;
}

/* Server names from subjectAltName DNS entries, else the subject CN. */
static int names_from_cert(struct cert *c)
{
    X509 *x = SSL_CTX_get0_certificate(c->ctx);
    if (!x)
        return 0;
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    int rc = 0;
    for (size_t i = 0; gens && i < sk_GENERAL_NAME_num(gens) && rc == 0; i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        if (g->type == GEN_DNS)
            rc = add_name(c, (const char *)ASN1_STRING_get0_data(g->d.dNSName),
                          (size_t)ASN1_STRING_length(g->d.dNSName));
    }
    if (gens)
        GENERAL_NAMES_free(gens);
    if (rc == 0 && c->nnames == 0) {
        X509_NAME *subj = X509_get_subject_name(x);
        int idx = X509_NAME_get_index_by_NID(subj, NID_commonName, -1);
        if (idx >= 0) {
            ASN1_STRING *cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, idx));
            rc = add_name(c, (const char *)ASN1_STRING_get0_data(cn),
                          (size_t)ASN1_STRING_length(cn));
        }
    }
    return rc;
}

/* "*.example.com" covers exactly one extra label (RFC 6125 §6.4.3). */
static bool name_matches(const char *pattern, const char *name)
{
    if (pattern[0] != '*')
        return strcasecmp(pattern, name) == 0;
    const char *dot = strchr(name, '.');
    return dot && dot != name && strcasecmp(pattern + 1, dot) == 0;
}

size_t px_tls_pick(const struct px_tls *t, const char *name, bool ecdsa_ok)
{
    if (!name || t->ncerts == 1)
        return 0;
    /* Pass 0: exact names, pass 1: wildcards. Within a pass the first
     * certificate of the preferred key type wins, else the first match. */
    for (int pass = 0; pass < 2; pass++) {
        size_t found = SIZE_MAX;
        for (size_t i = 0; i < t->ncerts; i++) {
            const struct cert *c = &t->certs[i];
            for (size_t j = 0; j < c->nnames; j++) {
                bool wild = c->names[j][0] == '*';
                if (wild != (pass == 1) || !name_matches(c->names[j], name))
                    continue;
                if (c->ecdsa == ecdsa_ok)
                    return i;
                if (found == SIZE_MAX)
                    found = i;
            }
        }
        if (found != SIZE_MAX)
            return found;
    }
    return 0;
}

static bool list_has_u16(const uint8_t *p, size_t len, const uint16_t *want, size_t nwant)
{
    for (size_t i = 0; i + 1 < len; i += 2) {
        uint16_t v = (uint16_t)(p[i] << 8 | p[i + 1]);
        for (size_t j = 0; j < nwant; j++)
            if (v == want[j])
                return true;
    }
    return false;
}

/* The client can verify an ECDSA certificate: it offers an ECDSA signature
 * algorithm, and a suite usable with it (any TLS 1.3 suite or an
 * ECDHE-ECDSA TLS 1.2 suite). */
static bool client_ecdsa_ok(const SSL_CLIENT_HELLO *ch)
{
    static const uint16_t sigalgs[] = {0x0403, 0x0503, 0x0603};
    static const uint16_t suites[] = {0x1301, 0x1302, 0x1303, 0xc02b, 0xc02c, 0xcca9};
    const uint8_t *p;
    size_t len;
    if (!SSL_early_callback_ctx_extension_get(ch, TLSEXT_TYPE_signature_algorithms, &p, &len) ||
        len < 2)
        return false;
    return list_has_u16(p + 2, len - 2, sigalgs, 3) &&
           list_has_u16(ch->cipher_suites, ch->cipher_suites_len, suites, 6);
}

static enum ssl_select_cert_result_t select_cert(const SSL_CLIENT_HELLO *ch)
{
    SSL *ssl = ch->ssl;
    struct px_tls *t = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), tls_ex_index);
    if (!t)
        return ssl_select_cert_error;
    const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    size_t i = px_tls_pick(t, name, client_ecdsa_ok(ch));
    if (SSL_get_SSL_CTX(ssl) != t->certs[i].ctx)
        SSL_set_SSL_CTX(ssl, t->certs[i].ctx);
    /* A staple only for a client that asks (status_request, RFC 6066 §8). */
    const uint8_t *p;
    size_t len;
    if (t->certs[i].ocsp &&
        SSL_early_callback_ctx_extension_get(ch, TLSEXT_TYPE_status_request, &p, &len))
        px_ocsp_staple(t->certs[i].ocsp, ssl);
    return ssl_select_cert_success;
}

/* Server preference: the first of our protocols the client offers. */
static int alpn_select(SSL *ssl, const uint8_t **out, uint8_t *outlen, const uint8_t *in,
                       unsigned inlen, void *arg)
{
    const struct px_tls *t = arg;
    for (size_t i = 0; i < t->alpn_len; i += 1 + t->alpn[i]) {
        const uint8_t *ours = &t->alpn[i];
        for (unsigned j = 0; j < inlen; j += 1u + in[j]) {
            if (j + 1u + in[j] > inlen)
                break;
            if (in[j] == ours[0] && memcmp(&in[j + 1], ours + 1, ours[0]) == 0) {
                *out = ours + 1;
                *outlen = ours[0];
                return SSL_TLSEXT_ERR_OK;
            }
        }
    }
    return SSL_TLSEXT_ERR_NOACK; /* fall back to http/1.1 without ALPN */
}

int px_tls_alpn_version(const SSL *ssl)
{
    const uint8_t *p;
    unsigned len;
    SSL_get0_alpn_selected(ssl, &p, &len);
    return (len == 2 && memcmp(p, "h2", 2) == 0) ? 2 : 1;
}

static SSL_CTX *make_ctx(struct px_tls *t, const struct px_tls_opts *o)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_method());
    if (!ctx)
        return NULL;
    uint16_t minv = o->min_version == TLS1_3_VERSION ? TLS1_3_VERSION : TLS1_2_VERSION;
    if (!SSL_CTX_set_min_proto_version(ctx, minv) ||
        !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) ||
        !SSL_CTX_set_strict_cipher_list(ctx, o->ciphers ? o->ciphers : tls12_ciphers)) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
    /* Resumption is by ticket only: no per-session server memory. */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    /* 0-RTT: tickets issued now carry max_early_data (BoringSSL's fixed
     * 14336 bytes) and a resumption's early data is accepted when the
     * ticket's age is plausible and ALPN is unchanged. Off by default. */
    SSL_CTX_set_early_data_enabled(ctx, o->early_data);
    SSL_CTX_set_ex_data(ctx, tls_ex_index, t);
    SSL_CTX_set_select_certificate_cb(ctx, select_cert);
    SSL_CTX_set_alpn_select_cb(ctx, alpn_select, t);
    px_ticket_keys_attach(t->tickets, ctx);
    /* A resumed session must come from this listener's own contexts (a
     * session verified under one CA is not valid under another). */
    static const uint8_t sid_ctx[] = "h2bridge";
    SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof sid_ctx - 1);
    return ctx;
}

/* client_auth: the CAs, the CRLs and the depth on ctx. Returns 0, or -1
 * with a reason naming the file in err. */
static int client_verify(SSL_CTX *ctx, const struct px_tls_opts *o, char *err, size_t errlen)
{
    if (o->client_auth <= 0)
        return 0;
    if (!o->client_ca || SSL_CTX_load_verify_locations(ctx, o->client_ca, NULL) != 1) {
        snprintf(err, errlen, "%s: no usable PEM CA certificate", o->client_ca ? o->client_ca : "?");
        return -1;
    }
    STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(o->client_ca);
    if (names)
        SSL_CTX_set_client_CA_list(ctx, names); /* what the CertificateRequest names */
    if (o->client_crl) {
        X509_STORE *store = SSL_CTX_get_cert_store(ctx);
        X509_LOOKUP *lk = X509_STORE_add_lookup(store, X509_LOOKUP_file());
        if (!lk || X509_load_crl_file(lk, o->client_crl, X509_FILETYPE_PEM) <= 0) {
            snprintf(err, errlen, "%s: no usable PEM CRL", o->client_crl);
            return -1;
        }
        X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
    }
    SSL_CTX_set_verify_depth(ctx, o->verify_depth);
    SSL_CTX_set_verify(ctx,
                       SSL_VERIFY_PEER |
                           (o->client_auth >= 2 ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
                       NULL);
    return 0;
}

const char *px_tls_verify_error(const SSL *ssl)
{
    if (!SSL_get0_peer_certificates(ssl))
        return NULL; /* nothing was verified (BoringSSL then says "invalid call") */
    long r = SSL_get_verify_result(ssl);
    return r == X509_V_OK ? NULL : X509_verify_cert_error_string(r);
}

static void hex_of(const uint8_t *p, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[p[i] >> 4];
        out[2 * i + 1] = d[p[i] & 0xf];
    }
    out[2 * n] = 0;
}

static void append(char *dst, size_t size, size_t *len, const char *s, size_t n)
{
    if (*len + n >= size)
        n = *len < size - 1 ? size - 1 - *len : 0;
    memcpy(dst + *len, s, n);
    *len += n;
    dst[*len] = 0;
}

int px_tls_client_cert(const SSL *ssl, char *subject, size_t subject_size, char *san,
                       size_t san_size, char hash[65])
{
    X509 *x = SSL_get_peer_certificate(ssl);
    if (!x)
        return -1;
    subject[0] = san[0] = 0;
    BIO *b = BIO_new(BIO_s_mem());
    if (b && X509_NAME_print_ex(b, X509_get_subject_name(x), 0, XN_FLAG_RFC2253) >= 0) {
        const uint8_t *p;
        size_t n;
        if (BIO_mem_contents(b, &p, &n)) {
            size_t len = 0;
            append(subject, subject_size, &len, (const char *)p, n);
        }
    }
    BIO_free(b);
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    size_t len = 0;
    for (size_t i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        const char *tag = NULL;
        const ASN1_STRING *v = NULL;
        char ip[64];
        if (g->type == GEN_DNS)
            tag = "DNS:", v = g->d.dNSName;
        else if (g->type == GEN_URI)
            tag = "URI:", v = g->d.uniformResourceIdentifier;
        else if (g->type == GEN_EMAIL)
            tag = "email:", v = g->d.rfc822Name;
        else if (g->type == GEN_IPADD && (g->d.iPAddress->length == 4 ||
                                          g->d.iPAddress->length == 16)) {
            inet_ntop(g->d.iPAddress->length == 4 ? AF_INET : AF_INET6, g->d.iPAddress->data,
                      ip, sizeof ip);
            tag = "IP:";
        } else {
            continue;
        }
        if (len)
            append(san, san_size, &len, ", ", 2);
        append(san, san_size, &len, tag, strlen(tag));
        if (v)
            append(san, san_size, &len, (const char *)ASN1_STRING_get0_data(v),
                   (size_t)ASN1_STRING_length(v));
        else
            append(san, san_size, &len, ip, strlen(ip));
    }
    GENERAL_NAMES_free(gens);
    uint8_t *der = NULL;
    int dlen = i2d_X509(x, &der);
    X509_free(x);
    if (dlen <= 0)
        return -1;
    uint8_t md[SHA256_DIGEST_LENGTH];
    SHA256(der, (size_t)dlen, md);
    OPENSSL_free(der);
    hex_of(md, sizeof md, hash);
    return 0;
}

static int add_cert(struct px_tls *t, const struct px_tls_cert_spec *s,
                    const struct px_tls_opts *o, char *err, size_t errlen)
{
    struct cert *c = &t->certs[t->ncerts];
    c->ctx = make_ctx(t, o);
    c->names = calloc(MAX_NAMES_PER_CERT, sizeof *c->names);
    if (!c->ctx || !c->names) {
        snprintf(err, errlen, "out of memory");
        if (c->ctx)
            SSL_CTX_free(c->ctx);
        free(c->names);
        return -1;
    }
    t->ncerts++;
    if (load_pair(c->ctx, s->cert_file, s->key_file, err, errlen) != 0 ||
        client_verify(c->ctx, o, err, errlen) != 0)
        return -1;
    if (s->ocsp_file && !(c->ocsp = px_ocsp_new(s->ocsp_file, c->ctx, o->ocsp_check_sec, err,
                                                  errlen)))
        return -1;
    c->ecdsa = EVP_PKEY_id(SSL_CTX_get0_privatekey(c->ctx)) == EVP_PKEY_EC;
    int rc = 0;
    for (size_t i = 0; i < s->nnames && rc == 0; i++)
        rc = add_name(c, s->names[i], strlen(s->names[i]));
    if (rc == 0 && s->nnames == 0)
        rc = names_from_cert(c);
    if (rc != 0)
        snprintf(err, errlen, "out of memory");
    return rc;
}

static void build_alpn(struct px_tls *t, const struct px_tls_opts *o)
{
    t->alpn_len = 0;
    if (o->alpn_h2) {
        memcpy(t->alpn, "\x02h2", 3);
        t->alpn_len = 3;
    }
    if (o->alpn_http1) {
        memcpy(t->alpn + t->alpn_len, "\x08http/1.1", 9);
        t->alpn_len += 9;
    }
}

struct px_tls *px_tls_new(const struct px_tls_cert_spec *certs, size_t ncerts,
                          const struct px_tls_opts *opts, char *err, size_t errlen)
{
    pthread_once(&tls_once, tls_ex_init);
    struct px_tls_opts def;
    if (!opts) {
        px_tls_opts_default(&def);
        opts = &def;
    }
    if (ncerts == 0) {
        snprintf(err, errlen, "no certificate configured");
        return NULL;
    }
    struct px_tls *t = calloc(1, sizeof *t);
    if (t)
        t->certs = calloc(ncerts, sizeof *t->certs);
    if (!t || !t->certs) {
        free(t);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    build_alpn(t, opts);
    t->tickets = opts->ticket_mc.host ? px_ticket_keys_new_mc(&opts->ticket_mc,
                                                              opts->ticket_rotate_sec,
                                                              opts->ticket_lifetime_sec, err,
                                                              errlen)
                                      : px_ticket_keys_new(opts->ticket_key_file,
                                                           opts->ticket_rotate_sec, err, errlen);
    if (!t->tickets) {
        px_tls_del(t);
        return NULL;
    }
    for (size_t i = 0; i < ncerts; i++) {
        if (add_cert(t, &certs[i], opts, err, errlen) != 0) {
            px_tls_del(t);
            return NULL;
        }
    }
    return t;
}

void px_tls_del(struct px_tls *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->ncerts; i++) {
        SSL_CTX_free(t->certs[i].ctx);
        px_ocsp_del(t->certs[i].ocsp);
        for (size_t j = 0; j < t->certs[i].nnames; j++)
            free(t->certs[i].names[j]);
        free(t->certs[i].names);
    }
    free(t->certs);
    px_ticket_keys_del(t->tickets);
    free(t);
}

SSL *px_tls_new_ssl(struct px_tls *t)
{
    SSL *ssl = SSL_new(t->certs[0].ctx);
    /* After the handshake BoringSSL may free the handshake configuration
     * (certificate chain references, cipher and ALPN lists): an idle
     * connection then costs less. Nothing reads it afterwards: the served
     * certificate is the one of SSL_get_SSL_CTX (authority.c), and a server
     * never renegotiates. */
    if (ssl)
        SSL_set_shed_handshake_config(ssl, 1);
    return ssl;
}

struct px_ocsp *px_tls_ocsp(struct px_tls *t, size_t i)
{
    return i < t->ncerts ? t->certs[i].ocsp : NULL;
}

struct px_ticket_keys *px_tls_ticket_keys(struct px_tls *t)
{
    return t->tickets;
}
