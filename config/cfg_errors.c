/* config/cfg_errors.c — the error list, its printing, and "did you mean". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfg_internal.h"
#include "core/err.h"

void cfg_errors_init(struct cfg_errors *errs)
{
    memset(errs, 0, sizeof *errs);
}

void cfg_errors_free(struct cfg_errors *errs)
{
    for (size_t i = 0; i < errs->n; i++) {
        free(errs->v[i].file);
        free(errs->v[i].msg);
    }
    free(errs->v);
    cfg_errors_init(errs);
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s);
    char *d = cfg_malloc(n + 1);
    if (d)
        memcpy(d, s, n + 1);
    return d;
}

static bool same_error(const struct cfg_error *e, const char *file, uint32_t line, uint32_t col,
                       const char *msg)
{
    if (e->line != line || e->col != col || strcmp(e->msg, msg) != 0)
        return false;
    if (!e->file || !file)
        return e->file == file;
    return strcmp(e->file, file) == 0;
}

static int nomem(struct cfg_errors *errs)
{
    errs->oom = true;
    return HB_ENOMEM;
}

int cfg_errors_addv(struct cfg_errors *errs, const struct cfg_mark *mark, const char *fmt,
                    va_list ap)
{
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    const char *file = mark ? mark->file : NULL;
    uint32_t line = mark ? mark->line : 0, col = mark ? mark->col : 0;
    /* An anchor merged into several places reports its error once. */
    for (size_t i = 0; i < errs->n; i++)
        if (same_error(&errs->v[i], file, line, col, msg))
            return 0;
    if (errs->n >= CFG_MAX_ERRORS) {
        errs->n_dropped++;
        return 0;
    }
    if (errs->n == errs->cap) {
        size_t cap = errs->cap ? errs->cap * 2 : 8;
        struct cfg_error *v = cfg_malloc(cap * sizeof *v);
        if (!v)
            return nomem(errs);
        if (errs->n)
            memcpy(v, errs->v, errs->n * sizeof *v);
        free(errs->v);
        errs->v = v;
        errs->cap = cap;
    }
    struct cfg_error *e = &errs->v[errs->n];
    e->file = file ? dup_str(file) : NULL;
    e->msg = dup_str(msg);
    if ((file && !e->file) || !e->msg) {
        free(e->file);
        free(e->msg);
        return nomem(errs);
    }
    e->line = line;
    e->col = col;
    errs->n++;
    return 0;
}

int cfg_errors_add(struct cfg_errors *errs, const struct cfg_mark *mark, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = cfg_errors_addv(errs, mark, fmt, ap);
    va_end(ap);
    return rc;
}

char *cfg_error_format(const struct cfg_error *e, char *buf, size_t size)
{
    if (e->file && e->line)
        snprintf(buf, size, "%s:%u:%u: %s", e->file, (unsigned)e->line, (unsigned)e->col, e->msg);
    else if (e->file)
        snprintf(buf, size, "%s: %s", e->file, e->msg);
    else
        snprintf(buf, size, "%s", e->msg);
    return buf;
}

char *cfg_mark_format(const struct cfg_mark *mark, char *buf, size_t size)
{
    const char *file = mark->file ? mark->file : "(default)";
    if (mark->line)
        snprintf(buf, size, "%s:%u:%u", file, (unsigned)mark->line, (unsigned)mark->col);
    else
        snprintf(buf, size, "%s", file);
    return buf;
}

/* Errors without a line first (the file as a whole, the command line), then
 * by file, line and column. */
static int by_position(const struct cfg_error *a, const struct cfg_error *b)
{
    if (!a->line || !b->line)
        return !a->line && !b->line ? 0 : !a->line ? -1 : 1;
    int f = strcmp(a->file ? a->file : "", b->file ? b->file : "");
    if (f != 0)
        return f;
    if (a->line != b->line)
        return a->line < b->line ? -1 : 1;
    if (a->col != b->col)
        return a->col < b->col ? -1 : 1;
    return 0;
}

void cfg_errors_sort(struct cfg_errors *errs)
{
    /* Insertion sort: stable (same position keeps the order found) and the
     * list is short (CFG_MAX_ERRORS) and mostly sorted already. */
    for (size_t i = 1; i < errs->n; i++) {
        struct cfg_error e = errs->v[i];
        size_t j = i;
        for (; j > 0 && by_position(&errs->v[j - 1], &e) > 0; j--)
            errs->v[j] = errs->v[j - 1];
        errs->v[j] = e;
    }
}

void cfg_errors_print(const struct cfg_errors *errs, FILE *out)
{
    /* In position order without touching the list: an index sort. */
    size_t order[CFG_MAX_ERRORS];
    for (size_t i = 0; i < errs->n; i++) {
        size_t j = i;
        for (; j > 0 && by_position(&errs->v[order[j - 1]], &errs->v[i]) > 0; j--)
            order[j] = order[j - 1];
        order[j] = i;
    }
    char line[1536];
    for (size_t i = 0; i < errs->n; i++)
        fprintf(out, "%s\n", cfg_error_format(&errs->v[order[i]], line, sizeof line));
    if (errs->n_dropped)
        fprintf(out, "... and %zu more errors\n", errs->n_dropped);
    if (errs->oom)
        fprintf(out, "out of memory while recording errors\n");
}

/* Optimal string alignment distance: Levenshtein plus the transposition of
 * two neighbours ("prot" is one edit from "port"), the commonest typo. */
size_t cfg_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 100 || lb > 100)
        return 100;
    size_t rows[3][101], *prev2 = rows[0], *prev = rows[1], *cur = rows[2];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t best = prev[j - 1] + (a[i - 1] != b[j - 1]);
            if (prev[j] + 1 < best)
                best = prev[j] + 1;
            if (cur[j - 1] + 1 < best)
                best = cur[j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                prev2[j - 2] + 1 < best)
                best = prev2[j - 2] + 1;
            cur[j] = best;
        }
        size_t *t = prev2;
        prev2 = prev;
        prev = cur;
        cur = t;
    }
    return prev[lb];
}

const char *cfg_closest(const char *word, const char *const *cands, size_t n)
{
    size_t limit = strlen(word) / 3;
    if (limit < 1)
        limit = 1;
    if (limit > 3)
        limit = 3;
    const char *best = NULL;
    size_t best_d = limit + 1;
    for (size_t i = 0; i < n; i++) {
        size_t d = cfg_edit_distance(word, cands[i]);
        if (d < best_d) {
            best_d = d;
            best = cands[i];
        }
    }
    return best;
}
