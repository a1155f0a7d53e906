/* tools/origin/origin_inspect.c — /inspect: what this origin received.
 *
 * {"method":"POST","target":"/inspect?x=1","version":"HTTP/1.1",
 *  "headers":[["Host","a"],["X-Case","B"]],       (order, case, repeats kept)
 *  "conn_id":3,"conn_request":2,"peer":"127.0.0.1:51234",
 *  "body_length":5,"body_sha256":"<64 hex>"}
 *
 * Strings are JSON-escaped byte by byte: '"' and '\' with a backslash, and
 * every byte below 0x20 or from 0x7f up as \u00XX, so the output is ASCII
 * and a byte b of a field value reads back as the code point U+00bb. The head
 * part is built when the head arrives (its views die then); the body part is
 * appended once the body has been read and hashed.
 */
#include "tools/origin/origin.h"

#include <string.h>

#include "core/err.h"

void og_hex_sha256(const uint8_t d[SHA256_DIGEST_LENGTH], char out[65])
{
    static const char hx[] = "0123456789abcdef";
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++) {
        out[2 * i] = hx[d[i] >> 4];
        out[2 * i + 1] = hx[d[i] & 15];
    }
    out[64] = '\0';
}

static void json_str(struct evbuffer *b, struct hb_str s)
{
    size_t run = 0;
    evbuffer_add(b, "\"", 1);
    for (size_t i = 0; i < s.len; i++) {
        unsigned char ch = (unsigned char)s.p[i];
        if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\') {
            run++;
            continue;
        }
        evbuffer_add(b, s.p + i - run, run);
        run = 0;
        if (ch == '"' || ch == '\\')
            evbuffer_add_printf(b, "\\%c", ch);
        else
            evbuffer_add_printf(b, "\\u%04x", ch);
    }
    evbuffer_add(b, s.p + s.len - run, run);
    evbuffer_add(b, "\"", 1);
}

int og_inspect_begin(struct og_conn *c, const struct og_head *h)
{
    struct evbuffer *b = evbuffer_new();
    if (!b)
        return HB_ENOMEM;
    c->rq.aux = b;
    evbuffer_add(b, "{\"method\":", 10);
    json_str(b, h->method);
    evbuffer_add(b, ",\"target\":", 10);
    json_str(b, h->target);
    evbuffer_add_printf(b, ",\"version\":\"HTTP/1.%d\",\"headers\":[", h->minor);
    for (unsigned i = 0; i < h->nfields; i++) {
        evbuffer_add(b, i ? ",[" : "[", i ? 2 : 1);
        json_str(b, h->fields[i].name);
        evbuffer_add(b, ",", 1);
        json_str(b, h->fields[i].value);
        evbuffer_add(b, "]", 1);
    }
    evbuffer_add_printf(
        b, "],\"conn_id\":%llu,\"conn_request\":%u,\"peer\":", (unsigned long long)c->id, c->nreq);
    json_str(b, hb_str_c(c->peer));
    return 0;
}

void og_inspect_finish(struct og_conn *c)
{
    struct og_req *rq = &c->rq;
    uint8_t d[SHA256_DIGEST_LENGTH];
    char hex[65];

    SHA256_Final(d, &rq->sha);
    og_hex_sha256(d, hex);
    evbuffer_add_printf(rq->aux, ",\"body_length\":%llu,\"body_sha256\":\"%s\"}\n",
                        (unsigned long long)rq->body_len, hex);
    size_t len = evbuffer_get_length(rq->aux);
    og_resp_head(c, 200, "application/json", (int64_t)len, NULL);
    if (!rq->head_only) {
        evbuffer_add_buffer(og_out(c), rq->aux);
        rq->bytes_out = len;
    }
    rq->resp = OG_RESP_DONE;
}
