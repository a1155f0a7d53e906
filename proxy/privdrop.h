/* proxy/privdrop.h — running with no more privilege than needed.
 *
 * Binding a port below 1024 needs root (or CAP_NET_BIND_SERVICE); serving
 * does not. With `user:` (and optionally `group:`) in the configuration,
 * or --user, the proxy binds its listeners, opens its log files and loads
 * its certificates as root, then becomes that user for good (supplementary
 * groups, gid, uid; a check that root cannot be regained) before it serves
 * a single request. The file-descriptor limit is raised before (an
 * unprivileged process cannot raise its hard limit).
 *
 * What that means later: a reload (SIGHUP) re-reads the configuration and
 * certificates, and SIGUSR1 reopens the log files, as that user; a reload
 * that adds a port below 1024 fails (logged, the running configuration
 * stays).
 *
 * Running as root without dropping is refused when the configuration file
 * could be changed by someone else (owned by another user, or writable by
 * group or others): whoever can write it chooses what root reads and
 * writes.
 */
#ifndef H2B_PROXY_PRIVDROP_H
#define H2B_PROXY_PRIVDROP_H

#include <stddef.h>
#include <sys/types.h>

#include "config/cfg.h"

/* The uid/gid to become: user (a name or a number) and group (NULL: the
 * user's primary group). Returns 0, or -1 with why[] set ("no user
 * 'h2b'"). */
int px_priv_lookup(const char *user, const char *group, uid_t *uid, gid_t *gid, char *why,
                   size_t size);

/* Becomes uid/gid with user's supplementary groups (initgroups), and
 * checks that setuid(0) now fails. Returns 0, or -1 with why[] set. Call
 * while only this thread runs, or accept glibc's all-thread setxid (it
 * is: workers run already, and glibc applies set*id to every thread). */
int px_priv_drop(const char *user, uid_t uid, gid_t gid, char *why, size_t size);

/* When euid is 0 and no drop is configured: checks that config_path is
 * owned by root and not writable by group or others. Returns 0, or -1
 * with why[] set. A NULL path (flags only) is safe. */
int px_priv_check_config(const char *config_path, uid_t euid, char *why, size_t size);

#endif
