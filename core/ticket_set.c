/* core/ticket_set.c — the shared ticket key set's encoding (ticket_set.h). */
#include "core/ticket_set.h"

#include <string.h>

#include "core/err.h"

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static int fail(const char **why, const char *w)
{
    *why = w;
    return HB_EPROTO;
}

int hb_tks_parse(const uint8_t *p, size_t len, struct hb_tks *out, const char **why)
{
    if (len < HB_TKS_HEAD)
        return fail(why, "not a ticket key set (shorter than its 22-byte header)");
    if (memcmp(p, "H2BT", 4) != 0)
        return fail(why, "not a ticket key set (bad magic)");
    if (p[4] != HB_TKS_FORMAT)
        return fail(why, "a ticket key set of an unknown format version");
    size_t n = p[5];
    if (n == 0 || n > HB_TKS_MAX)
        return fail(why, "a ticket key set with no keys or more than 8");
    memset(out, 0, sizeof *out);
    out->generation = get64(p + 6);
    out->created = get64(p + 14);
    size_t off = HB_TKS_HEAD;
    for (size_t i = 0; i < n; i++) {
        if (off >= len)
            return fail(why, "a ticket key set cut short");
        uint8_t kl = p[off++];
        if (kl != 48 && kl != 80)
            return fail(why, "a ticket key that is neither 48 nor 80 bytes");
        if (len - off < kl)
            return fail(why, "a ticket key set cut short");
        out->keys[i].len = kl;
        memcpy(out->keys[i].bytes, p + off, kl);
        off += kl;
    }
    if (off != len)
        return fail(why, "a ticket key set with bytes after its last key");
    out->n = n;
    return 0;
}

ptrdiff_t hb_tks_write(const struct hb_tks *s, uint8_t *out, size_t cap)
{
    if (s->n == 0 || s->n > HB_TKS_MAX)
        return HB_EINVAL;
    size_t need = HB_TKS_HEAD;
    for (size_t i = 0; i < s->n; i++) {
        if (s->keys[i].len != 48 && s->keys[i].len != 80)
            return HB_EINVAL;
        need += 1 + s->keys[i].len;
    }
    if (need > cap)
        return HB_ELIMIT;
    memcpy(out, "H2BT", 4);
    out[4] = HB_TKS_FORMAT;
    out[5] = (uint8_t)s->n;
    put64(out + 6, s->generation);
    put64(out + 14, s->created);
    size_t off = HB_TKS_HEAD;
    for (size_t i = 0; i < s->n; i++) {
        out[off++] = s->keys[i].len;
        memcpy(out + off, s->keys[i].bytes, s->keys[i].len);
        off += s->keys[i].len;
    }
    return (ptrdiff_t)off;
}

int hb_tks_rotate(struct hb_tks *s, const struct hb_tks_key *k, size_t keep, uint64_t now)
{
    if ((k->len != 48 && k->len != 80) || keep >= HB_TKS_MAX || s->n > HB_TKS_MAX)
        return HB_EINVAL;
    size_t old = s->n < keep ? s->n : keep;
    memmove(&s->keys[1], &s->keys[0], old * sizeof s->keys[0]);
    s->keys[0] = *k;
    s->n = old + 1;
    /* Keys dropped from the set leave no copy behind in it. */
    memset(&s->keys[s->n], 0, (HB_TKS_MAX - s->n) * sizeof s->keys[0]);
    s->generation++; /* an empty set is generation 0: the first is 1 */
    s->created = now;
    return 0;
}
