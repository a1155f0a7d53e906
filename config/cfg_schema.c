/* config/cfg_schema.c — the table-driven walk from the node tree into
 * struct cfg: scalar conversions, merge keys, unknown and repeated keys, and
 * the tables of the simple sections (http2, limits, logging, admin,
 * forwarded). The list sections live in cfg_schema_lists.c. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config/cfg_internal.h"
#include "core/err.h"
#include "core/str.h"

void sc_nomem(struct sctx *c)
{
    c->rc = HB_ENOMEM;
}

void sc_error(struct sctx *c, const struct cfg_mark *mark, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (cfg_errors_addv(c->errs, mark, fmt, ap) != 0)
        sc_nomem(c);
    else if (c->rc == 0)
        c->rc = HB_EINVAL;
    va_end(ap);
}

const char *cfg_node_describe(const struct cfg_node *n, char *buf, size_t size)
{
    switch (n->kind) {
    case CFG_NODE_NULL:
        snprintf(buf, size, "null");
        return buf;
    case CFG_NODE_SEQ:
        snprintf(buf, size, n->n ? "a sequence" : "an empty sequence");
        return buf;
    case CFG_NODE_MAP:
        snprintf(buf, size, n->n ? "a mapping" : "an empty mapping");
        return buf;
    case CFG_NODE_SCALAR:
        break;
    }
    /* Quoted and escaped so that the message stays one printable line. */
    size_t o = 0, max = size < 72 ? size : 72;
    buf[o++] = '"';
    for (size_t i = 0; i < n->len && o + 8 < max; i++) {
        unsigned char ch = (unsigned char)n->text[i];
        if (ch == '"' || ch == '\\')
            o += (size_t)snprintf(buf + o, size - o, "\\%c", ch);
        else if (ch < 0x20 || ch == 0x7f)
            o += (size_t)snprintf(buf + o, size - o, "\\x%02x", ch);
        else
            buf[o++] = (char)ch;
        if (i + 1 < n->len && o + 8 >= max) {
            o += (size_t)snprintf(buf + o, size - o, "...");
            break;
        }
    }
    snprintf(buf + o, size - o, "\"");
    return buf;
}

void sc_expected(struct sctx *c, const struct cfg_node *n, const char *what)
{
    char found[96];
    cfg_node_describe(n, found, sizeof found);
    if (c->path_len)
        sc_error(c, &n->mark, "expected %s for %s, found %s", what, c->path, found);
    else
        sc_error(c, &n->mark, "expected %s, found %s", what, found);
}

static size_t path_push(struct sctx *c, const char *fmt, const char *key, size_t i)
{
    size_t old = c->path_len;
    int w = key ? snprintf(c->path + old, sizeof c->path - old, fmt, key)
                : snprintf(c->path + old, sizeof c->path - old, fmt, i);
    c->path_len = w < 0 ? old : old + (size_t)w;
    if (c->path_len >= sizeof c->path)
        c->path_len = sizeof c->path - 1;
    return old;
}

size_t sc_path_key(struct sctx *c, const char *key)
{
    return path_push(c, c->path_len ? ".%s" : "%s", key, 0);
}

size_t sc_path_index(struct sctx *c, size_t i)
{
    return path_push(c, "[%zu]", NULL, i);
}

void sc_path_pop(struct sctx *c, size_t old_len)
{
    c->path_len = old_len;
    c->path[old_len] = '\0';
}

bool sc_visit(struct sctx *c, const struct cfg_node *n)
{
    if (c->budget == 0)
        return false;
    if (--c->budget == 0)
        sc_error(c, &n->mark, "expected at most %u values after expanding aliases, found more",
                 CFG_MAX_VISITS);
    return c->budget != 0;
}

int sc_string(struct sctx *c, const struct cfg_node *n, struct cfg_string *out)
{
    if (n->kind != CFG_NODE_SCALAR || n->len == 0) {
        sc_expected(c, n, "a non-empty string");
        return -1;
    }
    if (memchr(n->text, '\0', n->len)) {
        sc_expected(c, n, "a string without NUL characters");
        return -1;
    }
    out->s = cfg_mem_strndup(c->cfg->mem, n->text, n->len);
    if (!out->s) {
        sc_nomem(c);
        return -1;
    }
    out->mark = n->mark;
    return 0;
}

/* ---- merge keys ------------------------------------------------------------ */

#define MAX_MERGED_PAIRS 1024
#define MAX_MERGE_DEPTH  8

static bool is_merge_key(const struct cfg_node *k)
{
    return k->plain && k->len == 2 && memcmp(k->text, "<<", 2) == 0;
}

static bool has_key(const struct cfg_pair *v, size_t n, const struct cfg_node *k)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].key->len == k->len && memcmp(v[i].key->text, k->text, k->len) == 0)
            return true;
    return false;
}

static bool merge_into(struct sctx *c, const struct cfg_node *map, struct cfg_pair *out, size_t *n,
                       bool explicit, int depth);

/* YAML merge key (yaml.org/type/merge.html): the value is a mapping or a
 * sequence of mappings; earlier ones win, explicit keys win over all. */
static bool merge_value(struct sctx *c, const struct cfg_node *v, struct cfg_pair *out, size_t *n,
                        int depth)
{
    if (depth >= MAX_MERGE_DEPTH) {
        sc_expected(c, v, "at most 8 levels of nested merge keys");
        return false;
    }
    if (v->kind == CFG_NODE_MAP)
        return merge_into(c, v, out, n, false, depth + 1);
    if (v->kind == CFG_NODE_SEQ) {
        for (size_t i = 0; i < v->n; i++) {
            if (v->items[i]->kind != CFG_NODE_MAP) {
                sc_expected(c, v->items[i], "a mapping to merge (\"<<: *anchor\")");
                return false;
            }
            if (!merge_into(c, v->items[i], out, n, false, depth + 1))
                return false;
        }
        return true;
    }
    sc_expected(c, v, "a mapping or a sequence of mappings to merge (\"<<: *anchor\")");
    return false;
}

static bool merge_into(struct sctx *c, const struct cfg_node *map, struct cfg_pair *out, size_t *n,
                       bool explicit, int depth)
{
    for (size_t i = 0; i < map->n; i++) {
        const struct cfg_pair *p = &map->pairs[i];
        if (!sc_visit(c, p->key))
            return false;
        if (is_merge_key(p->key))
            continue;
        /* Explicit duplicates are kept so that the caller reports them. */
        if (!explicit && has_key(out, *n, p->key))
            continue;
        if (*n == MAX_MERGED_PAIRS) {
            sc_expected(c, map, "at most 1024 keys in a mapping with merge keys");
            return false;
        }
        out[(*n)++] = *p;
    }
    for (size_t i = 0; i < map->n; i++)
        if (is_merge_key(map->pairs[i].key) && !merge_value(c, map->pairs[i].value, out, n, depth))
            return false;
    return true;
}

const struct cfg_pair *sc_pairs(struct sctx *c, const struct cfg_node *n, size_t *count)
{
    *count = 0;
    bool merges = false;
    for (size_t i = 0; i < n->n && !merges; i++)
        merges = is_merge_key(n->pairs[i].key);
    if (!merges) {
        *count = n->n;
        return n->pairs;
    }
    struct cfg_pair *out = cfg_mem_alloc(c->tmp, MAX_MERGED_PAIRS * sizeof *out);
    if (!out) {
        sc_nomem(c);
        return NULL;
    }
    size_t k = 0;
    if (!merge_into(c, n, out, &k, true, 0))
        return NULL;
    *count = k;
    return out;
}

/* ---- scalar conversions ------------------------------------------------------ */

static const char *fmt_duration(uint32_t ms, char *buf, size_t size)
{
    static const struct {
        uint32_t mult;
        const char *unit;
    } u[] = {{3600000, "h"}, {60000, "m"}, {1000, "s"}};
    for (size_t i = 0; i < 3; i++)
        if (ms && ms % u[i].mult == 0) {
            snprintf(buf, size, "%u%s", (unsigned)(ms / u[i].mult), u[i].unit);
            return buf;
        }
    snprintf(buf, size, "%ums", (unsigned)ms);
    return buf;
}

static const char *fmt_size(uint32_t b, char *buf, size_t size)
{
    static const struct {
        uint32_t mult;
        const char *unit;
    } u[] = {{1u << 30, "GiB"}, {1u << 20, "MiB"}, {1u << 10, "KiB"}};
    for (size_t i = 0; i < 3; i++)
        if (b && b % u[i].mult == 0) {
            snprintf(buf, size, "%u%s", (unsigned)(b / u[i].mult), u[i].unit);
            return buf;
        }
    snprintf(buf, size, "%u", (unsigned)b);
    return buf;
}

static bool scalar_text(const struct cfg_node *n)
{
    return n->kind == CFG_NODE_SCALAR && n->len > 0 && !memchr(n->text, '\0', n->len);
}

static void number_field(struct sctx *c, const struct sc_field *f, const struct cfg_node *n,
                         uint32_t *out)
{
    char lo[32], hi[32], what[160];
    int rc = HB_ESYNTAX;
    uint32_t v = 0;
    if (scalar_text(n)) {
        if (f->type == SC_DURATION) {
            rc = cfg_parse_duration_ms(n->text, &v);
        } else if (f->type == SC_SIZE) {
            rc = cfg_parse_size(n->text, &v);
        } else {
            unsigned long long u;
            rc = hb_str_to_u64(hb_str_make(n->text, n->len), UINT32_MAX, &u);
            v = (uint32_t)u;
        }
    }
    if (rc == 0 && v >= f->min && v <= f->max) {
        *out = v;
        return;
    }
    if (f->type == SC_DURATION)
        snprintf(what, sizeof what, "a duration from %s to %s (like \"250ms\", \"5s\", \"1m\")",
                 fmt_duration(f->min, lo, sizeof lo), fmt_duration(f->max, hi, sizeof hi));
    else if (f->type == SC_SIZE)
        snprintf(what, sizeof what, "a size from %s to %s (like \"16KiB\", \"1MiB\")",
                 fmt_size(f->min, lo, sizeof lo), fmt_size(f->max, hi, sizeof hi));
    else
        snprintf(what, sizeof what, "an integer from %u to %u", (unsigned)f->min, (unsigned)f->max);
    sc_expected(c, n, what);
}

static bool text_is(const struct cfg_node *n, const char *s)
{
    return strlen(s) == n->len && strncasecmp(n->text, s, n->len) == 0;
}

static void bool_field(struct sctx *c, const struct cfg_node *n, bool *out)
{
    /* YAML 1.1 booleans (yaml.org/type/bool.html), case-insensitive. */
    static const char *const yes[] = {"true", "yes", "on", "y"};
    static const char *const no[] = {"false", "no", "off", "n"};
    if (n->kind == CFG_NODE_SCALAR) {
        for (size_t i = 0; i < 4; i++) {
            if (text_is(n, yes[i])) {
                *out = true;
                return;
            }
            if (text_is(n, no[i])) {
                *out = false;
                return;
            }
        }
    }
    sc_expected(c, n, "a boolean (true or false)");
}

/* A relative path in a file means "next to this file", so a configuration
 * and its certificates can move together; "-" (stdout) stays as it is. */
void sc_path(struct sctx *c, const struct cfg_node *n, struct cfg_string *out)
{
    if (sc_string(c, n, out) != 0 || out->s[0] == '/' || strcmp(out->s, "-") == 0)
        return;
    const char *file = n->mark.file;
    const char *slash = file ? strrchr(file, '/') : NULL;
    if (!slash)
        return;
    size_t dir = (size_t)(slash - file) + 1, len = strlen(out->s);
    char *joined = cfg_mem_alloc(c->cfg->mem, dir + len + 1);
    if (!joined) {
        sc_nomem(c);
        return;
    }
    memcpy(joined, file, dir);
    memcpy(joined + dir, out->s, len + 1);
    out->s = joined;
}

static void apply_field(struct sctx *c, const struct sc_field *f, const struct cfg_node *n,
                        void *base)
{
    void *p = (char *)base + f->off;
    switch (f->type) {
    case SC_U32:
    case SC_DURATION:
    case SC_SIZE:
        number_field(c, f, n, p);
        break;
    case SC_BOOL:
        bool_field(c, n, p);
        break;
    case SC_STRING:
        sc_string(c, n, p);
        break;
    case SC_PATH:
        sc_path(c, n, p);
        break;
    case SC_PORT: {
        struct sc_field pf = {.type = SC_U32, .min = 1, .max = 65535};
        uint32_t v = 0;
        number_field(c, &pf, n, &v);
        if (v) {
            *(uint16_t *)p = (uint16_t)v;
            c->port_key_mark = n->mark;
        }
        break;
    }
    case SC_SECTION:
        sc_apply_map(c, n, f->sub, p, "a mapping");
        break;
    case SC_FUNC:
        f->fn(c, n, p);
        break;
    }
}

static void unknown_key(struct sctx *c, const struct cfg_node *key, const struct sc_field *table)
{
    const char *names[SC_MAX_FIELDS];
    size_t n = 0;
    for (; table[n].key && n < SC_MAX_FIELDS; n++)
        names[n] = table[n].key;
    const char *where = c->path_len ? c->path : "the top level";
    char found[96];
    cfg_node_describe(key, found, sizeof found);
    const char *best = key->kind == CFG_NODE_SCALAR ? cfg_closest(key->text, names, n) : NULL;
    if (best) {
        sc_error(c, &key->mark, "expected a known key in %s (did you mean \"%s\"?), found %s",
                 where, best, found);
        return;
    }
    char list[512];
    size_t o = 0;
    for (size_t i = 0; i < n && o < sizeof list; i++)
        o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", i ? ", " : "", names[i]);
    sc_error(c, &key->mark, "expected a known key in %s (one of: %s), found %s", where, list,
             found);
}

static int find_field(const struct sc_field *table, const struct cfg_node *key)
{
    for (int i = 0; table[i].key; i++)
        if (strlen(table[i].key) == key->len && memcmp(table[i].key, key->text, key->len) == 0)
            return i;
    return -1;
}

bool sc_apply_map(struct sctx *c, const struct cfg_node *n, const struct sc_field *table,
                  void *base, const char *what)
{
    if (n->kind == CFG_NODE_NULL)
        return true; /* "http2:" with nothing under it: all defaults */
    if (n->kind != CFG_NODE_MAP) {
        sc_expected(c, n, what);
        return false;
    }
    size_t count;
    const struct cfg_pair *pairs = sc_pairs(c, n, &count);
    const struct cfg_node *seen[SC_MAX_FIELDS] = {0};
    for (size_t i = 0; pairs && i < count && c->rc != HB_ENOMEM; i++) {
        const struct cfg_node *key = pairs[i].key;
        if (!sc_visit(c, key))
            break;
        int idx = find_field(table, key);
        /* Top-level "x-…" keys are free for anchors (x-defaults: &d …). */
        if (idx < 0 && c->path_len == 0 && key->len > 2 && !memcmp(key->text, "x-", 2))
            continue;
        if (idx < 0) {
            unknown_key(c, key, table);
            continue;
        }
        if (seen[idx]) {
            sc_error(c, &key->mark,
                     "expected each key once in %s, found \"%s\" again (first at %u:%u)",
                     c->path_len ? c->path : "the top level", table[idx].key,
                     (unsigned)seen[idx]->mark.line, (unsigned)seen[idx]->mark.col);
            continue;
        }
        seen[idx] = key;
        size_t old = sc_path_key(c, table[idx].key);
        apply_field(c, &table[idx], pairs[i].value, base);
        sc_path_pop(c, old);
    }
    return true;
}

static bool clean_host(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] <= ' ' || (unsigned char)p[i] >= 0x7f || strchr("/[]", p[i]))
            return false;
    return true;
}

void sc_address(struct sctx *c, const struct cfg_node *n, struct cfg_string *addr, uint16_t *port)
{
    char host[256];
    addr->mark = n->mark; /* given, even if wrong: not "missing" */
    if (!scalar_text(n)) {
        sc_expected(c, n, "an address (\"HOST\" or \"HOST:PORT\")");
        return;
    }
    /* A bare IPv6 address ("::1") has several colons and no port. */
    const char *first = strchr(n->text, ':');
    bool bracketed = n->text[0] == '[' && n->text[n->len - 1] == ']';
    bool has_port = (n->text[0] == '[' && !bracketed) || (first && !strchr(first + 1, ':'));
    int rc = 0;
    uint16_t p = 0;
    if (has_port)
        rc = cfg_parse_hostport(n->text, host, sizeof host, &p);
    else if (bracketed && n->len > 2 && n->len < sizeof host && clean_host(n->text + 1, n->len - 2))
        snprintf(host, sizeof host, "%.*s", (int)n->len - 2, n->text + 1);
    else if (bracketed || n->len >= sizeof host || !clean_host(n->text, n->len))
        rc = HB_ESYNTAX;
    else
        memcpy(host, n->text, n->len + 1);
    if (rc != 0) {
        sc_expected(c, n,
                    rc == HB_ERANGE ? "a port from 1 to 65535 in \"HOST:PORT\""
                                    : "an address (\"HOST\", \"HOST:PORT\" or \"[IPv6]:PORT\")");
        return;
    }
    addr->s = cfg_mem_strdup(c->cfg->mem, host);
    if (!addr->s) {
        sc_nomem(c);
        return;
    }
    addr->mark = n->mark;
    if (has_port) {
        *port = p;
        c->addr_port_mark = n->mark;
    }
}

void sc_port_clash(struct sctx *c)
{
    if (c->addr_port_mark.line && c->port_key_mark.line)
        sc_error(c, &c->port_key_mark,
                 "expected the port once for %s (the address at %u:%u has one), found port: too",
                 c->path_len ? c->path : "the top level", (unsigned)c->addr_port_mark.line,
                 (unsigned)c->addr_port_mark.col);
    c->addr_port_mark = c->port_key_mark = (struct cfg_mark){0};
}
