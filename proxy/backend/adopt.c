/* proxy/backend/adopt.c — a worker adopts an upstream's new address set
 * (adopt.h). */
#include "proxy/backend/adopt.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "core/health.h"
#include "core/log.h"
#include "proxy/backend/btls.h"
#include "proxy/backend/health_state.h"
#include "proxy/backend/resolver.h"
#include "proxy/exchange/exchange.h"
#include "proxy/obs/stats.h"
#include "proxy/exchange/balance.h"
#include "proxy/worker.h"

/* A pool whose address went away, until it is empty and unused. */
struct drained {
    struct hb_list link; /* up->draining */
    struct px_pool *pool;
    struct px_hstate *hs;
    px_ctr *st;
};

struct px_btls_peer *px_upstream_btls_peer(struct px_btls_ctx *x, const struct cfg_upstream *u,
                                           const struct cfg_server *s)
{
    const char *sni = u->tls.sni.s ? u->tls.sni.s : s->address.s;
    const char *vn = u->tls.verify_name.s ? u->tls.verify_name.s : sni;
    return px_btls_peer_new(x, sni, vn);
}

int px_upstream_pool_opts(struct px_upstream *up, const struct cfg_upstream *u,
                          const struct cfg_server *s, struct px_pool_opts *o)
{
    *o = (struct px_pool_opts){0};
    o->connect_timeout_ms = u->connect_timeout_ms;
    o->idle_timeout_ms = u->idle_timeout_ms;
    o->keepalive = u->keepalive;
    o->surplus_idle_ms = u->surplus_idle_timeout_ms;
    o->max_conns = s->max_connections;
    /* Requests per server per worker that may wait for a connection when
     * max_connections are busy (docs/proxy.md): each waits at most
     * queue_timeout for a slot before its 503; past queue_size a request
     * gets the 503 at once. Each waiter is a stream that exists anyway. */
    o->queue_max = u->queue_size;
    o->queue_timeout_ms = u->queue_timeout_ms;
    o->client_share = u->per_client_share;
    o->group = &up->group; /* max_pending counts across the upstream's pools */
    o->per_client = u->proxy_protocol != 0;
    o->tls = up->btls ? px_upstream_btls_peer(up->btls, u, s) : NULL;
    return up->btls && !o->tls ? -1 : 0;
}

int px_upstream_servers_changed(struct px_worker *w, struct px_upstream *up)
{
    /* The consistent-hash table and the sticky cookie values are made
     * from the servers as they are now (proxy/exchange/balance.h). */
    px_upstream_balance_free(up);
    if (px_upstream_balance_init(up, up->cfg) != 0) {
        hb_error("worker %d: upstream %s: out of memory for its balancing table", w->id,
                 up->cfg->name.s);
        return -1;
    }
    return 0;
}

static socklen_t to_sockaddr(const struct hb_addr *a, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    if (a->len == 4) {
        struct sockaddr_in *in = (struct sockaddr_in *)ss;
        in->sin_family = AF_INET;
        in->sin_port = htons(a->port);
        memcpy(&in->sin_addr, a->b, 4);
        return sizeof *in;
    }
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(a->port);
    memcpy(&in6->sin6_addr, a->b, 16);
    return sizeof *in6;
}

static void drained_free(struct drained *d)
{
    hb_list_remove(&d->link);
    px_pool_set_stats(d->pool, NULL);
    px_pool_del(d->pool);
    px_hstate_put(d->hs);
    free(d);
}

/* The new arrays of one upstream, built before anything is changed. */
struct arrays {
    struct px_pool **pools;
    struct hb_backend *load;
    struct px_hstate **hs;
    struct hb_outlier *out;
    px_ctr **st;
    const struct cfg_server **srv;
    struct hb_addr *addr;
};

static void arrays_free(struct arrays *a)
{
    free(a->pools);
    free(a->load);
    free(a->hs);
    free(a->out);
    free(a->st);
    free(a->srv);
    free(a->addr);
}

static int arrays_alloc(struct arrays *a, size_t n)
{
    size_t k = n ? n : 1;
    a->pools = calloc(k, sizeof *a->pools);
    a->load = calloc(k, sizeof *a->load);
    a->hs = calloc(k, sizeof *a->hs);
    a->out = calloc(k, sizeof *a->out);
    a->st = calloc(k, sizeof *a->st);
    a->srv = calloc(k, sizeof *a->srv);
    a->addr = calloc(k, sizeof *a->addr);
    if (a->pools && a->load && a->hs && a->out && a->st && a->srv && a->addr)
        return 0;
    arrays_free(a);
    return -1;
}

int px_upstream_adopt(struct px_worker *w, struct px_upstream *up, const struct px_addrset *set)
{
    const struct cfg_upstream *u = up->cfg;
    size_t n = set->n, nold = up->npools;
    struct arrays a;
    long *n2o = calloc(n + 1, sizeof *n2o), *o2n = calloc(nold + 1, sizeof *o2n);
    struct hb_addr *want = calloc(n + 1, sizeof *want);
    if (!n2o || !o2n || !want || arrays_alloc(&a, n) != 0)
        goto nomem;
    for (size_t j = 0; j < n; j++)
        want[j] = set->e[j].addr;
    struct hb_addrset_diff d;
    hb_addrset_diff(up->addr, nold, want, n, o2n, n2o, &d);
    /* New pools first: running out of memory half way changes nothing. */
    for (size_t j = 0; j < n; j++) {
        const struct px_addrset_ent *e = &set->e[j];
        const struct cfg_server *s = &u->servers[e->server];
        a.srv[j] = s;
        a.addr[j] = e->addr;
        if (n2o[j] >= 0)
            continue;
        struct sockaddr_storage ss;
        socklen_t len = to_sockaddr(&e->addr, &ss);
        struct px_pool_opts o;
        a.pools[j] = px_upstream_pool_opts(up, u, s, &o) == 0
                         ? px_pool_new(w->base, (struct sockaddr *)&ss, len, e->label, &o)
                         : NULL;
        a.hs[j] = a.pools[j] ? px_hstate_get(u->name.s, e->label) : NULL;
        a.st[j] = a.hs[j] && w->stats ? px_stats_srv_add(w->stats, u->name.s,
                                                         px_pool_name(a.pools[j]))
                                      : NULL;
        if (!a.pools[j] || !a.hs[j] || (w->stats && !a.st[j])) {
            for (size_t k = 0; k <= j; k++)
                if (n2o[k] < 0) {
                    if (a.st[k])
                        px_stats_srv_drop(w->stats, a.st[k]);
                    px_hstate_put(a.hs[k]);
                    px_pool_del(a.pools[k]);
                }
            arrays_free(&a);
            goto nomem;
        }
        a.load[j] = (struct hb_backend){.weight = s->weight * HB_WEIGHT_SCALE, .healthy = true};
        px_pool_set_stats(a.pools[j], a.st[j]);
    }
    size_t ejected = 0;
    for (size_t j = 0; j < n; j++) {
        if (n2o[j] < 0)
            continue;
        size_t i = (size_t)n2o[j];
        a.pools[j] = up->pools[i];
        a.load[j] = up->load[i];
        a.load[j].weight = a.srv[j]->weight * HB_WEIGHT_SCALE; /* slow start redoes it */
        a.hs[j] = up->hs[i];
        a.out[j] = up->out[i];
        a.st[j] = up->st[i];
        ejected += a.out[j].ejected;
    }
    for (size_t i = 0; i < nold; i++) {
        if (o2n[i] >= 0)
            continue;
        struct drained *dr = calloc(1, sizeof *dr);
        if (!dr) { /* cannot wait for it: its requests fail now */
            if (up->st[i] && w->stats)
                px_stats_srv_drop(w->stats, up->st[i]);
            px_hstate_put(up->hs[i]);
            px_pool_set_stats(up->pools[i], NULL);
            px_pool_drain(up->pools[i]);
            hb_error("worker %d: upstream %s: out of memory draining %s", w->id, u->name.s,
                     px_pool_name(up->pools[i]));
            continue; /* (kept as a leak rather than freed under its exchanges) */
        }
        dr->pool = up->pools[i];
        dr->hs = up->hs[i];
        dr->st = up->st[i];
        px_pool_drain(dr->pool);
        if (dr->st)
            px_ctr_set(&dr->st[PX_SS_EJECTED], 0);
        hb_list_push_back(&up->draining, &dr->link);
    }
    free(up->pools);
    free(up->load);
    free(up->hs);
    free(up->out);
    free(up->st);
    free(up->srv);
    free(up->addr);
    up->pools = a.pools;
    up->load = a.load;
    up->hs = a.hs;
    up->out = a.out;
    up->st = a.st;
    up->srv = a.srv;
    up->addr = a.addr;
    up->npools = n;
    up->n_ejected = ejected;
    up->set_version = set->version;
    hb_debug("worker %d: upstream %s: %zu servers (%zu added, %zu draining)", w->id, u->name.s,
             n, d.added, d.removed);
    px_exchange_servers_moved(w, up);
    (void)px_upstream_servers_changed(w, up); /* logged; picks fall back to round robin */
    free(n2o);
    free(o2n);
    free(want);
    return 0;
nomem:
    free(n2o);
    free(o2n);
    free(want);
    hb_error("worker %d: upstream %s: out of memory; its servers stay as they were", w->id,
             u->name.s);
    return -1;
}

void px_upstreams_refresh(struct px_worker *w)
{
    for (size_t i = 0; i < w->nups; i++) {
        struct px_upstream *up = &w->ups[i];
        if (!up->dynamic)
            continue;
        struct px_addrset *s = px_resolver_get(w->cfg, i);
        if (s && s->version != up->set_version)
            (void)px_upstream_adopt(w, up, s);
        px_addrset_put(s);
    }
}

void px_upstream_reap(struct px_worker *w, struct px_upstream *up)
{
    struct hb_list *it, *tmp;
    hb_list_foreach_safe(it, tmp, &up->draining)
    {
        struct drained *d = hb_container_of(it, struct drained, link);
        if (!px_pool_empty(d->pool) || px_exchange_uses_pool(w, d->pool))
            continue;
        hb_debug("worker %d: upstream %s: %s drained", w->id, up->cfg->name.s,
                 px_pool_name(d->pool));
        if (d->st && w->stats)
            px_stats_srv_drop(w->stats, d->st);
        d->st = NULL;
        drained_free(d);
    }
}

void px_upstream_free_draining(struct px_upstream *up)
{
    if (!up->draining.next)
        return; /* never initialised (a worker that failed early) */
    struct hb_list *it;
    while ((it = hb_list_pop_front(&up->draining)) != NULL) {
        struct drained *d = hb_container_of(it, struct drained, link);
        hb_list_init(&d->link);
        px_pool_set_stats(d->pool, NULL);
        px_pool_del(d->pool);
        px_hstate_put(d->hs);
        free(d);
    }
}

px_ctr *px_upstream_draining_stats(const struct px_upstream *up, const char *pool_name)
{
    struct hb_list *it;
    hb_list_foreach(it, &up->draining)
    {
        struct drained *d = hb_container_of(it, struct drained, link);
        if (px_pool_name(d->pool) == pool_name)
            return d->st;
    }
    return NULL;
}
