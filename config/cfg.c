/* config/cfg.c — life cycle, defaults, loading, the command-line builder,
 * and lookups. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfg_internal.h"
#include "core/balance.h"
#include "core/err.h"
#include "core/outlier.h"

const char *const cfg_balance_names[] = {"round_robin",   "least_conn",      "random",
                                         "least_request", "consistent_hash", NULL};

const struct cfg_mark cfg_cmdline_mark = {"command line", 0, 0};

#define KIB 1024u
#define MIB (1024u * 1024u)

void cfg_listener_defaults(struct cfg_listener *l)
{
    l->max_connections = 10000;
    l->backlog = 511;
    l->tls_cfg.min_version = CFG_TLS_1_2;
    l->tls_cfg.ticket_rotation_ms = 3600 * 1000;
    l->tls_cfg.ticket_mc.port = 11211;
    l->tls_cfg.ticket_mc.key = (struct cfg_string){"h2bridge/ticket-keys", {NULL, 0, 0}};
    l->tls_cfg.ticket_mc.interval_ms = 60 * 1000;
    l->tls_cfg.ticket_mc.timeout_ms = 2000;
    l->tls_cfg.ticket_mc.lifetime_ms = 3600 * 1000;
    l->tls_cfg.small_records = 64 * KIB;
    l->tls_cfg.small_records_idle_ms = 1000;
    l->tls_cfg.client_auth = CFG_CLIENT_AUTH_NONE;
    l->tls_cfg.verify_depth = 3;
    l->tls_cfg.ocsp_check_ms = 60 * 1000;
    l->tls_cfg.subject_header = (struct cfg_string){"x-client-cert-subject", {NULL, 0, 0}};
    l->tls_cfg.san_header = (struct cfg_string){"x-client-cert-san", {NULL, 0, 0}};
    l->tls_cfg.hash_header = (struct cfg_string){"x-client-cert-sha256", {NULL, 0, 0}};
}

void cfg_upstream_defaults(struct cfg_upstream *u)
{
    u->balance = (struct cfg_string){cfg_balance_names[0], {NULL, 0, 0}};
    u->connect_timeout_ms = 5000;
    u->read_timeout_ms = 60000;
    u->idle_timeout_ms = 60000;
    u->keepalive = 32;
    u->surplus_idle_timeout_ms = 1000;
    u->retries = 1;
    u->queue_timeout_ms = 5000;
    u->queue_size = 4096;
    u->per_client_share = 25;
    struct cfg_health_check *h = &u->health_check;
    h->method = (struct cfg_string){"GET", {NULL, 0, 0}};
    h->path = (struct cfg_string){"/", {NULL, 0, 0}};
    h->expect = (struct cfg_string){"200-399", {NULL, 0, 0}};
    (void)hb_status_ranges_parse(h->expect.s, &h->expect_ranges);
    h->interval_ms = 2000;
    h->jitter_ms = 200;
    h->timeout_ms = 1000;
    h->rise = 2;
    h->fall = 3;
    u->on_no_healthy = CFG_NO_HEALTHY_PANIC;
    u->retry_on = CFG_RETRY_CONNECT | CFG_RETRY_RESET;
    u->retry_budget.percent = 20;
    u->retry_budget.min_retries = 3;
    u->tls.verify = true;
    u->tls.session_reuse = true;
    u->tls.min_version = CFG_TLS_1_2;
    u->consistent_hash.key = CFG_HASH_CLIENT_ADDRESS;
    u->consistent_hash.table_size = HB_MAGLEV_DEFAULT_SIZE;
    struct cfg_sticky *sk = &u->sticky_cookie;
    sk->name = (struct cfg_string){"h2bridge_server", {NULL, 0, 0}};
    sk->path = (struct cfg_string){"/", {NULL, 0, 0}};
    sk->http_only = true;
    sk->same_site = CFG_SAME_SITE_LAX;
    struct cfg_outlier *o = &u->outlier_detection;
    o->consecutive_failures = 5;
    o->count = (1u << HB_OUTCOME_FAILURES) - 1;
    o->base_ejection_ms = 30000;
    o->max_ejection_ms = 300000;
    o->max_ejected_percent = 50;
}

static void set_defaults(struct cfg *c)
{
    c->http2.max_concurrent_streams = 100;
    c->http2.initial_window_size = 65535; /* RFC 9113 §6.9.2 initial value */
    c->http2.connection_window_size = 1 * MIB;
    /* Enough for 100 Mbit/s at 300 ms (a stream) and four such streams (the
     * connection); growth needs the backend to take the bytes that fast. */
    c->http2.max_window_size = 4 * MIB;
    c->http2.max_connection_window_size = 16 * MIB;
    c->http2.max_frame_size = 16384;
    c->http2.header_table_size = 4096;
    c->http2.max_header_list_size = 64 * KIB;
    c->http2.priority_tracked_streams = 64;
    c->http2.flood.rst_stream_per_sec = 100;
    c->http2.flood.ping_per_sec = 50;
    c->http2.flood.settings_per_sec = 50;
    c->http2.flood.empty_frames_per_sec = 100;
    c->http2.flood.priority_per_sec = 500;
    c->http2.flood.window_update_per_sec = 1000;
    c->http2.flood.max_queued_control_frames = 1000;

    c->limits.stream_buffer_size = 64 * KIB;
    c->limits.request_buffer_size = 64 * KIB;
    c->limits.max_request_header_size = 64 * KIB;
    c->limits.max_response_header_size = 64 * KIB;
    c->limits.max_header_count = 100;
    c->limits.max_connections = 10000;
    c->limits.handshake_timeout_ms = 10000;
    c->limits.h2_idle_timeout_ms = 120000;
    c->limits.h1_keepalive_timeout_ms = 15000;
    c->limits.request_header_timeout_ms = 10000;
    c->limits.min_send_rate = 1024;
    c->limits.min_send_rate_window_ms = 10000;
    c->limits.shutdown_timeout_ms = 30000;
    c->limits.max_request_body_size = 1024 * MIB;
    c->limits.response_stall_timeout_ms = 30000;
    c->limits.request_body_timeout_ms = 60000;

    c->logging.level = HB_LOG_INFO;
    c->logging.access_log_format = CFG_ACCESS_COMBINED;
    c->logging.access_log_buffer = 256u << 10;
    c->logging.access_log_flush_ms = 1000;
    c->logging.access_log_line_max = 8u << 10;
    c->logging.error_log_rate = 10;

    c->admin.address = (struct cfg_string){"127.0.0.1", {NULL, 0, 0}};
    c->admin.port = 9901;
    c->admin.max_connections = 16;
    c->admin.max_request_size = 8 * 1024;
    c->admin.request_timeout_ms = 5000;
    c->admin.worker_stall_timeout_ms = 5000;

    c->workers = 0;
    c->forwarded.x_forwarded_for = true;
    c->forwarded.x_forwarded_proto = true;

    c->clients.max_connections = 0;
    c->clients.requests_per_second = 0;
    c->clients.burst = 100;
    c->clients.table_size = 65536;
    c->resolver.interval_ms = 30000;
    c->resolver.min_interval_ms = 1000;
    c->resolver.timeout_ms = 2000;
    c->resolver.attempts = 2;
    c->resolver.max_addresses = 64;

    c->request_id.enabled = true;
    c->request_id.header = (struct cfg_string){"x-request-id", {NULL, 0, 0}};
    c->request_id.traceparent = CFG_TRACEPARENT_PASS;

    static struct cfg_string websocket_token = {"websocket", {NULL, 0, 0}};
    c->tunnels.upgrade = &websocket_token;
    c->tunnels.n_upgrade = 1;
    c->tunnels.idle_timeout_ms = 5 * 60 * 1000;
    c->tunnels.max_per_connection = 100;
    c->tunnels.max_per_worker = 10000;
}

struct cfg *cfg_new_defaults(void)
{
    struct cfg_mem *m = cfg_mem_new();
    struct cfg *c = m ? cfg_mem_alloc(m, sizeof *c) : NULL;
    if (!c) {
        cfg_mem_del(m);
        return NULL;
    }
    c->mem = m;
    atomic_init(&c->refs, 1);
    set_defaults(c);
    return c;
}

struct cfg *cfg_ref(struct cfg *cfg)
{
    atomic_fetch_add_explicit(&cfg->refs, 1, memory_order_relaxed);
    return cfg;
}

void cfg_unref(struct cfg *cfg)
{
    if (!cfg)
        return;
    /* acq_rel: every reader's last access happens before the free. */
    if (atomic_fetch_sub_explicit(&cfg->refs, 1, memory_order_acq_rel) == 1)
        cfg_mem_del(cfg->mem); /* the struct cfg itself lives in the pool */
}

void cfg_del(struct cfg *cfg)
{
    cfg_unref(cfg);
}

/* ---- loading ------------------------------------------------------------------ */

int cfg_parse_buffer(struct cfg *cfg, const char *name, const void *data, size_t len,
                     struct cfg_errors *errs)
{
    const char *file = cfg_mem_strdup(cfg->mem, name);
    struct cfg_mem *tmp = cfg_mem_new();
    if (!file || !tmp) {
        cfg_mem_del(tmp);
        return HB_ENOMEM;
    }
    int rc = 0;
    cfg->source = (struct cfg_mark){file, 0, 0};
    if (len > CFG_MAX_FILE_SIZE) {
        struct cfg_mark mk = {file, 0, 0};
        rc = cfg_errors_add(errs, &mk, "expected a file of at most %u bytes, found %zu bytes",
                            CFG_MAX_FILE_SIZE, len)
                 ? HB_ENOMEM
                 : HB_EINVAL;
        cfg_mem_del(tmp);
        return rc;
    }
    bool nomem = false;
    struct cfg_node *root = cfg_yaml_parse(tmp, file, data, len, errs, &nomem);
    if (!root) {
        rc = nomem || errs->oom ? HB_ENOMEM : HB_ESYNTAX;
    } else {
        struct sctx *c = cfg_mem_alloc(tmp, sizeof *c);
        if (!c) {
            rc = HB_ENOMEM;
        } else {
            c->cfg = cfg;
            c->errs = errs;
            c->tmp = tmp;
            c->budget = CFG_MAX_VISITS;
            cfg_schema_apply(c, root);
            rc = c->rc;
        }
    }
    cfg_mem_del(tmp);
    return rc;
}

/* Reads a whole file (at most CFG_MAX_FILE_SIZE + 1 bytes, so that an
 * oversized one is reported as such). */
static char *read_file(const char *path, size_t *len, int *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        *err = errno;
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = cfg_malloc(cap);
    int read_errno = 0;
    while (buf) {
        errno = 0;
        n += fread(buf + n, 1, cap - n, f);
        read_errno = errno; /* EISDIR for a directory */
        if (n < cap || n > CFG_MAX_FILE_SIZE)
            break;
        char *grown = cfg_malloc(cap * 2);
        if (grown)
            memcpy(grown, buf, n);
        free(buf);
        buf = grown;
        cap *= 2;
    }
    *err = !buf ? ENOMEM : ferror(f) ? (read_errno ? read_errno : EIO) : 0;
    fclose(f);
    if (*err) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

int cfg_parse_file(struct cfg *cfg, const char *path, struct cfg_errors *errs)
{
    size_t len = 0;
    int err = 0;
    char *data = read_file(path, &len, &err);
    if (!data) {
        if (err == ENOMEM)
            return HB_ENOMEM;
        struct cfg_mark mk = {path, 0, 0};
        if (cfg_errors_add(errs, &mk, "expected a readable configuration file, found %s",
                           strerror(err)) != 0)
            return HB_ENOMEM;
        return HB_EIO;
    }
    int rc = cfg_parse_buffer(cfg, path, data, len, errs);
    free(data);
    return rc;
}

static int load(const char *name, const void *data, size_t len, bool is_file, struct cfg **out,
                struct cfg_errors *errs)
{
    *out = NULL;
    struct cfg *c = cfg_new_defaults();
    if (!c)
        return HB_ENOMEM;
    int rc = is_file ? cfg_parse_file(c, name, errs) : cfg_parse_buffer(c, name, data, len, errs);
    /* Cross checks run after schema errors too, so one run reports both. */
    if (rc == 0 || rc == HB_EINVAL) {
        int frc = cfg_finalize(c, errs);
        if (rc == 0 || frc == HB_ENOMEM)
            rc = frc;
    }
    if (rc != 0) {
        cfg_errors_sort(errs);
        cfg_unref(c);
        return rc == HB_ESYNTAX ? HB_EINVAL : rc;
    }
    *out = c;
    return 0;
}

int cfg_load_file(const char *path, struct cfg **out, struct cfg_errors *errs)
{
    return load(path, NULL, 0, true, out, errs);
}

int cfg_load_buffer(const char *name, const void *data, size_t len, struct cfg **out,
                    struct cfg_errors *errs)
{
    return load(name, data, len, false, out, errs);
}

int cfg_check_file(const char *path, FILE *out)
{
    struct cfg_errors errs;
    cfg_errors_init(&errs);
    struct cfg *c = NULL;
    int rc = cfg_load_file(path, &c, &errs);
    if (rc == 0)
        fprintf(out, "configuration OK\n");
    else if (errs.n == 0 && rc == HB_ENOMEM)
        fprintf(out, "%s: out of memory\n", path);
    else
        cfg_errors_print(&errs, out);
    cfg_unref(c);
    cfg_errors_free(&errs);
    return rc == 0 ? 0 : 1;
}

/* ---- lookups ------------------------------------------------------------------ */

const struct cfg_upstream *cfg_find_upstream(const struct cfg *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n_upstreams; i++)
        if (cfg->upstreams[i].name.s && strcmp(cfg->upstreams[i].name.s, name) == 0)
            return &cfg->upstreams[i];
    return NULL;
}

/* a (any case) equals lower (lowercase, as routes store hosts) over n bytes:
 * host names are case-insensitive (RFC 3986 §3.2.2). */
static bool eq_lower(const char *a, const char *lower, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char ch = a[i] >= 'A' && a[i] <= 'Z' ? (char)(a[i] | 0x20) : a[i];
        if (ch != lower[i])
            return false;
    }
    return true;
}

static bool host_matches(const struct cfg_route *r, const char *host, size_t len)
{
    if (!r->host.s)
        return true;
    size_t hl = strlen(r->host.s);
    if (!r->host_wildcard)
        return hl == len && eq_lower(host, r->host.s, len);
    /* "*.example.com" matches "a.example.com" and "a.b.example.com", not
     * "example.com" itself. */
    const char *suffix = r->host.s + 1;
    size_t sl = hl - 1;
    return len > sl && eq_lower(host + len - sl, suffix, sl);
}

static bool path_matches(const struct cfg_route *r, const char *path, size_t len)
{
    const char *q = memchr(path, '?', len);
    if (q)
        len = (size_t)(q - path);
    size_t pl = r->path.s ? strlen(r->path.s) : 0;
    switch (r->path_match) {
    case CFG_PATH_ANY:
        return true;
    case CFG_PATH_PREFIX:
        return len >= pl && memcmp(path, r->path.s, pl) == 0;
    case CFG_PATH_EXACT:
        return len == pl && memcmp(path, r->path.s, pl) == 0;
    }
    return false;
}

const struct cfg_route *cfg_route_match(const struct cfg *cfg, const char *host, size_t host_len,
                                        const char *path, size_t path_len)
{
    if (!host)
        host_len = 0;
    if (!path)
        path_len = 0;
    for (size_t i = 0; i < cfg->n_routes; i++) {
        const struct cfg_route *r = &cfg->routes[i];
        if (host_matches(r, host, host_len) && path_matches(r, path, path_len))
            return r;
    }
    return NULL;
}
