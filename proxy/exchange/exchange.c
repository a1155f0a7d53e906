/* proxy/exchange/exchange.c — an exchange's life cycle and its request side. */
#include "proxy/exchange/exchange_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/h1_write.h"
#include "core/h2_conn.h"
#include "core/health.h"
#include "core/log.h"
#include "proxy/backend/health_state.h"
#include "proxy/exchange/admit.h"
#include "proxy/exchange/balance.h"
#include "proxy/exchange/early.h"
#include "proxy/exchange/early_hints.h"
#include "proxy/exchange/push.h"
#include "proxy/exchange/forward_headers.h"
#include "proxy/exchange/pp_out.h"
#include "proxy/front/front.h"
#include "proxy/front/conn.h"
#include "proxy/obs/hooks.h"
#include "proxy/exchange/route_edit.h"
#include "proxy/exchange/tunnel.h"
#include "proxy/worker.h"

/* A recycled exchange keeps a response buffer up to this size (the head
 * phase reads 16 KiB; bulk bodies grow it to limits.stream_buffer_size). */
#define EX_KEEP_RIN (16u * 1024u)

static void on_ready(void *owner, struct px_bconn *c);
static void on_fail(void *owner, int err);
static void on_readable(void *owner, struct px_bconn *c);
static void on_writable(void *owner, struct px_bconn *c);
static void on_timeout(void *owner, struct px_bconn *c);

static const struct px_bconn_ops bconn_ops = {
    .on_ready = on_ready,
    .on_fail = on_fail,
    .on_readable = on_readable,
    .on_writable = on_writable,
    .on_timeout = on_timeout,
};

const struct px_backend_ops *px_ex_be(const struct px_exchange *ex)
{
    return ex->fc->w->backend;
}

const char *px_ex_backend_name(const struct px_exchange *ex)
{
    return ex->pool ? px_ex_be(ex)->name(ex->pool) : "-";
}

/* The one way a request is answered by the proxy itself: a head without a
 * body. */
static void answer(struct px_fconn *fc, uint32_t sid, int status)
{
    struct hb_msg resp = {.status = status};
    px_front_submit_response(fc, sid, &resp, true);
}

/* A request that gets no exchange: answered, and it ends here. */
static void answer_local(struct px_fconn *fc, uint32_t sid, int status, const char *why,
                         hb_ns_t start, const struct hb_msg *req, const struct px_ex_ids *ids,
                         uint32_t pushed_by)
{
    if (status == 421 || status == 413 || status == 431 || status == 429 || status == 425)
        hb_info("client %s stream %u: %s → %d", fc->peer, sid, why, status);
    else
        hb_debug("client %s stream %u: %s → %d", fc->peer, sid, why, status);
    struct px_ex_record r = {.sid = sid, .status = status, .reason = PX_EX_END_LOCAL,
                             .upstream = "-", .backend = "-", .t_start = start, .detail = why,
                             .pushed_by = pushed_by};
    uint64_t out_before;
    px_front_wire(fc, sid, &r.wire_in, &out_before);
    answer(fc, sid, status);
    /* HTTP/1.1 counts the answer now; an h2 stream may be gone already. */
    px_front_wire(fc, sid, &(uint64_t){0}, &r.wire_out);
    px_ex_rec_view(fc, req, ids, &r);
    r.t_end = hb_time_now_ns();
    px_ex_record_done(fc, &r);
}

void px_exchange_record_refused_head(struct px_fconn *fc, uint32_t sid, int status,
                                     const char *why, hb_ns_t start)
{
    hb_ns_t now = hb_time_now_ns();
    struct px_ex_record r = {
        .sid = sid, .status = status,
        .reason = status == 408 ? PX_EX_END_CLIENT_TIMEOUT : PX_EX_END_BAD_REQUEST,
        .upstream = "-", .backend = "-", .t_start = start ? start : now, .t_end = now,
        .detail = why};
    px_ex_record_done(fc, &r);
}

void px_ex_drop_backend(struct px_exchange *ex, bool reusable)
{
    if (ex->state == PX_EX_CONNECTING)
        px_ex_be(ex)->cancel(&ex->wait); /* a no-op unless a lease is pending */
    if (ex->bc) {
        struct px_bconn *c = ex->bc;
        ex->bc = NULL;
        if (reusable)
            px_ex_be(ex)->release(c);
        else
            px_ex_be(ex)->close(c);
    }
}

static enum px_ex_end end_of(int status)
{
    return status == 504 ? PX_EX_END_TIMEOUT
           : status == 413 ? PX_EX_END_BAD_REQUEST
                           : PX_EX_END_BACKEND_ERROR;
}

/* Ends ex with status (no head sent yet) or a reset with code rst, as end;
 * logged at warn (a backend's fault), info (a client's), or not at all (a
 * state that was logged once already: no healthy server). */
static void fail_as(struct px_exchange *ex, int status, const char *reason, int log,
                    enum px_ex_end end, uint32_t rst)
{
    struct px_fconn *fc = ex->fc;
    char what[32];
    bool sent = px_ex_head_sent(ex);
    if (sent)
        snprintf(what, sizeof what, "RST_STREAM %s", h2_error_name(rst));
    else
        snprintf(what, sizeof what, "%d", status);
    if (log == HB_LOG_WARN)
        hb_warn("client %s stream %u backend %s: %s → %s", fc->peer, ex->sid,
                px_ex_backend_name(ex), reason, what);
    else if (log == HB_LOG_INFO)
        hb_info("client %s stream %u backend %s: %s → %s; backend connection closed", fc->peer,
                ex->sid, px_ex_backend_name(ex), reason, what);
    px_ex_rec_detail(ex, "%s", reason);
    px_ex_drop_backend(ex, false);
    ex->state = PX_EX_FAILED;
    ex->end = end;
    if (sent) {
        px_front_reset_stream(fc, ex->sid, rst);
    } else {
        ex->status = status;
        answer(fc, ex->sid, status);
    }
    /* Whatever the client still sends is discarded: credit it back. */
    if (ex->uncredited) {
        px_front_consumed(fc, ex->sid, ex->uncredited);
        ex->uncredited = 0;
    }
    hb_buf_free(&ex->reqbuf);
}

static void fail(struct px_exchange *ex, int status, const char *reason, bool log)
{
    fail_as(ex, status, reason, log ? HB_LOG_WARN : HB_LOG_OFF, end_of(status),
            H2_INTERNAL_ERROR);
}

void px_ex_fail(struct px_exchange *ex, int status, const char *reason)
{
    fail(ex, status, reason, true);
}

void px_ex_client_stalled(struct px_exchange *ex, bool request)
{
    const struct cfg_limits *l = &ex->fc->w->cfg->limits;
    struct px_upstream *up = ex->up;
    px_ctr *st = up->st && ex->server < up->npools ? up->st[ex->server] : NULL;
    if (st)
        px_ctr_add(&st[request ? PX_SS_STALL_BODY : PX_SS_STALL_RESP], 1);
    char reason[96];
    if (request)
        snprintf(reason, sizeof reason,
                 "no request body byte from the client for %u ms (limits.request_body_timeout)",
                 l->request_body_timeout_ms);
    else
        snprintf(reason, sizeof reason,
                 "client took no response byte for %u ms (limits.response_stall_timeout)",
                 l->response_stall_timeout_ms);
    /* CANCEL: the proxy no longer serves the stream; the client broke no
     * rule of the protocol (a window may stay closed), so not a
     * protocol or internal error (RFC 9113 §7). */
    fail_as(ex, 408, reason, HB_LOG_INFO, PX_EX_END_CLIENT_STALLED, H2_CANCEL);
}

bool px_ex_can_retry(const struct px_exchange *ex)
{
    return !ex->retried && !ex->got_byte && ex->idempotent && !ex->body_written && ex->bc &&
           px_ex_be(ex)->reused(ex->bc);
}

bool px_ex_retry(struct px_exchange *ex, const char *what)
{
    if (!px_ex_can_retry(ex))
        return false;
    hb_info("client %s stream %u backend %s: reused connection %s, retrying once", ex->fc->peer,
            ex->sid, px_ex_backend_name(ex), what);
    px_ex_drop_backend(ex, false);
    ex->retried = true;
    ex->head_off = 0;
    px_ex_connect(ex, true);
    return true;
}

static void credit(struct px_exchange *ex, size_t written)
{
    size_t n = written < ex->uncredited ? written : ex->uncredited;
    if (hb_buf_len(&ex->reqbuf) == 0)
        n = ex->uncredited; /* the rest was framing; all body bytes are out */
    if (n) {
        ex->uncredited -= n;
        px_front_consumed(ex->fc, ex->sid, n);
    }
}

/* Writes the head and buffered body. Returns 0 (all out, or waiting for
 * the socket) or -1 on a write error (errno set). */
/* The loop of px_ex_pump_request: head, then (body) the buffered body,
 * each write re-arming the backend timer with timeout. Inlined twice with
 * constants, so an ordinary request runs the same code as before tunnels. */
static inline __attribute__((always_inline)) int pump(struct px_exchange *ex, bool body,
                                                      uint32_t timeout)
{
    while (ex->head_off < ex->head_len || (body && hb_buf_len(&ex->reqbuf))) {
        struct iovec iov[2];
        int n = 0;
        if (ex->head_off < ex->head_len)
            iov[n++] = (struct iovec){ex->head + ex->head_off, ex->head_len - ex->head_off};
        if (body && hb_buf_len(&ex->reqbuf))
            iov[n++] = (struct iovec){hb_buf_rptr(&ex->reqbuf), hb_buf_len(&ex->reqbuf)};
        ssize_t w = px_ex_be(ex)->send(ex->bc, iov, n);
        if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
            px_ex_be(ex)->want_write(ex->bc, true);
            return 0;
        }
        if (w < 0)
            return -1;
        size_t left = (size_t)w;
        size_t h = ex->head_len - ex->head_off;
        h = left < h ? left : h;
        ex->head_off += h;
        left -= h;
        if (left) {
            hb_buf_consume(&ex->reqbuf, left);
            ex->body_written = true;
            credit(ex, left);
        }
        px_ex_be(ex)->set_timeout(ex->bc, timeout);
    }
    px_ex_be(ex)->want_write(ex->bc, false);
    if (ex->req_end) /* else more body comes: keep the storage */
        hb_buf_release_if_empty(&ex->reqbuf);
    return 0;
}

static struct hb_outlier_cfg outlier_cfg(const struct cfg_outlier *o)
{
    return (struct hb_outlier_cfg){.threshold = o->consecutive_failures,
                                   .base_ns = (uint64_t)o->base_ejection_ms * 1000000u,
                                   .max_ns = (uint64_t)o->max_ejection_ms * 1000000u,
                                   .max_percent = o->max_ejected_percent};
}

void px_ex_observe(struct px_exchange *ex, enum hb_outcome oc)
{
    struct px_upstream *up = ex->up;
    const struct cfg_outlier *oc_cfg = &up->cfg->outlier_detection;
    if (!oc_cfg->enabled || ex->server >= up->npools || !up->out)
        return;
    struct hb_outlier *o = &up->out[ex->server];
    if (oc == HB_OUTCOME_OK) {
        hb_outlier_success(o);
        return;
    }
    if (!(oc_cfg->count & (1u << oc)))
        return;
    struct hb_outlier_cfg c = outlier_cfg(oc_cfg);
    uint64_t now = hb_time_now_ns();
    enum hb_outlier_ev ev = hb_outlier_failure(o, &c, up->n_ejected, up->npools, now);
    if (ev != HB_OUTLIER_EJECTED)
        return;
    up->n_ejected++;
    up->load[ex->server].healthy = false; /* for this request's next_server too */
    px_ctr *st = up->st ? up->st[ex->server] : NULL;
    if (st) {
        px_ctr_add(&st[PX_SS_EJECTIONS], 1);
        px_ctr_set(&st[PX_SS_EJECTED], 1);
    }
    hb_warn("worker %d: upstream %s server %s: ejected for %llu ms (%u failures in a row, last: "
            "%s; ejection %u)",
            ex->fc->w->id, up->cfg->name.s, px_ex_backend_name(ex),
            (unsigned long long)((o->until - now) / 1000000u),
            (unsigned)oc_cfg->consecutive_failures, hb_outcome_name(oc), (unsigned)o->ejections);
}

/* A tunnel request: its client bytes wait for the backend's 101
 * (tunnel.h); in the tunnel, tunnels.idle_timeout replaces read_timeout. */
static __attribute__((noinline)) int pump_tunnel(struct px_exchange *ex)
{
    if (ex->state != PX_EX_TUNNEL)
        return pump(ex, false, px_ex_try_timeout(ex));
    int rc = pump(ex, true, ex->fc->w->cfg->tunnels.idle_timeout_ms);
    if (rc == 0 && ex->state == PX_EX_TUNNEL)
        px_tunnel_written(ex);
    return rc;
}

/* The request is out except for body bytes the client has not sent yet:
 * the wait is the client's (limits.request_body_timeout), not the
 * backend's, also after a response head (a backend that streams its answer
 * while the body comes, as an echo does). A stalled response
 * (limits.response_stall_timeout) keeps its own clock. */
static __attribute__((noinline)) void arm_body_wait(struct px_exchange *ex)
{
    const struct cfg_limits *l = &ex->fc->w->cfg->limits;
    uint32_t ms = l->request_body_timeout_ms;
    bool wait = ms && !ex->req_end &&
                (ex->state == PX_EX_WAIT_HEAD || ex->state == PX_EX_BODY) && ex->bc &&
                ex->head_off == ex->head_len && hb_buf_len(&ex->reqbuf) == 0;
    if (ex->bc && ex->stalled)
        px_ex_be(ex)->set_timeout(ex->bc, l->response_stall_timeout_ms);
    else if (wait)
        px_ex_be(ex)->set_timeout(ex->bc, ms);
    else if (ex->body_wait && ex->bc)
        px_ex_be(ex)->set_timeout(ex->bc, px_ex_try_timeout(ex));
    ex->body_wait = wait;
}

int px_ex_pump_request(struct px_exchange *ex)
{
    if (ex->tun_kind)
        return pump_tunnel(ex);
    int rc = pump(ex, true, px_ex_try_timeout(ex));
    if (rc == 0 && (!ex->req_end || ex->body_wait)) /* not for a request without a body */
        arm_body_wait(ex);
    return rc;
}

void px_ex_write_failed(struct px_exchange *ex, int err)
{
    char reason[96];
    snprintf(reason, sizeof reason, "failed (%s)", strerror(err));
    if (px_ex_retry(ex, reason))
        return;
    if (!ex->got_byte) {
        px_ex_observe(ex, HB_OUTCOME_RESET);
        if (px_ex_retry_other(ex, CFG_RETRY_RESET, reason))
            return;
    }
    snprintf(reason, sizeof reason, "writing the request failed: %s", strerror(err));
    px_ex_fail(ex, 502, reason);
}

static void start_io(struct px_exchange *ex, struct px_bconn *c)
{
    ex->bc = c;
    ex->state = PX_EX_WAIT_HEAD;
    ex->rec.t_connected = hb_time_now_ns();
    h1_parser_reset(&ex->parser);
    if (px_ex_pump_request(ex) != 0)
        px_ex_write_failed(ex, errno);
}

static void on_ready(void *owner, struct px_bconn *c)
{
    start_io(owner, c);
}

static int fail_status(int err)
{
    return err == HB_ETIMEOUT ? 504 : (err == HB_ELIMIT ? 503 : 502);
}

static const char *fail_reason(int err)
{
    switch (err) {
    case HB_ETIMEOUT:
        return "connect timed out";
    case HB_ELIMIT:
        return "no backend connection free in time (pool queue)";
    case HB_ENOMEM:
        return "out of memory";
    case HB_EPROTO:
        return "TLS handshake failed";
    default:
        return "connect failed";
    }
}

static void on_fail(void *owner, int err)
{
    struct px_exchange *ex = owner;
    if (err == HB_EIO || err == HB_ETIMEOUT || err == HB_EPROTO)
        px_ex_observe(ex, HB_OUTCOME_CONNECT_FAILURE);
    if ((err == HB_EIO || err == HB_EPROTO) && px_ex_next_server(ex)) {
        px_ex_connect(ex, false);
        return;
    }
    px_ex_fail(ex, fail_status(err), fail_reason(err));
}

void px_ex_connect(struct px_exchange *ex, bool fresh)
{
    if (ex->server == PX_EX_NO_SERVER && ex->up->npools == 0) {
        /* Logged by the resolver thread (its names gave no address yet). */
        px_ex_rec_detail(ex, "no server address (DNS names not resolved yet)");
        fail(ex, 503, "no server address", false);
        return;
    }
    if (ex->server == PX_EX_NO_SERVER) {
        /* Logged once by the health-check thread when it happened. */
        px_ex_rec_detail(ex, "no healthy server (on_no_healthy: fail)");
        fail(ex, 503, "no healthy server", false);
        return;
    }
    uint8_t ppv = ex->up->cfg->proxy_protocol;
    if (ppv && !(ex->wait.pp = px_pp_out_client(ex->fc, ppv))) {
        px_ex_fail(ex, 502, "out of memory for the PROXY protocol header");
        return;
    }
    for (;;) {
        ex->state = PX_EX_CONNECTING;
        if (ex->server < ex->up->npools) {
            ex->pool = ex->up->pools[ex->server];
        } else if (!ex->pool) { /* (not reached: servers appear only between requests) */
            fail(ex, 503, "no server address", false);
            return;
        } /* else its address went away (DNS): a retry of its own stays on its pool */
        /* The share, the fair queue and per_client pools count by it: a
         * serial, never reused as an address could be after a close. */
        ex->wait.client = (uintptr_t)ex->fc->serial;
        struct px_bconn *c = NULL;
        int rc = px_ex_be(ex)->lease(ex->pool, &ex->wait, ex, &bconn_ops, fresh, &c);
        if (rc == 0) {
            if (c)
                start_io(ex, c); /* else on_ready or on_fail follows */
            return;
        }
        if (rc == HB_EIO)
            px_ex_observe(ex, HB_OUTCOME_CONNECT_FAILURE);
        if (rc == HB_EIO && px_ex_next_server(ex))
            continue;
        if (rc == HB_ELIMIT && px_pool_group_full(&ex->up->group)) {
            /* The upstream-wide pending cap: 503 at once (counted by the pool). */
            px_ex_fail(ex, 503, "upstream max_pending reached");
            return;
        }
        px_ex_fail(ex, fail_status(rc), rc == HB_ELIMIT ? "pool queue full" : fail_reason(rc));
        return;
    }
}

static void on_writable(void *owner, struct px_bconn *c)
{
    struct px_exchange *ex = owner;
    if (px_ex_pump_request(ex) != 0)
        px_ex_write_failed(ex, errno);
}

static void on_readable(void *owner, struct px_bconn *c)
{
    px_ex_on_readable(owner);
}

static void on_timeout(void *owner, struct px_bconn *c)
{
    px_ex_on_timeout(owner);
}

/* ---- starting an exchange -------------------------------------------------- */

static bool method_is(const struct hb_msg *m, const char *s)
{
    return hb_str_eq(m->method, hb_str_c(s));
}

/* RFC 9110 §9.2.2. */
static bool idempotent(const struct hb_msg *m)
{
    return method_is(m, "GET") || method_is(m, "HEAD") || method_is(m, "OPTIONS") ||
           method_is(m, "PUT") || method_is(m, "DELETE") || method_is(m, "TRACE");
}

static void framing(struct px_exchange *ex, const struct hb_msg *req, bool end_stream,
                    struct h1_write_opts *o)
{
    memset(o, 0, sizeof *o);
    if (end_stream) {
        /* RFC 9110 §8.6: a body-carrying method says "empty" explicitly. */
        bool body_method = method_is(req, "POST") || method_is(req, "PUT") ||
                           method_is(req, "PATCH");
        o->framing = body_method ? H1_FRAME_LENGTH : H1_FRAME_NONE;
        ex->req_end = true;
    } else if (req->flags & HB_MSG_HAS_CL) {
        o->framing = H1_FRAME_LENGTH;
        o->content_length = req->content_length;
    } else {
        o->framing = H1_FRAME_CHUNKED;
        ex->chunked = true;
    }
}

/* Writes the backend request head into ex->head. Returns 0 or a status. */
static int build_head(struct px_exchange *ex, const struct hb_msg *req, bool end_stream,
                      const struct px_ex_ids *ids)
{
    const struct cfg *cfg = ex->fc->w->cfg;
    char initial[2048];
    struct hb_arena a;
    hb_arena_init(&a, initial, sizeof initial, 4096, cfg->limits.max_request_header_size);
    const struct cfg_header_ops *edits = &ex->route->request_headers;
    size_t cap = px_fwd_fields_bound(req) + px_route_edit_extra(edits);
    struct hpack_field *fields = hb_arena_alloc(&a, cap * sizeof *fields);
    struct px_fwd_opts fo = {
        .x_forwarded_for = cfg->forwarded.x_forwarded_for,
        .x_forwarded_proto = cfg->forwarded.x_forwarded_proto,
        .forwarded = cfg->forwarded.forwarded,
        .via = cfg->forwarded.via,
        .proto = px_front_scheme(ex->fc),
        .client_addr = ex->fc->peer_addr,
        .keep_client_xff = cfg->forwarded.x_forwarded_for_mode == CFG_XFF_APPEND ||
                           ex->fc->fwd_trusted,
        .keep_client_xfp = ex->fc->fwd_trusted,
        .rid_name = hb_str_c(cfg->request_id.header.s),
        .rid = ids->rid,
        .traceparent = ids->tp_new ? ids->tp : HB_STR_NULL,
        .early_data = ex->early == PX_EX_EARLY_ADDED,
    };
    const struct cfg_tls *tc = &ex->fc->l->cfg->tls_cfg;
    if (ex->fc->l->cfg->tls && tc->client_auth != CFG_CLIENT_AUTH_NONE) {
        const struct px_client_cert *cc = ex->fc->cert;
        fo.cert_fields = true;
        fo.cert_names[0] = hb_str_c(tc->subject_header.s);
        fo.cert_names[1] = hb_str_c(tc->san_header.s);
        fo.cert_names[2] = hb_str_c(tc->hash_header.s);
        if (cc) {
            fo.cert_values[0] = hb_str_c(cc->subject);
            fo.cert_values[1] = hb_str_c(cc->san);
            fo.cert_values[2] = hb_str_c(cc->hash);
        }
    }
    struct hb_msg m = *req;
    size_t n = 0;
    int status = 0;
    if (!fields || px_fwd_build(req, &fo, &a, fields, cap, &n) != 0 ||
        px_route_edit_fields(edits, fields, &n, cap) != 0 ||
        px_route_rewrite_path(ex->route, req->path, &a, &m.path) != 0)
        status = 503;
    m.fields = fields;
    m.nfields = (uint32_t)n;
    struct h1_write_opts o;
    framing(ex, req, end_stream, &o);
    o.name_case = px_front_name_case(ex->up->cfg->header_case);
    struct hpack_field extra[PX_TUN_EXTRA];
    size_t nextra = 0;
    if (ex->tun_kind) { /* the tunnel's bytes follow the head unframed */
        nextra = px_tunnel_head(ex, req, &m, extra);
        o.framing = H1_FRAME_NONE;
        ex->chunked = false;
    }
    size_t bound = status ? 0 : h1_write_head_bound(&m, extra, nextra);
    if (!status && bound > ex->head_cap) { /* a recycled exchange keeps its storage */
        free(ex->head);
        ex->head = malloc(bound);
        ex->head_cap = ex->head ? bound : 0;
        if (!ex->head)
            status = 503;
    }
    if (!status) {
        ptrdiff_t len = h1_write_request_head(&m, &o, extra, nextra, ex->head, bound);
        if (len < 0) {
            hb_warn("client %s stream %u: request not forwardable: %s", ex->fc->peer, ex->sid,
                    h1_err_message((int)len));
            status = 400;
        } else {
            ex->head_len = (size_t)len;
        }
    }
    hb_arena_free(&a);
    return status;
}

/* Refreshes each server's health and slow-start weight from its shared
 * state (proxy/backend/health_state.h: relaxed loads, no lock), then picks
 * one. Only upstreams with health_check: pay for it. PX_EX_NO_SERVER when
 * none is up and on_no_healthy is fail; in panic mode every server counts
 * as up. */
static size_t pick(struct px_exchange *ex, const struct hb_msg *req)
{
    struct px_upstream *up = ex->up;
    const struct cfg_upstream *u = up->cfg;
    if (up->npools == 0) {
        /* Only an upstream of DNS names has none: none resolved yet
         * (resolve: lazy), logged by the resolver. */
        return PX_EX_NO_SERVER;
    }
    bool checked = u->health_check.enabled && up->hs;
    bool outliers = u->outlier_detection.enabled && up->out;
    if (checked || outliers) {
        size_t n_up = 0;
        hb_ns_t now = u->slow_start_ms || outliers ? hb_time_now_ns() : 0;
        for (size_t i = 0; i < up->npools; i++) {
            uint64_t up_for = checked ? px_hstate_up_for_ms(up->hs[i], now) : UINT64_MAX;
            bool ok = !checked || px_hstate_up(up->hs[i]);
            if (outliers) {
                struct hb_outlier *o = &up->out[i];
                if (hb_outlier_tick(o, now)) {
                    up->n_ejected--;
                    if (up->st && up->st[i])
                        px_ctr_set(&up->st[i][PX_SS_EJECTED], 0);
                    hb_info("worker %d: upstream %s server %s: back after its ejection",
                            ex->fc->w->id, u->name.s, px_ex_be(ex)->name(up->pools[i]));
                }
                ok = ok && !o->ejected;
                if (o->back_at) {
                    uint64_t back_for = (now - o->back_at) / 1000000u;
                    up_for = back_for < up_for ? back_for : up_for;
                }
            }
            up->load[i].healthy = ok;
            n_up += ok;
            if (u->slow_start_ms)
                up->load[i].weight =
                    hb_slow_start_weight(up->srv[i]->weight, up_for, u->slow_start_ms);
        }
        if (n_up == 0 && outliers) {
            /* Ejections never empty an upstream on their own (core/outlier.h
             * caps them); with the checks' down servers they may: then the
             * ejected ones serve, and only the checks' verdict counts. */
            for (size_t i = 0; i < up->npools; i++) {
                up->load[i].healthy = !checked || px_hstate_up(up->hs[i]);
                n_up += up->load[i].healthy;
            }
        }
        if (n_up == 0) {
            if (u->on_no_healthy == CFG_NO_HEALTHY_FAIL)
                return PX_EX_NO_SERVER;
            for (size_t i = 0; i < up->npools; i++)
                up->load[i].healthy = true;
        }
    }
    if (up->sticky_id) {
        /* The cookie's server while it is usable; else the policy picks
         * and the response sets a cookie for the one that answers. */
        size_t s = px_balance_sticky_find(up, req);
        ex->sticky_from = s == SIZE_MAX ? 0 : s + 1;
        if (s != SIZE_MAX && up->load[s].healthy)
            return s;
    }
    ex->has_key = up->bal.policy == HB_BAL_CONSISTENT_HASH &&
                  px_balance_key(up, ex->fc, req, &ex->hash_key);
    return px_ex_be(ex)->pick(&up->bal, up->load, up->pools, up->npools,
                              ex->has_key ? &ex->hash_key : NULL);
}

static int init_exchange(struct px_exchange *ex, const struct hb_msg *req,
                         const struct cfg_route *r)
{
    const struct cfg *cfg = ex->fc->w->cfg;
    ex->route = r;
    ex->up = &ex->fc->w->ups[r->upstream_index];
    ex->server = pick(ex, req);
    ex->tries = 1;
    ex->idempotent = idempotent(req);
    ex->req_flags = method_is(req, "HEAD") ? H1_REQ_HEAD : 0;
    struct h1_limits lim;
    h1_limits_default(&lim);
    lim.max_head = cfg->limits.max_response_header_size;
    lim.max_fields = cfg->limits.max_header_count;
    h1_parser_init(&ex->parser, &lim);
    /* An HTTP/1.1 client of a preserve listener gets the response names as
     * the backend spelt them: only then are they kept (one bit per head
     * byte, the storage kept with the exchange). */
    if (ex->fc->h1 && ex->fc->l->cfg->header_case == CFG_HCASE_PRESERVE) {
        size_t need = ((size_t)lim.max_head + 7) / 8;
        if (need > ex->rcase_cap) {
            free(ex->rcase);
            ex->rcase = malloc(need);
            ex->rcase_cap = ex->rcase ? need : 0;
            if (!ex->rcase)
                return 503;
        }
        h1_parser_keep_case(&ex->parser, ex->rcase, ex->rcase_cap);
    }
    ex->max_rfields = cfg->limits.max_header_count;
    /* Room for the route's response edits after the parsed fields. */
    size_t nf = ex->max_rfields + px_route_edit_extra(&r->response_headers) +
                (ex->up->set_cookie ? 1 : 0);
    if (nf > ex->rfields_cap) {
        free(ex->rfields);
        ex->rfields = malloc(nf * sizeof *ex->rfields);
        ex->rfields_cap = ex->rfields ? nf : 0;
        if (!ex->rfields)
            return 503;
    }
    hb_buf_reuse(&ex->rin,
                 cfg->limits.max_response_header_size > cfg->limits.stream_buffer_size
                     ? cfg->limits.max_response_header_size
                     : cfg->limits.stream_buffer_size);
    /* Body bytes are credited back only once written, so the client's stream
     * window (which may grow to max_window_size) bounds them; chunk framing
     * adds a little per DATA frame. The buffer grows only as bytes come. */
    uint32_t win = cfg->http2.max_window_size > cfg->http2.initial_window_size
                       ? cfg->http2.max_window_size
                       : cfg->http2.initial_window_size;
    hb_buf_init(&ex->reqbuf, (size_t)win * 2 + cfg->limits.request_buffer_size);
    return 0;
}

/* Exchanges are recycled through a per-worker cache, with the storage of
 * their request head, response field array and response buffer: a worker
 * in a steady state serves requests without calling malloc. */
static struct px_exchange *ex_alloc(struct px_worker *w)
{
    struct hb_list *it = hb_list_pop_front(&w->ex_cache);
    if (!it)
        return calloc(1, sizeof(struct px_exchange));
    w->n_ex_cache--;
    struct px_exchange *ex = hb_container_of(it, struct px_exchange, link);
    struct px_exchange keep;
    memcpy(&keep, ex, PX_EX_CLEARED);
    memset(ex, 0, PX_EX_CLEARED);
    ex->head = keep.head;
    ex->head_cap = keep.head_cap;
    ex->rfields = keep.rfields;
    ex->rfields_cap = keep.rfields_cap;
    ex->rin = keep.rin; /* emptied by hb_buf_reuse in init_exchange */
    ex->rec_strs = keep.rec_strs;
    ex->rec_strs_cap = keep.rec_strs_cap;
    return ex;
}

static void ex_destroy(struct px_exchange *ex)
{
    free(ex->rcase);
    free(ex->head);
    free(ex->rfields);
    free(ex->rec_strs);
    hb_buf_free(&ex->rin);
    free(ex);
}

static void ex_free(struct px_exchange *ex)
{
    hb_list_remove(&ex->link);
    hb_buf_free(&ex->reqbuf);
    if (ex->eh)
        px_eh_ex_free(ex);
    if (ex->push)
        px_push_ex_free(ex);
    struct px_worker *w = ex->fc->w;
    if (w->n_ex_cache + 1 > PX_EX_CACHE) { /* (not >=: PX_EX_CACHE may be 0) */
        ex_destroy(ex);
        return;
    }
    if (ex->rin.cap > EX_KEEP_RIN) /* the cache keeps small buffers only */
        hb_buf_free(&ex->rin);
    hb_list_push_front(&w->ex_cache, &ex->link); /* the most recent is the warmest */
    w->n_ex_cache++;
}

void px_exchange_cache_free(struct px_worker *w)
{
    struct hb_list *it;
    while ((it = hb_list_pop_front(&w->ex_cache)) != NULL)
        ex_destroy(hb_container_of(it, struct px_exchange, link));
    w->n_ex_cache = 0;
}

static struct px_exchange *start_exchange(struct px_fconn *fc, uint32_t sid,
                                          const struct hb_msg *req, bool end_stream,
                                          uint32_t pushed_by)
{
    hb_ns_t start = hb_time_now_ns();
    px_stats_request_start(fc, req->version); /* its end: px_ex_record_done */
    const struct cfg_route *route;
    char why[160];
    struct px_ex_ids ids;
    px_ex_ids_decide(fc, req, &ids);
    int status = px_admit(fc, req, &route, why, sizeof why);
    enum px_tun_kind tk = PX_TUN_NONE;
    if (!status && px_tunnel_asked(req))
        status = px_tunnel_admit(fc, req, route, &tk, why, sizeof why);
    uint8_t early = PX_EX_EARLY_NO; /* tls.early_data off: fc->early is false */
    if (!status && px_fconn_early(fc))
        status = px_early_admit(fc, req, end_stream, tk != PX_TUN_NONE, &early, why, sizeof why);
    if (status) {
        answer_local(fc, sid, status, why, start, req, &ids, pushed_by);
        return NULL;
    }
    struct px_exchange *ex = ex_alloc(fc->w);
    if (!ex) {
        answer_local(fc, sid, 503, "out of memory", start, req, &ids, pushed_by);
        return NULL;
    }
    ex->fc = fc;
    ex->sid = sid;
    ex->tun_kind = (uint8_t)tk;
    ex->early = early;
    ex->rec.t_start = start;
    ex->rec.pushed_by = pushed_by;
    hb_list_init(&ex->link);
    status = init_exchange(ex, req, route);
    if (!status)
        status = build_head(ex, req, end_stream, &ids);
    if (!status && px_ex_rec_capture(ex, req, &ids) != 0)
        status = 503;
    if (status) {
        answer_local(fc, sid, status, "request not forwardable", start, req, &ids,
                     pushed_by);
        ex_free(ex);
        return NULL;
    }
    if (tk)
        px_tunnel_counted(ex);
    hb_list_push_back(&fc->exchanges, &ex->link);
    px_front_bind(fc, sid, ex);
    struct px_upstream *up = ex->up;
    if (up->cfg->max_requests && up->active >= up->cfg->max_requests) {
        /* The breaker: past max_requests, 503 at once rather than a wait
         * that helps nobody. Counted on the server it would have gone to. */
        if (up->st && ex->server < up->npools && up->st[ex->server])
            px_ctr_add(&up->st[ex->server][PX_SS_BREAKER], 1);
        px_ex_rec_detail(ex, "upstream max_requests reached");
        px_ex_fail(ex, 503, "upstream max_requests reached");
        return ex;
    }
    up->active++; /* until px_ex_finish (retry_budget and max_requests count them) */
    ex->counted = true;
    if (route->early_hints.on) /* a 103 before the backend is even asked */
        px_eh_on_request(ex, req);
    if (route->push.enabled) /* what its pushes will need (exchange/push.h) */
        px_push_on_request(ex, req);
    px_ex_connect(ex, false);
    return ex;
}

struct px_exchange *px_exchange_start(struct px_fconn *fc, uint32_t sid, const struct hb_msg *req,
                                      bool end_stream)
{
    return start_exchange(fc, sid, req, end_stream, 0);
}

struct px_exchange *px_exchange_start_pushed(struct px_fconn *fc, uint32_t sid,
                                             const struct hb_msg *req, uint32_t pushed_by)
{
    return start_exchange(fc, sid, req, true, pushed_by);
}

/* Why an exchange ends when the front closes it (error_code) or the client
 * connection goes away (conn_closed). */
static enum px_ex_end end_reason(const struct px_exchange *ex, uint32_t error_code,
                                 bool conn_closed)
{
    if (ex->state == PX_EX_FAILED)
        return ex->end;
    if (ex->state == PX_EX_TUNNEL && ex->tun_idle)
        return PX_EX_END_TIMEOUT;
    if (conn_closed)
        return PX_EX_END_CONN_CLOSED;
    if (ex->state == PX_EX_TUNNEL) /* either side may end a tunnel */
        return error_code == H2_NO_ERROR || error_code == H2_CANCEL ? PX_EX_END_COMPLETE
                                                                     : PX_EX_END_CLIENT_RESET;
    return error_code == H2_NO_ERROR && ex->state == PX_EX_BODY_DONE ? PX_EX_END_COMPLETE
                                                                      : PX_EX_END_CLIENT_RESET;
}

void px_exchange_on_close(struct px_exchange *ex, uint32_t error_code)
{
    if (error_code != H2_NO_ERROR && ex->state != PX_EX_FAILED)
        px_ex_rec_detail(ex, "RST_STREAM %s", h2_error_name(error_code));
    if (error_code != H2_NO_ERROR && ex->state < PX_EX_BODY_DONE) {
        /* the backend still had something to say */
        hb_info("client %s stream %u backend %s: stream closed by %s before the response "
                "ended; backend connection closed",
                ex->fc->peer, ex->sid, px_ex_backend_name(ex), h2_error_name(error_code));
        if (ex->rec.pushed_by) /* a push the client did not want (it had it cached) */
            px_stats_push(ex->fc, PX_ST_PUSH_CANCELLED, 1);
    }
    px_ex_drop_backend(ex, false);
    px_ex_finish(ex, end_reason(ex, error_code, false));
    px_fconn_retire(ex->fc, &ex->link);
}

void px_exchange_refused(struct px_exchange *ex, int status)
{
    px_ex_drop_backend(ex, false);
    ex->status = status;
    px_ex_finish(ex, PX_EX_END_BAD_REQUEST);
    px_fconn_retire(ex->fc, &ex->link);
}

void px_exchange_reap(struct px_fconn *fc)
{
    struct hb_list *it;
    while ((it = hb_list_pop_front(&fc->dead)) != NULL) {
        hb_list_init(it);
        ex_free(hb_container_of(it, struct px_exchange, link));
    }
}

void px_exchange_abort_all(struct px_fconn *fc)
{
    struct hb_list *it, *tmp;
    hb_list_foreach_safe(it, tmp, &fc->exchanges)
    {
        struct px_exchange *ex = hb_container_of(it, struct px_exchange, link);
        px_ex_drop_backend(ex, false);
        px_ex_finish(ex, end_reason(ex, H2_NO_ERROR, true));
        ex_free(ex);
    }
    px_exchange_reap(fc);
}
