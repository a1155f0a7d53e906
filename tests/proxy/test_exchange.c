/* tests/proxy/test_exchange.c — the exchange (proxy/exchange/) between a
 * fake front (a px_front_ops table that records calls) and a scripted
 * backend (a px_backend_ops table: no sockets; the test hands out
 * connections, feeds response bytes and fires the pool's callbacks).
 *
 * Every scenario ends with the finish hook checked: px_ex_record_done is
 * linked from this file (record.c is not pulled in), counts its calls and
 * keeps the last record, and each test asserts exactly one call with the
 * expected reason. */
#include "testutil/testutil.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "config/cfg.h"
#include "core/err.h"
#include "core/h2_errors.h"
#include "proxy/backend/backend.h"
#include "proxy/exchange/exchange.h"
#include "proxy/exchange/exchange_int.h"
#include "proxy/front/conn.h"
#include "proxy/worker.h"

/* ---- the finish hook ---- */

static int n_records;
static struct px_ex_record last_record;

void px_ex_record_done(const struct px_fconn *fc, const struct px_ex_record *r)
{
    (void)fc;
    n_records++;
    last_record = *r;
}

/* ---- scripted backend ---- */

struct px_bconn { /* this binary's own: the pool's is never created here */
    bool reused;
    char in[8192];
    size_t in_len, in_off;
    bool eof;
    int recv_errno; /* recv fails with it once the input is consumed */
    bool send_blocked;
    int send_errno;
    char sent[8192];
    size_t sent_len;
    bool want_read, want_write;
    bool fionread; /* readable() reports the bytes queued in `in` */
    int kicks, closed, released, shut;
};

static struct {
    struct px_bconn conns[4];
    int nconns;
    bool pending;       /* lease: pending (on_ready / on_fail come later) */
    bool offer_reused;  /* lease: hand out a connection that served before */
    int lease_rc;       /* lease: fail at once with it */
    int leases, fresh_leases, cancels;
    void *owner;
    const struct px_bconn_ops *ops;
} B;

static size_t fb_pick(struct hb_balancer *b, struct hb_backend *be, struct px_pool *const *pools,
                      size_t n, const uint64_t *key)
{
    (void)b, (void)be, (void)pools, (void)n, (void)key;
    return 0;
}

static struct px_bconn *new_conn(bool reused)
{
    assert_true(B.nconns < 4);
    struct px_bconn *c = &B.conns[B.nconns++];
    memset(c, 0, sizeof *c);
    c->reused = reused;
    c->want_read = true;
    return c;
}

static int fb_lease(struct px_pool *p, struct px_pool_wait *w, void *owner,
                    const struct px_bconn_ops *ops, bool fresh, struct px_bconn **out)
{
    (void)p, (void)w;
    B.leases++;
    B.fresh_leases += fresh;
    B.owner = owner;
    B.ops = ops;
    *out = NULL;
    if (B.lease_rc)
        return B.lease_rc;
    if (B.pending)
        return 0;
    *out = new_conn(!fresh && B.offer_reused);
    return 0;
}

static void fb_cancel(struct px_pool_wait *w)
{
    (void)w;
    B.cancels++;
}

static const char *fb_name(const struct px_pool *p)
{
    (void)p;
    return "fake:80";
}

static bool fb_reused(const struct px_bconn *c)
{
    return c->reused;
}

static ssize_t fb_send(struct px_bconn *c, const struct iovec *iov, int n)
{
    if (c->send_errno) {
        errno = c->send_errno;
        return -1;
    }
    if (c->send_blocked) {
        errno = EAGAIN;
        return -1;
    }
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        assert_true(c->sent_len + iov[i].iov_len <= sizeof c->sent);
        memcpy(c->sent + c->sent_len, iov[i].iov_base, iov[i].iov_len);
        c->sent_len += iov[i].iov_len;
        total += iov[i].iov_len;
    }
    return (ssize_t)total;
}

static ssize_t fb_recv(struct px_bconn *c, void *buf, size_t len)
{
    if (c->in_off < c->in_len) {
        size_t n = c->in_len - c->in_off < len ? c->in_len - c->in_off : len;
        memcpy(buf, c->in + c->in_off, n);
        c->in_off += n;
        return (ssize_t)n;
    }
    if (c->recv_errno) {
        errno = c->recv_errno;
        return -1;
    }
    if (c->eof)
        return 0;
    errno = EAGAIN;
    return -1;
}

static size_t fb_readable(struct px_bconn *c)
{
    return c->fionread ? c->in_len - c->in_off : 0;
}

static void fb_want_write(struct px_bconn *c, bool on)
{
    c->want_write = on;
}

static void fb_kick_write(struct px_bconn *c)
{
    c->kicks++;
}

static void fb_want_read(struct px_bconn *c, bool on)
{
    c->want_read = on;
}

static void fb_set_timeout(struct px_bconn *c, uint32_t ms)
{
    (void)c, (void)ms;
}

static void fb_shutdown_write(struct px_bconn *c)
{
    c->shut++;
}

static void fb_release(struct px_bconn *c)
{
    c->released++;
}

static void fb_close(struct px_bconn *c)
{
    c->closed++;
}

static const struct px_backend_ops fake_backend = {
    .pick = fb_pick,
    .lease = fb_lease,
    .cancel = fb_cancel,
    .name = fb_name,
    .reused = fb_reused,
    .send = fb_send,
    .recv = fb_recv,
    .readable = fb_readable,
    .want_write = fb_want_write,
    .kick_write = fb_kick_write,
    .want_read = fb_want_read,
    .set_timeout = fb_set_timeout,
    .shutdown_write = fb_shutdown_write,
    .release = fb_release,
    .close = fb_close,
};

/* Response bytes arrive on c and the pool says c is readable. */
static void backend_says(struct px_bconn *c, const char *bytes)
{
    size_t n = strlen(bytes);
    assert_true(c->in_len + n <= sizeof c->in);
    memcpy(c->in + c->in_len, bytes, n);
    c->in_len += n;
    B.ops->on_readable(B.owner, c);
}

/* ---- fake front ---- */

static struct {
    int responses, final_status, informational, resets, resumes, trailers, binds;
    uint32_t reset_code;
    bool response_end;
    size_t consumed;
} F;

static int ff_submit_response(struct px_fconn *fc, uint32_t sid, const struct hb_msg *resp,
                              bool end)
{
    (void)fc, (void)sid;
    if (resp->status < 200) {
        F.informational++;
        return 0;
    }
    F.responses++;
    F.final_status = resp->status;
    F.response_end = end;
    return 0;
}

static int ff_submit_trailers(struct px_fconn *fc, uint32_t sid, const struct hb_msg *t)
{
    (void)fc, (void)sid, (void)t;
    F.trailers++;
    return 0;
}

static int ff_resume(struct px_fconn *fc, uint32_t sid)
{
    (void)fc, (void)sid;
    F.resumes++;
    return 0;
}

static int ff_consumed(struct px_fconn *fc, uint32_t sid, size_t n)
{
    (void)fc, (void)sid;
    F.consumed += n;
    return 0;
}

static int ff_reset(struct px_fconn *fc, uint32_t sid, uint32_t code)
{
    (void)fc, (void)sid;
    F.resets++;
    F.reset_code = code;
    return 0;
}

static void ff_bind(struct px_fconn *fc, uint32_t sid, struct px_exchange *ex)
{
    (void)fc, (void)sid, (void)ex;
    F.binds++;
}

static void ff_drain(struct px_fconn *fc)
{
    (void)fc;
}

static int ff_run(struct px_fconn *fc, enum px_fconn_event ev)
{
    (void)fc, (void)ev;
    return 0;
}

static void ff_free(struct px_fconn *fc)
{
    (void)fc;
}

static const struct px_front_ops fake_front = {
    .name = "fake",
    .submit_response = ff_submit_response,
    .submit_trailers = ff_submit_trailers,
    .resume = ff_resume,
    .consumed = ff_consumed,
    .reset = ff_reset,
    .bind = ff_bind,
    .drain = ff_drain,
    .run = ff_run,
    .free = ff_free,
};

/* ---- the world: a worker with one upstream of one server, a connection ---- */

static const char yaml[] = "listeners:\n"
                           "  - address: \"127.0.0.1:1\"\n"
                           "    protocols: [h2c]\n"
                           "upstreams:\n"
                           "  up:\n"
                           "    servers: [\"127.0.0.1:2\"]\n"
                           "    retries: 0\n"
                           "routes:\n"
                           "  - path_prefix: /\n"
                           "    upstream: up\n"
                           "limits:\n"
                           "  max_request_body_size: 1KiB\n"
                           "  stream_buffer_size: 4KiB\n";

struct world {
    struct cfg *cfg;
    struct px_worker w;
    struct px_upstream up;
    struct px_pool *pools[1];
    struct hb_backend load[1];
    struct px_listener l;
    struct px_fconn fc;
};

static void noop_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
}

static int setup(void **st)
{
    struct world *x = calloc(1, sizeof *x);
    assert_non_null(x);
    struct cfg_errors errs;
    cfg_errors_init(&errs);
    assert_int_equal(cfg_load_buffer("t.yaml", yaml, strlen(yaml), &x->cfg, &errs), 0);
    cfg_errors_free(&errs);
    x->w.cfg = x->cfg;
    x->w.base = event_base_new();
    assert_non_null(x->w.base);
    x->w.backend = &fake_backend;
    hb_list_init(&x->w.conns);
    hb_list_init(&x->w.ex_cache);
    x->up.cfg = &x->cfg->upstreams[0];
    x->pools[0] = (struct px_pool *)x; /* never dereferenced by the fake */
    x->up.pools = x->pools;
    x->up.npools = 1;
    x->load[0] = (struct hb_backend){.weight = 1, .healthy = true};
    x->up.load = x->load;
    hb_balancer_init(&x->up.bal, HB_BAL_ROUND_ROBIN, 1);
    x->w.ups = &x->up;
    x->w.nups = 1;
    struct px_fconn *fc = &x->fc;
    x->l.w = &x->w;
    x->l.cfg = &x->cfg->listeners[0];
    fc->w = &x->w;
    fc->l = &x->l;
    fc->fd = -1;
    fc->io.fd = -1;
    fc->state = PX_FCONN_H2;
    fc->ops = &fake_front;
    hb_list_init(&fc->exchanges);
    hb_list_init(&fc->dead);
    fc->ev_flush = event_new(x->w.base, -1, 0, noop_cb, fc);
    snprintf(fc->peer, sizeof fc->peer, "test");
    snprintf(fc->peer_addr, sizeof fc->peer_addr, "192.0.2.1");
    memset(&B, 0, sizeof B);
    memset(&F, 0, sizeof F);
    n_records = 0;
    memset(&last_record, 0, sizeof last_record);
    *st = x;
    return 0;
}

static int teardown(void **st)
{
    struct world *x = *st;
    px_exchange_abort_all(&x->fc);
    px_exchange_cache_free(&x->w);
    event_free(x->fc.ev_flush);
    event_base_free(x->w.base);
    cfg_del(x->cfg);
    free(x);
    return 0;
}

static struct px_exchange *start(struct world *x, const char *method, bool end)
{
    struct hb_msg req = {0};
    req.method = hb_str_c(method);
    req.path = hb_str_c("/p");
    req.authority = hb_str_c("example.test");
    req.scheme = hb_str_c("https");
    if (end)
        req.flags |= HB_MSG_END_STREAM;
    return px_exchange_start(&x->fc, 1, &req, end);
}

static void assert_one_record(enum px_ex_end reason, int status)
{
    assert_int_equal(n_records, 1);
    assert_string_equal(px_ex_end_name(last_record.reason), px_ex_end_name(reason));
    assert_int_equal(last_record.status, status);
}

/* Pulls the response body as the front would, until eof or nothing. */
static size_t pull(struct px_exchange *ex, bool *eof)
{
    uint8_t buf[1024];
    size_t total = 0;
    for (;;) {
        ptrdiff_t n = px_exchange_read_data(ex, buf, sizeof buf, eof);
        assert_true(n >= 0);
        total += (size_t)n;
        if (*eof || n == 0)
            return total;
    }
}

static const char ok_resp[] = "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello";

/* ---- scenarios ---- */

static void test_complete(void **st)
{
    struct world *x = *st;
    struct px_exchange *ex = start(x, "GET", true);
    assert_non_null(ex);
    assert_int_equal(F.binds, 1);
    assert_int_equal(B.nconns, 1);
    assert_non_null(strstr(B.conns[0].sent, "GET /p HTTP/1.1\r\n"));
    backend_says(&B.conns[0], ok_resp);
    assert_int_equal(F.responses, 1);
    assert_int_equal(F.final_status, 200);
    bool eof = false;
    assert_int_equal(pull(ex, &eof), 5);
    assert_true(eof);
    assert_int_equal(B.conns[0].released, 1); /* keep-alive: back to the pool */
    assert_int_equal(n_records, 0);           /* not before the front says so */
    px_exchange_on_close(ex, H2_NO_ERROR);
    assert_one_record(PX_EX_END_COMPLETE, 200);
    assert_int_equal(last_record.resp_body_bytes, 5);
    assert_string_equal(last_record.backend, "fake:80");
    assert_string_equal(last_record.upstream, "up");
    assert_true(last_record.t_start && last_record.t_connected && last_record.t_first_byte &&
                last_record.t_end >= last_record.t_start);
    px_exchange_reap(&x->fc);
    assert_int_equal(n_records, 1);
}

/* A reused keep-alive connection closed before any response byte: one retry
 * on a fresh connection, and one record for the request. */
static void test_retry_on_stale_connection(void **st)
{
    struct world *x = *st;
    B.offer_reused = true;
    struct px_exchange *ex = start(x, "GET", true);
    assert_int_equal(B.nconns, 1);
    assert_true(B.conns[0].reused);
    B.conns[0].eof = true;
    B.ops->on_readable(B.owner, &B.conns[0]);
    assert_int_equal(B.conns[0].closed, 1);
    assert_int_equal(B.leases, 2);
    assert_int_equal(B.fresh_leases, 1);
    assert_int_equal(B.nconns, 2);
    assert_false(B.conns[1].reused);
    assert_int_equal(F.responses, 0); /* the client saw nothing of it */
    backend_says(&B.conns[1], ok_resp);
    bool eof;
    pull(ex, &eof);
    assert_true(eof);
    px_exchange_on_close(ex, H2_NO_ERROR);
    assert_one_record(PX_EX_END_COMPLETE, 200);
    assert_int_equal(last_record.retries, 1);
}

/* The same on a non-idempotent request: no retry, 502. */
static void test_no_retry_for_post(void **st)
{
    struct world *x = *st;
    B.offer_reused = true;
    struct px_exchange *ex = start(x, "POST", true);
    B.conns[0].eof = true;
    B.ops->on_readable(B.owner, &B.conns[0]);
    assert_int_equal(B.leases, 1);
    assert_int_equal(F.final_status, 502);
    assert_int_equal(n_records, 0);
    px_exchange_on_close(ex, H2_NO_ERROR); /* the 502 went out */
    assert_one_record(PX_EX_END_BACKEND_ERROR, 502);
}

static void test_connect_failure_502(void **st)
{
    struct world *x = *st;
    B.pending = true;
    struct px_exchange *ex = start(x, "GET", true);
    assert_non_null(ex);
    B.ops->on_fail(B.owner, HB_EIO);
    assert_int_equal(F.final_status, 502);
    assert_true(F.response_end);
    px_exchange_on_close(ex, H2_NO_ERROR);
    assert_one_record(PX_EX_END_BACKEND_ERROR, 502);
}

static void test_pool_queue_503(void **st)
{
    struct world *x = *st;
    B.lease_rc = HB_ELIMIT; /* queue full at once */
    struct px_exchange *ex = start(x, "GET", true);
    assert_non_null(ex);
    assert_int_equal(F.final_status, 503);
    px_exchange_on_close(ex, H2_NO_ERROR);
    assert_one_record(PX_EX_END_BACKEND_ERROR, 503);
}

static void test_read_timeout_504(void **st)
{
    struct world *x = *st;
    struct px_exchange *ex = start(x, "GET", true);
    B.ops->on_timeout(B.owner, &B.conns[0]);
    assert_int_equal(F.final_status, 504);
    assert_int_equal(B.conns[0].closed, 1);
    px_exchange_on_close(ex, H2_NO_ERROR);
    assert_one_record(PX_EX_END_TIMEOUT, 504);
}

/* After the head went out an error can only reset the request. */
static void test_backend_fails_mid_body_resets(void **st)
{
    struct world *x = *st;
    struct px_exchange *ex = start(x, "GET", true);
    backend_says(&B.conns[0], "HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nabc");
    assert_int_equal(F.responses, 1);
    B.ops->on_timeout(B.owner, &B.conns[0]);
    assert_int_equal(F.resets, 1);
    assert_int_equal(F.reset_code, H2_INTERNAL_ERROR);
    assert_int_equal(F.responses, 1); /* no second head */
    bool eof;
    uint8_t buf[16];
    assert_int_equal(px_exchange_read_data(ex, buf, sizeof buf, &eof), -1);
    px_exchange_on_close(ex, H2_INTERNAL_ERROR); /* the reset closes it */
    assert_one_record(PX_EX_END_TIMEOUT, 200);
}

/* The client resets mid-response: the backend connection is closed (its
 * response cannot be finished), one record. */
static void test_client_reset_mid_response(void **st)
{
    struct world *x = *st;
    struct px_exchange *ex = start(x, "GET", true);
    backend_says(&B.conns[0], "HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nabc");
    px_exchange_on_close(ex, H2_CANCEL);
    assert_int_equal(B.conns[0].closed, 1);
    assert_int_equal(B.conns[0].released, 0);
    assert_one_record(PX_EX_END_CLIENT_RESET, 200);
    px_exchange_reap(&x->fc);
    assert_int_equal(n_records, 1);
}

/* The client connection goes away with the exchange waiting for a pool
 * slot: the lease is withdrawn, one record. */
static void test_connection_closed_while_connecting(void **st)
{
    struct world *x = *st;
    B.pending = true;
    struct px_exchange *ex = start(x, "GET", true);
    assert_non_null(ex);
    px_exchange_abort_all(&x->fc);
    assert_int_equal(B.cancels, 1);
    assert_one_record(PX_EX_END_CONN_CLOSED, 0);
    px_exchange_abort_all(&x->fc); /* nothing left: no second record */
    assert_int_equal(n_records, 1);
}

/* A failed exchange whose connection closes before the front reported the
 * stream's close: one record, with the failure's reason. */
static void test_failed_then_connection_closed(void **st)
{
    struct world *x = *st;
    start(x, "GET", true);
    B.ops->on_timeout(B.owner, &B.conns[0]);
    assert_int_equal(n_records, 0);
    px_exchange_abort_all(&x->fc);
    assert_one_record(PX_EX_END_TIMEOUT, 504);
}

static void test_not_admitted_is_answered_and_recorded(void **st)
{
    struct world *x = *st;
    struct hb_msg req = {0};
    req.method = hb_str_c("CONNECT");
    req.authority = hb_str_c("example.test:443");
    req.path = hb_str_c("/");
    assert_null(px_exchange_start(&x->fc, 1, &req, true));
    assert_int_equal(F.final_status, 501);
    assert_int_equal(B.leases, 0);
    assert_one_record(PX_EX_END_LOCAL, 501);
}

/* Front not consuming: once the response buffer (stream_buffer_size) is
 * full the backend is not read; a pull resumes reading. */
static void test_backpressure_front_slow(void **st)
{
    struct world *x = *st;
    struct px_exchange *ex = start(x, "GET", true);
    backend_says(&B.conns[0], "HTTP/1.1 200 OK\r\ncontent-length: 6000\r\n\r\n");
    struct px_bconn *c = &B.conns[0];
    char body[4096];
    memset(body, 'x', sizeof body);
    memcpy(c->in + c->in_len, body, sizeof body);
    c->in_len += sizeof body;
    B.ops->on_readable(B.owner, c); /* fills the 4 KiB buffer */
    assert_true(c->want_read);
    B.ops->on_readable(B.owner, c); /* full: reading pauses */
    assert_false(c->want_read);
    uint8_t buf[1024];
    bool eof;
    assert_int_equal(px_exchange_read_data(ex, buf, sizeof buf, &eof), 1024);
    assert_false(c->want_read); /* the decoded span still holds the buffer */
    assert_int_equal(px_exchange_read_data(ex, buf, sizeof buf, &eof), 1024);
    assert_int_equal(px_exchange_read_data(ex, buf, sizeof buf, &eof), 1024);
    assert_int_equal(px_exchange_read_data(ex, buf, sizeof buf, &eof), 1024);
    assert_false(eof);
    assert_true(c->want_read); /* room again: reading resumes */
    px_exchange_on_close(ex, H2_CANCEL);
    assert_one_record(PX_EX_END_CLIENT_RESET, 200);
}

/* Read-through: the buffer runs dry in a pull while the backend's next
 * bytes already wait in its socket (no readable event yet). A protocol
 * that pulls again (h2) gets them in the same pull, so the stream keeps
 * its turn; HTTP/1.1, or a socket that reports nothing, waits for the
 * event as before. */
static void read_through_case(struct world *x, bool pulls_while_ready, bool fionread,
                              size_t want_first)
{
    /* The fake front, as a protocol that pulls again while a stream has
     * data (h2) or not (HTTP/1.1). */
    static struct px_front_ops front;
    front = fake_front;
    front.pulls_while_ready = pulls_while_ready;
    x->fc.ops = &front;
    struct px_exchange *ex = start(x, "GET", true);
    struct px_bconn *c = &B.conns[0];
    c->fionread = fionread;
    backend_says(c, "HTTP/1.1 200 OK\r\ncontent-length: 6000\r\n\r\n");
    memset(c->in + c->in_len, 'x', 6000);
    c->in_len += 6000;
    B.ops->on_readable(B.owner, c); /* 4 KiB into the buffer, 1904 B left in the socket */
    uint8_t buf[8192];
    bool eof = false;
    int resumes = F.resumes;
    assert_int_equal(px_exchange_read_data(ex, buf, sizeof buf, &eof), want_first);
    assert_int_equal(eof, want_first == 6000);
    assert_int_equal(F.resumes, resumes); /* nothing kicked: the pull itself read */
    if (want_first < 6000) {
        assert_true(c->want_read); /* room: the readable event will bring the rest */
        B.ops->on_readable(B.owner, c);
        size_t rest = pull(ex, &eof);
        assert_int_equal(want_first + rest, 6000);
        assert_true(eof);
    }
    px_exchange_on_close(ex, H2_NO_ERROR);
    assert_one_record(PX_EX_END_COMPLETE, 200);
    assert_int_equal(last_record.resp_body_bytes, 6000);
}

static void test_read_through_h2(void **st)
{
    read_through_case(*st, true, true, 6000);
}

static void test_no_read_through_h1(void **st)
{
    read_through_case(*st, false, true, 4096);
}

static void test_no_read_through_unknown(void **st)
{
    read_through_case(*st, true, false, 4096);
}

/* Backend not writable: request body bytes wait in the exchange and the
 * client is not credited; once written, it is. */
static void test_backpressure_backend_slow(void **st)
{
    struct world *x = *st;
    struct hb_msg req = {0};
    req.method = hb_str_c("POST");
    req.path = hb_str_c("/p");
    req.authority = hb_str_c("example.test");
    req.flags = HB_MSG_HAS_CL;
    req.content_length = 100;
    struct px_exchange *ex = px_exchange_start(&x->fc, 1, &req, false);
    assert_non_null(ex);
    struct px_bconn *c = &B.conns[0];
    c->send_blocked = true;
    uint8_t data[100];
    memset(data, 'b', sizeof data);
    px_exchange_on_data(ex, data, sizeof data, true);
    assert_int_equal(c->kicks, 1);
    B.ops->on_writable(B.owner, c);
    assert_true(c->want_write);
    assert_int_equal(F.consumed, 0); /* no credit while the backend does not take it */
    c->send_blocked = false;
    B.ops->on_writable(B.owner, c);
    assert_false(c->want_write);
    assert_int_equal(F.consumed, 100);
    backend_says(c, ok_resp);
    bool eof;
    pull(ex, &eof);
    px_exchange_on_close(ex, H2_NO_ERROR);
    assert_one_record(PX_EX_END_COMPLETE, 200);
    assert_int_equal(last_record.req_body_bytes, 100);
}

/* An h2 body without content-length over max_request_body_size: 413 before
 * the response, the backend connection closed. */
static void test_body_over_limit_413(void **st)
{
    struct world *x = *st;
    struct hb_msg req = {0};
    req.method = hb_str_c("POST");
    req.path = hb_str_c("/p");
    req.authority = hb_str_c("example.test");
    struct px_exchange *ex = px_exchange_start(&x->fc, 1, &req, false);
    uint8_t data[800];
    memset(data, 'b', sizeof data);
    px_exchange_on_data(ex, data, sizeof data, false);
    assert_int_equal(F.responses, 0);
    px_exchange_on_data(ex, data, sizeof data, false);
    assert_int_equal(F.final_status, 413);
    assert_int_equal(B.conns[0].closed, 1);
    px_exchange_on_close(ex, H2_NO_ERROR);
    assert_one_record(PX_EX_END_BAD_REQUEST, 413);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_complete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_on_stale_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_retry_for_post, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connect_failure_502, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pool_queue_503, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_timeout_504, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backend_fails_mid_body_resets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_reset_mid_response, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connection_closed_while_connecting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_then_connection_closed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_admitted_is_answered_and_recorded, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_backpressure_front_slow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backpressure_backend_slow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_over_limit_413, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_through_h2, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_read_through_h1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_read_through_unknown, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
