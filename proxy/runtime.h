/* proxy/runtime.h — start-up and shutdown of the whole proxy. */
#ifndef H2B_PROXY_RUNTIME_H
#define H2B_PROXY_RUNTIME_H

#include <stdio.h>

#include "config/cfg.h"

/* Loads every listener's certificates; on a failure records
 * "file:line:column: expected …, found …" errors at the cert/key marks.
 * With out != NULL the built contexts are returned there (one per listener,
 * NULL for a cleartext one; free with px_tls_del); with out == NULL they
 * are only checked (h2bridge -t). Returns 0 or -1. */
struct px_tls;
int px_runtime_load_tls(const struct cfg *cfg, struct cfg_errors *errs, struct px_tls **out);

/* Raises RLIMIT_NOFILE's soft limit to the hard limit and logs the result. */
void px_runtime_raise_nofile(void);

/* Runs the proxy in the foreground until SIGINT or SIGTERM: TLS contexts,
 * cfg->workers worker threads (0: one per core). Returns the process exit
 * status (0 after a signal, 1 when start-up failed). */
int px_runtime_run(struct cfg *cfg);

#endif
