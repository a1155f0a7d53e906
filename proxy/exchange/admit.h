/* proxy/exchange/admit.h — request admission: the one step every request passes
 * before it gets a backend, whichever protocol it came on, and the one
 * request-body limit check.
 *
 * In order: 421 Misdirected Request when the :authority is not covered by
 * the TLS certificate (HTTP/2 only, where connections are coalesced: RFC
 * 9113 §9.1.1, proxy/front/authority.h), 431 when more header fields than
 * limits.max_header_count came (pseudo-header fields not counted), 413 when a declared Content-Length is
 * over limits.max_request_body_size (RFC 9110 §15.5.14), 404 when no route
 * matches, 501 for CONNECT (no tunnels yet).
 */
#ifndef H2B_PROXY_EXCHANGE_ADMIT_H
#define H2B_PROXY_EXCHANGE_ADMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/msg.h"

struct px_fconn;
struct cfg_route;
struct cfg_limits;

/* Admits req (a request head on fc, valid during the call). Returns 0 and
 * sets *route, or the status of the local answer the request gets, with the
 * reason for the log line written to why[0..size). */
int px_admit(struct px_fconn *fc, const struct hb_msg *req, const struct cfg_route **route,
             char *why, size_t size);

/* True when a request body of total bytes (received so far, or declared)
 * is over limits.max_request_body_size (0: no limit). */
bool px_admit_body_over(const struct cfg_limits *l, uint64_t total);

#endif
