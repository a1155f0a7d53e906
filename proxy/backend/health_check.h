/* proxy/backend/health_check.h — active health checks, once per process.
 *
 * One thread with its own event loop checks every server of every upstream
 * that has `health_check:` (docs/backends.md): every interval ± jitter it
 * connects (and for type http writes "METHOD PATH HTTP/1.1", Host,
 * "Connection: close" and reads the response head, core/h1_parse), within
 * timeout. A check passes on a connect (tcp) or on a status in
 * expect_status (http). `fall` failures in a row take a server down, `rise`
 * passes bring it back (core/health.h); each change is logged once and
 * published in the server's proxy/backend/health_state.h state, which the
 * workers read without a lock. When the last server of an upstream goes
 * down, and when one comes back, one line says what on_no_healthy does.
 *
 * Reload: px_health_reload() makes the thread rebuild its checks from the
 * running configuration (px_obs_config); states are kept by name.
 */
#ifndef H2B_PROXY_BACKEND_HEALTH_CHECK_H
#define H2B_PROXY_BACKEND_HEALTH_CHECK_H

/* Main thread, after px_obs_set_config(): starts the thread, which checks
 * the running configuration's upstreams. Returns 0, or -1 (logged). */
int px_health_start(void);

/* Main thread, after a reload's px_obs_set_config(): rebuild the checks. */
void px_health_reload(void);

/* Main thread: stops the thread and drops its states. A no-op when not
 * started. */
void px_health_stop(void);

#endif
