/* proxy/front/conn.h — one client connection, whatever protocol it speaks:
 * accept, the TLS handshake and ALPN (or, on cleartext, sniffing the first
 * bytes), the libevent handlers and the timer, and the byte transport. The
 * protocol itself runs behind a table of operations (struct px_front_ops)
 * that HTTP/2 (proxy/front/h2.c) and HTTP/1.1 (proxy/front/h1.c) each
 * provide; exchanges reach it through proxy/front/front.h.
 *
 * States (fc->state), and the only transitions:
 *
 *   PROXY_HDR ──header read (a client in listeners[].proxy_protocol)
 *             → HANDSHAKING (TLS) or SNIFFING (cleartext)
 *   HANDSHAKING ──ALPN h2──────────────→ H2
 *        │      └─ALPN http/1.1, none ─→ H1
 *   SNIFFING ───preface────────────────→ H2
 *        │   └─anything else ──────────→ H1
 *   H1 ─────────Upgrade: h2c, 101 sent → H2C_WAIT (no byte after the head)
 *        │                             → H2       (the preface came along)
 *   H2C_WAIT ───the client's first bytes → H2
 *   any ────────px_fconn_close ────────→ CLOSING (then freed)
 *
 * PROXY_HDR, HANDSHAKING, SNIFFING and H2C_WAIT run under
 * limits.handshake_timeout_ms (one deadline from accept for the first two);
 * in H1 and H2 the protocol arms the timer itself.
 */
#ifndef H2B_PROXY_FRONT_CONN_H
#define H2B_PROXY_FRONT_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "core/list.h"
#include "core/msg.h"
#include "core/time.h"
#include "proxy/front/rate.h"
#include "proxy/tls/tls_io.h"

struct px_worker;
struct px_listener;
struct h2_conn;
struct px_h1;
struct px_exchange;
struct px_proxy_hdr;
struct px_push_conn;

/* A verified client certificate, as the backend is told of it. */
struct px_client_cert {
    char subject[512]; /* RFC 2253 */
    char san[1024];    /* "DNS:a, URI:b" */
    char hash[65];     /* SHA-256 of the DER, hex */
};
struct event;

enum px_fconn_state {
    PX_FCONN_PROXY_HDR,   /* reading a PROXY protocol header (proxy/front/proxy_hdr.c) */
    PX_FCONN_HANDSHAKING, /* TLS handshake in progress */
    PX_FCONN_SNIFFING,    /* cleartext, protocol not known yet (proxy/front/sniff.c) */
    PX_FCONN_H2C_WAIT,    /* upgraded: output held until the client's preface came */
    PX_FCONN_H1,          /* HTTP/1.1 (fc->h1) */
    PX_FCONN_H2,          /* HTTP/2 (fc->h2) */
    PX_FCONN_CLOSING,     /* px_fconn_close is tearing it down */
};

/* "HANDSHAKING", "SNIFFING", … for logs. Static storage. */
const char *px_fconn_state_name(enum px_fconn_state s);

/* What woke the connection up (px_front_ops.run). */
enum px_fconn_event {
    PX_FCONN_EV_READ,  /* the socket (or TLS) may have bytes */
    PX_FCONN_EV_WRITE, /* a write that waited for the socket may go on */
    PX_FCONN_EV_KICK,  /* output was produced (px_fconn_kick) */
    PX_FCONN_EV_TIMER, /* the connection's timer fired */
};

struct px_fconn;

/* One protocol's side of a client connection. The first five are what an
 * exchange asks for (see proxy/front/front.h, whose functions call them): each
 * returns 0 or an HB_E* code, and each one that produces bytes for the
 * client schedules the write itself (px_fconn_kick): no caller kicks. */
struct px_front_ops {
    const char *name; /* "h2", "http/1.1" */
    /* The protocol chooses among several responses and pulls one again for
     * as long as its last pull gave bytes (h2: a stream with data stays
     * scheduled). Only then does px_exchange_read_data read its backend
     * within a pull, so that a dry buffer does not hand the stream's turn
     * to another; HTTP/1.1 serves one response at a time and has no turn
     * to lose. */
    bool pulls_while_ready;
    int (*submit_response)(struct px_fconn *fc, uint32_t sid, const struct hb_msg *resp,
                           bool end);
    int (*submit_trailers)(struct px_fconn *fc, uint32_t sid, const struct hb_msg *trailers);
    int (*resume)(struct px_fconn *fc, uint32_t sid);
    int (*consumed)(struct px_fconn *fc, uint32_t sid, size_t n);
    int (*reset)(struct px_fconn *fc, uint32_t sid, uint32_t code);
    /* Attaches ex to request sid, so the protocol finds it for its events
     * (called by px_exchange_start before anything can end the request). */
    void (*bind)(struct px_fconn *fc, uint32_t sid, struct px_exchange *ex);
    /* The bytes of request sid on the connection so far, each way, with
     * their framing (h2: its frames, core/h2_conn.h h2_conn_stream_wire;
     * HTTP/1.1: the request head and body, the response head and body),
     * TLS not counted. Zeros for an unknown sid. */
    void (*wire)(const struct px_fconn *fc, uint32_t sid, uint64_t *in, uint64_t *out);
    /* Server push (proxy/exchange/push.h); NULL where the protocol has none
     * (HTTP/1.1). push_allowed: whether a promise could be made on fc now
     * (core/h2_conn.h h2_conn_push_allowed). push_promise: promises req on
     * request sid, as h2_conn_submit_push_promise (the promised id, or an
     * HB_E* code). */
    bool (*push_allowed)(const struct px_fconn *fc);
    int64_t (*push_promise)(struct px_fconn *fc, uint32_t sid, const struct hb_msg *req);
    /* Graceful shutdown: GOAWAY / Connection: close, then the connection
     * closes once its responses are out. */
    void (*drain)(struct px_fconn *fc);
    /* Drives the connection after ev. Returns 0, or -1 when fc must close
     * (the caller closes it). May switch the protocol (Upgrade: h2c): the
     * caller then runs the new protocol once with PX_FCONN_EV_KICK. */
    int (*run)(struct px_fconn *fc, enum px_fconn_event ev);
    /* Frees the protocol's state (from px_fconn_close; the exchanges are
     * gone already). */
    void (*free)(struct px_fconn *fc);
};

struct px_fconn {
    struct hb_list link; /* worker->conns */
    struct px_worker *w;
    struct px_listener *l;
    int fd;
    struct px_tls_io io;
    enum px_fconn_state state;
    const struct px_front_ops *ops; /* set in H1, H2C_WAIT, H2; else NULL */
    struct event *ev_read, *ev_write, *ev_timer, *ev_flush;
    struct h2_conn *h2; /* HTTP/2 state (front/h2.c): H2C_WAIT, H2 */
    struct px_h1 *h1;   /* HTTP/1.1 state (front/h1.c): H1 */
    hb_ns_t accepted;    /* when the connection was accepted */
    hb_ns_t idle_since;  /* h2: since when no stream is open, 0 = busy (front/h2.c) */
    struct px_rate rate; /* limits.min_send_rate while output waits (proxy/front/rate.h) */
    uint64_t sent;       /* bytes written to the client, for the rate */
    struct hb_list exchanges; /* open exchanges (exchange.c); found by stream id
                                 through the protocol (h2: the engine's stream
                                 user data, HTTP/1.1: the current one) */
    struct hb_list dead;      /* closed exchanges, freed from the event loop */
    char *covered_host; /* last :authority host the certificate covers (authority.c) */
    uint8_t covered_len;
    char peer[160]; /* for logs: "192.0.2.1:5555 on LISTENER" / "[2001:db8::1]:5555 on …"
                       (LISTENER: its name, else its address, proxy/listener.h) */
    char peer_addr[48]; /* address only, no brackets: for X-Forwarded-For */
    uint16_t peer_port;
    bool rid_trusted;   /* the client is in request_id.trust: its own id is kept */
    bool fwd_trusted;   /* x_forwarded_for_mode trust and the client in forwarded.trusted */
    uint32_t n_tunnels; /* open tunnels (tunnels.max_per_connection) */
    struct px_proxy_hdr *pp; /* PROXY_HDR: the header read so far; else NULL */
    bool pp_untrusted_check; /* a PROXY listener, not a balancer: a header is refused */
    bool drain_on_start;     /* drained before its protocol ran: drain it as it starts */
    bool client_counted;     /* counted in w->clients under client_addr (proxy/clients.h) */
    uint8_t client_addr[16]; /* the client's address, IPv4 mapped (core/cidr.h) */
    struct px_client_cert *cert; /* the verified client certificate (tls.client_auth), or NULL */
    uint64_t serial;         /* unique in the worker: the key of its per_client backend
                                connections (upstreams.*.proxy_protocol) */
    struct px_pp_out *pp_out; /* the PROXY headers sent for it (exchange/pp_out.h), or NULL */
    struct sockaddr_storage *lb_dst; /* the destination a balancer's PROXY header gave
                                        (sent on to backends), or NULL */
    bool early;         /* TLS accepted 0-RTT data and the handshake is not finished yet:
                           requests read now may be replays (px_fconn_early) */
    int8_t st_cproto;   /* 1 + the connections_open gauge it is counted in, 0: none
                           (proxy/obs/hooks.h) */
    struct px_push_conn *push; /* server push on this connection (exchange/push.h), made at
                                  the first push; NULL before */
};

/* Takes ownership of the accepted, non-blocking socket fd and starts the
 * TLS handshake (HANDSHAKING) or sniffing (SNIFFING), after the PROXY
 * protocol header (PROXY_HDR) from a balancer. On failure (out of memory)
 * closes fd. */
void px_fconn_accept(struct px_listener *l, int fd, const struct sockaddr *peer,
                     socklen_t peerlen);

/* Sets who the client is (at accept, and again when a PROXY protocol
 * header names it): fc->peer for logs, peer_addr and peer_port, and the
 * request_id.trust decision. */
void px_fconn_set_peer(struct px_fconn *fc, const struct sockaddr *peer);

/* The per-client connection limit (clients.*, proxy/clients.h) for the
 * client at sa: at accept, or after the PROXY protocol header named it.
 * Returns 0 (counted, untracked or exempt), or -1 when the address is over
 * clients.max_connections (logged, counted): close fc. */
int px_fconn_client_open(struct px_fconn *fc, const struct sockaddr *sa);

/* Moves fc to state s (one of the transitions above) and selects the
 * protocol's operations for it. */
void px_fconn_set_state(struct px_fconn *fc, enum px_fconn_state s);

/* Starts the protocol proto (PX_FCONN_H1 or PX_FCONN_H2) on fc, after the
 * handshake or sniffing. Returns 0, or -1 when out of memory (logged; the
 * caller closes fc). */
int px_fconn_start(struct px_fconn *fc, enum px_fconn_state proto);

/* True while requests read on fc may come from TLS early data (0-RTT, a
 * handshake not finished): fc->early, cleared once the handshake is done.
 * Off (tls.early_data: false) it costs one flag test. */
static inline bool px_fconn_early(struct px_fconn *fc)
{
    return fc->early && (fc->early = SSL_in_early_data(fc->io.ssl) != 0);
}

/* Closes the connection and every exchange on it (CLOSING, then freed). */
void px_fconn_close(struct px_fconn *fc);

/* Graceful shutdown of one connection: the protocol's drain; before the
 * protocol runs (TLS handshake, first bytes), the drain comes as soon as it
 * starts, so a client that connected just before the shutdown (or a binary
 * upgrade) still gets its request answered — the handshake timeout bounds
 * the wait. */
void px_fconn_drain(struct px_fconn *fc);

/* For the protocol modules' operations only: output was produced, run the
 * protocol once this pass of the event loop is done (several kicks in one
 * pass run it once). */
void px_fconn_kick(struct px_fconn *fc);

/* An exchange ended: its list link moves to fc's dead list, and it is freed
 * (px_exchange_reap) after the current event-loop pass over fc. */
void px_fconn_retire(struct px_fconn *fc, struct hb_list *link);

/* Arms fc's timer for deadline (a past deadline fires at once), or disarms
 * it when deadline is 0. The one place that turns deadlines into libevent
 * timevals. */
void px_fconn_timer(struct px_fconn *fc, hb_ns_t deadline, hb_ns_t now);

/* ---- transport (front/conn_io.c) ----
 * Under either protocol: TLS (px_tls_io) or a cleartext socket
 * (io->ssl == NULL), with the same PX_IO_* results. */

/* Transport: as px_tls_io_read/write/pending when io->ssl is set, else the
 * same contract over recv/send on io->fd (EOF on a 0-byte read, PX_IO_ERROR
 * on a socket error, PX_IO_WANT_* on EAGAIN). */
ssize_t px_fconn_read(struct px_tls_io *io, void *buf, size_t len);
ssize_t px_fconn_write(struct px_tls_io *io, const void *buf, size_t len, hb_ns_t now);
int px_fconn_pending(const struct px_tls_io *io);

/* Ends a pass of px_fconn_write calls: writes out what TLS collected (see
 * px_tls_io_flush). 0 when everything is out (always on cleartext, whose
 * writes go straight to the socket), PX_IO_WANT_WRITE or PX_IO_ERROR. */
int px_fconn_flush(struct px_tls_io *io);

/* The event loop reported the socket readable (see px_sockbuf_readable). */
void px_fconn_readable(struct px_tls_io *io);

/* True while written bytes still wait in the transport (close only after). */
bool px_fconn_unsent(const struct px_tls_io *io);

#endif
