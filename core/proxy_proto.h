/* core/proxy_proto.h — the PROXY protocol (HAProxy's specification, v1 text
 * and v2 binary): the header an L4 load balancer puts in front of a
 * connection to say who the client is, and the one we send to a backend.
 *
 * Sans-IO: the parser looks at the first bytes of a connection and says
 * "need more", "a header of N bytes", or "not acceptable, because …"; the
 * writers fill a caller buffer. No allocation.
 *
 * Accepted (anything else is an error with a reason for the log line):
 *   v1: "PROXY TCP4 <src> <dst> <sport> <dport>\r\n", the same with TCP6,
 *       or "PROXY UNKNOWN…\r\n" (addresses unknown); at most 107 bytes.
 *   v2: the 12-byte signature, version 2, command LOCAL (a balancer's own
 *       health check: no client address) or PROXY with AF_INET or AF_INET6
 *       over STREAM, or AF_UNSPEC (no address); at most HB_PP_V2_MAX bytes
 *       in all. TLVs are walked (each must fit), PP2_TYPE_ALPN,
 *       PP2_TYPE_AUTHORITY and PP2_TYPE_SSL are reported, the others
 *       skipped (CRC32C is not checked: the balancer is trusted by network,
 *       not by checksum).
 */
#ifndef H2B_CORE_PROXY_PROTO_H
#define H2B_CORE_PROXY_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/str.h"

#define HB_PP_V1_MAX 107  /* the specification's longest v1 line */
#define HB_PP_V2_MAX 1024 /* longest v2 header accepted (16 + addresses + TLVs) */
#define HB_PP_V2_SIG "\r\n\r\n\0\r\nQUIT\n"

enum hb_pp_cmd {
    HB_PP_LOCAL, /* v2 LOCAL, v1 UNKNOWN, v2 AF_UNSPEC: no client address */
    HB_PP_PROXY, /* src/dst hold the client's and the balancer's addresses */
};

/* "LOCAL", "PROXY". Static storage. */
const char *hb_pp_cmd_name(enum hb_pp_cmd c);

struct hb_pp {
    int version; /* 1 or 2 */
    enum hb_pp_cmd cmd;
    struct sockaddr_storage src, dst; /* AF_INET or AF_INET6 when cmd is PROXY */
    socklen_t addr_len;
    struct hb_str alpn;      /* v2 PP2_TYPE_ALPN, a view into the input; else empty */
    struct hb_str authority; /* v2 PP2_TYPE_AUTHORITY (the client's SNI); else empty */
    bool ssl;                /* v2 PP2_TYPE_SSL with PP2_CLIENT_SSL: the client used TLS */
};

/* Parses the header at the start of p[0..len). Returns its length (> 0)
 * and fills *out; 0 when p is a prefix of an acceptable header (read
 * more); or HB_EPROTO with *why set to a static reason ("not a PROXY
 * protocol header", "v1 line longer than 107 bytes", …). Views in *out
 * point into p. */
ptrdiff_t hb_pp_parse(const uint8_t *p, size_t len, struct hb_pp *out, const char **why);

/* Writes a v1 line for src → dst (both AF_INET or both AF_INET6; other
 * pairs give "PROXY UNKNOWN\r\n"). Returns its length, or HB_ELIMIT when
 * cap is too small (HB_PP_V1_MAX always suffices). */
ptrdiff_t hb_pp_write_v1(const struct sockaddr *src, const struct sockaddr *dst, char *out,
                         size_t cap);

/* What PP2_TYPE_SSL says of the client's TLS (proxy_proto writers). */
struct hb_pp_ssl {
    uint8_t client;  /* PP2_CLIENT_SSL (1) | PP2_CLIENT_CERT_CONN (2) | PP2_CLIENT_CERT_SESS (4) */
    uint32_t verify; /* 0: the client presented a certificate and it was verified */
    struct hb_str version; /* PP2_SUBTYPE_SSL_VERSION ("TLSv1.3"), or empty: none */
    struct hb_str cipher;  /* PP2_SUBTYPE_SSL_CIPHER, or empty */
    struct hb_str cn;      /* PP2_SUBTYPE_SSL_CN (the client certificate's), or empty */
};

/* Writes a v2 header for src → dst (PROXY over STREAM; LOCAL when the
 * families differ or are not IP), with PP2_TYPE_ALPN and
 * PP2_TYPE_AUTHORITY when not empty and PP2_TYPE_SSL (with its sub-TLVs
 * that are not empty) when ssl is not NULL. Returns its length, HB_ELIMIT
 * when cap is too small, or HB_EINVAL when the TLVs would pass
 * HB_PP_V2_MAX. */
ptrdiff_t hb_pp_write_v2(const struct sockaddr *src, const struct sockaddr *dst,
                         struct hb_str alpn, struct hb_str authority,
                         const struct hb_pp_ssl *ssl, uint8_t *out, size_t cap);

#endif
