/* config/cfg_validate.c — cfg_finalize(): derived values and the checks that
 * look across sections (names, references, files). Runs on the result of the
 * file and of the command line alike. */
#include <errno.h>
#include <stdio.h>
#include <arpa/inet.h>
#include <string.h>

#include "config/cfg_internal.h"
#include "core/err.h"

struct vctx {
    struct cfg *cfg;
    struct cfg_errors *errs;
    int rc;
};

static void verr(struct vctx *v, const struct cfg_mark *mark, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void verr(struct vctx *v, const struct cfg_mark *mark, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (cfg_errors_addv(v->errs, mark, fmt, ap) != 0)
        v->rc = HB_ENOMEM;
    else if (v->rc == 0)
        v->rc = HB_EINVAL;
    va_end(ap);
}

static const char *at(const struct cfg_mark *m, char *buf, size_t size)
{
    if (!m->line)
        return m->file ? m->file : "the defaults";
    snprintf(buf, size, "%u:%u", (unsigned)m->line, (unsigned)m->col);
    return buf;
}

static void readable(struct vctx *v, const struct cfg_string *path, const char *what)
{
    if (!path->s)
        return;
    /* fopen() of a directory succeeds on Linux; the first read says EISDIR. */
    FILE *f = fopen(path->s, "r");
    int e = errno;
    if (f) {
        errno = 0;
        bool bad = getc(f) == EOF && ferror(f);
        e = errno;
        fclose(f);
        if (!bad)
            return;
    }
    verr(v, &path->mark, "expected a readable %s, found \"%s\" (%s)", what, path->s, strerror(e));
}

static void check_certs(struct vctx *v, const struct cfg_listener *l)
{
    const struct cfg_tls *t = &l->tls_cfg;
    char pos[32];
    for (size_t i = 0; i < t->n_certs; i++) {
        readable(v, &t->certs[i].cert, "certificate file");
        readable(v, &t->certs[i].key, "private key file");
        readable(v, &t->certs[i].ocsp_file, "OCSP response file");
        /* Each SNI name picks one certificate (RFC 6066 §3). */
        for (size_t j = 0; j < t->certs[i].n_server_names; j++) {
            const struct cfg_string *a = &t->certs[i].server_names[j];
            for (size_t k = 0; k <= i; k++) {
                size_t end = k == i ? j : t->certs[k].n_server_names;
                for (size_t m = 0; m < end; m++) {
                    const struct cfg_string *b = &t->certs[k].server_names[m];
                    if (strcmp(a->s, b->s) == 0)
                        verr(v, &a->mark,
                             "expected a server name served by one certificate, found \"%s\" again "
                             "(first at %s)",
                             a->s, at(&b->mark, pos, sizeof pos));
                }
            }
        }
    }
    readable(v, &t->ticket_key_file, "session ticket key file");
    if (t->ticket_key_file.s && t->ticket_mc.mark.line)
        verr(v, &t->ticket_mc.mark,
             "expected one source of ticket keys, found ticket_memcached: and ticket_key_file: "
             "(at %s)",
             at(&t->ticket_key_file.mark, pos, sizeof pos));
    if (t->client_auth != CFG_CLIENT_AUTH_NONE && !t->client_ca.s)
        verr(v, &l->mark, "expected tls.client_ca (the CAs of client certificates) with "
                          "client_auth: %s, found none",
             cfg_client_auth_name(t->client_auth));
    if (t->client_auth == CFG_CLIENT_AUTH_NONE && (t->client_ca.s || t->client_crl.s))
        verr(v, t->client_ca.s ? &t->client_ca.mark : &t->client_crl.mark,
             "expected client_auth: optional or required with client_ca/client_crl, found none");
    readable(v, &t->client_ca, "client CA file");
    readable(v, &t->client_crl, "client CRL file");
}

static void check_listeners(struct vctx *v)
{
    struct cfg *cfg = v->cfg;
    char pos[32];
    if (cfg->n_listeners == 0)
        verr(
            v, cfg->source.file ? &cfg->source : &cfg_cmdline_mark,
            "expected at least one listener (listeners: in the file or a listen flag), found none");
    for (size_t i = 0; i < cfg->n_listeners; i++) {
        struct cfg_listener *l = &cfg->listeners[i];
        if (l->protocols == 0)
            l->protocols =
                l->tls ? CFG_PROTO_H2 | CFG_PROTO_HTTP11 : CFG_PROTO_H2C | CFG_PROTO_HTTP11;
        if (l->tls)
            check_certs(v, l);
        for (size_t j = 0; j < i; j++) {
            const struct cfg_listener *o = &cfg->listeners[j];
            if (o->port == l->port && o->address.s && l->address.s &&
                strcmp(o->address.s, l->address.s) == 0)
                verr(v, &l->address.mark,
                     "expected a unique listener address, found %s:%u again (first at %s)",
                     l->address.s, (unsigned)l->port, at(&o->address.mark, pos, sizeof pos));
            if (o->name.s && l->name.s && strcmp(o->name.s, l->name.s) == 0)
                verr(v, &l->name.mark,
                     "expected a unique listener name, found \"%s\" again (first at %s)", l->name.s,
                     at(&o->name.mark, pos, sizeof pos));
        }
        if (cfg->admin.enabled && cfg->admin.port == l->port &&
            strcmp(cfg->admin.address.s, l->address.s ? l->address.s : "") == 0)
            verr(v, &cfg->admin.address.mark,
                 "expected an admin address that no listener uses, found %s:%u (listener at %s)",
                 l->address.s, (unsigned)l->port, at(&l->mark, pos, sizeof pos));
    }
}

static void check_upstreams(struct vctx *v)
{
    struct cfg *cfg = v->cfg;
    char pos[32];
    for (size_t i = 0; i < cfg->n_upstreams; i++) {
        struct cfg_upstream *u = &cfg->upstreams[i];
        for (size_t j = 0; j < u->n_servers; j++) {
            /* Not an IP literal: a DNS name (proxy/backend/resolver.h). The
             * command line's -b servers get this here too. */
            struct cfg_server *s = &u->servers[j];
            unsigned char a[16];
            s->is_name = s->address.s && inet_pton(AF_INET, s->address.s, a) != 1 &&
                         inet_pton(AF_INET6, s->address.s, a) != 1;
        }
        if (u->consistent_hash.mark.line && strcmp(u->balance.s, "consistent_hash") != 0)
            verr(v, &u->consistent_hash.mark,
                 "expected balance: consistent_hash in upstream \"%s\" with consistent_hash:, "
                 "found balance: %s",
                 u->name.s, u->balance.s);
        else if (strcmp(u->balance.s, "consistent_hash") == 0 &&
                 u->consistent_hash.table_size < u->n_servers)
            verr(v, u->consistent_hash.mark.line ? &u->consistent_hash.mark : &u->mark,
                 "expected consistent_hash.table_size (%u) at least the number of servers (%zu) "
                 "in upstream \"%s\"",
                 (unsigned)u->consistent_hash.table_size, u->n_servers, u->name.s);
        for (size_t j = 0; j < u->n_servers; j++)
            for (size_t k = 0; k < j; k++) {
                const struct cfg_server *a = &u->servers[j], *b = &u->servers[k];
                if (a->address.s && b->address.s && a->port && a->port == b->port &&
                    strcmp(a->address.s, b->address.s) == 0)
                    verr(v, &a->mark,
                         "expected a unique server in upstream \"%s\", found %s:%u again (first at "
                         "%s)",
                         u->name.s, a->address.s, (unsigned)a->port, at(&b->mark, pos, sizeof pos));
            }
    }
}

static void resolve_upstream(struct vctx *v, struct cfg_route *r)
{
    struct cfg *cfg = v->cfg;
    const struct cfg_upstream *u = cfg_find_upstream(cfg, r->upstream.s);
    if (u) {
        r->upstream_index = (size_t)(u - cfg->upstreams);
        return;
    }
    const char *names[64];
    size_t n = 0;
    for (size_t i = 0; i < cfg->n_upstreams && n < 64; i++)
        names[n++] = cfg->upstreams[i].name.s;
    const char *best = cfg_closest(r->upstream.s, names, n);
    if (best)
        verr(v, &r->upstream.mark,
             "expected the name of a defined upstream (did you mean \"%s\"?), found \"%s\"", best,
             r->upstream.s);
    else if (n == 0)
        verr(v, &r->upstream.mark,
             "expected the name of a defined upstream (none is defined), found \"%s\"",
             r->upstream.s);
    else
        verr(v, &r->upstream.mark, "expected the name of a defined upstream, found \"%s\"",
             r->upstream.s);
}

static bool same_match(const struct cfg_route *a, const struct cfg_route *b)
{
    /* A host or path given but rejected was reported already. */
    if ((a->host.mark.line && !a->host.s) || (b->host.mark.line && !b->host.s) ||
        (a->path.mark.line && !a->path.s) || (b->path.mark.line && !b->path.s))
        return false;
    if (!a->host.s != !b->host.s || (a->host.s && strcmp(a->host.s, b->host.s) != 0))
        return false;
    if (a->path_match != b->path_match)
        return false;
    return a->path_match == CFG_PATH_ANY || strcmp(a->path.s, b->path.s) == 0;
}

static void check_routes(struct vctx *v)
{
    struct cfg *cfg = v->cfg;
    char pos[32];
    const struct cfg_route *catch_all = NULL;
    for (size_t i = 0; i < cfg->n_routes; i++) {
        struct cfg_route *r = &cfg->routes[i];
        if (r->upstream.s)
            resolve_upstream(v, r);
        if (r->rewrite_prefix.s && r->path_match != CFG_PATH_PREFIX)
            verr(v, &r->rewrite_prefix.mark,
                 "expected rewrite_prefix only in a route with path_prefix, found it without");
        if (catch_all) {
            verr(v, &r->mark,
                 "expected no route after the catch-all route at %s (it matches every request), "
                 "found one that is never used",
                 at(&catch_all->mark, pos, sizeof pos));
            continue;
        }
        for (size_t j = 0; j < i; j++)
            if (same_match(&cfg->routes[j], r)) {
                verr(v, &r->mark,
                     "expected a route with a host and path no earlier route has, found the same "
                     "as the route at %s (this one is never used)",
                     at(&cfg->routes[j].mark, pos, sizeof pos));
                break;
            }
        if (cfg_route_is_catch_all(r))
            catch_all = r;
    }
}

/* A template goes with the template format, and a ring holds a whole line. */
static void check_logging(struct vctx *v)
{
    const struct cfg_logging *lg = &v->cfg->logging;
    const struct cfg_mark *src = &v->cfg->source;
    if (lg->access_log_format == CFG_ACCESS_TEMPLATE && !lg->access_log_template.s)
        verr(v, src, "expected logging.access_log_template with access_log_format: template, "
                     "found none");
    if (lg->access_log_template.s && lg->access_log_format != CFG_ACCESS_TEMPLATE)
        verr(v, &lg->access_log_template.mark,
             "expected logging.access_log_format: template with an access_log_template, found "
             "%s",
             cfg_access_format_name(lg->access_log_format));
    if (lg->access_log_line_max > lg->access_log_buffer / 4)
        verr(v, src,
             "expected logging.access_log_line_max (%u) of at most a quarter of "
             "access_log_buffer (%u)",
             (unsigned)lg->access_log_line_max, (unsigned)lg->access_log_buffer);
}

int cfg_finalize(struct cfg *cfg, struct cfg_errors *errs)
{
    struct vctx v = {cfg, errs, 0};
    if (cfg->forwarded.x_forwarded_for_mode == CFG_XFF_TRUST && cfg->forwarded.trusted.n == 0)
        verr(&v, &cfg->source, "expected forwarded.trusted (the networks of the proxies in "
                               "front) with x_forwarded_for_mode: trust, found none");
    if (cfg->group.s && !cfg->user.s)
        verr(&v, &cfg->group.mark, "expected user: with group: (the group is what the user "
                                   "becomes along with its uid), found group: alone");
    check_logging(&v);
    check_listeners(&v);
    check_upstreams(&v);
    check_routes(&v);
    cfg->keep_request_case = false;
    for (size_t i = 0; i < cfg->n_upstreams; i++)
        cfg->keep_request_case |= cfg->upstreams[i].header_case == CFG_HCASE_PRESERVE;
    return v.rc;
}
