/* proxy/front/sniff.c — h2 prior knowledge vs HTTP/1.1 on a cleartext socket. */
#include "proxy/front/sniff.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "config/cfg.h"
#include "core/log.h"
#include "proxy/front/conn.h"
#include "proxy/worker.h"

/* RFC 9113 §3.4. No HTTP/1.1 method starts with "PRI * HTTP/2.0". */
static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
#define PREFACE_LEN (sizeof preface - 1)

/* The bytes are read, not peeked: a client that sends a prefix of the
 * preface ("PR") and stops would otherwise leave the socket readable, and
 * the level-triggered read event would spin the worker until the timeout.
 * At most the preface's length is read; the protocol gets the bytes first
 * (io.pre, px_fconn_read). */
int px_sniff(struct px_fconn *fc)
{
    struct px_tls_io *io = &fc->io;
    _Static_assert(sizeof io->pre >= PREFACE_LEN, "io.pre holds the preface");
    ssize_t n = recv(fc->fd, io->pre + io->pre_len, PREFACE_LEN - io->pre_len, 0);
    if (n < 0)
        return errno == EAGAIN || errno == EINTR ? 0 : -1;
    if (n == 0)
        return -1;
    io->pre_len = (uint8_t)(io->pre_len + n);
    bool h2 = memcmp(io->pre, preface, io->pre_len) == 0;
    if (h2 && io->pre_len < PREFACE_LEN)
        return 0; /* a prefix of the preface: wait for the rest */
    unsigned protos = fc->l->cfg->protocols;
    if (h2 && !(protos & CFG_PROTO_H2C)) {
        hb_info("client %s: h2 prior knowledge on a listener without h2c, closed", fc->peer);
        return -1;
    }
    if (!h2 && !(protos & CFG_PROTO_HTTP11)) {
        hb_info("client %s: HTTP/1.1 on a listener without http/1.1, closed", fc->peer);
        return -1;
    }
    return px_fconn_start(fc, h2 ? PX_FCONN_H2 : PX_FCONN_H1) == 0 ? 1 : -1;
}
