/* core/h2_signals.c — the client's priority signals and which scheduler
 * they select (enum h2_prio_mode in h2_int.h):
 *
 *   RFC 7540 §5.3: HEADERS with the PRIORITY flag and PRIORITY frames
 *   (§6.3) build the dependency tree (core/h2_prio.h) — the connection
 *   enters tree mode with the first of them, and every stream, open or
 *   opened later, gets a node (default priority when it has no signal).
 *
 *   RFC 9218: a priority header field or a PRIORITY_UPDATE frame (§7), or
 *   SETTINGS_NO_RFC7540_PRIORITIES=1 from either side (§2.1), put the
 *   connection in urgency mode for good: the tree is dropped and streams
 *   are scheduled by urgency (h2_sched.c); RFC 7540 weights seen before or
 *   after still count there as round-robin shares among incremental peers.
 *
 * A client that sends both kinds (Chrome sends a priority field and the
 * PRIORITY flag on each request) is therefore scheduled by its RFC 9218
 * signals, the newer scheme it chose to send. */
#include "core/err.h"
#include "core/h2_int.h"

const char *h2_prio_mode_name(enum h2_prio_mode m)
{
    switch (m) {
    case H2_PM_UNDECIDED:
        return "undecided";
    case H2_PM_TREE:
        return "tree";
    case H2_PM_URGENCY:
        return "urgency";
    }
    return "?";
}

/* Tree nodes are bounded by max_memory like the streams they describe. */
static void *prio_alloc(void *ud, size_t n)
{
    return h2_alloc(ud, n, true);
}

static void prio_free(void *ud, void *p, size_t n)
{
    h2_free(ud, p, n);
}

/* Gives s its node and moves it from the urgency lists into the tree. Out
 * of memory: s stays on the lists (the connection is failing anyway). */
static void stream_to_tree(struct h2_conn *c, struct h2_stream *s, void *arg)
{
    (void)arg;
    if (s->pn)
        return;
    bool ready = hb_list_linked(&s->sched);
    struct h2_prio_node *n = h2_prio_open(&c->prio, s->id);
    if (!n)
        return;
    if (ready)
        h2_sched_remove(c, s);
    s->pn = n;
    if (ready)
        h2_sched_add(c, s);
}

static void to_tree(struct h2_conn *c)
{
    const struct h2_prio_alloc a = {prio_alloc, prio_free, c};
    h2_prio_init(&c->prio, c->cfg.priority_tracked_streams, &a);
    c->prio_mode = H2_PM_TREE;
    h2_streams_each(c, stream_to_tree, NULL);
}

static void stream_to_lists(struct h2_conn *c, struct h2_stream *s, void *arg)
{
    (void)arg;
    if (!s->pn)
        return;
    bool ready = s->pn->ready;
    if (ready)
        h2_sched_remove(c, s);
    s->pn = NULL;
    if (ready)
        h2_sched_add(c, s);
}

void h2_prio_to_urgency(struct h2_conn *c)
{
    if (c->prio_mode == H2_PM_URGENCY)
        return;
    if (c->prio_mode == H2_PM_TREE) {
        h2_streams_each(c, stream_to_lists, NULL);
        h2_prio_fini(&c->prio);
    }
    c->prio_mode = H2_PM_URGENCY;
}

void h2_prio_stream_open(struct h2_conn *c, struct h2_stream *s)
{
    if (c->prio_mode == H2_PM_TREE)
        stream_to_tree(c, s, NULL);
}

void h2_apply_rfc7540(struct h2_conn *c, uint32_t id, uint32_t dep, bool exclusive, uint8_t weight)
{
    if (c->cfg.no_rfc7540_priorities)
        return; /* we said we ignore them (RFC 9218 §2.1) */
    if (c->prio_mode == H2_PM_UNDECIDED)
        to_tree(c);
    struct h2_stream *s = h2_stream_find(c, id);
    if (c->prio_mode == H2_PM_TREE) {
        /* Out of memory leaves the tree as it was (h2_alloc raised it). */
        (void)h2_prio_set(&c->prio, id, dep, (uint16_t)(weight + 1), exclusive);
        if (s) {
            s->weight = (uint16_t)(weight + 1);
            s->rfc7540_prio = true;
        }
        return;
    }
    /* Urgency mode: the weight alone shares bandwidth among streams of
     * equal urgency (no dependencies there). */
    if (!s || s->has_9218)
        return;
    s->weight = (uint16_t)(weight + 1);
    s->rfc7540_prio = true;
    if (hb_list_linked(&s->sched)) {
        h2_sched_remove(c, s);
        h2_sched_add(c, s);
    }
}

void h2_on_priority(struct h2_conn *c, const uint8_t *p)
{
    uint32_t id = c->fh.stream_id, dep = h2_get32(p) & H2_STREAM_ID_MASK;
    /* CVE-2019-9513: PRIORITY churn is bounded by a budget. */
    if (!h2_spend(c, &c->b_prio, "PRIORITY flood"))
        return;
    if (dep == id) { /* §5.3.1: a stream cannot depend on itself */
        h2_stream_error(c, id, H2_PROTOCOL_ERROR, true, "stream depends on itself");
        return;
    }
    h2_apply_rfc7540(c, id, dep, (p[0] & 0x80) != 0, p[4]);
}

void h2_on_priority_update(struct h2_conn *c, const uint8_t *p)
{
    uint32_t id = h2_get32(p) & H2_STREAM_ID_MASK;
    if (!h2_spend(c, &c->b_prio, "PRIORITY_UPDATE flood"))
        return;
    /* RFC 9218 §7.1: only request streams; not stream 0, not push ids. */
    if (id == 0 || !h2_id_is_peer(c, id)) {
        h2_conn_error(c, H2_PROTOCOL_ERROR, "PRIORITY_UPDATE for a non-request stream");
        return;
    }
    h2_prio_to_urgency(c);
    struct h2_stream *s = h2_stream_find(c, id);
    if (!s) {
        /* §7.1: an update may overtake its request's HEADERS; keep the last
         * few for idle streams (a fixed ring: no growth). */
        if (h2_id_is_idle(c, id)) {
            uint32_t i = c->early_pos++ % 8;
            c->early_prio[i].id = id;
            c->early_prio[i].urgency = 3;
            c->early_prio[i].incremental = false;
            h2_http_parse_priority((const char *)p + 4, c->fh.length - 4, &c->early_prio[i].urgency,
                                   &c->early_prio[i].incremental);
        }
        return;
    }
    bool was = hb_list_linked(&s->sched);
    if (was)
        h2_sched_remove(c, s);
    h2_http_parse_priority((const char *)p + 4, c->fh.length - 4, &s->urgency, &s->incremental);
    s->has_9218 = true;
    s->rfc7540_prio = false;
    if (was)
        h2_sched_add(c, s);
}

void h2_apply_early_priority(struct h2_conn *c, struct h2_stream *s)
{
    for (uint32_t i = 0; i < 8; i++) {
        if (c->early_prio[i].id != s->id)
            continue;
        /* The frame is the newer signal: it wins over the header field. */
        s->urgency = c->early_prio[i].urgency;
        s->incremental = c->early_prio[i].incremental;
        s->has_9218 = true;
        s->rfc7540_prio = false;
        c->early_prio[i].id = 0;
    }
}
