/* proxy/timeouts.h — connection timeouts of HTTP/2 clients that the engine
 * does not keep itself. (HTTP/1.1 timeouts live in h1_frontend.c.)
 *
 * Idle: an h2 connection with no open stream for limits.h2_idle_timeout_ms
 * gets GOAWAY NO_ERROR (RFC 9113 §6.8, one step: no stream can be in flight)
 * and is closed once it is written.
 *
 * Send rate: while output waits for a stalled client, the client must take
 * limits.min_send_rate bytes per second over each
 * limits.min_send_rate_window_ms, else the connection is closed.
 */
#ifndef H2B_PROXY_TIMEOUTS_H
#define H2B_PROXY_TIMEOUTS_H

#include <stdbool.h>

#include "core/time.h"

struct px_fconn;

/* Updates fc's idle clock (call after each engine step) and returns the
 * earliest of the engine's deadline `engine_next` (0: none) and the idle
 * deadline (0: none). */
hb_ns_t px_h2_next_deadline(struct px_fconn *fc, hb_ns_t engine_next, hb_ns_t now);

/* From the timer: when the idle deadline passed, queues GOAWAY NO_ERROR and
 * returns true (the caller flushes; the engine then asks to close). */
bool px_h2_idle_check(struct px_fconn *fc, hb_ns_t now);

/* Send rate: output waits for the client socket. Starts the
 * limits.min_send_rate_window_ms window if none runs and returns when it
 * ends (the caller arms its timer), or 0 when the check is off. */
hb_ns_t px_h2_send_stalled(struct px_fconn *fc, hb_ns_t now);

/* From the timer: false (logged) when output waited a whole window and the
 * client took fewer than min_send_rate bytes per second of it: close the
 * connection (no GOAWAY can get through a stalled socket). */
bool px_h2_rate_ok(struct px_fconn *fc, hb_ns_t now);

#endif
