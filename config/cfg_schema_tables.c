/* config/cfg_schema_tables.c — the top-level table and the simple sections:
 * http2, limits, logging, admin, forwarded, workers. Ranges live here, next
 * to the keys; docs/configuration.md repeats them for operators. */
#include <stddef.h>
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "config/cfg_internal.h"
#include "core/err.h"
#include "core/h2_conn.h"

#define KIB  1024u
#define MIB  (1024u * 1024u)
#define SEC  1000u
#define MIN  (60u * SEC)
#define HOUR (60u * MIN)

/* RFC 9113 §10.5: budgets per connection and second, beyond which the peer
 * is abusive and gets GOAWAY(ENHANCE_YOUR_CALM). */
#define FL(k, f) SCF_U32(k, struct cfg_http2, flood.f, 1, 1000000)
static const struct sc_field http2_fields[] = {
    SCF_U32("max_concurrent_streams", struct cfg_http2, max_concurrent_streams, 1, 100000),
    /* RFC 9113 §6.9.1: a flow-control window may not exceed 2^31-1. */
    SCF_SIZE("initial_window_size", struct cfg_http2, initial_window_size, 1, 0x7fffffff),
    SCF_SIZE("connection_window_size", struct cfg_http2, connection_window_size, 65535, 0x7fffffff),
    /* Growth of the receive windows with the path (core/h2_autowin.h). */
    SCF_SIZE("max_window_size", struct cfg_http2, max_window_size, 0, 0x7fffffff),
    SCF_SIZE("max_connection_window_size", struct cfg_http2, max_connection_window_size, 0,
             0x7fffffff),
    /* RFC 9113 §6.5.2: SETTINGS_MAX_FRAME_SIZE is 2^14 .. 2^24-1. */
    SCF_SIZE("max_frame_size", struct cfg_http2, max_frame_size, 16384, 16777215),
    SCF_SIZE("header_table_size", struct cfg_http2, header_table_size, 0, 1 * MIB),
    SCF_SIZE("max_header_list_size", struct cfg_http2, max_header_list_size, 1 * KIB, 16 * MIB),
    /* RFC 7540 §5.3.4: priority nodes kept for idle and closed streams. */
    SCF_U32("priority_tracked_streams", struct cfg_http2, priority_tracked_streams, 0,
            H2_MAX_PRIORITY_TRACKED),
    FL("rst_stream_per_second", rst_stream_per_sec),
    FL("ping_per_second", ping_per_sec),
    FL("settings_per_second", settings_per_sec),
    FL("empty_frames_per_second", empty_frames_per_sec),
    FL("priority_per_second", priority_per_sec),
    FL("window_update_per_second", window_update_per_sec),
    FL("max_queued_control_frames", max_queued_control_frames),
    SCF_END,
};

/* RFC 9113 §6.9.2: a connection window smaller than one stream's window
 * would hold every stream below the window it was promised. */
static void http2(struct sctx *c, const struct cfg_node *n, void *field)
{
    struct cfg_http2 *h = field;
    if (sc_apply_map(c, n, http2_fields, h, "a mapping") &&
        h->connection_window_size < h->initial_window_size)
        sc_error(c, &n->mark,
                 "expected http2.connection_window_size of at least initial_window_size (%u), "
                 "found %u",
                 (unsigned)h->initial_window_size, (unsigned)h->connection_window_size);
}

#define LIM struct cfg_limits
static const struct sc_field limits_fields[] = {
    SCF_SIZE("stream_buffer_size", LIM, stream_buffer_size, 1 * KIB, 64 * MIB),
    SCF_SIZE("request_buffer_size", LIM, request_buffer_size, 1 * KIB, 64 * MIB),
    SCF_SIZE("max_request_header_size", LIM, max_request_header_size, 1 * KIB, 1 * MIB),
    SCF_SIZE("max_response_header_size", LIM, max_response_header_size, 1 * KIB, 1 * MIB),
    SCF_U32("max_header_count", LIM, max_header_count, 1, 10000),
    SCF_U32("max_connections", LIM, max_connections, 1, 10000000),
    SCF_DUR("handshake_timeout", LIM, handshake_timeout_ms, 100, 10 * MIN),
    SCF_DUR("h2_idle_timeout", LIM, h2_idle_timeout_ms, 1 * SEC, 24 * HOUR),
    SCF_DUR("h1_keepalive_timeout", LIM, h1_keepalive_timeout_ms, 1, 1 * HOUR),
    SCF_DUR("request_header_timeout", LIM, request_header_timeout_ms, 100, 10 * MIN),
    SCF_SIZE("min_send_rate", LIM, min_send_rate, 0, 1024 * MIB),
    SCF_DUR("min_send_rate_window", LIM, min_send_rate_window_ms, 1 * SEC, 10 * MIN),
    SCF_DUR("shutdown_timeout", LIM, shutdown_timeout_ms, 0, 1 * HOUR),
    SCF_SIZE("max_request_body_size", LIM, max_request_body_size, 0, 4095 * MIB),
    SCF_DUR("response_stall_timeout", LIM, response_stall_timeout_ms, 0, 1 * HOUR),
    SCF_DUR("request_body_timeout", LIM, request_body_timeout_ms, 0, 1 * HOUR),
    SCF_END,
};

static void log_level(struct sctx *c, const struct cfg_node *n, void *field)
{
    enum hb_log_level lvl;
    if (n->kind == CFG_NODE_SCALAR && hb_log_level_parse(n->text, &lvl) == 0 && lvl != HB_LOG_OFF) {
        *(enum hb_log_level *)field = lvl;
        return;
    }
    sc_expected(c, n, "a log level (debug, info, warn or error)");
}

static void access_format(struct sctx *c, const struct cfg_node *n, void *field)
{
    static const enum cfg_access_format all[] = {CFG_ACCESS_COMBINED, CFG_ACCESS_COMMON,
                                                 CFG_ACCESS_JSON, CFG_ACCESS_TEMPLATE};
    for (size_t i = 0; n->kind == CFG_NODE_SCALAR && i < 4; i++)
        if (strcmp(n->text, cfg_access_format_name(all[i])) == 0) {
            *(enum cfg_access_format *)field = all[i];
            return;
        }
    sc_expected(c, n, "an access log format (combined, common, json or template)");
}

/* The proxy compiles the template and points at a bad field inside it: the
 * mark moves to the first character of the text when the text is exactly
 * what the file holds on that line (plain, or quoted without escapes). */
static void access_template(struct sctx *c, const struct cfg_node *n, void *field)
{
    struct cfg_logging *lg = field;
    if (sc_string(c, n, &lg->access_log_template) != 0)
        return;
    bool one_line = !memchr(n->text, '\n', n->len);
    bool escapes = memchr(n->text, '\\', n->len) || memchr(n->text, '\'', n->len) ||
                   memchr(n->text, '"', n->len);
    lg->access_log_template_exact = one_line && (n->plain || !escapes);
    if (lg->access_log_template_exact && !n->plain)
        lg->access_log_template.mark.col++; /* past the opening quote */
}

/* "stderr" (the default) or a path ("-": standard output). */
static void error_log(struct sctx *c, const struct cfg_node *n, void *field)
{
    struct cfg_string *s = field;
    if (n->kind == CFG_NODE_SCALAR && strcmp(n->text, "stderr") == 0) {
        *s = (struct cfg_string){NULL, n->mark};
        return;
    }
    sc_path(c, n, s);
}

#define LOGF struct cfg_logging
static const struct sc_field logging_fields[] = {
    SCF_FUNC("level", LOGF, level, log_level),
    SCF_PATH("access_log", LOGF, access_log),
    SCF_FUNC("access_log_format", LOGF, access_log_format, access_format),
    SCF_WHOLE("access_log_template", access_template),
    /* A ring holds at least a few lines; past 1 GiB per thread is a typo. */
    SCF_SIZE("access_log_buffer", LOGF, access_log_buffer, 16 * KIB, 1024 * MIB),
    SCF_DUR("access_log_flush", LOGF, access_log_flush_ms, 10, 60 * SEC),
    SCF_SIZE("access_log_line_max", LOGF, access_log_line_max, 256, 64 * KIB),
    SCF_FUNC("error_log", LOGF, error_log, error_log),
    SCF_U32("error_log_rate", LOGF, error_log_rate, 0, 1000000),
    SCF_END,
};

static void admin_address(struct sctx *c, const struct cfg_node *n, void *field)
{
    struct cfg_admin *a = field;
    sc_address(c, n, &a->address, &a->port);
}

void sc_networks(struct sctx *c, const struct cfg_node *n, void *field)
{
    struct cfg_networks *nets = field;
    nets->mark = n->mark;
    if (!sc_seq_of(c, n, CFG_MAX_NETWORKS, "networks (\"10.0.0.0/8\", \"::1\")"))
        return;
    for (size_t i = 0; i < n->n && c->rc != HB_ENOMEM; i++) {
        const struct cfg_node *it = n->items[i];
        size_t old = sc_path_index(c, i);
        struct hb_cidr net;
        if (!sc_visit(c, it)) {
            sc_path_pop(c, old);
            continue;
        }
        if (it->kind != CFG_NODE_SCALAR || hb_cidr_parse(it->text, it->len, &net) != 0) {
            sc_expected(c, it,
                        "a network: an address (\"192.0.2.1\", \"::1\") or ADDRESS/PREFIX "
                        "with no host bits set past the prefix (\"10.0.0.0/8\")");
        } else {
            struct hb_cidr *slot = cfg_mem_push(c->cfg->mem, &nets->v, &nets->n, sizeof *slot);
            if (slot)
                *slot = net;
            else
                sc_nomem(c);
        }
        sc_path_pop(c, old);
    }
}

static const struct sc_field admin_fields[] = {
    SCF_BOOL("enabled", struct cfg_admin, enabled),
    SCF_WHOLE("address", admin_address),
    SCF_PORT("port", struct cfg_admin, port),
    SCF_FUNC("allow", struct cfg_admin, allow, sc_networks),
    SCF_U32("max_connections", struct cfg_admin, max_connections, 1, 10000),
    SCF_SIZE("max_request_size", struct cfg_admin, max_request_size, 1 * KIB, 1 * MIB),
    SCF_DUR("request_timeout", struct cfg_admin, request_timeout_ms, 100, 10 * MIN),
    /* Workers tick once a second (proxy/worker.h): 2 s is the least that
     * does not fail a healthy worker on a busy machine. */
    SCF_DUR("worker_stall_timeout", struct cfg_admin, worker_stall_timeout_ms, 2 * SEC, 10 * MIN),
    SCF_END,
};

/* An admin: section turns the admin listener on unless it says enabled: false. */
static void admin(struct sctx *c, const struct cfg_node *n, void *field)
{
    struct cfg_admin *a = field;
    c->addr_port_mark = c->port_key_mark = (struct cfg_mark){0};
    if (n->kind == CFG_NODE_MAP)
        a->enabled = true;
    if (sc_apply_map(c, n, admin_fields, a, "a mapping"))
        sc_port_clash(c);
}

static void xff_mode(struct sctx *c, const struct cfg_node *n, void *field)
{
    static const enum cfg_xff_mode all[] = {CFG_XFF_APPEND, CFG_XFF_REPLACE, CFG_XFF_TRUST};
    for (size_t i = 0; n->kind == CFG_NODE_SCALAR && i < 3; i++)
        if (strcmp(n->text, cfg_xff_mode_name(all[i])) == 0) {
            *(enum cfg_xff_mode *)field = all[i];
            return;
        }
    sc_expected(c, n, "an X-Forwarded-For mode (append, replace or trust)");
}

static const struct sc_field forwarded_fields[] = {
    SCF_FUNC("x_forwarded_for_mode", struct cfg_forwarded, x_forwarded_for_mode, xff_mode),
    SCF_FUNC("trusted", struct cfg_forwarded, trusted, sc_networks),
    SCF_BOOL("x_forwarded_for", struct cfg_forwarded, x_forwarded_for),
    SCF_BOOL("x_forwarded_proto", struct cfg_forwarded, x_forwarded_proto),
    SCF_BOOL("forwarded", struct cfg_forwarded, forwarded),
    SCF_BOOL("via", struct cfg_forwarded, via),
    SCF_END,
};

/* A field name: an RFC 9110 token, stored lowercase (HTTP/2 wants it so). */
void sc_field_name(struct sctx *c, const struct cfg_node *n, void *field)
{
    struct cfg_string *out = field;
    static const char tchar[] = "!#$%&'*+-.^_`|~";
    bool ok = n->kind == CFG_NODE_SCALAR && n->len > 0 && n->len <= 64 &&
              strlen(n->text) == n->len;
    for (size_t i = 0; ok && i < n->len; i++) {
        char ch = n->text[i];
        ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
             strchr(tchar, ch) != NULL;
    }
    if (!ok) {
        sc_expected(c, n, "a header field name (letters, digits, \"-\"; up to 64 bytes)");
        return;
    }
    if (sc_string(c, n, out) != 0)
        return;
    for (char *p = (char *)out->s; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
}

static void traceparent_mode(struct sctx *c, const struct cfg_node *n, void *field)
{
    static const enum cfg_traceparent all[] = {CFG_TRACEPARENT_PASS, CFG_TRACEPARENT_GENERATE};
    for (size_t i = 0; n->kind == CFG_NODE_SCALAR && i < 2; i++)
        if (strcmp(n->text, cfg_traceparent_name(all[i])) == 0) {
            *(enum cfg_traceparent *)field = all[i];
            return;
        }
    sc_expected(c, n, "a traceparent mode (pass or generate)");
}

static const struct sc_field request_id_fields[] = {
    SCF_BOOL("enabled", struct cfg_request_id, enabled),
    SCF_FUNC("header", struct cfg_request_id, header, sc_field_name),
    SCF_FUNC("trust", struct cfg_request_id, trust, sc_networks),
    SCF_FUNC("traceparent", struct cfg_request_id, traceparent, traceparent_mode),
    SCF_END,
};

/* tunnels.upgrade: tokens ("websocket"), lowercased. h2c is the proxy's own
 * upgrade to HTTP/2 (front/h2c_upgrade.c) and never goes to a backend. */
static void upgrade_tokens(struct sctx *c, const struct cfg_node *n, void *field)
{
    struct cfg_tunnels *t = field;
    if (!sc_seq_of(c, n, CFG_MAX_UPGRADE_TOKENS, "upgrade tokens (\"websocket\")"))
        return;
    t->upgrade = NULL;
    t->n_upgrade = 0;
    static const char tchar[] = "!#$%&'*+-.^_`|~/";
    for (size_t i = 0; i < n->n && c->rc != HB_ENOMEM; i++) {
        const struct cfg_node *it = n->items[i];
        size_t old = sc_path_index(c, i);
        bool ok = sc_visit(c, it) && it->kind == CFG_NODE_SCALAR && it->len > 0 &&
                  it->len <= 64 && strlen(it->text) == it->len;
        for (size_t k = 0; ok && k < it->len; k++) {
            char ch = it->text[k];
            ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                 (ch >= '0' && ch <= '9') || strchr(tchar, ch) != NULL;
        }
        if (ok && strncasecmp(it->text, "h2c", 4) == 0) {
            sc_expected(c, it, "an upgrade token other than h2c (the proxy's own upgrade)");
        } else if (!ok) {
            sc_expected(c, it, "an upgrade token (\"websocket\"; letters, digits, \"-\", \"/\")");
        } else {
            struct cfg_string *slot =
                cfg_mem_push(c->cfg->mem, &t->upgrade, &t->n_upgrade, sizeof *slot);
            if (!slot || sc_string(c, it, slot) != 0) {
                if (!slot)
                    sc_nomem(c);
            } else {
                for (char *p = (char *)slot->s; *p; p++)
                    if (*p >= 'A' && *p <= 'Z')
                        *p = (char)(*p - 'A' + 'a');
            }
        }
        sc_path_pop(c, old);
    }
}

static const struct sc_field tunnels_fields[] = {
    SCF_WHOLE("upgrade", upgrade_tokens),
    SCF_DUR("idle_timeout", struct cfg_tunnels, idle_timeout_ms, 1 * SEC, 24 * HOUR),
    SCF_U32("max_per_connection", struct cfg_tunnels, max_per_connection, 1, 100000),
    SCF_U32("max_per_worker", struct cfg_tunnels, max_per_worker, 1, 10000000),
    SCF_END,
};

static const struct sc_field clients_fields[] = {
    SCF_U32("max_connections", struct cfg_clients, max_connections, 0, 65535),
    SCF_U32("requests_per_second", struct cfg_clients, requests_per_second, 0, 1000000),
    SCF_U32("burst", struct cfg_clients, burst, 1, 1000000),
    SCF_U32("table_size", struct cfg_clients, table_size, 1024, 16777216),
    SCF_FUNC("exempt", struct cfg_clients, exempt, sc_networks),
    SCF_END,
};

/* resolver.servers: nameservers as IP literals ("127.0.0.1:5353", "::1",
 * port 53 by default); names would need a resolver to find the resolver. */
static void resolver_servers(struct sctx *c, const struct cfg_node *n, void *field)
{
    struct cfg_resolver *r = field;
    if (!sc_seq_of(c, n, CFG_MAX_RESOLVERS, "nameservers (\"IP\" or \"IP:PORT\")"))
        return;
    r->servers = NULL;
    r->n_servers = 0;
    for (size_t i = 0; i < n->n && c->rc != HB_ENOMEM; i++) {
        const struct cfg_node *it = n->items[i];
        size_t old = sc_path_index(c, i);
        if (sc_visit(c, it)) {
            struct cfg_resolver_addr *a =
                cfg_mem_push(c->cfg->mem, &r->servers, &r->n_servers, sizeof *a);
            if (!a) {
                sc_nomem(c);
            } else {
                a->port = 53;
                a->address.s = NULL;
                sc_address(c, it, &a->address, &a->port); /* sets .s when well-formed */
                unsigned char b[16];
                if (a->address.s && inet_pton(AF_INET, a->address.s, b) != 1 &&
                    inet_pton(AF_INET6, a->address.s, b) != 1)
                    sc_expected(c, it, "a nameserver's IP address (\"IP\" or \"IP:PORT\")");
            }
        }
        sc_path_pop(c, old);
    }
}

static const struct sc_field resolver_fields[] = {
    SCF_WHOLE("servers", resolver_servers),
    SCF_DUR("interval", struct cfg_resolver, interval_ms, 100, 24 * HOUR),
    SCF_DUR("min_interval", struct cfg_resolver, min_interval_ms, 100, 24 * HOUR),
    SCF_DUR("timeout", struct cfg_resolver, timeout_ms, 10, 60 * SEC),
    SCF_U32("attempts", struct cfg_resolver, attempts, 1, 10),
    SCF_U32("max_addresses", struct cfg_resolver, max_addresses, 1, 1024),
    SCF_END,
};

static void resolver(struct sctx *c, const struct cfg_node *n, void *field)
{
    struct cfg_resolver *r = field;
    if (!sc_apply_map(c, n, resolver_fields, r,
                      "a mapping (servers, interval, min_interval, timeout, attempts, "
                      "max_addresses)"))
        return;
    if (r->min_interval_ms > r->interval_ms)
        sc_error(c, &n->mark,
                 "expected resolver.min_interval at most resolver.interval (%u ms), found %u ms",
                 (unsigned)r->interval_ms, (unsigned)r->min_interval_ms);
}

static const struct sc_field top_fields[] = {
    SCF_FUNC("listeners", struct cfg, listeners, sc_listeners),
    SCF_FUNC("http2", struct cfg, http2, http2),
    SCF_FUNC("upstreams", struct cfg, upstreams, sc_upstreams),
    SCF_FUNC("routes", struct cfg, routes, sc_routes),
    SCF_SECTION("limits", struct cfg, limits, limits_fields),
    SCF_SECTION("logging", struct cfg, logging, logging_fields),
    SCF_FUNC("admin", struct cfg, admin, admin),
    SCF_U32("workers", struct cfg, workers, 0, 1024),
    SCF_STR("user", struct cfg, user),
    SCF_STR("group", struct cfg, group),
    SCF_SECTION("forwarded", struct cfg, forwarded, forwarded_fields),
    SCF_SECTION("request_id", struct cfg, request_id, request_id_fields),
    SCF_SECTION("tunnels", struct cfg, tunnels, tunnels_fields),
    SCF_SECTION("clients", struct cfg, clients, clients_fields),
    SCF_FUNC("resolver", struct cfg, resolver, resolver),
    SCF_END,
};

void cfg_schema_apply(struct sctx *c, const struct cfg_node *root)
{
    sc_apply_map(c, root, top_fields, c->cfg, "a mapping of configuration sections");
}
