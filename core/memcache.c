/* core/memcache.c — the memcached text protocol, client side (memcache.h). */
#include "core/memcache.h"

#include <stdio.h>
#include <string.h>

#include "core/err.h"

bool hb_mc_key_ok(const char *key)
{
    size_t n = key ? strlen(key) : 0;
    if (n == 0 || n > HB_MC_KEY_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)key[i] <= 0x20 || (unsigned char)key[i] >= 0x7f)
            return false;
    return true;
}

ptrdiff_t hb_mc_write_gets(char *out, size_t cap, const char *key)
{
    if (!hb_mc_key_ok(key))
        return HB_EINVAL;
    int n = snprintf(out, cap, "gets %s\r\n", key);
    return n < 0 || (size_t)n >= cap ? HB_ELIMIT : n;
}

ptrdiff_t hb_mc_write_store(uint8_t *out, size_t cap, const char *op, const char *key,
                            uint32_t flags, uint32_t exptime, const uint8_t *data, size_t len,
                            uint64_t cas_unique)
{
    bool cas = strcmp(op, "cas") == 0;
    if (!hb_mc_key_ok(key) || (!cas && strcmp(op, "set") != 0 && strcmp(op, "add") != 0))
        return HB_EINVAL;
    char head[HB_MC_KEY_MAX + 96];
    int n = cas ? snprintf(head, sizeof head, "cas %s %u %u %zu %llu\r\n", key, flags, exptime,
                           len, (unsigned long long)cas_unique)
                : snprintf(head, sizeof head, "%s %s %u %u %zu\r\n", op, key, flags, exptime, len);
    if (n < 0 || (size_t)n >= sizeof head || (size_t)n + len + 2 > cap)
        return HB_ELIMIT;
    memcpy(out, head, (size_t)n);
    if (len)
        memcpy(out + n, data, len);
    memcpy(out + (size_t)n + len, "\r\n", 2);
    return (ptrdiff_t)((size_t)n + len + 2);
}

const char *hb_mc_result_name(enum hb_mc_result r)
{
    switch (r) {
    case HB_MC_NONE: return "none";
    case HB_MC_HIT: return "hit";
    case HB_MC_MISS: return "miss";
    case HB_MC_STORED: return "stored";
    case HB_MC_NOT_STORED: return "not stored";
    case HB_MC_EXISTS: return "exists";
    case HB_MC_NOT_FOUND: return "not found";
    case HB_MC_ERROR: return "error";
    }
    return "?";
}

const char *hb_mc_state_name(enum hb_mc_state s)
{
    switch (s) {
    case HB_MC_ST_LINE: return "LINE";
    case HB_MC_ST_DATA: return "DATA";
    case HB_MC_ST_END: return "END";
    case HB_MC_ST_DONE: return "DONE";
    case HB_MC_ST_BAD: return "BAD";
    }
    return "?";
}

void hb_mc_reply_init(struct hb_mc_reply *r, enum hb_mc_kind kind, const char *key,
                      uint8_t *value, size_t cap)
{
    memset(r, 0, sizeof *r);
    r->state = HB_MC_ST_LINE;
    r->kind = kind;
    if (key)
        snprintf(r->key, sizeof r->key, "%s", key);
    r->value = value;
    r->value_cap = value ? cap : 0;
}

static void bad(struct hb_mc_reply *r, const char *why)
{
    r->state = HB_MC_ST_BAD;
    r->why = why;
}

static void done(struct hb_mc_reply *r, enum hb_mc_result res)
{
    r->state = HB_MC_ST_DONE;
    r->result = res;
}

/* Parses an unsigned decimal of at most max at *p, advancing it. */
static bool number(const char **p, unsigned long long max, unsigned long long *out)
{
    const char *s = *p;
    unsigned long long v = 0;
    if (*s < '0' || *s > '9')
        return false;
    while (*s >= '0' && *s <= '9') {
        unsigned d = (unsigned)(*s - '0');
        if (v > (max - d) / 10)
            return false;
        v = v * 10 + d;
        s++;
    }
    *p = s;
    *out = v;
    return true;
}

/* "CLIENT_ERROR text" and friends: true when the line was one. */
static bool error_line(struct hb_mc_reply *r, const char *l)
{
    static const char *const pre[] = {"CLIENT_ERROR ", "SERVER_ERROR "};
    if (strcmp(l, "ERROR") == 0) {
        snprintf(r->msg, sizeof r->msg, "ERROR");
        done(r, HB_MC_ERROR);
        return true;
    }
    for (size_t i = 0; i < 2; i++)
        if (strncmp(l, pre[i], strlen(pre[i])) == 0) {
            snprintf(r->msg, sizeof r->msg, "%.120s", l);
            done(r, HB_MC_ERROR);
            return true;
        }
    return false;
}

/* "VALUE <key> <flags> <bytes>[ <cas>]". */
static void value_line(struct hb_mc_reply *r, const char *l)
{
    const char *p = l + 6;
    size_t klen = strlen(r->key);
    if (strncmp(p, r->key, klen) != 0 || p[klen] != ' ')
        return bad(r, "a VALUE line for another key");
    p += klen + 1;
    unsigned long long flags, bytes, cas = 0;
    if (!number(&p, UINT32_MAX, &flags) || *p++ != ' ' || !number(&p, SIZE_MAX - 2, &bytes))
        return bad(r, "a VALUE line without flags and length");
    if (*p == ' ') {
        p++;
        if (!number(&p, UINT64_MAX, &cas))
            return bad(r, "a VALUE line with a bad cas value");
        r->has_cas = true;
    }
    if (*p != '\0')
        return bad(r, "a VALUE line with trailing bytes");
    if (bytes > r->value_cap)
        return bad(r, "a value longer than the limit");
    r->flags = (uint32_t)flags;
    r->cas = cas;
    r->value_len = (size_t)bytes;
    r->got = 0;
    r->state = HB_MC_ST_DATA;
}

static void first_line(struct hb_mc_reply *r, const char *l)
{
    if (error_line(r, l))
        return;
    if (r->kind == HB_MC_RETRIEVAL) {
        if (strcmp(l, "END") == 0)
            return done(r, HB_MC_MISS);
        if (strncmp(l, "VALUE ", 6) == 0)
            return value_line(r, l);
        return bad(r, "not a retrieval reply");
    }
    static const struct {
        const char *text;
        enum hb_mc_result res;
    } st[] = {{"STORED", HB_MC_STORED},
              {"NOT_STORED", HB_MC_NOT_STORED},
              {"EXISTS", HB_MC_EXISTS},
              {"NOT_FOUND", HB_MC_NOT_FOUND}};
    for (size_t i = 0; i < sizeof st / sizeof st[0]; i++)
        if (strcmp(l, st[i].text) == 0)
            return done(r, st[i].res);
    bad(r, "not a storage reply");
}

/* Accumulates one line; true when it is complete (NUL-terminated, without
 * "\r\n", in r->line). */
static bool take_line(struct hb_mc_reply *r, const uint8_t *p, size_t len, size_t *i)
{
    while (*i < len) {
        uint8_t c = p[(*i)++];
        if (r->line_len > 0 && r->line[r->line_len - 1] == '\r') {
            if (c != '\n') {
                bad(r, "a carriage return without a line feed");
                return false;
            }
            r->line[r->line_len - 1] = '\0';
            r->line_len = 0;
            return true;
        }
        if (c == '\n' || c == '\0') {
            bad(r, c ? "a line feed without a carriage return" : "a NUL byte in a reply line");
            return false;
        }
        if (r->line_len + 1 >= sizeof r->line) {
            bad(r, "a reply line longer than 512 bytes");
            return false;
        }
        r->line[r->line_len++] = (char)c;
    }
    return false;
}

size_t hb_mc_reply_feed(struct hb_mc_reply *r, const uint8_t *p, size_t len)
{
    size_t i = 0;
    while (i < len && r->state != HB_MC_ST_DONE && r->state != HB_MC_ST_BAD) {
        switch (r->state) {
        case HB_MC_ST_LINE:
            if (take_line(r, p, len, &i))
                first_line(r, r->line);
            break;
        case HB_MC_ST_DATA: {
            size_t want = r->value_len + 2 - r->got;
            size_t n = len - i < want ? len - i : want;
            for (size_t k = 0; k < n; k++, r->got++) {
                uint8_t c = p[i + k];
                if (r->got < r->value_len)
                    r->value[r->got] = c;
                else if (c != (r->got == r->value_len ? '\r' : '\n')) {
                    bad(r, "a value not followed by CRLF");
                    return i + k + 1;
                }
            }
            i += n;
            if (r->got == r->value_len + 2)
                r->state = HB_MC_ST_END;
            break;
        }
        case HB_MC_ST_END:
            if (take_line(r, p, len, &i)) {
                if (strcmp(r->line, "END") == 0)
                    done(r, HB_MC_HIT);
                else
                    bad(r, "a value not followed by END");
            }
            break;
        case HB_MC_ST_DONE:
        case HB_MC_ST_BAD:
            break;
        }
    }
    return i;
}
