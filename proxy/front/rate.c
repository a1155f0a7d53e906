/* proxy/front/rate.c — the minimum send rate (see rate.h). */
#include "proxy/front/rate.h"

#include "config/cfg.h"
#include "core/log.h"

static bool off(const struct cfg_limits *l)
{
    return !l->min_send_rate || !l->min_send_rate_window_ms;
}

void px_rate_idle(struct px_rate *r)
{
    r->start = 0;
}

hb_ns_t px_rate_waiting(struct px_rate *r, const struct cfg_limits *l, uint64_t sent, hb_ns_t now)
{
    if (off(l))
        return 0;
    if (r->start == 0) {
        r->start = now;
        r->mark = sent;
    }
    return px_rate_deadline(r, l);
}

hb_ns_t px_rate_deadline(const struct px_rate *r, const struct cfg_limits *l)
{
    return r->start ? r->start + hb_time_ms(l->min_send_rate_window_ms) : 0;
}

bool px_rate_ok(struct px_rate *r, const struct cfg_limits *l, uint64_t sent, hb_ns_t now,
                const char *peer)
{
    if (r->start == 0 || now < px_rate_deadline(r, l))
        return true;
    uint64_t want = (uint64_t)l->min_send_rate * l->min_send_rate_window_ms / 1000;
    if (sent - r->mark < want) {
        hb_info("client %s: reads slower than limits.min_send_rate (%u B/s), connection closed",
                peer, l->min_send_rate);
        return false;
    }
    r->start = now; /* a new window while output still waits */
    r->mark = sent;
    return true;
}
