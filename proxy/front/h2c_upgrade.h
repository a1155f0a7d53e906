/* proxy/front/h2c_upgrade.h — "Upgrade: h2c" on a cleartext HTTP/1.1 connection
 * (RFC 7540 §3.2; RFC 9113 §3.1 deprecates it, curl and nghttp still send
 * it). */
#ifndef H2B_PROXY_FRONT_H2C_UPGRADE_H
#define H2B_PROXY_FRONT_H2C_UPGRADE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/msg.h"

struct px_fconn;

/* True when req (a parsed HTTP/1.1 request head on fc) asks for h2c: a
 * cleartext connection whose listener accepts h2c, Connection listing
 * "upgrade" and "http2-settings", Upgrade listing "h2c", exactly one
 * HTTP2-Settings field. */
bool px_h2c_wants_upgrade(const struct px_fconn *fc, const struct hb_msg *req);

/* Decodes an HTTP2-Settings value (RFC 7540 §3.2.1: base64url, RFC 4648 §5,
 * '=' padding optional) into out[0..cap). Returns the byte count (a
 * multiple of 6: whole settings), or -1 for a bad character, non-zero
 * padding bits, a length that is not whole settings, or more than cap. */
ptrdiff_t px_h2c_settings_decode(const char *v, size_t n, uint8_t *out, size_t cap);

/* Tries the upgrade of fc for req (nothing may be queued for the client).
 * Returns 1 when fc->h2 now exists (HTTP2-Settings applied, stream 1
 * created for req, "101 Switching Protocols" written) while fc is still in
 * state H1: the caller then drops its HTTP/1.1 state (fc->h1 = NULL), moves
 * fc to H2 or H2C_WAIT, starts req as the exchange of stream 1 and feeds the
 * bytes after the head to h2_conn_recv(). Returns 0
 * when the upgrade is refused and req must be served as plain HTTP/1.1 (a
 * request body, malformed HTTP2-Settings: logged), or -1 when the connection
 * must close (out of memory, the 101 could not be written). */
int px_h2c_upgrade(struct px_fconn *fc, const struct hb_msg *req);

#endif
