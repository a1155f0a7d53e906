/* config/cfg_yaml.c — libyaml events → a small node tree with marks.
 *
 * The only file that sees libyaml. Anchors are registered when their node is
 * complete, so an alias can only name a finished node: the tree is a DAG and
 * never a cycle. Depth, node count and anchor count are capped so hostile
 * input stays bounded. */
#include <string.h>
#include <yaml.h>

#include "config/cfg_internal.h"
#include "core/err.h"

#define MAX_ANCHORS 1024

struct anchor {
    const char *name;
    struct cfg_node *node;
};

struct frame {
    struct cfg_node *node;
    const char *anchor;   /* registered when the node ends */
    struct cfg_node *key; /* mapping: a key waiting for its value */
};

struct ytree {
    struct cfg_mem *m;
    const char *file;
    struct cfg_errors *errs;
    bool *nomem;
    struct frame stack[CFG_MAX_DEPTH];
    size_t depth;
    struct anchor anchors[MAX_ANCHORS];
    size_t n_anchors;
    size_t n_nodes;
    struct cfg_node *root;
    int n_docs;
};

static struct cfg_mark mark_of(const struct ytree *t, yaml_mark_t ym)
{
    return (struct cfg_mark){t->file, (uint32_t)ym.line + 1, (uint32_t)ym.column + 1};
}

static bool fail(struct ytree *t, const struct cfg_mark *mark, const char *fmt, const char *arg)
{
    if (cfg_errors_add(t->errs, mark, fmt, arg) != 0)
        *t->nomem = true;
    return false;
}

static bool oom(struct ytree *t)
{
    *t->nomem = true;
    return false;
}

static struct cfg_node *new_node(struct ytree *t, enum cfg_node_kind kind, yaml_mark_t ym)
{
    if (t->n_nodes >= CFG_MAX_NODES) {
        struct cfg_mark mk = mark_of(t, ym);
        fail(t, &mk, "expected at most 200000 YAML nodes, found more%s", "");
        return NULL;
    }
    struct cfg_node *n = cfg_mem_alloc(t->m, sizeof *n);
    if (!n) {
        oom(t);
        return NULL;
    }
    t->n_nodes++;
    n->kind = kind;
    n->mark = mark_of(t, ym);
    return n;
}

static bool add_anchor(struct ytree *t, const char *name, struct cfg_node *n)
{
    if (!name)
        return true;
    if (t->n_anchors == MAX_ANCHORS)
        return fail(t, &n->mark, "expected at most 1024 anchors, found more (&%s)", name);
    t->anchors[t->n_anchors++] = (struct anchor){name, n};
    return true;
}

static struct cfg_node *find_anchor(struct ytree *t, const char *name)
{
    /* Latest definition wins (YAML 1.1 §3.2.2.2: an anchor may be redefined). */
    for (size_t i = t->n_anchors; i-- > 0;)
        if (strcmp(t->anchors[i].name, name) == 0)
            return t->anchors[i].node;
    return NULL;
}

static const char *copy_anchor(struct ytree *t, const yaml_char_t *a)
{
    if (!a)
        return NULL;
    const char *s = cfg_mem_strdup(t->m, (const char *)a);
    if (!s)
        oom(t);
    return s;
}

/* Attaches a complete node to its parent (or makes it the root). */
static bool attach(struct ytree *t, struct cfg_node *n)
{
    if (t->depth == 0) {
        t->root = n;
        return true;
    }
    struct frame *f = &t->stack[t->depth - 1];
    struct cfg_node *p = f->node;
    if (p->kind == CFG_NODE_SEQ) {
        struct cfg_node **slot = cfg_mem_push(t->m, &p->items, &p->n, sizeof *slot);
        if (!slot)
            return oom(t);
        *slot = n;
        return true;
    }
    if (!f->key) {
        if (n->kind != CFG_NODE_SCALAR && n->kind != CFG_NODE_NULL)
            return fail(t, &n->mark, "expected a scalar mapping key, found %s",
                        n->kind == CFG_NODE_SEQ ? "a sequence" : "a mapping");
        f->key = n;
        return true;
    }
    struct cfg_pair *pair = cfg_mem_push(t->m, &p->pairs, &p->n, sizeof *pair);
    if (!pair)
        return oom(t);
    pair->key = f->key;
    pair->value = n;
    f->key = NULL;
    return true;
}

static bool is_null_text(const char *s, size_t len)
{
    return len == 0 || (len == 1 && s[0] == '~') ||
           (len == 4 && (!memcmp(s, "null", 4) || !memcmp(s, "Null", 4) || !memcmp(s, "NULL", 4)));
}

static bool on_scalar(struct ytree *t, const yaml_event_t *ev)
{
    const char *v = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    struct cfg_node *n = new_node(
        t, plain && is_null_text(v, len) ? CFG_NODE_NULL : CFG_NODE_SCALAR, ev->start_mark);
    if (!n)
        return false;
    n->plain = plain;
    n->len = len;
    n->text = cfg_mem_strndup(t->m, v, len);
    if (!n->text)
        return oom(t);
    const char *anchor = copy_anchor(t, ev->data.scalar.anchor);
    if (ev->data.scalar.anchor && !anchor)
        return false;
    return add_anchor(t, anchor, n) && attach(t, n);
}

static bool on_start(struct ytree *t, const yaml_event_t *ev, enum cfg_node_kind kind,
                     const yaml_char_t *anchor)
{
    struct cfg_node *n = new_node(t, kind, ev->start_mark);
    if (!n)
        return false;
    if (t->depth == CFG_MAX_DEPTH)
        return fail(t, &n->mark, "expected at most 64 levels of nesting, found more%s", "");
    struct frame *f = &t->stack[t->depth++];
    f->node = n;
    f->key = NULL;
    f->anchor = copy_anchor(t, anchor);
    return !anchor || f->anchor;
}

static bool on_end(struct ytree *t)
{
    struct frame *f = &t->stack[--t->depth];
    return add_anchor(t, f->anchor, f->node) && attach(t, f->node);
}

static bool on_alias(struct ytree *t, const yaml_event_t *ev)
{
    const char *name = (const char *)ev->data.alias.anchor;
    struct cfg_node *n = find_anchor(t, name);
    if (!n) {
        struct cfg_mark mk = mark_of(t, ev->start_mark);
        return fail(t, &mk, "expected an alias of a defined anchor, found *%s", name);
    }
    return attach(t, n);
}

static bool on_event(struct ytree *t, const yaml_event_t *ev)
{
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (++t->n_docs > 1) {
            struct cfg_mark mk = mark_of(t, ev->start_mark);
            return fail(t, &mk, "expected a single YAML document, found a second one%s", "");
        }
        return true;
    case YAML_SCALAR_EVENT:
        return on_scalar(t, ev);
    case YAML_SEQUENCE_START_EVENT:
        return on_start(t, ev, CFG_NODE_SEQ, ev->data.sequence_start.anchor);
    case YAML_MAPPING_START_EVENT:
        return on_start(t, ev, CFG_NODE_MAP, ev->data.mapping_start.anchor);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        return on_end(t);
    case YAML_ALIAS_EVENT:
        return on_alias(t, ev);
    default:
        return true;
    }
}

/* Line and column of a byte offset (reader errors carry only an offset). */
static struct cfg_mark offset_mark(const struct ytree *t, const char *data, size_t len, size_t off)
{
    struct cfg_mark mk = {t->file, 1, 1};
    for (size_t i = 0; i < off && i < len; i++) {
        if (data[i] == '\n') {
            mk.line++;
            mk.col = 1;
        } else {
            mk.col++;
        }
    }
    return mk;
}

static void syntax_error(struct ytree *t, const yaml_parser_t *p, const char *data, size_t len)
{
    if (p->error == YAML_MEMORY_ERROR) {
        oom(t);
        return;
    }
    const char *problem = p->problem ? p->problem : "a malformed document";
    struct cfg_mark mk = p->error == YAML_READER_ERROR
                             ? offset_mark(t, data, len, p->problem_offset)
                             : mark_of(t, p->problem_mark);
    int rc;
    if (p->context)
        rc = cfg_errors_add(
            t->errs, &mk, "expected valid YAML, found a syntax error: %s (%s at %u:%u)", problem,
            p->context, (unsigned)p->context_mark.line + 1, (unsigned)p->context_mark.column + 1);
    else
        rc = cfg_errors_add(t->errs, &mk, "expected valid YAML, found a syntax error: %s", problem);
    if (rc != 0)
        oom(t);
}

struct cfg_node *cfg_yaml_parse(struct cfg_mem *m, const char *file, const void *data, size_t len,
                                struct cfg_errors *errs, bool *nomem)
{
    struct ytree *t = cfg_mem_alloc(m, sizeof *t);
    if (!t) {
        *nomem = true;
        return NULL;
    }
    *t = (struct ytree){.m = m, .file = file, .errs = errs, .nomem = nomem};
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) {
        *nomem = true;
        return NULL;
    }
    yaml_parser_set_input_string(&p, data, len);
    bool ok = true, done = false;
    while (ok && !done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            syntax_error(t, &p, data, len);
            ok = false;
            break;
        }
        done = ev.type == YAML_STREAM_END_EVENT;
        ok = on_event(t, &ev);
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    if (!ok)
        return NULL;
    if (!t->root) {
        /* An empty file is an empty document: all defaults. */
        yaml_mark_t zero = {0, 0, 0};
        t->root = new_node(t, CFG_NODE_NULL, zero);
    }
    return t->root;
}
