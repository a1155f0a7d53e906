/* proxy/front/rate.h — the minimum send rate, for both protocols: while output
 * waits for a client that does not read, the client must take
 * limits.min_send_rate bytes per second over each
 * limits.min_send_rate_window_ms, else its connection is closed (no GOAWAY
 * or response can get through a stalled socket). Off when either is 0.
 *
 * The caller counts the bytes it wrote (sent, monotonic) and says when
 * output waits; the helper keeps the window.
 */
#ifndef H2B_PROXY_FRONT_RATE_H
#define H2B_PROXY_FRONT_RATE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/time.h"

struct cfg_limits;

struct px_rate {
    hb_ns_t start; /* start of the current window while output waits; 0: none */
    uint64_t mark; /* `sent` at start */
};

/* Nothing waits (everything is out): no window. */
void px_rate_idle(struct px_rate *r);

/* Output waits: starts a window at now if none runs. Returns the running
 * window's end (the caller arms its timer for it), or 0 when the check is
 * off. */
hb_ns_t px_rate_waiting(struct px_rate *r, const struct cfg_limits *l, uint64_t sent, hb_ns_t now);

/* From the timer (or any later point): once the running window ended,
 * false (logged with peer) when fewer than min_send_rate bytes per second
 * of it were taken, else true and the next window starts at now. True while
 * no window runs or it has not ended. */
bool px_rate_ok(struct px_rate *r, const struct cfg_limits *l, uint64_t sent, hb_ns_t now,
                const char *peer);

/* The running window's end, 0 when none runs. */
hb_ns_t px_rate_deadline(const struct px_rate *r, const struct cfg_limits *l);

#endif
