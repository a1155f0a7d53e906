/* proxy/obs/logbuf.h — the log writer: lines from any thread go into that
 * thread's own ring, and one writer thread, off every event loop, drains
 * every ring into the log files.
 *
 * Producer side (px_logw_append): a bounded single-producer/single-consumer
 * byte ring per thread (made at the thread's first line, or by
 * px_logw_thread_init), no lock and no system call in the common case:
 * - a line that does not fit is dropped and counted (px_logw_dropped),
 *   never queued without bound, never waited for;
 * - the producer wakes the writer (an eventfd) only when its ring crosses
 *   half full, and for every error-log line (rare, rate-limited: they should
 *   not wait);
 * - otherwise the writer wakes every flush interval, so no line waits
 *   longer than that (logging.access_log_flush).
 * Each line is one record in one ring and the writer copies whole records,
 * so lines from different threads never interleave inside a line.
 *
 * Writer side: files are opened O_WRONLY|O_APPEND|O_CREAT|O_CLOEXEC, 0640
 * (with O_NONBLOCK for the open itself: a FIFO without a reader is an
 * error, not a hang);
 * "-" is standard output, NULL (error log) standard error. px_logw_reopen
 * (SIGUSR1) and px_logw_configure (SIGHUP, new paths) take effect between
 * two writes: the buffered bytes go to the old file first, so no line is
 * lost or split. A thread's ring outlives the thread: at thread exit it is
 * marked dead, drained, then freed by the writer. px_logw_stop drains every
 * ring and joins the writer.
 *
 * The error log (core/log.h) goes through the same rings while the writer
 * runs (px_logw_start installs the sink); before and after, it is written
 * to stderr directly. The writer's own messages go to stderr directly too
 * (never into a ring it drains: no recursion).
 */
#ifndef H2B_PROXY_OBS_LOGBUF_H
#define H2B_PROXY_OBS_LOGBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum px_log_sink {
    PX_LOG_ACCESS,
    PX_LOG_ERROR,
    PX_LOG_NSINKS,
};

struct px_logw_opts {
    const char *access_path; /* NULL: no access log; "-": standard output */
    const char *error_path;  /* NULL: standard error; "-": standard output */
    size_t ring_size;        /* bytes per producer thread (rounded up to a power of two) */
    uint32_t flush_ms;       /* the longest a line waits in a ring */
    uint32_t stop_ms;        /* px_logw_stop waits this long for the last writes */
};

/* Starts the writer thread with o (copied) and installs the error log
 * sink. Main thread, once, before the workers. Returns 0, or -1 (logged to
 * stderr: a log file that cannot be opened, out of memory). */
int px_logw_start(const struct px_logw_opts *o);

/* Applies new options (a reload): new paths are opened by the writer
 * between writes (the old files closed after the last buffered byte);
 * ring_size applies to rings made from now on; flush_ms at once. Returns 0,
 * or -1 when out of memory (nothing changed). */
int px_logw_configure(const struct px_logw_opts *o);

/* Asks the writer to reopen its files (SIGUSR1; any thread, async-safe:
 * one atomic store and one write(2)). */
void px_logw_reopen(void);

/* Drains every ring, closes the files, joins the writer and restores the
 * stderr sink. Main thread, after every producer has stopped. A writer
 * still blocked in write(2) after stop_ms is left behind (logged to
 * stderr): the caller is about to exit. */
void px_logw_stop(void);

/* True while the writer runs. */
bool px_logw_running(void);

/* Gives the calling thread its ring now, so its first line does not pay
 * for it (workers call it as they start). No-op when the writer is not
 * running. */
void px_logw_thread_init(void);

/* Appends line[0..len) (one whole line, with its "\n") to the calling
 * thread's ring for sink. Returns true, or false when the line was dropped:
 * no room in the ring (counted in px_logw_dropped), or no writer running,
 * or no memory for the thread's ring (not counted: nothing was buffered). */
bool px_logw_append(enum px_log_sink sink, const char *line, size_t len);

/* Lines dropped for sink since start, every thread (rings that were freed
 * included), and lines that found their file not open (it could not be
 * opened at a reopen or reload). For metrics (h2bridge_access_log_dropped_total); any thread,
 * takes the writer's registry lock (not for the request path). */
uint64_t px_logw_dropped(enum px_log_sink sink);

/* Lines written for sink since start (the same way). */
uint64_t px_logw_written(enum px_log_sink sink);

#endif
