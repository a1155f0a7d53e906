/* core/buf.h — a growable byte buffer with read and write positions.
 *
 *   data[0 .. rpos)       consumed, reclaimable by hb_buf_compact()
 *   data[rpos .. wpos)    readable bytes
 *   data[wpos .. cap)     writable space
 *
 * A buffer has a hard ceiling (max): it never grows past it, so a peer can
 * never make it hold "whatever it sends". Views into the readable region stay
 * valid until the next call that may move data (reserve, append, compact).
 */
#ifndef H2B_CORE_BUF_H
#define H2B_CORE_BUF_H

#include <stddef.h>
#include <stdint.h>

struct hb_buf {
    uint8_t *data;
    size_t rpos, wpos, cap;
    size_t max; /* ceiling for cap; 0 means SIZE_MAX */
};

/* Initialises an empty buffer that will never exceed max bytes (0: no
 * ceiling). Allocates nothing until the first write. */
void hb_buf_init(struct hb_buf *b, size_t max);

/* Empties b for a new use with ceiling max (0: none), keeping its storage
 * when it fits under max (freed otherwise): for objects recycled without a
 * malloc per use. */
void hb_buf_reuse(struct hb_buf *b, size_t max);

/* Frees the storage; the buffer is empty and reusable afterwards. */
void hb_buf_free(struct hb_buf *b);

static inline size_t hb_buf_len(const struct hb_buf *b)
{
    return b->wpos - b->rpos;
}
static inline uint8_t *hb_buf_rptr(const struct hb_buf *b)
{
    return b->data + b->rpos;
}
static inline uint8_t *hb_buf_wptr(const struct hb_buf *b)
{
    return b->data + b->wpos;
}
static inline size_t hb_buf_space(const struct hb_buf *b)
{
    return b->cap - b->wpos;
}

/* Ensures at least n writable bytes at hb_buf_wptr(), compacting or growing
 * (geometrically, up to max). Returns 0, HB_ELIMIT if n cannot fit under the
 * ceiling even after compaction, or HB_ENOMEM. May move the readable bytes. */
int hb_buf_reserve(struct hb_buf *b, size_t n);

/* Marks n bytes written at hb_buf_wptr() (n <= hb_buf_space()). */
void hb_buf_commit(struct hb_buf *b, size_t n);

/* Copies n bytes in. Returns 0, HB_ELIMIT or HB_ENOMEM (nothing appended). */
int hb_buf_append(struct hb_buf *b, const void *p, size_t n);

/* Marks n readable bytes consumed (n <= hb_buf_len()). An emptied buffer
 * rewinds to offset 0 so steady-state use never moves bytes. */
void hb_buf_consume(struct hb_buf *b, size_t n);

/* Moves the readable bytes to the start of the storage. */
void hb_buf_compact(struct hb_buf *b);

/* Frees the storage if the buffer is empty: idle connections hold no
 * buffers. */
void hb_buf_release_if_empty(struct hb_buf *b);

#endif
