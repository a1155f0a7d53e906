/* core/health.c — rise/fall, status ranges, jitter, slow start (health.h). */
#include "core/health.h"

#include <ctype.h>
#include <stdlib.h>

const char *hb_health_state_name(enum hb_health_state s)
{
    return s == HB_HEALTH_UP ? "up" : "down";
}

void hb_health_init(struct hb_health *h, enum hb_health_state start, uint32_t rise,
                    uint32_t fall)
{
    h->state = start;
    h->rise = rise ? rise : 1;
    h->fall = fall ? fall : 1;
    h->run = 0;
}

bool hb_health_result(struct hb_health *h, bool ok)
{
    bool against = (h->state == HB_HEALTH_UP) != ok;
    if (!against) {
        h->run = 0;
        return false;
    }
    h->run++;
    if (h->run < (h->state == HB_HEALTH_UP ? h->fall : h->rise))
        return false;
    h->state = h->state == HB_HEALTH_UP ? HB_HEALTH_DOWN : HB_HEALTH_UP;
    h->run = 0;
    return true;
}

/* A status 100..599 at *p; advances *p. -1 when there is none. */
static int status_at(const char **p)
{
    const char *s = *p;
    if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) ||
        !isdigit((unsigned char)s[2]) || isdigit((unsigned char)s[3]))
        return -1;
    int v = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
    if (v < 100 || v > 599)
        return -1;
    *p = s + 3;
    return v;
}

static const char *skip_sp(const char *p)
{
    while (*p == ' ')
        p++;
    return p;
}

int hb_status_ranges_parse(const char *s, struct hb_status_ranges *out)
{
    out->n = 0;
    if (!s)
        return -1;
    const char *p = skip_sp(s);
    for (;;) {
        int lo = status_at(&p), hi = lo;
        if (lo < 0)
            return -1;
        p = skip_sp(p);
        if (*p == '-') {
            p = skip_sp(p + 1);
            hi = status_at(&p);
            if (hi < lo)
                return -1;
            p = skip_sp(p);
        }
        if (out->n == HB_STATUS_RANGES)
            return -1;
        out->lo[out->n] = (uint16_t)lo;
        out->hi[out->n] = (uint16_t)hi;
        out->n++;
        if (*p == '\0')
            return 0;
        if (*p != ',')
            return -1;
        p = skip_sp(p + 1);
    }
}

bool hb_status_ranges_match(const struct hb_status_ranges *r, int status)
{
    for (size_t i = 0; i < r->n; i++)
        if (status >= r->lo[i] && status <= r->hi[i])
            return true;
    return false;
}

uint32_t hb_health_next_delay(uint32_t interval_ms, uint32_t jitter_ms, uint64_t *rng)
{
    if (interval_ms == 0)
        interval_ms = 1;
    if (jitter_ms >= interval_ms)
        jitter_ms = interval_ms - 1;
    if (jitter_ms == 0)
        return interval_ms;
    uint64_t x = *rng ? *rng : 0x9e3779b97f4a7c15u;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *rng = x;
    uint64_t span = 2 * (uint64_t)jitter_ms + 1;
    int64_t off = (int64_t)((x * 0x2545f4914f6cdd1du) % span) - (int64_t)jitter_ms;
    return (uint32_t)((int64_t)interval_ms + off);
}

uint32_t hb_slow_start_weight(uint32_t weight, uint64_t elapsed_ms, uint32_t ramp_ms)
{
    uint64_t full = (uint64_t)(weight ? weight : 1) * HB_WEIGHT_SCALE;
    if (ramp_ms == 0 || elapsed_ms >= ramp_ms)
        return (uint32_t)full;
    uint64_t w = full * elapsed_ms / ramp_ms;
    return (uint32_t)(w ? w : 1);
}
