/* core/balance.h — backend balancing policies, sans-IO: pick the index of a
 * backend from per-backend state the caller keeps up to date (weight,
 * active exchanges, healthy flag). No clock, no sockets; only the Maglev
 * table is allocated (hb_maglev_build). */
#ifndef H2B_CORE_BALANCE_H
#define H2B_CORE_BALANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum hb_balance {
    HB_BAL_ROUND_ROBIN,     /* smooth weighted round-robin (nginx's algorithm) */
    HB_BAL_LEAST_CONN,      /* fewest active per weight; ties by smooth WRR */
    HB_BAL_RANDOM,          /* weighted random (xorshift64*, seedable) */
    HB_BAL_LEAST_REQUEST,   /* power of two choices: two weighted-random picks, the one
                               with fewer active per weight wins */
    HB_BAL_CONSISTENT_HASH, /* Maglev lookup of a request key (hb_maglev) */
};

/* Per-backend state. weight 0 counts as 1. `current` is the policy's own
 * smooth-WRR credit: start it at 0 and leave it alone. */
struct hb_backend {
    uint32_t weight;
    uint32_t active; /* exchanges in flight on this backend */
    bool healthy;    /* false: never picked */
    int64_t current;
};

/* ---- Maglev (Eisenbud et al., NSDI 2016, §3.4) ----
 *
 * A lookup table of `size` entries (a prime), each the index of a server.
 * Every server has a permutation of the slots from two hashes of its name
 * (offset, skip); servers take turns claiming their next free preferred
 * slot, a server of weight w getting w turns for every wmax turns of the
 * heaviest, until the table is full. Each server then owns about
 * size × w / Σw slots, and a key k goes to entry[hash(k) % size].
 *
 * The table depends only on the set of (name, weight) pairs, not on their
 * order (servers take turns in the order of their name hash): every worker,
 * every process and every reload with the same servers builds the same
 * table, so a key lands on the same server everywhere. Removing one server
 * of N moves its own keys and, because the others' preferences stay, about
 * no others (the unit test measures it over 100,000 keys).
 *
 * Unusable servers (healthy false) are not removed from the table: a key
 * whose entry names one walks on to the next entries until a usable
 * server, so keys of usable servers never move when another one goes down
 * or comes back, and the walk is the same in every worker. */
struct hb_maglev {
    uint32_t *entry; /* size entries: index into the server list it was built from */
    uint32_t size;   /* a prime; 0: not built */
    uint32_t n;      /* servers it was built from */
};

struct hb_maglev_server {
    const char *name; /* stable identity: "host:port" (the DNS helper: the address) */
    size_t len;
    uint32_t weight; /* 0 counts as 1 */
};

#define HB_MAGLEV_DEFAULT_SIZE 65537u
#define HB_MAGLEV_MIN_SIZE 101u
#define HB_MAGLEV_MAX_SIZE 1000003u

/* True when v is a prime (trial division; for config checks). */
bool hb_is_prime(uint32_t v);

/* (Re)builds m for servers s[0..n) with `size` entries (a prime in
 * HB_MAGLEV_MIN_SIZE..HB_MAGLEV_MAX_SIZE, and n <= size). The new table
 * replaces m's old one only on success, so a failed rebuild keeps the last
 * good table. Cost: one allocation of size × 4 bytes, O(n) hashing and
 * O(size × log size) probes (about 1 ms for 65537 entries); the caller may
 * call it whenever its server set changes (its indices follow s[]).
 * Returns 0, or -1 (bad arguments, n == 0, or out of memory). */
int hb_maglev_build(struct hb_maglev *m, const struct hb_maglev_server *s, size_t n,
                    uint32_t size);

/* Frees m's table (m may be zeroed or never built). */
void hb_maglev_free(struct hb_maglev *m);

/* The server of key hash h: entry[h % size] when that server is healthy in
 * be[0..n) (the same list order the table was built from), else the next
 * entry's, and so on. -1 when no entry names a healthy server (or m is not
 * built). */
ptrdiff_t hb_maglev_lookup(const struct hb_maglev *m, uint64_t h, const struct hb_backend *be,
                           size_t n);

/* The nth (0: the first, as hb_maglev_lookup) distinct healthy server met
 * walking on from h's entry: the retry order of a key, the same in every
 * worker (try 2 of a key whose server refused goes to the server the key
 * moves to once that one is ejected). -1 when there are not nth + 1
 * distinct healthy servers. nth at most 15. */
ptrdiff_t hb_maglev_lookup_nth(const struct hb_maglev *m, uint64_t h, const struct hb_backend *be,
                               size_t n, unsigned nth);

/* A 64-bit hash of bytes, the same in every process and on every run (no
 * random seed: the same key must land on the same server after a restart).
 * Not for secrets; keys an attacker picks can only choose their own server. */
uint64_t hb_hash_bytes(const void *p, size_t len, uint64_t seed);

/* ---- the balancer ---- */

struct hb_balancer {
    enum hb_balance policy;
    uint64_t rng;                   /* random state; never 0 (hb_balancer_init fixes it) */
    const struct hb_maglev *maglev; /* HB_BAL_CONSISTENT_HASH: the table (the caller's) */
};

/* Maps a policy name (config/cfg.h cfg_balance_names: "round_robin",
 * "least_conn", "random", "least_request", "consistent_hash") to *out.
 * Returns 0, or -1 for an unknown name (name NULL included; *out
 * untouched). */
int hb_balance_parse(const char *name, enum hb_balance *out);

/* Initialises b with a policy and a random seed (any value; 0 is mapped to
 * a fixed non-zero seed), and no Maglev table. */
void hb_balancer_init(struct hb_balancer *b, enum hb_balance policy, uint64_t seed);

/* Picks one of the n backends in be[] by b's policy, skipping unhealthy
 * ones, and updates the policy state (be[i].current, b->rng). key: the
 * request's key hash (hb_hash_bytes) for consistent_hash, NULL when the
 * request has none (or another policy: ignored). consistent_hash without a
 * key or without a table picks by smooth weighted round-robin. The caller
 * owns both arrays and increments/decrements be[i].active itself. Returns
 * the index, or -1 when n is 0 or no backend is healthy. */
ptrdiff_t hb_balance_pick(struct hb_balancer *b, struct hb_backend *be, size_t n,
                          const uint64_t *key);

#endif
