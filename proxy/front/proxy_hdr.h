/* proxy/front/proxy_hdr.h — the PROXY protocol header in front of a client
 * connection (listeners[].proxy_protocol), read before TLS or sniffing.
 *
 * A connection from a configured balancer network starts in PROXY_HDR: its
 * header (v1 or v2, core/proxy_proto.h) is read without taking a byte that
 * follows it (so the TLS handshake or the sniffer gets the client's bytes
 * untouched), and without leaving unread header bytes in the socket (a
 * partial header must not keep the level-triggered read event firing). A
 * PROXY command's source address becomes the client's (px_fconn_set_peer:
 * logs, X-Forwarded-For, request ids); LOCAL (the balancer's own health
 * check) keeps the socket's. A malformed header, or none, closes the
 * connection with a log line naming the reason.
 *
 * On the same listener, a client outside those networks that sends a
 * header anyway is refused: its first bytes are looked at once
 * (px_proxy_hdr_refuse_untrusted).
 */
#ifndef H2B_PROXY_FRONT_PROXY_HDR_H
#define H2B_PROXY_FRONT_PROXY_HDR_H

#include <stdbool.h>

struct px_fconn;

/* PROXY_HDR: reads what is there. Returns 1 when the header is complete
 * (fc moved to HANDSHAKING or SNIFFING), 0 to wait for more, -1 when fc
 * must close (logged). */
int px_proxy_hdr_read(struct px_fconn *fc);

/* Frees the state of a header still being read (fc closing). */
void px_proxy_hdr_free(struct px_fconn *fc);

/* A client not in listeners[].proxy_protocol, at its first readable
 * event: true (logged) when its first bytes start a PROXY header, which it
 * may not send. Looks once (fc->pp_untrusted_check is cleared). */
bool px_proxy_hdr_refuse_untrusted(struct px_fconn *fc);

#endif
