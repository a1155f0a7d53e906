/* proxy/tls/tls.h — TLS termination contexts (BoringSSL).
 *
 * One SSL_CTX per certificate. A ClientHello is routed to a certificate by
 * SNI (exact names first, then "*.example.com" wildcards covering exactly one
 * label, then the first certificate as the default); when one name has both
 * an ECDSA and an RSA certificate the ECDSA one is picked if the client can
 * use it. ALPN selects h2, then http/1.1. TLS 1.2 suites are the configured
 * list (px_tls_opts.ciphers), by default ECDHE + AEAD only; TLS 1.3 is on; the minimum version is configurable. Session
 * tickets are on, with keys that rotate automatically or come from a file
 * (tls_tickets.c).
 *
 * A struct px_tls is built once at start-up and then only read: all workers
 * share it (BoringSSL's SSL_CTX is thread-safe for SSL_new).
 */
#ifndef H2B_PROXY_TLS_TLS_H
#define H2B_PROXY_TLS_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "proxy/tls/tls_tickets_mc.h"

/* One certificate + key. names: the server names it serves (exact or
 * "*.suffix"); when nnames is 0 they are taken from the certificate's
 * subjectAltName DNS entries (or its CN when it has none). */
struct px_tls_cert_spec {
    const char *cert_file; /* PEM chain, leaf first */
    const char *key_file;  /* PEM private key */
    const char *const *names;
    size_t nnames;
    const char *ocsp_file; /* DER OCSP response to staple (proxy/tls/ocsp.h); NULL: none */
};

struct px_tls_opts {
    uint16_t min_version;       /* TLS1_2_VERSION (default) or TLS1_3_VERSION */
    bool alpn_h2;               /* offer h2 (default true) */
    bool alpn_http1;            /* offer http/1.1 (default true) */
    const char *ciphers;        /* TLS 1.2 suites, BoringSSL syntax; NULL: ECDHE + AEAD */
    const char *ticket_key_file; /* NULL: generated keys that rotate */
    uint32_t ticket_rotate_sec; /* rotation interval of generated keys (default 3600) */
    /* Ticket keys shared through memcached (host NULL: off; tls_tickets_mc.h),
     * and the lifetime of such tickets. */
    struct px_ticket_mc_opts ticket_mc;
    uint32_t ticket_lifetime_sec;
    /* Client certificates: 0 none, 1 optional (asked; none is fine, a bad
     * one fails the handshake), 2 required. */
    int client_auth;
    const char *client_ca;  /* PEM CA certificates (client_auth > 0) */
    const char *client_crl; /* PEM CRLs, checked for the whole chain; NULL: none */
    int verify_depth;       /* CA certificates allowed above the client's */
    /* TLS 1.3 0-RTT: tickets allow early data and resumptions accept it
     * (docs/tls.md: the front side answers what may not run in it). */
    bool early_data;
    uint32_t ocsp_check_sec; /* checks of each ocsp_file at most this often (default 60) */
};

/* The verified client certificate of a finished handshake: its subject
 * (RFC 2253), its subjectAltNames ("DNS:a, URI:b, email:c, IP:d"), and the
 * SHA-256 of its DER encoding in lowercase hex. Returns 0, or -1 when the
 * client sent none (or out of memory). subject and san are cut to fit. */
int px_tls_client_cert(const SSL *ssl, char *subject, size_t subject_size, char *san,
                       size_t san_size, char hash[65]);

/* Why a handshake's peer verification failed ("certificate has expired"),
 * or NULL when it did not fail there. Static storage. */
const char *px_tls_verify_error(const SSL *ssl);

/* Default options: TLS 1.2 minimum, h2 + http/1.1, rotating ticket keys. */
void px_tls_opts_default(struct px_tls_opts *o);

struct px_tls;

/* Loads every certificate and key, checks each key matches its certificate,
 * builds the contexts. On failure returns NULL and writes a one-line reason
 * naming the file into err[0..errlen). The specs are copied. */
struct px_tls *px_tls_new(const struct px_tls_cert_spec *certs, size_t ncerts,
                          const struct px_tls_opts *opts, char *err, size_t errlen);

/* Frees the contexts (after every SSL made from them is freed). NULL is ok. */
void px_tls_del(struct px_tls *t);

/* A new server-side SSL for one accepted connection, with SNI/ALPN/tickets
 * wired. Caller owns it (SSL_free). NULL when out of memory. */
SSL *px_tls_new_ssl(struct px_tls *t);

/* Checks that cert_file and key_file load and match. Returns 0, or -1 with a
 * reason naming the file in err. Used by `h2bridge -t`. */
int px_tls_check_pair(const char *cert_file, const char *key_file, char *err, size_t errlen);

/* Checks a TLS 1.2 cipher list as px_tls_new() will apply it
 * (SSL_CTX_set_strict_cipher_list: an unknown name, or a list selecting no
 * suite, is refused). Returns 0, or -1 with a reason in err. */
int px_tls_check_ciphers(const char *list, char *err, size_t errlen);

/* Selection, exposed for tests: the index of the certificate serving
 * `name` (may be NULL: no SNI) when the client can (ecdsa_ok) or cannot use
 * ECDSA. Never fails: the first certificate is the default. */
size_t px_tls_pick(const struct px_tls *t, const char *name, bool ecdsa_ok);

/* The negotiated ALPN protocol of a finished handshake: 2 for h2, 1 for
 * http/1.1 or no ALPN. */
int px_tls_alpn_version(const SSL *ssl);

/* The stapled OCSP response of certificate i (proxy/tls/ocsp.h), or NULL. */
struct px_ocsp;
struct px_ocsp *px_tls_ocsp(struct px_tls *t, size_t i);

/* ---- session tickets (tls_tickets.c) ------------------------------------ */

struct px_ticket_keys;

/* Generated keys rotating every rotate_sec (0: 3600), or keys read from
 * `file` (one or more 48- or 80-byte keys concatenated; the first encrypts,
 * all decrypt; re-read when the file's mtime changes, checked at most once a
 * minute). NULL with a reason in err on failure. */
struct px_ticket_keys *px_ticket_keys_new(const char *file, uint32_t rotate_sec, char *err,
                                          size_t errlen);
void px_ticket_keys_del(struct px_ticket_keys *k);

/* Keys read from memcached (tls_tickets_mc.h): generated ones rotating
 * every rotate_sec until the first set arrives; tickets live lifetime_sec
 * (0: 3600). */
struct px_ticket_keys *px_ticket_keys_new_mc(const struct px_ticket_mc_opts *o,
                                             uint32_t rotate_sec, uint32_t lifetime_sec,
                                             char *err, size_t errlen);

/* The generation of the memcached set in use; 0 when none (yet). */
uint64_t px_ticket_keys_generation(struct px_ticket_keys *k);

/* Installs k as ctx's ticket key callback. k must outlive ctx. */
void px_ticket_keys_attach(struct px_ticket_keys *k, SSL_CTX *ctx);

/* The ticket keys of t (owned by t). */
struct px_ticket_keys *px_tls_ticket_keys(struct px_tls *t);

/* Forces a rotation now (tests and operators' signals). */
void px_ticket_keys_rotate(struct px_ticket_keys *k);

#endif
