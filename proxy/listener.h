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
 * readiness event, TCP_NODELAY on each). Returns 0 or -1. */
int px_listener_start(struct px_listener *l);

/* Stops accepting and closes the socket. */
void px_listener_free(struct px_listener *l);

#endif
