/* proxy/obs/expo.h — the metrics exposition writer, sans-IO: metric
 * families into a growable buffer (core/buf.h), in one of two formats:
 *
 *   PX_EXPO_PROMETHEUS  Prometheus text format 0.0.4 (the default);
 *   PX_EXPO_OPENMETRICS OpenMetrics 1.0.0, when the scrape's Accept asks for
 *                       application/openmetrics-text (px_expo_negotiate).
 *
 * The formats differ where this writer cares: a counter family is named
 * without its "_total" suffix in OpenMetrics' # HELP and # TYPE lines (its
 * samples keep it), HELP text escapes '"' as well, and OpenMetrics output
 * ends with "# EOF". A family is begun with px_expo_family(); its samples
 * follow. Label values are escaped (backslash, double quote, newline).
 * Histograms take non-cumulative bucket counts and write the cumulative
 * _bucket{le=…} series (with +Inf), _sum and _count.
 *
 * Errors are sticky: after an allocation failure (or the buffer's ceiling)
 * every call does nothing and px_expo_finish() returns the error.
 */
#ifndef H2B_PROXY_OBS_EXPO_H
#define H2B_PROXY_OBS_EXPO_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

enum px_expo_format { PX_EXPO_PROMETHEUS, PX_EXPO_OPENMETRICS };
enum px_expo_type { PX_EXPO_COUNTER, PX_EXPO_GAUGE, PX_EXPO_HISTOGRAM };

struct px_label {
    const char *name;
    const char *value;
};

struct px_expo {
    struct hb_buf *out;
    enum px_expo_format fmt;
    enum px_expo_type type; /* of the current family */
    char family[128];       /* the current family's name (counters: without _total) */
    int err;
};

/* The format an Accept field value asks for (NULL or empty: Prometheus):
 * OpenMetrics when it names application/openmetrics-text with a q other
 * than 0. */
enum px_expo_format px_expo_negotiate(const char *accept, size_t len);

/* The Content-Type of a format. Static storage. */
const char *px_expo_content_type(enum px_expo_format fmt);

void px_expo_init(struct px_expo *e, struct hb_buf *out, enum px_expo_format fmt);

/* Begins a family. name: the metric name as in Prometheus (a counter's
 * with its "_total"; names and help are ours, never a client's). */
void px_expo_family(struct px_expo *e, const char *name, enum px_expo_type type,
                    const char *help);

/* One sample of the current counter or gauge family. */
void px_expo_sample(struct px_expo *e, const struct px_label *labels, size_t nlabels,
                    uint64_t value);
void px_expo_sample_f(struct px_expo *e, const struct px_label *labels, size_t nlabels,
                      double value);

/* One histogram of the current histogram family: counts[0..nbounds] are
 * the non-cumulative counts of the buckets bounded by bounds[0..nbounds)
 * (ascending), the last one +Inf; sum is the sum of the observations. */
void px_expo_histogram(struct px_expo *e, const struct px_label *labels, size_t nlabels,
                       const double *bounds, size_t nbounds, const uint64_t *counts, double sum);

/* Ends the exposition ("# EOF" in OpenMetrics). Returns 0 or the first
 * error (HB_ENOMEM, HB_ELIMIT). */
int px_expo_finish(struct px_expo *e);

#endif
