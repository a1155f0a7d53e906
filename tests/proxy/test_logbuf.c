/* tests/proxy/test_logbuf.c — the log writer: lines from several threads
 * stay whole and in order per thread, a full ring drops and counts (never
 * waits), a reopen between writes loses nothing, thread exit hands the ring
 * to the writer, and the error log goes through the same rings. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "proxy/obs/logbuf.h"
#include "testutil/testutil.h"

#define THREADS 4

static char dir[256];

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        *len = 0;
        return calloc(1, 1);
    }
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 65536 > cap) {
            cap = 2 * (n + 65536);
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        size_t k = fread(buf + n, 1, 65536, f);
        n += k;
        if (k == 0)
            break;
    }
    fclose(f);
    buf[n] = 0;
    *len = n;
    return buf;
}

struct producer {
    pthread_t t;
    int id, lines;
    unsigned usleep_every; /* pause every N lines (0: never) */
    int appended;
};

static void *produce(void *arg)
{
    struct producer *p = arg;
    for (int i = 0; i < p->lines; i++) {
        char line[128];
        int n = snprintf(line, sizeof line, "thread %d line %d %s\n", p->id, i,
                         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
        if (px_logw_append(PX_LOG_ACCESS, line, (size_t)n))
            p->appended++;
        if (p->usleep_every && i % p->usleep_every == 0)
            usleep(200);
    }
    return NULL; /* the ring is handed to the writer at thread exit */
}

/* Checks the lines of buf: whole, and increasing per thread. Returns the
 * count. */
static int check_lines(const char *buf, size_t len, int *last)
{
    int count = 0;
    const char *p = buf, *end = buf + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        assert_non_null(nl);
        int id, i;
        char rest[64];
        assert_int_equal(sscanf(p, "thread %d line %d %63s", &id, &i, rest), 3);
        assert_true(id >= 0 && id < THREADS);
        assert_int_equal(strlen(rest), 48);
        assert_true(i > last[id]);
        last[id] = i;
        count++;
        p = nl + 1;
    }
    return count;
}

static void run(size_t ring, int lines, unsigned pause, bool rotate, int *written, int *appended)
{
    char access[300], errors[300], rotated[310];
    snprintf(access, sizeof access, "%s/access.log", dir);
    snprintf(errors, sizeof errors, "%s/error.log", dir);
    snprintf(rotated, sizeof rotated, "%s.1", access);
    unlink(access);
    unlink(rotated);
    unlink(errors);
    struct px_logw_opts o = {access, errors, ring, 20, 5000};
    uint64_t dropped0 = px_logw_dropped(PX_LOG_ACCESS);
    assert_int_equal(px_logw_start(&o), 0);
    assert_true(px_logw_running());
    hb_warn("through the writer %d", 1);
    struct producer p[THREADS];
    for (int i = 0; i < THREADS; i++) {
        p[i] = (struct producer){.id = i, .lines = lines, .usleep_every = pause};
        if (rotate) /* long enough that the rename comes mid-run */
            p[i].usleep_every = 5;
        assert_int_equal(pthread_create(&p[i].t, NULL, produce, &p[i]), 0);
    }
    if (rotate) { /* logrotate's rename once lines are in the file, then the signal's reopen */
        struct stat st;
        for (int k = 0; k < 5000 && (stat(access, &st) != 0 || st.st_size == 0); k++)
            usleep(1000);
        assert_int_equal(rename(access, rotated), 0);
        px_logw_reopen();
    }
    *appended = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(p[i].t, NULL);
        *appended += p[i].appended;
    }
    px_logw_stop();
    assert_false(px_logw_running());
    uint64_t dropped = px_logw_dropped(PX_LOG_ACCESS) - dropped0;
    assert_int_equal((uint64_t)*appended + dropped, (uint64_t)THREADS * lines);
    int last[THREADS];
    for (int i = 0; i < THREADS; i++)
        last[i] = -1;
    size_t n1, n2, ne;
    char *a = slurp(rotated, &n1), *b = slurp(access, &n2), *e = slurp(errors, &ne);
    *written = check_lines(a, n1, last) + check_lines(b, n2, last);
    assert_int_equal(*written, *appended);
    if (rotate)
        assert_true(n1 > 0);
    assert_non_null(strstr(e, " WARN  through the writer 1\n"));
    free(a);
    free(b);
    free(e);
}

static void test_lines_whole_and_counted(void **state)
{
    int written, appended;
    /* A roomy ring and paced producers: nothing is dropped. */
    run(1 << 20, 2000, 50, false, &written, &appended);
    assert_int_equal(written, THREADS * 2000);
    /* A tiny ring and producers that never pause: some lines are dropped,
     * each one counted, and the rest are whole and in order. */
    run(4096, 20000, 0, false, &written, &appended);
    assert_true(written > 0);
}

static void test_reopen_loses_nothing(void **state)
{
    int written, appended;
    run(1 << 20, 5000, 20, true, &written, &appended);
    assert_int_equal(written, THREADS * 5000);
}

static void test_not_running(void **state)
{
    /* Without a writer a line is refused (and counted), never kept. */
    uint64_t d = px_logw_dropped(PX_LOG_ACCESS);
    assert_false(px_logw_append(PX_LOG_ACCESS, "x\n", 2));
    assert_int_equal(px_logw_dropped(PX_LOG_ACCESS), d);
    px_logw_reopen(); /* a no-op */
    px_logw_stop();   /* a no-op */
    /* A path that cannot be opened: start fails, the stderr sink stays. */
    struct px_logw_opts o = {"/nonexistent-dir/a.log", NULL, 1 << 16, 100, 5000};
    assert_int_equal(px_logw_start(&o), -1);
    assert_false(px_logw_running());
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/h2b-logbuf-%d", (int)getpid());
    mkdir(dir, 0700);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines_whole_and_counted),
        cmocka_unit_test(test_reopen_loses_nothing),
        cmocka_unit_test(test_not_running),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        rc = rc ? rc : 1;
    return rc;
}
