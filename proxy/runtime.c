/* proxy/runtime.c — TLS contexts, workers, signals. */
#include "proxy/runtime.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/log.h"
#include "proxy/admin/admin.h"
#include "proxy/backend/health_check.h"
#include "proxy/backend/resolver.h"
#include "proxy/clients.h"
#include "proxy/notify.h"
#include "proxy/upgrade.h"
#include "proxy/privdrop.h"
#include "proxy/obs/alog.h"
#include "proxy/obs/logbuf.h"
#include "proxy/obs/stats.h"
#include "proxy/reload.h"
#include "proxy/shutdown.h"
#include "proxy/tls/tls.h"
#include "proxy/backend/btls.h"
#include "proxy/worker.h"

/* Builds one listener's TLS context. Returns NULL with errors recorded.
 * check: only checking (h2bridge -t), so nothing is fetched from memcached. */
static struct px_tls *listener_tls(const struct cfg_listener *l, struct cfg_errors *errs,
                                   bool check)
{
    const struct cfg_tls *t = &l->tls_cfg;
    struct px_tls_cert_spec *specs = calloc(t->n_certs, sizeof *specs);
    const char ***names = calloc(t->n_certs, sizeof *names);
    struct px_tls *tls = NULL;
    bool ok = specs && names;
    bool ciphers_ok = true;
    char cerr[512];
    if (t->ciphers.s && px_tls_check_ciphers(t->ciphers.s, cerr, sizeof cerr) != 0) {
        cfg_errors_add(errs, &t->ciphers.mark,
                       "expected a TLS 1.2 cipher list in BoringSSL syntax that selects at least "
                       "one suite (like \"ECDHE+AESGCM\"), found \"%s\" (%s)",
                       t->ciphers.s, cerr);
        ciphers_ok = false; /* the certificates are still checked below */
    }
    for (size_t i = 0; ok && i < t->n_certs; i++) {
        const struct cfg_cert *c = &t->certs[i];
        char err[512];
        if (px_tls_check_pair(c->cert.s, c->key.s, err, sizeof err) != 0) {
            /* The reason names the file that is wrong: mark that one. */
            bool key_bad = strncmp(err, c->key.s, strlen(c->key.s)) == 0;
            cfg_errors_add(errs, key_bad ? &c->key.mark : &c->cert.mark,
                           "expected a PEM %s, found: %s",
                           key_bad ? "private key matching its certificate" : "certificate chain",
                           err);
            ok = false;
            continue;
        }
        names[i] = calloc(c->n_server_names + 1, sizeof **names);
        ok = names[i] != NULL;
        for (size_t j = 0; ok && j < c->n_server_names; j++)
            names[i][j] = c->server_names[j].s;
        specs[i] = (struct px_tls_cert_spec){c->cert.s, c->key.s, names[i], c->n_server_names,
                                             c->ocsp_file.s};
    }
    if (ok && ciphers_ok) {
        struct px_tls_opts o;
        px_tls_opts_default(&o);
        o.min_version = t->min_version;
        o.alpn_h2 = (l->protocols & CFG_PROTO_H2) != 0;
        o.alpn_http1 = (l->protocols & CFG_PROTO_HTTP11) != 0;
        o.ciphers = t->ciphers.s;
        o.ticket_key_file = t->ticket_key_file.s;
        o.ticket_rotate_sec = t->ticket_rotation_ms / 1000;
        if (t->ticket_mc.address.s && !check)
            o.ticket_mc = (struct px_ticket_mc_opts){t->ticket_mc.address.s, t->ticket_mc.port,
                                                     t->ticket_mc.key.s, t->ticket_mc.interval_ms,
                                                     t->ticket_mc.timeout_ms};
        o.ticket_lifetime_sec = t->ticket_mc.lifetime_ms / 1000;
        o.client_auth = (int)t->client_auth;
        o.client_ca = t->client_ca.s;
        o.client_crl = t->client_crl.s;
        o.verify_depth = (int)t->verify_depth;
        o.early_data = t->early_data;
        o.ocsp_check_sec = t->ocsp_check_ms / 1000;
        char err[512];
        tls = px_tls_new(specs, t->n_certs, &o, err, sizeof err);
        /* A file's reason starts with its name: mark that key. */
        const char *tk = t->ticket_key_file.s, *ca = t->client_ca.s, *crl = t->client_crl.s;
        const struct cfg_string *ocsp = NULL;
        for (size_t i = 0; !tls && i < t->n_certs; i++) {
            const char *f = t->certs[i].ocsp_file.s;
            if (f && strncmp(err, f, strlen(f)) == 0)
                ocsp = &t->certs[i].ocsp_file;
        }
        if (!tls && tk && strncmp(err, tk, strlen(tk)) == 0)
            cfg_errors_add(errs, &t->ticket_key_file.mark, "expected a usable ticket key file, found: %s",
                           err);
        else if (!tls && ca && strncmp(err, ca, strlen(ca)) == 0)
            cfg_errors_add(errs, &t->client_ca.mark, "expected PEM CA certificates, found: %s", err);
        else if (!tls && crl && strncmp(err, crl, strlen(crl)) == 0)
            cfg_errors_add(errs, &t->client_crl.mark, "expected PEM CRLs, found: %s", err);
        else if (!tls && ocsp)
            cfg_errors_add(errs, &ocsp->mark,
                           "expected a DER OCSP response for the certificate, found: %s", err);
        else if (!tls)
            cfg_errors_add(errs, &l->mark, "expected a usable TLS configuration, found: %s", err);
    }
    for (size_t i = 0; names && i < t->n_certs; i++)
        free(names[i]);
    free(names);
    free(specs);
    return tls;
}

/* upstreams.*.tls: the files load (each worker builds its own context
 * later; a failure there is only out of memory). The reason names the file
 * that is wrong first: that key is marked. */
static int upstream_tls(const struct cfg_upstream *u, struct cfg_errors *errs)
{
    struct px_btls_ctx_opts o;
    px_btls_opts_from(u, &o);
    char err[512];
    struct px_btls_ctx *x = px_btls_ctx_new(&o, err, sizeof err);
    if (x) {
        px_btls_ctx_del(x);
        return 0;
    }
    const struct cfg_string *files[] = {&u->tls.ca_file, &u->tls.cert, &u->tls.key};
    const struct cfg_mark *at = &u->mark;
    for (size_t i = 0; i < 3; i++)
        if (files[i]->s && strncmp(err, files[i]->s, strlen(files[i]->s)) == 0)
            at = &files[i]->mark;
    cfg_errors_add(errs, at, "expected a usable upstream tls: configuration, found: %s", err);
    return -1;
}

int px_runtime_load_tls(const struct cfg *cfg, struct cfg_errors *errs, struct px_tls **out)
{
    int rc = 0;
    for (size_t i = 0; i < cfg->n_upstreams; i++)
        if (cfg->upstreams[i].tls.enabled && upstream_tls(&cfg->upstreams[i], errs) != 0)
            rc = -1;
    for (size_t i = 0; i < cfg->n_listeners; i++) {
        const struct cfg_listener *l = &cfg->listeners[i];
        if (out)
            out[i] = NULL;
        if (!l->tls)
            continue; /* cleartext: h2c and HTTP/1.1 (proxy/front/sniff.c) */
        struct px_tls *t = listener_tls(l, errs, out == NULL);
        if (!t)
            rc = -1;
        else if (out)
            out[i] = t;
        else
            px_tls_del(t);
    }
    return rc;
}

void px_runtime_raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    if (rl.rlim_cur < rl.rlim_max) {
        rlim_t want = rl.rlim_max;
        rl.rlim_cur = want;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            getrlimit(RLIMIT_NOFILE, &rl);
    }
    hb_info("file-descriptor limit: %llu", (unsigned long long)rl.rlim_cur);
}

/* user:/group: looked up before anything is bound (a typo fails at once),
 * and root without them refused when the configuration file is not
 * root's alone (proxy/privdrop.h). Returns 0 or -1 (logged). */
static int priv_prepare(const struct cfg *cfg, uid_t *uid, gid_t *gid)
{
    char why[512];
    if (cfg->user.s) {
        if (px_priv_lookup(cfg->user.s, cfg->group.s, uid, gid, why, sizeof why) != 0) {
            char at[256];
            hb_error("%s: user: %s", cfg_mark_format(&cfg->user.mark, at, sizeof at), why);
            return -1;
        }
        if (geteuid() == *uid && geteuid() != 0) {
            *uid = 0; /* already that user (a binary upgrade after a drop): nothing to do */
            return 0;
        }
        if (geteuid() != 0) {
            hb_error("user: %s is set, but the proxy does not run as root (euid %u): it cannot "
                     "become another user", cfg->user.s, (unsigned)geteuid());
            return -1;
        }
        return 0;
    }
    if (px_priv_check_config(cfg->source.file, geteuid(), why, sizeof why) != 0) {
        hb_error("%s", why);
        return -1;
    }
    return 0;
}

int px_runtime_run(struct cfg *cfg)
{
    hb_log_set_level(cfg->logging.level);
    hb_log_set_rate(cfg->logging.error_log_rate);
    signal(SIGPIPE, SIG_IGN);
    px_runtime_raise_nofile();
    /* Every thread (the log writer, the workers) inherits a mask without
     * these signals: only main waits for them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);  /* reload: proxy/reload.h */
    sigaddset(&set, SIGUSR1); /* reopen the log files: proxy/obs/logbuf.h */
    sigaddset(&set, SIGUSR2); /* binary upgrade: proxy/upgrade.h */
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    struct cfg_errors errs;
    cfg_errors_init(&errs);
    struct px_tls **tls = calloc(cfg->n_listeners, sizeof *tls);
    int bad = !tls || px_runtime_load_tls(cfg, &errs, tls) != 0;
    bad |= px_alog_check(cfg, &errs) != 0;
    struct px_logw_opts lo;
    px_alog_writer_opts(cfg, &lo);
    /* The log writer before the workers: their first lines find it. */
    if (!bad && px_logw_start(&lo) != 0)
        bad = 1;
    if (bad) {
        cfg_errors_print(&errs, stderr);
        cfg_errors_free(&errs);
        for (size_t i = 0; tls && i < cfg->n_listeners; i++)
            px_tls_del(tls[i]);
        free(tls);
        return 1;
    }
    cfg_errors_free(&errs);
    px_upgrade_inherit(); /* SIGUSR2 of a previous process: its sockets */
    uid_t uid = 0;
    gid_t gid = 0;
    if (priv_prepare(cfg, &uid, &gid) != 0) {
        for (size_t i = 0; i < cfg->n_listeners; i++)
            px_tls_del(tls[i]);
        free(tls);
        px_logw_stop();
        return 1;
    }
    /* The per-client table outlives every generation (proxy/clients.h). */
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != (ssize_t)sizeof seed)
        seed = (uint64_t)hb_time_now_ns();
    struct px_clients *clients = px_clients_new(cfg->clients.table_size, seed);
    if (!clients) {
        hb_error("clients: out of memory for %u addresses", cfg->clients.table_size);
        for (size_t i = 0; i < cfg->n_listeners; i++)
            px_tls_del(tls[i]);
        free(tls);
        px_logw_stop();
        return 1;
    }
    px_clients_set_process(clients);
    uint32_t started = 0;
    struct px_worker *w = px_workers_start(cfg, tls, NULL, 0, &started);
    int rc = w ? 0 : -1;
    if (w) {
        uint32_t n = started;
        for (size_t i = 0; i < cfg->n_listeners; i++)
            hb_info("listener %s: listening on %s:%u (%s), %u workers", w[0].listeners[i].label,
                    cfg->listeners[i].address.s, cfg->listeners[i].port,
                    tls[i] ? "TLS" : "cleartext", n);
        /* The admin listener serves from here: the workers listen. Its
         * thread starts with the stop signals blocked too. */
        px_obs_set_config(cfg, 1);
        if (px_health_start() != 0 || px_admin_start(cfg) != 0) {
            hb_error("admin: not started; stopping");
            px_workers_del(w, started);
            w = NULL;
            rc = -1;
        }
    }
    if (w && cfg->user.s && uid != 0) {
        char why[256];
        if (px_priv_drop(cfg->user.s, uid, gid, why, sizeof why) != 0) {
            hb_error("user: %s; stopping", why);
            px_admin_stop();
            px_workers_del(w, started);
            w = NULL;
            rc = -1;
        } else {
            hb_info("running as user %s (uid %u, gid %u) from now on", cfg->user.s,
                    (unsigned)uid, (unsigned)gid);
        }
    }
    if (w) {
        px_obs_set_ready(true);
        px_notify("READY=1"); /* Type=notify: listening, serving */
        px_upgrade_ready();   /* a previous process handed its sockets over: it may go */
        /* From here the generation (proxy/reload.h) owns w and tls. */
        struct px_gen *gen = px_gen_new(cfg, tls, w, started);
        if (gen) {
            int sig = px_reload_wait(&gen, &set);
            hb_info("signal %d: graceful shutdown", sig);
            px_notify("STOPPING=1");
            px_obs_set_ready(false); /* /readyz: 503 from now on */
            px_reload_shutdown(gen, &set);
            px_admin_stop();
            px_health_stop();
            px_resolver_stop();
            px_obs_reset();
            px_logw_stop(); /* every worker is gone: their last lines are written */
            px_clients_set_process(NULL);
            px_clients_del(clients);
            return 0;
        }
        int sig = 0;
        sigwait(&set, &sig);
        hb_info("signal %d: graceful shutdown (up to %u ms)", sig,
                cfg->limits.shutdown_timeout_ms);
        px_obs_set_ready(false);
        px_shutdown_run(w, started, &set, cfg->limits.shutdown_timeout_ms);
    }
    if (w)
        px_workers_del(w, started);
    px_admin_stop();
    px_health_stop();
    px_resolver_stop();
    px_obs_reset();
    for (size_t i = 0; i < cfg->n_listeners; i++)
        px_tls_del(tls[i]);
    free(tls);
    px_logw_stop();
    px_clients_set_process(NULL);
    px_clients_del(clients);
    return rc == 0 ? 0 : 1;
}
