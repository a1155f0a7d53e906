#include "core/log.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"

#define LOG_MAX 2048

static _Atomic int current_level = HB_LOG_INFO;
static _Atomic(hb_log_sink_fn) sink_fn;
static void *_Atomic sink_ud;
static _Atomic unsigned rate_per_sec;

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
    atomic_store_explicit(&sink_ud, ud, memory_order_release);
    atomic_store_explicit(&sink_fn, fn, memory_order_release);
}

void hb_log_set_rate(unsigned per_sec)
{
    atomic_store_explicit(&rate_per_sec, per_sec, memory_order_relaxed);
}

int hb_log_format_line(char *buf, int size, enum hb_log_level level, const char *msg, int len)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(buf, (size_t)size, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s %.*s\n",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000, hb_log_level_name(level), len, msg);
    if (n > size - 1) { /* cut: still one line */
        n = size - 1;
        buf[n - 1] = '\n';
    }
    return n;
}

void hb_log_write_stderr(const char *buf, int len)
{
    /* One write per line keeps lines whole across threads. */
    ssize_t rc = write(STDERR_FILENO, buf, (size_t)len);
    (void)rc;
}

static void emit(enum hb_log_level level, const char *msg, int n)
{
    hb_log_sink_fn fn = atomic_load_explicit(&sink_fn, memory_order_acquire);
    if (fn) {
        fn(atomic_load_explicit(&sink_ud, memory_order_acquire), level, msg, n);
        return;
    }
    char line[HB_LOG_LINE_MAX];
    hb_log_write_stderr(line, hb_log_format_line(line, sizeof line, level, msg, n));
}

/* The rate limit: one slot per call site (keyed by the format pointer) in a
 * small per-thread table searched in full. It was direct-mapped once, and
 * two sites that alternate (a backend's "connect failed" and the stream's
 * "→ 502") could share a slot in one build and not in another, each handing
 * the slot to the other, so neither was ever limited. A scan of 64 pointers
 * costs less than the vsnprintf of the line it guards; when the table is
 * full, the slot used least recently is handed over (its count written
 * first). */
#define RL_SLOTS 64
struct rl_slot {
    const char *fmt;
    enum hb_log_level level;
    struct timespec start; /* the window's start (CLOCK_MONOTONIC_COARSE) */
    unsigned long used;    /* this thread's line counter at the last use: LRU */
    unsigned count, suppressed;
};
static _Thread_local struct rl_slot rl_table[RL_SLOTS];
static _Thread_local unsigned long rl_clock;

static void rl_report(struct rl_slot *s)
{
    if (!s->suppressed)
        return;
    char msg[LOG_MAX];
    int n = snprintf(msg, sizeof msg, "%u similar lines suppressed (logging.error_log_rate): %s",
                     s->suppressed, s->fmt);
    if (n >= (int)sizeof msg)
        n = (int)sizeof msg - 1;
    for (int i = 0; i < n; i++)
        if (msg[i] == '\n' || msg[i] == '\r')
            msg[i] = ' ';
    s->suppressed = 0;
    emit(s->level, msg, n);
}

static struct rl_slot *rl_find(const char *fmt)
{
    struct rl_slot *victim = &rl_table[0];
    for (int i = 0; i < RL_SLOTS; i++) {
        struct rl_slot *s = &rl_table[i];
        if (s->fmt == fmt)
            return s;
        if (s->used < victim->used)
            victim = s; /* an empty slot has used == 0: taken first */
    }
    return victim;
}

/* True when this line may be written. */
static bool rl_admit(enum hb_log_level level, const char *fmt, unsigned rate)
{
    struct rl_slot *s = rl_find(fmt);
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
    if (s->fmt != fmt) {
        rl_report(s);
        *s = (struct rl_slot){fmt, level, now, 0, 0, 0};
    } else if (now.tv_sec - s->start.tv_sec > 1 ||
               (now.tv_sec - s->start.tv_sec == 1 && now.tv_nsec >= s->start.tv_nsec)) {
        rl_report(s);
        s->start = now;
        s->count = 0;
    }
    s->used = ++rl_clock;
    if (s->count >= rate) {
        s->suppressed++;
        return false;
    }
    s->count++;
    return true;
}

void hb_logv(enum hb_log_level level, const char *fmt, va_list ap)
{
    if (level < hb_log_get_level() || level >= HB_LOG_OFF)
        return;
    unsigned rate = atomic_load_explicit(&rate_per_sec, memory_order_relaxed);
    if (rate && !rl_admit(level, fmt, rate))
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
    emit(level, msg, n);
}

void hb_log(enum hb_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    hb_logv(level, fmt, ap);
    va_end(ap);
}
