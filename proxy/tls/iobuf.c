/* proxy/tls/iobuf.c — the per-thread I/O buffer cache. */
#include "proxy/tls/iobuf.h"

#include <stdlib.h>

#if PX_IOBUF_CACHE > 0

static _Thread_local void *cache[PX_IOBUF_CACHE];
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
    if (cached < PX_IOBUF_CACHE)
        cache[cached++] = p;
    else
        free(p);
}

void px_iobuf_trim(void)
{
    while (cached)
        free(cache[--cached]);
}

#else /* no cache: every loan is a malloc, which sanitizers watch */

void *px_iobuf_get(void)
{
    return malloc(PX_IOBUF_SIZE);
}

void px_iobuf_put(void *p)
{
    free(p);
}

void px_iobuf_trim(void)
{
}

#endif
