/* proxy/h1_frontend.h — HTTP/1.1 clients (RFC 9112), on TLS when ALPN chose
 * http/1.1 or the client offered no ALPN, and on cleartext listeners.
 *
 * A connection runs one exchange at a time (proxy/exchange.h, the same code
 * as for an h2 stream): pipelined requests wait in the input buffer, unparsed,
 * until the response before them is complete, so responses go out in request
 * order and the input is bounded (reading stops while the buffer is full).
 *
 * Request: the head is parsed by core/h1_parse (limits.max_request_header_size
 * and max_header_count; a bad head gets the status h1_err_status() names —
 * 400, 413, 414, 431, 501, 505 — with Connection: close). The body (Content-
 * Length or chunked) is decoded and handed to the exchange no faster than
 * the backend takes it: at most http2.initial_window_size bytes are in flight,
 * as for an h2 stream. Expect: 100-continue gets "100 Continue" once the
 * request was routed.
 *
 * Response: the head is written by core/h1_write (Content-Length when the
 * backend gave one, else chunked, close-delimited for HTTP/1.0 clients); the
 * body is pulled with px_exchange_read_data() while the output buffer holds
 * less than limits.stream_buffer_size. Trailers are dropped.
 *
 * Timeouts (limits.*): h1_keepalive_timeout_ms between requests,
 * request_header_timeout_ms from a head's first byte to its end (408 then
 * close), min_send_rate over min_send_rate_window_ms while output waits.
 */
#ifndef H2B_PROXY_H1_FRONTEND_H
#define H2B_PROXY_H1_FRONTEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/msg.h"

struct px_fconn;

/* Turns fc (handshake done, or a cleartext socket) into an HTTP/1.1
 * connection. Returns 0, or -1 when out of memory (the caller closes fc). */
int px_h1_start(struct px_fconn *fc);

/* Drives the connection after an event: readable (socket or TLS may have
 * bytes), a write opportunity, a kick, or the timer (timer: true). Returns
 * 0, or -1 when fc must be closed by the caller (px_fconn_close). */
int px_h1_run(struct px_fconn *fc, bool timer);

/* Frees the HTTP/1.1 state (from px_fconn_close, exchanges already gone). */
void px_h1_free(struct px_fconn *fc);

/* Graceful shutdown: the current response (if any) carries Connection:
 * close and the connection closes after it; an idle connection closes at
 * the next run. */
void px_h1_drain(struct px_fconn *fc);

/* See proxy/front.h (px_front_submit_response, _consumed, _reset_stream). */
int px_h1_submit_response(struct px_fconn *fc, uint32_t sid, const struct hb_msg *resp, bool end);
int px_h1_consumed(struct px_fconn *fc, uint32_t sid, size_t n);
/* See px_front_submit_trailers: kept (serialised) for the end of a chunked
 * response; dropped when the response is not chunked. */
int px_h1_submit_trailers(struct px_fconn *fc, uint32_t sid, const struct hb_msg *trailers);
int px_h1_abort(struct px_fconn *fc, uint32_t sid);

#endif
