/* proxy/obs/expo.c — Prometheus text 0.0.4 and OpenMetrics 1.0.0 writer (expo.h). */
#include "proxy/obs/expo.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/err.h"

#define OM_TYPE "application/openmetrics-text"

enum px_expo_format px_expo_negotiate(const char *accept, size_t len)
{
    /* Media ranges are comma-separated; each may carry parameters after
     * ';' (q=…, version=…). */
    size_t i = 0;
    while (accept && i < len) {
        size_t end = i;
        while (end < len && accept[end] != ',')
            end++;
        size_t a = i;
        while (a < end && (accept[a] == ' ' || accept[a] == '\t'))
            a++;
        size_t tl = strlen(OM_TYPE);
        if (end - a >= tl && strncasecmp(accept + a, OM_TYPE, tl) == 0 &&
            (a + tl == end || accept[a + tl] == ';' || accept[a + tl] == ' ')) {
            bool zero = false;
            for (size_t k = a + tl; k + 2 < end; k++)
                if (accept[k] == ';') {
                    size_t q = k + 1;
                    while (q < end && accept[q] == ' ')
                        q++;
                    if (q + 2 <= end && (accept[q] == 'q' || accept[q] == 'Q') &&
                        accept[q + 1] == '=') {
                        double v = strtod(accept + q + 2, NULL);
                        zero = v <= 0.0;
                    }
                }
            if (!zero)
                return PX_EXPO_OPENMETRICS;
        }
        i = end + 1;
    }
    return PX_EXPO_PROMETHEUS;
}

const char *px_expo_content_type(enum px_expo_format fmt)
{
    return fmt == PX_EXPO_OPENMETRICS ? OM_TYPE "; version=1.0.0; charset=utf-8"
                                      : "text/plain; version=0.0.4; charset=utf-8";
}

void px_expo_init(struct px_expo *e, struct hb_buf *out, enum px_expo_format fmt)
{
    memset(e, 0, sizeof *e);
    e->out = out;
    e->fmt = fmt;
}

static void put(struct px_expo *e, const char *s, size_t n)
{
    if (e->err == 0 && n)
        e->err = hb_buf_append(e->out, s, n);
}

static void puts_(struct px_expo *e, const char *s)
{
    put(e, s, strlen(s));
}

static void putf(struct px_expo *e, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        put(e, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* s with backslash and newline escaped, and '"' too when quote. */
static void escaped(struct px_expo *e, const char *s, bool quote)
{
    const char *run = s;
    for (; *s; s++) {
        const char *rep = *s == '\\' ? "\\\\" : *s == '\n' ? "\\n" : quote && *s == '"' ? "\\\"" : NULL;
        if (!rep)
            continue;
        put(e, run, (size_t)(s - run));
        puts_(e, rep);
        run = s + 1;
    }
    put(e, run, (size_t)(s - run));
}

/* A float both formats parse, shortest that reads back the same, with a
 * ".0" on integral values ("1.0": OpenMetrics' canonical form for le). */
static void put_double(struct px_expo *e, double v)
{
    char b[40];
    snprintf(b, sizeof b, "%.15g", v);
    if (strtod(b, NULL) != v)
        snprintf(b, sizeof b, "%.17g", v);
    if (!strpbrk(b, ".eEnN"))
        strcat(b, ".0");
    puts_(e, b);
}

void px_expo_family(struct px_expo *e, const char *name, enum px_expo_type type,
                    const char *help)
{
    size_t n = strlen(name);
    if (n >= sizeof e->family) {
        e->err = e->err ? e->err : HB_EINVAL;
        return;
    }
    memcpy(e->family, name, n + 1);
    e->type = type;
    /* The family is the name without _total (OpenMetrics); the text
     * format's # TYPE names the sample. */
    if (type == PX_EXPO_COUNTER && n > 6 && strcmp(name + n - 6, "_total") == 0)
        e->family[n - 6] = '\0';
    const char *fam = e->fmt == PX_EXPO_OPENMETRICS || type != PX_EXPO_COUNTER ? e->family : name;
    static const char *const types[] = {"counter", "gauge", "histogram"};
    puts_(e, "# HELP ");
    puts_(e, fam);
    puts_(e, " ");
    escaped(e, help, e->fmt == PX_EXPO_OPENMETRICS);
    puts_(e, "\n# TYPE ");
    puts_(e, fam);
    puts_(e, " ");
    puts_(e, types[type]);
    puts_(e, "\n");
}

static void labels_(struct px_expo *e, const struct px_label *l, size_t n, const char *le)
{
    if (n == 0 && !le)
        return;
    puts_(e, "{");
    for (size_t i = 0; i < n; i++) {
        if (i)
            puts_(e, ",");
        puts_(e, l[i].name);
        puts_(e, "=\"");
        escaped(e, l[i].value ? l[i].value : "", true);
        puts_(e, "\"");
    }
    if (le) {
        if (n)
            puts_(e, ",");
        puts_(e, "le=\"");
        puts_(e, le);
        puts_(e, "\"");
    }
    puts_(e, "}");
}

static void name_(struct px_expo *e, const char *suffix)
{
    puts_(e, e->family);
    puts_(e, suffix);
}

void px_expo_sample(struct px_expo *e, const struct px_label *labels, size_t nlabels,
                    uint64_t value)
{
    name_(e, e->type == PX_EXPO_COUNTER ? "_total" : "");
    labels_(e, labels, nlabels, NULL);
    putf(e, " %" PRIu64 "\n", value);
}

void px_expo_sample_f(struct px_expo *e, const struct px_label *labels, size_t nlabels,
                      double value)
{
    name_(e, e->type == PX_EXPO_COUNTER ? "_total" : "");
    labels_(e, labels, nlabels, NULL);
    puts_(e, " ");
    put_double(e, value);
    puts_(e, "\n");
}

void px_expo_histogram(struct px_expo *e, const struct px_label *labels, size_t nlabels,
                       const double *bounds, size_t nbounds, const uint64_t *counts, double sum)
{
    uint64_t cum = 0;
    for (size_t i = 0; i <= nbounds; i++) {
        cum += counts[i];
        char le[40];
        if (i < nbounds) {
            /* the same shortest form as put_double, into le */
            snprintf(le, sizeof le, "%.15g", bounds[i]);
            if (strtod(le, NULL) != bounds[i])
                snprintf(le, sizeof le, "%.17g", bounds[i]);
            if (!strpbrk(le, ".eE"))
                strcat(le, ".0");
        } else {
            strcpy(le, "+Inf");
        }
        name_(e, "_bucket");
        labels_(e, labels, nlabels, le);
        putf(e, " %" PRIu64 "\n", cum);
    }
    name_(e, "_sum");
    labels_(e, labels, nlabels, NULL);
    puts_(e, " ");
    put_double(e, sum);
    puts_(e, "\n");
    name_(e, "_count");
    labels_(e, labels, nlabels, NULL);
    putf(e, " %" PRIu64 "\n", cum);
}

int px_expo_finish(struct px_expo *e)
{
    if (e->fmt == PX_EXPO_OPENMETRICS)
        puts_(e, "# EOF\n");
    return e->err;
}
