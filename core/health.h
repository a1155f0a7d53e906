/* core/health.h — backend health, sans-IO: the rise/fall counter of active
 * checks, expected-status ranges, the check interval's jitter and the slow
 * start weight ramp. No clock (times are passed in), no sockets. */
#ifndef H2B_CORE_HEALTH_H
#define H2B_CORE_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A server's health as the checks see it. */
enum hb_health_state {
    HB_HEALTH_UP,   /* picked by the balancer */
    HB_HEALTH_DOWN, /* `fall` checks in a row failed: not picked */
};

/* "up", "down". Static storage. */
const char *hb_health_state_name(enum hb_health_state s);

/* Consecutive results: `rise` passes in a row bring a DOWN server UP, `fall`
 * failures in a row take an UP one DOWN (HAProxy's rise/fall). A result
 * that agrees with the state resets the opposite run. */
struct hb_health {
    enum hb_health_state state;
    uint32_t rise, fall; /* >= 1 (0 counts as 1) */
    uint32_t run;        /* results in a row against the state */
};

void hb_health_init(struct hb_health *h, enum hb_health_state start, uint32_t rise,
                    uint32_t fall);

/* Feeds one check result. Returns true when the state changed. */
bool hb_health_result(struct hb_health *h, bool ok);

/* Expected statuses: up to HB_STATUS_RANGES ranges [lo, hi] of 100..599. */
#define HB_STATUS_RANGES 16
struct hb_status_ranges {
    uint16_t lo[HB_STATUS_RANGES], hi[HB_STATUS_RANGES];
    size_t n;
};

/* Parses "200-399", "200,204,300-308" (commas, optional spaces, each item
 * a status or LO-HI with LO <= HI, all in 100..599) into *out. Returns 0,
 * or -1 (*out unspecified) for anything else, an empty string or more than
 * HB_STATUS_RANGES items. */
int hb_status_ranges_parse(const char *s, struct hb_status_ranges *out);

/* True when status falls in one of r's ranges. */
bool hb_status_ranges_match(const struct hb_status_ranges *r, int status);

/* The delay before the next check: interval_ms plus a uniform offset in
 * [-jitter_ms, +jitter_ms] (jitter_ms is clamped to interval_ms - 1, so
 * the delay stays >= 1 ms). *rng is xorshift64 state (never 0; 0 is
 * replaced by a fixed seed). Checks of many servers and many proxies do not
 * fall into step. */
uint32_t hb_health_next_delay(uint32_t interval_ms, uint32_t jitter_ms, uint64_t *rng);

/* Slow start: the weight a server gets `elapsed_ms` after it came back,
 * scaled by HB_WEIGHT_SCALE so that a weight-1 server can ramp too. The
 * ramp is linear from 1/HB_WEIGHT_SCALE of the full weight (never 0) to
 * weight * HB_WEIGHT_SCALE at ramp_ms; ramp_ms 0 (off) or elapsed past it
 * gives the full scaled weight. weight 0 counts as 1. */
#define HB_WEIGHT_SCALE 100u
uint32_t hb_slow_start_weight(uint32_t weight, uint64_t elapsed_ms, uint32_t ramp_ms);

#endif
