/* proxy/backend/btls.c — client TLS to backend servers (BoringSSL). */
#include "proxy/backend/btls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "proxy/tls/tls.h"
#include "proxy/tls/tls_io.h"

struct px_btls_ctx {
    SSL_CTX *ctx;
};

struct px_btls_peer {
    SSL_CTX *ctx; /* a reference */
    bool reuse;
    char *sni;         /* NULL: none sent */
    char *verify_name; /* NULL: verification off */
    bool verify_ip;    /* verify_name is an IP address */
    SSL_SESSION *sess; /* the last session the server gave; NULL: none yet */
};

struct px_btls {
    struct px_tls_io io;
    struct px_btls_peer *peer;
    unsigned long err;   /* the first library error of a failed handshake, 0: none */
    int alert;           /* an alert the server sent, -1: none */
    bool done;           /* the handshake finished */
};

static void set_err(char *err, size_t errlen, const char *what, const char *file)
{
    unsigned long e = ERR_peek_last_error();
    const char *why = e ? ERR_reason_error_string(e) : NULL;
    if (file)
        snprintf(err, errlen, "%s: %s%s%s", file, what, why ? ": " : "", why ? why : "");
    else
        snprintf(err, errlen, "%s%s%s", what, why ? ": " : "", why ? why : "");
    ERR_clear_error();
}

/* The server's new session (after a full handshake, or a TLS 1.3 ticket
 * that comes after it): kept for the next dial to this server, replacing
 * the one before. Runs on the pool's thread (the SSL is that worker's). */
static int on_new_session(SSL *ssl, SSL_SESSION *sess)
{
    struct px_btls *t = SSL_get_app_data(ssl);
    if (!t || !t->peer->reuse)
        return 0;
    if (t->peer->sess)
        SSL_SESSION_free(t->peer->sess);
    t->peer->sess = sess;
    return 1; /* ours now */
}

struct px_btls_ctx *px_btls_ctx_new(const struct px_btls_ctx_opts *o, char *err, size_t errlen)
{
    static const uint8_t alpn[] = "\x08http/1.1";
    SSL_CTX *ctx = SSL_CTX_new(TLS_method());
    struct px_btls_ctx *x = calloc(1, sizeof *x);
    if (!ctx || !x) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (!SSL_CTX_set_min_proto_version(ctx, o->min_version ? o->min_version : TLS1_2_VERSION) ||
        SSL_CTX_set_alpn_protos(ctx, alpn, sizeof alpn - 1) != 0) {
        set_err(err, errlen, "cannot set the TLS version or ALPN", NULL);
        goto fail;
    }
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    if (o->verify) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        int ok = o->ca_file ? SSL_CTX_load_verify_locations(ctx, o->ca_file, NULL)
                            : SSL_CTX_load_verify_locations(ctx, NULL, PX_BTLS_SYSTEM_CA_DIR);
        if (!ok) {
            set_err(err, errlen, "cannot load CA certificates",
                    o->ca_file ? o->ca_file : PX_BTLS_SYSTEM_CA_DIR);
            goto fail;
        }
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    }
    if (o->cert_file) {
        if (!SSL_CTX_use_certificate_chain_file(ctx, o->cert_file)) {
            set_err(err, errlen, "cannot load the PEM certificate chain", o->cert_file);
            goto fail;
        }
        if (!SSL_CTX_use_PrivateKey_file(ctx, o->key_file, SSL_FILETYPE_PEM)) {
            set_err(err, errlen, "cannot load the PEM private key", o->key_file);
            goto fail;
        }
        if (!SSL_CTX_check_private_key(ctx)) {
            set_err(err, errlen, "the private key does not match the certificate", o->key_file);
            goto fail;
        }
    }
    if (o->session_reuse) {
        /* No internal cache: the peer keeps one session per server. */
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL);
        SSL_CTX_sess_set_new_cb(ctx, on_new_session);
    } else {
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
        SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    }
    x->ctx = ctx;
    return x;
fail:
    SSL_CTX_free(ctx);
    free(x);
    return NULL;
}

void px_btls_ctx_del(struct px_btls_ctx *x)
{
    if (!x)
        return;
    SSL_CTX_free(x->ctx); /* peers and connections hold their own references */
    free(x);
}

static bool is_ip(const char *s)
{
    return s && (strchr(s, ':') || strspn(s, "0123456789.") == strlen(s));
}

struct px_btls_peer *px_btls_peer_new(struct px_btls_ctx *x, const char *sni,
                                      const char *verify_name)
{
    struct px_btls_peer *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->reuse = SSL_CTX_get_session_cache_mode(x->ctx) != SSL_SESS_CACHE_OFF;
    p->sni = sni && !is_ip(sni) ? strdup(sni) : NULL;
    bool verify = SSL_CTX_get_verify_mode(x->ctx) & SSL_VERIFY_PEER;
    p->verify_name = verify && verify_name ? strdup(verify_name) : NULL;
    p->verify_ip = is_ip(verify_name);
    if ((sni && !is_ip(sni) && !p->sni) || (verify && verify_name && !p->verify_name)) {
        px_btls_peer_del(p);
        return NULL;
    }
    SSL_CTX_up_ref(x->ctx);
    p->ctx = x->ctx;
    return p;
}

void px_btls_peer_del(struct px_btls_peer *p)
{
    if (!p)
        return;
    if (p->sess)
        SSL_SESSION_free(p->sess);
    SSL_CTX_free(p->ctx);
    free(p->sni);
    free(p->verify_name);
    free(p);
}

static void on_info(const SSL *ssl, int where, int ret)
{
    if ((where & SSL_CB_READ_ALERT) == SSL_CB_READ_ALERT) {
        struct px_btls *t = SSL_get_app_data(ssl);
        if (t && t->alert < 0)
            t->alert = ret & 0xff;
    }
}

struct px_btls *px_btls_new(struct px_btls_peer *p, int fd)
{
    struct px_btls *t = calloc(1, sizeof *t);
    SSL *ssl = SSL_new(p->ctx);
    if (!t || !ssl) {
        SSL_free(ssl);
        free(t);
        return NULL;
    }
    t->peer = p;
    t->alert = -1;
    /* Large records only: the backend reads whole requests, and small ones
     * would only cost seals (tls_io.h). */
    if (px_tls_io_init(&t->io, ssl, fd, 0, 0) != 0)
        goto fail;
    SSL_set_connect_state(ssl);
    SSL_set_app_data(ssl, t);
    SSL_set_info_callback(ssl, on_info);
    if (p->sni && !SSL_set_tlsext_host_name(ssl, p->sni))
        goto fail;
    if (p->verify_name) {
        X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);
        /* Names come from subjectAltName only, as browsers do (RFC 6125
         * §6.4.4); BoringSSL never matches partial wildcards. */
        X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
        int ok = p->verify_ip ? X509_VERIFY_PARAM_set1_ip_asc(vp, p->verify_name)
                              : X509_VERIFY_PARAM_set1_host(vp, p->verify_name,
                                                            strlen(p->verify_name));
        if (!ok)
            goto fail;
    }
    if (p->sess)
        SSL_set_session(ssl, p->sess); /* a reference of its own */
    return t;
fail:
    ERR_clear_error();
    px_tls_io_free(&t->io);
    free(t);
    return NULL;
}

void px_btls_free(struct px_btls *t)
{
    if (!t)
        return;
    if (t->done)
        px_tls_io_shutdown(&t->io);
    SSL_set_app_data(t->io.ssl, NULL);
    px_tls_io_free(&t->io);
    free(t);
}

int px_btls_handshake(struct px_btls *t)
{
    errno = 0;
    int r = SSL_do_handshake(t->io.ssl);
    if (r == 1) {
        t->done = true;
        /* Our last flight (Finished, a certificate) must leave now: the
         * server answers nothing until it has it. */
        int f = px_tls_io_flush(&t->io);
        return f == PX_IO_ERROR ? PX_IO_ERROR : 1;
    }
    int e = SSL_get_error(t->io.ssl, r);
    int out;
    if (e == SSL_ERROR_WANT_READ) {
        out = PX_IO_WANT_READ;
    } else if (e == SSL_ERROR_WANT_WRITE) {
        out = PX_IO_WANT_WRITE;
    } else {
        t->err = ERR_peek_error();
        ERR_clear_error();
        out = e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && errno == 0) ? PX_IO_EOF
                                                                                  : PX_IO_ERROR;
        px_tls_io_flush(&t->io); /* our alert, best effort */
        return out;
    }
    int f = px_tls_io_flush(&t->io);
    if (f == PX_IO_ERROR)
        return PX_IO_ERROR;
    if (out == PX_IO_WANT_READ && f == PX_IO_WANT_WRITE)
        return PX_IO_WANT_WRITE;
    return out;
}

const char *px_btls_why(const struct px_btls *t, char *buf, size_t size)
{
    const SSL *ssl = t->io.ssl;
    const char *verr = px_tls_verify_error(ssl);
    if (verr && t->peer->verify_name && SSL_get_verify_result(ssl) != X509_V_OK &&
        (SSL_get_verify_result(ssl) == X509_V_ERR_HOSTNAME_MISMATCH ||
         SSL_get_verify_result(ssl) == X509_V_ERR_IP_ADDRESS_MISMATCH))
        snprintf(buf, size, "certificate verify failed: %s (verify_name %s)", verr,
                 t->peer->verify_name);
    else if (verr)
        snprintf(buf, size, "certificate verify failed: %s", verr);
    else if (t->alert >= 0)
        snprintf(buf, size, "the server sent alert %s", SSL_alert_desc_string_long(t->alert));
    else if (t->err)
        snprintf(buf, size, "%s", ERR_reason_error_string(t->err));
    else
        snprintf(buf, size, "connection closed during the handshake");
    return buf;
}

bool px_btls_resumed(const struct px_btls *t)
{
    return SSL_session_reused(t->io.ssl) == 1;
}

ssize_t px_btls_send(struct px_btls *t, const struct iovec *iov, int iovcnt)
{
    ssize_t total = 0;
    int last = 0;
    for (int i = 0; i < iovcnt; i++) {
        if (iov[i].iov_len == 0)
            continue;
        ssize_t w = px_tls_io_write(&t->io, iov[i].iov_base, iov[i].iov_len, 0);
        if (w < 0) {
            last = (int)w;
            break;
        }
        total += w;
        if ((size_t)w < iov[i].iov_len)
            break; /* partial (SSL_MODE_ENABLE_PARTIAL_WRITE): the socket buffer is full */
    }
    int f = px_tls_io_flush(&t->io);
    if (f == PX_IO_ERROR || last == PX_IO_ERROR) {
        if (total > 0 && last != PX_IO_ERROR)
            return total; /* the error shows on the next write */
        errno = EPIPE;
        return -1;
    }
    if (total > 0)
        return total;
    errno = EAGAIN;
    return -1;
}

ssize_t px_btls_recv(struct px_btls *t, void *buf, size_t len)
{
    ssize_t n = px_tls_io_read(&t->io, buf, len);
    if (px_sockbuf_unsent(&t->io.sock))
        (void)px_tls_io_flush(&t->io); /* a reply TLS owes (a KeyUpdate) */
    if (n > 0)
        return n;
    if (n == PX_IO_EOF)
        return 0;
    errno = n == PX_IO_ERROR ? ECONNRESET : EAGAIN;
    return -1;
}

int px_btls_flush(struct px_btls *t)
{
    return px_tls_io_flush(&t->io);
}

bool px_btls_unsent(const struct px_btls *t)
{
    return px_sockbuf_unsent(&t->io.sock) > 0;
}

bool px_btls_pending(const struct px_btls *t)
{
    return px_tls_io_pending(&t->io);
}

void px_btls_readable(struct px_btls *t)
{
    px_sockbuf_readable(&t->io.sock);
}

bool px_btls_idle_ok(struct px_btls *t)
{
    uint8_t b[1];
    px_sockbuf_readable(&t->io.sock);
    ssize_t n = px_tls_io_read(&t->io, b, sizeof b);
    if (px_sockbuf_unsent(&t->io.sock) && px_tls_io_flush(&t->io) == PX_IO_ERROR)
        return false;
    return n == PX_IO_WANT_READ; /* a ticket or a key update, nothing for us */
}

void px_btls_shutdown_write(struct px_btls *t)
{
    if (!t->done)
        return;
    SSL_shutdown(t->io.ssl);
    ERR_clear_error();
    (void)px_tls_io_flush(&t->io);
}
