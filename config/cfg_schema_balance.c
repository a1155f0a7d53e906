/* config/cfg_schema_balance.c — upstreams.*.consistent_hash and
 * upstreams.*.sticky_cookie (docs/backends.md, "Balancing"). */
#include <stdio.h>
#include <string.h>

#include "config/cfg_internal.h"
#include "core/balance.h"
#include "core/str.h"

/* RFC 6265 §4.1.1 cookie-name is an RFC 9110 token; kept as written
 * (cookie names are case-sensitive). */
static bool token(const struct cfg_node *n, size_t max)
{
    static const char tchar[] = "!#$%&'*+-.^_`|~";
    if (n->kind != CFG_NODE_SCALAR || n->len == 0 || n->len > max || strlen(n->text) != n->len)
        return false;
    for (size_t i = 0; i < n->len; i++) {
        char ch = n->text[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              strchr(tchar, ch)))
            return false;
    }
    return true;
}

static void hash_key(struct sctx *c, const struct cfg_node *n, void *field)
{
    static const char *const names[] = {"client_address", "path", "header", "cookie"};
    for (size_t k = 0; k < 4; k++)
        if (n->kind == CFG_NODE_SCALAR && strcmp(n->text, names[k]) == 0) {
            *(enum cfg_hash_key *)field = (enum cfg_hash_key)k;
            return;
        }
    sc_expected(c, n, "a hash key (client_address, path, header, cookie)");
}

static void name_token(struct sctx *c, const struct cfg_node *n, void *field)
{
    if (!token(n, 64)) {
        sc_expected(c, n, "a header or cookie name (letters, digits, \"-\", \"_\"; up to 64 "
                          "bytes)");
        return;
    }
    (void)sc_string(c, n, field);
}

static void table_size(struct sctx *c, const struct cfg_node *n, void *field)
{
    unsigned long long v = 0;
    if (n->kind == CFG_NODE_SCALAR &&
        hb_str_to_u64(hb_str_make(n->text, n->len), HB_MAGLEV_MAX_SIZE, &v) == 0 &&
        v >= HB_MAGLEV_MIN_SIZE && hb_is_prime((uint32_t)v)) {
        *(uint32_t *)field = (uint32_t)v;
        return;
    }
    char what[96];
    snprintf(what, sizeof what, "a prime number from %u to %u (like 65537)",
             (unsigned)HB_MAGLEV_MIN_SIZE, (unsigned)HB_MAGLEV_MAX_SIZE);
    sc_expected(c, n, what);
}

#define CH struct cfg_consistent_hash
static const struct sc_field hash_fields[] = {
    SCF_FUNC("key", CH, key, hash_key),
    SCF_FUNC("name", CH, name, name_token),
    SCF_FUNC("table_size", CH, table_size, table_size),
    SCF_END,
};

void sc_consistent_hash(struct sctx *c, const struct cfg_node *n, void *field)
{
    struct cfg_consistent_hash *h = field;
    h->mark = n->mark;
    if (n->kind == CFG_NODE_NULL)
        return; /* every default: the client's address */
    if (!sc_apply_map(c, n, hash_fields, h, "a mapping (key, name, table_size)"))
        return;
    bool named = h->key == CFG_HASH_HEADER || h->key == CFG_HASH_COOKIE;
    const char *k = h->key == CFG_HASH_HEADER ? "header" : h->key == CFG_HASH_COOKIE ? "cookie"
                    : h->key == CFG_HASH_PATH ? "path" : "client_address";
    if (named && !h->name.s)
        sc_error(c, &n->mark, "expected consistent_hash.name (the %s's name) with key: %s", k, k);
    else if (!named && h->name.s)
        sc_error(c, &h->name.mark,
                 "expected no consistent_hash.name with key: %s (a name is for header or "
                 "cookie), found \"%s\"",
                 k, h->name.s);
    if (h->key == CFG_HASH_HEADER && h->name.s) /* HTTP/2 field names are lowercase */
        for (char *p = (char *)h->name.s; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
}

/* ---- sticky_cookie ---- */

static void cookie_name(struct sctx *c, const struct cfg_node *n, void *field)
{
    if (!token(n, 64)) {
        sc_expected(c, n, "a cookie name (letters, digits, \"-\", \"_\"; up to 64 bytes)");
        return;
    }
    (void)sc_string(c, n, field);
}

/* An attribute value: visible ASCII without ';' and ',' (RFC 6265 §4.1.1
 * av-octet, less the comma some parsers split on), starting with first
 * when given. */
static bool av(const struct cfg_node *n, char first)
{
    if (n->kind != CFG_NODE_SCALAR || n->len == 0 || n->len > 256 ||
        strlen(n->text) != n->len || (first && n->text[0] != first))
        return false;
    for (size_t i = 0; i < n->len; i++)
        if (n->text[i] <= ' ' || n->text[i] >= 0x7f || n->text[i] == ';' || n->text[i] == ',')
            return false;
    return true;
}

static void cookie_path(struct sctx *c, const struct cfg_node *n, void *field)
{
    if (!av(n, '/'))
        sc_expected(c, n, "a cookie path starting with / (visible ASCII, no spaces, \";\" or "
                          "\",\")");
    else
        (void)sc_string(c, n, field);
}

static void cookie_domain(struct sctx *c, const struct cfg_node *n, void *field)
{
    if (!av(n, 0))
        sc_expected(c, n, "a cookie domain (visible ASCII, no spaces, \";\" or \",\")");
    else
        (void)sc_string(c, n, field);
}

static void same_site(struct sctx *c, const struct cfg_node *n, void *field)
{
    static const char *const names[] = {"lax", "strict", "none", "omit"};
    for (size_t k = 0; k < 4; k++)
        if (n->kind == CFG_NODE_SCALAR && strcmp(n->text, names[k]) == 0) {
            *(enum cfg_same_site *)field = (enum cfg_same_site)k;
            return;
        }
    sc_expected(c, n, "a SameSite value (lax, strict, none, omit)");
}

#define SK struct cfg_sticky
static const struct sc_field sticky_fields[] = {
    SCF_FUNC("name", SK, name, cookie_name),
    SCF_FUNC("path", SK, path, cookie_path),
    SCF_FUNC("domain", SK, domain, cookie_domain),
    SCF_DUR("max_age", SK, max_age_ms, 0, 1000u * 3600000u),
    SCF_BOOL("http_only", SK, http_only),
    SCF_BOOL("secure", SK, secure),
    SCF_FUNC("same_site", SK, same_site, same_site),
    SCF_END,
};

void sc_sticky_cookie(struct sctx *c, const struct cfg_node *n, void *field)
{
    struct cfg_sticky *s = field;
    s->mark = n->mark;
    if (n->kind != CFG_NODE_NULL &&
        !sc_apply_map(c, n, sticky_fields, s, "a mapping (name, path, max_age, ...)"))
        return;
    s->enabled = true;
    if (s->same_site == CFG_SAME_SITE_NONE && !s->secure) /* browsers drop such a cookie */
        sc_error(c, &n->mark, "expected sticky_cookie.secure: true with same_site: none");
}
