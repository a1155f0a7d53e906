/* proxy/tls/tls_bio.h — the socket under a TLS connection: read-ahead and
 * write coalescing, as a BoringSSL BIO.
 *
 * BoringSSL reads a TLS record in two read() calls (its 5-byte header, then
 * the body: it never reads ahead on a stream socket) and writes every sealed
 * record with its own write(). On small requests that is one syscall too
 * many per record in, and on large responses one write() per 16 KiB out.
 * This BIO reads up to PX_IOBUF_SIZE at once and hands BoringSSL the bytes
 * it asks for from that buffer; it collects sealed records until its buffer
 * is full or the caller flushes at the end of a pass (px_sockbuf_flush), so
 * a pass that writes several records costs one write(). BoringSSL's own
 * flushes (BIO_flush after a handshake flight or an alert) do not write:
 * every bytes-producing call must be followed by px_sockbuf_flush.
 *
 * Both buffers are lent by proxy/tls/iobuf.h only while they hold bytes: an
 * idle connection holds none.
 */
#ifndef H2B_PROXY_TLS_TLS_BIO_H
#define H2B_PROXY_TLS_TLS_BIO_H

#include <stdbool.h>
#include <stdint.h>

#include <openssl/bio.h>

/* The buffered socket. Zero-initialised then fd set; owned by the caller
 * (embedded in struct px_tls_io); the BIO only points at it. */
struct px_sockbuf {
    int fd;
    bool drained;        /* the last recv() emptied the socket (see px_sockbuf_readable) */
    uint8_t *r;          /* read ahead, [roff, rlen) not yet given to TLS */
    uint32_t roff, rlen;
    uint8_t *w;          /* sealed records, [woff, wlen) not yet written */
    uint32_t woff, wlen;
};

/* A BIO reading from and writing to sb (which must outlive it). Returns
 * NULL when out of memory. Give it to SSL_set_bio (rbio and wbio). */
BIO *px_tls_bio_new(struct px_sockbuf *sb);

/* Writes out the collected records. Returns 0 when none is left (the write
 * buffer is returned), PX_IO_WANT_WRITE when the socket is full (wait for
 * it to be writable, then call again), or PX_IO_ERROR (errno set). */
int px_sockbuf_flush(struct px_sockbuf *sb);

/* The event loop says the socket is readable: the next read calls recv().
 * After a recv() that returned less than it asked for, the socket is known
 * to be empty, and reads say "want read" without a recv() that would only
 * fail with EAGAIN, until this is called. The caller must therefore keep a
 * read event armed whenever it waits for input (a level-triggered one: it
 * fires for bytes that arrived after that recv()). */
void px_sockbuf_readable(struct px_sockbuf *sb);

/* True while read-ahead bytes wait for TLS: the caller must read again
 * without waiting for the socket to become readable. */
bool px_sockbuf_pending(const struct px_sockbuf *sb);

/* Unwritten bytes (for tests and stall accounting). */
uint32_t px_sockbuf_unsent(const struct px_sockbuf *sb);

/* Returns both buffers (unsent bytes are dropped). */
void px_sockbuf_free(struct px_sockbuf *sb);

#endif
