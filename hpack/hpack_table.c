/* hpack/hpack_table.c — the dynamic table (RFC 7541 §2.3.2, §4) as a ring
 * of entry descriptors over one circular byte buffer. */
#include "hpack/hpack_internal.h"

#include <stdlib.h>
#include <string.h>

/* Tables beyond this are refused (HPACK_ERR_NOMEM): nobody needs 1 GiB. */
#define TABLE_ALLOC_LIMIT (UINT32_C(1) << 30)

static uint32_t pow2_at_least(uint32_t v)
{
    uint32_t p = 64;
    while (p < v)
        p <<= 1;
    return p;
}

/* §4.1: an entry is at least 32 bytes, so a table of max bytes holds at most
 * max / 32 entries. */
static uint32_t slots_for(uint32_t max)
{
    return pow2_at_least(max / HPACK_ENTRY_OVERHEAD + 1);
}

static uint32_t entry_size(const struct hpack_entry *e)
{
    return e->name_len + e->value_len + HPACK_ENTRY_OVERHEAD;
}

int hpack_table_init(struct hpack_table *t, uint32_t max_size, int with_index)
{
    memset(t, 0, sizeof *t);
    t->first_seq = t->next_seq = 1; /* seq 0 ends the index chains */
    if (with_index) {
        t->buckets = calloc(HPACK_INDEX_BUCKETS, sizeof *t->buckets);
        if (!t->buckets)
            return HPACK_ERR_NOMEM;
    }
    if (hpack_table_reserve(t, max_size) != 0) {
        free(t->buckets);
        t->buckets = NULL;
        return HPACK_ERR_NOMEM;
    }
    t->max_size = max_size;
    return 0;
}

void hpack_table_free(struct hpack_table *t)
{
    free(t->ents);
    free(t->bytes);
    free(t->buckets);
    memset(t, 0, sizeof *t);
}

void hpack_table_copy(const struct hpack_table *t, uint32_t off, uint32_t len, char *dst)
{
    uint32_t cap = t->byte_mask + 1;
    off &= t->byte_mask;
    uint32_t first = cap - off < len ? cap - off : len;
    memcpy(dst, t->bytes + off, first);
    if (len > first)
        memcpy(dst + first, t->bytes, len - first);
}

int hpack_table_equal(const struct hpack_table *t, uint32_t off, uint32_t len, const char *s)
{
    if (len == 0)
        return 1;
    uint32_t cap = t->byte_mask + 1;
    off &= t->byte_mask;
    uint32_t first = cap - off < len ? cap - off : len;
    if (memcmp(s, t->bytes + off, first) != 0)
        return 0;
    return len == first || memcmp(s + first, t->bytes, len - first) == 0;
}

static void write_bytes(struct hpack_table *t, const char *s, uint32_t len)
{
    uint32_t cap = t->byte_mask + 1;
    uint32_t off = t->tail;
    uint32_t first = cap - off < len ? cap - off : len;
    if (first)
        memcpy(t->bytes + off, s, first);
    if (len > first)
        memcpy(t->bytes, s + first, len - first);
    t->tail = (off + len) & t->byte_mask;
}

int hpack_table_reserve(struct hpack_table *t, uint32_t alloc_max)
{
    if (t->ents && alloc_max <= t->alloc_max)
        return 0;
    if (alloc_max > TABLE_ALLOC_LIMIT)
        return HPACK_ERR_NOMEM;
    uint32_t nslots = slots_for(alloc_max);
    uint32_t nbytes = pow2_at_least(alloc_max);
    struct hpack_entry *ents = malloc(nslots * sizeof *ents);
    char *bytes = malloc(nbytes);
    if (!ents || !bytes) {
        free(ents);
        free(bytes);
        return HPACK_ERR_NOMEM;
    }
    /* Move the live entries, oldest first, to the start of the new ring.
     * Sequence numbers stay, so the index chains stay valid. */
    uint32_t tail = 0;
    for (uint64_t s = t->first_seq; s < t->next_seq; s++) {
        struct hpack_entry e = t->ents[s & t->ent_mask];
        uint32_t len = e.name_len + e.value_len;
        hpack_table_copy(t, e.off, len, bytes + tail);
        e.off = tail;
        tail += len;
        ents[s & (nslots - 1)] = e;
    }
    free(t->ents);
    free(t->bytes);
    t->ents = ents;
    t->bytes = bytes;
    t->ent_mask = nslots - 1;
    t->byte_mask = nbytes - 1;
    t->tail = tail & t->byte_mask;
    t->alloc_max = alloc_max;
    return 0;
}

static void evict_until(struct hpack_table *t, uint32_t limit)
{
    while (t->size > limit) {
        t->size -= entry_size(&t->ents[t->first_seq & t->ent_mask]);
        t->first_seq++;
    }
}

void hpack_table_set_max(struct hpack_table *t, uint32_t max_size)
{
    t->max_size = max_size;
    evict_until(t, max_size);
}

void hpack_table_clear(struct hpack_table *t)
{
    t->first_seq = t->next_seq;
    t->size = 0;
    t->tail = 0;
}

/* A fast non-cryptographic hash, 8 bytes per step; the index only needs
 * an even spread (a collision costs one memcmp). */
static uint32_t hash_bytes(const char *s, uint32_t len, uint64_t seed)
{
    const uint64_t k = UINT64_C(0x9e3779b97f4a7c15);
    uint64_t h = (seed ^ len) * k;
    uint64_t w;
    while (len >= 8) {
        memcpy(&w, s, 8);
        h = (h ^ w) * k;
        h ^= h >> 29;
        s += 8;
        len -= 8;
    }
    w = 0;
    if (len)
        memcpy(&w, s, len);
    h = (h ^ w) * k;
    h ^= h >> 32;
    return (uint32_t)h;
}

void hpack_table_insert(struct hpack_table *t, const char *name, uint32_t name_len,
                        const char *value, uint32_t value_len, const struct hpack_hashes *h)
{
    uint64_t need = (uint64_t)name_len + value_len + HPACK_ENTRY_OVERHEAD;
    if (need > t->max_size) {
        /* §4.4: not an error; the table ends up empty. */
        hpack_table_clear(t);
        return;
    }
    evict_until(t, t->max_size - (uint32_t)need);
    if (t->first_seq == t->next_seq)
        t->tail = 0;
    struct hpack_entry *e = &t->ents[t->next_seq & t->ent_mask];
    e->off = t->tail;
    e->name_len = name_len;
    e->value_len = value_len;
    write_bytes(t, name, name_len);
    write_bytes(t, value, value_len);
    if (t->buckets && h) {
        e->name_hash = h->name;
        e->nv_hash = h->nv;
        uint64_t *head = &t->buckets[h->name & (HPACK_INDEX_BUCKETS - 1)];
        e->next = *head;
        *head = t->next_seq;
    }
    t->size += (uint32_t)need;
    t->next_seq++;
}

uint32_t hpack_table_find(const struct hpack_table *t, const char *name, uint32_t name_len,
                          const char *value, uint32_t value_len, int *full,
                          struct hpack_hashes *h)
{
    *full = 0;
    if (!t->buckets)
        return 0;
    h->name = hash_bytes(name, name_len, 0);
    h->nv = hash_bytes(value, value_len, h->name);
    uint64_t best_name = 0;
    /* Chains run newest to oldest; a link older than the oldest live entry
     * ends the chain (its slot may have been reused since). Bytes are
     * compared only when the hashes agree. */
    for (uint64_t s = t->buckets[h->name & (HPACK_INDEX_BUCKETS - 1)]; s >= t->first_seq;) {
        const struct hpack_entry *e = &t->ents[s & t->ent_mask];
        if (e->name_hash == h->name && e->name_len == name_len) {
            if (e->nv_hash == h->nv && e->value_len == value_len &&
                hpack_table_equal(t, e->off, name_len, name) &&
                hpack_table_equal(t, e->off + name_len, value_len, value)) {
                *full = 1;
                return (uint32_t)(t->next_seq - s);
            }
            if (!best_name && hpack_table_equal(t, e->off, name_len, name))
                best_name = s;
        }
        s = e->next;
    }
    return best_name ? (uint32_t)(t->next_seq - best_name) : 0;
}
