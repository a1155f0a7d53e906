/* core/str.h — string views.
 *
 * A view does not own its bytes: it points into a buffer someone else owns
 * (a parser's input, an arena) and is valid as long as that storage is. Views
 * are not NUL-terminated.
 */
#ifndef H2B_CORE_STR_H
#define H2B_CORE_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct hb_str {
    const char *p;
    size_t len;
};

#define HB_STR_LIT(s) ((struct hb_str){(s), sizeof(s) - 1})
#define HB_STR_NULL ((struct hb_str){NULL, 0})

/* A view of a NUL-terminated string (NULL gives the empty view). */
static inline struct hb_str hb_str_c(const char *s)
{
    return (struct hb_str){s, s ? strlen(s) : 0};
}

static inline struct hb_str hb_str_make(const void *p, size_t len)
{
    return (struct hb_str){(const char *)p, len};
}

/* Byte-exact equality. */
static inline bool hb_str_eq(struct hb_str a, struct hb_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

/* Equality where b is a lowercase ASCII literal and a may be of any case. */
bool hb_str_eq_lower(struct hb_str a, struct hb_str lower);

/* True when a and b are equal ignoring ASCII case (both sides folded). */
bool hb_str_eq_nocase(struct hb_str a, struct hb_str b);

/* True if s starts with prefix (bytewise). */
static inline bool hb_str_has_prefix(struct hb_str s, struct hb_str prefix)
{
    return s.len >= prefix.len && memcmp(s.p, prefix.p, prefix.len) == 0;
}

/* s without leading and trailing SP and HTAB. */
struct hb_str hb_str_trim_ows(struct hb_str s);

/* Parses s as a decimal integer without sign, spaces or leading '+'.
 * Returns 0 and sets *out, or a negative HB_E* code: HB_ESYNTAX for an empty
 * view or a non-digit, HB_ERANGE when the value exceeds max. */
int hb_str_to_u64(struct hb_str s, unsigned long long max, unsigned long long *out);

/* Splits off the next comma-separated element of a list field value
 * (RFC 9110 §5.6.1): skips empty elements and OWS around them. Returns false
 * when *rest has no more elements; otherwise sets *elem and advances *rest. */
bool hb_str_next_list_elem(struct hb_str *rest, struct hb_str *elem);

#endif
