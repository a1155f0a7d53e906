/* tests/testutil/json.c — see json.h. Recursive descent, depth-limited. */
#include "testutil/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64

struct parser {
    const char *p, *end, *start;
    char *err;
    size_t errlen;
    int failed;
};

static void perr(struct parser *ps, const char *msg)
{
    if (ps->failed)
        return;
    ps->failed = 1;
    int line = 1;
    for (const char *q = ps->start; q < ps->p && q < ps->end; q++)
        line += *q == '\n';
    if (ps->err && ps->errlen)
        snprintf(ps->err, ps->errlen, "line %d: %s", line, msg);
}

static void skip_ws(struct parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static int hex4(struct parser *ps, unsigned *out)
{
    if (ps->end - ps->p < 4)
        return -1;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = *ps->p++;
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static char *put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        *o++ = (char)cp;
    } else if (cp < 0x800) {
        *o++ = (char)(0xc0 | cp >> 6);
        *o++ = (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        *o++ = (char)(0xe0 | cp >> 12);
        *o++ = (char)(0x80 | (cp >> 6 & 0x3f));
        *o++ = (char)(0x80 | (cp & 0x3f));
    } else {
        *o++ = (char)(0xf0 | cp >> 18);
        *o++ = (char)(0x80 | (cp >> 12 & 0x3f));
        *o++ = (char)(0x80 | (cp >> 6 & 0x3f));
        *o++ = (char)(0x80 | (cp & 0x3f));
    }
    return o;
}

/* A string at ps->p (which is at '"'): decoded into a malloc'd buffer. */
static char *parse_string(struct parser *ps, size_t *len)
{
    ps->p++;
    const char *q = ps->p;
    while (q < ps->end && *q != '"')
        q += *q == '\\' ? 2 : 1;
    if (q >= ps->end) {
        perr(ps, "unterminated string");
        return NULL;
    }
    /* Escapes never make a string longer (\uXXXX is 6 bytes for <= 4). */
    char *out = malloc((size_t)(q - ps->p) + 1);
    char *o = out;
    while (ps->p < q) {
        char c = *ps->p++;
        if ((unsigned char)c < 0x20) {
            perr(ps, "control character in string");
            break;
        }
        if (c != '\\') {
            *o++ = c;
            continue;
        }
        c = *ps->p++;
        const char *simple = strchr("\"\\/bfnrt", c);
        if (c && simple) {
            *o++ = "\"\\/\b\f\n\r\t"[simple - "\"\\/bfnrt"];
            continue;
        }
        unsigned cp, lo;
        if (c != 'u' || hex4(ps, &cp) != 0) {
            perr(ps, "bad escape in string");
            break;
        }
        if (cp >= 0xd800 && cp < 0xdc00 && q - ps->p >= 6 && ps->p[0] == '\\' && ps->p[1] == 'u') {
            ps->p += 2;
            if (hex4(ps, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff) {
                perr(ps, "bad surrogate pair");
                break;
            }
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        }
        o = put_utf8(o, cp);
    }
    *o = '\0';
    *len = (size_t)(o - out);
    ps->p = q + 1;
    if (ps->failed) {
        free(out);
        return NULL;
    }
    return out;
}

static int parse_value(struct parser *ps, struct tu_json *v, int depth);

static int add_child(struct parser *ps, struct tu_json *v, size_t *cap, struct tu_json **child)
{
    if (v->n == *cap) {
        *cap = *cap ? *cap * 2 : 4;
        struct tu_json *items = realloc(v->items, *cap * sizeof *items);
        if (!items) {
            perr(ps, "out of memory");
            return -1;
        }
        v->items = items;
    }
    *child = &v->items[v->n++];
    memset(*child, 0, sizeof **child);
    return 0;
}

static int parse_container(struct parser *ps, struct tu_json *v, int depth)
{
    int obj = *ps->p == '{';
    char close = obj ? '}' : ']';
    v->type = obj ? TU_JSON_OBJ : TU_JSON_ARR;
    ps->p++;
    size_t cap = 0;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        return 0;
    }
    for (;;) {
        struct tu_json *c;
        if (add_child(ps, v, &cap, &c) != 0)
            return -1;
        skip_ws(ps);
        if (obj) {
            if (ps->p >= ps->end || *ps->p != '"') {
                perr(ps, "expected a member name");
                return -1;
            }
            if (!(c->key = parse_string(ps, &c->key_len)))
                return -1;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p++ != ':') {
                perr(ps, "expected ':'");
                return -1;
            }
        }
        if (parse_value(ps, c, depth + 1) != 0)
            return -1;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            return 0;
        }
        perr(ps, obj ? "expected ',' or '}'" : "expected ',' or ']'");
        return -1;
    }
}

static int parse_literal(struct parser *ps, struct tu_json *v)
{
    static const struct {
        const char *word;
        enum tu_json_type type;
        int b;
    } words[] = {{"true", TU_JSON_BOOL, 1}, {"false", TU_JSON_BOOL, 0}, {"null", TU_JSON_NULL, 0}};
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(words[i].word);
        if ((size_t)(ps->end - ps->p) >= n && memcmp(ps->p, words[i].word, n) == 0) {
            ps->p += n;
            v->type = words[i].type;
            v->boolean = words[i].b;
            return 0;
        }
    }
    char buf[64];
    size_t n = 0;
    while (ps->p + n < ps->end && n < sizeof buf - 1 && strchr("+-0123456789.eE", ps->p[n]))
        n++;
    memcpy(buf, ps->p, n);
    buf[n] = '\0';
    char *endp;
    v->num = strtod(buf, &endp);
    if (n == 0 || *endp) {
        perr(ps, "unexpected character");
        return -1;
    }
    v->type = TU_JSON_NUM;
    ps->p += n;
    return 0;
}

static int parse_value(struct parser *ps, struct tu_json *v, int depth)
{
    if (depth > MAX_DEPTH) {
        perr(ps, "nested too deeply");
        return -1;
    }
    skip_ws(ps);
    if (ps->p >= ps->end) {
        perr(ps, "unexpected end");
        return -1;
    }
    if (*ps->p == '{' || *ps->p == '[')
        return parse_container(ps, v, depth);
    if (*ps->p == '"') {
        v->type = TU_JSON_STR;
        return (v->str = parse_string(ps, &v->len)) ? 0 : -1;
    }
    return parse_literal(ps, v);
}

static void free_children(struct tu_json *v)
{
    for (size_t i = 0; i < v->n; i++)
        free_children(&v->items[i]);
    free(v->items);
    free(v->key);
    free(v->str);
}

void tu_json_free(struct tu_json *v)
{
    if (!v)
        return;
    free_children(v);
    free(v);
}

struct tu_json *tu_json_parse(const char *text, size_t len, char *err, size_t errlen)
{
    struct parser ps = {text, text + len, text, err, errlen, 0};
    struct tu_json *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    if (parse_value(&ps, v, 0) == 0) {
        skip_ws(&ps);
        if (ps.p == ps.end)
            return v;
        perr(&ps, "trailing characters");
    }
    tu_json_free(v);
    return NULL;
}

const struct tu_json *tu_json_get(const struct tu_json *obj, const char *key)
{
    if (!obj || obj->type != TU_JSON_OBJ)
        return NULL;
    size_t kl = strlen(key);
    for (size_t i = 0; i < obj->n; i++)
        if (obj->items[i].key_len == kl && memcmp(obj->items[i].key, key, kl) == 0)
            return &obj->items[i];
    return NULL;
}
