#include "core/buf.h"

#include <stdlib.h>
#include <string.h>

#include "core/err.h"

void hb_buf_init(struct hb_buf *b, size_t max)
{
    b->data = NULL;
    b->rpos = b->wpos = b->cap = 0;
    b->max = max ? max : SIZE_MAX;
}

void hb_buf_reuse(struct hb_buf *b, size_t max)
{
    size_t m = max ? max : SIZE_MAX;
    if (b->cap > m)
        hb_buf_free(b);
    b->rpos = b->wpos = 0;
    b->max = m;
}

void hb_buf_free(struct hb_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->rpos = b->wpos = b->cap = 0;
}

void hb_buf_compact(struct hb_buf *b)
{
    if (b->rpos == 0)
        return;
    size_t n = b->wpos - b->rpos;
    if (n)
        memmove(b->data, b->data + b->rpos, n);
    b->rpos = 0;
    b->wpos = n;
}

int hb_buf_reserve(struct hb_buf *b, size_t n)
{
    if (b->cap - b->wpos >= n)
        return 0;
    size_t used = b->wpos - b->rpos;
    if (n > b->max || used > b->max - n)
        return HB_ELIMIT;
    /* Compacting is cheaper than growing when it makes room. */
    if (b->cap - used >= n) {
        hb_buf_compact(b);
        return 0;
    }
    size_t want = used + n;
    size_t ncap = b->cap ? b->cap : 256;
    while (ncap < want)
        ncap = ncap > SIZE_MAX / 2 ? SIZE_MAX : ncap * 2;
    if (ncap > b->max)
        ncap = b->max;
    uint8_t *p = malloc(ncap);
    if (!p)
        return HB_ENOMEM;
    if (used)
        memcpy(p, b->data + b->rpos, used);
    free(b->data);
    b->data = p;
    b->cap = ncap;
    b->rpos = 0;
    b->wpos = used;
    return 0;
}

void hb_buf_commit(struct hb_buf *b, size_t n)
{
    b->wpos += n;
}

int hb_buf_append(struct hb_buf *b, const void *p, size_t n)
{
    int rc = hb_buf_reserve(b, n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->data + b->wpos, p, n);
    b->wpos += n;
    return 0;
}

void hb_buf_consume(struct hb_buf *b, size_t n)
{
    b->rpos += n;
    if (b->rpos == b->wpos)
        b->rpos = b->wpos = 0;
}

void hb_buf_release_if_empty(struct hb_buf *b)
{
    if (b->rpos == b->wpos && b->data)
        hb_buf_free(b);
}
