/* proxy/front/h2c_upgrade.c — Upgrade: h2c (RFC 7540 §3.2). */
#include "proxy/front/h2c_upgrade.h"

#include <string.h>
#include <strings.h>

#include "config/cfg.h"
#include "core/err.h"
#include "core/h2_conn.h"
#include "core/h2_upgrade.h"
#include "core/time.h"
#include "core/log.h"
#include "proxy/front/front.h"
#include "proxy/front/conn.h"
#include "proxy/front/h2.h"
#include "proxy/worker.h"

/* True when the comma-separated list value holds token (case-insensitive). */
static bool list_has(const char *v, size_t n, const char *token)
{
    size_t tl = strlen(token), i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t s = i;
        while (i < n && v[i] != ',')
            i++;
        size_t e = i;
        while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
            e--;
        if (e - s == tl && strncasecmp(v + s, token, tl) == 0)
            return true;
    }
    return false;
}

/* True when some field named lname has token in its list value. */
static bool field_has(const struct hb_msg *m, const char *lname, const char *token)
{
    size_t nl = strlen(lname);
    for (uint32_t i = 0; i < m->nfields; i++) {
        const struct hpack_field *f = &m->fields[i];
        if (f->name_len == nl && memcmp(f->name, lname, nl) == 0 &&
            list_has(f->value, f->value_len, token))
            return true;
    }
    return false;
}

static size_t field_count(const struct hb_msg *m, const char *lname)
{
    size_t nl = strlen(lname), k = 0;
    for (uint32_t i = 0; i < m->nfields; i++)
        if (m->fields[i].name_len == nl && memcmp(m->fields[i].name, lname, nl) == 0)
            k++;
    return k;
}

bool px_h2c_wants_upgrade(const struct px_fconn *fc, const struct hb_msg *req)
{
    if (fc->io.ssl || !(fc->l->cfg->protocols & CFG_PROTO_H2C) || req->version < 11)
        return false;
    return field_has(req, "upgrade", "h2c") && field_has(req, "connection", "upgrade") &&
           field_has(req, "connection", "http2-settings") &&
           field_count(req, "http2-settings") == 1;
}

ptrdiff_t px_h2c_settings_decode(const char *in, size_t n, uint8_t *out, size_t cap)
{
    while (n && in[n - 1] == '=')
        n--;
    if (n % 4 == 1)
        return -1;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = in[i];
        int v = ch >= 'A' && ch <= 'Z'   ? ch - 'A'
                : ch >= 'a' && ch <= 'z' ? ch - 'a' + 26
                : ch >= '0' && ch <= '9' ? ch - '0' + 52
                : ch == '-'              ? 62
                : ch == '_'              ? 63
                                         : -1;
        if (v < 0)
            return -1;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o == cap)
                return -1;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    /* Leftover bits must be zero padding (RFC 4648 §3.5 canonical form). */
    if (bits && (acc & ((1u << bits) - 1)) != 0)
        return -1;
    return o % 6 == 0 ? (ptrdiff_t)o : -1;
}

static const char switching[] = "HTTP/1.1 101 Switching Protocols\r\n"
                                "Connection: Upgrade\r\n"
                                "Upgrade: h2c\r\n\r\n";

int px_h2c_upgrade(struct px_fconn *fc, const struct hb_msg *req)
{
    /* §3.2: the upgraded request becomes stream 1 half-closed (remote), so
     * its body would have to be held before the switch: refused instead. */
    if (!(req->flags & HB_MSG_END_STREAM)) {
        hb_info("client %s: Upgrade: h2c with a request body, served as HTTP/1.1", fc->peer);
        return 0;
    }
    const struct hpack_field *f = hb_msg_find(req, HB_STR_LIT("http2-settings"));
    uint8_t set[6 * 64];
    ptrdiff_t n = f ? px_h2c_settings_decode(f->value, f->value_len, set, sizeof set) : -1;
    if (n < 0) {
        hb_info("client %s: malformed HTTP2-Settings, served as HTTP/1.1", fc->peer);
        return 0;
    }
    fc->h2 = px_h2_engine_new(fc); /* the state stays H1 until the caller switches */
    if (!fc->h2)
        return -1;
    int rc = h2_conn_upgrade(fc->h2, set, (size_t)n, req);
    if (rc != 0) {
        hb_info("client %s: HTTP2-Settings refused (%s), served as HTTP/1.1", fc->peer,
                hb_err_name(rc));
        h2_conn_del(fc->h2);
        fc->h2 = NULL;
        return rc == HB_ENOMEM ? -1 : 0;
    }
    /* Nothing else is queued on a connection that upgrades (the caller
     * checked), so the 101 goes out whole or the connection is lost. */
    ssize_t w = px_fconn_write(&fc->io, switching, sizeof switching - 1, hb_time_now_ns());
    if (w != (ssize_t)(sizeof switching - 1)) {
        hb_info("client %s: cannot write 101 Switching Protocols, connection closed", fc->peer);
        h2_conn_del(fc->h2);
        fc->h2 = NULL;
        return -1;
    }
    hb_debug("client %s: upgraded to h2c", fc->peer);
    return 1;
}
