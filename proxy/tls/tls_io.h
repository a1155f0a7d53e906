/* proxy/tls/tls_io.h — non-blocking TLS over a raw socket.
 *
 * A thin state machine around SSL_do_handshake/SSL_read/SSL_write on a
 * non-blocking fd: each call says whether it made progress or which socket
 * readiness it waits for, so the caller (driven by libevent read/write
 * events) arms the right event. No libevent_openssl, no bufferevents.
 *
 * Dynamic record sizing: a connection starts with small records (one TCP
 * segment each, so the first bytes can be decrypted as they arrive) and
 * moves to 16 KiB records after listeners[].tls.small_records bytes; after
 * small_records_idle without writes it starts small again. Small records
 * cost CPU (one seal each) but no extra syscalls: the socket BIO coalesces
 * them into one write().
 */
#ifndef H2B_PROXY_TLS_TLS_IO_H
#define H2B_PROXY_TLS_TLS_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/ssl.h>

#include "core/time.h"
#include "proxy/tls/tls_bio.h"

#define PX_TLS_SMALL_RECORD 1369u /* 1500 MTU - IP/TCP/TLS overheads */
#define PX_TLS_LARGE_RECORD 16384u

/* Results besides a byte count (> 0) or 1 for a finished handshake. */
enum {
    PX_IO_WANT_READ = -1,  /* wait for the fd to be readable, then call again */
    PX_IO_WANT_WRITE = -2, /* wait for the fd to be writable, then call again */
    PX_IO_EOF = -3,        /* the peer closed (close_notify or TCP FIN) */
    PX_IO_ERROR = -4,      /* fatal: protocol error or socket error */
};

struct px_tls_io {
    SSL *ssl;
    int fd;
    struct px_sockbuf sock; /* under ssl: read-ahead, write coalescing */
    uint64_t sent_since_idle;
    hb_ns_t last_write;
    unsigned record;
    uint32_t small_bytes; /* in small records before large ones; 0: large only */
    hb_ns_t idle_reset;   /* a pause that starts small records again */
    bool peer_closed;     /* read EOF (close_notify or FIN): no close_notify back */
    /* Cleartext only: the first bytes, read (not peeked) while sniffing the
     * protocol (proxy/front/sniff.c), handed out first by px_fconn_read. */
    uint8_t pre[24];
    uint8_t pre_len, pre_off;
};

/* Takes ownership of ssl (freed by px_tls_io_free); fd stays the caller's.
 * Puts ssl in server (accept) state on fd, through the buffered socket BIO
 * of tls_bio.h. Returns 0 or PX_IO_ERROR (out of memory; ssl is then still
 * owned by io and freed by px_tls_io_free). */
int px_tls_io_init(struct px_tls_io *io, SSL *ssl, int fd, uint32_t small_bytes,
                   hb_ns_t idle_reset);

/* Frees the SSL (no close_notify; see px_tls_io_shutdown). */
void px_tls_io_free(struct px_tls_io *io);

/* Advances the handshake: 1 when done, PX_IO_WANT_*, PX_IO_EOF (the client
 * closed: TCP FIN or close_notify) or PX_IO_ERROR (a TLS or socket error).
 * Writes out its flight before it returns PX_IO_WANT_READ (PX_IO_WANT_WRITE
 * when the socket is full); on 1, what it wrote last (the session tickets)
 * may wait for the caller's px_tls_io_flush. */
int px_tls_io_handshake(struct px_tls_io *io);

/* Reads decrypted bytes into buf[0..len): a count > 0, PX_IO_WANT_*,
 * PX_IO_EOF or PX_IO_ERROR. */
ssize_t px_tls_io_read(struct px_tls_io *io, void *buf, size_t len);

/* Writes buf[0..len) (len > 0), possibly partially: the count written,
 * PX_IO_WANT_*, or PX_IO_ERROR. After PX_IO_WANT_* retry with the same
 * bytes (a moving buffer is allowed). now: for record sizing.
 * Sealed records may wait in the socket buffer (tls_bio.h): the caller
 * must call px_tls_io_flush when its pass of writes is done. */
ssize_t px_tls_io_write(struct px_tls_io *io, const void *buf, size_t len, hb_ns_t now);

/* Writes out the records collected by px_tls_io_write: 0 when all are out,
 * PX_IO_WANT_WRITE (wait for the socket, call again) or PX_IO_ERROR. */
int px_tls_io_flush(struct px_tls_io *io);

/* Sends close_notify once, best effort (never blocks), unless the peer
 * closed first (a read returned PX_IO_EOF). */
void px_tls_io_shutdown(struct px_tls_io *io);

/* True when BoringSSL holds decrypted bytes not yet returned by read, or
 * the socket buffer holds read-ahead ciphertext: the caller must read
 * again without waiting for the socket to become readable. */
int px_tls_io_pending(const struct px_tls_io *io);

#endif
