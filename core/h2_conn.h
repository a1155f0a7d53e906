/* core/h2_conn.h — the sans-IO HTTP/2 connection engine (RFC 9113, 9218, 8441).
 *
 * It never touches a socket or a clock: bytes go in with h2_conn_recv(),
 * events come out through struct h2_callbacks, the application submits
 * responses and pulls body bytes through read_data(), and bytes to write come
 * out of h2_conn_send()/h2_conn_sent(). Time is passed in.
 *
 * Protocol errors are state, not return values: a stream error queues a
 * RST_STREAM, a connection error queues a GOAWAY and makes the connection
 * want to close once the GOAWAY is written. Only fatal conditions (out of
 * memory) are returned, and after a fatal return the caller must just
 * h2_conn_del() the connection.
 *
 * Threading: a connection is used by one thread at a time. Callbacks run
 * synchronously inside h2_conn_recv(), h2_conn_send() and h2_conn_on_timeout();
 * they MAY call the submit/reset/consumed/goaway functions of the same
 * connection (re-entrancy is supported), but must not call h2_conn_recv(),
 * h2_conn_send() or h2_conn_del(). The one exception is read_data: it writes
 * straight into the output buffer, so while it runs only
 * h2_conn_submit_trailers() may be called (other calls return HB_EINVAL).
 * A stream closed by a submit/reset/goaway call made outside those three
 * functions is unknown to the API at once, but its on_stream_close is
 * delivered by the next h2_conn_recv()/h2_conn_send()/h2_conn_on_timeout()
 * (h2_conn_want_write() is true and h2_conn_want_close() false until then),
 * and a connection error raised by such a call is not reported through
 * on_protocol_error (see h2_conn_error_reason()).
 *
 * Roles: H2_ROLE_SERVER is complete. H2_ROLE_CLIENT is reserved for a later
 * client engine (the design keeps the role in every state decision);
 * h2_conn_new() returns NULL for it today.
 */
#ifndef H2B_CORE_H2_CONN_H
#define H2B_CORE_H2_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/h2_budget.h"
#include "core/h2_errors.h"
#include "core/msg.h"
#include "core/time.h"

enum h2_role {
    H2_ROLE_SERVER,
    H2_ROLE_CLIENT,
};

/* Allocator hook: every allocation of a connection goes through it, its
 * HPACK contexts' included (so their tables also count against max_memory).
 * alloc returns NULL on failure; free gets the size that was asked for.
 * NULL hooks mean malloc/free. */
struct h2_allocator {
    void *(*alloc)(void *ud, size_t n);
    void (*free)(void *ud, void *p, size_t n);
    void *ud;
};

/* Upper bound of h2_config.priority_tracked_streams (and of the config key). */
#define H2_MAX_PRIORITY_TRACKED 10000u

/* Every limit of a connection. Start from h2_config_defaults() and change
 * fields; values are validated by h2_conn_new(). Defaults in brackets. */
struct h2_config {
    /* ---- our SETTINGS (RFC 9113 §6.5.2) ---- */
    uint32_t max_concurrent_streams; /* [100] peer-initiated open streams; more → REFUSED_STREAM */
    uint32_t initial_window_size;    /* [65535] per-stream receive window we grant */
    uint32_t connection_window_size; /* [1 MiB] connection receive window we grant */
    uint32_t max_window_size;        /* [0: off] the stream window may grow up to this as the
                                        measured consumption per round trip asks
                                        (core/h2_autowin.h); not above initial: fixed */
    uint32_t max_connection_window_size; /* [0: off] the same for the connection window */
    uint32_t max_frame_size;         /* [16384] largest frame we accept (16384..16777215) */
    uint32_t header_table_size;      /* [4096] our HPACK decoder table */
    uint32_t max_header_list_size;   /* [65536] decoded header list, name+value+32 per field */
    bool enable_connect_protocol;    /* [true] RFC 8441 SETTINGS_ENABLE_CONNECT_PROTOCOL=1 */
    bool no_rfc7540_priorities;      /* [false] RFC 9218 SETTINGS_NO_RFC7540_PRIORITIES=1 */
    bool enable_push;                /* [false] server push allowed at all (also needs the
                                        peer's ENABLE_PUSH=1) */
    /* ---- header blocks ---- */
    uint32_t max_header_fields;       /* [128] fields per decoded block */
    uint32_t max_continuation_frames; /* [32] CONTINUATION frames per block */
    uint32_t max_header_block_bytes; /* [65536] compressed bytes per block (HEADERS+CONTINUATION) */
    /* ---- hardening budgets (GOAWAY ENHANCE_YOUR_CALM when broken) ---- */
    struct h2_budget_cfg reset_budget;    /* [{200, 100}] peer RST_STREAMs + stream errors the
                                             peer provokes (Rapid Reset, MadeYouReset) */
    struct h2_budget_cfg empty_budget;    /* [{100, 50}] DATA without payload or END_STREAM,
                                             empty CONTINUATION, HEADERS with nothing new */
    struct h2_budget_cfg priority_budget; /* [{1000, 200}] PRIORITY and PRIORITY_UPDATE frames */
    struct h2_budget_cfg settings_budget; /* [{100, 20}] SETTINGS frames (non-ACK) */
    struct h2_budget_cfg ping_budget;     /* [{100, 20}] PING frames (non-ACK) */
    struct h2_budget_cfg window_update_budget; /* [{2000, 500}] WINDOW_UPDATEs whose increment
                                                  is below min_window_update (dribble) */
    uint32_t min_window_update;                /* [1024] see window_update_budget */
    uint32_t max_queued_ping_acks;             /* [32] unsent PING ACKs before ENHANCE_YOUR_CALM */
    uint32_t max_queued_settings_acks;         /* [32] unsent SETTINGS ACKs likewise */
    uint32_t max_queued_rst;                   /* [100] unsent RST_STREAMs likewise */
    size_t max_outbound_bytes;                 /* [1 MiB] unsent control/HEADERS bytes; past it the
                                                  peer is not reading: ENHANCE_YOUR_CALM */
    size_t max_memory;                         /* [4 MiB] allocations per connection (HPACK
                                                  tables included); an allocation past
                                                  it: ENHANCE_YOUR_CALM */
    /* ---- timers and bookkeeping ---- */
    hb_ns_t settings_ack_timeout;  /* [10 s] our SETTINGS unacknowledged → SETTINGS_TIMEOUT */
    hb_ns_t closed_stream_window;  /* [5 s] frames on a stream we reset are ignored this long */
    uint32_t closed_streams_kept;  /* [64] closed streams remembered (for §5.1 answers) */
    uint32_t priority_tracked_streams; /* [64] RFC 7540 tree nodes kept for idle and closed
                                          streams (0..H2_MAX_PRIORITY_TRACKED); the least
                                          recently used goes first (core/h2_prio.h) */
    hb_ns_t graceful_goaway_delay; /* [1 s] between the two GOAWAYs of a graceful shutdown
                                      (cut short by the PING ACK, one RTT) */
    size_t output_chunk;           /* [65536] h2_conn_send() fills DATA up to about this many
                                      bytes per call */
    struct h2_allocator allocator;
};

/* Fills *cfg with the defaults listed above. */
void h2_config_defaults(struct h2_config *cfg);

/* Events. `ud` is the pointer given to h2_conn_new(). Every callback is
 * optional except read_data (needed once a body is sent).
 *
 * Lifetime of messages: a struct hb_msg passed to a callback, its fields and
 * every string they point to are valid only during the callback (they live
 * in the connection's decode scratch, reused by the next header block). Copy
 * what must outlive it. */
struct h2_callbacks {
    /* A request head passed every RFC 9113 §8 check. end_stream: no body
     * follows. msg->flags has HB_MSG_HAS_CL with content_length when the
     * request carried a valid content-length (the engine enforces it against
     * the DATA it receives). */
    void (*on_request)(void *ud, uint32_t stream_id, const struct hb_msg *req, bool end_stream);
    /* Request body bytes (padding removed). `data` is valid during the call
     * only. The peer's stream and connection windows are replenished only
     * when the application reports these bytes with h2_conn_consumed(). The
     * last call has end_stream set (possibly with len 0). */
    void (*on_data)(void *ud, uint32_t stream_id, const uint8_t *data, size_t len, bool end_stream);
    /* Request trailers (the request ends with them). */
    void (*on_trailers)(void *ud, uint32_t stream_id, const struct hb_msg *trailers);
    /* Called exactly once for every stream announced by on_request (and for
     * every stream we promised with h2_conn_submit_push_promise), when it
     * leaves the engine: error_code is H2_NO_ERROR after a complete exchange,
     * otherwise the RST_STREAM code (sent by the peer or by us) or the code of
     * a connection error. After it, the stream id is unknown to the API. */
    void (*on_stream_close)(void *ud, uint32_t stream_id, uint32_t error_code);
    /* The peer sent GOAWAY. Streams above last_stream_id that we initiated
     * are closed (on_stream_close with REFUSED_STREAM). debug is valid during
     * the call only. */
    void (*on_goaway)(void *ud, uint32_t last_stream_id, uint32_t error_code, const uint8_t *debug,
                      size_t debug_len);
    /* Pull a response body: write at most max bytes into dst (which is the
     * output frame buffer: exactly one copy). Return the count written; set
     * *eof when the body ends with these bytes. Returning 0 without *eof
     * means "nothing now": the stream is parked until h2_conn_resume_data().
     * A negative return resets the stream with INTERNAL_ERROR. Called only
     * when both flow-control windows have room. */
    ptrdiff_t (*read_data)(void *ud, uint32_t stream_id, uint8_t *dst, size_t max, bool *eof);
    /* For logs: the engine raised a protocol error — a stream error (it sent
     * RST_STREAM on stream_id, also for streams never announced, e.g. a
     * malformed request) or, with stream_id 0, a connection error (GOAWAY).
     * reason is a static string naming the broken rule. Not called for
     * resets the application asked for. */
    void (*on_protocol_error)(void *ud, uint32_t stream_id, uint32_t error_code,
                              const char *reason);
};

struct h2_conn;

/* Creates a connection. cfg NULL means defaults; cfg and cb are copied. ud
 * is passed to every callback. Our SETTINGS (and the connection
 * WINDOW_UPDATE) are queued at once (§3.4: the server preface). Returns NULL
 * when out of memory, for an invalid cfg, or for H2_ROLE_CLIENT (not yet). */
struct h2_conn *h2_conn_new(enum h2_role role, const struct h2_config *cfg,
                            const struct h2_callbacks *cb, void *ud);

/* Frees everything, without calling callbacks. NULL is a no-op. */
void h2_conn_del(struct h2_conn *c);

/* Feeds bytes received from the peer; `now` drives the budgets and timers.
 * Everything is consumed: returns len. Protocol errors queue GOAWAY or
 * RST_STREAM. After a connection error the input is discarded (still returns
 * len). Returns HB_ENOMEM when an allocation failed (fatal: close and delete
 * the connection). in is not kept after the call. */
ptrdiff_t h2_conn_recv(struct h2_conn *c, const uint8_t *in, size_t len, hb_ns_t now);

/* True when h2_conn_send() would return bytes: queued frames, or a stream
 * with body data and window (read_data will be called from h2_conn_send). */
bool h2_conn_want_write(const struct h2_conn *c);

/* Zero-copy output: produces pending frames (control frames first, then
 * HEADERS in submission order and DATA by the scheduler, pulling bodies
 * through read_data) coalesced in one contiguous buffer, and sets *data to
 * it. Returns the byte count (0: nothing to write). The bytes stay valid
 * until the next call of any h2_conn_* function other than h2_conn_sent();
 * report how many were written with h2_conn_sent(). Returns HB_ENOMEM as a
 * negative value when fatal (cast: ptrdiff_t). */
ptrdiff_t h2_conn_send(struct h2_conn *c, const uint8_t **data);

/* n bytes (<= the last h2_conn_send() count) were written.
 *
 * Memory while idle: once the output has fully drained and no stream is
 * open (here, or at the end of an h2_conn_recv() that left nothing to
 * write), the connection gives back its output, frame-payload and
 * header-block/decode buffers; they are made again on demand. While a
 * stream is open they are kept (no malloc/free per request on a busy
 * connection). A connection that never had a request holds only its struct
 * (~1 KiB) and the two HPACK context structs (~300 bytes): the stream
 * table, the closed-stream ring and the HPACK dynamic tables are made at
 * first use, grow with use, and are then kept (they are state). */
void h2_conn_sent(struct h2_conn *c, size_t n);

/* True when the connection should be closed and everything queued has been
 * taken by h2_conn_send()/h2_conn_sent(): after a connection error (our
 * GOAWAY is out), a bad preface, a graceful shutdown whose streams are all
 * done, or a peer GOAWAY once no stream remains. The caller closes the
 * socket; read nothing more. */
bool h2_conn_want_close(const struct h2_conn *c);

/* The earliest deadline (hb_time_now_ns() clock) at which
 * h2_conn_on_timeout() must be called; 0 when none. */
hb_ns_t h2_conn_next_timeout(const struct h2_conn *c);

/* Handles expired timers: SETTINGS ACK timeout (GOAWAY SETTINGS_TIMEOUT),
 * the second GOAWAY of a graceful shutdown. Returns 0 or HB_ENOMEM. */
int h2_conn_on_timeout(struct h2_conn *c, hb_ns_t now);

/* ---- application → engine --------------------------------------------------
 * All return 0 or a negative HB_E* code: HB_ENOTFOUND (no such open stream),
 * HB_EINVAL (not allowed in the stream's state / bad message), HB_ENOMEM,
 * HB_ECLOSED (connection is closing). Messages are read during the call only
 * (encoded at once). */

/* Sends a response head on a peer-initiated stream. resp->status 100..199
 * (except 101) is an informational head (end_stream must be false; may be
 * repeated); 200..599 is the final head. end_stream: no body follows;
 * otherwise the body is pulled through read_data after
 * h2_conn_resume_data(). Fields must have lowercase names; connection-
 * specific fields are dropped. */
int h2_conn_submit_response(struct h2_conn *c, uint32_t stream_id, const struct hb_msg *resp,
                            bool end_stream);

/* Announces response trailers: copied now, sent as a HEADERS frame with
 * END_STREAM right after the DATA that read_data marked *eof (that DATA then
 * has no END_STREAM). Must be called before read_data reports eof (it may be
 * called from inside read_data). Pseudo-headers are not allowed. */
int h2_conn_submit_trailers(struct h2_conn *c, uint32_t stream_id, const struct hb_msg *trailers);

/* The application has body bytes (or the end of the body) for stream_id:
 * read_data will be called from h2_conn_send() as windows allow. */
int h2_conn_resume_data(struct h2_conn *c, uint32_t stream_id);

/* The application consumed n bytes of request body of stream_id (bytes it
 * got through on_data). WINDOW_UPDATEs are queued once enough credit
 * accumulates (half a window). HB_EINVAL when n is more than was delivered
 * and not yet reported. When a stream closes, the bytes it delivered
 * but the app never reported are credited to the connection automatically;
 * consumed() on a closed stream then returns HB_ENOTFOUND and does nothing. */
int h2_conn_consumed(struct h2_conn *c, uint32_t stream_id, size_t n);

/* Resets a stream with the given code (RST_STREAM; on_stream_close follows
 * with that code). */
int h2_conn_reset_stream(struct h2_conn *c, uint32_t stream_id, uint32_t error_code);

/* Starts closing the connection. graceful (only with H2_NO_ERROR): the
 * two-step shutdown of §6.8 — GOAWAY with last id 2^31-1 and a PING, then,
 * after the PING ACK or graceful_goaway_delay (counted from the next `now`
 * the engine is given, by recv or on_timeout), GOAWAY with the real last
 * stream id; streams up to it are served to completion. Otherwise one
 * GOAWAY with the last processed stream id and `error_code`; open streams
 * are closed. */
int h2_conn_goaway(struct h2_conn *c, uint32_t error_code, bool graceful);

/* Attaches user_data (the application's, never touched) to open stream
 * stream_id, as nghttp2_session_set_stream_user_data does: from then on
 * h2_conn_stream_user_data() returns it, including during the stream's
 * on_stream_close (also a deferred one, delivered after the stream left
 * the API: see the threading contract above). Call it from on_request (or
 * after h2_conn_upgrade for stream 1) before anything can close the stream.
 * Returns 0, or HB_ENOTFOUND when stream_id is not open. */
int h2_conn_stream_set_user_data(struct h2_conn *c, uint32_t stream_id, void *user_data);

/* The user data of stream_id: what h2_conn_stream_set_user_data attached,
 * NULL when none was or the stream is closed (except inside its own
 * on_stream_close, where it is still the stream's). One hash lookup. */
void *h2_conn_stream_user_data(const struct h2_conn *c, uint32_t stream_id);

/* Bytes of the frames of one stream on the connection, 9-byte frame
 * headers and padding included: HEADERS, CONTINUATION, DATA, RST_STREAM
 * and WINDOW_UPDATE each way (what an access log calls bytes on the wire
 * for a request; PRIORITY frames, frames after the stream closed and TLS
 * records are not counted). */
struct h2_wire {
    uint64_t in, out;
};

/* The wire bytes of stream_id so far: open, or inside its own
 * on_stream_close (as h2_conn_stream_user_data). Zeros otherwise. */
struct h2_wire h2_conn_stream_wire(const struct h2_conn *c, uint32_t stream_id);

/* Promises a pushed response on peer stream assoc_stream_id (§8.4): req is
 * the promised request (method GET/HEAD, scheme, authority, path). Returns
 * the promised stream id (> 0), or HB_EUNSUPPORTED when push is disabled by
 * our cfg or the peer's SETTINGS_ENABLE_PUSH=0, or another HB_E* code. The
 * application then submits the pushed response on the returned id. */
int64_t h2_conn_submit_push_promise(struct h2_conn *c, uint32_t assoc_stream_id,
                                    const struct hb_msg *req);

/* True when h2_conn_submit_push_promise could succeed as far as the
 * connection goes: our cfg enables push, the peer's SETTINGS_ENABLE_PUSH is
 * 1 (the default until its SETTINGS say otherwise), no GOAWAY came and
 * promised ids are left. A cheap test before the application builds a
 * promise (the stream's state and the peer's concurrency limit are still
 * checked by the submit). */
bool h2_conn_push_allowed(const struct h2_conn *c);

/* ---- introspection (logs, metrics, tests) ---- */

/* When the header block being received began (the recv `now` at which
 * its HEADERS frame header was complete), 0 when none is in progress: for
 * a timeout on a header block that trickles in (slowloris), which the
 * engine does not keep itself. */
hb_ns_t h2_conn_header_block_since(const struct h2_conn *c);

/* True once the peer opened a stream (a complete request header block
 * arrived), even if it was refused. */
bool h2_conn_had_request(const struct h2_conn *c);

/* Number of streams currently open (counted against MAX_CONCURRENT_STREAMS). */
uint32_t h2_conn_open_streams(const struct h2_conn *c);

/* The code of the GOAWAY we sent (or are sending), -1 when none. */
int64_t h2_conn_goaway_sent_code(const struct h2_conn *c);

/* Which flood protection raised our GOAWAY ENHANCE_YOUR_CALM (the first
 * connection error only), H2_FLOOD_NONE when none did. */
enum h2_flood h2_conn_flood(const struct h2_conn *c);

/* A short static reason for the last connection error we raised ("" when
 * none), e.g. "DATA on stream 0". */
const char *h2_conn_error_reason(const struct h2_conn *c);

/* Peer's current SETTINGS value by identifier (§6.5.2), for tests. */
uint32_t h2_conn_peer_setting(const struct h2_conn *c, uint16_t id);

#endif
