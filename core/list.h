/* core/list.h — intrusive doubly linked list (circular, with a head node).
 *
 * Embed a struct hb_list in the element; recover the element with
 * hb_container_of(). The list owns nothing: unlinking never frees.
 */
#ifndef H2B_CORE_LIST_H
#define H2B_CORE_LIST_H

#include <stdbool.h>
#include <stddef.h>

struct hb_list {
    struct hb_list *prev, *next;
};

#define hb_container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

/* Makes l an empty list head (or an unlinked node). */
static inline void hb_list_init(struct hb_list *l)
{
    l->prev = l->next = l;
}

static inline bool hb_list_empty(const struct hb_list *l)
{
    return l->next == l;
}

/* True when node n is linked into some list (nodes are kept self-linked
 * while unlinked, by hb_list_init and hb_list_remove). */
static inline bool hb_list_linked(const struct hb_list *n)
{
    return n->next != n;
}

static inline void hb_list_insert_after(struct hb_list *pos, struct hb_list *n)
{
    n->prev = pos;
    n->next = pos->next;
    pos->next->prev = n;
    pos->next = n;
}

/* Appends n at the tail of head. */
static inline void hb_list_push_back(struct hb_list *head, struct hb_list *n)
{
    hb_list_insert_after(head->prev, n);
}

/* Prepends n at the front of head. */
static inline void hb_list_push_front(struct hb_list *head, struct hb_list *n)
{
    hb_list_insert_after(head, n);
}

/* Unlinks n and leaves it self-linked (safe to remove twice). */
static inline void hb_list_remove(struct hb_list *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = n;
}

/* Removes and returns the first node, or NULL when empty. */
static inline struct hb_list *hb_list_pop_front(struct hb_list *head)
{
    if (hb_list_empty(head))
        return NULL;
    struct hb_list *n = head->next;
    hb_list_remove(n);
    return n;
}

#define hb_list_foreach(it, head) for ((it) = (head)->next; (it) != (head); (it) = (it)->next)

/* Iteration that allows removing `it` in the body. */
#define hb_list_foreach_safe(it, tmp, head)                                                        \
    for ((it) = (head)->next, (tmp) = (it)->next; (it) != (head); (it) = (tmp), (tmp) = (it)->next)

#endif
