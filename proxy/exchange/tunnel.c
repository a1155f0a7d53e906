/* proxy/exchange/tunnel.c — tunnels (see tunnel.h). */
#include "proxy/exchange/tunnel.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/base64.h>
#include <openssl/sha.h>

#include "config/cfg.h"
#include "core/h1_write.h"
#include "core/log.h"
#include "proxy/exchange/exchange_int.h"
#include "proxy/front/conn.h"
#include "proxy/front/front.h"
#include "proxy/obs/hooks.h"
#include "proxy/worker.h"

static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"; /* RFC 6455 §1.3 */

const char *px_tun_kind_name(enum px_tun_kind k)
{
    switch (k) {
    case PX_TUN_NONE:
        return "none";
    case PX_TUN_UPGRADE:
        return "upgrade";
    case PX_TUN_H2_WEBSOCKET:
        return "websocket-h2";
    }
    return "?";
}

void px_ws_accept(const char *key, size_t len, char out[29])
{
    SHA_CTX c;
    uint8_t md[SHA_DIGEST_LENGTH];
    SHA1_Init(&c);
    SHA1_Update(&c, key, len);
    SHA1_Update(&c, ws_guid, sizeof ws_guid - 1);
    SHA1_Final(md, &c);
    EVP_EncodeBlock((uint8_t *)out, md, sizeof md); /* 28 characters and a NUL */
}

/* The one Upgrade token of req when tunnels.upgrade lists it (any case);
 * several tokens ("websocket, foo") are not a tunnel. */
static bool upgrade_allowed(const struct cfg *cfg, const struct hb_msg *req)
{
    const struct hpack_field *u = hb_msg_find(req, HB_STR_LIT("upgrade"));
    if (!u)
        return false;
    struct hb_str v = hb_str_trim_ows(hb_str_make(u->value, u->value_len));
    for (size_t i = 0; i < cfg->tunnels.n_upgrade; i++)
        if (hb_str_eq_nocase(v, hb_str_c(cfg->tunnels.upgrade[i].s)))
            return true;
    return false;
}

int px_tunnel_admit(struct px_fconn *fc, const struct hb_msg *req, const struct cfg_route *r,
                    enum px_tun_kind *kind, char *why, size_t size)
{
    *kind = PX_TUN_NONE;
    bool extended = req->protocol.len != 0;
    const struct cfg *cfg = fc->w->cfg;
    bool on = fc->l && fc->l->cfg->websocket && r->websocket;
    enum px_tun_kind k;
    if (extended) {
        if (!hb_str_eq_nocase(req->protocol, HB_STR_LIT("websocket"))) {
            snprintf(why, size, "extended CONNECT for :protocol %.*s is not supported",
                     (int)(req->protocol.len > 64 ? 64 : req->protocol.len), req->protocol.p);
            return 501;
        }
        if (!on) {
            snprintf(why, size, "WebSocket is off for this route");
            return 501;
        }
        k = PX_TUN_H2_WEBSOCKET;
    } else {
        /* Not allowed here: an ordinary request, its Upgrade not forwarded. */
        if (!on || !(req->flags & HB_MSG_END_STREAM) || !upgrade_allowed(cfg, req))
            return 0;
        k = PX_TUN_UPGRADE;
    }
    if (fc->n_tunnels >= cfg->tunnels.max_per_connection) {
        snprintf(why, size, "tunnels.max_per_connection (%u) tunnels open",
                 cfg->tunnels.max_per_connection);
        return 503;
    }
    if (fc->w->n_tunnels >= cfg->tunnels.max_per_worker) {
        snprintf(why, size, "tunnels.max_per_worker (%u) tunnels open",
                 cfg->tunnels.max_per_worker);
        return 503;
    }
    *kind = k;
    return 0;
}

/* A random Sec-WebSocket-Key (16 bytes, base64: 24 characters) into out;
 * the Accept it calls for into ex->tun_accept. */
static void make_key(struct px_exchange *ex, char out[25])
{
    uint8_t nonce[16];
    uint64_t a = px_rid_next64(&ex->fc->w->rid), b = px_rid_next64(&ex->fc->w->rid);
    memcpy(nonce, &a, 8);
    memcpy(nonce + 8, &b, 8);
    EVP_EncodeBlock((uint8_t *)out, nonce, sizeof nonce);
    px_ws_accept(out, 24, ex->tun_accept);
}

size_t px_tunnel_head(struct px_exchange *ex, const struct hb_msg *req, struct hb_msg *m,
                      struct hpack_field extra[PX_TUN_EXTRA])
{
    /* The writer never copies hop-by-hop fields from the message; these go
     * as extra fields, which it writes as given. */
    size_t n = 0;
    if (ex->tun_kind == PX_TUN_UPGRADE) {
        const struct hpack_field *u = hb_msg_find(req, HB_STR_LIT("upgrade"));
        extra[n++] = *u; /* px_tunnel_admit found it */
    } else {
        m->method = HB_STR_LIT("GET");
        extra[n++] = (struct hpack_field){.name = "upgrade", .name_len = 7,
                                          .value = "websocket", .value_len = 9};
        make_key(ex, ex->tun_key);
        extra[n++] = (struct hpack_field){.name = "sec-websocket-key", .name_len = 17,
                                          .value = ex->tun_key, .value_len = 24};
    }
    extra[n++] = (struct hpack_field){.name = "connection", .name_len = 10,
                                      .value = "upgrade", .value_len = 7};
    return n;
}

void px_tunnel_counted(struct px_exchange *ex)
{
    ex->tun_counted = true;
    ex->fc->n_tunnels++;
    ex->fc->w->n_tunnels++;
}

void px_tunnel_ended(struct px_exchange *ex)
{
    if (ex->tun_counted) {
        ex->tun_counted = false;
        ex->fc->n_tunnels--;
        ex->fc->w->n_tunnels--;
    }
    if (ex->tun_up) {
        ex->tun_up = false;
        px_stats_tunnel(ex->fc, -1);
    }
}

bool px_tunnel_refuses(const struct px_exchange *ex, int status)
{
    return ex->tun_kind == PX_TUN_H2_WEBSOCKET && status >= 200 && status < 300;
}

static bool field_is(const struct hpack_field *f, const char *name)
{
    return hb_str_eq(hb_str_make(f->name, f->name_len), hb_str_c(name));
}

/* What is wrong with the backend's 101, or NULL. *up: its Upgrade field. */
static const char *check_101(const struct px_exchange *ex, const struct hb_msg *m,
                             const struct hpack_field **up)
{
    const struct hpack_field *u = hb_msg_find(m, HB_STR_LIT("upgrade"));
    *up = u;
    if (!u || !(m->flags & HB_MSG_UPGRADE))
        return "101 without Upgrade and Connection: upgrade";
    if (ex->tun_kind == PX_TUN_UPGRADE)
        return NULL; /* the client checks the rest (its own key, its own token) */
    if (!hb_str_eq_nocase(hb_str_trim_ows(hb_str_make(u->value, u->value_len)),
                          HB_STR_LIT("websocket")))
        return "101 to a protocol other than websocket";
    const struct hpack_field *a = hb_msg_find(m, HB_STR_LIT("sec-websocket-accept"));
    if (!a || !hb_str_eq(hb_str_trim_ows(hb_str_make(a->value, a->value_len)),
                         hb_str_c(ex->tun_accept)))
        return "101 without the Sec-WebSocket-Accept for our key";
    return NULL;
}

void px_tunnel_on_101(struct px_exchange *ex, struct hb_msg *m, size_t r)
{
    const struct hpack_field *u;
    const char *bad = check_101(ex, m, &u);
    if (bad) {
        px_ex_fail(ex, 502, bad);
        return;
    }
    struct hpack_field upgrade = *u; /* points into rin, which stays until consumed */
    if (h1_drop_hop_fields(m->fields, &m->nfields) != 0) {
        px_ex_fail(ex, 502, "response with more than 16 Connection field lines");
        return;
    }
    struct hb_msg resp = {.fields = m->fields, .nfields = m->nfields, .orig_case = m->orig_case};
    if (ex->tun_kind == PX_TUN_UPGRADE) {
        /* The HTTP/1.1 front writes Upgrade and Connection: upgrade from it. */
        resp.status = 101;
        m->fields[resp.nfields++] = upgrade; /* drop_hop removed at least this one */
    } else {
        resp.status = 200; /* RFC 8441 §5 */
        uint32_t k = 0;
        for (uint32_t i = 0; i < resp.nfields; i++)
            if (!field_is(&m->fields[i], "sec-websocket-accept"))
                m->fields[k++] = m->fields[i];
        resp.nfields = k;
    }
    ex->state = PX_EX_TUNNEL;
    ex->status = resp.status;
    ex->req_end = false; /* from here, client bytes are the tunnel's */
    ex->tun_up = true;
    px_stats_tunnel(ex->fc, 1);
    hb_debug("client %s stream %u backend %s: %s tunnel open", ex->fc->peer, ex->sid,
             px_ex_backend_name(ex), px_tun_kind_name(ex->tun_kind));
    int rc = px_front_submit_response(ex->fc, ex->sid, &resp, false);
    hb_buf_consume(&ex->rin, r);
    if (rc != 0 || px_ex_over(ex))
        return;
    px_ex_be(ex)->set_timeout(ex->bc, ex->fc->w->cfg->tunnels.idle_timeout_ms);
    if (hb_buf_len(&ex->rin))
        px_front_resume_data(ex->fc, ex->sid);
    /* Client bytes that came with or after the request head go now. */
    if (hb_buf_len(&ex->reqbuf))
        px_ex_be(ex)->kick_write(ex->bc);
}

/* Nothing more comes from the backend: its connection is closed and the
 * front pulls the rest, then the end. */
static void backend_done(struct px_exchange *ex)
{
    ex->tun_eof = true;
    px_ex_drop_backend(ex, false);
    px_front_resume_data(ex->fc, ex->sid);
}

void px_tunnel_on_readable(struct px_exchange *ex)
{
    size_t cap = ex->fc->w->cfg->limits.stream_buffer_size;
    size_t len = hb_buf_len(&ex->rin);
    if (len >= cap) {
        px_ex_be(ex)->want_read(ex->bc, false); /* back-pressure: the client is slower */
        return;
    }
    if (hb_buf_reserve(&ex->rin, cap - len) != 0) {
        px_ex_fail(ex, 502, "out of memory for the tunnel");
        return;
    }
    ssize_t n = px_ex_be(ex)->recv(ex->bc, hb_buf_wptr(&ex->rin), cap - len);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        if (n < 0)
            px_ex_rec_detail(ex, "backend read failed: %s", strerror(errno));
        backend_done(ex);
        return;
    }
    hb_buf_commit(&ex->rin, (size_t)n);
    px_ex_be(ex)->set_timeout(ex->bc, ex->fc->w->cfg->tunnels.idle_timeout_ms);
    px_front_resume_data(ex->fc, ex->sid);
}

void px_tunnel_on_timeout(struct px_exchange *ex)
{
    uint32_t ms = ex->fc->w->cfg->tunnels.idle_timeout_ms;
    hb_info("client %s stream %u backend %s: tunnel idle for tunnels.idle_timeout (%u ms), "
            "closed",
            ex->fc->peer, ex->sid, px_ex_backend_name(ex), ms);
    px_ex_rec_detail(ex, "tunnel idle for %u ms", ms);
    ex->tun_idle = true;
    backend_done(ex);
}

void px_tunnel_written(struct px_exchange *ex)
{
    /* The client ended (and everything it sent is out): the backend reads
     * EOF, and may still answer until it closes (a WebSocket close reply). */
    if (ex->req_end && !ex->tun_eof && !ex->tun_half && ex->bc) {
        ex->tun_half = true;
        px_ex_be(ex)->shutdown_write(ex->bc);
    }
}

ptrdiff_t px_tunnel_read_data(struct px_exchange *ex, uint8_t *dst, size_t max, bool *eof)
{
    size_t n = hb_buf_len(&ex->rin);
    if (n > max)
        n = max;
    memcpy(dst, hb_buf_rptr(&ex->rin), n);
    hb_buf_consume(&ex->rin, n);
    *eof = ex->tun_eof && hb_buf_len(&ex->rin) == 0;
    if (ex->bc && n)
        px_ex_be(ex)->want_read(ex->bc, true);
    ex->rec.resp_body_bytes += n;
    return (ptrdiff_t)n;
}
