/* proxy/front/h2.h — HTTP/2 on a client connection (proxy/front/conn.h): an
 * h2_conn (server role) fed with the connection's decrypted bytes, its
 * output written back, its timers and the proxy's own h2 timeouts: idle
 * (limits.h2_idle_timeout_ms without an open stream: GOAWAY NO_ERROR, then
 * close) and the send rate (proxy/front/rate.h). Each stream becomes an exchange
 * (proxy/exchange/exchange.h).
 */
#ifndef H2B_PROXY_FRONT_H2_H
#define H2B_PROXY_FRONT_H2_H

struct px_fconn;
struct h2_conn;

/* HTTP/2's side of px_front_ops (states H2C_WAIT and H2). */
extern const struct px_front_ops px_h2_front_ops;

/* Makes fc an HTTP/2 server connection (after TLS with ALPN h2, or a
 * cleartext client that sent the preface): state H2. Returns 0 or -1 (out
 * of memory, logged). */
int px_h2_start(struct px_fconn *fc);

/* A server engine configured from the worker's configuration, with fc as
 * its user data, for a connection that becomes h2 later (Upgrade: h2c): the
 * caller sets fc->h2 and the state. NULL when out of memory (logged). */
struct h2_conn *px_h2_engine_new(struct px_fconn *fc);

#endif
