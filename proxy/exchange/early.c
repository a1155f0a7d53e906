/* proxy/exchange/early.c — TLS early data admission and the backend's 425 (early.h). */
#include "proxy/exchange/early.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "proxy/exchange/exchange_int.h"
#include "proxy/front/conn.h"
#include "proxy/obs/hooks.h"
#include "proxy/obs/stats.h"

bool px_early_safe_method(struct hb_str m)
{
    return hb_str_eq(m, hb_str_c("GET")) || hb_str_eq(m, hb_str_c("HEAD")) ||
           hb_str_eq(m, hb_str_c("OPTIONS"));
}

int px_early_admit(struct px_fconn *fc, const struct hb_msg *req, bool end_stream, bool tunnel,
                   uint8_t *early, char *why, size_t size)
{
    if (!end_stream || tunnel || !px_early_safe_method(req->method)) {
        snprintf(why, size, "%.*s%s in TLS early data", (int)req->method.len, req->method.p,
                 tunnel ? " tunnel" : !end_stream ? " with a body" : "");
        px_stats_early(fc, PX_ST_EARLY_REFUSED);
        return 425;
    }
    *early = hb_msg_find(req, HB_STR_LIT("early-data")) ? PX_EX_EARLY_CLIENT : PX_EX_EARLY_ADDED;
    px_stats_early(fc, PX_ST_EARLY_FORWARDED);
    return 0;
}

/* Takes our "early-data: 1" line out of the head written for the backend
 * (h1_write: lowercase or Title-Case names, one line per field). */
static void strip_early_data(struct px_exchange *ex)
{
    static const char line[] = "\r\nearly-data: 1\r\n";
    size_t n = sizeof line - 1;
    for (size_t i = 0; i + n <= ex->head_len; i++) {
        if (strncasecmp(ex->head + i, line, n) == 0) {
            memmove(ex->head + i + 2, ex->head + i + n, ex->head_len - i - n);
            ex->head_len -= n - 2;
            return;
        }
    }
}

bool px_ex_early_retry(struct px_exchange *ex)
{
    /* RFC 8470 §5.2: an intermediary MUST forward a 425 when the request it
     * received carried Early-Data (the client is an intermediary that
     * retries itself); otherwise it MAY retry, but only once the handshake
     * on the client's connection has finished. When it has not (the
     * backend answered within the client's round trip), the 425 goes to
     * the client, which sent early data and so retries it itself. */
    if (ex->early != PX_EX_EARLY_ADDED || ex->early_retried || px_fconn_early(ex->fc))
        return false;
    hb_info("client %s stream %u backend %s: 425 Too Early to a request from TLS early data; "
            "retried after the handshake",
            ex->fc->peer, ex->sid, px_ex_backend_name(ex));
    ex->early_retried = true;
    ex->early = PX_EX_EARLY_NO;
    strip_early_data(ex);
    px_stats_early(ex->fc, PX_ST_EARLY_RETRIED);
    px_ex_drop_backend(ex, false);
    ex->head_off = 0;
    ex->got_byte = false;
    ex->rec.t_first_byte = 0;
    hb_buf_consume(&ex->rin, hb_buf_len(&ex->rin));
    px_ex_connect(ex, false);
    return true;
}
