/* proxy/backend/resolver.h — backend servers given as DNS names, resolved
 * asynchronously once per process (docs/backends.md, "DNS names").
 *
 * One thread with its own event loop runs c-ares (no worker ever waits for
 * a resolver). For every configuration generation that has names
 * (px_resolver_add), it resolves each name (A and AAAA), and again after
 * min(the answer's TTL, resolver.interval), never sooner than
 * resolver.min_interval (core/addrset.h hb_dns_next_ms). A failed
 * resolution keeps the last good answer: it is logged (the first failure
 * of a run as a warning, the next ones at debug, the recovery once) and
 * counted, and retried after min_interval.
 *
 * Per upstream the thread publishes a struct px_addrset: every address of
 * every server (IP literals as they are, names with all their addresses),
 * each inheriting its server's weight and options. A change is logged once
 * (added and removed addresses), then every subscribed worker is woken
 * through its wake pipe ('a') and adopts the new set on its own loop
 * (proxy/backend/adopt.h).
 *
 * Ownership: a published set is immutable and reference counted. The
 * resolver holds one reference to the current set of each upstream;
 * px_resolver_get() hands out another under the registry mutex. The mutex
 * is taken when the thread publishes, when a worker adopts a set (once per
 * change per worker, on its loop between requests), when workers start and
 * end, and by the admin thread: never on the request path, which only reads
 * the worker's own arrays. A set is freed by its last px_addrset_put(): old
 * sets go when every worker has moved on.
 */
#ifndef H2B_PROXY_BACKEND_RESOLVER_H
#define H2B_PROXY_BACKEND_RESOLVER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addrset.h"

struct cfg;
struct cfg_errors;
struct cfg_upstream;

/* One address of an upstream. */
struct px_addrset_ent {
    struct hb_addr addr;
    uint32_t server;            /* index in the upstream's servers[] it comes from */
    char label[HB_ADDR_STRLEN]; /* "ip:port": the server's name in logs, metrics, health */
};

struct px_addrset {
    atomic_uint refs;
    const struct cfg *cfg; /* the generation it was made for (identity only) */
    size_t upstream;       /* index in cfg->upstreams */
    uint64_t version;      /* 1, 2, …: a new set of the upstream, a new number */
    size_t n;
    struct px_addrset_ent e[]; /* sorted by address (hb_addrset_normalize) */
};

/* True when an upstream of cfg has a server given as a DNS name. */
bool px_resolver_needed(const struct cfg *cfg);

/* Main thread, before the workers of generation cfg are built (start-up and
 * reload): starts the thread when needed, resolves every name of cfg and
 * waits for the first answers (at most about resolver.timeout × attempts ×
 * nameservers). Names known from the running generation keep their last
 * answer. A name with resolve: start (the default) that did not resolve is
 * an error in errs at its server's file:line:column: returns -1, and the
 * caller refuses the start or the reload (then call px_resolver_drop).
 * A resolve: lazy name that did not resolve is logged; its server has no
 * address until it does. Returns 0 (also when cfg has no name: nothing
 * runs). */
int px_resolver_add(struct cfg *cfg, struct cfg_errors *errs);

/* Main thread: generation cfg is gone (its workers were freed, or it was
 * refused): its names are no longer resolved. A no-op for a cfg that was
 * not added. */
void px_resolver_drop(const struct cfg *cfg);

/* Main thread, at exit: stops the thread. */
void px_resolver_stop(void);

/* The current set of cfg->upstreams[upstream] with a reference, or NULL
 * when that upstream has no DNS name (or cfg was not added). Any thread;
 * takes the registry mutex (never call it on the request path). */
struct px_addrset *px_resolver_get(const struct cfg *cfg, size_t upstream);

/* Drops a reference (NULL is a no-op). Any thread. */
void px_addrset_put(struct px_addrset *s);

/* Workers: wake_fd gets 'a' after each published change (the write end of
 * the worker's wake pipe, non-blocking). Subscribe before reading the first
 * set, unsubscribe before closing the pipe. */
void px_resolver_subscribe(int wake_fd);
void px_resolver_unsubscribe(int wake_fd);

/* What the admin endpoints show about one name (server index k of
 * upstream u of the running configuration). */
struct px_resolver_view {
    bool found;          /* the name is resolved by the thread */
    bool failing;        /* the last resolution failed (the last answer is kept) */
    unsigned addresses;  /* in the last good answer */
    uint64_t resolutions, failures, changes;
    char error[64];      /* the last failure's reason, "" */
};
void px_resolver_read(const struct cfg *cfg, size_t upstream, size_t server,
                      struct px_resolver_view *out);

#endif
