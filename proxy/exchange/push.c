/* proxy/exchange/push.c — server push from Link preloads (see push.h). */
#include "proxy/exchange/push.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/link_hdr.h"
#include "core/link_target.h"
#include "core/log.h"
#include "core/mix.h"
#include "proxy/exchange/exchange_int.h"
#include "proxy/front/conn.h"
#include "proxy/front/front.h"
#include "proxy/obs/hooks.h"

/* Longest pushed path: the :path a promise carries (longer targets are
 * not pushed; the client still fetches them itself). */
#define PUSH_PATH_MAX 2048
/* The request fields a pushed request carries (the rest are not copied). */
#define PUSH_NFIELDS 4

/* What a request keeps for its pushes: views into data[]. */
struct px_push_req {
    struct hb_str scheme, authority, path;
    struct hpack_field fields[PUSH_NFIELDS];
    uint32_t nfields;
    char data[];
};

/* Per client connection: promises made, and the targets promised (hashes
 * of authority and path; at most max_per_connection, itself at most 1000:
 * a linear search is cheaper than a table at that size). */
struct px_push_conn {
    uint32_t promised;
    uint32_t n, cap;
    uint64_t *seen;
};

static const struct hb_str copied[] = {
    HB_STR_LIT("accept-encoding"), /* the pushed body's coding must be one the client takes */
    HB_STR_LIT("accept-language"),
    HB_STR_LIT("user-agent"),
};

static bool is_name(const struct hpack_field *f, struct hb_str lname)
{
    return hb_str_eq(hb_str_make(f->name, f->name_len), lname);
}

void px_push_on_request(struct px_exchange *ex, const struct hb_msg *req)
{
    struct px_fconn *fc = ex->fc;
    if (ex->rec.pushed_by || ex->tun_kind || !hb_str_eq(req->method, HB_STR_LIT("GET")) ||
        !px_front_can_push(fc))
        return;
    bool cookies = ex->route->push.forward_cookies;
    /* First pass: sizes (the first of each copied field; every cookie crumb,
     * joined with "; " as RFC 9113 §8.2.3 asks of an HTTP/1.1 hop). */
    size_t need = req->scheme.len + req->authority.len + req->path.len;
    const struct hpack_field *first[3] = {NULL, NULL, NULL};
    size_t cookie_len = 0, ncrumbs = 0;
    for (uint32_t i = 0; i < req->nfields; i++) {
        const struct hpack_field *f = &req->fields[i];
        for (size_t k = 0; k < 3; k++)
            if (!first[k] && is_name(f, copied[k]))
                first[k] = f, need += f->value_len;
        if (cookies && is_name(f, HB_STR_LIT("cookie"))) {
            cookie_len += (ncrumbs ? 2 : 0) + f->value_len;
            ncrumbs++;
        }
    }
    need += cookie_len;
    struct px_push_req *p = malloc(sizeof *p + need);
    if (!p)
        return;
    char *w = p->data;
#define KEEP(dst, src)                                                                             \
    do {                                                                                           \
        memcpy(w, (src).p, (src).len);                                                             \
        (dst) = hb_str_make(w, (src).len);                                                         \
        w += (src).len;                                                                            \
    } while (0)
    KEEP(p->scheme, req->scheme);
    KEEP(p->authority, req->authority);
    KEEP(p->path, req->path);
#undef KEEP
    p->nfields = 0;
    for (size_t k = 0; k < 3; k++) {
        if (!first[k])
            continue;
        memcpy(w, first[k]->value, first[k]->value_len);
        p->fields[p->nfields++] = (struct hpack_field){copied[k].p, w, (uint32_t)copied[k].len,
                                                       first[k]->value_len, 0};
        w += first[k]->value_len;
    }
    if (ncrumbs) {
        char *start = w;
        for (uint32_t i = 0; i < req->nfields; i++) {
            const struct hpack_field *f = &req->fields[i];
            if (!is_name(f, HB_STR_LIT("cookie")))
                continue;
            if (w != start) {
                memcpy(w, "; ", 2);
                w += 2;
            }
            memcpy(w, f->value, f->value_len);
            w += f->value_len;
        }
        p->fields[p->nfields++] =
            (struct hpack_field){"cookie", start, 6, (uint32_t)cookie_len, 0};
    }
    ex->push = p;
}

void px_push_ex_free(struct px_exchange *ex)
{
    free(ex->push);
    ex->push = NULL;
}

void px_push_conn_free(struct px_fconn *fc)
{
    if (fc->push)
        free(fc->push->seen);
    free(fc->push);
    fc->push = NULL;
}

static struct px_push_conn *conn_state(struct px_fconn *fc)
{
    if (!fc->push)
        fc->push = calloc(1, sizeof *fc->push);
    return fc->push;
}

/* FNV-1a over authority, a separator and the path, mixed (core/mix.h). A
 * collision only costs a push. */
static uint64_t target_hash(struct hb_str authority, const char *path, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < authority.len; i++)
        h = (h ^ (unsigned char)authority.p[i]) * 0x100000001b3ull;
    h = (h ^ 0xffu) * 0x100000001b3ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)path[i]) * 0x100000001b3ull;
    return hb_mix64(h);
}

static bool seen(const struct px_push_conn *pc, uint64_t h)
{
    for (uint32_t i = 0; i < pc->n; i++)
        if (pc->seen[i] == h)
            return true;
    return false;
}

static int remember(struct px_push_conn *pc, uint64_t h)
{
    if (pc->n == pc->cap) {
        uint32_t cap = pc->cap ? 2 * pc->cap : 8;
        uint64_t *s = realloc(pc->seen, cap * sizeof *s);
        if (!s)
            return HB_ENOMEM;
        pc->seen = s;
        pc->cap = cap;
    }
    pc->seen[pc->n++] = h;
    return 0;
}

/* Promises path on ex's stream and starts its request. Returns 0, or the
 * engine's refusal (HB_ELIMIT: the client's MAX_CONCURRENT_STREAMS;
 * HB_EUNSUPPORTED, HB_ECLOSED: no more pushes on this connection). */
static int promise(struct px_exchange *ex, const struct px_push_req *p, struct px_push_conn *pc,
                   const char *path, size_t n, uint64_t h)
{
    if (remember(pc, h) != 0)
        return HB_ENOMEM;
    struct hpack_field fields[PUSH_NFIELDS];
    memcpy(fields, p->fields, p->nfields * sizeof fields[0]);
    struct hb_msg req = {
        .method = HB_STR_LIT("GET"),
        .scheme = p->scheme,
        .authority = p->authority,
        .path = hb_str_make(path, n),
        .fields = fields,
        .nfields = p->nfields,
        .flags = HB_MSG_END_STREAM,
    };
    int64_t id = px_front_push_promise(ex->fc, ex->sid, &req);
    if (id <= 0) {
        pc->n--; /* not promised: another response may still push it */
        return id < 0 ? (int)id : HB_EINVAL;
    }
    pc->promised++;
    hb_debug("client %s stream %u: pushed %.*s on stream %lld", ex->fc->peer, ex->sid, (int)n,
             path, (long long)id);
    px_exchange_start_pushed(ex->fc, (uint32_t)id, &req, ex->sid);
    return 0;
}

void px_push_on_final(struct px_exchange *ex, const struct hb_msg *m)
{
    const struct px_push_req *p = ex->push;
    struct px_fconn *fc = ex->fc;
    if (!p || m->status < 200 || m->status > 299 || !px_front_can_push(fc))
        return;
    const struct cfg_push *cfg = &ex->route->push;
    uint64_t sent = 0, limited = 0;
    bool stop = false;
    for (uint32_t i = 0; i < m->nfields && !stop; i++) {
        const struct hpack_field *f = &m->fields[i];
        if (!hb_str_eq_lower(hb_str_make(f->name, f->name_len), HB_STR_LIT("link")))
            continue;
        size_t pos = 0;
        struct hb_link l;
        int rc;
        while (!stop && (rc = hb_link_next(f->value, f->value_len, &pos, &l)) != 0) {
            if (rc != 1 || !(l.rel & HB_LINK_REL_PRELOAD) || l.nopush)
                continue;
            char path[PUSH_PATH_MAX];
            int n = hb_link_target(l.uri, p->scheme, p->authority, p->path, path, sizeof path);
            if (n <= 0)
                continue; /* another origin, or a path we would not name as written */
            struct px_push_conn *pc = conn_state(fc);
            if (!pc)
                return;
            uint64_t h = target_hash(p->authority, path, (size_t)n);
            if (seen(pc, h))
                continue; /* promised on this connection already: the client has it */
            if (sent >= cfg->max_per_response || pc->promised >= cfg->max_per_connection) {
                limited++;
                continue;
            }
            int err = promise(ex, p, pc, path, (size_t)n, h);
            if (err == 0) {
                sent++;
            } else {
                if (err == HB_ELIMIT)
                    limited++;
                stop = true; /* the engine says no more for now */
            }
        }
    }
    if (sent)
        px_stats_push(fc, PX_ST_PUSH_PROMISED, sent);
    if (limited)
        px_stats_push(fc, PX_ST_PUSH_LIMITED, limited);
}
