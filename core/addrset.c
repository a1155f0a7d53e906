/* core/addrset.c — address sets and their differences (addrset.h). */
#include "core/addrset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int hb_addr_cmp(const struct hb_addr *a, const struct hb_addr *b)
{
    if (a->len != b->len)
        return a->len < b->len ? -1 : 1;
    int c = memcmp(a->b, b->b, a->len <= 16 ? a->len : 16);
    if (c)
        return c;
    return a->port < b->port ? -1 : a->port > b->port ? 1 : 0;
}

static int cmp_void(const void *x, const void *y)
{
    return hb_addr_cmp(x, y);
}

/* Without inet_ntop: core has no socket headers (docs/design.md). */
const char *hb_addr_format(const struct hb_addr *a, char *buf, size_t size)
{
    if (a->len == 4) {
        snprintf(buf, size, "%u.%u.%u.%u:%u", a->b[0], a->b[1], a->b[2], a->b[3],
                 (unsigned)a->port);
        return buf;
    }
    /* RFC 5952: lowercase hex, no leading zeros, the longest run (>= 2) of
     * zero groups as "::" (the first of equals). */
    unsigned g[8];
    for (int i = 0; i < 8; i++)
        g[i] = (unsigned)a->b[2 * i] << 8 | a->b[2 * i + 1];
    int best = -1, best_len = 1;
    for (int i = 0; i < 8;) {
        if (g[i]) {
            i++;
            continue;
        }
        int j = i;
        while (j < 8 && g[j] == 0)
            j++;
        if (j - i > best_len) {
            best = i;
            best_len = j - i;
        }
        i = j;
    }
    char tmp[48];
    size_t o = 0;
    for (int i = 0; i < 8; i++) {
        if (i == best) {
            o += (size_t)snprintf(tmp + o, sizeof tmp - o, "::");
            i += best_len - 1;
            continue;
        }
        if (i && !(best >= 0 && i == best + best_len))
            tmp[o++] = ':';
        o += (size_t)snprintf(tmp + o, sizeof tmp - o, "%x", g[i]);
    }
    tmp[o] = 0;
    snprintf(buf, size, "[%s]:%u", tmp, (unsigned)a->port);
    return buf;
}

size_t hb_addrset_normalize(struct hb_addr *v, size_t n, size_t max)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof *v, cmp_void);
    size_t k = 1;
    for (size_t i = 1; i < n; i++)
        if (hb_addr_cmp(&v[i], &v[k - 1]) != 0)
            v[k++] = v[i];
    return k < max ? k : max;
}

bool hb_addrset_equal(const struct hb_addr *a, size_t na, const struct hb_addr *b, size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++)
        if (hb_addr_cmp(&a[i], &b[i]) != 0)
            return false;
    return true;
}

void hb_addrset_diff(const struct hb_addr *old, size_t nold, const struct hb_addr *new_,
                     size_t nnew, long *old_to_new, long *new_from_old,
                     struct hb_addrset_diff *d)
{
    /* Both sorted: one merge walk. */
    *d = (struct hb_addrset_diff){0};
    size_t i = 0, j = 0;
    while (i < nold || j < nnew) {
        int c = i == nold ? 1 : j == nnew ? -1 : hb_addr_cmp(&old[i], &new_[j]);
        if (c == 0) {
            if (old_to_new)
                old_to_new[i] = (long)j;
            if (new_from_old)
                new_from_old[j] = (long)i;
            d->kept++;
            i++;
            j++;
        } else if (c < 0) {
            if (old_to_new)
                old_to_new[i] = -1;
            d->removed++;
            i++;
        } else {
            if (new_from_old)
                new_from_old[j] = -1;
            d->added++;
            j++;
        }
    }
}

uint32_t hb_dns_next_ms(bool failed, bool has_ttl, uint32_t ttl_s, uint32_t interval_ms,
                        uint32_t min_interval_ms)
{
    uint64_t ms = interval_ms;
    if (failed)
        ms = min_interval_ms;
    else if (has_ttl && (uint64_t)ttl_s * 1000u < ms)
        ms = (uint64_t)ttl_s * 1000u;
    if (ms < min_interval_ms)
        ms = min_interval_ms;
    return (uint32_t)ms;
}
