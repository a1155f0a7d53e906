/* proxy/exchange/early_hints.c — the proxy's own 103 Early Hints and the
 * per-worker cache of learned Link values (see early_hints.h). */
#include "proxy/exchange/early_hints.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>

#include "core/link_hdr.h"
#include "core/list.h"
#include "core/log.h"
#include "core/mix.h"
#include "core/time.h"
#include "core/err.h"
#include "proxy/exchange/exchange_int.h"
#include "proxy/front/conn.h"
#include "proxy/front/front.h"
#include "proxy/worker.h"

/* One learned path: key (authority + path), then its Link values joined
 * with ", " (one field value). Sized to fit: key_len + links_len, the
 * latter at most the route's max_entry_size. */
struct eh_entry {
    struct hb_list lru;    /* cache->lru, most recently used first */
    struct eh_entry *next; /* bucket chain */
    uint64_t hash;
    uint32_t key_len;
    uint32_t links_len;
    char data[];
};

/* One route's cache in one worker: buckets (a power of two at least
 * max_entries, so chains stay short), LRU for eviction. */
struct eh_cache {
    struct eh_entry **buckets;
    size_t mask;
    size_t n;
    struct hb_list lru;
};

struct px_eh_worker {
    uint64_t seed; /* random per worker: chains an attacker cannot line up */
    size_t nroutes;
    struct eh_cache *c[]; /* by route index, made on first use */
};

/* The key an exchange learns under (kept from request to final head). */
struct px_eh_key {
    uint64_t hash;
    size_t len;
    char s[];
};

/* FNV-1a from a random seed, then mixed (core/mix.h), so paths a client
 * chooses do not pile up in one bucket. */
static uint64_t key_hash(uint64_t seed, const char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull ^ seed;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 0x100000001b3ull;
    return hb_mix64(h);
}

static size_t route_index(const struct px_exchange *ex)
{
    return (size_t)(ex->route - ex->fc->w->cfg->routes);
}

/* The worker's state, made on the first request that learns. */
static struct px_eh_worker *worker_state(struct px_worker *w)
{
    if (w->eh)
        return w->eh;
    size_t n = w->cfg->n_routes;
    w->eh = calloc(1, sizeof *w->eh + n * sizeof w->eh->c[0]);
    if (!w->eh)
        return NULL;
    w->eh->nroutes = n;
    if (getrandom(&w->eh->seed, sizeof w->eh->seed, GRND_NONBLOCK) != (ssize_t)sizeof w->eh->seed)
        w->eh->seed = hb_mix64((uint64_t)hb_time_now_ns() ^ (uintptr_t)w->eh);
    return w->eh;
}

static struct eh_cache *cache_of(struct px_worker *w, size_t ri, bool make)
{
    if (!w->eh || ri >= w->eh->nroutes)
        return NULL;
    struct eh_cache *c = w->eh->c[ri];
    if (c || !make)
        return c;
    size_t want = w->cfg->routes[ri].early_hints.max_entries, nb = 16;
    while (nb < want)
        nb <<= 1;
    c = calloc(1, sizeof *c);
    if (c)
        c->buckets = calloc(nb, sizeof *c->buckets);
    if (!c || !c->buckets) {
        free(c);
        return NULL;
    }
    c->mask = nb - 1;
    hb_list_init(&c->lru);
    w->eh->c[ri] = c;
    return c;
}

static struct eh_entry **find_slot(struct eh_cache *c, const struct px_eh_key *k)
{
    struct eh_entry **pp = &c->buckets[k->hash & c->mask];
    for (; *pp; pp = &(*pp)->next) {
        struct eh_entry *e = *pp;
        if (e->hash == k->hash && e->key_len == k->len && memcmp(e->data, k->s, k->len) == 0)
            return pp;
    }
    return pp;
}

static void unlink_entry(struct eh_cache *c, struct eh_entry **pp)
{
    struct eh_entry *e = *pp;
    *pp = e->next;
    hb_list_remove(&e->lru);
    c->n--;
    free(e);
}

/* Drops the least recently used entry (the LRU tail). */
static void evict_one(struct eh_cache *c)
{
    struct hb_list *last = c->lru.prev;
    if (last == &c->lru)
        return;
    struct eh_entry *e = hb_container_of(last, struct eh_entry, lru);
    struct eh_entry **pp = &c->buckets[e->hash & c->mask];
    while (*pp != e)
        pp = &(*pp)->next;
    unlink_entry(c, pp);
}

static void cache_free(struct eh_cache *c)
{
    if (!c)
        return;
    struct hb_list *it;
    while ((it = hb_list_pop_front(&c->lru)) != NULL)
        free(hb_container_of(it, struct eh_entry, lru));
    free(c->buckets);
    free(c);
}

void px_eh_worker_free(struct px_worker *w)
{
    if (!w->eh)
        return;
    for (size_t i = 0; i < w->eh->nroutes; i++)
        cache_free(w->eh->c[i]);
    free(w->eh);
    w->eh = NULL;
}

size_t px_eh_entries(const struct px_worker *w, size_t ri)
{
    return w->eh && ri < w->eh->nroutes && w->eh->c[ri] ? w->eh->c[ri]->n : 0;
}

void px_eh_ex_free(struct px_exchange *ex)
{
    free(ex->eh);
    ex->eh = NULL;
}

/* authority + path up to '?' (the query does not change the subresources
 * a page needs often enough to be worth a separate entry). */
static struct px_eh_key *make_key(uint64_t seed, const struct hb_msg *req)
{
    const char *q = req->path.len ? memchr(req->path.p, '?', req->path.len) : NULL;
    size_t plen = q ? (size_t)(q - req->path.p) : req->path.len;
    size_t len = req->authority.len + plen;
    struct px_eh_key *k = malloc(sizeof *k + len);
    if (!k)
        return NULL;
    if (req->authority.len)
        memcpy(k->s, req->authority.p, req->authority.len);
    if (plen)
        memcpy(k->s + req->authority.len, req->path.p, plen);
    k->len = len;
    k->hash = key_hash(seed, k->s, len);
    return k;
}

void px_eh_on_request(struct px_exchange *ex, const struct hb_msg *req)
{
    const struct cfg_early_hints *eh = &ex->route->early_hints;
    /* Hints are for page loads: GET only (a HEAD fetches no subresources). */
    if (!hb_str_eq(req->method, HB_STR_LIT("GET")) || ex->tun_kind)
        return;
    struct hpack_field f[CFG_EH_MAX_LINKS + 1];
    size_t n = 0;
    for (size_t i = 0; i < eh->n_links; i++)
        f[n++] = (struct hpack_field){.name = "link", .name_len = 4,
                                      .value = eh->links[i].s,
                                      .value_len = (uint32_t)strlen(eh->links[i].s)};
    if (eh->learn) {
        struct px_eh_worker *ew = worker_state(ex->fc->w);
        struct px_eh_key *k = ew ? make_key(ew->seed, req) : NULL;
        if (k) {
            ex->eh = k;
            struct eh_cache *c = cache_of(ex->fc->w, route_index(ex), false);
            struct eh_entry **pp = c ? find_slot(c, k) : NULL;
            if (pp && *pp) {
                struct eh_entry *e = *pp;
                hb_list_remove(&e->lru); /* most recently used */
                hb_list_push_front(&c->lru, &e->lru);
                f[n++] = (struct hpack_field){.name = "link", .name_len = 4,
                                              .value = e->data + e->key_len,
                                              .value_len = e->links_len};
            }
        }
    }
    if (n == 0)
        return;
    /* Copied by the front before the call returns (HPACK-encoded on h2,
     * written on HTTP/1.1; 1.0 clients get nothing: they have no 1xx). */
    struct hb_msg hints = {.status = 103, .fields = f, .nfields = (uint32_t)n};
    int rc = px_front_submit_response(ex->fc, ex->sid, &hints, false);
    if (rc != 0)
        hb_debug("client %s stream %u: 103 early hints not sent: %s", ex->fc->peer, ex->sid,
                 hb_err_name(rc));
}

/* Whether link-value l belongs in a learned 103: a preconnect always, a
 * preload when learn_as (HB_LINK_AS_* bits, 0 for all) names its "as". A
 * narrow link is shared by the hinted fetches and then the HTML: a large
 * font or image preload can delay the render-blocking CSS and script it
 * runs beside (docs/early-hints.md). */
static bool keep(const struct hb_link *l, unsigned learn_as)
{
    if (l->rel & HB_LINK_REL_PRECONNECT)
        return true;
    if (!(l->rel & HB_LINK_REL_PRELOAD))
        return false; /* other relations are not hints */
    return learn_as == 0 || (l->as & learn_as) != 0;
}

/* Appends each link-value of value v that keep() takes to out (joined
 * with ", "), as long as it fits in cap. Returns the new length. */
static size_t collect(const char *v, size_t vlen, unsigned learn_as, char *out, size_t len,
                      size_t cap)
{
    size_t pos = 0;
    struct hb_link l;
    int rc;
    while ((rc = hb_link_next(v, vlen, &pos, &l)) != 0) {
        if (rc != 1 || !keep(&l, learn_as))
            continue; /* malformed elements are skipped, the rest still count */
        size_t need = l.raw.len + (len ? 2 : 0);
        if (len + need > cap)
            continue; /* a later, shorter one may still fit */
        if (len) {
            out[len++] = ',';
            out[len++] = ' ';
        }
        memcpy(out + len, l.raw.p, l.raw.len);
        len += l.raw.len;
    }
    return len;
}

void px_eh_on_final(struct px_exchange *ex, const struct hb_msg *m)
{
    struct px_eh_key *k = ex->eh;
    if (!k || m->status < 200 || m->status > 299)
        return;
    const struct cfg_early_hints *eh = &ex->route->early_hints;
    char buf[16384]; /* max_entry_size is at most 16 KiB (config) */
    size_t cap = eh->max_entry_size < sizeof buf ? eh->max_entry_size : sizeof buf, len = 0;
    for (uint32_t i = 0; i < m->nfields; i++) {
        const struct hpack_field *f = &m->fields[i];
        if (hb_str_eq_lower(hb_str_make(f->name, f->name_len), HB_STR_LIT("link")))
            len = collect(f->value, f->value_len, eh->learn_as, buf, len, cap);
    }
    struct px_worker *w = ex->fc->w;
    struct eh_cache *c = cache_of(w, route_index(ex), len > 0);
    if (!c)
        return;
    struct eh_entry **pp = find_slot(c, k);
    if (*pp) {
        struct eh_entry *e = *pp;
        if (len && e->links_len == len && memcmp(e->data + e->key_len, buf, len) == 0) {
            hb_list_remove(&e->lru); /* unchanged: the common case, no allocation */
            hb_list_push_front(&c->lru, &e->lru);
            return;
        }
        unlink_entry(c, pp);
    }
    if (len == 0)
        return; /* a 2xx without hints: the path's entry is gone */
    while (c->n >= eh->max_entries)
        evict_one(c);
    struct eh_entry *e = malloc(sizeof *e + k->len + len);
    if (!e)
        return;
    e->hash = k->hash;
    e->key_len = (uint32_t)k->len;
    e->links_len = (uint32_t)len;
    memcpy(e->data, k->s, k->len);
    memcpy(e->data + k->len, buf, len);
    pp = &c->buckets[k->hash & c->mask]; /* evictions may have changed the chain */
    e->next = *pp;
    *pp = e;
    hb_list_push_front(&c->lru, &e->lru);
    c->n++;
}
