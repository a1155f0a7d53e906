/* proxy/exchange/route_edit.h — a route's actions on a message: header edits
 * (remove, set, add, in that order) and the path prefix rewrite. */
#ifndef H2B_PROXY_EXCHANGE_ROUTE_EDIT_H
#define H2B_PROXY_EXCHANGE_ROUTE_EDIT_H

#include <stddef.h>

#include "config/cfg.h"
#include "core/arena.h"
#include "core/msg.h"

/* Extra field slots px_route_edit_fields() may need beyond the input. */
size_t px_route_edit_extra(const struct cfg_header_ops *ops);

/* Applies ops to f[0..*n) in place (cap slots; names lowercase): drops every
 * field named in remove or set, then appends one field per set and per add
 * entry. The appended fields point into the configuration (which outlives
 * the message). Returns 0, or HB_ELIMIT when cap is too small (f unchanged
 * past *n). */
int px_route_edit_fields(const struct cfg_header_ops *ops, struct hpack_field *f, size_t *n,
                         size_t cap);

/* The request path after the route's rewrite_prefix: "/api/x" with
 * path_prefix /api/ and rewrite_prefix / becomes "/x". Without a rewrite it
 * is path itself. The new path is allocated from a. Returns 0 or
 * HB_ENOMEM. */
int px_route_rewrite_path(const struct cfg_route *r, struct hb_str path, struct hb_arena *a,
                          struct hb_str *out);

#endif
