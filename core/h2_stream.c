/* core/h2_stream.c — the stream table and the RFC 9113 §5.1 state machine:
 * streams by id (a chained hash grown with use up to the concurrency limit), the
 * transitions on END_STREAM in each direction, and the memory of recently
 * closed streams that decides how late frames are answered. */
#include <string.h>

#include "core/err.h"
#include "core/h2_int.h"

/* Stream table sizes: from a few buckets up to twice the concurrency
 * limit, doubling when the streams outnumber the buckets. */
#define MIN_BUCKETS 8u
#define MAX_BUCKETS (1u << 16)
/* Closed-stream ring: its first size (then doubling up to the limit). */
#define MIN_CLOSED 8u

static uint32_t bucket_limit(const struct h2_conn *c)
{
    uint32_t want = c->cfg.max_concurrent_streams * 2u, n = MIN_BUCKETS;
    while (n < want && n < MAX_BUCKETS)
        n <<= 1;
    return n;
}

static uint32_t bucket(const struct h2_conn *c, uint32_t id)
{
    /* Ids of one initiator step by 2: drop the parity bit. */
    return (id >> 1) & (c->nbuckets - 1);
}

/* Makes room for one more stream: the first table, or a larger one (load
 * factor 1) while below bucket_limit(). Returns false with c->fatal set
 * when out of memory. */
static bool buckets_room(struct h2_conn *c)
{
    if (c->nbuckets && (c->nstreams < c->nbuckets || c->nbuckets >= bucket_limit(c)))
        return true;
    uint32_t n = c->nbuckets ? 2 * c->nbuckets : MIN_BUCKETS;
    /* Not bounded by max_memory: bounded by the concurrency limit. */
    struct h2_stream **b = h2_alloc(c, n * sizeof *b, false);
    if (!b)
        return false;
    memset(b, 0, n * sizeof *b);
    struct h2_stream **old = c->buckets;
    uint32_t nold = c->nbuckets;
    c->buckets = b;
    c->nbuckets = n;
    for (uint32_t i = 0; i < nold; i++) {
        for (struct h2_stream *s = old[i], *next; s; s = next) {
            next = s->hnext;
            s->hnext = b[bucket(c, s->id)];
            b[bucket(c, s->id)] = s;
        }
    }
    h2_free(c, old, nold * sizeof *old);
    return true;
}

static void free_stream(struct h2_conn *c, struct h2_stream *s)
{
    h2_free(c, s->trailers, s->trailers_size);
    /* A few structs are kept: a busy connection opens a stream per request. */
    if (c->nspare < 8) {
        s->hnext = c->spare;
        c->spare = s;
        c->nspare++;
        return;
    }
    h2_free(c, s, sizeof *s);
}

void h2_streams_drop_spares(struct h2_conn *c)
{
    while (c->spare) {
        struct h2_stream *s = c->spare;
        c->spare = s->hnext;
        h2_free(c, s, sizeof *s);
    }
    c->nspare = 0;
}

void h2_streams_free(struct h2_conn *c)
{
    for (uint32_t i = 0; c->buckets && i < c->nbuckets; i++) {
        struct h2_stream *s = c->buckets[i];
        while (s) {
            struct h2_stream *next = s->hnext;
            free_stream(c, s);
            s = next;
        }
    }
    h2_streams_drop_spares(c);
    h2_free(c, c->buckets, c->nbuckets * sizeof *c->buckets);
    h2_free(c, c->closed, c->closed_cap * sizeof *c->closed);
    h2_free(c, c->pclose, c->pclose_cap * sizeof *c->pclose);
    c->pclose = NULL;
    c->npclose = c->pclose_cap = 0;
    c->buckets = NULL;
    c->nbuckets = 0;
    c->closed = NULL;
    c->closed_cap = c->closed_n = c->closed_pos = 0;
}

struct h2_stream *h2_stream_find(const struct h2_conn *c, uint32_t id)
{
    if (!c->buckets)
        return NULL;
    for (struct h2_stream *s = c->buckets[bucket(c, id)]; s; s = s->hnext)
        if (s->id == id)
            return s;
    return NULL;
}

struct h2_stream *h2_stream_new(struct h2_conn *c, uint32_t id, enum h2_sstate state)
{
    if (!buckets_room(c))
        return NULL;
    struct h2_stream *s = c->spare;
    if (s) {
        c->spare = s->hnext;
        c->nspare--;
    } else if (!(s = h2_alloc(c, sizeof *s, true))) {
        return NULL;
    }
    memset(s, 0, sizeof *s);
    s->id = id;
    s->state = (uint8_t)state;
    s->urgency = 3; /* RFC 9218 §4.1 default */
    s->weight = 16; /* RFC 7540 §5.3.5 default */
    hb_list_init(&s->sched);
    s->send_window = c->peer_set[H2_SET_INITIAL_WINDOW_SIZE];
    /* §6.9.2: our INITIAL_WINDOW_SIZE binds the peer only once it has
     * acknowledged our SETTINGS; until then the default applies. */
    s->recv_window = c->settings_acked ? c->cfg.initial_window_size : H2_DEFAULT_WINDOW;
    s->window = c->cfg.initial_window_size;
    uint32_t b = bucket(c, id);
    s->hnext = c->buckets[b];
    c->buckets[b] = s;
    c->nstreams++;
    if (h2_id_is_peer(c, id)) {
        if (id > c->last_peer_id)
            c->last_peer_id = id;
        s->counted = true;
        c->open_peer++;
    } else if (id > c->last_local_id) {
        c->last_local_id = id;
    }
    return s;
}

/* Makes room for one more entry in the closed ring: the first ring, or a
 * larger one while it is full and below the limit. Oldest entries are
 * overwritten once the limit is reached. False: out of memory (fatal). */
static bool closed_room(struct h2_conn *c)
{
    uint32_t kept = c->cfg.closed_streams_kept;
    if (c->closed && (c->closed_n < c->closed_cap || c->closed_cap >= kept))
        return true;
    uint32_t n = c->closed_cap ? 2 * c->closed_cap : MIN_CLOSED;
    if (n > kept)
        n = kept;
    /* Not bounded by max_memory: bounded by closed_streams_kept. */
    struct h2_closed *p = h2_alloc(c, n * sizeof *p, false);
    if (!p)
        return false;
    /* A full ring below the limit has wrapped exactly: closed_pos is 0 and
     * the entries are oldest first. */
    if (c->closed_n)
        memcpy(p, c->closed, c->closed_n * sizeof *p);
    h2_free(c, c->closed, c->closed_cap * sizeof *p);
    c->closed = p;
    c->closed_cap = n;
    c->closed_pos = c->closed_n;
    return true;
}

void h2_closed_add(struct h2_conn *c, uint32_t id, enum h2_closed_how how)
{
    if (!closed_room(c))
        return; /* c->fatal: the connection is going away */
    uint32_t n = c->closed_cap;
    /* Outside recv (the app reset a stream) c->now may be stale: the time
     * is filled in at the next recv, so the ignore window is not cut short. */
    c->closed[c->closed_pos] = (struct h2_closed){id, (uint8_t)how, c->in_recv ? c->now : 0};
    if (!c->in_recv)
        c->closed_pending = true;
    c->closed_pos = (c->closed_pos + 1) % n;
    if (c->closed_n < n)
        c->closed_n++;
}

void h2_closed_stamp(struct h2_conn *c)
{
    for (uint32_t i = 0; i < c->closed_n; i++)
        if (c->closed[i].when == 0)
            c->closed[i].when = c->now;
    c->closed_pending = false;
}

const struct h2_closed *h2_closed_find(const struct h2_conn *c, uint32_t id)
{
    for (uint32_t i = 0; i < c->closed_n; i++)
        if (c->closed[i].id == id)
            return &c->closed[i];
    return NULL;
}

/* Remembers an on_stream_close owed while callbacks may not run (a submit
 * call from outside recv/send/on_timeout). Out of memory: c->fatal. */
static void defer_close(struct h2_conn *c, uint32_t id, uint32_t code, void *ud,
                        struct h2_wire wire)
{
    if (c->npclose == c->pclose_cap) {
        uint32_t cap = c->pclose_cap ? 2 * c->pclose_cap : 8;
        /* Not bounded by max_memory: the entries are owed, not optional. */
        struct h2_pclose *p = h2_alloc(c, cap * sizeof *p, false);
        if (!p)
            return;
        if (c->npclose)
            memcpy(p, c->pclose, c->npclose * sizeof *p);
        h2_free(c, c->pclose, c->pclose_cap * sizeof *p);
        c->pclose = p;
        c->pclose_cap = cap;
    }
    c->pclose[c->npclose++] = (struct h2_pclose){id, code, ud, wire};
}

/* on_stream_close with the stream's user data readable during the call. */
static void notify_close(struct h2_conn *c, uint32_t id, uint32_t code, void *ud,
                         struct h2_wire wire)
{
    uint32_t prev_id = c->closing_id;
    void *prev_ud = c->closing_ud;
    struct h2_wire prev_wire = c->closing_wire;
    c->closing_id = id;
    c->closing_ud = ud;
    c->closing_wire = wire;
    c->cb.on_stream_close(c->ud, id, code);
    c->closing_id = prev_id;
    c->closing_ud = prev_ud;
    c->closing_wire = prev_wire;
}

void h2_stream_close(struct h2_conn *c, struct h2_stream *s, uint32_t code, enum h2_closed_how how)
{
    struct h2_stream **pp = &c->buckets[bucket(c, s->id)];
    while (*pp != s)
        pp = &(*pp)->hnext;
    *pp = s->hnext;
    c->nstreams--;
    if (s->counted) {
        if (h2_id_is_peer(c, s->id))
            c->open_peer--;
        else
            c->open_local--;
    }
    h2_sched_remove(c, s);
    if (s->pn) /* kept a while as a tracked node (§5.3.4) */
        h2_prio_close(&c->prio, s->pn);
    h2_closed_add(c, s->id, how);
    uint32_t id = s->id;
    bool announced = s->announced;
    void *ud = s->user_data;
    struct h2_wire wire = s->wire;
    /* Bytes delivered but never reported consumed would shrink the
     * connection window for good (§6.9): return them now. */
    uint64_t pending = s->recv_pending;
    free_stream(c, s);
    if (pending && c->in_state != H2_IN_DISCARD)
        h2_flow_credit(c, NULL, pending);
    if (announced && c->cb.on_stream_close) {
        if (c->cb_ok)
            notify_close(c, id, code, ud, wire);
        else
            defer_close(c, id, code, ud, wire);
    }
}

void h2_close_drain(struct h2_conn *c)
{
    /* Callbacks run with cb_ok set, so they never append here. */
    for (uint32_t i = 0; i < c->npclose; i++)
        notify_close(c, c->pclose[i].id, c->pclose[i].code, c->pclose[i].user_data,
                     c->pclose[i].wire);
    c->npclose = 0;
}

void h2_stream_end_remote(struct h2_conn *c, struct h2_stream *s)
{
    if (s->state == H2_SS_OPEN)
        s->state = H2_SS_HALF_CLOSED_REMOTE;
    else if (s->state == H2_SS_HALF_CLOSED_LOCAL)
        h2_stream_close(c, s, H2_NO_ERROR, H2_CLOSED_NORMAL);
}

void h2_stream_end_local(struct h2_conn *c, struct h2_stream *s)
{
    if (s->state == H2_SS_OPEN)
        s->state = H2_SS_HALF_CLOSED_LOCAL;
    else if (s->state == H2_SS_HALF_CLOSED_REMOTE || s->state == H2_SS_RESERVED_LOCAL)
        h2_stream_close(c, s, H2_NO_ERROR, H2_CLOSED_NORMAL);
}

bool h2_id_is_peer(const struct h2_conn *c, uint32_t id)
{
    /* §5.1.1: clients use odd ids, servers even. */
    return c->role == H2_ROLE_SERVER ? (id & 1) == 1 : (id & 1) == 0;
}

bool h2_id_is_idle(const struct h2_conn *c, uint32_t id)
{
    if (h2_id_is_peer(c, id))
        return id > c->last_peer_id;
    return id > c->last_local_id;
}

void h2_streams_each(struct h2_conn *c, void (*fn)(struct h2_conn *, struct h2_stream *, void *),
                     void *arg)
{
    for (uint32_t i = 0; i < c->nbuckets; i++) {
        struct h2_stream *s = c->buckets[i];
        while (s) {
            struct h2_stream *next = s->hnext;
            fn(c, s, arg);
            s = next;
        }
    }
}

void h2_streams_close_all(struct h2_conn *c, uint32_t code)
{
    /* Re-read the bucket head each time: on_stream_close may reset (and so
     * remove) other streams. */
    for (uint32_t i = 0; i < c->nbuckets; i++)
        while (c->buckets[i])
            h2_stream_close(c, c->buckets[i], code, H2_CLOSED_WE_RST);
}
