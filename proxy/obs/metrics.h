/* proxy/obs/metrics.h — /metrics: a snapshot of the counters
 * (proxy/obs/stats.h) and the process (/proc/self) written as metric
 * families (proxy/obs/expo.h). Every metric is listed in
 * docs/observability.md. Any thread (the admin thread).
 */
#ifndef H2B_PROXY_OBS_METRICS_H
#define H2B_PROXY_OBS_METRICS_H

#include "core/buf.h"
#include "core/time.h"
#include "proxy/obs/expo.h"
#include "proxy/obs/stats.h"

/* The process figures read from /proc/self at scrape time. */
struct px_proc {
    double cpu_seconds;   /* user + system */
    uint64_t rss_bytes;   /* resident set */
    uint64_t vsize_bytes; /* virtual memory */
    uint64_t open_fds;
    uint64_t max_fds;     /* RLIMIT_NOFILE soft limit */
    unsigned threads;
    double start_time;    /* seconds since the epoch, 0 when unknown */
};
/* Fills *p (fields it cannot read stay 0). */
void px_proc_read(struct px_proc *p);

/* Writes every family from snap (px_stats_snapshot) and p into out.
 * generation: the running configuration's. Returns 0 or HB_ENOMEM. */
int px_metrics_write(struct hb_buf *out, enum px_expo_format fmt, const struct px_snap *snap,
                     const struct px_proc *p, unsigned generation);

#endif
