/* proxy/front/conn_io.c — a client connection's byte transport: TLS (px_tls_io)
 * or a cleartext socket, with the same PX_IO_* results (see front/conn.h). */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "proxy/front/conn.h"
#include "proxy/tls/tls_io.h"

ssize_t px_fconn_read(struct px_tls_io *io, void *buf, size_t len)
{
    if (io->ssl)
        return px_tls_io_read(io, buf, len);
    if (io->pre_off < io->pre_len) {
        size_t n = (size_t)(io->pre_len - io->pre_off);
        n = n < len ? n : len;
        memcpy(buf, io->pre + io->pre_off, n);
        io->pre_off = (uint8_t)(io->pre_off + n);
        return (ssize_t)n;
    }
    ssize_t n = recv(io->fd, buf, len, 0);
    if (n > 0)
        return n;
    if (n == 0)
        return PX_IO_EOF;
    return errno == EAGAIN || errno == EINTR ? PX_IO_WANT_READ : PX_IO_ERROR;
}

ssize_t px_fconn_write(struct px_tls_io *io, const void *buf, size_t len, hb_ns_t now)
{
    if (io->ssl)
        return px_tls_io_write(io, buf, len, now);
    ssize_t n = send(io->fd, buf, len, MSG_NOSIGNAL);
    if (n >= 0)
        return n;
    return errno == EAGAIN || errno == EINTR ? PX_IO_WANT_WRITE : PX_IO_ERROR;
}

int px_fconn_pending(const struct px_tls_io *io)
{
    return io->ssl ? px_tls_io_pending(io) : 0;
}

int px_fconn_flush(struct px_tls_io *io)
{
    return io->ssl ? px_tls_io_flush(io) : 0;
}

void px_fconn_readable(struct px_tls_io *io)
{
    if (io->ssl)
        px_sockbuf_readable(&io->sock);
}

bool px_fconn_unsent(const struct px_tls_io *io)
{
    return io->ssl && px_sockbuf_unsent(&io->sock) > 0;
}
