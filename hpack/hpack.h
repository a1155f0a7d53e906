/* hpack/hpack.h — RFC 7541 header compression for HTTP/2. libc only.
 *
 * One decoder and one encoder per HTTP/2 connection (each direction has its
 * own dynamic table). Neither does I/O or keeps pointers into the caller's
 * input after a call returns.
 *
 * Errors: functions return 0 / a byte count, or a negative enum hpack_err.
 * A decoding error that breaks the shared table state (anything malformed) is
 * HPACK_ERR_COMPRESSION and is sticky: every later call fails the same way,
 * because the two ends' tables can no longer be in sync (RFC 9113 §4.3:
 * that is a connection error of type COMPRESSION_ERROR).
 */
#ifndef H2B_HPACK_H
#define H2B_HPACK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum hpack_err {
    HPACK_OK = 0,
    HPACK_ERR_COMPRESSION = -1, /* malformed block; context failed (sticky) */
    HPACK_ERR_LIST_TOO_LARGE = -2, /* block decoded (table in sync) but the list
                                      exceeded a limit; fields discarded */
    HPACK_ERR_NOMEM = -3,
    HPACK_ERR_BUFFER = -4, /* caller's output or scratch space too small */
};

/* "OK", "COMPRESSION", "LIST_TOO_LARGE", "NOMEM", "BUFFER", or "UNKNOWN". */
const char *hpack_err_name(int err);

/* Field flags. */
#define HPACK_FIELD_NEVER_INDEX 0x1u /* decoded from / to be sent as a
                                        never-indexed literal (§6.2.3) */

/* One header field. name/value are not NUL-terminated. Who owns the bytes is
 * said by the function that fills it. Lengths are uint32_t: no field can be
 * larger than a header list limit anyway. */
struct hpack_field {
    const char *name;
    const char *value;
    uint32_t name_len;
    uint32_t value_len;
    uint32_t flags;
};

/* Allocator hook: every allocation of a context (the context itself, its
 * dynamic table, decode scratch, never-index names) goes through it, so an
 * embedder can account for and bound it. alloc returns NULL on failure;
 * free gets the size that was asked for. NULL hooks mean malloc/free. The
 * struct is copied by *_new_with(); ud must outlive the context.
 *
 * Memory while idle: a context that never saw a block holds only its own
 * struct (a few hundred bytes). Dynamic tables are allocated at their first
 * insertion and grow with their live entries (never past what the table
 * size allows), then stay until *_del(); blocks that index nothing
 * allocate nothing. */
struct hpack_allocator {
    void *(*alloc)(void *ud, size_t n);
    void (*free)(void *ud, void *p, size_t n);
    void *ud;
};

/* RFC 7541 §4.1: an entry's size is name + value + 32. SETTINGS_MAX_HEADER_LIST_SIZE
 * counts the same way (RFC 9113 §6.5.2). */
#define HPACK_ENTRY_OVERHEAD 32u

/* ---- decoder -------------------------------------------------------------- */

struct hpack_decoder;

/* Creates a decoder whose dynamic table may hold at most max_table_size bytes
 * (our SETTINGS_HEADER_TABLE_SIZE; 4096 is the protocol default). Limits
 * start at max_list_size = 64 KiB and max_fields = 256. NULL when out of
 * memory. Free with hpack_decoder_del(). */
struct hpack_decoder *hpack_decoder_new(uint32_t max_table_size);
/* The same, allocating through a (NULL: malloc/free). */
struct hpack_decoder *hpack_decoder_new_with(uint32_t max_table_size,
                                             const struct hpack_allocator *a);
void hpack_decoder_del(struct hpack_decoder *d);

/* Limits on one decoded block: max_list_size counts name + value + 32 per
 * field, like SETTINGS_MAX_HEADER_LIST_SIZE; max_fields counts fields. When a
 * block goes over either, the rest of the block is still decoded (to keep the
 * dynamic table in sync) without storing fields, and the call returns
 * HPACK_ERR_LIST_TOO_LARGE. */
void hpack_decoder_set_limits(struct hpack_decoder *d, size_t max_list_size, size_t max_fields);

/* Changes the table size limit the encoder must respect (after our SETTINGS
 * carrying a new SETTINGS_HEADER_TABLE_SIZE was acknowledged). A later block
 * that does not start with a size update to at most the lowest limit set
 * since the previous block is HPACK_ERR_COMPRESSION (§4.2) — required only when
 * that lowest limit is below the table size in use (an encoder that keeps a
 * size still allowed has nothing to signal). */
void hpack_decoder_set_max_table_size(struct hpack_decoder *d, uint32_t max_table_size);

/* Decodes one complete header block in[0..len) into fields[0..max_fields).
 * Decoded strings are written into scratch[0..scratch_len) (or point into
 * static storage of the library); a scratch of at least the max_list_size
 * limit always suffices. *nfields receives the field count.
 * Every pointer in fields stays valid until scratch is reused; none points
 * into `in` or into the dynamic table. After a call that does not return
 * 0, scratch holds nothing of use (it may serve as the decoder's work space
 * for table entries of a list over its limits).
 * Returns 0, HPACK_ERR_COMPRESSION (sticky), HPACK_ERR_LIST_TOO_LARGE (also
 * when more than max_fields fields arrive), HPACK_ERR_BUFFER (scratch too
 * small: the context is failed, as the table may be half updated) or
 * HPACK_ERR_NOMEM (failed). */
int hpack_decode_block(struct hpack_decoder *d, const uint8_t *in, size_t len,
                       struct hpack_field *fields, size_t max_fields, size_t *nfields,
                       char *scratch, size_t scratch_len);

/* After a failure, a short static description of the rule that was broken
 * ("index out of range", "huffman padding not all ones", ...); "" when none.
 * After HPACK_ERR_LIST_TOO_LARGE, which limit: "header list too large" or
 * "too many header fields". */
const char *hpack_decoder_error_detail(const struct hpack_decoder *d);

/* Current dynamic table size in bytes (entry sizes summed), for tests. */
size_t hpack_decoder_table_size(const struct hpack_decoder *d);

/* Bytes the decoder holds besides its own struct (table rings, scratch):
 * 0 until a block inserts into the table. For tests and metrics. */
size_t hpack_decoder_mem(const struct hpack_decoder *d);

/* ---- encoder -------------------------------------------------------------- */

struct hpack_encoder;

/* Creates an encoder. The dynamic table starts at 4096 bytes (the protocol
 * default), and may never exceed what the peer allows. NULL when out of
 * memory. */
struct hpack_encoder *hpack_encoder_new(void);
/* The same, allocating through a (NULL: malloc/free). */
struct hpack_encoder *hpack_encoder_new_with(const struct hpack_allocator *a);
void hpack_encoder_del(struct hpack_encoder *e);

/* Bytes the encoder holds besides its own struct (table rings and index,
 * never-index names): 0 until a block indexes a field. For tests and
 * metrics. */
size_t hpack_encoder_mem(const struct hpack_encoder *e);

/* The peer's SETTINGS_HEADER_TABLE_SIZE changed to size. The encoder uses
 * min(size, its own cap) and emits the dynamic table size update(s) the
 * change requires at the start of the next block (§4.2, §6.3). */
void hpack_encoder_set_peer_max_table_size(struct hpack_encoder *e, uint32_t size);

/* Caps the encoder's own table (memory per connection); default 4096. */
void hpack_encoder_set_table_cap(struct hpack_encoder *e, uint32_t cap);

/* Adds a field name (lowercase) always sent as a never-indexed literal, in
 * addition to authorization, cookie (short values excepted) and set-cookie.
 * Returns 0 or HPACK_ERR_NOMEM. The name is copied. */
int hpack_encoder_add_never_index(struct hpack_encoder *e, const char *name);

/* Values longer than len bytes are sent without indexing (default 512): one
 * large value would evict many small entries that do repeat. */
void hpack_encoder_set_large_value(struct hpack_encoder *e, uint32_t len);

/* Cookie values of at least len bytes (default 20) are never-indexed
 * literals (likely session secrets, RFC 7541 §7.1.3); shorter cookie crumbs
 * are indexed like other fields. UINT32_MAX indexes every cookie; 0 never
 * indexes any. */
void hpack_encoder_set_cookie_short(struct hpack_encoder *e, uint32_t len);

/* Encoder options (hpack_encoder_set_options). */
#define HPACK_ENC_NO_HUFFMAN 0x1u /* send every string raw */
#define HPACK_ENC_INDEX_ALL 0x2u  /* index every field that fits the table, except
                                     HPACK_FIELD_NEVER_INDEX ones and names added with
                                     hpack_encoder_add_never_index(): the built-in
                                     policy off. To reproduce reference encodings
                                     (RFC 7541 Appendix C) in tests. */
#define HPACK_ENC_HUFFMAN_TIES 0x4u /* Huffman also when it is no longer than raw
                                       (Appendix C.6 does so) */

/* Sets the option bits above (default 0: Huffman when shorter, built-in
 * indexing policy). */
void hpack_encoder_set_options(struct hpack_encoder *e, uint32_t opts);

/* An upper bound on the encoded size of fields[0..n). */
size_t hpack_encode_bound(const struct hpack_field *fields, size_t n);

/* Encodes fields[0..n) (names must be lowercase) as one header block into
 * out[0..cap). A field with HPACK_FIELD_NEVER_INDEX is always a never-indexed
 * literal. Returns the byte count, or HPACK_ERR_BUFFER when cap is too small
 * (the encoder state is unchanged then), or HPACK_ERR_NOMEM (the table
 * could not grow for the fields this block indexes; nothing was written and
 * the state is unchanged: a later call may succeed). "Too small" is
 * decided before encoding: cap < hpack_encode_bound(fields, n) is
 * HPACK_ERR_BUFFER, so give it at least the bound. */
ssize_t hpack_encode_block(struct hpack_encoder *e, const struct hpack_field *fields, size_t n,
                           uint8_t *out, size_t cap);

#endif
