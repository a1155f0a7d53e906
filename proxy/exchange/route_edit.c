/* proxy/exchange/route_edit.c — header edits and path rewrite of a route. */
#include "proxy/exchange/route_edit.h"

#include <string.h>

#include "core/err.h"

size_t px_route_edit_extra(const struct cfg_header_ops *ops)
{
    return ops->n_set + ops->n_add;
}

static bool named(const struct cfg_header *h, size_t n, const struct hpack_field *f)
{
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(h[i].name.s);
        if (f->name_len == len && memcmp(f->name, h[i].name.s, len) == 0)
            return true;
    }
    return false;
}

static struct hpack_field field_of(const struct cfg_header *h)
{
    return (struct hpack_field){.name = h->name.s, .value = h->value.s,
                                .name_len = (uint32_t)strlen(h->name.s),
                                .value_len = (uint32_t)strlen(h->value.s)};
}

int px_route_edit_fields(const struct cfg_header_ops *ops, struct hpack_field *f, size_t *n,
                         size_t cap)
{
    if (ops->n_remove == 0 && ops->n_set == 0 && ops->n_add == 0)
        return 0;
    size_t k = 0;
    for (size_t i = 0; i < *n; i++)
        if (!named(ops->remove, ops->n_remove, &f[i]) && !named(ops->set, ops->n_set, &f[i]))
            f[k++] = f[i];
    if (k + ops->n_set + ops->n_add > cap)
        return HB_ELIMIT;
    for (size_t i = 0; i < ops->n_set; i++)
        f[k++] = field_of(&ops->set[i]);
    for (size_t i = 0; i < ops->n_add; i++)
        f[k++] = field_of(&ops->add[i]);
    *n = k;
    return 0;
}

int px_route_rewrite_path(const struct cfg_route *r, struct hb_str path, struct hb_arena *a,
                          struct hb_str *out)
{
    *out = path;
    if (!r->rewrite_prefix.s || r->path_match != CFG_PATH_PREFIX || !r->path.s)
        return 0;
    size_t plen = strlen(r->path.s), rlen = strlen(r->rewrite_prefix.s);
    if (path.len < plen || memcmp(path.p, r->path.s, plen) != 0)
        return 0; /* cannot happen for a route that matched */
    char *p = hb_arena_alloc(a, rlen + path.len - plen + 1);
    if (!p)
        return HB_ENOMEM;
    memcpy(p, r->rewrite_prefix.s, rlen);
    memcpy(p + rlen, path.p + plen, path.len - plen);
    *out = hb_str_make(p, rlen + path.len - plen);
    return 0;
}
