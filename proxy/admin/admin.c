/* proxy/admin/admin.c — the admin listener's thread, socket and
 * connections (admin.h); what it answers is admin_http.c's. */
#include "proxy/admin/admin.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "config/cfg.h"
#include "core/buf.h"
#include "core/cidr.h"
#include "core/h1_parse.h"
#include "core/list.h"
#include "core/log.h"
#include "core/time.h"
#include "proxy/admin/admin_http.h"
#include "proxy/obs/stats.h"
#include "proxy/upgrade.h"
#include "proxy/worker.h"

#define MAX_FIELDS 64

struct aconn {
    struct hb_list link;
    int fd;
    struct event *ev, *timer;
    char *in;
    size_t len, cap;
    struct hb_buf out;
    struct h1_parser p;
    char peer[64];
    bool allowed;
    bool writing;
};

static struct {
    bool running;
    int fd;
    int wake[2];
    pthread_t thread;
    struct event_base *base;
    struct event *ev_accept, *ev_wake;
    struct hb_list conns;
    uint32_t nconns;
    char where[300];
} A = {.fd = -1, .wake = {-1, -1}};

static void aconn_free(struct aconn *c)
{
    hb_list_remove(&c->link);
    A.nconns--;
    if (c->ev)
        event_free(c->ev);
    if (c->timer)
        event_free(c->timer);
    close(c->fd);
    free(c->in);
    hb_buf_free(&c->out);
    free(c);
}

static void on_io(evutil_socket_t fd, short what, void *arg);

static void start_write(struct aconn *c)
{
    c->writing = true;
    event_del(c->ev);
    event_assign(c->ev, A.base, c->fd, EV_WRITE | EV_PERSIST, on_io, c);
    event_add(c->ev, NULL);
    on_io(c->fd, EV_WRITE, c); /* usually it all goes at once */
}

static void reply_text(struct aconn *c, int status, const char *msg)
{
    px_admin_reply(&c->out, status, "text/plain; charset=utf-8", msg, strlen(msg), false);
}

/* A whole request head is in c->in[0..len). */
static void answer(struct aconn *c)
{
    struct hb_msg req;
    struct hpack_field fields[MAX_FIELDS];
    ptrdiff_t n = h1_parse_request(&c->p, c->in, c->len, &req, fields, MAX_FIELDS);
    if (n == H1_NEED_MORE && c->len < c->cap)
        return; /* wait for more */
    if (n == H1_NEED_MORE) {
        reply_text(c, 431, "request larger than admin.max_request_size\n");
    } else if (n < 0) {
        int st = h1_err_status((int)n);
        reply_text(c, st ? st : 400, "bad request\n");
    } else {
        if (!c->allowed)
            hb_warn("admin: client %s is not in admin.allow: 403 for %.*s", c->peer,
                    (int)(req.path.len > 200 ? 200 : req.path.len), req.path.p);
        if (px_admin_respond(&req, c->allowed, hb_time_now_ns(), &c->out) < 0) {
            hb_buf_free(&c->out);
            hb_buf_init(&c->out, 0);
            reply_text(c, 503, "out of memory\n");
        }
    }
    start_write(c);
}

static void on_io(evutil_socket_t fd, short what, void *arg)
{
    struct aconn *c = arg;
    if (c->writing) {
        while (hb_buf_len(&c->out)) {
            ssize_t w = send(c->fd, hb_buf_rptr(&c->out), hb_buf_len(&c->out), MSG_NOSIGNAL);
            if (w < 0 && (errno == EAGAIN || errno == EINTR))
                return;
            if (w <= 0) {
                aconn_free(c);
                return;
            }
            hb_buf_consume(&c->out, (size_t)w);
        }
        shutdown(c->fd, SHUT_WR);
        aconn_free(c);
        return;
    }
    ssize_t r = recv(c->fd, c->in + c->len, c->cap - c->len, 0);
    if (r < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (r <= 0) {
        aconn_free(c); /* closed or failed before a whole request */
        return;
    }
    c->len += (size_t)r;
    answer(c);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct aconn *c = arg;
    hb_info("admin: client %s: admin.request_timeout passed, closed", c->peer);
    aconn_free(c);
}

static void format_peer(const struct sockaddr_storage *ss, char *buf, size_t size)
{
    char a[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const void *)ss;
        inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof a);
        port = ntohs(s6->sin6_port);
        snprintf(buf, size, "[%s]:%u", a, port);
    } else {
        const struct sockaddr_in *s4 = (const void *)ss;
        inet_ntop(AF_INET, &s4->sin_addr, a, sizeof a);
        port = ntohs(s4->sin_port);
        snprintf(buf, size, "%s:%u", a, port);
    }
}

static void on_accept(evutil_socket_t fd, short what, void *arg)
{
    for (int k = 0; k < 16; k++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int cfd = accept4(A.fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0)
            return;
        struct cfg *cfg = px_obs_config(NULL);
        if (!cfg) {
            close(cfd);
            return;
        }
        const struct cfg_admin *ad = &cfg->admin;
        struct aconn *c = NULL;
        if (A.nconns >= ad->max_connections) {
            hb_warn("admin: admin.max_connections (%u) open, connection closed",
                    ad->max_connections);
        } else {
            c = calloc(1, sizeof *c);
        }
        if (c) {
            c->fd = cfd;
            c->cap = ad->max_request_size;
            c->in = malloc(c->cap);
            hb_buf_init(&c->out, 0);
            format_peer(&ss, c->peer, sizeof c->peer);
            c->allowed = ad->allow.n == 0 ||
                         hb_cidr_match_any(ad->allow.v, ad->allow.n, (struct sockaddr *)&ss);
            struct h1_limits lim;
            h1_limits_default(&lim);
            lim.max_fields = MAX_FIELDS;
            h1_parser_init(&c->p, &lim);
            hb_list_push_back(&A.conns, &c->link);
            A.nconns++;
            c->ev = event_new(A.base, cfd, EV_READ | EV_PERSIST, on_io, c);
            c->timer = evtimer_new(A.base, on_timer, c);
            uint32_t ms = ad->request_timeout_ms;
            struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
            if (!c->in || !c->ev || !c->timer || event_add(c->ev, NULL) != 0 ||
                evtimer_add(c->timer, &tv) != 0) {
                hb_warn("admin: out of memory, connection closed");
                aconn_free(c);
            }
        } else {
            close(cfd);
        }
        cfg_unref(cfg);
    }
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    event_base_loopbreak(A.base);
}

static void *run(void *arg)
{
    (void)arg;
    event_base_dispatch(A.base);
    return NULL;
}

static void cleanup(void)
{
    struct hb_list *it, *tmp;
    hb_list_foreach_safe(it, tmp, &A.conns)
    {
        aconn_free(hb_container_of(it, struct aconn, link));
    }
    if (A.ev_accept)
        event_free(A.ev_accept);
    if (A.ev_wake)
        event_free(A.ev_wake);
    if (A.base)
        event_base_free(A.base);
    if (A.fd >= 0)
        close(A.fd);
    for (int i = 0; i < 2; i++)
        if (A.wake[i] >= 0)
            close(A.wake[i]);
    A.ev_accept = A.ev_wake = NULL;
    A.base = NULL;
    A.fd = A.wake[0] = A.wake[1] = -1;
}

int px_admin_fd(void)
{
    return A.running ? A.fd : -1;
}

static int listen_on(const struct cfg_admin *ad)
{
    struct sockaddr_storage sa;
    socklen_t len;
    if (px_resolve(ad->address.s, ad->port, &sa, &len) != 0)
        return -1;
    int inherited = px_upgrade_take((struct sockaddr *)&sa, -1);
    if (inherited >= 0)
        return inherited; /* a binary upgrade: the previous process's socket */
    int fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, (struct sockaddr *)&sa, len) != 0 || listen(fd, 64) != 0) {
        hb_error("admin: cannot listen on %s: %s", A.where, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

int px_admin_start(const struct cfg *cfg)
{
    const struct cfg_admin *ad = &cfg->admin;
    if (!ad->enabled || A.running)
        return 0;
    snprintf(A.where, sizeof A.where, strchr(ad->address.s, ':') ? "[%s]:%u" : "%s:%u",
             ad->address.s, ad->port);
    hb_list_init(&A.conns);
    A.nconns = 0;
    A.fd = listen_on(ad);
    if (A.fd < 0)
        return -1;
    A.base = event_base_new();
    if (!A.base || pipe2(A.wake, O_NONBLOCK | O_CLOEXEC) != 0)
        goto fail;
    A.ev_accept = event_new(A.base, A.fd, EV_READ | EV_PERSIST, on_accept, NULL);
    A.ev_wake = event_new(A.base, A.wake[0], EV_READ, on_wake, NULL);
    if (!A.ev_accept || !A.ev_wake || event_add(A.ev_accept, NULL) != 0 ||
        event_add(A.ev_wake, NULL) != 0)
        goto fail;
    if (pthread_create(&A.thread, NULL, run, NULL) != 0)
        goto fail;
    A.running = true;
    hb_info("admin: listening on %s (/metrics, /healthz, /readyz, /status, /)", A.where);
    return 0;
fail:
    hb_error("admin: cannot start the admin listener on %s (out of memory)", A.where);
    cleanup();
    return -1;
}

void px_admin_reloaded(const struct cfg *old, const struct cfg *cfg)
{
    const struct cfg_admin *a = &old->admin, *b = &cfg->admin;
    if (a->enabled != b->enabled || a->port != b->port ||
        strcmp(a->address.s, b->address.s) != 0)
        hb_warn("reload: admin.enabled, admin.address and admin.port take effect at the next "
                "start; the admin listener stays %s%s",
                A.running ? "on " : "off", A.running ? A.where : "");
}

void px_admin_stop(void)
{
    if (!A.running)
        return;
    ssize_t r = write(A.wake[1], "x", 1);
    (void)r;
    pthread_join(A.thread, NULL);
    A.running = false;
    cleanup();
}
