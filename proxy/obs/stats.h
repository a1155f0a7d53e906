/* proxy/obs/stats.h — the proxy's counters: per worker, summed at scrape.
 *
 * Each worker owns one struct px_stats: a block of 64-bit counters for each
 * of its listeners ("listener groups") and each backend server of its
 * upstreams ("server groups"). Only the worker's own thread writes them, with
 * relaxed loads and stores (px_ctr_add: a plain load, add and store on
 * x86-64, no locked instruction); the admin thread reads them with relaxed
 * loads at scrape time, which is race-free for C11 atomics. Blocks are
 * allocated per worker and aligned to cache lines, so no two workers write
 * the same line. Nothing on the request path takes a lock.
 *
 * Workers come and go with configuration generations (proxy/reload.h), so
 * a process-wide registry (one mutex, taken only when a worker's block is
 * registered or freed and when a scrape takes its snapshot) lists the live
 * blocks, and an accumulator keeps what freed blocks had counted: counters
 * stay monotonic across reloads. Groups are keyed by names (the listener's
 * label, the upstream name and the server's "host:port"), since the set can
 * change on reload. Gauges (open connections, idle backend connections, …)
 * are summed over the live blocks only.
 *
 * Process-wide state for the admin endpoints lives here as well: the
 * current configuration and its generation number, reload results,
 * readiness (proxy/admin/admin.h).
 */
#ifndef H2B_PROXY_OBS_STATS_H
#define H2B_PROXY_OBS_STATS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/h2_budget.h"
#include "core/list.h"
#include "core/time.h"

struct cfg;
struct px_worker;

typedef _Atomic uint64_t px_ctr;

/* Single-writer update (the owning worker's thread only). */
static inline void px_ctr_add(px_ctr *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}
static inline void px_ctr_set(px_ctr *c, uint64_t v)
{
    atomic_store_explicit(c, v, memory_order_relaxed);
}
static inline uint64_t px_ctr_get(const px_ctr *c)
{
    return atomic_load_explicit((px_ctr *)c, memory_order_relaxed);
}

/* ---- label sets (bounded, fixed) ---------------------------------------- */

/* Request protocol. */
enum px_st_proto { PX_ST_H2, PX_ST_H2C, PX_ST_HTTP11, PX_ST_HTTP10, PX_ST_NPROTO };
/* What a client connection speaks now (connections_open). */
enum px_st_cproto { PX_ST_C_PENDING, PX_ST_C_H2, PX_ST_C_H2C, PX_ST_C_HTTP1, PX_ST_NCPROTO };
enum px_st_method {
    PX_ST_GET, PX_ST_HEAD, PX_ST_POST, PX_ST_PUT, PX_ST_DELETE, PX_ST_OPTIONS, PX_ST_PATCH,
    PX_ST_CONNECT, PX_ST_OTHER, PX_ST_NMETHOD
};
/* Status class: 0 "none" (no status was sent), 1..5 "1xx".."5xx". */
#define PX_ST_NSTATUS 6
#define PX_ST_NEND 9 /* enum px_ex_end */
/* TLS versions: TLSv1.2, TLSv1.3, other; full or resumed. */
#define PX_ST_NTLSVER 3
enum px_st_tls_fail {
    PX_ST_TLS_TIMEOUT,  /* limits.handshake_timeout_ms passed */
    PX_ST_TLS_CLOSED,   /* the client closed the connection during the handshake */
    PX_ST_TLS_PROTOCOL, /* a TLS error: alert, no shared cipher or version, bad message */
    PX_ST_TLS_ALPN,     /* no ALPN h2 on a listener without http/1.1 */
    PX_ST_NTLSFAIL
};
#define PX_ST_NH2CODE 15 /* RFC 9113 §7 codes 0x0..0xd, then "unknown" */

/* Histogram buckets (upper bounds in seconds; the last bucket is +Inf). */
#define PX_ST_NBOUNDS 15
#define PX_ST_NBUCKET (PX_ST_NBOUNDS + 1)
extern const double px_st_bounds[PX_ST_NBOUNDS];
/* A histogram takes PX_ST_HIST counters: PX_ST_NBUCKET non-cumulative
 * bucket counts, then the sum in nanoseconds, then the count. */
#define PX_ST_HIST (PX_ST_NBUCKET + 2)

/* What became of a request read in TLS early data (tls.early_data). */
enum px_st_early {
    PX_ST_EARLY_FORWARDED, /* a safe request forwarded with Early-Data: 1 */
    PX_ST_EARLY_REFUSED,   /* answered 425 Too Early by the proxy */
    PX_ST_EARLY_RETRIED,   /* the backend's 425, retried after the handshake */
    PX_ST_NEARLY,
};

/* What became of a push the proxy considered (routes[].push). */
enum px_st_push {
    PX_ST_PUSH_PROMISED,  /* PUSH_PROMISE sent, the pushed request started */
    PX_ST_PUSH_LIMITED,   /* a preload not pushed: max_per_connection or max_per_response */
    PX_ST_PUSH_CANCELLED, /* the client reset a promised stream before its response ended */
    PX_ST_NPUSH,
};

/* ---- listener group: counter indices ------------------------------------ */
enum {
    PX_SL_REQ = 0, /* [proto][method][status class] */
    PX_SL_END = PX_SL_REQ + PX_ST_NPROTO * PX_ST_NMETHOD * PX_ST_NSTATUS, /* [enum px_ex_end] */
    PX_SL_DURATION = PX_SL_END + PX_ST_NEND,                              /* histogram */
    PX_SL_REQ_BYTES = PX_SL_DURATION + PX_ST_HIST,
    PX_SL_RESP_BYTES,
    PX_SL_CONNS,                                                 /* accepted */
    PX_SL_TLS_OK,                                                /* [version][resumed] */
    PX_SL_TLS_FAIL = PX_SL_TLS_OK + PX_ST_NTLSVER * 2,           /* [enum px_st_tls_fail] */
    PX_SL_H2_CONN_ERR = PX_SL_TLS_FAIL + PX_ST_NTLSFAIL,         /* [code] GOAWAY we sent */
    PX_SL_H2_STREAM_ERR = PX_SL_H2_CONN_ERR + PX_ST_NH2CODE,     /* [code] RST_STREAM we sent */
    PX_SL_H2_FLOOD = PX_SL_H2_STREAM_ERR + PX_ST_NH2CODE,        /* [enum h2_flood] */
    PX_SL_CLIENT_CONNS = PX_SL_H2_FLOOD + H2_FLOOD_COUNT, /* over clients.max_connections */
    PX_SL_CLIENT_RATE,                                   /* over clients.requests_per_second */
    PX_SL_TUNNELS,                                       /* tunnels established */
    PX_SL_EARLY,                                         /* [enum px_st_early] 0-RTT requests */
    PX_SL_PUSH = PX_SL_EARLY + PX_ST_NEARLY,             /* [enum px_st_push] server push */
    PX_SL_NCOUNTERS = PX_SL_PUSH + PX_ST_NPUSH,
    /* gauges */
    PX_SL_CONNS_OPEN = PX_SL_NCOUNTERS, /* [enum px_st_cproto] */
    PX_SL_ACTIVE = PX_SL_CONNS_OPEN + PX_ST_NCPROTO, /* [proto] requests in progress */
    PX_SL_TUNNELS_OPEN = PX_SL_ACTIVE + PX_ST_NPROTO, /* tunnels open (proxy/exchange/tunnel.h) */
    PX_SL_N
};

/* ---- server group (one backend server of one upstream) ------------------ */
enum {
    PX_SS_REQ = 0,                            /* [status class] requests ended on it */
    PX_SS_RETRIES = PX_SS_REQ + PX_ST_NSTATUS, /* retries of requests that ended on it */
    PX_SS_TIMEOUTS,                           /* requests ended by a backend timeout (504) */
    PX_SS_ERRORS,                             /* requests ended by a backend error (502/503) */
    PX_SS_CONNECTS,                           /* connections dialled */
    PX_SS_CONNECT_FAIL,                       /* dials refused or failed */
    PX_SS_CONNECT_TIMEOUT,                    /* dials that timed out */
    PX_SS_REUSES,                             /* leases of a keep-alive connection */
    PX_SS_QUEUE_TIMEOUT,                      /* waits in the queue that timed out (503) */
    PX_SS_QUEUE_FULL,                         /* leases refused on a full queue (503) */
    PX_SS_EJECTIONS,                          /* passive ejections (outlier_detection) */
    PX_SS_RETRY_BUDGET,                       /* retries refused by the retry budget */
    PX_SS_BREAKER,                            /* 503s at the upstream's max_requests */
    PX_SS_TLS_HANDSHAKES,                     /* TLS handshakes finished (upstreams.*.tls) */
    PX_SS_TLS_RESUMED,                        /* of them, resumed sessions */
    PX_SS_SHARE_WAIT,   /* leases that waited: their client held its per_client_share */
    PX_SS_PENDING_FULL, /* 503s at the upstream's max_pending */
    PX_SS_STALL_RESP,   /* backend connections closed: the client took no response byte */
    PX_SS_STALL_BODY,   /* backend connections closed: the client sent no body byte */
    PX_SS_TTFB,                               /* histogram: first response byte */
    PX_SS_NCOUNTERS = PX_SS_TTFB + PX_ST_HIST,
    /* gauges */
    PX_SS_OPEN = PX_SS_NCOUNTERS,
    PX_SS_IDLE,
    PX_SS_QUEUED,
    PX_SS_FAILING, /* 1 while the last connection attempt failed */
    PX_SS_EJECTED, /* 1 while this worker has the server ejected (outlier_detection) */
    PX_SS_N
};

/* One listener or server of one worker. */
struct px_stats_group {
    const char *name;     /* listener label, or upstream name */
    const char *server;   /* NULL, or the server's "host:port" */
    px_ctr *v;            /* PX_SL_N or PX_SS_N counters */
};

/* One worker's block. */
struct px_stats {
    struct hb_list link; /* the registry */
    int worker;
    _Atomic int64_t heartbeat; /* hb_time_now_ns() of the worker's last tick */
    atomic_bool stopped;       /* the thread ended: no heartbeat expected */
    struct px_stats_group *lis; /* one per w->listeners[i] */
    struct px_stats_group *srv; /* per upstream i, server j: srv[srv_at[i] + j] */
    size_t nlis, nsrv, *srv_at, nups;
    px_ctr *mem;
    /* Server groups added later (px_stats_srv_add: an address a DNS name
     * gave after the worker started); changed under the registry mutex. */
    struct hb_list dyn;
};

/* Worker: a block for w's listeners and upstream servers (names point into
 * w's configuration and listener labels, which outlive the block), not yet
 * registered. Servers of upstreams with DNS names are not in it: they get
 * px_stats_srv_add groups. NULL when out of memory. */
struct px_stats *px_stats_new(const struct px_worker *w);

/* Worker thread: a server group for (upstream, server) added to s (a new
 * address of a DNS name, proxy/backend/adopt.h); both names must outlive
 * the group. Its counters start at 0 and add to what the name counted
 * before. Takes the registry mutex (between requests, never on the request
 * path). NULL when out of memory. */
px_ctr *px_stats_srv_add(struct px_stats *s, const char *upstream, const char *server);

/* Worker thread: the server whose counters are v (from px_stats_srv_add
 * on s) is gone: its counters are folded into
 * the accumulator (they stay monotonic under the name), its gauges are
 * dropped, and v must not be used again. Takes the registry mutex. */
void px_stats_srv_drop(struct px_stats *s, px_ctr *v);

/* Makes s visible to scrapes (its worker is about to start). */
void px_stats_register(struct px_stats *s);

/* Worker thread: records that the worker's loop is alive. */
static inline void px_stats_heartbeat(struct px_stats *s, hb_ns_t now)
{
    atomic_store_explicit(&s->heartbeat, (int64_t)now, memory_order_relaxed);
}

/* The worker's thread was joined: it no longer counts for /healthz. */
void px_stats_stopped(struct px_stats *s);

/* After the worker's thread ended: folds s's counters into the accumulator
 * (by name), unregisters and frees it. NULL is a no-op. */
void px_stats_free(struct px_stats *s);

/* ---- scrape side ---------------------------------------------------------- */

struct px_snap_group {
    char *name, *server;
    uint64_t *v;
};

/* A snapshot: every group of every live block plus the accumulator, summed
 * by name. Groups of the running generation come first (blocks are listed
 * newest first), in configuration order. */
struct px_snap {
    struct px_snap_group *lis, *srv;
    size_t nlis, nsrv;
    unsigned workers;        /* live, running worker threads */
    unsigned stale;          /* of them, whose heartbeat is older than stale_ns */
    hb_ns_t oldest_heartbeat; /* age of the oldest heartbeat */
};

/* Takes the snapshot (under the registry mutex). now and stale_ns: for the
 * heartbeat check. Returns 0 or -1 (out of memory; *s is then empty). */
int px_stats_snapshot(struct px_snap *s, hb_ns_t now, hb_ns_t stale_ns);
void px_snap_free(struct px_snap *s);

/* ---- process state -------------------------------------------------------- */

/* Runtime: cfg (a reference is taken) is the running configuration, number
 * gen; the previous one's reference is dropped. */
void px_obs_set_config(struct cfg *cfg, unsigned gen);
/* The running configuration with a reference (cfg_unref it), or NULL. */
struct cfg *px_obs_config(unsigned *gen);
/* A reload finished: ok, or refused (the running generation stays). */
void px_obs_reload(bool ok);
void px_obs_reloads(uint64_t *ok, uint64_t *failed);
/* Ready: workers started and listening; false again from the moment a
 * graceful shutdown begins. */
void px_obs_set_ready(bool ready);
bool px_obs_ready(void);
/* Wall-clock time of the process start (seconds since the epoch), set by
 * the first call of px_obs_set_config. */
double px_obs_start_time(void);

/* Forgets everything (the accumulator, the configuration): tests and exit. */
void px_obs_reset(void);

/* Names of the label values. Static storage. */
const char *px_st_proto_name(enum px_st_proto p);
const char *px_st_cproto_name(enum px_st_cproto p);
const char *px_st_method_name(enum px_st_method m);
const char *px_st_status_name(unsigned cls); /* "none", "1xx", … */
const char *px_st_tls_version_name(unsigned v);
const char *px_st_tls_fail_name(enum px_st_tls_fail f);

/* Method class of a request method (case-sensitive, RFC 9110 §9.1). */
enum px_st_method px_st_method_of(const char *m, size_t len);
/* The bucket of a duration in nanoseconds (0..PX_ST_NBUCKET-1). */
unsigned px_st_bucket(hb_ns_t ns);
/* Adds one observation to the histogram at h. */
void px_st_observe(px_ctr *h, hb_ns_t ns);

#endif
