/* hpack/hpack_table.c — the dynamic table (RFC 7541 §2.3.2, §4) as a ring
 * of entry descriptors over one circular byte buffer. */
#include "hpack/hpack_internal.h"

#include <stdlib.h>
#include <string.h>

/* Rings beyond this are refused (HPACK_ERR_NOMEM): nobody needs 1 GiB. */
#define TABLE_ALLOC_LIMIT (UINT32_C(1) << 30)

/* Smallest rings: a few short fields fit without growing again. */
#define MIN_BYTES 128u
#define MIN_SLOTS 8u

static uint32_t pow2_at_least(uint64_t v, uint32_t floor)
{
    uint32_t p = floor;
    while (p < v)
        p <<= 1;
    return p;
}

/* The encoder's index has two buckets per descriptor slot: short chains. */
static uint32_t bucket_mask(uint32_t ent_mask)
{
    return ent_mask << 1 | 1;
}

static uint32_t entry_size(const struct hpack_entry *e)
{
    return e->name_len + e->value_len + HPACK_ENTRY_OVERHEAD;
}

void hpack_table_init(struct hpack_table *t, uint32_t max_size, int with_index,
                      const struct hpack_allocator *a)
{
    memset(t, 0, sizeof *t);
    t->a = a;
    t->first_seq = t->next_seq = 1; /* seq 0 ends the index chains */
    t->max_size = max_size;
    t->with_index = with_index;
}

static size_t slots_mem(const struct hpack_table *t)
{
    if (!t->ents)
        return 0;
    size_t n = (size_t)t->ent_mask + 1;
    return n * sizeof *t->ents + (t->with_index ? 2 * n * sizeof *t->buckets : 0);
}

size_t hpack_table_mem(const struct hpack_table *t)
{
    return slots_mem(t) + (t->ents ? (size_t)t->byte_mask + 1 : 0);
}

void hpack_table_free(struct hpack_table *t)
{
    if (t->ents) {
        size_t n = (size_t)t->ent_mask + 1;
        hpack_mem_free(t->a, t->ents, n * sizeof *t->ents);
        hpack_mem_free(t->a, t->bytes, (size_t)t->byte_mask + 1);
        hpack_mem_free(t->a, t->buckets, 2 * n * sizeof *t->buckets);
    }
    t->ents = NULL;
    t->bytes = NULL;
    t->buckets = NULL;
    t->ent_mask = t->byte_mask = 0;
    hpack_table_clear(t);
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

/* Moves the live entries, oldest first, to the start of new rings of
 * nslots descriptors and nbytes bytes (both powers of two, large enough).
 * Sequence numbers stay; the index chains are rebuilt for the new bucket
 * count. Returns 0 or HPACK_ERR_NOMEM (t unchanged). */
static int regrow(struct hpack_table *t, uint32_t nslots, uint32_t nbytes)
{
    struct hpack_entry *ents = hpack_mem_alloc(t->a, nslots * sizeof *ents);
    char *bytes = hpack_mem_alloc(t->a, nbytes);
    uint64_t *buckets = NULL;
    if (ents && bytes && t->with_index)
        buckets = hpack_mem_alloc(t->a, 2 * nslots * sizeof *buckets);
    if (!ents || !bytes || (t->with_index && !buckets)) {
        hpack_mem_free(t->a, ents, nslots * sizeof *ents);
        hpack_mem_free(t->a, bytes, nbytes);
        return HPACK_ERR_NOMEM;
    }
    if (buckets)
        memset(buckets, 0, 2 * nslots * sizeof *buckets);
    uint32_t tail = 0;
    for (uint64_t s = t->first_seq; s < t->next_seq; s++) {
        struct hpack_entry e = t->ents[s & t->ent_mask];
        uint32_t len = e.name_len + e.value_len;
        hpack_table_copy(t, e.off, len, bytes + tail);
        e.off = tail;
        tail += len;
        if (buckets) {
            uint64_t *head = &buckets[e.name_hash & bucket_mask(nslots - 1)];
            e.next = *head;
            *head = s;
        }
        ents[s & (nslots - 1)] = e;
    }
    uint64_t first = t->first_seq, next = t->next_seq;
    uint32_t size = t->size;
    hpack_table_free(t);
    t->first_seq = first;
    t->next_seq = next;
    t->size = size;
    t->ents = ents;
    t->bytes = bytes;
    t->buckets = buckets;
    t->ent_mask = nslots - 1;
    t->byte_mask = nbytes - 1;
    t->tail = tail & t->byte_mask;
    return 0;
}

/* What a table of max_size needs after `extra` more name/value bytes in
 * `extra_count` more entries: *bytes of ring, *n descriptors. It never
 * holds more than max_size bytes of entries, nor more than max_size / 32
 * of them (§4.1). */
static void needs(const struct hpack_table *t, uint64_t extra, uint64_t extra_count,
                  uint32_t max_size, uint64_t *bytes, uint64_t *n)
{
    uint32_t count = hpack_table_count(t);
    *bytes = (uint64_t)t->size - (uint64_t)count * HPACK_ENTRY_OVERHEAD + extra;
    *n = count + extra_count;
    if (*bytes > max_size)
        *bytes = max_size;
    if (*n > max_size / HPACK_ENTRY_OVERHEAD)
        *n = max_size / HPACK_ENTRY_OVERHEAD;
}

int hpack_table_has_room(const struct hpack_table *t, uint64_t extra, uint64_t extra_count,
                         uint32_t max_size)
{
    uint64_t bytes, n;
    needs(t, extra, extra_count, max_size, &bytes, &n);
    if (n == 0)
        return 1;
    return t->ents && bytes <= (uint64_t)t->byte_mask + 1 && n <= (uint64_t)t->ent_mask + 1;
}

int hpack_table_fit(struct hpack_table *t, uint64_t extra, uint64_t extra_count,
                    uint32_t max_size)
{
    if (hpack_table_has_room(t, extra, extra_count, max_size))
        return 0;
    uint64_t bytes, n;
    needs(t, extra, extra_count, max_size, &bytes, &n);
    if (bytes > TABLE_ALLOC_LIMIT)
        return HPACK_ERR_NOMEM;
    uint32_t cap = t->ents ? t->byte_mask + 1 : 0;
    uint32_t slots = t->ents ? t->ent_mask + 1 : 0;
    /* Powers of two at least as large as now: each growth at least
     * doubles, so a connection's table grows a few times at most. */
    return regrow(t, pow2_at_least(n, slots > MIN_SLOTS ? slots : MIN_SLOTS),
                  pow2_at_least(bytes, cap > MIN_BYTES ? cap : MIN_BYTES));
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

int hpack_table_insert(struct hpack_table *t, const char *name, uint32_t name_len,
                       const char *value, uint32_t value_len, const struct hpack_hashes *h)
{
    uint64_t need = (uint64_t)name_len + value_len + HPACK_ENTRY_OVERHEAD;
    if (need > t->max_size) {
        /* §4.4: not an error; the table ends up empty. */
        hpack_table_clear(t);
        return 0;
    }
    /* Room first (before evicting), so a failure leaves t as it was. */
    if (hpack_table_fit(t, need - HPACK_ENTRY_OVERHEAD, 1, t->max_size) != 0)
        return HPACK_ERR_NOMEM;
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
        uint64_t *head = &t->buckets[h->name & bucket_mask(t->ent_mask)];
        e->next = *head;
        *head = t->next_seq;
    }
    t->size += (uint32_t)need;
    t->next_seq++;
    return 0;
}

uint32_t hpack_table_find(const struct hpack_table *t, const char *name, uint32_t name_len,
                          const char *value, uint32_t value_len, int *full,
                          struct hpack_hashes *h)
{
    *full = 0;
    if (!t->with_index)
        return 0;
    h->name = hash_bytes(name, name_len, 0);
    h->nv = hash_bytes(value, value_len, h->name);
    if (!t->ents)
        return 0;
    uint64_t best_name = 0;
    /* Chains run newest to oldest; a link older than the oldest live entry
     * ends the chain (its slot may have been reused since). Bytes are
     * compared only when the hashes agree. */
    for (uint64_t s = t->buckets[h->name & bucket_mask(t->ent_mask)]; s >= t->first_seq;) {
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
