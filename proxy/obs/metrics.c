/* proxy/obs/metrics.c — the metric families of /metrics (metrics.h). */
#include "proxy/obs/metrics.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "core/h2_errors.h"
#include "proxy/backend/health_state.h"
#include "proxy/exchange/exchange.h"
#include "proxy/obs/hooks.h"
#include "proxy/obs/logbuf.h"
#include "proxy/tls/tls_tickets_mc.h"

#ifndef H2B_VERSION
#define H2B_VERSION "dev"
#endif

#define NS_PER_SEC_F 1e9

void px_proc_read(struct px_proc *p)
{
    memset(p, 0, sizeof *p);
    long tick = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
    FILE *f = fopen("/proc/self/stat", "r");
    if (f) {
        char buf[1024];
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        /* Fields after the command name, which is in parentheses and may
         * hold spaces: state(3) … utime(14) stime(15) … num_threads(20) …
         * starttime(22, ticks after boot) vsize(23) rss(24). */
        char *s = strrchr(buf, ')');
        unsigned long long ut = 0, st = 0, vs = 0, rss = 0, thr = 0, start = 0;
        if (s && sscanf(s + 2,
                        "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d "
                        "%llu %*d %llu %llu %llu",
                        &ut, &st, &thr, &start, &vs, &rss) == 6) {
            p->cpu_seconds = tick > 0 ? (double)(ut + st) / (double)tick : 0;
            p->threads = (unsigned)thr;
            p->vsize_bytes = vs;
            p->rss_bytes = page > 0 ? rss * (unsigned long long)page : 0;
        }
        /* The start in seconds since the epoch: boot time (btime in
         * /proc/stat) plus the start in ticks after boot. */
        FILE *ps = fopen("/proc/stat", "r");
        char line[256];
        unsigned long long btime = 0;
        while (ps && fgets(line, sizeof line, ps))
            if (sscanf(line, "btime %llu", &btime) == 1)
                break;
        if (ps)
            fclose(ps);
        if (btime && tick > 0)
            p->start_time = (double)btime + (double)start / (double)tick;
    }
    DIR *d = opendir("/proc/self/fd");
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL)
            if (e->d_name[0] != '.')
                p->open_fds++;
        closedir(d);
        if (p->open_fds)
            p->open_fds--; /* the directory stream's own descriptor */
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        p->max_fds = rl.rlim_cur;
}

/* ---- helpers --------------------------------------------------------------- */

#define L(n, v) ((struct px_label){(n), (v)})

/* One sample per listener of v[idx] (always, zero included). */
static void per_listener(struct px_expo *e, const struct px_snap *s, size_t idx)
{
    for (size_t i = 0; i < s->nlis; i++) {
        struct px_label l[] = {L("listener", s->lis[i].name)};
        px_expo_sample(e, l, 1, s->lis[i].v[idx]);
    }
}

/* One sample per server of v[idx]. */
static void per_server(struct px_expo *e, const struct px_snap *s, size_t idx)
{
    for (size_t i = 0; i < s->nsrv; i++) {
        struct px_label l[] = {L("upstream", s->srv[i].name), L("server", s->srv[i].server)};
        px_expo_sample(e, l, 2, s->srv[i].v[idx]);
    }
}

/* The health-check states (proxy/backend/health_state.h), read under the
 * registry's mutex here in the admin thread. A server without a state (a
 * previous generation's, folded into the accumulator) is up and unchecked. */
static void health_families(struct px_expo *e, const struct px_snap *s)
{
    struct px_hstate_view *hv = calloc(s->nsrv ? s->nsrv : 1, sizeof *hv);
    if (!hv)
        return;
    for (size_t i = 0; i < s->nsrv; i++)
        px_hstate_read(s->srv[i].name, s->srv[i].server, &hv[i]);
    px_expo_family(e, "h2bridge_backend_up", PX_EXPO_GAUGE,
                   "1 while the server is up for the active health checks (always 1 without "
                   "health_check), 0 while it is down.");
    for (size_t i = 0; i < s->nsrv; i++) {
        struct px_label l[] = {L("upstream", s->srv[i].name), L("server", s->srv[i].server)};
        px_expo_sample(e, l, 2, hv[i].up ? 1 : 0);
    }
    px_expo_family(e, "h2bridge_backend_health_checks_total", PX_EXPO_COUNTER,
                   "Active health checks of the server, by result (passed, failed).");
    for (size_t i = 0; i < s->nsrv; i++)
        for (unsigned r = 0; hv[i].found && r < 2; r++) {
            struct px_label l[] = {L("upstream", s->srv[i].name), L("server", s->srv[i].server),
                                   L("result", r ? "failed" : "passed")};
            px_expo_sample(e, l, 3, r ? hv[i].checks_failed : hv[i].checks_ok);
        }
    px_expo_family(e, "h2bridge_backend_health_transitions_total", PX_EXPO_COUNTER,
                   "Changes of the server's health-check state, by the state entered (down, "
                   "up).");
    for (size_t i = 0; i < s->nsrv; i++)
        for (unsigned r = 0; hv[i].found && r < 2; r++) {
            struct px_label l[] = {L("upstream", s->srv[i].name), L("server", s->srv[i].server),
                                   L("to", r ? "up" : "down")};
            px_expo_sample(e, l, 3, r ? hv[i].went_up : hv[i].went_down);
        }
    free(hv);
}

static double hist_sum(const uint64_t *h)
{
    return (double)h[PX_ST_NBUCKET] / NS_PER_SEC_F;
}

/* The reason label: the record's end name in lower case. */
static void end_label(enum px_ex_end r, char *out, size_t size)
{
    const char *n = px_ex_end_name(r);
    size_t i = 0;
    for (; n[i] && i + 1 < size; i++)
        out[i] = (char)tolower((unsigned char)n[i]);
    out[i] = '\0';
}

static void listener_families(struct px_expo *e, const struct px_snap *s)
{
    px_expo_family(e, "h2bridge_requests_total", PX_EXPO_COUNTER,
                   "Requests ended, by listener, protocol, method class and status class "
                   "(none: no status was sent).");
    for (size_t i = 0; i < s->nlis; i++)
        for (unsigned p = 0; p < PX_ST_NPROTO; p++)
            for (unsigned m = 0; m < PX_ST_NMETHOD; m++)
                for (unsigned c = 0; c < PX_ST_NSTATUS; c++) {
                    uint64_t v =
                        s->lis[i].v[PX_SL_REQ + ((size_t)p * PX_ST_NMETHOD + m) * PX_ST_NSTATUS + c];
                    if (!v)
                        continue; /* series appear at their first request */
                    struct px_label l[] = {L("listener", s->lis[i].name),
                                           L("protocol", px_st_proto_name(p)),
                                           L("method", px_st_method_name(m)),
                                           L("status_class", px_st_status_name(c))};
                    px_expo_sample(e, l, 4, v);
                }
    px_expo_family(e, "h2bridge_request_ends_total", PX_EXPO_COUNTER,
                   "Requests ended, by listener and the way they ended.");
    for (size_t i = 0; i < s->nlis; i++)
        for (unsigned r = 0; r < PX_ST_NEND; r++) {
            char why[32];
            end_label((enum px_ex_end)r, why, sizeof why);
            struct px_label l[] = {L("listener", s->lis[i].name), L("reason", why)};
            px_expo_sample(e, l, 2, s->lis[i].v[PX_SL_END + r]);
        }
    px_expo_family(e, "h2bridge_request_duration_seconds", PX_EXPO_HISTOGRAM,
                   "Time from the request head to the end of the request.");
    for (size_t i = 0; i < s->nlis; i++) {
        struct px_label l[] = {L("listener", s->lis[i].name)};
        const uint64_t *h = &s->lis[i].v[PX_SL_DURATION];
        px_expo_histogram(e, l, 1, px_st_bounds, PX_ST_NBOUNDS, h, hist_sum(h));
    }
    px_expo_family(e, "h2bridge_request_body_bytes_total", PX_EXPO_COUNTER,
                   "Request body bytes received from clients.");
    per_listener(e, s, PX_SL_REQ_BYTES);
    px_expo_family(e, "h2bridge_response_body_bytes_total", PX_EXPO_COUNTER,
                   "Response body bytes passed to clients.");
    per_listener(e, s, PX_SL_RESP_BYTES);
    px_expo_family(e, "h2bridge_connections_total", PX_EXPO_COUNTER,
                   "Client connections accepted.");
    per_listener(e, s, PX_SL_CONNS);
    px_expo_family(e, "h2bridge_connections_open", PX_EXPO_GAUGE,
                   "Client connections open, by what they speak (pending: TLS handshake or "
                   "first bytes).");
    for (size_t i = 0; i < s->nlis; i++)
        for (unsigned p = 0; p < PX_ST_NCPROTO; p++) {
            struct px_label l[] = {L("listener", s->lis[i].name),
                                   L("protocol", px_st_cproto_name(p))};
            px_expo_sample(e, l, 2, s->lis[i].v[PX_SL_CONNS_OPEN + p]);
        }
    px_expo_family(e, "h2bridge_requests_active", PX_EXPO_GAUGE,
                   "Requests in progress (HTTP/2 streams, HTTP/1.x requests), by protocol.");
    for (size_t i = 0; i < s->nlis; i++)
        for (unsigned p = 0; p < PX_ST_NPROTO; p++) {
            struct px_label l[] = {L("listener", s->lis[i].name),
                                   L("protocol", px_st_proto_name(p))};
            px_expo_sample(e, l, 2, s->lis[i].v[PX_SL_ACTIVE + p]);
        }
    px_expo_family(e, "h2bridge_tunnels_total", PX_EXPO_COUNTER,
                   "Tunnels established (WebSocket and other Upgrade tunnels, RFC 8441).");
    per_listener(e, s, PX_SL_TUNNELS);
    px_expo_family(e, "h2bridge_tunnels_open", PX_EXPO_GAUGE, "Tunnels open now.");
    per_listener(e, s, PX_SL_TUNNELS_OPEN);
    px_expo_family(e, "h2bridge_tls_handshakes_total", PX_EXPO_COUNTER,
                   "TLS handshakes completed, by version and resumption (full or resumed).");
    for (size_t i = 0; i < s->nlis; i++)
        for (unsigned v = 0; v < PX_ST_NTLSVER; v++)
            for (unsigned r = 0; r < 2; r++) {
                uint64_t n = s->lis[i].v[PX_SL_TLS_OK + v * 2 + r];
                if (!n)
                    continue;
                struct px_label l[] = {L("listener", s->lis[i].name),
                                       L("version", px_st_tls_version_name(v)),
                                       L("resumption", r ? "resumed" : "full")};
                px_expo_sample(e, l, 3, n);
            }
    px_expo_family(e, "h2bridge_tls_handshake_failures_total", PX_EXPO_COUNTER,
                   "TLS handshakes that failed, by reason (timeout, closed, protocol, alpn).");
    for (size_t i = 0; i < s->nlis; i++)
        for (unsigned r = 0; r < PX_ST_NTLSFAIL; r++) {
            uint64_t n = s->lis[i].v[PX_SL_TLS_FAIL + r];
            if (!n)
                continue;
            struct px_label l[] = {L("listener", s->lis[i].name),
                                   L("reason", px_st_tls_fail_name(r))};
            px_expo_sample(e, l, 2, n);
        }
    px_expo_family(e, "h2bridge_http2_errors_total", PX_EXPO_COUNTER,
                   "HTTP/2 protocol errors the proxy raised: GOAWAY (scope connection) or "
                   "RST_STREAM (scope stream), by RFC 9113 error code.");
    for (size_t i = 0; i < s->nlis; i++)
        for (unsigned sc = 0; sc < 2; sc++)
            for (unsigned c = 0; c < PX_ST_NH2CODE; c++) {
                uint64_t n =
                    s->lis[i].v[(sc ? PX_SL_H2_STREAM_ERR : PX_SL_H2_CONN_ERR) + c];
                if (!n)
                    continue;
                struct px_label l[] = {
                    L("listener", s->lis[i].name), L("scope", sc ? "stream" : "connection"),
                    L("code", c < PX_ST_NH2CODE - 1 ? h2_error_name(c) : "UNKNOWN")};
                px_expo_sample(e, l, 3, n);
            }
    px_expo_family(e, "h2bridge_client_limited_total", PX_EXPO_COUNTER,
                   "Connections (limit=connections) and requests (limit=requests, answered 429) "
                   "refused by the per-client-address limits.");
    for (size_t i = 0; i < s->nlis; i++) {
        struct px_label a[] = {L("listener", s->lis[i].name), L("limit", "connections")};
        struct px_label b[] = {L("listener", s->lis[i].name), L("limit", "requests")};
        px_expo_sample(e, a, 2, s->lis[i].v[PX_SL_CLIENT_CONNS]);
        px_expo_sample(e, b, 2, s->lis[i].v[PX_SL_CLIENT_RATE]);
    }
    px_expo_family(e, "h2bridge_tls_early_data_requests_total", PX_EXPO_COUNTER,
                   "Requests read in TLS 1.3 early data (tls.early_data): forwarded with "
                   "Early-Data: 1, answered 425 Too Early (not a safe method without a body), "
                   "or retried after the handshake when the backend answered 425.");
    for (size_t i = 0; i < s->nlis; i++) {
        static const char *const outcome[PX_ST_NEARLY] = {"forwarded", "too_early", "retried"};
        for (unsigned k = 0; k < PX_ST_NEARLY; k++) {
            struct px_label l[] = {L("listener", s->lis[i].name), L("outcome", outcome[k])};
            px_expo_sample(e, l, 2, s->lis[i].v[PX_SL_EARLY + k]);
        }
    }
    px_expo_family(e, "h2bridge_http2_pushes_total", PX_EXPO_COUNTER,
                   "HTTP/2 server push (routes[].push): responses promised, preloads not pushed "
                   "because of max_per_connection or max_per_response (limited), and promised "
                   "streams the client reset before their response ended (cancelled).");
    for (size_t i = 0; i < s->nlis; i++) {
        static const char *const outcome[PX_ST_NPUSH] = {"promised", "limited", "cancelled"};
        for (unsigned k = 0; k < PX_ST_NPUSH; k++) {
            struct px_label l[] = {L("listener", s->lis[i].name), L("outcome", outcome[k])};
            px_expo_sample(e, l, 2, s->lis[i].v[PX_SL_PUSH + k]);
        }
    }
    px_expo_family(e, "h2bridge_http2_floods_total", PX_EXPO_COUNTER,
                   "HTTP/2 connections closed with GOAWAY ENHANCE_YOUR_CALM, by the flood "
                   "protection that tripped.");
    for (size_t i = 0; i < s->nlis; i++)
        for (unsigned k = 1; k < H2_FLOOD_COUNT; k++) {
            uint64_t n = s->lis[i].v[PX_SL_H2_FLOOD + k];
            if (!n)
                continue;
            struct px_label l[] = {L("listener", s->lis[i].name),
                                   L("kind", h2_flood_name((enum h2_flood)k))};
            px_expo_sample(e, l, 2, n);
        }
}

static void server_families(struct px_expo *e, const struct px_snap *s)
{
    px_expo_family(e, "h2bridge_backend_requests_total", PX_EXPO_COUNTER,
                   "Requests that ended on a backend server, by status class sent to the "
                   "client.");
    for (size_t i = 0; i < s->nsrv; i++)
        for (unsigned c = 0; c < PX_ST_NSTATUS; c++) {
            uint64_t n = s->srv[i].v[PX_SS_REQ + c];
            if (!n)
                continue;
            struct px_label l[] = {L("upstream", s->srv[i].name), L("server", s->srv[i].server),
                                   L("status_class", px_st_status_name(c))};
            px_expo_sample(e, l, 3, n);
        }
    static const struct {
        const char *name, *help;
        size_t idx;
        enum px_expo_type type;
    } simple[] = {
        {"h2bridge_backend_retries_total", "Retries (new connection attempts) of requests.",
         PX_SS_RETRIES, PX_EXPO_COUNTER},
        {"h2bridge_backend_timeouts_total",
         "Requests ended by a backend connect or read timeout (504 or reset).", PX_SS_TIMEOUTS,
         PX_EXPO_COUNTER},
        {"h2bridge_backend_errors_total",
         "Requests ended by a backend error (connect failure, queue, malformed response).",
         PX_SS_ERRORS, PX_EXPO_COUNTER},
        {"h2bridge_backend_connects_total", "Backend connections dialled.", PX_SS_CONNECTS,
         PX_EXPO_COUNTER},
        {"h2bridge_backend_connection_reuses_total",
         "Leases of an idle keep-alive backend connection.", PX_SS_REUSES, PX_EXPO_COUNTER},
        {"h2bridge_backend_queue_timeouts_total",
         "Requests that waited upstreams[].queue_timeout for a connection (503).",
         PX_SS_QUEUE_TIMEOUT, PX_EXPO_COUNTER},
        {"h2bridge_backend_queue_full_total",
         "Requests refused because the wait queue was full (503).", PX_SS_QUEUE_FULL,
         PX_EXPO_COUNTER},
        {"h2bridge_backend_retry_budget_exhausted_total",
         "Retries not made because the upstream's retry budget was spent (retry_budget).",
         PX_SS_RETRY_BUDGET, PX_EXPO_COUNTER},
        {"h2bridge_backend_breaker_rejections_total",
         "Requests answered 503 at once at the upstream's max_requests, by the server they "
         "would have gone to.",
         PX_SS_BREAKER, PX_EXPO_COUNTER},
        {"h2bridge_backend_tls_handshakes_total",
         "TLS handshakes finished with the server (upstreams.*.tls).", PX_SS_TLS_HANDSHAKES,
         PX_EXPO_COUNTER},
        {"h2bridge_backend_tls_resumed_total",
         "Of them, handshakes that resumed the session the server gave before.",
         PX_SS_TLS_RESUMED, PX_EXPO_COUNTER},
        {"h2bridge_backend_share_waits_total",
         "Requests that waited because their client connection held its per_client_share of "
         "the server's connections.",
         PX_SS_SHARE_WAIT, PX_EXPO_COUNTER},
        {"h2bridge_backend_pending_full_total",
         "Requests answered 503 at once at the upstream's max_pending, by the server they "
         "would have waited for.",
         PX_SS_PENDING_FULL, PX_EXPO_COUNTER},
        {"h2bridge_backend_response_stalls_total",
         "Backend connections closed because the client took no response byte for "
         "limits.response_stall_timeout.",
         PX_SS_STALL_RESP, PX_EXPO_COUNTER},
        {"h2bridge_backend_request_body_stalls_total",
         "Backend connections closed because the client sent no request body byte for "
         "limits.request_body_timeout.",
         PX_SS_STALL_BODY, PX_EXPO_COUNTER},
        {"h2bridge_backend_ejections_total",
         "Passive ejections of the server (upstreams.*.outlier_detection), summed over workers.",
         PX_SS_EJECTIONS, PX_EXPO_COUNTER},
        {"h2bridge_backend_ejected",
         "Workers that have the server ejected now (outlier_detection).", PX_SS_EJECTED,
         PX_EXPO_GAUGE},
        {"h2bridge_backend_connections_open",
         "Backend connections open (connecting, busy and idle).", PX_SS_OPEN, PX_EXPO_GAUGE},
        {"h2bridge_backend_connections_idle", "Idle keep-alive backend connections.",
         PX_SS_IDLE, PX_EXPO_GAUGE},
        {"h2bridge_backend_queue_length", "Requests waiting for a backend connection.",
         PX_SS_QUEUED, PX_EXPO_GAUGE},
        {"h2bridge_backend_connect_failing",
         "Workers whose last connection attempt to the server failed (a passive health "
         "signal; there are no active health checks).",
         PX_SS_FAILING, PX_EXPO_GAUGE},
    };
    for (size_t k = 0; k < sizeof simple / sizeof simple[0]; k++) {
        px_expo_family(e, simple[k].name, simple[k].type, simple[k].help);
        per_server(e, s, simple[k].idx);
    }
    px_expo_family(e, "h2bridge_backend_connect_failures_total", PX_EXPO_COUNTER,
                   "Backend connection attempts that failed, by reason (error, timeout).");
    for (size_t i = 0; i < s->nsrv; i++)
        for (unsigned r = 0; r < 2; r++) {
            struct px_label l[] = {L("upstream", s->srv[i].name), L("server", s->srv[i].server),
                                   L("reason", r ? "timeout" : "error")};
            px_expo_sample(e, l, 3,
                           s->srv[i].v[r ? PX_SS_CONNECT_TIMEOUT : PX_SS_CONNECT_FAIL]);
        }
    health_families(e, s);
    px_expo_family(e, "h2bridge_backend_first_byte_seconds", PX_EXPO_HISTOGRAM,
                   "Time from the request head to the first response byte from the backend.");
    for (size_t i = 0; i < s->nsrv; i++) {
        struct px_label l[] = {L("upstream", s->srv[i].name), L("server", s->srv[i].server)};
        const uint64_t *h = &s->srv[i].v[PX_SS_TTFB];
        px_expo_histogram(e, l, 2, px_st_bounds, PX_ST_NBOUNDS, h, hist_sum(h));
    }
}

/* Ticket keys from memcached (proxy/tls/tls_tickets_mc.h): only when a
 * listener reads them, so the families are absent when the feature is off. */
static void ticket_key_families(struct px_expo *e)
{
    struct px_tkmc_stats t;
    px_tkmc_stats_get(&t);
    if (t.fetchers == 0)
        return;
    px_expo_family(e, "h2bridge_tls_ticket_keys_generation", PX_EXPO_GAUGE,
                   "Generation of the ticket key set read from memcached last (0: none yet, the "
                   "keys are this process's own).");
    px_expo_sample(e, NULL, 0, t.generation);
    double age = 0;
    if (t.generation && t.created && (double)time(NULL) > (double)t.created)
        age = (double)time(NULL) - (double)t.created;
    px_expo_family(e, "h2bridge_tls_ticket_keys_age_seconds", PX_EXPO_GAUGE,
                   "Seconds since that key set was written (rotated).");
    px_expo_sample_f(e, NULL, 0, age);
    px_expo_family(e, "h2bridge_tls_ticket_key_fetches_total", PX_EXPO_COUNTER,
                   "Reads of the ticket key set from memcached, by result (ok, failed).");
    struct px_label ok[] = {L("result", "ok")}, bad[] = {L("result", "failed")};
    px_expo_sample(e, ok, 1, t.fetches_ok);
    px_expo_sample(e, bad, 1, t.fetches_failed);
    px_expo_family(e, "h2bridge_tls_ticket_keys_stale", PX_EXPO_GAUGE,
                   "1 while the last read from memcached failed (the keys in use are kept).");
    px_expo_sample(e, NULL, 0, t.failing ? 1 : 0);
}

static void process_families(struct px_expo *e, const struct px_snap *s, const struct px_proc *p,
                             unsigned generation)
{
    px_expo_family(e, "h2bridge_build_info", PX_EXPO_GAUGE,
                   "Always 1; the version is in the label.");
    struct px_label v[] = {L("version", H2B_VERSION)};
    px_expo_sample(e, v, 1, 1);
    px_expo_family(e, "h2bridge_config_generation", PX_EXPO_GAUGE,
                   "The running configuration's generation (1 at start, +1 per reload).");
    px_expo_sample(e, NULL, 0, generation);
    uint64_t ok, failed;
    px_obs_reloads(&ok, &failed);
    px_expo_family(e, "h2bridge_config_reloads_total", PX_EXPO_COUNTER,
                   "Configuration reloads (SIGHUP), by result (ok, failed).");
    struct px_label r1[] = {L("result", "ok")}, r2[] = {L("result", "failed")};
    px_expo_sample(e, r1, 1, ok);
    px_expo_sample(e, r2, 1, failed);
    px_expo_family(e, "h2bridge_ready", PX_EXPO_GAUGE,
                   "1 while /readyz answers 200 (listening, not shutting down).");
    px_expo_sample(e, NULL, 0, px_obs_ready() ? 1 : 0);
    px_expo_family(e, "h2bridge_workers", PX_EXPO_GAUGE,
                   "Worker threads running (all generations).");
    px_expo_sample(e, NULL, 0, s->workers);
    px_expo_family(e, "h2bridge_workers_stalled", PX_EXPO_GAUGE,
                   "Workers whose event loop has not ticked within admin.worker_stall_timeout.");
    px_expo_sample(e, NULL, 0, s->stale);
    px_expo_family(e, "h2bridge_worker_heartbeat_age_seconds", PX_EXPO_GAUGE,
                   "Age of the oldest worker heartbeat.");
    px_expo_sample_f(e, NULL, 0, (double)s->oldest_heartbeat / NS_PER_SEC_F);
    /* The log writer's totals (proxy/obs/logbuf.h): lines are dropped,
     * never queued without bound, so the drops must be visible. */
    px_expo_family(e, "h2bridge_access_log_lines_total", PX_EXPO_COUNTER,
                   "Access log lines written to the file.");
    px_expo_sample(e, NULL, 0, px_logw_written(PX_LOG_ACCESS));
    px_expo_family(e, "h2bridge_access_log_dropped_total", PX_EXPO_COUNTER,
                   "Access log lines dropped: a worker's buffer was full (the disk did not keep "
                   "up) or the file was not open.");
    px_expo_sample(e, NULL, 0, px_logw_dropped(PX_LOG_ACCESS));
    px_expo_family(e, "h2bridge_error_log_dropped_total", PX_EXPO_COUNTER,
                   "Error log lines dropped (buffer full or file not open).");
    px_expo_sample(e, NULL, 0, px_logw_dropped(PX_LOG_ERROR));
    px_expo_family(e, "process_start_time_seconds", PX_EXPO_GAUGE,
                   "Start time of the process since the Unix epoch, in seconds.");
    px_expo_sample_f(e, NULL, 0, p->start_time > 0 ? p->start_time : px_obs_start_time());
    px_expo_family(e, "process_cpu_seconds_total", PX_EXPO_COUNTER,
                   "User and system CPU time spent, in seconds.");
    px_expo_sample_f(e, NULL, 0, p->cpu_seconds);
    px_expo_family(e, "process_resident_memory_bytes", PX_EXPO_GAUGE,
                   "Resident memory size in bytes.");
    px_expo_sample(e, NULL, 0, p->rss_bytes);
    px_expo_family(e, "process_virtual_memory_bytes", PX_EXPO_GAUGE,
                   "Virtual memory size in bytes.");
    px_expo_sample(e, NULL, 0, p->vsize_bytes);
    px_expo_family(e, "process_open_fds", PX_EXPO_GAUGE, "Open file descriptors.");
    px_expo_sample(e, NULL, 0, p->open_fds);
    px_expo_family(e, "process_max_fds", PX_EXPO_GAUGE,
                   "The file-descriptor limit (RLIMIT_NOFILE, soft).");
    px_expo_sample(e, NULL, 0, p->max_fds);
    px_expo_family(e, "process_threads", PX_EXPO_GAUGE, "Threads of the process.");
    px_expo_sample(e, NULL, 0, p->threads);
}

int px_metrics_write(struct hb_buf *out, enum px_expo_format fmt, const struct px_snap *snap,
                     const struct px_proc *p, unsigned generation)
{
    struct px_expo e;
    px_expo_init(&e, out, fmt);
    listener_families(&e, snap);
    server_families(&e, snap);
    process_families(&e, snap, p, generation);
    ticket_key_families(&e);
    return px_expo_finish(&e);
}
