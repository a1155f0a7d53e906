/* proxy/backend/backend.c — the pools' side of px_backend_ops. */
#include "proxy/backend/backend.h"

#include <sys/socket.h>

static ssize_t pool_send(struct px_bconn *c, const struct iovec *iov, int iovcnt)
{
    struct msghdr mh = {.msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt};
    return sendmsg(px_bconn_fd(c), &mh, MSG_NOSIGNAL);
}

static ssize_t pool_recv(struct px_bconn *c, void *buf, size_t len)
{
    return recv(px_bconn_fd(c), buf, len, 0);
}

static void pool_shutdown_write(struct px_bconn *c)
{
    (void)shutdown(px_bconn_fd(c), SHUT_WR); /* ENOTCONN: the peer is gone, EOF follows */
}

const struct px_backend_ops px_backend_pool_ops = {
    .pick = px_pool_pick,
    .lease = px_pool_lease,
    .cancel = px_pool_cancel,
    .name = px_pool_name,
    .reused = px_bconn_reused,
    .send = pool_send,
    .recv = pool_recv,
    .want_write = px_bconn_want_write,
    .kick_write = px_bconn_kick_write,
    .want_read = px_bconn_want_read,
    .set_timeout = px_bconn_set_timeout,
    .shutdown_write = pool_shutdown_write,
    .release = px_bconn_release,
    .close = px_bconn_close,
};
