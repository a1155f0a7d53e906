/* proxy/exchange/finish.c — where every request ends (see exchange.h). */
#include "core/log.h"
#include "proxy/exchange/exchange_int.h"
#include "proxy/exchange/tunnel.h"
#include "proxy/front/conn.h"
#include "proxy/front/front.h"
#include "proxy/worker.h"

const char *px_ex_end_name(enum px_ex_end e)
{
    switch (e) {
    case PX_EX_END_COMPLETE:
        return "COMPLETE";
    case PX_EX_END_LOCAL:
        return "LOCAL";
    case PX_EX_END_BAD_REQUEST:
        return "BAD_REQUEST";
    case PX_EX_END_BACKEND_ERROR:
        return "BACKEND_ERROR";
    case PX_EX_END_TIMEOUT:
        return "TIMEOUT";
    case PX_EX_END_CLIENT_RESET:
        return "CLIENT_RESET";
    case PX_EX_END_CONN_CLOSED:
        return "CONN_CLOSED";
    case PX_EX_END_CLIENT_TIMEOUT:
        return "CLIENT_TIMEOUT";
    case PX_EX_END_CLIENT_STALLED:
        return "CLIENT_STALLED";
    }
    return "?";
}

const char *px_ex_state_name(enum px_ex_state s)
{
    switch (s) {
    case PX_EX_CONNECTING:
        return "CONNECTING";
    case PX_EX_WAIT_HEAD:
        return "WAIT_HEAD";
    case PX_EX_BODY:
        return "BODY";
    case PX_EX_BODY_DONE:
        return "BODY_DONE";
    case PX_EX_TUNNEL:
        return "TUNNEL";
    case PX_EX_FAILED:
        return "FAILED";
    case PX_EX_CLOSED:
        return "CLOSED";
    }
    return "?";
}

void px_ex_finish(struct px_exchange *ex, enum px_ex_end reason)
{
    if (ex->state == PX_EX_CLOSED)
        return;
    struct px_ex_record *r = &ex->rec;
    r->sid = ex->sid;
    r->status = ex->status;
    r->reason = reason;
    r->upstream = ex->up ? ex->up->cfg->name.s : "-";
    r->backend = px_ex_backend_name(ex);
    r->retries = (ex->tries ? ex->tries - 1 : 0) + (ex->retried ? 1 : 0);
    r->req_body_bytes = ex->body_total;
    r->t_end = hb_time_now_ns();
    px_ex_budget_release(ex);
    if (ex->counted) {
        ex->counted = false;
        ex->up->active--;
    }
    px_front_wire(ex->fc, ex->sid, &r->wire_in, &r->wire_out);
    if (ex->tun_kind) {
        if (ex->tun_up)
            r->tunnel = px_tun_kind_name(ex->tun_kind);
        px_tunnel_ended(ex);
    }
    ex->state = PX_EX_CLOSED;
    px_ex_record_done(ex->fc, r);
}
