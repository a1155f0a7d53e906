/* proxy/listener.h — listening sockets of one worker. */
#ifndef H2B_PROXY_LISTENER_H
#define H2B_PROXY_LISTENER_H

#include "config/cfg.h"

struct px_listener;

/* A non-blocking socket bound to lc's address with SO_REUSEPORT, listening
 * with lc->backlog. Returns the fd, or -1 after logging why. */
int px_listen_socket(const struct cfg_listener *lc);

/* The listener's name in logs: listeners[].name, else its "address:port"
 * ("[::1]:8443" for IPv6). Truncated to size. */
void px_listener_label(const struct cfg_listener *lc, char *buf, size_t size);

/* Starts accepting on l->fd in l->w's event loop (up to 64 connections per
 * readiness event, TCP_NODELAY on each). Returns 0 or -1.
 *
 * listeners[].max_connections: with l->max_conns connections of this
 * worker open on l (l->nconns, counted by the connection code), accepting
 * on l pauses (logged at most once per 10 s per listener and worker) and
 * new connections wait in the kernel's backlog, as nginx and HAProxy do at
 * their connection limits; px_listener_closed() resumes it. */
int px_listener_start(struct px_listener *l);

/* One connection accepted on l was closed: resumes a paused accept. */
void px_listener_closed(struct px_listener *l);

/* Stops accepting and closes the socket. */
void px_listener_free(struct px_listener *l);

#endif
