/* proxy/exchange/pp_out.h — the PROXY protocol header sent to backends
 * (upstreams.*.proxy_protocol, docs/proxy.md).
 *
 * A header names one client connection: its address (the one a balancer's
 * own PROXY header gave, else the socket's peer) and the address it
 * connected to (the proxy's listening socket), and in v2 the ALPN protocol
 * and server name (SNI) the client negotiated, and that it used TLS
 * (PP2_TYPE_SSL). Both versions are built once per client connection, when
 * its first request needs one, and kept with it (fc->pp_out); the pool
 * copies the bytes into each connection it dials for that client, whose
 * idle connections it keys by fc->serial (proxy/backend/pool.h,
 * per_client) and closes when the client connection closes.
 */
#ifndef H2B_PROXY_EXCHANGE_PP_OUT_H
#define H2B_PROXY_EXCHANGE_PP_OUT_H

#include <stdint.h>

#include "core/proxy_proto.h"
#include "proxy/backend/pool.h"

struct px_fconn;

struct px_pp_out {
    struct px_pool_client v[2]; /* [0] v1, [1] v2; len 0: not built yet */
    uint8_t v1[HB_PP_V1_MAX];
    uint8_t v2[HB_PP_V2_MAX];
};

/* The lease key and header of version (1 or 2) for fc, built on first use.
 * NULL when out of memory (the caller answers 502 rather than send no
 * header). Owned by fc. */
const struct px_pool_client *px_pp_out_client(struct px_fconn *fc, int version);

/* fc closes: every per_client pool of its worker closes fc's idle
 * connections; frees fc->pp_out. */
void px_pp_out_forget(struct px_fconn *fc);

#endif
