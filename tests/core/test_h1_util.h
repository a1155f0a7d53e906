/* tests/core/test_h1_util.h — helpers shared by the h1 codec tests (and the
 * round-trip fuzz target): a canonical text dump of a parsed message, so
 * tables can state the expected result as one readable string. */
#ifndef H2B_TEST_H1_UTIL_H
#define H2B_TEST_H1_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/h1_body.h"
#include "core/h1_parse.h"
#include "core/h1_write.h"

static inline void h1t_cat(char *dst, size_t cap, const char *p, size_t n)
{
    size_t l = strlen(dst);
    if (n == 0)
        return;
    if (l + n >= cap)
        n = cap - l - 1;
    memcpy(dst + l, p, n);
    dst[l + n] = '\0';
}

static inline void h1t_flags(char *dst, size_t cap, uint32_t f)
{
    static const struct {
        uint32_t bit;
        const char *name;
    } names[] = {
        {HB_MSG_END_STREAM, "END"},    {HB_MSG_HAS_CL, "CL"},         {HB_MSG_CHUNKED, "CHUNKED"},
        {HB_MSG_CLOSE, "CLOSE"},       {HB_MSG_CLOSE_DELIM, "DELIM"}, {HB_MSG_UPGRADE, "UPGRADE"},
        {HB_MSG_EXPECT_100, "EXPECT"}, {HB_MSG_NO_REUSE, "NO_REUSE"}, {HB_MSG_TUNNEL, "TUNNEL"},
        {HB_MSG_TE_CODED, "TE_CODED"},
    };
    bool first = true;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!(f & names[i].bit))
            continue;
        if (!first)
            h1t_cat(dst, cap, ",", 1);
        h1t_cat(dst, cap, names[i].name, strlen(names[i].name));
        first = false;
    }
}

/* "GET /p a=host v=11 [END] cl=0 | name: value | ..." for a request,
 * "200 v=11 [CL] cl=5 | ..." for a response (status != 0). Fields for
 * which omit(f) is true are left out (NULL: none). */
static inline void h1t_dump(const struct hb_msg *m, char *dst, size_t cap,
                            bool (*omit)(const struct hb_msg *, const struct hpack_field *))
{
    char tmp[64];
    dst[0] = '\0';
    if (m->status) {
        snprintf(tmp, sizeof tmp, "%d", m->status);
        h1t_cat(dst, cap, tmp, strlen(tmp));
    } else {
        h1t_cat(dst, cap, m->method.p, m->method.len);
        h1t_cat(dst, cap, " ", 1);
        if (m->scheme.len) {
            h1t_cat(dst, cap, m->scheme.p, m->scheme.len);
            h1t_cat(dst, cap, "://", 3);
        }
        h1t_cat(dst, cap, m->path.p, m->path.len);
        h1t_cat(dst, cap, " a=", 3);
        h1t_cat(dst, cap, m->authority.p, m->authority.len);
    }
    snprintf(tmp, sizeof tmp, " v=%d [", m->version);
    h1t_cat(dst, cap, tmp, strlen(tmp));
    h1t_flags(dst, cap, m->flags);
    snprintf(tmp, sizeof tmp, "] cl=%llu", (unsigned long long)m->content_length);
    h1t_cat(dst, cap, tmp, strlen(tmp));
    for (uint32_t i = 0; i < m->nfields; i++) {
        const struct hpack_field *f = &m->fields[i];
        if (omit && omit(m, f))
            continue;
        h1t_cat(dst, cap, " | ", 3);
        h1t_cat(dst, cap, f->name, f->name_len);
        h1t_cat(dst, cap, ": ", 2);
        h1t_cat(dst, cap, f->value, f->value_len);
    }
}

/* Fields the writer never copies to an h1 hop (see h1_write.h). */
static inline bool h1t_not_forwarded(const struct hb_msg *m, const struct hpack_field *f)
{
    struct hb_str n = hb_str_make(f->name, f->name_len);
    return h1_field_is_hop(m, f) || hb_str_eq(n, HB_STR_LIT("te")) ||
           hb_str_eq(n, HB_STR_LIT("content-length")) || hb_str_eq(n, HB_STR_LIT("host")) ||
           /* the writer's Connection: close nominates a field named close */
           ((m->flags & HB_MSG_CLOSE) && hb_str_eq_nocase(n, HB_STR_LIT("close")));
}

/* What must survive parse → write → parse: method, path, authority, the
 * framing and the forwarded fields (scheme and version are not written:
 * the writer uses origin-form and HTTP/1.1). */
static inline void h1t_roundtrip_dump(const struct hb_msg *m, char *dst, size_t cap)
{
    struct hb_msg c = *m;
    c.scheme = HB_STR_NULL;
    c.version = 0;
    /* (EXPECT_100 is not compared: "Connection: expect" makes Expect hop-by-hop) */
    c.flags &= HB_MSG_END_STREAM | HB_MSG_HAS_CL | HB_MSG_CHUNKED | HB_MSG_CLOSE;
    h1t_dump(&c, dst, cap, h1t_not_forwarded);
}

/* Write options that reproduce m's framing. */
static inline struct h1_write_opts h1t_opts_for(const struct hb_msg *m, enum h1_name_case nc)
{
    struct h1_write_opts o = {.name_case = nc};
    if (m->flags & HB_MSG_CHUNKED)
        o.framing = H1_FRAME_CHUNKED;
    else if (m->flags & HB_MSG_HAS_CL)
        o.framing = H1_FRAME_LENGTH;
    o.content_length = m->content_length;
    o.close = (m->flags & HB_MSG_CLOSE) != 0;
    return o;
}

/* The outcome of decoding a whole body, for comparing ways of feeding it. */
struct h1t_body_out {
    int rc; /* 0 done, 1 incomplete, or an H1_E* code */
    size_t data_len;
    uint64_t data_hash; /* FNV-1a of the data */
    char trailers[1024];
    size_t leftover; /* bytes after the body */
};

/* Decodes in[0..len) fed `step` bytes at a time, each call reading an
 * exact-size heap copy of the pending bytes (ASan sees any over-read). */
static inline void h1t_body_run(struct h1_body *b, const char *in, size_t len, size_t step,
                                struct h1t_body_out *o)
{
    char *pending = malloc(len + 1);
    size_t plen = 0, fed = 0;
    memset(o, 0, sizeof *o);
    o->rc = 1;
    o->data_hash = 1469598103934665603ull;
    while (fed < len || plen) {
        size_t n = len - fed < step ? len - fed : step;
        memcpy(pending + plen, in + fed, n);
        plen += n;
        fed += n;
        ptrdiff_t r;
        do {
            struct h1_body_event ev;
            struct hpack_field tr[16];
            char *c = malloc(plen ? plen : 1);
            memcpy(c, pending, plen);
            r = h1_body_parse(b, c, plen, tr, 16, &ev);
            if (r < 0) {
                o->rc = (int)r;
                free(c);
                free(pending);
                return;
            }
            for (size_t i = 0; i < ev.data_len; i++)
                o->data_hash = (o->data_hash ^ (unsigned char)ev.data[i]) * 1099511628211ull;
            o->data_len += ev.data_len;
            for (size_t i = 0; i < ev.ntrailers; i++) {
                h1t_cat(o->trailers, sizeof o->trailers, " | ", 3);
                h1t_cat(o->trailers, sizeof o->trailers, tr[i].name, tr[i].name_len);
                h1t_cat(o->trailers, sizeof o->trailers, ": ", 2);
                h1t_cat(o->trailers, sizeof o->trailers, tr[i].value, tr[i].value_len);
            }
            free(c);
            memmove(pending, pending + r, plen - (size_t)r);
            plen -= (size_t)r;
            if (ev.done) {
                o->rc = 0;
                o->leftover = plen + len - fed;
                free(pending);
                return;
            }
            if (r == 0 && ev.data_len == 0)
                break;
        } while (plen);
        if (fed == len && r == 0)
            break;
    }
    free(pending);
}

static inline bool h1t_body_same(const struct h1t_body_out *a, const struct h1t_body_out *b)
{
    return a->rc == b->rc &&
           (a->rc != 0 || (a->data_len == b->data_len && a->data_hash == b->data_hash &&
                           strcmp(a->trailers, b->trailers) == 0 && a->leftover == b->leftover));
}

#endif
