/* proxy/front.c — an exchange's calls to its client connection, through the
 * protocol's operations (proxy/fconn.h), and the byte transport (TLS or
 * cleartext) under both protocols. */
#include "proxy/front.h"

#include <errno.h>
#include <sys/socket.h>

#include "proxy/fconn.h"
#include "proxy/tls_io.h"
#include "proxy/worker.h"

int px_front_submit_response(struct px_fconn *fc, uint32_t sid, const struct hb_msg *resp,
                             bool end)
{
    return fc->ops->submit_response(fc, sid, resp, end);
}

int px_front_submit_trailers(struct px_fconn *fc, uint32_t sid, const struct hb_msg *trailers)
{
    return fc->ops->submit_trailers(fc, sid, trailers);
}

void px_front_bind(struct px_fconn *fc, uint32_t sid, struct px_exchange *ex)
{
    fc->ops->bind(fc, sid, ex);
}

int px_front_resume_data(struct px_fconn *fc, uint32_t sid)
{
    return fc->ops->resume(fc, sid);
}

int px_front_consumed(struct px_fconn *fc, uint32_t sid, size_t n)
{
    return fc->ops->consumed(fc, sid, n);
}

int px_front_reset_stream(struct px_fconn *fc, uint32_t sid, uint32_t code)
{
    return fc->ops->reset(fc, sid, code);
}

const char *px_front_scheme(const struct px_fconn *fc)
{
    return fc->io.ssl ? "https" : "http";
}
ssize_t px_conn_read(struct px_tls_io *io, void *buf, size_t len)
{
    if (io->ssl)
        return px_tls_io_read(io, buf, len);
    ssize_t n = recv(io->fd, buf, len, 0);
    if (n > 0)
        return n;
    if (n == 0)
        return PX_IO_EOF;
    return errno == EAGAIN || errno == EINTR ? PX_IO_WANT_READ : PX_IO_ERROR;
}

ssize_t px_conn_write(struct px_tls_io *io, const void *buf, size_t len, hb_ns_t now)
{
    if (io->ssl)
        return px_tls_io_write(io, buf, len, now);
    ssize_t n = send(io->fd, buf, len, MSG_NOSIGNAL);
    if (n >= 0)
        return n;
    return errno == EAGAIN || errno == EINTR ? PX_IO_WANT_WRITE : PX_IO_ERROR;
}

int px_conn_pending(const struct px_tls_io *io)
{
    return io->ssl ? px_tls_io_pending(io) : 0;
}

int px_conn_flush(struct px_tls_io *io)
{
    return io->ssl ? px_tls_io_flush(io) : 0;
}

void px_conn_readable(struct px_tls_io *io)
{
    if (io->ssl)
        px_sockbuf_readable(&io->sock);
}

bool px_conn_unsent(const struct px_tls_io *io)
{
    return io->ssl && px_sockbuf_unsent(&io->sock) > 0;
}
