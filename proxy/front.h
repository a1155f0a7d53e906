/* proxy/front.h — what an exchange needs from the client side of its
 * connection, whichever protocol the client speaks: HTTP/2 (h2_frontend.c,
 * the stream's h2_conn) or HTTP/1.1 (h1_frontend.c, one exchange at a time).
 * Each call goes to the protocol's px_front_ops (proxy/fconn.h), which
 * schedules the write of what it produced; the arguments and the
 * return values are those of the h2_conn_* function of the same name
 * (core/h2_conn.h), with "stream id" meaning the exchange's id on fc.
 *
 * Also the byte transport under either protocol: TLS (px_tls_io) or a
 * cleartext socket (io->ssl == NULL), with the same PX_IO_* results.
 */
#ifndef H2B_PROXY_FRONT_H
#define H2B_PROXY_FRONT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/msg.h"
#include "core/time.h"

struct px_fconn;
struct px_exchange;
struct px_tls_io;

/* Submits the response head (1xx allowed, end: no body follows). Returns 0 or
 * an HB_E* code (unknown id, wrong state). */
int px_front_submit_response(struct px_fconn *fc, uint32_t sid, const struct hb_msg *resp,
                             bool end);

/* Submits response trailers (ends the response). HTTP/1.1 clients get them
 * in the last chunk of a chunked response; a response framed by length
 * cannot carry them and drops them (RFC 9110 §6.5). Returns 0 or an HB_E*
 * code. */
int px_front_submit_trailers(struct px_fconn *fc, uint32_t sid, const struct hb_msg *trailers);

/* Attaches ex to request sid on fc (px_front_ops.bind). */
void px_front_bind(struct px_fconn *fc, uint32_t sid, struct px_exchange *ex);

/* Response body bytes are available again: the frontend will pull them with
 * px_exchange_read_data(). Returns 0 or an HB_E* code. */
int px_front_resume_data(struct px_fconn *fc, uint32_t sid);

/* n request body bytes were delivered to the backend (or dropped): the
 * frontend may accept that many more (flow control / socket reads).
 * Returns 0 or an HB_E* code. */
int px_front_consumed(struct px_fconn *fc, uint32_t sid, size_t n);

/* Aborts the exchange after its response head was sent: RST_STREAM with
 * code on h2; on HTTP/1.1 the connection is closed (the only way to tell
 * a client that a response is truncated). Returns 0 or an HB_E* code. */
int px_front_reset_stream(struct px_fconn *fc, uint32_t sid, uint32_t code);

/* "https" on a TLS connection, "http" on a cleartext one (for
 * X-Forwarded-Proto / Forwarded). Static storage. */
const char *px_front_scheme(const struct px_fconn *fc);

/* Transport: as px_tls_io_read/write/pending when io->ssl is set, else the
 * same contract over recv/send on io->fd (EOF on a 0-byte read, PX_IO_ERROR
 * on a socket error, PX_IO_WANT_* on EAGAIN). */
ssize_t px_conn_read(struct px_tls_io *io, void *buf, size_t len);
ssize_t px_conn_write(struct px_tls_io *io, const void *buf, size_t len, hb_ns_t now);
int px_conn_pending(const struct px_tls_io *io);

/* Ends a pass of px_conn_write calls: writes out what TLS collected (see
 * px_tls_io_flush). 0 when everything is out (always on cleartext, whose
 * writes go straight to the socket), PX_IO_WANT_WRITE or PX_IO_ERROR. */
int px_conn_flush(struct px_tls_io *io);

/* The event loop reported the socket readable (see px_sockbuf_readable). */
void px_conn_readable(struct px_tls_io *io);

/* True while written bytes still wait in the transport (close only after). */
bool px_conn_unsent(const struct px_tls_io *io);

#endif
