/* proxy/iobuf.c — the per-thread I/O buffer cache. */
#include "proxy/iobuf.h"

#include <stdlib.h>

static _Thread_local void *cache[PX_IOBUF_CACHE + 1]; /* + 1: never 0-sized */
static _Thread_local unsigned cached;

void *px_iobuf_get(void)
{
    if (cached)
        return cache[--cached];
    return malloc(PX_IOBUF_SIZE);
}

void px_iobuf_put(void *p)
{
    if (!p)
        return;
    if (cached + 1 <= PX_IOBUF_CACHE) /* (not <: PX_IOBUF_CACHE may be 0) */
        cache[cached++] = p;
    else
        free(p);
}

void px_iobuf_trim(void)
{
    while (cached)
        free(cache[--cached]);
}
