/* core/h2_flow.c — flow control (RFC 9113 §5.2, §6.9): DATA receive
 * accounting (padding included), credit returned only as the application
 * consumes, WINDOW_UPDATE receive, and SETTINGS_INITIAL_WINDOW_SIZE changes. */
#include "core/h2_int.h"

/* The connection window grew by delta: the peer may send that much more. */
static void grant_conn(struct h2_conn *c, uint32_t delta)
{
    c->recv_window += delta;
    h2_queue_window_update(c, 0, delta);
}

/* Raises s to the current stream window target. */
static void grant_stream(struct h2_conn *c, struct h2_stream *s)
{
    uint32_t grow = c->aw.stream_window - s->window;
    s->window = c->aw.stream_window;
    s->recv_window += grow;
    h2_queue_window_update(c, s->id, grow);
    s->wire.out += H2_FRAME_HDR_LEN + 4;
}

static void grant_sampled(struct h2_conn *c, struct h2_stream *s, void *arg)
{
    /* The streams whose consumption made the sample get the new window at
     * once, not at their next credit: the sender sees it a round trip
     * sooner. Streams that consumed nothing in it are not growing. */
    if (s->probe_seq == *(uint16_t *)arg && s->window < c->aw.stream_window &&
        (s->state == H2_SS_OPEN || s->state == H2_SS_HALF_CLOSED_LOCAL))
        grant_stream(c, s);
}

void h2_flow_autowin_ack(struct h2_conn *c, const uint8_t opaque[8])
{
    uint32_t delta, before = c->aw.stream_window;
    uint16_t seq = c->aw.seq;
    if (!h2_autowin_ack(&c->aw, opaque, c->now, &delta))
        return;
    if (delta)
        grant_conn(c, delta);
    if (c->aw.stream_window != before)
        h2_streams_each(c, grant_sampled, &seq);
}

void h2_flow_consumed(struct h2_conn *c, struct h2_stream *s, uint64_t n)
{
    /* Only bytes the application took count toward growth: padding, frames
     * nobody reads and bytes dropped at a reset say nothing about the path,
     * and a peer could send them at will. */
    if (!h2_conn_failed(c) && h2_autowin_consumed(&c->aw, n, c->now)) {
        uint8_t opaque[8];
        h2_autowin_probe_opaque(&c->aw, opaque);
        h2_queue_ping(c, opaque, false);
    }
    if (c->aw.probing)
        s->probe_seq = c->aw.seq;
    h2_flow_credit(c, s, n);
}

void h2_flow_credit(struct h2_conn *c, struct h2_stream *s, uint64_t n)
{
    if (n == 0 || h2_conn_failed(c))
        return;
    c->recv_unacked += n;
    /* Batch the credit: a WINDOW_UPDATE per half window, not per frame. */
    if (c->recv_unacked >= c->aw.conn_window / 2) {
        uint32_t inc = (uint32_t)c->recv_unacked;
        c->recv_unacked = 0;
        c->recv_window += inc;
        h2_queue_window_update(c, 0, inc);
    }
    /* A stream whose peer side ended needs no more window. */
    if (!s || (s->state != H2_SS_OPEN && s->state != H2_SS_HALF_CLOSED_LOCAL))
        return;
    s->recv_unacked += n;
    /* A window that grew since this stream's last credit is granted with
     * this one: a stream the application consumes from follows the path. */
    uint32_t grow = c->aw.stream_window > s->window ? c->aw.stream_window - s->window : 0;
    if (s->recv_unacked >= s->window / 2 || grow) {
        uint32_t inc = (uint32_t)(s->recv_unacked + grow);
        s->window += grow;
        s->recv_unacked = 0;
        s->recv_window += inc;
        h2_queue_window_update(c, s->id, inc);
        s->wire.out += H2_FRAME_HDR_LEN + 4;
    }
}

void h2_late_frame(struct h2_conn *c, uint32_t id)
{
    const struct h2_closed *cl = h2_closed_find(c, id);
    if (cl && cl->how == H2_CLOSED_WE_RST && c->now - cl->when < c->cfg.closed_stream_window)
        return; /* §5.1: frames in flight when we reset are ignored */
    if (cl && cl->how == H2_CLOSED_NORMAL) {
        /* §5.1: anything after END_STREAM is a connection error. */
        h2_conn_error(c, H2_STREAM_CLOSED, "frame on a stream closed by END_STREAM");
        return;
    }
    /* §5.1: after RST_STREAM (or a stream long gone) STREAM_CLOSED. */
    h2_stream_error(c, id, H2_STREAM_CLOSED, true, "frame on a closed stream");
}

static bool data_malformed(struct h2_conn *c, struct h2_stream *s, uint32_t len, bool end)
{
    s->data_received += len;
    if (!s->has_cl)
        return false;
    /* §8.1.1: content-length not matching the DATA received is malformed. */
    return s->data_received > s->content_length || (end && s->data_received != s->content_length);
}

void h2_on_data(struct h2_conn *c, const uint8_t *p)
{
    const struct h2_frame_hdr *h = &c->fh;
    uint32_t off, len, flen = h->length, id = h->stream_id;
    bool end = h->flags & H2_F_END_STREAM;
    if (!h2_frame_strip_padding(p, flen, h->flags, 0, &off, &len)) {
        h2_conn_error(c, H2_PROTOCOL_ERROR, "DATA padding exceeds the payload");
        return;
    }
    /* §6.9.1: the whole frame, padding included, counts against the
     * connection window whatever the stream's state. */
    if (flen > c->recv_window) {
        h2_conn_error(c, H2_FLOW_CONTROL_ERROR, "DATA exceeds the connection window");
        return;
    }
    c->recv_window -= flen;
    struct h2_stream *s = h2_stream_find(c, id);
    if (s && s->state == H2_SS_RESERVED_LOCAL) { /* §5.1 reserved (local) */
        h2_conn_error(c, H2_PROTOCOL_ERROR, "DATA on a reserved stream");
        return;
    }
    if (!s || (s->state != H2_SS_OPEN && s->state != H2_SS_HALF_CLOSED_LOCAL)) {
        h2_flow_credit(c, NULL, flen); /* nobody will consume these */
        if (!s && h2_id_is_idle(c, id))
            h2_conn_error(c, H2_PROTOCOL_ERROR, "DATA on an idle stream");
        else if (!s)
            h2_late_frame(c, id);
        else /* §5.1 half-closed (remote) */
            h2_stream_error(c, id, H2_STREAM_CLOSED, true, "DATA on a half-closed (remote) stream");
        return;
    }
    if (flen > s->recv_window) {
        h2_flow_credit(c, NULL, flen);
        h2_stream_error(c, id, H2_FLOW_CONTROL_ERROR, true, "DATA exceeds the stream window");
        return;
    }
    s->recv_window -= flen;
    s->wire.in += H2_FRAME_HDR_LEN + flen;
    if (len == 0 && !end && !h2_spend(c, &c->b_empty, "empty DATA frames"))
        return;
    if (data_malformed(c, s, len, end)) {
        h2_flow_credit(c, NULL, flen);
        h2_stream_error(c, id, H2_PROTOCOL_ERROR, true, "DATA does not match content-length");
        return;
    }
    /* Padding is ours to credit; the payload waits for the app. */
    if (flen > len)
        h2_flow_credit(c, s, flen - len);
    s->recv_pending += len;
    if (c->cb.on_data && (len || end))
        c->cb.on_data(c->ud, id, p + off, len, end);
    if (end && (s = h2_stream_find(c, id)) != NULL)
        h2_stream_end_remote(c, s);
}

void h2_on_window_update(struct h2_conn *c, const uint8_t *p)
{
    uint32_t inc = h2_get32(p) & H2_STREAM_ID_MASK, id = c->fh.stream_id;
    if (inc < c->cfg.min_window_update &&
        !h2_spend(c, &c->b_wu, "WINDOW_UPDATE dribble (small increments)"))
        return;
    if (id == 0) {
        if (inc == 0) {
            h2_conn_error(c, H2_PROTOCOL_ERROR, "WINDOW_UPDATE increment 0 on the connection");
            return;
        }
        if (c->send_window + inc > H2_MAX_WINDOW) {
            h2_conn_error(c, H2_FLOW_CONTROL_ERROR, "connection window above 2^31-1");
            return;
        }
        c->send_window += inc;
        return;
    }
    struct h2_stream *s = h2_stream_find(c, id);
    if (!s) {
        if (h2_id_is_idle(c, id))
            h2_conn_error(c, H2_PROTOCOL_ERROR, "WINDOW_UPDATE on an idle stream");
        return; /* §6.9: closed streams may still see WINDOW_UPDATE */
    }
    s->wire.in += H2_FRAME_HDR_LEN + 4;
    if (inc == 0) {
        h2_stream_error(c, id, H2_PROTOCOL_ERROR, true, "WINDOW_UPDATE increment 0 on a stream");
        return;
    }
    if (s->send_window + inc > H2_MAX_WINDOW) {
        h2_stream_error(c, id, H2_FLOW_CONTROL_ERROR, true, "stream window above 2^31-1");
        return;
    }
    s->send_window += inc;
    if (s->data_ready && s->send_window > 0)
        h2_sched_add(c, s);
}

struct iw_change {
    int64_t delta;
    bool overflow;
};

static void apply_iw(struct h2_conn *c, struct h2_stream *s, void *arg)
{
    struct iw_change *ch = arg;
    s->send_window += ch->delta;
    if (s->send_window > H2_MAX_WINDOW)
        ch->overflow = true;
    if (s->data_ready && s->send_window > 0)
        h2_sched_add(c, s);
}

bool h2_flow_initial_window(struct h2_conn *c, uint32_t old_v, uint32_t new_v)
{
    /* §6.9.2: every stream's window moves by the difference and may go
     * negative; one pushed above 2^31-1 is a connection FLOW_CONTROL_ERROR. */
    struct iw_change ch = {(int64_t)new_v - (int64_t)old_v, false};
    h2_streams_each(c, apply_iw, &ch);
    if (ch.overflow) {
        h2_conn_error(c, H2_FLOW_CONTROL_ERROR, "INITIAL_WINDOW_SIZE change overflows a window");
        return false;
    }
    return true;
}
