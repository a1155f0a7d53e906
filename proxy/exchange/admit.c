/* proxy/exchange/admit.c — request admission (see admit.h). */
#include "proxy/exchange/admit.h"

#include <stdio.h>
#include <string.h>

#include "config/cfg.h"
#include "proxy/front/authority.h"
#include "proxy/clients.h"
#include "proxy/front/conn.h"
#include "proxy/obs/hooks.h"
#include "proxy/worker.h"

bool px_admit_body_over(const struct cfg_limits *l, uint64_t total)
{
    return l->max_request_body_size && total > l->max_request_body_size;
}

static struct hb_str host_of(struct hb_str authority)
{
    size_t n = authority.len;
    if (n && authority.p[0] == '[') { /* [v6]:port */
        const char *e = memchr(authority.p, ']', n);
        return e ? hb_str_make(authority.p, (size_t)(e - authority.p) + 1) : authority;
    }
    const char *c = n ? memchr(authority.p, ':', n) : NULL; /* no Host (HTTP/1.0): p is NULL */
    return c ? hb_str_make(authority.p, (size_t)(c - authority.p)) : authority;
}

int px_admit(struct px_fconn *fc, const struct hb_msg *req, const struct cfg_route **route,
             char *why, size_t size)
{
    const struct cfg *cfg = fc->w->cfg;
    *route = NULL;
    const struct cfg_clients *cc = &cfg->clients;
    if (fc->client_counted && cc->requests_per_second &&
        px_clients_request(fc->w->clients, fc->client_addr, cc->requests_per_second, cc->burst,
                           hb_time_now_ns()) == PX_CLIENT_OVER) {
        snprintf(why, size, "over clients.requests_per_second (%u a second, burst %u)",
                 cc->requests_per_second, cc->burst);
        px_stats_client_limited(fc, true);
        return 429;
    }
    if (fc->state == PX_FCONN_H2 && px_misdirected(fc, req)) {
        snprintf(why, size, ":authority %.*s not covered by the certificate",
                 (int)req->authority.len, req->authority.p);
        return 421;
    }
    if (req->nfields > cfg->limits.max_header_count) {
        /* As HTTP/1.1 requests (core/h1_common.h TOO_MANY_FIELDS, which the
         * HTTP/1.1 parser applies itself): 431, not forwarded. Pseudo-header
         * fields are not counted. */
        snprintf(why, size, "%u header fields over limits.max_header_count (%u)", req->nfields,
                 cfg->limits.max_header_count);
        return 431;
    }
    if ((req->flags & HB_MSG_HAS_CL) && px_admit_body_over(&cfg->limits, req->content_length)) {
        snprintf(why, size, "Content-Length %llu over limits.max_request_body_size",
                 (unsigned long long)req->content_length);
        return 413;
    }
    struct hb_str host = host_of(req->authority);
    const struct cfg_route *r = cfg_route_match(cfg, host.p, host.len, req->path.p, req->path.len);
    if (!r) {
        snprintf(why, size, "no route");
        return 404;
    }
    /* Extended CONNECT (RFC 8441, :protocol) is a tunnel: proxy/exchange/tunnel.h. */
    if (req->protocol.len == 0 && hb_str_eq(req->method, hb_str_c("CONNECT"))) {
        snprintf(why, size, "CONNECT is not supported");
        return 501;
    }
    *route = r;
    return 0;
}
