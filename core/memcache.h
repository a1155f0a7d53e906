/* core/memcache.h — the memcached text protocol, client side, sans-IO.
 *
 * Just what sharing TLS ticket keys needs (docs/operations.md): one "gets"
 * of one key, and the storage commands "set", "add" and "cas" (memcached's
 * protocol.txt). Requests are written into a caller buffer; a reply is fed,
 * in pieces of any size, to a parser with an explicit state machine that
 * stops at the end of one reply. Nothing is allocated: a value is copied
 * into the caller's buffer, and a value longer than that buffer is an error
 * (the limit is the caller's, and it is checked before a byte of it is
 * stored).
 *
 * Replies accepted:
 *   retrieval: "END\r\n" (a miss), or "VALUE <key> <flags> <bytes>[ <cas>]\r\n"
 *              <bytes> of data "\r\n" then "END\r\n" (the key must be the one
 *              asked for);
 *   storage:   "STORED", "NOT_STORED", "EXISTS", "NOT_FOUND";
 *   both:      "ERROR", "CLIENT_ERROR <text>", "SERVER_ERROR <text>".
 * Lines end with "\r\n"; a line longer than HB_MC_LINE_MAX is an error.
 */
#ifndef H2B_CORE_MEMCACHE_H
#define H2B_CORE_MEMCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HB_MC_KEY_MAX  250 /* memcached's own key limit */
#define HB_MC_LINE_MAX 512 /* a reply line, "\r\n" included */

/* True when key is 1..HB_MC_KEY_MAX bytes of printable ASCII without spaces
 * (what the text protocol can carry). */
bool hb_mc_key_ok(const char *key);

/* "gets <key>\r\n" into out. Returns its length, or HB_EINVAL (bad key) or
 * HB_ELIMIT (out too small). */
ptrdiff_t hb_mc_write_gets(char *out, size_t cap, const char *key);

/* A storage command: op is "set", "add" or "cas" (cas uses cas_unique),
 * then data[0..len) and "\r\n". Returns the length, or HB_EINVAL /
 * HB_ELIMIT as above. */
ptrdiff_t hb_mc_write_store(uint8_t *out, size_t cap, const char *op, const char *key,
                            uint32_t flags, uint32_t exptime, const uint8_t *data, size_t len,
                            uint64_t cas_unique);

/* What the reply said. */
enum hb_mc_result {
    HB_MC_NONE,         /* not finished */
    HB_MC_HIT,          /* a value (retrieval) */
    HB_MC_MISS,         /* END without a value */
    HB_MC_STORED,
    HB_MC_NOT_STORED,   /* add of a key that exists */
    HB_MC_EXISTS,       /* cas: changed since gets */
    HB_MC_NOT_FOUND,    /* cas: the key is gone */
    HB_MC_ERROR,        /* ERROR, CLIENT_ERROR or SERVER_ERROR (text in msg) */
};
const char *hb_mc_result_name(enum hb_mc_result r);

/* The parser's state. */
enum hb_mc_state {
    HB_MC_ST_LINE,  /* reading the first line of the reply */
    HB_MC_ST_DATA,  /* reading a value's bytes and their "\r\n" */
    HB_MC_ST_END,   /* reading the "END" after a value */
    HB_MC_ST_DONE,  /* one reply read: result says what */
    HB_MC_ST_BAD,   /* not the protocol: why says how */
};
const char *hb_mc_state_name(enum hb_mc_state s);

enum hb_mc_kind { HB_MC_RETRIEVAL, HB_MC_STORAGE };

struct hb_mc_reply {
    enum hb_mc_state state;
    enum hb_mc_kind kind;
    enum hb_mc_result result;
    char key[HB_MC_KEY_MAX + 1]; /* retrieval: the key asked for */
    uint8_t *value;              /* caller's buffer */
    size_t value_cap;
    size_t value_len; /* bytes of the value (HIT) */
    size_t got;       /* bytes of DATA read so far (value + "\r\n") */
    uint32_t flags;
    uint64_t cas;
    bool has_cas;
    char line[HB_MC_LINE_MAX];
    size_t line_len;
    char msg[128];   /* ERROR text */
    const char *why; /* BAD: static reason */
};

/* Starts a reply to one request. key: the key a retrieval asked for (NULL
 * for storage). value/cap: where a value goes (retrieval). */
void hb_mc_reply_init(struct hb_mc_reply *r, enum hb_mc_kind kind, const char *key,
                      uint8_t *value, size_t cap);

/* Feeds p[0..len). Returns the bytes used (bytes after the end of the reply
 * are not used); the caller checks r->state: DONE, BAD, or more needed. */
size_t hb_mc_reply_feed(struct hb_mc_reply *r, const uint8_t *p, size_t len);

#endif
