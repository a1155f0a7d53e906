/* What a parsed HTTP/1.1 head means: the fields that frame the message
 * (RFC 9112 §6.3) and route it (RFC 9112 §3.2). This is the code that decides
 * where a message ends, so it is where request smuggling is stopped: every
 * ambiguity is an error for requests and a never-reused connection for
 * responses. */
#include "core/h1_sem.h"

#include <stdint.h>
#include <string.h>

#include "core/h1_chars.h"
#include "core/h1_parse.h"

/* The largest Content-Length we accept: fits an off_t and never overflows
 * when added to a count. */
#define MAX_CONTENT_LENGTH ((unsigned long long)INT64_MAX)

struct framing {
    bool has_cl;
    int cl_err;
    uint64_t cl;
    bool has_te;
    int te_err;
    unsigned chunked;  /* times "chunked" appears */
    bool last_chunked; /* the final coding is chunked */
    bool other;        /* a coding other than chunked appears */
    unsigned hosts;
    struct hb_str host;
    bool close, keep_alive, conn_upgrade, upgrade, expect_100;
};

static struct hb_str fval(const struct hpack_field *f)
{
    return hb_str_make(f->value, f->value_len);
}

static bool name_is(const struct hpack_field *f, const char *lname, size_t n)
{
    return f->name_len == n && memcmp(f->name, lname, n) == 0;
}
#define NAME_IS(f, lit) name_is((f), (lit), sizeof(lit) - 1)

/* RFC 9110 §8.6: Content-Length = 1*DIGIT. A list of identical values (in
 * one line or several) is folded into one (the RFC allows it); differing
 * values are an error; anything with a sign, space or hex digit is invalid. */
static void content_length(struct framing *f, struct hb_str v)
{
    struct hb_str e;
    bool any = false;
    while (hb_str_next_list_elem(&v, &e)) {
        unsigned long long n;
        any = true;
        if (hb_str_to_u64(e, MAX_CONTENT_LENGTH, &n) != 0) {
            f->cl_err = f->cl_err ? f->cl_err : H1_ECL_INVALID;
            continue;
        }
        if (f->has_cl && f->cl != n && !f->cl_err)
            f->cl_err = H1_ECL_CONFLICT;
        f->has_cl = true;
        f->cl = n;
    }
    if (!any && !f->cl_err)
        f->cl_err = H1_ECL_INVALID;
    f->has_cl = true;
}

static bool is_token(struct hb_str s)
{
    if (s.len == 0)
        return false;
    for (size_t i = 0; i < s.len; i++)
        if (!h1_is((unsigned char)s.p[i], H1_C_TCHAR))
            return false;
    return true;
}

/* RFC 9112 §6.1: Transfer-Encoding = #transfer-coding; coding names are
 * case-insensitive; "chunked" takes no parameters (one with parameters is
 * treated as an unknown coding). Several lines form one list, in order. */
static void transfer_encoding(struct framing *f, struct hb_str v)
{
    struct hb_str e;
    bool any = false;
    f->has_te = true;
    while (hb_str_next_list_elem(&v, &e)) {
        any = true;
        const char *semi = memchr(e.p, ';', e.len);
        struct hb_str name = semi ? hb_str_trim_ows(hb_str_make(e.p, (size_t)(semi - e.p))) : e;
        if (!is_token(name)) {
            f->te_err = f->te_err ? f->te_err : H1_ETE_INVALID;
            continue;
        }
        bool chunked = !semi && hb_str_eq_lower(name, HB_STR_LIT("chunked"));
        f->chunked += chunked;
        f->other |= !chunked;
        f->last_chunked = chunked;
    }
    if (!any && !f->te_err)
        f->te_err = H1_ETE_INVALID;
}

static void connection(struct framing *f, struct hb_str v)
{
    struct hb_str e;
    while (hb_str_next_list_elem(&v, &e)) {
        if (hb_str_eq_lower(e, HB_STR_LIT("close")))
            f->close = true;
        else if (hb_str_eq_lower(e, HB_STR_LIT("keep-alive")))
            f->keep_alive = true;
        else if (hb_str_eq_lower(e, HB_STR_LIT("upgrade")))
            f->conn_upgrade = true;
    }
}

static void scan_fields(const struct hb_msg *m, struct framing *f)
{
    memset(f, 0, sizeof *f);
    for (uint32_t i = 0; i < m->nfields; i++) {
        const struct hpack_field *fl = &m->fields[i];
        switch (fl->name_len) {
        case 4:
            if (NAME_IS(fl, "host")) {
                f->hosts++;
                f->host = fval(fl);
            }
            break;
        case 6:
            if (NAME_IS(fl, "expect"))
                f->expect_100 |= hb_str_eq_lower(fval(fl), HB_STR_LIT("100-continue"));
            break;
        case 7:
            if (NAME_IS(fl, "upgrade"))
                f->upgrade = true;
            break;
        case 10:
            if (NAME_IS(fl, "connection"))
                connection(f, fval(fl));
            break;
        case 14:
            if (NAME_IS(fl, "content-length"))
                content_length(f, fval(fl));
            break;
        case 17:
            if (NAME_IS(fl, "transfer-encoding"))
                transfer_encoding(f, fval(fl));
            break;
        default:
            break;
        }
    }
}

/* uri-host [ ":" port ] with the characters of RFC 3986 authority minus
 * userinfo ('@' is refused: RFC 9110 §4.2.4). Empty is allowed (§7.2). */
static bool valid_authority(struct hb_str s)
{
    for (size_t i = 0; i < s.len; i++)
        if (!h1_is((unsigned char)s.p[i], H1_C_AUTH))
            return false;
    return true;
}

/* authority-form = uri-host ":" port, both non-empty (RFC 9112 §3.2.3). */
static bool authority_form(struct hb_str t)
{
    if (!valid_authority(t))
        return false;
    size_t colon = t.len;
    while (colon > 0 && t.p[colon - 1] != ':')
        colon--;
    if (colon < 2 || colon == t.len)
        return false;
    for (size_t i = colon; i < t.len; i++)
        if (t.p[i] < '0' || t.p[i] > '9')
            return false;
    return true;
}

/* absolute-form (RFC 9112 §3.2.2), http and https only. */
static int absolute_form(struct hb_msg *m, char *t, size_t len)
{
    size_t i = 0;
    while (i < len && h1_is((unsigned char)t[i], H1_C_SCHEME))
        i++;
    if (i == 0 || i + 3 > len || memcmp(t + i, "://", 3) != 0)
        return H1_ETARGET_FORM;
    struct hb_str scheme = hb_str_make(t, i);
    if (!hb_str_eq_lower(scheme, HB_STR_LIT("http")) &&
        !hb_str_eq_lower(scheme, HB_STR_LIT("https")))
        return H1_ETARGET_FORM;
    size_t a = i + 3, k = a;
    while (k < len && h1_is((unsigned char)t[k], H1_C_AUTH))
        k++;
    if (k == a || (k < len && t[k] != '/' && t[k] != '?'))
        return H1_ETARGET; /* empty host, userinfo or junk in the authority */
    m->scheme = scheme;
    if (k < len && t[k] == '?') {
        /* "http://a?q": path-abempty is empty, the h2 :path must be "/?q".
         * Move the authority over the second '/' to make room for one. */
        memmove(t + a - 1, t + a, k - a);
        t[k - 1] = '/';
        m->authority = hb_str_make(t + a - 1, k - a);
        m->path = hb_str_make(t + k - 1, len - k + 1);
    } else {
        m->authority = hb_str_make(t + a, k - a);
        m->path = k < len ? hb_str_make(t + k, len - k) : HB_STR_LIT("/");
    }
    return 0;
}

static int request_target(struct hb_msg *m, char *t, size_t len, const struct framing *f)
{
    bool connect = hb_str_eq(m->method, HB_STR_LIT("CONNECT"));
    if (connect) {
        /* RFC 9112 §3.2.3: CONNECT takes authority-form, and only it does. */
        if (!authority_form(hb_str_make(t, len)))
            return H1_ETARGET_FORM;
        m->authority = hb_str_make(t, len);
        return 0;
    }
    if (t[0] == '/') {
        m->path = hb_str_make(t, len);
        m->authority = f->host;
        return 0;
    }
    if (len == 1 && t[0] == '*') {
        /* RFC 9112 §3.2.4: asterisk-form is for server-wide OPTIONS only. */
        if (!hb_str_eq(m->method, HB_STR_LIT("OPTIONS")))
            return H1_ETARGET_FORM;
        m->path = hb_str_make(t, 1);
        m->authority = f->host;
        return 0;
    }
    return absolute_form(m, t, len);
}

/* A body framed by a valid Content-Length (RFC 9112 §6.3 item 6), the same
 * for requests and responses. */
static int content_length_framing(struct hb_msg *m, const struct framing *f)
{
    if (f->cl_err)
        return f->cl_err;
    m->flags |= HB_MSG_HAS_CL;
    m->content_length = f->cl;
    if (f->cl == 0)
        m->flags |= HB_MSG_END_STREAM;
    return 0;
}

/* RFC 9112 §6.3 items 3-4 and 6 for a request. */
static int request_framing(struct hb_msg *m, const struct framing *f)
{
    if (f->has_te) {
        if (f->te_err)
            return f->te_err;
        if (m->version == 10)
            return H1_ETE_HTTP10; /* §6.1: framing faulty; we refuse it */
        if (f->has_cl)
            return H1_ETE_WITH_CL; /* §6.1: MAY reject; the CL.TE/TE.CL vector */
        if (f->chunked > 1)
            return H1_ETE_CHUNKED_TWICE;
        if (!f->last_chunked)
            return H1_ETE_NOT_CHUNKED; /* §6.3 item 4: MUST 400 */
        if (f->other)
            return H1_ETE_UNSUPPORTED; /* §6.1: SHOULD 501 (we cannot decode it) */
        m->flags |= HB_MSG_CHUNKED;
        return 0;
    }
    if (f->has_cl)
        return content_length_framing(m, f);
    m->flags |= HB_MSG_END_STREAM; /* §6.3 item 7: no body */
    return 0;
}

int h1_request_semantics(struct hb_msg *m, char *target, size_t target_len)
{
    struct framing f;
    scan_fields(m, &f);
    /* RFC 9112 §3.2: exactly one valid Host in HTTP/1.1 (at most one in 1.0). */
    if (f.hosts > 1)
        return H1_EHOST_DUP;
    if (f.hosts == 0 && m->version == 11)
        return H1_EHOST_MISSING;
    if (f.hosts && !valid_authority(f.host))
        return H1_EHOST_INVALID;
    int e = request_target(m, target, target_len, &f);
    if (e < 0)
        return e;
    e = request_framing(m, &f);
    if (e < 0)
        return e;
    if (f.close || (m->version == 10 && !f.keep_alive))
        m->flags |= HB_MSG_CLOSE;
    if (f.conn_upgrade && f.upgrade)
        m->flags |= HB_MSG_UPGRADE;
    /* RFC 9110 §10.1.1: a 100-continue in HTTP/1.0 is ignored. */
    if (f.expect_100 && m->version == 11)
        m->flags |= HB_MSG_EXPECT_100;
    return 0;
}

static void remove_content_length(struct hb_msg *m)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < m->nfields; i++)
        if (!NAME_IS(&m->fields[i], "content-length"))
            m->fields[k++] = m->fields[i];
    m->nfields = k;
}

/* RFC 9112 §6.3 items 3 and 5-8 for a response that has a body. */
static int response_body_framing(struct hb_msg *m, const struct framing *f)
{
    if (f->has_te) {
        if (f->te_err)
            return f->te_err;
        if (m->version == 10)
            return H1_ETE_HTTP10;
        if (f->chunked > 1)
            return H1_ETE_CHUNKED_TWICE;
        if (f->has_cl) {
            /* §6.3 item 3: TE overrides CL; the CL must not be forwarded
             * and the connection must not be reused. */
            remove_content_length(m);
            m->flags |= HB_MSG_NO_REUSE | HB_MSG_CLOSE;
        }
        if (f->other)
            m->flags |= HB_MSG_TE_CODED;
        if (f->last_chunked)
            m->flags |= HB_MSG_CHUNKED;
        else
            m->flags |= HB_MSG_CLOSE_DELIM | HB_MSG_CLOSE;
        return 0;
    }
    if (f->has_cl)
        return content_length_framing(m, f);
    m->flags |= HB_MSG_CLOSE_DELIM | HB_MSG_CLOSE; /* §6.3 item 8 */
    return 0;
}

int h1_response_semantics(struct hb_msg *m, unsigned req)
{
    struct framing f;
    scan_fields(m, &f);
    int s = m->status;
    if (s < 200 || s == 204 || s == 304 || (req & H1_REQ_HEAD) ||
        ((req & H1_REQ_CONNECT) && s < 300)) {
        /* §6.3 items 1-2: no body whatever the fields say. A CL here is
         * metadata forwarded as is, so it must still be valid. */
        if (f.has_cl && f.cl_err && !f.has_te)
            return f.cl_err;
        m->flags |= HB_MSG_END_STREAM;
        if (s == 101 || ((req & H1_REQ_CONNECT) && s >= 200 && s < 300))
            m->flags |= HB_MSG_TUNNEL;
    } else {
        int e = response_body_framing(m, &f);
        if (e < 0)
            return e;
    }
    if (f.close || (m->version == 10 && !f.keep_alive))
        m->flags |= HB_MSG_CLOSE;
    if (f.conn_upgrade && f.upgrade)
        m->flags |= HB_MSG_UPGRADE;
    return 0;
}
