/* proxy/front/h1.c — HTTP/1.1 client connections (see front/h1.h). */
#include "proxy/front/h1.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/h1_body.h"
#include "core/h1_parse.h"
#include "core/h1_write.h"
#include "core/h2_conn.h"
#include "core/log.h"
#include "core/time.h"
#include "proxy/exchange/admit.h"
#include "proxy/exchange/exchange.h"
#include "proxy/front/front.h"
#include "proxy/front/conn.h"
#include "proxy/front/h2c_upgrade.h"
#include "proxy/front/rate.h"
#include "proxy/tls/tls_io.h"
#include "proxy/worker.h"

#define READ_CHUNK 16384
#define READS_PER_EVENT 4
/* "%08zx\r\n": a fixed-width chunk size so the header can be written before
 * the data is pulled in behind it (leading zeros are allowed: RFC 9112 §7.1
 * chunk-size = 1*HEXDIG). */
#define CHUNK_HDR 10
#define CHUNK_MAX 0xffffffu
#define MAX_TRAILERS 32

enum rstate {
    RS_HEAD, /* waiting for (or parsing) a request head */
    RS_BODY, /* the request body is being handed to the exchange */
    RS_DONE, /* the request is complete; its response is not */
    RS_TUNNEL, /* after a 101: client bytes go raw to the exchange (exchange/tunnel.h) */
};

struct px_h1 {
    struct hb_buf in, out;
    struct hb_buf last_chunk; /* "0\r\n" + trailers + "\r\n" once submitted */
    struct h1_parser parser;
    struct hpack_field *fields;
    size_t max_fields;
    uint8_t *case_bits; /* the request names' original case, when some upstream has
                           header_case: preserve (cfg->keep_request_case); else NULL */
    struct h1_body body;
    enum rstate rs;
    uint32_t next_sid, sid;
    struct px_exchange *ex; /* the current exchange; NULL when answered locally */
    bool busy;              /* a request is being served (rs or response pending) */
    bool resp_started, resp_chunked, resp_end, head_req;
    bool starting; /* inside px_exchange_start, with request body bytes to come */
    bool close_after, draining, peer_eof, aborted, sent_100, expect_100;
    bool tun_end_sent; /* RS_TUNNEL: the client's EOF went to the exchange */
    int version;
    size_t in_flight, window, out_pull;
    uint64_t body_total; /* request body bytes so far (max_request_body_size) */
    uint64_t wire_in, wire_out; /* the current request's bytes with framing (op_wire) */
    hb_ns_t head_start; /* when the current head's first byte arrived; 0: none */
    hb_ns_t idle_since; /* between requests: when the last one ended */
};

static const struct cfg_limits *limits(const struct px_fconn *fc)
{
    return &fc->w->cfg->limits;
}

int px_h1_start(struct px_fconn *fc)
{
    const struct cfg *cfg = fc->w->cfg;
    struct px_h1 *h = calloc(1, sizeof *h);
    if (!h)
        return -1;
    h->max_fields = cfg->limits.max_header_count;
    h->fields = malloc(h->max_fields * sizeof *h->fields);
    if (!h->fields) {
        free(h);
        return -1;
    }
    struct h1_limits hl;
    h1_limits_default(&hl);
    hl.max_head = cfg->limits.max_request_header_size;
    hl.max_fields = cfg->limits.max_header_count;
    h1_parser_init(&h->parser, &hl);
    if (cfg->keep_request_case) {
        size_t n = ((size_t)hl.max_head + 7) / 8;
        h->case_bits = malloc(n);
        if (!h->case_bits) {
            free(h->fields);
            free(h);
            return -1;
        }
        h1_parser_keep_case(&h->parser, h->case_bits, n);
    }
    /* Room for one whole head plus pipelined bytes behind it. */
    hb_buf_init(&h->in, (size_t)cfg->limits.max_request_header_size + READ_CHUNK);
    h->out_pull = cfg->limits.stream_buffer_size;
    hb_buf_init(&h->out, (size_t)cfg->limits.max_response_header_size + h->out_pull + 2 * 4096);
    hb_buf_init(&h->last_chunk, 0);
    h->window = cfg->http2.initial_window_size < 16384 ? 16384 : cfg->http2.initial_window_size;
    h->next_sid = 1;
    h->idle_since = hb_time_now_ns();
    fc->h1 = h;
    px_fconn_set_state(fc, PX_FCONN_H1);
    return 0;
}

static void op_free(struct px_fconn *fc)
{
    struct px_h1 *h = fc->h1;
    if (!h)
        return;
    hb_buf_free(&h->in);
    hb_buf_free(&h->out);
    hb_buf_free(&h->last_chunk);
    free(h->fields);
    free(h->case_bits);
    free(h);
    fc->h1 = NULL;
}

static void op_drain(struct px_fconn *fc)
{
    struct px_h1 *h = fc->h1;
    if (h) {
        h->draining = true;
        px_fconn_kick(fc);
    }
}

/* ---- response side (called by the exchange through proxy/front/front.h) ---------- */

static bool parse_u64(const char *p, size_t n, uint64_t *v)
{
    uint64_t x = 0;
    if (n == 0 || n > 19)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        x = x * 10 + (uint64_t)(p[i] - '0');
    }
    *v = x;
    return true;
}

/* RFC 9112 §6.3 from the sender's side: Content-Length when known, nothing
 * for statuses without a body, else chunked (close-delimited for 1.0). */
static void response_framing(struct px_h1 *h, const struct hb_msg *resp, bool end,
                             struct h1_write_opts *o)
{
    memset(o, 0, sizeof *o);
    const struct hpack_field *cl = hb_msg_find(resp, HB_STR_LIT("content-length"));
    bool bodiless = resp->status == 204 || resp->status == 304 || resp->status < 200;
    if (bodiless) {
        o->framing = H1_FRAME_NONE;
    } else if (cl && parse_u64(cl->value, cl->value_len, &o->content_length)) {
        o->framing = H1_FRAME_LENGTH;
    } else if (end) {
        o->framing = h->head_req ? H1_FRAME_NONE : H1_FRAME_LENGTH; /* length 0 */
    } else if (h->version >= 11) {
        o->framing = H1_FRAME_CHUNKED;
        h->resp_chunked = true;
    } else {
        o->framing = H1_FRAME_NONE; /* HTTP/1.0: the body ends at close */
        h->close_after = true;
    }
    /* A request answered before its body was read (a local answer during
     * px_exchange_start) closes the connection after. */
    o->close = h->close_after || h->draining || h->starting;
}

/* The listener's header_case for what goes to this client. */
static enum h1_name_case name_case(const struct px_fconn *fc)
{
    return fc->l ? px_front_name_case(fc->l->cfg->header_case) : H1_CASE_LOWER;
}

static int write_head(struct px_h1 *h, const struct hb_msg *resp, const struct h1_write_opts *o)
{
    size_t bound = h1_write_head_bound(resp, NULL, 0);
    int rc = hb_buf_reserve(&h->out, bound);
    if (rc != 0)
        return rc;
    ptrdiff_t n = h1_write_response_head(resp, o, NULL, 0, (char *)hb_buf_wptr(&h->out), bound);
    if (n < 0)
        return HB_EINVAL;
    hb_buf_commit(&h->out, (size_t)n);
    h->wire_out += (uint64_t)n;
    return 0;
}

/* A 101 from a tunnel (proxy/exchange/tunnel.h; its last field is the
 * backend's Upgrade): the head with Upgrade and Connection: upgrade, then the
 * connection is a tunnel both ways until either side ends it, and closes. */
static int submit_101(struct px_fconn *fc, struct px_h1 *h, const struct hb_msg *resp)
{
    if (resp->nfields == 0 || h->version < 11)
        return HB_EINVAL;
    struct hb_msg m = *resp;
    m.nfields--;
    struct hpack_field extra[2] = {
        m.fields[m.nfields],
        {.name = "connection", .name_len = 10, .value = "upgrade", .value_len = 7},
    };
    struct h1_write_opts o = {.framing = H1_FRAME_NONE, .name_case = name_case(fc)};
    size_t bound = h1_write_head_bound(&m, extra, 2);
    int rc = hb_buf_reserve(&h->out, bound);
    if (rc != 0)
        return rc;
    ptrdiff_t n = h1_write_response_head(&m, &o, extra, 2, (char *)hb_buf_wptr(&h->out), bound);
    if (n < 0)
        return HB_EINVAL;
    hb_buf_commit(&h->out, (size_t)n);
    h->wire_out += (uint64_t)n;
    h->resp_started = true;
    h->rs = RS_TUNNEL;
    h->close_after = true;
    h->in_flight = 0;
    px_fconn_kick(fc);
    return 0;
}

static int op_submit_response(struct px_fconn *fc, uint32_t sid, const struct hb_msg *resp,
                              bool end)
{
    struct px_h1 *h = fc->h1;
    if (sid != h->sid || !h->busy || h->resp_started)
        return HB_ECLOSED;
    if (resp->status == 101) {
        int rc = submit_101(fc, h, resp);
        if (rc != 0) {
            hb_warn("client %s: 101 not writable (%s), connection closed", fc->peer,
                    hb_err_name(rc));
            h->aborted = true;
            px_fconn_kick(fc);
        }
        return rc;
    }
    struct h1_write_opts o;
    if (resp->status < 200) {
        /* Our own 100 Continue went out already; 103 only to 1.1 clients. */
        if (resp->status == 100 && (h->sent_100 || !h->expect_100))
            return 0;
        if (h->version < 11)
            return 0;
        memset(&o, 0, sizeof o);
        o.name_case = name_case(fc);
        if (resp->status == 100)
            h->sent_100 = true;
        int rc = write_head(h, resp, &o);
        px_fconn_kick(fc);
        return rc;
    }
    response_framing(h, resp, end, &o);
    o.name_case = name_case(fc);
    int rc = write_head(h, resp, &o);
    if (rc != 0) {
        hb_warn("client %s: response head not writable for HTTP/1.1 (%s), connection closed",
                fc->peer, hb_err_name(rc));
        h->aborted = true;
    }
    h->resp_started = true;
    h->resp_end = end;
    px_fconn_kick(fc);
    return rc;
}

static int op_consumed(struct px_fconn *fc, uint32_t sid, size_t n)
{
    struct px_h1 *h = fc->h1;
    if (sid != h->sid)
        return 0; /* a finished request's late credit */
    h->in_flight = n < h->in_flight ? h->in_flight - n : 0;
    px_fconn_kick(fc);
    return 0;
}

static int op_reset(struct px_fconn *fc, uint32_t sid, uint32_t code)
{
    struct px_h1 *h = fc->h1;
    if (sid == h->sid) {
        h->aborted = true;
        px_fconn_kick(fc);
    }
    return 0;
}

/* The output buffer pulls the body (pull_body) in the next run. */
/* One exchange at a time: it is h->ex (set by begin_request). */
static void op_bind(struct px_fconn *fc, uint32_t sid, struct px_exchange *ex)
{
    (void)fc;
    (void)sid;
    (void)ex;
}

static int op_resume(struct px_fconn *fc, uint32_t sid)
{
    px_fconn_kick(fc);
    return 0;
}

/* The end of a chunked response: the last chunk with the backend's trailers
 * when there were some, else the bare "0\r\n\r\n". */
static int end_chunked(struct px_h1 *h)
{
    int rc;
    if (hb_buf_len(&h->last_chunk))
        rc = hb_buf_append(&h->out, hb_buf_rptr(&h->last_chunk), hb_buf_len(&h->last_chunk));
    else
        rc = hb_buf_append(&h->out, "0\r\n\r\n", 5);
    if (rc == 0)
        h->wire_out += hb_buf_len(&h->last_chunk) ? hb_buf_len(&h->last_chunk) : 5;
    hb_buf_free(&h->last_chunk);
    return rc;
}

static int op_submit_trailers(struct px_fconn *fc, uint32_t sid, const struct hb_msg *trailers)
{
    struct px_h1 *h = fc->h1;
    /* Trailers need chunked framing: with Content-Length (or for HTTP/1.0)
     * there is nowhere to put them, and a recipient may drop them anyway
     * (RFC 9110 §6.5). They are serialised now because the fields point into
     * the backend's input buffer, which moves once the call returns. */
    if (sid != h->sid || !h->resp_chunked || h->resp_end || trailers->nfields == 0)
        return 0;
    size_t need = 5;
    for (uint32_t i = 0; i < trailers->nfields; i++)
        need += trailers->fields[i].name_len + trailers->fields[i].value_len + 4;
    hb_buf_free(&h->last_chunk);
    hb_buf_init(&h->last_chunk, 0);
    if (hb_buf_reserve(&h->last_chunk, need) != 0)
        return HB_ENOMEM;
    ptrdiff_t n = h1_write_last_chunk(trailers->fields, trailers->nfields, name_case(fc),
                                      (char *)hb_buf_wptr(&h->last_chunk), need);
    if (n < 0) {
        /* A field that may not be written to HTTP/1.1: send the plain end. */
        hb_buf_free(&h->last_chunk);
        return 0;
    }
    hb_buf_commit(&h->last_chunk, (size_t)n);
    return 0;
}

/* Pulls response body bytes into the output buffer while it has room.
 * Returns 0, or -1 to close the connection. */
static int pull_body(struct px_fconn *fc, struct px_h1 *h)
{
    while (h->resp_started && !h->resp_end && hb_buf_len(&h->out) < h->out_pull) {
        size_t max = h->out_pull - hb_buf_len(&h->out);
        if (max > CHUNK_MAX)
            max = CHUNK_MAX;
        size_t hdr = h->resp_chunked ? CHUNK_HDR : 0;
        if (hb_buf_reserve(&h->out, hdr + max + 7) != 0)
            return -1;
        uint8_t *w = hb_buf_wptr(&h->out);
        bool eof = false;
        ptrdiff_t n = h->ex ? px_exchange_read_data(h->ex, w + hdr, max, &eof) : -1;
        if (n < 0)
            return -1; /* the backend failed mid-body: a truncated response */
        if (n > 0 && h->resp_chunked) {
            static const char hex[] = "0123456789abcdef";
            for (int i = 0; i < 8; i++)
                w[i] = (uint8_t)hex[((size_t)n >> (28 - 4 * i)) & 0xf];
            memcpy(w + 8, "\r\n", 2);
            memcpy(w + hdr + (size_t)n, "\r\n", 2);
            n += CHUNK_HDR + 2;
        }
        hb_buf_commit(&h->out, (size_t)n);
        h->wire_out += (uint64_t)n;
        if (eof) {
            if (h->resp_chunked && end_chunked(h) != 0)
                return -1;
            h->resp_end = true;
        } else if (n == 0) {
            break; /* px_front_resume_data() kicks us */
        }
    }
    return 0;
}

/* ---- request side --------------------------------------------------------- */

/* Answers locally (bad request head, timeout) and closes after. */
static void answer_close(struct px_fconn *fc, struct px_h1 *h, int status)
{
    struct hb_msg resp = {.status = status};
    struct h1_write_opts o = {.framing = H1_FRAME_LENGTH, .close = true};
    h->close_after = true;
    h->busy = true;
    h->resp_started = true;
    h->resp_end = true;
    h->rs = RS_DONE;
    if (write_head(h, &resp, &o) != 0)
        h->aborted = true;
    (void)fc;
}

static void begin_request(struct px_fconn *fc, struct px_h1 *h, struct hb_msg *m, size_t head_len)
{
    h->sid = h->next_sid;
    h->next_sid += 2;
    h->wire_in = head_len;
    h->wire_out = 0;
    h->busy = true;
    h->head_start = 0;
    h->version = m->version;
    h->head_req = hb_str_eq(m->method, hb_str_c("HEAD"));
    h->close_after = (m->flags & HB_MSG_CLOSE) != 0 || h->draining;
    h->expect_100 = (m->flags & HB_MSG_EXPECT_100) && m->version >= 11;
    bool end = (m->flags & HB_MSG_END_STREAM) != 0;
    struct h1_limits bl;
    h1_limits_default(&bl);
    h1_body_init(&h->body, m, &bl);
    h->rs = end ? RS_DONE : RS_BODY;
    h->starting = !end;
    h->ex = px_exchange_start(fc, h->sid, m, end);
    h->starting = false;
    hb_buf_consume(&h->in, head_len);
    h1_parser_reset(&h->parser);
    if (!h->ex && !end)
        h->close_after = true; /* answered without reading the body: close after */
    if (h->ex && h->expect_100 && !h->resp_started) {
        struct hb_msg cont = {.status = 100};
        op_submit_response(fc, h->sid, &cont, false);
    }
}

/* After a successful Upgrade: h2c (proxy/front/h2c_upgrade.h): the request is
 * stream 1 of the new h2 connection; the bytes after its head (the client
 * preface, maybe more) go to the engine. */
static void switch_to_h2(struct px_fconn *fc, struct px_h1 *h, struct hb_msg *m, size_t head_len)
{
    fc->h1 = NULL; /* from here on, exchanges answer through h2 */
    size_t rest = hb_buf_len(&h->in) - head_len;
    /* After a 101, some clients (curl 7.88) cannot buffer more than 32 KiB
     * that arrive before they sent their preface: H2C_WAIT holds output. */
    px_fconn_set_state(fc, rest ? PX_FCONN_H2 : PX_FCONN_H2C_WAIT);
    px_exchange_start(fc, 1, m, true);
    hb_ns_t now = hb_time_now_ns();
    px_fconn_timer(fc, rest ? 0 : now + hb_time_ms(limits(fc)->handshake_timeout_ms), now);
    if (rest && h2_conn_recv(fc->h2, hb_buf_rptr(&h->in) + head_len, rest, hb_time_now_ns()) < 0)
        hb_warn("client %s: out of memory in the HTTP/2 engine", fc->peer);
    hb_buf_free(&h->in);
    hb_buf_free(&h->out);
    hb_buf_free(&h->last_chunk);
    free(h->fields);
    free(h->case_bits);
    free(h);
}

/* Parses the next request head when no request is being served. Returns
 * true when something happened. */
static bool next_request(struct px_fconn *fc, struct px_h1 *h)
{
    if (h->busy || h->close_after || hb_buf_len(&h->in) == 0)
        return false;
    if (h->head_start == 0)
        h->head_start = hb_time_now_ns();
    struct hb_msg m;
    ptrdiff_t r = h1_parse_request(&h->parser, (char *)hb_buf_rptr(&h->in), hb_buf_len(&h->in),
                                   &m, h->fields, h->max_fields);
    if (r == 0)
        return false;
    if (r < 0) {
        int status = h1_err_status((int)r);
        hb_info("client %s: bad HTTP/1.1 request: %s → %d", fc->peer, h1_err_message((int)r),
                status);
        answer_close(fc, h, status ? status : 400);
        px_exchange_record_refused_head(fc, h->next_sid, status ? status : 400,
                                        h1_err_message((int)r), h->head_start);
        h->next_sid += 2;
        return true;
    }
    if (hb_buf_len(&h->out) == 0 && px_h2c_wants_upgrade(fc, &m)) {
        int u = px_h2c_upgrade(fc, &m);
        if (u < 0) {
            h->aborted = true;
            return false;
        }
        if (u > 0) {
            switch_to_h2(fc, h, &m, (size_t)r);
            return true; /* the caller sees the state change */
        }
        /* u == 0: refused, served as plain HTTP/1.1 */
    }
    begin_request(fc, h, &m, (size_t)r);
    return true;
}

/* Hands request body bytes to the exchange, at most `window` in flight.
 * Returns true when something happened, false when waiting; sets
 * h->aborted on a malformed body. */
/* RS_TUNNEL: the client's bytes, as they are, at most `window` in flight;
 * then its EOF. Returns true when something happened. */
static bool feed_tunnel(struct px_fconn *fc, struct px_h1 *h)
{
    size_t len = hb_buf_len(&h->in);
    if (len == 0 || !h->ex) {
        if (len == 0 && h->peer_eof && !h->tun_end_sent && h->ex) {
            h->tun_end_sent = true;
            px_exchange_on_data(h->ex, NULL, 0, true);
            return true;
        }
        if (!h->ex)
            hb_buf_consume(&h->in, len); /* the tunnel is gone: nobody reads them */
        return false;
    }
    if (h->in_flight >= h->window)
        return false;
    if (len > h->window - h->in_flight)
        len = h->window - h->in_flight;
    h->in_flight += len;
    h->wire_in += len;
    px_exchange_on_data(h->ex, hb_buf_rptr(&h->in), len, false);
    hb_buf_consume(&h->in, len);
    return true;
}

static bool feed_body(struct px_fconn *fc, struct px_h1 *h)
{
    if (h->rs == RS_TUNNEL)
        return feed_tunnel(fc, h);
    if (h->rs != RS_BODY || h->in_flight >= h->window)
        return false;
    size_t len = hb_buf_len(&h->in), allow = h->window - h->in_flight;
    if (len > allow)
        len = allow;
    struct hpack_field tr[MAX_TRAILERS];
    struct h1_body_event ev;
    ptrdiff_t r = h1_body_parse(&h->body, (char *)hb_buf_rptr(&h->in), len, tr, MAX_TRAILERS, &ev);
    /* The limit protects the backend: a request answered locally has its
     * body discarded, and the connection closes after the answer. */
    bool too_big = r >= 0 && h->ex && px_admit_body_over(limits(fc), h->body_total + ev.data_len);
    if (r < 0 || too_big) {
        int status = too_big ? 413 : h1_err_status((int)r);
        hb_info("client %s: bad request body: %s; %s", fc->peer,
                too_big ? "over limits.max_request_body_size" : h1_err_message((int)r),
                h->resp_started ? "connection closed" : "answered, then closed");
        if (h->resp_started) {
            h->aborted = true; /* a response is under way: cut it */
            return false;
        }
        if (h->ex) /* drops the backend connection; the request ends here */
            px_exchange_refused(h->ex, status ? status : 400);
        h->ex = NULL;
        answer_close(fc, h, status ? status : 400);
        return true;
    }
    if (r == 0 && !ev.done)
        return false;
    struct px_exchange *ex = h->ex; /* NULL: answered locally, the body is dropped */
    h->in_flight += ev.data_len;
    h->body_total += ev.data_len;
    if (ex) {
        bool end_now = ev.done && ev.ntrailers == 0;
        if (ev.data_len || end_now)
            px_exchange_on_data(ex, (const uint8_t *)ev.data, ev.data_len, end_now);
        if (ev.done && ev.ntrailers) {
            struct hb_msg t = {.fields = ev.trailers, .nfields = (uint32_t)ev.ntrailers};
            px_exchange_on_trailers(ex, &t);
        }
    } else {
        h->in_flight -= ev.data_len;
    }
    hb_buf_consume(&h->in, (size_t)r);
    h->wire_in += (uint64_t)r;
    if (ev.done)
        h->rs = RS_DONE;
    return true;
}

/* The response is complete in the output buffer: end the exchange and get
 * ready for the next request. */
static void end_response(struct px_fconn *fc, struct px_h1 *h)
{
    if (h->ex)
        px_exchange_on_close(h->ex, H2_NO_ERROR);
    h->ex = NULL;
    if (h->rs == RS_BODY)
        h->close_after = true;
    h->busy = h->resp_started = h->resp_chunked = h->resp_end = false;
    hb_buf_free(&h->last_chunk);
    h->sent_100 = h->expect_100 = h->head_req = h->tun_end_sent = false;
    h->in_flight = 0;
    h->body_total = 0;
    h->rs = RS_HEAD;
    h->idle_since = hb_time_now_ns();
}

/* ---- I/O and timers ----------------------------------------------------------- */

/* Reads while the input buffer has room. Returns 0 or -1 (read error). */
static int read_in(struct px_fconn *fc, struct px_h1 *h)
{
    for (int i = 0; i < READS_PER_EVENT && !h->peer_eof; i++) {
        size_t room = h->in.max - hb_buf_len(&h->in);
        if (room == 0)
            return 0;
        if (room > READ_CHUNK)
            room = READ_CHUNK;
        if (hb_buf_reserve(&h->in, room) != 0)
            return -1;
        ssize_t n = px_fconn_read(&fc->io, hb_buf_wptr(&h->in), room);
        if (n == PX_IO_WANT_READ)
            break;
        if (n == PX_IO_WANT_WRITE) {
            event_add(fc->ev_write, NULL);
            break;
        }
        if (n == PX_IO_EOF) {
            h->peer_eof = true;
            break;
        }
        if (n < 0) {
            hb_debug("client %s: read error", fc->peer);
            return -1;
        }
        hb_buf_commit(&h->in, (size_t)n);
    }
    hb_buf_release_if_empty(&h->in);
    return 0;
}

/* Writes the output buffer. Returns 0 or -1 (write error). */
static int write_out(struct px_fconn *fc, struct px_h1 *h)
{
    while (hb_buf_len(&h->out)) {
        ssize_t n = px_fconn_write(&fc->io, hb_buf_rptr(&h->out), hb_buf_len(&h->out),
                                  hb_time_now_ns());
        if (n == PX_IO_WANT_WRITE || n == PX_IO_WANT_READ) {
            event_add(fc->ev_write, NULL);
            return 0;
        }
        if (n < 0) {
            hb_debug("client %s: write error", fc->peer);
            return -1;
        }
        hb_buf_consume(&h->out, (size_t)n);
        fc->sent += (uint64_t)n;
    }
    int f = px_fconn_flush(&fc->io); /* the pass's TLS records in one write() */
    if (f == PX_IO_WANT_WRITE) {
        event_add(fc->ev_write, NULL);
        return 0;
    }
    if (f < 0) {
        hb_debug("client %s: write error", fc->peer);
        return -1;
    }
    event_del(fc->ev_write);
    hb_buf_release_if_empty(&h->out);
    return 0;
}

/* One pass over everything that can progress. */
static int advance(struct px_fconn *fc, struct px_h1 *h)
{
    for (int guard = 0; guard < 1024 && !h->aborted; guard++) {
        bool progress = false;
        if (pull_body(fc, h) != 0)
            return -1;
        if (h->busy && h->resp_end) {
            end_response(fc, h);
            progress = true;
        }
        /* Draining: an idle connection closes — but not one that has not
         * had its first request yet: its client connected just before the
         * drain (a shutdown, a binary upgrade) and is sending it now; that
         * request gets its answer with Connection: close. */
        if (!h->busy && h->draining && h->next_sid > 1)
            h->close_after = true;
        if (next_request(fc, h)) {
            if (fc->state != PX_FCONN_H1)
                return 1; /* upgraded to h2 */
            progress = true;
        }
        progress |= feed_body(fc, h);
        if (!progress)
            break;
    }
    return h->aborted ? -1 : 0;
}

/* The earliest deadline that applies now, 0 for none. */
static hb_ns_t next_deadline(const struct px_fconn *fc, const struct px_h1 *h)
{
    const struct cfg_limits *l = limits(fc);
    hb_ns_t d = 0;
    if (!h->busy && hb_buf_len(&h->in) == 0 && hb_buf_len(&h->out) == 0 &&
        l->h1_keepalive_timeout_ms)
        d = h->idle_since + hb_time_ms(l->h1_keepalive_timeout_ms);
    if (!h->busy && h->head_start && l->request_header_timeout_ms)
        d = h->head_start + hb_time_ms(l->request_header_timeout_ms);
    hb_ns_t r = px_rate_deadline(&fc->rate, l);
    if (r)
        d = d == 0 || r < d ? r : d;
    return d;
}

/* Minimum send rate: while output waits for the client, the bytes it took
 * over each window must reach min_send_rate per second. Returns false when
 * the client is too slow. */
static bool rate_ok(struct px_fconn *fc, const struct px_h1 *h, hb_ns_t now)
{
    if (hb_buf_len(&h->out) == 0) {
        px_rate_idle(&fc->rate);
        return true;
    }
    px_rate_waiting(&fc->rate, limits(fc), fc->sent, now);
    return px_rate_ok(&fc->rate, limits(fc), fc->sent, now, fc->peer);
}

/* Returns 0, or -1 when a timeout ends the connection. */
static int check_timers(struct px_fconn *fc, struct px_h1 *h, bool timer)
{
    hb_ns_t now = hb_time_now_ns();
    if (!rate_ok(fc, h, now))
        return -1; /* logged */
    hb_ns_t d = next_deadline(fc, h);
    if (timer && d && now >= d && fc->rate.start == 0) {
        if (h->head_start && !h->busy) {
            hb_info("client %s: request head not received within "
                    "limits.request_header_timeout_ms, 408 and close",
                    fc->peer);
            answer_close(fc, h, 408);
            px_exchange_record_refused_head(fc, h->next_sid, 408,
                                            "request head not received in time", h->head_start);
            h->next_sid += 2;
            h->head_start = 0;
            return 0;
        }
        if (!h->busy) {
            hb_debug("client %s: keep-alive timeout", fc->peer);
            return -1;
        }
    }
    px_fconn_timer(fc, d, now);
    return 0;
}

/* Reading goes on for the body of the current request even when the
 * connection closes after it. */
static bool want_read(const struct px_h1 *h)
{
    return !h->peer_eof &&
           (!h->close_after || (h->busy && (h->rs == RS_BODY || h->rs == RS_TUNNEL)));
}

/* The pull of a pass is cut short while output still waits; when the
 * write then takes all of it, the bytes left in the exchange would wait
 * for an event that does not come: a backend whose response (or tunnel
 * data) is all read already sends none, and with the output empty no
 * writable event is asked for. So pull and write again while the output
 * empties and the pull still moves bytes. Returns as advance(): 0, 1 when
 * the connection switched protocols, -1 to close. */
static int refill(struct px_fconn *fc, struct px_h1 *h)
{
    for (int round = 0; round < 16; round++) {
        if (hb_buf_len(&h->out) || px_fconn_unsent(&fc->io) || !h->busy || !h->resp_started ||
            h->resp_end || h->aborted)
            return 0;
        uint64_t before = h->wire_out;
        if (pull_body(fc, h) != 0)
            return -1;
        if (h->wire_out == before && !h->resp_end)
            return 0; /* nothing was waiting: px_front_resume_data() kicks us */
        if (h->resp_end) { /* the response ended in this pull: its end, the next request */
            int a = advance(fc, h);
            if (a != 0)
                return a;
        }
        if (write_out(fc, h) != 0)
            return -1;
    }
    return 0;
}

static int op_run(struct px_fconn *fc, enum px_fconn_event ev)
{
    struct px_h1 *h = fc->h1;
    bool timer = ev == PX_FCONN_EV_TIMER;
    if (want_read(h) && read_in(fc, h) != 0)
        return -1;
    int a = advance(fc, h);
    if (a != 0)
        return a > 0 ? 0 : -1;
    if (check_timers(fc, h, timer) != 0)
        return -1;
    if (h->busy && h->resp_end)
        advance(fc, h); /* a timeout answer */
    if (write_out(fc, h) != 0)
        return -1;
    a = refill(fc, h);
    if (a != 0)
        return a > 0 ? 0 : -1;
    /* Every response is out and nothing more will be served: close (RFC 9112
     * §9.6). After the client's EOF, bytes left in the input after advance()
     * are an incomplete head that can never complete. */
    if (hb_buf_len(&h->out) == 0 && !px_fconn_unsent(&fc->io) && !h->busy &&
        (h->close_after || h->peer_eof))
        return -1;
    if (want_read(h) && hb_buf_len(&h->in) < h->in.max) {
        event_add(fc->ev_read, NULL);
        if (px_fconn_pending(&fc->io))
            event_active(fc->ev_read, EV_READ, 0);
    } else {
        event_del(fc->ev_read);
    }
    return 0;
}

static void op_wire(const struct px_fconn *fc, uint32_t sid, uint64_t *in, uint64_t *out)
{
    const struct px_h1 *h = fc->h1;
    bool cur = h && sid == h->sid;
    *in = cur ? h->wire_in : 0;
    *out = cur ? h->wire_out : 0;
}

const struct px_front_ops px_h1_front_ops = {
    .name = "http/1.1",
    .submit_response = op_submit_response,
    .submit_trailers = op_submit_trailers,
    .resume = op_resume,
    .consumed = op_consumed,
    .reset = op_reset,
    .bind = op_bind,
    .wire = op_wire,
    .drain = op_drain,
    .run = op_run,
    .free = op_free,
};
