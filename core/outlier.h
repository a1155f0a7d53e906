/* core/outlier.h — passive outlier ejection, sans-IO: a server whose
 * requests fail `threshold` times in a row (connect failures, resets before
 * a response, timeouts, 5xx: the caller decides which count) is ejected for
 * base × 2^(k-1), capped at max, where k counts its ejections; k starts over
 * once the server stayed in for max after coming back. At most max_percent
 * of an upstream's n servers (at least one, never all n) are out at once.
 * Time is passed in (nanoseconds). */
#ifndef H2B_CORE_OUTLIER_H
#define H2B_CORE_OUTLIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What one request taught about its server. */
enum hb_outcome {
    HB_OUTCOME_CONNECT_FAILURE, /* refused, failed or timed out connecting */
    HB_OUTCOME_RESET,           /* closed or reset before any response byte */
    HB_OUTCOME_TIMEOUT,         /* no response head within read_timeout */
    HB_OUTCOME_5XX,             /* a final response 500..599 */
    HB_OUTCOME_OK,              /* any other final response */
};
#define HB_OUTCOME_FAILURES 4 /* the failure kinds above HB_OUTCOME_OK */

/* "connect_failure", "reset", "timeout", "5xx", "ok". Static storage. */
const char *hb_outcome_name(enum hb_outcome o);

struct hb_outlier_cfg {
    uint32_t threshold;   /* failures in a row; >= 1 */
    uint64_t base_ns;     /* first ejection */
    uint64_t max_ns;      /* cap, >= base_ns */
    uint32_t max_percent; /* 0..100 */
};

struct hb_outlier {
    uint32_t run;       /* failures in a row */
    uint32_t ejections; /* k */
    bool ejected;
    uint64_t until;   /* while ejected: when it comes back */
    uint64_t back_at; /* when it last came back (0: never ejected) */
};

/* How many of n servers may be out at once: max(1, n × max_percent / 100),
 * but at most n - 1 (0 for a single server). */
size_t hb_outlier_cap(const struct hb_outlier_cfg *c, size_t n);

enum hb_outlier_ev {
    HB_OUTLIER_NONE,    /* counted */
    HB_OUTLIER_EJECTED, /* the threshold was reached: o is ejected until o->until */
    HB_OUTLIER_CAPPED,  /* reached, but `ejected` of n are out already: not ejected */
};

/* A counted failure at now; ejected: the upstream's servers out now. */
enum hb_outlier_ev hb_outlier_failure(struct hb_outlier *o, const struct hb_outlier_cfg *c,
                                      size_t ejected, size_t n, uint64_t now);

/* A success: the run starts over. */
void hb_outlier_success(struct hb_outlier *o);

/* Brings o back when its time is up. Returns true when it just came back
 * (o->back_at = now). */
bool hb_outlier_tick(struct hb_outlier *o, uint64_t now);

#endif
