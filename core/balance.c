/* core/balance.c — backend balancing policies (see balance.h). */
#include "core/balance.h"

#include <string.h>

static uint64_t weight_of(const struct hb_backend *b)
{
    return b->weight ? b->weight : 1;
}

int hb_balance_parse(const char *name, enum hb_balance *out)
{
    static const char *const names[] = {"round_robin", "least_conn", "random"};
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

ptrdiff_t hb_balance_pick(struct hb_balancer *b, struct hb_backend *be, size_t n)
{
    if (b->policy == HB_BAL_RANDOM)
        return weighted_random(b, be, n);
    if (b->policy == HB_BAL_ROUND_ROBIN)
        return swrr(be, n, NULL);
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
