/* proxy/upgrade.h — a new binary without dropping a connection (SIGUSR2).
 *
 * The running process starts the binary at /proc/self/exe again, with the
 * same arguments, and hands it its listening sockets (the workers' and the
 * admin listener's: the same sockets, not new ones, so connections queued
 * in them are not lost). The new process takes the socket of each address
 * it would otherwise bind, starts, and says it is ready through a pipe;
 * only then does the old one shut down gracefully (GOAWAY, Connection:
 * close, up to limits.shutdown_timeout), while the new one accepts on the
 * same sockets. When the new process fails to start (a bad binary, a bad
 * configuration) or is not ready within PX_UPGRADE_WAIT_MS, the old one
 * logs it and keeps serving.
 *
 * Hand-over, in the environment of the new process:
 *   H2B_UPGRADE_FDS   = "FD:WORKER,…" (WORKER -1: the admin listener)
 *   H2B_UPGRADE_READY = the write end of the readiness pipe
 */
#ifndef H2B_PROXY_UPGRADE_H
#define H2B_PROXY_UPGRADE_H

#include <stdbool.h>
#include <sys/socket.h>

#define PX_UPGRADE_WAIT_MS 30000

struct px_worker;

/* main.c: the arguments to start the new binary with. */
void px_upgrade_set_argv(char **argv);

/* Old process, main thread: starts the new binary with the listening
 * sockets of w[0..n) and admin_fd (-1: none) and waits until it is ready.
 * Returns 0 (it serves: shut down now) or -1 (logged; keep serving). */
int px_upgrade_spawn(const struct px_worker *w, unsigned n, int admin_fd);

/* New process, at start: reads the hand-over from the environment (and
 * removes it). Returns true when this process was started by an upgrade. */
bool px_upgrade_inherit(void);

/* The inherited listening socket bound to sa, preferring the one worker
 * `worker` had (-1: the admin listener), or -1 when none: bind a new one.
 * Each socket is handed out once. */
int px_upgrade_take(const struct sockaddr *sa, int worker);

/* New process, serving: closes inherited sockets nobody took and tells the
 * old process it may go. */
void px_upgrade_ready(void);

#endif
