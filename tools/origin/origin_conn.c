/* tools/origin/origin_conn.c — one client connection of the demo origin.
 *
 * A connection reads a request head, then its body (Content-Length or
 * chunked), while the route produces the response. One request at a time:
 * pipelined requests wait in the input buffer, which is bounded by the read
 * high-water mark. Memory per connection is bounded both ways:
 *   - input: reading stops at max_head bytes buffered (the head must fit);
 *     body bytes are consumed as they arrive;
 *   - output: reading and producing stop while more than out_high bytes are
 *     queued, and resume from the write callback when it drains to half.
 *
 * Callbacks never free the connection in the middle of work: they run
 * pump() and then settle(), the one place that closes.
 */
#include "tools/origin/origin.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"
#include "core/time.h"

static void req_clear(struct og_conn *c)
{
    if (c->rq.aux)
        evbuffer_free(c->rq.aux);
    if (c->rq.timer)
        event_free(c->rq.timer);
    memset(&c->rq, 0, sizeof(c->rq));
}

static void conn_free(struct og_conn *c)
{
    struct og_server *srv = c->srv;
    hb_list_remove(&c->link);
    req_clear(c);
    bufferevent_free(c->bev);
    free(c->fields);
    free(c);
    if (srv->shutting_down && hb_list_empty(&srv->conns))
        event_base_loopexit(srv->base, NULL);
}

static void copy_trunc(char *dst, size_t cap, struct hb_str s)
{
    size_t n = s.len < cap - 1 ? s.len : cap - 1;
    memcpy(dst, s.p, n);
    dst[n] = '\0';
}

/* Starts an error answer for a request we cannot or will not read further:
 * the connection closes after it (its remaining input is unframed). */
static void start_fatal(struct og_conn *c, int status, const char *why)
{
    c->in_request = 1;
    c->rq.route = OG_R_ERROR;
    c->rq.status = status;
    c->rq.why = why;
    c->rq.keep_alive = 0;
    c->rq.body_done = 1;
    if (!c->rq.minor)
        c->rq.minor = 1;
    if (!c->rq.method[0])
        strcpy(c->rq.method, "-");
}

static void start_request(struct og_conn *c, const struct og_head *h)
{
    struct og_req *rq = &c->rq;
    const char *why = NULL;

    rq->minor = h->minor;
    rq->head_only = hb_str_eq(h->method, HB_STR_LIT("HEAD"));
    int st = og_head_framing(h, &rq->fr, &why);
    if (st) {
        start_fatal(c, st, why);
        return;
    }
    rq->keep_alive = rq->fr.keep_alive && !c->srv->shutting_down;
    if (rq->fr.body == OG_BODY_CHUNKED)
        og_chunked_init(&rq->ck, c->srv->lim.max_head);
    rq->body_done = rq->fr.body == OG_BODY_NONE;
    og_route_select(c, h);
}

/* Looks for a complete head in the input. Returns 1 when a request started
 * (or an error answer did), 0 when more input is needed. */
static int read_head(struct og_conn *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    size_t max = c->srv->lim.max_head;
    struct evbuffer_ptr from, end;

    /* RFC 9112 §2.2: empty lines before a request-line are ignored. */
    unsigned char two[2];
    while (c->head_scan == 0 && evbuffer_copyout(in, two, 2) == 2 && two[0] == '\r' &&
           two[1] == '\n')
        evbuffer_drain(in, 2);
    size_t len = evbuffer_get_length(in);
    if (len == 0)
        return 0;
    evbuffer_ptr_set(in, &from, c->head_scan, EVBUFFER_PTR_SET);
    end = evbuffer_search(in, "\r\n\r\n", 4, &from);
    if (end.pos < 0) {
        if (len >= max) {
            memset(&c->rq, 0, sizeof(c->rq));
            c->rq.start_ns = hb_time_now_ns();
            start_fatal(c, 431, "request head larger than --max-head");
            c->nreq++;
            return 1;
        }
        c->head_scan = len > 3 ? len - 3 : 0;
        return 0;
    }
    size_t hlen = (size_t)end.pos + 4;
    memset(&c->rq, 0, sizeof(c->rq));
    c->rq.start_ns = hb_time_now_ns();
    c->nreq++;
    c->head_scan = 0;
    if (hlen > max) {
        start_fatal(c, 431, "request head larger than --max-head");
        return 1;
    }
    const char *p = (const char *)evbuffer_pullup(in, (ev_ssize_t)hlen);
    struct og_head h = {.fields = c->fields, .cap = c->srv->lim.max_fields};
    int rc = p ? og_parse_head(p, hlen, &h) : HB_ENOMEM;
    if (rc == 0) {
        copy_trunc(c->rq.method, sizeof(c->rq.method), h.method);
        copy_trunc(c->rq.target, sizeof(c->rq.target), h.target);
        c->in_request = 1;
        start_request(c, &h);
    } else if (rc == HB_ELIMIT) {
        start_fatal(c, 431, "more header fields than --max-fields");
    } else if (rc == HB_EUNSUPPORTED) {
        start_fatal(c, 505, "only HTTP/1.0 and HTTP/1.1 are supported");
    } else {
        start_fatal(c, rc == HB_ENOMEM ? 500 : 400,
                    rc == HB_ENOMEM ? "out of memory" : "malformed request head");
    }
    evbuffer_drain(in, hlen);
    /* RFC 9110 §10.1.1: we read every body we accept (even for a 404), so
     * ask for it; fatal errors set body_done and close instead. */
    if (c->rq.fr.expect_continue && !c->rq.body_done)
        evbuffer_add(og_out(c), "HTTP/1.1 100 Continue\r\n\r\n", 25);
    if (c->rq.route == OG_R_ECHO)
        og_echo_start(c);
    return 1;
}

/* A body we cannot decode: answer 400 if nothing was sent yet, else cut. */
static void body_error(struct og_conn *c, int rc)
{
    if (c->rq.resp == OG_RESP_NONE) {
        c->rq.route = OG_R_ERROR;
        c->rq.status = rc == HB_ELIMIT ? 413 : 400;
        c->rq.why =
            rc == HB_ELIMIT ? "chunk size or trailer section too large" : "malformed chunked body";
        c->rq.keep_alive = 0;
        c->rq.body_done = 1;
    } else {
        c->dead = 1;
    }
}

/* Consumes request-body bytes. Returns 1 if anything moved. */
static int read_body(struct og_conn *c)
{
    struct og_req *rq = &c->rq;
    struct evbuffer *in = bufferevent_get_input(c->bev);
    struct evbuffer *out = og_out(c);
    int progress = 0;

    while (!rq->body_done && !c->dead) {
        /* /echo turns input into output: hold back while output is full */
        if (rq->route == OG_R_ECHO && evbuffer_get_length(out) >= c->srv->lim.out_high)
            break;
        size_t avail = evbuffer_get_length(in);
        if (avail == 0)
            break;
        uint64_t left = rq->fr.body == OG_BODY_LENGTH ? rq->fr.length - rq->body_len
                                                      : og_chunked_data_left(&rq->ck);
        if (left) {
            size_t n = left < avail ? (size_t)left : avail;
            og_route_body(c, in, n);
            rq->body_len += n;
            if (rq->fr.body == OG_BODY_CHUNKED)
                og_chunked_data_done(&rq->ck, n);
            else
                rq->body_done = rq->body_len == rq->fr.length;
        } else {
            struct evbuffer_iovec v;
            if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
                break;
            ptrdiff_t r = og_chunked_feed(&rq->ck, v.iov_base, v.iov_len);
            if (r < 0) {
                body_error(c, (int)r);
                return 1;
            }
            evbuffer_drain(in, (size_t)r);
            rq->body_done = og_chunked_done(&rq->ck);
        }
        progress = 1;
        if (rq->body_done)
            og_route_body_end(c);
    }
    return progress;
}

static void finish_request(struct og_conn *c)
{
    struct og_req *rq = &c->rq;
    if (c->srv->verbose) {
        long long ms = (long long)((hb_time_now_ns() - rq->start_ns) / HB_NS_PER_MS);
        hb_info("c=%llu r=%u %s \"%s %s\" %d in=%llu out=%llu %lldms", (unsigned long long)c->id,
                c->nreq, c->peer, rq->method, rq->target, rq->status,
                (unsigned long long)rq->body_len, (unsigned long long)rq->bytes_out, ms);
    }
    if (!rq->keep_alive)
        c->closing = 1;
    req_clear(c);
    c->in_request = 0;
}

static void pump(struct og_conn *c)
{
    struct evbuffer *out = og_out(c);
    if (c->in_pump)
        return;
    c->in_pump = 1;
    while (!c->dead && !c->closing) {
        struct og_req *rq = &c->rq;
        if (!c->in_request) {
            /* Pipelined requests wait while the output is full: without
             * this, 64 KiB of small requests could queue gigabytes. */
            if (evbuffer_get_length(out) >= c->srv->lim.out_high)
                break;
            /* A request already received is answered even when shutting
             * down (with Connection: close); otherwise this is the graceful
             * moment to close, as it is when the peer has half-closed. */
            if (!read_head(c)) {
                c->closing |= c->peer_eof || c->srv->shutting_down;
                break;
            }
            continue;
        }
        int progress = 0;
        if (!rq->body_done)
            progress |= read_body(c);
        if (c->dead)
            break;
        if (rq->body_done && rq->resp == OG_RESP_NONE) {
            og_route_respond(c);
            progress = 1;
        }
        if (rq->resp == OG_RESP_STREAMING && rq->route != OG_R_ECHO &&
            evbuffer_get_length(out) < c->srv->lim.out_high) {
            og_route_produce(c);
            progress = 1;
        }
        if (rq->body_done && rq->resp == OG_RESP_DONE) {
            finish_request(c);
            continue;
        }
        if (!progress)
            break;
    }
    c->in_pump = 0;
}

/* RFC 9112 §9.6: after our last response, half-close and keep reading (and
 * discarding) for a moment, so that bytes the client already sent do not make
 * our close a TCP reset that destroys the response before it is read. */
#define LINGER_MS    2000
#define LINGER_BYTES (1u << 20)

static void start_linger(struct og_conn *c)
{
    shutdown(bufferevent_getfd(c->bev), SHUT_WR);
    if (c->peer_eof) {
        c->dead = 1;
        return;
    }
    c->lingering = 1;
    struct timeval tv = {LINGER_MS / 1000, (LINGER_MS % 1000) * 1000};
    bufferevent_set_timeouts(c->bev, &tv, NULL);
    bufferevent_setwatermark(c->bev, EV_READ, 0, 0);
}

/* The one place a connection closes; also sets whether we read. */
static void settle(struct og_conn *c)
{
    struct evbuffer *out = og_out(c);
    if (!c->dead && c->closing && !c->lingering && evbuffer_get_length(out) == 0)
        start_linger(c);
    if (c->lingering) {
        struct evbuffer *in = bufferevent_get_input(c->bev);
        c->linger_bytes += evbuffer_get_length(in);
        evbuffer_drain(in, evbuffer_get_length(in));
        if (c->linger_bytes > LINGER_BYTES)
            c->dead = 1;
    }
    if (c->dead) {
        conn_free(c);
        return;
    }
    int want = c->lingering ||
               (!c->closing && !c->peer_eof && evbuffer_get_length(out) < c->srv->lim.out_high &&
                (!c->in_request || !c->rq.body_done));
    if (want)
        bufferevent_enable(c->bev, EV_READ);
    else
        bufferevent_disable(c->bev, EV_READ);
}

void og_conn_kick(struct og_conn *c)
{
    pump(c);
    settle(c);
}

static void read_cb(struct bufferevent *bev, void *arg)
{
    og_conn_kick(arg);
}

static void write_cb(struct bufferevent *bev, void *arg)
{
    og_conn_kick(arg);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct og_conn *c = arg;
    if (c->lingering) {
        c->dead = 1; /* EOF, error or the linger timeout: done */
    } else if (what & BEV_EVENT_EOF) {
        /* The peer half-closed: complete requests still get their
         * responses; a request cut short closes the connection now. */
        c->peer_eof = 1;
        pump(c);
        if (c->in_request && !c->rq.body_done)
            c->dead = 1;
    } else {
        c->dead = 1; /* BEV_EVENT_ERROR or BEV_EVENT_TIMEOUT */
    }
    og_conn_kick(c);
}

void og_conn_accept(struct og_server *srv, int fd, const struct sockaddr *sa, int salen)
{
    struct og_conn *c = calloc(1, sizeof(*c));
    if (c)
        c->fields = calloc(srv->lim.max_fields, sizeof(*c->fields));
    if (c && c->fields)
        c->bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!c || !c->bev) {
        if (c)
            free(c->fields);
        free(c);
        close(fd);
        hb_warn("out of memory accepting a connection");
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    char host[48] = "?", port[8] = "?";
    getnameinfo(sa, (socklen_t)salen, host, sizeof(host), port, sizeof(port),
                NI_NUMERICHOST | NI_NUMERICSERV);
    snprintf(c->peer, sizeof(c->peer), strchr(host, ':') ? "[%s]:%s" : "%s:%s", host, port);
    c->srv = srv;
    c->id = ++srv->next_conn_id;
    hb_list_push_back(&srv->conns, &c->link);
    bufferevent_setwatermark(c->bev, EV_READ, 0, srv->lim.max_head);
    /* libevent moves 16 KiB per read/write call by default: too many
     * syscalls for /echo and /bytes at loopback speed */
    bufferevent_set_max_single_read(c->bev, 65536);
    bufferevent_set_max_single_write(c->bev, srv->lim.out_high);
    bufferevent_setwatermark(c->bev, EV_WRITE, srv->lim.out_high / 2, 0);
    bufferevent_setcb(c->bev, read_cb, write_cb, event_cb, c);
    struct timeval tv = {srv->lim.idle_timeout_ms / 1000,
                         (suseconds_t)(srv->lim.idle_timeout_ms % 1000) * 1000};
    bufferevent_set_timeouts(c->bev, &tv, &tv);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    if (srv->verbose)
        hb_info("c=%llu open %s", (unsigned long long)c->id, c->peer);
}

void og_conn_shutdown_all(struct og_server *srv)
{
    struct hb_list *it, *tmp;
    srv->shutting_down = 1;
    hb_list_foreach_safe(it, tmp, &srv->conns)
    {
        struct og_conn *c = hb_container_of(it, struct og_conn, link);
        if (c->in_request)
            c->rq.keep_alive = 0;
        og_conn_kick(c); /* idle: closes; a buffered request: answered */
    }
    if (hb_list_empty(&srv->conns))
        event_base_loopexit(srv->base, NULL);
}

void og_conn_free_all(struct og_server *srv)
{
    struct hb_list *it, *tmp;
    hb_list_foreach_safe(it, tmp, &srv->conns)
    {
        conn_free(hb_container_of(it, struct og_conn, link));
    }
}
