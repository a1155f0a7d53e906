#include "core/time.h"

#include <time.h>

hb_ns_t hb_time_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (hb_ns_t)ts.tv_sec * HB_NS_PER_SEC + ts.tv_nsec;
}

int32_t hb_time_until_ms(hb_ns_t now, hb_ns_t deadline)
{
    if (deadline == 0)
        return -1;
    if (deadline <= now)
        return 0;
    /* Round up: waking a little late is fine, early means a busy loop. */
    hb_ns_t ms = (deadline - now + HB_NS_PER_MS - 1) / HB_NS_PER_MS;
    return ms > INT32_MAX ? INT32_MAX : (int32_t)ms;
}
