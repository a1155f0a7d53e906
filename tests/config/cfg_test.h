/* tests/config — helpers shared by the config tests. */
#ifndef H2B_TESTS_CONFIG_CFG_TEST_H
#define H2B_TESTS_CONFIG_CFG_TEST_H

#include <stdlib.h>
#include <string.h>

#include "testutil/testutil.h"

/* Test files live in tests/config/data; "@D@" in a test's YAML stands for it,
 * so that the tests do not depend on where the tree is checked out. */
#define CFG_TEST_DATA H2B_SOURCE_DIR "/tests/config/data"

/* s with every "@D@" replaced by CFG_TEST_DATA; malloc'd, never NULL. */
static inline char *cfg_test_subst(const char *s)
{
    size_t n = strlen(s) + 1, dl = strlen(CFG_TEST_DATA);
    for (const char *p = s; (p = strstr(p, "@D@")); p += 3)
        n += dl;
    char *out = malloc(n), *o = out;
    assert_non_null(out);
    while (*s) {
        if (strncmp(s, "@D@", 3) == 0) {
            memcpy(o, CFG_TEST_DATA, dl);
            o += dl;
            s += 3;
        } else {
            *o++ = *s++;
        }
    }
    *o = '\0';
    return out;
}

#endif
