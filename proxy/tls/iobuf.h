/* proxy/tls/iobuf.h — fixed-size I/O buffers lent to connections while they
 * hold bytes, kept in a small per-thread cache between loans.
 *
 * Why: a connection only needs a socket buffer while ciphertext is in
 * flight (read ahead but not yet decrypted, or sealed but not yet written).
 * An idle connection holds none, so 10,000 idle connections cost no buffer
 * memory, and a busy worker reuses the same few buffers without calling
 * malloc per event. Each worker is one thread, so the cache takes no lock.
 */
#ifndef H2B_PROXY_TLS_IOBUF_H
#define H2B_PROXY_TLS_IOBUF_H

#include <stddef.h>

/* Size of every buffer: two full TLS records (16 KiB + overhead each), so
 * one read() or write() moves several records. */
#define PX_IOBUF_SIZE (32u * 1024u)

/* Buffers kept per thread between loans; the rest go back to malloc.
 * None under AddressSanitizer, which then sees every loan's end. */
#if defined(__SANITIZE_ADDRESS__)
#define PX_IOBUF_CACHE 0
#else
#define PX_IOBUF_CACHE 8
#endif

/* Returns a PX_IOBUF_SIZE buffer (uninitialised) or NULL when out of memory.
 * The caller owns it until px_iobuf_put. */
void *px_iobuf_get(void);

/* Gives a buffer from px_iobuf_get back (NULL is ignored). Any thread may
 * return it; it joins that thread's cache. */
void px_iobuf_put(void *p);

/* Frees this thread's cached buffers (at worker exit). */
void px_iobuf_trim(void);

#endif
