/* proxy/notify.h — the service manager's readiness protocol (systemd's
 * sd_notify, spoken directly: one datagram to $NOTIFY_SOCKET, no library).
 *
 * "READY=1" once every listener is bound and the admin listener serves,
 * "RELOADING=1" with MONOTONIC_USEC at a SIGHUP and "READY=1" after it,
 * "STOPPING=1" when a graceful shutdown starts. Without NOTIFY_SOCKET
 * (not under a Type=notify unit) each call does nothing.
 */
#ifndef H2B_PROXY_NOTIFY_H
#define H2B_PROXY_NOTIFY_H

/* Sends state ("READY=1\nSTATUS=…") to $NOTIFY_SOCKET ("/path" or
 * "@abstract"). Returns 1 when sent, 0 when there is no socket, -1 on an
 * error (logged once per call at debug level: a manager that went away is
 * not the proxy's problem). Any thread. */
int px_notify(const char *state);

/* "RELOADING=1\nMONOTONIC_USEC=<now>": what systemd ≥ 253 wants with
 * Type=notify-reload, harmless for older ones. */
int px_notify_reloading(void);

#endif
