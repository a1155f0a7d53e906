/* core/h2_prio.h — the RFC 7540 §5.3 priority tree (dependencies and
 * weights), sans-IO: no frames, no streams, only nodes by stream id.
 *
 * The root is stream 0. Every other node has a parent, a weight 1..256 and
 * children. A node is either live (its stream exists: the engine opened it
 * with h2_prio_open) or tracked (an idle stream given priority by a PRIORITY
 * frame, or a closed stream kept so that later dependencies on it still
 * mean something, §5.3.4). Tracked nodes are bounded: past tracked_max the
 * least recently used one is removed, its children going to its parent
 * with its weight shared among them (§5.3.4). The tree therefore never
 * holds more than (live streams + tracked_max) nodes, and every operation
 * below costs at most O(tree size).
 *
 * Scheduling: a node is ready when its stream has DATA to send. h2_prio_pick
 * walks from the root: a ready node is served before anything below it
 * ("resources should be allocated to the parent first"); otherwise, among
 * the children with something ready in their subtree, the one with the
 * smallest virtual finish time goes (weighted fair queueing: each child's
 * time advances by bytes × 65536 / weight when it is served, so bytes split
 * in proportion to the weights). Active children of a node sit in a pairing
 * heap, and every node counts the ready nodes below it, so idle subtrees
 * cost nothing: a pick is O(depth), a charge O(depth · log children). */
#ifndef H2B_CORE_H2_PRIO_H
#define H2B_CORE_H2_PRIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define H2_PRIO_DEFAULT_WEIGHT 16u /* RFC 7540 §5.3.5 */

/* Allocation hooks (every node and the id table go through them). alloc
 * returns NULL on failure. */
struct h2_prio_alloc {
    void *(*alloc)(void *ud, size_t n);
    void (*free)(void *ud, void *p, size_t n);
    void *ud;
};

struct h2_prio_node {
    uint32_t id;
    uint16_t weight; /* 1..256 */
    bool ready;      /* the stream has DATA to send (h2_prio_set_ready) */
    bool tracked;    /* no live stream: on the LRU list, counted in ntracked */
    bool in_heap;    /* in its parent's heap (exactly when active) */
    uint32_t nready; /* ready nodes strictly below this one */
    uint64_t pass;   /* virtual finish time among its siblings */
    uint64_t vt;     /* virtual time of its children: the last served one's start */
    /* the tree: parent and a doubly linked list of children */
    struct h2_prio_node *parent, *kids, *knext, *kprev;
    /* heap: root of the pairing heap of the active children (those with
     * something ready at or below them); hchild/hnext/hprev link this node
     * inside its parent's heap (hprev: left sibling, or heap parent) */
    struct h2_prio_node *heap, *hchild, *hnext, *hprev;
    struct h2_prio_node *lnext, *lprev; /* LRU list of tracked nodes, oldest first */
    struct h2_prio_node *bnext;         /* id table chain */
};

struct h2_prio_tree {
    struct h2_prio_node root; /* stream 0, never ready, never removed */
    struct h2_prio_node **buckets;
    uint32_t nbuckets; /* power of two, 0 until the first node */
    uint32_t nnodes;   /* nodes other than the root */
    uint32_t ntracked, tracked_max;
    struct h2_prio_node *lru_head, *lru_tail;
    struct h2_prio_alloc alloc;
};

/* An empty tree (the root only); nothing is allocated until the first node. */
void h2_prio_init(struct h2_prio_tree *t, uint32_t tracked_max, const struct h2_prio_alloc *a);
/* Frees every node and the id table; t is empty again (h2_prio_init state). */
void h2_prio_fini(struct h2_prio_tree *t);

struct h2_prio_node *h2_prio_find(const struct h2_prio_tree *t, uint32_t id);

/* Stream id (!= 0) became live: its tracked node if it has one (keeping the
 * priority a PRIORITY frame gave it), else a new node of default priority
 * (under the root, weight 16). NULL only when out of memory. */
struct h2_prio_node *h2_prio_open(struct h2_prio_tree *t, uint32_t id);

/* An RFC 7540 priority signal for id (!= dep, != 0): id depends on dep with
 * weight 1..256, exclusively or not (§5.3.1, §5.3.3). A dep not in the tree
 * gives id the default priority. An id without a node gets a tracked one
 * (an idle or closed stream). dep becomes the most recently used node.
 * Returns false only when out of memory (the tree is unchanged). */
bool h2_prio_set(struct h2_prio_tree *t, uint32_t id, uint32_t dep, uint16_t weight,
                 bool exclusive);

/* The live stream of n closed: n becomes tracked (not ready, newest on the
 * LRU list), and the oldest tracked nodes go past tracked_max. n may be
 * freed by the call. */
void h2_prio_close(struct h2_prio_tree *t, struct h2_prio_node *n);

/* Removes n (live or tracked) from the tree now: children to its parent
 * with its weight shared (§5.3.4). Frees n. */
void h2_prio_remove(struct h2_prio_tree *t, struct h2_prio_node *n);

/* Marks the node's stream as having DATA to send, or not. O(depth · log). */
void h2_prio_set_ready(struct h2_prio_tree *t, struct h2_prio_node *n, bool ready);

/* The ready node to serve next, NULL when none is ready. Does not change
 * the tree: charge the node with what was sent. */
struct h2_prio_node *h2_prio_pick(const struct h2_prio_tree *t);

/* n (ready) sent `bytes`: advances the virtual times of n and of each of
 * its ancestors among their siblings. */
void h2_prio_charge(struct h2_prio_tree *t, struct h2_prio_node *n, uint64_t bytes);

/* True when some node is ready. */
static inline bool h2_prio_any_ready(const struct h2_prio_tree *t)
{
    return t->root.nready > 0;
}

/* Checks every invariant (weights 1..256, parent links acyclic and to the
 * root, children lists, ready counts, heap membership and order, tracked
 * count and bound). Returns NULL, or a static description of the first
 * broken one. O(nodes · depth): for tests and the fuzzer. */
const char *h2_prio_check(const struct h2_prio_tree *t);

#endif
