/* proxy/admin/admin_http.c — the admin endpoints (admin_http.h). */
#include "proxy/admin/admin_http.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "config/cfg.h"
#include "core/err.h"
#include "proxy/obs/metrics.h"
#include "proxy/obs/stats.h"

static const char *reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 503:
        return "Service Unavailable";
    default:
        return "Error";
    }
}

int px_admin_reply(struct hb_buf *out, int status, const char *type, const void *body,
                   size_t len, bool head)
{
    char h[512];
    int n = snprintf(h, sizeof h,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
                     "%sConnection: close\r\n\r\n",
                     status, reason(status), type, len,
                     status == 405 ? "Allow: GET, HEAD\r\n" : "");
    if (n < 0 || (size_t)n >= sizeof h)
        return HB_ENOMEM;
    if (hb_buf_append(out, h, (size_t)n) != 0 || (!head && len && hb_buf_append(out, body, len) != 0))
        return HB_ENOMEM;
    return status;
}

static int text(struct hb_buf *out, int status, const char *msg, bool head)
{
    return px_admin_reply(out, status, "text/plain; charset=utf-8", msg, strlen(msg), head);
}

static bool eq(struct hb_str s, const char *lit)
{
    return s.len == strlen(lit) && memcmp(s.p, lit, s.len) == 0;
}

static double now_wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* /status and / share the document. */
static int status_doc(struct hb_buf *doc, const struct px_snap *snap, const struct cfg *cfg,
                      unsigned gen)
{
    double start = px_obs_start_time();
    double up = start > 0 ? now_wall() - start : 0;
    return px_admin_status_json(doc, snap, cfg, gen, up > 0 ? up : 0);
}

int px_admin_respond(const struct hb_msg *req, bool allowed, hb_ns_t now, struct hb_buf *out)
{
    bool head = eq(req->method, "HEAD");
    if (!head && !eq(req->method, "GET"))
        return text(out, 405, "GET or HEAD only\n", false);
    if (!allowed)
        return text(out, 403, "forbidden: this client is not in admin.allow\n", head);
    struct hb_str path = req->path;
    const char *q = memchr(path.p, '?', path.len);
    if (q)
        path.len = (size_t)(q - path.p);
    bool metrics = eq(path, "/metrics"), healthz = eq(path, "/healthz"),
         readyz = eq(path, "/readyz"), status = eq(path, "/status"), page = eq(path, "/");
    if (!metrics && !healthz && !readyz && !status && !page)
        return text(out, 404, "not found: try /, /metrics, /healthz, /readyz or /status\n", head);
    unsigned gen = 0;
    struct cfg *cfg = px_obs_config(&gen);
    hb_ns_t stale = hb_time_ms(cfg ? cfg->admin.worker_stall_timeout_ms : 5000);
    struct px_snap snap;
    int rc = HB_ENOMEM;
    if (px_stats_snapshot(&snap, now, stale) != 0) {
        cfg_unref(cfg);
        return text(out, 503, "out of memory\n", head);
    }
    if (healthz) {
        char msg[160];
        bool ok = snap.workers > 0 && snap.stale == 0;
        snprintf(msg, sizeof msg, "%s: %u workers, %u stalled (oldest heartbeat %.1f s ago)\n",
                 ok ? "ok" : "unhealthy", snap.workers, snap.stale,
                 (double)snap.oldest_heartbeat / 1e9);
        rc = text(out, ok ? 200 : 503, msg, head);
    } else if (readyz) {
        bool ok = cfg && px_obs_ready();
        rc = text(out, ok ? 200 : 503,
                  ok ? "ready\n" : "not ready: starting, or shutting down\n", head);
    } else {
        struct hb_buf body;
        hb_buf_init(&body, 0);
        if (metrics) {
            const struct hpack_field *a = hb_msg_find(req, HB_STR_LIT("accept"));
            enum px_expo_format fmt =
                a ? px_expo_negotiate(a->value, a->value_len) : PX_EXPO_PROMETHEUS;
            struct px_proc p;
            px_proc_read(&p);
            if (px_metrics_write(&body, fmt, &snap, &p, gen) == 0)
                rc = px_admin_reply(out, 200, px_expo_content_type(fmt), hb_buf_rptr(&body),
                                    hb_buf_len(&body), head);
        } else if (status_doc(&body, &snap, cfg, gen) == 0) {
            if (status) {
                rc = px_admin_reply(out, 200, "application/json", hb_buf_rptr(&body),
                                    hb_buf_len(&body), head);
            } else {
                struct hb_buf html;
                hb_buf_init(&html, 0);
                if (px_admin_page(&html, (const char *)hb_buf_rptr(&body), hb_buf_len(&body)) ==
                    0)
                    rc = px_admin_reply(out, 200, "text/html; charset=utf-8", hb_buf_rptr(&html),
                                        hb_buf_len(&html), head);
                hb_buf_free(&html);
            }
        }
        hb_buf_free(&body);
    }
    px_snap_free(&snap);
    cfg_unref(cfg);
    return rc;
}
