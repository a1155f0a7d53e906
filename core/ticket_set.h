/* core/ticket_set.h — a versioned set of TLS session ticket keys, as it is
 * stored in memcached and shared by a fleet (docs/operations.md).
 *
 * The first key encrypts new tickets; every key decrypts. Each key is 48
 * bytes (16 name, 16 HMAC-SHA256 secret, 16 AES-128 key) or 80 bytes (16
 * name, 32 HMAC, 32 AES-256), the layout of nginx's ticket key files
 * (proxy/tls/tls_tickets.c uses them).
 *
 * Encoding, big-endian, nothing after the last key:
 *
 *   "H2BT"            4 bytes  magic
 *   format            1 byte   HB_TKS_FORMAT (1)
 *   count             1 byte   1..HB_TKS_MAX
 *   generation        8 bytes  +1 on every rotation: the set's version
 *   created           8 bytes  Unix seconds when this generation was written
 *   count × { length 1 byte (48 or 80), key bytes }
 *
 * Sans-IO, no allocation, no randomness: the caller brings new keys.
 */
#ifndef H2B_CORE_TICKET_SET_H
#define H2B_CORE_TICKET_SET_H

#include <stddef.h>
#include <stdint.h>

#define HB_TKS_FORMAT 1
#define HB_TKS_MAX    8
#define HB_TKS_HEAD   22
#define HB_TKS_BYTES_MAX (HB_TKS_HEAD + HB_TKS_MAX * 81) /* the longest encoding */

struct hb_tks_key {
    uint8_t len; /* 48 or 80 */
    uint8_t bytes[80];
};

struct hb_tks {
    uint64_t generation;
    uint64_t created; /* Unix seconds */
    size_t n;         /* 1..HB_TKS_MAX */
    struct hb_tks_key keys[HB_TKS_MAX];
};

/* Decodes p[0..len) into *out. Returns 0, or HB_EPROTO with *why set to a
 * static reason ("not a ticket key set (bad magic)", …). */
int hb_tks_parse(const uint8_t *p, size_t len, struct hb_tks *out, const char **why);

/* Encodes s into out. Returns the length, or HB_EINVAL (a bad count or key
 * length) or HB_ELIMIT (cap too small). */
ptrdiff_t hb_tks_write(const struct hb_tks *s, uint8_t *out, size_t cap);

/* A rotation: k becomes the first (encrypting) key, the previous first key
 * and the ones after it follow, at most keep of them (0..HB_TKS_MAX-1);
 * generation + 1, created = now. s may be empty (n == 0: a first set,
 * generation 1). Returns 0, or HB_EINVAL for a bad key length or keep. */
int hb_tks_rotate(struct hb_tks *s, const struct hb_tks_key *k, size_t keep, uint64_t now);

#endif
