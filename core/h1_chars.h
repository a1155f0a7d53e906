/* core/h1_chars.h — INTERNAL to the h1 codec (h1_parse.c, h1_body.c,
 * h1_write.c): character classes of RFC 9110/9112 and the field-line parser
 * shared by header and trailer sections. Not for use outside core/h1_*.c.
 */
#ifndef H2B_CORE_H1_CHARS_H
#define H2B_CORE_H1_CHARS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/h1_common.h"
#include "hpack/hpack.h"

/* Class bits of h1_class[]. */
#define H1_C_TCHAR  0x01u /* token (RFC 9110 §5.6.2) */
#define H1_C_TARGET 0x02u /* request-target bytes we accept: VCHAR except '#' */
#define H1_C_AUTH   0x04u /* authority: unreserved, sub-delims, ':', '[', ']', '%' */
#define H1_C_VALUE  0x08u /* field-value / reason-phrase: VCHAR, obs-text, SP, HTAB */
#define H1_C_HEX    0x10u /* HEXDIG */
#define H1_C_SCHEME 0x20u /* scheme: ALPHA DIGIT + - . */

extern const uint8_t h1_class[256];

static inline bool h1_is(unsigned char c, unsigned cls)
{
    return (h1_class[c] & cls) != 0;
}

static inline unsigned char h1_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c | 0x20) : c;
}

/* Offset of the first byte in p[from..to) that is not allowed in a field
 * value (a control other than HTAB, or DEL), or `to`. SSE2 where available. */
size_t h1_scan_value(const char *p, size_t from, size_t to);

/* Sets bit i of bits[] (byte i / 8, bit i % 8) when p[i] is A-Z and clears
 * it otherwise, for i in [0, n): writes exactly (n + 7) / 8 bytes. For
 * h1_case_map (h1_common.h). SSE2 where available. */
void h1_mark_upper(const char *p, size_t n, uint8_t *bits);

/* Looks for the end of a header or trailer section (an empty line) in
 * buf[*scanned..len), where *scanned is where the previous call stopped and
 * the section starts at `start`. Returns the offset just past the empty
 * line's LF, or 0 when not found yet (*scanned is advanced so the next call
 * resumes there). `first_lf`, when not NULL and *first_lf == 0, receives the
 * offset just past the first LF seen (the end of the start line). */
size_t h1_find_section_end(const char *buf, size_t len, size_t start, size_t *scanned,
                           size_t *first_lf);

/* Parses the field lines from buf[pos] up to the first empty line, which
 * must exist before `bound` (buf[bound-1] is a LF that ends or follows that
 * empty line: as found by h1_find_section_end, or the end of a buffer that
 * ends with an empty line). Names are lowercased in place; fields[] get
 * views into buf. At most `max` fields; one more is `too_many`
 * (TOO_MANY_FIELDS or TRAILER_TOO_MANY). Returns the offset just past the
 * empty line (and sets *n), or a negative H1_E* code. */
ptrdiff_t h1_parse_field_lines(char *buf, size_t pos, size_t bound, const struct h1_limits *lim,
                               struct hpack_field *fields, size_t max, int too_many, uint32_t *n);

/* Checks the line ending at buf[i], which must be '\r' or '\n': returns the
 * offset just past the LF, or a negative H1_E* code (BARE_CR, or BARE_LF
 * unless allowed). buf[i+1] must be readable when buf[i] is '\r' (a section
 * always ends with a LF). */
static inline ptrdiff_t h1_line_end(const char *buf, size_t i, bool allow_bare_lf)
{
    if (buf[i] == '\r')
        return buf[i + 1] == '\n' ? (ptrdiff_t)(i + 2) : H1_EBARE_CR;
    return allow_bare_lf ? (ptrdiff_t)(i + 1) : H1_EBARE_LF;
}

#endif
