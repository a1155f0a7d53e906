/* proxy/exchange/early.h — requests from TLS 1.3 early data (0-RTT, RFC 8470).
 *
 * A request is early when the proxy would forward it before the client's
 * TLS handshake has finished (px_fconn_early): its bytes may be a replay
 * that an attacker copied from another connection, which never finishes.
 * Such a request is
 *   - forwarded when it is GET, HEAD or OPTIONS without a body and not a
 *     tunnel, with Early-Data: 1 (RFC 8470 §5.1: added when the client did
 *     not send it; a client's Early-Data is never removed);
 *   - else answered 425 Too Early (§5.2) by the proxy: a client that sends
 *     early data retries it after the handshake (§5.2 requires it of user
 *     agents). The proxy does not hold it until the handshake ends instead:
 *     a held request would pin its body in the proxy and the retry costs the
 *     client one round trip only on the first request of a resumption.
 * A backend's 425 to an early request: see px_ex_early_retry
 * (exchange_int.h).
 */
#ifndef H2B_PROXY_EXCHANGE_EARLY_H
#define H2B_PROXY_EXCHANGE_EARLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/msg.h"

struct px_fconn;

/* An early request req (px_fconn_early(fc) was true), end_stream: it has no
 * body; tunnel: it asks for one. Returns 0 with *early (enum px_ex_early)
 * set when it may be forwarded, or 425 with the reason in why. Counts it. */
int px_early_admit(struct px_fconn *fc, const struct hb_msg *req, bool end_stream, bool tunnel,
                   uint8_t *early, char *why, size_t size);

/* True for GET, HEAD and OPTIONS: what may run from early data. */
bool px_early_safe_method(struct hb_str method);

#endif
