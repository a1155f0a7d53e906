/* proxy/admit.c — request admission (see admit.h). */
#include "proxy/admit.h"

#include <string.h>

#include "config/cfg.h"
#include "proxy/authority.h"
#include "proxy/fconn.h"
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
    const char *c = memchr(authority.p, ':', n);
    return c ? hb_str_make(authority.p, (size_t)(c - authority.p)) : authority;
}

int px_admit(struct px_fconn *fc, const struct hb_msg *req, const struct cfg_route **route,
             const char **why)
{
    const struct cfg *cfg = fc->w->cfg;
    *route = NULL;
    if (fc->state == PX_FCONN_H2 && px_misdirected(fc, req)) {
        *why = ":authority not covered by the certificate";
        return 421;
    }
    if ((req->flags & HB_MSG_HAS_CL) && px_admit_body_over(&cfg->limits, req->content_length)) {
        *why = "Content-Length over limits.max_request_body_size";
        return 413;
    }
    struct hb_str host = host_of(req->authority);
    const struct cfg_route *r = cfg_route_match(cfg, host.p, host.len, req->path.p, req->path.len);
    if (!r) {
        *why = "no route";
        return 404;
    }
    if (hb_str_eq(req->method, hb_str_c("CONNECT"))) {
        *why = "CONNECT is not supported";
        return 501;
    }
    *route = r;
    *why = NULL;
    return 0;
}
