/* The hpack-test-case corpus (H2B_HPACK_TEST_CASES, read in place):
 * every story of every implementation folder decodes, case by case, with
 * one context per story; every raw-data story encoded by us decodes back
 * with our decoder and with libnghttp2's inflater (test-only oracle), and
 * our compressed size stays within 5% of nghttp2's deflater. */
#include "hpack_story.h"
#include "hpack_testlib.h" /* tl_oracle_inflate (with nghttp2) */

#include <dirent.h>

static int corpus_present(void)
{
    DIR *d = opendir(H2B_HPACK_TEST_CASES);
    if (!d) {
        printf("hpack-test-case corpus not found at %s: skipped\n", H2B_HPACK_TEST_CASES);
        return 0;
    }
    closedir(d);
    return 1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted story_*.json paths of one folder; returns the count. */
static size_t list_stories(const char *folder, char ***out)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/%s", H2B_HPACK_TEST_CASES, folder);
    DIR *d = opendir(dir);
    size_t n = 0, cap = 0;
    char **v = NULL;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (strncmp(e->d_name, "story_", 6) != 0 || l < 5 || strcmp(e->d_name + l - 5, ".json"))
            continue;
        if (n == cap)
            v = realloc(v, (cap = cap ? cap * 2 : 64) * sizeof *v);
        v[n] = malloc(strlen(dir) + l + 2);
        sprintf(v[n++], "%s/%s", dir, e->d_name);
    }
    if (d)
        closedir(d);
    if (n > 1)
        qsort(v, n, sizeof *v, cmp_str);
    *out = v;
    return n;
}

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void test_decode_every_folder(void **state)
{
    if (!corpus_present())
        skip();
    DIR *root = opendir(H2B_HPACK_TEST_CASES);
    struct dirent *e;
    size_t folders = 0;
    while ((e = readdir(root)) != NULL) {
        if (e->d_name[0] == '.' || strcmp(e->d_name, "raw-data") == 0)
            continue;
        char **paths;
        size_t n = list_stories(e->d_name, &paths);
        if (n == 0) {
            free_list(paths, n);
            continue;
        }
        size_t passed = 0, failed = 0;
        for (size_t i = 0; i < n; i++) {
            struct tu_json *j = story_load(paths[i], stderr);
            assert_non_null(j);
            story_decode(paths[i], j, &passed, &failed, stderr);
            tu_json_free(j);
        }
        printf("%-28s %3zu stories, %5zu cases passed, %zu failed\n", e->d_name, n, passed, failed);
        assert_int_equal(failed, 0);
        assert_true(passed > 0);
        free_list(paths, n);
        folders++;
    }
    closedir(root);
    assert_true(folders >= 1);
}

#ifdef H2B_HAVE_NGHTTP2
static size_t oracle_deflate_size(nghttp2_hd_deflater *def, const struct hpack_field *f, size_t n)
{
    static nghttp2_nv nv[STORY_MAX_FIELDS];
    static uint8_t out[STORY_SCRATCH];
    for (size_t i = 0; i < n; i++)
        nv[i] = (nghttp2_nv){(uint8_t *)f[i].name, (uint8_t *)f[i].value, f[i].name_len,
                             f[i].value_len, NGHTTP2_NV_FLAG_NONE};
    ssize_t r = nghttp2_hd_deflate_hd(def, out, sizeof out, nv, n);
    assert_true(r >= 0);
    return (size_t)r;
}
#endif

/* Encodes one raw-data story; returns our bytes, adds nghttp2's to *theirs. */
static size_t encode_story(const char *path, size_t *theirs)
{
    struct tu_json *j = story_load(path, stderr);
    assert_non_null(j);
    const struct tu_json *cases = tu_json_get(j, "cases");
    struct hpack_encoder *e = hpack_encoder_new();
    struct hpack_decoder *d = hpack_decoder_new(4096);
    hpack_decoder_set_limits(d, STORY_SCRATCH, STORY_MAX_FIELDS);
#ifdef H2B_HAVE_NGHTTP2
    nghttp2_hd_inflater *inf;
    nghttp2_hd_deflater *def;
    assert_int_equal(nghttp2_hd_inflate_new(&inf), 0);
    assert_int_equal(nghttp2_hd_deflate_new(&def, 4096), 0);
#endif
    static struct hpack_field in[STORY_MAX_FIELDS], out[STORY_MAX_FIELDS];
    static uint8_t blk[STORY_SCRATCH];
    static char scratch[STORY_SCRATCH];
    size_t ours = 0;
    for (size_t i = 0; i < cases->n; i++) {
        long n = story_fields(&cases->items[i], in, STORY_MAX_FIELDS);
        assert_true(n >= 0);
        ssize_t len = hpack_encode_block(e, in, (size_t)n, blk, sizeof blk);
        assert_true(len >= 0);
        ours += (size_t)len;
        size_t got;
        assert_int_equal(hpack_decode_block(d, blk, (size_t)len, out, STORY_MAX_FIELDS, &got,
                                            scratch, sizeof scratch),
                         0);
        assert_true(story_same(out, got, in, (size_t)n));
#ifdef H2B_HAVE_NGHTTP2
        tl_oracle_inflate(inf, blk, (size_t)len, in, (size_t)n);
        *theirs += oracle_deflate_size(def, in, (size_t)n);
#endif
    }
#ifdef H2B_HAVE_NGHTTP2
    nghttp2_hd_inflate_del(inf);
    nghttp2_hd_deflate_del(def);
#endif
    hpack_decoder_del(d);
    hpack_encoder_del(e);
    tu_json_free(j);
    return ours;
}

static void test_encode_raw_data(void **state)
{
    if (!corpus_present())
        skip();
    char **paths;
    size_t n = list_stories("raw-data", &paths);
    assert_true(n > 0);
    size_t ours = 0, theirs = 0;
    for (size_t i = 0; i < n; i++)
        ours += encode_story(paths[i], &theirs);
    free_list(paths, n);
    printf("raw-data: %zu stories, ours %zu bytes", n, ours);
#ifdef H2B_HAVE_NGHTTP2
    printf(", nghttp2 %zu bytes (%.3f)\n", theirs, (double)ours / (double)theirs);
    assert_true((double)ours <= 1.05 * (double)theirs);
#else
    printf(" (libnghttp2 absent: no oracle)\n");
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_every_folder),
        cmocka_unit_test(test_encode_raw_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
