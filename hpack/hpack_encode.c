/* hpack/hpack_encode.c — encoding a header list as one header block
 * (RFC 7541 §6) with an indexing policy (§7.1) and table size signalling
 * (§4.2, §6.3). */
#include "hpack/hpack_internal.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_TABLE 4096u
#define DEFAULT_LARGE_VALUE 512u
#define DEFAULT_COOKIE_SHORT 20u

struct hpack_encoder {
    struct hpack_allocator a;
    struct hpack_table t;
    uint32_t cap;         /* our own cap on the table */
    uint32_t peer_max;    /* the peer's SETTINGS_HEADER_TABLE_SIZE */
    uint32_t target;      /* min(cap, peer_max): the size to use */
    uint32_t pending_min; /* smallest size used since the last block */
    int pending;          /* size update(s) owed at the next block start */
    uint32_t large_value;
    uint32_t cookie_short;
    uint32_t opts;
    char **never;   /* NUL-terminated names, each strlen + 1 bytes */
    size_t n_never; /* also the capacity of never: it grows one by one */
};

enum rep { REP_INDEX, REP_NOINDEX, REP_NEVER };

/* Static indexes of names the policy knows (RFC 7541 Appendix A). */
enum {
    S_AGE = 21,
    S_AUTHORIZATION = 23,
    S_CONTENT_LENGTH = 28,
    S_COOKIE = 32,
    S_ETAG = 34,
    S_IF_MODIFIED_SINCE = 40,
    S_IF_NONE_MATCH = 41,
    S_LOCATION = 46,
    S_PROXY_AUTHORIZATION = 49,
    S_SET_COOKIE = 55,
    S_PATH = 4,
};

struct hpack_encoder *hpack_encoder_new_with(const struct hpack_allocator *a)
{
    static const struct hpack_allocator plain;
    if (!a)
        a = &plain;
    struct hpack_encoder *e = hpack_mem_alloc(a, sizeof *e);
    if (!e)
        return NULL;
    memset(e, 0, sizeof *e);
    e->a = *a;
    /* Nothing else now: the table comes with the first block that indexes. */
    hpack_table_init(&e->t, DEFAULT_TABLE, 1, &e->a);
    e->cap = e->peer_max = e->target = DEFAULT_TABLE;
    e->pending_min = UINT32_MAX;
    e->large_value = DEFAULT_LARGE_VALUE;
    e->cookie_short = DEFAULT_COOKIE_SHORT;
    return e;
}

struct hpack_encoder *hpack_encoder_new(void)
{
    return hpack_encoder_new_with(NULL);
}

void hpack_encoder_del(struct hpack_encoder *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->n_never; i++)
        hpack_mem_free(&e->a, e->never[i], strlen(e->never[i]) + 1);
    hpack_mem_free(&e->a, e->never, e->n_never * sizeof *e->never);
    hpack_table_free(&e->t);
    struct hpack_allocator a = e->a;
    hpack_mem_free(&a, e, sizeof *e);
}

size_t hpack_encoder_mem(const struct hpack_encoder *e)
{
    size_t n = hpack_table_mem(&e->t) + e->n_never * sizeof *e->never;
    for (size_t i = 0; i < e->n_never; i++)
        n += strlen(e->never[i]) + 1;
    return n;
}

static void retarget(struct hpack_encoder *e)
{
    uint32_t want = e->peer_max < e->cap ? e->peer_max : e->cap;
    if (!e->pending) {
        if (want == e->t.max_size)
            return;
        e->pending_min = want;
    } else if (want < e->pending_min) {
        /* §4.2: when the size changes more than once before the next
         * block, the smallest one must be signalled too. */
        e->pending_min = want;
    }
    e->target = want;
    e->pending = 1;
}

void hpack_encoder_set_peer_max_table_size(struct hpack_encoder *e, uint32_t size)
{
    e->peer_max = size;
    retarget(e);
}

void hpack_encoder_set_table_cap(struct hpack_encoder *e, uint32_t cap)
{
    e->cap = cap;
    retarget(e);
}

void hpack_encoder_set_large_value(struct hpack_encoder *e, uint32_t len)
{
    e->large_value = len;
}

void hpack_encoder_set_cookie_short(struct hpack_encoder *e, uint32_t len)
{
    e->cookie_short = len;
}

void hpack_encoder_set_options(struct hpack_encoder *e, uint32_t opts)
{
    e->opts = opts;
}

int hpack_encoder_add_never_index(struct hpack_encoder *e, const char *name)
{
    size_t len = strlen(name) + 1;
    char *copy = hpack_mem_alloc(&e->a, len);
    char **v = copy ? hpack_mem_alloc(&e->a, (e->n_never + 1) * sizeof *v) : NULL;
    if (!v) {
        hpack_mem_free(&e->a, copy, len);
        return HPACK_ERR_NOMEM;
    }
    memcpy(copy, name, len);
    if (e->n_never)
        memcpy(v, e->never, e->n_never * sizeof *v);
    hpack_mem_free(&e->a, e->never, e->n_never * sizeof *v);
    v[e->n_never++] = copy;
    e->never = v;
    return 0;
}

size_t hpack_encode_bound(const struct hpack_field *fields, size_t n)
{
    /* Two size updates; per field a representation byte, two integers and
     * the raw strings (Huffman is used only when shorter); 4 bytes of slack
     * for put_string's trial Huffman coding. */
    size_t b = 2 * HPACK_INT_MAX_LEN + 4;
    for (size_t i = 0; i < n; i++)
        b += 1 + 2 * HPACK_INT_MAX_LEN + (size_t)fields[i].name_len + fields[i].value_len;
    return b;
}

static int configured_never(const struct hpack_encoder *e, const struct hpack_field *f)
{
    for (size_t i = 0; i < e->n_never; i++)
        if (strlen(e->never[i]) == f->name_len && memcmp(e->never[i], f->name, f->name_len) == 0)
            return 1;
    return 0;
}

/* The indexing policy (§7.1.3). sname is the field's static name index;
 * max the table size the block is encoded under. */
static enum rep policy(const struct hpack_encoder *e, const struct hpack_field *f, unsigned sname,
                       uint32_t max)
{
    if (f->flags & HPACK_FIELD_NEVER_INDEX)
        return REP_NEVER;
    if (e->opts & HPACK_ENC_INDEX_ALL) {
        if (e->n_never && configured_never(e, f))
            return REP_NEVER;
        return (uint64_t)f->name_len + f->value_len + HPACK_ENTRY_OVERHEAD <= max
                   ? REP_INDEX
                   : REP_NOINDEX;
    }
    switch (sname) {
    case S_AUTHORIZATION:
    case S_PROXY_AUTHORIZATION:
    case S_SET_COOKIE:
        return REP_NEVER;
    case S_COOKIE:
        /* Long cookie values are session secrets: never indexed, so they
         * cannot be probed through the table (§7.1). Short crumbs ("lang=en")
         * repeat on every request and are cheap to guess anyway. */
        if (f->value_len >= e->cookie_short)
            return REP_NEVER;
        break;
    case S_PATH:
        /* Paths rarely repeat within one table's lifetime (and a query may
         * carry tokens); "/" and "/index.html" are static entries anyway. */
        return REP_NOINDEX;
    case S_AGE:
    case S_CONTENT_LENGTH:
    case S_ETAG:
    case S_IF_MODIFIED_SINCE:
    case S_IF_NONE_MATCH:
    case S_LOCATION:
        /* Different on nearly every message: indexing would only evict
         * entries that do repeat. */
        return REP_NOINDEX;
    default:
        break;
    }
    if (e->n_never && configured_never(e, f))
        return REP_NEVER;
    if (f->value_len > e->large_value)
        return REP_NOINDEX;
    /* An entry larger than 3/4 of the table would evict nearly everything. */
    if ((uint64_t)f->name_len + f->value_len + HPACK_ENTRY_OVERHEAD > max / 4 * 3)
        return REP_NOINDEX;
    return REP_INDEX;
}

/* Bytes of v as an integer with a 7-bit prefix (§5.1). */
static size_t int7_len(uint32_t v)
{
    size_t n = 1;
    if (v >= 127)
        for (v -= 127, n++; v >= 128; v >>= 7)
            n++;
    return n;
}

/* §5.2: a string literal, Huffman-coded only when that is shorter. The
 * string is coded once, in place after room for the raw length prefix, and
 * abandoned as soon as it stops paying (hpack_encode_bound leaves the 4
 * bytes of slack this needs). */
static uint8_t *put_string(const struct hpack_encoder *e, uint8_t *o, const char *s,
                           uint32_t len)
{
    int ties = (e->opts & HPACK_ENC_HUFFMAN_TIES) != 0;
    if (!(e->opts & HPACK_ENC_NO_HUFFMAN) && (len > 0 || ties)) {
        uint8_t *h = o + int7_len(len);
        uint8_t *end = hpack_huff_encode_max(h, s, len, ties ? len : len - 1);
        if (end) {
            size_t hl = (size_t)(end - h);
            uint8_t *p = hpack_int_encode(o, 0x80, 7, (uint32_t)hl);
            if (p != h) /* a shorter length prefix */
                memmove(p, h, hl);
            return p + hl;
        }
    }
    o = hpack_int_encode(o, 0x00, 7, len);
    if (len)
        memcpy(o, s, len);
    return o + len;
}

static uint8_t *encode_field(struct hpack_encoder *e, const struct hpack_field *f, uint8_t *o)
{
    unsigned sname;
    unsigned sfull = hpack_static_find(f->name, f->name_len, f->value, f->value_len, &sname);
    enum rep rep = policy(e, f, sname, e->t.max_size);
    int full = 0;
    struct hpack_hashes h;
    uint32_t dyn =
        hpack_table_find(&e->t, f->name, f->name_len, f->value, f->value_len, &full, &h);
    if (rep != REP_NEVER) {
        /* §6.1: the whole field is already in a table. */
        if (sfull)
            return hpack_int_encode(o, 0x80, 7, sfull);
        if (full)
            return hpack_int_encode(o, 0x80, 7, HPACK_STATIC_COUNT + dyn);
    }
    uint32_t name_idx = sname ? sname : dyn ? HPACK_STATIC_COUNT + dyn : 0;
    if (rep == REP_INDEX)
        o = hpack_int_encode(o, 0x40, 6, name_idx);
    else
        o = hpack_int_encode(o, rep == REP_NEVER ? 0x10 : 0x00, 4, name_idx);
    if (!name_idx)
        o = put_string(e, o, f->name, f->name_len);
    o = put_string(e, o, f->value, f->value_len);
    /* Cannot fail: table_room() made room for every field indexed here. */
    if (rep == REP_INDEX)
        (void)hpack_table_insert(&e->t, f->name, f->name_len, f->value, f->value_len, &h);
    return o;
}

/* Grows the table for the fields of this block that will be indexed under
 * max, before anything changes: a failure leaves the encoder as it was.
 * The bound is every field of the block (cheap), except for the table's
 * first allocation: then only the fields the policy indexes count, so an
 * encoder whose blocks index nothing never allocates a table. Either way
 * the table never grows past what max can hold. */
static int table_room(struct hpack_encoder *e, const struct hpack_field *fields, size_t n,
                      uint32_t max)
{
    uint64_t all = 0;
    for (size_t i = 0; i < n; i++)
        all += (uint64_t)fields[i].name_len + fields[i].value_len;
    if (hpack_table_has_room(&e->t, all, n, max))
        return 0;
    if (e->t.ents)
        return hpack_table_fit(&e->t, all, n, max);
    uint64_t bytes = 0, count = 0;
    for (size_t i = 0; i < n; i++) {
        const struct hpack_field *f = &fields[i];
        unsigned sname;
        if (hpack_static_find(f->name, f->name_len, f->value, f->value_len, &sname))
            continue; /* a static index, or never indexed: no insert */
        if (policy(e, f, sname, max) != REP_INDEX)
            continue;
        bytes += (uint64_t)f->name_len + f->value_len;
        count++;
    }
    return count ? hpack_table_fit(&e->t, bytes, count, max) : 0;
}

ssize_t hpack_encode_block(struct hpack_encoder *e, const struct hpack_field *fields, size_t n,
                           uint8_t *out, size_t cap)
{
    if (cap < hpack_encode_bound(fields, n))
        return HPACK_ERR_BUFFER;
    if (table_room(e, fields, n, e->pending ? e->target : e->t.max_size) != 0)
        return HPACK_ERR_NOMEM;
    uint8_t *o = out;
    if (e->pending) {
        /* §4.2, §6.3: at the start of the block; the smallest size first
         * when the size went down and back up. */
        if (e->pending_min < e->target) {
            o = hpack_int_encode(o, 0x20, 5, e->pending_min);
            hpack_table_set_max(&e->t, e->pending_min);
        }
        o = hpack_int_encode(o, 0x20, 5, e->target);
        hpack_table_set_max(&e->t, e->target);
        e->pending = 0;
        e->pending_min = UINT32_MAX;
    }
    for (size_t i = 0; i < n; i++)
        o = encode_field(e, &fields[i], o);
    return o - out;
}
