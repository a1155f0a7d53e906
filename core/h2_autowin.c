/* core/h2_autowin.c — the receive-window estimator (see h2_autowin.h). */
#include "core/h2_autowin.h"

#include <string.h>

/* The probe's opaque data: a tag no other PING of ours uses, then a number
 * so that an ACK of an older probe is not taken for the current one. */
static const uint8_t tag[6] = {'h', '2', 'b', 'b', 'd', 'p'};

void h2_autowin_init(struct h2_autowin *a, uint32_t stream0, uint32_t conn0, uint32_t max_stream,
                     uint32_t max_conn)
{
    memset(a, 0, sizeof *a);
    a->stream_window = stream0;
    a->conn_window = conn0;
    a->max_stream = max_stream > stream0 ? max_stream : stream0;
    a->max_conn = max_conn > conn0 ? max_conn : conn0;
}

bool h2_autowin_active(const struct h2_autowin *a)
{
    return a->stream_window < a->max_stream || a->conn_window < a->max_conn;
}

bool h2_autowin_consumed(struct h2_autowin *a, uint64_t n, hb_ns_t now)
{
    if (a->probing) {
        a->bytes += n;
        return false;
    }
    if (!h2_autowin_active(a))
        return false;
    a->probing = true;
    a->seq++;
    a->sent = now;
    a->bytes = n;
    return true;
}

void h2_autowin_probe_opaque(const struct h2_autowin *a, uint8_t out[8])
{
    memcpy(out, tag, sizeof tag);
    out[6] = (uint8_t)(a->seq >> 8);
    out[7] = (uint8_t)a->seq;
}

/* Twice the sample, capped; never below the current value. */
static uint32_t grow(uint32_t cur, uint64_t sample, uint32_t max)
{
    /* Half the window used in one round trip: the window is the limit.
     * (Credit goes back per half window, so a sender held by its window
     * moves between half and all of it per round trip; a path-limited one
     * uses less, and a slow backend consumes less.) */
    if (sample * 2 < (uint64_t)cur || cur >= max)
        return cur;
    uint64_t want = 2 * sample;
    if (want > max)
        want = max;
    return want > cur ? (uint32_t)want : cur;
}

bool h2_autowin_ack(struct h2_autowin *a, const uint8_t p[8], hb_ns_t now, uint32_t *conn_delta)
{
    *conn_delta = 0;
    if (!a->probing || memcmp(p, tag, sizeof tag) != 0 ||
        ((uint16_t)(p[6] << 8 | p[7])) != a->seq)
        return false;
    a->probing = false;
    a->rtt = now > a->sent ? now - a->sent : 1;
    uint32_t s = grow(a->stream_window, a->bytes, a->max_stream);
    uint32_t c = grow(a->conn_window, a->bytes, a->max_conn);
    /* One stream must not be held back by the connection window. */
    if (c < s && s <= a->max_conn)
        c = s;
    if (c < a->conn_window)
        c = a->conn_window;
    if (s != a->stream_window || c != a->conn_window)
        a->grown++;
    *conn_delta = c - a->conn_window;
    a->stream_window = s;
    a->conn_window = c;
    return true;
}
