/* proxy/shutdown.c — graceful shutdown of one worker (see shutdown.h). */
#include "proxy/shutdown.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include <event2/event.h>

#include "core/log.h"
#include "core/time.h"
#include "proxy/front/conn.h"
#include "proxy/listener.h"
#include "proxy/obs/logbuf.h"
#include "proxy/worker.h"

#define CHECK_MS 20 /* how often a draining worker looks at its connections */

struct px_drain {
    atomic_bool done;
    bool begun; /* listeners closed, check timer running (worker thread) */
    struct event *check;
};

static int request(struct px_worker *w, const char *what)
{
    if (!w->drain) {
        w->drain = calloc(1, sizeof *w->drain);
        if (!w->drain)
            return -1;
        atomic_init(&w->drain->done, false);
    }
    /* The pipe write orders the allocation before the worker's read. */
    ssize_t r = write(w->wake[1], what, 1);
    return r == 1 ? 0 : -1;
}

int px_shutdown_request(struct px_worker *w)
{
    return request(w, "d");
}

int px_shutdown_retire(struct px_worker *w)
{
    return request(w, "r");
}

bool px_shutdown_drained(const struct px_worker *w)
{
    return w->drain && atomic_load(&w->drain->done);
}

static void on_check(evutil_socket_t fd, short what, void *arg)
{
    struct px_worker *w = arg;
    if (w->nconns == 0) {
        atomic_store(&w->drain->done, true);
        if (w->drain->check)
            event_del(w->drain->check);
    }
}

void px_shutdown_begin(struct px_worker *w, bool conns)
{
    if (!w->drain)
        return;
    if (!w->drain->begun) {
        w->drain->begun = true;
        for (size_t i = 0; i < w->nlisteners; i++)
            px_listener_free(&w->listeners[i]);
        w->drain->check = event_new(w->base, -1, EV_PERSIST, on_check, w);
        struct timeval tv = {.tv_sec = 0, .tv_usec = CHECK_MS * 1000};
        if (w->drain->check)
            event_add(w->drain->check, &tv);
    }
    if (conns) {
        struct hb_list *it, *tmp;
        hb_list_foreach_safe(it, tmp, &w->conns)
        {
            /* GOAWAY, Connection: close, or closed now */
            px_fconn_drain(hb_container_of(it, struct px_fconn, link));
        }
    }
    hb_debug("worker %d: %s, %u connections", w->id, conns ? "draining" : "retired", w->nconns);
    on_check(-1, 0, w);
}

void px_shutdown_free(struct px_worker *w)
{
    if (!w->drain)
        return;
    if (w->drain->check)
        event_free(w->drain->check);
    free(w->drain);
    w->drain = NULL;
}

void px_shutdown_run(struct px_worker *w, uint32_t n, const sigset_t *set, uint32_t timeout_ms)
{
    for (uint32_t i = 0; i < n; i++)
        if (px_shutdown_request(&w[i]) != 0)
            return; /* stopped at once by the caller */
    hb_ns_t deadline = hb_time_now_ns() + hb_time_ms(timeout_ms);
    for (;;) {
        uint32_t left = 0;
        for (uint32_t i = 0; i < n; i++)
            left += !px_shutdown_drained(&w[i]);
        if (left == 0) {
            hb_info("every connection finished: exiting");
            return;
        }
        hb_ns_t now = hb_time_now_ns();
        if (now >= deadline) {
            hb_warn("limits.shutdown_timeout_ms (%u ms) passed with %u workers still busy: "
                    "closing their connections",
                    timeout_ms, left);
            return;
        }
        struct timespec ts = {.tv_sec = 0, .tv_nsec = CHECK_MS * 1000000L};
        int sig = sigtimedwait(set, NULL, &ts);
        if (sig == SIGUSR1)
            px_logw_reopen(); /* logrotate during a shutdown */
        if (sig == SIGTERM || sig == SIGINT) {
            hb_warn("second signal %d during the graceful shutdown: exiting now", sig);
            _exit(1);
        }
    }
}
