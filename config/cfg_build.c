/* config/cfg_build.c — the builder the command line uses: the same structs,
 * defaults and checks as the YAML loader. */
#include <string.h>

#include "config/cfg_internal.h"
#include "core/err.h"

static int bad_hostport(struct cfg_errors *errs, const char *flag, const char *s, int rc)
{
    int arc =
        cfg_errors_add(errs, &cfg_cmdline_mark, "expected %s as \"HOST:PORT\"%s, found \"%s\"",
                       flag, rc == HB_ERANGE ? " with a port from 1 to 65535" : "", s);
    return arc ? HB_ENOMEM : HB_EINVAL;
}

static int cmdline_string(struct cfg *cfg, const char *s, struct cfg_string *out)
{
    out->s = cfg_mem_strdup(cfg->mem, s);
    out->mark = cfg_cmdline_mark;
    return out->s ? 0 : HB_ENOMEM;
}

int cfg_add_listener(struct cfg *cfg, const char *hostport, const char *cert, const char *key,
                     struct cfg_errors *errs)
{
    char host[256];
    uint16_t port;
    int rc = cfg_parse_hostport(hostport, host, sizeof host, &port);
    if (rc != 0)
        return bad_hostport(errs, "a listener address", hostport, rc);
    if (!cert != !key) {
        rc = cfg_errors_add(errs, &cfg_cmdline_mark,
                            "expected both a certificate and a key for %s, found only the %s",
                            hostport, cert ? "certificate" : "key");
        return rc ? HB_ENOMEM : HB_EINVAL;
    }
    struct cfg_listener *l = cfg_mem_push(cfg->mem, &cfg->listeners, &cfg->n_listeners, sizeof *l);
    if (!l)
        return HB_ENOMEM;
    cfg_listener_defaults(l);
    l->mark = cfg_cmdline_mark;
    l->port = port;
    if (cmdline_string(cfg, host, &l->address) != 0)
        return HB_ENOMEM;
    if (!cert)
        return 0;
    l->tls = true;
    struct cfg_cert *c = cfg_mem_push(cfg->mem, &l->tls_cfg.certs, &l->tls_cfg.n_certs, sizeof *c);
    if (!c)
        return HB_ENOMEM;
    c->mark = cfg_cmdline_mark;
    if (cmdline_string(cfg, cert, &c->cert) != 0 || cmdline_string(cfg, key, &c->key) != 0)
        return HB_ENOMEM;
    return 0;
}

static bool has_catch_all(const struct cfg *cfg)
{
    for (size_t i = 0; i < cfg->n_routes; i++)
        if (cfg_route_is_catch_all(&cfg->routes[i]))
            return true;
    return false;
}

int cfg_add_backend(struct cfg *cfg, const char *hostport, struct cfg_errors *errs)
{
    char host[256];
    uint16_t port;
    int rc = cfg_parse_hostport(hostport, host, sizeof host, &port);
    if (rc != 0)
        return bad_hostport(errs, "a backend address", hostport, rc);
    struct cfg_upstream *u = (struct cfg_upstream *)cfg_find_upstream(cfg, "default");
    if (!u) {
        u = cfg_mem_push(cfg->mem, &cfg->upstreams, &cfg->n_upstreams, sizeof *u);
        if (!u)
            return HB_ENOMEM;
        cfg_upstream_defaults(u);
        u->mark = cfg_cmdline_mark;
        if (cmdline_string(cfg, "default", &u->name) != 0)
            return HB_ENOMEM;
    }
    struct cfg_server *s = cfg_mem_push(cfg->mem, &u->servers, &u->n_servers, sizeof *s);
    if (!s)
        return HB_ENOMEM;
    s->mark = cfg_cmdline_mark;
    s->port = port;
    s->weight = 1;
    s->max_connections = CFG_SERVER_MAX_CONNECTIONS;
    if (cmdline_string(cfg, host, &s->address) != 0)
        return HB_ENOMEM;
    if (has_catch_all(cfg))
        return 0;
    struct cfg_route *r = cfg_mem_push(cfg->mem, &cfg->routes, &cfg->n_routes, sizeof *r);
    if (!r)
        return HB_ENOMEM;
    r->mark = cfg_cmdline_mark;
    r->websocket = true;
    return cmdline_string(cfg, "default", &r->upstream);
}

int cfg_set_user(struct cfg *cfg, const char *user, struct cfg_errors *errs)
{
    if (!user || !*user) {
        cfg_errors_add(errs, &cfg_cmdline_mark, "expected a user name for --user, found none");
        return HB_EINVAL;
    }
    char *s = cfg_mem_strdup(cfg->mem, user);
    if (!s)
        return HB_ENOMEM;
    cfg->user = (struct cfg_string){s, cfg_cmdline_mark};
    return 0;
}
