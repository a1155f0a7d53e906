/* tests/testutil/json.h — a small JSON reader for test data (RFC 8259):
 * parses a whole document into a tree. Not for the product: no streaming,
 * numbers as double. */
#ifndef H2B_TESTUTIL_JSON_H
#define H2B_TESTUTIL_JSON_H

#include <stddef.h>

enum tu_json_type { TU_JSON_NULL, TU_JSON_BOOL, TU_JSON_NUM, TU_JSON_STR, TU_JSON_ARR, TU_JSON_OBJ };

struct tu_json {
    enum tu_json_type type;
    char *key; /* member name when inside an object (NUL-terminated), else NULL */
    size_t key_len;
    char *str; /* TU_JSON_STR: decoded UTF-8, NUL-terminated (may hold NULs) */
    size_t len;
    double num;  /* TU_JSON_NUM */
    int boolean; /* TU_JSON_BOOL */
    struct tu_json *items; /* TU_JSON_ARR / TU_JSON_OBJ: n children in order */
    size_t n;
};

/* Parses text[0..len). Returns a tree to free with tu_json_free(), or NULL
 * with a message ("line 3: expected ':'") in err[0..errlen). */
struct tu_json *tu_json_parse(const char *text, size_t len, char *err, size_t errlen);
void tu_json_free(struct tu_json *v);

/* The first member named key of object obj, or NULL (also when obj is not
 * an object). */
const struct tu_json *tu_json_get(const struct tu_json *obj, const char *key);

#endif
