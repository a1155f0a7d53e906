/* proxy/front/h1.h — HTTP/1.1 clients (RFC 9112), on TLS when ALPN chose
 * http/1.1 or the client offered no ALPN, and on cleartext listeners.
 *
 * A connection runs one exchange at a time (proxy/exchange/exchange.h, the same code
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
#ifndef H2B_PROXY_FRONT_H1_H
#define H2B_PROXY_FRONT_H1_H

struct px_fconn;

/* HTTP/1.1's side of px_front_ops (proxy/front/conn.h; state H1). Its reset
 * closes the connection (the only way to tell an HTTP/1.1 client that a
 * response is truncated); its trailers are kept (serialised) for the end of
 * a chunked response and dropped when the response is not chunked. */
extern const struct px_front_ops px_h1_front_ops;

/* Turns fc (handshake done, or a cleartext socket) into an HTTP/1.1
 * connection (state H1). Returns 0, or -1 when out of memory (the caller
 * closes fc). */
int px_h1_start(struct px_fconn *fc);

#endif
