/* proxy/h2c_upgrade.h — "Upgrade: h2c" on a cleartext HTTP/1.1 connection
 * (RFC 7540 §3.2; RFC 9113 §3.1 deprecates it, curl and nghttp still send
 * it). */
#ifndef H2B_PROXY_H2C_UPGRADE_H
#define H2B_PROXY_H2C_UPGRADE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/msg.h"

struct px_fconn;

/* True when req (a parsed HTTP/1.1 request head on fc) asks for h2c: a
 * cleartext connection whose listener accepts h2c, Connection listing
 * "upgrade" and "http2-settings", Upgrade listing "h2c", exactly one
 * HTTP2-Settings field. */
bool px_h2c_wants_upgrade(const struct px_fconn *fc, const struct hb_msg *req);

/* Tries the upgrade of fc for req, whose head is head_len bytes at the start
 * of the connection's input. Returns 1 when fc is now an HTTP/2 connection
 * (101 queued, the request is stream 1, the head consumed), 0 when the
 * upgrade is refused and the request must be served as plain HTTP/1.1 (a
 * body, malformed HTTP2-Settings: logged), or -1 when out of memory. */
int px_h2c_upgrade(struct px_fconn *fc, const struct hb_msg *req, size_t head_len);

#endif
