/* proxy/front/authority.h — is a request for a name this TLS connection may carry?
 *
 * A client may reuse (coalesce) a connection for another origin when the
 * certificate it was shown covers that name (RFC 9113 §9.1.1); a request for
 * a name the certificate does not cover must get 421 Misdirected Request
 * (RFC 9110 §15.5.20), so the client retries on a connection of its own.
 * "Covered" is the certificate's view (RFC 9110 §4.3.4): a DNS subjectAltName
 * (a wildcard covers exactly one label) or an IP subjectAltName.
 */
#ifndef H2B_PROXY_FRONT_AUTHORITY_H
#define H2B_PROXY_FRONT_AUTHORITY_H

#include <stdbool.h>

#include "core/msg.h"

struct px_fconn;

/* True when req's authority (host part; the port is not part of the check)
 * is not covered by the certificate fc's TLS handshake selected. False on a
 * cleartext connection or when req has no authority. Remembers the last
 * covered host in fc (a small allocation, released by px_authority_forget;
 * out of memory only means it is not remembered). */
bool px_misdirected(struct px_fconn *fc, const struct hb_msg *req);

/* Frees what px_misdirected remembered (at connection close). */
void px_authority_forget(struct px_fconn *fc);

#endif
