/* proxy/obs/stats.c — per-worker counter blocks, the registry of live ones,
 * the accumulator of freed ones, snapshots and process state (stats.h). */
#include "proxy/obs/stats.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/cfg.h"
#include "proxy/backend/pool.h"
#include "proxy/worker.h"

#define CACHE_LINE 64

/* 1 ms … 60 s: an edge proxy's answers range from a cached 404 in well
 * under a millisecond to a long download (docs/observability.md). */
const double px_st_bounds[PX_ST_NBOUNDS] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                            0.5,   1,      2.5,   5,    10,    30,    60};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct hb_list live = {&live, &live}; /* struct px_stats, newest first */
static struct px_snap acc;                   /* what freed blocks counted (counters only) */
static struct cfg *cur_cfg;
static unsigned cur_gen;
static uint64_t reloads_ok, reloads_failed;
static atomic_bool ready;
static double start_time;

/* ---- labels ---------------------------------------------------------------- */

const char *px_st_proto_name(enum px_st_proto p)
{
    static const char *const n[PX_ST_NPROTO] = {"h2", "h2c", "http/1.1", "http/1.0"};
    return (unsigned)p < PX_ST_NPROTO ? n[p] : "?";
}

const char *px_st_cproto_name(enum px_st_cproto p)
{
    static const char *const n[PX_ST_NCPROTO] = {"pending", "h2", "h2c", "http/1"};
    return (unsigned)p < PX_ST_NCPROTO ? n[p] : "?";
}

const char *px_st_method_name(enum px_st_method m)
{
    static const char *const n[PX_ST_NMETHOD] = {"GET",     "HEAD",  "POST",    "PUT",  "DELETE",
                                                 "OPTIONS", "PATCH", "CONNECT", "other"};
    return (unsigned)m < PX_ST_NMETHOD ? n[m] : "other";
}

const char *px_st_status_name(unsigned cls)
{
    static const char *const n[PX_ST_NSTATUS] = {"none", "1xx", "2xx", "3xx", "4xx", "5xx"};
    return cls < PX_ST_NSTATUS ? n[cls] : "none";
}

const char *px_st_tls_version_name(unsigned v)
{
    static const char *const n[PX_ST_NTLSVER] = {"TLSv1.2", "TLSv1.3", "other"};
    return v < PX_ST_NTLSVER ? n[v] : "other";
}

const char *px_st_tls_fail_name(enum px_st_tls_fail f)
{
    static const char *const n[PX_ST_NTLSFAIL] = {"timeout", "closed", "protocol", "alpn"};
    return (unsigned)f < PX_ST_NTLSFAIL ? n[f] : "?";
}

enum px_st_method px_st_method_of(const char *m, size_t len)
{
    /* By length and first byte, then one compare: once per request. */
#define IS(lit) (memcmp(m, lit, sizeof lit - 1) == 0)
    switch (len) {
    case 3:
        return IS("GET") ? PX_ST_GET : IS("PUT") ? PX_ST_PUT : PX_ST_OTHER;
    case 4:
        return IS("HEAD") ? PX_ST_HEAD : IS("POST") ? PX_ST_POST : PX_ST_OTHER;
    case 5:
        return IS("PATCH") ? PX_ST_PATCH : PX_ST_OTHER;
    case 6:
        return IS("DELETE") ? PX_ST_DELETE : PX_ST_OTHER;
    case 7:
        return IS("OPTIONS") ? PX_ST_OPTIONS : IS("CONNECT") ? PX_ST_CONNECT : PX_ST_OTHER;
    default:
        return PX_ST_OTHER;
    }
#undef IS
}

unsigned px_st_bucket(hb_ns_t ns)
{
    /* Bounds in ns, compared as integers: no floating point per request. */
    static const hb_ns_t b[PX_ST_NBOUNDS] = {
        1000000,     2500000,     5000000,      10000000,     25000000,
        50000000,    100000000,   250000000,    500000000,    1000000000,
        2500000000,  5000000000,  10000000000,  30000000000,  60000000000};
    unsigned i = 0;
    while (i < PX_ST_NBOUNDS && ns > b[i])
        i++;
    return i;
}

void px_st_observe(px_ctr *h, hb_ns_t ns)
{
    px_ctr_add(&h[px_st_bucket(ns)], 1);
    px_ctr_add(&h[PX_ST_NBUCKET], ns);
    px_ctr_add(&h[PX_ST_NBUCKET + 1], 1);
}

/* ---- blocks ---------------------------------------------------------------- */

struct px_stats *px_stats_new(const struct px_worker *w)
{
    struct px_stats *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->worker = w->id;
    hb_list_init(&s->link);
    hb_list_init(&s->dyn);
    atomic_init(&s->heartbeat, (int64_t)hb_time_now_ns());
    atomic_init(&s->stopped, false);
    s->nlis = w->nlisteners;
    s->nups = w->nups;
    s->srv_at = calloc(w->nups + 1, sizeof *s->srv_at);
    for (size_t i = 0; s->srv_at && i < w->nups; i++) {
        s->srv_at[i] = s->nsrv;
        /* An upstream with DNS names has its groups added one by one
         * (px_stats_srv_add), as its addresses come and go. */
        s->nsrv += w->ups[i].dynamic ? 0 : w->ups[i].npools;
    }
    s->lis = calloc(s->nlis + 1, sizeof *s->lis);
    s->srv = calloc(s->nsrv + 1, sizeof *s->srv);
    size_t n = s->nlis * PX_SL_N + s->nsrv * PX_SS_N;
    size_t bytes = (n * sizeof(px_ctr) + CACHE_LINE - 1) / CACHE_LINE * CACHE_LINE;
    /* Cache-line aligned and padded: no line is shared with another
     * worker's block or with anything else. */
    s->mem = aligned_alloc(CACHE_LINE, bytes ? bytes : CACHE_LINE);
    if (!s->srv_at || !s->lis || !s->srv || !s->mem) {
        free(s->srv_at);
        free(s->lis);
        free(s->srv);
        free(s->mem);
        free(s);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        atomic_init(&s->mem[i], 0);
    px_ctr *p = s->mem;
    for (size_t i = 0; i < s->nlis; i++, p += PX_SL_N)
        s->lis[i] = (struct px_stats_group){w->listeners[i].label, NULL, p};
    for (size_t i = 0; i < w->nups; i++)
        for (size_t j = 0; !w->ups[i].dynamic && j < w->ups[i].npools; j++, p += PX_SS_N)
            s->srv[s->srv_at[i] + j] = (struct px_stats_group){
                w->ups[i].cfg->name.s, px_pool_name(w->ups[i].pools[j]), p};
    return s;
}

/* A server group added after the block was made (px_stats_srv_add). */
struct dyn_group {
    struct hb_list link; /* s->dyn */
    struct px_stats_group g;
};

static int add_live(struct px_snap_group **gs, size_t *n, const struct px_stats_group *src,
                    size_t nv, size_t count);

px_ctr *px_stats_srv_add(struct px_stats *s, const char *upstream, const char *server)
{
    struct dyn_group *d = calloc(1, sizeof *d);
    size_t bytes = (PX_SS_N * sizeof(px_ctr) + CACHE_LINE - 1) / CACHE_LINE * CACHE_LINE;
    px_ctr *v = d ? aligned_alloc(CACHE_LINE, bytes) : NULL;
    if (!v) {
        free(d);
        return NULL;
    }
    for (size_t i = 0; i < PX_SS_N; i++)
        atomic_init(&v[i], 0);
    d->g = (struct px_stats_group){upstream, server, v};
    pthread_mutex_lock(&mu);
    hb_list_push_back(&s->dyn, &d->link);
    pthread_mutex_unlock(&mu);
    return v;
}

void px_stats_srv_drop(struct px_stats *s, px_ctr *v)
{
    pthread_mutex_lock(&mu);
    bool registered = hb_list_linked(&s->link);
    struct hb_list *it;
    hb_list_foreach(it, &s->dyn)
    {
        struct dyn_group *d = hb_container_of(it, struct dyn_group, link);
        if (d->g.v != v)
            continue;
        if (registered)
            (void)add_live(&acc.srv, &acc.nsrv, &d->g, PX_SS_N, PX_SS_NCOUNTERS);
        hb_list_remove(&d->link);
        pthread_mutex_unlock(&mu);
        free(d->g.v);
        free(d);
        return;
    }
    pthread_mutex_unlock(&mu); /* not a group of s->dyn: a caller's bug, nothing done */
}

void px_stats_register(struct px_stats *s)
{
    pthread_mutex_lock(&mu);
    hb_list_push_front(&live, &s->link);
    pthread_mutex_unlock(&mu);
}

void px_stats_stopped(struct px_stats *s)
{
    if (s)
        atomic_store(&s->stopped, true);
}

/* ---- snapshots --------------------------------------------------------------- */

static bool same(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* The group (name, server) of *gs, appended when missing. NULL when out of
 * memory. */
static struct px_snap_group *find_or_add(struct px_snap_group **gs, size_t *n, const char *name,
                                         const char *server, size_t nv)
{
    for (size_t i = 0; i < *n; i++)
        if (same((*gs)[i].name, name) && same((*gs)[i].server, server))
            return &(*gs)[i];
    struct px_snap_group *g = realloc(*gs, (*n + 1) * sizeof **gs);
    if (!g)
        return NULL;
    *gs = g;
    g = &g[*n];
    g->name = strdup(name);
    g->server = server ? strdup(server) : NULL;
    g->v = calloc(nv, sizeof *g->v);
    if (!g->name || (server && !g->server) || !g->v) {
        free(g->name);
        free(g->server);
        free(g->v);
        return NULL;
    }
    (*n)++;
    return g;
}

/* Adds the first count values of a live group into *gs. */
static int add_live(struct px_snap_group **gs, size_t *n, const struct px_stats_group *src,
                    size_t nv, size_t count)
{
    struct px_snap_group *g = find_or_add(gs, n, src->name, src->server, nv);
    if (!g)
        return -1;
    for (size_t i = 0; i < count; i++)
        g->v[i] += px_ctr_get(&src->v[i]);
    return 0;
}

static int add_snap(struct px_snap_group **gs, size_t *n, const struct px_snap_group *src,
                    size_t nv)
{
    struct px_snap_group *g = find_or_add(gs, n, src->name, src->server, nv);
    if (!g)
        return -1;
    for (size_t i = 0; i < nv; i++)
        g->v[i] += src->v[i];
    return 0;
}

static void free_groups(struct px_snap_group *g, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(g[i].name);
        free(g[i].server);
        free(g[i].v);
    }
    free(g);
}

void px_snap_free(struct px_snap *s)
{
    free_groups(s->lis, s->nlis);
    free_groups(s->srv, s->nsrv);
    memset(s, 0, sizeof *s);
}

void px_stats_free(struct px_stats *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&mu);
    if (hb_list_linked(&s->link)) {
        /* Counters only: a freed worker has no open connection. Out of
         * memory loses this block's counts (the series would restart). */
        for (size_t i = 0; i < s->nlis; i++)
            (void)add_live(&acc.lis, &acc.nlis, &s->lis[i], PX_SL_N, PX_SL_NCOUNTERS);
        for (size_t i = 0; i < s->nsrv; i++)
            (void)add_live(&acc.srv, &acc.nsrv, &s->srv[i], PX_SS_N, PX_SS_NCOUNTERS);
        struct hb_list *it;
        hb_list_foreach(it, &s->dyn)
            (void)add_live(&acc.srv, &acc.nsrv, &hb_container_of(it, struct dyn_group, link)->g,
                           PX_SS_N, PX_SS_NCOUNTERS);
        hb_list_remove(&s->link);
    }
    struct hb_list *it;
    while ((it = hb_list_pop_front(&s->dyn)) != NULL) {
        struct dyn_group *d = hb_container_of(it, struct dyn_group, link);
        free(d->g.v);
        free(d);
    }
    pthread_mutex_unlock(&mu);
    free(s->srv_at);
    free(s->lis);
    free(s->srv);
    free(s->mem);
    free(s);
}

int px_stats_snapshot(struct px_snap *out, hb_ns_t now, hb_ns_t stale_ns)
{
    memset(out, 0, sizeof *out);
    int rc = 0;
    pthread_mutex_lock(&mu);
    /* Newest blocks first (the running generation's), so the output
     * follows the running configuration's order. */
    struct hb_list *it;
    hb_list_foreach(it, &live)
        {
            struct px_stats *s = hb_container_of(it, struct px_stats, link);
            for (size_t i = 0; rc == 0 && i < s->nlis; i++)
                rc = add_live(&out->lis, &out->nlis, &s->lis[i], PX_SL_N, PX_SL_N);
            for (size_t i = 0; rc == 0 && i < s->nsrv; i++)
                rc = add_live(&out->srv, &out->nsrv, &s->srv[i], PX_SS_N, PX_SS_N);
            struct hb_list *d;
            hb_list_foreach(d, &s->dyn)
                if (rc == 0)
                    rc = add_live(&out->srv, &out->nsrv,
                                  &hb_container_of(d, struct dyn_group, link)->g, PX_SS_N,
                                  PX_SS_N);
            if (atomic_load(&s->stopped))
                continue;
            out->workers++;
            int64_t hb = atomic_load_explicit(&s->heartbeat, memory_order_relaxed);
            hb_ns_t age = (int64_t)now > hb ? now - (hb_ns_t)hb : 0;
            if (age > out->oldest_heartbeat)
                out->oldest_heartbeat = age;
            if (age > stale_ns)
                out->stale++;
        }
    for (size_t i = 0; rc == 0 && i < acc.nlis; i++)
        rc = add_snap(&out->lis, &out->nlis, &acc.lis[i], PX_SL_N);
    for (size_t i = 0; rc == 0 && i < acc.nsrv; i++)
        rc = add_snap(&out->srv, &out->nsrv, &acc.srv[i], PX_SS_N);
    pthread_mutex_unlock(&mu);
    if (rc != 0)
        px_snap_free(out);
    return rc;
}

/* ---- process state ------------------------------------------------------------ */

void px_obs_set_config(struct cfg *cfg, unsigned gen)
{
    pthread_mutex_lock(&mu);
    struct cfg *old = cur_cfg;
    cur_cfg = cfg ? cfg_ref(cfg) : NULL;
    cur_gen = gen;
    if (start_time == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        start_time = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    }
    pthread_mutex_unlock(&mu);
    cfg_unref(old);
}

struct cfg *px_obs_config(unsigned *gen)
{
    pthread_mutex_lock(&mu);
    struct cfg *c = cur_cfg ? cfg_ref(cur_cfg) : NULL;
    if (gen)
        *gen = cur_gen;
    pthread_mutex_unlock(&mu);
    return c;
}

void px_obs_reload(bool ok)
{
    pthread_mutex_lock(&mu);
    if (ok)
        reloads_ok++;
    else
        reloads_failed++;
    pthread_mutex_unlock(&mu);
}

void px_obs_reloads(uint64_t *ok, uint64_t *failed)
{
    pthread_mutex_lock(&mu);
    *ok = reloads_ok;
    *failed = reloads_failed;
    pthread_mutex_unlock(&mu);
}

void px_obs_set_ready(bool r)
{
    atomic_store(&ready, r);
}

bool px_obs_ready(void)
{
    return atomic_load(&ready);
}

double px_obs_start_time(void)
{
    pthread_mutex_lock(&mu);
    double t = start_time;
    pthread_mutex_unlock(&mu);
    return t;
}

void px_obs_reset(void)
{
    pthread_mutex_lock(&mu);
    free_groups(acc.lis, acc.nlis);
    free_groups(acc.srv, acc.nsrv);
    memset(&acc, 0, sizeof acc);
    struct cfg *old = cur_cfg;
    cur_cfg = NULL;
    cur_gen = 0;
    reloads_ok = reloads_failed = 0;
    start_time = 0;
    pthread_mutex_unlock(&mu);
    atomic_store(&ready, false);
    cfg_unref(old);
}
