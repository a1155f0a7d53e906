/* proxy/clients.h — per-client-address limits across every worker:
 * open connections per address (clients.max_connections) and new requests
 * per second per address (clients.requests_per_second with clients.burst).
 * The HTTP/2 flood budgets limit one connection; this limits one client
 * across its connections.
 *
 * One table for the process, fixed at start (clients.table_size slots of
 * 16 bytes: the memory is stated and capped, and an attacker with many
 * addresses cannot grow it). Lock-free: each slot is two 64-bit atomics,
 * changed by compare-and-swap only —
 *   word   = key (48-bit hash of the 16-byte address, never 0) << 16 | open connections
 *   tat    = GCRA's theoretical arrival time (ns) of the address's requests
 * An address lives in one of PX_CLIENTS_WINDOW slots from its hash; a slot
 * is free again once its address has no open connection and its rate
 * bucket is full. When every slot of the window is taken by live
 * addresses, the new address is not tracked: it is allowed, and counted
 * (px_clients_untracked) — under a flood of addresses the limits fail open
 * rather than refusing everyone.
 *
 * Two addresses whose 48-bit hashes are equal share a slot (one in 2^48
 * per pair); the hash is keyed per process so that it cannot be aimed at.
 */
#ifndef H2B_PROXY_CLIENTS_H
#define H2B_PROXY_CLIENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/time.h"

#define PX_CLIENTS_WINDOW 16
#define PX_CLIENTS_MAX_CONNS 65535u /* the 16 bits of a slot's count */

struct px_clients;

/* A table of size slots (rounded up to a power of two, at least
 * PX_CLIENTS_WINDOW), keyed with seed. NULL when out of memory. */
struct px_clients *px_clients_new(uint32_t size, uint64_t seed);
void px_clients_del(struct px_clients *t);

/* Bytes the table holds (for the docs and /status). */
uint64_t px_clients_bytes(const struct px_clients *t);

enum px_client_verdict {
    PX_CLIENT_OK,        /* counted (open) / allowed (request) */
    PX_CLIENT_OVER,      /* over the limit: refuse */
    PX_CLIENT_UNTRACKED, /* the window is full: allowed, not counted */
};

/* "OK", "OVER", "UNTRACKED". Static storage. */
const char *px_client_verdict_name(enum px_client_verdict v);

/* A new connection from addr (16 bytes, IPv4 mapped: core/cidr.h). With
 * max_conns 0 there is no limit but the connection is still counted (the
 * request rate needs the slot). OK: counted, call px_clients_close later. */
enum px_client_verdict px_clients_open(struct px_clients *t, const uint8_t addr[16],
                                       uint32_t max_conns, hb_ns_t now);

/* A counted connection from addr closed. */
void px_clients_close(struct px_clients *t, const uint8_t addr[16]);

/* A new request from addr (which has a counted connection): GCRA with
 * per_sec requests a second and bursts of burst (0 means 1). OVER: refuse
 * (429). per_sec 0: always OK. */
enum px_client_verdict px_clients_request(struct px_clients *t, const uint8_t addr[16],
                                          uint32_t per_sec, uint32_t burst, hb_ns_t now);

/* The process's table: the runtime creates it at start (its size is
 * clients.table_size of the first configuration; a reload keeps it) and
 * sets it before any worker starts; workers read it at their start. */
void px_clients_set_process(struct px_clients *t);
struct px_clients *px_clients_process(void);

/* Open connections counted for addr (tests, /status). */
uint32_t px_clients_conns(const struct px_clients *t, const uint8_t addr[16]);

/* Addresses not tracked because their window was full, since start. */
uint64_t px_clients_untracked(const struct px_clients *t);

#endif
