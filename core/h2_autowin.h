/* core/h2_autowin.h — receive windows that follow the path (issue 19).
 *
 * A fixed stream window W caps an upload at W per round trip: 64 KiB at
 * 150 ms is 3.5 Mbit/s whatever the link. This estimator measures, once per
 * round trip, how many request-body bytes the application consumed (the
 * proxy consumes a byte when it reaches the backend), with a PING timing the
 * round trip. When a round trip's consumption reaches half a window, that
 * window is what limits the transfer, and it grows to twice the
 * consumption, up to a configured maximum; otherwise the path or the backend
 * is the limit and nothing changes. Windows never shrink.
 *
 * Because growth is driven by consumption, not by arrival, a slow backend
 * never makes the windows grow: the client is still stopped by what the
 * backend takes. The bytes a client can make the proxy hold stay bounded by
 * the maxima (per stream and per connection).
 *
 * Sans-IO and clock-free: the caller passes `now` and sends the probe PING
 * (h2_flow.c does, with the opaque data of h2_autowin_probe_opaque()). */
#ifndef H2B_CORE_H2_AUTOWIN_H
#define H2B_CORE_H2_AUTOWIN_H

#include <stdbool.h>
#include <stdint.h>

#include "core/time.h"

struct h2_autowin {
    uint32_t stream_window; /* the window each consuming stream is raised to */
    uint32_t conn_window;   /* the connection window */
    uint32_t max_stream, max_conn;
    bool probing;           /* a probe PING is out */
    uint16_t seq;           /* the probe's number (in its opaque data) */
    hb_ns_t sent;           /* when the probe was queued */
    uint64_t bytes;         /* consumed since the probe was queued */
    hb_ns_t rtt;            /* last measured round trip; 0: none yet */
    uint32_t grown;         /* times a window grew */
};

/* Starts at the configured windows; growth up to the maxima (a maximum not
 * above its start turns growth of that window off). */
void h2_autowin_init(struct h2_autowin *a, uint32_t stream0, uint32_t conn0, uint32_t max_stream,
                     uint32_t max_conn);

/* True while some window may still grow (probes are worth sending). */
bool h2_autowin_active(const struct h2_autowin *a);

/* The application consumed n body bytes at now. True when a probe should be
 * sent now (none is out and growth is possible): the caller sends a PING
 * with h2_autowin_probe_opaque() and the sample starts with these bytes. */
bool h2_autowin_consumed(struct h2_autowin *a, uint64_t n, hb_ns_t now);

/* The 8 opaque bytes of the current probe. */
void h2_autowin_probe_opaque(const struct h2_autowin *a, uint8_t out[8]);

/* A PING ACK with opaque p arrived at now. False when it is not our current
 * probe (another PING of ours, or a stale probe). True: the sample is
 * closed; *conn_delta is how much the connection window grew (0 if not) —
 * the caller grants it at once; streams pick up stream_window lazily. */
bool h2_autowin_ack(struct h2_autowin *a, const uint8_t p[8], hb_ns_t now, uint32_t *conn_delta);

#endif
