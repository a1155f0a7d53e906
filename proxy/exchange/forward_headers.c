/* proxy/exchange/forward_headers.c — cookie joining and forwarding fields. */
#include "proxy/exchange/forward_headers.h"

#include <stdio.h>
#include <string.h>

#include "config/cfg.h"
#include "core/err.h"

#define EXTRA_FIELDS 11 /* cookie, xff, xfp, forwarded, via, request id, traceparent,
                           3 client certificate fields, early-data */

static bool cert_name(const struct px_fwd_opts *o, const struct hpack_field *f)
{
    for (int i = 0; o->cert_fields && i < 3; i++)
        if (f->name_len == o->cert_names[i].len &&
            memcmp(f->name, o->cert_names[i].p, f->name_len) == 0)
            return true;
    return false;
}

size_t px_fwd_fields_bound(const struct hb_msg *req)
{
    return req->nfields + EXTRA_FIELDS;
}

static bool name_is(const struct hpack_field *f, const char *lname)
{
    size_t n = strlen(lname);
    return f->name_len == n && memcmp(f->name, lname, n) == 0;
}

/* Joins every field named lname with sep into one arena string. Returns the
 * total length, or 0 when none (or -1 when out of memory). */
static long join(const struct hb_msg *req, const char *lname, const char *sep, const char *tail,
                 struct hb_arena *a, char **out)
{
    size_t total = 0, count = 0, seplen = strlen(sep), taillen = tail ? strlen(tail) : 0;
    for (uint32_t i = 0; i < req->nfields; i++) {
        if (name_is(&req->fields[i], lname)) {
            total += req->fields[i].value_len + (count ? seplen : 0);
            count++;
        }
    }
    if (count == 0 && !tail)
        return 0;
    total += taillen + (count && tail ? seplen : 0);
    char *p = hb_arena_alloc(a, total + 1);
    if (!p)
        return -1;
    size_t off = 0;
    for (uint32_t i = 0; i < req->nfields; i++) {
        const struct hpack_field *f = &req->fields[i];
        if (!name_is(f, lname))
            continue;
        if (off) {
            memcpy(p + off, sep, seplen);
            off += seplen;
        }
        memcpy(p + off, f->value, f->value_len);
        off += f->value_len;
    }
    if (tail) {
        if (off) {
            memcpy(p + off, sep, seplen);
            off += seplen;
        }
        memcpy(p + off, tail, taillen);
        off += taillen;
    }
    *out = p;
    return (long)off;
}

static int push_view(struct hpack_field *out, size_t cap, size_t *n, struct hb_str name,
                     struct hb_str value)
{
    if (*n == cap)
        return HB_ELIMIT;
    out[(*n)++] = (struct hpack_field){.name = name.p, .value = value.p,
                                       .name_len = (uint32_t)name.len,
                                       .value_len = (uint32_t)value.len};
    return 0;
}

static int push(struct hpack_field *out, size_t cap, size_t *n, const char *name,
                const char *value, size_t value_len)
{
    return push_view(out, cap, n, hb_str_c(name), hb_str_make(value, value_len));
}

static int push_joined(const struct hb_msg *req, const char *lname, const char *sep,
                       const char *tail, struct hb_arena *a, struct hpack_field *out, size_t cap,
                       size_t *n)
{
    char *v = NULL;
    long len = join(req, lname, sep, tail, a, &v);
    if (len < 0)
        return HB_ENOMEM;
    return v ? push(out, cap, n, lname, v, (size_t)len) : 0;
}

/* RFC 7239 §6: an IPv6 node is quoted and bracketed. */
static int forwarded_value(const struct px_fwd_opts *o, struct hb_arena *a, char **v)
{
    bool v6 = strchr(o->client_addr, ':') != NULL;
    size_t len = strlen(o->client_addr) + strlen(o->proto) + 20;
    *v = hb_arena_alloc(a, len);
    if (!*v)
        return HB_ENOMEM;
    snprintf(*v, len, v6 ? "for=\"[%s]\";proto=%s" : "for=%s;proto=%s", o->client_addr,
             o->proto);
    return 0;
}

int px_fwd_build(const struct hb_msg *req, const struct px_fwd_opts *o, struct hb_arena *a,
                 struct hpack_field *out, size_t cap, size_t *n)
{
    *n = 0;
    int rc = 0;
    for (uint32_t i = 0; i < req->nfields && rc == 0; i++) {
        const struct hpack_field *f = &req->fields[i];
        if (name_is(f, "cookie") || (o->x_forwarded_for && name_is(f, "x-forwarded-for")) ||
            (o->x_forwarded_proto && !o->keep_client_xfp && name_is(f, "x-forwarded-proto")) ||
            (o->forwarded && name_is(f, "forwarded")) || (o->via && name_is(f, "via")) ||
            (o->rid.len && f->name_len == o->rid_name.len &&
             memcmp(f->name, o->rid_name.p, o->rid_name.len) == 0) ||
            (o->traceparent.len && (name_is(f, "traceparent") || name_is(f, "tracestate"))) ||
            cert_name(o, f))
            continue;
        if (*n == cap)
            return HB_ELIMIT;
        out[(*n)++] = *f;
    }
    rc = push_joined(req, "cookie", "; ", NULL, a, out, cap, n);
    if (rc == 0 && o->x_forwarded_for)
        rc = o->keep_client_xff
                 ? push_joined(req, "x-forwarded-for", ", ", o->client_addr, a, out, cap, n)
                 : push(out, cap, n, "x-forwarded-for", o->client_addr, strlen(o->client_addr));
    bool their_xfp = o->keep_client_xfp && hb_msg_find(req, HB_STR_LIT("x-forwarded-proto"));
    if (rc == 0 && o->x_forwarded_proto && !their_xfp)
        rc = push(out, cap, n, "x-forwarded-proto", o->proto, strlen(o->proto));
    if (rc == 0 && o->forwarded) {
        char *v;
        rc = forwarded_value(o, a, &v);
        if (rc == 0)
            rc = o->keep_client_xff ? push_joined(req, "forwarded", ", ", v, a, out, cap, n)
                                    : push(out, cap, n, "forwarded", v, strlen(v));
    }
    if (rc == 0 && o->via) {
        /* RFC 9110 §7.6.3: received-protocol is the version of the request
         * as we received it (the client's protocol), then our pseudonym. */
        const char *v = req->version == 10   ? "1.0 h2bridge"
                        : req->version == 11 ? "1.1 h2bridge"
                                             : "2 h2bridge";
        rc = push_joined(req, "via", ", ", v, a, out, cap, n);
    }
    if (rc == 0 && o->rid.len)
        rc = push_view(out, cap, n, o->rid_name, o->rid);
    if (rc == 0 && o->traceparent.len)
        rc = push(out, cap, n, "traceparent", o->traceparent.p, o->traceparent.len);
    for (int i = 0; rc == 0 && o->cert_fields && i < 3; i++)
        if (o->cert_values[i].len)
            rc = push_view(out, cap, n, o->cert_names[i], o->cert_values[i]);
    if (rc == 0 && o->early_data && !hb_msg_find(req, HB_STR_LIT("early-data")))
        rc = push(out, cap, n, "early-data", "1", 1);
    return rc;
}

/* Trims spaces and tabs around s. */
static struct hb_str trim(struct hb_str s)
{
    while (s.len && (s.p[0] == ' ' || s.p[0] == '\t'))
        s.p++, s.len--;
    while (s.len && (s.p[s.len - 1] == ' ' || s.p[s.len - 1] == '\t'))
        s.len--;
    return s;
}

/* True when s is an IP address inside trusted. */
static bool trusted_ip(struct hb_str s, const struct cfg_networks *trusted, bool *is_ip)
{
    struct hb_cidr host;
    *is_ip = s.len && hb_cidr_parse(s.p, s.len, &host) == 0 && (host.bits == 128);
    return *is_ip && hb_cidr_contains_any(trusted->v, trusted->n, host.addr);
}

struct hb_str px_fwd_client_from_xff(const struct hb_msg *req, const struct cfg_networks *trusted)
{
    struct hb_str left = HB_STR_NULL;
    for (uint32_t i = req->nfields; i-- > 0;) {
        const struct hpack_field *f = &req->fields[i];
        if (!name_is(f, "x-forwarded-for"))
            continue;
        struct hb_str v = hb_str_make(f->value, f->value_len);
        while (v.len) { /* entries from the right */
            const char *comma = NULL;
            for (size_t k = v.len; k-- > 0;)
                if (v.p[k] == ',') {
                    comma = v.p + k;
                    break;
                }
            struct hb_str e = comma ? hb_str_make(comma + 1, (size_t)(v.p + v.len - comma - 1)) : v;
            v.len = comma ? (size_t)(comma - v.p) : 0;
            e = trim(e);
            if (!e.len)
                continue;
            bool ip;
            if (!trusted_ip(e, trusted, &ip))
                return e;
            left = e;
        }
    }
    return left;
}
