/* proxy/listener.c — SO_REUSEPORT listening sockets, batched accept. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "core/log.h"
#include "core/time.h"
#include "proxy/front/conn.h"
#include "proxy/listener.h"
#include "proxy/worker.h"

#define ACCEPT_BATCH 64

/* Each worker has its own socket on the same address (SO_REUSEPORT): the
 * kernel spreads connections over them, no accept lock, no thundering herd. */
int px_listen_socket(const struct cfg_listener *lc)
{
    struct sockaddr_storage sa;
    socklen_t len;
    if (px_resolve(lc->address.s, lc->port, &sa, &len) != 0)
        return -1;
    int fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        hb_error("listen %s:%u: socket: %s", lc->address.s, lc->port, strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (sa.ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&sa, len) != 0 || listen(fd, (int)lc->backlog) != 0) {
        hb_error("listen %s:%u: %s", lc->address.s, lc->port, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

void px_listener_label(const struct cfg_listener *lc, char *buf, size_t size)
{
    if (lc->name.s)
        snprintf(buf, size, "%s", lc->name.s);
    else
        snprintf(buf, size, strchr(lc->address.s, ':') ? "[%s]:%u" : "%s:%u", lc->address.s,
                 lc->port);
}

#define FULL_LOG_EVERY_NS (10 * HB_NS_PER_SEC)

static void pause_accept(struct px_listener *l)
{
    event_del(l->ev);
    l->paused = true;
    hb_ns_t now = hb_time_now_ns();
    if (l->full_logged_at == 0 || now - l->full_logged_at >= FULL_LOG_EVERY_NS) {
        l->full_logged_at = now;
        hb_warn("listener %s: max_connections reached (%u open in worker %d), accepting paused "
                "until one closes",
                l->label, l->nconns, l->w->id);
    }
}

void px_listener_closed(struct px_listener *l)
{
    l->nconns--;
    /* l->ev is NULL once a shutdown closed the listener: stay closed. */
    if (l->paused && l->nconns < l->max_conns && l->ev) {
        l->paused = false;
        event_add(l->ev, NULL);
    }
}

static void on_accept(evutil_socket_t lfd, short what, void *arg)
{
    struct px_listener *l = arg;
    struct px_worker *w = l->w;
    for (int i = 0; i < ACCEPT_BATCH; i++) {
        if (l->nconns >= l->max_conns) {
            pause_accept(l);
            return;
        }
        struct sockaddr_storage peer;
        socklen_t plen = sizeof peer;
        int fd = accept4(lfd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE)
                hb_warn("listener %s: accept: %s (raise the file-descriptor limit)", l->label,
                        strerror(errno));
            else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                hb_warn("listener %s: accept: %s", l->label, strerror(errno));
            return;
        }
        if (w->nconns >= w->max_conns) {
            hb_warn("listener %s: limits.max_connections reached, connection refused", l->label);
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        uint32_t lowat = l->cfg->notsent_lowat; /* 0: leave the kernel's default */
        if (lowat && setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &lowat, sizeof lowat) != 0)
            hb_debug("listener %s: TCP_NOTSENT_LOWAT: %s", l->label, strerror(errno));
        px_fconn_accept(l, fd, (struct sockaddr *)&peer, plen);
    }
}

int px_listener_start(struct px_listener *l)
{
    l->ev = event_new(l->w->base, l->fd, EV_READ | EV_PERSIST, on_accept, l);
    return l->ev && event_add(l->ev, NULL) == 0 ? 0 : -1;
}

void px_listener_free(struct px_listener *l)
{
    if (l->ev)
        event_free(l->ev);
    l->ev = NULL;
    if (l->fd >= 0)
        close(l->fd);
    l->fd = -1;
}
