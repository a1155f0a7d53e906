/* proxy/timeouts.c — idle timeout of HTTP/2 client connections. */
#include "proxy/timeouts.h"

#include "core/h2_conn.h"
#include "core/log.h"
#include "proxy/fconn.h"
#include "proxy/worker.h"

static hb_ns_t idle_deadline(const struct px_fconn *fc)
{
    uint32_t ms = fc->w->cfg->limits.h2_idle_timeout_ms;
    return fc->idle_since && ms ? fc->idle_since + hb_time_ms(ms) : 0;
}

hb_ns_t px_h2_next_deadline(struct px_fconn *fc, hb_ns_t engine_next, hb_ns_t now)
{
    if (h2_conn_open_streams(fc->h2) > 0 || h2_conn_goaway_sent_code(fc->h2) >= 0)
        fc->idle_since = 0;
    else if (fc->idle_since == 0)
        fc->idle_since = now;
    hb_ns_t idle = idle_deadline(fc);
    if (idle == 0)
        return engine_next;
    return engine_next == 0 || idle < engine_next ? idle : engine_next;
}

bool px_h2_idle_check(struct px_fconn *fc, hb_ns_t now)
{
    hb_ns_t idle = idle_deadline(fc);
    if (idle == 0 || now < idle || h2_conn_open_streams(fc->h2) > 0)
        return false;
    hb_info("client %s: HTTP/2 connection idle for limits.h2_idle_timeout_ms, GOAWAY", fc->peer);
    fc->idle_since = 0;
    h2_conn_goaway(fc->h2, H2_NO_ERROR, false);
    return true;
}

hb_ns_t px_h2_send_stalled(struct px_fconn *fc, hb_ns_t now)
{
    const struct cfg_limits *l = &fc->w->cfg->limits;
    if (!l->min_send_rate || !l->min_send_rate_window_ms)
        return 0;
    if (fc->rate_start == 0) {
        fc->rate_start = now;
        fc->rate_mark = fc->sent;
    }
    return fc->rate_start + hb_time_ms(l->min_send_rate_window_ms);
}

bool px_h2_rate_ok(struct px_fconn *fc, hb_ns_t now)
{
    const struct cfg_limits *l = &fc->w->cfg->limits;
    if (fc->rate_start == 0 || now < fc->rate_start + hb_time_ms(l->min_send_rate_window_ms))
        return true;
    uint64_t want = (uint64_t)l->min_send_rate * l->min_send_rate_window_ms / 1000;
    if (fc->sent - fc->rate_mark < want) {
        hb_info("client %s: reads slower than limits.min_send_rate (%u B/s), connection closed",
                fc->peer, l->min_send_rate);
        return false;
    }
    fc->rate_start = now; /* a new window while output still waits */
    fc->rate_mark = fc->sent;
    return true;
}
