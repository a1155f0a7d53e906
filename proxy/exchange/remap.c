/* proxy/exchange/remap.c — exchanges under way when their upstream's
 * servers change (a DNS answer, proxy/backend/adopt.h). */
#include "proxy/exchange/exchange_int.h"

#include "proxy/front/conn.h"
#include "proxy/worker.h"

/* Every exchange of w, open or closed but not yet freed. */
#define FOREACH_EXCHANGE(w, ex, body)                                                              \
    do {                                                                                           \
        struct hb_list *it_, *jt_;                                                                 \
        hb_list_foreach(it_, &(w)->conns)                                                          \
        {                                                                                          \
            struct px_fconn *fc_ = hb_container_of(it_, struct px_fconn, link);                    \
            struct hb_list *lists_[2] = {&fc_->exchanges, &fc_->dead};                             \
            for (int l_ = 0; l_ < 2; l_++)                                                         \
                hb_list_foreach(jt_, lists_[l_])                                                   \
                {                                                                                  \
                    struct px_exchange *ex = hb_container_of(jt_, struct px_exchange, link);       \
                    body;                                                                          \
                }                                                                                  \
        }                                                                                          \
    } while (0)

void px_exchange_servers_moved(struct px_worker *w, struct px_upstream *up)
{
    FOREACH_EXCHANGE(w, ex, {
        if (ex->up != up || ex->server == PX_EX_NO_SERVER)
            continue;
        size_t k = PX_EX_GONE_SERVER;
        for (size_t i = 0; ex->pool && i < up->npools; i++)
            if (up->pools[i] == ex->pool) {
                k = i;
                break;
            }
        ex->server = k;
    });
}

bool px_exchange_uses_pool(struct px_worker *w, const struct px_pool *p)
{
    bool used = false;
    FOREACH_EXCHANGE(w, ex, {
        if (ex->pool == p)
            used = true;
    });
    return used;
}
