/* proxy/h2_frontend.h — one client connection: TLS over a raw socket driven
 * by libevent, then an h2_conn (server role) fed with the decrypted bytes.
 * Each stream becomes an exchange (proxy/exchange.h).
 */
#ifndef H2B_PROXY_H2_FRONTEND_H
#define H2B_PROXY_H2_FRONTEND_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/list.h"
#include "proxy/tls_io.h"

struct px_worker;
struct px_listener;
struct px_exchange;
struct h2_conn;
struct px_h1;
struct event;

#define PX_FCONN_BUCKETS 64

struct px_fconn {
    struct hb_list link; /* worker->conns */
    struct px_worker *w;
    struct px_listener *l;
    int fd;
    struct px_tls_io io;
    bool handshaking;
    bool closed;
    struct event *ev_read, *ev_write, *ev_timer, *ev_flush;
    struct h2_conn *h2;
    struct px_h1 *h1; /* HTTP/1.1 state (proxy/h1_frontend.c), else NULL */
    bool sniffing;    /* cleartext, protocol not known yet (proxy/sniff.c) */
    bool h2c_wait;    /* upgraded: hold output until the client's preface came */
    hb_ns_t idle_since; /* h2: since when no stream is open, 0 = busy (timeouts.c) */
    hb_ns_t rate_start; /* h2: start of the send-rate window while output waits, or 0 */
    uint64_t rate_mark, sent; /* h2: bytes written at rate_start; in total */
    struct hb_list *streams; /* PX_FCONN_BUCKETS lists of exchanges by stream id,
                                allocated with the first exchange (exchange.c) */
    struct hb_list dead; /* closed exchanges, freed from the event loop */
    char *covered_host; /* last :authority host the certificate covers (authority.c) */
    uint8_t covered_len;
    char peer[160]; /* for logs: "192.0.2.1:5555 on LISTENER" / "[2001:db8::1]:5555 on …"
                       (LISTENER: its name, else its address, proxy/listener.h) */
    char peer_addr[48]; /* address only, no brackets: for X-Forwarded-For */
};

/* Takes ownership of the accepted, non-blocking socket fd and starts the
 * TLS handshake. On failure (out of memory) closes fd. */
void px_fconn_accept(struct px_listener *l, int fd, const struct sockaddr *peer,
                     socklen_t peerlen);

/* Makes fc an HTTP/2 server connection (after TLS with ALPN h2, or a
 * cleartext client that sent the preface). Returns 0 or -1 (out of
 * memory). */
int px_fconn_start_h2(struct px_fconn *fc);

/* Closes the connection and every exchange on it (worker shutdown). */
void px_fconn_close(struct px_fconn *fc);

/* Asks for output to be produced and written soon (from the event loop,
 * after the current callback): exchanges call it after submitting. */
void px_fconn_kick(struct px_fconn *fc);

#endif
