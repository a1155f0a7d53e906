/* Character classes and the field-line parser shared by the h1 head parser
 * and the chunked trailer parser. */
#include "core/h1_chars.h"

#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define TC H1_C_TCHAR
#define TG H1_C_TARGET
#define AU H1_C_AUTH
#define VA H1_C_VALUE
#define HX H1_C_HEX
#define SC H1_C_SCHEME

/* Built with range designators (a GNU C extension both gcc and clang accept)
 * because a 256-entry literal table is unreviewable. */
const uint8_t h1_class[256] = {
    ['\t'] = VA,
    [' '] = VA,
    /* VCHAR: everything is a value byte and (but '#') a target byte; the
     * finer classes are added below by overriding. */
    ['!'] = VA | TG | TC | AU,
    ['"'] = VA | TG,
    ['#'] = VA | TC,
    ['$'] = VA | TG | TC | AU,
    ['%'] = VA | TG | TC | AU,
    ['&'] = VA | TG | TC | AU,
    ['\''] = VA | TG | TC | AU,
    ['('] = VA | TG | AU,
    [')'] = VA | TG | AU,
    ['*'] = VA | TG | TC | AU,
    ['+'] = VA | TG | TC | AU | SC,
    [','] = VA | TG | AU,
    ['-'] = VA | TG | TC | AU | SC,
    ['.'] = VA | TG | TC | AU | SC,
    ['/'] = VA | TG,
    ['0' ... '9'] = VA | TG | TC | AU | HX | SC,
    [':'] = VA | TG | AU,
    [';'] = VA | TG | AU,
    ['<'] = VA | TG,
    ['='] = VA | TG | AU,
    ['>'] = VA | TG,
    ['?'] = VA | TG,
    ['@'] = VA | TG,
    ['A' ... 'F'] = VA | TG | TC | AU | HX | SC,
    ['G' ... 'Z'] = VA | TG | TC | AU | SC,
    ['['] = VA | TG | AU,
    ['\\'] = VA | TG,
    [']'] = VA | TG | AU,
    ['^'] = VA | TG | TC,
    ['_'] = VA | TG | TC | AU,
    ['`'] = VA | TG | TC,
    ['a' ... 'f'] = VA | TG | TC | AU | HX | SC,
    ['g' ... 'z'] = VA | TG | TC | AU | SC,
    ['{'] = VA | TG,
    ['|'] = VA | TG | TC,
    ['}'] = VA | TG,
    ['~'] = VA | TG | TC | AU,
    /* obs-text: allowed in values and reason phrases only */
    [0x80 ... 0xff] = VA,
};

static inline size_t scan_value(const char *p, size_t i, size_t to)
{
#ifdef __SSE2__
    /* 16 bytes at a time: a byte is bad when it is <= 0x1f (but not HTAB)
     * or is DEL. Unsigned min gives "<= 0x1f" without a signed compare. */
    const __m128i ctl = _mm_set1_epi8(0x1f);
    const __m128i tab = _mm_set1_epi8('\t');
    const __m128i del = _mm_set1_epi8(0x7f);
    while (to - i >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        __m128i isctl = _mm_cmpeq_epi8(_mm_min_epu8(v, ctl), v);
        __m128i bad =
            _mm_or_si128(_mm_andnot_si128(_mm_cmpeq_epi8(v, tab), isctl), _mm_cmpeq_epi8(v, del));
        int m = _mm_movemask_epi8(bad);
        if (m)
            return i + (size_t)__builtin_ctz((unsigned)m);
        i += 16;
    }
#endif
    while (i < to && h1_is((unsigned char)p[i], H1_C_VALUE))
        i++;
    return i;
}

size_t h1_scan_value(const char *p, size_t i, size_t to)
{
    return scan_value(p, i, to);
}

size_t h1_find_section_end(const char *buf, size_t len, size_t start, size_t *scanned,
                           size_t *first_lf)
{
    size_t i = *scanned > start ? *scanned : start;
    if (i == start) {
        /* An empty section: the very first line is empty. */
        if (i < len && buf[i] == '\n')
            return i + 1;
        if (i + 1 < len && buf[i] == '\r' && buf[i + 1] == '\n')
            return i + 2;
        if (i + 1 == len && buf[i] == '\r') {
            *scanned = start;
            return 0;
        }
    }
    while (i < len) {
        const char *lf = memchr(buf + i, '\n', len - i);
        if (!lf)
            break;
        size_t k = (size_t)(lf - buf);
        if (first_lf && *first_lf == 0)
            *first_lf = k + 1;
        /* An empty line follows this LF: "\n\n" or "\n\r\n". Whether a bare
         * LF is acceptable is for the parser to say; the end is the same. */
        if (k + 1 == len || (buf[k + 1] == '\r' && k + 2 == len)) {
            *scanned = k; /* look at this LF again with more bytes */
            return 0;
        }
        if (buf[k + 1] == '\n')
            return k + 2;
        if (buf[k + 1] == '\r' && buf[k + 2] == '\n')
            return k + 3;
        i = k + 1;
    }
    *scanned = len;
    return 0;
}

#ifdef __SSE2__
/* (c - lo) as an unsigned byte < n, for 16 bytes: the signed-compare trick. */
static inline __m128i in_range(__m128i v, char lo, char n)
{
    return _mm_cmplt_epi8(_mm_add_epi8(v, _mm_set1_epi8((char)(-128 - lo))),
                          _mm_set1_epi8((char)(-128 + n)));
}
#endif

void h1_mark_upper(const char *p, size_t n, uint8_t *bits)
{
    size_t i = 0;
#ifdef __SSE2__
    /* 16 bytes give the two bit bytes at i / 8 (i stays a multiple of 16). */
    for (; n - i >= 16; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        unsigned m = (unsigned)_mm_movemask_epi8(in_range(v, 'A', 26));
        bits[i / 8] = (uint8_t)m;
        bits[i / 8 + 1] = (uint8_t)(m >> 8);
    }
#endif
    for (; i < n; i += 8) {
        uint8_t b = 0;
        for (size_t k = 0; k < 8 && i + k < n; k++)
            b |= (uint8_t)((p[i + k] >= 'A' && p[i + k] <= 'Z') << k);
        bits[i / 8] = b;
    }
}

#ifdef __SSE2__
/* Field names are almost always letters, digits and '-': 16 bytes at a time,
 * lowercased with one masked add. Stops at the first other byte (which the
 * exact scalar scan then judges). Needs 16 readable bytes per step. */
static size_t scan_name_fast(char *buf, size_t pos, size_t end)
{
    static const uint8_t prefix[32] = {
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    };
    while (end - pos >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(buf + pos));
        __m128i up = in_range(v, 'A', 26);
        __m128i ok =
            _mm_or_si128(_mm_or_si128(up, in_range(v, 'a', 26)),
                         _mm_or_si128(in_range(v, '0', 10), _mm_cmpeq_epi8(v, _mm_set1_epi8('-'))));
        unsigned stop = ~(unsigned)_mm_movemask_epi8(ok) & 0xffffu;
        unsigned k = stop ? (unsigned)__builtin_ctz(stop) : 16;
        __m128i keep = _mm_loadu_si128((const __m128i *)(const void *)(prefix + 16 - k));
        __m128i add = _mm_and_si128(_mm_and_si128(up, keep), _mm_set1_epi8(0x20));
        /* bytes past the name are stored back unchanged */
        _mm_storeu_si128((__m128i *)(void *)(buf + pos), _mm_add_epi8(v, add));
        pos += k;
        if (stop)
            break;
    }
    return pos;
}
#endif

/* The end of the field name starting at buf[pos], lowercased in place. */
static size_t scan_name(char *buf, size_t pos, size_t end)
{
    unsigned char c;
#ifdef __SSE2__
    pos = scan_name_fast(buf, pos, end);
#endif
    while (h1_is(c = (unsigned char)buf[pos], H1_C_TCHAR)) {
        buf[pos] = (char)h1_lower(c);
        pos++;
    }
    return pos;
}

static int name_error(const char *buf, size_t line, size_t stop)
{
    char c = buf[stop];
    if (c == ':')
        return H1_ENAME; /* empty name */
    if (c == ' ' || c == '\t')
        return stop == line ? H1_EOBS_FOLD : H1_ENAME_WS;
    if (c == '\r' || c == '\n')
        return H1_ENO_COLON;
    return H1_ENAME;
}

ptrdiff_t h1_parse_field_lines(char *buf, size_t pos, size_t bound, const struct h1_limits *lim,
                               struct hpack_field *fields, size_t max, int too_many, uint32_t *n)
{
    uint32_t count = 0;
    for (;;) {
        size_t line = pos;
        char c = buf[pos];
        if (c == '\r' || c == '\n') {
            /* The first empty line ends the section, wherever the bound is. */
            ptrdiff_t e = h1_line_end(buf, pos, lim->allow_bare_lf);
            if (e > 0)
                *n = count;
            return e;
        }
        if (c == ' ' || c == '\t')
            return H1_EOBS_FOLD; /* RFC 9112 §5.2: we reject obs-fold */
        size_t nend = scan_name(buf, pos, bound);
        if (nend == line || buf[nend] != ':')
            return name_error(buf, line, nend);
        pos = nend + 1;
        while (buf[pos] == ' ' || buf[pos] == '\t')
            pos++;
        size_t vstart = pos;
        size_t stop = scan_value(buf, pos, bound);
        c = buf[stop];
        if (c != '\r' && c != '\n')
            return H1_EVALUE; /* NUL, other CTL or DEL: RFC 9110 §5.5 */
        ptrdiff_t e = h1_line_end(buf, stop, lim->allow_bare_lf);
        if (e < 0)
            return e;
        if ((size_t)e - line > lim->max_field_line)
            return H1_EFIELD_TOO_LONG;
        size_t vend = stop;
        while (vend > vstart && (buf[vend - 1] == ' ' || buf[vend - 1] == '\t'))
            vend--;
        if (count >= max)
            return too_many;
        fields[count++] = (struct hpack_field){
            .name = buf + line,
            .value = buf + vstart,
            .name_len = (uint32_t)(nend - line),
            .value_len = (uint32_t)(vend - vstart),
            .flags = 0,
        };
        pos = (size_t)e;
    }
}
