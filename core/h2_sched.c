/* core/h2_sched.c — the DATA scheduler. Control frames and HEADERS are
 * written into the output as they arise; DATA is pulled from the app only
 * when h2_conn_send() runs and the output holds less than output_chunk, so
 * control frames always go first and bodies are never buffered here.
 *
 * Tree mode (h2_signals.c): streams with a node in c->prio are picked by
 * the RFC 7540 §5.3 tree (core/h2_prio.h: parents before children,
 * siblings by weight, weighted fair queueing per frame).
 *
 * Otherwise (RFC 9218 §4, §10): lowest urgency first. Within an urgency,
 * non-incremental streams one at a time in stream-id order, then
 * incremental streams round-robin. Streams that carried RFC 7540 weights
 * in urgency mode are incremental with a quantum proportional to their
 * weight (deficit round-robin). The tree goes first should a stream ever
 * be on the lists in tree mode (only when its node could not be
 * allocated). */
#include "core/err.h"
#include "core/h2_int.h"

static bool round_robin(const struct h2_stream *s)
{
    return s->incremental || s->rfc7540_prio;
}

static int64_t quantum(const struct h2_stream *s)
{
    return s->rfc7540_prio ? (int64_t)s->weight * 1024 : 16384;
}

void h2_sched_add(struct h2_conn *c, struct h2_stream *s)
{
    if (s->pn) {
        if (!s->pn->ready) {
            h2_prio_set_ready(&c->prio, s->pn, true);
            c->nready++;
        }
        return;
    }
    if (hb_list_linked(&s->sched))
        return;
    struct hb_list *head = &c->ready[s->urgency & 7], *it;
    if (round_robin(s)) {
        hb_list_push_back(head, &s->sched);
    } else if (!hb_list_empty(head) &&
               !round_robin(hb_container_of(head->prev, struct h2_stream, sched)) &&
               hb_container_of(head->prev, struct h2_stream, sched)->id < s->id) {
        hb_list_push_back(head, &s->sched); /* the usual case: ids only grow */
    } else {
        hb_list_foreach(it, head)
        {
            struct h2_stream *o = hb_container_of(it, struct h2_stream, sched);
            if (round_robin(o) || o->id > s->id)
                break;
        }
        hb_list_insert_after(it->prev, &s->sched);
    }
    if (s->deficit <= 0)
        s->deficit = quantum(s);
    c->nready++;
}

void h2_sched_remove(struct h2_conn *c, struct h2_stream *s)
{
    if (s->pn) {
        if (s->pn->ready) {
            h2_prio_set_ready(&c->prio, s->pn, false);
            c->nready--;
        }
        return;
    }
    if (!hb_list_linked(&s->sched))
        return;
    hb_list_remove(&s->sched);
    c->nready--;
}

bool h2_sched_has_work(const struct h2_conn *c)
{
    return c->nready > 0 && c->send_window > 0;
}

static struct h2_stream *pick(struct h2_conn *c)
{
    if (c->prio_mode == H2_PM_TREE && h2_prio_any_ready(&c->prio))
        return h2_stream_find(c, h2_prio_pick(&c->prio)->id); /* ready nodes are live */
    for (int u = 0; u < 8; u++)
        if (!hb_list_empty(&c->ready[u]))
            return hb_container_of(c->ready[u].next, struct h2_stream, sched);
    return NULL;
}

static size_t window_max(const struct h2_conn *c, const struct h2_stream *s)
{
    int64_t m = s->send_window < c->send_window ? s->send_window : c->send_window;
    if (m > (int64_t)c->peer_set[H2_SET_MAX_FRAME_SIZE])
        m = c->peer_set[H2_SET_MAX_FRAME_SIZE];
    return m > 0 ? (size_t)m : 0;
}

/* The body ended: trailers (if any) carry END_STREAM, then §5.1 moves on. */
static void body_done(struct h2_conn *c, struct h2_stream *s)
{
    s->data_ready = false;
    s->data_eof = true;
    h2_sched_remove(c, s);
    if (s->has_trailers) {
        if (h2_send_block(c, H2_HEADERS, s->id, 0, s->trailers, s->ntrailers, true) != 0)
            return;
        s->wire.out += c->sent_block_wire;
    }
    h2_stream_end_local(c, s);
}

/* Sends one DATA frame of s. Returns false when the fill loop must stop. */
static bool send_one(struct h2_conn *c, struct h2_stream *s)
{
    uint32_t id = s->id;
    size_t max = window_max(c, s);
    uint8_t *p = h2_out_reserve(c, H2_FRAME_HDR_LEN + max);
    if (!p)
        return false;
    bool eof = false;
    c->in_read = true;
    ptrdiff_t n =
        c->cb.read_data ? c->cb.read_data(c->ud, id, p + H2_FRAME_HDR_LEN, max, &eof) : -1;
    c->in_read = false;
    if (n < 0 || (size_t)n > max) {
        h2_stream_error(c, id, H2_INTERNAL_ERROR, false, "read_data failed");
        return !h2_conn_failed(c);
    }
    if (n == 0 && !eof) { /* parked until h2_conn_resume_data() */
        s->data_ready = false;
        h2_sched_remove(c, s);
        return true;
    }
    bool end_stream = eof && !s->has_trailers;
    if (n > 0 || end_stream) {
        h2_frame_hdr_pack(p, (uint32_t)n, H2_DATA, end_stream ? H2_F_END_STREAM : 0, id);
        h2_out_commit(c, H2_FRAME_HDR_LEN + (size_t)n);
        s->wire.out += H2_FRAME_HDR_LEN + (uint64_t)n;
    }
    s->send_window -= n;
    c->send_window -= n;
    s->deficit -= n;
    if (s->pn)
        h2_prio_charge(&c->prio, s->pn, (uint64_t)n);
    if (eof) {
        body_done(c, s);
        return true;
    }
    if (s->send_window <= 0) {
        h2_sched_remove(c, s); /* back on WINDOW_UPDATE */
    } else if (!s->pn && round_robin(s) && s->deficit <= 0) {
        h2_sched_remove(c, s);
        h2_sched_add(c, s); /* to the tail with a fresh quantum */
    }
    return true;
}

void h2_sched_fill(struct h2_conn *c)
{
    while (h2_out_len(c) < c->cfg.output_chunk && h2_sched_has_work(c) && !h2_conn_failed(c)) {
        struct h2_stream *s = pick(c);
        if (s->send_window <= 0) {
            h2_sched_remove(c, s);
            continue;
        }
        if (!send_one(c, s))
            return;
    }
}
