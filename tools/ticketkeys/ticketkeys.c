/* tools/ticketkeys/ticketkeys.c — h2bridge-ticketkeys: writes, rotates and
 * shows the TLS session ticket key set a fleet of h2bridge instances reads
 * from memcached (listeners[].tls.ticket_memcached; docs/operations.md).
 *
 *   h2bridge-ticketkeys [options] rotate   a new first (encrypting) key; the
 *                                          previous first key and up to
 *                                          keep-1 older ones stay to decrypt
 *   h2bridge-ticketkeys [options] show     generation, age, key names
 *
 * The set is read with "gets" and written back with "cas" (or "add" when
 * there is none), so two rotations at once cannot lose a key: the loser
 * reads again and retries. Keys come from getrandom(2). The encoding is
 * core/ticket_set.h; the protocol core/memcache.h. Blocking sockets with
 * SO_RCVTIMEO/SO_SNDTIMEO: this is a command, not the proxy.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "config/cfg.h"
#include "core/memcache.h"
#include "core/ticket_set.h"

struct opts {
    char host[256];
    uint16_t port;
    const char *key;
    unsigned keep;
    unsigned size;
    unsigned timeout_sec;
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: h2bridge-ticketkeys [--memcached HOST:PORT] [--key KEY] [--keep N]\n"
            "                           [--size 48|80] [--timeout SEC] rotate|show\n"
            "  --memcached  where the set lives (default 127.0.0.1:11211)\n"
            "  --key        its memcached key (default h2bridge/ticket-keys)\n"
            "  --keep       rotate: older keys kept for decryption, 0..7 (default 2)\n"
            "  --size       rotate: new key size, 48 (AES-128) or 80 (AES-256) (default 48)\n"
            "  --timeout    seconds for each network step (default 5)\n");
}

static int dial(const struct opts *o)
{
    char port[8];
    snprintf(port, sizeof port, "%u", o->port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res;
    int gai = getaddrinfo(o->host, port, &hints, &res);
    if (gai != 0) {
        fprintf(stderr, "h2bridge-ticketkeys: resolve %s: %s\n", o->host, gai_strerror(gai));
        return -1;
    }
    int fd = -1, err = 0;
    struct timeval tv = {.tv_sec = o->timeout_sec};
    for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
            err = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        fprintf(stderr, "h2bridge-ticketkeys: connect %s:%u: %s\n", o->host, o->port,
                strerror(err));
    return fd;
}

/* Sends req and reads one reply into r. 0 or -1 (reported). */
static int roundtrip(int fd, const void *req, size_t len, struct hb_mc_reply *r)
{
    const uint8_t *p = req;
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n <= 0) {
            fprintf(stderr, "h2bridge-ticketkeys: send: %s\n", strerror(errno));
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    uint8_t buf[4096];
    while (r->state != HB_MC_ST_DONE && r->state != HB_MC_ST_BAD) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) {
            fprintf(stderr, "h2bridge-ticketkeys: recv: %s\n",
                    n == 0 ? "connection closed" : strerror(errno));
            return -1;
        }
        hb_mc_reply_feed(r, buf, (size_t)n);
    }
    if (r->state == HB_MC_ST_BAD) {
        fprintf(stderr, "h2bridge-ticketkeys: not a memcached reply: %s\n", r->why);
        return -1;
    }
    if (r->result == HB_MC_ERROR) {
        fprintf(stderr, "h2bridge-ticketkeys: memcached answered %s\n", r->msg);
        return -1;
    }
    return 0;
}

/* Reads the set: 1 found (cas in *cas), 0 none, -1 error (reported). */
static int read_set(int fd, const struct opts *o, struct hb_tks *s, uint64_t *cas)
{
    char req[HB_MC_KEY_MAX + 16];
    uint8_t value[HB_TKS_BYTES_MAX];
    struct hb_mc_reply r;
    ptrdiff_t n = hb_mc_write_gets(req, sizeof req, o->key);
    hb_mc_reply_init(&r, HB_MC_RETRIEVAL, o->key, value, sizeof value);
    if (n < 0 || roundtrip(fd, req, (size_t)n, &r) != 0)
        return -1;
    if (r.result == HB_MC_MISS)
        return 0;
    const char *why;
    if (hb_tks_parse(value, r.value_len, s, &why) != 0) {
        fprintf(stderr, "h2bridge-ticketkeys: key \"%s\" holds %s; not overwritten\n", o->key,
                why);
        return -1;
    }
    *cas = r.cas;
    return 1;
}

static void print_set(const struct hb_tks *s)
{
    time_t now = time(NULL);
    long long age = (long long)now - (long long)s->created;
    printf("generation %llu, written %lld s ago, %zu keys (the first encrypts):\n",
           (unsigned long long)s->generation, age < 0 ? 0 : age, s->n);
    for (size_t i = 0; i < s->n; i++) {
        printf("  %zu: name ", i);
        for (size_t j = 0; j < 16; j++)
            printf("%02x", s->keys[i].bytes[j]);
        printf(" (%u bytes)\n", s->keys[i].len);
    }
}

static int rotate(int fd, const struct opts *o)
{
    for (int attempt = 0; attempt < 5; attempt++) {
        struct hb_tks s = {0};
        uint64_t cas = 0;
        int found = read_set(fd, o, &s, &cas);
        if (found < 0)
            return 1;
        struct hb_tks_key k = {.len = (uint8_t)o->size};
        if (getrandom(k.bytes, k.len, 0) != (ssize_t)k.len) {
            fprintf(stderr, "h2bridge-ticketkeys: getrandom: %s\n", strerror(errno));
            return 1;
        }
        hb_tks_rotate(&s, &k, o->keep, (uint64_t)time(NULL));
        uint8_t data[HB_TKS_BYTES_MAX], req[HB_TKS_BYTES_MAX + HB_MC_KEY_MAX + 96];
        ptrdiff_t dn = hb_tks_write(&s, data, sizeof data);
        ptrdiff_t rn = dn < 0 ? dn
                              : hb_mc_write_store(req, sizeof req, found ? "cas" : "add", o->key,
                                                  0, 0, data, (size_t)dn, cas);
        if (rn < 0) {
            fprintf(stderr, "h2bridge-ticketkeys: cannot encode the set\n");
            return 1;
        }
        struct hb_mc_reply r;
        hb_mc_reply_init(&r, HB_MC_STORAGE, NULL, NULL, 0);
        if (roundtrip(fd, req, (size_t)rn, &r) != 0)
            return 1;
        if (r.result == HB_MC_STORED) {
            print_set(&s);
            return 0;
        }
        /* EXISTS / NOT_FOUND / NOT_STORED: someone else wrote; read again. */
    }
    fprintf(stderr, "h2bridge-ticketkeys: the set kept changing under us; nothing written\n");
    return 1;
}

static int show(int fd, const struct opts *o)
{
    struct hb_tks s;
    uint64_t cas;
    int found = read_set(fd, o, &s, &cas);
    if (found < 0)
        return 1;
    if (found == 0) {
        fprintf(stderr, "h2bridge-ticketkeys: no key \"%s\" at %s:%u (make one with rotate)\n",
                o->key, o->host, o->port);
        return 1;
    }
    print_set(&s);
    return 0;
}

static int uint_arg(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *s == '\0' || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = (unsigned)v;
    return 0;
}

int main(int argc, char **argv)
{
    struct opts o = {.host = "127.0.0.1", .port = 11211, .key = "h2bridge/ticket-keys",
                     .keep = 2, .size = 48, .timeout_sec = 5};
    const char *cmd = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool bad = false;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--memcached") && v) {
            bad = cfg_parse_hostport(v, o.host, sizeof o.host, &o.port) != 0;
            i++;
        } else if (!strcmp(a, "--key") && v) {
            bad = !hb_mc_key_ok(v);
            o.key = v;
            i++;
        } else if (!strcmp(a, "--keep") && v) {
            bad = uint_arg(v, 0, HB_TKS_MAX - 1, &o.keep) != 0;
            i++;
        } else if (!strcmp(a, "--size") && v) {
            bad = uint_arg(v, 48, 80, &o.size) != 0 || (o.size != 48 && o.size != 80);
            i++;
        } else if (!strcmp(a, "--timeout") && v) {
            bad = uint_arg(v, 1, 3600, &o.timeout_sec) != 0;
            i++;
        } else if (!cmd && (!strcmp(a, "rotate") || !strcmp(a, "show"))) {
            cmd = a;
        } else {
            bad = true;
        }
        if (bad) {
            fprintf(stderr, "h2bridge-ticketkeys: bad argument \"%s%s%s\"\n", a, v ? " " : "",
                    v && a[0] == '-' ? v : "");
            usage(stderr);
            return 2;
        }
    }
    if (!cmd) {
        usage(stderr);
        return 2;
    }
    int fd = dial(&o);
    if (fd < 0)
        return 1;
    int rc = strcmp(cmd, "rotate") == 0 ? rotate(fd, &o) : show(fd, &o);
    close(fd);
    return rc;
}
