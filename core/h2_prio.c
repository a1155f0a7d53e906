/* core/h2_prio.c — the RFC 7540 §5.3 priority tree and its weighted fair
 * scheduler (contract in h2_prio.h). */
#include "core/h2_prio.h"

#include <string.h>

#define MIN_BUCKETS 16u

/* ---- pairing heap of a node's active children ------------------------ */

static bool before(const struct h2_prio_node *a, const struct h2_prio_node *b)
{
    return a->pass < b->pass || (a->pass == b->pass && a->id < b->id);
}

/* Melds two heap roots (either may be NULL); returns the new root. */
static struct h2_prio_node *meld(struct h2_prio_node *a, struct h2_prio_node *b)
{
    if (!a)
        return b;
    if (!b)
        return a;
    if (before(b, a)) {
        struct h2_prio_node *x = a;
        a = b;
        b = x;
    }
    b->hprev = a;
    b->hnext = a->hchild;
    if (a->hchild)
        a->hchild->hprev = b;
    a->hchild = b;
    a->hnext = a->hprev = NULL;
    return a;
}

/* The two-pass merge of a sibling list (the children of a removed root). */
static struct h2_prio_node *merge_pairs(struct h2_prio_node *first)
{
    /* Pass 1, left to right: meld pairs, chaining the results through
     * hprev (reused as a stack link). */
    struct h2_prio_node *stack = NULL;
    while (first) {
        struct h2_prio_node *a = first, *b = a->hnext;
        first = b ? b->hnext : NULL;
        a->hnext = a->hprev = NULL;
        if (b)
            b->hnext = b->hprev = NULL;
        struct h2_prio_node *m = meld(a, b);
        m->hprev = stack;
        stack = m;
    }
    /* Pass 2, right to left: meld each pair result into the accumulator. */
    struct h2_prio_node *acc = NULL;
    while (stack) {
        struct h2_prio_node *next = stack->hprev;
        stack->hprev = NULL;
        acc = meld(acc, stack);
        stack = next;
    }
    return acc;
}

static void heap_insert(struct h2_prio_node *p, struct h2_prio_node *n)
{
    n->hchild = n->hnext = n->hprev = NULL;
    n->in_heap = true;
    p->heap = meld(p->heap, n);
}

static void heap_remove(struct h2_prio_node *p, struct h2_prio_node *n)
{
    if (n == p->heap) {
        p->heap = merge_pairs(n->hchild);
    } else {
        if (n->hprev->hchild == n)
            n->hprev->hchild = n->hnext;
        else
            n->hprev->hnext = n->hnext;
        if (n->hnext)
            n->hnext->hprev = n->hprev;
        p->heap = meld(p->heap, merge_pairs(n->hchild));
    }
    if (p->heap)
        p->heap->hprev = NULL;
    n->hchild = n->hnext = n->hprev = NULL;
    n->in_heap = false;
}

/* ---- ready counts ---------------------------------------------------- */

static bool active(const struct h2_prio_node *n)
{
    return n->ready || n->nready > 0;
}

static uint32_t count(const struct h2_prio_node *n)
{
    return (n->ready ? 1u : 0u) + n->nready;
}

/* Enters n into its parent's heap; an idle node coming back does not keep
 * credit from before (its time is at least the parent's). */
static void activate(struct h2_prio_node *p, struct h2_prio_node *n)
{
    if (n->pass < p->vt)
        n->pass = p->vt;
    heap_insert(p, n);
}

/* Adds delta ready nodes below a and its ancestors, moving each one whose
 * activity changes into or out of its parent's heap. */
static void adjust_up(struct h2_prio_node *a, int64_t delta)
{
    if (delta == 0)
        return;
    for (; a; a = a->parent) {
        bool was = active(a);
        a->nready = (uint32_t)((int64_t)a->nready + delta);
        bool now = active(a);
        if (a->parent && was != now) {
            if (now)
                activate(a->parent, a);
            else
                heap_remove(a->parent, a);
        }
    }
}

/* ---- tree links ------------------------------------------------------ */

static void kids_unlink(struct h2_prio_node *n)
{
    struct h2_prio_node *p = n->parent;
    if (n->kprev)
        n->kprev->knext = n->knext;
    else
        p->kids = n->knext;
    if (n->knext)
        n->knext->kprev = n->kprev;
    n->knext = n->kprev = NULL;
}

static void kids_link(struct h2_prio_node *p, struct h2_prio_node *n)
{
    n->parent = p;
    n->kprev = NULL;
    n->knext = p->kids;
    if (p->kids)
        p->kids->kprev = n;
    p->kids = n;
}

/* Takes the subtree of n out of the tree (counts included). */
static void detach(struct h2_prio_node *n)
{
    struct h2_prio_node *p = n->parent;
    if (n->in_heap)
        heap_remove(p, n);
    kids_unlink(n);
    n->parent = NULL;
    adjust_up(p, -(int64_t)count(n));
}

/* Puts the detached subtree of n under p, starting at p's virtual time. */
static void attach(struct h2_prio_node *p, struct h2_prio_node *n)
{
    kids_link(p, n);
    n->pass = p->vt;
    if (active(n))
        heap_insert(p, n);
    adjust_up(p, (int64_t)count(n));
}

/* Moves every child of `from` under `to` (§5.3.1 exclusive insertion);
 * `to` is detached, so no ancestor of it changes on the way. */
static void adopt_all(struct h2_prio_node *from, struct h2_prio_node *to)
{
    uint32_t moved = 0;
    while (from->kids) {
        struct h2_prio_node *k = from->kids;
        if (k->in_heap)
            heap_remove(from, k);
        kids_unlink(k);
        moved += count(k);
        kids_link(to, k);
        k->pass = to->vt;
        if (active(k))
            heap_insert(to, k);
    }
    to->nready += moved;
    adjust_up(from, -(int64_t)moved);
}

/* ---- id table and LRU ------------------------------------------------ */

static uint32_t slot(const struct h2_prio_tree *t, uint32_t id)
{
    return (id >> 1) & (t->nbuckets - 1); /* ids of one side step by 2 */
}

static bool table_room(struct h2_prio_tree *t)
{
    if (t->nbuckets && t->nnodes < t->nbuckets)
        return true;
    uint32_t n = t->nbuckets ? 2 * t->nbuckets : MIN_BUCKETS;
    struct h2_prio_node **b = t->alloc.alloc(t->alloc.ud, n * sizeof *b);
    if (!b)
        return t->nbuckets > 0; /* a full table still works, with longer chains */
    memset(b, 0, n * sizeof *b);
    struct h2_prio_node **old = t->buckets;
    uint32_t nold = t->nbuckets;
    t->buckets = b;
    t->nbuckets = n;
    for (uint32_t i = 0; i < nold; i++) {
        for (struct h2_prio_node *x = old[i], *next; x; x = next) {
            next = x->bnext;
            x->bnext = b[slot(t, x->id)];
            b[slot(t, x->id)] = x;
        }
    }
    if (old)
        t->alloc.free(t->alloc.ud, old, nold * sizeof *old);
    return true;
}

static void lru_unlink(struct h2_prio_tree *t, struct h2_prio_node *n)
{
    if (n->lprev)
        n->lprev->lnext = n->lnext;
    else
        t->lru_head = n->lnext;
    if (n->lnext)
        n->lnext->lprev = n->lprev;
    else
        t->lru_tail = n->lprev;
    n->lnext = n->lprev = NULL;
}

static void lru_append(struct h2_prio_tree *t, struct h2_prio_node *n)
{
    n->lnext = NULL;
    n->lprev = t->lru_tail;
    if (t->lru_tail)
        t->lru_tail->lnext = n;
    else
        t->lru_head = n;
    t->lru_tail = n;
}

static void track(struct h2_prio_tree *t, struct h2_prio_node *n)
{
    n->tracked = true;
    t->ntracked++;
    lru_append(t, n);
}

static void untrack(struct h2_prio_tree *t, struct h2_prio_node *n)
{
    lru_unlink(t, n);
    n->tracked = false;
    t->ntracked--;
}

static void enforce_bound(struct h2_prio_tree *t)
{
    while (t->ntracked > t->tracked_max)
        h2_prio_remove(t, t->lru_head);
}

/* ---- public ---------------------------------------------------------- */

void h2_prio_init(struct h2_prio_tree *t, uint32_t tracked_max, const struct h2_prio_alloc *a)
{
    memset(t, 0, sizeof *t);
    t->root.weight = H2_PRIO_DEFAULT_WEIGHT;
    t->tracked_max = tracked_max;
    t->alloc = *a;
}

void h2_prio_fini(struct h2_prio_tree *t)
{
    for (uint32_t i = 0; i < t->nbuckets; i++) {
        for (struct h2_prio_node *x = t->buckets[i], *next; x; x = next) {
            next = x->bnext;
            t->alloc.free(t->alloc.ud, x, sizeof *x);
        }
    }
    if (t->buckets)
        t->alloc.free(t->alloc.ud, t->buckets, t->nbuckets * sizeof *t->buckets);
    struct h2_prio_alloc a = t->alloc;
    h2_prio_init(t, t->tracked_max, &a);
}

struct h2_prio_node *h2_prio_find(const struct h2_prio_tree *t, uint32_t id)
{
    if (id == 0)
        return (struct h2_prio_node *)&t->root;
    if (!t->nbuckets)
        return NULL;
    for (struct h2_prio_node *x = t->buckets[slot(t, id)]; x; x = x->bnext)
        if (x->id == id)
            return x;
    return NULL;
}

/* A new node of default priority under the root (live: not tracked). */
static struct h2_prio_node *node_new(struct h2_prio_tree *t, uint32_t id)
{
    if (!table_room(t))
        return NULL;
    struct h2_prio_node *n = t->alloc.alloc(t->alloc.ud, sizeof *n);
    if (!n)
        return NULL;
    memset(n, 0, sizeof *n);
    n->id = id;
    n->weight = H2_PRIO_DEFAULT_WEIGHT;
    n->bnext = t->buckets[slot(t, id)];
    t->buckets[slot(t, id)] = n;
    t->nnodes++;
    attach(&t->root, n);
    return n;
}

struct h2_prio_node *h2_prio_open(struct h2_prio_tree *t, uint32_t id)
{
    struct h2_prio_node *n = h2_prio_find(t, id);
    if (n) {
        if (n->tracked)
            untrack(t, n);
        return n;
    }
    return node_new(t, id);
}

static bool is_below(const struct h2_prio_node *d, const struct h2_prio_node *a)
{
    for (const struct h2_prio_node *x = d->parent; x; x = x->parent)
        if (x == a)
            return true;
    return false;
}

bool h2_prio_set(struct h2_prio_tree *t, uint32_t id, uint32_t dep, uint16_t weight, bool exclusive)
{
    if (id == 0 || id == dep || weight < 1 || weight > 256)
        return true; /* the caller answers these (§5.3.1); nothing to do here */
    struct h2_prio_node *d = h2_prio_find(t, dep);
    if (!d) { /* §5.3.1: a dependency outside the tree → default priority */
        d = &t->root;
        weight = H2_PRIO_DEFAULT_WEIGHT;
        exclusive = false;
    }
    struct h2_prio_node *n = h2_prio_find(t, id);
    if (!n) {
        n = node_new(t, id);
        if (!n)
            return false;
        track(t, n);
    } else if (n->tracked) {
        lru_unlink(t, n); /* used again: newest */
        lru_append(t, n);
    }
    if (d->tracked) {
        lru_unlink(t, d);
        lru_append(t, d);
    }
    /* §5.3.3: made dependent on its own descendant, the descendant first
     * moves to n's former parent (keeping its weight). */
    if (is_below(d, n)) {
        struct h2_prio_node *p = n->parent;
        detach(d);
        attach(p, d);
    }
    detach(n);
    n->weight = weight;
    if (exclusive)
        adopt_all(d, n);
    attach(d, n);
    enforce_bound(t);
    return true;
}

void h2_prio_close(struct h2_prio_tree *t, struct h2_prio_node *n)
{
    h2_prio_set_ready(t, n, false);
    if (!n->tracked)
        track(t, n);
    enforce_bound(t);
}

void h2_prio_remove(struct h2_prio_tree *t, struct h2_prio_node *n)
{
    h2_prio_set_ready(t, n, false);
    struct h2_prio_node *p = n->parent;
    /* §5.3.4: the children take n's place, sharing its weight in
     * proportion to theirs (at least 1 each). n's ready count is theirs,
     * so nothing above p changes. */
    uint32_t sum = 0;
    for (struct h2_prio_node *k = n->kids; k; k = k->knext)
        sum += k->weight;
    if (n->in_heap)
        heap_remove(p, n);
    kids_unlink(n);
    while (n->kids) {
        struct h2_prio_node *k = n->kids;
        if (k->in_heap)
            heap_remove(n, k);
        kids_unlink(k);
        uint32_t w = (uint32_t)n->weight * k->weight / sum;
        k->weight = (uint16_t)(w < 1 ? 1 : w);
        kids_link(p, k);
        k->pass = p->vt;
        if (active(k))
            heap_insert(p, k);
    }
    if (n->tracked)
        untrack(t, n);
    struct h2_prio_node **pp = &t->buckets[slot(t, n->id)];
    while (*pp != n)
        pp = &(*pp)->bnext;
    *pp = n->bnext;
    t->nnodes--;
    t->alloc.free(t->alloc.ud, n, sizeof *n);
}

void h2_prio_set_ready(struct h2_prio_tree *t, struct h2_prio_node *n, bool ready)
{
    (void)t;
    if (n->ready == ready || n == &t->root)
        return;
    bool was = active(n);
    n->ready = ready;
    if (was != active(n)) {
        if (ready)
            activate(n->parent, n);
        else
            heap_remove(n->parent, n);
    }
    adjust_up(n->parent, ready ? 1 : -1);
}

struct h2_prio_node *h2_prio_pick(const struct h2_prio_tree *t)
{
    const struct h2_prio_node *n = &t->root;
    for (;;) {
        if (n != &t->root && n->ready)
            return (struct h2_prio_node *)n;
        if (!n->heap)
            return NULL;
        n = n->heap;
    }
}

void h2_prio_charge(struct h2_prio_tree *t, struct h2_prio_node *n, uint64_t bytes)
{
    (void)t;
    for (; n->parent; n = n->parent) {
        struct h2_prio_node *p = n->parent;
        p->vt = n->pass;
        n->pass += bytes * 65536u / n->weight;
        if (n->in_heap) {
            heap_remove(p, n);
            heap_insert(p, n);
        }
    }
}

/* ---- invariant check ------------------------------------------------- */

/* Counts the heap below h, checking order and membership; -1 when broken. */
static int64_t heap_walk(const struct h2_prio_node *p, const struct h2_prio_node *h, uint32_t limit)
{
    int64_t n = 0;
    for (; h; h = h->hnext) {
        if (!h->in_heap || h->parent != p || !active(h) || ++n > limit)
            return -1;
        for (const struct h2_prio_node *c = h->hchild; c; c = c->hnext)
            if (before(c, h))
                return -1;
        int64_t sub = heap_walk(p, h->hchild, limit);
        if (sub < 0)
            return -1;
        n += sub;
        if (n > limit)
            return -1;
    }
    return n;
}

static const char *check_node(const struct h2_prio_tree *t, const struct h2_prio_node *n)
{
    if (n != &t->root && (n->weight < 1 || n->weight > 256))
        return "weight outside 1..256";
    uint32_t sum = 0, nactive = 0, nkids = 0;
    for (const struct h2_prio_node *k = n->kids; k; k = k->knext) {
        if (k->parent != n)
            return "child whose parent is another node";
        if (k->knext && k->knext->kprev != k)
            return "children list links broken";
        if (++nkids > t->nnodes)
            return "children list longer than the tree";
        sum += count(k);
        nactive += active(k);
        if (active(k) != k->in_heap)
            return "heap membership differs from activity";
    }
    if (sum != n->nready)
        return "ready count differs from the children's";
    int64_t h = heap_walk(n, n->heap, t->nnodes);
    if (h < 0 || (uint32_t)h != nactive)
        return "heap broken or not the active children";
    return NULL;
}

const char *h2_prio_check(const struct h2_prio_tree *t)
{
    if (t->root.parent || t->root.ready || t->root.tracked)
        return "root has a parent, is ready or is tracked";
    const char *why = check_node(t, &t->root);
    if (why)
        return why;
    uint32_t nodes = 0, tracked = 0;
    for (uint32_t i = 0; i < t->nbuckets; i++) {
        for (const struct h2_prio_node *x = t->buckets[i]; x; x = x->bnext) {
            if (++nodes > t->nnodes)
                return "more nodes in the table than counted";
            tracked += x->tracked;
            if (x->tracked && x->ready)
                return "a tracked node is ready";
            uint32_t depth = 0;
            const struct h2_prio_node *a = x;
            for (; a->parent; a = a->parent)
                if (++depth > t->nnodes)
                    return "dependency cycle";
            if (a != &t->root)
                return "node not connected to the root";
            if ((why = check_node(t, x)) != NULL)
                return why;
        }
    }
    if (nodes != t->nnodes)
        return "fewer nodes in the table than counted";
    uint32_t lru = 0;
    for (const struct h2_prio_node *x = t->lru_head; x; x = x->lnext) {
        if (!x->tracked || ++lru > tracked)
            return "LRU list holds a live node or is too long";
        if (x->lnext ? x->lnext->lprev != x : t->lru_tail != x)
            return "LRU links broken";
    }
    if (tracked != t->ntracked || lru != tracked)
        return "tracked count differs";
    if (t->ntracked > t->tracked_max)
        return "more tracked nodes than the bound";
    return NULL;
}
