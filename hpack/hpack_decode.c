/* hpack/hpack_decode.c — decoding one complete header block (RFC 7541 §3,
 * §6) into a caller-provided field list and scratch buffer. */
#include "hpack/hpack_internal.h"

#include <stdlib.h>
#include <string.h>

struct hpack_decoder {
    struct hpack_allocator a;
    struct hpack_table t;
    uint32_t limit;     /* SETTINGS_HEADER_TABLE_SIZE in force (acked) */
    uint32_t min_limit; /* lowest limit set since the previous block */
    int need_update;    /* the next block must start with an update <= min_limit */
    int failed;         /* 0, or the sticky error */
    const char *detail;
    size_t max_list;
    size_t max_fields;
    /* Indexed literals decoded once the list is over its limits, when the
     * caller's scratch is too small for them: allocated the first time that
     * happens (tmp_cap bytes, the table size then) and kept. */
    char *tmp;
    size_t tmp_cap;
};

/* State of one hpack_decode_block() call. */
struct blk {
    const uint8_t *p, *end;
    struct hpack_field *fields;
    size_t nf, field_cap;
    char *scratch;
    size_t used, scratch_len;
    size_t budget; /* what is left of max_list_size */
    int over;      /* a limit was exceeded (OVER_*): decode, keep the table, store nothing */
};

/* A string literal (§5.2) located in the block, not yet decoded. */
struct lit {
    const uint8_t *src;
    uint32_t len;
    int huff;
};

#define STR_FULL 1 /* put_str: output larger than the room given */

#define OVER_SIZE 1   /* max_list_size */
#define OVER_FIELDS 2 /* max_fields */

const char *hpack_err_name(int err)
{
    switch (err) {
    case HPACK_OK:
        return "OK";
    case HPACK_ERR_COMPRESSION:
        return "COMPRESSION";
    case HPACK_ERR_LIST_TOO_LARGE:
        return "LIST_TOO_LARGE";
    case HPACK_ERR_NOMEM:
        return "NOMEM";
    case HPACK_ERR_BUFFER:
        return "BUFFER";
    default:
        return "UNKNOWN";
    }
}

/* Tables beyond this are refused: nobody needs 1 GiB. */
#define TABLE_LIMIT (UINT32_C(1) << 30)

struct hpack_decoder *hpack_decoder_new_with(uint32_t max_table_size,
                                             const struct hpack_allocator *a)
{
    static const struct hpack_allocator plain;
    if (!a)
        a = &plain;
    if (max_table_size > TABLE_LIMIT)
        return NULL;
    struct hpack_decoder *d = hpack_mem_alloc(a, sizeof *d);
    if (!d)
        return NULL;
    memset(d, 0, sizeof *d);
    d->a = *a;
    /* Nothing else now: the table rings come with the first insertion. */
    hpack_table_init(&d->t, max_table_size, 0, &d->a);
    d->limit = d->min_limit = max_table_size;
    d->max_list = 64 * 1024;
    d->max_fields = 256;
    d->detail = "";
    return d;
}

struct hpack_decoder *hpack_decoder_new(uint32_t max_table_size)
{
    return hpack_decoder_new_with(max_table_size, NULL);
}

void hpack_decoder_del(struct hpack_decoder *d)
{
    if (!d)
        return;
    hpack_table_free(&d->t);
    hpack_mem_free(&d->a, d->tmp, d->tmp_cap);
    struct hpack_allocator a = d->a;
    hpack_mem_free(&a, d, sizeof *d);
}

size_t hpack_decoder_mem(const struct hpack_decoder *d)
{
    return hpack_table_mem(&d->t) + d->tmp_cap;
}

void hpack_decoder_set_limits(struct hpack_decoder *d, size_t max_list_size, size_t max_fields)
{
    d->max_list = max_list_size;
    d->max_fields = max_fields;
}

void hpack_decoder_set_max_table_size(struct hpack_decoder *d, uint32_t max_table_size)
{
    d->limit = max_table_size;
    /* §4.2: the encoder must signal the smallest size it was allowed since
     * its last block if that is below the size it is using now. */
    if (max_table_size < d->t.max_size) {
        d->need_update = 1;
        if (max_table_size < d->min_limit)
            d->min_limit = max_table_size;
    }
}

const char *hpack_decoder_error_detail(const struct hpack_decoder *d)
{
    return d->detail ? d->detail : "";
}

size_t hpack_decoder_table_size(const struct hpack_decoder *d)
{
    return d->t.size;
}

static int fail(struct hpack_decoder *d, int err, const char *detail)
{
    d->failed = err;
    d->detail = detail;
    return err;
}

static int int_error(struct hpack_decoder *d, int r)
{
    return fail(d, HPACK_ERR_COMPRESSION,
                r == HPACK_INT_E_OVERFLOW ? "integer overflow" : "integer past the block end");
}

static int read_int(struct hpack_decoder *d, struct blk *b, unsigned n, uint32_t *v)
{
    int r = hpack_int_decode(&b->p, b->end, n, v);
    return r ? int_error(d, r) : 0;
}

/* Locates a string literal at b->p (§5.2) and moves past it. */
static int read_lit(struct hpack_decoder *d, struct blk *b, struct lit *l)
{
    if (b->p >= b->end)
        return fail(d, HPACK_ERR_COMPRESSION, "string past the block end");
    l->huff = *b->p & 0x80;
    int r = read_int(d, b, 7, &l->len);
    if (r)
        return r;
    if (l->len > (size_t)(b->end - b->p))
        return fail(d, HPACK_ERR_COMPRESSION, "string past the block end");
    l->src = b->p;
    b->p += l->len;
    return 0;
}

/* Decodes l into dst[0..cap) (dst NULL: only validates and counts). Returns
 * 0 with *len set, STR_FULL when it does not fit, or a compression error. */
static int put_str(struct hpack_decoder *d, const struct lit *l, char *dst, size_t cap,
                   size_t *len)
{
    if (!l->huff) {
        if (dst) {
            if (l->len > cap)
                return STR_FULL;
            memcpy(dst, l->src, l->len);
        }
        *len = l->len;
        return 0;
    }
    ptrdiff_t n = hpack_huff_decode(l->src, l->len, dst, cap);
    switch (n) {
    case HPACK_HUFF_E_FULL:
        return STR_FULL;
    case HPACK_HUFF_E_PAD_LONG:
        return fail(d, HPACK_ERR_COMPRESSION, "huffman padding longer than 7 bits");
    case HPACK_HUFF_E_PAD_BITS:
        return fail(d, HPACK_ERR_COMPRESSION, "huffman padding not all ones");
    case HPACK_HUFF_E_EOS:
        return fail(d, HPACK_ERR_COMPRESSION, "huffman EOS in string");
    default:
        *len = (size_t)n;
        return 0;
    }
}

/* Room a field may take in scratch for its name and value bytes, or 0 with
 * b->over set when the field cannot be stored at all. */
static int field_room(struct blk *b, size_t *room)
{
    if (!b->over && b->nf >= b->field_cap)
        b->over = OVER_FIELDS;
    else if (!b->over && b->budget < HPACK_ENTRY_OVERHEAD)
        b->over = OVER_SIZE;
    if (b->over)
        return 0;
    size_t list_room = b->budget - HPACK_ENTRY_OVERHEAD;
    size_t scratch_room = b->scratch_len - b->used;
    *room = list_room < scratch_room ? list_room : scratch_room;
    return 1;
}

/* Stores a field whose bytes are in place; charges the list budget. */
static void emit(struct blk *b, const char *name, size_t nl, const char *value, size_t vl,
                 uint32_t flags)
{
    struct hpack_field *f = &b->fields[b->nf++];
    f->name = name;
    f->name_len = (uint32_t)nl;
    f->value = value;
    f->value_len = (uint32_t)vl;
    f->flags = flags;
    b->budget -= nl + vl + HPACK_ENTRY_OVERHEAD;
}

/* A field that does not fit the list limits, or the scratch: which one?
 * Over the list limits, the block goes on without storing; otherwise the
 * caller's scratch is too small for its own limit: a failure. */
static int too_big(struct hpack_decoder *d, struct blk *b, size_t total)
{
    if (total + HPACK_ENTRY_OVERHEAD > b->budget) {
        b->over = OVER_SIZE;
        return 0;
    }
    return fail(d, HPACK_ERR_BUFFER, "scratch buffer too small");
}

/* §6.1 indexed header field. */
static int decode_indexed(struct hpack_decoder *d, struct blk *b)
{
    uint32_t idx;
    int r = read_int(d, b, 7, &idx);
    if (r)
        return r;
    if (idx == 0)
        return fail(d, HPACK_ERR_COMPRESSION, "index 0");
    size_t room;
    if (idx <= HPACK_STATIC_COUNT) {
        const struct hpack_static_entry *s = &hpack_static_table[idx];
        if (field_room(b, &room)) {
            if (s->name_len + s->value_len + HPACK_ENTRY_OVERHEAD > b->budget)
                b->over = OVER_SIZE;
            else
                emit(b, s->name, s->name_len, s->value, s->value_len, 0);
        }
        return 0;
    }
    const struct hpack_entry *e = hpack_table_get(&d->t, idx - HPACK_STATIC_COUNT);
    if (!e)
        return fail(d, HPACK_ERR_COMPRESSION, "index out of range");
    if (!field_room(b, &room))
        return 0;
    size_t total = (size_t)e->name_len + e->value_len;
    if (total > room) /* checked before any byte is copied: no amplification */
        return too_big(d, b, total);
    char *dst = b->scratch + b->used;
    hpack_table_copy(&d->t, e->off, (uint32_t)total, dst);
    b->used += total;
    emit(b, dst, e->name_len, dst + e->name_len, e->value_len, 0);
    return 0;
}

/* The name of a literal field: a static entry, a dynamic entry or a literal. */
struct lname {
    const char *fixed; /* static name (not copied) */
    const struct hpack_entry *e;
    struct lit lit;
    uint32_t fixed_len;
};

/* Decodes name n into dst[0..cap) unless it is static; *name, *len get it. */
static int put_name(struct hpack_decoder *d, const struct lname *n, char *dst, size_t cap,
                    const char **name, size_t *len)
{
    if (n->fixed) {
        *name = n->fixed;
        *len = n->fixed_len;
        return 0;
    }
    *name = dst;
    if (n->e) {
        *len = n->e->name_len;
        if (*len > cap)
            return STR_FULL;
        hpack_table_copy(&d->t, n->e->off, n->e->name_len, dst);
        return 0;
    }
    return put_str(d, &n->lit, dst, cap, len);
}

/* Length of name n without storing it (validates a literal). */
static int name_len(struct hpack_decoder *d, const struct lname *n, size_t *len)
{
    if (n->fixed || n->e) {
        *len = n->fixed ? n->fixed_len : n->e->name_len;
        return 0;
    }
    return put_str(d, &n->lit, NULL, 0, len);
}

/* The field does not fit its room: over the list limit, or scratch too small. */
static int literal_full(struct hpack_decoder *d, struct blk *b, const struct lname *n,
                        const struct lit *v)
{
    size_t nl, vl;
    int r = name_len(d, n, &nl);
    if (r == 0)
        r = put_str(d, v, NULL, 0, &vl);
    return r ? r : too_big(d, b, nl + vl);
}

/* Stores the field in the caller's scratch. Returns 0 (stored, or b->over
 * set) or an error. */
static int literal_store(struct hpack_decoder *d, struct blk *b, const struct lname *n,
                         const struct lit *v, int incr, uint32_t flags)
{
    size_t list_room = b->budget - HPACK_ENTRY_OVERHEAD;
    size_t scratch_room = b->scratch_len - b->used;
    char *dst = b->scratch + b->used;
    const char *name;
    size_t nl, vl;
    int r = put_name(d, n, dst, list_room < scratch_room ? list_room : scratch_room, &name, &nl);
    if (r == 0 && nl > list_room)
        r = STR_FULL;
    if (r == STR_FULL)
        return literal_full(d, b, n, v);
    if (r)
        return r;
    size_t in_scratch = name == dst ? nl : 0;
    list_room -= nl;
    scratch_room -= in_scratch;
    char *vdst = dst + in_scratch;
    r = put_str(d, v, vdst, list_room < scratch_room ? list_room : scratch_room, &vl);
    if (r == STR_FULL)
        return literal_full(d, b, n, v);
    if (r)
        return r;
    b->used += in_scratch + vl;
    emit(b, name, nl, vdst, vl, flags);
    /* After the copy: evicting the entry named by index is harmless. */
    if (incr && hpack_table_insert(&d->t, name, (uint32_t)nl, vdst, (uint32_t)vl, NULL) != 0)
        return fail(d, HPACK_ERR_NOMEM, "out of memory");
    return 0;
}

/* Where literal_skip decodes an entry of up to t.max_size bytes: the
 * caller's scratch when it is large enough (its fields are discarded anyway
 * once the list is over its limits), else d->tmp, allocated on first need. */
static char *skip_buf(struct hpack_decoder *d, struct blk *b, size_t *cap)
{
    *cap = d->t.max_size;
    if (b->scratch && b->scratch_len >= *cap)
        return b->scratch;
    if (d->tmp_cap < *cap) {
        char *tmp = hpack_mem_alloc(&d->a, *cap);
        if (!tmp)
            return NULL;
        hpack_mem_free(&d->a, d->tmp, d->tmp_cap);
        d->tmp = tmp;
        d->tmp_cap = *cap;
    }
    return d->tmp;
}

/* The list is over its limits: nothing is stored, but an incrementally
 * indexed field still enters the table (decoded into skip_buf), so both
 * ends' tables stay in sync. */
static int literal_skip(struct hpack_decoder *d, struct blk *b, const struct lname *n,
                        const struct lit *v, int incr)
{
    size_t nl, vl;
    if (!incr) {
        int r = name_len(d, n, &nl);
        return r ? r : put_str(d, v, NULL, 0, &vl);
    }
    if (d->t.max_size < HPACK_ENTRY_OVERHEAD) {
        /* No entry fits: validate the strings, and §4.4 empties the table. */
        int r = literal_full(d, &(struct blk){.over = OVER_SIZE}, n, v);
        if (r == 0)
            hpack_table_clear(&d->t);
        return r;
    }
    const char *name;
    size_t cap;
    char *buf = skip_buf(d, b, &cap);
    if (!buf)
        return fail(d, HPACK_ERR_NOMEM, "out of memory");
    int r = put_name(d, n, buf, cap, &name, &nl);
    size_t in_buf = name == buf ? nl : 0;
    if (r == 0)
        r = put_str(d, v, buf + in_buf, cap - in_buf, &vl);
    if (r == STR_FULL) {
        /* Larger than the table: §4.4 empties the table. */
        r = literal_full(d, &(struct blk){.over = OVER_SIZE}, n, v);
        if (r == 0)
            hpack_table_clear(&d->t);
        return r;
    }
    if (r == 0 && hpack_table_insert(&d->t, name, (uint32_t)nl, buf + in_buf, (uint32_t)vl,
                                     NULL) != 0)
        return fail(d, HPACK_ERR_NOMEM, "out of memory");
    return r;
}

/* §6.2 literal header field: with incremental indexing (01), without
 * indexing (0000) or never indexed (0001). */
static int decode_literal(struct hpack_decoder *d, struct blk *b)
{
    uint8_t first = *b->p;
    int incr = (first & 0x40) != 0;
    uint32_t flags = !incr && (first & 0x10) ? HPACK_FIELD_NEVER_INDEX : 0;
    uint32_t idx;
    int r = read_int(d, b, incr ? 6 : 4, &idx);
    if (r)
        return r;
    struct lname n = {0};
    struct lit v;
    if (idx == 0) {
        r = read_lit(d, b, &n.lit);
    } else if (idx <= HPACK_STATIC_COUNT) {
        n.fixed = hpack_static_table[idx].name;
        n.fixed_len = hpack_static_table[idx].name_len;
    } else if (!(n.e = hpack_table_get(&d->t, idx - HPACK_STATIC_COUNT))) {
        r = fail(d, HPACK_ERR_COMPRESSION, "index out of range");
    }
    if (r == 0)
        r = read_lit(d, b, &v);
    if (r)
        return r;
    size_t room;
    if (field_room(b, &room)) {
        r = literal_store(d, b, &n, &v, incr, flags);
        if (r || !b->over)
            return r;
    }
    return literal_skip(d, b, &n, &v, incr);
}

/* §4.2, §6.3: dynamic table size updates, only at the start of a block,
 * several allowed; each at most the limit, and one at most the lowest limit
 * since the last block when that went below the table's size. */
static int size_updates(struct hpack_decoder *d, struct blk *b)
{
    int seen_min = !d->need_update;
    while (b->p < b->end && (*b->p & 0xe0) == 0x20) {
        uint32_t v;
        int r = read_int(d, b, 5, &v);
        if (r)
            return r;
        if (v > d->limit)
            return fail(d, HPACK_ERR_COMPRESSION, "table size update above the limit");
        if (v <= d->min_limit)
            seen_min = 1;
        hpack_table_set_max(&d->t, v);
    }
    if (!seen_min)
        return fail(d, HPACK_ERR_COMPRESSION, "missing table size update");
    d->need_update = 0;
    d->min_limit = d->limit;
    return 0;
}

static int decode_fields(struct hpack_decoder *d, struct blk *b)
{
    while (b->p < b->end) {
        uint8_t c = *b->p;
        int r;
        if (c & 0x80)
            r = decode_indexed(d, b);
        else if ((c & 0xe0) == 0x20)
            r = fail(d, HPACK_ERR_COMPRESSION, "table size update not at the start of the block");
        else
            r = decode_literal(d, b);
        if (r)
            return r;
    }
    return 0;
}

int hpack_decode_block(struct hpack_decoder *d, const uint8_t *in, size_t len,
                       struct hpack_field *fields, size_t max_fields, size_t *nfields,
                       char *scratch, size_t scratch_len)
{
    *nfields = 0;
    if (d->failed)
        return d->failed;
    struct blk b = {
        .p = in,
        .end = in + len,
        .fields = fields,
        .field_cap = max_fields < d->max_fields ? max_fields : d->max_fields,
        .scratch = scratch,
        .scratch_len = scratch_len,
        .budget = d->max_list,
    };
    int r = size_updates(d, &b);
    if (r == 0)
        r = decode_fields(d, &b);
    if (r)
        return r;
    if (b.over) {
        d->detail = b.over == OVER_FIELDS ? "too many header fields" : "header list too large";
        return HPACK_ERR_LIST_TOO_LARGE;
    }
    d->detail = "";
    *nfields = b.nf;
    return 0;
}
