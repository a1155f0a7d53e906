#include "core/log.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"

#define LOG_MAX 2048

static _Atomic int current_level = HB_LOG_INFO;
static hb_log_sink_fn sink_fn;
static void *sink_ud;

static const char *const level_names[] = {"DEBUG", "INFO", "WARN", "ERROR", "OFF"};

const char *hb_log_level_name(enum hb_log_level level)
{
    if ((unsigned)level > HB_LOG_OFF)
        return "UNKNOWN";
    return level_names[level];
}

int hb_log_level_parse(const char *s, enum hb_log_level *out)
{
    for (int i = 0; i <= HB_LOG_OFF; i++) {
        if (strcasecmp(s, level_names[i]) == 0) {
            *out = (enum hb_log_level)i;
            return 0;
        }
    }
    if (strcasecmp(s, "warning") == 0) {
        *out = HB_LOG_WARN;
        return 0;
    }
    return HB_EINVAL;
}

void hb_log_set_level(enum hb_log_level level)
{
    atomic_store_explicit(&current_level, (int)level, memory_order_relaxed);
}

enum hb_log_level hb_log_get_level(void)
{
    return (enum hb_log_level)atomic_load_explicit(&current_level, memory_order_relaxed);
}

void hb_log_set_sink(hb_log_sink_fn fn, void *ud)
{
    sink_fn = fn;
    sink_ud = ud;
}

static void stderr_sink(enum hb_log_level level, const char *msg, int len)
{
    char line[LOG_MAX + 64];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s %.*s\n",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000, hb_log_level_name(level), len, msg);
    if (n > (int)sizeof line - 1)
        n = (int)sizeof line - 1;
    /* One write per line keeps lines whole across threads. */
    ssize_t rc = write(STDERR_FILENO, line, (size_t)n);
    (void)rc;
}

void hb_logv(enum hb_log_level level, const char *fmt, va_list ap)
{
    if (level < hb_log_get_level() || level >= HB_LOG_OFF)
        return;
    char msg[LOG_MAX];
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    if (n < 0)
        return;
    if (n >= (int)sizeof msg) {
        memcpy(msg + sizeof msg - 4, "...", 4);
        n = (int)sizeof msg - 1;
    }
    /* A log line is one line: never let a peer's bytes break it. */
    for (int i = 0; i < n; i++)
        if (msg[i] == '\n' || msg[i] == '\r')
            msg[i] = ' ';
    if (sink_fn)
        sink_fn(sink_ud, level, msg, n);
    else
        stderr_sink(level, msg, n);
}

void hb_log(enum hb_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    hb_logv(level, fmt, ap);
    va_end(ap);
}
