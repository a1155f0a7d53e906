/* core/h2_settings.c — the connection-level control frames: SETTINGS (ours
 * and the peer's, §6.5), PING (§6.7), GOAWAY (§6.8), RST_STREAM (§6.4),
 * (priority signals are in h2_signals.c). */
#include <string.h>

#include "core/err.h"
#include "core/h2_int.h"

/* The opaque data of the PING that ends the first step of a graceful
 * shutdown (§6.8: "a PING frame can be used to..."). */
static const uint8_t graceful_ping[8] = {'h', '2', 'b', 'g', 'o', 'a', 'w', 'y'};

int h2_queue_our_settings(struct h2_conn *c)
{
    const struct h2_config *cfg = &c->cfg;
    uint16_t ids[8];
    uint32_t vals[8];
    size_t n = 0;
    /* §3.4: the server preface is a SETTINGS frame, sent first. */
    ids[n] = H2_SET_MAX_CONCURRENT_STREAMS, vals[n++] = cfg->max_concurrent_streams;
    ids[n] = H2_SET_INITIAL_WINDOW_SIZE, vals[n++] = cfg->initial_window_size;
    ids[n] = H2_SET_MAX_FRAME_SIZE, vals[n++] = cfg->max_frame_size;
    ids[n] = H2_SET_MAX_HEADER_LIST_SIZE, vals[n++] = cfg->max_header_list_size;
    if (cfg->header_table_size != 4096)
        ids[n] = H2_SET_HEADER_TABLE_SIZE, vals[n++] = cfg->header_table_size;
    if (c->role == H2_ROLE_SERVER)
        ids[n] = H2_SET_ENABLE_PUSH, vals[n++] = 0; /* clients never push */
    if (cfg->enable_connect_protocol)
        ids[n] = H2_SET_ENABLE_CONNECT_PROTOCOL, vals[n++] = 1;
    if (cfg->no_rfc7540_priorities)
        ids[n] = H2_SET_NO_RFC7540_PRIORITIES, vals[n++] = 1;
    uint8_t *p = h2_out_reserve(c, H2_FRAME_HDR_LEN + 6 * n + 13);
    if (!p)
        return HB_ENOMEM;
    size_t len = h2_pack_settings(p, ids, vals, n, false);
    /* The connection window starts at 65535 (§6.9.2): raise it at once. */
    if (cfg->connection_window_size > H2_DEFAULT_WINDOW) {
        len += h2_pack_window_update(p + len, 0, cfg->connection_window_size - H2_DEFAULT_WINDOW);
        c->recv_window = cfg->connection_window_size;
    }
    h2_out_commit(c, len);
    /* The deadline starts at the first recv(): "now" is not known yet. */
    c->settings_deadline = -1;
    return 0;
}

static void settings_ack(struct h2_conn *c)
{
    if (c->settings_acked)
        return; /* §6.5.3 has no error for a spurious ACK */
    c->settings_acked = true;
    c->settings_deadline = 0;
    /* §6.9.2: streams opened before the ACK move to our window size (and
     * may go negative: the peer had to stop at the smaller value). */
    int64_t delta = (int64_t)c->cfg.initial_window_size - H2_DEFAULT_WINDOW;
    for (uint32_t i = 0; delta && i < c->nbuckets; i++)
        for (struct h2_stream *s = c->buckets[i]; s; s = s->hnext)
            s->recv_window += delta;
    /* Our SETTINGS are in force: the limits the peer now knows. */
    hpack_decoder_set_max_table_size(c->dec, c->cfg.header_table_size);
}

static bool apply_setting(struct h2_conn *c, uint16_t id, uint32_t v)
{
    switch (id) {
    case H2_SET_HEADER_TABLE_SIZE:
        hpack_encoder_set_peer_max_table_size(c->enc, v);
        break;
    case H2_SET_ENABLE_PUSH:
        /* §6.5.2: only 0 or 1; a server sending 1 is also an error. */
        if (v > 1 || (c->role == H2_ROLE_CLIENT && v != 0)) {
            h2_conn_error(c, H2_PROTOCOL_ERROR, "SETTINGS_ENABLE_PUSH not 0 or 1");
            return false;
        }
        break;
    case H2_SET_INITIAL_WINDOW_SIZE:
        if (v > H2_MAX_WINDOW) {
            h2_conn_error(c, H2_FLOW_CONTROL_ERROR, "SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1");
            return false;
        }
        break; /* applied to the streams once per frame, below */
    case H2_SET_MAX_FRAME_SIZE:
        if (v < H2_MIN_FRAME_SIZE || v > H2_MAX_FRAME_SIZE) {
            h2_conn_error(c, H2_PROTOCOL_ERROR, "SETTINGS_MAX_FRAME_SIZE out of range");
            return false;
        }
        break;
    case H2_SET_ENABLE_CONNECT_PROTOCOL:
        /* RFC 8441 §3: 0 or 1, and once 1 it may not go back to 0. */
        if (v > 1 || (c->peer_set[id] == 1 && v == 0)) {
            h2_conn_error(c, H2_PROTOCOL_ERROR, "bad SETTINGS_ENABLE_CONNECT_PROTOCOL");
            return false;
        }
        break;
    case H2_SET_NO_RFC7540_PRIORITIES:
        if (v > 1) {
            h2_conn_error(c, H2_PROTOCOL_ERROR, "SETTINGS_NO_RFC7540_PRIORITIES not 0 or 1");
            return false;
        }
        if (v == 1) /* RFC 9218 §2.1: the peer will not send RFC 7540 signals */
            h2_prio_to_urgency(c);
        break;
    case H2_SET_MAX_CONCURRENT_STREAMS:
    case H2_SET_MAX_HEADER_LIST_SIZE:
        break;
    default:
        return true; /* §6.5.2: unknown settings are ignored */
    }
    c->peer_set[id] = v;
    return true;
}

void h2_on_settings(struct h2_conn *c, const uint8_t *p)
{
    if (c->fh.flags & H2_F_ACK) {
        settings_ack(c);
        return;
    }
    if (!h2_spend(c, &c->b_settings, "SETTINGS flood"))
        return;
    uint32_t iw = c->peer_set[H2_SET_INITIAL_WINDOW_SIZE];
    for (uint32_t off = 0; off < c->fh.length; off += 6) {
        uint16_t id = (uint16_t)(p[off] << 8 | p[off + 1]);
        if (!apply_setting(c, id, h2_get32(p + off + 2)))
            return;
    }
    /* §6.5.3 processes values in order; only the last INITIAL_WINDOW_SIZE
     * matters to the windows, so a frame repeating it thousands of times
     * costs one pass over the streams, not thousands. */
    if (c->peer_set[H2_SET_INITIAL_WINDOW_SIZE] != iw &&
        !h2_flow_initial_window(c, iw, c->peer_set[H2_SET_INITIAL_WINDOW_SIZE]))
        return;
    h2_queue_settings_ack(c);
}

void h2_on_ping(struct h2_conn *c, const uint8_t *p)
{
    if (c->fh.flags & H2_F_ACK) {
        if (c->graceful == 1 && memcmp(p, graceful_ping, 8) == 0)
            h2_graceful_final(c);
        else
            h2_flow_autowin_ack(c, p);
        return;
    }
    if (!h2_spend(c, &c->b_ping, "PING flood"))
        return;
    h2_queue_ping(c, p, true);
}

void h2_on_goaway(struct h2_conn *c, const uint8_t *p)
{
    uint32_t last = h2_get32(p) & H2_STREAM_ID_MASK, code = h2_get32(p + 4);
    /* §6.8: the last id may only go down. */
    if (c->goaway_received && last > c->peer_goaway_last)
        last = c->peer_goaway_last;
    c->goaway_received = true;
    c->peer_goaway_last = last;
    if (c->cb.on_goaway)
        c->cb.on_goaway(c->ud, last, code, p + 8, c->fh.length - 8);
    /* Streams we initiated above `last` were never processed: refuse them.
     * Rescan a bucket after each close (callbacks may close others). */
    for (uint32_t i = 0; i < c->nbuckets && !h2_conn_failed(c); i++) {
        struct h2_stream *s = c->buckets[i];
        while (s) {
            if (!h2_id_is_peer(c, s->id) && s->id > last) {
                h2_stream_close(c, s, H2_REFUSED_STREAM, H2_CLOSED_PEER_RST);
                s = c->buckets[i];
            } else {
                s = s->hnext;
            }
        }
    }
}

void h2_on_rst_stream(struct h2_conn *c, const uint8_t *p)
{
    uint32_t id = c->fh.stream_id, code = h2_get32(p);
    struct h2_stream *s = h2_stream_find(c, id);
    if (!s) {
        if (h2_id_is_idle(c, id))
            h2_conn_error(c, H2_PROTOCOL_ERROR, "RST_STREAM on an idle stream");
        return; /* closed: nothing to do */
    }
    /* Rapid Reset (CVE-2023-44487): every stream the peer cancels cost us
     * work; the budget bounds how fast it may do that. */
    if (!h2_spend(c, &c->b_reset, "reset budget (RST_STREAM flood)"))
        return;
    s->wire.in += H2_FRAME_HDR_LEN + 4;
    h2_stream_close(c, s, code, H2_CLOSED_PEER_RST);
}

void h2_graceful_final(struct h2_conn *c)
{
    if (c->graceful != 1)
        return;
    c->graceful = 2;
    c->graceful_deadline = 0;
    h2_queue_goaway(c, c->last_peer_id, H2_NO_ERROR, NULL);
}

int h2_conn_goaway(struct h2_conn *c, uint32_t error_code, bool graceful)
{
    if (c->fatal)
        return c->fatal;
    if (c->in_read) /* the output is being written by read_data */
        return HB_EINVAL;
    if (h2_conn_failed(c) || c->graceful)
        return HB_ECLOSED;
    if (!graceful || error_code != H2_NO_ERROR) {
        h2_conn_error(c, error_code, "shutdown requested");
        return c->fatal;
    }
    /* §6.8: first a GOAWAY with 2^31-1, then, one round trip later (the
     * PING ACK), the real last stream id. */
    c->graceful = 1;
    /* goaway() is not told the time: c->now may be stale. The delay is
     * counted again from the first fresh time we are given. */
    c->graceful_deadline = c->now + c->cfg.graceful_goaway_delay;
    c->graceful_timed = false;
    h2_queue_goaway(c, H2_STREAM_ID_MASK, H2_NO_ERROR, NULL);
    h2_queue_ping(c, graceful_ping, false);
    return c->fatal;
}
