/* proxy/backend/resolver.c — the resolver thread: c-ares on its own event
 * loop, the published address sets (resolver.h). */
#include "proxy/backend/resolver.h"

#include <arpa/inet.h>
#include <ares.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "config/cfg.h"
#include "core/list.h"
#include "core/log.h"
#include "proxy/worker.h"

#define MAX_SOCKS       32 /* c-ares sockets of one generation (one per nameserver and family) */
#define MAX_SUBSCRIBERS 4096
#define LOG_ADDRS       8 /* addresses named in one change line; more are counted */

struct gen;

/* One server given as a DNS name, in one generation. Thread only, except
 * the view fields, read by px_resolver_read under R.mu. */
struct target {
    struct gen *g;
    size_t up, srv;
    const struct cfg_server *s;
    struct event *timer;
    bool answered;          /* the first resolution finished (either way) */
    bool have;              /* a good answer exists (addrs, n) */
    bool failing;           /* the last resolution failed */
    struct hb_addr *addrs;  /* the last good answer, normalized */
    size_t n;
    uint64_t resolutions, failures, changes; /* under R.mu */
    char error[64];                          /* under R.mu */
};

/* One configuration generation with names. */
struct gen {
    struct hb_list link; /* R.gens (under R.mu) */
    struct cfg *cfg;     /* a reference */
    unsigned adds;       /* px_resolver_add calls minus drops (main thread) */
    ares_channel ch;
    bool ch_ok;
    struct event *ares_timer;
    struct {
        ares_socket_t fd;
        struct event *ev;
    } socks[MAX_SOCKS];
    struct target *t;
    size_t nt;
    struct px_addrset **pub; /* per upstream; NULL: no names (under R.mu) */
    size_t pending;          /* targets not answered yet (under R.mu) */
    bool started;            /* the thread built its events (under R.mu) */
};

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* a generation's pending reached 0 */
    struct hb_list gens;
    int subs[MAX_SUBSCRIBERS];
    size_t nsubs;
    bool running;
    pthread_t thread;
    int pipe[2];
    struct event_base *base;
    struct event *ev_pipe;
} R = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, {&R.gens, &R.gens},
       {0}, 0, false, 0, {-1, -1}, NULL, NULL};

struct msg {
    char op; /* 'a' add, 'd' drop, 'q' quit */
    struct gen *g;
};

bool px_resolver_needed(const struct cfg *cfg)
{
    for (size_t i = 0; i < cfg->n_upstreams; i++)
        for (size_t j = 0; j < cfg->upstreams[i].n_servers; j++)
            if (cfg->upstreams[i].servers[j].is_name)
                return true;
    return false;
}

/* ---- sets ------------------------------------------------------------------ */

void px_addrset_put(struct px_addrset *s)
{
    if (s && atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) == 1)
        free(s);
}

static int ent_cmp(const void *a, const void *b)
{
    return hb_addr_cmp(&((const struct px_addrset_ent *)a)->addr,
                       &((const struct px_addrset_ent *)b)->addr);
}

static bool literal(const struct cfg_server *s, struct hb_addr *a)
{
    memset(a, 0, sizeof *a);
    a->port = s->port;
    if (inet_pton(AF_INET, s->address.s, a->b) == 1) {
        a->len = 4;
        return true;
    }
    if (inet_pton(AF_INET6, s->address.s, a->b) == 1) {
        a->len = 16;
        return true;
    }
    return false;
}

/* Builds upstream up's set from its literals and its names' last answers;
 * publishes it when it differs from the current one. Returns whether it
 * published. Thread. */
static bool publish(struct gen *g, size_t up)
{
    const struct cfg_upstream *u = &g->cfg->upstreams[up];
    size_t cap = 0;
    for (size_t j = 0; j < u->n_servers; j++)
        cap += u->servers[j].is_name ? g->cfg->resolver.max_addresses : 1;
    struct px_addrset *s = calloc(1, sizeof *s + (cap ? cap : 1) * sizeof s->e[0]);
    if (!s) {
        hb_error("dns: upstream %s: out of memory; its servers stay as they were", u->name.s);
        return false;
    }
    atomic_init(&s->refs, 1);
    s->cfg = g->cfg;
    s->upstream = up;
    for (size_t j = 0; j < u->n_servers; j++) {
        const struct cfg_server *cs = &u->servers[j];
        struct hb_addr one;
        const struct hb_addr *v = &one;
        size_t nv = 0;
        if (!cs->is_name) {
            nv = literal(cs, &one) ? 1 : 0;
        } else {
            for (size_t k = 0; k < g->nt; k++)
                if (g->t[k].up == up && g->t[k].srv == j) {
                    v = g->t[k].addrs;
                    nv = g->t[k].n;
                }
        }
        for (size_t k = 0; k < nv; k++) {
            bool dup = false; /* two servers with one address: the first one's options */
            for (size_t m = 0; m < s->n && !dup; m++)
                dup = hb_addr_cmp(&s->e[m].addr, &v[k]) == 0;
            if (dup || s->n == cap)
                continue;
            struct px_addrset_ent *e = &s->e[s->n++];
            e->addr = v[k];
            e->server = (uint32_t)j;
            if (cs->is_name)
                hb_addr_format(&v[k], e->label, sizeof e->label);
            else
                px_server_label(cs, e->label, sizeof e->label);
        }
    }
    qsort(s->e, s->n, sizeof s->e[0], ent_cmp);
    pthread_mutex_lock(&R.mu);
    struct px_addrset *old = g->pub[up];
    bool same = old && old->n == s->n;
    for (size_t i = 0; same && i < s->n; i++)
        same = hb_addr_cmp(&old->e[i].addr, &s->e[i].addr) == 0 &&
               old->e[i].server == s->e[i].server;
    if (same) {
        pthread_mutex_unlock(&R.mu);
        free(s);
        return false;
    }
    s->version = old ? old->version + 1 : 1;
    g->pub[up] = s;
    for (size_t i = 0; i < R.nsubs; i++) {
        ssize_t w = write(R.subs[i], "a", 1); /* EAGAIN: a wake is pending anyway */
        (void)w;
    }
    pthread_mutex_unlock(&R.mu);
    px_addrset_put(old);
    return true;
}

/* ---- c-ares on the loop ------------------------------------------------------ */

static void arm_ares_timer(struct gen *g)
{
    struct timeval tv, *t = ares_timeout(g->ch, NULL, &tv);
    if (t)
        evtimer_add(g->ares_timer, t);
    else
        evtimer_del(g->ares_timer);
}

static void on_sock(evutil_socket_t fd, short what, void *arg)
{
    struct gen *g = arg;
    ares_process_fd(g->ch, (what & EV_READ) ? fd : ARES_SOCKET_BAD,
                    (what & EV_WRITE) ? fd : ARES_SOCKET_BAD);
    arm_ares_timer(g);
}

static void on_ares_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct gen *g = arg;
    ares_process_fd(g->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    arm_ares_timer(g);
}

/* c-ares says which of its sockets to watch. */
static void sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
    struct gen *g = data;
    size_t i, free_slot = MAX_SOCKS;
    for (i = 0; i < MAX_SOCKS; i++) {
        if (g->socks[i].ev && g->socks[i].fd == fd)
            break;
        if (!g->socks[i].ev && free_slot == MAX_SOCKS)
            free_slot = i;
    }
    if (i < MAX_SOCKS) {
        event_free(g->socks[i].ev);
        g->socks[i].ev = NULL;
    } else {
        i = free_slot;
    }
    if (!readable && !writable)
        return;
    if (i == MAX_SOCKS) {
        hb_error("dns: more than %d resolver sockets; a query will time out", MAX_SOCKS);
        return;
    }
    short what = (short)(EV_PERSIST | (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0));
    g->socks[i].fd = fd;
    g->socks[i].ev = event_new(R.base, fd, what, on_sock, g);
    if (!g->socks[i].ev || event_add(g->socks[i].ev, NULL) != 0)
        hb_error("dns: out of memory watching a resolver socket; a query will time out");
}

static void schedule(struct target *t, uint32_t ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(t->timer, &tv);
}

static void target_label(const struct target *t, char *buf, size_t size)
{
    px_server_label(t->s, buf, size);
}

/* One line per change of a name's answer: what came and what went. */
static void log_change(const struct target *t, const struct hb_addr *v, size_t n)
{
    long *o2n = calloc(t->n + 1, sizeof *o2n), *n2o = calloc(n + 1, sizeof *n2o);
    char line[1024], a[HB_ADDR_STRLEN], name[300];
    target_label(t, name, sizeof name);
    struct hb_addrset_diff d;
    if (!o2n || !n2o) {
        free(o2n);
        free(n2o);
        hb_info("dns: upstream %s server %s: now %zu addresses",
                t->g->cfg->upstreams[t->up].name.s, name, n);
        return;
    }
    hb_addrset_diff(t->addrs, t->n, v, n, o2n, n2o, &d);
    size_t o = 0, named = 0;
    line[0] = 0;
    for (size_t j = 0; j < n && o < sizeof line; j++)
        if (n2o[j] < 0 && named++ < LOG_ADDRS)
            o += (size_t)snprintf(line + o, sizeof line - o, " +%s",
                                  hb_addr_format(&v[j], a, sizeof a));
    for (size_t i = 0; i < t->n && o < sizeof line; i++)
        if (o2n[i] < 0 && named++ < LOG_ADDRS)
            o += (size_t)snprintf(line + o, sizeof line - o, " -%s",
                                  hb_addr_format(&t->addrs[i], a, sizeof a));
    if (named > LOG_ADDRS && o < sizeof line)
        snprintf(line + o, sizeof line - o, " (and %zu more)", named - LOG_ADDRS);
    hb_info("dns: upstream %s server %s: %zu addresses (%zu added, %zu removed, %zu kept):%s",
            t->g->cfg->upstreams[t->up].name.s, name, n, d.added, d.removed, d.kept, line);
    free(o2n);
    free(n2o);
}

static void first_done(struct target *t)
{
    pthread_mutex_lock(&R.mu);
    if (t->answered) {
        pthread_mutex_unlock(&R.mu);
        return;
    }
    t->answered = true;
    if (--t->g->pending == 0)
        pthread_cond_broadcast(&R.cv);
    pthread_mutex_unlock(&R.mu);
}

static void failed(struct target *t, const char *why)
{
    const struct cfg_resolver *rc = &t->g->cfg->resolver;
    char name[300];
    target_label(t, name, sizeof name);
    pthread_mutex_lock(&R.mu);
    t->failures++;
    snprintf(t->error, sizeof t->error, "%s", why);
    bool was = t->failing;
    t->failing = true;
    pthread_mutex_unlock(&R.mu);
    if (!was)
        hb_warn("dns: upstream %s server %s: resolution failed: %s; %s (retry in %u ms)",
                t->g->cfg->upstreams[t->up].name.s, name, why,
                t->have ? "keeping the last answer" : "no address yet",
                (unsigned)rc->min_interval_ms);
    else
        hb_debug("dns: upstream %s server %s: resolution failed again: %s",
                 t->g->cfg->upstreams[t->up].name.s, name, why);
    schedule(t, hb_dns_next_ms(true, false, 0, rc->interval_ms, rc->min_interval_ms));
    first_done(t);
}

static void on_answer(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
    (void)timeouts;
    struct target *t = arg;
    if (status == ARES_EDESTRUCTION || status == ARES_ECANCELLED) {
        if (res)
            ares_freeaddrinfo(res);
        return; /* the generation is being dropped */
    }
    const struct cfg_resolver *rc = &t->g->cfg->resolver;
    pthread_mutex_lock(&R.mu);
    t->resolutions++;
    pthread_mutex_unlock(&R.mu);
    if (status != ARES_SUCCESS || !res) {
        if (res)
            ares_freeaddrinfo(res);
        failed(t, ares_strerror(status));
        return;
    }
    size_t cap = 0;
    for (struct ares_addrinfo_node *nd = res->nodes; nd; nd = nd->ai_next)
        cap++;
    struct hb_addr *v = calloc(cap ? cap : 1, sizeof *v);
    if (!v) {
        ares_freeaddrinfo(res);
        failed(t, "out of memory");
        return;
    }
    size_t n = 0;
    bool has_ttl = false;
    uint32_t ttl = UINT32_MAX;
    for (struct ares_addrinfo_node *nd = res->nodes; nd; nd = nd->ai_next) {
        struct hb_addr *a = &v[n];
        memset(a, 0, sizeof *a);
        a->port = t->s->port;
        if (nd->ai_family == AF_INET) {
            a->len = 4;
            memcpy(a->b, &((struct sockaddr_in *)nd->ai_addr)->sin_addr, 4);
        } else if (nd->ai_family == AF_INET6) {
            a->len = 16;
            memcpy(a->b, &((struct sockaddr_in6 *)nd->ai_addr)->sin6_addr, 16);
        } else {
            continue;
        }
        n++;
        if (nd->ai_ttl >= 0) {
            has_ttl = true;
            ttl = (uint32_t)nd->ai_ttl < ttl ? (uint32_t)nd->ai_ttl : ttl;
        }
    }
    ares_freeaddrinfo(res);
    n = hb_addrset_normalize(v, n, rc->max_addresses);
    if (n == 0) {
        free(v);
        failed(t, "no A or AAAA record");
        return;
    }
    if (t->failing && t->have) {
        char name[300];
        target_label(t, name, sizeof name);
        hb_info("dns: upstream %s server %s: resolves again", t->g->cfg->upstreams[t->up].name.s,
                name);
    }
    bool changed = !t->have || !hb_addrset_equal(t->addrs, t->n, v, n);
    if (changed)
        log_change(t, v, n);
    pthread_mutex_lock(&R.mu);
    t->failing = false;
    t->error[0] = 0;
    if (changed) {
        free(t->addrs);
        t->addrs = v;
        t->n = n;
        t->have = true;
        t->changes++;
    }
    pthread_mutex_unlock(&R.mu);
    if (changed)
        publish(t->g, t->up);
    else
        free(v);
    schedule(t, hb_dns_next_ms(false, has_ttl, ttl, rc->interval_ms, rc->min_interval_ms));
    first_done(t);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct target *t = arg;
    struct ares_addrinfo_hints h = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                                    .ai_flags = ARES_AI_NOSORT};
    ares_getaddrinfo(t->g->ch, t->s->address.s, NULL, &h, on_answer, t);
    arm_ares_timer(t->g);
}

/* ---- generations (thread side) ----------------------------------------------- */

/* The last answer for the same name and port in another generation. */
static const struct target *known(const struct gen *g, const struct target *t)
{
    struct hb_list *it;
    hb_list_foreach(it, &R.gens)
    {
        const struct gen *o = hb_container_of(it, struct gen, link);
        for (size_t k = 0; o != g && k < o->nt; k++) {
            const struct target *x = &o->t[k];
            if (x->have && x->s->port == t->s->port &&
                strcmp(x->s->address.s, t->s->address.s) == 0)
                return x;
        }
    }
    return NULL;
}

static void gen_start(struct gen *g)
{
    g->ares_timer = evtimer_new(R.base, on_ares_timer, g);
    bool ok = g->ch_ok && g->ares_timer;
    for (size_t k = 0; k < g->nt; k++) {
        struct target *t = &g->t[k];
        t->timer = evtimer_new(R.base, on_timer, t);
        ok = ok && t->timer;
        pthread_mutex_lock(&R.mu);
        const struct target *x = known(g, t);
        pthread_mutex_unlock(&R.mu);
        struct hb_addr *copy = x ? malloc(x->n * sizeof *x->addrs) : NULL;
        if (copy) {
            /* A reload: the name's answer carries over at once, and it is
             * asked again right away (without waiting for it). */
            memcpy(copy, x->addrs, x->n * sizeof *x->addrs);
            pthread_mutex_lock(&R.mu);
            t->addrs = copy;
            t->n = x->n;
            t->have = true;
            pthread_mutex_unlock(&R.mu);
            first_done(t);
        }
    }
    /* Every upstream with a name gets a set now, empty or not: a worker
     * tells "no address yet" from "no names" by it. */
    for (size_t i = 0; i < g->cfg->n_upstreams; i++) {
        bool names = false;
        for (size_t k = 0; k < g->nt; k++)
            names |= g->t[k].up == i;
        if (names)
            publish(g, i);
    }
    pthread_mutex_lock(&R.mu);
    g->started = true;
    pthread_mutex_unlock(&R.mu);
    if (!ok) {
        hb_error("dns: out of memory or no resolver channel; names are not resolved");
        for (size_t k = 0; k < g->nt; k++)
            first_done(&g->t[k]);
        return;
    }
    for (size_t k = 0; k < g->nt; k++)
        on_timer(-1, 0, &g->t[k]);
}

static void gen_free(struct gen *g)
{
    if (g->ch_ok)
        ares_destroy(g->ch); /* callbacks run with ARES_EDESTRUCTION */
    for (size_t i = 0; i < MAX_SOCKS; i++)
        if (g->socks[i].ev)
            event_free(g->socks[i].ev);
    if (g->ares_timer)
        event_free(g->ares_timer);
    for (size_t k = 0; k < g->nt; k++) {
        if (g->t[k].timer)
            event_free(g->t[k].timer);
        free(g->t[k].addrs);
    }
    free(g->t);
    for (size_t i = 0; g->pub && i < g->cfg->n_upstreams; i++)
        px_addrset_put(g->pub[i]);
    free(g->pub);
    cfg_unref(g->cfg);
    free(g);
}

static void on_pipe(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    (void)arg;
    struct msg m;
    while (read(fd, &m, sizeof m) == (ssize_t)sizeof m) {
        if (m.op == 'q') {
            event_base_loopbreak(R.base);
            return;
        }
        if (m.op == 'a') {
            gen_start(m.g);
        } else if (m.op == 'd') {
            pthread_mutex_lock(&R.mu);
            hb_list_remove(&m.g->link);
            pthread_mutex_unlock(&R.mu);
            gen_free(m.g);
        }
    }
}

static void *run(void *arg)
{
    (void)arg;
    event_base_dispatch(R.base);
    return NULL;
}

/* ---- main thread --------------------------------------------------------------- */

static void send_msg(char op, struct gen *g)
{
    struct msg m = {op, g};
    ssize_t w;
    do
        w = write(R.pipe[1], &m, sizeof m); /* a blocking pipe: the message goes whole */
    while (w < 0 && errno == EINTR);
}

static int start_thread(void)
{
    if (R.running)
        return 0;
    if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS)
        return -1;
    R.base = event_base_new();
    if (!R.base || pipe2(R.pipe, O_CLOEXEC) != 0)
        goto fail;
    fcntl(R.pipe[0], F_SETFL, O_NONBLOCK); /* the reader drains; the writer blocks */
    R.ev_pipe = event_new(R.base, R.pipe[0], EV_READ | EV_PERSIST, on_pipe, NULL);
    if (!R.ev_pipe || event_add(R.ev_pipe, NULL) != 0 ||
        pthread_create(&R.thread, NULL, run, NULL) != 0)
        goto fail;
    R.running = true;
    return 0;
fail:
    if (R.ev_pipe)
        event_free(R.ev_pipe);
    if (R.base)
        event_base_free(R.base);
    for (int i = 0; i < 2; i++)
        if (R.pipe[i] >= 0)
            close(R.pipe[i]);
    R.ev_pipe = NULL;
    R.base = NULL;
    R.pipe[0] = R.pipe[1] = -1;
    ares_library_cleanup();
    return -1;
}

static struct gen *find_gen(const struct cfg *cfg)
{
    struct hb_list *it;
    hb_list_foreach(it, &R.gens)
    {
        struct gen *g = hb_container_of(it, struct gen, link);
        if (g->cfg == cfg)
            return g;
    }
    return NULL;
}

static int channel(struct gen *g)
{
    const struct cfg_resolver *rc = &g->cfg->resolver;
    struct ares_options o = {0};
    o.sock_state_cb = sock_state;
    o.sock_state_cb_data = g;
    o.timeout = (int)rc->timeout_ms;
    o.tries = (int)rc->attempts;
    int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
    if (ares_init_options(&g->ch, &o, mask) != ARES_SUCCESS)
        return -1;
    g->ch_ok = true;
    if (rc->n_servers) {
        char csv[CFG_MAX_RESOLVERS * 56] = "";
        size_t off = 0;
        for (size_t i = 0; i < rc->n_servers; i++) {
            const struct cfg_resolver_addr *a = &rc->servers[i];
            off += (size_t)snprintf(csv + off, sizeof csv - off,
                                    strchr(a->address.s, ':') ? "%s[%s]:%u" : "%s%s:%u",
                                    i ? "," : "", a->address.s, (unsigned)a->port);
        }
        if (ares_set_servers_ports_csv(g->ch, csv) != ARES_SUCCESS)
            return -1;
    }
    return 0;
}

int px_resolver_add(struct cfg *cfg, struct cfg_errors *errs)
{
    if (!px_resolver_needed(cfg))
        return 0;
    pthread_mutex_lock(&R.mu);
    struct gen *g = find_gen(cfg);
    pthread_mutex_unlock(&R.mu);
    if (g) {
        g->adds++;
        return 0;
    }
    if (start_thread() != 0) {
        cfg_errors_add(errs, &cfg->source, "cannot start the resolver thread (out of memory)");
        return -1;
    }
    g = calloc(1, sizeof *g);
    size_t nt = 0;
    for (size_t i = 0; i < cfg->n_upstreams; i++)
        for (size_t j = 0; j < cfg->upstreams[i].n_servers; j++)
            nt += cfg->upstreams[i].servers[j].is_name;
    if (g) {
        g->t = calloc(nt, sizeof *g->t);
        g->pub = calloc(cfg->n_upstreams, sizeof *g->pub);
    }
    if (!g || !g->t || !g->pub) {
        if (g) {
            free(g->t);
            free(g->pub);
        }
        free(g);
        cfg_errors_add(errs, &cfg->source, "out of memory for the resolver");
        return -1;
    }
    g->cfg = cfg_ref(cfg);
    g->adds = 1;
    for (size_t i = 0; i < cfg->n_upstreams; i++)
        for (size_t j = 0; j < cfg->upstreams[i].n_servers; j++)
            if (cfg->upstreams[i].servers[j].is_name)
                g->t[g->nt++] = (struct target){
                    .g = g, .up = i, .srv = j, .s = &cfg->upstreams[i].servers[j]};
    g->pending = g->nt;
    if (channel(g) != 0)
        hb_error("dns: cannot set up the resolver (resolver.servers, /etc/resolv.conf)");
    pthread_mutex_lock(&R.mu);
    hb_list_push_back(&R.gens, &g->link);
    pthread_mutex_unlock(&R.mu);
    send_msg('a', g);
    /* c-ares gives up by timeout × attempts per nameserver; one second more
     * for the thread itself. */
    const struct cfg_resolver *rc = &cfg->resolver;
    uint64_t ms = (uint64_t)rc->timeout_ms * rc->attempts *
                      (rc->n_servers ? rc->n_servers : 3) + 1000;
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += (time_t)(ms / 1000);
    dl.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&R.mu);
    while ((g->pending > 0 || !g->started) &&
           pthread_cond_timedwait(&R.cv, &R.mu, &dl) != ETIMEDOUT) {
    }
    int rc_ = 0;
    for (size_t k = 0; k < g->nt; k++) {
        struct target *t = &g->t[k];
        /* t->have is the thread's, but published before pending fell (the
         * mutex orders it); a target still pending counts as failed. */
        bool ok = t->answered && t->have;
        char name[300];
        px_server_label(t->s, name, sizeof name);
        if (!ok && t->s->resolve == CFG_RESOLVE_START) {
            cfg_errors_add(errs, &t->s->address.mark,
                           "server %s of upstream \"%s\" does not resolve (%s); resolve: lazy "
                           "starts without it",
                           name, cfg->upstreams[t->up].name.s,
                           t->error[0] ? t->error : "no answer in time");
            rc_ = -1;
        } /* (resolve: lazy: the thread logged the failure once) */
    }
    pthread_mutex_unlock(&R.mu);
    return rc_;
}

void px_resolver_drop(const struct cfg *cfg)
{
    if (!R.running)
        return;
    pthread_mutex_lock(&R.mu);
    struct gen *g = find_gen(cfg);
    pthread_mutex_unlock(&R.mu);
    if (g && --g->adds == 0)
        send_msg('d', g); /* the thread unlinks and frees it */
}

void px_resolver_stop(void)
{
    if (!R.running)
        return;
    send_msg('q', NULL);
    pthread_join(R.thread, NULL);
    R.running = false;
    struct hb_list *it;
    while ((it = hb_list_pop_front(&R.gens)) != NULL)
        gen_free(hb_container_of(it, struct gen, link));
    event_free(R.ev_pipe);
    event_base_free(R.base);
    close(R.pipe[0]);
    close(R.pipe[1]);
    R.ev_pipe = NULL;
    R.base = NULL;
    R.pipe[0] = R.pipe[1] = -1;
    ares_library_cleanup();
}

/* ---- readers ---------------------------------------------------------------------- */

struct px_addrset *px_resolver_get(const struct cfg *cfg, size_t upstream)
{
    pthread_mutex_lock(&R.mu);
    struct gen *g = find_gen(cfg);
    struct px_addrset *s = g && upstream < g->cfg->n_upstreams ? g->pub[upstream] : NULL;
    if (s)
        atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&R.mu);
    return s;
}

void px_resolver_subscribe(int fd)
{
    pthread_mutex_lock(&R.mu);
    if (R.nsubs < MAX_SUBSCRIBERS)
        R.subs[R.nsubs++] = fd;
    else
        hb_error("dns: more than %d workers; worker's servers follow DNS only on reload",
                 MAX_SUBSCRIBERS);
    pthread_mutex_unlock(&R.mu);
}

void px_resolver_unsubscribe(int fd)
{
    pthread_mutex_lock(&R.mu);
    for (size_t i = 0; i < R.nsubs; i++)
        if (R.subs[i] == fd) {
            R.subs[i] = R.subs[--R.nsubs];
            break;
        }
    pthread_mutex_unlock(&R.mu);
}

void px_resolver_read(const struct cfg *cfg, size_t upstream, size_t server,
                      struct px_resolver_view *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&R.mu);
    struct gen *g = find_gen(cfg);
    for (size_t k = 0; g && k < g->nt; k++) {
        const struct target *t = &g->t[k];
        if (t->up != upstream || t->srv != server)
            continue;
        out->found = true;
        out->failing = t->failing;
        out->addresses = (unsigned)t->n;
        out->resolutions = t->resolutions;
        out->failures = t->failures;
        out->changes = t->changes;
        snprintf(out->error, sizeof out->error, "%s", t->error);
    }
    pthread_mutex_unlock(&R.mu);
}
