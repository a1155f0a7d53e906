/* h2bridge — entry point: command line → configuration → runtime.
 *
 * The quick-start flags and a configuration file build the same struct cfg
 * through config's builder (cfg_parse_file, cfg_add_listener,
 * cfg_add_backend, cfg_finalize). Only options whose behaviour exists are
 * accepted (see --help).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfg.h"
#include "core/err.h"
#include "proxy/obs/alog.h"
#include "proxy/reload.h"
#include "proxy/runtime.h"

#define MAX_FLAGS 64

static void usage(FILE *out)
{
    fprintf(out,
            "usage: h2bridge [options]\n"
            "\n"
            "HTTP/2 edge proxy and TLS terminator in front of HTTP/1.1 backends.\n"
            "Runs in the foreground and logs to stderr; SIGINT/SIGTERM stop it\n"
            "gracefully, SIGHUP reloads the configuration, SIGUSR1 reopens the\n"
            "log files (docs/observability.md).\n"
            "\n"
            "options:\n"
            "  -c, --config FILE      configuration file (YAML, docs/configuration.md)\n"
            "  -t, --test             check the configuration (and certificates) and exit\n"
            "  --listen HOST:PORT     accept connections here: TLS with --cert and --key,\n"
            "                         else cleartext (HTTP/1.1 and h2c)\n"
            "  --cert FILE            PEM certificate chain for the --listen addresses\n"
            "  --key FILE             PEM private key of --cert\n"
            "  --backend HOST:PORT    an HTTP/1.1 backend (repeat for several; round-robin)\n"
            "  --workers N            worker threads (default: one per core)\n"
            "  --user NAME            become this user after binding (started as root)\n"
            "  -h, --help             show this help and exit\n"
            "  -V, --version          print the version and exit\n"
            "\n"
            "example:\n"
            "  h2bridge --listen 127.0.0.1:8443 --cert cert.pem --key key.pem \\\n"
            "           --backend 127.0.0.1:8081\n");
}

struct flags {
    const char *config;
    bool test;
    const char *listen[MAX_FLAGS];
    size_t nlisten;
    const char *backend[MAX_FLAGS];
    size_t nbackend;
    const char *cert, *key;
    const char *user;
    long workers; /* -1: not given */
};

enum { OPT_LISTEN = 256, OPT_CERT, OPT_KEY, OPT_BACKEND, OPT_WORKERS, OPT_USER };

/* Returns -1 to go on, or an exit status. */
static int parse_flags(int argc, char **argv, struct flags *f)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},   {"test", no_argument, NULL, 't'},
        {"listen", required_argument, NULL, OPT_LISTEN},
        {"cert", required_argument, NULL, OPT_CERT}, {"key", required_argument, NULL, OPT_KEY},
        {"backend", required_argument, NULL, OPT_BACKEND},
        {"workers", required_argument, NULL, OPT_WORKERS},
        {"user", required_argument, NULL, OPT_USER},
        {"help", no_argument, NULL, 'h'},           {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int c;
    char *end;
    while ((c = getopt_long(argc, argv, "c:thV", opts, NULL)) != -1) {
        switch (c) {
        case 'c': f->config = optarg; break;
        case 't': f->test = true; break;
        case OPT_LISTEN:
        case OPT_BACKEND: {
            const char **v = c == OPT_LISTEN ? f->listen : f->backend;
            size_t *n = c == OPT_LISTEN ? &f->nlisten : &f->nbackend;
            if (*n == MAX_FLAGS) {
                fprintf(stderr, "h2bridge: at most %d --%s flags\n", MAX_FLAGS,
                        c == OPT_LISTEN ? "listen" : "backend");
                return 2;
            }
            v[(*n)++] = optarg;
            break;
        }
        case OPT_CERT: f->cert = optarg; break;
        case OPT_KEY: f->key = optarg; break;
        case OPT_USER: f->user = optarg; break;
        case OPT_WORKERS:
            f->workers = strtol(optarg, &end, 10);
            if (*optarg == 0 || *end || f->workers < 1 || f->workers > 1024) {
                fprintf(stderr, "h2bridge: --workers: expected 1..1024, found '%s'\n", optarg);
                return 2;
            }
            break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("h2bridge %s\n", H2B_VERSION); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "h2bridge: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (!f->config && f->nlisten == 0) {
        usage(stderr);
        return 2;
    }
    return -1;
}

/* The one code path: file (optional), then flags, then finalize. */
static struct cfg *build_cfg(const struct flags *f, struct cfg_errors *errs)
{
    struct cfg *c = cfg_new_defaults();
    if (!c) {
        cfg_errors_add(errs, NULL, "expected memory, found none");
        return NULL;
    }
    int rc = 0;
    if (f->config)
        rc = cfg_parse_file(c, f->config, errs);
    /* A bad value (HB_EINVAL) does not stop the flags or the cross checks:
     * one run reports every error (config/cfg.h, cfg_parse_file). */
#define KEEP_GOING(rc) ((rc) == 0 || (rc) == HB_EINVAL)
#define WORST(rc, r2) ((rc) == 0 || (r2) == HB_ENOMEM ? (r2) : (rc))
    for (size_t i = 0; KEEP_GOING(rc) && i < f->nlisten; i++)
        rc = WORST(rc, cfg_add_listener(c, f->listen[i], f->cert, f->key, errs));
    for (size_t i = 0; KEEP_GOING(rc) && i < f->nbackend; i++)
        rc = WORST(rc, cfg_add_backend(c, f->backend[i], errs));
    if (rc == 0 && f->workers > 0)
        c->workers = (uint32_t)f->workers;
    if (KEEP_GOING(rc) && f->user)
        rc = WORST(rc, cfg_set_user(c, f->user, errs));
    if (KEEP_GOING(rc))
        rc = WORST(rc, cfg_finalize(c, errs));
    if (rc != 0) {
        cfg_unref(c);
        return NULL;
    }
    return c;
}

/* The same path again on SIGHUP. */
static struct cfg *rebuild_cfg(void *ud, struct cfg_errors *errs)
{
    return build_cfg(ud, errs);
}

int main(int argc, char **argv)
{
    struct flags f = {.workers = -1};
    int rc = parse_flags(argc, argv, &f);
    if (rc >= 0)
        return rc;
    struct cfg_errors errs;
    cfg_errors_init(&errs);
    struct cfg *c = build_cfg(&f, &errs);
    if (c && f.test && (px_runtime_load_tls(c, &errs, NULL) | px_alog_check(c, &errs)) != 0) {
        cfg_unref(c);
        c = NULL;
    }
    if (!c) {
        cfg_errors_print(&errs, stderr);
        cfg_errors_free(&errs);
        return 1;
    }
    cfg_errors_free(&errs);
    if (f.test) {
        printf("configuration OK\n");
        cfg_unref(c);
        return 0;
    }
    px_reload_set_builder(rebuild_cfg, &f); /* SIGHUP: proxy/reload.h */
    rc = px_runtime_run(c);
    cfg_unref(c);
    return rc;
}
