/* config/cfg_schema_lists.c — the list sections: listeners (with tls and
 * certificates), upstreams (with servers) and routes (with header edits). */
#include <stddef.h>
#include <stdio.h>
#include <arpa/inet.h>
#include <string.h>

#include "config/cfg_internal.h"
#include "core/memcache.h"
#include "core/err.h"
#include "core/outlier.h"

#define MAX_LIST    4096 /* listeners, upstreams, routes, servers */
#define MAX_SMALL   64   /* certificates, server names, header edits */
#define MAX_SERVERS 256  /* per upstream */

/* A sequence of at most max items, or an error. */
bool sc_seq_of(struct sctx *c, const struct cfg_node *n, size_t max, const char *what)
{
    char buf[128];
    if (n->kind != CFG_NODE_SEQ) {
        snprintf(buf, sizeof buf, "a sequence of %s", what);
        sc_expected(c, n, buf);
        return false;
    }
    if (n->n > max) {
        snprintf(buf, sizeof buf, "at most %zu %s (found %zu)", max, what, n->n);
        sc_expected(c, n, buf);
        return false;
    }
    return true;
}

static void missing(struct sctx *c, const struct cfg_mark *mark, const char *key, const char *what)
{
    sc_error(c, mark, "expected %s: (%s) in %s, found no such key", key, what, c->path);
}

/* Lowercases a host name and checks its characters (RFC 1123 names, or an
 * IP address); "*." may start it when wildcard is allowed. */
static bool host_name(struct sctx *c, const struct cfg_node *n, bool wildcard,
                      struct cfg_string *out)
{
    if (sc_string(c, n, out) != 0)
        return false;
    char *s = (char *)out->s;
    size_t i = wildcard && s[0] == '*' && s[1] == '.' ? 2 : 0;
    bool ok = s[i] != '\0' && s[i] != '.';
    for (; s[i] && ok; i++) {
        if (s[i] >= 'A' && s[i] <= 'Z')
            s[i] = (char)(s[i] | 0x20);
        ok = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
             s[i] == '.' || s[i] == '_' || s[i] == ':';
    }
    if (!ok) {
        out->s = NULL;
        sc_expected(c, n,
                    wildcard ? "a host name (\"example.com\" or \"*.example.com\")"
                             : "a host name (\"example.com\")");
    }
    return ok;
}

/* ---- listeners -------------------------------------------------------------- */

static void server_names(struct sctx *c, const struct cfg_node *n, void *field)
{
    struct cfg_cert *ct = field;
    if (!sc_seq_of(c, n, MAX_SMALL, "server names"))
        return;
    for (size_t i = 0; i < n->n && c->rc != HB_ENOMEM; i++) {
        struct cfg_string name = {0};
        size_t old = sc_path_index(c, i);
        if (sc_visit(c, n->items[i]) && host_name(c, n->items[i], true, &name)) {
            struct cfg_string *slot =
                cfg_mem_push(c->cfg->mem, &ct->server_names, &ct->n_server_names, sizeof *slot);
            if (slot)
                *slot = name;
            else
                sc_nomem(c);
        }
        sc_path_pop(c, old);
    }
}

static const struct sc_field cert_fields[] = {
    SCF_PATH("cert", struct cfg_cert, cert),
    SCF_PATH("key", struct cfg_cert, key),
    SCF_PATH("ocsp_file", struct cfg_cert, ocsp_file),
    SCF_WHOLE("server_names", server_names),
    SCF_END,
};

static void certificates(struct sctx *c, const struct cfg_node *n, void *field)
{
    struct cfg_tls *t = field;
    if (!sc_seq_of(c, n, MAX_SMALL, "certificates"))
        return;
    for (size_t i = 0; i < n->n && c->rc != HB_ENOMEM; i++) {
        const struct cfg_node *item = n->items[i];
        if (!sc_visit(c, item))
            return;
        struct cfg_cert *ct = cfg_mem_push(c->cfg->mem, &t->certs, &t->n_certs, sizeof *ct);
        if (!ct) {
            sc_nomem(c);
            return;
        }
        ct->mark = item->mark;
        size_t old = sc_path_index(c, i);
        if (sc_apply_map(c, item, cert_fields, ct, "a mapping (cert, key, ocsp_file, server_names)") &&
            item->kind == CFG_NODE_MAP) {
            if (!ct->cert.s && c->rc != HB_ENOMEM)
                missing(c, &item->mark, "cert", "a PEM certificate chain file");
            if (!ct->key.s && c->rc != HB_ENOMEM)
                missing(c, &item->mark, "key", "a PEM private key file");
        }
        sc_path_pop(c, old);
    }
}

static void tls_version(struct sctx *c, const struct cfg_node *n, void *field)
{
    if (n->kind == CFG_NODE_SCALAR) {
        if (!strcmp(n->text, "1.2") || !strcmp(n->text, "TLSv1.2")) {
            *(uint16_t *)field = CFG_TLS_1_2;
            return;
        }
        if (!strcmp(n->text, "1.3") || !strcmp(n->text, "TLSv1.3")) {
            *(uint16_t *)field = CFG_TLS_1_3;
            return;
        }
    }
    sc_expected(c, n, "a TLS version (\"1.2\" or \"1.3\")");
}

static void client_auth(struct sctx *c, const struct cfg_node *n, void *field)
{
    static const enum cfg_client_auth all[] = {CFG_CLIENT_AUTH_NONE, CFG_CLIENT_AUTH_OPTIONAL,
                                               CFG_CLIENT_AUTH_REQUIRED};
    for (size_t i = 0; n->kind == CFG_NODE_SCALAR && i < 3; i++)
        if (strcmp(n->text, cfg_client_auth_name(all[i])) == 0) {
            *(enum cfg_client_auth *)field = all[i];
            return;
        }
    sc_expected(c, n, "a client_auth mode (none, optional or required)");
}

static void ticket_mc_address(struct sctx *c, const struct cfg_node *n, void *field)
{
    struct cfg_ticket_mc *m = field;
    /* Its port must not count as the listener's (sc_port_clash). */
    struct cfg_mark saved = c->addr_port_mark;
    sc_address(c, n, &m->address, &m->port);
    c->addr_port_mark = saved;
}

static void ticket_mc_key(struct sctx *c, const struct cfg_node *n, void *field)
{
    struct cfg_string *k = field;
    if (n->kind != CFG_NODE_SCALAR || !hb_mc_key_ok(n->text)) {
        sc_expected(c, n, "a memcached key (1 to 250 printable characters, no spaces)");
        return;
    }
    k->s = cfg_mem_strdup(c->cfg->mem, n->text);
    k->mark = n->mark;
    if (!k->s)
        sc_nomem(c);
}

static const struct sc_field ticket_mc_fields[] = {
    SCF_WHOLE("address", ticket_mc_address),
    SCF_FUNC("key", struct cfg_ticket_mc, key, ticket_mc_key),
    SCF_DUR("interval", struct cfg_ticket_mc, interval_ms, 1000, 3600000),
    SCF_DUR("timeout", struct cfg_ticket_mc, timeout_ms, 100, 60000),
    SCF_DUR("lifetime", struct cfg_ticket_mc, lifetime_ms, 60000, 7 * 86400000u),
    SCF_END,
};

static void ticket_memcached(struct sctx *c, const struct cfg_node *n, void *field)
{
    struct cfg_ticket_mc *m = field;
    m->mark = n->mark;
    if (sc_apply_map(c, n, ticket_mc_fields, m, "a mapping (address, key, interval, timeout, "
                                                 "lifetime)") &&
        !m->address.s && !m->address.mark.line && c->rc != HB_ENOMEM)
        missing(c, &n->mark, "address", "the memcached \"HOST:PORT\"");
}

static const struct sc_field tls_fields[] = {
    SCF_WHOLE("certificates", certificates),
    SCF_FUNC("min_version", struct cfg_tls, min_version, tls_version),
    SCF_STR("ciphers", struct cfg_tls, ciphers),
    SCF_PATH("ticket_key_file", struct cfg_tls, ticket_key_file),
    SCF_DUR("ticket_rotation", struct cfg_tls, ticket_rotation_ms, 60000, 86400000),
    SCF_FUNC("ticket_memcached", struct cfg_tls, ticket_mc, ticket_memcached),
    SCF_SIZE("small_records", struct cfg_tls, small_records, 0, 64 * 1024 * 1024),
    SCF_DUR("small_records_idle", struct cfg_tls, small_records_idle_ms, 100, 3600000),
    SCF_FUNC("client_auth", struct cfg_tls, client_auth, client_auth),
    SCF_PATH("client_ca", struct cfg_tls, client_ca),
    SCF_PATH("client_crl", struct cfg_tls, client_crl),
    SCF_U32("verify_depth", struct cfg_tls, verify_depth, 0, 16),
    SCF_FUNC("subject_header", struct cfg_tls, subject_header, sc_field_name),
    SCF_FUNC("san_header", struct cfg_tls, san_header, sc_field_name),
    SCF_FUNC("hash_header", struct cfg_tls, hash_header, sc_field_name),
    SCF_BOOL("early_data", struct cfg_tls, early_data),
    SCF_DUR("ocsp_check_interval", struct cfg_tls, ocsp_check_ms, 1000, 86400000),
    SCF_END,
};

static void listener_tls(struct sctx *c, const struct cfg_node *n, void *field)
{
    struct cfg_listener *l = field;
    l->tls = true;
    if (sc_apply_map(c, n, tls_fields, &l->tls_cfg, "a mapping") && l->tls_cfg.n_certs == 0 &&
        c->rc != HB_ENOMEM)
        missing(c, &n->mark, "certificates", "a list of cert and key files");
}

static void protocols(struct sctx *c, const struct cfg_node *n, void *field)
{
    static const struct {
        const char *name;
        enum cfg_proto p;
    } names[] = {{"h2", CFG_PROTO_H2},
                 {"http/1.1", CFG_PROTO_HTTP11},
                 {"http1.1", CFG_PROTO_HTTP11},
                 {"h2c", CFG_PROTO_H2C}};
    unsigned *set = field;
    if (!sc_seq_of(c, n, 8, "protocols (h2, http/1.1, h2c)"))
        return;
    if (n->n == 0)
        sc_expected(c, n, "at least one protocol (h2, http/1.1 or h2c)");
    for (size_t i = 0; i < n->n; i++) {
        const struct cfg_node *it = n->items[i];
        size_t k = 0;
        while (k < 4 && !(it->kind == CFG_NODE_SCALAR && strcmp(it->text, names[k].name) == 0))
            k++;
        size_t old = sc_path_index(c, i);
        if (k == 4)
            sc_expected(c, it, "a protocol (h2, http/1.1 or h2c)");
        else
            *set |= names[k].p;
        sc_path_pop(c, old);
    }
    c->proto_mark = n->mark;
}

/* ALPN carries h2 and http/1.1 over TLS; h2c is prior-knowledge cleartext
 * (RFC 9113 §3.3), so each only makes sense on one kind of listener. */
static void check_protocols(struct sctx *c, const struct cfg_listener *l)
{
    if (!c->proto_mark.line)
        return;
    if (l->tls && (l->protocols & CFG_PROTO_H2C))
        sc_error(c, &c->proto_mark,
                 "expected h2 or http/1.1 in %s.protocols of a TLS listener, found h2c", c->path);
    if (!l->tls && (l->protocols & CFG_PROTO_H2))
        sc_error(c, &c->proto_mark,
                 "expected h2c or http/1.1 in %s.protocols of a listener without tls, found h2",
                 c->path);
    c->proto_mark = (struct cfg_mark){0};
}

static void listener_address(struct sctx *c, const struct cfg_node *n, void *field)
{
    struct cfg_listener *l = field;
    sc_address(c, n, &l->address, &l->port);
}

/* header_case: lower (as HTTP/2 has them), title (Content-Type, for
 * legacy software that compares names case-sensitively) or preserve (as
 * the HTTP/1.1 peer spelt them). */
static void header_case(struct sctx *c, const struct cfg_node *n, void *field)
{
    static const enum cfg_header_case all[] = {CFG_HCASE_LOWER, CFG_HCASE_TITLE,
                                               CFG_HCASE_PRESERVE};
    for (size_t i = 0; n->kind == CFG_NODE_SCALAR && i < sizeof all / sizeof all[0]; i++)
        if (strcmp(n->text, cfg_header_case_name(all[i])) == 0) {
            *(enum cfg_header_case *)field = all[i];
            return;
        }
    sc_expected(c, n, "a header case (lower, title or preserve)");
}

static const struct sc_field listener_fields[] = {
    SCF_STR("name", struct cfg_listener, name),
    SCF_WHOLE("address", listener_address),
    SCF_PORT("port", struct cfg_listener, port),
    SCF_WHOLE("tls", listener_tls),
    SCF_FUNC("protocols", struct cfg_listener, protocols, protocols),
    SCF_U32("max_connections", struct cfg_listener, max_connections, 1, 10000000),
    SCF_U32("backlog", struct cfg_listener, backlog, 1, 65535),
    SCF_BOOL("websocket", struct cfg_listener, websocket),
    SCF_FUNC("proxy_protocol", struct cfg_listener, proxy_protocol, sc_networks),
    SCF_FUNC("header_case", struct cfg_listener, header_case, header_case),
    SCF_SIZE("tcp_notsent_lowat", struct cfg_listener, notsent_lowat, 0, 64 * 1024 * 1024),
    SCF_END,
};

void sc_listeners(struct sctx *c, const struct cfg_node *n, void *field)
{
    struct cfg *cfg = c->cfg;
    if (!sc_seq_of(c, n, MAX_LIST, "listeners"))
        return;
    for (size_t i = 0; i < n->n && c->rc != HB_ENOMEM; i++) {
        const struct cfg_node *item = n->items[i];
        if (!sc_visit(c, item))
            return;
        struct cfg_listener *l =
            cfg_mem_push(cfg->mem, &cfg->listeners, &cfg->n_listeners, sizeof *l);
        if (!l) {
            sc_nomem(c);
            return;
        }
        cfg_listener_defaults(l);
        l->mark = item->mark;
        size_t old = sc_path_index(c, i);
        c->addr_port_mark = c->port_key_mark = c->proto_mark = (struct cfg_mark){0};
        if (sc_apply_map(c, item, listener_fields, l, "a mapping (address, port, tls, ...)") &&
            item->kind == CFG_NODE_MAP) {
            sc_port_clash(c);
            check_protocols(c, l);
            if (!l->address.mark.line && c->rc != HB_ENOMEM)
                missing(c, &item->mark, "address", "\"HOST:PORT\" or \"HOST\" with port:");
            else if (l->address.s && !l->port && c->rc != HB_ENOMEM)
                missing(c, &l->address.mark, "port", "in the address as \"HOST:PORT\", or port:");
        }
        sc_path_pop(c, old);
    }
}

/* ---- upstreams ---------------------------------------------------------------- */

static void server_address(struct sctx *c, const struct cfg_node *n, void *field)
{
    struct cfg_server *s = field;
    sc_address(c, n, &s->address, &s->port);
}

static void server_resolve(struct sctx *c, const struct cfg_node *n, void *field)
{
    struct cfg_server *s = field;
    s->resolve_mark = n->mark;
    if (n->kind == CFG_NODE_SCALAR && strcmp(n->text, "start") == 0)
        s->resolve = CFG_RESOLVE_START;
    else if (n->kind == CFG_NODE_SCALAR && strcmp(n->text, "lazy") == 0)
        s->resolve = CFG_RESOLVE_LAZY;
    else
        sc_expected(c, n, "when a DNS name must resolve (start, lazy)");
}

static const struct sc_field server_fields[] = {
    SCF_WHOLE("address", server_address),
    SCF_PORT("port", struct cfg_server, port),
    SCF_U32("weight", struct cfg_server, weight, 1, 1000),
    SCF_U32("max_connections", struct cfg_server, max_connections, 0, 1000000),
    SCF_WHOLE("resolve", server_resolve),
    SCF_END,
};

static void one_server(struct sctx *c, const struct cfg_node *item, struct cfg_server *s)
{
    s->mark = item->mark;
    s->weight = 1;
    s->max_connections = CFG_SERVER_MAX_CONNECTIONS;
    c->addr_port_mark = c->port_key_mark = (struct cfg_mark){0};
    if (item->kind == CFG_NODE_SCALAR) {
        sc_address(c, item, &s->address, &s->port); /* "HOST:PORT" shorthand */
    } else if (item->kind != CFG_NODE_MAP) {
        sc_expected(c, item, "a server (\"HOST:PORT\" or a mapping with address, port, weight)");
        return;
    } else {
        sc_apply_map(c, item, server_fields, s, "a mapping");
        sc_port_clash(c);
    }
    if (c->rc == HB_ENOMEM)
        return;
    if (!s->address.mark.line && item->kind == CFG_NODE_MAP)
        missing(c, &item->mark, "address", "\"HOST:PORT\", or \"HOST\" with port:");
    else if (s->address.s && !s->port)
        missing(c, &s->address.mark, "port", "in the address as \"HOST:PORT\", or port:");
    if (s->address.s) {
        /* Not an IP literal: a DNS name, resolved asynchronously with all
         * its addresses (proxy/backend/resolver.h). */
        unsigned char a[16];
        s->is_name = inet_pton(AF_INET, s->address.s, a) != 1 &&
                     inet_pton(AF_INET6, s->address.s, a) != 1;
        if (!s->is_name && s->resolve_mark.line)
            sc_error(c, &s->resolve_mark,
                     "expected resolve: only on a server given as a DNS name, found the IP "
                     "address %s", s->address.s);
    }
}

static void servers(struct sctx *c, const struct cfg_node *n, void *field)
{
    struct cfg_upstream *u = field;
    c->list_mark = n->mark;
    if (!sc_seq_of(c, n, MAX_SERVERS, "servers"))
        return;
    if (n->n == 0)
        sc_expected(c, n, "at least one server");
    for (size_t i = 0; i < n->n && c->rc != HB_ENOMEM; i++) {
        if (!sc_visit(c, n->items[i]))
            return;
        struct cfg_server *s = cfg_mem_push(c->cfg->mem, &u->servers, &u->n_servers, sizeof *s);
        if (!s) {
            sc_nomem(c);
            return;
        }
        size_t old = sc_path_index(c, i);
        one_server(c, n->items[i], s);
        sc_path_pop(c, old);
    }
}

static void balance(struct sctx *c, const struct cfg_node *n, void *field)
{
    struct cfg_string *b = field;
    char what[160];
    size_t k = 0;
    while (cfg_balance_names[k] &&
           !(n->kind == CFG_NODE_SCALAR && strcmp(n->text, cfg_balance_names[k]) == 0))
        k++;
    if (cfg_balance_names[k]) {
        *b = (struct cfg_string){cfg_balance_names[k], n->mark};
        return;
    }
    const char *best =
        n->kind == CFG_NODE_SCALAR ? cfg_closest(n->text, cfg_balance_names, k) : NULL;
    size_t o = (size_t)snprintf(what, sizeof what, "a balancing policy (");
    for (size_t i = 0; i < k && o < sizeof what; i++)
        o += (size_t)snprintf(what + o, sizeof what - o, "%s%s", i ? ", " : "",
                              cfg_balance_names[i]);
    if (o < sizeof what && best)
        snprintf(what + o, sizeof what - o, "; did you mean \"%s\"?)", best);
    else if (o < sizeof what)
        snprintf(what + o, sizeof what - o, ")");
    sc_expected(c, n, what);
}

/* ---- upstreams.*.health_check ---------------------------------------------- */

static void check_type(struct sctx *c, const struct cfg_node *n, void *field)
{
    bool *tcp = field;
    if (n->kind == CFG_NODE_SCALAR && strcmp(n->text, "http") == 0)
        *tcp = false;
    else if (n->kind == CFG_NODE_SCALAR && strcmp(n->text, "tcp") == 0)
        *tcp = true;
    else
        sc_expected(c, n, "a check type (http, tcp)");
}

/* An HTTP method: 1 to 15 of A-Z (what the check writes on its request
 * line; a token, but upper case keeps typos such as "get" visible). */
static void check_method(struct sctx *c, const struct cfg_node *n, void *field)
{
    bool ok = n->kind == CFG_NODE_SCALAR && n->len >= 1 && n->len <= 15;
    for (size_t i = 0; ok && i < n->len; i++)
        ok = n->text[i] >= 'A' && n->text[i] <= 'Z';
    if (!ok) {
        sc_expected(c, n, "an HTTP method in upper case (GET, HEAD, OPTIONS, ...)");
        return;
    }
    (void)sc_string(c, n, field);
}

/* Printable ASCII without spaces, starting with prefix when one is given. */
static bool visible(const struct cfg_node *n, char first)
{
    if (n->kind != CFG_NODE_SCALAR || n->len == 0 || n->len > 1024 ||
        (first && n->text[0] != first))
        return false;
    for (size_t i = 0; i < n->len; i++)
        if (n->text[i] <= ' ' || n->text[i] >= 0x7f)
            return false;
    return true;
}

static void check_path(struct sctx *c, const struct cfg_node *n, void *field)
{
    if (!visible(n, '/'))
        sc_expected(c, n, "a request path starting with / (visible ASCII, no spaces)");
    else
        (void)sc_string(c, n, field);
}

static void check_host(struct sctx *c, const struct cfg_node *n, void *field)
{
    if (!visible(n, 0))
        sc_expected(c, n, "a Host header value (visible ASCII, no spaces)");
    else
        (void)sc_string(c, n, field);
}

static void check_expect(struct sctx *c, const struct cfg_node *n, void *field)
{
    struct cfg_health_check *h = field;
    struct hb_status_ranges r;
    if (n->kind == CFG_NODE_SCALAR && hb_status_ranges_parse(n->text, &r) == 0) {
        if (sc_string(c, n, &h->expect) == 0)
            h->expect_ranges = r;
        return;
    }
    sc_expected(c, n, "statuses as \"200-399\" or \"200,204,300-308\" (100..599, at most 16 "
                      "items)");
}

#define HC struct cfg_health_check
static const struct sc_field check_fields[] = {
    SCF_FUNC("type", HC, tcp, check_type),
    SCF_FUNC("method", HC, method, check_method),
    SCF_FUNC("path", HC, path, check_path),
    SCF_FUNC("host", HC, host, check_host),
    SCF_WHOLE("expect_status", check_expect),
    SCF_DUR("interval", HC, interval_ms, 10, 3600000),
    SCF_DUR("jitter", HC, jitter_ms, 0, 3600000),
    SCF_DUR("timeout", HC, timeout_ms, 1, 3600000),
    SCF_U32("rise", HC, rise, 1, 100),
    SCF_U32("fall", HC, fall, 1, 100),
    SCF_END,
};

static void health_check(struct sctx *c, const struct cfg_node *n, void *field)
{
    struct cfg_health_check *h = field;
    if (n->kind == CFG_NODE_NULL) {
        h->enabled = true; /* "health_check:" alone: every default */
        return;
    }
    if (!sc_apply_map(c, n, check_fields, h, "a mapping (type, path, interval, ...)"))
        return;
    h->enabled = true;
    if (h->jitter_ms >= h->interval_ms)
        sc_error(c, &n->mark, "expected health_check.jitter (%u ms) below interval (%u ms)",
                 (unsigned)h->jitter_ms, (unsigned)h->interval_ms);
    if (h->timeout_ms > h->interval_ms)
        sc_error(c, &n->mark, "expected health_check.timeout (%u ms) at most interval (%u ms)",
                 (unsigned)h->timeout_ms, (unsigned)h->interval_ms);
}

/* ---- upstreams.*.outlier_detection ------------------------------------------ */

static void outlier_count(struct sctx *c, const struct cfg_node *n, void *field)
{
    unsigned *mask = field;
    static const char *const names[] = {"connect_failure", "reset", "timeout", "5xx"};
    const char *what = "a list of failures to count (connect_failure, reset, timeout, 5xx)";
    if (!sc_seq_of(c, n, 8, "failures to count"))
        return;
    if (n->n == 0) {
        sc_expected(c, n, what);
        return;
    }
    unsigned m = 0;
    for (size_t i = 0; i < n->n; i++) {
        const struct cfg_node *it = n->items[i];
        size_t k = 0;
        while (k < HB_OUTCOME_FAILURES &&
               !(it->kind == CFG_NODE_SCALAR && strcmp(it->text, names[k]) == 0))
            k++;
        if (k == HB_OUTCOME_FAILURES) {
            size_t old = sc_path_index(c, i);
            sc_expected(c, it, "a failure to count (connect_failure, reset, timeout, 5xx)");
            sc_path_pop(c, old);
            return;
        }
        m |= 1u << k;
    }
    *mask = m;
}

#define OD struct cfg_outlier
static const struct sc_field outlier_fields[] = {
    SCF_U32("consecutive_failures", OD, consecutive_failures, 1, 1000),
    SCF_FUNC("count", OD, count, outlier_count),
    SCF_DUR("base_ejection_time", OD, base_ejection_ms, 1, 3600000),
    SCF_DUR("max_ejection_time", OD, max_ejection_ms, 1, 24 * 3600000),
    SCF_U32("max_ejected_percent", OD, max_ejected_percent, 0, 100),
    SCF_END,
};

static void outlier_detection(struct sctx *c, const struct cfg_node *n, void *field)
{
    struct cfg_outlier *o = field;
    if (n->kind == CFG_NODE_NULL) {
        o->enabled = true;
        return;
    }
    if (!sc_apply_map(c, n, outlier_fields, o,
                      "a mapping (consecutive_failures, count, base_ejection_time, ...)"))
        return;
    o->enabled = true;
    if (o->max_ejection_ms < o->base_ejection_ms)
        sc_error(c, &n->mark,
                 "expected outlier_detection.max_ejection_time (%u ms) at least "
                 "base_ejection_time (%u ms)",
                 (unsigned)o->max_ejection_ms, (unsigned)o->base_ejection_ms);
}

/* ---- upstreams.*.retry_on, retry_budget --------------------------------------- */

static void retry_on(struct sctx *c, const struct cfg_node *n, void *field)
{
    unsigned *mask = field;
    static const char *const names[] = {"connect_failure", "reset", "timeout", "502", "503", "504"};
    if (!sc_seq_of(c, n, 8, "retry conditions"))
        return;
    unsigned m = 0;
    for (size_t i = 0; i < n->n; i++) {
        const struct cfg_node *it = n->items[i];
        size_t k = 0;
        while (k < 6 && !(it->kind == CFG_NODE_SCALAR && strcmp(it->text, names[k]) == 0))
            k++;
        if (k == 6) {
            size_t old = sc_path_index(c, i);
            sc_expected(c, it, "a retry condition (connect_failure, reset, timeout, 502, 503, 504)");
            sc_path_pop(c, old);
            return;
        }
        m |= 1u << k;
    }
    *mask = m; /* [] : no retry at all (the stale keep-alive retry stays) */
}

static const struct sc_field budget_fields[] = {
    SCF_U32("percent", struct cfg_upstream, retry_budget.percent, 0, 100),
    SCF_U32("min_retries", struct cfg_upstream, retry_budget.min_retries, 0, 100000),
    SCF_END,
};

static void retry_budget(struct sctx *c, const struct cfg_node *n, void *field)
{
    sc_apply_map(c, n, budget_fields, field, "a mapping (percent, min_retries)");
}

static void on_no_healthy(struct sctx *c, const struct cfg_node *n, void *field)
{
    enum cfg_no_healthy *v = field;
    if (n->kind == CFG_NODE_SCALAR && strcmp(n->text, "panic") == 0)
        *v = CFG_NO_HEALTHY_PANIC;
    else if (n->kind == CFG_NODE_SCALAR && strcmp(n->text, "fail") == 0)
        *v = CFG_NO_HEALTHY_FAIL;
    else
        sc_expected(c, n, "what to do with no healthy server (panic, fail)");
}

/* ---- upstreams.*.tls ---------------------------------------------------------- */

static void tls_name(struct sctx *c, const struct cfg_node *n, void *field)
{
    (void)host_name(c, n, false, field);
}

#define UT struct cfg_upstream_tls
static const struct sc_field upstream_tls_fields[] = {
    SCF_BOOL("verify", UT, verify),
    SCF_PATH("ca_file", UT, ca_file),
    SCF_FUNC("sni", UT, sni, tls_name),
    SCF_FUNC("verify_name", UT, verify_name, tls_name),
    SCF_PATH("cert", UT, cert),
    SCF_PATH("key", UT, key),
    SCF_BOOL("session_reuse", UT, session_reuse),
    SCF_FUNC("min_version", UT, min_version, tls_version),
    SCF_END,
};
#undef UT

/* tls: alone turns TLS on with every default (verified against the system
 * store, the server's own name). A client certificate needs its key and the
 * other way round. */
static void upstream_tls(struct sctx *c, const struct cfg_node *n, void *field)
{
    struct cfg_upstream_tls *t = field;
    t->enabled = true;
    if (!sc_apply_map(c, n, upstream_tls_fields, t,
                      "a mapping (verify, ca_file, sni, verify_name, cert, key, ...)") ||
        c->rc == HB_ENOMEM)
        return;
    if (t->cert.s && !t->key.s)
        missing(c, &t->cert.mark, "key", "the client certificate's PEM private key");
    else if (t->key.s && !t->cert.s)
        missing(c, &t->key.mark, "cert", "the PEM client certificate chain for this key");
}

/* proxy_protocol: v1 or v2 (off: the default, no header). */
static void proxy_protocol_out(struct sctx *c, const struct cfg_node *n, void *field)
{
    static const char *const names[] = {"off", "v1", "v2"};
    for (uint8_t i = 0; n->kind == CFG_NODE_SCALAR && i < 3; i++)
        if (strcmp(n->text, names[i]) == 0) {
            *(uint8_t *)field = i;
            return;
        }
    sc_expected(c, n, "a PROXY protocol version (v1, v2 or off)");
}

#define UP struct cfg_upstream
static const struct sc_field upstream_fields[] = {
    SCF_WHOLE("servers", servers),
    SCF_FUNC("balance", UP, balance, balance),
    SCF_DUR("connect_timeout", UP, connect_timeout_ms, 1, 10 * 60000),
    SCF_DUR("read_timeout", UP, read_timeout_ms, 1, 24 * 3600000),
    SCF_DUR("idle_timeout", UP, idle_timeout_ms, 1, 24 * 3600000),
    SCF_U32("keepalive", UP, keepalive, 0, 10000),
    SCF_DUR("surplus_idle_timeout", UP, surplus_idle_timeout_ms, 0, 24 * 3600000),
    SCF_U32("retries", UP, retries, 0, 10),
    SCF_DUR("queue_timeout", UP, queue_timeout_ms, 1, 10 * 60000),
    SCF_U32("queue_size", UP, queue_size, 0, 1000000),
    SCF_FUNC("health_check", UP, health_check, health_check),
    SCF_FUNC("outlier_detection", UP, outlier_detection, outlier_detection),
    SCF_FUNC("on_no_healthy", UP, on_no_healthy, on_no_healthy),
    SCF_DUR("slow_start", UP, slow_start_ms, 0, 3600000),
    SCF_U32("max_requests", UP, max_requests, 0, 10000000),
    SCF_U32("max_pending", UP, max_pending, 0, 10000000),
    SCF_U32("per_client_share", UP, per_client_share, 1, 100),
    SCF_FUNC("retry_on", UP, retry_on, retry_on),
    SCF_DUR("per_try_timeout", UP, per_try_timeout_ms, 0, 24 * 3600000),
    SCF_WHOLE("retry_budget", retry_budget),
    SCF_FUNC("header_case", UP, header_case, header_case),
    SCF_FUNC("tls", UP, tls, upstream_tls),
    SCF_FUNC("proxy_protocol", UP, proxy_protocol, proxy_protocol_out),
    SCF_FUNC("consistent_hash", UP, consistent_hash, sc_consistent_hash),
    SCF_FUNC("sticky_cookie", UP, sticky_cookie, sc_sticky_cookie),
    SCF_END,
};

static bool upstream_name_ok(const struct cfg_node *k)
{
    if (k->kind != CFG_NODE_SCALAR || k->len == 0 || k->len > 64)
        return false;
    for (size_t i = 0; i < k->len; i++) {
        char ch = k->text[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-' || ch == '.'))
            return false;
    }
    return true;
}

/* upstreams: a mapping from name to group, so a name is written once per
 * group; a name given twice is reported at the second. */
void sc_upstreams(struct sctx *c, const struct cfg_node *n, void *field)
{
    struct cfg *cfg = c->cfg;
    if (n->kind != CFG_NODE_MAP) {
        sc_expected(c, n, "a mapping from upstream names to upstream groups");
        return;
    }
    size_t count;
    const struct cfg_pair *pairs = sc_pairs(c, n, &count);
    if (count > MAX_LIST) {
        sc_expected(c, n, "at most 4096 upstreams");
        return;
    }
    for (size_t i = 0; pairs && i < count && c->rc != HB_ENOMEM; i++) {
        const struct cfg_node *key = pairs[i].key;
        if (!sc_visit(c, key))
            return;
        if (!upstream_name_ok(key)) {
            sc_expected(c, key, "an upstream name (1 to 64 of A-Z a-z 0-9 _ - .)");
            continue;
        }
        const struct cfg_upstream *dup = cfg_find_upstream(cfg, key->text);
        if (dup) {
            sc_error(c, &key->mark,
                     "expected a unique upstream name, found \"%s\" again (first at %u:%u)",
                     key->text, (unsigned)dup->name.mark.line, (unsigned)dup->name.mark.col);
            continue;
        }
        struct cfg_upstream *u =
            cfg_mem_push(cfg->mem, &cfg->upstreams, &cfg->n_upstreams, sizeof *u);
        if (!u || sc_string(c, key, &u->name) != 0) {
            sc_nomem(c);
            return;
        }
        cfg_upstream_defaults(u);
        u->mark = key->mark;
        size_t old = sc_path_key(c, u->name.s);
        const struct cfg_node *v = pairs[i].value;
        c->list_mark = (struct cfg_mark){0};
        if (v->kind == CFG_NODE_NULL)
            sc_expected(c, v, "a mapping with servers:");
        else if (sc_apply_map(c, v, upstream_fields, u, "a mapping (servers, balance, ...)") &&
                 !c->list_mark.line && c->rc != HB_ENOMEM)
            missing(c, &v->mark, "servers", "a list of \"HOST:PORT\"");
        sc_path_pop(c, old);
    }
}
