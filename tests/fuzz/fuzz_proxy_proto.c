/* libFuzzer target: the PROXY protocol parser (core/proxy_proto.h). A
 * header never claims more bytes than it was given; every prefix of an
 * accepted header asks for more; an accepted PROXY header written again
 * (v1 and v2) parses to the same addresses. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "core/err.h"
#include "core/proxy_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    size_t n = a->ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
    return a->ss_family == b->ss_family && memcmp(a, b, n) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 2 * HB_PP_V2_MAX)
        return 0;
    uint8_t *p = malloc(size ? size : 1); /* exact size: ASan sees overreads */
    if (!p)
        return 0;
    memcpy(p, data, size);
    struct hb_pp pp;
    const char *why;
    ptrdiff_t n = hb_pp_parse(p, size, &pp, &why);
    if (n > (ptrdiff_t)size || (n < 0 && !why))
        abort();
    if (n > 0) {
        for (size_t i = 0; i < (size_t)n; i += 7) {
            struct hb_pp q;
            if (hb_pp_parse(p, i, &q, &why) != 0)
                abort();
        }
        if (pp.cmd == HB_PP_PROXY) {
            uint8_t out[HB_PP_V2_MAX];
            struct hb_pp q;
            /* The SSL TLV again with sub-TLVs: the ALPN and authority bytes
             * a second time, so it may pass HB_PP_V2_MAX (HB_EINVAL, then
             * written without them must fit: it is no longer than the input). */
            const struct hb_pp_ssl sub = {.client = 1, .version = pp.alpn, .cn = pp.authority};
            const struct hb_pp_ssl bare = {.client = 1};
            ptrdiff_t m = hb_pp_write_v2((void *)&pp.src, (void *)&pp.dst, pp.alpn, pp.authority,
                                         pp.ssl ? &sub : NULL, out, sizeof out);
            if (m == HB_EINVAL && pp.ssl)
                m = hb_pp_write_v2((void *)&pp.src, (void *)&pp.dst, pp.alpn, pp.authority,
                                   &bare, out, sizeof out);
            if (m <= 0 || hb_pp_parse(out, (size_t)m, &q, &why) != m ||
                !same_addr(&pp.src, &q.src) || !same_addr(&pp.dst, &q.dst) || q.ssl != pp.ssl)
                abort();
            char line[HB_PP_V1_MAX];
            m = hb_pp_write_v1((void *)&pp.src, (void *)&pp.dst, line, sizeof line);
            if (m <= 0 || hb_pp_parse((uint8_t *)line, (size_t)m, &q, &why) != m ||
                !same_addr(&pp.src, &q.src))
                abort();
        }
    }
    free(p);
    return 0;
}
