/* libFuzzer target over h2_conn_recv(): a server engine with small limits,
 * an application that answers every request (body, trailers, 1xx, resets)
 * and consumes request bodies, output drained after every chunk.
 *
 * Input: byte 0 picks the chunking of the rest (so split frames are
 * explored; 0 and multiples of 64 feed it whole); the rest is the client's byte stream (the
 * connection preface is prepended when the input does not carry it). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/h2_conn.h"
#include "core/h2_frame.h"

struct app {
    struct h2_conn *c;
    uint32_t served;
    size_t body_left[64];
};

static void on_request(void *ud, uint32_t id, const struct hb_msg *m, bool end)
{
    struct app *a = ud;
    struct hpack_field f[] = {{"content-type", "text/plain", 12, 10, 0}};
    struct hb_msg r = {.status = 200, .fields = f, .nfields = 1};
    a->served++;
    switch (id % 5) {
    case 0:
        h2_conn_submit_response(a->c, id, &r, true);
        break;
    case 1: {
        struct hb_msg info = {.status = 103};
        h2_conn_submit_response(a->c, id, &info, false);
    } /* fall through */
    case 2:
        a->body_left[id % 64] = 1000 + id * 997 % 70000;
        h2_conn_submit_response(a->c, id, &r, false);
        h2_conn_resume_data(a->c, id);
        break;
    case 3: {
        struct hpack_field t[] = {{"x-t", "1", 3, 1, 0}};
        struct hb_msg tm = {.fields = t, .nfields = 1};
        a->body_left[id % 64] = 10;
        h2_conn_submit_response(a->c, id, &r, false);
        h2_conn_submit_trailers(a->c, id, &tm);
        h2_conn_resume_data(a->c, id);
        break;
    }
    default:
        h2_conn_reset_stream(a->c, id, H2_REFUSED_STREAM);
    }
}

static void on_data(void *ud, uint32_t id, const uint8_t *d, size_t len, bool end)
{
    struct app *a = ud;
    if (id % 3)
        h2_conn_consumed(a->c, id, len);
}

static ptrdiff_t read_data(void *ud, uint32_t id, uint8_t *dst, size_t max, bool *eof)
{
    struct app *a = ud;
    size_t *left = &a->body_left[id % 64];
    size_t n = *left < max ? *left : max;
    memset(dst, 'x', n);
    *left -= n;
    *eof = *left == 0;
    return (ptrdiff_t)n;
}

static void drain(struct h2_conn *c)
{
    for (int i = 0; i < 64; i++) {
        const uint8_t *d;
        ptrdiff_t n = h2_conn_send(c, &d);
        if (n <= 0)
            return;
        h2_conn_sent(c, (size_t)n);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct h2_config cfg;
    h2_config_defaults(&cfg);
    cfg.max_concurrent_streams = 16;
    cfg.max_header_list_size = 4096;
    cfg.max_header_block_bytes = 8192;
    cfg.max_continuation_frames = 8;
    cfg.max_memory = 256 * 1024;
    cfg.enable_push = true;
    struct app a = {0};
    struct h2_callbacks cb = {on_request, on_data, NULL, NULL, NULL, read_data, NULL};
    a.c = h2_conn_new(H2_ROLE_SERVER, &cfg, &cb, &a);
    if (!a.c)
        return 0;
    hb_ns_t now = HB_NS_PER_SEC;
    /* 1..63 bytes per recv, or 0 → everything at once. */
    size_t chunk = size ? data[0] % 64 : 0;
    if (size) {
        data++;
        size--;
    }
    if (chunk == 0)
        chunk = size ? size : 1;
    if (size < H2_PREFACE_LEN || memcmp(data, H2_PREFACE, H2_PREFACE_LEN) != 0)
        h2_conn_recv(a.c, (const uint8_t *)H2_PREFACE, H2_PREFACE_LEN, now);
    for (size_t pos = 0; pos < size; pos += chunk) {
        size_t n = size - pos < chunk ? size - pos : chunk;
        if (h2_conn_recv(a.c, data + pos, n, now) < 0)
            break;
        drain(a.c);
        now += HB_NS_PER_MS;
    }
    h2_conn_on_timeout(a.c, now + 60 * HB_NS_PER_SEC);
    drain(a.c);
    (void)h2_conn_want_close(a.c);
    h2_conn_del(a.c);
    return 0;
}
