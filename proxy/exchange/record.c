/* proxy/exchange/record.c — px_ex_record_done, the one place where every
 * request's record arrives (see exchange.h): alone in its file so that the
 * access log and metrics plug in here, and so that a test binary can link
 * its own recorder instead (tests/proxy/test_exchange.c). */
#include <inttypes.h>

#include "core/log.h"
#include "proxy/exchange/exchange.h"
#include "proxy/front/conn.h"
#include "proxy/obs/alog.h"
#include "proxy/obs/hooks.h"
#include "proxy/worker.h"

static double ms_since(hb_ns_t t, hb_ns_t start)
{
    return t ? (double)(t - start) / (double)HB_NS_PER_MS : -1.0;
}

void px_ex_record_done(const struct px_fconn *fc, const struct px_ex_record *r)
{
    px_stats_request_done(fc, r);
    hb_debug("client %s stream %u: ended %s status %d upstream %s backend %s retries %u "
             "bytes in %" PRIu64 " out %" PRIu64 " ms connect %.3f first byte %.3f total %.3f",
             fc->peer, r->sid, px_ex_end_name(r->reason), r->status, r->upstream, r->backend,
             r->retries, r->req_body_bytes, r->resp_body_bytes, ms_since(r->t_connected, r->t_start),
             ms_since(r->t_first_byte, r->t_start), ms_since(r->t_end, r->t_start));
    px_alog_request(fc->w->alog, fc, r); /* NULL without logging.access_log */
}
