/* proxy/backend/health_check.c — the health-check thread (health_check.h). */
#include "proxy/backend/health_check.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <event2/event.h>

#include "config/cfg.h"
#include "core/h1_parse.h"
#include "core/health.h"
#include "core/log.h"
#include "core/time.h"
#include "proxy/backend/adopt.h"
#include "proxy/backend/btls.h"
#include "proxy/backend/health_state.h"
#include "proxy/backend/resolver.h"
#include "proxy/obs/stats.h"
#include "proxy/tls/tls_io.h"
#include "proxy/worker.h"

#define RESP_MAX   4096 /* a check's response head; more fails the check */
#define MAX_FIELDS 64

/* One check's life: IDLE (timer: the next check) → CONNECTING → (http
 * over tls:) HANDSHAKE → (http) WRITING → READING → IDLE; the timer is the
 * deadline while not IDLE. */
enum hc_state { HC_IDLE, HC_CONNECTING, HC_HANDSHAKE, HC_WRITING, HC_READING };

static const char *hc_state_name(enum hc_state st)
{
    static const char *const names[] = {"idle", "connecting", "in the TLS handshake",
                                        "writing the request", "waiting for the response"};
    return (unsigned)st < sizeof names / sizeof names[0] ? names[st] : "?";
}

struct hups;

struct hcheck {
    struct hups *up;
    struct px_hstate *hs;
    const struct cfg_health_check *hc;
    char label[300];
    struct sockaddr_storage sa;
    socklen_t salen;
    struct hb_health h;
    enum hc_state st;
    int fd;
    struct event *ev_io, *ev_timer;
    char *req;
    size_t req_len, req_off;
    uint8_t pre[16]; /* a PROXY header sent in the clear before TLS */
    size_t pre_len;
    struct px_btls_peer *peer; /* tls: this server's names and session */
    struct px_btls *tls;       /* tls: this check's connection */
    char resp[RESP_MAX];
    size_t resp_len;
    uint64_t rng;
};

struct hups {
    const struct cfg_upstream *u;
    struct px_btls_ctx *btls; /* HTTP checks of a tls: upstream (this thread's) */
    struct hcheck *checks; /* one per server */
    size_t n;
    bool none_up; /* every server is down (logged once per change) */
};

static struct {
    bool running;
    int wake[2];
    pthread_t thread;
    struct event_base *base;
    struct event *ev_wake;
    struct cfg *cfg; /* the configuration checked now (a reference) */
    struct hups *ups;
    size_t nups;
} H = {.wake = {-1, -1}};

static void schedule(struct hcheck *k, uint32_t ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(k->ev_timer, &tv);
}

static void close_fd(struct hcheck *k)
{
    px_btls_free(k->tls);
    k->tls = NULL;
    if (k->ev_io) {
        event_free(k->ev_io);
        k->ev_io = NULL;
    }
    if (k->fd >= 0) {
        close(k->fd);
        k->fd = -1;
    }
}

static void upstream_changed(struct hups *up)
{
    bool none = true;
    for (size_t i = 0; i < up->n && none; i++)
        none = up->checks[i].h.state != HB_HEALTH_UP;
    if (none == up->none_up)
        return;
    up->none_up = none;
    if (!none)
        hb_warn("health: upstream %s: a server is up again; requests go to the servers that "
                "are up",
                up->u->name.s);
    else if (up->u->on_no_healthy == CFG_NO_HEALTHY_FAIL)
        hb_error("health: upstream %s: no server is up; answering 503 at once "
                 "(on_no_healthy: fail)",
                 up->u->name.s);
    else
        hb_error("health: upstream %s: no server is up; panic mode, every server gets requests "
                 "(on_no_healthy: panic)",
                 up->u->name.s);
}

static void result(struct hcheck *k, bool ok, const char *why)
{
    close_fd(k);
    k->st = HC_IDLE;
    atomic_fetch_add_explicit(ok ? &k->hs->checks_ok : &k->hs->checks_failed, 1,
                              memory_order_relaxed);
    if (!ok)
        hb_debug("health: upstream %s server %s: check failed: %s", k->up->u->name.s, k->label,
                 why);
    if (hb_health_result(&k->h, ok)) {
        if (k->h.state == HB_HEALTH_UP) {
            atomic_store_explicit(&k->hs->up_since, (int64_t)hb_time_now_ns(),
                                  memory_order_relaxed);
            atomic_fetch_add_explicit(&k->hs->went_up, 1, memory_order_relaxed);
            hb_info("health: upstream %s server %s: up (%u checks passed in a row)",
                    k->up->u->name.s, k->label, (unsigned)k->h.rise);
        } else {
            atomic_fetch_add_explicit(&k->hs->went_down, 1, memory_order_relaxed);
            hb_warn("health: upstream %s server %s: down (%u checks failed in a row, last: %s)",
                    k->up->u->name.s, k->label, (unsigned)k->h.fall, why);
        }
        atomic_store_explicit(&k->hs->state, (int)k->h.state, memory_order_relaxed);
        upstream_changed(k->up);
    }
    schedule(k, hb_health_next_delay(k->hc->interval_ms, k->hc->jitter_ms, &k->rng));
}

static void on_io(evutil_socket_t fd, short what, void *arg);

static void want(struct hcheck *k, short what)
{
    if (k->ev_io)
        event_free(k->ev_io);
    k->ev_io = event_new(H.base, k->fd, what, on_io, k);
    if (!k->ev_io || event_add(k->ev_io, NULL) != 0)
        result(k, false, "out of memory");
}

static void read_head(struct hcheck *k)
{
    for (;;) {
        size_t room = sizeof k->resp - k->resp_len;
        ssize_t r = k->tls ? px_btls_recv(k->tls, k->resp + k->resp_len, room)
                           : recv(k->fd, k->resp + k->resp_len, room, 0);
        if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
            want(k, EV_READ);
            return;
        }
        if (r < 0) {
            char why[96];
            snprintf(why, sizeof why, "reading the response: %s", strerror(errno));
            result(k, false, why);
            return;
        }
        if (r == 0) {
            result(k, false, "closed before a complete response head");
            return;
        }
        k->resp_len += (size_t)r;
        struct h1_limits lim;
        h1_limits_default(&lim);
        lim.max_head = RESP_MAX;
        struct h1_parser p;
        h1_parser_init(&p, &lim);
        struct hb_msg m;
        struct hpack_field f[MAX_FIELDS];
        char copy[RESP_MAX];
        memcpy(copy, k->resp, k->resp_len); /* the parser may edit its buffer */
        ptrdiff_t n = h1_parse_response(&p, 0, copy, k->resp_len, &m, f, MAX_FIELDS);
        if (n > 0) {
            char why[64];
            snprintf(why, sizeof why, "status %d, expected %s", m.status, k->hc->expect.s);
            result(k, hb_status_ranges_match(&k->hc->expect_ranges, m.status), why);
            return;
        }
        if (n < 0 || k->resp_len == sizeof k->resp) {
            char why[96];
            snprintf(why, sizeof why, "malformed response head: %s",
                     n < 0 ? h1_err_message((int)n) : "over 4 KiB");
            result(k, false, why);
            return;
        }
    }
}

static void write_req(struct hcheck *k)
{
    while (k->req_off < k->req_len) {
        struct iovec iov = {k->req + k->req_off, k->req_len - k->req_off};
        ssize_t w = k->tls ? px_btls_send(k->tls, &iov, 1)
                           : send(k->fd, iov.iov_base, iov.iov_len, MSG_NOSIGNAL);
        if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
            want(k, EV_WRITE);
            return;
        }
        if (w < 0) {
            char why[96];
            snprintf(why, sizeof why, "writing the request: %s", strerror(errno));
            result(k, false, why);
            return;
        }
        k->req_off += (size_t)w;
    }
    if (k->tls) { /* the sealed records out before waiting for the answer */
        int f = px_btls_flush(k->tls);
        if (f == PX_IO_WANT_WRITE) {
            want(k, EV_WRITE);
            return;
        }
        if (f != 0) {
            result(k, false, "writing the request: TLS error");
            return;
        }
    }
    k->st = HC_READING;
    read_head(k);
}

static void handshake(struct hcheck *k)
{
    int rc = px_btls_handshake(k->tls);
    if (rc == PX_IO_WANT_READ || rc == PX_IO_WANT_WRITE) {
        want(k, rc == PX_IO_WANT_READ ? EV_READ : EV_WRITE);
        return;
    }
    if (rc != 1) {
        char b[200], why[240];
        snprintf(why, sizeof why, "TLS handshake: %s", px_btls_why(k->tls, b, sizeof b));
        result(k, false, why);
        return;
    }
    k->st = HC_WRITING;
    write_req(k);
}

static void connected(struct hcheck *k)
{
    int err = 0;
    socklen_t el = sizeof err;
    if (getsockopt(k->fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
        err = errno;
    if (err) {
        char why[96];
        snprintf(why, sizeof why, "connect failed: %s", strerror(err));
        result(k, false, why);
        return;
    }
    if (k->hc->tcp) {
        result(k, true, "connected");
        return;
    }
    k->req_off = 0;
    k->resp_len = 0;
    if (k->peer) {
        /* A PROXY header precedes the ClientHello, as the pool sends it; a
         * new socket's buffer always takes these few bytes. */
        if (k->pre_len &&
            send(k->fd, k->pre, k->pre_len, MSG_NOSIGNAL) != (ssize_t)k->pre_len) {
            result(k, false, "writing the PROXY header failed");
            return;
        }
        if (!(k->tls = px_btls_new(k->peer, k->fd))) {
            result(k, false, "out of memory");
            return;
        }
        k->st = HC_HANDSHAKE;
        handshake(k);
        return;
    }
    k->st = HC_WRITING;
    write_req(k);
}

static void on_io(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    struct hcheck *k = arg;
    if (k->tls && (what & EV_READ))
        px_btls_readable(k->tls);
    if (k->st == HC_CONNECTING)
        connected(k);
    else if (k->st == HC_HANDSHAKE)
        handshake(k);
    else if (k->st == HC_WRITING)
        write_req(k);
    else if (k->st == HC_READING)
        read_head(k);
}

static void start_check(struct hcheck *k)
{
    k->fd = socket(k->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (k->fd < 0) {
        char why[96];
        snprintf(why, sizeof why, "socket: %s", strerror(errno));
        result(k, false, why);
        return;
    }
    schedule(k, k->hc->timeout_ms); /* the deadline */
    k->st = HC_CONNECTING;
    if (connect(k->fd, (struct sockaddr *)&k->sa, k->salen) == 0) {
        connected(k);
    } else if (errno == EINPROGRESS) {
        want(k, EV_WRITE);
    } else {
        char why[96];
        snprintf(why, sizeof why, "connect failed: %s", strerror(errno));
        result(k, false, why);
    }
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct hcheck *k = arg;
    if (k->st == HC_IDLE) {
        start_check(k);
        return;
    }
    char why[64];
    snprintf(why, sizeof why, "timed out after %u ms (%s)", (unsigned)k->hc->timeout_ms,
             hc_state_name(k->st));
    result(k, false, why);
}

/* ---- building and dropping the checks ---------------------------------------- */

static void free_checks(void)
{
    for (size_t i = 0; i < H.nups; i++) {
        struct hups *up = &H.ups[i];
        for (size_t j = 0; j < up->n; j++) {
            struct hcheck *k = &up->checks[j];
            close_fd(k);
            if (k->ev_timer)
                event_free(k->ev_timer);
            free(k->req);
            px_btls_peer_del(k->peer);
            if (k->hs)
                atomic_store_explicit(&k->hs->checked, false, memory_order_relaxed);
            px_hstate_put(k->hs);
        }
        free(up->checks);
        px_btls_ctx_del(up->btls); /* freed when its last peer is */
    }
    free(H.ups);
    H.ups = NULL;
    H.nups = 0;
}

/* A server behind upstreams.*.proxy_protocol expects a PROXY header before
 * any request: a check's own connection says it is one of the proxy's
 * (v1 UNKNOWN, v2 LOCAL: no client address; the specification's header
 * for health checks). */
static int add_pp_local(struct hcheck *k, int version)
{
    static const char v1[] = "PROXY UNKNOWN\r\n";
    static const uint8_t v2[16] = {'\r', '\n', '\r', '\n', 0,   '\r', '\n', 'Q',
                                   'U',  'I',  'T',  '\n', 0x20, 0x00, 0x00, 0x00};
    const void *h = version == 1 ? (const void *)v1 : (const void *)v2;
    size_t hl = version == 1 ? sizeof v1 - 1 : sizeof v2;
    if (k->up->btls) { /* in the clear, before the handshake */
        memcpy(k->pre, h, hl);
        k->pre_len = hl;
        return 0;
    }
    char *r = malloc(hl + k->req_len);
    if (!r)
        return -1;
    memcpy(r, h, hl);
    memcpy(r + hl, k->req, k->req_len);
    free(k->req);
    k->req = r;
    k->req_len += hl;
    return 0;
}

/* One address to check: a server's IP literal (addr NULL), or one address
 * of a DNS name (proxy/backend/resolver.h) with its label. */
static int build_check(struct hups *up, const struct cfg_server *s, const struct hb_addr *addr,
                       const char *label, struct hcheck *k, uint64_t seed)
{
    const struct cfg_health_check *hc = &up->u->health_check;
    k->up = up;
    k->hc = hc;
    k->fd = -1;
    k->rng = seed;
    if (addr) {
        snprintf(k->label, sizeof k->label, "%s", label);
        memset(&k->sa, 0, sizeof k->sa);
        if (addr->len == 4) {
            struct sockaddr_in *in = (struct sockaddr_in *)&k->sa;
            in->sin_family = AF_INET;
            in->sin_port = htons(addr->port);
            memcpy(&in->sin_addr, addr->b, 4);
            k->salen = sizeof *in;
        } else {
            struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&k->sa;
            in6->sin6_family = AF_INET6;
            in6->sin6_port = htons(addr->port);
            memcpy(&in6->sin6_addr, addr->b, 16);
            k->salen = sizeof *in6;
        }
    } else {
        px_server_label(s, k->label, sizeof k->label);
        if (px_resolve(s->address.s, s->port, &k->sa, &k->salen) != 0) /* an IP literal */
            return -1;
    }
    k->hs = px_hstate_get(up->u->name.s, k->label);
    k->ev_timer = evtimer_new(H.base, on_timer, k);
    if (!k->hs || !k->ev_timer)
        return -1;
    if (!hc->tcp) {
        const char *host = hc->host.s ? hc->host.s : k->label;
        int n = asprintf(&k->req,
                         "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: h2bridge-health-check\r\n"
                         "Connection: close\r\n\r\n",
                         hc->method.s, hc->path.s, host);
        if (n < 0) {
            k->req = NULL;
            return -1;
        }
        k->req_len = (size_t)n;
        if (up->btls && !(k->peer = px_upstream_btls_peer(up->btls, up->u, s)))
            return -1;
        if (up->u->proxy_protocol && add_pp_local(k, up->u->proxy_protocol) != 0)
            return -1;
    }
    /* The state the checks start from is what they knew (a reload keeps it). */
    enum hb_health_state st = px_hstate_up(k->hs) ? HB_HEALTH_UP : HB_HEALTH_DOWN;
    hb_health_init(&k->h, st, hc->rise, hc->fall);
    atomic_store_explicit(&k->hs->checked, true, memory_order_relaxed);
    /* The first check soon, spread over the jitter so servers are not
     * checked in step. */
    schedule(k, 1 + (uint32_t)(seed % ((uint64_t)hc->jitter_ms + 1)));
    return 0;
}

static void build_checks(void)
{
    unsigned gen = 0;
    struct cfg *cfg = px_obs_config(&gen);
    /* Servers no longer checked count as up: nothing would ever bring them
     * back. The states stay for the workers that hold them. */
    for (size_t i = 0; i < H.nups; i++) {
        const struct hups *up = &H.ups[i];
        const struct cfg_upstream *nu = cfg ? cfg_find_upstream(cfg, up->u->name.s) : NULL;
        if (nu && nu->health_check.enabled)
            continue;
        for (size_t j = 0; j < up->n; j++)
            atomic_store_explicit(&up->checks[j].hs->state, HB_HEALTH_UP, memory_order_relaxed);
    }
    free_checks();
    if (H.cfg)
        cfg_unref(H.cfg);
    H.cfg = cfg;
    if (!cfg)
        return;
    size_t n = 0;
    for (size_t i = 0; i < cfg->n_upstreams; i++)
        n += cfg->upstreams[i].health_check.enabled;
    H.ups = calloc(n ? n : 1, sizeof *H.ups);
    if (!H.ups) {
        hb_error("health: out of memory; no active checks");
        return;
    }
    uint64_t seed = (uint64_t)hb_time_now_ns() | 1;
    size_t checks = 0;
    for (size_t i = 0; i < cfg->n_upstreams; i++) {
        const struct cfg_upstream *u = &cfg->upstreams[i];
        if (!u->health_check.enabled)
            continue;
        struct hups *up = &H.ups[H.nups++];
        up->u = u;
        if (u->tls.enabled && !u->health_check.tcp) {
            /* The checks verify as requests do (the same options; the
             * context is this thread's, as each worker has its own). */
            struct px_btls_ctx_opts bo;
            px_btls_opts_from(u, &bo);
            char err[512];
            if (!(up->btls = px_btls_ctx_new(&bo, err, sizeof err))) {
                hb_error("health: upstream %s: tls: %s; not checked", u->name.s, err);
                continue;
            }
        }
        /* DNS names: every address they give now; the resolver wakes this
         * thread on each change, and the checks are rebuilt. */
        struct px_addrset *set = px_resolver_get(cfg, i);
        size_t naddr = set ? set->n : u->n_servers;
        up->checks = calloc(naddr ? naddr : 1, sizeof *up->checks);
        if (!up->checks) {
            hb_error("health: upstream %s: out of memory; not checked", u->name.s);
            px_addrset_put(set);
            continue;
        }
        for (size_t j = 0; j < naddr; j++) {
            seed = seed * 6364136223846793005u + 1442695040888963407u;
            const struct cfg_server *sv = set ? &u->servers[set->e[j].server] : &u->servers[j];
            if (build_check(up, sv, set ? &set->e[j].addr : NULL, set ? set->e[j].label : NULL,
                            &up->checks[up->n], seed >> 16) != 0) {
                hb_error("health: upstream %s server %s: cannot check it (out of memory or "
                         "unresolvable)",
                         u->name.s, up->checks[up->n].label);
                struct hcheck *k = &up->checks[up->n];
                if (k->ev_timer)
                    event_free(k->ev_timer);
                free(k->req);
                px_btls_peer_del(k->peer);
                px_hstate_put(k->hs);
                memset(k, 0, sizeof *k);
                continue;
            }
            up->n++;
            checks++;
        }
        px_addrset_put(set);
        up->none_up = false;
        if (up->n)
            upstream_changed(up); /* all down already (kept across a reload): say so */
    }
    if (checks)
        hb_info("health: checking %zu servers of %zu upstreams (generation %u)", checks, H.nups,
                gen);
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    (void)arg;
    char b[64];
    ssize_t r = read(fd, b, sizeof b);
    bool stop = false, rebuild = false;
    for (ssize_t i = 0; i < r; i++) {
        stop |= b[i] == 'q';
        rebuild |= b[i] == 'r' || b[i] == 'a'; /* 'a': a DNS name's addresses changed */
    }
    if (stop) {
        event_base_loopbreak(H.base);
        return;
    }
    if (rebuild)
        build_checks();
}

static void *run(void *arg)
{
    (void)arg;
    build_checks();
    event_base_dispatch(H.base);
    free_checks();
    return NULL;
}

static void cleanup(void)
{
    if (H.ev_wake)
        event_free(H.ev_wake);
    if (H.base)
        event_base_free(H.base);
    for (int i = 0; i < 2; i++)
        if (H.wake[i] >= 0)
            close(H.wake[i]);
    if (H.cfg)
        cfg_unref(H.cfg);
    H.cfg = NULL;
    H.ev_wake = NULL;
    H.base = NULL;
    H.wake[0] = H.wake[1] = -1;
}

int px_health_start(void)
{
    if (H.running)
        return 0;
    H.base = event_base_new();
    if (!H.base || pipe2(H.wake, O_NONBLOCK | O_CLOEXEC) != 0)
        goto fail;
    H.ev_wake = event_new(H.base, H.wake[0], EV_READ | EV_PERSIST, on_wake, NULL);
    if (!H.ev_wake || event_add(H.ev_wake, NULL) != 0)
        goto fail;
    if (pthread_create(&H.thread, NULL, run, NULL) != 0)
        goto fail;
    H.running = true;
    px_resolver_subscribe(H.wake[1]); /* checks follow the addresses of DNS names */
    return 0;
fail:
    hb_error("health: cannot start the health-check thread (out of memory)");
    cleanup();
    return -1;
}

static void poke(char c)
{
    ssize_t r = write(H.wake[1], &c, 1);
    (void)r;
}

void px_health_reload(void)
{
    if (H.running)
        poke('r');
}

void px_health_stop(void)
{
    if (!H.running)
        return;
    px_resolver_unsubscribe(H.wake[1]);
    poke('q');
    pthread_join(H.thread, NULL);
    H.running = false;
    cleanup();
}
