/* proxy/shutdown.h — graceful shutdown of a worker (SIGTERM/SIGINT).
 *
 * The main thread asks each worker to drain (px_shutdown_request); in the
 * worker's own thread the listeners close (no more accepts), every h2
 * connection starts the two-step GOAWAY of RFC 9113 §6.8 (streams already
 * accepted are served to completion), every HTTP/1.1 connection answers its
 * current request with "Connection: close" and closes (an idle one closes at
 * once), and connections still in the TLS handshake or before their first
 * byte are closed. The worker reports "drained" once it holds no client
 * connection; the main thread waits for that up to limits.shutdown_timeout_ms
 * (proxy/runtime.c), then stops the workers, which closes whatever is left.
 */
#ifndef H2B_PROXY_SHUTDOWN_H
#define H2B_PROXY_SHUTDOWN_H

#include <stdbool.h>

struct px_worker;

/* Main thread: asks w to drain. Returns 0, or -1 when out of memory (the
 * caller then stops the worker at once). */
int px_shutdown_request(struct px_worker *w);

/* Main thread: asks w to retire (configuration reload): stop accepting, keep
 * serving the open connections; px_shutdown_drained() turns true when the
 * last one ends. px_shutdown_request() may follow (drain them). Returns 0 or
 * -1 (out of memory). */
int px_shutdown_retire(struct px_worker *w);

/* Main thread: true once w holds no client connection after a request. */
bool px_shutdown_drained(const struct px_worker *w);

/* Worker thread (from the wake pipe): stops accepting; with conns, also
 * drains the connections ('d'), else only waits for them to end ('r'). */
void px_shutdown_begin(struct px_worker *w, bool conns);

/* Frees the drain state (px_worker_free). */
void px_shutdown_free(struct px_worker *w);



#include <signal.h>
#include <stdint.h>

/* Main thread, after the first SIGTERM/SIGINT: asks the n workers to drain
 * and waits until all are drained or timeout_ms passed, while waiting for the
 * signals of set (blocked): a second SIGTERM/SIGINT exits the process at
 * once (status 1: in-flight requests are cut). The caller then stops and
 * frees the workers. */
void px_shutdown_run(struct px_worker *w, uint32_t n, const sigset_t *set, uint32_t timeout_ms);
#endif
