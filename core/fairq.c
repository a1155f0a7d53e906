/* core/fairq.c — fair wait queue with a per-client cap (see fairq.h). */
#include "core/fairq.h"

#include <stdlib.h>

#include "core/mix.h"

void hb_fq_init(struct hb_fairq *q, uint32_t cap)
{
    *q = (struct hb_fairq){.cap = cap};
    hb_list_init(&q->ready);
    hb_list_init(&q->order);
}

void hb_fq_free(struct hb_fairq *q)
{
    for (size_t i = 0; i < q->nslots; i++)
        free(q->slots[i]);
    free(q->slots);
    while (q->spare) {
        struct hb_fq_client *n = (struct hb_fq_client *)q->spare->ring.next;
        free(q->spare);
        q->spare = n;
    }
    q->slots = NULL;
    q->nslots = 0;
    q->nclients = 0;
}

static size_t home(const struct hb_fairq *q, uintptr_t key)
{
    return (size_t)hb_mix64((uint64_t)key) & (q->nslots - 1);
}

static struct hb_fq_client *find(const struct hb_fairq *q, uintptr_t key)
{
    if (!q->nslots)
        return NULL;
    for (size_t i = home(q, key);; i = (i + 1) & (q->nslots - 1)) {
        struct hb_fq_client *c = q->slots[i];
        if (!c || c->key == key)
            return c;
    }
}

static void place(struct hb_fq_client **slots, size_t n, struct hb_fq_client *c)
{
    size_t i = (size_t)hb_mix64((uint64_t)c->key) & (n - 1);
    while (slots[i])
        i = (i + 1) & (n - 1);
    slots[i] = c;
}

/* Keeps the load at most one half: doubles the table (rehash) when full. */
static int grow(struct hb_fairq *q)
{
    if ((size_t)(q->nclients + 1) * 2 <= q->nslots)
        return 0;
    size_t n = q->nslots ? q->nslots * 2 : 16;
    struct hb_fq_client **s = calloc(n, sizeof *s);
    if (!s)
        return -1;
    for (size_t i = 0; i < q->nslots; i++)
        if (q->slots[i])
            place(s, n, q->slots[i]);
    free(q->slots);
    q->slots = s;
    q->nslots = n;
    return 0;
}

static struct hb_fq_client *get(struct hb_fairq *q, uintptr_t key)
{
    struct hb_fq_client *c = find(q, key);
    if (c)
        return c;
    if (grow(q) != 0)
        return NULL;
    c = q->spare;
    if (c)
        q->spare = (struct hb_fq_client *)c->ring.next;
    else if (!(c = malloc(sizeof *c)))
        return NULL;
    *c = (struct hb_fq_client){.key = key};
    hb_list_init(&c->waiters);
    hb_list_init(&c->ring);
    place(q->slots, q->nslots, c);
    q->nclients++;
    return c;
}

/* Removes c from the table (backward-shift deletion: no tombstones, so
 * lookups stay short) and keeps it for reuse. */
static void drop(struct hb_fairq *q, struct hb_fq_client *c)
{
    size_t mask = q->nslots - 1;
    size_t i = home(q, c->key);
    while (q->slots[i] != c)
        i = (i + 1) & mask;
    size_t j = i;
    for (;;) {
        q->slots[i] = NULL;
        for (;;) {
            j = (j + 1) & mask;
            if (!q->slots[j])
                goto done;
            size_t h = home(q, q->slots[j]->key);
            /* slots[j] may move to i when its home is not in (i, j]. */
            if (i <= j ? (h <= i || h > j) : (h <= i && h > j))
                break;
        }
        q->slots[i] = q->slots[j];
        i = j;
    }
done:
    q->nclients--;
    c->ring.next = (struct hb_list *)q->spare;
    q->spare = c;
}

static bool under_cap(const struct hb_fairq *q, const struct hb_fq_client *c)
{
    return q->cap == 0 || c->held < q->cap;
}

/* The ready ring holds exactly the clients with waiters under their cap;
 * the entry goes once it neither holds nor waits. */
static void settle(struct hb_fairq *q, struct hb_fq_client *c)
{
    bool ready = c->nwait && under_cap(q, c);
    if (ready && !hb_list_linked(&c->ring))
        hb_list_push_back(&q->ready, &c->ring);
    else if (!ready && hb_list_linked(&c->ring))
        hb_list_remove(&c->ring);
    if (!c->nwait && !c->held)
        drop(q, c);
}

bool hb_fq_may_take(const struct hb_fairq *q, uintptr_t key)
{
    if (q->cap == 0)
        return true;
    const struct hb_fq_client *c = find(q, key);
    return !c || c->held < q->cap;
}

uint32_t hb_fq_held(const struct hb_fairq *q, uintptr_t key)
{
    const struct hb_fq_client *c = find(q, key);
    return c ? c->held : 0;
}

struct hb_fq_client *hb_fq_take(struct hb_fairq *q, uintptr_t key, bool *enomem)
{
    *enomem = false;
    if (q->cap == 0)
        return NULL;
    struct hb_fq_client *c = get(q, key);
    if (!c) {
        *enomem = true;
        return NULL;
    }
    c->held++;
    settle(q, c);
    return c;
}

void hb_fq_give(struct hb_fairq *q, struct hb_fq_client *c)
{
    if (!c)
        return;
    c->held--;
    settle(q, c);
}

int hb_fq_push(struct hb_fairq *q, uintptr_t key, struct hb_fq_item *it)
{
    struct hb_fq_client *c = get(q, key);
    if (!c)
        return -1;
    it->cl = c;
    hb_list_push_back(&c->waiters, &it->qlink);
    hb_list_push_back(&q->order, &it->tlink);
    c->nwait++;
    q->nwait++;
    settle(q, c);
    return 0;
}

static void unlink_item(struct hb_fairq *q, struct hb_fq_item *it)
{
    hb_list_remove(&it->qlink);
    hb_list_remove(&it->tlink);
    it->cl->nwait--;
    q->nwait--;
    it->cl = NULL;
}

void hb_fq_remove(struct hb_fairq *q, struct hb_fq_item *it)
{
    struct hb_fq_client *c = it->cl;
    if (!c)
        return;
    unlink_item(q, it);
    settle(q, c);
}

struct hb_fq_item *hb_fq_pop(struct hb_fairq *q, struct hb_fq_client **cl)
{
    *cl = NULL;
    if (hb_list_empty(&q->ready))
        return NULL;
    struct hb_fq_client *c = hb_container_of(q->ready.next, struct hb_fq_client, ring);
    struct hb_fq_item *it = hb_container_of(c->waiters.next, struct hb_fq_item, qlink);
    unlink_item(q, it);
    /* Round-robin: this client goes to the back of the ring. */
    hb_list_remove(&c->ring);
    if (q->cap) {
        c->held++;
        *cl = c;
    }
    settle(q, c);
    return it;
}

struct hb_fq_item *hb_fq_pop_key(struct hb_fairq *q, uintptr_t key, struct hb_fq_client **cl)
{
    *cl = NULL;
    struct hb_fq_client *c = find(q, key);
    if (!c || !c->nwait || !under_cap(q, c))
        return NULL;
    struct hb_fq_item *it = hb_container_of(c->waiters.next, struct hb_fq_item, qlink);
    unlink_item(q, it);
    if (q->cap) {
        c->held++;
        *cl = c;
    }
    settle(q, c);
    return it;
}

struct hb_fq_item *hb_fq_oldest(const struct hb_fairq *q)
{
    if (hb_list_empty(&q->order))
        return NULL;
    return hb_container_of(q->order.next, struct hb_fq_item, tlink);
}
