/* proxy/obs/logbuf.c — per-thread rings and the one writer thread (see
 * logbuf.h). */
#include "proxy/obs/logbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"

#define REC_HDR  4u          /* uint32: length (24 bits) | sink << 24 */
#define REC_MAX  0xffffffu   /* the longest line a record holds */
#define OUT_SIZE (64u << 10) /* the writer's buffer per file */
#define RING_MIN 4096u

/* One producer thread's ring. head is written by the producer only, tail
 * by the writer only; each on its own cache line. */
struct ring {
    _Alignas(64) _Atomic uint64_t head;
    _Atomic uint64_t dropped[PX_LOG_NSINKS];
    _Alignas(64) _Atomic uint64_t tail;
    _Atomic bool dead; /* the thread exited: drain, then free */
    char *buf;
    uint64_t cap; /* a power of two */
    struct ring *next; /* the registry (under reg_lock) */
};

struct outfile {
    int fd;        /* -1: closed */
    bool own;      /* a file we opened (closed on reopen), not 1 or 2 */
    char *path;    /* NULL: the default (stderr for the error log, none for access) */
    char buf[OUT_SIZE];
    size_t n;
};

static struct {
    pthread_t thread;
    _Atomic bool running;
    int efd; /* eventfd: wakes the writer */
    _Atomic bool stop, reopen, reconfig;
    _Atomic uint32_t flush_ms;
    _Atomic size_t ring_size;
    _Atomic uint32_t stop_ms; /* how long px_logw_stop waits for the last writes */
    pthread_mutex_t reg_lock; /* the registry, the pending paths, the freed counters */
    struct ring *rings;
    uint64_t freed_dropped[PX_LOG_NSINKS]; /* of rings already freed */
    char *want_path[PX_LOG_NSINKS];        /* px_logw_configure → the writer */
    bool want_set;
    _Atomic uint64_t written[PX_LOG_NSINKS];
    _Atomic uint64_t lost[PX_LOG_NSINKS]; /* drained while the file was not open: dropped too */
    struct outfile out[PX_LOG_NSINKS]; /* the writer thread's only */
} W = {.efd = -1, .reg_lock = PTHREAD_MUTEX_INITIALIZER};

static pthread_key_t ring_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static _Thread_local struct ring *my_ring;
static _Thread_local bool is_writer;

/* ---- producers --------------------------------------------------------------- */

static void wake(void)
{
    uint64_t one = 1;
    ssize_t r = write(W.efd, &one, sizeof one); /* never blocks: the counter saturates late */
    (void)r;
}

/* Thread exit: the ring stays until the writer drained it. */
static void ring_release(void *p)
{
    struct ring *r = p;
    atomic_store_explicit(&r->dead, true, memory_order_release);
    if (atomic_load(&W.running))
        wake();
}

static void make_key(void)
{
    (void)pthread_key_create(&ring_key, ring_release);
}

static struct ring *ring_new(void)
{
    size_t want = atomic_load_explicit(&W.ring_size, memory_order_relaxed);
    uint64_t cap = RING_MIN;
    while (cap < want)
        cap <<= 1;
    struct ring *r = calloc(1, sizeof *r);
    char *buf = malloc(cap);
    if (!r || !buf) {
        free(r);
        free(buf);
        return NULL;
    }
    r->buf = buf;
    r->cap = cap;
    pthread_once(&key_once, make_key);
    pthread_setspecific(ring_key, r);
    pthread_mutex_lock(&W.reg_lock);
    r->next = W.rings;
    W.rings = r;
    pthread_mutex_unlock(&W.reg_lock);
    return r;
}

void px_logw_thread_init(void)
{
    if (!my_ring && !is_writer && atomic_load_explicit(&W.running, memory_order_acquire))
        my_ring = ring_new();
}

static void ring_put(struct ring *r, uint64_t at, const void *src, size_t n)
{
    size_t off = (size_t)(at & (r->cap - 1));
    size_t first = r->cap - off < n ? (size_t)(r->cap - off) : n;
    memcpy(r->buf + off, src, first);
    memcpy(r->buf, (const char *)src + first, n - first);
}

static void ring_get(const struct ring *r, uint64_t at, void *dst, size_t n)
{
    size_t off = (size_t)(at & (r->cap - 1));
    size_t first = r->cap - off < n ? (size_t)(r->cap - off) : n;
    memcpy(dst, r->buf + off, first);
    memcpy((char *)dst + first, r->buf, n - first);
}

bool px_logw_append(enum px_log_sink sink, const char *line, size_t len)
{
    struct ring *r = my_ring;
    if (!r) {
        if (is_writer || !atomic_load_explicit(&W.running, memory_order_acquire))
            return false;
        r = my_ring = ring_new();
        if (!r)
            return false;
    }
    uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    uint64_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    uint64_t used = head - tail, need = REC_HDR + len;
    if (len > REC_MAX || need > r->cap - used) {
        atomic_fetch_add_explicit(&r->dropped[sink], 1, memory_order_relaxed);
        return false;
    }
    uint32_t hdr = (uint32_t)len | (uint32_t)sink << 24;
    ring_put(r, head, &hdr, REC_HDR);
    ring_put(r, head + REC_HDR, line, len);
    atomic_store_explicit(&r->head, head + need, memory_order_release);
    uint64_t half = r->cap / 2;
    if (sink == PX_LOG_ERROR || (used < half && used + need >= half))
        wake();
    return true;
}

uint64_t px_logw_dropped(enum px_log_sink sink)
{
    pthread_mutex_lock(&W.reg_lock);
    uint64_t n = W.freed_dropped[sink] + atomic_load_explicit(&W.lost[sink], memory_order_relaxed);
    for (struct ring *r = W.rings; r; r = r->next)
        n += atomic_load_explicit(&r->dropped[sink], memory_order_relaxed);
    pthread_mutex_unlock(&W.reg_lock);
    return n;
}

uint64_t px_logw_written(enum px_log_sink sink)
{
    return atomic_load_explicit(&W.written[sink], memory_order_relaxed);
}

bool px_logw_running(void)
{
    return atomic_load_explicit(&W.running, memory_order_acquire);
}

/* ---- the error log sink (core/log.h) -------------------------------------- */

static void error_sink(void *ud, enum hb_log_level level, const char *msg, int len)
{
    (void)ud;
    char line[HB_LOG_LINE_MAX];
    size_t n = hb_log_format_line(line, sizeof line, level, msg, len);
    /* The writer never feeds the rings it drains; a full ring must not lose
     * an error silently: both go to stderr directly. */
    if (is_writer || !px_logw_append(PX_LOG_ERROR, line, n))
        hb_log_write_stderr(line, n);
}

/* ---- the writer --------------------------------------------------------------- */

static void out_flush(struct outfile *o)
{
    size_t off = 0;
    while (off < o->n && o->fd >= 0) {
        ssize_t w = write(o->fd, o->buf + off, o->n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            hb_error("log writer: write to %s failed: %s; %zu bytes lost",
                     o->path ? o->path : "(standard stream)", w < 0 ? strerror(errno) : "0 bytes",
                     o->n - off);
            break;
        }
        off += (size_t)w;
    }
    o->n = 0;
}

static void out_close(struct outfile *o)
{
    out_flush(o);
    if (o->own && o->fd >= 0)
        close(o->fd);
    o->fd = -1;
    o->own = false;
}

/* Opens o at its path (or the default stream). Returns 0 or -1 (logged;
 * the file stays closed: its lines are dropped until the next reopen). */
static int out_open(struct outfile *o, int dflt)
{
    if (!o->path || strcmp(o->path, "-") == 0) {
        o->fd = o->path ? STDOUT_FILENO : dflt;
        o->own = false;
        return 0;
    }
    /* O_NONBLOCK: a FIFO without a reader fails (ENXIO) instead of
     * hanging the writer (or the main thread at start); writes block
     * again after (they happen on the writer thread only). */
    int fd = open(o->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0640);
    if (fd < 0) {
        hb_error("log writer: cannot open %s: %s", o->path, strerror(errno));
        o->fd = -1;
        return -1;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        (void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    o->fd = fd;
    o->own = true;
    return 0;
}

static int dflt_fd(int sink)
{
    return sink == PX_LOG_ERROR ? STDERR_FILENO : -1;
}

/* New paths from px_logw_configure, or the same ones again on SIGUSR1. */
static void reopen_all(bool new_paths)
{
    char *paths[PX_LOG_NSINKS] = {0};
    if (new_paths) {
        pthread_mutex_lock(&W.reg_lock);
        for (int s = 0; s < PX_LOG_NSINKS; s++) {
            paths[s] = W.want_path[s];
            W.want_path[s] = NULL;
        }
        W.want_set = false;
        pthread_mutex_unlock(&W.reg_lock);
    }
    for (int s = 0; s < PX_LOG_NSINKS; s++) {
        struct outfile *o = &W.out[s];
        if (new_paths) {
            /* No access log in the new configuration: the finishing
             * generation's last lines still go to the old file, until the
             * next reopen. */
            if (s == PX_LOG_ACCESS && !paths[s]) {
                continue;
            }
            out_close(o);
            free(o->path);
            o->path = paths[s];
        } else {
            out_close(o);
        }
        out_open(o, dflt_fd(s));
    }
}

/* Drains one ring. Returns true when it held records. */
static bool drain(struct ring *r)
{
    uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    uint64_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    if (tail == head)
        return false;
    while (tail != head) {
        uint32_t hdr;
        ring_get(r, tail, &hdr, REC_HDR);
        size_t len = hdr & REC_MAX;
        int s = (int)(hdr >> 24);
        struct outfile *o = &W.out[s < PX_LOG_NSINKS ? s : PX_LOG_ERROR];
        if (o->n + len > OUT_SIZE)
            out_flush(o);
        if (len > OUT_SIZE) { /* longer than the buffer: straight through it in pieces */
            for (size_t off = 0; off < len; off += OUT_SIZE) {
                size_t k = len - off < OUT_SIZE ? len - off : OUT_SIZE;
                ring_get(r, tail + REC_HDR + off, o->buf, k);
                o->n = k;
                out_flush(o);
            }
        } else {
            ring_get(r, tail + REC_HDR, o->buf + o->n, len);
            o->n += len;
        }
        atomic_fetch_add_explicit(o->fd >= 0 ? &W.written[s] : &W.lost[s], 1,
                                  memory_order_relaxed);
        tail += REC_HDR + len;
        /* Room back for the producer as soon as the bytes are copied. */
        atomic_store_explicit(&r->tail, tail, memory_order_release);
    }
    return true;
}

/* One pass over every ring; frees the dead ones it emptied. */
static void drain_all(void)
{
    pthread_mutex_lock(&W.reg_lock);
    struct ring *list = W.rings;
    pthread_mutex_unlock(&W.reg_lock);
    /* New rings are pushed at the head, so the list from `list` on is
     * stable while the lock is not held; only this thread unlinks. */
    for (struct ring *r = list, *next; r; r = next) {
        next = r->next;
        bool dead = atomic_load_explicit(&r->dead, memory_order_acquire);
        drain(r);
        if (!dead)
            continue;
        pthread_mutex_lock(&W.reg_lock);
        for (struct ring **pp = &W.rings; *pp; pp = &(*pp)->next)
            if (*pp == r) {
                *pp = r->next;
                break;
            }
        for (int s = 0; s < PX_LOG_NSINKS; s++)
            W.freed_dropped[s] += atomic_load(&r->dropped[s]);
        pthread_mutex_unlock(&W.reg_lock);
        free(r->buf);
        free(r);
    }
    for (int s = 0; s < PX_LOG_NSINKS; s++)
        out_flush(&W.out[s]);
}

/* Drops are reported to the error log (and counted for metrics): at most
 * one line every DROP_REPORT_S, and one at the end. */
#define DROP_REPORT_S 10
static uint64_t drops_reported[PX_LOG_NSINKS];

static void report_drops(bool final)
{
    static time_t last;
    time_t now = time(NULL);
    if (!final && now - last < DROP_REPORT_S)
        return;
    for (int s = 0; s < PX_LOG_NSINKS; s++) {
        uint64_t d = px_logw_dropped((enum px_log_sink)s);
        if (d == drops_reported[s])
            continue;
        hb_warn("log writer: %llu %s lines dropped (rings full: the log file is slower than "
                "the requests; logging.access_log_buffer)",
                (unsigned long long)(d - drops_reported[s]),
                s == PX_LOG_ACCESS ? "access log" : "error log");
        drops_reported[s] = d;
        last = now;
    }
}

static void *writer(void *arg)
{
    (void)arg;
    is_writer = true;
    for (;;) {
        struct pollfd p = {.fd = W.efd, .events = POLLIN};
        int ms = (int)atomic_load_explicit(&W.flush_ms, memory_order_relaxed);
        if (poll(&p, 1, ms) > 0) {
            uint64_t v;
            ssize_t r = read(W.efd, &v, sizeof v);
            (void)r;
        }
        bool stop = atomic_load(&W.stop);
        /* Everything buffered before the request goes to the old file. */
        drain_all();
        if (atomic_exchange(&W.reconfig, false))
            reopen_all(true);
        if (atomic_exchange(&W.reopen, false))
            reopen_all(false);
        if (stop) {
            drain_all(); /* producers stopped before stop was set */
            report_drops(true);
            hb_info("log writer: stopped; access log lines written %llu, dropped %llu",
                    (unsigned long long)px_logw_written(PX_LOG_ACCESS),
                    (unsigned long long)px_logw_dropped(PX_LOG_ACCESS));
            break;
        }
        report_drops(false);
    }
    return NULL;
}

static char *dup_or_null(const char *s, bool *oom)
{
    char *d = s ? strdup(s) : NULL;
    if (s && !d)
        *oom = true;
    return d;
}

int px_logw_start(const struct px_logw_opts *o)
{
    W.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (W.efd < 0) {
        hb_error("log writer: eventfd: %s", strerror(errno));
        return -1;
    }
    atomic_store(&W.flush_ms, o->flush_ms ? o->flush_ms : 1);
    atomic_store(&W.ring_size, o->ring_size);
    atomic_store(&W.stop_ms, o->stop_ms);
    bool oom = false;
    W.out[PX_LOG_ACCESS].path = dup_or_null(o->access_path, &oom);
    W.out[PX_LOG_ERROR].path = dup_or_null(o->error_path, &oom);
    int rc = oom ? -1 : 0;
    for (int s = 0; rc == 0 && s < PX_LOG_NSINKS; s++) {
        W.out[s].fd = -1;
        if ((s == PX_LOG_ERROR || W.out[s].path) && out_open(&W.out[s], dflt_fd(s)) != 0)
            rc = -1;
    }
    atomic_store(&W.running, true);
    if (rc == 0 && pthread_create(&W.thread, NULL, writer, NULL) != 0) {
        hb_error("log writer: the thread did not start");
        rc = -1;
    }
    if (rc != 0) {
        atomic_store(&W.running, false);
        for (int s = 0; s < PX_LOG_NSINKS; s++) {
            out_close(&W.out[s]);
            free(W.out[s].path);
            W.out[s].path = NULL;
        }
        close(W.efd);
        W.efd = -1;
        return -1;
    }
    hb_log_set_sink(error_sink, NULL);
    return 0;
}

int px_logw_configure(const struct px_logw_opts *o)
{
    bool oom = false;
    char *a = dup_or_null(o->access_path, &oom), *e = dup_or_null(o->error_path, &oom);
    if (oom) {
        free(a);
        free(e);
        return -1;
    }
    atomic_store(&W.flush_ms, o->flush_ms ? o->flush_ms : 1);
    atomic_store(&W.ring_size, o->ring_size);
    atomic_store(&W.stop_ms, o->stop_ms);
    pthread_mutex_lock(&W.reg_lock);
    free(W.want_path[PX_LOG_ACCESS]);
    free(W.want_path[PX_LOG_ERROR]);
    W.want_path[PX_LOG_ACCESS] = a;
    W.want_path[PX_LOG_ERROR] = e;
    W.want_set = true;
    pthread_mutex_unlock(&W.reg_lock);
    atomic_store(&W.reconfig, true);
    wake();
    return 0;
}

void px_logw_reopen(void)
{
    if (!atomic_load(&W.running))
        return;
    atomic_store(&W.reopen, true);
    wake();
}

void px_logw_stop(void)
{
    if (!atomic_load(&W.running))
        return;
    /* From here new error lines go to stderr directly; what is in the rings
     * is written by the last pass. */
    hb_log_set_sink(NULL, NULL);
    atomic_store(&W.stop, true);
    wake();
    /* A log that does not take bytes (a hung disk, a FIFO nobody reads)
     * must not hold the exit for ever: past the bound, the process exits
     * without the lines still held. */
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    uint32_t ms = atomic_load(&W.stop_ms);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    if (pthread_timedjoin_np(W.thread, NULL, &until) != 0) {
        hb_error("log writer: still writing after %u ms (limits.shutdown_timeout): exiting "
                 "without the lines it holds",
                 (unsigned)ms);
        return; /* the writer keeps its state; the process is about to exit */
    }
    atomic_store(&W.running, false);
    for (int s = 0; s < PX_LOG_NSINKS; s++) {
        out_close(&W.out[s]);
        free(W.out[s].path);
        W.out[s].path = NULL;
        free(W.want_path[s]);
        W.want_path[s] = NULL;
    }
    /* The rings of threads still alive (main's own) are freed here; their
     * threads do not log into them again (my_ring is cleared for this one,
     * and no other producer runs now). */
    pthread_mutex_lock(&W.reg_lock);
    for (struct ring *r = W.rings, *next; r; r = next) {
        next = r->next;
        for (int s = 0; s < PX_LOG_NSINKS; s++)
            W.freed_dropped[s] += atomic_load(&r->dropped[s]);
        free(r->buf);
        free(r);
    }
    W.rings = NULL;
    pthread_mutex_unlock(&W.reg_lock);
    if (my_ring) {
        pthread_setspecific(ring_key, NULL);
        my_ring = NULL;
    }
    close(W.efd);
    W.efd = -1;
    atomic_store(&W.stop, false);
}
