/* core/outlier.c — passive outlier ejection (outlier.h). */
#include "core/outlier.h"

const char *hb_outcome_name(enum hb_outcome o)
{
    switch (o) {
    case HB_OUTCOME_CONNECT_FAILURE:
        return "connect_failure";
    case HB_OUTCOME_RESET:
        return "reset";
    case HB_OUTCOME_TIMEOUT:
        return "timeout";
    case HB_OUTCOME_5XX:
        return "5xx";
    case HB_OUTCOME_OK:
        return "ok";
    }
    return "?";
}

size_t hb_outlier_cap(const struct hb_outlier_cfg *c, size_t n)
{
    if (n <= 1)
        return 0;
    size_t k = n * c->max_percent / 100;
    if (k < 1)
        k = 1;
    return k > n - 1 ? n - 1 : k;
}

enum hb_outlier_ev hb_outlier_failure(struct hb_outlier *o, const struct hb_outlier_cfg *c,
                                      size_t ejected, size_t n, uint64_t now)
{
    if (o->ejected)
        return HB_OUTLIER_NONE; /* a request that was under way when it went out */
    if (++o->run < (c->threshold ? c->threshold : 1))
        return HB_OUTLIER_NONE;
    if (ejected >= hb_outlier_cap(c, n))
        return HB_OUTLIER_CAPPED; /* the run goes on: ejected at the next failure with room */
    if (o->back_at && now - o->back_at >= c->max_ns)
        o->ejections = 0; /* it behaved for a whole max: start over at base */
    uint64_t t = c->base_ns;
    for (uint32_t k = 0; k < o->ejections && t < c->max_ns; k++)
        t *= 2;
    if (t > c->max_ns)
        t = c->max_ns;
    o->ejections++;
    o->ejected = true;
    o->run = 0;
    o->until = now + t;
    return HB_OUTLIER_EJECTED;
}

void hb_outlier_success(struct hb_outlier *o)
{
    o->run = 0;
}

bool hb_outlier_tick(struct hb_outlier *o, uint64_t now)
{
    if (!o->ejected || now < o->until)
        return false;
    o->ejected = false;
    o->back_at = now;
    o->run = 0;
    return true;
}
