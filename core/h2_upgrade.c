/* core/h2_upgrade.c — a server connection continuing an HTTP/1.1 Upgrade:
 * h2c (see h2_upgrade.h). */
#include "core/h2_upgrade.h"

#include "core/err.h"
#include "core/h2_int.h"

int h2_conn_upgrade(struct h2_conn *c, const uint8_t *settings, size_t len,
                    const struct hb_msg *req)
{
    if (c->role != H2_ROLE_SERVER || c->last_peer_id != 0 || c->nstreams != 0)
        return HB_EINVAL;
    if (len % 6 != 0 || len > 6 * 64)
        return HB_EPROTO;
    /* Applied exactly as a received SETTINGS frame (same checks), then the
     * ACK it queued is taken back: the 101 was the acknowledgement. */
    size_t out_w = c->out_w;
    uint32_t acks = c->q_settings_acks;
    c->fh = (struct h2_frame_hdr){.length = (uint32_t)len, .type = H2_SETTINGS};
    h2_on_settings(c, settings);
    if (c->fatal)
        return HB_ENOMEM;
    if (h2_conn_failed(c))
        return HB_EPROTO;
    if (c->q_settings_acks == acks + 1 && c->out_w == out_w + H2_FRAME_HDR_LEN) {
        c->out_w = out_w;
        c->q_settings_acks = acks;
    }
    struct h2_stream *s = h2_stream_new(c, 1, H2_SS_HALF_CLOSED_REMOTE);
    if (!s)
        return c->fatal ? HB_ENOMEM : HB_ELIMIT;
    s->is_head = hb_str_eq(req->method, HB_STR_LIT("HEAD"));
    s->announced = true;
    return 0;
}
