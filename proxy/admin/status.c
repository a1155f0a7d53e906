/* proxy/admin/status.c — the /status JSON document (admin_http.h; its
 * fields are listed in docs/observability.md). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config/cfg.h"
#include "core/err.h"
#include "proxy/admin/admin_http.h"
#include "proxy/backend/health_state.h"
#include "proxy/backend/resolver.h"
#include "proxy/listener.h"
#include "proxy/obs/stats.h"
#include "proxy/worker.h"

#ifndef H2B_VERSION
#define H2B_VERSION "dev"
#endif

struct jw {
    struct hb_buf *out;
    int err;
};

static void raw(struct jw *j, const char *s, size_t n)
{
    if (!j->err && n)
        j->err = hb_buf_append(j->out, s, n);
}

static void lit(struct jw *j, const char *s)
{
    raw(j, s, strlen(s));
}

static void fmt(struct jw *j, const char *f, ...)
{
    char b[96];
    va_list ap;
    va_start(ap, f);
    int n = vsnprintf(b, sizeof b, f, ap);
    va_end(ap);
    if (n > 0)
        raw(j, b, (size_t)n < sizeof b ? (size_t)n : sizeof b - 1);
}

/* A JSON string; '<', '>' and '&' as \u escapes so that the document can
 * sit inside the stats page's <script> as it is. */
static void str(struct jw *j, const char *s)
{
    lit(j, "\"");
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            raw(j, e, 2);
        } else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
            fmt(j, "\\u%04x", c);
        } else {
            raw(j, (const char *)&c, 1);
        }
    }
    lit(j, "\"");
}

static void key(struct jw *j, const char *k)
{
    str(j, k);
    lit(j, ":");
}

static void u64(struct jw *j, const char *k, uint64_t v, bool comma)
{
    key(j, k);
    fmt(j, "%" PRIu64 "%s", v, comma ? "," : "");
}

static const struct px_snap_group *find(const struct px_snap_group *g, size_t n, const char *name,
                                        const char *server)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(g[i].name, name) == 0 &&
            (!server || (g[i].server && strcmp(g[i].server, server) == 0)))
            return &g[i];
    return NULL;
}

static uint64_t sum(const uint64_t *v, size_t from, size_t n)
{
    uint64_t s = 0;
    for (size_t i = 0; i < n; i++)
        s += v[from + i];
    return s;
}

static void listener(struct jw *j, const struct cfg_listener *l, const struct px_snap *s,
                     bool ready)
{
    char label[80];
    px_listener_label(l, label, sizeof label);
    const struct px_snap_group *g = find(s->lis, s->nlis, label, NULL);
    static const uint64_t zero[PX_SL_N];
    const uint64_t *v = g ? g->v : zero;
    lit(j, "{");
    key(j, "name");
    str(j, label);
    lit(j, ",");
    key(j, "address");
    str(j, l->address.s);
    lit(j, ",");
    u64(j, "port", l->port, true);
    key(j, "tls");
    lit(j, l->tls ? "true," : "false,");
    key(j, "protocols");
    lit(j, "[");
    static const enum cfg_proto ps[] = {CFG_PROTO_H2, CFG_PROTO_HTTP11, CFG_PROTO_H2C};
    bool first = true;
    for (size_t i = 0; i < 3; i++)
        if (l->protocols & ps[i]) {
            lit(j, first ? "" : ",");
            str(j, cfg_proto_name(ps[i]));
            first = false;
        }
    lit(j, "],");
    key(j, "state");
    str(j, ready ? "listening" : "draining");
    lit(j, ",");
    u64(j, "connections_open", sum(v, PX_SL_CONNS_OPEN, PX_ST_NCPROTO), true);
    u64(j, "connections_total", v[PX_SL_CONNS], true);
    u64(j, "requests_active", sum(v, PX_SL_ACTIVE, PX_ST_NPROTO), true);
    u64(j, "tunnels_open", v[PX_SL_TUNNELS_OPEN], true);
    u64(j, "tunnels_total", v[PX_SL_TUNNELS], true);
    uint64_t by[PX_ST_NSTATUS] = {0};
    for (size_t k = 0; k < (size_t)PX_ST_NPROTO * PX_ST_NMETHOD; k++)
        for (unsigned c = 0; c < PX_ST_NSTATUS; c++)
            by[c] += v[PX_SL_REQ + k * PX_ST_NSTATUS + c];
    u64(j, "requests_total", sum(by, 0, PX_ST_NSTATUS), true);
    key(j, "requests_by_status");
    lit(j, "{");
    for (unsigned c = 0; c < PX_ST_NSTATUS; c++)
        u64(j, px_st_status_name(c), by[c], c + 1 < PX_ST_NSTATUS);
    lit(j, "},");
    u64(j, "request_body_bytes", v[PX_SL_REQ_BYTES], true);
    u64(j, "response_body_bytes", v[PX_SL_RESP_BYTES], true);
    u64(j, "tls_handshakes", sum(v, PX_SL_TLS_OK, PX_ST_NTLSVER * 2), true);
    u64(j, "tls_handshake_failures", sum(v, PX_SL_TLS_FAIL, PX_ST_NTLSFAIL), false);
    lit(j, "}");
}

/* One address: a server given as an IP literal, or one address of a name
 * (named by its label). */
static void address(struct jw *j, const struct cfg_upstream *u, const struct cfg_server *sv,
                    const char *name, const struct px_snap *s)
{
    const struct px_snap_group *g = find(s->srv, s->nsrv, u->name.s, name);
    static const uint64_t zero[PX_SS_N];
    const uint64_t *v = g ? g->v : zero;
    lit(j, "{");
    key(j, "server");
    str(j, name);
    lit(j, ",");
    u64(j, "weight", sv->weight, true);
    struct px_hstate_view hv;
    px_hstate_read(u->name.s, name, &hv);
    key(j, "state");
    /* "down" when the active checks say so (health_check:), else
     * "failing" while a worker's last connection attempt failed, else
     * "up". */
    str(j, !hv.up ? "down" : v[PX_SS_FAILING] ? "failing" : "up");
    lit(j, ",");
    key(j, "health");
    lit(j, "{");
    key(j, "checked");
    lit(j, hv.checked ? "true," : "false,");
    key(j, "state");
    str(j, hv.up ? "up" : "down");
    lit(j, ",");
    u64(j, "checks_passed", hv.checks_ok, true);
    u64(j, "checks_failed", hv.checks_failed, true);
    u64(j, "went_down", hv.went_down, true);
    u64(j, "went_up", hv.went_up, false);
    lit(j, "},");
    u64(j, "connections_open", v[PX_SS_OPEN], true);
    u64(j, "connections_idle", v[PX_SS_IDLE], true);
    u64(j, "queue_length", v[PX_SS_QUEUED], true);
    u64(j, "requests_total", sum(v, PX_SS_REQ, PX_ST_NSTATUS), true);
    key(j, "requests_by_status");
    lit(j, "{");
    for (unsigned c = 0; c < PX_ST_NSTATUS; c++)
        u64(j, px_st_status_name(c), v[PX_SS_REQ + c], c + 1 < PX_ST_NSTATUS);
    lit(j, "},");
    u64(j, "errors_total", v[PX_SS_ERRORS], true);
    u64(j, "timeouts_total", v[PX_SS_TIMEOUTS], true);
    u64(j, "retries_total", v[PX_SS_RETRIES], true);
    u64(j, "connects_total", v[PX_SS_CONNECTS], true);
    u64(j, "connect_failures_total", v[PX_SS_CONNECT_FAIL] + v[PX_SS_CONNECT_TIMEOUT], true);
    u64(j, "queue_timeouts_total", v[PX_SS_QUEUE_TIMEOUT], true);
    u64(j, "queue_full_total", v[PX_SS_QUEUE_FULL], true);
    u64(j, "ejected_workers", v[PX_SS_EJECTED], true);
    u64(j, "ejections_total", v[PX_SS_EJECTIONS], true);
    u64(j, "retry_budget_exhausted_total", v[PX_SS_RETRY_BUDGET], true);
    u64(j, "breaker_rejections_total", v[PX_SS_BREAKER], true);
    u64(j, "share_waits_total", v[PX_SS_SHARE_WAIT], true);
    u64(j, "pending_full_total", v[PX_SS_PENDING_FULL], true);
    u64(j, "response_stalls_total", v[PX_SS_STALL_RESP], true);
    u64(j, "request_body_stalls_total", v[PX_SS_STALL_BODY], false);
    lit(j, "}");
}

/* A configured server: an IP literal is one address; a DNS name shows what
 * its resolution does ("dns") and each address it gives now
 * (proxy/backend/resolver.h). */
static void server(struct jw *j, const struct cfg *cfg, size_t ui, size_t k,
                   const struct px_snap *s)
{
    const struct cfg_upstream *u = &cfg->upstreams[ui];
    const struct cfg_server *sv = &u->servers[k];
    char name[300];
    px_server_label(sv, name, sizeof name);
    if (!sv->is_name) {
        address(j, u, sv, name, s);
        return;
    }
    lit(j, "{");
    key(j, "server");
    str(j, name);
    lit(j, ",");
    u64(j, "weight", sv->weight, true);
    struct px_resolver_view rv;
    px_resolver_read(cfg, ui, k, &rv);
    key(j, "dns");
    lit(j, "{");
    key(j, "resolve");
    str(j, sv->resolve == CFG_RESOLVE_LAZY ? "lazy" : "start");
    lit(j, ",");
    key(j, "failing");
    lit(j, rv.failing ? "true," : "false,");
    key(j, "last_error");
    str(j, rv.error);
    lit(j, ",");
    u64(j, "addresses", rv.addresses, true);
    u64(j, "resolutions", rv.resolutions, true);
    u64(j, "failures", rv.failures, true);
    u64(j, "changes", rv.changes, false);
    lit(j, "},");
    key(j, "addresses");
    lit(j, "[");
    struct px_addrset *set = px_resolver_get(cfg, ui);
    bool first = true;
    for (size_t i = 0; set && i < set->n; i++) {
        if (set->e[i].server != k)
            continue;
        lit(j, first ? "" : ",");
        first = false;
        address(j, u, sv, set->e[i].label, s);
    }
    px_addrset_put(set);
    lit(j, "]}");
}

int px_admin_status_json(struct hb_buf *out, const struct px_snap *s, const struct cfg *cfg,
                         unsigned generation, double uptime_s)
{
    struct jw j = {out, 0};
    bool ready = cfg && px_obs_ready();
    uint64_t ok = 0, failed = 0;
    px_obs_reloads(&ok, &failed);
    lit(&j, "{");
    key(&j, "version");
    str(&j, H2B_VERSION);
    lit(&j, ",");
    key(&j, "uptime_seconds");
    fmt(&j, "%.3f,", uptime_s);
    u64(&j, "generation", generation, true);
    key(&j, "ready");
    lit(&j, ready ? "true," : "false,");
    u64(&j, "workers", s->workers, true);
    u64(&j, "workers_stalled", s->stale, true);
    key(&j, "reloads");
    lit(&j, "{");
    u64(&j, "ok", ok, true);
    u64(&j, "failed", failed, false);
    lit(&j, "},");
    key(&j, "listeners");
    lit(&j, "[");
    for (size_t i = 0; cfg && i < cfg->n_listeners; i++) {
        lit(&j, i ? "," : "");
        listener(&j, &cfg->listeners[i], s, ready);
    }
    lit(&j, "],");
    key(&j, "upstreams");
    lit(&j, "[");
    for (size_t i = 0; cfg && i < cfg->n_upstreams; i++) {
        const struct cfg_upstream *u = &cfg->upstreams[i];
        lit(&j, i ? ",{" : "{");
        key(&j, "name");
        str(&j, u->name.s);
        lit(&j, ",");
        key(&j, "balance");
        str(&j, u->balance.s);
        lit(&j, ",");
        key(&j, "on_no_healthy");
        str(&j, u->on_no_healthy == CFG_NO_HEALTHY_FAIL ? "fail" : "panic");
        lit(&j, ",");
        key(&j, "servers");
        lit(&j, "[");
        for (size_t k = 0; k < u->n_servers; k++) {
            lit(&j, k ? "," : "");
            server(&j, cfg, i, k, s);
        }
        lit(&j, "]}");
    }
    lit(&j, "]}\n");
    return j.err;
}
