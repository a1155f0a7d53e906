/* core/link_target.h — where a Link target points, for server push
 * (proxy/exchange/push.h), sans-IO.
 *
 * A pushed response must be one the client could have asked this
 * connection for (RFC 9113 §8.4: the server must be authoritative for it).
 * The proxy goes further and pushes only same-origin targets it can name
 * without ambiguity: hb_link_target resolves a Link URI-Reference (RFC 3986
 * §5.2, the forms a Link header uses) against the request that carried it
 * and answers the origin-form path to promise, or refuses.
 *
 * Accepted, with the fragment ("#...") dropped:
 *   scheme://authority/path?q   same scheme and authority as the request
 *   //authority/path?q          same authority         (ASCII case ignored)
 *   /path?q                     an absolute path
 *   ?q                          the request's path, another query
 *   seg/seg?q                   relative to the request path's directory
 * Refused (HB_EINVAL): another scheme or authority (also a userinfo or a
 * port spelt differently), dot segments ("." or "..", plain or as %2e),
 * an empty reference, bytes outside 0x21..0x7e, a base that is not an
 * origin-form path, a result that starts with "//" (not a path-absolute:
 * a backend could take it for another host). Refusing dot segments instead of removing them keeps
 * the pushed path byte for byte what a client would send, so routing and
 * the backend see no path the client did not write. */
#ifndef H2B_CORE_LINK_TARGET_H
#define H2B_CORE_LINK_TARGET_H

#include <stddef.h>

#include "core/str.h"

/* Resolves uri against the request (scheme, authority, base = its :path
 * or request-target in origin form) into out[0..cap). Returns the length
 * of the path written (> 0, starting with '/', not NUL-terminated),
 * HB_EINVAL when refused (above) or HB_ELIMIT when it would not fit in
 * cap bytes. Never writes past cap. */
int hb_link_target(struct hb_str uri, struct hb_str scheme, struct hb_str authority,
                   struct hb_str base, char *out, size_t cap);

#endif
