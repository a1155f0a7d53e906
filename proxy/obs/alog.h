/* proxy/obs/alog.h — the access log of one worker: its compiled format and
 * line buffer, the entry made from a request's record, and the writer's
 * options from the configuration.
 *
 * Every request ends once in px_ex_record_done (proxy/exchange/record.c),
 * which calls px_alog_request: the line is formatted into the worker's
 * buffer (logging.access_log_line_max) and appended to the calling
 * thread's ring (proxy/obs/logbuf.h): no lock, no allocation, no system
 * call in the common case.
 */
#ifndef H2B_PROXY_OBS_ALOG_H
#define H2B_PROXY_OBS_ALOG_H

#include "config/cfg.h"
#include "proxy/obs/alog_fmt.h"
#include "proxy/obs/logbuf.h"

struct px_fconn;
struct px_ex_record;

struct px_alog {
    struct px_alog_prog prog;
    char *line;  /* logging.access_log_line_max bytes */
    size_t line_max;
};

/* Compiles cfg's access log format. Returns NULL when cfg has no access
 * log, or when out of memory or the template is bad (*failed set; the
 * configuration check reports a bad template first). */
struct px_alog *px_alog_new(const struct cfg *cfg, bool *failed);
void px_alog_del(struct px_alog *a);

/* Checks logging.access_log_template of cfg: a bad field is reported at its
 * file:line:column (the column of the field inside the string when the
 * string is written on one line without escapes). Returns 0 or -1. */
int px_alog_check(const struct cfg *cfg, struct cfg_errors *errs);

/* The writer's options for cfg's logging section. */
void px_alog_writer_opts(const struct cfg *cfg, struct px_logw_opts *o);

/* Builds the entry of one ended request (fc: its client connection); the
 * fields outside uses (PX_ALOG_USES bits) may be left empty. */
void px_alog_entry_make(const struct px_fconn *fc, const struct px_ex_record *r, uint64_t uses,
                        struct px_alog_entry *e);

/* Formats and appends the line of one ended request (a no-op when a is
 * NULL). */
void px_alog_request(struct px_alog *a, const struct px_fconn *fc, const struct px_ex_record *r);

#endif
