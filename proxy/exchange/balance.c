/* proxy/exchange/balance.c — request keys and sticky cookies for the
 * balancing policies (see balance.h). */
#include "proxy/exchange/balance.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/balance.h"
#include "core/cookie.h"
#include "core/msg.h"
#include "proxy/backend/pool.h"
#include "proxy/exchange/forward_headers.h"
#include "proxy/front/conn.h"
#include "proxy/worker.h"

static int maglev_init(struct px_upstream *up, const struct cfg_upstream *u, const char **labels);

#define STICKY_SEED 0x737469636b793031ull /* "sticky01" */

static const char *same_site(enum cfg_same_site s)
{
    return s == CFG_SAME_SITE_STRICT ? "; SameSite=Strict"
           : s == CFG_SAME_SITE_NONE ? "; SameSite=None"
           : s == CFG_SAME_SITE_LAX  ? "; SameSite=Lax"
                                     : "";
}

static int sticky_init(struct px_upstream *up, const struct cfg_upstream *u, const char **labels)
{
    const struct cfg_sticky *sk = &u->sticky_cookie;
    up->sticky_id = calloc(up->npools ? up->npools : 1, sizeof *up->sticky_id);
    up->set_cookie = calloc(up->npools ? up->npools : 1, sizeof *up->set_cookie);
    up->nbalanced = up->npools;
    if (!up->sticky_id || !up->set_cookie)
        return -1;
    char max_age[32] = "";
    if (sk->max_age_ms)
        snprintf(max_age, sizeof max_age, "; Max-Age=%u", (unsigned)(sk->max_age_ms / 1000));
    for (size_t i = 0; i < up->npools; i++) {
        /* The upstream's name is in the hash: one server in two upstreams
         * has two ids, and a cookie of one upstream means nothing to the
         * other. */
        uint64_t h = hb_hash_bytes(u->name.s, strlen(u->name.s) + 1, STICKY_SEED);
        h = hb_hash_bytes(labels[i], strlen(labels[i]), h);
        snprintf(up->sticky_id[i], sizeof up->sticky_id[i], "%016llx", (unsigned long long)h);
        int len = snprintf(NULL, 0, "%s=%s; Path=%s%s%s%s%s%s%s", sk->name.s, up->sticky_id[i],
                           sk->path.s, sk->domain.s ? "; Domain=" : "",
                           sk->domain.s ? sk->domain.s : "", max_age,
                           sk->http_only ? "; HttpOnly" : "", sk->secure ? "; Secure" : "",
                           same_site(sk->same_site));
        up->set_cookie[i] = malloc((size_t)len + 1);
        if (!up->set_cookie[i])
            return -1;
        snprintf(up->set_cookie[i], (size_t)len + 1, "%s=%s; Path=%s%s%s%s%s%s%s", sk->name.s,
                 up->sticky_id[i], sk->path.s, sk->domain.s ? "; Domain=" : "",
                 sk->domain.s ? sk->domain.s : "", max_age, sk->http_only ? "; HttpOnly" : "",
                 sk->secure ? "; Secure" : "", same_site(sk->same_site));
    }
    return 0;
}

int px_upstream_balance_init(struct px_upstream *up, const struct cfg_upstream *u)
{
    if (!u->sticky_cookie.enabled && up->bal.policy != HB_BAL_CONSISTENT_HASH)
        return 0; /* the other policies need nothing here */
    /* The worker's current servers (an address of a DNS name is one
     * each), labelled as their pools are ("host:port" for a literal):
     * every worker holds the same set in the same order (adopt.h). */
    const char **labels = calloc(up->npools ? up->npools : 1, sizeof *labels);
    if (!labels)
        return -1;
    for (size_t i = 0; i < up->npools; i++)
        labels[i] = px_pool_name(up->pools[i]);
    int rc = u->sticky_cookie.enabled ? sticky_init(up, u, labels) : 0;
    if (rc == 0 && up->bal.policy == HB_BAL_CONSISTENT_HASH)
        rc = maglev_init(up, u, labels);
    free(labels);
    return rc;
}

static int maglev_init(struct px_upstream *up, const struct cfg_upstream *u, const char **labels)
{
    if (!up->npools)
        return 0; /* no address yet (resolve: lazy): picks find no server */
    struct hb_maglev_server *s = calloc(up->npools, sizeof *s);
    if (!s)
        return -1;
    for (size_t i = 0; i < up->npools; i++)
        s[i] = (struct hb_maglev_server){labels[i], strlen(labels[i]), up->srv[i]->weight};
    int rc = hb_maglev_build(&up->maglev, s, up->npools, u->consistent_hash.table_size);
    free(s);
    if (rc != 0)
        return -1;
    up->bal.maglev = &up->maglev;
    return 0;
}

void px_upstream_balance_free(struct px_upstream *up)
{
    hb_maglev_free(&up->maglev);
    up->bal.maglev = NULL;
    for (size_t i = 0; up->set_cookie && i < up->nbalanced; i++)
        free(up->set_cookie[i]);
    free(up->set_cookie);
    free(up->sticky_id);
    up->set_cookie = NULL;
    up->sticky_id = NULL;
    up->nbalanced = 0;
}

/* The first cookie called name in req's Cookie fields (HTTP/2 may split
 * them into several fields, RFC 9113 §8.2.3). */
static bool cookie(const struct hb_msg *req, struct hb_str name, struct hb_str *v)
{
    for (uint32_t i = 0; i < req->nfields; i++) {
        const struct hpack_field *f = &req->fields[i];
        if (f->name_len == 6 && memcmp(f->name, "cookie", 6) == 0 &&
            hb_cookie_find(hb_str_make(f->value, f->value_len), name, v))
            return true;
    }
    return false;
}

bool px_balance_key(const struct px_upstream *up, const struct px_fconn *fc,
                    const struct hb_msg *req, uint64_t *out)
{
    const struct cfg_consistent_hash *ch = &up->cfg->consistent_hash;
    struct hb_str k = HB_STR_NULL;
    switch (ch->key) {
    case CFG_HASH_CLIENT_ADDRESS:
        if (fc->fwd_trusted)
            k = px_fwd_client_from_xff(req, &fc->w->cfg->forwarded.trusted);
        if (!k.len)
            k = hb_str_c(fc->peer_addr); /* the PROXY protocol address when it named one */
        break;
    case CFG_HASH_PATH: {
        k = req->path;
        const char *q = k.len ? memchr(k.p, '?', k.len) : NULL;
        if (q)
            k.len = (size_t)(q - k.p);
        break;
    }
    case CFG_HASH_HEADER: {
        const struct hpack_field *f = hb_msg_find(req, hb_str_c(ch->name.s));
        if (!f)
            return false;
        k = hb_str_make(f->value, f->value_len);
        break;
    }
    case CFG_HASH_COOKIE:
        if (!cookie(req, hb_str_c(ch->name.s), &k))
            return false;
        break;
    }
    *out = hb_hash_bytes(k.p, k.len, 0);
    return true;
}

size_t px_balance_sticky_find(const struct px_upstream *up, const struct hb_msg *req)
{
    struct hb_str v;
    if (!cookie(req, hb_str_c(up->cfg->sticky_cookie.name.s), &v) || v.len != PX_STICKY_ID_LEN)
        return SIZE_MAX;
    for (size_t i = 0; up->sticky_id && i < up->nbalanced; i++)
        if (memcmp(up->sticky_id[i], v.p, PX_STICKY_ID_LEN) == 0)
            return i;
    return SIZE_MAX;
}

void px_balance_sticky_field(const struct px_upstream *up, size_t server, struct hpack_field *f,
                             size_t *n)
{
    f[*n] = (struct hpack_field){.name = "set-cookie",
                                 .value = up->set_cookie[server],
                                 .name_len = 10,
                                 .value_len = (uint32_t)strlen(up->set_cookie[server])};
    (*n)++;
}
