/* proxy/front/h2.c — HTTP/2 client connections: the engine (core/h2_conn)
 * fed with the connection's bytes, and the HTTP/2 side of px_front_ops. */
#include "proxy/front/h2.h"

#include <event2/event.h>

#include "core/err.h"
#include "core/h2_conn.h"
#include "core/log.h"
#include "core/time.h"
#include "proxy/exchange/exchange.h"
#include "proxy/front/conn.h"
#include "proxy/front/front.h"
#include "proxy/front/rate.h"
#include "proxy/obs/hooks.h"
#include "proxy/worker.h"

#define READ_BUF 16384
#define READS_PER_EVENT 16 /* fairness between connections of a worker */

/* ---- engine callbacks ------------------------------------------------------- */

static void cb_request(void *ud, uint32_t sid, const struct hb_msg *req, bool end_stream)
{
    /* Not admitted: answered, and the body is dropped by cb_data. */
    px_exchange_start(ud, sid, req, end_stream);
}

static void cb_data(void *ud, uint32_t sid, const uint8_t *data, size_t len, bool end)
{
    struct px_fconn *fc = ud;
    struct px_exchange *ex = h2_conn_stream_user_data(fc->h2, sid);
    if (ex)
        px_exchange_on_data(ex, data, len, end);
    else if (len)
        h2_conn_consumed(fc->h2, sid, len); /* answered without a backend */
}

static void cb_trailers(void *ud, uint32_t sid, const struct hb_msg *trailers)
{
    struct px_fconn *fc = ud;
    struct px_exchange *ex = h2_conn_stream_user_data(fc->h2, sid);
    if (ex)
        px_exchange_on_trailers(ex, trailers);
}

static void cb_close(void *ud, uint32_t sid, uint32_t code)
{
    struct px_fconn *fc = ud;
    struct px_exchange *ex = h2_conn_stream_user_data(fc->h2, sid);
    if (ex)
        px_exchange_on_close(ex, code);
}

static ptrdiff_t cb_read_data(void *ud, uint32_t sid, uint8_t *dst, size_t max, bool *eof)
{
    struct px_fconn *fc = ud;
    struct px_exchange *ex = h2_conn_stream_user_data(fc->h2, sid);
    if (!ex)
        return -1;
    return px_exchange_read_data(ex, dst, max, eof);
}

/* Stream errors are counted here; connection errors when the connection
 * ends (op_free: its GOAWAY code, also for errors raised outside a
 * callback). */
static void cb_protocol_error(void *ud, uint32_t sid, uint32_t code, const char *reason)
{
    (void)reason;
    if (sid != 0)
        px_stats_h2_stream_error(ud, code);
}

static const struct h2_callbacks callbacks = {
    .on_protocol_error = cb_protocol_error,
    .on_request = cb_request,
    .on_data = cb_data,
    .on_trailers = cb_trailers,
    .on_stream_close = cb_close,
    .read_data = cb_read_data,
};

/* ---- HTTP/2 ------------------------------------------------------------------- */

static void budget(struct h2_budget_cfg *b, uint32_t per_sec)
{
    b->per_sec = per_sec;
    b->burst = per_sec > UINT32_MAX / 2 ? UINT32_MAX : per_sec * 2;
}

static void h2_config_from(const struct cfg *cfg, const struct cfg_listener *lc,
                           struct h2_config *h)
{
    h2_config_defaults(h);
    h->max_concurrent_streams = cfg->http2.max_concurrent_streams;
    h->initial_window_size = cfg->http2.initial_window_size;
    h->connection_window_size = cfg->http2.connection_window_size;
    h->max_window_size = cfg->http2.max_window_size;
    h->max_connection_window_size = cfg->http2.max_connection_window_size;
    h->max_frame_size = cfg->http2.max_frame_size;
    h->header_table_size = cfg->http2.header_table_size;
    h->max_header_list_size = cfg->http2.max_header_list_size;
    h->priority_tracked_streams = cfg->http2.priority_tracked_streams;
    /* Extended CONNECT (RFC 8441) only where WebSocket is proxied
     * (listeners[].websocket, proxy/exchange/tunnel.h): advertising it makes
     * browsers open wss:// by CONNECT. Without the setting a :protocol
     * request is malformed (§3): RST_STREAM(PROTOCOL_ERROR). */
    h->enable_connect_protocol = lc && lc->websocket;
    /* Push (routes[].push, proxy/exchange/push.h) only where a route pushes:
     * elsewhere a client's ENABLE_PUSH changes nothing. */
    h->enable_push = cfg->push_any;
    /* limits.max_header_count is checked at admission (431, proxy/exchange/admit.c);
     * the engine decodes up to twice as many fields (plus the pseudo-header
     * fields) so that a request somewhat over the limit gets its 431, and
     * refuses a block with more (RST_STREAM PROTOCOL_ERROR) without keeping
     * it. */
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

/* ---- timeouts the engine does not keep itself ------------------------------------
 * Idle: no open stream for limits.h2_idle_timeout_ms. Request heads
 * (slowloris, as the HTTP/1.1 frontend): the first request's headers must
 * be complete within limits.request_header_timeout_ms of accept, and every
 * header block within that time of its start. Send rate: proxy/front/rate.h. */

static hb_ns_t head_deadline(const struct px_fconn *fc)
{
    if (h2_conn_goaway_sent_code(fc->h2) >= 0)
        return 0;
    hb_ns_t t = hb_time_ms(fc->w->cfg->limits.request_header_timeout_ms);
    hb_ns_t since = h2_conn_header_block_since(fc->h2);
    hb_ns_t d = since ? since + t : 0;
    if (!h2_conn_had_request(fc->h2)) {
        hb_ns_t first = fc->accepted + t;
        d = d == 0 || first < d ? first : d;
    }
    return d;
}

/* From the timer: when a request head is late, GOAWAY NO_ERROR (a stream
 * that was never opened is not in flight; open ones are closed with it:
 * a client that trickles a header block is not served). True when sent. */
static bool head_check(struct px_fconn *fc, hb_ns_t now)
{
    hb_ns_t d = head_deadline(fc);
    if (d == 0 || now < d)
        return false;
    hb_info("client %s: %s within limits.request_header_timeout_ms, GOAWAY", fc->peer,
            h2_conn_had_request(fc->h2) ? "request header block not complete"
                                        : "no complete request headers");
    h2_conn_goaway(fc->h2, H2_NO_ERROR, false);
    return true;
}

static hb_ns_t idle_deadline(const struct px_fconn *fc)
{
    uint32_t ms = fc->w->cfg->limits.h2_idle_timeout_ms;
    return fc->idle_since && ms ? fc->idle_since + hb_time_ms(ms) : 0;
}

/* Updates fc's idle clock (after each engine step) and returns the earliest
 * of the engine's deadline engine_next (0: none) and the idle deadline. */
static hb_ns_t next_deadline(struct px_fconn *fc, hb_ns_t engine_next, hb_ns_t now)
{
    if (h2_conn_open_streams(fc->h2) > 0 || h2_conn_goaway_sent_code(fc->h2) >= 0)
        fc->idle_since = 0;
    else if (fc->idle_since == 0)
        fc->idle_since = now;
    hb_ns_t d = engine_next;
    hb_ns_t more[2] = {idle_deadline(fc), head_deadline(fc)};
    for (int i = 0; i < 2; i++)
        if (more[i] && (d == 0 || more[i] < d))
            d = more[i];
    return d;
}

/* From the timer: when the idle deadline passed, queues GOAWAY NO_ERROR
 * (RFC 9113 §6.8, one step: no stream can be in flight) and returns true
 * (the flush after it lets the engine ask to close). */
static bool idle_check(struct px_fconn *fc, hb_ns_t now)
{
    hb_ns_t idle = idle_deadline(fc);
    if (idle == 0 || now < idle || h2_conn_open_streams(fc->h2) > 0)
        return false;
    hb_info("client %s: HTTP/2 connection idle for limits.h2_idle_timeout_ms, GOAWAY", fc->peer);
    fc->idle_since = 0;
    h2_conn_goaway(fc->h2, H2_NO_ERROR, false);
    return true;
}

static void arm_timer(struct px_fconn *fc)
{
    hb_ns_t now = hb_time_now_ns();
    px_fconn_timer(fc, next_deadline(fc, h2_conn_next_timeout(fc->h2), now), now);
}

/* The socket is full: come back when it is writable, and close the
 * connection if the client stops reading for too long. Returns 0. */
static int wait_writable(struct px_fconn *fc)
{
    event_add(fc->ev_write, NULL);
    hb_ns_t now = hb_time_now_ns();
    hb_ns_t d = px_rate_waiting(&fc->rate, &fc->w->cfg->limits, fc->sent, now);
    if (d)
        px_fconn_timer(fc, d, now);
    return 0;
}

/* Writes what the engine has. Returns 0, or -1 when the connection must
 * close (fatal engine error, write error, or the engine is done). */
static int flush(struct px_fconn *fc)
{
    /* After a 101 to Upgrade: h2c, some clients (curl 7.88) cannot buffer
     * more than 32 KiB that arrive before they sent their preface. */
    if (fc->state == PX_FCONN_H2C_WAIT)
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
        ssize_t w = px_fconn_write(&fc->io, data, (size_t)n, hb_time_now_ns());
        if (w == PX_IO_WANT_WRITE || w == PX_IO_WANT_READ)
            return wait_writable(fc);
        if (w < 0) {
            hb_debug("client %s: TLS write error", fc->peer);
            return -1;
        }
        h2_conn_sent(fc->h2, (size_t)w);
        fc->sent += (uint64_t)w;
    }
    /* The pass's records leave in one write() (proxy/tls/tls_bio.h). */
    int f = px_fconn_flush(&fc->io);
    if (f == PX_IO_WANT_WRITE)
        return wait_writable(fc);
    if (f < 0) {
        hb_debug("client %s: TLS write error", fc->peer);
        return -1;
    }
    px_rate_idle(&fc->rate); /* everything is out: no send-rate window */
    event_del(fc->ev_write);
    if (h2_conn_want_close(fc->h2)) {
        hb_debug("client %s: HTTP/2 connection done", fc->peer);
        return -1;
    }
    arm_timer(fc);
    return 0;
}

static int read_client(struct px_fconn *fc)
{
    uint8_t buf[READ_BUF];
    for (int i = 0; i < READS_PER_EVENT; i++) {
        ssize_t n = px_fconn_read(&fc->io, buf, sizeof buf);
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
        if (fc->state == PX_FCONN_H2C_WAIT)
            px_fconn_set_state(fc, PX_FCONN_H2);
        if (h2_conn_recv(fc->h2, buf, (size_t)n, hb_time_now_ns()) < 0) {
            hb_warn("client %s: out of memory in the HTTP/2 engine, connection closed",
                    fc->peer);
            return -1;
        }
    }
    /* Still more to read: come back after other connections had a turn. */
    if (px_fconn_pending(&fc->io))
        event_active(fc->ev_read, EV_READ, 0);
    return 0;
}


struct h2_conn *px_h2_engine_new(struct px_fconn *fc)
{
    struct h2_config hc;
    h2_config_from(fc->w->cfg, fc->l ? fc->l->cfg : NULL, &hc);
    struct h2_conn *c = h2_conn_new(H2_ROLE_SERVER, &hc, &callbacks, fc);
    if (!c)
        hb_warn("client %s: cannot create the HTTP/2 connection (out of memory)", fc->peer);
    return c;
}

int px_h2_start(struct px_fconn *fc)
{
    fc->h2 = px_h2_engine_new(fc);
    if (!fc->h2)
        return -1;
    px_fconn_set_state(fc, PX_FCONN_H2);
    evtimer_del(fc->ev_timer);
    return 0;
}

/* ---- px_front_ops ------------------------------------------------------------ */

/* Whatever the engine queued leaves once this pass of the event loop is
 * done; an error code still may have queued something (RST_STREAM). */
static int kicked(struct px_fconn *fc, int rc)
{
    px_fconn_kick(fc);
    return rc;
}

static int op_submit_response(struct px_fconn *fc, uint32_t sid, const struct hb_msg *resp,
                              bool end)
{
    return kicked(fc, h2_conn_submit_response(fc->h2, sid, resp, end));
}

static int op_submit_trailers(struct px_fconn *fc, uint32_t sid, const struct hb_msg *trailers)
{
    return kicked(fc, h2_conn_submit_trailers(fc->h2, sid, trailers));
}

static int op_resume(struct px_fconn *fc, uint32_t sid)
{
    return kicked(fc, h2_conn_resume_data(fc->h2, sid));
}

static int op_consumed(struct px_fconn *fc, uint32_t sid, size_t n)
{
    return kicked(fc, h2_conn_consumed(fc->h2, sid, n));
}

static int op_reset(struct px_fconn *fc, uint32_t sid, uint32_t code)
{
    return kicked(fc, h2_conn_reset_stream(fc->h2, sid, code));
}

static void op_bind(struct px_fconn *fc, uint32_t sid, struct px_exchange *ex)
{
    h2_conn_stream_set_user_data(fc->h2, sid, ex);
}

static bool op_push_allowed(const struct px_fconn *fc)
{
    return fc->h2 && h2_conn_push_allowed(fc->h2);
}

static int64_t op_push_promise(struct px_fconn *fc, uint32_t sid, const struct hb_msg *req)
{
    int64_t id = h2_conn_submit_push_promise(fc->h2, sid, req);
    px_fconn_kick(fc);
    return id;
}

static void op_drain(struct px_fconn *fc)
{
    h2_conn_goaway(fc->h2, H2_NO_ERROR, true);
    px_fconn_kick(fc);
}

static int op_run(struct px_fconn *fc, enum px_fconn_event ev)
{
    switch (ev) {
    case PX_FCONN_EV_READ:
    case PX_FCONN_EV_WRITE:
        if (read_client(fc) != 0)
            return -1;
        return flush(fc);
    case PX_FCONN_EV_KICK:
        return flush(fc);
    case PX_FCONN_EV_TIMER:
        break;
    }
    if (!px_rate_ok(&fc->rate, &fc->w->cfg->limits, fc->sent, hb_time_now_ns(), fc->peer))
        return -1;
    if (!head_check(fc, hb_time_now_ns()))
        idle_check(fc, hb_time_now_ns());
    if (h2_conn_on_timeout(fc->h2, hb_time_now_ns()) != 0)
        return -1;
    return flush(fc);
}

static void op_free(struct px_fconn *fc)
{
    int64_t code = h2_conn_goaway_sent_code(fc->h2);
    px_stats_h2_conn_end(fc, code, h2_conn_flood(fc->h2));
    if (code >= 0)
        hb_info("client %s: connection closed after GOAWAY %s (%s)", fc->peer,
                h2_error_name((uint32_t)code), h2_conn_error_reason(fc->h2));
    h2_conn_del(fc->h2);
    fc->h2 = NULL;
}

static void op_wire(const struct px_fconn *fc, uint32_t sid, uint64_t *in, uint64_t *out)
{
    struct h2_wire w = fc->h2 ? h2_conn_stream_wire(fc->h2, sid) : (struct h2_wire){0, 0};
    *in = w.in;
    *out = w.out;
}

const struct px_front_ops px_h2_front_ops = {
    .name = "h2",
    .pulls_while_ready = true, /* a stream with data stays scheduled */
    .submit_response = op_submit_response,
    .submit_trailers = op_submit_trailers,
    .resume = op_resume,
    .consumed = op_consumed,
    .reset = op_reset,
    .bind = op_bind,
    .wire = op_wire,
    .push_allowed = op_push_allowed,
    .push_promise = op_push_promise,
    .drain = op_drain,
    .run = op_run,
    .free = op_free,
};
