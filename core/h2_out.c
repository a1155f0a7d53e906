/* core/h2_out.c — the output buffer: one contiguous, growable buffer that
 * coalesces every frame, the zero-copy send/sent pair, and the queueing of
 * control frames with the outbound caps that stop a peer that does not read
 * from making us hold its answers (CVE-2019-9512, -9514, -9515). */
#include <string.h>

#include "core/err.h"
#include "core/h2_int.h"

uint8_t *h2_out_reserve(struct h2_conn *c, size_t n)
{
    if (c->fatal)
        return NULL;
    if (c->out_cap - c->out_w >= n)
        return c->out + c->out_w;
    size_t used = c->out_w - c->out_r;
    if (c->out_cap - used >= n && c->out_r > 0) {
        memmove(c->out, c->out + c->out_r, used);
        c->out_r = 0;
        c->out_w = used;
        return c->out + c->out_w;
    }
    size_t ncap = c->out_cap ? c->out_cap : 4096;
    while (ncap < used + n)
        ncap *= 2;
    /* The output buffer is bounded by max_outbound_bytes and output_chunk,
     * not by max_memory: a GOAWAY must always fit. */
    uint8_t *p = h2_alloc(c, ncap, false);
    if (!p)
        return NULL;
    if (used)
        memcpy(p, c->out + c->out_r, used);
    h2_free(c, c->out, c->out_cap);
    c->out = p;
    c->out_cap = ncap;
    c->out_r = 0;
    c->out_w = used;
    return c->out + c->out_w;
}

void h2_out_commit(struct h2_conn *c, size_t n)
{
    c->out_w += n;
}

/* A frame the peer provoked: refuse to queue it past the outbound cap. */
static uint8_t *reserve_provoked(struct h2_conn *c, size_t n, uint32_t *counter, uint32_t max,
                                 const char *reason)
{
    if (h2_conn_failed(c))
        return NULL;
    if ((counter && ++*counter > max) || h2_out_len(c) + n > c->cfg.max_outbound_bytes) {
        h2_conn_flood_error(c, H2_FLOOD_CONTROL_QUEUE, reason);
        return NULL;
    }
    return h2_out_reserve(c, n);
}

void h2_queue_rst(struct h2_conn *c, uint32_t id, uint32_t code)
{
    uint8_t *p = reserve_provoked(c, 13, &c->q_rst, c->cfg.max_queued_rst,
                                  "RST_STREAM queue full (peer not reading)");
    if (p)
        h2_out_commit(c, h2_pack_rst_stream(p, id, code));
}

void h2_queue_window_update(struct h2_conn *c, uint32_t id, uint32_t inc)
{
    uint8_t *p = reserve_provoked(c, 13, NULL, 0, "output queue full (peer not reading)");
    if (p)
        h2_out_commit(c, h2_pack_window_update(p, id, inc));
}

void h2_queue_settings_ack(struct h2_conn *c)
{
    uint8_t *p = reserve_provoked(c, 9, &c->q_settings_acks, c->cfg.max_queued_settings_acks,
                                  "SETTINGS ACK queue full (CVE-2019-9515)");
    if (p)
        h2_out_commit(c, h2_pack_settings(p, NULL, NULL, 0, true));
}

void h2_queue_ping(struct h2_conn *c, const uint8_t opaque[8], bool ack)
{
    uint8_t *p = ack ? reserve_provoked(c, 17, &c->q_ping_acks, c->cfg.max_queued_ping_acks,
                                        "PING ACK queue full (CVE-2019-9512)")
                     : h2_out_reserve(c, 17);
    if (p)
        h2_out_commit(c, h2_pack_ping(p, opaque, ack));
}

void h2_queue_goaway(struct h2_conn *c, uint32_t last, uint32_t code, const char *debug)
{
    size_t dlen = debug ? strlen(debug) : 0;
    uint8_t *p = h2_out_reserve(c, 17 + dlen);
    if (!p)
        return;
    h2_out_commit(c, h2_pack_goaway(p, last, code, (const uint8_t *)debug, dlen));
    c->goaway_code = code;
    c->goaway_last = last;
}

ptrdiff_t h2_conn_send(struct h2_conn *c, const uint8_t **data)
{
    *data = NULL;
    if (c->fatal)
        return c->fatal;
    c->cb_ok++;
    h2_close_drain(c); /* closes owed from submit calls (h2_conn.h contract) */
    if (!c->in_send && c->in_state != H2_IN_DISCARD) {
        c->in_send = true;
        h2_sched_fill(c);
        c->in_send = false;
    }
    c->cb_ok--;
    if (c->fatal)
        return c->fatal;
    /* An idle connection has no output buffer at all: a valid, empty one. */
    static const uint8_t none[1];
    *data = c->out ? c->out + c->out_r : none;
    return (ptrdiff_t)h2_out_len(c);
}

void h2_conn_sent(struct h2_conn *c, size_t n)
{
    if (n > h2_out_len(c))
        n = h2_out_len(c);
    c->out_r += n;
    if (c->out_r == c->out_w) {
        c->out_r = c->out_w = 0;
        /* The peer reads: the flood counters only bound unsent frames. */
        c->q_ping_acks = c->q_settings_acks = c->q_rst = 0;
        if (c->nstreams == 0)
            h2_release_idle(c);
    }
}

void h2_release_idle(struct h2_conn *c)
{
    /* An idle connection holds no buffers: thousands of keep-alive clients
     * cost only their struct h2_conn and HPACK tables. */
    h2_free(c, c->out, c->out_cap);
    c->out = NULL;
    c->out_cap = c->out_r = c->out_w = 0;
    if (c->in_state != H2_IN_PAYLOAD) {
        h2_free(c, c->payload, c->payload_cap);
        c->payload = NULL;
        c->payload_cap = 0;
    }
    if (!c->block_stream)
        h2_headers_free(c);
    h2_streams_drop_spares(c);
}
