/* proxy/reload.h — SIGHUP: configuration generations.
 *
 * A generation is one struct cfg with its TLS contexts and its worker
 * threads (each with its own listeners, connections and backend pools). On
 * SIGHUP the main thread builds a new configuration through the same code
 * path as at start-up (the builder main.c registers: -c file, then flags,
 * then cfg_finalize), loads its certificates, and starts a new generation of
 * workers. Their listening sockets are dup()s of the old generation's when
 * the address is unchanged (SO_REUSEPORT sockets are never closed under a
 * queued connection), else new ones. The old generation is then retired: its
 * workers stop accepting but keep every open connection on the old
 * configuration (so an h2 connection's streams, even new ones, keep working)
 * until the connection ends. After limits.shutdown_timeout_ms (of the old
 * configuration) its connections are drained as at shutdown (GOAWAY,
 * Connection: close); after twice that they are closed. A retired
 * generation is freed (threads joined, TLS contexts freed, cfg_unref) when
 * its last connection is gone.
 *
 * An invalid file (or a certificate that does not load, or a listener that
 * cannot be bound) leaves the running generation alone; every error is
 * logged as "reload: file:line:column: expected …, found …".
 */
#ifndef H2B_PROXY_RELOAD_H
#define H2B_PROXY_RELOAD_H

#include <signal.h>
#include <stdint.h>

#include "config/cfg.h"

struct px_tls;
struct px_worker;
struct px_gen;

/* Builds a fresh, finalized configuration holding one reference, or returns
 * NULL with the reasons in errs. ud: the registrant's. */
typedef struct cfg *(*px_cfg_builder)(void *ud, struct cfg_errors *errs);

/* main.c: how to rebuild the configuration on SIGHUP. Without a builder,
 * SIGHUP is logged and ignored. */
void px_reload_set_builder(px_cfg_builder fn, void *ud);

/* Runtime: wraps the running generation. Takes a reference on cfg and
 * ownership of tls (cfg->n_listeners entries) and w (n started workers),
 * which are freed by px_reload_shutdown(). Returns NULL when out of memory
 * (nothing taken). */
struct px_gen *px_gen_new(struct cfg *cfg, struct px_tls **tls, struct px_worker *w, uint32_t n);

/* Main thread: waits for signals of set (SIGHUP, SIGINT, SIGTERM, blocked),
 * reloading on SIGHUP and freeing retired generations as they empty.
 * Returns the stop signal. *cur is the running generation. */
int px_reload_wait(struct px_gen **cur, const sigset_t *set);

/* Main thread, after the stop signal: graceful shutdown of every
 * generation (proxy/shutdown.h: drain up to the current configuration's
 * limits.shutdown_timeout_ms, a second signal exits at once), then stops
 * and frees them all. */
void px_reload_shutdown(struct px_gen *cur, const sigset_t *set);

#endif
