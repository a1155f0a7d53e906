/* proxy/backend/pool.h — per-worker, per-backend-address pool of HTTP/1.1
 * keep-alive connections.
 *
 * A pool belongs to one worker thread (its event_base): no locks. An
 * exchange leases a connection: an idle one is handed over at once; else a
 * new one is dialled (non-blocking connect, connect timeout) when the pool is
 * below max_conns; else the exchange waits in a bounded FIFO queue (queue
 * timeout). The exchange gives the connection back with px_bconn_release()
 * after a complete response that allows reuse, or closes it with
 * px_bconn_close() on any doubt. Idle connections are closed after the idle
 * timeout, when the backend closes them, or when more than `keepalive` are
 * idle.
 */
#ifndef H2B_PROXY_BACKEND_POOL_H
#define H2B_PROXY_BACKEND_POOL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "core/balance.h"
#include "core/list.h"

struct event_base;
struct event;

struct px_pool_opts {
    uint32_t connect_timeout_ms; /* dial → connected */
    uint32_t idle_timeout_ms;    /* idle connection lifetime */
    uint32_t keepalive;          /* idle connections kept */
    uint32_t max_conns;          /* open connections (idle + busy + dialling); 0 = keepalive
                                    (0 for both: no limit) */
    uint32_t queue_max;          /* exchanges waiting for a connection */
    uint32_t queue_timeout_ms;   /* wait in the queue → HB_ETIMEOUT (503) */
    /* TLS to the server (proxy/backend/btls.h): NULL for plain TCP. The
     * pool owns it (px_pool_del frees it). A dial is complete, and the
     * connection leased, only once its handshake finished (within
     * connect_timeout_ms); a failed handshake is HB_EPROTO. */
    struct px_btls_peer *tls;
    /* upstreams.*.proxy_protocol: every connection belongs to the client
     * connection it was dialled for (px_pool_wait.client) and starts with
     * that client's PROXY header; it is leased again only to that client. */
    bool per_client;
};

/* The client connection a lease is for (per_client pools): its id, unique
 * in the worker for the process's life, and the PROXY header each new
 * connection sends first (copied at the dial). */
struct px_pool_client {
    uint64_t id;
    const uint8_t *hdr;
    uint16_t len;
};

struct px_bconn;
struct px_btls_peer;

/* What a connection's owner (an exchange) is told. Each is called from the
 * worker's event loop, never from inside px_pool_* calls made by the same
 * owner, except where said. */
struct px_bconn_ops {
    /* A lease that was pending is granted: c is connected, owned by the
     * caller until px_bconn_release()/px_bconn_close(). */
    void (*on_ready)(void *owner, struct px_bconn *c);
    /* A pending lease failed: HB_ELIMIT (waited queue_timeout_ms in the
     * queue), HB_ETIMEOUT (connect or TLS handshake timeout), HB_EIO
     * (connect refused or failed), HB_EPROTO (TLS handshake failed: the
     * reason is logged), HB_ENOMEM. */
    void (*on_fail)(void *owner, int err);
    /* Events on a leased connection. */
    void (*on_readable)(void *owner, struct px_bconn *c);
    void (*on_writable)(void *owner, struct px_bconn *c);
    void (*on_timeout)(void *owner, struct px_bconn *c);
};

/* A lease request. Embed it in the owner; it must stay put while pending. */
struct px_pool_wait {
    struct hb_list link;  /* in the pool's queue */
    struct px_bconn *dial; /* the connection being dialled for it */
    struct px_pool *pool;
    void *owner;
    const struct px_bconn_ops *ops;
    int64_t deadline_ns;
    /* Set by the caller before px_pool_lease in a per_client pool (it must
     * outlive the lease); ignored in other pools. */
    const struct px_pool_client *client;
};

struct px_pool;

/* Picks one of n pools (the servers of an upstream) by b's policy
 * (core/balance.h): be[i].active is refreshed from pool i first (busy
 * connections plus queued waiters); every pool counts as healthy (there
 * are no health checks yet). be[] (n entries, weights set) and pools are
 * the caller's. Returns an index 0..n-1 (0 when none could be picked). */
size_t px_pool_pick(struct hb_balancer *b, struct hb_backend *be, struct px_pool *const *pools,
                    size_t n);

/* Creates a pool for one backend address on base. name is for logs
 * ("127.0.0.1:8080", copied). NULL when out of memory. Takes o->tls
 * either way. */
struct px_pool *px_pool_new(struct event_base *base, const struct sockaddr *addr,
                            socklen_t addrlen, const char *name, const struct px_pool_opts *o);

/* Closes every connection. No waiter may be pending. */
void px_pool_del(struct px_pool *p);

/* The pool's address for logs. */
const char *px_pool_name(const struct px_pool *p);

/* Leases a connection for owner (fresh: never an idle one, for the retry
 * of a request that failed on a reused connection). Returns:
 *   0 and *out = an idle connection, ready now (no callback follows);
 *   0 and *out = NULL: pending, on_ready or on_fail follows later
 *     (px_pool_cancel() withdraws it);
 *   HB_EIO when a dial failed at once (connection refused), HB_ELIMIT when
 *   the wait queue is full, HB_ENOMEM. */
int px_pool_lease(struct px_pool *p, struct px_pool_wait *w, void *owner,
                  const struct px_bconn_ops *ops, bool fresh, struct px_bconn **out);

/* Withdraws a pending lease (no callback follows). A no-op when w is not
 * pending. */
void px_pool_cancel(struct px_pool_wait *w);

/* A client connection closed: its idle connections (per_client pools) are
 * closed, as nobody else may use them. */
void px_pool_forget_client(struct px_pool *p, uint64_t id);

/* ---- a leased connection ---- */

int px_bconn_fd(const struct px_bconn *c);

/* I/O on a leased connection: sendmsg(MSG_NOSIGNAL)/recv semantics (bytes,
 * or -1 with errno; EAGAIN: wait for writable/readable; recv 0 at EOF),
 * through TLS when the pool has it. shutdown_write: the server reads EOF,
 * the connection stays readable. */
ssize_t px_bconn_send(struct px_bconn *c, const struct iovec *iov, int iovcnt);
ssize_t px_bconn_recv(struct px_bconn *c, void *buf, size_t len);
void px_bconn_shutdown_write(struct px_bconn *c);

/* True when c served a response before this lease (a stale keep-alive
 * connection may have been closed by the backend meanwhile). */
bool px_bconn_reused(const struct px_bconn *c);

/* Arms (true) or disarms the one-shot write event. */
void px_bconn_want_write(struct px_bconn *c, bool on);

/* Runs the owner's on_writable once this pass of the event loop is done
 * (without asking the kernel: the socket is assumed writable, and the
 * owner's write handles EAGAIN). Several kicks in one pass run it once.
 * Does nothing while c is still connecting (its owner is told then). */
void px_bconn_kick_write(struct px_bconn *c);

/* Pauses (false) or resumes (true) read events (back-pressure). */
void px_bconn_want_read(struct px_bconn *c, bool on);

/* Arms the connection's timer (on_timeout after ms), or disarms it (0). */
void px_bconn_set_timeout(struct px_bconn *c, uint32_t ms);

/* Gives c back after a complete response that allows reuse: it becomes idle
 * (or is handed to the next waiter, or closed when keepalive idle
 * connections exist already). */
void px_bconn_release(struct px_bconn *c);

/* Closes c (framing doubt, error, cancelled exchange). */
void px_bconn_close(struct px_bconn *c);

/* The pool's counters and gauges: PX_SS_N counters of its server group in
 * its worker's block (proxy/obs/stats.h), written only from the pool's
 * thread; NULL (the default) for none. */
void px_pool_set_stats(struct px_pool *p, _Atomic uint64_t *v);

/* Counters for tests and logs. */
struct px_pool_stats {
    uint32_t open, idle, waiting;
    uint64_t dials, reuses;
    uint64_t tls_handshakes, tls_resumed; /* finished handshakes; of them, resumed */
};
void px_pool_stats(const struct px_pool *p, struct px_pool_stats *out);

#endif
