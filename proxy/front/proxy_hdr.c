/* proxy/front/proxy_hdr.c — the PROXY protocol header of a client
 * connection (see proxy_hdr.h). */
#include "proxy/front/proxy_hdr.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/log.h"
#include "core/proxy_proto.h"
#include "proxy/front/conn.h"

struct px_proxy_hdr {
    uint8_t buf[HB_PP_V2_MAX];
    size_t len; /* header bytes read (consumed) so far */
};

void px_proxy_hdr_free(struct px_fconn *fc)
{
    free(fc->pp);
    fc->pp = NULL;
}

static int done(struct px_fconn *fc, const struct hb_pp *pp)
{
    if (pp->cmd == HB_PP_PROXY) {
        char was[sizeof fc->peer];
        memcpy(was, fc->peer, sizeof was);
        px_fconn_set_peer(fc, (const struct sockaddr *)&pp->src);
        /* Kept for the PROXY header to backends (upstreams.*.proxy_protocol):
         * the address the client connected to is the balancer's. */
        if (!fc->lb_dst && (fc->lb_dst = malloc(sizeof *fc->lb_dst)) != NULL)
            memcpy(fc->lb_dst, &pp->dst, sizeof *fc->lb_dst);
        hb_debug("client %s: PROXY protocol v%d from balancer %s", fc->peer, pp->version, was);
        if (px_fconn_client_open(fc, (const struct sockaddr *)&pp->src) != 0)
            return -1; /* logged: over clients.max_connections */
    } else {
        hb_debug("client %s: PROXY protocol v%d %s: the balancer's own connection", fc->peer,
                 pp->version, hb_pp_cmd_name(pp->cmd));
    }
    px_proxy_hdr_free(fc);
    px_fconn_set_state(fc, fc->io.ssl ? PX_FCONN_HANDSHAKING : PX_FCONN_SNIFFING);
    return 1;
}

int px_proxy_hdr_read(struct px_fconn *fc)
{
    if (!fc->pp && !(fc->pp = calloc(1, sizeof *fc->pp))) {
        hb_warn("client %s: out of memory for the PROXY protocol header, closed", fc->peer);
        return -1;
    }
    struct px_proxy_hdr *h = fc->pp;
    /* Peek, then take exactly the header's bytes: what follows belongs to
     * TLS or the sniffer. While the header is incomplete, every byte seen
     * is part of it (a v1 line before its CRLF, a v2 header shorter than
     * its stated length), so all are taken: nothing stays readable. */
    ssize_t n = recv(fc->fd, h->buf + h->len, sizeof h->buf - h->len, MSG_PEEK);
    if (n < 0)
        return errno == EAGAIN || errno == EINTR ? 0 : -1;
    if (n == 0) { /* a balancer's TCP health check opens and closes: not news */
        if (h->len)
            hb_info("client %s: closed before its PROXY protocol header was complete", fc->peer);
        else
            hb_debug("client %s: closed before sending a PROXY protocol header", fc->peer);
        return -1;
    }
    struct hb_pp pp;
    const char *why = NULL;
    ptrdiff_t r = hb_pp_parse(h->buf, h->len + (size_t)n, &pp, &why);
    if (r < 0) {
        hb_info("client %s: bad PROXY protocol header from a balancer: %s; closed", fc->peer,
                why);
        return -1;
    }
    size_t take = r > 0 ? (size_t)r - h->len : (size_t)n;
    ssize_t got = recv(fc->fd, h->buf + h->len, take, 0);
    if (got != (ssize_t)take) /* peeked bytes are there: only an error stops this */
        return -1;
    h->len += take;
    if (r == 0)
        return 0;
    return done(fc, &pp);
}

bool px_proxy_hdr_refuse_untrusted(struct px_fconn *fc)
{
    fc->pp_untrusted_check = false;
    uint8_t b[12];
    ssize_t n = recv(fc->fd, b, sizeof b, MSG_PEEK);
    if (n <= 0)
        return false;
    bool v1 = n >= 6 && memcmp(b, "PROXY ", 6) == 0;
    bool v2 = n == 12 && memcmp(b, HB_PP_V2_SIG, 12) == 0;
    if (!v1 && !v2)
        return false;
    hb_warn("client %s: PROXY protocol header from outside listeners[].proxy_protocol, closed",
            fc->peer);
    return true;
}
