/* proxy/exchange/retry.c — whether and where a failed request goes again:
 * retry_on, the retry count, the retry budget (upstreams.*.retry_budget),
 * the next server (healthy first; consistent_hash keeps the key's Maglev
 * order) and the per-try timeout (docs/backends.md, retries). */
#include "core/log.h"
#include "proxy/exchange/exchange_int.h"
#include "proxy/front/conn.h"
#include "proxy/worker.h"

/* The retry budget (upstreams.*.retry_budget), per worker and upstream:
 * retries in flight at most min_retries + percent of the active requests,
 * so that retries cannot multiply the load of an outage. */
static bool budget_allows(const struct px_upstream *up)
{
    const struct cfg_upstream *u = up->cfg;
    uint64_t cap = u->retry_budget.min_retries +
                   (uint64_t)up->active * u->retry_budget.percent / 100u;
    return up->retrying < cap;
}

/* Whether ex may be retried after failure cond (CFG_RETRY_*): cond is in
 * retry_on, retries are left, and the budget has room (counted from here on
 * until the retried request gets its head or ends). A connect failure may be
 * retried for any request (nothing was sent, so connect_failure is safe for
 * every method), the rest only for an idempotent request with no body byte
 * gone and no head sent to the client. A refused connect is outside the
 * budget: it cost the backend nothing, and when a server dies every request
 * under way to it fails at once (a burst the budget would turn into 502s). */
static bool may_retry(struct px_exchange *ex, unsigned cond)
{
    struct px_upstream *up = ex->up;
    const struct cfg_upstream *u = up->cfg;
    if (!(u->retry_on & cond) || ex->tries > u->retries || up->npools == 0)
        return false;
    if (cond == CFG_RETRY_CONNECT ? ex->tries >= up->npools
                                  : (!ex->idempotent || ex->body_written || px_ex_head_sent(ex)))
        return false;
    if (!ex->budgeted && cond != CFG_RETRY_CONNECT) {
        if (!budget_allows(up)) {
            px_ctr *st = up->st && ex->server < up->npools ? up->st[ex->server] : NULL;
            if (st)
                px_ctr_add(&st[PX_SS_RETRY_BUDGET], 1);
            hb_debug("client %s stream %u: retry budget of upstream %s exhausted (%u retries "
                     "in flight, %u requests)",
                     ex->fc->peer, ex->sid, u->name.s, (unsigned)up->retrying,
                     (unsigned)up->active);
            return false;
        }
        ex->budgeted = true;
        up->retrying++;
    }
    return true;
}

/* The retried request got its head (or ended): it leaves the budget. */
void px_ex_budget_release(struct px_exchange *ex)
{
    if (ex->budgeted) {
        ex->budgeted = false;
        ex->up->retrying--;
    }
}

/* Moves to the next healthy server (load[].healthy as refreshed at the
 * pick; in panic mode all are), else simply the next one. */
static void move_server(struct px_exchange *ex)
{
    struct px_upstream *up = ex->up;
    if (ex->has_key) {
        /* consistent_hash: the key's next server in its Maglev order, the
         * one it moves to once this one is ejected, in every worker. */
        ptrdiff_t i = hb_maglev_lookup_nth(up->bal.maglev, ex->hash_key, up->load, up->npools,
                                           ex->tries);
        if (i >= 0 && (size_t)i != ex->server) {
            ex->server = (size_t)i;
            ex->tries++;
            return;
        }
    }
    size_t next = (ex->server + 1) % up->npools;
    for (size_t k = 1; k < up->npools; k++) {
        size_t i = (ex->server + k) % up->npools;
        if (up->load[i].healthy) {
            next = i;
            break;
        }
    }
    ex->server = next;
    ex->tries++;
}

bool px_ex_next_server(struct px_exchange *ex)
{
    if (!may_retry(ex, CFG_RETRY_CONNECT))
        return false;
    move_server(ex);
    return true;
}

bool px_ex_retry_other(struct px_exchange *ex, unsigned cond, const char *what)
{
    if (!may_retry(ex, cond))
        return false;
    hb_info("client %s stream %u backend %s: %s, retrying on another server (try %u)",
            ex->fc->peer, ex->sid, px_ex_backend_name(ex), what, ex->tries + 1);
    px_ex_drop_backend(ex, false);
    ex->head_off = 0;
    ex->got_byte = false;
    ex->rec.t_first_byte = 0;
    hb_buf_consume(&ex->rin, hb_buf_len(&ex->rin));
    move_server(ex);
    px_ex_connect(ex, false);
    return true;
}

uint32_t px_ex_try_timeout(const struct px_exchange *ex)
{
    const struct cfg_upstream *u = ex->up->cfg;
    if (ex->state == PX_EX_WAIT_HEAD && !ex->got_byte && u->per_try_timeout_ms &&
        u->per_try_timeout_ms < u->read_timeout_ms)
        return u->per_try_timeout_ms;
    return u->read_timeout_ms;
}
