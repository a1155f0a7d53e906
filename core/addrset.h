/* core/addrset.h — sets of backend addresses, sans-IO: what a DNS answer
 * becomes (sorted, without duplicates, capped) and what changed between two
 * answers (kept, added, removed), for proxy/backend/resolver.h and the
 * workers' adoption of a new set (proxy/backend/adopt.h).
 *
 * An address is IPv4 or IPv6 bytes plus a port, compared as bytes: no
 * sockets here, the caller converts to and from sockaddr.
 */
#ifndef H2B_CORE_ADDRSET_H
#define H2B_CORE_ADDRSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hb_addr {
    uint8_t len;   /* 4 (IPv4) or 16 (IPv6); IPv4 sorts first */
    uint8_t b[16]; /* network order; bytes past len are zero */
    uint16_t port; /* host order */
};

/* <0, 0, >0: by length (IPv4 first), then bytes, then port. */
int hb_addr_cmp(const struct hb_addr *a, const struct hb_addr *b);

/* "192.0.2.1:80", "[2001:db8::1]:80" into buf (at least HB_ADDR_STRLEN);
 * returns buf. */
#define HB_ADDR_STRLEN 56
const char *hb_addr_format(const struct hb_addr *a, char *buf, size_t size);

/* Sorts v[0..n) in place, drops repeats and keeps the first max (the lowest
 * addresses: the same answer in any order gives the same set, and a name
 * with more than max addresses gives a stable subset). Returns the new
 * count. */
size_t hb_addrset_normalize(struct hb_addr *v, size_t n, size_t max);

/* True when two normalized sets hold the same addresses. */
bool hb_addrset_equal(const struct hb_addr *a, size_t na, const struct hb_addr *b, size_t nb);

/* The difference from old[0..nold) to new[0..nnew), both normalized.
 * old_to_new[i] is the index in new of old[i], or -1 when it went away;
 * new_from_old[j] the index in old of new[j], or -1 when it is new (either
 * array may be NULL). Counts are returned in *d. */
struct hb_addrset_diff {
    size_t kept, added, removed;
};
void hb_addrset_diff(const struct hb_addr *old, size_t nold, const struct hb_addr *new_,
                     size_t nnew, long *old_to_new, long *new_from_old,
                     struct hb_addrset_diff *d);

/* When to resolve a name again, in ms: the answer's TTL (seconds; has_ttl
 * false when the answer had none, such as /etc/hosts) capped at
 * interval_ms, never below min_interval_ms. A failed resolution retries
 * after min_interval_ms (pass failed true). */
uint32_t hb_dns_next_ms(bool failed, bool has_ttl, uint32_t ttl_s, uint32_t interval_ms,
                        uint32_t min_interval_ms);

#endif
