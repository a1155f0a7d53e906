/* proxy/backend/pool.h — per-worker, per-backend-address pool of HTTP/1.1
 * keep-alive connections.
 *
 * A pool belongs to one worker thread (its event_base): no locks. An
 * exchange leases a connection for one client (w->client): an idle one is
 * handed over at once; else a new one is dialled (non-blocking connect,
 * connect timeout) when the pool is below max_conns; else the exchange
 * waits in a bounded queue (queue timeout). A client that holds its share
 * of max_conns already (client_share) waits too, in its own sub-queue, even
 * when the pool has room. The queue is served round-robin over the clients
 * that wait (core/fairq.h). The exchange gives the connection back with
 * px_bconn_release() after a complete response that allows reuse, or
 * closes it with px_bconn_close() on any doubt. Idle connections are
 * closed after the idle timeout, when the backend closes them, or when
 * more than `keepalive` are idle: keepalive bounds idle connections only.
 */
#ifndef H2B_PROXY_BACKEND_POOL_H
#define H2B_PROXY_BACKEND_POOL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "core/balance.h"
#include "core/fairq.h"
#include "core/list.h"

struct event_base;
struct event;

struct px_pool_opts {
    uint32_t connect_timeout_ms; /* dial → connected */
    uint32_t idle_timeout_ms;    /* idle connection lifetime */
    uint32_t keepalive;          /* idle connections kept for idle_timeout_ms */
    uint32_t surplus_idle_ms;    /* an idle connection past keepalive lingers this long
                                    (at most idle_timeout_ms); 0: closed at once */
    uint32_t max_conns;          /* open connections (idle + busy + dialling); 0: no limit */
    uint32_t client_share;       /* percent of max_conns one client may hold (at least 1);
                                    0 or 100, or max_conns 0: no share */
    uint32_t queue_max;          /* exchanges waiting for a connection */
    uint32_t queue_timeout_ms;   /* wait in the queue → HB_ETIMEOUT (503) */
    struct px_pool_group *group; /* shared by an upstream's pools, or NULL */
    /* TLS to the server (proxy/backend/btls.h): NULL for plain TCP. The
     * pool owns it (px_pool_del frees it). A dial is complete, and the
     * connection leased, only once its handshake finished (within
     * connect_timeout_ms); a failed handshake is HB_EPROTO. */
    struct px_btls_peer *tls;
    /* upstreams.*.proxy_protocol: every connection belongs to the client
     * connection it was dialled for (px_pool_wait.client) and starts with
     * that client's PROXY header (px_pool_wait.pp); it is leased again only
     * to that client, and px_pool_forget_client closes it. */
    bool per_client;
};

/* The PROXY header each new connection of a per_client pool sends first
 * (copied at the dial). */
struct px_pool_client {
    const uint8_t *hdr;
    uint16_t len;
};

/* What the pools of one upstream share (in one worker): the waiters across
 * them, capped at max_waiting (0: no cap; the upstream's max_pending). A
 * lease that would wait past it gets HB_ELIMIT at once, as for a full
 * queue; the caller tells them apart with px_pool_group_full(). */
struct px_pool_group {
    uint32_t waiting;
    uint32_t max_waiting;
};

static inline bool px_pool_group_full(const struct px_pool_group *g)
{
    return g && g->max_waiting && g->waiting >= g->max_waiting;
}

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

/* A lease request. Embed it in the owner; it must stay put while pending.
 * The caller sets client before px_pool_lease (the key of the client
 * connection the request came on, never reused for another: the share, the
 * fair queue and per_client pools go by it); px_pool_lease sets the rest. */
struct px_pool_wait {
    uintptr_t client;
    struct hb_fq_item item; /* in the pool's queue (item.deadline: its queue_timeout) */
    struct px_bconn *dial;  /* the connection being dialled for it */
    struct px_pool *pool;
    void *owner;
    const struct px_bconn_ops *ops;
    /* Set by the caller before px_pool_lease in a per_client pool (it must
     * outlive the lease); ignored in other pools. */
    const struct px_pool_client *pp;
};

struct px_pool;

/* Picks one of n pools (the servers of an upstream) by b's policy
 * (core/balance.h): be[i].active is refreshed from pool i first (busy
 * connections plus queued waiters); be[i].healthy is the caller's (health
 * checks, ejection). key: the request's hash key for consistent_hash, or
 * NULL. be[] (n entries, weights set) and pools are the caller's. Returns
 * an index 0..n-1 (0 when none could be picked). */
size_t px_pool_pick(struct hb_balancer *b, struct hb_backend *be, struct px_pool *const *pools,
                    size_t n, const uint64_t *key);

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
 *   the wait queue is full (queue_max, or the group's max_waiting),
 *   HB_ENOMEM. */
int px_pool_lease(struct px_pool *p, struct px_pool_wait *w, void *owner,
                  const struct px_bconn_ops *ops, bool fresh, struct px_bconn **out);

/* Withdraws a pending lease (no callback follows). A no-op when w is not
 * pending. */
void px_pool_cancel(struct px_pool_wait *w);

/* A client connection (key: px_pool_wait.client) closed: its idle
 * connections (per_client pools) are closed, as nobody else may use them. */
void px_pool_forget_client(struct px_pool *p, uintptr_t key);

/* ---- a leased connection ---- */

int px_bconn_fd(const struct px_bconn *c);

/* I/O on a leased connection: sendmsg(MSG_NOSIGNAL)/recv semantics (bytes,
 * or -1 with errno; EAGAIN: wait for writable/readable; recv 0 at EOF),
 * through TLS when the pool has it. shutdown_write: the server reads EOF,
 * the connection stays readable. */
ssize_t px_bconn_send(struct px_bconn *c, const struct iovec *iov, int iovcnt);
ssize_t px_bconn_recv(struct px_bconn *c, void *buf, size_t len);
/* Bytes waiting in a plain connection's socket (FIONREAD): a recv() of at
 * most that many returns them at once. 0 over TLS (a record may be partial
 * or a close_notify) and when the ioctl fails. */
size_t px_bconn_readable(struct px_bconn *c);
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

/* Draining (a DNS name no longer gives this address, proxy/backend/adopt.h):
 * idle connections are closed now, a connection given back is closed
 * instead of kept (after serving the waiters already queued), and the
 * exchanges already on the pool finish. The caller stops picking it; the
 * pool itself still leases to them (a stale keep-alive retry). */
void px_pool_drain(struct px_pool *p);

/* True when nothing is left: no open connection, no waiter (a draining
 * pool may be deleted then, once no exchange points at it). */
bool px_pool_empty(const struct px_pool *p);

/* Counters for tests and logs. */
struct px_pool_stats {
    uint32_t open, idle, waiting;
    uint32_t client_cap; /* connections one client may hold (0: no share) */
    uint64_t dials, reuses;
    uint64_t share_waits; /* leases that waited because their client held its share */
    uint64_t tls_handshakes, tls_resumed; /* finished handshakes; of them, resumed */
};

/* Connections client holds on p now (0 without a share: not counted). */
uint32_t px_pool_client_held(const struct px_pool *p, uintptr_t client);
void px_pool_stats(const struct px_pool *p, struct px_pool_stats *out);

#endif
