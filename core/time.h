/* core/time.h — monotonic time helpers.
 *
 * Protocol machines never read the clock: callers pass "now" in, as
 * nanoseconds from hb_time_now_ns(), so tests can drive time by hand.
 */
#ifndef H2B_CORE_TIME_H
#define H2B_CORE_TIME_H

#include <stdint.h>

typedef int64_t hb_ns_t;

#define HB_NS_PER_US 1000LL
#define HB_NS_PER_MS 1000000LL
#define HB_NS_PER_SEC 1000000000LL

/* Monotonic clock (CLOCK_MONOTONIC) in nanoseconds; never goes backwards. */
hb_ns_t hb_time_now_ns(void);

static inline hb_ns_t hb_time_ms(int64_t ms)
{
    return ms * HB_NS_PER_MS;
}

/* True once `now` is at or past `deadline`; a deadline of 0 never expires. */
static inline int hb_time_expired(hb_ns_t now, hb_ns_t deadline)
{
    return deadline != 0 && now >= deadline;
}

/* Milliseconds from now until deadline, clamped to [0, INT32_MAX]; -1 when
 * the deadline is 0 (none) — the form poll()-style APIs take. */
int32_t hb_time_until_ms(hb_ns_t now, hb_ns_t deadline);

#endif
