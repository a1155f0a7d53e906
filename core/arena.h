/* core/arena.h — a per-request (per-stream) bump allocator.
 *
 * Everything a request allocates comes from its arena and dies with it in one
 * hb_arena_free(): no per-object frees, no leaks on error paths. Memory is
 * taken in chunks; the total is capped (max) so one request cannot grow
 * without bound. The first chunk may be caller-provided storage (for example
 * inside the stream struct) so small requests never call malloc.
 */
#ifndef H2B_CORE_ARENA_H
#define H2B_CORE_ARENA_H

#include <stddef.h>

struct hb_arena_chunk;

struct hb_arena {
    struct hb_arena_chunk *chunks; /* heap chunks, newest first */
    char *pos, *end;               /* free space in the current chunk */
    char *init, *init_end;         /* caller's first chunk, if any */
    size_t used;                   /* bytes taken from the heap */
    size_t max;                    /* cap on heap bytes; 0 = none */
    size_t chunk_size;             /* default heap chunk size */
};

/* Initialises an arena. initial/initial_len: optional caller-owned first
 * chunk (NULL, 0 for none); it is never freed by the arena. chunk_size: heap
 * chunk size (0 = 4096). max: cap on heap bytes (0 = none). */
void hb_arena_init(struct hb_arena *a, void *initial, size_t initial_len, size_t chunk_size,
                   size_t max);

/* Returns n bytes aligned to 16, or NULL when out of memory or over max.
 * The memory lives until hb_arena_free()/hb_arena_reset(). */
void *hb_arena_alloc(struct hb_arena *a, size_t n);

/* Copies n bytes into the arena; returns the copy or NULL. A NUL is appended
 * (not counted in n) so the copy can be used as a C string. */
char *hb_arena_dup(struct hb_arena *a, const void *p, size_t n);

/* Frees every heap chunk. The arena is then empty and reusable, with its
 * caller-provided first chunk (if any) available again. */
void hb_arena_free(struct hb_arena *a);

#endif
