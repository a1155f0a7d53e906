/* bench/wan/relay.c — a WAN in user space for the benchmarks (issue 19).
 *
 * This kernel has no netem, so the page-load and upload benchmarks put this
 * TCP relay between the client and the proxy under test. It accepts on one
 * address, dials another for each connection, and carries the bytes both
 * ways through an emulated path:
 *
 *   - a bottleneck link per direction, shared by every connection (as an
 *     access link is): bytes leave it at --up-mbit / --down-mbit, one
 *     segment (<= --mss bytes) at a time, so a segment's first byte waits
 *     for the ones queued before it;
 *   - a bounded bottleneck buffer (--queue-kb): when the link's backlog
 *     exceeds it the relay stops reading, and the sender's TCP sees its
 *     window close (the relay does not drop: loopback TCP on both sides
 *     would retransmit at once, so a drop would only cost CPU);
 *   - a one-way propagation delay per direction (--delay-ms, so the RTT is
 *     twice it plus serialisation);
 *   - optional loss (--loss-pct): a lost segment is delivered one RTT late
 *     (a fast retransmit's cost) and, since TCP delivers in order, so is
 *     everything behind it on that connection: the head-of-line blocking a
 *     loss causes, without the congestion-window reaction (documented in
 *     bench/README.md);
 *   - a receive window per connection and direction (--window-kb): bytes
 *     past the link but not yet written because the receiver does not read
 *     stop the relay reading further, so a stalled reader stalls the sender.
 *
 * Times come from CLOCK_MONOTONIC in nanoseconds; libevent timers fire at
 * millisecond-ish precision, which the validation (bench/wan/validate)
 * checks is within 5 % for the figures the benchmarks use.
 *
 *   h2b-wanrelay --listen 127.0.0.1:9443 --to 127.0.0.1:8443 \
 *       --delay-ms 20 --up-mbit 20 --down-mbit 20 [--queue-kb 64]
 *       [--loss-pct 0] [--seed 1] [--mss 1448] [--window-kb 4096]
 *
 * "up" is client → server (from the accepting side to the dialled side),
 * "down" is server → client. Prints "ready" on stdout when it listens; stops
 * on SIGINT/SIGTERM. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4 */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* One direction's bottleneck, shared by all connections. */
struct link {
    const char *name;
    double ns_per_byte;  /* 0: no bandwidth limit */
    int64_t delay_ns;    /* one-way propagation delay */
    int64_t free_at_ns;  /* when the link finishes what is queued on it */
    int64_t queue_bytes; /* the bottleneck buffer */
    uint64_t bytes, segments, lost;
};

struct seg {
    struct seg *next;
    int64_t deliver_ns;
    uint32_t len, off;
    bool eof; /* the sender shut down its side: shutdown(SHUT_WR) on delivery */
    uint8_t data[];
};

struct conn;

/* One direction of one connection: reads from `from`, writes to `to`. */
struct dir {
    struct conn *conn;
    struct link *link;
    int from, to;
    struct event *rev, *wev, *timer;
    struct seg *head, *tail;
    int64_t held;     /* bytes in head..tail (the receive window in use) */
    int64_t last_ns;  /* deliver time of the last segment (in-order delivery) */
    bool read_eof;    /* EOF or error read from `from` */
    bool done;        /* EOF delivered (or the connection failed) */
};

struct conn {
    struct dir up, down;
    int cfd, sfd;
};

static struct {
    struct event_base *base;
    struct sockaddr_storage to;
    socklen_t to_len;
    int64_t window;
    uint32_t mss;
    double loss;
    uint64_t rng;
    struct link up, down;
    unsigned live;
} g;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static double rnd01(void)
{
    /* xorshift64*: reproducible with --seed, good enough for loss draws. */
    g.rng ^= g.rng >> 12;
    g.rng ^= g.rng << 25;
    g.rng ^= g.rng >> 27;
    return (double)((g.rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

static void arm_timer(struct event *ev, int64_t at_ns)
{
    int64_t d = at_ns - now_ns();
    if (d < 0)
        d = 0;
    struct timeval tv = {.tv_sec = d / 1000000000, .tv_usec = (d % 1000000000) / 1000};
    event_add(ev, &tv);
}

static void conn_free(struct conn *c)
{
    struct dir *ds[2] = {&c->up, &c->down};
    for (int i = 0; i < 2; i++) {
        struct dir *d = ds[i];
        event_free(d->rev);
        event_free(d->wev);
        event_free(d->timer);
        while (d->head) {
            struct seg *s = d->head;
            d->head = s->next;
            free(s);
        }
    }
    close(c->cfd);
    close(c->sfd);
    free(c);
    g.live--;
}

/* The link's backlog in bytes: what is queued and not yet serialised. */
static int64_t link_backlog(const struct link *l, int64_t now)
{
    if (l->ns_per_byte <= 0 || l->free_at_ns <= now)
        return 0;
    return (int64_t)((double)(l->free_at_ns - now) / l->ns_per_byte);
}

static void dir_update_read(struct dir *d);

static void dir_push(struct dir *d, const uint8_t *p, uint32_t n, bool eof)
{
    int64_t now = now_ns();
    struct link *l = d->link;
    struct seg *s = malloc(sizeof *s + n);
    if (!s)
        abort();
    s->next = NULL;
    s->len = n;
    s->off = 0;
    s->eof = eof;
    memcpy(s->data, p, n);
    int64_t left = now;
    if (n > 0 && l->ns_per_byte > 0) {
        int64_t start = l->free_at_ns > now ? l->free_at_ns : now;
        l->free_at_ns = start + (int64_t)(n * l->ns_per_byte);
        left = l->free_at_ns;
    }
    int64_t at = left + l->delay_ns;
    if (n > 0 && g.loss > 0 && rnd01() < g.loss) {
        /* A lost segment arrives after a retransmission: one more RTT. */
        at += g.up.delay_ns + g.down.delay_ns;
        l->lost++;
    }
    if (at < d->last_ns)
        at = d->last_ns; /* TCP delivers in order */
    d->last_ns = at;
    s->deliver_ns = at;
    if (d->tail)
        d->tail->next = s;
    else
        d->head = s;
    d->tail = s;
    d->held += n;
    l->bytes += n;
    l->segments += n > 0;
    if (d->head == s)
        arm_timer(d->timer, at);
}

static void conn_maybe_done(struct conn *c)
{
    if (c->up.done && c->down.done)
        conn_free(c);
}

static void dir_fail(struct dir *d)
{
    /* A reset or error on either side ends the whole connection. */
    struct conn *c = d->conn;
    c->up.done = c->down.done = true;
    conn_free(c);
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct dir *d = arg;
    uint8_t buf[65536];
    int64_t room = g.window - d->held;
    int64_t lroom = d->link->ns_per_byte > 0
                        ? d->link->queue_bytes - link_backlog(d->link, now_ns())
                        : (int64_t)sizeof buf;
    if (lroom < room)
        room = lroom;
    if (room > (int64_t)sizeof buf)
        room = sizeof buf;
    if (room <= 0) {
        dir_update_read(d);
        return;
    }
    ssize_t n = read(d->from, buf, (size_t)room);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n < 0) {
        dir_fail(d);
        return;
    }
    if (n == 0) {
        d->read_eof = true;
        event_del(d->rev);
        dir_push(d, NULL, 0, true);
        return;
    }
    for (ssize_t off = 0; off < n; off += g.mss) {
        uint32_t len = (uint32_t)(n - off < (ssize_t)g.mss ? n - off : g.mss);
        dir_push(d, buf + off, len, false);
    }
    dir_update_read(d);
}

/* Reads only while the window and the bottleneck buffer have room; when the
 * link's buffer is full, looks again when it will have drained a segment. */
static void dir_update_read(struct dir *d)
{
    if (d->read_eof || d->done)
        return;
    int64_t now = now_ns();
    bool window_ok = d->held < g.window;
    bool link_ok = d->link->ns_per_byte <= 0 ||
                   link_backlog(d->link, now) + (int64_t)g.mss <= d->link->queue_bytes;
    if (window_ok && link_ok) {
        event_add(d->rev, NULL);
        return;
    }
    event_del(d->rev);
    if (window_ok && !link_ok) {
        /* Poll again when one MSS has left the link. The timer is shared
         * with delivery: deliveries re-run this check after writing. */
        int64_t at = d->link->free_at_ns -
                     (int64_t)((double)(d->link->queue_bytes - g.mss) * d->link->ns_per_byte);
        if (!d->head || at < d->head->deliver_ns)
            arm_timer(d->timer, at);
    }
}

static void dir_flush(struct dir *d)
{
    int64_t now = now_ns();
    while (d->head && d->head->deliver_ns <= now + 200000 /* 0.2 ms early is on time */) {
        struct seg *s = d->head;
        if (s->eof) {
            shutdown(d->to, SHUT_WR);
            d->done = true;
        } else {
            while (s->off < s->len) {
                ssize_t n = write(d->to, s->data + s->off, s->len - s->off);
                if (n < 0 && errno == EINTR)
                    continue;
                if (n < 0 && errno == EAGAIN) {
                    event_add(d->wev, NULL); /* the receiver is not reading */
                    return;
                }
                if (n < 0) {
                    dir_fail(d);
                    return;
                }
                s->off += (uint32_t)n;
            }
            d->held -= s->len;
        }
        d->head = s->next;
        if (!d->head)
            d->tail = NULL;
        free(s);
    }
    if (d->head)
        arm_timer(d->timer, d->head->deliver_ns);
    if (d->done) {
        conn_maybe_done(d->conn);
        return;
    }
    dir_update_read(d);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    dir_flush(arg);
}

static void on_write(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    dir_flush(arg);
}

static void set_nodelay(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void dir_init(struct conn *c, struct dir *d, struct link *l, int from, int to)
{
    d->conn = c;
    d->link = l;
    d->from = from;
    d->to = to;
    d->rev = event_new(g.base, from, EV_READ | EV_PERSIST, on_read, d);
    d->wev = event_new(g.base, to, EV_WRITE, on_write, d);
    d->timer = evtimer_new(g.base, on_timer, d);
    if (!d->rev || !d->wev || !d->timer)
        abort();
}

static void on_connected(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct conn *c = arg;
    int err = 0;
    socklen_t el = sizeof err;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
    if (err) {
        fprintf(stderr, "relay: connect: %s\n", strerror(err));
        c->up.done = c->down.done = true;
        conn_free(c);
        return;
    }
    event_add(c->up.rev, NULL);
    event_add(c->down.rev, NULL);
}

static void on_accept(evutil_socket_t lfd, short what, void *arg)
{
    (void)what;
    (void)arg;
    int cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (cfd < 0)
        return;
    int sfd = socket(g.to.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (sfd < 0) {
        close(cfd);
        return;
    }
    set_nodelay(cfd);
    set_nodelay(sfd);
    if (connect(sfd, (struct sockaddr *)&g.to, g.to_len) < 0 && errno != EINPROGRESS) {
        perror("relay: connect");
        close(cfd);
        close(sfd);
        return;
    }
    struct conn *c = calloc(1, sizeof *c);
    if (!c)
        abort();
    c->cfd = cfd;
    c->sfd = sfd;
    dir_init(c, &c->up, &g.up, cfd, sfd);
    dir_init(c, &c->down, &g.down, sfd, cfd);
    g.live++;
    event_base_once(g.base, sfd, EV_WRITE, on_connected, c, NULL);
}

static int parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
    char host[256];
    const char *colon = strrchr(s, ':');
    if (!colon || (size_t)(colon - s) >= sizeof host)
        return -1;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = 0;
    int port = atoi(colon + 1);
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    char *h = host;
    if (h[0] == '[') {
        h++;
        h[strlen(h) - 1] = 0;
    }
    if (inet_pton(AF_INET, h, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        *len = sizeof *a4;
        return 0;
    }
    if (inet_pton(AF_INET6, h, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        *len = sizeof *a6;
        return 0;
    }
    return -1;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    (void)arg;
    fprintf(stderr,
            "relay: up %llu bytes %llu segments %llu lost; down %llu bytes %llu segments %llu lost\n",
            (unsigned long long)g.up.bytes, (unsigned long long)g.up.segments,
            (unsigned long long)g.up.lost, (unsigned long long)g.down.bytes,
            (unsigned long long)g.down.segments, (unsigned long long)g.down.lost);
    event_base_loopbreak(g.base);
}

static void usage(void)
{
    fprintf(stderr, "usage: h2b-wanrelay --listen HOST:PORT --to HOST:PORT [--delay-ms D]\n"
                    "       [--up-mbit R] [--down-mbit R] [--queue-kb Q] [--loss-pct P]\n"
                    "       [--seed S] [--mss N] [--window-kb W]\n");
    exit(2);
}

static void link_set(struct link *l, const char *name, double mbit, double delay_ms, double qkb)
{
    l->name = name;
    l->ns_per_byte = mbit > 0 ? 8000.0 / mbit : 0; /* 8 bits / (mbit * 1e6 / 1e9 ns) */
    l->delay_ns = (int64_t)(delay_ms * 1e6);
    l->queue_bytes = (int64_t)(qkb * 1024);
}

int main(int argc, char **argv)
{
    const char *listen_s = NULL, *to_s = NULL;
    double delay_ms = 0, up = 0, down = 0, qkb = 64, loss = 0, wkb = 4096;
    uint64_t seed = 1;
    g.mss = 1448;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 >= argc)
            usage();
        const char *v = argv[++i];
        if (!strcmp(a, "--listen"))
            listen_s = v;
        else if (!strcmp(a, "--to"))
            to_s = v;
        else if (!strcmp(a, "--delay-ms"))
            delay_ms = atof(v);
        else if (!strcmp(a, "--up-mbit"))
            up = atof(v);
        else if (!strcmp(a, "--down-mbit"))
            down = atof(v);
        else if (!strcmp(a, "--queue-kb"))
            qkb = atof(v);
        else if (!strcmp(a, "--loss-pct"))
            loss = atof(v) / 100.0;
        else if (!strcmp(a, "--seed"))
            seed = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--mss"))
            g.mss = (uint32_t)atoi(v);
        else if (!strcmp(a, "--window-kb"))
            wkb = atof(v);
        else
            usage();
    }
    if (!listen_s || !to_s || g.mss < 1 || g.mss > 65536 || qkb * 1024 < g.mss || wkb <= 0)
        usage();
    struct sockaddr_storage la;
    socklen_t ll;
    if (parse_addr(listen_s, &la, &ll) < 0 || parse_addr(to_s, &g.to, &g.to_len) < 0) {
        fprintf(stderr, "relay: bad address\n");
        return 2;
    }
    g.window = (int64_t)(wkb * 1024);
    g.loss = loss;
    g.rng = seed ? seed : 1;
    link_set(&g.up, "up", up, delay_ms, qkb);
    link_set(&g.down, "down", down, delay_ms, qkb);
    signal(SIGPIPE, SIG_IGN);
    /* Precise timers (timerfd) instead of epoll's millisecond timeouts: a
     * segment's delivery time is what the figures promise. */
    struct event_config *ec = event_config_new();
    event_config_set_flag(ec, EVENT_BASE_FLAG_PRECISE_TIMER);
    g.base = event_base_new_with_config(ec);
    event_config_free(ec);
    int lfd = socket(la.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&la, ll) < 0 || listen(lfd, 1024) < 0) {
        perror("relay: listen");
        return 1;
    }
    struct event *lev = event_new(g.base, lfd, EV_READ | EV_PERSIST, on_accept, NULL);
    struct event *s1 = evsignal_new(g.base, SIGINT, on_signal, NULL);
    struct event *s2 = evsignal_new(g.base, SIGTERM, on_signal, NULL);
    event_add(lev, NULL);
    event_add(s1, NULL);
    event_add(s2, NULL);
    printf("ready\n");
    fflush(stdout);
    event_base_dispatch(g.base);
    event_free(lev);
    event_free(s1);
    event_free(s2);
    close(lfd);
    event_base_free(g.base);
    return 0;
}
