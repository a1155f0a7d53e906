#include "testutil/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

long tu_fail_after = -1;

static size_t page_size(void)
{
    return (size_t)sysconf(_SC_PAGESIZE);
}

uint8_t *tu_guard_copy(const void *data, size_t len)
{
    size_t ps = page_size();
    size_t data_pages = (len + ps - 1) / ps;
    if (data_pages == 0)
        data_pages = 1;
    size_t total = (data_pages + 1) * ps;
    uint8_t *base = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED)
        abort();
    if (mprotect(base + data_pages * ps, ps, PROT_NONE) != 0)
        abort();
    uint8_t *p = base + data_pages * ps - len;
    if (len)
        memcpy(p, data, len);
    return p;
}

void tu_guard_free(uint8_t *p, size_t len)
{
    size_t ps = page_size();
    size_t data_pages = (len + ps - 1) / ps;
    if (data_pages == 0)
        data_pages = 1;
    uint8_t *base = p + len - data_pages * ps;
    munmap(base, (data_pages + 1) * ps);
}

char *tu_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (n < 0) {
        fclose(f);
        return NULL;
    }
    char *buf = malloc((size_t)n + 1);
    if (!buf) {
        fclose(f);
        return NULL;
    }
    size_t got = fread(buf, 1, (size_t)n, f);
    fclose(f);
    buf[got] = '\0';
    if (len)
        *len = got;
    return buf;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

long tu_unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int hi = -1;
    for (const char *p = hex; *p; p++) {
        if (*p == ' ' || *p == '\n' || *p == '\t')
            continue;
        int v = hexval((unsigned char)*p);
        if (v < 0)
            return -1;
        if (hi < 0) {
            hi = v;
        } else {
            if (n >= cap)
                return -1;
            out[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    return hi < 0 ? (long)n : -1;
}

void tu_counter_init(struct tu_counter *k)
{
    *k = (struct tu_counter){.fail_at = -1};
}

void *tu_counter_alloc(void *ud, size_t n)
{
    struct tu_counter *k = ud;
    if (k->calls++ == k->fail_at)
        return NULL;
    k->live += n;
    if (k->live > k->peak)
        k->peak = k->live;
    k->nallocs++;
    k->nlive++;
    return malloc(n);
}

void tu_counter_free(void *ud, void *p, size_t n)
{
    struct tu_counter *k = ud;
    assert_true(k->live >= n);
    k->live -= n;
    k->nlive--;
    free(p);
}
