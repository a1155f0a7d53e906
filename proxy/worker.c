/* proxy/worker.c — worker threads: one event loop, listeners, pools each. */
#include "proxy/worker.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <event2/event.h>

#include "core/log.h"
#include "core/health.h"
#include "proxy/backend/adopt.h"
#include "proxy/backend/backend.h"
#include "proxy/backend/btls.h"
#include "proxy/backend/health_state.h"
#include "proxy/exchange/balance.h"
#include "proxy/backend/resolver.h"
#include "proxy/exchange/exchange.h"
#include "proxy/front/conn.h"
#include "proxy/tls/iobuf.h"
#include "proxy/clients.h"
#include "proxy/upgrade.h"
#include "proxy/listener.h"
#include "proxy/obs/alog.h"
#include "proxy/obs/logbuf.h"
#include "proxy/obs/stats.h"
#include "proxy/shutdown.h"
#include "proxy/exchange/early_hints.h"

void px_server_label(const struct cfg_server *s, char *buf, size_t size)
{
    snprintf(buf, size, strchr(s->address.s, ':') ? "[%s]:%u" : "%s:%u", s->address.s, s->port);
}

void px_btls_opts_from(const struct cfg_upstream *u, struct px_btls_ctx_opts *o)
{
    *o = (struct px_btls_ctx_opts){.verify = u->tls.verify,
                                   .session_reuse = u->tls.session_reuse,
                                   .min_version = u->tls.min_version,
                                   .ca_file = u->tls.ca_file.s,
                                   .cert_file = u->tls.cert.s,
                                   .key_file = u->tls.key.s};
}

static int init_upstream(struct px_worker *w, struct px_upstream *up, const struct cfg_upstream *u)
{
    up->cfg = u;
    up->group = (struct px_pool_group){.max_waiting = u->max_pending};
    hb_list_init(&up->draining);
    enum hb_balance pol = HB_BAL_ROUND_ROBIN; /* cfg validated the name */
    (void)hb_balance_parse(u->balance.s, &pol);
    hb_balancer_init(&up->bal, pol, (uint64_t)w->id + 1);
    /* One TLS context per upstream per worker (up->btls; each server's pool
     * holds a reference through its peer; checked at load:
     * px_runtime_load_tls). Made before the pools, static or DNS. */
    if (u->tls.enabled) {
        struct px_btls_ctx_opts bo;
        px_btls_opts_from(u, &bo);
        char err[512];
        up->btls = px_btls_ctx_new(&bo, err, sizeof err);
        if (!up->btls) {
            hb_error("upstream %s: tls: %s", u->name.s, err);
            return -1;
        }
    }
    for (size_t i = 0; i < u->n_servers; i++)
        up->dynamic |= u->servers[i].is_name;
    if (up->dynamic) {
        /* DNS names: the resolver's current set (px_workers_start waited
         * for the first answers), then each change (proxy/backend/adopt.h). */
        struct px_addrset *set = px_resolver_get(w->cfg, (size_t)(u - w->cfg->upstreams));
        int rc = set ? px_upstream_adopt(w, up, set) : -1;
        px_addrset_put(set);
        if (rc != 0)
            return -1;
    } else {
        up->pools = calloc(u->n_servers, sizeof *up->pools);
        up->load = calloc(u->n_servers, sizeof *up->load);
        up->hs = calloc(u->n_servers, sizeof *up->hs);
        up->out = calloc(u->n_servers, sizeof *up->out);
        up->st = calloc(u->n_servers, sizeof *up->st);
        up->srv = calloc(u->n_servers, sizeof *up->srv);
        up->addr = calloc(u->n_servers, sizeof *up->addr);
        if (!up->pools || !up->load || !up->hs || !up->out || !up->st || !up->srv || !up->addr)
            return -1;
    }
    for (size_t i = 0; !up->dynamic && i < u->n_servers; i++) {
        const struct cfg_server *s = &u->servers[i];
        struct sockaddr_storage sa;
        socklen_t len;
        if (px_resolve(s->address.s, s->port, &sa, &len) != 0) /* an IP literal */
            return -1;
        char name[300];
        px_server_label(s, name, sizeof name);
        struct px_pool_opts o;
        if (px_upstream_pool_opts(up, u, s, &o) != 0)
            return -1;
        up->pools[i] = px_pool_new(w->base, (struct sockaddr *)&sa, len, name, &o);
        if (!up->pools[i])
            return -1;
        /* Weights are scaled for slow start's ramp (core/health.h); the
         * same factor for all keeps every policy's picks as they were. */
        up->load[i] = (struct hb_backend){.weight = s->weight * HB_WEIGHT_SCALE, .healthy = true};
        up->srv[i] = s;
        up->hs[i] = px_hstate_get(u->name.s, name);
        up->npools++;
        if (!up->hs[i])
            return -1;
    }
    if (!up->dynamic && px_upstream_servers_changed(w, up) != 0)
        return -1;
    /* Workers start at different servers: skip w->id picks. */
    for (int k = 0; up->npools && k < w->id % (int)up->npools; k++)
        (void)hb_balance_pick(&up->bal, up->load, up->npools, NULL);
    return 0;
}

/* The heartbeat: /healthz fails when a worker's loop stops turning. */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct px_worker *w = arg;
    px_stats_heartbeat(w->stats, hb_time_now_ns());
    for (size_t i = 0; i < w->nups; i++)
        if (!hb_list_empty(&w->ups[i].draining))
            px_upstream_reap(w, &w->ups[i]);
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    struct px_worker *w = arg;
    char b[16];
    ssize_t n;
    bool stop = false, drain = false, retire = false, addrs = false;
    while ((n = read(fd, b, sizeof b)) > 0)
        for (ssize_t i = 0; i < n; i++) /* 'd', 'r': proxy/shutdown.h; 'a': resolver.h */
            *(b[i] == 'd'   ? &drain
              : b[i] == 'r' ? &retire
              : b[i] == 'a' ? &addrs
                            : &stop) = true;
    if (addrs && !stop)
        px_upstreams_refresh(w); /* a DNS answer changed an upstream's set */
    if (retire || drain)
        px_shutdown_begin(w, drain);
    if (stop)
        event_base_loopbreak(w->base);
}

/* A dup() of from's listening socket for lc's address and TLS mode; at
 * start, the socket a binary upgrade handed over (proxy/upgrade.h); or -1. */
static int inherit_fd(const struct px_worker *from, const struct cfg_listener *lc, int id)
{
    if (!from) {
        struct sockaddr_storage sa;
        socklen_t len;
        if (px_resolve(lc->address.s, lc->port, &sa, &len) != 0)
            return -1;
        return px_upgrade_take((struct sockaddr *)&sa, id);
    }
    for (size_t i = 0; from && i < from->nlisteners; i++) {
        const struct px_listener *l = &from->listeners[i];
        if (l->fd >= 0 && l->cfg->port == lc->port && l->cfg->tls == lc->tls &&
            strcmp(l->cfg->address.s, lc->address.s) == 0)
            return dup(l->fd);
    }
    return -1;
}

static int init_listeners(struct px_worker *w, struct px_tls **tls, uint32_t nworkers,
                          const struct px_worker *from)
{
    const struct cfg *cfg = w->cfg;
    w->listeners = calloc(cfg->n_listeners, sizeof *w->listeners);
    if (!w->listeners)
        return -1;
    for (size_t i = 0; i < cfg->n_listeners; i++) {
        struct px_listener *l = &w->listeners[i];
        l->w = w;
        l->cfg = &cfg->listeners[i];
        l->tls = tls[i];
        l->fd = -1;
        px_listener_label(l->cfg, l->label, sizeof l->label);
        l->max_conns = l->cfg->max_connections / nworkers; /* docs/configuration.md */
        if (l->max_conns == 0)
            l->max_conns = 1;
        w->nlisteners++;
        l->fd = inherit_fd(from, l->cfg, w->id);
        if (l->fd < 0)
            l->fd = px_listen_socket(l->cfg);
        if (l->fd < 0 || px_listener_start(l) != 0)
            return -1;
    }
    return 0;
}

int px_worker_init(struct px_worker *w, int id, const struct cfg *cfg, struct px_tls **tls,
                   uint32_t nworkers, const struct px_worker *from)
{
    memset(w, 0, sizeof *w);
    w->id = id;
    w->cfg = cfg;
    w->wake[0] = w->wake[1] = -1;
    hb_list_init(&w->conns);
    hb_list_init(&w->ex_cache);
    w->backend = &px_backend_pool_ops;
    /* Request ids: a random key per worker (request_id.h). Without
     * randomness (never seen on Linux ≥ 3.17) ids stay unique per worker
     * but repeat across restarts: time and id make the key then. */
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != (ssize_t)sizeof seed)
        seed = (uint64_t)hb_time_now_ns() ^ ((uint64_t)id << 48);
    px_rid_init(&w->rid, seed);
    w->clients = px_clients_process();
    w->max_conns = cfg->limits.max_connections / (nworkers ? nworkers : 1);
    if (w->max_conns == 0)
        w->max_conns = 1;
    w->base = event_base_new();
    if (!w->base || pipe2(w->wake, O_NONBLOCK | O_CLOEXEC) != 0)
        return -1;
    w->wake_ev = event_new(w->base, w->wake[0], EV_READ | EV_PERSIST, on_wake, w);
    if (!w->wake_ev || event_add(w->wake_ev, NULL) != 0)
        return -1;
    if (px_resolver_needed(cfg)) { /* before the first sets are read: no change is missed */
        px_resolver_subscribe(w->wake[1]);
        w->resolver_sub = true;
    }
    bool alog_failed;
    w->alog = px_alog_new(cfg, &alog_failed);
    w->ups = calloc(cfg->n_upstreams, sizeof *w->ups);
    if (!w->ups || alog_failed)
        return -1;
    for (size_t i = 0; i < cfg->n_upstreams; i++) {
        w->nups++;
        if (init_upstream(w, &w->ups[i], &cfg->upstreams[i]) != 0)
            return -1;
    }
    if (init_listeners(w, tls, nworkers ? nworkers : 1, from) != 0)
        return -1;
    /* Counters for every listener and server; pools bump their own. */
    w->stats = px_stats_new(w);
    w->tick = event_new(w->base, -1, EV_PERSIST, on_tick, w);
    struct timeval tv = {.tv_sec = PX_WORKER_TICK_MS / 1000,
                         .tv_usec = (PX_WORKER_TICK_MS % 1000) * 1000};
    if (!w->stats || !w->tick || event_add(w->tick, &tv) != 0)
        return -1;
    for (size_t i = 0; i < w->nups; i++)
        for (size_t j = 0; j < w->ups[i].npools; j++) {
            struct px_upstream *up = &w->ups[i];
            up->st[j] = up->dynamic ? px_stats_srv_add(w->stats, up->cfg->name.s,
                                                       px_pool_name(up->pools[j]))
                                    : w->stats->srv[w->stats->srv_at[i] + j].v;
            if (!up->st[j])
                return -1;
            px_pool_set_stats(up->pools[j], up->st[j]);
        }
    return 0;
}

static void *run(void *arg)
{
    struct px_worker *w = arg;
    px_logw_thread_init(); /* the first access log line finds its ring made */
    event_base_dispatch(w->base);
    px_iobuf_trim(); /* this thread's cache dies with it */
    return NULL;
}

int px_worker_start(struct px_worker *w)
{
    px_stats_register(w->stats);
    return pthread_create(&w->thread, NULL, run, w) == 0 ? 0 : -1;
}

uint32_t px_worker_count(const struct cfg *cfg)
{
    if (cfg->workers)
        return cfg->workers;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (uint32_t)n : 1;
}

struct px_worker *px_workers_start(const struct cfg *cfg, struct px_tls **tls,
                                   const struct px_worker *from, uint32_t nfrom, uint32_t *n)
{
    uint32_t want = px_worker_count(cfg), started = 0;
    /* Servers given as DNS names: their first answers, before any worker
     * (proxy/backend/resolver.h); a name that must resolve and does not
     * stops here, at its file:line:column. */
    struct cfg_errors errs;
    cfg_errors_init(&errs);
    if (px_resolver_add((struct cfg *)cfg, &errs) != 0) {
        char line[1024];
        for (size_t i = 0; i < errs.n; i++)
            hb_error("%s", cfg_error_format(&errs.v[i], line, sizeof line));
        cfg_errors_free(&errs);
        px_resolver_drop(cfg);
        return NULL;
    }
    cfg_errors_free(&errs);
    struct px_worker *w = calloc(want, sizeof *w);
    if (!w) {
        hb_error("workers: out of memory");
        px_resolver_drop(cfg);
        return NULL;
    }
    for (uint32_t i = 0; i < want; i++) {
        const struct px_worker *donor = i < nfrom ? &from[i] : NULL;
        if (px_worker_init(&w[i], (int)i, cfg, tls, want, donor) != 0 ||
            px_worker_start(&w[i]) != 0) {
            hb_error("workers: worker %u did not start", i);
            px_worker_free(&w[i]);
            if (started == 0)
                px_resolver_drop(cfg);
            px_workers_del(w, started);
            return NULL;
        }
        started++;
    }
    *n = started;
    return w;
}

void px_workers_del(struct px_worker *w, uint32_t n)
{
    const struct cfg *cfg = n ? w[0].cfg : NULL;
    for (uint32_t i = 0; i < n; i++)
        px_worker_stop(&w[i]);
    for (uint32_t i = 0; i < n; i++)
        px_worker_free(&w[i]);
    free(w);
    if (cfg)
        px_resolver_drop(cfg); /* the generation's names (px_workers_start added them) */
}

void px_worker_stop(struct px_worker *w)
{
    ssize_t r = write(w->wake[1], "x", 1);
    (void)r;
    pthread_join(w->thread, NULL);
    px_stats_stopped(w->stats);
}

void px_worker_free(struct px_worker *w)
{
    struct hb_list *it, *tmp;
    hb_list_foreach_safe(it, tmp, &w->conns)
    {
        px_fconn_close(hb_container_of(it, struct px_fconn, link));
    }
    px_exchange_cache_free(w);
    for (size_t i = 0; i < w->nups; i++) /* their exchanges are gone */
        px_upstream_free_draining(&w->ups[i]);
    px_eh_worker_free(w);
    px_alog_del(w->alog); /* after the connections: their last records used it */
    w->alog = NULL;
    /* The requests ended above are counted; the counters are folded while
     * the names they are filed under (listener labels, pool names) live. */
    for (size_t i = 0; i < w->nups; i++)
        for (size_t j = 0; j < w->ups[i].npools; j++) {
            px_pool_set_stats(w->ups[i].pools[j], NULL);
            if (w->ups[i].st)
                w->ups[i].st[j] = NULL;
        }
    px_stats_free(w->stats);
    w->stats = NULL;
    for (size_t i = 0; i < w->nlisteners; i++)
        px_listener_free(&w->listeners[i]);
    free(w->listeners);
    for (size_t i = 0; i < w->nups; i++) {
        for (size_t j = 0; j < w->ups[i].npools; j++)
            px_pool_del(w->ups[i].pools[j]);
        free(w->ups[i].pools);
        free(w->ups[i].load);
        for (size_t j = 0; w->ups[i].hs && j < w->ups[i].npools; j++)
            px_hstate_put(w->ups[i].hs[j]);
        free(w->ups[i].hs);
        free(w->ups[i].out);
        free(w->ups[i].st);
        px_upstream_balance_free(&w->ups[i]);
        free(w->ups[i].srv);
        free(w->ups[i].addr);
        px_btls_ctx_del(w->ups[i].btls); /* after its pools: their peers hold it too */
    }
    free(w->ups);
    if (w->tick)
        event_free(w->tick);
    px_shutdown_free(w);
    if (w->resolver_sub)
        px_resolver_unsubscribe(w->wake[1]);
    w->resolver_sub = false;
    if (w->wake_ev)
        event_free(w->wake_ev);
    if (w->wake[0] >= 0)
        close(w->wake[0]);
    if (w->wake[1] >= 0)
        close(w->wake[1]);
    if (w->base)
        event_base_free(w->base);
    px_iobuf_trim(); /* buffers of the connections closed above */
}
