/* core/h2_submit.c — application → engine: responses (1xx and final),
 * trailers, the body pull (resume), consumed credit, stream resets and
 * server push. */
#include <string.h>

#include "core/err.h"
#include "core/h2_int.h"

/* Common preconditions; returns the stream or NULL with *err set. */
static struct h2_stream *usable(struct h2_conn *c, uint32_t id, int *err)
{
    *err = 0;
    if (c->fatal)
        *err = c->fatal;
    else if (c->in_read) /* only submit_trailers may run inside read_data */
        *err = HB_EINVAL;
    else if (h2_conn_failed(c))
        *err = HB_ECLOSED;
    if (*err)
        return NULL;
    struct h2_stream *s = h2_stream_find(c, id);
    if (!s)
        *err = HB_ENOTFOUND;
    return s;
}

/* Builds :status + the regular fields (connection-specific ones dropped,
 * §8.2.2) and encodes them. Small heads use the stack. */
static int send_head(struct h2_conn *c, struct h2_stream *s, const struct hb_msg *m, bool end)
{
    uint32_t id = s->id;
    struct hpack_field local[32], *f = local;
    size_t need = (size_t)m->nfields + 1;
    if (need > 32 && !(f = h2_alloc(c, need * sizeof *f, true)))
        return c->fatal ? c->fatal : HB_ELIMIT;
    char status[3] = {(char)('0' + m->status / 100), (char)('0' + m->status / 10 % 10),
                      (char)('0' + m->status % 10)};
    size_t n = 0;
    f[n++] = (struct hpack_field){":status", status, 7, 3, 0};
    for (uint32_t i = 0; i < m->nfields; i++) {
        const struct hpack_field *x = &m->fields[i];
        if (x->name_len == 0 || x->name[0] == ':' || h2_http_is_conn_specific(x->name, x->name_len))
            continue;
        f[n++] = *x;
    }
    int rc = h2_send_block(c, H2_HEADERS, id, 0, f, n, end);
    if (rc == 0)
        s->wire.out += c->sent_block_wire;
    if (f != local)
        h2_free(c, f, need * sizeof *f);
    return rc;
}

int h2_conn_submit_response(struct h2_conn *c, uint32_t stream_id, const struct hb_msg *resp,
                            bool end_stream)
{
    int err;
    struct h2_stream *s = usable(c, stream_id, &err);
    if (!s)
        return err;
    bool info = resp->status >= 100 && resp->status <= 199;
    /* §8.6: 101 does not exist in HTTP/2; 1xx never ends a stream. */
    if (resp->status < 100 || resp->status > 599 || resp->status == 101 || (info && end_stream) ||
        s->head_sent)
        return HB_EINVAL;
    bool pushed = s->state == H2_SS_RESERVED_LOCAL;
    if (!pushed && s->state != H2_SS_OPEN && s->state != H2_SS_HALF_CLOSED_REMOTE)
        return HB_EINVAL;
    int rc = send_head(c, s, resp, end_stream && !info);
    if (rc != 0 || info)
        return rc;
    s->head_sent = true;
    if (pushed) { /* §5.1: reserved (local) → half-closed (remote) */
        s->state = H2_SS_HALF_CLOSED_REMOTE;
        s->counted = true;
        c->open_local++;
    }
    if (end_stream) {
        s->data_eof = true;
        h2_stream_end_local(c, s);
    }
    return 0;
}

int h2_conn_submit_trailers(struct h2_conn *c, uint32_t stream_id, const struct hb_msg *t)
{
    if (c->fatal)
        return c->fatal;
    struct h2_stream *s = h2_conn_failed(c) ? NULL : h2_stream_find(c, stream_id);
    if (!s)
        return h2_conn_failed(c) ? HB_ECLOSED : HB_ENOTFOUND;
    if (!s->head_sent || s->data_eof || s->has_trailers)
        return HB_EINVAL;
    /* One block: the field array, then every name and value. */
    size_t size = t->nfields * sizeof(struct hpack_field);
    for (uint32_t i = 0; i < t->nfields; i++) {
        if (t->fields[i].name_len == 0 || t->fields[i].name[0] == ':')
            return HB_EINVAL; /* §8.1: no pseudo-headers in trailers */
        size += t->fields[i].name_len + t->fields[i].value_len;
    }
    struct hpack_field *f = h2_alloc(c, size ? size : 1, true);
    if (!f)
        return c->fatal ? c->fatal : HB_ELIMIT;
    char *q = (char *)(f + t->nfields);
    uint32_t n = 0;
    for (uint32_t i = 0; i < t->nfields; i++) {
        const struct hpack_field *x = &t->fields[i];
        if (h2_http_is_conn_specific(x->name, x->name_len))
            continue;
        f[n] = *x;
        f[n].name = memcpy(q, x->name, x->name_len);
        q += x->name_len;
        f[n].value = memcpy(q, x->value, x->value_len);
        q += x->value_len;
        n++;
    }
    s->trailers = f;
    s->ntrailers = n;
    s->trailers_size = size ? size : 1;
    s->has_trailers = true;
    return 0;
}

int h2_conn_resume_data(struct h2_conn *c, uint32_t stream_id)
{
    int err;
    struct h2_stream *s = usable(c, stream_id, &err);
    if (!s)
        return err;
    if (!s->head_sent || s->data_eof)
        return HB_EINVAL;
    s->data_ready = true;
    if (s->send_window > 0)
        h2_sched_add(c, s);
    return 0;
}

int h2_conn_consumed(struct h2_conn *c, uint32_t stream_id, size_t n)
{
    int err;
    struct h2_stream *s = usable(c, stream_id, &err);
    if (!s)
        return err;
    if (n > s->recv_pending)
        return HB_EINVAL;
    s->recv_pending -= n;
    h2_flow_consumed(c, s, n);
    return c->fatal;
}

int h2_conn_reset_stream(struct h2_conn *c, uint32_t stream_id, uint32_t error_code)
{
    int err;
    struct h2_stream *s = usable(c, stream_id, &err);
    if (!s)
        return err;
    h2_stream_error(c, stream_id, error_code, false, NULL);
    return c->fatal;
}

static int push_fields(struct h2_conn *c, const struct hb_msg *req, struct hpack_field **out,
                       size_t *n)
{
    size_t need = (size_t)req->nfields + 4;
    struct hpack_field *f = h2_alloc(c, need * sizeof *f, true);
    if (!f)
        return c->fatal ? c->fatal : HB_ELIMIT;
    size_t k = 0;
    f[k++] = (struct hpack_field){":method", req->method.p, 7, (uint32_t)req->method.len, 0};
    f[k++] = (struct hpack_field){":scheme", req->scheme.p, 7, (uint32_t)req->scheme.len, 0};
    f[k++] =
        (struct hpack_field){":authority", req->authority.p, 10, (uint32_t)req->authority.len, 0};
    f[k++] = (struct hpack_field){":path", req->path.p, 5, (uint32_t)req->path.len, 0};
    for (uint32_t i = 0; i < req->nfields; i++)
        if (!h2_http_is_conn_specific(req->fields[i].name, req->fields[i].name_len))
            f[k++] = req->fields[i];
    *out = f;
    *n = k;
    return 0;
}

bool h2_conn_push_allowed(const struct h2_conn *c)
{
    return c->cfg.enable_push && c->peer_set[H2_SET_ENABLE_PUSH] != 0 &&
           c->role == H2_ROLE_SERVER && !c->goaway_received &&
           c->last_local_id < H2_STREAM_ID_MASK - 1;
}

int64_t h2_conn_submit_push_promise(struct h2_conn *c, uint32_t assoc_stream_id,
                                    const struct hb_msg *req)
{
    /* §8.4: only when both we and the peer (ENABLE_PUSH) allow it. */
    if (!c->cfg.enable_push || c->peer_set[H2_SET_ENABLE_PUSH] == 0 || c->role != H2_ROLE_SERVER)
        return HB_EUNSUPPORTED;
    int err;
    struct h2_stream *a = usable(c, assoc_stream_id, &err);
    if (!a)
        return err;
    /* §8.4.1: promised requests are safe and cacheable: GET or HEAD. */
    if ((a->state != H2_SS_OPEN && a->state != H2_SS_HALF_CLOSED_REMOTE) ||
        !h2_id_is_peer(c, assoc_stream_id) ||
        !(hb_str_eq(req->method, HB_STR_LIT("GET")) ||
          hb_str_eq(req->method, HB_STR_LIT("HEAD"))) ||
        req->path.len == 0 || req->scheme.len == 0 || req->authority.len == 0)
        return HB_EINVAL;
    if (c->goaway_received || c->last_local_id >= H2_STREAM_ID_MASK - 1)
        return HB_ECLOSED;
    if (c->open_local >= c->peer_set[H2_SET_MAX_CONCURRENT_STREAMS])
        return HB_ELIMIT;
    struct hpack_field *f;
    size_t n;
    if ((err = push_fields(c, req, &f, &n)) != 0)
        return err;
    uint32_t id = c->last_local_id + 2;
    if (id == 0 || (id & 1))
        id = 2;
    int rc = h2_send_block(c, H2_PUSH_PROMISE, assoc_stream_id, id, f, n, false);
    h2_free(c, f, (req->nfields + 4) * sizeof *f);
    if (rc != 0)
        return rc;
    struct h2_stream *s = h2_stream_new(c, id, H2_SS_RESERVED_LOCAL);
    if (!s)
        return c->fatal ? c->fatal : HB_ELIMIT;
    s->announced = true;
    /* RFC 7540 §5.3.5: a pushed stream depends on its associated stream. */
    h2_prio_stream_open(c, s);
    if (s->pn)
        (void)h2_prio_set(&c->prio, id, assoc_stream_id, H2_PRIO_DEFAULT_WEIGHT, false);
    return id;
}
