/* proxy/front/front.c — an exchange's calls to its client connection, through the
 * protocol's operations (proxy/front/conn.h). */
#include "proxy/front/front.h"

#include "core/err.h"
#include "proxy/front/conn.h"

int px_front_submit_response(struct px_fconn *fc, uint32_t sid, const struct hb_msg *resp,
                             bool end)
{
    return fc->ops->submit_response(fc, sid, resp, end);
}

int px_front_submit_trailers(struct px_fconn *fc, uint32_t sid, const struct hb_msg *trailers)
{
    return fc->ops->submit_trailers(fc, sid, trailers);
}

void px_front_bind(struct px_fconn *fc, uint32_t sid, struct px_exchange *ex)
{
    fc->ops->bind(fc, sid, ex);
}

int px_front_resume_data(struct px_fconn *fc, uint32_t sid)
{
    return fc->ops->resume(fc, sid);
}

int px_front_consumed(struct px_fconn *fc, uint32_t sid, size_t n)
{
    return fc->ops->consumed(fc, sid, n);
}

int px_front_reset_stream(struct px_fconn *fc, uint32_t sid, uint32_t code)
{
    return fc->ops->reset(fc, sid, code);
}

void px_front_wire(const struct px_fconn *fc, uint32_t sid, uint64_t *in, uint64_t *out)
{
    *in = *out = 0;
    if (fc->ops && fc->ops->wire)
        fc->ops->wire(fc, sid, in, out);
}

bool px_front_can_push(const struct px_fconn *fc)
{
    return fc->ops && fc->ops->push_allowed && fc->ops->push_allowed(fc);
}

int64_t px_front_push_promise(struct px_fconn *fc, uint32_t sid, const struct hb_msg *req)
{
    if (!fc->ops || !fc->ops->push_promise)
        return HB_EUNSUPPORTED;
    return fc->ops->push_promise(fc, sid, req);
}

const char *px_front_scheme(const struct px_fconn *fc)
{
    return fc->io.ssl ? "https" : "http";
}
