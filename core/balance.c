/* core/balance.c — backend balancing policies (see balance.h). */
#include "core/balance.h"

#include <stdlib.h>
#include <string.h>

#include "core/mix.h"

static uint64_t weight_of(const struct hb_backend *b)
{
    return b->weight ? b->weight : 1;
}

int hb_balance_parse(const char *name, enum hb_balance *out)
{
    static const char *const names[] = {"round_robin", "least_conn", "random", "least_request",
                                        "consistent_hash"};
    for (size_t i = 0; name && i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i]) == 0) {
            *out = (enum hb_balance)i;
            return 0;
        }
    return -1;
}

void hb_balancer_init(struct hb_balancer *b, enum hb_balance policy, uint64_t seed)
{
    b->policy = policy;
    b->rng = seed ? seed : 0x9e3779b97f4a7c15u;
    b->maglev = NULL;
}

/* a.active/a.weight < b.active/b.weight, without division. */
static int load_cmp(const struct hb_backend *a, const struct hb_backend *b)
{
    uint64_t l = (uint64_t)a->active * weight_of(b), r = (uint64_t)b->active * weight_of(a);
    return l < r ? -1 : l > r;
}

/* Smooth weighted round-robin over the candidates (healthy, and for
 * least_conn as lightly loaded as `least`): every candidate gains its
 * weight, the richest is picked and pays the total. Over sum(weights) picks
 * each is chosen exactly weight times, spread out (no bursts). */
static ptrdiff_t swrr(struct hb_backend *be, size_t n, const struct hb_backend *least)
{
    int64_t total = 0;
    ptrdiff_t best = -1;
    for (size_t i = 0; i < n; i++) {
        if (!be[i].healthy || (least && load_cmp(&be[i], least) != 0))
            continue;
        be[i].current += (int64_t)weight_of(&be[i]);
        total += (int64_t)weight_of(&be[i]);
        if (best < 0 || be[i].current > be[best].current)
            best = (ptrdiff_t)i;
    }
    if (best >= 0)
        be[best].current -= total;
    return best;
}

static uint64_t next_rand(struct hb_balancer *b)
{
    /* xorshift64* (Vigna): enough for spreading load, not for secrets. */
    b->rng ^= b->rng >> 12;
    b->rng ^= b->rng << 25;
    b->rng ^= b->rng >> 27;
    return b->rng * 0x2545f4914f6cdd1du;
}

static ptrdiff_t weighted_random(struct hb_balancer *b, const struct hb_backend *be, size_t n)
{
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++)
        if (be[i].healthy)
            total += weight_of(&be[i]);
    if (total == 0)
        return -1;
    uint64_t r = next_rand(b) % total;
    for (size_t i = 0; i < n; i++) {
        if (!be[i].healthy)
            continue;
        if (r < weight_of(&be[i]))
            return (ptrdiff_t)i;
        r -= weight_of(&be[i]);
    }
    return -1; /* not reached */
}

/* Power of two choices (Mitzenmacher): two distinct candidates drawn by
 * weight, the one with fewer active per weight wins (ties: the first
 * draw, itself random). Unlike least_conn it never herds every new request
 * onto the one server that just became the least loaded, which matters
 * when several workers decide on stale counts. O(n) per pick. */
static ptrdiff_t p2c(struct hb_balancer *b, const struct hb_backend *be, size_t n)
{
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++)
        if (be[i].healthy)
            total += weight_of(&be[i]);
    if (total == 0)
        return -1;
    ptrdiff_t first = -1, second = -1;
    uint64_t r = next_rand(b) % total;
    for (size_t i = 0; i < n; i++) {
        if (!be[i].healthy)
            continue;
        if (r < weight_of(&be[i])) {
            first = (ptrdiff_t)i;
            break;
        }
        r -= weight_of(&be[i]);
    }
    uint64_t rest = total - weight_of(&be[first]);
    if (rest == 0)
        return first; /* the only healthy one */
    r = next_rand(b) % rest;
    for (size_t i = 0; i < n; i++) {
        if (!be[i].healthy || (ptrdiff_t)i == first)
            continue;
        if (r < weight_of(&be[i])) {
            second = (ptrdiff_t)i;
            break;
        }
        r -= weight_of(&be[i]);
    }
    return load_cmp(&be[second], &be[first]) < 0 ? second : first;
}

/* ---- Maglev ---- */

bool hb_is_prime(uint32_t v)
{
    if (v < 2)
        return false;
    for (uint32_t d = 2; (uint64_t)d * d <= v; d++)
        if (v % d == 0)
            return false;
    return true;
}

uint64_t hb_hash_bytes(const void *p, size_t len, uint64_t seed)
{
    const unsigned char *s = p;
    uint64_t h = hb_mix64(seed ^ ((uint64_t)len * 0x9e3779b97f4a7c15ull));
    while (len >= 8) {
        uint64_t w = 0;
        for (int k = 0; k < 8; k++) /* byte order fixed: the same hash on every host */
            w |= (uint64_t)s[k] << (8 * k);
        h = hb_mix64(h ^ w);
        s += 8;
        len -= 8;
    }
    uint64_t w = 0;
    for (size_t k = 0; k < len; k++)
        w |= (uint64_t)s[k] << (8 * k);
    return hb_mix64(h ^ w ^ 0xff51afd7ed558ccdull);
}

#define MAGLEV_EMPTY UINT32_MAX
#define SEED_OFFSET 0x6d61676c65763031ull /* "maglev01" */
#define SEED_SKIP 0x6d61676c65763032ull

struct mg_build {
    uint64_t h;      /* offset hash: the turn order */
    uint32_t idx;    /* in s[] */
    uint32_t pos;    /* next slot of its permutation */
    uint32_t skip;
    uint64_t target; /* weighted turns: claims when turn × weight reaches it */
    const struct hb_maglev_server *s;
};

static int mg_cmp(const void *a, const void *b)
{
    const struct mg_build *x = a, *y = b;
    if (x->h != y->h)
        return x->h < y->h ? -1 : 1;
    size_t l = x->s->len < y->s->len ? x->s->len : y->s->len;
    int c = memcmp(x->s->name, y->s->name, l);
    if (c)
        return c;
    return x->s->len < y->s->len ? -1 : x->s->len > y->s->len;
}

int hb_maglev_build(struct hb_maglev *m, const struct hb_maglev_server *s, size_t n,
                    uint32_t size)
{
    if (n == 0 || size < HB_MAGLEV_MIN_SIZE || size > HB_MAGLEV_MAX_SIZE || n > size ||
        !hb_is_prime(size))
        return -1;
    uint32_t *entry = malloc((size_t)size * sizeof *entry);
    struct mg_build *bl = calloc(n, sizeof *bl);
    if (!entry || !bl) {
        free(entry);
        free(bl);
        return -1;
    }
    uint64_t wmax = 1;
    for (size_t i = 0; i < n; i++) {
        uint64_t w = s[i].weight ? s[i].weight : 1;
        wmax = w > wmax ? w : wmax;
        bl[i].s = &s[i];
        bl[i].idx = (uint32_t)i;
        bl[i].h = hb_hash_bytes(s[i].name, s[i].len, SEED_OFFSET);
        bl[i].pos = (uint32_t)(bl[i].h % size);
        bl[i].skip = (uint32_t)(hb_hash_bytes(s[i].name, s[i].len, SEED_SKIP) % (size - 1)) + 1;
    }
    qsort(bl, n, sizeof *bl, mg_cmp);
    memset(entry, 0xff, (size_t)size * sizeof *entry);
    uint32_t filled = 0;
    for (uint64_t turn = 0; filled < size; turn++)
        for (size_t k = 0; k < n && filled < size; k++) {
            struct mg_build *e = &bl[k];
            uint64_t w = e->s->weight ? e->s->weight : 1;
            if (turn * w < e->target)
                continue;
            e->target += wmax;
            /* Its permutation visits every slot (size prime, skip < size),
             * so a free one is found while the table is not full. */
            while (entry[e->pos] != MAGLEV_EMPTY)
                e->pos = (uint32_t)(((uint64_t)e->pos + e->skip) % size);
            entry[e->pos] = e->idx;
            e->pos = (uint32_t)(((uint64_t)e->pos + e->skip) % size);
            filled++;
        }
    free(bl);
    free(m->entry);
    m->entry = entry;
    m->size = size;
    m->n = (uint32_t)n;
    return 0;
}

void hb_maglev_free(struct hb_maglev *m)
{
    free(m->entry);
    m->entry = NULL;
    m->size = m->n = 0;
}

ptrdiff_t hb_maglev_lookup(const struct hb_maglev *m, uint64_t h, const struct hb_backend *be,
                           size_t n)
{
    if (!m || !m->size)
        return -1;
    uint32_t slot = (uint32_t)(h % m->size);
    for (uint32_t k = 0; k < m->size; k++) {
        uint32_t i = m->entry[slot];
        if (i < n && be[i].healthy)
            return (ptrdiff_t)i;
        if (++slot == m->size)
            slot = 0;
    }
    return -1;
}

ptrdiff_t hb_maglev_lookup_nth(const struct hb_maglev *m, uint64_t h, const struct hb_backend *be,
                               size_t n, unsigned nth)
{
    if (!m || !m->size || nth > 15)
        return -1;
    uint32_t seen[16], nseen = 0;
    uint32_t slot = (uint32_t)(h % m->size);
    for (uint32_t k = 0; k < m->size; k++) {
        uint32_t i = m->entry[slot];
        if (++slot == m->size)
            slot = 0;
        if (i >= n || !be[i].healthy)
            continue;
        bool dup = false;
        for (uint32_t j = 0; j < nseen && !dup; j++)
            dup = seen[j] == i;
        if (dup)
            continue;
        if (nseen == nth)
            return (ptrdiff_t)i;
        seen[nseen++] = i;
    }
    return -1;
}

ptrdiff_t hb_balance_pick(struct hb_balancer *b, struct hb_backend *be, size_t n,
                          const uint64_t *key)
{
    if (b->policy == HB_BAL_ROUND_ROBIN)
        return swrr(be, n, NULL);
    if (b->policy == HB_BAL_RANDOM)
        return weighted_random(b, be, n);
    if (b->policy == HB_BAL_LEAST_REQUEST)
        return p2c(b, be, n);
    if (b->policy == HB_BAL_CONSISTENT_HASH)
        return key && b->maglev && b->maglev->size ? hb_maglev_lookup(b->maglev, *key, be, n)
                                                   : swrr(be, n, NULL);
    /* least_conn: the lowest active/weight; ties share by weight. */
    ptrdiff_t least = -1;
    for (size_t i = 0; i < n; i++)
        if (be[i].healthy && (least < 0 || load_cmp(&be[i], &be[least]) < 0))
            least = (ptrdiff_t)i;
    if (least < 0)
        return -1;
    struct hb_backend ref = be[least]; /* swrr moves be[least].current */
    return swrr(be, n, &ref);
}
