/* proxy/obs/hooks.c — the request path's side of the counters (hooks.h). */
#include "proxy/obs/hooks.h"

#include "proxy/backend/adopt.h"

#include <openssl/ssl.h>

#include "proxy/backend/pool.h"
#include "proxy/exchange/exchange.h"
#include "proxy/front/conn.h"
#include "proxy/worker.h"

/* fc's listener group, or NULL. */
static px_ctr *lis_of(const struct px_fconn *fc)
{
    const struct px_worker *w = fc->w;
    struct px_stats *s = w ? w->stats : NULL;
    if (!s || !fc->l)
        return NULL;
    size_t i = (size_t)(fc->l - w->listeners);
    return i < s->nlis ? s->lis[i].v : NULL;
}

enum px_st_proto px_stats_proto(const struct px_fconn *fc, int version)
{
    /* h2 messages carry version 0 (core/msg.h), their records 20. */
    if (version == 10)
        return PX_ST_HTTP10;
    if (version == 11 || (version == 0 && fc->state == PX_FCONN_H1))
        return PX_ST_HTTP11; /* 0 on H1: a head refused before it parsed */
    return fc->io.ssl ? PX_ST_H2 : PX_ST_H2C;
}

void px_stats_request_start(const struct px_fconn *fc, int version)
{
    px_ctr *v = lis_of(fc);
    if (v)
        px_ctr_add(&v[PX_SL_ACTIVE + px_stats_proto(fc, version)], 1);
}

/* The server group the record names (pointer comparisons: the record's
 * names are the configuration's and the pool's own strings), or NULL. */
static px_ctr *srv_of(const struct px_worker *w, const struct px_ex_record *r)
{
    const struct px_stats *s = w->stats;
    for (size_t i = 0; i < w->nups && i < s->nups; i++) {
        const struct px_upstream *up = &w->ups[i];
        if (up->cfg->name.s != r->upstream)
            continue;
        for (size_t j = 0; j < up->npools; j++)
            if (px_pool_name(up->pools[j]) == r->backend)
                return up->st ? up->st[j] : NULL;
        /* A server whose address went away under the request (DNS). */
        return up->dynamic ? px_upstream_draining_stats(up, r->backend) : NULL;
    }
    return NULL;
}

static unsigned status_class(int status)
{
    return status >= 100 && status <= 599 ? (unsigned)status / 100 : 0;
}

void px_stats_request_done(const struct px_fconn *fc, const struct px_ex_record *r)
{
    px_ctr *v = lis_of(fc);
    if (!v)
        return;
    enum px_st_proto p = px_stats_proto(fc, r->version);
    unsigned sc = status_class(r->status);
    enum px_st_method m = px_st_method_of(r->method.p, r->method.len);
    px_ctr_add(&v[PX_SL_REQ + ((size_t)p * PX_ST_NMETHOD + m) * PX_ST_NSTATUS + sc], 1);
    if ((unsigned)r->reason < PX_ST_NEND)
        px_ctr_add(&v[PX_SL_END + r->reason], 1);
    if (r->t_end >= r->t_start)
        px_st_observe(&v[PX_SL_DURATION], r->t_end - r->t_start);
    px_ctr_add(&v[PX_SL_REQ_BYTES], r->req_body_bytes);
    px_ctr_add(&v[PX_SL_RESP_BYTES], r->resp_body_bytes);
    /* Requests in progress: a record without a parsed head (version 0:
     * refused before px_exchange_start) was never counted in. */
    px_ctr *active = &v[PX_SL_ACTIVE + p];
    if (r->version != 0 && px_ctr_get(active))
        px_ctr_add(active, (uint64_t)-1);
    px_ctr *sv = srv_of(fc->w, r);
    if (!sv)
        return;
    px_ctr_add(&sv[PX_SS_REQ + sc], 1);
    if (r->retries)
        px_ctr_add(&sv[PX_SS_RETRIES], r->retries);
    if (r->reason == PX_EX_END_TIMEOUT)
        px_ctr_add(&sv[PX_SS_TIMEOUTS], 1);
    else if (r->reason == PX_EX_END_BACKEND_ERROR)
        px_ctr_add(&sv[PX_SS_ERRORS], 1);
    if (r->t_first_byte && r->t_first_byte >= r->t_start)
        px_st_observe(&sv[PX_SS_TTFB], r->t_first_byte - r->t_start);
}

static int cproto_of(const struct px_fconn *fc, int state)
{
    switch ((enum px_fconn_state)state) {
    case PX_FCONN_PROXY_HDR:
    case PX_FCONN_HANDSHAKING:
    case PX_FCONN_SNIFFING:
        return PX_ST_C_PENDING;
    case PX_FCONN_H2C_WAIT:
    case PX_FCONN_H2:
        return fc->io.ssl ? PX_ST_C_H2 : PX_ST_C_H2C;
    case PX_FCONN_H1:
        return PX_ST_C_HTTP1;
    case PX_FCONN_CLOSING:
        break;
    }
    return -1;
}

void px_stats_conn_state(struct px_fconn *fc, int to)
{
    px_ctr *v = lis_of(fc);
    if (!v)
        return;
    int from = fc->st_cproto - 1; /* -1: not counted yet */
    int next = cproto_of(fc, to);
    if (from == next)
        return;
    if (from < 0 && next >= 0)
        px_ctr_add(&v[PX_SL_CONNS], 1);
    if (from >= 0)
        px_ctr_add(&v[PX_SL_CONNS_OPEN + from], (uint64_t)-1);
    if (next >= 0)
        px_ctr_add(&v[PX_SL_CONNS_OPEN + next], 1);
    fc->st_cproto = (int8_t)(next + 1);
}

void px_stats_tls_done(const struct px_fconn *fc)
{
    px_ctr *v = lis_of(fc);
    if (!v || !fc->io.ssl)
        return;
    int ver = SSL_version(fc->io.ssl);
    unsigned vi = ver == TLS1_2_VERSION ? 0 : ver == TLS1_3_VERSION ? 1 : 2;
    unsigned resumed = SSL_session_reused(fc->io.ssl) ? 1 : 0;
    px_ctr_add(&v[PX_SL_TLS_OK + vi * 2 + resumed], 1);
}

void px_stats_tls_failed(const struct px_fconn *fc, enum px_st_tls_fail why)
{
    px_ctr *v = lis_of(fc);
    if (v && (unsigned)why < PX_ST_NTLSFAIL)
        px_ctr_add(&v[PX_SL_TLS_FAIL + why], 1);
}

void px_stats_client_limited(const struct px_fconn *fc, bool rate)
{
    px_ctr *v = lis_of(fc);
    if (v)
        px_ctr_add(&v[rate ? PX_SL_CLIENT_RATE : PX_SL_CLIENT_CONNS], 1);
}

void px_stats_early(const struct px_fconn *fc, unsigned what)
{
    px_ctr *v = lis_of(fc);
    if (v && what < PX_ST_NEARLY)
        px_ctr_add(&v[PX_SL_EARLY + what], 1);
}

void px_stats_push(const struct px_fconn *fc, unsigned what, uint64_t n)
{
    px_ctr *v = lis_of(fc);
    if (v && what < PX_ST_NPUSH)
        px_ctr_add(&v[PX_SL_PUSH + what], n);
}

static unsigned code_index(uint64_t code)
{
    return code < PX_ST_NH2CODE - 1 ? (unsigned)code : PX_ST_NH2CODE - 1;
}

void px_stats_h2_stream_error(const struct px_fconn *fc, uint32_t code)
{
    px_ctr *v = lis_of(fc);
    if (v)
        px_ctr_add(&v[PX_SL_H2_STREAM_ERR + code_index(code)], 1);
}

void px_stats_h2_conn_end(const struct px_fconn *fc, int64_t goaway_code, enum h2_flood flood)
{
    px_ctr *v = lis_of(fc);
    if (!v)
        return;
    if (goaway_code > 0) /* 0 is NO_ERROR: idle, drain, graceful */
        px_ctr_add(&v[PX_SL_H2_CONN_ERR + code_index((uint64_t)goaway_code)], 1);
    if (flood != H2_FLOOD_NONE && (unsigned)flood < H2_FLOOD_COUNT)
        px_ctr_add(&v[PX_SL_H2_FLOOD + flood], 1);
}

void px_stats_tunnel(const struct px_fconn *fc, int delta)
{
    px_ctr *v = lis_of(fc);
    if (!v)
        return;
    if (delta > 0) {
        px_ctr_add(&v[PX_SL_TUNNELS], 1);
        px_ctr_add(&v[PX_SL_TUNNELS_OPEN], 1);
    } else if (px_ctr_get(&v[PX_SL_TUNNELS_OPEN])) {
        px_ctr_add(&v[PX_SL_TUNNELS_OPEN], (uint64_t)-1);
    }
}
