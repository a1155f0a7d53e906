/* core/balance.h — backend balancing policies, sans-IO: pick the index of a
 * backend from per-backend state the caller keeps up to date (weight,
 * active exchanges, healthy flag). No clock, no sockets, no allocation. */
#ifndef H2B_CORE_BALANCE_H
#define H2B_CORE_BALANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum hb_balance {
    HB_BAL_ROUND_ROBIN, /* smooth weighted round-robin (nginx's algorithm) */
    HB_BAL_LEAST_CONN,  /* fewest active per weight; ties by smooth WRR */
    HB_BAL_RANDOM,      /* weighted random (xorshift64*, seedable) */
};

/* Per-backend state. weight 0 counts as 1. `current` is the policy's own
 * smooth-WRR credit: start it at 0 and leave it alone. */
struct hb_backend {
    uint32_t weight;
    uint32_t active; /* exchanges in flight on this backend */
    bool healthy;    /* false: never picked */
    int64_t current;
};

struct hb_balancer {
    enum hb_balance policy;
    uint64_t rng; /* random state; never 0 (hb_balancer_init fixes it) */
};

/* Maps a policy name (config/cfg.h cfg_balance_names: "round_robin",
 * "least_conn", "random") to *out. Returns 0, or -1 for an unknown name
 * (name NULL included; *out untouched). */
int hb_balance_parse(const char *name, enum hb_balance *out);

/* Initialises b with a policy and a random seed (any value; 0 is mapped to
 * a fixed non-zero seed). */
void hb_balancer_init(struct hb_balancer *b, enum hb_balance policy, uint64_t seed);

/* Picks one of the n backends in be[] by b's policy, skipping unhealthy
 * ones, and updates the policy state (be[i].current, b->rng). The caller
 * owns both arrays and increments/decrements be[i].active itself. Returns
 * the index, or -1 when n is 0 or no backend is healthy. */
ptrdiff_t hb_balance_pick(struct hb_balancer *b, struct hb_backend *be, size_t n);

#endif
