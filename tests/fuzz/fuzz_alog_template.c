/* Fuzz target: the access log template compiler and formatter. The input's
 * first bytes pick the buffer size and fill an entry's strings; the rest is
 * the template. Every input must compile or fail with an offset inside the
 * template, and every line must fit its buffer, end in exactly one "\n" and
 * hold no other newline (log injection). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "proxy/obs/alog_fmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    size_t bufsize = PX_ALOG_MIN_LINE + (((size_t)data[0] << 8 | data[1]) % 8192);
    size_t split = data[2] % (size - 2); /* entry strings | template */
    const char *strs = (const char *)data + 3;
    size_t nstr = split;
    const char *tmpl = strs + nstr;
    size_t tlen = size - 3 - nstr;
    /* Every string field of the entry sees the same hostile bytes. */
    struct hb_str s = {strs, nstr};
    struct px_alog_entry e = {
        .time_ns = (int64_t)size * 1000003,
        .client_addr = s, .client_port = (uint16_t)size, .listener = s, .tls_version = s,
        .tls_cipher = s, .sni = s, .protocol = s, .version = 11, .stream_id = 1,
        .method = s, .authority = s, .path = s, .status = 200, .req_body_bytes = size,
        .resp_body_bytes = UINT64_MAX, .wire_in = 1, .wire_out = 2, .duration_ns = INT64_MAX,
        .upstream = s, .backend = s, .connect_ns = -1, .first_byte_ns = 0, .retries = 3,
        .end_reason = s, .end_detail = s, .request_id = s, .traceparent = s, .user_agent = s,
        .referer = s,
    };
    char *buf = malloc(bufsize);
    char *whole = malloc(1 << 20); /* room for any line of this input: the reference */
    if (!buf || !whole) {
        free(buf);
        free(whole);
        return 0;
    }
    for (int f = PX_ALOG_COMBINED; f <= PX_ALOG_TEMPLATE; f++) {
        struct px_alog_prog p;
        struct px_alog_error err;
        int rc = px_alog_compile(&p, (enum px_alog_format)f, tmpl, tlen, &err);
        if (rc == HB_EINVAL) {
            if (f != PX_ALOG_TEMPLATE || err.offset >= tlen || !strstr(err.msg, "expected"))
                __builtin_trap();
            continue;
        }
        if (rc != 0)
            continue; /* out of memory */
        size_t n = px_alog_format(&p, &e, buf, bufsize);
        if (n == 0 || n > bufsize || buf[n - 1] != '\n' || memchr(buf, '\n', n - 1) ||
            memchr(buf, '\r', n))
            __builtin_trap();
        /* The line, or its start then the marker: never other bytes. */
        size_t w = px_alog_format(&p, &e, whole, 1 << 20);
        size_t keep = n, mlen = strlen(PX_ALOG_TRUNCATED) + 1;
        if (n != w || memcmp(buf, whole, n) != 0) {
            if (n < mlen || memcmp(buf + n - mlen, PX_ALOG_TRUNCATED "\n", mlen) != 0)
                __builtin_trap();
            keep = n - mlen;
        }
        if (keep > w || memcmp(buf, whole, keep) != 0)
            __builtin_trap();
        px_alog_prog_free(&p);
    }
    free(buf);
    free(whole);
    return 0;
}
