/* proxy/backend/adopt.h — a worker takes on a new address set of an
 * upstream whose servers include DNS names (proxy/backend/resolver.h).
 *
 * The per-server arrays of struct px_upstream (pools, load, hs, out, st,
 * srv, addr) are rebuilt in address order on the worker's own loop, between
 * requests (the worker reads its wake pipe): an address that stays keeps
 * its pool with its connections, its balancing credit, its outlier state,
 * health state and counters; a new address gets a new pool (no connection
 * until a request needs one); an address that went away is drained
 * (px_pool_drain: idle connections closed now, requests on it finish,
 * nothing new is sent to it) and freed once empty and no exchange points at
 * it (px_upstream_reap, on the worker's tick). Exchanges under way are told
 * their server's new index (px_exchange_servers_moved).
 *
 * Ownership: the worker owns its arrays and pools, as before; the set is
 * only read while adopting (the caller holds a reference).
 */
#ifndef H2B_PROXY_BACKEND_ADOPT_H
#define H2B_PROXY_BACKEND_ADOPT_H

struct px_worker;
struct px_upstream;
struct px_addrset;
struct cfg_upstream;
struct cfg_server;
struct px_pool_opts;
struct px_btls_ctx;

/* Server s's TLS names (upstreams.*.tls): SNI is tls.sni, else the
 * server's address (none is sent for an IP address); the certificate must
 * carry tls.verify_name, else the SNI name, else the address. A new peer
 * of x (the caller's), or NULL when out of memory. The pools and the
 * health checks both use it, so a check verifies what requests verify. */
struct px_btls_peer *px_upstream_btls_peer(struct px_btls_ctx *x, const struct cfg_upstream *u,
                                           const struct cfg_server *s);

/* The pool options of server s of upstream u (its configuration), whose
 * worker state is up (the pools share up->group, which must outlive them):
 * per_client with proxy_protocol, and with tls a TLS peer of up->btls for
 * s's names (o->tls, owned by the pool made with o). Returns 0, or -1 when
 * out of memory for the peer. */
int px_upstream_pool_opts(struct px_upstream *up, const struct cfg_upstream *u,
                           const struct cfg_server *s, struct px_pool_opts *o);

/* Worker thread (or its builder before it runs, w->stats NULL then): makes
 * set up's servers. Returns 0, or -1 when out of memory (up keeps its
 * servers as they were). */
int px_upstream_adopt(struct px_worker *w, struct px_upstream *up, const struct px_addrset *set);

/* Worker thread, when its wake pipe says 'a': adopts every dynamic
 * upstream's newer set. */
void px_upstreams_refresh(struct px_worker *w);

/* Worker tick: frees the draining pools that are empty and unused. */
void px_upstream_reap(struct px_worker *w, struct px_upstream *up);

/* Worker free: frees every draining pool (the exchanges are gone). */
void px_upstream_free_draining(struct px_upstream *up);

/* The counters of up's draining pool named pool_name (the pool's own
 * string, compared as a pointer), or NULL. */
#include "proxy/obs/stats.h"
px_ctr *px_upstream_draining_stats(const struct px_upstream *up, const char *pool_name);

/* THE HOOK for policies with a per-server-set state (a consistent-hash
 * table, core/balance*): called on the worker's loop after every change of
 * up's servers (the first set included), once up->pools, load, srv and addr
 * hold the new servers 0..npools-1 (in address order, so every worker builds
 * the same table from the same set). It rebuilds the consistent-hash table
 * and the sticky cookie values (proxy/exchange/balance.h); the other
 * policies keep their state in load[]. Returns 0, or -1 when out of memory
 * (logged; consistent_hash then picks round robin, sticky sets no cookie). */
int px_upstream_servers_changed(struct px_worker *w, struct px_upstream *up);

#endif
