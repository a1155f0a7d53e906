#include "core/h2_budget.h"

void h2_budget_init(struct h2_budget *b, struct h2_budget_cfg cfg)
{
    b->cfg = cfg;
    b->tokens_milli = (uint64_t)cfg.burst * 1000;
    b->last = 0;
}

bool h2_budget_spend(struct h2_budget *b, uint32_t n, hb_ns_t now)
{
    if (b->cfg.burst == 0)
        return true;
    uint64_t cap = (uint64_t)b->cfg.burst * 1000;
    if (b->last != 0 && now > b->last) {
        /* per_sec tokens per 1e9 ns, in milli-tokens: per_sec * dt / 1e6.
         * dt is capped so the product cannot overflow. */
        uint64_t dt = (uint64_t)(now - b->last);
        if (dt > 3600 * (uint64_t)HB_NS_PER_SEC)
            dt = 3600 * (uint64_t)HB_NS_PER_SEC;
        uint64_t add = (uint64_t)b->cfg.per_sec * (dt / 1000) / 1000;
        b->tokens_milli = b->tokens_milli + add > cap ? cap : b->tokens_milli + add;
    }
    if (b->last == 0 || now > b->last)
        b->last = now;
    uint64_t need = (uint64_t)n * 1000;
    if (b->tokens_milli < need) {
        b->tokens_milli = 0;
        return false;
    }
    b->tokens_milli -= need;
    return true;
}

const char *h2_flood_name(enum h2_flood f)
{
    static const char *const names[H2_FLOOD_COUNT] = {
        "none",     "rst_stream",    "empty_frames",  "priority",     "settings",
        "ping",     "window_update", "control_queue", "header_block", "memory",
    };
    return (unsigned)f < H2_FLOOD_COUNT ? names[f] : "none";
}
