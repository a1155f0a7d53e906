/* proxy/exchange/exchange_resp.c — an exchange's response side: backend bytes →
 * parsed head → HEADERS; decoded body → DATA through the engine's pull. */
#include "proxy/exchange/exchange_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "core/err.h"
#include "core/h1_write.h"
#include "core/h2_conn.h"
#include "core/log.h"
#include "proxy/front/front.h"
#include "proxy/front/conn.h"
#include "proxy/exchange/balance.h"
#include "proxy/exchange/early_hints.h"
#include "proxy/exchange/push.h"
#include "proxy/exchange/route_edit.h"
#include "proxy/exchange/tunnel.h"
#include "proxy/worker.h"

#define READ_CHUNK 16384


static bool reusable(const struct px_exchange *ex)
{
    return !(ex->resp_flags & (HB_MSG_CLOSE | HB_MSG_NO_REUSE)) && ex->req_end &&
           ex->head_off == ex->head_len && hb_buf_len(&ex->reqbuf) == 0 &&
           hb_buf_len(&ex->rin) == ex->parsed;
}

/* The response body is fully decoded: the backend connection goes back to
 * the pool when it may be reused, else it is closed. */
static void body_complete(struct px_exchange *ex)
{
    ex->state = PX_EX_BODY_DONE;
    px_ex_drop_backend(ex, reusable(ex));
}

static void submit_head(struct px_exchange *ex, struct hb_msg *m, bool end_stream)
{
    struct hb_msg resp = {.status = m->status, .fields = m->fields, .orig_case = m->orig_case};
    size_t n = m->nfields; /* hop-by-hop fields dropped by on_head */
    const struct cfg_header_ops *edits = &ex->route->response_headers;
    if (m->status >= 200) /* the route's edits; rfields has room for them */
        px_route_edit_fields(edits, m->fields, &n, ex->max_rfields + px_route_edit_extra(edits));
    /* sticky_cookie: pin the client to the server that answered, unless
     * its cookie names that one already (one more slot in rfields). */
    if (m->status >= 200 && ex->up->set_cookie && ex->server < ex->up->npools &&
        ex->sticky_from != ex->server + 1)
        px_balance_sticky_field(ex->up, ex->server, m->fields, &n);
    resp.nfields = (uint32_t)n;
    int rc = px_front_submit_response(ex->fc, ex->sid, &resp, end_stream);
    if (rc != 0)
        hb_debug("client %s stream %u: submit_response: %s", ex->fc->peer, ex->sid,
                 hb_err_name(rc));
}

/* Handles one complete head of r bytes. Returns true to keep parsing (a 1xx
 * came), false otherwise. */
static bool on_head(struct px_exchange *ex, struct hb_msg *m, size_t r)
{
    if (m->status == 101 && ex->tun_kind) {
        px_tunnel_on_101(ex, m, r);
        return false;
    }
    /* Framing was read from them already (m->flags, content_length). */
    if (h1_drop_hop_fields(m->fields, &m->nfields) != 0) {
        px_ex_fail(ex, 502, "response with more than 16 Connection field lines");
        return false;
    }
    if (m->status < 200) {
        if (m->status == 101) {
            px_ex_fail(ex, 502, "backend answered 101 Switching Protocols to a plain request");
            return false;
        }
        /* 100 Continue and 103 Early Hints go to the client (RFC 9113 §8.1);
         * other 1xx (102) are dropped. */
        if (m->status == 100 || m->status == 103)
            submit_head(ex, m, false);
        hb_buf_consume(&ex->rin, r);
        h1_parser_reset(&ex->parser);
        return true;
    }
    if (m->flags & HB_MSG_TE_CODED) {
        px_ex_fail(ex, 502, "response with a transfer coding other than chunked");
        return false;
    }
    if (m->status == 425 && ex->early && px_ex_early_retry(ex))
        return false; /* the response is discarded with its connection */
    px_ex_observe(ex, m->status >= 500 ? HB_OUTCOME_5XX : HB_OUTCOME_OK);
    unsigned cond = m->status == 502   ? CFG_RETRY_502
                    : m->status == 503 ? CFG_RETRY_503
                    : m->status == 504 ? CFG_RETRY_504
                                       : 0;
    if (cond) {
        char what[48];
        snprintf(what, sizeof what, "answered %d", m->status);
        if (px_ex_retry_other(ex, cond, what))
            return false; /* the response is discarded with its connection */
    }
    px_ex_budget_release(ex);
    if (ex->tun_kind && px_tunnel_refuses(ex, m->status)) {
        px_ex_fail(ex, 502, "backend answered the WebSocket request without upgrading");
        return false;
    }
    if (ex->eh) /* learned early hints: this path's Link values */
        px_eh_on_final(ex, m);
    if (ex->push) /* promises go out before the head that names them (RFC 9113 §8.4) */
        px_push_on_final(ex, m);
    ex->status = m->status;
    ex->resp_flags = m->flags;
    struct h1_limits lim;
    h1_limits_default(&lim);
    h1_body_init(&ex->body, m, &lim);
    bool none = ex->body.kind == H1_BODY_NONE;
    ex->state = PX_EX_BODY;
    if (none) {
        /* Give the connection back before the stream may close. */
        ex->parsed = r;
        body_complete(ex);
        ex->parsed = 0;
    }
    submit_head(ex, m, none);
    hb_buf_consume(&ex->rin, r);
    if (!none)
        px_front_resume_data(ex->fc, ex->sid);
    return false;
}

static void parse_head(struct px_exchange *ex)
{
    for (;;) {
        struct hb_msg m;
        ptrdiff_t r = h1_parse_response(&ex->parser, ex->req_flags, (char *)hb_buf_rptr(&ex->rin),
                                        hb_buf_len(&ex->rin), &m, ex->rfields, ex->max_rfields);
        if (r == 0)
            return;
        if (r < 0) {
            char reason[160];
            snprintf(reason, sizeof reason, "malformed response head: %s",
                     h1_err_message((int)r));
            px_ex_fail(ex, 502, reason);
            return;
        }
        if (!on_head(ex, &m, (size_t)r))
            return;
    }
}

static void body_eof(struct px_exchange *ex);

/* EOF from the backend. */
static void on_eof(struct px_exchange *ex)
{
    if (ex->state == PX_EX_WAIT_HEAD) {
        if (px_ex_retry(ex, "closed before any response byte"))
            return;
        if (!ex->got_byte) {
            px_ex_observe(ex, HB_OUTCOME_RESET);
            if (px_ex_retry_other(ex, CFG_RETRY_RESET, "closed before any response byte"))
                return;
        }
        px_ex_fail(ex, 502, ex->got_byte ? "connection closed inside the response head"
                                         : "connection closed before any response byte");
        return;
    }
    if (hb_buf_len(&ex->rin) > ex->parsed) {
        /* Body bytes wait for the client's pull: judge the end once they are
         * decoded (px_exchange_read_data). Over TLS the EOF (close_notify)
         * is often read in the same pass as the last bytes. */
        ex->be_eof = true;
        px_ex_be(ex)->want_read(ex->bc, false);
        return;
    }
    body_eof(ex);
}

/* EOF in the body, every byte before it decoded. */
static void body_eof(struct px_exchange *ex)
{
    if (h1_body_eof(&ex->body) != 0) {
        px_ex_fail(ex, 502, "connection closed before the response body ended");
        return;
    }
    /* A close-delimited body ends here (read_data sees the decoder done);
     * the connection is done either way. */
    ex->resp_flags |= HB_MSG_CLOSE;
    px_ex_be(ex)->want_read(ex->bc, false);
    px_front_resume_data(ex->fc, ex->sid);
}

/* How many bytes may be read now: the head phase reads READ_CHUNK at a time
 * up to the head limit (a small response fits in one chunk, so its buffer
 * stays small); the body phase reads whatever stream_buffer_size leaves
 * room for, so a large body costs one recv() per buffer, not per 16 KiB. */
static size_t room(const struct px_exchange *ex)
{
    const struct cfg_limits *l = &ex->fc->w->cfg->limits;
    bool body = ex->state != PX_EX_WAIT_HEAD;
    size_t cap = body ? l->stream_buffer_size : l->max_response_header_size;
    size_t len = hb_buf_len(&ex->rin);
    if (len >= cap)
        return 0;
    return (body || cap - len < READ_CHUNK) ? cap - len : READ_CHUNK;
}

/* Bytes came from the backend: its wait starts again. While the client
 * owes body bytes, the wait after this is the client's own. */
static void read_again(struct px_exchange *ex)
{
    px_ex_be(ex)->set_timeout(ex->bc, ex->body_wait
                                          ? ex->fc->w->cfg->limits.request_body_timeout_ms
                                          : ex->up->cfg->read_timeout_ms);
}

void px_ex_on_readable(struct px_exchange *ex)
{
    if (ex->state == PX_EX_TUNNEL) {
        px_tunnel_on_readable(ex);
        return;
    }
    size_t want = room(ex);
    if (want == 0) {
        if (ex->state == PX_EX_WAIT_HEAD) {
            px_ex_fail(ex, 502, "response head larger than limits.max_response_header_size");
            return;
        }
        px_ex_be(ex)->want_read(ex->bc, false); /* back-pressure: the client is slower */
        /* From here the wait is the client's: a client that takes nothing
         * (no window, a full socket) must not hold the backend connection
         * for read_timeout or forever (docs/backends.md, fairness). */
        uint32_t ms = ex->fc->w->cfg->limits.response_stall_timeout_ms;
        if (ms && !ex->stalled) {
            ex->stalled = true;
            px_ex_be(ex)->set_timeout(ex->bc, ms);
        }
        return;
    }
    if (hb_buf_reserve(&ex->rin, want) != 0) {
        px_ex_fail(ex, 502, "out of memory for the response");
        return;
    }
    ssize_t n = px_ex_be(ex)->recv(ex->bc, hb_buf_wptr(&ex->rin), want);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        if (n < 0 && !ex->got_byte && !px_ex_can_retry(ex)) {
            char reason[96];
            snprintf(reason, sizeof reason, "read failed: %s", strerror(errno));
            px_ex_observe(ex, HB_OUTCOME_RESET);
            if (px_ex_retry_other(ex, CFG_RETRY_RESET, reason))
                return;
            px_ex_fail(ex, 502, reason);
            return;
        }
        on_eof(ex);
        return;
    }
    if (!ex->rec.t_first_byte)
        ex->rec.t_first_byte = hb_time_now_ns();
    ex->got_byte = true;
    hb_buf_commit(&ex->rin, (size_t)n);
    read_again(ex);
    if (ex->state == PX_EX_WAIT_HEAD) {
        parse_head(ex);
    } else {
        px_front_resume_data(ex->fc, ex->sid);
    }
}

void px_ex_on_timeout(struct px_exchange *ex)
{
    if (ex->state == PX_EX_TUNNEL) {
        px_tunnel_on_timeout(ex);
        return;
    }
    if (ex->stalled && ex->state == PX_EX_BODY) {
        px_ex_client_stalled(ex, false);
        return;
    }
    if (ex->body_wait && !ex->req_end &&
        (ex->state == PX_EX_WAIT_HEAD || ex->state == PX_EX_BODY)) {
        px_ex_client_stalled(ex, true);
        return;
    }
    char reason[96];
    snprintf(reason, sizeof reason, "no data from the backend for %u ms", px_ex_try_timeout(ex));
    if (ex->state == PX_EX_WAIT_HEAD) {
        px_ex_observe(ex, HB_OUTCOME_TIMEOUT);
        if (!ex->got_byte && px_ex_retry_other(ex, CFG_RETRY_TIMEOUT, reason))
            return;
    }
    px_ex_fail(ex, 504, reason);
}

/* ---- the engine's pull ------------------------------------------------------ */

static void submit_trailers(struct px_exchange *ex, struct hpack_field *t, size_t n)
{
    struct hb_msg m = {.fields = t, .nfields = (uint32_t)n};
    if (h1_drop_hop_fields(t, &m.nfields) != 0)
        m.nfields = 0; /* trailers are optional: dropped rather than the response */
    if (m.nfields)
        px_front_submit_trailers(ex->fc, ex->sid, &m);
}

/* Decodes the next piece of body into the pending span. Returns 1 when
 * something happened, 0 when more backend bytes are needed, -1 on a
 * malformed body. */
static int decode_step(struct px_exchange *ex)
{
    struct h1_body_event ev;
    char *base = (char *)hb_buf_rptr(&ex->rin);
    ptrdiff_t r = h1_body_parse(&ex->body, base + ex->parsed, hb_buf_len(&ex->rin) - ex->parsed,
                                ex->rfields, ex->max_rfields, &ev);
    if (r < 0) {
        hb_warn("client %s stream %u backend %s: malformed response body: %s", ex->fc->peer,
                ex->sid, px_ex_backend_name(ex), h1_err_message((int)r));
        return -1;
    }
    ex->parsed += (size_t)r;
    if (ev.data_len) {
        ex->span_off = (size_t)(ev.data - base);
        ex->span_len = ev.data_len;
    }
    if (ev.done) {
        if (ev.ntrailers)
            submit_trailers(ex, ev.trailers, ev.ntrailers);
        if (!ex->span_len) {
            hb_buf_consume(&ex->rin, ex->parsed);
            ex->parsed = 0;
        }
        body_complete(ex);
        return 1;
    }
    return (r > 0 || ev.data_len) ? 1 : 0;
}

/* The response's buffer ran dry in a pull while its backend's next bytes
 * already wait in the socket: read them now (once per pull). Parked, the
 * stream's turn would go to streams of lower urgency until the backend's
 * readable event came round; on a client connection whose kernel buffers
 * take all it is given, their bytes would then be queued ahead of the
 * rest of this one (a stylesheet's second half behind an image). Only
 * where the protocol pulls again by itself (pulls_while_ready), and only
 * the bytes FIONREAD counts, so this recv meets neither EOF nor an error:
 * those stay with the readable event. */
static bool read_through(struct px_exchange *ex)
{
    const struct px_backend_ops *be = px_ex_be(ex);
    if (!ex->bc || ex->state != PX_EX_BODY || ex->be_eof || !be->readable ||
        !ex->fc->ops || !ex->fc->ops->pulls_while_ready)
        return false;
    size_t want = room(ex);
    size_t avail = want ? be->readable(ex->bc) : 0;
    if (avail == 0)
        return false;
    if (avail < want)
        want = avail;
    if (hb_buf_reserve(&ex->rin, want) != 0)
        return false; /* the readable event will try again */
    ssize_t n = be->recv(ex->bc, hb_buf_wptr(&ex->rin), want);
    if (n <= 0)
        return false;
    hb_buf_commit(&ex->rin, (size_t)n);
    read_again(ex);
    return true;
}

ptrdiff_t px_exchange_read_data(struct px_exchange *ex, uint8_t *dst, size_t max, bool *eof)
{
    size_t n = 0;
    bool read_once = false;
    *eof = false;
    if (px_ex_over(ex))
        return -1;
    if (ex->state == PX_EX_TUNNEL)
        return px_tunnel_read_data(ex, dst, max, eof);
    while (n < max) {
        if (ex->span_len) {
            size_t take = ex->span_len < max - n ? ex->span_len : max - n;
            memcpy(dst + n, hb_buf_rptr(&ex->rin) + ex->span_off, take);
            n += take;
            ex->span_off += take;
            ex->span_len -= take;
            if (ex->span_len == 0) {
                hb_buf_consume(&ex->rin, ex->parsed);
                ex->parsed = 0;
            }
            continue;
        }
        if (ex->state == PX_EX_BODY_DONE) {
            *eof = true;
            break;
        }
        int s = decode_step(ex);
        if (s < 0) {
            px_ex_drop_backend(ex, false);
            ex->state = PX_EX_FAILED;
            ex->end = PX_EX_END_BACKEND_ERROR;
            return -1; /* the front resets the request (h2: INTERNAL_ERROR) */
        }
        if (s == 0) {
            if (ex->be_eof && ex->bc) { /* all decoded: the EOF counts now */
                ex->be_eof = false;
                body_eof(ex);
                if (px_ex_over(ex))
                    return -1;
                continue;
            }
            if (!read_once && read_through(ex)) {
                read_once = true;
                continue;
            }
            break;
        }
    }
    if (ex->bc && ex->state != PX_EX_BODY_DONE && room(ex) > 0 && !ex->be_eof) {
        px_ex_be(ex)->want_read(ex->bc, true);
        if (ex->stalled) { /* the client took bytes: the backend's wait again */
            ex->stalled = false;
            px_ex_be(ex)->set_timeout(ex->bc, ex->up->cfg->read_timeout_ms);
        }
    } else if (ex->stalled && n && ex->bc) {
        /* Progress, though the buffer is still full (a span is taken in
         * pieces): the stall clock starts again. */
        px_ex_be(ex)->set_timeout(ex->bc, ex->fc->w->cfg->limits.response_stall_timeout_ms);
    }
    ex->rec.resp_body_bytes += n;
    return (ptrdiff_t)n;
}
