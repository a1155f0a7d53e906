/* proxy/backend/backend.h — what an exchange asks of the backend side: a
 * connection from an upstream's pool and I/O on it. The worker's table
 * (w->backend) is px_backend_pool_ops, the pools of proxy/backend/pool.h
 * over real sockets; the exchange's unit tests put a scripted backend in
 * its place (tests/proxy/test_exchange.c).
 *
 * Each operation has the contract of the pool.h function of the same name;
 * send and recv are sendmsg(MSG_NOSIGNAL)/recv on the connection's socket:
 * bytes, or -1 with errno (EAGAIN: try again when the connection says it is
 * writable/readable), recv 0 at EOF.
 */
#ifndef H2B_PROXY_BACKEND_BACKEND_H
#define H2B_PROXY_BACKEND_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "core/balance.h"
#include "proxy/backend/pool.h"

struct px_backend_ops {
    size_t (*pick)(struct hb_balancer *b, struct hb_backend *be, struct px_pool *const *pools,
                   size_t n, const uint64_t *key);
    int (*lease)(struct px_pool *p, struct px_pool_wait *w, void *owner,
                 const struct px_bconn_ops *ops, bool fresh, struct px_bconn **out);
    void (*cancel)(struct px_pool_wait *w);
    const char *(*name)(const struct px_pool *p);
    bool (*reused)(const struct px_bconn *c);
    ssize_t (*send)(struct px_bconn *c, const struct iovec *iov, int iovcnt);
    ssize_t (*recv)(struct px_bconn *c, void *buf, size_t len);
    /* Bytes a recv() of at most that many returns at once, never EOF or an
     * error: what the socket holds (FIONREAD). 0 when none, or not known
     * (TLS: a record may be partial, or a close_notify). NULL: never known. */
    size_t (*readable)(struct px_bconn *c);
    void (*want_write)(struct px_bconn *c, bool on);
    void (*kick_write)(struct px_bconn *c);
    void (*want_read)(struct px_bconn *c, bool on);
    void (*set_timeout)(struct px_bconn *c, uint32_t ms);
    /* shutdown(SHUT_WR): the peer reads EOF, the connection stays readable
     * (tunnels, proxy/exchange/tunnel.h). */
    void (*shutdown_write)(struct px_bconn *c);
    void (*release)(struct px_bconn *c);
    void (*close)(struct px_bconn *c);
};

/* The real backend: proxy/backend/pool.h over sockets. */
extern const struct px_backend_ops px_backend_pool_ops;

#endif
