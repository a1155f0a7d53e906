/* core/h2_upgrade.h — starting a server connection from an HTTP/1.1
 * "Upgrade: h2c" request (RFC 7540 §3.2; kept by RFC 9113 §3.1 as
 * deprecated, still sent by curl --http2 and nghttp -u). */
#ifndef H2B_CORE_H2_UPGRADE_H
#define H2B_CORE_H2_UPGRADE_H

#include <stddef.h>
#include <stdint.h>

#include "core/msg.h"

struct h2_conn;

/* Turns c, a new server connection (h2_conn_new, nothing received yet), into
 * the continuation of an upgraded HTTP/1.1 connection:
 *   - settings[0..len) (the decoded HTTP2-Settings value: a SETTINGS frame
 *     payload, RFC 7540 §3.2.1) is applied as the peer's SETTINGS; the 101
 *     acknowledges it, so no SETTINGS ACK is sent for it;
 *   - stream 1 is created half-closed (remote) for the upgraded request req
 *     (§3.2: "assigned stream identifier 1"); its response is submitted on
 *     stream 1 as usual and on_stream_close is called for it like for any
 *     announced stream. The request is NOT passed to on_request: the caller
 *     has it and starts serving it itself.
 * The client's connection preface is still expected as the first input.
 * Returns 0; HB_EPROTO when settings is malformed (length not a multiple of
 * 6, or a value SETTINGS forbids): c must then be deleted; HB_EINVAL when c
 * is not a fresh server connection; HB_ENOMEM. req is read during the call
 * only. */
int h2_conn_upgrade(struct h2_conn *c, const uint8_t *settings, size_t len,
                    const struct hb_msg *req);

#endif
