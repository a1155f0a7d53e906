/* proxy/exchange/tunnel.h — tunnels: an exchange whose backend answered 101
 * Switching Protocols becomes a byte tunnel both ways (docs/websocket.md).
 *
 * Two kinds, both only on listeners with websocket: true and routes that do
 * not say websocket: false:
 * - PX_TUN_UPGRADE: an HTTP/1.1 request with Connection: upgrade and an
 *   Upgrade token listed in tunnels.upgrade (never h2c, the proxy's own) and
 *   no body. Upgrade and Connection: upgrade are forwarded; the backend's 101
 *   goes to the client with its Upgrade, and the connection is a tunnel
 *   after it (front/h1.c). Any other answer is an ordinary response.
 * - PX_TUN_H2_WEBSOCKET: RFC 8441 extended CONNECT (:protocol websocket) on
 *   HTTP/2. The backend gets GET with Upgrade: websocket, Connection: upgrade
 *   and a Sec-WebSocket-Key made here (§5); its 101 must carry Upgrade:
 *   websocket and the matching Sec-WebSocket-Accept (else 502), and becomes
 *   200 on the stream; then DATA ⇄ backend bytes. A 2xx other than 101 is a
 *   backend that did not upgrade: 502. Other statuses reach the client.
 *
 * Data (state PX_EX_TUNNEL): client bytes are written raw to the backend
 * through the request buffer (the client is credited as they leave, as for
 * bodies); backend bytes are read into the response buffer, at most
 * limits.stream_buffer_size, and pulled by the front raw (read_data). A
 * stalled reader stops the other side. tunnels.idle_timeout: no byte either
 * way ends the tunnel (TIMEOUT). Either side's end ends both: the backend's
 * EOF ends the stream (h2 END_STREAM, HTTP/1.1 close after the last byte);
 * the client's end (END_STREAM, EOF) shuts the backend connection for
 * writing once the bytes before it were written (the backend reads EOF
 * and may still answer until it closes, or tunnels.idle_timeout).
 *
 * Limits: tunnels.max_per_connection and tunnels.max_per_worker count
 * tunnel requests from admission to their end; over either, 503.
 */
#ifndef H2B_PROXY_EXCHANGE_TUNNEL_H
#define H2B_PROXY_EXCHANGE_TUNNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/msg.h"

struct px_fconn;
struct px_exchange;
struct cfg_route;

enum px_tun_kind {
    PX_TUN_NONE = 0,     /* an ordinary request */
    PX_TUN_UPGRADE,      /* HTTP/1.1 Upgrade */
    PX_TUN_H2_WEBSOCKET, /* RFC 8441 extended CONNECT */
};

/* "none", "upgrade", "websocket-h2". Static storage. */
const char *px_tun_kind_name(enum px_tun_kind k);

/* True when req may ask for a tunnel: an HTTP/1.1 Upgrade, or :protocol
 * (set only by the HTTP/2 engine, for extended CONNECT on listeners that
 * allow it). The one test an ordinary request pays. */
static inline bool px_tunnel_asked(const struct hb_msg *req)
{
    return (req->flags & HB_MSG_UPGRADE) || req->protocol.len;
}

/* Admission of req (px_tunnel_asked) on route r (after px_admit): *kind is the tunnel it asks
 * for (PX_TUN_NONE: an ordinary request, e.g. an Upgrade the listener,
 * the route or tunnels.upgrade does not allow: its Upgrade is not
 * forwarded). Returns 0, or a status with why: 501 for an extended CONNECT
 * that is not WebSocket or on a route without it, 503 over
 * tunnels.max_per_connection / max_per_worker. */
int px_tunnel_admit(struct px_fconn *fc, const struct hb_msg *req, const struct cfg_route *r,
                    enum px_tun_kind *kind, char *why, size_t size);

/* The fields a tunnel request adds to its backend head. */
#define PX_TUN_EXTRA 3
/* For ex (tun_kind set) and its request req: fills extra (views into req
 * and ex, valid while both are), sets m->method to GET for h2, and returns
 * the number of fields. */
size_t px_tunnel_head(struct px_exchange *ex, const struct hb_msg *req, struct hb_msg *m,
                      struct hpack_field extra[PX_TUN_EXTRA]);

/* Counts ex in its connection's and worker's tunnels (px_exchange_start,
 * once it is set up); px_tunnel_ended uncounts it. */
void px_tunnel_counted(struct px_exchange *ex);
void px_tunnel_ended(struct px_exchange *ex);

/* The backend answered 101 (head m of r bytes at the start of the response
 * buffer, hop-by-hop fields still there): checks it and makes ex a tunnel
 * (PX_EX_TUNNEL, the head submitted), or fails ex with 502. */
void px_tunnel_on_101(struct px_exchange *ex, struct hb_msg *m, size_t r);

/* True when a non-101 final status ends a tunnel request with 502 (h2: a
 * 2xx without upgrading). */
bool px_tunnel_refuses(const struct px_exchange *ex, int status);

/* PX_EX_TUNNEL: the backend is readable / its timer fired. */
void px_tunnel_on_readable(struct px_exchange *ex);
void px_tunnel_on_timeout(struct px_exchange *ex);

/* PX_EX_TUNNEL: the request buffer is empty after a write; once the
 * client ended, the backend connection is shut for writing here. */
void px_tunnel_written(struct px_exchange *ex);

/* PX_EX_TUNNEL: the front pulls backend bytes (px_exchange_read_data). */
ptrdiff_t px_tunnel_read_data(struct px_exchange *ex, uint8_t *dst, size_t max, bool *eof);

/* Sec-WebSocket-Accept for key (RFC 6455 §4.2.2): base64(SHA-1(key ||
 * GUID)), 28 characters and a NUL into out. */
void px_ws_accept(const char *key, size_t len, char out[29]);

#endif
