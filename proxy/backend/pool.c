/* proxy/backend/pool.c — backend keep-alive pool: lease, dial, idle, wait queue
 * (the fair queue and the per-client share: core/fairq.h). */
#include "proxy/backend/pool.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <event2/event.h>

#include "core/err.h"
#include "core/log.h"
#include "core/time.h"
#include "proxy/backend/btls.h"
#include "proxy/tls/tls_io.h"
#include "proxy/obs/stats.h"

/* CONNECTING ──TCP connected──→ HANDSHAKING (TLS pools) ──done──→ BUSY or IDLE
 *      └──────TCP connected, plain pools──────────────────────→ BUSY or IDLE */
enum bstate { BC_CONNECTING, BC_HANDSHAKING, BC_IDLE, BC_BUSY };

struct px_bconn {
    struct hb_list link; /* pool->idle while idle */
    struct px_pool *pool;
    int fd;
    enum bstate state;
    bool reused;
    bool reading;
    unsigned served;
    struct event *ev_read, *ev_write, *ev_timer;
    struct px_pool_wait *wait; /* while dialling for a waiter */
    struct hb_fq_client *cl;   /* the client it counts for (with a share), or NULL */
    void *owner;
    const struct px_bconn_ops *ops;
    struct px_btls *tls; /* NULL: plain TCP */
    uintptr_t client;    /* per_client pools: the client connection it belongs to
                            (px_pool_wait.client, a serial never reused) */
    uint8_t *pp;         /* the PROXY header to send once connected; NULL: none (left) */
    uint16_t pp_len;
    bool want_w;         /* TLS: the owner asked for on_writable (the write event may be
                            armed for sealed records alone) */
};

struct px_pool {
    struct event_base *base;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    char *name;
    struct px_pool_opts o;
    struct hb_list idle;  /* most recently used first */
    struct hb_fairq fq; /* px_pool_wait.item: waiters, per client, round-robin */
    struct event *queue_timer;
    uint32_t open, nidle, nwaiting;
    uint64_t dials, reuses, share_waits;
    uint64_t tls_handshakes, tls_resumed;
    px_ctr *st; /* PX_SS_* (px_pool_set_stats), or NULL */
    bool draining; /* px_pool_drain: keeps no idle connection */
};

static void count(struct px_pool *p, unsigned i)
{
    if (p->st)
        px_ctr_add(&p->st[i], 1);
}

/* The gauges follow open, nidle and nwaiting (called after each change). */
static void gauges(struct px_pool *p)
{
    if (!p->st)
        return;
    px_ctr_set(&p->st[PX_SS_OPEN], p->open);
    px_ctr_set(&p->st[PX_SS_IDLE], p->nidle);
    px_ctr_set(&p->st[PX_SS_QUEUED], p->nwaiting);
}

void px_pool_set_stats(struct px_pool *p, _Atomic uint64_t *v)
{
    p->st = v;
    gauges(p);
}

size_t px_pool_pick(struct hb_balancer *b, struct hb_backend *be, struct px_pool *const *pools,
                    size_t n, const uint64_t *key)
{
    for (size_t i = 0; i < n; i++)
        be[i].active = pools[i]->open - pools[i]->nidle + pools[i]->nwaiting;
    ptrdiff_t k = hb_balance_pick(b, be, n, key);
    return k < 0 ? 0 : (size_t)k;
}

static void on_read(evutil_socket_t fd, short what, void *arg);
static void on_write(evutil_socket_t fd, short what, void *arg);
static void on_timer(evutil_socket_t fd, short what, void *arg);
static void queue_timeout(evutil_socket_t fd, short what, void *arg);
static void serve_queue(struct px_pool *p);
static void connected(struct px_bconn *c, int err);

struct px_pool *px_pool_new(struct event_base *base, const struct sockaddr *addr,
                            socklen_t addrlen, const char *name, const struct px_pool_opts *o)
{
    struct px_pool *p = calloc(1, sizeof *p);
    if (!p) {
        px_btls_peer_del(o->tls); /* ours either way */
        return NULL;
    }
    p->base = base;
    memcpy(&p->addr, addr, addrlen);
    p->addrlen = addrlen;
    p->name = strdup(name);
    p->o = *o;
    /* The share: what one client connection may hold of max_conns (at
     * least one), so that a client with many slow or unread streams cannot
     * take every connection (docs/backends.md). No cap, no share. */
    uint32_t cap = 0;
    if (p->o.max_conns && p->o.client_share && p->o.client_share < 100) {
        cap = (uint32_t)((uint64_t)p->o.max_conns * p->o.client_share / 100u);
        cap = cap ? cap : 1;
    }
    hb_fq_init(&p->fq, cap);
    hb_list_init(&p->idle);
    p->queue_timer = evtimer_new(base, queue_timeout, p);
    if (!p->name || !p->queue_timer) {
        px_pool_del(p);
        return NULL;
    }
    return p;
}

static void bconn_free(struct px_bconn *c)
{
    struct px_pool *p = c->pool;
    if (c->state == BC_IDLE) {
        hb_list_remove(&c->link);
        p->nidle--;
    }
    hb_fq_give(&p->fq, c->cl);
    event_free(c->ev_read);
    event_free(c->ev_write);
    event_free(c->ev_timer);
    if (c->tls)
        px_btls_free(c->tls); /* close_notify, best effort */
    free(c->pp);
    close(c->fd);
    p->open--;
    gauges(p);
    free(c);
}

void px_pool_del(struct px_pool *p)
{
    if (!p)
        return;
    struct hb_list *it;
    while ((it = hb_list_pop_front(&p->idle)) != NULL) {
        struct px_bconn *c = hb_container_of(it, struct px_bconn, link);
        hb_list_init(&c->link);
        c->state = BC_BUSY;
        p->nidle--;
        bconn_free(c);
    }
    if (p->queue_timer)
        event_free(p->queue_timer);
    px_btls_peer_del(p->o.tls);
    hb_fq_free(&p->fq);
    free(p->name);
    free(p);
}

const char *px_pool_name(const struct px_pool *p)
{
    return p->name;
}

static struct timeval tv_ms(uint32_t ms)
{
    return (struct timeval){.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
}

void px_bconn_set_timeout(struct px_bconn *c, uint32_t ms)
{
    if (ms == 0) {
        evtimer_del(c->ev_timer);
        return;
    }
    struct timeval tv = tv_ms(ms);
    evtimer_add(c->ev_timer, &tv);
}

/* Starts a non-blocking connect. Returns the connection (BC_CONNECTING),
 * or NULL with *err = HB_EIO / HB_ENOMEM. */
static struct px_bconn *dial(struct px_pool *p, const struct px_pool_wait *w, int *err)
{
    *err = HB_ENOMEM;
    struct px_bconn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    if (p->o.per_client) {
        c->client = w->client;
        if (w->pp && w->pp->len) {
            c->pp = malloc(w->pp->len);
            if (!c->pp) {
                free(c);
                return NULL;
            }
            memcpy(c->pp, w->pp->hdr, w->pp->len);
            c->pp_len = w->pp->len;
        }
    }
    c->fd = socket(p->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        free(c);
        *err = HB_EIO;
        return NULL;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->pool = p;
    hb_list_init(&c->link);
    c->ev_read = event_new(p->base, c->fd, EV_READ | EV_PERSIST, on_read, c);
    c->ev_write = event_new(p->base, c->fd, EV_WRITE, on_write, c);
    c->ev_timer = evtimer_new(p->base, on_timer, c);
    p->open++;
    p->dials++;
    count(p, PX_SS_CONNECTS);
    gauges(p);
    c->state = BC_CONNECTING;
    if (!c->ev_read || !c->ev_write || !c->ev_timer) {
        c->state = BC_BUSY;
        bconn_free(c);
        return NULL;
    }
    if (connect(c->fd, (struct sockaddr *)&p->addr, p->addrlen) != 0 && errno != EINPROGRESS) {
        hb_warn("backend %s: connect failed: %s", p->name, strerror(errno));
        count(p, PX_SS_CONNECT_FAIL);
        if (p->st)
            px_ctr_set(&p->st[PX_SS_FAILING], 1);
        c->state = BC_BUSY;
        bconn_free(c);
        *err = HB_EIO;
        return NULL;
    }
    event_add(c->ev_write, NULL);
    px_bconn_set_timeout(c, p->o.connect_timeout_ms);
    return c;
}

static void grant(struct px_bconn *c, void *owner, const struct px_bconn_ops *ops)
{
    c->state = BC_BUSY;
    c->owner = owner;
    c->ops = ops;
    c->reading = true;
    event_add(c->ev_read, NULL);
    px_bconn_set_timeout(c, 0);
}

/* The most recent idle connection of w's client (per_client pools). */
static struct hb_list *find_idle(struct px_pool *p, const struct px_pool_wait *w)
{
    uintptr_t id = w->client;
    for (struct hb_list *it = p->idle.next; it != &p->idle; it = it->next)
        if (hb_container_of(it, struct px_bconn, link)->client == id) {
            hb_list_remove(it);
            return it;
        }
    return NULL;
}

static struct px_bconn *take_idle(struct px_pool *p, const struct px_pool_wait *w)
{
    struct hb_list *it = p->o.per_client ? find_idle(p, w) : hb_list_pop_front(&p->idle);
    if (!it)
        return NULL;
    struct px_bconn *c = hb_container_of(it, struct px_bconn, link);
    p->nidle--;
    p->reuses++;
    count(p, PX_SS_REUSES);
    gauges(p);
    c->reused = true;
    return c;
}

static void arm_queue_timer(struct px_pool *p)
{
    struct hb_fq_item *it = hb_fq_oldest(&p->fq);
    if (!it) {
        evtimer_del(p->queue_timer);
        return;
    }
    int64_t left = it->deadline - hb_time_now_ns();
    uint32_t ms = left <= 0 ? 0 : (uint32_t)(left / HB_NS_PER_MS) + 1;
    struct timeval tv = tv_ms(ms);
    evtimer_add(p->queue_timer, &tv);
}

/* The waiter counts: the pool's and its upstream's (group). */
static void waiting_add(struct px_pool *p, int d)
{
    p->nwaiting += (uint32_t)d;
    if (p->o.group)
        p->o.group->waiting += (uint32_t)d;
    gauges(p);
}

/* Queues w (its client's sub-queue). Returns 0 or HB_ELIMIT / HB_ENOMEM. */
static int enqueue(struct px_pool *p, struct px_pool_wait *w)
{
    if (p->nwaiting >= p->o.queue_max) {
        count(p, PX_SS_QUEUE_FULL);
        return HB_ELIMIT;
    }
    if (px_pool_group_full(p->o.group)) {
        count(p, PX_SS_PENDING_FULL);
        return HB_ELIMIT;
    }
    w->item.deadline = hb_time_now_ns() + (int64_t)p->o.queue_timeout_ms * HB_NS_PER_MS;
    if (hb_fq_push(&p->fq, w->client, &w->item) != 0)
        return HB_ENOMEM;
    waiting_add(p, 1);
    if (p->nwaiting == 1)
        arm_queue_timer(p);
    return 0;
}

int px_pool_lease(struct px_pool *p, struct px_pool_wait *w, void *owner,
                  const struct px_bconn_ops *ops, bool fresh, struct px_bconn **out)
{
    *out = NULL;
    w->item.cl = NULL;
    w->dial = NULL;
    w->pool = p;
    w->owner = owner;
    w->ops = ops;
    if (!hb_fq_may_take(&p->fq, w->client)) {
        /* Its client holds its share: it waits for one of them, even when
         * the pool has room (docs/backends.md, per_client_share). */
        int rc = enqueue(p, w);
        if (rc == 0) {
            p->share_waits++;
            count(p, PX_SS_SHARE_WAIT);
        }
        return rc;
    }
    bool enomem;
    struct hb_fq_client *cl = hb_fq_take(&p->fq, w->client, &enomem);
    if (enomem)
        return HB_ENOMEM;
    struct px_bconn *c = fresh ? NULL : take_idle(p, w);
    if (c) {
        c->cl = cl;
        grant(c, owner, ops);
        *out = c;
        return 0;
    }
    /* Make room for the fresh connection: the oldest idle one goes (in a
     * per_client pool none of the idle ones can serve this client). */
    if ((fresh || p->o.per_client) && p->o.max_conns && p->open >= p->o.max_conns &&
        p->nidle > 0) {
        /* Make room for the fresh connection: the oldest idle one goes. */
        struct px_bconn *old = hb_container_of(p->idle.prev, struct px_bconn, link);
        bconn_free(old);
    }
    if (p->o.max_conns == 0 || p->open < p->o.max_conns) {
        int err;
        c = dial(p, w, &err);
        if (!c) {
            hb_fq_give(&p->fq, cl);
            return err;
        }
        c->cl = cl;
        c->wait = w;
        w->dial = c;
        return 0;
    }
    hb_fq_give(&p->fq, cl); /* it holds nothing while it waits */
    return enqueue(p, w);
}

void px_pool_cancel(struct px_pool_wait *w)
{
    struct px_pool *p = w->pool;
    if (!p)
        return;
    if (w->dial) {
        struct px_bconn *c = w->dial;
        w->dial = NULL;
        c->wait = NULL;
        c->state = BC_BUSY;
        bconn_free(c);
        serve_queue(p);
    } else if (w->item.cl) {
        hb_fq_remove(&p->fq, &w->item);
        waiting_add(p, -1);
        arm_queue_timer(p);
    }
    w->pool = NULL;
}

/* The next waiter to serve (round-robin over clients under their share),
 * counted as holding one more (*cl), or NULL. */
static struct px_pool_wait *pop_waiter(struct px_pool *p, struct hb_fq_client **cl)
{
    struct hb_fq_item *it = hb_fq_pop(&p->fq, cl);
    if (!it)
        return NULL;
    waiting_add(p, -1);
    arm_queue_timer(p);
    struct px_pool_wait *w = hb_container_of(it, struct px_pool_wait, item);
    w->pool = NULL;
    return w;
}

/* The first waiter of client key, when it is under its share (per_client
 * pools), counted as pop_waiter counts, or NULL. */
static struct px_pool_wait *pop_waiter_of(struct px_pool *p, uintptr_t key,
                                          struct hb_fq_client **cl)
{
    struct hb_fq_item *it = hb_fq_pop_key(&p->fq, key, cl);
    if (!it)
        return NULL;
    waiting_add(p, -1);
    arm_queue_timer(p);
    struct px_pool_wait *w = hb_container_of(it, struct px_pool_wait, item);
    w->pool = NULL;
    return w;
}

void px_pool_forget_client(struct px_pool *p, uintptr_t key)
{
    struct hb_list *it = p->idle.next;
    while (it != &p->idle) {
        struct px_bconn *c = hb_container_of(it, struct px_bconn, link);
        it = it->next;
        if (c->client == key)
            bconn_free(c);
    }
    serve_queue(p);
}

/* A connection slot may have freed: give idle connections to waiters, or
 * dial for the next waiter when under the limit. */
static void serve_queue(struct px_pool *p)
{
    while (hb_fq_ready(&p->fq)) {
        struct px_bconn *c = NULL;
        if (p->nidle == 0 && p->o.max_conns && p->open >= p->o.max_conns)
            return;
        struct hb_fq_client *cl;
        struct px_pool_wait *w = pop_waiter(p, &cl);
        c = take_idle(p, w);
        if (!c && p->o.per_client && p->o.max_conns && p->open >= p->o.max_conns)
            bconn_free(hb_container_of(p->idle.prev, struct px_bconn, link)); /* another's */
        if (c) {
            c->cl = cl;
            grant(c, w->owner, w->ops);
            w->ops->on_ready(w->owner, c);
            continue;
        }
        int err;
        c = dial(p, w, &err);
        if (!c) {
            hb_fq_give(&p->fq, cl);
            w->ops->on_fail(w->owner, err);
            continue;
        }
        c->cl = cl;
        w->pool = p;
        w->dial = c;
        c->wait = w;
    }
}

static void queue_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct px_pool *p = arg;
    int64_t now = hb_time_now_ns();
    struct hb_fq_item *it;
    while ((it = hb_fq_oldest(&p->fq)) != NULL && it->deadline <= now) {
        struct px_pool_wait *w = hb_container_of(it, struct px_pool_wait, item);
        hb_fq_remove(&p->fq, it);
        waiting_add(p, -1);
        w->pool = NULL;
        count(p, PX_SS_QUEUE_TIMEOUT);
        w->ops->on_fail(w->owner, HB_ELIMIT);
    }
    arm_queue_timer(p);
}

/* Dial finished (writable) or failed. */
static void connected(struct px_bconn *c, int err)
{
    struct px_pool *p = c->pool;
    struct px_pool_wait *w = c->wait;
    c->wait = NULL;
    if (w) {
        w->dial = NULL;
        w->pool = NULL;
    }
    if (p->st)
        px_ctr_set(&p->st[PX_SS_FAILING], err ? 1 : 0);
    if (err) {
        count(p, err == HB_ETIMEOUT ? PX_SS_CONNECT_TIMEOUT : PX_SS_CONNECT_FAIL);
        c->state = BC_BUSY;
        bconn_free(c);
        if (w)
            w->ops->on_fail(w->owner, err);
        serve_queue(p);
        return;
    }
    if (!w) { /* its waiter was cancelled meanwhile: keep it idle */
        c->state = BC_BUSY;
        px_bconn_release(c);
        return;
    }
    grant(c, w->owner, w->ops);
    w->ops->on_ready(w->owner, c);
}

/* The PROXY header first, before TLS or any request byte: a fresh socket
 * takes those few bytes at once (its buffer is empty), so a short write is
 * an error like a failed connect. */
static int send_pp(struct px_bconn *c)
{
    ssize_t n = send(c->fd, c->pp, c->pp_len, MSG_NOSIGNAL);
    if (n != (ssize_t)c->pp_len) {
        hb_warn("backend %s: writing the PROXY protocol header failed: %s", c->pool->name,
                n < 0 ? strerror(errno) : "short write");
        return -1;
    }
    free(c->pp);
    c->pp = NULL;
    return 0;
}

/* One step of a TLS pool's handshake, the second half of its dial. */
static void handshake(struct px_bconn *c)
{
    struct px_pool *p = c->pool;
    int r = px_btls_handshake(c->tls);
    if (r == PX_IO_WANT_READ) {
        event_add(c->ev_read, NULL);
        return;
    }
    if (r == PX_IO_WANT_WRITE) {
        event_add(c->ev_write, NULL);
        return;
    }
    px_bconn_set_timeout(c, 0);
    if (r != 1) {
        char why[256];
        hb_warn("backend %s: TLS handshake failed: %s", p->name,
                px_btls_why(c->tls, why, sizeof why));
        connected(c, HB_EPROTO);
        return;
    }
    bool resumed = px_btls_resumed(c->tls);
    p->tls_handshakes++;
    count(p, PX_SS_TLS_HANDSHAKES);
    if (resumed) {
        p->tls_resumed++;
        count(p, PX_SS_TLS_RESUMED);
    }
    hb_debug("backend %s: TLS handshake done%s", p->name, resumed ? " (resumed)" : "");
    connected(c, 0);
}

static void start_tls(struct px_bconn *c)
{
    c->tls = px_btls_new(c->pool->o.tls, c->fd);
    if (!c->tls) {
        px_bconn_set_timeout(c, 0);
        connected(c, HB_ENOMEM);
        return;
    }
    c->state = BC_HANDSHAKING;
    handshake(c);
}

/* A TLS connection's write event: sealed records go out first; the owner
 * hears of it only when it asked to. */
static bool tls_writable(struct px_bconn *c)
{
    if (px_btls_unsent(c->tls)) {
        int f = px_btls_flush(c->tls);
        if (f == PX_IO_WANT_WRITE) {
            event_add(c->ev_write, NULL);
            return false;
        }
        if (f == PX_IO_ERROR)
            return c->want_w; /* the owner's next write sees it */
    }
    return c->want_w;
}

static void on_write(evutil_socket_t fd, short what, void *arg)
{
    struct px_bconn *c = arg;
    if (c->state == BC_CONNECTING) {
        int soerr = 0;
        socklen_t len = sizeof soerr;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
        if (soerr)
            hb_warn("backend %s: connect failed: %s", c->pool->name, strerror(soerr));
        if (!soerr && c->pp && send_pp(c) != 0) {
            px_bconn_set_timeout(c, 0);
            connected(c, HB_EIO);
            return;
        }
        if (!soerr && c->pool->o.tls) {
            start_tls(c); /* the connect timer runs on */
            return;
        }
        px_bconn_set_timeout(c, 0);
        connected(c, soerr ? HB_EIO : 0);
        return;
    }
    if (c->state == BC_HANDSHAKING) {
        handshake(c);
        return;
    }
    if (c->tls && !tls_writable(c))
        return;
    if (c->state == BC_BUSY && c->ops)
        c->ops->on_writable(c->owner, c);
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
    struct px_bconn *c = arg;
    if (c->state == BC_HANDSHAKING) {
        px_btls_readable(c->tls);
        handshake(c);
        return;
    }
    if (c->state == BC_IDLE) {
        /* An idle connection has nothing to say: EOF or stray bytes both
         * end it (RFC 9112 §9.3: a response without a request is an error).
         * Over TLS a late session ticket is no such thing. */
        if (c->tls && px_btls_idle_ok(c->tls))
            return;
        bconn_free(c);
        return;
    }
    if (c->tls)
        px_btls_readable(c->tls);
    if (c->state == BC_BUSY && c->ops)
        c->ops->on_readable(c->owner, c);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct px_bconn *c = arg;
    if (c->state == BC_CONNECTING) {
        hb_warn("backend %s: connect timed out after %u ms", c->pool->name,
                c->pool->o.connect_timeout_ms);
        connected(c, HB_ETIMEOUT);
    } else if (c->state == BC_HANDSHAKING) {
        hb_warn("backend %s: TLS handshake timed out after %u ms (connect_timeout)",
                c->pool->name, c->pool->o.connect_timeout_ms);
        connected(c, HB_ETIMEOUT);
    } else if (c->state == BC_IDLE) {
        bconn_free(c);
    } else if (c->ops) {
        c->ops->on_timeout(c->owner, c);
    }
}

int px_bconn_fd(const struct px_bconn *c)
{
    return c->fd;
}

bool px_bconn_reused(const struct px_bconn *c)
{
    return c->reused;
}

void px_bconn_want_write(struct px_bconn *c, bool on)
{
    if (c->tls) {
        c->want_w = on;
        if (!on && px_btls_unsent(c->tls))
            return; /* armed for the sealed records */
    }
    if (on)
        event_add(c->ev_write, NULL);
    else
        event_del(c->ev_write);
}

void px_bconn_kick_write(struct px_bconn *c)
{
    /* While connecting, the write event means "connect finished": the owner
     * writes when connected anyway. */
    if (c->state == BC_BUSY) {
        if (c->tls)
            c->want_w = true;
        event_active(c->ev_write, EV_WRITE, 0);
    }
}

void px_bconn_want_read(struct px_bconn *c, bool on)
{
    if (on == c->reading)
        return;
    c->reading = on;
    if (on)
        event_add(c->ev_read, NULL);
    else
        event_del(c->ev_read);
    if (on && c->tls && px_btls_pending(c->tls))
        event_active(c->ev_read, EV_READ, 0); /* no socket event will say so */
}

ssize_t px_bconn_send(struct px_bconn *c, const struct iovec *iov, int iovcnt)
{
    if (!c->tls) {
        struct msghdr mh = {.msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt};
        return sendmsg(c->fd, &mh, MSG_NOSIGNAL);
    }
    ssize_t n = px_btls_send(c->tls, iov, iovcnt);
    if (px_btls_unsent(c->tls))
        event_add(c->ev_write, NULL); /* out when writable, whatever the owner wants */
    return n;
}

ssize_t px_bconn_recv(struct px_bconn *c, void *buf, size_t len)
{
    if (!c->tls)
        return recv(c->fd, buf, len, 0);
    ssize_t n = px_btls_recv(c->tls, buf, len);
    if (px_btls_unsent(c->tls))
        event_add(c->ev_write, NULL);
    if (n > 0 && c->reading && px_btls_pending(c->tls))
        event_active(c->ev_read, EV_READ, 0); /* more is decrypted or read ahead already */
    return n;
}

size_t px_bconn_readable(struct px_bconn *c)
{
    int n = 0;
    if (c->tls || ioctl(c->fd, FIONREAD, &n) != 0 || n < 0)
        return 0;
    return (size_t)n;
}

void px_bconn_shutdown_write(struct px_bconn *c)
{
    if (c->tls) {
        px_btls_shutdown_write(c->tls); /* close_notify; TCP stays open for the answer */
        return;
    }
    (void)shutdown(c->fd, SHUT_WR); /* ENOTCONN: the peer is gone, EOF follows */
}

void px_bconn_release(struct px_bconn *c)
{
    struct px_pool *p = c->pool;
    c->owner = NULL;
    c->ops = NULL;
    c->served++;
    event_del(c->ev_write);
    px_bconn_set_timeout(c, 0);
    hb_fq_give(&p->fq, c->cl); /* before the pick: its own waiter may be next */
    c->cl = NULL;
    if (c->tls) {
        c->want_w = false;
        if (px_btls_pending(c->tls) || px_btls_unsent(c->tls)) {
            /* bytes after the response, or records that could not leave */
            bconn_free(c);
            serve_queue(p);
            return;
        }
    }
    struct hb_fq_client *cl = NULL;
    struct px_pool_wait *w = NULL;
    if (p->o.per_client) {
        /* Only a waiter of its own client may have it; when others wait
         * (the pool is full), it closes to make room for theirs. */
        w = pop_waiter_of(p, c->client, &cl);
        if (!w && hb_fq_ready(&p->fq)) {
            bconn_free(c);
            serve_queue(p);
            return;
        }
    } else if (hb_fq_ready(&p->fq)) {
        w = pop_waiter(p, &cl);
    }
    if (w) {
        c->cl = cl;
        c->reused = true;
        p->reuses++;
        count(p, PX_SS_REUSES);
        grant(c, w->owner, w->ops);
        w->ops->on_ready(w->owner, c);
        return;
    }
    if (p->draining) { /* its address went away (px_pool_drain) */
        bconn_free(c);
        return;
    }
    uint32_t keep = p->o.idle_timeout_ms;
    if (p->nidle >= p->o.keepalive) {
        /* Past keepalive idle connections, a surplus one lingers briefly
         * (surplus_idle_ms) instead of closing at once: under a steady
         * concurrency above keepalive, closing it would mean a dial for
         * the next request and a close per request. keepalive 0 keeps
         * nothing. */
        if (!p->o.keepalive || !p->o.surplus_idle_ms) {
            bconn_free(c);
            return;
        }
        keep = p->o.surplus_idle_ms < keep ? p->o.surplus_idle_ms : keep;
    }
    c->state = BC_IDLE;
    hb_list_push_front(&p->idle, &c->link);
    p->nidle++;
    gauges(p);
    c->reading = true;
    event_add(c->ev_read, NULL);
    px_bconn_set_timeout(c, keep);
}

void px_bconn_close(struct px_bconn *c)
{
    struct px_pool *p = c->pool;
    c->state = BC_BUSY;
    bconn_free(c);
    serve_queue(p);
}

void px_pool_stats(const struct px_pool *p, struct px_pool_stats *out)
{
    out->open = p->open;
    out->idle = p->nidle;
    out->waiting = p->nwaiting;
    out->client_cap = p->fq.cap;
    out->dials = p->dials;
    out->reuses = p->reuses;
    out->share_waits = p->share_waits;
    out->tls_handshakes = p->tls_handshakes;
    out->tls_resumed = p->tls_resumed;
}

uint32_t px_pool_client_held(const struct px_pool *p, uintptr_t client)
{
    return hb_fq_held(&p->fq, client);
}

void px_pool_drain(struct px_pool *p)
{
    p->draining = true;
    struct hb_list *it;
    while ((it = hb_list_pop_front(&p->idle)) != NULL) {
        struct px_bconn *c = hb_container_of(it, struct px_bconn, link);
        hb_list_init(&c->link);
        c->state = BC_BUSY;
        p->nidle--;
        bconn_free(c);
    }
}

bool px_pool_empty(const struct px_pool *p)
{
    return p->open == 0 && p->nwaiting == 0;
}
