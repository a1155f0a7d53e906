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
#include "proxy/backend/backend.h"
#include "proxy/backend/btls.h"
#include "proxy/backend/health_state.h"
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

static void pool_opts_from(struct px_upstream *up, const struct cfg_upstream *u,
                           const struct cfg_server *s, struct px_pool_opts *o)
{
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
    o->group = &up->group;
    o->per_client = u->proxy_protocol != 0;
}

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

/* The server's TLS names (upstreams.*.tls): SNI is tls.sni, else the
 * server's address (none is sent for an IP address); the certificate must
 * carry tls.verify_name, else the SNI name, else the address. */
static struct px_btls_peer *btls_peer(struct px_btls_ctx *x, const struct cfg_upstream *u,
                                      const struct cfg_server *s)
{
    const char *sni = u->tls.sni.s ? u->tls.sni.s : s->address.s;
    const char *vn = u->tls.verify_name.s ? u->tls.verify_name.s : sni;
    return px_btls_peer_new(x, sni, vn);
}

static int init_upstream(struct px_worker *w, struct px_upstream *up, const struct cfg_upstream *u)
{
    up->cfg = u;
    up->group = (struct px_pool_group){.max_waiting = u->max_pending};
    up->pools = calloc(u->n_servers, sizeof *up->pools);
    up->load = calloc(u->n_servers, sizeof *up->load);
    up->hs = calloc(u->n_servers, sizeof *up->hs);
    up->out = calloc(u->n_servers, sizeof *up->out);
    up->st = calloc(u->n_servers, sizeof *up->st);
    enum hb_balance pol = HB_BAL_ROUND_ROBIN; /* cfg validated the name */
    (void)hb_balance_parse(u->balance.s, &pol);
    hb_balancer_init(&up->bal, pol, (uint64_t)w->id + 1);
    if (!up->pools || !up->load || !up->hs || !up->out || !up->st)
        return -1;
    /* One context per upstream per worker; each server's pool holds a
     * reference through its peer (checked at load: px_runtime_load_tls). */
    struct px_btls_ctx *btls = NULL;
    if (u->tls.enabled) {
        struct px_btls_ctx_opts bo;
        px_btls_opts_from(u, &bo);
        char err[512];
        btls = px_btls_ctx_new(&bo, err, sizeof err);
        if (!btls) {
            hb_error("upstream %s: tls: %s", u->name.s, err);
            return -1;
        }
    }
    for (size_t i = 0; i < u->n_servers; i++) {
        const struct cfg_server *s = &u->servers[i];
        struct sockaddr_storage sa;
        socklen_t len;
        if (px_resolve(s->address.s, s->port, &sa, &len) != 0)
            goto fail;
        char name[300];
        px_server_label(s, name, sizeof name);
        struct px_pool_opts o;
        pool_opts_from(up, u, s, &o);
        o.tls = btls ? btls_peer(btls, u, s) : NULL;
        if (btls && !o.tls)
            goto fail;
        up->pools[i] = px_pool_new(w->base, (struct sockaddr *)&sa, len, name, &o);
        if (!up->pools[i])
            goto fail;
        /* Weights are scaled for slow start's ramp (core/health.h); the
         * same factor for all keeps every policy's picks as they were. */
        up->load[i] = (struct hb_backend){.weight = s->weight * HB_WEIGHT_SCALE, .healthy = true};
        up->hs[i] = px_hstate_get(u->name.s, name);
        up->npools++;
        if (!up->hs[i])
            goto fail;
    }
    px_btls_ctx_del(btls); /* the peers hold it */
    /* Workers start at different servers: skip w->id picks. */
    for (int k = 0; k < w->id % (int)up->npools; k++)
        (void)hb_balance_pick(&up->bal, up->load, up->npools);
    return 0;
fail:
    px_btls_ctx_del(btls);
    return -1;
}

/* The heartbeat: /healthz fails when a worker's loop stops turning. */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct px_worker *w = arg;
    px_stats_heartbeat(w->stats, hb_time_now_ns());
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    struct px_worker *w = arg;
    char b[16];
    ssize_t n;
    bool stop = false, drain = false, retire = false;
    while ((n = read(fd, b, sizeof b)) > 0)
        for (ssize_t i = 0; i < n; i++) /* 'd', 'r': proxy/shutdown.h */
            *(b[i] == 'd' ? &drain : b[i] == 'r' ? &retire : &stop) = true;
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
            w->ups[i].st[j] = w->stats->srv[w->stats->srv_at[i] + j].v;
            px_pool_set_stats(w->ups[i].pools[j], w->ups[i].st[j]);
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
    struct px_worker *w = calloc(want, sizeof *w);
    if (!w) {
        hb_error("workers: out of memory");
        return NULL;
    }
    for (uint32_t i = 0; i < want; i++) {
        const struct px_worker *donor = i < nfrom ? &from[i] : NULL;
        if (px_worker_init(&w[i], (int)i, cfg, tls, want, donor) != 0 ||
            px_worker_start(&w[i]) != 0) {
            hb_error("workers: worker %u did not start", i);
            px_worker_free(&w[i]);
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
    for (uint32_t i = 0; i < n; i++)
        px_worker_stop(&w[i]);
    for (uint32_t i = 0; i < n; i++)
        px_worker_free(&w[i]);
    free(w);
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
    }
    free(w->ups);
    if (w->tick)
        event_free(w->tick);
    px_shutdown_free(w);
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
