/* proxy/tls/ocsp.c — the stapled OCSP response of one certificate (see ocsp.h). */
#include "proxy/tls/ocsp.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/bytestring.h>
#include <openssl/x509.h>

#include "core/log.h"
#include "proxy/tls/ocsp_der.h"

#define OCSP_MAX_BYTES (64 * 1024) /* a response with its responder chain fits */

struct px_ocsp {
    pthread_mutex_t mu;
    char *file;
    uint32_t check_sec;
    time_t next_check; /* CLOCK_MONOTONIC seconds */
    struct stat seen;  /* of the file last read (good or bad) */
    uint8_t *der;      /* the response stapled */
    size_t len;
    uint8_t serial[64]; /* the certificate's serialNumber contents */
    size_t serial_len;
    uint8_t *issuer_key; /* its issuer's subjectPublicKey, when in the chain */
    size_t issuer_key_len;
};

static time_t mono_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

/* Reads and checks the file: 0 with the bytes in *der (caller frees), or -1
 * with a reason. st: the file's identity, read with the same descriptor. */
static int load(const struct px_ocsp *o, uint8_t **der, size_t *len, struct stat *st,
                enum px_ocsp_status *status, char *err, size_t errlen)
{
    FILE *f = fopen(o->file, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", o->file, strerror(errno));
        return -1;
    }
    uint8_t *buf = NULL;
    int rc = -1;
    if (fstat(fileno(f), st) != 0 || st->st_size <= 0 || st->st_size > OCSP_MAX_BYTES) {
        snprintf(err, errlen, "%s: expected a DER OCSP response of 1 to %d bytes", o->file,
                 OCSP_MAX_BYTES);
        goto out;
    }
    size_t n = (size_t)st->st_size;
    buf = malloc(n);
    if (!buf || fread(buf, 1, n, f) != n) {
        snprintf(err, errlen, "%s: cannot read", o->file);
        goto out;
    }
    struct px_ocsp_want w = {o->serial, o->serial_len, o->issuer_key, o->issuer_key_len,
                             time(NULL)};
    const char *why;
    if (px_ocsp_check(buf, n, &w, status, &why) != 0) {
        snprintf(err, errlen, "%s: not a usable OCSP response: %s", o->file, why);
        goto out;
    }
    *der = buf;
    *len = n;
    buf = NULL;
    rc = 0;
out:
    free(buf);
    fclose(f);
    return rc;
}

/* The issuer of leaf in ctx's chain, or NULL. */
static X509 *issuer_in_chain(SSL_CTX *ctx, X509 *leaf)
{
    STACK_OF(X509) *chain = NULL;
    if (!SSL_CTX_get0_chain_certs(ctx, &chain) || !chain)
        return NULL;
    for (size_t i = 0; i < sk_X509_num(chain); i++) {
        X509 *c = sk_X509_value(chain, i);
        if (X509_NAME_cmp(X509_get_subject_name(c), X509_get_issuer_name(leaf)) == 0)
            return c;
    }
    return NULL;
}

static int cert_ids(struct px_ocsp *o, SSL_CTX *ctx)
{
    X509 *leaf = SSL_CTX_get0_certificate(ctx);
    if (!leaf)
        return -1;
    uint8_t *der = NULL;
    int n = i2d_ASN1_INTEGER(X509_get_serialNumber(leaf), &der);
    CBS in, serial;
    CBS_init(&in, der, n > 0 ? (size_t)n : 0);
    int rc = -1;
    if (n > 0 && CBS_get_asn1(&in, &serial, CBS_ASN1_INTEGER) &&
        CBS_len(&serial) <= sizeof o->serial) {
        memcpy(o->serial, CBS_data(&serial), CBS_len(&serial));
        o->serial_len = CBS_len(&serial);
        rc = 0;
    }
    OPENSSL_free(der);
    X509 *issuer = issuer_in_chain(ctx, leaf);
    const ASN1_BIT_STRING *key = issuer ? X509_get0_pubkey_bitstr(issuer) : NULL;
    if (rc == 0 && key && key->length > 0) {
        o->issuer_key = malloc((size_t)key->length);
        if (!o->issuer_key)
            return -1;
        memcpy(o->issuer_key, key->data, (size_t)key->length);
        o->issuer_key_len = (size_t)key->length;
    }
    return rc;
}

struct px_ocsp *px_ocsp_new(const char *file, SSL_CTX *ctx, uint32_t check_sec, char *err,
                            size_t errlen)
{
    struct px_ocsp *o = calloc(1, sizeof *o);
    if (!o || !(o->file = strdup(file))) {
        free(o);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&o->mu, NULL);
    o->check_sec = check_sec ? check_sec : 1;
    if (cert_ids(o, ctx) != 0) {
        snprintf(err, errlen, "%s: the certificate's serial number cannot be read", file);
        px_ocsp_del(o);
        return NULL;
    }
    enum px_ocsp_status st;
    if (load(o, &o->der, &o->len, &o->seen, &st, err, errlen) != 0) {
        px_ocsp_del(o);
        return NULL;
    }
    if (st != PX_OCSP_GOOD)
        hb_warn("%s: OCSP response says the certificate is %s (stapled anyway)", file,
                px_ocsp_status_name(st));
    o->next_check = mono_sec() + (time_t)o->check_sec;
    return o;
}

void px_ocsp_del(struct px_ocsp *o)
{
    if (!o)
        return;
    pthread_mutex_destroy(&o->mu);
    free(o->file);
    free(o->der);
    free(o->issuer_key);
    free(o);
}

static bool same_file(const struct stat *a, const struct stat *b)
{
    return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Locked: re-reads the file when it changed since it was last read. */
static void refresh_locked(struct px_ocsp *o)
{
    struct stat st;
    if (stat(o->file, &st) != 0) {
        if (o->seen.st_ino) /* log a vanished file once */
            hb_warn("%s: cannot stat OCSP response file: %s; the previous response is kept",
                    o->file, strerror(errno));
        memset(&o->seen, 0, sizeof o->seen);
        return;
    }
    if (same_file(&st, &o->seen))
        return;
    uint8_t *der;
    size_t len;
    enum px_ocsp_status status;
    char err[256];
    struct stat read_st;
    int rc = load(o, &der, &len, &read_st, &status, err, sizeof err);
    o->seen = st; /* good or bad, read again only when it changes again */
    if (rc != 0) {
        hb_warn("%s; the previous OCSP response is kept", err);
        return;
    }
    free(o->der);
    o->der = der;
    o->len = len;
    hb_info("%s: OCSP response reloaded (%zu bytes, certificate %s)", o->file, len,
            px_ocsp_status_name(status));
}

void px_ocsp_staple(struct px_ocsp *o, SSL *ssl)
{
    pthread_mutex_lock(&o->mu);
    time_t now = mono_sec();
    if (now >= o->next_check) {
        o->next_check = now + (time_t)o->check_sec;
        refresh_locked(o);
    }
    SSL_set_ocsp_response(ssl, o->der, o->len);
    pthread_mutex_unlock(&o->mu);
}

void px_ocsp_expire(struct px_ocsp *o)
{
    pthread_mutex_lock(&o->mu);
    o->next_check = 0;
    pthread_mutex_unlock(&o->mu);
}
