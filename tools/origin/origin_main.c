/* tools/origin/origin_main.c — h2bridge-origin: flags, listener, signals.
 *
 * The demo HTTP/1.1 keep-alive origin (docs/origin.md). Single-threaded, one
 * event_base. SIGTERM/SIGINT: stop accepting, close idle connections, let
 * responses in progress finish for up to --grace MS, then exit 0; a second
 * signal exits at once.
 */
#include "tools/origin/origin.h"

#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/log.h"
#include "core/str.h"

static const char usage[] =
    "usage: h2bridge-origin [options]\n"
    "The demo HTTP/1.1 keep-alive origin of h2bridge (see docs/origin.md).\n"
    "  --listen HOST:PORT     address to listen on (default 127.0.0.1:8081; [::1]:PORT for IPv6,\n"
    "                         :PORT for every IPv4 address)\n"
    "  --id NAME              value of the X-Origin-Id response header (default: the address)\n"
    "  --verbose              log one line per connection and per request to stderr\n"
    "  --max-head BYTES       largest request line + header section (default 65536; 431 above)\n"
    "  --max-fields N         most header fields per request (default 128; 431 above)\n"
    "  --out-high BYTES       queued output above which reading pauses (default 262144)\n"
    "  --idle-timeout MS      close a connection idle or stalled this long (default 60000)\n"
    "  --max-delay MS         largest /delay/MS (default 60000)\n"
    "  --max-resp-head BYTES  largest /headers n*size (default 1048576)\n"
    "  --grace MS             on SIGTERM/SIGINT, time left to finish responses (default 5000)\n"
    "  --help                 this text\n"
    "Endpoints: / /page?n=N /asset/I.png|css|js /bytes/N /chunked/N /trailers?n=N /echo\n"
    "           /inspect /delay/MS /status/CODE /headers?n=K&size=S /close\n";

struct opts {
    const char *listen;
    unsigned grace_ms;
};

static struct event *grace_timer;
static struct event *accept_pause;
static struct timeval grace_tv;

/* Numeric flags: name, range, and where the value goes. */
enum {
    NUM_MAX_HEAD,
    NUM_MAX_FIELDS,
    NUM_OUT_HIGH,
    NUM_IDLE,
    NUM_DELAY,
    NUM_RESP_HEAD,
    NUM_GRACE,
    NNUM
};
static const struct {
    const char *name;
    unsigned long long min, max;
} num_flags[NNUM] = {
    [NUM_MAX_HEAD] = {"max-head", 256, 1 << 24},  [NUM_MAX_FIELDS] = {"max-fields", 1, 100000},
    [NUM_OUT_HIGH] = {"out-high", 4096, 1 << 30}, [NUM_IDLE] = {"idle-timeout", 1, 86400000},
    [NUM_DELAY] = {"max-delay", 0, 86400000},     [NUM_RESP_HEAD] = {"max-resp-head", 0, 1 << 30},
    [NUM_GRACE] = {"grace", 0, 3600000},
};

enum { OPT_LISTEN = 256, OPT_ID, OPT_VERBOSE, OPT_HELP, OPT_NUM /* + NUM_* */ };

static int num_opt(int which, const char *arg, unsigned long long *out)
{
    unsigned long long min = num_flags[which].min, max = num_flags[which].max;
    if (hb_str_to_u64(hb_str_c(arg), max, out) == 0 && *out >= min)
        return 0;
    fprintf(stderr, "h2bridge-origin: --%s takes a number in %llu..%llu, not '%s'\n",
            num_flags[which].name, min, max, arg);
    return -1;
}

/* Returns 0, 1 for --help, or -1 after printing why. */
static int parse_args(int argc, char **argv, struct og_server *srv, struct opts *o)
{
    struct option lo[4 + NNUM + 1] = {
        {"listen", required_argument, 0, OPT_LISTEN},
        {"id", required_argument, 0, OPT_ID},
        {"verbose", no_argument, 0, OPT_VERBOSE},
        {"help", no_argument, 0, OPT_HELP},
    };
    unsigned long long v[NNUM] = {
        [NUM_MAX_HEAD] = srv->lim.max_head,  [NUM_MAX_FIELDS] = srv->lim.max_fields,
        [NUM_OUT_HIGH] = srv->lim.out_high,  [NUM_IDLE] = srv->lim.idle_timeout_ms,
        [NUM_DELAY] = srv->lim.max_delay_ms, [NUM_RESP_HEAD] = srv->lim.max_resp_head,
        [NUM_GRACE] = o->grace_ms,
    };
    for (int i = 0; i < NNUM; i++)
        lo[4 + i] = (struct option){num_flags[i].name, required_argument, 0, OPT_NUM + i};
    int ch;
    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        if (ch == OPT_LISTEN) {
            o->listen = optarg;
        } else if (ch == OPT_ID) {
            srv->id = optarg;
        } else if (ch == OPT_VERBOSE) {
            srv->verbose = 1;
        } else if (ch == OPT_HELP) {
            return 1;
        } else if (ch >= OPT_NUM && ch < OPT_NUM + NNUM) {
            if (num_opt(ch - OPT_NUM, optarg, &v[ch - OPT_NUM]) != 0)
                return -1;
        } else {
            fputs(usage, stderr);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "h2bridge-origin: unexpected argument '%s'\n%s", argv[optind], usage);
        return -1;
    }
    srv->lim.max_head = v[NUM_MAX_HEAD];
    srv->lim.max_fields = (unsigned)v[NUM_MAX_FIELDS];
    srv->lim.out_high = v[NUM_OUT_HIGH];
    srv->lim.idle_timeout_ms = (unsigned)v[NUM_IDLE];
    srv->lim.max_delay_ms = (unsigned)v[NUM_DELAY];
    srv->lim.max_resp_head = v[NUM_RESP_HEAD];
    o->grace_ms = (unsigned)v[NUM_GRACE];
    return 0;
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
                      void *arg)
{
    og_conn_accept(arg, fd, sa, salen);
}

/* EMFILE and friends: the listening socket stays readable, so pause
 * accepting for a moment instead of spinning; keep serving what we have. */
static void accept_error_cb(struct evconnlistener *l, void *arg)
{
    static const struct timeval pause = {0, 100 * 1000};
    hb_warn("accept: %s (pausing accepts for 100 ms)",
            evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
    evconnlistener_disable(l);
    event_add(accept_pause, &pause);
}

static void accept_resume_cb(evutil_socket_t fd, short what, void *arg)
{
    struct og_server *srv = arg;
    if (!srv->shutting_down)
        evconnlistener_enable(srv->listener);
}

/* Splits "host:port" or "[v6]:port" and binds. Returns the listener or NULL
 * after printing why. */
static struct evconnlistener *listen_on(struct og_server *srv, const char *spec)
{
    char host[256];
    const char *colon = strrchr(spec, ':');
    size_t hl = colon ? (size_t)(colon - spec) : 0;
    if (!colon || hl >= sizeof(host) || colon[1] == '\0') {
        fprintf(stderr, "h2bridge-origin: --listen takes HOST:PORT, not '%s'\n", spec);
        return NULL;
    }
    if (hl == 0) {
        strcpy(host, "0.0.0.0"); /* ":PORT": every IPv4 address, as h2bridge reads it */
    } else if (spec[0] == '[' && hl >= 2 && spec[hl - 1] == ']') {
        memcpy(host, spec + 1, hl - 2);
        host[hl - 2] = '\0';
    } else {
        memcpy(host, spec, hl);
        host[hl] = '\0';
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    int rc = getaddrinfo(host, colon + 1, &hints, &ai);
    if (rc != 0) {
        fprintf(stderr, "h2bridge-origin: cannot resolve '%s': %s\n", spec, gai_strerror(rc));
        return NULL;
    }
    struct evconnlistener *l =
        evconnlistener_new_bind(srv->base, accept_cb, srv,
                                LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
                                1024, ai->ai_addr, (int)ai->ai_addrlen);
    if (!l)
        fprintf(stderr, "h2bridge-origin: cannot listen on %s: %s\n", spec, strerror(errno));
    freeaddrinfo(ai);
    if (l)
        evconnlistener_set_error_cb(l, accept_error_cb);
    return l;
}

static void grace_cb(evutil_socket_t fd, short what, void *arg)
{
    struct og_server *srv = arg;
    hb_warn("grace period over: closing the remaining connections");
    og_conn_free_all(srv);
    event_base_loopbreak(srv->base);
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
    struct og_server *srv = arg;
    if (srv->shutting_down) {
        event_base_loopbreak(srv->base); /* a second signal: now */
        return;
    }
    if (srv->verbose)
        hb_info("signal %d: finishing in-flight responses", (int)sig);
    evconnlistener_disable(srv->listener);
    event_add(grace_timer, &grace_tv);
    og_conn_shutdown_all(srv);
}

static void print_bound(const struct og_server *srv)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    char host[64] = "?", port[8] = "?";
    if (getsockname(evconnlistener_get_fd(srv->listener), (struct sockaddr *)&ss, &sl) == 0)
        getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), port, sizeof(port),
                    NI_NUMERICHOST | NI_NUMERICSERV);
    fprintf(stderr, "h2bridge-origin: listening on %s%s%s:%s (id %s)\n",
            strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "", port, srv->id);
}

int main(int argc, char **argv)
{
    struct og_server srv = {
        .lim = {.max_head = 65536,
                .max_fields = 128,
                .out_high = 256 * 1024,
                .idle_timeout_ms = 60000,
                .max_delay_ms = 60000,
                .max_resp_head = 1 << 20},
    };
    struct opts o = {.listen = "127.0.0.1:8081", .grace_ms = 5000};
    int rc = parse_args(argc, argv, &srv, &o);
    if (rc != 0) {
        if (rc > 0)
            fputs(usage, stdout);
        return rc > 0 ? 0 : 2;
    }
    if (!srv.id)
        srv.id = o.listen;
    hb_log_set_level(srv.verbose ? HB_LOG_INFO : HB_LOG_WARN);
    hb_list_init(&srv.conns);
    signal(SIGPIPE, SIG_IGN);

    srv.base = event_base_new();
    if (!srv.base || !(srv.listener = listen_on(&srv, o.listen))) {
        if (srv.base)
            event_base_free(srv.base);
        return 1;
    }
    struct event *sigterm = evsignal_new(srv.base, SIGTERM, signal_cb, &srv);
    struct event *sigint = evsignal_new(srv.base, SIGINT, signal_cb, &srv);
    grace_timer = evtimer_new(srv.base, grace_cb, &srv);
    accept_pause = evtimer_new(srv.base, accept_resume_cb, &srv);
    grace_tv.tv_sec = o.grace_ms / 1000;
    grace_tv.tv_usec = (suseconds_t)(o.grace_ms % 1000) * 1000;
    if (!sigterm || !sigint || !grace_timer || !accept_pause || evsignal_add(sigterm, NULL) ||
        evsignal_add(sigint, NULL)) {
        fprintf(stderr, "h2bridge-origin: cannot set up signal handling\n");
        return 1;
    }
    print_bound(&srv);

    event_base_dispatch(srv.base);

    og_conn_free_all(&srv);
    evconnlistener_free(srv.listener);
    event_free(sigterm);
    event_free(sigint);
    event_free(grace_timer);
    event_free(accept_pause);
    event_base_free(srv.base);
    libevent_global_shutdown();
    if (srv.verbose)
        hb_info("exit");
    return 0;
}
