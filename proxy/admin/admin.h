/* proxy/admin/admin.h — the admin listener: /metrics, /healthz, /readyz,
 * /status and the stats page (proxy/admin/admin_http.h), on admin.address
 * and admin.port (loopback by default), in a thread of its own with its own
 * event loop: never a worker's, never on a client listener, so a slow
 * scraper or a flood of admin connections costs the workers nothing but
 * the snapshot's mutex (proxy/obs/stats.h).
 *
 * A small HTTP/1.1 server: one request per connection ("Connection:
 * close"), its head parsed by core/h1_parse and at most
 * admin.max_request_size bytes (431 past it), the whole exchange within
 * admin.request_timeout (then closed), at most admin.max_connections open
 * (more are closed at accept). A client outside admin.allow gets 403 and a
 * log line.
 *
 * Reload (SIGHUP): the listening socket stays as it was bound at start;
 * allow, the limits and everything the endpoints show follow the new
 * configuration. A change of enabled, address or port is logged as a
 * warning and takes effect at the next start (docs/configuration.md).
 */
#ifndef H2B_PROXY_ADMIN_ADMIN_H
#define H2B_PROXY_ADMIN_ADMIN_H

struct cfg;

/* Main thread, at start-up: binds admin.address:admin.port and starts the
 * admin thread when cfg->admin.enabled; does nothing otherwise. Returns 0,
 * or -1 after logging why (the address is in use, out of memory). */
int px_admin_start(const struct cfg *cfg);

/* Main thread, after a reload to cfg from old: logs what cannot change
 * without a restart. */
void px_admin_reloaded(const struct cfg *old, const struct cfg *cfg);

/* Main thread: stops the admin thread, closes its connections and the
 * socket. A no-op when it was not started. */
void px_admin_stop(void);

/* The admin listener's socket, or -1 (for a binary upgrade's hand-over). */
int px_admin_fd(void);

#endif
