/* proxy/tls/tls_tickets_mc.h — session ticket keys read from memcached.
 *
 * A fleet shares one key set (core/ticket_set.h) stored under one memcached
 * key; `h2bridge-ticketkeys rotate` (tools/ticketkeys/) writes it. Each
 * fetcher reads it once when it starts (in the caller's thread: the main
 * thread, at start-up or on reload, bounded by the timeout) and then every
 * interval on its own thread, never on a worker. One fetch is one short
 * TCP connection speaking the text protocol (core/memcache.h) over a
 * non-blocking socket, with poll(2) bounding every step by the timeout; the
 * host name is resolved on each fetch (getaddrinfo, on the fetcher's
 * thread), so a Kubernetes Service name follows its endpoint.
 *
 * A set whose generation differs from the installed one is handed to the
 * install callback. When memcached is down, answers without the key or
 * with a value that is not a key set, the installed keys stay; the first
 * failure after a success (or at start) is logged as a warning, and the
 * first success after failures as a notice: one line per transition, not
 * one per poll. The last set and state are also kept process-wide per
 * (address, key), so a reload that cannot reach memcached starts from the
 * keys the previous configuration had, and does not log the outage again.
 */
#ifndef H2B_PROXY_TLS_TLS_TICKETS_MC_H
#define H2B_PROXY_TLS_TLS_TICKETS_MC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ticket_set.h"

struct px_ticket_mc_opts {
    const char *host; /* NULL: ticket keys are not read from memcached */
    uint16_t port;
    const char *key;      /* the memcached key holding the set */
    uint32_t interval_ms; /* between fetches */
    uint32_t timeout_ms;  /* one fetch: resolve excluded, connect to reply */
};

/* Called with each new set (generation changed); on the fetcher's thread
 * or, for the first fetch, the caller's of px_tkmc_start. */
typedef void (*px_tkmc_install_fn)(void *arg, const struct hb_tks *set);

struct px_tkmc;

/* Fetches once (installing the set, or the process's last one for this
 * address and key when the fetch fails), then starts the thread. NULL with
 * a reason in err only when the thread cannot start or memory runs out: an
 * unreachable memcached is not an error (the keys stay local until it
 * answers). The options are copied. */
struct px_tkmc *px_tkmc_start(const struct px_ticket_mc_opts *o, px_tkmc_install_fn fn,
                              void *arg, char *err, size_t errlen);

/* Stops and joins the thread (no install call after it returns); frees m.
 * NULL is ok. */
void px_tkmc_stop(struct px_tkmc *m);

/* One fetch, for the thread and for tests. Returns 0 with *out filled, or
 * -1 with a one-line reason in why ("connect 127.0.0.1:11211: Connection
 * refused", "key \"x\" not found", …). */
int px_tkmc_fetch(const struct px_ticket_mc_opts *o, struct hb_tks *out, char *why,
                  size_t whylen);

/* Process-wide figures for /metrics. */
struct px_tkmc_stats {
    unsigned fetchers;     /* running now (0: the feature is off) */
    uint64_t generation;   /* of the set installed last (0: none yet) */
    uint64_t created;      /* its Unix time of creation */
    uint64_t fetches_ok;   /* since start */
    uint64_t fetches_failed;
    bool failing; /* the last fetch of some fetcher failed */
};
void px_tkmc_stats_get(struct px_tkmc_stats *s);

#endif
