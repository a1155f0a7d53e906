/* proxy/backend/health_state.c — the registry of server health states
 * (health_state.h). A list: it is searched only when workers start, when
 * the check thread rebuilds and at scrape time. */
#include "proxy/backend/health_state.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct hb_list all = {&all, &all};

static struct px_hstate *find(const char *upstream, const char *server)
{
    struct hb_list *it;
    hb_list_foreach(it, &all)
    {
        struct px_hstate *h = hb_container_of(it, struct px_hstate, link);
        if (strcmp(h->upstream, upstream) == 0 && strcmp(h->server, server) == 0)
            return h;
    }
    return NULL;
}

struct px_hstate *px_hstate_get(const char *upstream, const char *server)
{
    pthread_mutex_lock(&mu);
    struct px_hstate *h = find(upstream, server);
    if (!h) {
        h = calloc(1, sizeof *h);
        char *u = strdup(upstream), *s = strdup(server);
        if (!h || !u || !s) {
            free(h);
            free(u);
            free(s);
            pthread_mutex_unlock(&mu);
            return NULL;
        }
        h->upstream = u;
        h->server = s;
        atomic_init(&h->state, HB_HEALTH_UP);
        hb_list_push_back(&all, &h->link);
    }
    h->refs++;
    pthread_mutex_unlock(&mu);
    return h;
}

void px_hstate_put(struct px_hstate *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&mu);
    if (--h->refs == 0) {
        hb_list_remove(&h->link);
        free(h->upstream);
        free(h->server);
        free(h);
    }
    pthread_mutex_unlock(&mu);
}

void px_hstate_read(const char *upstream, const char *server, struct px_hstate_view *out)
{
    memset(out, 0, sizeof *out);
    out->up = true;
    pthread_mutex_lock(&mu);
    struct px_hstate *h = find(upstream, server);
    if (h) {
        out->found = true;
        out->checked = atomic_load_explicit(&h->checked, memory_order_relaxed);
        out->up = px_hstate_up(h);
        out->checks_ok = atomic_load_explicit(&h->checks_ok, memory_order_relaxed);
        out->checks_failed = atomic_load_explicit(&h->checks_failed, memory_order_relaxed);
        out->went_down = atomic_load_explicit(&h->went_down, memory_order_relaxed);
        out->went_up = atomic_load_explicit(&h->went_up, memory_order_relaxed);
    }
    pthread_mutex_unlock(&mu);
}
