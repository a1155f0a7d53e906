/* proxy/front/conn.c — client connections: accept, TLS handshake or sniffing,
 * events and timer; the protocol runs behind fc->ops (see front/conn.h). */
#include "proxy/exchange/pp_out.h"
#include "proxy/front/conn.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <event2/event.h>

#include "core/log.h"
#include "proxy/front/authority.h"
#include "proxy/exchange/exchange.h"
#include "proxy/exchange/push.h"
#include "proxy/front/front.h"
#include "proxy/front/h1.h"
#include "proxy/front/h2.h"
#include "proxy/listener.h"
#include "proxy/obs/hooks.h"
#include "proxy/clients.h"
#include "proxy/front/proxy_hdr.h"
#include "proxy/front/sniff.h"
#include "proxy/worker.h"

static void on_read(evutil_socket_t fd, short what, void *arg);
static void on_write(evutil_socket_t fd, short what, void *arg);
static void on_timer(evutil_socket_t fd, short what, void *arg);
static void on_flush(evutil_socket_t fd, short what, void *arg);

const char *px_fconn_state_name(enum px_fconn_state s)
{
    switch (s) {
    case PX_FCONN_PROXY_HDR:
        return "PROXY_HDR";
    case PX_FCONN_HANDSHAKING:
        return "HANDSHAKING";
    case PX_FCONN_SNIFFING:
        return "SNIFFING";
    case PX_FCONN_H2C_WAIT:
        return "H2C_WAIT";
    case PX_FCONN_H1:
        return "H1";
    case PX_FCONN_H2:
        return "H2";
    case PX_FCONN_CLOSING:
        return "CLOSING";
    }
    return "?";
}

void px_fconn_set_state(struct px_fconn *fc, enum px_fconn_state s)
{
    px_stats_conn_state(fc, s);
    fc->state = s;
    switch (s) {
    case PX_FCONN_H1:
        fc->ops = &px_h1_front_ops;
        break;
    case PX_FCONN_H2C_WAIT:
    case PX_FCONN_H2:
        fc->ops = &px_h2_front_ops;
        break;
    default:
        fc->ops = NULL;
        break;
    }
}

void px_fconn_timer(struct px_fconn *fc, hb_ns_t deadline, hb_ns_t now)
{
    if (deadline == 0) {
        evtimer_del(fc->ev_timer);
        return;
    }
    hb_ns_t ns = deadline > now ? deadline - now : 0;
    struct timeval tv = {.tv_sec = ns / HB_NS_PER_SEC, .tv_usec = (ns % HB_NS_PER_SEC) / 1000};
    evtimer_add(fc->ev_timer, &tv);
}

void px_fconn_set_peer(struct px_fconn *fc, const struct sockaddr *sa)
{
    const struct cfg *cfg = fc->w->cfg;
    const struct cfg_networks *trust = &cfg->request_id.trust, *px = &cfg->forwarded.trusted;
    fc->fwd_trusted = cfg->forwarded.x_forwarded_for_mode == CFG_XFF_TRUST &&
                      hb_cidr_match_any(px->v, px->n, sa);
    /* A trusted proxy's request ids are kept too (the same trust). */
    fc->rid_trusted = fc->fwd_trusted || hb_cidr_match_any(trust->v, trust->n, sa);
    char a[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const void *)sa;
        inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof a);
        port = ntohs(s6->sin6_port);
        snprintf(fc->peer, sizeof fc->peer, "[%s]:%u on %s", a, port, fc->l->label);
    } else {
        const struct sockaddr_in *s4 = (const void *)sa;
        inet_ntop(AF_INET, &s4->sin_addr, a, sizeof a);
        port = ntohs(s4->sin_port);
        snprintf(fc->peer, sizeof fc->peer, "%s:%u on %s", a, port, fc->l->label);
    }
    snprintf(fc->peer_addr, sizeof fc->peer_addr, "%s", a);
    fc->peer_port = (uint16_t)port;
}

void px_fconn_accept(struct px_listener *l, int fd, const struct sockaddr *peer,
                     socklen_t peerlen)
{
    struct px_worker *w = l->w;
    struct px_fconn *fc = calloc(1, sizeof *fc);
    SSL *ssl = fc && l->tls ? px_tls_new_ssl(l->tls) : NULL;
    if (!fc || (l->tls && !ssl)) {
        hb_warn("listener %s: accept: out of memory, connection closed", l->label);
        free(fc);
        close(fd);
        return;
    }
    fc->w = w;
    fc->l = l;
    fc->fd = fd;
    fc->accepted = hb_time_now_ns();
    fc->serial = ++w->conn_serial;
    fc->io.ssl = ssl; /* for the protocol's gauge; px_tls_io_init sets it again */
    const struct cfg_networks *pp = &l->cfg->proxy_protocol;
    bool balancer = hb_cidr_match_any(pp->v, pp->n, peer);
    px_fconn_set_state(fc, balancer ? PX_FCONN_PROXY_HDR
                           : ssl    ? PX_FCONN_HANDSHAKING
                                    : PX_FCONN_SNIFFING);
    fc->io.fd = fd;
    px_fconn_set_peer(fc, peer);
    fc->pp_untrusted_check = pp->n > 0 && !balancer;
    bool over = !balancer && px_fconn_client_open(fc, peer) != 0;
    hb_list_init(&fc->exchanges);
    hb_list_init(&fc->dead);
    fc->ev_read = event_new(w->base, fd, EV_READ | EV_PERSIST, on_read, fc);
    fc->ev_write = event_new(w->base, fd, EV_WRITE, on_write, fc);
    fc->ev_timer = evtimer_new(w->base, on_timer, fc);
    fc->ev_flush = event_new(w->base, -1, 0, on_flush, fc);
    hb_list_push_back(&w->conns, &fc->link);
    w->nconns++;
    l->nconns++; /* listeners[].max_connections: proxy/listener.h */
    const struct cfg_tls *tc = &l->cfg->tls_cfg;
    if ((ssl && px_tls_io_init(&fc->io, ssl, fd, tc->small_records,
                               (hb_ns_t)tc->small_records_idle_ms * HB_NS_PER_MS) != 0) ||
        !fc->ev_read || !fc->ev_write || !fc->ev_timer || !fc->ev_flush || over) {
        if (ssl && !fc->io.ssl)
            SSL_free(ssl);
        if (!over)
            hb_warn("client %s: out of memory, connection closed", fc->peer);
        px_fconn_close(fc);
        return;
    }
    event_add(fc->ev_read, NULL);
    hb_ns_t now = hb_time_now_ns();
    px_fconn_timer(fc, now + hb_time_ms(w->cfg->limits.handshake_timeout_ms), now);
}

int px_fconn_client_open(struct px_fconn *fc, const struct sockaddr *sa)
{
    struct px_clients *t = fc->w->clients;
    const struct cfg_clients *cc = &fc->w->cfg->clients;
    if (!t || !hb_cidr_addr_of(sa, fc->client_addr) ||
        hb_cidr_match_any(cc->exempt.v, cc->exempt.n, sa))
        return 0;
    enum px_client_verdict v =
        px_clients_open(t, fc->client_addr, cc->max_connections, hb_time_now_ns());
    if (v == PX_CLIENT_OVER) {
        hb_info("client %s: over clients.max_connections (%u open from this address), closed",
                fc->peer, cc->max_connections);
        px_stats_client_limited(fc, false);
        return -1;
    }
    fc->client_counted = v == PX_CLIENT_OK;
    return 0;
}

void px_fconn_close(struct px_fconn *fc)
{
    const struct px_front_ops *ops = fc->ops;
    px_stats_conn_state(fc, PX_FCONN_CLOSING);
    fc->state = PX_FCONN_CLOSING;
    if (ops) {
        px_exchange_abort_all(fc);
        ops->free(fc);
    }
    fc->ops = NULL;
    if (fc->io.ssl) {
        px_tls_io_shutdown(&fc->io);
        px_tls_io_free(&fc->io);
    }
    if (fc->ev_read)
        event_free(fc->ev_read);
    if (fc->ev_write)
        event_free(fc->ev_write);
    if (fc->ev_timer)
        event_free(fc->ev_timer);
    if (fc->ev_flush)
        event_free(fc->ev_flush);
    px_authority_forget(fc);
    px_push_conn_free(fc);
    px_proxy_hdr_free(fc);
    if (fc->pp_out)
        px_pp_out_forget(fc); /* its backend connections serve nobody else */
    free(fc->lb_dst);
    free(fc->cert);
    if (fc->client_counted)
        px_clients_close(fc->w->clients, fc->client_addr);
    close(fc->fd);
    hb_list_remove(&fc->link);
    fc->w->nconns--;
    px_listener_closed(fc->l);
    free(fc);
}

void px_fconn_drain(struct px_fconn *fc)
{
    if (fc->ops)
        fc->ops->drain(fc);
    else
        fc->drain_on_start = true; /* px_fconn_start drains it */
}

void px_fconn_kick(struct px_fconn *fc)
{
    event_active(fc->ev_flush, EV_TIMEOUT, 0);
}

void px_fconn_retire(struct px_fconn *fc, struct hb_list *link)
{
    hb_list_remove(link);
    hb_list_push_back(&fc->dead, link);
    event_active(fc->ev_flush, EV_TIMEOUT, 0);
}

/* ---- before a protocol runs ---------------------------------------------------- */

int px_fconn_start(struct px_fconn *fc, enum px_fconn_state proto)
{
    int rc = 0;
    if (proto == PX_FCONN_H2) {
        rc = px_h2_start(fc);
    } else if (px_h1_start(fc) != 0) {
        hb_warn("client %s: out of memory, connection closed", fc->peer);
        rc = -1;
    }
    if (rc == 0 && fc->drain_on_start && fc->ops)
        fc->ops->drain(fc);
    return rc;
}

/* The handshake is done: ALPN picks the protocol. Returns 0 or -1 (close). */
static int after_handshake(struct px_fconn *fc)
{
    /* tls.client_auth: what the backend is told of the client's
     * certificate, read once per connection (a resumed session keeps the
     * certificate it was verified with). */
    if (fc->l->cfg->tls_cfg.client_auth != CFG_CLIENT_AUTH_NONE) {
        struct px_client_cert *c = malloc(sizeof *c);
        if (c && px_tls_client_cert(fc->io.ssl, c->subject, sizeof c->subject, c->san,
                                    sizeof c->san, c->hash) == 0) {
            fc->cert = c;
            hb_debug("client %s: client certificate %s (sha256 %s)", fc->peer, c->subject,
                     c->hash);
        } else {
            free(c);
        }
    }
    /* 0-RTT accepted: the handshake finishes in a later read (the
     * client's Finished); until then requests are early (px_fconn_early). */
    fc->early = fc->l->cfg->tls_cfg.early_data && SSL_in_early_data(fc->io.ssl);
    if (fc->early)
        hb_debug("client %s: TLS early data accepted", fc->peer);
    if (px_tls_alpn_version(fc->io.ssl) == 2) {
        px_stats_tls_done(fc);
        return px_fconn_start(fc, PX_FCONN_H2);
    }
    /* ALPN http/1.1, or none (RFC 7301 §3.2: then HTTP/1.1). */
    evtimer_del(fc->ev_timer);
    if (!(fc->l->cfg->protocols & CFG_PROTO_HTTP11)) {
        hb_info("client %s: no ALPN h2 on a listener without http/1.1, closed", fc->peer);
        px_stats_tls_failed(fc, PX_ST_TLS_ALPN);
        return -1;
    }
    px_stats_tls_done(fc);
    return px_fconn_start(fc, PX_FCONN_H1);
}

/* Returns 0 to go on, -1 to close. */
static int do_handshake(struct px_fconn *fc)
{
    int r = px_tls_io_handshake(&fc->io);
    if (r == PX_IO_WANT_WRITE) {
        event_add(fc->ev_write, NULL);
        return 0;
    }
    if (r == PX_IO_WANT_READ)
        return 0;
    if (r != 1) {
        const char *verr = px_tls_verify_error(fc->io.ssl);
        if (verr)
            hb_info("client %s: TLS client certificate refused: %s", fc->peer, verr);
        else if (fc->l->cfg->tls_cfg.client_auth == CFG_CLIENT_AUTH_REQUIRED &&
                 !SSL_get0_peer_certificates(fc->io.ssl) && r != PX_IO_EOF)
            hb_info("client %s: TLS handshake without the required client certificate",
                    fc->peer);
        else
            hb_debug("client %s: TLS handshake failed", fc->peer);
        px_stats_tls_failed(fc, r == PX_IO_EOF ? PX_ST_TLS_CLOSED : PX_ST_TLS_PROTOCOL);
        return -1;
    }
    return after_handshake(fc);
}

/* ---- events ---------------------------------------------------------------------- */

/* Runs the protocol for ev; once more when it switched (h2c upgrade). */
static int run(struct px_fconn *fc, enum px_fconn_event ev)
{
    const struct px_front_ops *ops = fc->ops;
    int rc = ops->run(fc, ev);
    if (rc == 0 && fc->ops != ops)
        rc = fc->ops->run(fc, PX_FCONN_EV_KICK);
    return rc;
}

static void step(struct px_fconn *fc, enum px_fconn_event ev)
{
    int rc = 0;
    if (fc->state == PX_FCONN_PROXY_HDR) {
        rc = px_proxy_hdr_read(fc);
        if (rc == 0)
            return;
        if (rc < 0) {
            px_fconn_close(fc);
            return;
        }
        rc = 0; /* on to TLS or sniffing: the client's bytes may be here already */
    } else if (fc->pp_untrusted_check && ev == PX_FCONN_EV_READ &&
               px_proxy_hdr_refuse_untrusted(fc)) {
        px_fconn_close(fc);
        return;
    }
    if (fc->state == PX_FCONN_SNIFFING) {
        rc = px_sniff(fc);
        if (rc == 0)
            return;
        rc = rc < 0 ? -1 : 0;
        if (rc == 0)
            evtimer_del(fc->ev_timer);
        ev = PX_FCONN_EV_READ;
    } else if (fc->state == PX_FCONN_HANDSHAKING) {
        rc = do_handshake(fc);
        ev = PX_FCONN_EV_READ; /* the client's first bytes may be here */
    }
    if (rc == 0 && fc->ops)
        rc = run(fc, ev);
    if (rc != 0)
        px_fconn_close(fc);
    else
        px_exchange_reap(fc);
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
    struct px_fconn *fc = arg;
    px_fconn_readable(&fc->io); /* ev_read stays armed while we wait for input */
    step(fc, PX_FCONN_EV_READ);
}

static void on_write(evutil_socket_t fd, short what, void *arg)
{
    /* A TLS write that wanted the socket may also unblock reading. */
    step(arg, PX_FCONN_EV_WRITE);
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
    struct px_fconn *fc = arg;
    if (fc->ops && run(fc, PX_FCONN_EV_KICK) != 0)
        px_fconn_close(fc);
    else
        px_exchange_reap(fc);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct px_fconn *fc = arg;
    const char *what_timed_out = fc->state == PX_FCONN_PROXY_HDR     ? "PROXY protocol header"
                                 : fc->state == PX_FCONN_HANDSHAKING ? "TLS handshake"
                                 : fc->state == PX_FCONN_SNIFFING  ? "first request bytes"
                                 : fc->state == PX_FCONN_H2C_WAIT
                                     ? "client preface after 101 Switching Protocols"
                                     : NULL;
    if (what_timed_out) {
        hb_info("client %s: %s timed out", fc->peer, what_timed_out);
        if (fc->state == PX_FCONN_HANDSHAKING)
            px_stats_tls_failed(fc, PX_ST_TLS_TIMEOUT);
        px_fconn_close(fc);
        return;
    }
    if (run(fc, PX_FCONN_EV_TIMER) != 0)
        px_fconn_close(fc);
    else
        px_exchange_reap(fc);
}
