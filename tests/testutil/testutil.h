/* tests/testutil — helpers shared by the cmocka tests.
 *
 * cmocka must be included after these system headers; testutil.h does it in
 * the right order, so a test includes only "testutil/testutil.h".
 */
#ifndef H2B_TESTUTIL_H
#define H2B_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/* A copy of data[0..len) placed so that its last byte is the last byte before
 * an inaccessible page: any read past the end faults instead of passing.
 * Free with tu_guard_free(). Never returns NULL (aborts the test). */
uint8_t *tu_guard_copy(const void *data, size_t len);
void tu_guard_free(uint8_t *p, size_t len);

/* Reads a whole file into a malloc'd NUL-terminated buffer; *len gets its
 * size. Returns NULL if it cannot be read. */
char *tu_read_file(const char *path, size_t *len);

/* Hex string ("82 86 84", spaces ignored) to bytes in out (cap bytes).
 * Returns the byte count, or -1 on a malformed string or overflow. */
long tu_unhex(const char *hex, uint8_t *out, size_t cap);

/* Failing-allocation support: when tu_fail_after >= 0, the (n+1)th call to
 * tu_malloc() from now on fails. Modules under test use malloc directly, so
 * this is for code that takes an allocator hook. */
extern long tu_fail_after;

/* A counting allocator for the allocator hooks of the HTTP/2 engine and
 * HPACK (alloc(ud, n) / free(ud, p, n), ud = a struct tu_counter): bytes
 * and blocks live, the peak, and one planned failure. */
struct tu_counter {
    size_t live;  /* bytes allocated and not freed */
    size_t peak;  /* most bytes live at once */
    long nallocs; /* successful allocations */
    long nlive;   /* allocations not freed yet */
    long fail_at; /* the call number that fails (0 = the first); -1: none */
    long calls;   /* calls to tu_counter_alloc so far */
};

/* Empties k, with no planned failure. */
void tu_counter_init(struct tu_counter *k);

/* malloc(n) counted in ud; NULL for the planned failure. */
void *tu_counter_alloc(void *ud, size_t n);

/* free(p) counted in ud; asserts that n bytes were live. */
void tu_counter_free(void *ud, void *p, size_t n);

#endif
