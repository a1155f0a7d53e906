/* core/cidr.h — client networks: "192.0.2.0/24", "2001:db8::/32", or one
 * address ("127.0.0.1" = /32, "::1" = /128).
 *
 * Used for allow-lists and trust decisions (admin.allow,
 * request_id.trust). IPv4 networks are kept in their IPv4-mapped IPv6 form
 * (::ffff:a.b.c.d, prefix + 96), so an IPv4 client reaching a dual-stack
 * socket as ::ffff:a.b.c.d matches the same networks as one on an IPv4
 * socket. Pure functions: no allocation, any thread.
 */
#ifndef H2B_CORE_CIDR_H
#define H2B_CORE_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sockaddr;

struct hb_cidr {
    uint8_t addr[16]; /* network address, bits past the prefix zero */
    uint8_t bits;     /* prefix length over the 128-bit form, 0..128 */
};

/* Parses s[0..len) ("ADDR" or "ADDR/PREFIX", no spaces, IPv6 without
 * brackets). A prefix longer than the family allows (33 for IPv4, 129 for
 * IPv6) is an error; host bits set past the prefix are an error too
 * ("10.0.0.1/8": the operator probably meant something else). Returns 0 and
 * fills *out, or HB_EINVAL. */
int hb_cidr_parse(const char *s, size_t len, struct hb_cidr *out);

/* True when the 16-byte address (IPv4 as ::ffff:a.b.c.d) is inside c. */
bool hb_cidr_contains(const struct hb_cidr *c, const uint8_t addr[16]);

/* True when the 16-byte address is inside one of v[0..n). */
bool hb_cidr_contains_any(const struct hb_cidr *v, size_t n, const uint8_t addr[16]);

/* Converts an AF_INET or AF_INET6 socket address to the 16-byte form.
 * Returns false for other families. */
bool hb_cidr_addr_of(const struct sockaddr *sa, uint8_t out[16]);

/* True when sa (AF_INET or AF_INET6) is inside one of v[0..n). False for
 * n == 0 and for other families. */
bool hb_cidr_match_any(const struct hb_cidr *v, size_t n, const struct sockaddr *sa);

/* Writes "ADDR/PREFIX" (IPv4 networks in dotted form) into buf, always
 * NUL-terminated. Returns buf. */
char *hb_cidr_format(const struct hb_cidr *c, char *buf, size_t size);

#endif
