/* core/fairq.h — a wait queue served fairly across clients, with a cap on
 * what one client may hold at once.
 *
 * The backend pool (proxy/backend/pool.c) keeps one per server and worker:
 * "clients" are client connections (an opaque key each), "holding" means a
 * backend connection leased (or being dialled) for one of its requests, and
 * the items are requests waiting for a connection. Two rules:
 *
 *   - the cap: a client holds at most `cap` at once (0: no cap, and then the
 *     queue keeps no per-client count of what is held);
 *   - fairness: waiters are served round-robin over the clients that have
 *     waiters and are under their cap, each client's own waiters in arrival
 *     order; one client's 1,000 waiters do not stand in front of another
 *     client's first one.
 *
 * Every operation is O(1) (amortised: the key table doubles as it fills).
 * One thread owns a queue (no locks). Memory: a table slot per client
 * entry at its peak and an entry per client that holds or waits; entries
 * are kept for reuse and freed by hb_fq_free.
 *
 * Arrival order is kept too (hb_fq_oldest) for the caller's timeouts: the
 * oldest waiter is the first to expire when every waiter gets the same
 * timeout.
 */
#ifndef H2B_CORE_FAIRQ_H
#define H2B_CORE_FAIRQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/list.h"

/* One client's entry: what it holds and its waiters. Owned by the queue;
 * valid while the client holds something or waits. */
struct hb_fq_client {
    uintptr_t key;
    uint32_t held;          /* counted only when the queue has a cap */
    uint32_t nwait;
    struct hb_list waiters; /* hb_fq_item.qlink, arrival order */
    struct hb_list ring;    /* in hb_fairq.ready while it may be served */
};

/* A waiter. Embed it in the caller's object; it must stay put while queued. */
struct hb_fq_item {
    struct hb_list qlink;    /* in its client's waiters */
    struct hb_list tlink;    /* in the queue's arrival order */
    struct hb_fq_client *cl; /* its client while queued, NULL otherwise */
    int64_t deadline;        /* the caller's (the queue never reads it) */
};

struct hb_fairq {
    uint32_t cap;          /* what one client may hold; 0: no cap */
    uint32_t nwait;        /* waiters queued */
    uint32_t nclients;     /* live entries */
    struct hb_list ready;  /* hb_fq_client.ring: clients with waiters under their cap */
    struct hb_list order;  /* hb_fq_item.tlink: every waiter, arrival order */
    struct hb_fq_client **slots; /* open addressing by key, linear probing */
    size_t nslots;               /* 0 or a power of two */
    struct hb_fq_client *spare;  /* freed entries kept for reuse (linked by ring.next) */
};

/* An empty queue with cap (0: none). Allocates nothing yet. */
void hb_fq_init(struct hb_fairq *q, uint32_t cap);

/* Frees the queue's memory. No waiter may be queued; what is held is
 * forgotten (handles become invalid). */
void hb_fq_free(struct hb_fairq *q);

/* True when client key may take one more now: no cap, or it holds fewer
 * than cap. (A client with waiters of its own is under its cap only when
 * the pool itself is full; the caller decides whether it queues then.) */
bool hb_fq_may_take(const struct hb_fairq *q, uintptr_t key);

/* Counts one more held by client key (only with a cap). Returns the
 * client's handle, to give back with hb_fq_give; NULL when out of memory,
 * or when there is no cap (then nothing is counted and giving back NULL is
 * a no-op). *enomem says which. */
struct hb_fq_client *hb_fq_take(struct hb_fairq *q, uintptr_t key, bool *enomem);

/* One held thing of cl comes back (cl NULL: a no-op). The client may
 * become servable again; its entry goes when it holds and waits nothing. */
void hb_fq_give(struct hb_fairq *q, struct hb_fq_client *cl);

/* Queues it for client key, after the client's other waiters. Returns 0,
 * or -1 when out of memory (nothing queued). */
int hb_fq_push(struct hb_fairq *q, uintptr_t key, struct hb_fq_item *it);

/* Withdraws a queued waiter (a no-op when it is not queued). */
void hb_fq_remove(struct hb_fairq *q, struct hb_fq_item *it);

/* True when some waiter may be served now (its client is under its cap). */
static inline bool hb_fq_ready(const struct hb_fairq *q)
{
    return !hb_list_empty(&q->ready);
}

/* Takes the next waiter to serve: the first waiter of the next client in
 * round-robin order, or NULL when none may be served. With a cap, its
 * client is counted as holding one more, and *cl is its handle for
 * hb_fq_give (else *cl is NULL). The item is no longer queued. */
struct hb_fq_item *hb_fq_pop(struct hb_fairq *q, struct hb_fq_client **cl);

/* As hb_fq_pop, for client key's first waiter only: NULL when it has none
 * or is at its cap. (The backend pool's per-client connections: a
 * connection may serve only the client it was opened for.) */
struct hb_fq_item *hb_fq_pop_key(struct hb_fairq *q, uintptr_t key, struct hb_fq_client **cl);

/* The waiter queued first (whichever client), or NULL. Still queued. */
struct hb_fq_item *hb_fq_oldest(const struct hb_fairq *q);

/* What client key holds now (0 when unknown or without a cap). */
uint32_t hb_fq_held(const struct hb_fairq *q, uintptr_t key);

#endif
