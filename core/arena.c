#include "core/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct hb_arena_chunk {
    struct hb_arena_chunk *next;
    size_t size;
    /* payload follows, 16-aligned */
    _Alignas(16) char data[];
};

void hb_arena_init(struct hb_arena *a, void *initial, size_t initial_len, size_t chunk_size,
                   size_t max)
{
    a->chunks = NULL;
    a->pos = initial;
    a->end = initial ? (char *)initial + initial_len : NULL;
    a->init = a->pos;
    a->init_end = a->end;
    a->used = 0;
    a->max = max;
    a->chunk_size = chunk_size ? chunk_size : 4096;
}

static char *align16(char *p)
{
    return (char *)(((uintptr_t)p + 15) & ~(uintptr_t)15);
}

void *hb_arena_alloc(struct hb_arena *a, size_t n)
{
    if (n == 0)
        n = 1;
    if (a->pos) {
        char *p = align16(a->pos);
        if (p <= a->end && (size_t)(a->end - p) >= n) {
            a->pos = p + n;
            return p;
        }
    }
    if (n > SIZE_MAX / 2)
        return NULL;
    size_t size = n > a->chunk_size ? n : a->chunk_size;
    if (a->max && (a->used + size > a->max)) {
        /* A smaller chunk that exactly fits may still be under the cap. */
        if (a->used + n > a->max)
            return NULL;
        size = n;
    }
    struct hb_arena_chunk *c = malloc(sizeof *c + size);
    if (!c)
        return NULL;
    c->next = a->chunks;
    c->size = size;
    a->chunks = c;
    a->used += size;
    a->pos = c->data + n;
    a->end = c->data + size;
    return c->data;
}

char *hb_arena_dup(struct hb_arena *a, const void *p, size_t n)
{
    char *d = hb_arena_alloc(a, n + 1);
    if (!d)
        return NULL;
    if (n)
        memcpy(d, p, n);
    d[n] = '\0';
    return d;
}

void hb_arena_free(struct hb_arena *a)
{
    struct hb_arena_chunk *c = a->chunks;
    while (c) {
        struct hb_arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->chunks = NULL;
    a->used = 0;
    a->pos = a->init;
    a->end = a->init_end;
}
