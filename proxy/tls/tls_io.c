/* proxy/tls/tls_io.c — non-blocking SSL state machine and record sizing. */
#include "proxy/tls/tls_io.h"

#include <errno.h>

#include <openssl/err.h>

int px_tls_io_init(struct px_tls_io *io, SSL *ssl, int fd, uint32_t small_bytes,
                   hb_ns_t idle_reset)
{
    io->ssl = ssl;
    io->fd = fd;
    io->sent_since_idle = 0;
    io->last_write = 0;
    io->peer_closed = false;
    io->small_bytes = small_bytes;
    io->idle_reset = idle_reset;
    io->record = small_bytes ? PX_TLS_SMALL_RECORD : PX_TLS_LARGE_RECORD;
    io->sock = (struct px_sockbuf){.fd = fd};
    BIO *bio = px_tls_bio_new(&io->sock);
    if (!bio)
        return PX_IO_ERROR;
    SSL_set_bio(ssl, bio, bio); /* one reference, taken by ssl */
    SSL_set_accept_state(ssl);
    SSL_set_max_send_fragment(ssl, io->record);
    return 0;
}

void px_tls_io_free(struct px_tls_io *io)
{
    if (io->ssl)
        SSL_free(io->ssl);
    io->ssl = NULL;
    px_sockbuf_free(&io->sock);
}

static int classify(struct px_tls_io *io, int ret)
{
    int e = SSL_get_error(io->ssl, ret);
    switch (e) {
    case SSL_ERROR_WANT_READ:
        return PX_IO_WANT_READ;
    case SSL_ERROR_WANT_WRITE:
        return PX_IO_WANT_WRITE;
    case SSL_ERROR_ZERO_RETURN:
        ERR_clear_error();
        io->peer_closed = true;
        return PX_IO_EOF;
    case SSL_ERROR_SYSCALL:
        ERR_clear_error();
        /* ret 0 with no error queued: TCP FIN without close_notify. */
        if (ret == 0 || errno == 0) {
            io->peer_closed = true;
            return PX_IO_EOF;
        }
        return PX_IO_ERROR;
    default:
        ERR_clear_error();
        return PX_IO_ERROR;
    }
}

int px_tls_io_handshake(struct px_tls_io *io)
{
    int r = SSL_do_handshake(io->ssl);
    if (r == 1)
        return 1; /* what it wrote last (tickets) goes out with the caller's flush */
    r = classify(io, r);
    /* The flight (or the alert) must reach the client before we wait for
     * its answer (or close). */
    int f = px_sockbuf_flush(&io->sock);
    if (r == PX_IO_WANT_READ && f == PX_IO_WANT_WRITE)
        return PX_IO_WANT_WRITE;
    if (r == PX_IO_WANT_READ && f == PX_IO_ERROR)
        return PX_IO_ERROR;
    return r; /* PX_IO_EOF: the client closed during the handshake */
}

ssize_t px_tls_io_read(struct px_tls_io *io, void *buf, size_t len)
{
    if (len > INT32_MAX)
        len = INT32_MAX;
    errno = 0;
    int r = SSL_read(io->ssl, buf, (int)len);
    return r > 0 ? r : classify(io, r);
}

/* Small records while a connection is young or after an idle pause, so a
 * browser can start parsing before a whole 16 KiB record arrived; large ones
 * once bulk data flows (fewer records, less CPU and overhead). */
static void size_records(struct px_tls_io *io, hb_ns_t now)
{
    if (io->last_write && now - io->last_write > io->idle_reset)
        io->sent_since_idle = 0;
    unsigned want = io->sent_since_idle >= io->small_bytes ? PX_TLS_LARGE_RECORD
                                                            : PX_TLS_SMALL_RECORD;
    if (want != io->record) {
        io->record = want;
        SSL_set_max_send_fragment(io->ssl, want);
    }
}

ssize_t px_tls_io_write(struct px_tls_io *io, const void *buf, size_t len, hb_ns_t now)
{
    size_records(io, now);
    if (len > INT32_MAX)
        len = INT32_MAX;
    errno = 0;
    int r = SSL_write(io->ssl, buf, (int)len);
    if (r > 0) {
        io->sent_since_idle += (uint64_t)r;
        io->last_write = now;
        return r;
    }
    r = classify(io, r);
    return r == PX_IO_EOF ? PX_IO_ERROR : r;
}

void px_tls_io_shutdown(struct px_tls_io *io)
{
    /* A client that closed first reads nothing more: a close_notify would
     * only cost a write (and draw a RST from its closed socket). */
    if (io->ssl && SSL_is_init_finished(io->ssl) && !io->peer_closed) {
        SSL_shutdown(io->ssl);
        ERR_clear_error();
        px_sockbuf_flush(&io->sock); /* best effort: the socket closes next */
    }
}

int px_tls_io_flush(struct px_tls_io *io)
{
    errno = 0;
    return px_sockbuf_flush(&io->sock);
}

int px_tls_io_pending(const struct px_tls_io *io)
{
    return SSL_pending(io->ssl) > 0 || px_sockbuf_pending(&io->sock);
}
