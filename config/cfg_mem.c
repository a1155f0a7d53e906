/* config/cfg_mem.c — the pool every configuration allocates from.
 *
 * A configuration is built once and freed whole, so a bump allocator over a
 * list of chunks fits: no per-object frees, no leak on any error path. All
 * of config/ allocates through cfg_malloc() so a test can fail the Nth
 * allocation. */
#include <stdlib.h>
#include <string.h>

#include "config/cfg_internal.h"

static void *(*alloc_hook)(size_t);

void cfg_set_alloc_hook(void *(*alloc)(size_t))
{
    alloc_hook = alloc;
}

void *cfg_malloc(size_t n)
{
    return alloc_hook ? alloc_hook(n) : malloc(n);
}

struct chunk {
    struct chunk *next;
    size_t size;
    _Alignas(16) char data[];
};

struct cfg_mem {
    struct chunk *chunks;
    char *pos, *end;
};

#define CHUNK_SIZE 8192

static size_t chunk_size = CHUNK_SIZE;

void cfg_mem_set_chunk_size(size_t size)
{
    chunk_size = size ? size : CHUNK_SIZE;
}

struct cfg_mem *cfg_mem_new(void)
{
    struct cfg_mem *m = cfg_malloc(sizeof *m);
    if (m)
        memset(m, 0, sizeof *m);
    return m;
}

void cfg_mem_del(struct cfg_mem *m)
{
    if (!m)
        return;
    struct chunk *c = m->chunks;
    while (c) {
        struct chunk *next = c->next;
        free(c);
        c = next;
    }
    free(m);
}

void *cfg_mem_alloc(struct cfg_mem *m, size_t n)
{
    size_t need = (n + 15) & ~(size_t)15;
    if (need < n)
        return NULL;
    if ((size_t)(m->end - m->pos) < need) {
        /* Big requests get a chunk of their own; the current chunk stays. */
        size_t size = need > chunk_size / 4 ? need : chunk_size;
        if (size > SIZE_MAX - sizeof(struct chunk))
            return NULL;
        struct chunk *c = cfg_malloc(sizeof *c + size);
        if (!c)
            return NULL;
        c->size = size;
        c->next = m->chunks;
        m->chunks = c;
        if (size == need) {
            memset(c->data, 0, need);
            return c->data;
        }
        m->pos = c->data;
        m->end = c->data + size;
    }
    void *p = m->pos;
    m->pos += need;
    memset(p, 0, need);
    return p;
}

char *cfg_mem_strndup(struct cfg_mem *m, const char *p, size_t n)
{
    if (n == SIZE_MAX)
        return NULL;
    char *s = cfg_mem_alloc(m, n + 1);
    if (s && n)
        memcpy(s, p, n);
    return s;
}

char *cfg_mem_strdup(struct cfg_mem *m, const char *s)
{
    return s ? cfg_mem_strndup(m, s, strlen(s)) : NULL;
}

static bool is_pow2(size_t n)
{
    return (n & (n - 1)) == 0;
}

void *cfg_mem_push(struct cfg_mem *m, void *arr, size_t *n, size_t elem)
{
    char **a = arr;
    /* Capacity is implicit: the next power of two >= n (0 for an empty
     * array), so the array is full exactly when n is 0 or a power of two. */
    if (*n == 0 || is_pow2(*n)) {
        size_t cap = *n ? *n * 2 : 1;
        if (cap > SIZE_MAX / elem)
            return NULL;
        char *grown = cfg_mem_alloc(m, cap * elem);
        if (!grown)
            return NULL;
        if (*n)
            memcpy(grown, *a, *n * elem);
        *a = grown;
    }
    char *e = *a + *n * elem;
    memset(e, 0, elem);
    ++*n;
    return e;
}
