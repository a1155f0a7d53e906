/* proxy/backend/health_state.h — each backend server's health, shared by the
 * process: written by the health-check thread (health_check.h), read by
 * every worker on the request path without a lock.
 *
 * A state is keyed by (upstream name, server "host:port"), not by a
 * configuration generation, so a reload keeps what the checks learned: a
 * server that was down stays down in the new generation until it passes
 * `rise` checks. States are reference counted: every worker's upstream holds
 * one per server, and so does the health-check thread for each server it
 * checks; the last px_hstate_put() frees it. The registry's mutex is taken
 * by get/put (worker start and end, the check thread's rebuild) and by the
 * admin thread's reads, never on the request path.
 */
#ifndef H2B_PROXY_BACKEND_HEALTH_STATE_H
#define H2B_PROXY_BACKEND_HEALTH_STATE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/health.h"
#include "core/list.h"
#include "core/time.h"

struct px_hstate {
    /* Written by the check thread only (single writer), read anywhere with
     * relaxed loads: a worker that sees a change one request late is fine. */
    _Atomic int state;            /* enum hb_health_state; HB_HEALTH_UP when created */
    _Atomic int64_t up_since;     /* hb_time_now_ns() of the last down → up; 0: never down */
    _Atomic bool checked;         /* an active check runs for it now */
    _Atomic uint64_t checks_ok, checks_failed, went_down, went_up;
    /* the registry's (under its mutex) */
    struct hb_list link;
    char *upstream, *server;
    unsigned refs;
};

/* The state of (upstream, server) with a reference, created UP (a new
 * server gets traffic until its checks say otherwise). NULL when out of
 * memory. Any thread. */
struct px_hstate *px_hstate_get(const char *upstream, const char *server);

/* Drops a reference (NULL is a no-op). Any thread. */
void px_hstate_put(struct px_hstate *h);

/* Request path: true when h is up (NULL: no state, up). */
static inline bool px_hstate_up(const struct px_hstate *h)
{
    return !h || atomic_load_explicit(&((struct px_hstate *)h)->state, memory_order_relaxed) ==
                     HB_HEALTH_UP;
}

/* Request path: milliseconds since h came back up, or UINT64_MAX when it
 * never went down (no slow start after a start or a reload). */
static inline uint64_t px_hstate_up_for_ms(const struct px_hstate *h, hb_ns_t now)
{
    int64_t t = h ? atomic_load_explicit(&((struct px_hstate *)h)->up_since,
                                         memory_order_relaxed)
                  : 0;
    if (t == 0)
        return UINT64_MAX;
    return now > (hb_ns_t)t ? (uint64_t)(now - (hb_ns_t)t) / 1000000u : 0;
}

/* What the admin endpoints show. */
struct px_hstate_view {
    bool found, checked, up;
    uint64_t checks_ok, checks_failed, went_down, went_up;
};

/* Reads the state of (upstream, server) under the registry's mutex (admin
 * thread). found false when there is none. */
void px_hstate_read(const char *upstream, const char *server, struct px_hstate_view *out);

#endif
