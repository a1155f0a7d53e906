/* proxy/h2c_upgrade.c — Upgrade: h2c (RFC 7540 §3.2). */
#include "proxy/h2c_upgrade.h"

#include <string.h>
#include <strings.h>

#include "config/cfg.h"
#include "core/log.h"
#include "proxy/h2_frontend.h"
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

int px_h2c_upgrade(struct px_fconn *fc, const struct hb_msg *req, size_t head_len)
{
    (void)req;
    (void)head_len;
    hb_info("client %s: Upgrade: h2c not taken, served as HTTP/1.1", fc->peer);
    return 0;
}
