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

/* A full bucket. */
void h2_budget_init(struct h2_budget *b, struct h2_budget_cfg cfg);

/* Spends n events at time now. Returns false when the budget is broken (a
 * disabled budget, burst 0, never breaks). */
bool h2_budget_spend(struct h2_budget *b, uint32_t n, hb_ns_t now);

#endif
