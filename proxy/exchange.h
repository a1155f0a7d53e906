/* proxy/exchange.h — one request/response exchange: an h2 stream on the
 * client side, an HTTP/1.1 request/response on a leased backend connection.
 *
 * Request: the h2 head becomes an HTTP/1.1 head (core/h1_write) at once; the
 * body (DATA) is framed with Content-Length when the client gave one, else
 * chunked (request trailers go in the last chunk). Flow control: the client
 * is credited (h2_conn_consumed) only as bytes are written to the backend.
 *
 * Response: the head is parsed by core/h1_parse and submitted; the body is
 * decoded by core/h1_body lazily, inside the engine's read_data pull, from a
 * bounded per-exchange buffer (limits.stream_buffer_size): when it is full
 * the backend is not read, and reading resumes as the client's windows let
 * the engine pull.
 *
 * Errors: connect failure → 502, connect or read timeout → 504, pool queue
 * timeout or full queue → 503, malformed response → 502 and the backend
 * connection closed; after the head was sent, RST_STREAM INTERNAL_ERROR. One
 * log line per error names the client, stream, backend and reason.
 */
#ifndef H2B_PROXY_EXCHANGE_H
#define H2B_PROXY_EXCHANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/msg.h"

struct px_fconn;
struct px_exchange;

/* A new stream's request head (valid during the call only). Routes it, writes
 * its HTTP/1.1 head and leases a backend connection. When the request cannot
 * be served (no route: 404, CONNECT: 501, out of memory: 503), the answer is
 * submitted here and NULL is returned; the caller then discards the stream's
 * body with h2_conn_consumed(). The exchange is owned by fc's stream table. */
struct px_exchange *px_exchange_start(struct px_fconn *fc, uint32_t sid, const struct hb_msg *req,
                                      bool end_stream);

/* Finds the exchange of stream sid on fc, or NULL. */
struct px_exchange *px_exchange_find(struct px_fconn *fc, uint32_t sid);

/* Request body bytes (valid during the call) and/or its end. */
void px_exchange_on_data(struct px_exchange *ex, const uint8_t *data, size_t len, bool end);

/* Request trailers (end of the request). */
void px_exchange_on_trailers(struct px_exchange *ex, const struct hb_msg *trailers);

/* The engine pulls response body bytes (see h2_callbacks.read_data). */
ptrdiff_t px_exchange_read_data(struct px_exchange *ex, uint8_t *dst, size_t max, bool *eof);

/* The stream left the engine (complete or reset): the backend connection is
 * closed if still held (a complete response gave it back already). ex is
 * unlinked at once and freed by px_exchange_reap(): the engine may report
 * the close from inside a submit call made by the exchange itself. */
void px_exchange_on_close(struct px_exchange *ex, uint32_t error_code);

/* Frees the exchanges of fc closed since the last call. Call it from the
 * top of the event loop only (never from inside exchange code). */
void px_exchange_reap(struct px_fconn *fc);

/* Frees every exchange of fc, closing their backend connections (the client
 * connection is going away; no engine callback follows). */
void px_exchange_abort_all(struct px_fconn *fc);

/* Exchanges a worker keeps for reuse after they end (see exchange.c).
 * None under AddressSanitizer: a recycled object would hide a use after
 * free from it. */
#if defined(__SANITIZE_ADDRESS__)
#define PX_EX_CACHE 0
#else
#define PX_EX_CACHE 64
#endif

/* Frees the worker's cached exchanges (at worker exit). */
struct px_worker;
void px_exchange_cache_free(struct px_worker *w);

#endif
