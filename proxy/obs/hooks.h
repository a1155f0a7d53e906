/* proxy/obs/hooks.h — where the request path feeds the counters of
 * proxy/obs/stats.h. Each is called from the worker thread that owns the
 * connection, costs a few relaxed loads and stores into that worker's block
 * (no lock, no shared line) and does nothing when the worker has no block
 * (unit tests that build a worker by hand).
 */
#ifndef H2B_PROXY_OBS_HOOKS_H
#define H2B_PROXY_OBS_HOOKS_H

#include <stdint.h>

#include "core/h2_budget.h"
#include "proxy/obs/stats.h"

struct px_fconn;
struct px_ex_record;
struct px_pool;

/* The request protocol of a request of HTTP version version (10, 11; 20 or
 * 0 for HTTP/2) on fc: h2 over TLS, h2c on cleartext. */
enum px_st_proto px_stats_proto(const struct px_fconn *fc, int version);

/* A request reached px_exchange_start (version: its hb_msg's). */
void px_stats_request_start(const struct px_fconn *fc, int version);

/* A request ended (px_ex_record_done): requests, end reason, duration,
 * bytes, and the server's counters. */
void px_stats_request_done(const struct px_fconn *fc, const struct px_ex_record *r);

/* fc is about to move to state `to` (an enum px_fconn_state; CLOSING when
 * it closes): moves it between the connections_open gauges. The first call
 * (at accept) also counts the accepted connection. */
void px_stats_conn_state(struct px_fconn *fc, int to);

/* The TLS handshake of fc finished (version and resumption from its SSL),
 * or failed. */
void px_stats_tls_done(const struct px_fconn *fc);
void px_stats_tls_failed(const struct px_fconn *fc, enum px_st_tls_fail why);
/* A connection (rate: false) or a request (rate: true) refused by the
 * per-client limits (proxy/clients.h). */
void px_stats_client_limited(const struct px_fconn *fc, bool rate);
/* A request read in TLS early data (enum px_st_early). */
void px_stats_early(const struct px_fconn *fc, unsigned what);
/* A push outcome (enum px_st_push), n times. */
void px_stats_push(const struct px_fconn *fc, unsigned what, uint64_t n);

/* The HTTP/2 engine of fc reset a stream with code (a stream error it
 * raised), or the connection ends: its GOAWAY code (when not NO_ERROR) and
 * flood kind are counted. */
void px_stats_h2_stream_error(const struct px_fconn *fc, uint32_t code);
void px_stats_h2_conn_end(const struct px_fconn *fc, int64_t goaway_code, enum h2_flood flood);

/* A tunnel on fc was established (opened: +1; counts it in tunnels_total)
 * or ended (-1). */
void px_stats_tunnel(const struct px_fconn *fc, int delta);

#endif
