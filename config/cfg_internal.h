/* config/cfg_internal.h — what the files of config/ share and nobody else
 * uses: the memory pool, the YAML node tree, the schema walker's context. */
#ifndef H2B_CONFIG_CFG_INTERNAL_H
#define H2B_CONFIG_CFG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/cfg.h"

/* ---- memory: a chunked pool freed in one call (cfg_mem.c) ---------------- */

/* malloc, or the test hook of cfg_set_alloc_hook(). */
void *cfg_malloc(size_t n);
/* Test hook: the pool's chunk size (0 restores 8 KiB). A tiny one makes
 * every pool allocation a cfg_malloc() call, so a failing-allocation loop
 * reaches every allocation site. Not thread-safe. */
void cfg_mem_set_chunk_size(size_t size);

struct cfg_mem *cfg_mem_new(void);
void cfg_mem_del(struct cfg_mem *m);
/* n zeroed bytes aligned to 16, or NULL. */
void *cfg_mem_alloc(struct cfg_mem *m, size_t n);
/* A NUL-terminated copy of p[0..n), or NULL. */
char *cfg_mem_strndup(struct cfg_mem *m, const char *p, size_t n);
char *cfg_mem_strdup(struct cfg_mem *m, const char *s);
/* Appends one zeroed element of elem bytes to the array *arr of *n elements
 * (capacity is the next power of two, so no separate capacity field).
 * Returns the new element or NULL (the array is unchanged). Pointers into
 * the array are invalidated. */
void *cfg_mem_push(struct cfg_mem *m, void *arr, size_t *n, size_t elem);

/* ---- the YAML node tree (cfg_yaml.c) --------------------------------------- */

enum cfg_node_kind {
    CFG_NODE_NULL, /* empty plain scalar, ~ or null */
    CFG_NODE_SCALAR,
    CFG_NODE_SEQ,
    CFG_NODE_MAP,
};

struct cfg_pair;

struct cfg_node {
    enum cfg_node_kind kind;
    struct cfg_mark mark;
    bool plain;       /* scalar written without quotes */
    const char *text; /* scalar: NUL-terminated (may contain NUL; see len) */
    size_t len;
    struct cfg_node **items; /* sequence */
    struct cfg_pair *pairs;  /* mapping, in file order; merge keys "<<" kept as pairs */
    size_t n;
};

struct cfg_pair {
    struct cfg_node *key; /* always a scalar (non-scalar keys are errors) */
    struct cfg_node *value;
};

/* Limits that keep hostile input bounded (aliases make a tree a DAG). */
#define CFG_MAX_DEPTH  64
#define CFG_MAX_NODES  200000
#define CFG_MAX_VISITS 200000u

/* Parses data as one YAML document into a tree allocated from m. Anchors and
 * aliases are resolved (an alias points at its anchor's node, so the tree is
 * a DAG without cycles). file is the name used in marks (must outlive the
 * tree). Returns the root (a CFG_NODE_NULL node for an empty document), or
 * NULL with the error recorded in errs (or with errs->oom / *nomem set). */
struct cfg_node *cfg_yaml_parse(struct cfg_mem *m, const char *file, const void *data, size_t len,
                                struct cfg_errors *errs, bool *nomem);

/* ---- the schema walker (cfg_schema.c) -------------------------------------- */

struct sctx {
    struct cfg *cfg;
    struct cfg_errors *errs;
    struct cfg_mem *tmp; /* the tree's pool: scratch space */
    int rc;              /* 0, HB_EINVAL after an error, HB_ENOMEM (sticky) */
    size_t budget;       /* node visits left (alias expansion guard) */
    char path[256];      /* "listeners[0].tls" — where we are, for messages */
    size_t path_len;
    /* An address with ":PORT" and a port: key in the same mapping clash. */
    struct cfg_mark addr_port_mark, port_key_mark;
    struct cfg_mark proto_mark; /* listener protocols: checked once tls is known */
    struct cfg_mark list_mark;  /* upstream servers: given (even if empty or wrong) */
};

/* A schema table: one entry per key of a mapping, NULL-key terminated. */
enum sc_type {
    SC_U32,      /* uint32_t in [min, max] */
    SC_DURATION, /* uint32_t ms in [min, max] */
    SC_SIZE,     /* uint32_t bytes in [min, max] */
    SC_BOOL,     /* bool */
    SC_STRING,   /* struct cfg_string, non-empty */
    SC_PATH,     /* struct cfg_string: a file path, relative ones made relative to the YAML file */
    SC_PORT,     /* uint16_t 1..65535 (records port_key_mark) */
    SC_SECTION,  /* a nested mapping applied with sub at base+off */
    SC_FUNC,     /* fn(c, value, base+off) */
};

struct sc_field {
    const char *key;
    enum sc_type type;
    size_t off;
    uint32_t min, max;
    const struct sc_field *sub;
    void (*fn)(struct sctx *c, const struct cfg_node *n, void *field);
};

#define SC_MAX_FIELDS 32

/* Table rows. */
// clang-format off
#define SCF_U32(k, s, f, lo, hi)  {k, SC_U32, offsetof(s, f), lo, hi, NULL, NULL}
#define SCF_DUR(k, s, f, lo, hi)  {k, SC_DURATION, offsetof(s, f), lo, hi, NULL, NULL}
#define SCF_SIZE(k, s, f, lo, hi) {k, SC_SIZE, offsetof(s, f), lo, hi, NULL, NULL}
#define SCF_BOOL(k, s, f)         {k, SC_BOOL, offsetof(s, f), 0, 0, NULL, NULL}
#define SCF_STR(k, s, f)          {k, SC_STRING, offsetof(s, f), 0, 0, NULL, NULL}
#define SCF_PATH(k, s, f)         {k, SC_PATH, offsetof(s, f), 0, 0, NULL, NULL}
#define SCF_PORT(k, s, f)         {k, SC_PORT, offsetof(s, f), 0, 0, NULL, NULL}
#define SCF_FUNC(k, s, f, fn)     {k, SC_FUNC, offsetof(s, f), 0, 0, NULL, fn}
#define SCF_SECTION(k, s, f, sub) {k, SC_SECTION, offsetof(s, f), 0, 0, sub, NULL}
/* A function that gets the whole struct, not one field of it. */
#define SCF_WHOLE(k, fn)          {k, SC_FUNC, 0, 0, 0, NULL, fn}
#define SCF_END                   {NULL, SC_U32, 0, 0, 0, NULL, NULL}
// clang-format on

/* Applies mapping n (null = empty) onto base with table; what names the
 * mapping in messages ("a listener"). Reports unknown keys (with the
 * closest known key), keys given twice, and every bad value. Merge keys
 * ("<<: *anchor") are honoured; explicit keys win. Returns false when n is
 * not a mapping (error recorded). */
bool sc_apply_map(struct sctx *c, const struct cfg_node *n, const struct sc_field *table,
                  void *base, const char *what);
/* The pairs of mapping n with merge keys expanded (explicit keys first, no
 * key twice), or NULL with *count 0 on error/out of memory. */
const struct cfg_pair *sc_pairs(struct sctx *c, const struct cfg_node *n, size_t *count);
/* Takes one unit from the visit budget; false (error recorded once) when
 * exhausted. */
bool sc_visit(struct sctx *c, const struct cfg_node *n);
/* True when n is a sequence of at most max items; else records "expected
 * a sequence of <what>" (or "at most max <what>") at n. */
bool sc_seq_of(struct sctx *c, const struct cfg_node *n, size_t max, const char *what);
/* A sequence of networks ("10.0.0.0/8", "::1") into the struct
 * cfg_networks at field; at most CFG_MAX_NETWORKS. */
#define CFG_MAX_NETWORKS 256
void sc_networks(struct sctx *c, const struct cfg_node *n, void *field);
/* A header field name (an RFC 9110 token up to 64 bytes), stored lowercase
 * into the struct cfg_string at field. */
void sc_field_name(struct sctx *c, const struct cfg_node *n, void *field);
/* upstreams.*.consistent_hash and sticky_cookie (cfg_schema_balance.c):
 * field is the struct cfg_consistent_hash / struct cfg_sticky. */
void sc_consistent_hash(struct sctx *c, const struct cfg_node *n, void *field);
void sc_sticky_cookie(struct sctx *c, const struct cfg_node *n, void *field);
/* Parses "HOST" or "HOST:PORT" / "[V6]:PORT" into addr (+ *port). */
void sc_address(struct sctx *c, const struct cfg_node *n, struct cfg_string *addr, uint16_t *port);
/* Checks the address/port clash for the mapping just applied. */
void sc_port_clash(struct sctx *c);
void sc_nomem(struct sctx *c);

/* Records "expected <what> for <path>, found <description of n>" at n. */
void sc_expected(struct sctx *c, const struct cfg_node *n, const char *what);
/* Records an arbitrary "expected …, found …" message at mark. */
void sc_error(struct sctx *c, const struct cfg_mark *mark, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Describes a node as in "found …": "\"text\"" (escaped, truncated), "null",
 * "a sequence", "a mapping". Writes into buf; returns buf. */
const char *cfg_node_describe(const struct cfg_node *n, char *buf, size_t size);
/* Path handling: pushes ".key" or "[i]", returns the previous length. */
size_t sc_path_key(struct sctx *c, const char *key);
size_t sc_path_index(struct sctx *c, size_t i);
void sc_path_pop(struct sctx *c, size_t old_len);

/* A copied cfg_string of a scalar node, or an error (returns -1). */
int sc_string(struct sctx *c, const struct cfg_node *n, struct cfg_string *out);
/* sc_string, then a relative path joined to the YAML file's directory ("-"
 * and absolute paths kept). */
void sc_path(struct sctx *c, const struct cfg_node *n, struct cfg_string *out);
/* Applies the mapping n onto the top-level struct cfg. */
void cfg_schema_apply(struct sctx *c, const struct cfg_node *root);
/* The list sections (cfg_schema_lists.c). */
void sc_listeners(struct sctx *c, const struct cfg_node *n, void *field);
void sc_upstreams(struct sctx *c, const struct cfg_node *n, void *field);
void sc_routes(struct sctx *c, const struct cfg_node *n, void *field);

/* ---- shared helpers (cfg.c, cfg_validate.c) -------------------------------- */

/* Fills a listener with its defaults. */
void cfg_listener_defaults(struct cfg_listener *l);
/* Fills an upstream with its defaults (name not set). */
void cfg_upstream_defaults(struct cfg_upstream *u);
/* A route with no host and no path condition (none given, not even a wrong
 * one) matches every request. */
static inline bool cfg_route_is_catch_all(const struct cfg_route *r)
{
    return !r->host.s && !r->host.mark.line && r->path_match == CFG_PATH_ANY && !r->path.mark.line;
}
/* The mark of the command line. */
extern const struct cfg_mark cfg_cmdline_mark;
/* Levenshtein distance, capped at 100 (for "did you mean"). */
size_t cfg_edit_distance(const char *a, const char *b);
/* The closest candidate to word (distance <= max(1, len/3)), or NULL. */
const char *cfg_closest(const char *word, const char *const *cands, size_t n);

#endif
