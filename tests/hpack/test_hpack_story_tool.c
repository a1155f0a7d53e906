/* The hpack-story tool (built next to this test binary): passes a corpus
 * story, fails a deliberately corrupted copy made in a temp dir. */
#include "hpack_story.h"

#include <limits.h>
#include <sys/wait.h>
#include <unistd.h>

static char tool[PATH_MAX];

static int find_tool(void)
{
    ssize_t n = readlink("/proc/self/exe", tool, sizeof tool - 32);
    if (n <= 0)
        return -1;
    tool[n] = '\0';
    char *slash = strrchr(tool, '/');
    strcpy(slash + 1, "hpack-story");
    return access(tool, X_OK);
}

/* Runs the tool on path; returns its exit status, its stdout in out. */
static int run_tool(const char *path, char *out, size_t cap)
{
    char cmd[PATH_MAX * 2 + 32];
    snprintf(cmd, sizeof cmd, "'%s' '%s' 2>/dev/null", tool, path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Writes text with the first occurrence of from replaced by to. */
static void write_corrupted(const char *dst, const char *text, const char *from, const char *to)
{
    const char *at = strstr(text, from);
    assert_non_null(at);
    FILE *f = fopen(dst, "w");
    assert_non_null(f);
    fwrite(text, 1, (size_t)(at - text), f);
    fputs(to, f);
    fputs(at + strlen(from), f);
    fclose(f);
}

static void test_tool(void **state)
{
    char src[PATH_MAX];
    snprintf(src, sizeof src, "%s/nghttp2/story_00.json", H2B_HPACK_TEST_CASES);
    size_t len;
    char *text = tu_read_file(src, &len);
    if (!text) {
        printf("hpack-test-case corpus not found at %s: skipped\n", H2B_HPACK_TEST_CASES);
        skip();
    }
    assert_int_equal(find_tool(), 0);
    char out[256];
    assert_int_equal(run_tool(src, out, sizeof out), 0);
    assert_string_equal(out, "3 passed, 0 failed\n");

    char dir[] = "/tmp/hpack-story-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char bad[PATH_MAX];
    /* A header that differs from what the wire says. */
    snprintf(bad, sizeof bad, "%s/headers.json", dir);
    write_corrupted(bad, text, "\"www.yahoo.co.jp\"", "\"www.yahoo.co.jq\"");
    assert_int_equal(run_tool(bad, out, sizeof out), 1);
    assert_string_equal(out, "2 passed, 1 failed\n");
    unlink(bad);
    /* A wire that does not decode (index 0 up front): that case fails, and
     * the later ones too, as the context is failed (sticky). */
    snprintf(bad, sizeof bad, "%s/wire.json", dir);
    write_corrupted(bad, text, "\"wire\": \"82", "\"wire\": \"80");
    assert_int_equal(run_tool(bad, out, sizeof out), 1);
    assert_string_equal(out, "0 passed, 3 failed\n");
    unlink(bad);
    /* Not JSON at all. */
    snprintf(bad, sizeof bad, "%s/trunc.json", dir);
    FILE *f = fopen(bad, "w");
    fwrite(text, 1, len / 2, f);
    fclose(f);
    assert_int_equal(run_tool(bad, out, sizeof out), 1);
    unlink(bad);
    rmdir(dir);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
