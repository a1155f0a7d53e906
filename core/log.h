/* core/log.h — logging interface: levels, printf-style, pluggable sink.
 *
 * One call is one line (one event): the sink receives the formatted message
 * without a trailing newline (a '\n' or '\r' inside it becomes a space). The default sink writes
 * "2026-11-23T10:00:00.123Z LEVEL message\n" to stderr with one write(2), so
 * lines from several threads never interleave.
 */
#ifndef H2B_CORE_LOG_H
#define H2B_CORE_LOG_H

#include <stdarg.h>

enum hb_log_level {
    HB_LOG_DEBUG,
    HB_LOG_INFO,
    HB_LOG_WARN,
    HB_LOG_ERROR,
    HB_LOG_OFF,
};

/* A sink gets the level and a NUL-terminated message (no newline). It may be
 * called from any thread; it must not call hb_log(). */
typedef void (*hb_log_sink_fn)(void *ud, enum hb_log_level level, const char *msg, int len);

/* "DEBUG", "INFO", "WARN", "ERROR", "OFF"; "UNKNOWN" otherwise. */
const char *hb_log_level_name(enum hb_log_level level);

/* Parses "debug|info|warn|error|off" (case-insensitive). Returns 0 and sets
 * *out, or HB_EINVAL. */
int hb_log_level_parse(const char *s, enum hb_log_level *out);

/* Messages below level are dropped before formatting. Default: INFO. */
void hb_log_set_level(enum hb_log_level level);
enum hb_log_level hb_log_get_level(void);

/* Replaces the sink (NULL restores the stderr sink). ud must stay valid
 * while any thread may still be inside the old sink: replace it while no
 * other thread logs, or keep ud static (the proxy's writer does). */
void hb_log_set_sink(hb_log_sink_fn fn, void *ud);

/* Rate limit per call site (the format string is the key) and per thread:
 * at most per_sec lines a second from one hb_log() call; the rest are
 * counted, and the next line from that call site after its one-second
 * window (or the call site that takes its slot in the thread's table) is
 * preceded by one line "N similar lines suppressed: <format>". 0 = no
 * limit. Default: 0. Any thread. */
void hb_log_set_rate(unsigned per_sec);

/* The longest line hb_log_format_line() writes (timestamp, level, message,
 * newline). */
#define HB_LOG_LINE_MAX (2048 + 64)

/* Formats "2026-11-23T10:00:00.123Z LEVEL message\n" (UTC, now) into
 * buf[0..size) (size >= 64) and returns its length: what the stderr sink
 * writes, for sinks that write lines elsewhere. */
int hb_log_format_line(char *buf, int size, enum hb_log_level level, const char *msg, int len);

/* Writes buf[0..len) to standard error with one write(2). */
void hb_log_write_stderr(const char *buf, int len);

/* Logs one line. Messages longer than 2 KiB are truncated with "...". */
void hb_log(enum hb_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void hb_logv(enum hb_log_level level, const char *fmt, va_list ap);

#define HB_LOG_ENABLED(lvl) ((lvl) >= hb_log_get_level())
#define hb_debug(...)                                                                              \
    do {                                                                                           \
        if (HB_LOG_ENABLED(HB_LOG_DEBUG))                                                          \
            hb_log(HB_LOG_DEBUG, __VA_ARGS__);                                                     \
    } while (0)
#define hb_info(...) hb_log(HB_LOG_INFO, __VA_ARGS__)
#define hb_warn(...) hb_log(HB_LOG_WARN, __VA_ARGS__)
#define hb_error(...) hb_log(HB_LOG_ERROR, __VA_ARGS__)

#endif
