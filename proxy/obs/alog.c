/* proxy/obs/alog.c — from a request's record to a line in the thread's
 * ring (see alog.h). */
#include "proxy/obs/alog.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/ssl.h>

#include "core/err.h"
#include "core/log.h"
#include "proxy/exchange/exchange.h"
#include "proxy/front/conn.h"
#include "proxy/worker.h"

static enum px_alog_format format_of(enum cfg_access_format f)
{
    switch (f) {
    case CFG_ACCESS_COMBINED: return PX_ALOG_COMBINED;
    case CFG_ACCESS_COMMON: return PX_ALOG_COMMON;
    case CFG_ACCESS_JSON: return PX_ALOG_JSON;
    case CFG_ACCESS_TEMPLATE: return PX_ALOG_TEMPLATE;
    }
    return PX_ALOG_COMBINED;
}

static int compile(const struct cfg_logging *lg, struct px_alog_prog *p, struct px_alog_error *e)
{
    const char *t = lg->access_log_template.s;
    return px_alog_compile(p, format_of(lg->access_log_format), t, t ? strlen(t) : 0, e);
}

int px_alog_check(const struct cfg *cfg, struct cfg_errors *errs)
{
    const struct cfg_logging *lg = &cfg->logging;
    if (lg->access_log_format != CFG_ACCESS_TEMPLATE || !lg->access_log_template.s)
        return 0;
    struct px_alog_prog p;
    struct px_alog_error e;
    int rc = compile(lg, &p, &e);
    if (rc == 0) {
        px_alog_prog_free(&p);
        return 0;
    }
    if (rc == HB_EINVAL) {
        struct cfg_mark m = lg->access_log_template.mark;
        if (lg->access_log_template_exact)
            m.col += (uint32_t)e.offset;
        cfg_errors_add(errs, &m, "%s in logging.access_log_template", e.msg);
    } else {
        cfg_errors_add(errs, &lg->access_log_template.mark, "expected memory, found none");
    }
    return -1;
}

struct px_alog *px_alog_new(const struct cfg *cfg, bool *failed)
{
    *failed = false;
    if (!cfg->logging.access_log.s)
        return NULL;
    struct px_alog *a = calloc(1, sizeof *a);
    if (a) {
        a->line_max = cfg->logging.access_log_line_max;
        a->line = malloc(a->line_max);
    }
    if (!a || !a->line || compile(&cfg->logging, &a->prog, &(struct px_alog_error){0}) != 0) {
        hb_error("access log: the format did not compile (out of memory?)");
        if (a)
            free(a->line);
        free(a);
        *failed = true;
        return NULL;
    }
    return a;
}

void px_alog_del(struct px_alog *a)
{
    if (!a)
        return;
    px_alog_prog_free(&a->prog);
    free(a->line);
    free(a);
}

void px_alog_writer_opts(const struct cfg *cfg, struct px_logw_opts *o)
{
    const struct cfg_logging *lg = &cfg->logging;
    *o = (struct px_logw_opts){
        .access_path = lg->access_log.s,
        .error_path = lg->error_log.s,
        .ring_size = lg->access_log_buffer,
        .flush_ms = lg->access_log_flush_ms,
        .stop_ms = cfg->limits.shutdown_timeout_ms + 1000,
    };
}

static struct hb_str protocol(const struct px_fconn *fc, int version)
{
    if (version == 20)
        return fc->io.ssl ? HB_STR_LIT("h2") : HB_STR_LIT("h2c");
    return version == 10 ? HB_STR_LIT("http/1.0") : HB_STR_LIT("http/1.1");
}

void px_alog_entry_make(const struct px_fconn *fc, const struct px_ex_record *r,
                        uint64_t uses, struct px_alog_entry *e)
{
    struct timespec now = {0};
    if (uses & (1ull << PX_ALOG_TIME | 1ull << PX_ALOG_TIME_CLF))
        clock_gettime(CLOCK_REALTIME, &now); /* vDSO: no system call */
    int64_t dur = r->t_end && r->t_start ? (int64_t)(r->t_end - r->t_start) : 0;
    /* The C strings are measured only when shown (each is a strlen). */
#define SHOWN(f) (uses >> (f) & 1u)
#define CSTR(f, s) (SHOWN(f) ? hb_str_c(s) : HB_STR_NULL)
    *e = (struct px_alog_entry){
        .time_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec - dur,
        .client_addr = r->client_addr.len ? r->client_addr
                                          : CSTR(PX_ALOG_CLIENT_ADDR, fc->peer_addr),
        .client_port = fc->peer_port,
        .listener = CSTR(PX_ALOG_LISTENER, fc->l ? fc->l->label : NULL),
        .protocol = protocol(fc, r->version),
        .version = r->version ? r->version : 11,
        .stream_id = r->sid,
        .method = r->method,
        .authority = r->authority,
        .path = r->path,
        .status = r->status,
        .req_body_bytes = r->req_body_bytes,
        .resp_body_bytes = r->resp_body_bytes,
        .wire_in = r->wire_in,
        /* An h2 local answer's frames are not counted (exchange.h). */
        .wire_out = r->reason == PX_EX_END_LOCAL && r->version == 20 ? PX_ALOG_NO_BYTES
                                                                      : r->wire_out,
        .duration_ns = dur,
        .upstream = CSTR(PX_ALOG_UPSTREAM, r->upstream),
        .backend = CSTR(PX_ALOG_BACKEND, r->backend),
        .connect_ns = r->t_connected ? (int64_t)(r->t_connected - r->t_start) : -1,
        .first_byte_ns = r->t_first_byte ? (int64_t)(r->t_first_byte - r->t_start) : -1,
        .retries = r->retries,
        .end_reason = CSTR(PX_ALOG_END_REASON, px_ex_end_name(r->reason)),
        .end_detail = CSTR(PX_ALOG_END_DETAIL, r->detail),
        .request_id = r->request_id,
        .traceparent = r->traceparent,
        .user_agent = r->user_agent,
        .referer = r->referer,
        .tunnel = CSTR(PX_ALOG_TUNNEL, r->tunnel),
        .pushed_by = r->pushed_by,
    };
#undef CSTR
#undef SHOWN
    SSL *ssl = fc->io.ssl;
    const uint64_t tls_fields =
        1ull << PX_ALOG_TLS_VERSION | 1ull << PX_ALOG_TLS_CIPHER | 1ull << PX_ALOG_SNI;
    if (ssl && (uses & tls_fields)) {
        const SSL_CIPHER *c = SSL_get_current_cipher(ssl);
        e->tls_version = hb_str_c(SSL_get_version(ssl));
        e->tls_cipher = hb_str_c(c ? SSL_CIPHER_get_name(c) : NULL);
        e->sni = hb_str_c(SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name));
    }
}

void px_alog_request(struct px_alog *a, const struct px_fconn *fc, const struct px_ex_record *r)
{
    if (!a)
        return;
    struct px_alog_entry e;
    px_alog_entry_make(fc, r, a->prog.uses, &e);
    size_t n = px_alog_format(&a->prog, &e, a->line, a->line_max);
    px_logw_append(PX_LOG_ACCESS, a->line, n);
}
