/* proxy/clients.c — the per-client table (see clients.h). */
#include "proxy/clients.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/mix.h"

struct px_client_slot {
    _Atomic uint64_t word; /* key << 16 | open connections; 0: free */
    _Atomic uint64_t tat;  /* GCRA theoretical arrival time, ns; 0: bucket full */
};

struct px_clients {
    struct px_client_slot *slots;
    uint32_t mask;
    uint64_t k0, k1;
    _Atomic uint64_t untracked;
};

#define COUNT_MASK 0xffffull
#define KEY_OF(w) ((w) >> 16)

static struct px_clients *process_table;

void px_clients_set_process(struct px_clients *t)
{
    process_table = t;
}

struct px_clients *px_clients_process(void)
{
    return process_table;
}

const char *px_client_verdict_name(enum px_client_verdict v)
{
    switch (v) {
    case PX_CLIENT_OK:
        return "OK";
    case PX_CLIENT_OVER:
        return "OVER";
    case PX_CLIENT_UNTRACKED:
        return "UNTRACKED";
    }
    return "?";
}

struct px_clients *px_clients_new(uint32_t size, uint64_t seed)
{
    uint32_t n = PX_CLIENTS_WINDOW;
    while (n < size && n < (1u << 30))
        n <<= 1;
    struct px_clients *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->slots = calloc(n, sizeof *t->slots);
    if (!t->slots) {
        free(t);
        return NULL;
    }
    t->mask = n - 1;
    t->k0 = hb_mix64(seed ^ 0x243f6a8885a308d3ull);
    t->k1 = hb_mix64(seed + 0x13198a2e03707344ull);
    return t;
}

void px_clients_del(struct px_clients *t)
{
    if (!t)
        return;
    free(t->slots);
    free(t);
}

uint64_t px_clients_bytes(const struct px_clients *t)
{
    return sizeof *t + ((uint64_t)t->mask + 1) * sizeof *t->slots;
}

uint64_t px_clients_untracked(const struct px_clients *t)
{
    return atomic_load_explicit(&t->untracked, memory_order_relaxed);
}

/* The 48-bit key (never 0) and the first slot of addr's window. */
static uint64_t key_of(const struct px_clients *t, const uint8_t a[16], uint32_t *first)
{
    uint64_t hi, lo;
    memcpy(&hi, a, 8);
    memcpy(&lo, a + 8, 8);
    uint64_t h = hb_mix64(hb_mix64(hi ^ t->k0) ^ lo ^ t->k1);
    *first = (uint32_t)h & t->mask;
    uint64_t k = h >> 16;
    return k ? k : 1;
}

static struct px_client_slot *find(struct px_clients *t, uint64_t key, uint32_t first)
{
    for (uint32_t i = 0; i < PX_CLIENTS_WINDOW; i++) {
        struct px_client_slot *s = &t->slots[(first + i) & t->mask];
        if (KEY_OF(atomic_load_explicit(&s->word, memory_order_acquire)) == key)
            return s;
    }
    return NULL;
}

/* A slot whose address is gone: no connection and a full bucket. */
static bool reclaimable(struct px_client_slot *s, uint64_t w, hb_ns_t now)
{
    return w == 0 || ((w & COUNT_MASK) == 0 &&
                      atomic_load_explicit(&s->tat, memory_order_relaxed) <= (uint64_t)now);
}

enum px_client_verdict px_clients_open(struct px_clients *t, const uint8_t addr[16],
                                       uint32_t max_conns, hb_ns_t now)
{
    uint32_t first;
    uint64_t key = key_of(t, addr, &first);
    for (int attempt = 0; attempt < 8; attempt++) {
        struct px_client_slot *s = find(t, key, first);
        if (s) {
            uint64_t w = atomic_load_explicit(&s->word, memory_order_acquire);
            while (KEY_OF(w) == key) {
                uint64_t c = w & COUNT_MASK;
                if ((max_conns && c >= max_conns) || c >= PX_CLIENTS_MAX_CONNS)
                    return PX_CLIENT_OVER;
                if (atomic_compare_exchange_weak_explicit(&s->word, &w, w + 1,
                                                          memory_order_acq_rel,
                                                          memory_order_acquire))
                    return PX_CLIENT_OK;
            }
            continue; /* reclaimed under us: look again */
        }
        /* Not there: the first free or reclaimable slot of the window. Two
         * threads adding one address scan in the same order and meet at the
         * same slot; the loser finds the winner's entry on its next pass. */
        bool raced = false;
        for (uint32_t i = 0; i < PX_CLIENTS_WINDOW && !raced; i++) {
            struct px_client_slot *c = &t->slots[(first + i) & t->mask];
            uint64_t w = atomic_load_explicit(&c->word, memory_order_acquire);
            if (!reclaimable(c, w, now))
                continue;
            if (atomic_compare_exchange_strong_explicit(&c->word, &w, key << 16 | 1,
                                                        memory_order_acq_rel,
                                                        memory_order_acquire)) {
                atomic_store_explicit(&c->tat, 0, memory_order_relaxed);
                return PX_CLIENT_OK;
            }
            raced = true;
        }
        if (!raced)
            break;
    }
    atomic_fetch_add_explicit(&t->untracked, 1, memory_order_relaxed);
    return PX_CLIENT_UNTRACKED;
}

void px_clients_close(struct px_clients *t, const uint8_t addr[16])
{
    uint32_t first;
    uint64_t key = key_of(t, addr, &first);
    struct px_client_slot *s = find(t, key, first);
    if (!s)
        return;
    uint64_t w = atomic_load_explicit(&s->word, memory_order_acquire);
    while (KEY_OF(w) == key && (w & COUNT_MASK) > 0 &&
           !atomic_compare_exchange_weak_explicit(&s->word, &w, w - 1, memory_order_acq_rel,
                                                  memory_order_acquire)) {
    }
}

uint32_t px_clients_conns(const struct px_clients *t, const uint8_t addr[16])
{
    uint32_t first;
    uint64_t key = key_of(t, addr, &first);
    struct px_client_slot *s = find((struct px_clients *)t, key, first);
    return s ? (uint32_t)(atomic_load_explicit(&s->word, memory_order_relaxed) & COUNT_MASK) : 0;
}

enum px_client_verdict px_clients_request(struct px_clients *t, const uint8_t addr[16],
                                          uint32_t per_sec, uint32_t burst, hb_ns_t now)
{
    if (per_sec == 0)
        return PX_CLIENT_OK;
    uint32_t first;
    uint64_t key = key_of(t, addr, &first);
    struct px_client_slot *s = find(t, key, first);
    if (!s)
        return PX_CLIENT_UNTRACKED;
    /* GCRA: each request moves the theoretical arrival time by one
     * interval; a request is allowed while that time is at most
     * (burst - 1) intervals ahead of now. One word, one CAS. */
    uint64_t interval = HB_NS_PER_SEC / per_sec;
    uint64_t tolerance = (uint64_t)(burst ? burst - 1 : 0) * interval;
    uint64_t tat = atomic_load_explicit(&s->tat, memory_order_relaxed);
    for (;;) {
        uint64_t base = tat > (uint64_t)now ? tat : (uint64_t)now;
        if (base - (uint64_t)now > tolerance)
            return PX_CLIENT_OVER;
        if (atomic_compare_exchange_weak_explicit(&s->tat, &tat, base + interval,
                                                  memory_order_relaxed, memory_order_relaxed))
            return PX_CLIENT_OK;
    }
}
