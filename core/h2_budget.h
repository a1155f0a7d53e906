/* core/h2_budget.h — token-bucket flood budgets (CVE-2019-951x, CVE-2023-44487,
 * CVE-2025-8671). A budget allows `burst` events at once and refills at
 * `per_sec` events per second of the time passed in; the event that finds it
 * empty breaks it. struct h2_budget_cfg is public (struct h2_settings_cfg in
 * core/h2_conn.h carries one per flood kind); the bucket itself is internal
 * to the engine. A leaf: nothing above core/time.h is included. */
#ifndef H2B_CORE_H2_BUDGET_H
#define H2B_CORE_H2_BUDGET_H

#include <stdbool.h>
#include <stdint.h>

#include "core/time.h"

/* A token bucket: `burst` events at once, refilled at `per_sec` events per
 * second of the `now` passed in. An event that finds the bucket empty breaks
 * the budget: GOAWAY ENHANCE_YOUR_CALM. burst 0 disables the budget. */
struct h2_budget_cfg {
    uint32_t burst;
    uint32_t per_sec;
};

struct h2_budget {
    struct h2_budget_cfg cfg;
    uint64_t tokens_milli; /* tokens x 1000, for sub-token refill precision */
    hb_ns_t last;          /* time of the last refill; 0 = not started */
};

/* Which flood protection broke a connection (GOAWAY ENHANCE_YOUR_CALM), for
 * metrics: the budgets above and the bounds on what a peer can make us queue
 * or hold. Append only (names appear in metrics). */
enum h2_flood {
    H2_FLOOD_NONE,
    H2_FLOOD_RST_STREAM,     /* reset budget: RST_STREAMs, provoked stream errors, refused streams */
    H2_FLOOD_EMPTY_FRAMES,   /* empty DATA, CONTINUATION or header blocks */
    H2_FLOOD_PRIORITY,       /* PRIORITY and PRIORITY_UPDATE */
    H2_FLOOD_SETTINGS,       /* SETTINGS */
    H2_FLOOD_PING,           /* PING */
    H2_FLOOD_WINDOW_UPDATE,  /* WINDOW_UPDATE dribble */
    H2_FLOOD_CONTROL_QUEUE,  /* unsent PING/SETTINGS ACKs or RST_STREAMs, unsent output bytes */
    H2_FLOOD_HEADER_BLOCK,   /* header block too large (CONTINUATION flood) */
    H2_FLOOD_MEMORY,         /* the connection's memory bound */
    H2_FLOOD_COUNT
};

/* "rst_stream", "empty_frames", … ("none" for H2_FLOOD_NONE). Static storage. */
const char *h2_flood_name(enum h2_flood f);

/* A full bucket. */
void h2_budget_init(struct h2_budget *b, struct h2_budget_cfg cfg);

/* Spends n events at time now. Returns false when the budget is broken (a
 * disabled budget, burst 0, never breaks). */
bool h2_budget_spend(struct h2_budget *b, uint32_t n, hb_ns_t now);

#endif
