/* tests/hpack/hpack_story.h — hpack-test-case story files (JSON: cases of
 * {seqno, header_table_size?, wire, headers: [{name: value}, ...]}), shared
 * by the corpus test and the hpack-story tool. Header-only. */
#ifndef H2B_HPACK_STORY_H
#define H2B_HPACK_STORY_H

#include "hpack/hpack.h"
#include "testutil/json.h"
#include "testutil/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STORY_MAX_FIELDS 1024
#define STORY_SCRATCH (1024 * 1024)

/* Loads and parses a story file; NULL (message on err) when unreadable. */
static inline struct tu_json *story_load(const char *path, FILE *err)
{
    size_t len;
    char *text = tu_read_file(path, &len);
    if (!text) {
        fprintf(err, "%s: cannot read\n", path);
        return NULL;
    }
    char msg[256];
    struct tu_json *j = tu_json_parse(text, len, msg, sizeof msg);
    free(text);
    if (!j)
        fprintf(err, "%s: %s\n", path, msg);
    else if (!tu_json_get(j, "cases") || tu_json_get(j, "cases")->type != TU_JSON_ARR) {
        fprintf(err, "%s: no \"cases\" array\n", path);
        tu_json_free(j);
        j = NULL;
    }
    return j;
}

/* The header list of a case, pointing into the JSON tree. Returns the
 * count, or -1 when malformed. */
static inline long story_fields(const struct tu_json *c, struct hpack_field *out, size_t max)
{
    const struct tu_json *h = tu_json_get(c, "headers");
    if (!h || h->type != TU_JSON_ARR || h->n > max)
        return -1;
    for (size_t i = 0; i < h->n; i++) {
        const struct tu_json *kv = &h->items[i];
        if (kv->type != TU_JSON_OBJ || kv->n != 1 || kv->items[0].type != TU_JSON_STR)
            return -1;
        out[i] = (struct hpack_field){kv->items[0].key, kv->items[0].str,
                                      (uint32_t)kv->items[0].key_len, (uint32_t)kv->items[0].len, 0};
    }
    return (long)h->n;
}

/* header_table_size of a case, or -1 when absent. */
static inline long story_table_size(const struct tu_json *c)
{
    const struct tu_json *t = tu_json_get(c, "header_table_size");
    return t && t->type == TU_JSON_NUM && t->num >= 0 && t->num <= UINT32_MAX ? (long)t->num : -1;
}

/* 1 when got[0..ng) equals want[0..nw) field by field. */
static inline int story_same(const struct hpack_field *got, size_t ng,
                             const struct hpack_field *want, size_t nw)
{
    if (ng != nw)
        return 0;
    for (size_t i = 0; i < ng; i++)
        if (got[i].name_len != want[i].name_len || got[i].value_len != want[i].value_len ||
            memcmp(got[i].name, want[i].name, got[i].name_len) != 0 ||
            memcmp(got[i].value, want[i].value, got[i].value_len) != 0)
            return 0;
    return 1;
}

/* Decodes every case of story j in order with one decoder, checking each
 * against its headers; adds to *passed / *failed (one per case) and
 * describes failures on err. */
static inline void story_decode(const char *path, const struct tu_json *j, size_t *passed,
                                size_t *failed, FILE *err)
{
    const struct tu_json *cases = tu_json_get(j, "cases");
    struct hpack_decoder *d = hpack_decoder_new(4096);
    static struct hpack_field want[STORY_MAX_FIELDS], got[STORY_MAX_FIELDS];
    static uint8_t wire[STORY_SCRATCH];
    static char scratch[STORY_SCRATCH];
    hpack_decoder_set_limits(d, STORY_SCRATCH, STORY_MAX_FIELDS);
    for (size_t i = 0; i < cases->n; i++) {
        const struct tu_json *c = &cases->items[i];
        const struct tu_json *w = tu_json_get(c, "wire");
        long nw = story_fields(c, want, STORY_MAX_FIELDS);
        long wl = w && w->type == TU_JSON_STR ? tu_unhex(w->str, wire, sizeof wire) : -1;
        if (nw < 0 || wl < 0) {
            fprintf(err, "%s: case %zu: malformed case\n", path, i);
            ++*failed;
            continue;
        }
        long ts = story_table_size(c);
        if (ts >= 0)
            hpack_decoder_set_max_table_size(d, (uint32_t)ts);
        size_t ng = 0;
        int r = hpack_decode_block(d, wire, (size_t)wl, got, STORY_MAX_FIELDS, &ng, scratch,
                                   sizeof scratch);
        if (r != 0) {
            fprintf(err, "%s: case %zu: %s (%s)\n", path, i, hpack_err_name(r),
                    hpack_decoder_error_detail(d));
            ++*failed;
        } else if (!story_same(got, ng, want, (size_t)nw)) {
            fprintf(err, "%s: case %zu: decoded headers differ\n", path, i);
            ++*failed;
        } else {
            ++*passed;
        }
    }
    hpack_decoder_del(d);
}

#endif
