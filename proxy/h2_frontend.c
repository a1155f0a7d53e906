/* proxy/h2_frontend.c — client connections: TLS handshake, then HTTP/2. */
#include "proxy/h2_frontend.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "core/err.h"
#include "core/h2_conn.h"
#include "core/log.h"
#include "core/time.h"
#include "proxy/authority.h"
#include "proxy/exchange.h"
#include "proxy/front.h"
#include "proxy/h1_frontend.h"
#include "proxy/listener.h"
#include "proxy/sniff.h"
#include "proxy/timeouts.h"
#include "proxy/worker.h"

#define READ_BUF 16384
#define READS_PER_EVENT 16 /* fairness between connections of a worker */

static void on_read(evutil_socket_t fd, short what, void *arg);
static void on_write(evutil_socket_t fd, short what, void *arg);
static void on_timer(evutil_socket_t fd, short what, void *arg);
static void on_flush(evutil_socket_t fd, short what, void *arg);

/* ---- engine callbacks ------------------------------------------------------- */

static void cb_request(void *ud, uint32_t sid, const struct hb_msg *req, bool end_stream)
{
    struct px_fconn *fc = ud;
    if (px_misdirected(fc, req)) { /* proxy/authority.h; the body is dropped by cb_data */
        hb_info("client %s stream %u: :authority %.*s not covered by the certificate → 421",
                fc->peer, sid, (int)req->authority.len, req->authority.p);
        struct hb_msg resp = {.status = 421};
        h2_conn_submit_response(fc->h2, sid, &resp, true);
        px_fconn_kick(fc);
        return;
    }
    if (req->nfields > fc->w->cfg->limits.max_header_count) {
        /* As HTTP/1.1 requests (core/h1_common.h TOO_MANY_FIELDS): 431, not
         * forwarded. Pseudo-header fields are not counted. */
        hb_info("client %s stream %u: %u header fields over limits.max_header_count (%u) → 431",
                fc->peer, sid, req->nfields, fc->w->cfg->limits.max_header_count);
        struct hb_msg resp = {.status = 431};
        h2_conn_submit_response(fc->h2, sid, &resp, true);
        px_fconn_kick(fc);
        return;
    }
    if (px_front_body_too_large(fc, req)) { /* proxy/front.h */
        struct hb_msg resp = {.status = 413};
        h2_conn_submit_response(fc->h2, sid, &resp, true);
        px_fconn_kick(fc);
        return;
    }
    px_exchange_start(ud, sid, req, end_stream);
}

static void cb_data(void *ud, uint32_t sid, const uint8_t *data, size_t len, bool end)
{
    struct px_fconn *fc = ud;
    struct px_exchange *ex = px_exchange_find(fc, sid);
    if (ex)
        px_exchange_on_data(ex, data, len, end);
    else if (len)
        h2_conn_consumed(fc->h2, sid, len); /* answered without a backend */
}

static void cb_trailers(void *ud, uint32_t sid, const struct hb_msg *trailers)
{
    struct px_exchange *ex = px_exchange_find(ud, sid);
    if (ex)
        px_exchange_on_trailers(ex, trailers);
}

static void cb_close(void *ud, uint32_t sid, uint32_t code)
{
    struct px_exchange *ex = px_exchange_find(ud, sid);
    if (ex)
        px_exchange_on_close(ex, code);
}

static ptrdiff_t cb_read_data(void *ud, uint32_t sid, uint8_t *dst, size_t max, bool *eof)
{
    struct px_exchange *ex = px_exchange_find(ud, sid);
    if (!ex)
        return -1;
    return px_exchange_read_data(ex, dst, max, eof);
}

static const struct h2_callbacks callbacks = {
    .on_request = cb_request,
    .on_data = cb_data,
    .on_trailers = cb_trailers,
    .on_stream_close = cb_close,
    .read_data = cb_read_data,
};

/* ---- life cycle --------------------------------------------------------------- */

static void format_peer(struct px_fconn *fc, const struct sockaddr *sa)
{
    char a[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const void *)sa;
        inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof a);
        port = ntohs(s6->sin6_port);
        snprintf(fc->peer, sizeof fc->peer, "[%s]:%u on %s", a, port, fc->l->label);
    } else {
        const struct sockaddr_in *s4 = (const void *)sa;
        inet_ntop(AF_INET, &s4->sin_addr, a, sizeof a);
        port = ntohs(s4->sin_port);
        snprintf(fc->peer, sizeof fc->peer, "%s:%u on %s", a, port, fc->l->label);
    }
    snprintf(fc->peer_addr, sizeof fc->peer_addr, "%s", a);
}

static struct timeval tv_ns(hb_ns_t ns)
{
    if (ns < 0)
        ns = 0;
    return (struct timeval){.tv_sec = ns / HB_NS_PER_SEC, .tv_usec = (ns % HB_NS_PER_SEC) / 1000};
}

void px_fconn_accept(struct px_listener *l, int fd, const struct sockaddr *peer,
                     socklen_t peerlen)
{
    struct px_worker *w = l->w;
    struct px_fconn *fc = calloc(1, sizeof *fc);
    SSL *ssl = fc && l->tls ? px_tls_new_ssl(l->tls) : NULL;
    if (!fc || (l->tls && !ssl)) {
        hb_warn("listener %s: accept: out of memory, connection closed", l->label);
        free(fc);
        close(fd);
        return;
    }
    fc->w = w;
    fc->l = l;
    fc->fd = fd;
    fc->handshaking = ssl != NULL;
    fc->sniffing = ssl == NULL; /* cleartext: proxy/sniff.c */
    fc->io.fd = fd;
    format_peer(fc, peer);
    hb_list_init(&fc->dead);
    fc->ev_read = event_new(w->base, fd, EV_READ | EV_PERSIST, on_read, fc);
    fc->ev_write = event_new(w->base, fd, EV_WRITE, on_write, fc);
    fc->ev_timer = evtimer_new(w->base, on_timer, fc);
    fc->ev_flush = event_new(w->base, -1, 0, on_flush, fc);
    hb_list_push_back(&w->conns, &fc->link);
    w->nconns++;
    l->nconns++; /* listeners[].max_connections: proxy/listener.h */
    const struct cfg_tls *tc = &l->cfg->tls_cfg;
    if ((ssl && px_tls_io_init(&fc->io, ssl, fd, tc->small_records,
                               (hb_ns_t)tc->small_records_idle_ms * HB_NS_PER_MS) != 0) || !fc->ev_read || !fc->ev_write ||
        !fc->ev_timer || !fc->ev_flush) {
        if (ssl && !fc->io.ssl)
            SSL_free(ssl);
        hb_warn("client %s: out of memory, connection closed", fc->peer);
        px_fconn_close(fc);
        return;
    }
    event_add(fc->ev_read, NULL);
    struct timeval tv = tv_ns((hb_ns_t)w->cfg->limits.handshake_timeout_ms * HB_NS_PER_MS);
    evtimer_add(fc->ev_timer, &tv);
}

void px_fconn_close(struct px_fconn *fc)
{
    if (fc->h1) {
        px_exchange_abort_all(fc);
        px_h1_free(fc);
    }
    if (fc->h2) {
        int64_t code = h2_conn_goaway_sent_code(fc->h2);
        if (code >= 0)
            hb_info("client %s: connection closed after GOAWAY %s (%s)", fc->peer,
                    h2_error_name((uint32_t)code), h2_conn_error_reason(fc->h2));
        px_exchange_abort_all(fc);
    }
    h2_conn_del(fc->h2);
    fc->h2 = NULL;
    if (fc->io.ssl) {
        px_tls_io_shutdown(&fc->io);
        px_tls_io_free(&fc->io);
    }
    if (fc->ev_read)
        event_free(fc->ev_read);
    if (fc->ev_write)
        event_free(fc->ev_write);
    if (fc->ev_timer)
        event_free(fc->ev_timer);
    if (fc->ev_flush)
        event_free(fc->ev_flush);
    px_authority_forget(fc);
    free(fc->streams);
    close(fc->fd);
    hb_list_remove(&fc->link);
    fc->w->nconns--;
    px_listener_closed(fc->l);
    free(fc);
}

void px_fconn_kick(struct px_fconn *fc)
{
    event_active(fc->ev_flush, EV_TIMEOUT, 0);
}

/* ---- HTTP/2 ------------------------------------------------------------------- */

static void budget(struct h2_budget_cfg *b, uint32_t per_sec)
{
    b->per_sec = per_sec;
    b->burst = per_sec > UINT32_MAX / 2 ? UINT32_MAX : per_sec * 2;
}

static void h2_config_from(const struct cfg *cfg, struct h2_config *h)
{
    h2_config_defaults(h);
    h->max_concurrent_streams = cfg->http2.max_concurrent_streams;
    h->initial_window_size = cfg->http2.initial_window_size;
    h->connection_window_size = cfg->http2.connection_window_size;
    h->max_frame_size = cfg->http2.max_frame_size;
    h->header_table_size = cfg->http2.header_table_size;
    h->max_header_list_size = cfg->http2.max_header_list_size;
    /* No extended CONNECT (RFC 8441) until WebSocket over h2 is proxied:
     * advertising it makes browsers open wss:// by CONNECT, which would get
     * 501. Without the setting a :protocol request is malformed (§3):
     * RST_STREAM(PROTOCOL_ERROR). */
    h->enable_connect_protocol = false;
    /* limits.max_header_count is checked in cb_request (431); the engine
     * decodes up to twice as many fields (plus the pseudo-header fields) so
     * that a request somewhat over the limit gets its 431, and refuses a
     * block with more (RST_STREAM PROTOCOL_ERROR) without keeping it. */
    h->max_header_fields = 2 * cfg->limits.max_header_count + 8;

    /* The configured rates become token buckets that allow a burst of two
     * seconds' worth at once: honest clients send control frames in bursts
     * (a browser's SETTINGS + WINDOW_UPDATE + PRIORITY at start-up). */
    budget(&h->reset_budget, cfg->http2.flood.rst_stream_per_sec);
    budget(&h->ping_budget, cfg->http2.flood.ping_per_sec);
    budget(&h->settings_budget, cfg->http2.flood.settings_per_sec);
    budget(&h->empty_budget, cfg->http2.flood.empty_frames_per_sec);
    budget(&h->priority_budget, cfg->http2.flood.priority_per_sec);
    budget(&h->window_update_budget, cfg->http2.flood.window_update_per_sec);
    h->max_queued_ping_acks = cfg->http2.flood.max_queued_control_frames;
    h->max_queued_settings_acks = cfg->http2.flood.max_queued_control_frames;
    h->max_queued_rst = cfg->http2.flood.max_queued_control_frames;
}

static void arm_timer(struct px_fconn *fc)
{
    hb_ns_t now = hb_time_now_ns();
    hb_ns_t next = px_h2_next_deadline(fc, h2_conn_next_timeout(fc->h2), now); /* timeouts.h */
    if (next == 0) {
        evtimer_del(fc->ev_timer);
        return;
    }
    struct timeval tv = tv_ns(next - now);
    evtimer_add(fc->ev_timer, &tv);
}

/* The socket is full: come back when it is writable, and close the
 * connection if the client stops reading for too long. Returns 0. */
static int wait_writable(struct px_fconn *fc)
{
    event_add(fc->ev_write, NULL);
    hb_ns_t now = hb_time_now_ns(), d = px_h2_send_stalled(fc, now); /* timeouts.h */
    struct timeval tv = tv_ns(d - now);
    if (d)
        evtimer_add(fc->ev_timer, &tv);
    return 0;
}

/* Writes what the engine has. Returns 0, or -1 when the connection must
 * close (fatal engine error, write error, or the engine is done). */
static int flush(struct px_fconn *fc)
{
    /* After a 101 to Upgrade: h2c, some clients (curl 7.88) cannot buffer
     * more than 32 KiB that arrive before they sent their preface. */
    if (fc->h2c_wait)
        return 0;
    for (;;) {
        const uint8_t *data;
        ptrdiff_t n = h2_conn_send(fc->h2, &data);
        if (n < 0) {
            hb_warn("client %s: out of memory in the HTTP/2 engine, connection closed",
                    fc->peer);
            return -1;
        }
        if (n == 0)
            break;
        ssize_t w = px_conn_write(&fc->io, data, (size_t)n, hb_time_now_ns());
        if (w == PX_IO_WANT_WRITE || w == PX_IO_WANT_READ)
            return wait_writable(fc);
        if (w < 0) {
            hb_debug("client %s: TLS write error", fc->peer);
            return -1;
        }
        h2_conn_sent(fc->h2, (size_t)w);
        fc->sent += (uint64_t)w;
    }
    /* The pass's records leave in one write() (proxy/tls_bio.h). */
    int f = px_conn_flush(&fc->io);
    if (f == PX_IO_WANT_WRITE)
        return wait_writable(fc);
    if (f < 0) {
        hb_debug("client %s: TLS write error", fc->peer);
        return -1;
    }
    fc->rate_start = 0; /* everything is out: no send-rate window */
    event_del(fc->ev_write);
    if (h2_conn_want_close(fc->h2)) {
        hb_debug("client %s: HTTP/2 connection done", fc->peer);
        return -1;
    }
    arm_timer(fc);
    return 0;
}

static int start_h2(struct px_fconn *fc)
{
    if (px_tls_alpn_version(fc->io.ssl) != 2) {
        /* ALPN http/1.1, or none (RFC 7301 §3.2: then HTTP/1.1). */
        fc->handshaking = false;
        evtimer_del(fc->ev_timer);
        if (!(fc->l->cfg->protocols & CFG_PROTO_HTTP11)) {
            hb_info("client %s: no ALPN h2 on a listener without http/1.1, closed", fc->peer);
            return -1;
        }
        if (px_h1_start(fc) != 0) {
            hb_warn("client %s: out of memory, connection closed", fc->peer);
            return -1;
        }
        return 0;
    }
    return px_fconn_start_h2(fc);
}

int px_fconn_start_h2(struct px_fconn *fc)
{
    struct h2_config hc;
    h2_config_from(fc->w->cfg, &hc);
    fc->h2 = h2_conn_new(H2_ROLE_SERVER, &hc, &callbacks, fc);
    if (!fc->h2) {
        hb_warn("client %s: cannot create the HTTP/2 connection (out of memory)", fc->peer);
        return -1;
    }
    fc->handshaking = false;
    evtimer_del(fc->ev_timer);
    return 0;
}

/* Returns 0 to go on, -1 to close. */
static int do_handshake(struct px_fconn *fc)
{
    int r = px_tls_io_handshake(&fc->io);
    if (r == PX_IO_WANT_WRITE) {
        event_add(fc->ev_write, NULL);
        return 0;
    }
    if (r == PX_IO_WANT_READ)
        return 0;
    if (r != 1) {
        hb_debug("client %s: TLS handshake failed", fc->peer);
        return -1;
    }
    return start_h2(fc);
}

static int read_client(struct px_fconn *fc)
{
    uint8_t buf[READ_BUF];
    for (int i = 0; i < READS_PER_EVENT; i++) {
        ssize_t n = px_conn_read(&fc->io, buf, sizeof buf);
        if (n == PX_IO_WANT_READ)
            return 0;
        if (n == PX_IO_WANT_WRITE) {
            event_add(fc->ev_write, NULL);
            return 0;
        }
        if (n < 0) {
            hb_debug("client %s: %s", fc->peer, n == PX_IO_EOF ? "closed the connection"
                                                              : "TLS read error");
            return -1;
        }
        fc->h2c_wait = false;
        if (h2_conn_recv(fc->h2, buf, (size_t)n, hb_time_now_ns()) < 0) {
            hb_warn("client %s: out of memory in the HTTP/2 engine, connection closed",
                    fc->peer);
            return -1;
        }
    }
    /* Still more to read: come back after other connections had a turn. */
    if (px_conn_pending(&fc->io))
        event_active(fc->ev_read, EV_READ, 0);
    return 0;
}

/* HTTP/1.1 connections run in proxy/h1_frontend.c. */
static void step_h1(struct px_fconn *fc, bool timer)
{
    int rc = px_h1_run(fc, timer);
    if (rc == 0 && !fc->h1 && fc->h2)
        rc = flush(fc); /* upgraded to h2c (proxy/h2c_upgrade.c) */
    if (rc != 0)
        px_fconn_close(fc);
    else
        px_exchange_reap(fc);
}

static void step(struct px_fconn *fc, bool readable)
{
    int rc = 0;
    if (fc->sniffing) {
        rc = px_sniff(fc);
        if (rc == 0)
            return;
        rc = rc < 0 ? -1 : 0;
        if (rc == 0)
            evtimer_del(fc->ev_timer);
        readable = true;
    } else if (fc->handshaking) {
        rc = do_handshake(fc);
        readable = !fc->handshaking; /* the client's first bytes may be here */
    }
    if (rc == 0 && fc->h1) {
        step_h1(fc, false);
        return;
    }
    if (rc == 0 && fc->h2 && readable)
        rc = read_client(fc);
    if (rc == 0 && fc->h2)
        rc = flush(fc);
    if (rc != 0)
        px_fconn_close(fc);
    else
        px_exchange_reap(fc);
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
    struct px_fconn *fc = arg;
    px_conn_readable(&fc->io); /* ev_read stays armed while we wait for input */
    step(fc, true);
}

static void on_write(evutil_socket_t fd, short what, void *arg)
{
    struct px_fconn *fc = arg;
    /* A TLS write that wanted the socket may also unblock reading. */
    step(fc, !fc->handshaking);
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
    struct px_fconn *fc = arg;
    if (fc->h1)
        step_h1(fc, false);
    else if (fc->h2 && flush(fc) != 0)
        px_fconn_close(fc);
    else
        px_exchange_reap(fc);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct px_fconn *fc = arg;
    if (fc->handshaking || fc->sniffing || fc->h2c_wait) {
        hb_info("client %s: %s timed out", fc->peer,
                fc->handshaking ? "TLS handshake"
                : fc->sniffing  ? "first request bytes"
                                : "client preface after 101 Switching Protocols");
        px_fconn_close(fc);
        return;
    }
    if (fc->h1) {
        step_h1(fc, true);
        return;
    }
    if (!px_h2_rate_ok(fc, hb_time_now_ns())) {
        px_fconn_close(fc);
        return;
    }
    px_h2_idle_check(fc, hb_time_now_ns());
    if (h2_conn_on_timeout(fc->h2, hb_time_now_ns()) != 0 || flush(fc) != 0)
        px_fconn_close(fc);
    else
        px_exchange_reap(fc);
}
