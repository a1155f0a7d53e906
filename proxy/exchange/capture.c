/* proxy/exchange/capture.c — what a request's record keeps of the request:
 * its id and traceparent (decided here, request_id.*) and the strings an
 * access log line shows. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "proxy/exchange/exchange_int.h"
#include "proxy/exchange/forward_headers.h"
#include "proxy/front/conn.h"
#include "proxy/obs/alog.h"
#include "proxy/worker.h"

static struct hb_str field(const struct hb_msg *req, struct hb_str lname)
{
    const struct hpack_field *f = hb_msg_find(req, lname);
    return f ? hb_str_make(f->value, f->value_len) : HB_STR_NULL;
}

/* The fields this worker's access log shows (PX_ALOG_USES bits), 0 without
 * one: only those are looked up and copied. */
static uint64_t shown(const struct px_fconn *fc)
{
    return fc->w->alog ? fc->w->alog->prog.uses : 0;
}

#define SHOWS(u, f) (((u) >> (f)) & 1u)

void px_ex_ids_decide(struct px_fconn *fc, const struct hb_msg *req, struct px_ex_ids *ids)
{
    const struct cfg_request_id *rc = &fc->w->cfg->request_id;
    ids->rid = ids->tp = HB_STR_NULL;
    ids->tp_new = false;
    if (!rc->enabled)
        return;
    struct hb_str theirs = fc->rid_trusted ? field(req, hb_str_c(rc->header.s)) : HB_STR_NULL;
    if (px_rid_acceptable(theirs)) {
        ids->rid = theirs;
    } else {
        px_rid_next(&fc->w->rid, ids->rid_buf);
        ids->rid = hb_str_make(ids->rid_buf, PX_RID_LEN);
    }
    bool gen = rc->traceparent == CFG_TRACEPARENT_GENERATE;
    if (!gen && !SHOWS(shown(fc), PX_ALOG_TRACEPARENT))
        return; /* nobody looks at it: passed with the other fields */
    ids->tp = field(req, HB_STR_LIT("traceparent"));
    if (!gen || px_traceparent_valid(ids->tp))
        return;
    /* A new trace: its id is the request id when that can be one, so a
     * log line and a trace are found by the same value. */
    char fresh[PX_RID_LEN];
    const char *trace = ids->rid.p;
    if (!px_rid_is_trace_id(ids->rid)) {
        px_rid_next(&fc->w->rid, fresh);
        trace = fresh;
    }
    px_traceparent_make(trace, px_rid_next64(&fc->w->rid), ids->tp_buf);
    ids->tp = hb_str_make(ids->tp_buf, PX_TRACEPARENT_LEN);
    ids->tp_new = true;
}

static struct hb_str cut(struct hb_str v, size_t max, bool *was_cut)
{
    if (v.len > max) {
        v.len = max;
        *was_cut = true;
    }
    return v;
}

void px_ex_rec_view(struct px_fconn *fc, const struct hb_msg *req, const struct px_ex_ids *ids,
                    struct px_ex_record *r)
{
    bool c = false;
    r->version = req->version ? req->version : 20;
    r->method = cut(req->method, PX_EX_REC_FIELD_MAX, &c);
    r->request_id = ids->rid;
    r->traceparent = cut(ids->tp, PX_EX_REC_FIELD_MAX, &c);
    uint64_t u = shown(fc);
    if (SHOWS(u, PX_ALOG_AUTHORITY))
        r->authority = cut(req->authority, PX_EX_REC_FIELD_MAX, &c);
    if (SHOWS(u, PX_ALOG_PATH))
        r->path = cut(req->path, PX_EX_REC_FIELD_MAX, &c);
    if (SHOWS(u, PX_ALOG_USER_AGENT) || SHOWS(u, PX_ALOG_REFERER)) {
        /* One pass for both; the length picks the one name to compare. */
        for (uint32_t i = 0; i < req->nfields; i++) {
            const struct hpack_field *f = &req->fields[i];
            struct hb_str name = hb_str_make(f->name, f->name_len);
            struct hb_str v = hb_str_make(f->value, f->value_len);
            if (f->name_len == 10 && !r->user_agent.len &&
                hb_str_eq_lower(name, HB_STR_LIT("user-agent")))
                r->user_agent = cut(v, PX_EX_REC_FIELD_MAX, &c);
            else if (f->name_len == 7 && !r->referer.len &&
                     hb_str_eq_lower(name, HB_STR_LIT("referer")))
                r->referer = cut(v, PX_EX_REC_FIELD_MAX, &c);
        }
        if (!SHOWS(u, PX_ALOG_USER_AGENT))
            r->user_agent = HB_STR_NULL;
        if (!SHOWS(u, PX_ALOG_REFERER))
            r->referer = HB_STR_NULL;
    }
    if (fc->fwd_trusted)
        r->client_addr = cut(px_fwd_client_from_xff(req, &fc->w->cfg->forwarded.trusted), 63, &c);
    r->field_cut = c;
}

/* Copies v into dst (cap bytes), cut to fit; returns the copy's view. */
static struct hb_str copy_into(char *dst, size_t cap, struct hb_str v, bool *was_cut)
{
    v = cut(v, cap, was_cut);
    if (v.len)
        memcpy(dst, v.p, v.len);
    return hb_str_make(dst, v.len);
}

int px_ex_rec_capture(struct px_exchange *ex, const struct hb_msg *req,
                      const struct px_ex_ids *ids)
{
    struct px_ex_record *r = &ex->rec;
    struct px_ex_record v;
    v.authority = v.path = v.user_agent = v.referer = v.client_addr = HB_STR_NULL;
    px_ex_rec_view(ex->fc, req, ids, &v);
    bool c = v.field_cut;
    r->version = v.version;
    r->method = copy_into(ex->rec_method, sizeof ex->rec_method, v.method, &c);
    r->request_id = copy_into(ex->rec_rid, sizeof ex->rec_rid, v.request_id, &c);
    r->traceparent = copy_into(ex->rec_tp, sizeof ex->rec_tp, v.traceparent, &c);
    r->client_addr = copy_into(ex->rec_client, sizeof ex->rec_client, v.client_addr, &c);
    r->field_cut = c;
    size_t need = v.authority.len + v.path.len + v.user_agent.len + v.referer.len;
    if (need == 0)
        return 0;
    if (need > ex->rec_strs_cap) { /* a recycled exchange keeps its storage */
        char *p = realloc(ex->rec_strs, need);
        if (!p)
            return HB_ENOMEM;
        ex->rec_strs = p;
        ex->rec_strs_cap = need;
    }
    char *p = ex->rec_strs;
    struct hb_str *dst[] = {&r->authority, &r->path, &r->user_agent, &r->referer};
    const struct hb_str src[] = {v.authority, v.path, v.user_agent, v.referer};
    for (size_t i = 0; i < 4; i++) {
        *dst[i] = copy_into(p, src[i].len, src[i], &c);
        p += src[i].len;
    }
    return 0;
}

void px_ex_rec_detail(struct px_exchange *ex, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ex->rec_detail, sizeof ex->rec_detail, fmt, ap);
    va_end(ap);
    ex->rec.detail = ex->rec_detail;
}
