/* Fuzz target: the RFC 7540 priority tree (core/h2_prio.h) under random
 * sequences of open / PRIORITY / close / remove / ready / pick+charge and
 * failing allocations, with every invariant checked after every step
 * (h2_prio_check: weights 1..256, no cycles, ready counts and heaps
 * consistent, tracked nodes within the bound) plus what the harness knows:
 * node count <= live + bound, the pick is a ready node with no ready
 * ancestor, a failed PRIORITY leaves the tree as it was.
 *
 * Input: byte 0 the tracked bound (0..15), then 4-byte ops
 * [op, id, dep, arg]. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/h2_prio.h"

#define NIDS 48

static int fail_allocs; /* the next allocation fails when set */

static void *f_alloc(void *ud, size_t n)
{
    (void)ud;
    if (fail_allocs) {
        fail_allocs = 0;
        return NULL;
    }
    return malloc(n);
}

static void f_free(void *ud, void *p, size_t n)
{
    (void)ud;
    (void)n;
    free(p);
}

static void check(const struct h2_prio_tree *t, uint32_t nlive, uint32_t nready)
{
    if (h2_prio_check(t) != NULL)
        __builtin_trap();
    if (t->nnodes > nlive + t->tracked_max || t->root.nready != nready)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const struct h2_prio_alloc a = {f_alloc, f_free, NULL};
    struct h2_prio_tree t;
    h2_prio_init(&t, data[0] % 16, &a);
    struct h2_prio_node *live[NIDS + 1] = {0};
    bool ready[NIDS + 1] = {0};
    uint32_t nlive = 0, nready = 0;
    fail_allocs = 0;
    for (size_t i = 1; i + 4 <= size; i += 4) {
        uint8_t op = data[i] % 7, arg = data[i + 3];
        uint32_t id = 1 + data[i + 1] % NIDS, dep = data[i + 2] % (NIDS + 1);
        struct h2_prio_node *n = live[id];
        switch (op) {
        case 0: /* a stream opens */
            if (!n && (live[id] = h2_prio_open(&t, id)) != NULL)
                nlive++;
            break;
        case 1: { /* PRIORITY (or HEADERS with the flag) */
            if (id == dep)
                break;
            uint32_t before = t.nnodes;
            bool had = h2_prio_find(&t, id) != NULL;
            if (!h2_prio_set(&t, id, dep, (uint16_t)(1 + arg), (arg & 1) != 0) &&
                (had || t.nnodes != before))
                __builtin_trap(); /* only a new node can fail, changing nothing */
            break;
        }
        case 2: /* the stream closes */
            if (n) {
                nready -= ready[id];
                ready[id] = false;
                live[id] = NULL;
                nlive--;
                h2_prio_close(&t, n);
            }
            break;
        case 3: /* any node removed at once */
            if (n) {
                nready -= ready[id];
                ready[id] = false;
                live[id] = NULL;
                nlive--;
                h2_prio_remove(&t, n);
            } else if ((n = h2_prio_find(&t, id)) != NULL) {
                h2_prio_remove(&t, n);
            }
            break;
        case 4: /* DATA ready or parked */
            if (n && ready[id] != (arg & 1)) {
                ready[id] = arg & 1;
                nready += ready[id] ? 1 : (uint32_t)-1;
                h2_prio_set_ready(&t, n, ready[id]);
            }
            break;
        case 5: { /* a DATA frame */
            struct h2_prio_node *p = h2_prio_pick(&t);
            if ((p == NULL) != (nready == 0))
                __builtin_trap();
            if (!p)
                break;
            if (!p->ready || p->tracked || live[p->id] != p)
                __builtin_trap();
            for (const struct h2_prio_node *x = p->parent; x; x = x->parent)
                if (x->ready)
                    __builtin_trap(); /* a parent goes first */
            h2_prio_charge(&t, p, (uint64_t)arg * 128);
            break;
        }
        case 6: /* the next allocation fails */
            fail_allocs = 1;
            break;
        }
        check(&t, nlive, nready);
    }
    h2_prio_fini(&t);
    return 0;
}
