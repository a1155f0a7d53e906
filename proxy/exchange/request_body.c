/* proxy/exchange/request_body.c — the client's request body and trailers on
 * their way to the backend: framed (Content-Length as is, chunked with its
 * chunk headers and last chunk), capped at limits.max_request_body_size,
 * collected in reqbuf and written by the backend connection's write pass. */
#include <errno.h>

#include "core/err.h"
#include "core/h1_write.h"
#include "core/log.h"
#include "proxy/exchange/admit.h"
#include "proxy/exchange/exchange_int.h"
#include "proxy/front/conn.h"
#include "proxy/front/front.h"
#include "proxy/worker.h"

static int append_chunk(struct px_exchange *ex, const uint8_t *data, size_t len)
{
    char hdr[H1_CHUNK_HEADER_MAX];
    ptrdiff_t hl = h1_write_chunk_header(len, hdr, sizeof hdr);
    if (hl < 0)
        return HB_EINVAL;
    int rc = hb_buf_reserve(&ex->reqbuf, (size_t)hl + len + 2);
    if (rc == 0) {
        hb_buf_append(&ex->reqbuf, hdr, (size_t)hl);
        hb_buf_append(&ex->reqbuf, data, len);
        hb_buf_append(&ex->reqbuf, H1_CRLF, 2);
    }
    return rc;
}

static void body_appended(struct px_exchange *ex, int rc)
{
    if (rc != 0) {
        px_ex_fail(ex, 502, rc == HB_ENOMEM ? "out of memory for the request body"
                                            : "request body over the buffer limit");
        return;
    }
    if (ex->bc && px_ex_pump_request(ex) != 0)
        px_ex_write_failed(ex, errno);
}

void px_exchange_on_data(struct px_exchange *ex, const uint8_t *data, size_t len, bool end)
{
    if (px_ex_over(ex) || ex->state == PX_EX_BODY_DONE) {
        /* Nobody will read it: give the window back at once. */
        if (len)
            px_front_consumed(ex->fc, ex->sid, len);
        return;
    }
    if (ex->tun_eof) { /* a tunnel whose backend side is gone */
        if (len)
            px_front_consumed(ex->fc, ex->sid, len);
        return;
    }
    /* A body without Content-Length is capped as it arrives (the HTTP/1.1
     * frontend checks its own before; this catches HTTP/2). Tunnel bytes
     * are not a body. */
    ex->body_total += len;
    if (!ex->tun_kind && px_admit_body_over(&ex->fc->w->cfg->limits, ex->body_total)) {
        if (len)
            px_front_consumed(ex->fc, ex->sid, len);
        px_ex_fail(ex, 413, "request body over limits.max_request_body_size");
        return;
    }
    int rc = 0;
    ex->uncredited += len;
    if (end)
        ex->req_end = true;
    if (len)
        rc = ex->chunked ? append_chunk(ex, data, len) : hb_buf_append(&ex->reqbuf, data, len);
    if (rc == 0 && end && ex->chunked)
        rc = hb_buf_append(&ex->reqbuf, "0\r\n\r\n", 5);
    if (rc != 0) {
        body_appended(ex, rc);
        return;
    }
    /* Written when this pass of the event loop is done, not now: one TLS
     * read brings several DATA frames (up to 16 KiB each), and their bytes
     * then leave in one sendmsg() instead of one per frame. The copy into
     * reqbuf costs less than the system calls it saves. */
    if (ex->bc)
        px_ex_be(ex)->kick_write(ex->bc);
}

void px_exchange_on_trailers(struct px_exchange *ex, const struct hb_msg *trailers)
{
    ex->req_end = true;
    if (px_ex_over(ex) || ex->state == PX_EX_BODY_DONE)
        return;
    if (!ex->chunked) { /* Content-Length framing has no place for them */
        hb_debug("client %s stream %u: request trailers dropped (Content-Length body)",
                 ex->fc->peer, ex->sid);
        return;
    }
    size_t cap = 5 + 2;
    for (uint32_t i = 0; i < trailers->nfields; i++)
        cap += trailers->fields[i].name_len + trailers->fields[i].value_len + 4;
    int rc = hb_buf_reserve(&ex->reqbuf, cap);
    if (rc == 0) {
        ptrdiff_t n = h1_write_last_chunk(trailers->fields, trailers->nfields,
                                          px_front_name_case(ex->up->cfg->header_case),
                                          (char *)hb_buf_wptr(&ex->reqbuf), cap);
        if (n < 0)
            rc = HB_EINVAL;
        else
            hb_buf_commit(&ex->reqbuf, (size_t)n);
    }
    body_appended(ex, rc);
}
