/* config/cfg_schema_routes.c — routes: host and path matches, the upstream
 * they send to, path rewriting and header edits. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "config/cfg_internal.h"
#include "core/err.h"
#include "core/link_hdr.h"

#define MAX_ROUTES  4096
#define MAX_HEADERS 64

/* RFC 9110 §5.6.2: tchar. */
static bool is_tchar(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

/* Fields a route may not edit: connection-specific ones (RFC 9113 §8.2.2)
 * and the framing of the message (RFC 9112 §6), which the proxy owns. */
static bool is_forbidden_header(const char *name)
{
    static const char *const no[] = {"connection",        "keep-alive", "proxy-connection",
                                     "transfer-encoding", "upgrade",    "te",
                                     "content-length"};
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        if (strcmp(name, no[i]) == 0)
            return true;
    return false;
}

static bool header_name(struct sctx *c, const struct cfg_node *k, struct cfg_string *out)
{
    bool ok = k->kind == CFG_NODE_SCALAR && k->len > 0 && k->len <= 256;
    for (size_t i = 0; ok && i < k->len; i++)
        ok = is_tchar((unsigned char)k->text[i]);
    if (!ok) {
        sc_expected(c, k, "a header field name (RFC 9110 token characters)");
        return false;
    }
    if (sc_string(c, k, out) != 0)
        return false;
    /* RFC 9113 §8.2.1: field names are lowercase on HTTP/2. */
    for (char *p = (char *)out->s; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p | 0x20);
    if (is_forbidden_header(out->s)) {
        sc_expected(c, k, "a header field a route may edit (not connection-specific or framing)");
        return false;
    }
    return true;
}

static bool header_value(struct sctx *c, const struct cfg_node *v, struct cfg_string *out)
{
    /* RFC 9110 §5.5: no CR, LF or NUL; we refuse every other control too,
     * except HTAB. An empty value is allowed. */
    bool ok = v->kind == CFG_NODE_SCALAR || v->kind == CFG_NODE_NULL;
    for (size_t i = 0; ok && i < v->len; i++) {
        unsigned char ch = (unsigned char)v->text[i];
        ok = (ch >= 0x20 && ch != 0x7f) || ch == '\t';
    }
    if (!ok) {
        sc_expected(c, v, "a header field value (a string without control characters)");
        return false;
    }
    out->s = cfg_mem_strndup(c->cfg->mem, v->text ? v->text : "", v->len);
    out->mark = v->mark;
    if (!out->s)
        sc_nomem(c);
    return out->s != NULL;
}

static bool push_header(struct sctx *c, struct cfg_header **arr, size_t *n, struct cfg_header h)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*arr)[i].name.s, h.name.s) == 0) {
            sc_error(c, &h.name.mark,
                     "expected each header once in %s, found \"%s\" again (first at %u:%u)",
                     c->path, h.name.s, (unsigned)(*arr)[i].name.mark.line,
                     (unsigned)(*arr)[i].name.mark.col);
            return false;
        }
    struct cfg_header *slot = cfg_mem_push(c->cfg->mem, arr, n, sizeof *slot);
    if (!slot) {
        sc_nomem(c);
        return false;
    }
    *slot = h;
    return true;
}

/* set: / add: — a mapping from field name to value. */
static void header_map(struct sctx *c, const struct cfg_node *n, struct cfg_header **arr,
                       size_t *count)
{
    if (n->kind != CFG_NODE_MAP) {
        sc_expected(c, n, "a mapping from header names to values");
        return;
    }
    size_t np;
    const struct cfg_pair *pairs = sc_pairs(c, n, &np);
    if (np > MAX_HEADERS) {
        sc_expected(c, n, "at most 64 headers");
        return;
    }
    for (size_t i = 0; pairs && i < np && c->rc != HB_ENOMEM; i++) {
        struct cfg_header h = {0};
        if (sc_visit(c, pairs[i].key) && header_name(c, pairs[i].key, &h.name) &&
            header_value(c, pairs[i].value, &h.value))
            push_header(c, arr, count, h);
    }
}

static void hdr_set(struct sctx *c, const struct cfg_node *n, void *field)
{
    struct cfg_header_ops *ops = field;
    header_map(c, n, &ops->set, &ops->n_set);
}

static void hdr_add(struct sctx *c, const struct cfg_node *n, void *field)
{
    struct cfg_header_ops *ops = field;
    header_map(c, n, &ops->add, &ops->n_add);
}

/* remove: — a sequence of field names. */
static void hdr_remove(struct sctx *c, const struct cfg_node *n, void *field)
{
    struct cfg_header_ops *ops = field;
    if (n->kind != CFG_NODE_SEQ || n->n > MAX_HEADERS) {
        sc_expected(c, n,
                    n->kind == CFG_NODE_SEQ ? "at most 64 header names"
                                            : "a sequence of header names");
        return;
    }
    for (size_t i = 0; i < n->n && c->rc != HB_ENOMEM; i++) {
        struct cfg_header h = {0};
        if (sc_visit(c, n->items[i]) && header_name(c, n->items[i], &h.name))
            push_header(c, &ops->remove, &ops->n_remove, h);
    }
}

static const struct sc_field header_fields[] = {
    SCF_WHOLE("set", hdr_set),
    SCF_WHOLE("add", hdr_add),
    SCF_WHOLE("remove", hdr_remove),
    SCF_END,
};

static void headers(struct sctx *c, const struct cfg_node *n, void *field)
{
    sc_apply_map(c, n, header_fields, field, "a mapping (set, add, remove)");
}

static bool abs_path(struct sctx *c, const struct cfg_node *n, struct cfg_string *out)
{
    bool ok = n->kind == CFG_NODE_SCALAR && n->len > 0 && n->text[0] == '/';
    /* RFC 3986 §3.3: no spaces, controls, '?' or '#' inside a path. */
    for (size_t i = 0; ok && i < n->len; i++) {
        unsigned char ch = (unsigned char)n->text[i];
        ok = ch > 0x20 && ch < 0x7f && ch != '?' && ch != '#';
    }
    if (!ok) {
        sc_expected(c, n, "an absolute path (starting with \"/\", without spaces, \"?\" or \"#\")");
        return false;
    }
    return sc_string(c, n, out) == 0;
}

static void route_path(struct sctx *c, const struct cfg_node *n, struct cfg_route *r,
                       enum cfg_path_match how)
{
    if (r->path_match != CFG_PATH_ANY) {
        sc_error(
            c, &n->mark,
            "expected only one of path and path_prefix for %s, found both (the other at %u:%u)",
            c->path, (unsigned)r->path.mark.line, (unsigned)r->path.mark.col);
        return;
    }
    r->path.mark = n->mark; /* given, even if wrong: not a catch-all */
    if (abs_path(c, n, &r->path))
        r->path_match = how;
}

static void path_exact(struct sctx *c, const struct cfg_node *n, void *field)
{
    route_path(c, n, field, CFG_PATH_EXACT);
}

static void path_prefix(struct sctx *c, const struct cfg_node *n, void *field)
{
    route_path(c, n, field, CFG_PATH_PREFIX);
}

static void rewrite(struct sctx *c, const struct cfg_node *n, void *field)
{
    struct cfg_route *r = field;
    abs_path(c, n, &r->rewrite_prefix);
}

static void host(struct sctx *c, const struct cfg_node *n, void *field)
{
    struct cfg_route *r = field;
    r->host.mark = n->mark; /* given, even if wrong: not a catch-all */
    bool ok = n->kind == CFG_NODE_SCALAR && n->len > 0;
    if (ok && n->text[0] == '*')
        ok = n->len > 2 && n->text[1] == '.';
    for (size_t i = ok && n->text[0] == '*' ? 2 : 0; ok && i < n->len; i++) {
        char ch = n->text[i];
        ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
             ch == '-' || ch == '.' || ch == '_';
    }
    if (!ok) {
        sc_expected(c, n, "a host (\"example.com\" or \"*.example.com\", without port)");
        return;
    }
    if (sc_string(c, n, &r->host) != 0)
        return;
    for (char *p = (char *)r->host.s; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p | 0x20);
    r->host_wildcard = r->host.s[0] == '*';
}

/* early_hints.links: each item one or more RFC 8288 link-values, sent as
 * a Link field of the 103 as written. */
static void eh_links(struct sctx *c, const struct cfg_node *n, void *field)
{
    struct cfg_early_hints *eh = field;
    if (!sc_seq_of(c, n, CFG_EH_MAX_LINKS, "Link values"))
        return;
    for (size_t i = 0; i < n->n && c->rc != HB_ENOMEM; i++) {
        const struct cfg_node *it = n->items[i];
        size_t old = sc_path_index(c, i);
        struct cfg_string v = {0};
        bool ok = sc_visit(c, it) && it->kind == CFG_NODE_SCALAR && it->len > 0 &&
                  it->len <= 2048;
        size_t pos = 0, count = 0;
        struct hb_link l;
        int rc = 1;
        while (ok && (rc = hb_link_next(it->text, it->len, &pos, &l)) == 1)
            count++;
        /* header_value refuses control characters the parser lets through
         * (obs-text aside, a 103 carries what the file says). */
        if (ok && rc == 0 && count > 0 && header_value(c, it, &v)) {
            struct cfg_string *slot = cfg_mem_push(c->cfg->mem, &eh->links, &eh->n_links,
                                                   sizeof *slot);
            if (slot)
                *slot = v;
            else
                sc_nomem(c);
        } else if (c->rc != HB_ENOMEM && (!ok || rc != 0 || count == 0)) {
            sc_expected(c, it, "a Link value (RFC 8288: \"</style.css>; rel=preload; as=style\", "
                               "up to 2048 bytes)");
        }
        sc_path_pop(c, old);
    }
}

/* early_hints.learn_as: the destinations (a preload's "as") a learned 103
 * keeps, as HB_LINK_AS_* bits; not given, every preload is kept. */
static void eh_learn_as(struct sctx *c, const struct cfg_node *n, void *field)
{
    unsigned *mask = field;
    if (!sc_seq_of(c, n, 16, "request destinations"))
        return;
    unsigned m = 0;
    for (size_t i = 0; i < n->n; i++) {
        const struct cfg_node *it = n->items[i];
        unsigned bit = it->kind == CFG_NODE_SCALAR
                           ? hb_link_as_bit(hb_str_make(it->text, it->len))
                           : 0;
        /* Lower case only, as written in the docs: "Font" in a file is
         * more likely a typo than a wish for case-insensitive YAML. */
        if (bit && strcmp(it->text, hb_link_as_name(bit)) != 0)
            bit = 0;
        if (!bit) {
            size_t old = sc_path_index(c, i);
            sc_expected(c, it, "a request destination (audio, document, embed, fetch, font, "
                               "image, object, script, style, track, video, worker)");
            sc_path_pop(c, old);
            return;
        }
        m |= bit;
    }
    if (!m) {
        sc_expected(c, n, "at least one request destination (leave learn_as out to keep "
                          "every preload)");
        return;
    }
    *mask = m;
}

static const struct sc_field early_hints_fields[] = {
    SCF_BOOL("learn", struct cfg_early_hints, learn),
    SCF_FUNC("learn_as", struct cfg_early_hints, learn_as, eh_learn_as),
    SCF_WHOLE("links", eh_links),
    SCF_U32("max_entries", struct cfg_early_hints, max_entries, 1, 1u << 20),
    SCF_SIZE("max_entry_size", struct cfg_early_hints, max_entry_size, 64, 16384),
    SCF_END,
};

static void early_hints(struct sctx *c, const struct cfg_node *n, void *field)
{
    struct cfg_early_hints *eh = field;
    if (sc_apply_map(c, n, early_hints_fields, eh,
                     "a mapping (learn, learn_as, links, max_entries, max_entry_size)"))
        eh->on = eh->learn || eh->n_links > 0;
}

static const struct sc_field push_fields[] = {
    SCF_BOOL("enabled", struct cfg_push, enabled),
    SCF_U32("max_per_connection", struct cfg_push, max_per_connection, 1, 1000),
    SCF_U32("max_per_response", struct cfg_push, max_per_response, 1, 100),
    SCF_BOOL("forward_cookies", struct cfg_push, forward_cookies),
    SCF_END,
};

static void push(struct sctx *c, const struct cfg_node *n, void *field)
{
    sc_apply_map(c, n, push_fields, field,
                 "a mapping (enabled, max_per_connection, max_per_response, forward_cookies)");
}

static const struct sc_field route_fields[] = {
    SCF_WHOLE("host", host),
    SCF_WHOLE("path", path_exact),
    SCF_WHOLE("path_prefix", path_prefix),
    SCF_STR("upstream", struct cfg_route, upstream),
    SCF_WHOLE("rewrite_prefix", rewrite),
    SCF_FUNC("request_headers", struct cfg_route, request_headers, headers),
    SCF_FUNC("response_headers", struct cfg_route, response_headers, headers),
    SCF_BOOL("websocket", struct cfg_route, websocket),
    SCF_FUNC("early_hints", struct cfg_route, early_hints, early_hints),
    SCF_FUNC("push", struct cfg_route, push, push),
    SCF_END,
};

void sc_routes(struct sctx *c, const struct cfg_node *n, void *field)
{
    struct cfg *cfg = c->cfg;
    if (n->kind != CFG_NODE_SEQ || n->n > MAX_ROUTES) {
        sc_expected(c, n, n->kind == CFG_NODE_SEQ ? "at most 4096 routes" : "a sequence of routes");
        return;
    }
    for (size_t i = 0; i < n->n && c->rc != HB_ENOMEM; i++) {
        const struct cfg_node *item = n->items[i];
        if (!sc_visit(c, item))
            return;
        struct cfg_route *r = cfg_mem_push(cfg->mem, &cfg->routes, &cfg->n_routes, sizeof *r);
        if (!r) {
            sc_nomem(c);
            return;
        }
        r->mark = item->mark;
        r->websocket = true;
        r->early_hints.max_entries = 1024;
        r->early_hints.max_entry_size = 2048;
        r->push.max_per_connection = 16;
        r->push.max_per_response = 8;
        size_t old = sc_path_index(c, i);
        if (item->kind == CFG_NODE_NULL)
            sc_expected(c, item, "a route (a mapping with upstream:)");
        else if (sc_apply_map(c, item, route_fields, r, "a route (a mapping with upstream:)") &&
                 !r->upstream.s && c->rc != HB_ENOMEM)
            sc_error(c, &item->mark,
                     "expected upstream: (the name of an upstream) in %s, found no such key",
                     c->path);
        cfg->push_any = cfg->push_any || r->push.enabled;
        sc_path_pop(c, old);
    }
}
