/* core/h2_int.h — internals of the HTTP/2 engine shared by its files
 * (h2_conn, h2_stream, h2_flow, h2_settings, h2_headers, h2_http, h2_sched,
 * h2_out). Not a public API: only core/h2_*.c include it (and white-box
 * tests may). */
#ifndef H2B_CORE_H2_INT_H
#define H2B_CORE_H2_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/h2_autowin.h"
#include "core/h2_budget.h"
#include "core/h2_conn.h"
#include "core/h2_frame.h"
#include "core/h2_prio.h"
#include "core/list.h"
#include "hpack/hpack.h"

/* RFC 9113 §5.1 stream states. */
enum h2_sstate {
    H2_SS_IDLE,
    H2_SS_RESERVED_LOCAL,
    H2_SS_RESERVED_REMOTE,
    H2_SS_OPEN,
    H2_SS_HALF_CLOSED_LOCAL,
    H2_SS_HALF_CLOSED_REMOTE,
    H2_SS_CLOSED,
};

/* Which priority scheme schedules the connection's DATA (docs/http2.md,
 * response scheduling). One at a time: UNDECIDED → TREE on the first RFC
 * 7540 signal; UNDECIDED or TREE → URGENCY on the first RFC 9218 signal or
 * SETTINGS_NO_RFC7540_PRIORITIES=1 (ours or the peer's), for good. */
enum h2_prio_mode {
    H2_PM_UNDECIDED, /* no signal yet: urgency lists (all streams default u=3) */
    H2_PM_TREE,      /* RFC 7540 §5.3 dependency tree (c->prio) for every stream */
    H2_PM_URGENCY,   /* RFC 9218 urgency lists; RFC 7540 weights as round-robin shares */
};
const char *h2_prio_mode_name(enum h2_prio_mode m);

/* How a remembered closed stream ended: decides the answer to late frames. */
enum h2_closed_how {
    H2_CLOSED_NORMAL,   /* END_STREAM both ways: late frames are STREAM_CLOSED */
    H2_CLOSED_PEER_RST, /* the peer reset it: STREAM_CLOSED (§5.1 "closed") */
    H2_CLOSED_WE_RST,   /* we reset it: late frames are ignored for a while */
};

struct h2_stream {
    uint32_t id;
    uint8_t state;           /* enum h2_sstate */
    bool announced : 1;      /* on_request delivered: on_stream_close owed */
    bool head_sent : 1;      /* final response head sent */
    bool data_ready : 1;     /* the app said it has body bytes (resume) */
    bool data_eof : 1;       /* read_data reported the end of the body */
    bool has_trailers : 1;   /* trailers submitted, to follow the last DATA */
    bool has_cl : 1;         /* the request declared content-length */
    bool incremental;        /* RFC 9218 i */
    bool rfc7540_prio : 1;   /* RFC 7540 priority seen: in urgency mode, weight round-robin */
    bool has_9218 : 1;       /* a priority field / PRIORITY_UPDATE was seen */
    bool counted : 1;        /* counted in open_peer/open_local */
    bool is_head : 1;        /* request method HEAD */
    uint8_t urgency;         /* RFC 9218 u, 0..7 */
    uint16_t weight;         /* RFC 7540 weight 1..256 */
    struct h2_stream *hnext; /* hash chain */
    struct hb_list sched;    /* in c->ready[urgency] when schedulable (no pn) */
    struct h2_prio_node *pn; /* its node in c->prio (tree mode), else NULL */
    int64_t send_window;     /* may go negative (§6.9.2) */
    int64_t recv_window;     /* what the peer may still send us */
    uint64_t recv_unacked;   /* consumed by the app, not yet returned */
    uint32_t window;         /* the window we grant it (grows with c->aw.stream_window) */
    uint16_t probe_seq;      /* the window probe during which it last consumed */
    uint64_t recv_pending;   /* delivered to the app, not yet consumed */
    uint64_t content_length; /* declared request content-length */
    uint64_t data_received;  /* request DATA payload received */
    void *user_data;         /* the application's (h2_conn_stream_set_user_data) */
    struct h2_wire wire;     /* frame bytes of this stream each way (h2_conn_stream_wire) */
    int64_t deficit;         /* weighted round-robin credit (bytes) */
    /* trailers copied at submit time: fields and their strings in one block */
    struct hpack_field *trailers;
    uint32_t ntrailers;
    size_t trailers_size;
};

struct h2_closed {
    uint32_t id;
    uint8_t how;
    hb_ns_t when;
};

enum h2_in_state {
    H2_IN_PREFACE,
    H2_IN_HEADER,
    H2_IN_PAYLOAD,
    H2_IN_DISCARD, /* after a connection error: input is dropped */
};

struct h2_conn {
    enum h2_role role;
    struct h2_config cfg;
    struct h2_callbacks cb;
    void *ud;
    size_t mem; /* bytes currently allocated through the hook */
    int fatal;  /* HB_ENOMEM once an allocation failed */
    hb_ns_t now;
    const char *err_reason;
    uint8_t flood; /* enum h2_flood: the protection that raised the connection error */

    /* ---- input ---- */
    enum h2_in_state in_state;
    uint32_t preface_got;
    uint8_t hdr_buf[H2_FRAME_HDR_LEN];
    uint32_t hdr_got;
    struct h2_frame_hdr fh;
    uint8_t *payload; /* frames split across recv() calls are gathered here */
    uint32_t payload_cap, payload_got;
    bool got_settings; /* the peer's first frame (its preface) was SETTINGS */

    /* ---- header block assembly (HEADERS/PUSH_PROMISE + CONTINUATION) ---- */
    uint8_t *block;
    size_t block_len, block_cap;
    uint64_t block_wire; /* frame bytes of the header block being received */
    size_t sent_block_wire; /* frame bytes of the last block h2_send_block wrote */
    hb_ns_t block_since; /* when the HEADERS frame header of the block being received came, 0: none */
    uint32_t block_stream; /* != 0 while CONTINUATION is expected */
    uint32_t block_frames;
    uint8_t block_flags; /* flags of the HEADERS frame (END_STREAM) */
    bool block_prio;     /* HEADERS carried RFC 7540 priority */
    uint32_t block_dep;
    bool block_excl;
    uint16_t block_weight;
    struct hpack_decoder *dec;
    struct hpack_encoder *enc;
    struct hpack_field *fields; /* decode output, cfg.max_header_fields */
    char *scratch;              /* decode strings, cfg.max_header_list_size */

    /* ---- streams ---- */
    struct h2_stream **buckets; /* NULL until the first stream; grows with nstreams */
    uint32_t nbuckets;          /* power of two (0 before the first stream) */
    uint32_t nstreams;
    uint32_t open_peer;      /* peer-initiated streams counted for concurrency */
    uint32_t open_local;     /* our pushed streams counted against the peer's limit */
    uint32_t last_peer_id;   /* highest peer-initiated id seen */
    uint32_t last_local_id;  /* highest id we initiated (push) */
    struct h2_stream *spare; /* freed stream structs kept for reuse */
    uint32_t nspare;
    struct h2_closed *closed; /* ring of closed_cap, grown up to cfg.closed_streams_kept */
    uint32_t closed_pos, closed_n, closed_cap;

    /* ---- settings ---- */
    uint32_t peer_set[10]; /* indexed by enum h2_setting_id */
    bool settings_acked;   /* our initial SETTINGS were acknowledged */
    hb_ns_t settings_deadline;

    /* ---- flow control ---- */
    int64_t send_window;   /* connection window for our DATA */
    int64_t recv_window;   /* connection window the peer may still use */
    uint64_t recv_unacked; /* connection credit to return */
    struct h2_autowin aw;  /* windows that follow the path (h2_autowin.h) */

    /* ---- output ---- */
    uint8_t *out;
    size_t out_r, out_w, out_cap;
    uint32_t q_ping_acks, q_settings_acks, q_rst; /* queued since the output last drained */
    struct hb_list ready[8];                      /* schedulable streams by urgency */
    uint32_t nready;                              /* schedulable streams, lists and tree */
    uint8_t prio_mode;                            /* enum h2_prio_mode */
    struct h2_prio_tree prio;                     /* H2_PM_TREE: the §5.3 tree */

    /* RFC 9218 §7.1: PRIORITY_UPDATEs for streams not opened yet (bounded) */
    struct {
        uint32_t id;
        uint8_t urgency;
        bool incremental;
    } early_prio[8];
    uint32_t early_pos;

    /* ---- budgets ---- */
    struct h2_budget b_reset, b_empty, b_prio, b_settings, b_ping, b_wu;

    /* ---- shutdown ---- */
    int64_t goaway_code;  /* -1: none sent */
    uint32_t goaway_last; /* last stream id we announced */
    uint8_t graceful;     /* 0 none, 1 first GOAWAY sent, 2 final sent */
    hb_ns_t graceful_deadline;
    bool graceful_timed; /* deadline counted from a fresh `now` */
    bool goaway_received;
    uint32_t peer_goaway_last;
    bool want_close_now; /* bad preface: close once the output drains */
    bool in_send;        /* inside h2_conn_send (no re-entrant DATA fill) */
    bool in_read;        /* inside read_data: output must not move */
    bool in_recv;        /* inside h2_conn_recv: c->now is fresh */
    bool closed_pending; /* ring entries closed outside recv, time unknown */
    uint8_t cb_ok;       /* inside recv/send/on_timeout: callbacks may run */
    /* on_stream_close owed for streams closed by a submit/reset/goaway call
     * made outside recv/send/on_timeout: delivered, in order, by the next of
     * those (the contract in h2_conn.h). At most one per stream ever opened
     * and not yet notified, so bounded by the stream limits. */
    struct h2_pclose {
        uint32_t id, code;
        void *user_data; /* the stream's, readable during the callback */
        struct h2_wire wire;
    } *pclose;
    uint32_t npclose, pclose_cap;
    /* The stream whose on_stream_close runs now (gone from the table): its
     * user data stays readable during the call. 0: none. */
    uint32_t closing_id;
    void *closing_ud;
    struct h2_wire closing_wire;
};

/* ---- memory (h2_conn.c) ---- */
/* Allocates n bytes through the hook. Over cfg.max_memory: a connection
 * error ENHANCE_YOUR_CALM and NULL; out of memory: c->fatal and NULL.
 * `bounded` false skips the max_memory check (output buffer, which has its
 * own bound). */
void *h2_alloc(struct h2_conn *c, size_t n, bool bounded);
void h2_free(struct h2_conn *c, void *p, size_t n);

/* ---- errors (h2_conn.c) ---- */
/* A connection error: queues GOAWAY(code) with the last peer stream id,
 * closes every stream, and drops further input. reason: static string. */
void h2_conn_error(struct h2_conn *c, uint32_t code, const char *reason);
/* h2_conn_error(ENHANCE_YOUR_CALM, reason), remembering which protection
 * broke (h2_conn_flood()) when it is the connection's first error. */
void h2_conn_flood_error(struct h2_conn *c, enum h2_flood kind, const char *reason);
/* A stream error: RST_STREAM(code) on id, the stream (if any) is closed and
 * remembered as reset by us. provoked: the peer's misbehaviour caused it, so
 * it counts in the reset budget (MadeYouReset). reason (static) goes to
 * on_protocol_error; NULL for resets the application asked for. */
void h2_stream_error(struct h2_conn *c, uint32_t id, uint32_t code, bool provoked,
                     const char *reason);
/* Spends one event of budget b; when broken raises ENHANCE_YOUR_CALM and
 * returns false. */
bool h2_spend(struct h2_conn *c, struct h2_budget *b, const char *reason);
bool h2_conn_failed(const struct h2_conn *c); /* connection error raised or fatal */

/* ---- streams (h2_stream.c) ---- */
/* The stream table and the closed-stream ring are allocated with the first
 * stream / the first closed stream, small, and grow with use. */
void h2_streams_free(struct h2_conn *c);
struct h2_stream *h2_stream_find(const struct h2_conn *c, uint32_t id);
/* A new stream in state `state` (allocated, in the table). NULL: see h2_alloc. */
struct h2_stream *h2_stream_new(struct h2_conn *c, uint32_t id, enum h2_sstate state);
/* Closes and frees s: on_stream_close if announced, remembered as `how`. */
void h2_stream_close(struct h2_conn *c, struct h2_stream *s, uint32_t code, enum h2_closed_how how);
/* The peer ended its side (END_STREAM received) / we ended ours. Both may
 * close and free s. */
void h2_stream_end_remote(struct h2_conn *c, struct h2_stream *s);
void h2_stream_end_local(struct h2_conn *c, struct h2_stream *s);
/* Remembers id as closed `how` at c->now (a ring of cfg.closed_streams_kept). */
void h2_closed_add(struct h2_conn *c, uint32_t id, enum h2_closed_how how);
/* Answers a DATA/HEADERS frame on a closed stream (§5.1): ignored shortly
 * after we reset it, else STREAM_CLOSED (stream or connection error). */
void h2_late_frame(struct h2_conn *c, uint32_t id);
/* Gives entries remembered outside recv the current time. */
void h2_closed_stamp(struct h2_conn *c);
/* A remembered closed stream, or NULL (forgotten or never used). */
const struct h2_closed *h2_closed_find(const struct h2_conn *c, uint32_t id);
/* True when id belongs to the peer's id space (odd for a client). */
bool h2_id_is_peer(const struct h2_conn *c, uint32_t id);
/* True when id is idle: never used by its initiator yet (§5.1). */
bool h2_id_is_idle(const struct h2_conn *c, uint32_t id);
/* Calls fn on every stream (fn must not close streams). */
void h2_streams_each(struct h2_conn *c, void (*fn)(struct h2_conn *, struct h2_stream *, void *),
                     void *arg);
/* Frees the cached spare stream structs. */
void h2_streams_drop_spares(struct h2_conn *c);
/* Closes every stream with code (on_stream_close for announced ones). */
void h2_streams_close_all(struct h2_conn *c, uint32_t code);
/* Delivers the on_stream_close notifications deferred while no callback
 * could run (c->pclose), oldest first. Call with c->cb_ok set. */
void h2_close_drain(struct h2_conn *c);

/* ---- flow control (h2_flow.c) ---- */
void h2_on_data(struct h2_conn *c, const uint8_t *p);
void h2_on_window_update(struct h2_conn *c, const uint8_t *p);
/* Applies a new peer SETTINGS_INITIAL_WINDOW_SIZE to every stream (§6.9.2). */
bool h2_flow_initial_window(struct h2_conn *c, uint32_t old_v, uint32_t new_v);
/* Returns connection (and stream, when s) credit for n consumed bytes. */
void h2_flow_credit(struct h2_conn *c, struct h2_stream *s, uint64_t n);
/* The application consumed n body bytes of s: h2_flow_credit, and the
 * sample of the receive-window estimator (a probe PING when one starts). */
void h2_flow_consumed(struct h2_conn *c, struct h2_stream *s, uint64_t n);

/* ---- settings, ping, goaway, rst, priority (h2_settings.c) ---- */
int h2_queue_our_settings(struct h2_conn *c);
void h2_on_settings(struct h2_conn *c, const uint8_t *p);
void h2_on_ping(struct h2_conn *c, const uint8_t *p);
/* A PING ACK that may close a receive-window probe (h2_flow.c). */
void h2_flow_autowin_ack(struct h2_conn *c, const uint8_t opaque[8]);
void h2_on_goaway(struct h2_conn *c, const uint8_t *p);
void h2_on_rst_stream(struct h2_conn *c, const uint8_t *p);
/* ---- priority signals (h2_signals.c) ---- */
void h2_on_priority(struct h2_conn *c, const uint8_t *p);
void h2_on_priority_update(struct h2_conn *c, const uint8_t *p);
/* Applies an RFC 7540 priority signal for id (a stream or an idle/closed
 * id): the tree in tree mode (entered here from UNDECIDED), the weight as a
 * round-robin share in urgency mode. weight: the wire value (0..255). */
void h2_apply_rfc7540(struct h2_conn *c, uint32_t id, uint32_t dep, bool exclusive,
                      uint8_t weight);
/* An RFC 9218 signal or SETTINGS_NO_RFC7540_PRIORITIES=1: urgency mode
 * from now on (the tree, if any, is dropped). */
void h2_prio_to_urgency(struct h2_conn *c);
/* Tree mode: gives a new stream its node (default priority). */
void h2_prio_stream_open(struct h2_conn *c, struct h2_stream *s);
/* Applies a PRIORITY_UPDATE that arrived before stream s was opened. */
void h2_apply_early_priority(struct h2_conn *c, struct h2_stream *s);
/* Sends the second GOAWAY of a graceful shutdown. */
void h2_graceful_final(struct h2_conn *c);

/* ---- header blocks (h2_headers.c) ---- */
void h2_on_headers(struct h2_conn *c, const uint8_t *p);
void h2_on_continuation(struct h2_conn *c, const uint8_t *p);
void h2_on_push_promise(struct h2_conn *c, const uint8_t *p);
void h2_headers_free(struct h2_conn *c);
/* Encodes fields as a header block and queues HEADERS (+CONTINUATION) or
 * PUSH_PROMISE (+CONTINUATION) frames. Returns 0 or HB_E*. */
int h2_send_block(struct h2_conn *c, uint8_t type, uint32_t stream_id, uint32_t promised_id,
                  const struct hpack_field *fields, size_t n, bool end_stream);

/* ---- HTTP semantics (h2_http.c) ---- */
/* Validates a decoded request header list (§8.1-§8.3, RFC 8441) and fills
 * msg (views into the fields; regular fields compacted in place). Returns
 * NULL when valid, else a static reason (the request is malformed). */
const char *h2_http_request(struct hpack_field *f, size_t n, bool connect_protocol,
                            struct hb_msg *msg);
/* Validates trailers (no pseudo-headers, same field rules). */
const char *h2_http_trailers(struct hpack_field *f, size_t n, struct hb_msg *msg);
/* RFC 9218 §4 priority field value → urgency/incremental (unchanged when
 * absent or unparseable members). */
void h2_http_parse_priority(const char *v, size_t len, uint8_t *urgency, bool *incremental);
/* True for a connection-specific field name (§8.2.2) that must not be sent. */
bool h2_http_is_conn_specific(const char *name, size_t len);

/* ---- output and scheduling (h2_out.c, h2_sched.c) ---- */
/* Reserves n bytes at the end of the output; NULL with c->fatal set on OOM. */
uint8_t *h2_out_reserve(struct h2_conn *c, size_t n);
void h2_out_commit(struct h2_conn *c, size_t n);
/* Frees the output, payload and header-block buffers while idle (no stream,
 * no output pending). */
void h2_release_idle(struct h2_conn *c);
static inline size_t h2_out_len(const struct h2_conn *c)
{
    return c->out_w - c->out_r;
}
/* Peer-provoked control frames: checked against the outbound caps. */
void h2_queue_rst(struct h2_conn *c, uint32_t id, uint32_t code);
void h2_queue_window_update(struct h2_conn *c, uint32_t id, uint32_t inc);
void h2_queue_settings_ack(struct h2_conn *c);
void h2_queue_ping(struct h2_conn *c, const uint8_t opaque[8], bool ack);
void h2_queue_goaway(struct h2_conn *c, uint32_t last, uint32_t code, const char *debug);
/* Scheduler. */
void h2_sched_add(struct h2_conn *c, struct h2_stream *s);
void h2_sched_remove(struct h2_conn *c, struct h2_stream *s);
/* Fills the output with DATA (and trailers) up to cfg.output_chunk. */
void h2_sched_fill(struct h2_conn *c);
bool h2_sched_has_work(const struct h2_conn *c);

#endif
