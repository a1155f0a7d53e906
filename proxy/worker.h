/* proxy/worker.h — one worker thread: its event_base, its SO_REUSEPORT
 * listeners, its client connections and its backend pools. Nothing here is
 * shared with another worker, so the request path takes no lock. What all
 * workers share is read-only: the configuration and the TLS contexts.
 */
#ifndef H2B_PROXY_WORKER_H
#define H2B_PROXY_WORKER_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "config/cfg.h"
#include "core/addrset.h"
#include "core/list.h"
#include "core/outlier.h"
#include "proxy/backend/pool.h"
#include "proxy/obs/stats.h"
#include "proxy/exchange/request_id.h"
#include "proxy/tls/tls.h"

struct event_base;
struct event;
struct px_drain;
struct px_clients;
struct px_alog;
struct px_stats;
struct px_eh_worker;
struct px_hstate;

/* One upstream group of the configuration, in one worker. */
struct px_upstream {
    const struct cfg_upstream *cfg;
    struct px_pool **pools; /* one per server */
    size_t npools;
    struct hb_balancer bal;  /* upstreams.*.balance */
    struct hb_backend *load; /* one per server: weight, load, policy credit */
    struct px_hstate **hs;   /* one per server: health (a reference each; NULL: up) */
    struct hb_outlier *out;  /* one per server: passive ejection state (this worker's) */
    size_t n_ejected;        /* servers of out[] ejected now */
    uint32_t active;         /* requests of this worker on this upstream */
    uint32_t retrying;       /* of them, retry_on retries in flight (retry_budget) */
    px_ctr **st;             /* one per server: its PX_SS_* counters in w->stats, or NULL */
    /* Balancing (proxy/exchange/balance.h); empty/NULL for policies and
     * options not in use. */
    struct hb_maglev maglev; /* balance: consistent_hash: this worker's table */
    char (*sticky_id)[17];   /* sticky_cookie: each server's cookie value, else NULL */
    char **set_cookie;       /* sticky_cookie: each server's Set-Cookie value, else NULL */
    size_t nbalanced;        /* servers sticky_id and set_cookie were made for */
    struct px_pool_group group; /* waiters across the pools (upstreams.*.max_pending) */
    /* One per server: the configured server it is (an address of a DNS
     * name is one server each; proxy/backend/adopt.h), and its address. */
    const struct cfg_server **srv;
    struct hb_addr *addr;
    /* Servers given as DNS names (proxy/backend/resolver.h): the version of
     * the address set adopted (0: none; a static upstream never has one),
     * and the pools of addresses that went away, draining (adopt.h). */
    bool dynamic;
    uint64_t set_version;
    struct hb_list draining;
    struct px_btls_ctx *btls; /* upstreams.*.tls: this worker's context (a reference), or NULL */
};

struct px_listener {
    struct px_worker *w;
    const struct cfg_listener *cfg;
    struct px_tls *tls; /* shared, read-only */
    int fd;
    struct event *ev;
    char label[80]; /* for logs: listeners[].name, else "address:port" */
    /* listeners[].max_connections, this worker's share (proxy/listener.h):
     * at max_conns open connections accepting pauses until one closes. */
    uint32_t nconns, max_conns;
    bool paused;
    int64_t full_logged_at; /* monotonic ns of the last "paused" log line, 0: never */
};

struct px_worker {
    int id;
    struct event_base *base;
    const struct cfg *cfg; /* shared, read-only */
    struct px_listener *listeners;
    size_t nlisteners;
    struct px_upstream *ups;
    const struct px_backend_ops *backend; /* px_backend_pool_ops (proxy/backend/backend.h) */
    size_t nups;
    struct hb_list conns; /* struct px_fconn */
    struct hb_list ex_cache; /* ended exchanges kept for reuse (exchange.c) */
    uint32_t n_ex_cache;
    uint32_t n_tunnels; /* open tunnels (tunnels.max_per_worker, proxy/exchange/tunnel.h) */
    uint32_t nconns;
    uint32_t max_conns; /* this worker's share of limits.max_connections */
    pthread_t thread;
    int wake[2]; /* pipe: main thread → worker (stop) */
    struct event *wake_ev;
    struct px_drain *drain; /* graceful shutdown (proxy/shutdown.c), else NULL */
    struct px_rid_gen rid;  /* request ids (proxy/exchange/request_id.h) */
    struct px_clients *clients; /* per-client limits (proxy/clients.h), shared; or NULL */
    struct px_alog *alog;   /* this worker's access log format (proxy/obs/alog.h), or NULL */
    struct px_stats *stats; /* this worker's counters (proxy/obs/stats.h); NULL in unit tests */
    struct event *tick;     /* every PX_WORKER_TICK_MS: the heartbeat (/healthz), and
                               freeing drained pools (proxy/backend/adopt.h) */
    bool resolver_sub;      /* wake[1] is subscribed to the resolver's changes */
    struct px_eh_worker *eh; /* learned early hints (proxy/exchange/early_hints.h), or NULL */
    uint64_t conn_serial;   /* the last client connection's serial (px_fconn.serial) */
};

#define PX_WORKER_TICK_MS 1000

/* Builds a worker: its event_base, listeners bound with SO_REUSEPORT (tls[i]
 * for cfg->listeners[i], NULL for a plaintext one) and one pool per
 * upstream server. from: the running worker with the same id whose
 * listening sockets are reused (dup()) where a listener's address and TLS
 * mode are unchanged (a reload: SO_REUSEPORT sockets are never closed under
 * a queued connection), or NULL (start-up: every socket is bound anew).
 * Returns 0, or -1 after logging why (address in use, unresolvable backend,
 * out of memory). */
int px_worker_init(struct px_worker *w, int id, const struct cfg *cfg, struct px_tls **tls,
                   uint32_t nworkers, const struct px_worker *from);

/* A backend server's name in logs and metrics: "host:port", "[v6]:port". */
void px_server_label(const struct cfg_server *s, char *buf, size_t size);

/* cfg->workers, or one per online core when 0. */
uint32_t px_worker_count(const struct cfg *cfg);

/* The one way to start workers, at start-up and on reload: builds and
 * starts px_worker_count(cfg) workers (px_worker_init + px_worker_start).
 * from[0..nfrom): the running generation's workers, whose listening sockets
 * the new ones inherit (worker i from from[i]); NULL, 0 at start-up.
 * Returns the array (free with px_workers_del) and sets *n, or returns NULL
 * when one did not start (logged): those started are then stopped and
 * freed. */
struct px_worker *px_workers_start(const struct cfg *cfg, struct px_tls **tls,
                                   const struct px_worker *from, uint32_t nfrom, uint32_t *n);

/* Stops (joins) then frees n started workers and the array. */
void px_workers_del(struct px_worker *w, uint32_t n);

/* Runs the event loop in a new thread. Returns 0 or -1. */
int px_worker_start(struct px_worker *w);

/* Asks the worker to stop (from any thread) and joins it. */
void px_worker_stop(struct px_worker *w);

/* Frees everything (after px_worker_stop, or instead of start). */
void px_worker_free(struct px_worker *w);

/* Resolves "host" + port (numeric or a name) into addr (proxy/resolve.c).
 * Returns 0 or -1 (logged). */
int px_resolve(const char *host, uint16_t port, struct sockaddr_storage *addr, socklen_t *len);

/* upstreams.*.tls as the options of proxy/backend/btls.h. */
struct px_btls_ctx_opts;
void px_btls_opts_from(const struct cfg_upstream *u, struct px_btls_ctx_opts *o);

#endif
