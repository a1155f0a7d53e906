/* proxy/admin/admin_http.h — what the admin listener answers, sans-IO: a
 * parsed request (core/h1_parse) in, a whole HTTP/1.1 response (head and
 * body, "Connection: close") out. The admin thread (admin.h) does the
 * socket work. Endpoints (docs/observability.md, "Health and status"):
 *
 *   /metrics  the counters (proxy/obs/metrics.h); OpenMetrics when Accept
 *             asks for it, else the Prometheus text format
 *   /healthz  200 while every running worker's event loop ticked within
 *             admin.worker_stall_timeout, else 503
 *   /readyz   200 while the proxy listens with a loaded configuration and
 *             is not shutting down, else 503
 *   /status   JSON: version, uptime, generation, listeners, upstreams and
 *             servers with their state and counters
 *   /         the stats page: one HTML page, no external assets, that
 *             shows /status and refreshes itself
 *
 * GET and HEAD only (else 405); a client outside admin.allow gets 403;
 * anything else 404.
 */
#ifndef H2B_PROXY_ADMIN_ADMIN_HTTP_H
#define H2B_PROXY_ADMIN_ADMIN_HTTP_H

#include <stdbool.h>

#include "core/buf.h"
#include "core/msg.h"
#include "core/time.h"

struct cfg;
struct px_snap;

/* Appends the response to req to out. allowed: the client passed
 * admin.allow. now: hb_time_now_ns(). Reads the registry
 * (proxy/obs/stats.h). Returns the status sent, or HB_ENOMEM (out holds
 * nothing usable then). */
int px_admin_respond(const struct hb_msg *req, bool allowed, hb_ns_t now, struct hb_buf *out);

/* Appends a whole response: status, content type, body (omitted for
 * HEAD, its length kept). Returns status or HB_ENOMEM. */
int px_admin_reply(struct hb_buf *out, int status, const char *type, const void *body,
                   size_t len, bool head);

/* The /status document (proxy/admin/status.c). up_ns: time since start. */
int px_admin_status_json(struct hb_buf *out, const struct px_snap *snap, const struct cfg *cfg,
                         unsigned generation, double uptime_s);

/* The stats page with the /status document (json[0..len)) built in, so
 * it shows at once; its script then fetches /status every 2 s
 * (proxy/admin/page.c). */
int px_admin_page(struct hb_buf *out, const char *json, size_t len);

#endif
