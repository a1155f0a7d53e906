/* proxy/tls/tls_tickets.c — session ticket keys: rotation, a shared key
 * file, or a key set shared through memcached (tls_tickets_mc.h).
 *
 * Tickets are AES-128-CBC + HMAC-SHA256 (RFC 5077 §4's recommended layout,
 * the same as nginx's 48-byte key files: 16 bytes name, 16 HMAC, 16 AES; an
 * 80-byte key is 16 name, 32 HMAC, 32 AES with AES-256-CBC).
 *
 * Generated keys: a new key every rotate_sec; the two previous ones still
 * decrypt (and ask for a renewed ticket), so a ticket lives at most three
 * intervals. The key set is guarded by a mutex: it is taken once per
 * handshake, never per request.
 *
 * Memcached keys: the set (core/ticket_set.h) replaces the keys whenever
 * the fetcher's thread sees a new generation; until a first set arrives
 * (memcached down at start) the keys are generated and rotate as above, so
 * tickets work, only not across instances.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/aes.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "core/log.h"
#include "proxy/tls/tls.h"
#include "proxy/tls/tls_tickets_mc.h"

#define MAX_KEYS 8
#define FILE_CHECK_SEC 60

struct tkey {
    uint8_t name[16];
    uint8_t hmac[32];
    uint8_t aes[32];
    size_t hmac_len, aes_len; /* 16/16 or 32/32 */
};

struct px_ticket_keys {
    pthread_mutex_t mu;
    struct tkey keys[MAX_KEYS]; /* [0] encrypts */
    size_t nkeys;
    uint32_t rotate_sec;
    time_t next_rotate;   /* generated mode */
    char *file;           /* file mode */
    struct timespec mtime;
    time_t next_check;
    struct px_tkmc *mc;    /* memcached mode: the fetcher */
    bool have_shared;      /* a set from memcached is installed */
    uint64_t generation;   /* its generation */
    uint32_t lifetime_sec; /* memcached mode: the ticket lifetime */
};

static int ex_index = -1;
static pthread_once_t ex_once = PTHREAD_ONCE_INIT;

static void ex_init(void)
{
    ex_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

static time_t now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

static void generate(struct tkey *k)
{
    RAND_bytes(k->name, sizeof k->name);
    RAND_bytes(k->hmac, 16);
    RAND_bytes(k->aes, 16);
    k->hmac_len = k->aes_len = 16;
}

/* Shifts the older keys down and makes a new encrypting key. Locked. */
static void rotate_locked(struct px_ticket_keys *k)
{
    size_t keep = k->nkeys < 3 ? k->nkeys : 2;
    memmove(&k->keys[1], &k->keys[0], keep * sizeof k->keys[0]);
    generate(&k->keys[0]);
    k->nkeys = keep + 1;
    k->next_rotate = now_sec() + (time_t)k->rotate_sec;
}

/* Parses a key file's bytes. Returns the key count or -1. */
static int parse_keys(const uint8_t *p, size_t len, struct tkey *out, size_t max)
{
    size_t unit = (len % 48 == 0) ? 48 : (len % 80 == 0 ? 80 : 0);
    if (unit == 0 || len == 0 || len / unit > max)
        return -1;
    size_t half = (unit - 16) / 2;
    for (size_t i = 0; i < len / unit; i++) {
        const uint8_t *q = p + i * unit;
        memcpy(out[i].name, q, 16);
        memcpy(out[i].hmac, q + 16, half);
        memcpy(out[i].aes, q + 16 + half, half);
        out[i].hmac_len = out[i].aes_len = half;
    }
    return (int)(len / unit);
}

static int load_file(struct px_ticket_keys *k, char *err, size_t errlen)
{
    uint8_t buf[80 * MAX_KEYS + 1];
    FILE *f = fopen(k->file, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open ticket key file: %s", k->file, strerror(errno));
        return -1;
    }
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    struct tkey keys[MAX_KEYS];
    int nk = parse_keys(buf, n, keys, MAX_KEYS);
    if (nk < 0) {
        snprintf(err, errlen,
                 "%s: expected one to %d keys of 48 or 80 bytes, found a file of %zu bytes",
                 k->file, MAX_KEYS, n);
        return -1;
    }
    memcpy(k->keys, keys, sizeof keys[0] * (size_t)nk);
    k->nkeys = (size_t)nk;
    return 0;
}

/* File mode: re-reads the file when it changed (checked once a minute). */
static void maybe_reload_locked(struct px_ticket_keys *k)
{
    time_t now = now_sec();
    if (now < k->next_check)
        return;
    k->next_check = now + FILE_CHECK_SEC;
    struct stat st;
    if (stat(k->file, &st) != 0)
        return;
    if (st.st_mtim.tv_sec == k->mtime.tv_sec && st.st_mtim.tv_nsec == k->mtime.tv_nsec)
        return;
    char err[256];
    if (load_file(k, err, sizeof err) == 0) {
        k->mtime = st.st_mtim;
        hb_info("tls: ticket keys reloaded from %s", k->file);
    } else {
        hb_warn("tls: ticket keys kept: %s", err);
    }
}

struct px_ticket_keys *px_ticket_keys_new(const char *file, uint32_t rotate_sec, char *err,
                                          size_t errlen)
{
    pthread_once(&ex_once, ex_init);
    struct px_ticket_keys *k = calloc(1, sizeof *k);
    if (!k) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&k->mu, NULL);
    k->rotate_sec = rotate_sec ? rotate_sec : 3600;
    if (file) {
        k->file = strdup(file);
        struct stat st;
        if (!k->file || load_file(k, err, errlen) != 0) {
            px_ticket_keys_del(k);
            return NULL;
        }
        if (stat(file, &st) == 0)
            k->mtime = st.st_mtim;
        k->next_check = now_sec() + FILE_CHECK_SEC;
    } else {
        rotate_locked(k);
    }
    return k;
}

/* The fetcher's install callback: a new generation replaces every key. */
static void install_set(void *arg, const struct hb_tks *set)
{
    struct px_ticket_keys *k = arg;
    struct tkey keys[MAX_KEYS];
    size_t n = 0;
    for (size_t i = 0; i < set->n && i < MAX_KEYS; i++) {
        if (parse_keys(set->keys[i].bytes, set->keys[i].len, &keys[n], 1) == 1)
            n++;
    }
    if (n == 0)
        return;
    pthread_mutex_lock(&k->mu);
    memcpy(k->keys, keys, n * sizeof keys[0]);
    k->nkeys = n;
    k->have_shared = true;
    k->generation = set->generation;
    pthread_mutex_unlock(&k->mu);
    OPENSSL_cleanse(keys, sizeof keys);
}

struct px_ticket_keys *px_ticket_keys_new_mc(const struct px_ticket_mc_opts *o,
                                             uint32_t rotate_sec, uint32_t lifetime_sec,
                                             char *err, size_t errlen)
{
    struct px_ticket_keys *k = px_ticket_keys_new(NULL, rotate_sec, err, errlen);
    if (!k)
        return NULL;
    k->lifetime_sec = lifetime_sec ? lifetime_sec : 3600;
    k->mc = px_tkmc_start(o, install_set, k, err, errlen);
    if (!k->mc) {
        px_ticket_keys_del(k);
        return NULL;
    }
    return k;
}

uint64_t px_ticket_keys_generation(struct px_ticket_keys *k)
{
    pthread_mutex_lock(&k->mu);
    uint64_t g = k->have_shared ? k->generation : 0;
    pthread_mutex_unlock(&k->mu);
    return g;
}

void px_ticket_keys_del(struct px_ticket_keys *k)
{
    if (!k)
        return;
    px_tkmc_stop(k->mc); /* joined: no install after this */
    OPENSSL_cleanse(k->keys, sizeof k->keys);
    pthread_mutex_destroy(&k->mu);
    free(k->file);
    free(k);
}

void px_ticket_keys_rotate(struct px_ticket_keys *k)
{
    pthread_mutex_lock(&k->mu);
    if (!k->file && !k->have_shared)
        rotate_locked(k);
    pthread_mutex_unlock(&k->mu);
}

static const EVP_CIPHER *cipher_for(const struct tkey *t)
{
    return t->aes_len == 32 ? EVP_aes_256_cbc() : EVP_aes_128_cbc();
}

static int encrypt_cb(struct px_ticket_keys *k, uint8_t *key_name, uint8_t *iv,
                      EVP_CIPHER_CTX *cctx, HMAC_CTX *hctx)
{
    struct tkey t = k->keys[0];
    if (RAND_bytes(iv, EVP_CIPHER_iv_length(cipher_for(&t))) != 1)
        return -1;
    memcpy(key_name, t.name, 16);
    if (!EVP_EncryptInit_ex(cctx, cipher_for(&t), NULL, t.aes, iv) ||
        !HMAC_Init_ex(hctx, t.hmac, t.hmac_len, EVP_sha256(), NULL))
        return -1;
    return 1;
}

static int ticket_cb(SSL *ssl, uint8_t *key_name, uint8_t *iv, EVP_CIPHER_CTX *cctx,
                     HMAC_CTX *hctx, int enc)
{
    struct px_ticket_keys *k = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ex_index);
    if (!k)
        return enc ? -1 : 0;
    pthread_mutex_lock(&k->mu);
    if (k->file)
        maybe_reload_locked(k);
    else if (!k->have_shared && now_sec() >= k->next_rotate)
        rotate_locked(k);
    int rc = 0;
    if (enc) {
        rc = encrypt_cb(k, key_name, iv, cctx, hctx);
    } else {
        for (size_t i = 0; i < k->nkeys; i++) {
            const struct tkey *t = &k->keys[i];
            if (memcmp(key_name, t->name, 16) != 0)
                continue;
            if (!HMAC_Init_ex(hctx, t->hmac, t->hmac_len, EVP_sha256(), NULL) ||
                !EVP_DecryptInit_ex(cctx, cipher_for(t), NULL, t->aes, iv)) {
                rc = -1;
                break;
            }
            rc = i == 0 ? 1 : 2; /* an older key: renew the ticket */
            break;
        }
    }
    pthread_mutex_unlock(&k->mu);
    return rc;
}

void px_ticket_keys_attach(struct px_ticket_keys *k, SSL_CTX *ctx)
{
    SSL_CTX_set_ex_data(ctx, ex_index, k);
    SSL_CTX_set_tlsext_ticket_key_cb(ctx, ticket_cb);
    /* A generated ticket is honoured at most three rotation intervals; a
     * shared one as long as its key is in the set, within the lifetime. */
    SSL_CTX_set_timeout(ctx, k->mc ? k->lifetime_sec : k->file ? 86400 : 3 * k->rotate_sec);
}
