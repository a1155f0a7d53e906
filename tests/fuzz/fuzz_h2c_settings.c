/* Fuzz target: an HTTP2-Settings header value (proxy/front/h2c_upgrade.h decoder)
 * and, when it decodes, the upgrade of a fresh server connection with it
 * (core/h2_upgrade.h), the client preface, and a response on stream 1. */
#include <stddef.h>
#include <stdint.h>

#include "core/h2_conn.h"
#include "core/h2_upgrade.h"
#include "proxy/front/h2c_upgrade.h"

static const uint8_t preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
                                 "\x00\x00\x00\x04\x00\x00\x00\x00\x00";

static ptrdiff_t no_body(void *ud, uint32_t sid, uint8_t *dst, size_t max, bool *eof)
{
    (void)ud, (void)sid, (void)dst, (void)max;
    *eof = true;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t set[6 * 64];
    ptrdiff_t n = px_h2c_settings_decode((const char *)data, size, set, sizeof set);
    if (n < 0)
        return 0;
    if (n % 6 != 0)
        __builtin_trap(); /* the contract: whole settings only */
    struct h2_callbacks cb = {.read_data = no_body};
    struct h2_conn *c = h2_conn_new(H2_ROLE_SERVER, NULL, &cb, NULL);
    if (!c)
        return 0;
    struct hb_msg req = {.method = HB_STR_LIT("GET"), .path = HB_STR_LIT("/"),
                         .authority = HB_STR_LIT("localhost"), .flags = HB_MSG_END_STREAM};
    if (h2_conn_upgrade(c, set, (size_t)n, &req) == 0) {
        const uint8_t *out;
        ptrdiff_t k;
        h2_conn_recv(c, preface, sizeof preface - 1, 0);
        struct hb_msg resp = {.status = 200};
        h2_conn_submit_response(c, 1, &resp, false);
        h2_conn_resume_data(c, 1);
        while ((k = h2_conn_send(c, &out)) > 0)
            h2_conn_sent(c, (size_t)k);
    }
    h2_conn_del(c);
    return 0;
}
