/* proxy/backend/btls.h — TLS to a backend server (upstreams.*.tls).
 *
 * Three levels, each owned by the one above:
 *   - px_btls_ctx: one client SSL_CTX per upstream per worker (built by the
 *     worker; no SSL object is ever shared between threads): verification
 *     (a CA file, or the system store /etc/ssl/certs), the client
 *     certificate for mTLS, the minimum version, ALPN http/1.1;
 *   - px_btls_peer: one per server per worker (owned by the server's pool):
 *     the SNI sent, the name the certificate must carry, and the last
 *     session the server gave, offered again on the next dial (resumption);
 *   - px_btls: one connection's TLS, a client-side px_tls_io over the
 *     pool's socket (the same buffered BIO as the front side, tls_bio.h).
 *
 * The pool (pool.c) runs the handshake as part of the dial: a connection
 * is handed to an exchange only once its handshake finished. Reads and
 * writes then go through px_btls_send/recv, with the errno conventions of
 * sendmsg/recv, so the exchange does not know whether TLS is there.
 * A plain-TCP pool has no peer and never calls into this file.
 */
#ifndef H2B_PROXY_BACKEND_BTLS_H
#define H2B_PROXY_BACKEND_BTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

/* The system store: a hashed directory (update-ca-certificates). */
#define PX_BTLS_SYSTEM_CA_DIR "/etc/ssl/certs"

struct px_btls_ctx_opts {
    bool verify;           /* check the chain and the name (default true) */
    bool session_reuse;    /* keep and offer sessions */
    uint16_t min_version;  /* TLS1_2_VERSION or TLS1_3_VERSION */
    const char *ca_file;   /* PEM CAs; NULL: PX_BTLS_SYSTEM_CA_DIR */
    const char *cert_file; /* client certificate chain (mTLS); NULL: none */
    const char *key_file;  /* its key (with cert_file) */
};

struct px_btls_ctx;
struct px_btls_peer;
struct px_btls;

/* Builds a context. NULL with a one-line reason in err (naming the file
 * that is wrong, first) on failure. */
struct px_btls_ctx *px_btls_ctx_new(const struct px_btls_ctx_opts *o, char *err, size_t errlen);

/* Frees the context once every peer and connection made from it is gone
 * (they hold a reference: the last one frees it). NULL is ok. */
void px_btls_ctx_del(struct px_btls_ctx *x);

/* The names for one server. sni: sent as server_name (NULL or an IP
 * address: none is sent, RFC 6066 §3). verify_name: a DNS name (matched
 * against the certificate's DNS names, wildcards only as a whole left-most
 * label) or an IP address (matched against its IP addresses). Copied.
 * Takes a reference on x. NULL when out of memory. */
struct px_btls_peer *px_btls_peer_new(struct px_btls_ctx *x, const char *sni,
                                      const char *verify_name);

/* Frees the peer and its saved session. NULL is ok. */
void px_btls_peer_del(struct px_btls_peer *p);

/* A client TLS connection on the connected socket fd (which stays the
 * caller's), offering the peer's saved session. NULL when out of memory. */
struct px_btls *px_btls_new(struct px_btls_peer *p, int fd);

/* Sends close_notify (best effort, never blocks) after a finished
 * handshake, then frees. NULL is ok. */
void px_btls_free(struct px_btls *t);

/* Advances the handshake: 1 when done, PX_IO_WANT_READ / PX_IO_WANT_WRITE
 * (tls_io.h: arm that event, call again), PX_IO_EOF or PX_IO_ERROR. */
int px_btls_handshake(struct px_btls *t);

/* Why a handshake failed, for the log line ("certificate verify failed:
 * Hostname mismatch (verify_name wrong.test)", "handshake failure alert
 * from the server", …). Written into buf, which is returned. */
const char *px_btls_why(const struct px_btls *t, char *buf, size_t size);

/* The finished handshake resumed the saved session. */
bool px_btls_resumed(const struct px_btls *t);

/* Writes iov (each element one SSL_write, the records collected in the
 * socket buffer and flushed once): the bytes taken, or -1 with errno EAGAIN
 * (retry with the same bytes when writable) or EPIPE/ECONNRESET. Taken
 * bytes may still wait in the socket buffer: see px_btls_unsent. */
ssize_t px_btls_send(struct px_btls *t, const struct iovec *iov, int iovcnt);

/* Reads decrypted bytes: a count, 0 at EOF (close_notify or FIN), or -1
 * with errno EAGAIN or ECONNRESET. */
ssize_t px_btls_recv(struct px_btls *t, void *buf, size_t len);

/* Writes out sealed records: 0 when none is left, PX_IO_WANT_WRITE,
 * PX_IO_ERROR. */
int px_btls_flush(struct px_btls *t);

/* Sealed bytes wait for the socket (the pool keeps the write event armed). */
bool px_btls_unsent(const struct px_btls *t);

/* Decrypted or read-ahead bytes wait: read again without waiting for the
 * socket (the pool re-arms the read callback itself). */
bool px_btls_pending(const struct px_btls *t);

/* The event loop saw the socket readable (tls_bio.h, px_sockbuf_readable). */
void px_btls_readable(struct px_btls *t);

/* An idle connection became readable: true when it may stay idle (only a
 * TLS message such as a late session ticket came), false when it must be
 * closed (EOF, an alert, or stray application bytes). */
bool px_btls_idle_ok(struct px_btls *t);

/* Sends close_notify: the server reads EOF; reading goes on (tunnels). */
void px_btls_shutdown_write(struct px_btls *t);

#endif
