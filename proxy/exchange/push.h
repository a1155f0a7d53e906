/* proxy/exchange/push.h — HTTP/2 server push from a backend's Link
 * headers (routes[].push, docs/push.md).
 *
 * On a route with push.enabled, a GET from an HTTP/2 client that allows
 * push (SETTINGS_ENABLE_PUSH, proxy/front/front.h px_front_can_push) keeps
 * what a pushed request needs: its scheme, authority and path, and the
 * request fields a pushed response may depend on (accept-encoding,
 * accept-language, user-agent; cookie only with push.forward_cookies).
 * When the backend's final response is a 2xx, each Link value with
 * rel=preload and without nopush whose target is same-origin
 * (core/link_target.h) is promised (PUSH_PROMISE on the request's stream,
 * before the response head) and fetched from the backend as a request of
 * its own (px_exchange_start_pushed): routed, balanced, logged
 * (pushed_by) and counted like any other, and stopped when the client
 * resets the promised stream.
 *
 * Bounds: at most push.max_per_response promises per response and
 * push.max_per_connection per client connection (the route's values);
 * one target is promised once per connection; the peer's
 * MAX_CONCURRENT_STREAMS is kept by the engine. Preloads past a bound are
 * counted (PX_ST_PUSH_LIMITED). A pushed response never pushes.
 *
 * The exchange calls two hooks, the first behind the route's
 * push.enabled, the second behind what the first kept: a route without
 * push costs one branch per request. Ownership: ex->push (this module's,
 * freed by px_push_ex_free) and fc->push (per connection, freed by
 * px_push_conn_free from px_fconn_close). */
#ifndef H2B_PROXY_EXCHANGE_PUSH_H
#define H2B_PROXY_EXCHANGE_PUSH_H

#include "core/msg.h"

struct px_exchange;
struct px_fconn;

/* At dispatch (route chosen): when the request may lead to pushes, keeps
 * its copy on ex->push. Out of memory only costs the pushes. */
void px_push_on_request(struct px_exchange *ex, const struct hb_msg *req);

/* At the backend's final response head m, before it is submitted to the
 * client: promises and starts the pushes its Link fields name. A no-op
 * without ex->push or for a status other than 2xx. */
void px_push_on_final(struct px_exchange *ex, const struct hb_msg *m);

/* Frees ex->push (when the exchange is freed). */
void px_push_ex_free(struct px_exchange *ex);

/* Frees fc->push (px_fconn_close). */
void px_push_conn_free(struct px_fconn *fc);

#endif
