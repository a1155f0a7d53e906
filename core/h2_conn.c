/* core/h2_conn.c — connection object, memory, errors and the receive loop:
 * preface, frame header checks, and dispatch by type. */
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/h2_int.h"

void h2_config_defaults(struct h2_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->max_concurrent_streams = 100;
    cfg->initial_window_size = H2_DEFAULT_WINDOW;
    cfg->connection_window_size = 1u << 20;
    cfg->max_frame_size = H2_MIN_FRAME_SIZE;
    cfg->header_table_size = 4096;
    cfg->max_header_list_size = 65536;
    cfg->enable_connect_protocol = true;
    cfg->no_rfc7540_priorities = false;
    cfg->enable_push = false;
    cfg->max_header_fields = 128;
    cfg->max_continuation_frames = 32;
    cfg->max_header_block_bytes = 65536;
    cfg->reset_budget = (struct h2_budget_cfg){200, 100};
    cfg->empty_budget = (struct h2_budget_cfg){100, 50};
    cfg->priority_budget = (struct h2_budget_cfg){1000, 200};
    cfg->settings_budget = (struct h2_budget_cfg){100, 20};
    cfg->ping_budget = (struct h2_budget_cfg){100, 20};
    cfg->window_update_budget = (struct h2_budget_cfg){2000, 500};
    cfg->min_window_update = 1024;
    cfg->max_queued_ping_acks = 32;
    cfg->max_queued_settings_acks = 32;
    cfg->max_queued_rst = 100;
    cfg->max_outbound_bytes = 1u << 20;
    cfg->max_memory = 4u << 20;
    cfg->settings_ack_timeout = 10 * HB_NS_PER_SEC;
    cfg->closed_stream_window = 5 * HB_NS_PER_SEC;
    cfg->closed_streams_kept = 64;
    cfg->priority_tracked_streams = 64;
    cfg->graceful_goaway_delay = HB_NS_PER_SEC;
    cfg->output_chunk = 65536;
}

static bool config_valid(const struct h2_config *cfg)
{
    return cfg->initial_window_size <= H2_MAX_WINDOW &&
           cfg->connection_window_size >= H2_DEFAULT_WINDOW &&
           cfg->connection_window_size <= H2_MAX_WINDOW &&
           cfg->max_window_size <= H2_MAX_WINDOW && cfg->max_connection_window_size <= H2_MAX_WINDOW &&
           cfg->max_frame_size >= H2_MIN_FRAME_SIZE && cfg->max_frame_size <= H2_MAX_FRAME_SIZE &&
           cfg->max_header_fields > 0 && cfg->max_header_list_size >= 256 &&
           cfg->max_header_block_bytes > 0 && cfg->max_continuation_frames > 0 &&
           cfg->closed_streams_kept > 0 && cfg->output_chunk >= 1024 &&
           cfg->priority_tracked_streams <= H2_MAX_PRIORITY_TRACKED;
}

void *h2_alloc(struct h2_conn *c, size_t n, bool bounded)
{
    if (bounded && c->mem + n > c->cfg.max_memory) {
        h2_conn_flood_error(c, H2_FLOOD_MEMORY, "connection memory bound");
        return NULL;
    }
    void *p = c->cfg.allocator.alloc ? c->cfg.allocator.alloc(c->cfg.allocator.ud, n) : malloc(n);
    if (!p) {
        c->fatal = HB_ENOMEM;
        return NULL;
    }
    c->mem += n;
    return p;
}

void h2_free(struct h2_conn *c, void *p, size_t n)
{
    if (!p)
        return;
    c->mem -= n;
    if (c->cfg.allocator.free)
        c->cfg.allocator.free(c->cfg.allocator.ud, p, n);
    else
        free(p);
}

/* The HPACK contexts allocate through the connection: their tables count in
 * c->mem and against cfg.max_memory like the engine's own buffers. */
static void *hpack_alloc_hook(void *ud, size_t n)
{
    return h2_alloc(ud, n, true);
}

static void hpack_free_hook(void *ud, void *p, size_t n)
{
    h2_free(ud, p, n);
}

struct h2_conn *h2_conn_new(enum h2_role role, const struct h2_config *cfg,
                            const struct h2_callbacks *cb, void *ud)
{
    struct h2_config defaults;
    if (!cfg) {
        h2_config_defaults(&defaults);
        cfg = &defaults;
    }
    if (role != H2_ROLE_SERVER || !config_valid(cfg))
        return NULL;
    struct h2_conn *c = cfg->allocator.alloc ? cfg->allocator.alloc(cfg->allocator.ud, sizeof *c)
                                             : malloc(sizeof *c);
    if (!c)
        return NULL;
    memset(c, 0, sizeof *c);
    c->role = role;
    c->cfg = *cfg;
    if (cb)
        c->cb = *cb;
    c->ud = ud;
    c->mem = sizeof *c;
    c->goaway_code = -1;
    /* Having announced SETTINGS_NO_RFC7540_PRIORITIES=1 we never build a tree. */
    c->prio_mode = cfg->no_rfc7540_priorities ? H2_PM_URGENCY : H2_PM_UNDECIDED;
    c->in_state = role == H2_ROLE_SERVER ? H2_IN_PREFACE : H2_IN_HEADER;
    /* §6.5.2 initial values until the peer's SETTINGS arrive. */
    c->peer_set[H2_SET_HEADER_TABLE_SIZE] = 4096;
    c->peer_set[H2_SET_ENABLE_PUSH] = 1;
    c->peer_set[H2_SET_MAX_CONCURRENT_STREAMS] = UINT32_MAX;
    c->peer_set[H2_SET_INITIAL_WINDOW_SIZE] = H2_DEFAULT_WINDOW;
    c->peer_set[H2_SET_MAX_FRAME_SIZE] = H2_MIN_FRAME_SIZE;
    c->peer_set[H2_SET_MAX_HEADER_LIST_SIZE] = UINT32_MAX;
    c->send_window = H2_DEFAULT_WINDOW;
    c->recv_window = H2_DEFAULT_WINDOW;
    h2_autowin_init(&c->aw, cfg->initial_window_size, cfg->connection_window_size,
                    cfg->max_window_size, cfg->max_connection_window_size);
    for (int i = 0; i < 8; i++)
        hb_list_init(&c->ready[i]);
    h2_budget_init(&c->b_reset, cfg->reset_budget);
    h2_budget_init(&c->b_empty, cfg->empty_budget);
    h2_budget_init(&c->b_prio, cfg->priority_budget);
    h2_budget_init(&c->b_settings, cfg->settings_budget);
    h2_budget_init(&c->b_ping, cfg->ping_budget);
    h2_budget_init(&c->b_wu, cfg->window_update_budget);
    /* Until our SETTINGS are acknowledged the peer may use the default
     * 4096-byte table (§6.5.3); the smaller limit applies at the ACK. */
    const struct hpack_allocator ha = {hpack_alloc_hook, hpack_free_hook, c};
    c->dec = hpack_decoder_new_with(cfg->header_table_size > 4096 ? cfg->header_table_size : 4096,
                                    &ha);
    c->enc = hpack_encoder_new_with(&ha);
    /* Nothing else is allocated up front: the stream table, the closed
     * ring, the HPACK tables and every buffer come with their first use. */
    if (!c->dec || !c->enc || h2_queue_our_settings(c) != 0 || c->fatal ||
        c->in_state == H2_IN_DISCARD) {
        h2_conn_del(c);
        return NULL;
    }
    hpack_decoder_set_limits(c->dec, cfg->max_header_list_size, cfg->max_header_fields);
    return c;
}

void h2_conn_del(struct h2_conn *c)
{
    if (!c)
        return;
    if (c->prio_mode == H2_PM_TREE)
        h2_prio_fini(&c->prio);
    h2_streams_free(c);
    h2_headers_free(c);
    h2_free(c, c->payload, c->payload_cap);
    h2_free(c, c->out, c->out_cap);
    if (c->dec)
        hpack_decoder_del(c->dec);
    if (c->enc)
        hpack_encoder_del(c->enc);
    if (c->cfg.allocator.free)
        c->cfg.allocator.free(c->cfg.allocator.ud, c, sizeof *c);
    else
        free(c);
}

bool h2_conn_failed(const struct h2_conn *c)
{
    return c->fatal || c->in_state == H2_IN_DISCARD;
}

void h2_conn_error(struct h2_conn *c, uint32_t code, const char *reason)
{
    if (c->in_state == H2_IN_DISCARD)
        return;
    c->in_state = H2_IN_DISCARD;
    c->err_reason = reason;
    /* Raised by an application call (goaway, a memory bound hit while
     * submitting): no callback may run there; h2_conn_error_reason() has it. */
    if (c->cb.on_protocol_error && c->cb_ok)
        c->cb.on_protocol_error(c->ud, 0, code, reason);
    /* §5.4.1: GOAWAY with the last stream we processed, then close. */
    h2_queue_goaway(c, c->last_peer_id, code, reason);
    h2_streams_close_all(c, code);
}

void h2_conn_flood_error(struct h2_conn *c, enum h2_flood kind, const char *reason)
{
    if (c->in_state != H2_IN_DISCARD)
        c->flood = (uint8_t)kind;
    h2_conn_error(c, H2_ENHANCE_YOUR_CALM, reason);
}

bool h2_spend(struct h2_conn *c, struct h2_budget *b, const char *reason)
{
    if (h2_budget_spend(b, 1, c->now))
        return true;
    enum h2_flood kind = b == &c->b_reset      ? H2_FLOOD_RST_STREAM
                         : b == &c->b_empty    ? H2_FLOOD_EMPTY_FRAMES
                         : b == &c->b_prio     ? H2_FLOOD_PRIORITY
                         : b == &c->b_settings ? H2_FLOOD_SETTINGS
                         : b == &c->b_ping     ? H2_FLOOD_PING
                                               : H2_FLOOD_WINDOW_UPDATE;
    h2_conn_flood_error(c, kind, reason);
    return false;
}

void h2_stream_error(struct h2_conn *c, uint32_t id, uint32_t code, bool provoked,
                     const char *reason)
{
    /* MadeYouReset (CVE-2025-8671): resets the peer provokes cost it the
     * same budget as the resets it sends (Rapid Reset, CVE-2023-44487). */
    if (provoked && !h2_spend(c, &c->b_reset, "reset budget (provoked stream errors)"))
        return;
    h2_queue_rst(c, id, code);
    if (reason && c->cb.on_protocol_error)
        c->cb.on_protocol_error(c->ud, id, code, reason);
    struct h2_stream *s = h2_stream_find(c, id);
    if (s) {
        s->wire.out += H2_FRAME_HDR_LEN + 4;
        h2_stream_close(c, s, code, H2_CLOSED_WE_RST);
    }
}

/* ---- receive ---------------------------------------------------------- */

static void dispatch(struct h2_conn *c, const uint8_t *p)
{
    const struct h2_frame_hdr *h = &c->fh;
    /* §6.10: a header block is contiguous; nothing may interleave. */
    if (c->block_stream && (h->type != H2_CONTINUATION || h->stream_id != c->block_stream)) {
        h2_conn_error(c, H2_PROTOCOL_ERROR, "frame interleaved in a header block");
        return;
    }
    /* §3.4: the client preface ends with a SETTINGS frame. */
    if (!c->got_settings) {
        if (h->type != H2_SETTINGS || (h->flags & H2_F_ACK)) {
            h2_conn_error(c, H2_PROTOCOL_ERROR, "preface not followed by SETTINGS");
            return;
        }
        c->got_settings = true;
    }
    uint32_t code = 0;
    switch (h2_frame_check_hdr(h, &code)) {
    case H2_FRAME_OK:
        break;
    case H2_FRAME_CONN_ERROR:
        h2_conn_error(c, code, "frame header violates the frame type's rules");
        return;
    case H2_FRAME_STREAM_ERROR:
        h2_stream_error(c, h->stream_id, code, true, "PRIORITY frame of a length other than 5");
        return;
    }
    switch (h->type) {
    case H2_DATA:
        h2_on_data(c, p);
        break;
    case H2_HEADERS:
        h2_on_headers(c, p);
        break;
    case H2_PRIORITY:
        h2_on_priority(c, p);
        break;
    case H2_RST_STREAM:
        h2_on_rst_stream(c, p);
        break;
    case H2_SETTINGS:
        h2_on_settings(c, p);
        break;
    case H2_PUSH_PROMISE:
        h2_on_push_promise(c, p);
        break;
    case H2_PING:
        h2_on_ping(c, p);
        break;
    case H2_GOAWAY:
        h2_on_goaway(c, p);
        break;
    case H2_WINDOW_UPDATE:
        h2_on_window_update(c, p);
        break;
    case H2_CONTINUATION:
        h2_on_continuation(c, p);
        break;
    case H2_PRIORITY_UPDATE:
        h2_on_priority_update(c, p);
        break;
    default:
        break; /* §4.1: unknown types are ignored */
    }
}

static size_t recv_preface(struct h2_conn *c, const uint8_t *in, size_t len)
{
    size_t n = H2_PREFACE_LEN - c->preface_got;
    if (n > len)
        n = len;
    if (memcmp(in, &H2_PREFACE[c->preface_got], n) != 0) {
        /* §3.4: not HTTP/2 — a GOAWAY is all we can say, then close. */
        h2_conn_error(c, H2_PROTOCOL_ERROR, "invalid connection preface");
        c->want_close_now = true;
        return len;
    }
    c->preface_got += (uint32_t)n;
    if (c->preface_got == H2_PREFACE_LEN)
        c->in_state = H2_IN_HEADER;
    return n;
}

static void frame_header_done(struct h2_conn *c)
{
    h2_frame_hdr_unpack(&c->fh, c->hdr_buf);
    c->hdr_got = 0;
    c->payload_got = 0;
    c->in_state = H2_IN_PAYLOAD;
    if (c->fh.type == H2_HEADERS && c->block_since == 0)
        c->block_since = c->now ? c->now : 1;
    /* §4.2: larger than our SETTINGS_MAX_FRAME_SIZE. Treated as a connection
     * error for every type: most would alter connection state anyway. */
    if (c->fh.length > c->cfg.max_frame_size)
        h2_conn_error(c, H2_FRAME_SIZE_ERROR, "frame larger than SETTINGS_MAX_FRAME_SIZE");
}

static size_t recv_payload(struct h2_conn *c, const uint8_t *in, size_t len)
{
    uint32_t need = c->fh.length - c->payload_got;
    if (c->payload_got == 0 && len >= need) {
        /* The whole payload is in the caller's buffer: no copy. */
        c->in_state = H2_IN_HEADER;
        dispatch(c, in);
        return need;
    }
    if (!c->payload) {
        c->payload = h2_alloc(c, c->cfg.max_frame_size, true);
        if (!c->payload)
            return len;
        c->payload_cap = c->cfg.max_frame_size;
    }
    size_t n = len < need ? len : need;
    memcpy(c->payload + c->payload_got, in, n);
    c->payload_got += (uint32_t)n;
    if (c->payload_got == c->fh.length) {
        c->in_state = H2_IN_HEADER;
        dispatch(c, c->payload);
    }
    return n;
}

ptrdiff_t h2_conn_recv(struct h2_conn *c, const uint8_t *in, size_t len, hb_ns_t now)
{
    c->now = now;
    if (c->settings_deadline < 0) /* armed at the first input we see */
        c->settings_deadline = now + c->cfg.settings_ack_timeout;
    if (c->graceful == 1 && !c->graceful_timed) {
        c->graceful_deadline = now + c->cfg.graceful_goaway_delay;
        c->graceful_timed = true;
    }
    if (c->closed_pending)
        h2_closed_stamp(c);
    c->in_recv = true;
    c->cb_ok++;
    h2_close_drain(c); /* closes owed from submit calls come first */
    size_t pos = 0;
    while (pos < len && !c->fatal && c->in_state != H2_IN_DISCARD) {
        switch (c->in_state) {
        case H2_IN_PREFACE:
            pos += recv_preface(c, in + pos, len - pos);
            break;
        case H2_IN_HEADER: {
            size_t n = H2_FRAME_HDR_LEN - c->hdr_got;
            if (n > len - pos)
                n = len - pos;
            memcpy(c->hdr_buf + c->hdr_got, in + pos, n);
            c->hdr_got += (uint32_t)n;
            pos += n;
            if (c->hdr_got == H2_FRAME_HDR_LEN) {
                frame_header_done(c);
                if (c->in_state == H2_IN_PAYLOAD && c->fh.length == 0) {
                    c->in_state = H2_IN_HEADER;
                    dispatch(c, in + pos);
                }
            }
            break;
        }
        case H2_IN_PAYLOAD:
            pos += recv_payload(c, in + pos, len - pos);
            break;
        case H2_IN_DISCARD:
            break;
        }
    }
    c->in_recv = false;
    c->cb_ok--;
    if (c->fatal)
        return c->fatal;
    /* Frames that straddled recv calls may have allocated the payload
     * buffer: an idle connection with nothing to write gives it back now
     * (h2_conn_sent() does the same once the output drains). */
    if (c->nstreams == 0 && h2_out_len(c) == 0)
        h2_release_idle(c);
    return (ptrdiff_t)len;
}

/* ---- output side state ------------------------------------------------ */

bool h2_conn_want_write(const struct h2_conn *c)
{
    if (c->fatal)
        return false;
    /* Owed on_stream_close calls are delivered by h2_conn_send(). */
    return h2_out_len(c) > 0 || c->npclose > 0 || (c->in_state != H2_IN_DISCARD && h2_sched_has_work(c));
}

bool h2_conn_want_close(const struct h2_conn *c)
{
    if (c->fatal)
        return true;
    if (h2_out_len(c) > 0 || c->npclose > 0)
        return false;
    if (c->in_state == H2_IN_DISCARD || c->want_close_now)
        return true;
    /* Graceful: the final GOAWAY is out and every stream is done. */
    if (c->graceful == 2 && c->nstreams == 0)
        return true;
    if (c->goaway_received && c->nstreams == 0)
        return true;
    return false;
}

hb_ns_t h2_conn_next_timeout(const struct h2_conn *c)
{
    hb_ns_t t = 0;
    if (c->in_state == H2_IN_DISCARD)
        return 0;
    if (c->settings_deadline > 0)
        t = c->settings_deadline;
    if (c->graceful == 1 && c->graceful_deadline && (!t || c->graceful_deadline < t))
        t = c->graceful_deadline;
    return t;
}

int h2_conn_on_timeout(struct h2_conn *c, hb_ns_t now)
{
    c->now = now;
    c->cb_ok++;
    h2_close_drain(c);
    if (c->settings_deadline > 0 && hb_time_expired(now, c->settings_deadline) &&
        c->in_state != H2_IN_DISCARD) {
        c->settings_deadline = 0;
        /* §6.5.3: no ACK in a reasonable time is SETTINGS_TIMEOUT. */
        h2_conn_error(c, H2_SETTINGS_TIMEOUT, "SETTINGS not acknowledged in time");
    }
    if (c->graceful == 1 && hb_time_expired(now, c->graceful_deadline)) {
        if (c->graceful_timed) {
            h2_graceful_final(c);
        } else {
            c->graceful_deadline = now + c->cfg.graceful_goaway_delay;
            c->graceful_timed = true;
        }
    }
    c->cb_ok--;
    return c->fatal;
}

int h2_conn_stream_set_user_data(struct h2_conn *c, uint32_t stream_id, void *user_data)
{
    struct h2_stream *s = h2_stream_find(c, stream_id);
    if (!s)
        return HB_ENOTFOUND;
    s->user_data = user_data;
    return 0;
}

struct h2_wire h2_conn_stream_wire(const struct h2_conn *c, uint32_t stream_id)
{
    if (stream_id != 0 && stream_id == c->closing_id)
        return c->closing_wire;
    struct h2_stream *s = h2_stream_find(c, stream_id);
    return s ? s->wire : (struct h2_wire){0, 0};
}

void *h2_conn_stream_user_data(const struct h2_conn *c, uint32_t stream_id)
{
    if (stream_id != 0 && stream_id == c->closing_id)
        return c->closing_ud;
    struct h2_stream *s = h2_stream_find(c, stream_id);
    return s ? s->user_data : NULL;
}

hb_ns_t h2_conn_header_block_since(const struct h2_conn *c)
{
    return c->block_since;
}

bool h2_conn_had_request(const struct h2_conn *c)
{
    return c->last_peer_id != 0;
}

uint32_t h2_conn_open_streams(const struct h2_conn *c)
{
    return c->open_peer + c->open_local;
}

int64_t h2_conn_goaway_sent_code(const struct h2_conn *c)
{
    return c->goaway_code;
}

enum h2_flood h2_conn_flood(const struct h2_conn *c)
{
    return (enum h2_flood)c->flood;
}

const char *h2_conn_error_reason(const struct h2_conn *c)
{
    return c->err_reason ? c->err_reason : "";
}

uint32_t h2_conn_peer_setting(const struct h2_conn *c, uint16_t id)
{
    return id < sizeof c->peer_set / sizeof c->peer_set[0] ? c->peer_set[id] : 0;
}
