/* proxy/tls/tls_tickets_mc.c — ticket keys read from memcached
 * (tls_tickets_mc.h). */
#include "proxy/tls/tls_tickets_mc.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/memcache.h"

#include <openssl/mem.h>

/* ---- process-wide: the last set per (address, key), and the figures ---- */

#define CACHE_MAX 16

struct cached {
    char host[256];
    uint16_t port;
    char key[HB_MC_KEY_MAX + 1];
    bool used, have_set, failing;
    struct hb_tks set;
};

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static struct cached g_cache[CACHE_MAX];
static _Atomic unsigned g_fetchers;
static _Atomic uint64_t g_generation, g_created, g_ok, g_failed;
static _Atomic unsigned g_failing;

static struct cached *cache_find(const struct px_ticket_mc_opts *o, bool make)
{
    struct cached *free_slot = NULL;
    for (size_t i = 0; i < CACHE_MAX; i++) {
        struct cached *c = &g_cache[i];
        if (!c->used) {
            if (!free_slot)
                free_slot = c;
            continue;
        }
        if (c->port == o->port && strcmp(c->host, o->host) == 0 && strcmp(c->key, o->key) == 0)
            return c;
    }
    if (!make || !free_slot)
        return NULL; /* more than 16 distinct sources: no memory across reloads */
    memset(free_slot, 0, sizeof *free_slot);
    free_slot->used = true;
    snprintf(free_slot->host, sizeof free_slot->host, "%s", o->host);
    free_slot->port = o->port;
    snprintf(free_slot->key, sizeof free_slot->key, "%s", o->key);
    return free_slot;
}

void px_tkmc_stats_get(struct px_tkmc_stats *s)
{
    s->fetchers = atomic_load(&g_fetchers);
    s->generation = atomic_load(&g_generation);
    s->created = atomic_load(&g_created);
    s->fetches_ok = atomic_load(&g_ok);
    s->fetches_failed = atomic_load(&g_failed);
    s->failing = atomic_load(&g_failing) != 0;
}

/* ---- one fetch ----------------------------------------------------------- */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for events on fd until the deadline. 1 ready, 0 timed out, -1 error. */
static int wait_fd(int fd, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return 0;
        struct pollfd p = {.fd = fd, .events = events};
        int rc = poll(&p, 1, (int)left);
        if (rc < 0 && errno == EINTR)
            continue;
        return rc < 0 ? -1 : rc;
    }
}

static int connect_one(const struct addrinfo *a, int64_t deadline, char *why, size_t whylen,
                       const char *name)
{
    int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
        snprintf(why, whylen, "socket: %s", strerror(errno));
        return -1;
    }
    if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
        if (errno != EINPROGRESS) {
            snprintf(why, whylen, "connect %s: %s", name, strerror(errno));
            close(fd);
            return -1;
        }
        int w = wait_fd(fd, POLLOUT, deadline);
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (w <= 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0) {
            snprintf(why, whylen, "connect %s: %s", name,
                     w == 0 ? "timed out" : strerror(soerr ? soerr : errno));
            close(fd);
            return -1;
        }
    }
    return fd;
}

/* Sends the request and reads one reply into r. 0 or -1 (why). */
static int converse(int fd, const char *req, size_t reqlen, struct hb_mc_reply *r,
                    int64_t deadline, char *why, size_t whylen, const char *name)
{
    size_t sent = 0;
    while (sent < reqlen) {
        ssize_t n = send(fd, req + sent, reqlen - sent, MSG_NOSIGNAL);
        if (n > 0) {
            sent += (size_t)n;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
            snprintf(why, whylen, "send to %s: %s", name, strerror(errno));
            return -1;
        }
        if (wait_fd(fd, POLLOUT, deadline) <= 0) {
            snprintf(why, whylen, "send to %s: timed out", name);
            return -1;
        }
    }
    uint8_t buf[4096];
    while (r->state != HB_MC_ST_DONE && r->state != HB_MC_ST_BAD) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n > 0) {
            hb_mc_reply_feed(r, buf, (size_t)n);
            continue;
        }
        if (n == 0) {
            snprintf(why, whylen, "%s closed the connection mid-reply", name);
            return -1;
        }
        if (errno != EAGAIN && errno != EINTR) {
            snprintf(why, whylen, "recv from %s: %s", name, strerror(errno));
            return -1;
        }
        if (wait_fd(fd, POLLIN, deadline) <= 0) {
            snprintf(why, whylen, "no reply from %s within the timeout", name);
            return -1;
        }
    }
    if (r->state == HB_MC_ST_BAD) {
        snprintf(why, whylen, "%s: not a memcached reply: %s", name, r->why);
        return -1;
    }
    return 0;
}

static int answer(const struct hb_mc_reply *r, const uint8_t *value,
                  const struct px_ticket_mc_opts *o, const char *name, struct hb_tks *out,
                  char *why, size_t whylen);

int px_tkmc_fetch(const struct px_ticket_mc_opts *o, struct hb_tks *out, char *why,
                  size_t whylen)
{
    char name[300], port[8], req[HB_MC_KEY_MAX + 16];
    snprintf(name, sizeof name, "%s:%u", o->host, o->port);
    snprintf(port, sizeof port, "%u", o->port);
    ptrdiff_t reqlen = hb_mc_write_gets(req, sizeof req, o->key);
    if (reqlen < 0) {
        snprintf(why, whylen, "key \"%s\" cannot be sent in the text protocol", o->key);
        return -1;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res;
    int gai = getaddrinfo(o->host, port, &hints, &res);
    if (gai != 0) {
        snprintf(why, whylen, "resolve %s: %s", o->host, gai_strerror(gai));
        return -1;
    }
    int64_t deadline = now_ms() + o->timeout_ms;
    int fd = -1;
    for (const struct addrinfo *a = res; a && fd < 0; a = a->ai_next)
        fd = connect_one(a, deadline, why, whylen, name);
    freeaddrinfo(res);
    if (fd < 0)
        return -1;
    uint8_t value[HB_TKS_BYTES_MAX];
    struct hb_mc_reply r;
    hb_mc_reply_init(&r, HB_MC_RETRIEVAL, o->key, value, sizeof value);
    int rc = converse(fd, req, (size_t)reqlen, &r, deadline, why, whylen, name);
    close(fd);
    if (rc == 0)
        rc = answer(&r, value, o, name, out, why, whylen);
    OPENSSL_cleanse(value, sizeof value);
    return rc;
}

/* What a complete reply means. */
static int answer(const struct hb_mc_reply *r, const uint8_t *value,
                  const struct px_ticket_mc_opts *o, const char *name, struct hb_tks *out,
                  char *why, size_t whylen)
{
    if (r->result == HB_MC_MISS) {
        snprintf(why, whylen, "%s has no key \"%s\" (write one with h2bridge-ticketkeys rotate)",
                 name, o->key);
        return -1;
    }
    if (r->result != HB_MC_HIT) {
        snprintf(why, whylen, "%s answered %s", name, r->msg);
        return -1;
    }
    const char *bad;
    if (hb_tks_parse(value, r->value_len, out, &bad) != 0) {
        snprintf(why, whylen, "%s key \"%s\": %s", name, o->key, bad);
        return -1;
    }
    return 0;
}

/* ---- the fetcher --------------------------------------------------------- */

struct px_tkmc {
    struct px_ticket_mc_opts o;
    char *host, *key;
    px_tkmc_install_fn fn;
    void *arg;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    uint64_t generation; /* installed; 0: none */
    int state;           /* 0 unknown, 1 ok, -1 failing */
};

static void failing_add(int delta)
{
    atomic_fetch_add(&g_failing, (unsigned)delta);
}

/* One round: fetch, install a new generation, log transitions. */
static void round_once(struct px_tkmc *m)
{
    struct hb_tks set;
    char why[512];
    int rc = px_tkmc_fetch(&m->o, &set, why, sizeof why);
    pthread_mutex_lock(&g_mu);
    struct cached *c = cache_find(&m->o, true);
    if (rc == 0) {
        atomic_fetch_add(&g_ok, 1);
        if (m->state != 1) {
            if (m->state == -1)
                failing_add(-1);
            if (m->state == -1 || (c && c->failing))
                hb_info("tls: ticket keys: memcached %s:%u answers again", m->o.host, m->o.port);
            m->state = 1;
        }
        if (set.generation != m->generation) {
            hb_info("tls: ticket keys: generation %llu (%zu keys) from memcached %s:%u key "
                    "\"%s\"",
                    (unsigned long long)set.generation, set.n, m->o.host, m->o.port, m->o.key);
            m->generation = set.generation;
            m->fn(m->arg, &set);
            atomic_store(&g_generation, set.generation);
            atomic_store(&g_created, set.created);
        }
        if (c) {
            c->set = set;
            c->have_set = true;
            c->failing = false;
        }
    } else {
        atomic_fetch_add(&g_failed, 1);
        if (m->state != -1) {
            /* A fetcher made on reload during an outage inherits it. */
            bool known = m->state == 0 && c && c->failing;
            if (!known) {
                if (m->generation)
                    hb_warn("tls: ticket keys: %s; keeping generation %llu until memcached "
                            "answers",
                            why, (unsigned long long)m->generation);
                else
                    hb_warn("tls: ticket keys: %s; using keys of this process alone until "
                            "memcached answers",
                            why);
            }
            failing_add(1);
            m->state = -1;
        }
        if (c)
            c->failing = true;
        if (!m->generation && c && c->have_set) {
            m->generation = c->set.generation;
            m->fn(m->arg, &c->set);
            hb_info("tls: ticket keys: generation %llu kept from the previous configuration",
                    (unsigned long long)m->generation);
        }
    }
    pthread_mutex_unlock(&g_mu);
    OPENSSL_cleanse(&set, sizeof set);
}

static void *run(void *arg)
{
    struct px_tkmc *m = arg;
    pthread_mutex_lock(&m->mu);
    while (!m->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += m->o.interval_ms / 1000;
        ts.tv_nsec += (long)(m->o.interval_ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        while (!m->stop && pthread_cond_timedwait(&m->cv, &m->mu, &ts) != ETIMEDOUT) {
        }
        if (m->stop)
            break;
        pthread_mutex_unlock(&m->mu);
        round_once(m);
        pthread_mutex_lock(&m->mu);
    }
    pthread_mutex_unlock(&m->mu);
    return NULL;
}

struct px_tkmc *px_tkmc_start(const struct px_ticket_mc_opts *o, px_tkmc_install_fn fn,
                              void *arg, char *err, size_t errlen)
{
    struct px_tkmc *m = calloc(1, sizeof *m);
    if (!m || !(m->host = strdup(o->host)) || !(m->key = strdup(o->key))) {
        if (m)
            free(m->host);
        free(m);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    m->o = *o;
    m->o.host = m->host;
    m->o.key = m->key;
    m->fn = fn;
    m->arg = arg;
    pthread_mutex_init(&m->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&m->cv, &ca);
    pthread_condattr_destroy(&ca);
    round_once(m);
    int rc = pthread_create(&m->thread, NULL, run, m);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the ticket key thread: %s", strerror(rc));
        if (m->state == -1)
            failing_add(-1);
        pthread_cond_destroy(&m->cv);
        pthread_mutex_destroy(&m->mu);
        free(m->host);
        free(m->key);
        free(m);
        return NULL;
    }
    atomic_fetch_add(&g_fetchers, 1);
    return m;
}

void px_tkmc_stop(struct px_tkmc *m)
{
    if (!m)
        return;
    pthread_mutex_lock(&m->mu);
    m->stop = true;
    pthread_cond_signal(&m->cv);
    pthread_mutex_unlock(&m->mu);
    pthread_join(m->thread, NULL);
    atomic_fetch_sub(&g_fetchers, 1);
    if (m->state == -1)
        failing_add(-1);
    pthread_cond_destroy(&m->cv);
    pthread_mutex_destroy(&m->mu);
    free(m->host);
    free(m->key);
    free(m);
}
