/* proxy/backend/backend.c — the pools' side of px_backend_ops. */
#include "proxy/backend/backend.h"

const struct px_backend_ops px_backend_pool_ops = {
    .pick = px_pool_pick,
    .lease = px_pool_lease,
    .cancel = px_pool_cancel,
    .name = px_pool_name,
    .reused = px_bconn_reused,
    .send = px_bconn_send,
    .recv = px_bconn_recv,
    .readable = px_bconn_readable,
    .want_write = px_bconn_want_write,
    .kick_write = px_bconn_kick_write,
    .want_read = px_bconn_want_read,
    .set_timeout = px_bconn_set_timeout,
    .shutdown_write = px_bconn_shutdown_write,
    .release = px_bconn_release,
    .close = px_bconn_close,
};
