/* proxy/reload.c — configuration generations and SIGHUP (see reload.h). */
#include "proxy/reload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/time.h"
#include "proxy/admin/admin.h"
#include "proxy/backend/health_check.h"
#include "proxy/obs/alog.h"
#include "proxy/obs/logbuf.h"
#include "proxy/obs/stats.h"
#include "proxy/admin/admin.h"
#include "proxy/notify.h"
#include "proxy/upgrade.h"
#include "proxy/runtime.h"
#include "proxy/shutdown.h"
#include "proxy/tls/tls.h"
#include "proxy/worker.h"

#define TICK_MS 100 /* housekeeping of retired generations */

struct px_gen {
    struct cfg *cfg;
    struct px_tls **tls;
    size_t ntls;
    struct px_worker *w;
    uint32_t n;
    unsigned number;    /* 1, 2, ... for the logs */
    hb_ns_t retired_at; /* 0 while running */
    bool draining;      /* drain requested (after shutdown_timeout_ms) */
    struct px_gen *next; /* retired list */
};

static px_cfg_builder builder;
static void *builder_ud;
static struct px_gen *retired;      /* main thread only */
static unsigned generations = 1;

void px_reload_set_builder(px_cfg_builder fn, void *ud)
{
    builder = fn;
    builder_ud = ud;
}

struct px_gen *px_gen_new(struct cfg *cfg, struct px_tls **tls, struct px_worker *w, uint32_t n)
{
    struct px_gen *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->cfg = cfg_ref(cfg);
    g->tls = tls;
    g->ntls = cfg->n_listeners;
    g->w = w;
    g->n = n;
    g->number = generations;
    return g;
}

static void gen_free(struct px_gen *g)
{
    px_workers_del(g->w, g->n);
    for (size_t i = 0; i < g->ntls; i++)
        px_tls_del(g->tls[i]);
    free(g->tls);
    cfg_unref(g->cfg);
    free(g);
}

static void log_errors(const struct cfg_errors *errs)
{
    char line[1024];
    for (size_t i = 0; i < errs->n; i++)
        hb_error("reload: %s", cfg_error_format(&errs->v[i], line, sizeof line));
    if (errs->n_dropped)
        hb_error("reload: ... and %zu more errors", errs->n_dropped);
}

/* Starts the workers of a new generation, inheriting old's listening
 * sockets. Returns it, or NULL (logged). */
static struct px_gen *start_gen(struct px_gen *old, struct cfg *cfg, struct px_tls **tls)
{
    uint32_t n = 0;
    struct px_worker *w = px_workers_start(cfg, tls, old->w, old->n, &n);
    struct px_gen *g = w ? px_gen_new(cfg, tls, w, n) : NULL;
    if (!g) {
        hb_error("reload: the new workers did not start (see above); keeping the running "
                 "configuration");
        if (w)
            px_workers_del(w, n);
    }
    return g;
}

/* SIGHUP. Returns the generation to run from now on (cur when the new
 * configuration was refused). */
static struct px_gen *reload(struct px_gen *cur)
{
    if (!builder) {
        hb_warn("reload: no configuration builder, SIGHUP ignored");
        return cur;
    }
    struct cfg_errors errs;
    cfg_errors_init(&errs);
    struct cfg *cfg = builder(builder_ud, &errs);
    if (cfg && px_alog_check(cfg, &errs) != 0) {
        cfg_unref(cfg);
        cfg = NULL;
    }
    struct px_tls **tls = cfg ? calloc(cfg->n_listeners ? cfg->n_listeners : 1, sizeof *tls) : NULL;
    if (cfg && (!tls || px_runtime_load_tls(cfg, &errs, tls) != 0)) {
        for (size_t i = 0; tls && i < cfg->n_listeners; i++)
            px_tls_del(tls[i]);
        free(tls);
        tls = NULL;
    }
    struct px_gen *g = NULL;
    if (tls) {
        g = start_gen(cur, cfg, tls);
        if (!g) {
            for (size_t i = 0; i < cfg->n_listeners; i++)
                px_tls_del(tls[i]);
            free(tls);
        }
    }
    if (!g) {
        log_errors(&errs);
        hb_error("reload: configuration refused, generation %u keeps running", cur->number);
        px_obs_reload(false);
    }
    cfg_errors_free(&errs);
    cfg_unref(cfg); /* the generation holds its own reference */
    if (!g)
        return cur;
    g->number = ++generations;
    hb_log_set_level(cfg->logging.level);
    hb_log_set_rate(cfg->logging.error_log_rate);
    /* The writer opens the new paths between two writes; the old
     * generation's last lines go to the new files (docs/observability.md). */
    struct px_logw_opts lo;
    px_alog_writer_opts(cfg, &lo);
    if (px_logw_configure(&lo) != 0)
        hb_error("reload: out of memory: the log files stay as they were");
    px_admin_reloaded(cur->cfg, cfg);
    px_obs_set_config(cfg, g->number);
    px_health_reload();
    px_obs_reload(true);
    for (uint32_t i = 0; i < cur->n; i++)
        px_shutdown_retire(&cur->w[i]);
    cur->retired_at = hb_time_now_ns();
    cur->next = retired;
    retired = cur;
    hb_info("reload: generation %u serves new connections; generation %u finishes its own",
            g->number, cur->number);
    return g;
}

static bool gen_drained(const struct px_gen *g)
{
    for (uint32_t i = 0; i < g->n; i++)
        if (!px_shutdown_drained(&g->w[i]))
            return false;
    return true;
}

/* Frees retired generations that emptied; drains or closes the ones past
 * their time. */
static void housekeeping(hb_ns_t now)
{
    for (struct px_gen **pp = &retired; *pp;) {
        struct px_gen *g = *pp;
        hb_ns_t grace = hb_time_ms(g->cfg->limits.shutdown_timeout_ms);
        bool forced = now >= g->retired_at + 2 * grace;
        if (gen_drained(g) || forced) {
            hb_info("reload: generation %u %s", g->number,
                    forced ? "still busy after twice shutdown_timeout: closed" : "finished");
            *pp = g->next;
            gen_free(g);
            continue;
        }
        if (!g->draining && now >= g->retired_at + grace) {
            g->draining = true;
            for (uint32_t i = 0; i < g->n; i++)
                px_shutdown_request(&g->w[i]);
        }
        pp = &g->next;
    }
}

int px_reload_wait(struct px_gen **cur, const sigset_t *set)
{
    for (;;) {
        struct timespec ts = {.tv_sec = 0, .tv_nsec = TICK_MS * 1000000L};
        int sig = sigtimedwait(set, NULL, &ts);
        if (sig == SIGHUP) {
            hb_info("SIGHUP: reloading the configuration");
            px_notify_reloading();
            *cur = reload(*cur);
            px_notify("READY=1"); /* the new generation, or the old one kept */
        } else if (sig == SIGUSR2) {
            hb_info("SIGUSR2: upgrading to the binary at /proc/self/exe");
            if (px_upgrade_spawn((*cur)->w, (*cur)->n, px_admin_fd()) == 0)
                return SIGTERM; /* the new process serves: drain and exit */
        } else if (sig == SIGUSR1) {
            hb_info("SIGUSR1: reopening the log files");
            px_logw_reopen();
        } else if (sig == SIGINT || sig == SIGTERM) {
            return sig;
        }
        housekeeping(hb_time_now_ns());
    }
}

void px_reload_shutdown(struct px_gen *cur, const sigset_t *set)
{
    cur->next = retired;
    retired = NULL;
    for (struct px_gen *g = cur; g; g = g->next)
        for (uint32_t i = 0; i < g->n; i++)
            px_shutdown_request(&g->w[i]);
    uint32_t ms = cur->cfg->limits.shutdown_timeout_ms;
    hb_ns_t deadline = hb_time_now_ns() + hb_time_ms(ms);
    for (;;) {
        bool all = true;
        for (struct px_gen *g = cur; g; g = g->next)
            all = all && gen_drained(g);
        if (all) {
            hb_info("every connection finished: exiting");
            break;
        }
        if (hb_time_now_ns() >= deadline) {
            hb_warn("limits.shutdown_timeout_ms (%u ms) passed: closing the remaining "
                    "connections", ms);
            break;
        }
        struct timespec ts = {.tv_sec = 0, .tv_nsec = 20 * 1000000L};
        int sig = sigtimedwait(set, NULL, &ts);
        if (sig == SIGTERM || sig == SIGINT) {
            hb_warn("second signal %d during the graceful shutdown: exiting now", sig);
            _exit(1);
        }
        if (sig == SIGUSR1)
            px_logw_reopen();
    }
    while (cur) {
        struct px_gen *next = cur->next;
        gen_free(cur);
        cur = next;
    }
}
