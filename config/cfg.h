/* config/cfg.h — h2bridge's configuration: a plain C struct, its defaults, the
 * YAML loader, the builder used by the command line, and errors reported as
 * "file:line:column: expected …, found …".
 *
 * One code path: the YAML loader and the quick-start command line both fill a
 * struct cfg made by cfg_new_defaults() (the loader through the same helpers
 * as cfg_add_listener()/cfg_add_backend()), and both end in cfg_finalize(),
 * which fills derived values and runs every cross check.
 *
 *     struct cfg_errors errs;
 *     cfg_errors_init(&errs);
 *     struct cfg *c = cfg_new_defaults();
 *     int rc = c ? cfg_parse_file(c, path, &errs) : HB_ENOMEM;   // optional
 *     if (rc == 0) rc = cfg_add_backend(c, "127.0.0.1:8080", &errs); // flags
 *     if (rc == 0) rc = cfg_finalize(c, &errs);
 *     // (to report every error in one run, go on after HB_EINVAL too, as
 *     //  cfg_load_file() and proxy/main.c do)
 *     if (rc != 0) { cfg_errors_print(&errs, stderr); cfg_unref(c); }
 *     cfg_errors_free(&errs);
 *
 * The struct holds no libyaml types. Every string and array inside a struct
 * cfg is owned by it and lives until its last reference is dropped; a struct
 * cfg is immutable after cfg_finalize() and may then be read from any thread
 * without locks. Generations: on reload the proxy loads a new cfg, swaps its
 * pointer in, and each connection holds a cfg_ref() of the generation it
 * started with, so old generations die when their last connection does.
 *
 * Units: every duration field is in milliseconds (suffix _ms; YAML accepts
 * "250ms", "5s", "1m", "1h" or a plain integer of milliseconds); every size
 * field is in bytes (YAML accepts "64KiB", "1MiB", "1GiB", "512B", "16KB" =
 * 16000, or a plain integer of bytes).
 *
 * docs/configuration.md lists every key with its type, default and meaning.
 */
#ifndef H2B_CONFIG_CFG_H
#define H2B_CONFIG_CFG_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/cidr.h"
#include "core/health.h"
#include "core/log.h"

/* ---- positions and errors ------------------------------------------------ */

/* Where a value came from. line and col are 1-based; line 0 means "not from a
 * file" (a default, or the command line: then file is "command line").
 * file is owned by the struct cfg (or the struct cfg_errors) holding the
 * mark. */
struct cfg_mark {
    const char *file;
    uint32_t line, col;
};

/* A string value and where it was written. s is NUL-terminated, owned by the
 * struct cfg; s is NULL when the key was absent and has no default. */
struct cfg_string {
    const char *s;
    struct cfg_mark mark;
};

struct cfg_error {
    char *file;         /* owned by the list; "command line" for flags */
    uint32_t line, col; /* 1-based; 0 when not from a file */
    char *msg;          /* "expected …, found …", no position, no newline */
};

/* A list of errors, in the order found. At most CFG_MAX_ERRORS are kept; the
 * rest are counted in n_dropped. */
#define CFG_MAX_ERRORS 100
struct cfg_errors {
    struct cfg_error *v;
    size_t n, cap;
    size_t n_dropped;
    bool oom; /* an error could not be recorded for lack of memory */
};

/* Initialises an empty list (allocates nothing). */
void cfg_errors_init(struct cfg_errors *errs);

/* Frees every entry; the list is empty and reusable afterwards. */
void cfg_errors_free(struct cfg_errors *errs);

/* Appends "expected …, found …" at mark (mark may be NULL: no position).
 * The text is formatted now and copied, as is mark->file, so neither needs
 * to outlive the call. An identical message at the same position is
 * recorded once. Used by config/ and by the proxy for errors it finds later
 * (for example a key that does not match its certificate, at the key's
 * mark). Returns 0, or HB_ENOMEM (then errs->oom is set). */
int cfg_errors_add(struct cfg_errors *errs, const struct cfg_mark *mark, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int cfg_errors_addv(struct cfg_errors *errs, const struct cfg_mark *mark, const char *fmt,
                    va_list ap);

/* Orders the errors by file, line and column (stable; errors without a line
 * come first), as a compiler lists them. cfg_load_file()/cfg_load_buffer() do it
 * before returning. */
void cfg_errors_sort(struct cfg_errors *errs);

/* Writes one error per line, in position order (as cfg_errors_sort()):
 * "file:line:column: msg\n" ("file: msg" when the line is 0, "msg" without a
 * file), then "... and N more errors" if some were dropped. */
void cfg_errors_print(const struct cfg_errors *errs, FILE *out);

/* Formats one error as cfg_errors_print() does, without the newline, into
 * buf (always NUL-terminated, truncated to size). Returns buf. */
char *cfg_error_format(const struct cfg_error *e, char *buf, size_t size);

/* Formats mark as "file:line:column" (or "file" when line is 0) into buf.
 * Returns buf. For the proxy's own log lines. */
char *cfg_mark_format(const struct cfg_mark *mark, char *buf, size_t size);

/* ---- the configuration ---------------------------------------------------- */

/* A list of client networks ("10.0.0.0/8", "::1"), and where it was
 * written (mark.line 0: not given). */
struct cfg_networks {
    struct hb_cidr *v;
    size_t n;
    struct cfg_mark mark;
};

/* Protocols a listener accepts (bit set). h2 and http1.1 are negotiated by
 * ALPN on TLS listeners; h2c (prior knowledge) and http1.1 on plaintext. */
enum cfg_proto {
    CFG_PROTO_H2 = 1u << 0,
    CFG_PROTO_HTTP11 = 1u << 1,
    CFG_PROTO_H2C = 1u << 2,
};

/* TLS protocol versions, with their wire values (RFC 8446 §4.2.1). */
enum cfg_tls_version {
    CFG_TLS_1_2 = 0x0303,
    CFG_TLS_1_3 = 0x0304,
};

/* One certificate chain and its private key (PEM files), with the names it
 * serves by SNI. The first certificate of a listener is the default one,
 * served when SNI matches no server_names. cert/key are checked readable by
 * cfg_finalize(); the proxy loads them with BoringSSL and reports a bad PEM
 * or a key that does not match at cert.mark / key.mark. */
struct cfg_cert {
    struct cfg_mark mark; /* the list item */
    struct cfg_string cert;
    struct cfg_string key;
    struct cfg_string ocsp_file; /* DER OCSP response stapled; NULL = none (docs/tls.md) */
    struct cfg_string *server_names; /* lowercased; "*.example.com" allowed */
    size_t n_server_names;
};

/* listeners[].tls.client_auth. */
enum cfg_client_auth {
    CFG_CLIENT_AUTH_NONE,     /* no certificate asked for */
    CFG_CLIENT_AUTH_OPTIONAL, /* asked for; none is fine, a bad one fails the handshake */
    CFG_CLIENT_AUTH_REQUIRED, /* a valid certificate or no connection */
};

struct cfg_tls {
    struct cfg_cert *certs; /* n_certs >= 1 on a TLS listener */
    size_t n_certs;
    uint16_t min_version;      /* enum cfg_tls_version; default 1.2 */
    struct cfg_string ciphers; /* TLS 1.2 cipher list (BoringSSL syntax); NULL = library default */
    struct cfg_string ticket_key_file; /* 48 random bytes (SSL_CTX_set_tlsext_ticket_keys); NULL =
                                          random keys, rotated */
    uint32_t ticket_rotation_ms;       /* rotation interval of random keys; default 1h */
    /* ticket_memcached: ticket keys shared by a fleet through memcached
     * (docs/operations.md); address.s NULL = off. */
    struct cfg_ticket_mc {
        struct cfg_mark mark;      /* the ticket_memcached: key */
        struct cfg_string address; /* host */
        uint16_t port;             /* default 11211 */
        struct cfg_string key;     /* default "h2bridge/ticket-keys" */
        uint32_t interval_ms;      /* between fetches; default 60 s */
        uint32_t timeout_ms;       /* one fetch; default 2 s */
        uint32_t lifetime_ms;      /* ticket lifetime; default 1 h */
    } ticket_mc;
    uint32_t small_records;    /* bytes sent in one-segment records on a fresh or rested
                                  connection before 16 KiB records; default 64 KiB, 0 = never */
    uint32_t small_records_idle_ms; /* a pause without writes that starts small again; 1s */
    /* Client certificates (mTLS, docs/tls.md). */
    enum cfg_client_auth client_auth; /* default none */
    struct cfg_string client_ca;      /* PEM CAs that sign client certificates (not none) */
    struct cfg_string client_crl;     /* PEM CRLs checked against them; NULL = none */
    uint32_t verify_depth;            /* CA certificates above the client's; default 3 */
    /* The headers that carry the verified certificate to the backend;
     * taken out of every client request on the listener. */
    struct cfg_string subject_header; /* default x-client-cert-subject */
    struct cfg_string san_header;     /* default x-client-cert-san */
    struct cfg_string hash_header;    /* default x-client-cert-sha256 */
    /* TLS 1.3 0-RTT (docs/tls.md): early data accepted for safe requests,
     * 425 for the rest; default off. */
    bool early_data;
    uint32_t ocsp_check_ms; /* how often each ocsp_file is checked for a change; 60 s */
};

/* How header names are spelt on an HTTP/1.1 hop (listeners[].header_case
 * for responses to HTTP/1.1 clients, upstreams.*.header_case for requests
 * to the servers; docs/proxy.md). */
enum cfg_header_case {
    CFG_HCASE_LOWER,    /* as HTTP/2 has them (default) */
    CFG_HCASE_TITLE,    /* Title-Case (Content-Type), with the usual exceptions (ETag) */
    CFG_HCASE_PRESERVE, /* as the HTTP/1.1 peer spelt them; Title-Case for fields from
                           HTTP/2 and those the proxy adds or rewrites */
};

struct cfg_listener {
    struct cfg_mark mark;      /* the list item (or the flag) */
    struct cfg_string name;    /* optional; NULL when absent */
    struct cfg_string address; /* host part: "0.0.0.0", "::", "127.0.0.1" ([] stripped) */
    uint16_t port;
    bool tls; /* true when a tls: section (or cert/key flag) was given */
    struct cfg_tls tls_cfg;
    unsigned protocols;       /* enum cfg_proto bits; default h2+http1.1 (TLS) or h2c+http1.1 */
    uint32_t max_connections; /* open connections on this listener, all workers; default 10000 */
    uint32_t backlog;         /* listen(2) backlog; default 511 */
    bool websocket; /* Upgrade tunnels (HTTP/1.1) and extended CONNECT (RFC 8441, h2)
                       are proxied; default off (docs/websocket.md) */
    /* Clients in these networks (L4 balancers) must start with a PROXY
     * protocol v1/v2 header, whose address then stands for the client;
     * empty (default): nobody may send one. */
    struct cfg_networks proxy_protocol;
    enum cfg_header_case header_case; /* responses to HTTP/1.1 clients; default lower */
    /* TCP_NOTSENT_LOWAT on accepted connections: bytes the kernel may hold
     * unsent per connection before it stops taking more, so HTTP/2's
     * scheduler decides what goes next; 0 (default): the kernel's own. */
    uint32_t notsent_lowat;
};

/* RFC 9113 §6.5.2 settings we announce, and the flood budgets (per
 * connection, per second) beyond which the connection is closed with
 * ENHANCE_YOUR_CALM (RFC 9113 §10.5). */
struct cfg_http2 {
    uint32_t max_concurrent_streams; /* default 100 */
    uint32_t initial_window_size;    /* stream window; default 65535, max 2^31-1 */
    uint32_t connection_window_size; /* connection window; default 1 MiB, min 65535 */
    uint32_t max_window_size;        /* stream window may grow to; default 4 MiB; <= initial: fixed */
    uint32_t max_connection_window_size; /* likewise the connection's; default 16 MiB */
    uint32_t max_frame_size;         /* 16384..16777215; default 16384 */
    uint32_t header_table_size;      /* HPACK decoder table; default 4096 */
    uint32_t max_header_list_size;   /* default 64 KiB */
    uint32_t priority_tracked_streams; /* RFC 7540 tree nodes of idle/closed streams; default 64 */
    struct {
        uint32_t rst_stream_per_sec;    /* default 100 (CVE-2023-44487, rapid reset) */
        uint32_t ping_per_sec;          /* default 50 */
        uint32_t settings_per_sec;      /* default 50 */
        uint32_t empty_frames_per_sec;  /* DATA/HEADERS/CONTINUATION with no payload; default 100 */
        uint32_t priority_per_sec;      /* default 500 */
        uint32_t window_update_per_sec; /* default 1000 */
        uint32_t max_queued_control_frames; /* unsent PING/SETTINGS acks etc.; default 1000 */
    } flood;
};

/* servers[].resolve: what a DNS name that does not resolve at start does. */
enum cfg_resolve_mode {
    CFG_RESOLVE_START, /* default: start (and a reload) fail, naming the server's line */
    CFG_RESOLVE_LAZY,  /* start anyway; the server has no address until it resolves */
};

struct cfg_server {
    struct cfg_mark mark;
    struct cfg_string address; /* host part, [] stripped */
    uint16_t port;
    uint32_t weight;          /* 1..1000; default 1 */
    uint32_t max_connections; /* per worker; 0 = no limit; default CFG_SERVER_MAX_CONNECTIONS */
    bool is_name;             /* address is a DNS name, not an IP literal (set when parsed):
                                 resolved by proxy/backend/resolver.h, each address a server */
    enum cfg_resolve_mode resolve; /* names only; default CFG_RESOLVE_START */
    struct cfg_mark resolve_mark;  /* where resolve: was given (line 0: not given) */
};

/* resolver: how DNS names in servers are resolved (proxy/backend/resolver.h).
 * A name is re-resolved after min(the answer's TTL, interval), never sooner
 * than min_interval; a failed resolution is retried after min_interval and
 * keeps the last good answer. */
#define CFG_MAX_RESOLVERS 8
struct cfg_resolver_addr {
    struct cfg_string address; /* an IP literal */
    uint16_t port;             /* default 53 */
};
struct cfg_resolver {
    struct cfg_resolver_addr *servers; /* nameservers; none (default): /etc/resolv.conf */
    size_t n_servers;
    uint32_t interval_ms;     /* longest time between resolutions of a name; default 30s */
    uint32_t min_interval_ms; /* shortest (a TTL below it is raised); default 1s */
    uint32_t timeout_ms;      /* one query attempt; default 2s */
    uint32_t attempts;        /* tries per resolution (each nameserver); default 2 */
    uint32_t max_addresses;   /* addresses taken from one name (the lowest first); default 64 */
};

/* servers[].max_connections by default: high, as the peers (nginx, HAProxy,
 * h2o and nghttpx have no default cap), yet bounded by what one worker's
 * file descriptors can hold (docs/backends.md). */
#define CFG_SERVER_MAX_CONNECTIONS 1024

/* upstreams.*.health_check: active checks, run once per process by the
 * health-check thread (proxy/backend/health_check.h). */
struct cfg_health_check {
    bool enabled;                /* the section is present */
    bool tcp;                    /* type: tcp (connect only); default http */
    struct cfg_string method;    /* default "GET" */
    struct cfg_string path;      /* default "/" */
    struct cfg_string host;      /* Host header; NULL: the server's "host:port" */
    struct cfg_string expect;    /* expected statuses as written; default "200-399" */
    struct hb_status_ranges expect_ranges; /* expect, parsed */
    uint32_t interval_ms;        /* between checks of one server; default 2s */
    uint32_t jitter_ms;          /* ± random part of the interval; default 200ms (< interval) */
    uint32_t timeout_ms;         /* connect + answer; default 1s (<= interval) */
    uint32_t rise;               /* passes in a row to come back; default 2 */
    uint32_t fall;               /* failures in a row to go down; default 3 */
};

/* upstreams.*.outlier_detection: passive ejection, per worker
 * (core/outlier.h: count holds 1 << enum hb_outcome). */
struct cfg_outlier {
    bool enabled;                 /* the section is present */
    uint32_t consecutive_failures; /* default 5 */
    unsigned count;               /* 1 << enum hb_outcome of the failures counted; default all */
    uint32_t base_ejection_ms;    /* default 30s */
    uint32_t max_ejection_ms;     /* default 5m (>= base) */
    uint32_t max_ejected_percent; /* default 50 */
};

/* upstreams.*.retry_on: bits of the failures a request is retried on. */
enum {
    CFG_RETRY_CONNECT = 1u << 0, /* connect refused, failed or timed out (any request) */
    CFG_RETRY_RESET = 1u << 1,   /* closed or reset before any response byte */
    CFG_RETRY_TIMEOUT = 1u << 2, /* no response byte within per_try_timeout */
    CFG_RETRY_502 = 1u << 3,     /* a 502, 503 or 504 response head (discarded) */
    CFG_RETRY_503 = 1u << 4,
    CFG_RETRY_504 = 1u << 5,
};

/* upstreams.*.on_no_healthy: when no server is up. */
enum cfg_no_healthy {
    CFG_NO_HEALTHY_PANIC, /* default: every server gets traffic, as if up */
    CFG_NO_HEALTHY_FAIL,  /* answer 503 at once */
};

/* upstreams.*.tls: TLS to the servers (proxy/backend/btls.h, docs/tls.md). */
struct cfg_upstream_tls {
    bool enabled;                  /* the section is present */
    bool verify;                   /* check the server's certificate and name; default true */
    bool session_reuse;            /* resume sessions per server per worker; default true */
    uint16_t min_version;          /* enum cfg_tls_version; default 1.2 */
    struct cfg_string ca_file;     /* PEM CAs; NULL: the system store (/etc/ssl/certs) */
    struct cfg_string sni;         /* SNI sent; NULL: the server's host name (none for an IP) */
    struct cfg_string verify_name; /* name the certificate must carry; NULL: sni, else the
                                      server's address (a DNS name or an IP address) */
    struct cfg_string cert;        /* client certificate chain (mTLS to the servers); NULL: none */
    struct cfg_string key;         /* its private key (with cert) */
};

/* upstreams.*.consistent_hash: what a request is hashed on (balance:
 * consistent_hash; core/balance.h hb_maglev). */
enum cfg_hash_key {
    CFG_HASH_CLIENT_ADDRESS, /* default: the client's address (PROXY / trusted X-Forwarded-For) */
    CFG_HASH_PATH,           /* the path, without the query */
    CFG_HASH_HEADER,         /* a request header's value (name lowercased) */
    CFG_HASH_COOKIE,         /* a cookie's value (name as written) */
};

struct cfg_consistent_hash {
    struct cfg_mark mark;    /* of the section; line 0: absent */
    enum cfg_hash_key key;   /* default CFG_HASH_CLIENT_ADDRESS */
    struct cfg_string name;  /* header or cookie name; NULL for the other keys */
    uint32_t table_size;     /* Maglev entries, a prime; default 65537 */
};

/* upstreams.*.sticky_cookie: a cookie the proxy sets to pin a client to the
 * server that answered it (docs/backends.md). */
enum cfg_same_site {
    CFG_SAME_SITE_LAX, /* default */
    CFG_SAME_SITE_STRICT,
    CFG_SAME_SITE_NONE, /* needs secure: true */
    CFG_SAME_SITE_OMIT, /* no SameSite attribute */
};

struct cfg_sticky {
    bool enabled;            /* the section is present */
    struct cfg_mark mark;
    struct cfg_string name;  /* default "h2bridge_server" */
    struct cfg_string path;  /* Path attribute; default "/" */
    struct cfg_string domain; /* Domain attribute; NULL: none (host-only) */
    uint32_t max_age_ms;     /* Max-Age (whole seconds sent); 0 (default): a session cookie */
    bool http_only;          /* HttpOnly; default true */
    bool secure;             /* Secure; default false */
    enum cfg_same_site same_site;
};

struct cfg_upstream {
    struct cfg_mark mark;
    struct cfg_string name;
    struct cfg_server *servers; /* n_servers >= 1 after cfg_finalize() */
    size_t n_servers;
    struct cfg_string balance;   /* one of cfg_balance_names[]; default "round_robin" */
    uint32_t connect_timeout_ms; /* default 5s */
    uint32_t read_timeout_ms;    /* between bytes from the backend; default 60s */
    uint32_t idle_timeout_ms;    /* idle pooled connection; default 60s */
    uint32_t keepalive;          /* idle connections kept per server per worker; default 32 */
    uint32_t surplus_idle_timeout_ms; /* an idle connection past keepalive lingers; 0: closed
                                         at once; default 1s */
    uint32_t retries;            /* retries of one request (retry_on); default 1 */
    uint32_t queue_timeout_ms;   /* wait for a busy server's connection slot; default 5s */
    uint32_t queue_size;         /* requests waiting per server per worker; default 4096 */
    struct cfg_health_check health_check;
    struct cfg_outlier outlier_detection;
    enum cfg_no_healthy on_no_healthy; /* default CFG_NO_HEALTHY_PANIC */
    uint32_t slow_start_ms;      /* weight ramp after a server comes back; default 0 (off) */
    uint32_t max_requests;       /* requests in progress per worker (breaker); 0: no limit */
    uint32_t max_pending;        /* requests waiting for a connection, across the servers,
                                    per worker; 0: no limit (queue_size per server); default 0 */
    uint32_t per_client_share;   /* percent of a server's max_connections one client
                                    connection may hold; 100: no share; default 25 */
    unsigned retry_on;           /* CFG_RETRY_*; default CFG_RETRY_CONNECT | CFG_RETRY_RESET */
    uint32_t per_try_timeout_ms; /* wait for the first response byte per try; 0: read_timeout */
    struct {
        uint32_t percent;     /* retries in flight per worker: at most this share of the */
        uint32_t min_retries; /* upstream's active requests, plus min_retries; 20 and 3 */
    } retry_budget;
    enum cfg_header_case header_case; /* requests to the servers; default lower */
    struct cfg_upstream_tls tls;
    uint8_t proxy_protocol; /* PROXY protocol header sent to the servers: 0 none (default),
                               1 (v1 text) or 2 (v2 binary, with ALPN/authority/SSL TLVs) */
    struct cfg_consistent_hash consistent_hash;
    struct cfg_sticky sticky_cookie;
};

/* Balancing policy names accepted by upstreams.*.balance, NULL-terminated. */
extern const char *const cfg_balance_names[];

struct cfg_header {
    struct cfg_string name;  /* lowercased (RFC 9113 §8.2.2 wants lowercase) */
    struct cfg_string value; /* NULL for remove */
};

/* Header edits, applied in the order remove, set, add. */
struct cfg_header_ops {
    struct cfg_header *set; /* replace every field of that name */
    size_t n_set;
    struct cfg_header *add; /* append a field */
    size_t n_add;
    struct cfg_header *remove; /* value.s is NULL */
    size_t n_remove;
};

enum cfg_path_match {
    CFG_PATH_ANY,    /* no path condition */
    CFG_PATH_PREFIX, /* path starts with path.s */
    CFG_PATH_EXACT,  /* path (before '?') equals path.s */
};

/* A route: a match on host and path and an action. Routes are tried in
 * order; the first match wins. A route with neither host nor path matches
 * everything (the default route) and must be the last one. */
/* routes[].early_hints (docs/early-hints.md): 103 Early Hints sent as soon
 * as a request arrives, before the backend answers. */
#define CFG_EH_MAX_LINKS 32
struct cfg_early_hints {
    bool learn; /* remember the Link rel=preload/preconnect of a path's last 2xx; default false */
    unsigned learn_as; /* HB_LINK_AS_* (core/link_hdr.h): the preloads learned, by their "as";
                        * 0 (the default): every preload. Preconnects are always kept. */
    struct cfg_string *links; /* Link values sent for every GET on the route (checked RFC 8288) */
    size_t n_links;
    uint32_t max_entries;    /* learned paths kept per worker for this route; default 1024 */
    uint32_t max_entry_size; /* bytes of learned Link values kept per path; default 2048 */
    bool on;                 /* learn or links: the exchange's hooks run (set by the schema) */
};

/* routes[].push (docs/push.md): HTTP/2 server push of the targets of a
 * 2xx response's Link rel=preload fields (not nopush), same origin only,
 * to clients that allow it (SETTINGS_ENABLE_PUSH). */
struct cfg_push {
    bool enabled;                /* default false */
    uint32_t max_per_connection; /* promises per client connection; default 16 (1..1000) */
    uint32_t max_per_response;   /* promises per response; default 8 (1..100) */
    bool forward_cookies; /* the pushed request carries the client's Cookie; default false */
};

struct cfg_route {
    struct cfg_mark mark;
    struct cfg_string host; /* lowercased; NULL = any host */
    bool host_wildcard;     /* host.s is "*.example.com": matches a.example.com, not example.com */
    enum cfg_path_match path_match;
    struct cfg_string path;     /* NULL for CFG_PATH_ANY */
    struct cfg_string upstream; /* name of an upstream */
    size_t upstream_index;      /* index into cfg->upstreams, set by cfg_finalize() */
    struct cfg_string
        rewrite_prefix; /* replaces the matched prefix (CFG_PATH_PREFIX only); NULL = none */
    struct cfg_header_ops request_headers;  /* edits on the request sent to the backend */
    struct cfg_header_ops response_headers; /* edits on the response sent to the client */
    bool websocket; /* false: no tunnel on this route (Upgrade stripped, extended
                       CONNECT 501); default true (the listener decides) */
    struct cfg_early_hints early_hints; /* off by default */
    struct cfg_push push;               /* off by default */
};

struct cfg_limits {
    uint32_t stream_buffer_size;       /* response bytes buffered per stream; default 64 KiB */
    uint32_t request_buffer_size;      /* request body bytes buffered per stream; default 64 KiB */
    uint32_t max_request_header_size;  /* HTTP/1.1 request head (line + fields); default 64 KiB */
    uint32_t max_response_header_size; /* backend response head; default 64 KiB */
    uint32_t max_header_count;         /* fields per request or response; default 100 */
    uint32_t max_connections;          /* whole process; default 10000 */
    uint32_t handshake_timeout_ms;     /* TLS handshake; default 10s */
    uint32_t h2_idle_timeout_ms;       /* h2 connection with no open stream; default 120s */
    uint32_t h1_keepalive_timeout_ms;  /* HTTP/1.1 between requests; default 15s */
    uint32_t
        request_header_timeout_ms;    /* whole request head must arrive (slowloris); default 10s */
    uint32_t min_send_rate;           /* bytes/s a client must read, 0 = off; default 1024 */
    uint32_t min_send_rate_window_ms; /* window the rate is measured over; default 10s */
    uint32_t shutdown_timeout_ms;     /* graceful shutdown / reload drain; default 30s */
    uint32_t max_request_body_size;   /* request body (413 above), 0 = no limit; default 1GiB */
    uint32_t response_stall_timeout_ms; /* a response the client takes no byte of; 0 = off;
                                           default 30s */
    uint32_t request_body_timeout_ms;   /* between request body bytes while the backend
                                           waits; 0 = off; default 60s */
};

enum cfg_access_format {
    CFG_ACCESS_COMBINED, /* NCSA combined + protocol, duration, upstream, request id */
    CFG_ACCESS_COMMON,   /* NCSA common */
    CFG_ACCESS_JSON,     /* one JSON object per line */
    CFG_ACCESS_TEMPLATE, /* access_log_template */
};

/* The access log and the error log (docs/observability.md). */
struct cfg_logging {
    enum hb_log_level level;                  /* error log level; default info */
    struct cfg_string access_log;             /* path, "-" = stdout; NULL = no access log */
    enum cfg_access_format access_log_format; /* default combined */
    /* "${field} text $$": checked by the proxy (proxy/obs/alog_fmt.h), which
     * reports a bad field at mark.col + its offset when template_exact (a
     * one-line scalar whose text is what the file says: mark is then at its
     * first character), else at mark. NULL unless format is template. */
    struct cfg_string access_log_template;
    bool access_log_template_exact;
    uint32_t access_log_buffer;   /* ring bytes per worker thread; default 256 KiB */
    uint32_t access_log_flush_ms; /* the longest a line waits to be written; default 1s */
    uint32_t access_log_line_max; /* longer lines are cut with a marker; default 8 KiB */
    struct cfg_string error_log;  /* path, "-" = stdout; NULL = stderr (the default) */
    uint32_t error_log_rate;      /* lines per second per call site and thread, 0 = any; 10 */
};

struct cfg_admin {
    bool enabled;              /* true when an admin: section with an address was given */
    struct cfg_string address; /* default "127.0.0.1" */
    uint16_t port;             /* default 9901 */
    struct cfg_networks allow; /* clients allowed; empty = any that can reach the address */
    uint32_t max_connections;      /* admin connections open at once; default 16 */
    uint32_t max_request_size;     /* bytes of a request head; default 8 KiB */
    uint32_t request_timeout_ms;   /* accept → whole request in; default 5 s */
    uint32_t worker_stall_timeout_ms; /* a worker heartbeat older than this fails /healthz;
                                         default 5 s */
};

/* What the proxy does with a W3C traceparent (request_id.traceparent). */
enum cfg_traceparent {
    CFG_TRACEPARENT_PASS,     /* forwarded as the client sent it, or absent */
    CFG_TRACEPARENT_GENERATE, /* a missing or malformed one is replaced by a new one */
};

/* clients: limits per client address across every connection and worker
 * (proxy/clients.h). */
struct cfg_clients {
    uint32_t max_connections;     /* open connections per address; 0 = no limit (default) */
    uint32_t requests_per_second; /* new requests per address; 0 = no limit (default) */
    uint32_t burst;               /* requests at once above the rate; default 100 */
    uint32_t table_size;          /* addresses tracked (16 bytes each); default 65536 */
    struct cfg_networks exempt;   /* addresses no limit applies to */
};

/* request_id: every request gets an id, sent to the backend and logged. */
struct cfg_request_id {
    bool enabled;              /* default on */
    struct cfg_string header;  /* lowercased field name; default "x-request-id" */
    struct cfg_networks trust; /* clients whose own id is kept; default none (always new) */
    enum cfg_traceparent traceparent; /* default pass */
};

/* What happens to a client's own X-Forwarded-For (forwarded.x_forwarded_for_mode). */
enum cfg_xff_mode {
    CFG_XFF_APPEND,  /* kept, the client's address appended (default) */
    CFG_XFF_REPLACE, /* dropped: the backend sees the client's address only */
    CFG_XFF_TRUST,   /* kept from forwarded.trusted proxies only, else dropped */
};

/* Forwarded-header policy on requests sent to backends (each on/off). */
struct cfg_forwarded {
    enum cfg_xff_mode x_forwarded_for_mode;
    struct cfg_networks trusted; /* proxies in front of us (x_forwarded_for_mode: trust) */
    bool x_forwarded_for;   /* append the client address; default on */
    bool x_forwarded_proto; /* set "https"/"http"; default on */
    bool forwarded;         /* RFC 7239 Forwarded: for=…;proto=…; default off */
    bool via;               /* RFC 9110 §7.6.3 Via: 2 h2bridge; default off */
};

/* tunnels: Upgrade (HTTP/1.1) and extended CONNECT (h2) byte tunnels on
 * listeners with websocket: true (docs/websocket.md). */
#define CFG_MAX_UPGRADE_TOKENS 16
struct cfg_tunnels {
    struct cfg_string *upgrade; /* lowercased tokens an HTTP/1.1 client may Upgrade to;
                                   default ["websocket"]; never "h2c" */
    size_t n_upgrade;
    uint32_t idle_timeout_ms;    /* no byte either way; default 5 min */
    uint32_t max_per_connection; /* open tunnels on one client connection; default 100 */
    uint32_t max_per_worker;     /* open tunnels in one worker; default 10000 */
};

struct cfg {
    atomic_uint refs; /* see cfg_ref()/cfg_unref() */
    struct cfg_listener *listeners;
    size_t n_listeners;
    struct cfg_http2 http2;
    struct cfg_upstream *upstreams;
    size_t n_upstreams;
    struct cfg_route *routes;
    size_t n_routes;
    bool push_any; /* some route has push.enabled: HTTP/2 connections enable push
                      (set by the schema, read once per connection) */
    struct cfg_limits limits;
    struct cfg_logging logging;
    struct cfg_admin admin;
    uint32_t workers; /* 0 = one per core; default 0 */
    struct cfg_string user;  /* become this user after binding (proxy/privdrop.h); NULL = stay */
    struct cfg_string group; /* with this group; NULL = the user's primary group */
    struct cfg_forwarded forwarded;
    struct cfg_request_id request_id;
    struct cfg_tunnels tunnels;
    struct cfg_clients clients;
    struct cfg_resolver resolver;
    struct cfg_mark source; /* the last file parsed (line 0); file NULL for none */
    /* Set by cfg_finalize(): some upstream has header_case: preserve, so
     * HTTP/1.1 request heads keep their names' case (h1_parser_keep_case) */
    bool keep_request_case;
    struct cfg_mem *mem;    /* private: owns every string and array above */
};

/* ---- life cycle ------------------------------------------------------------ */

/* A configuration with every default (no listeners, upstreams or routes),
 * holding one reference. Returns NULL when out of memory. */
struct cfg *cfg_new_defaults(void);

/* Adds a reference and returns cfg (atomic; any thread). */
struct cfg *cfg_ref(struct cfg *cfg);

/* Drops a reference (atomic; any thread); the last one frees cfg and every
 * string and array it owns. NULL is ignored. */
void cfg_unref(struct cfg *cfg);

/* Drops the creator's reference: the same as cfg_unref(). NULL is ignored. */
void cfg_del(struct cfg *cfg);

/* ---- loading --------------------------------------------------------------- */

/* Applies the YAML file at path onto cfg (made by cfg_new_defaults(), not yet
 * finalized): keys present replace defaults; listeners, upstreams and routes
 * are appended. Collects every error it can find into errs. Files larger than
 * CFG_MAX_FILE_SIZE are refused. Relative paths of files named in the file
 * (cert, key, ticket_key_file, access_log) are taken relative to the
 * directory of the YAML file. Returns 0; HB_EINVAL when errors were recorded
 * (cfg is then partly filled: still run cfg_finalize() on it so that the
 * cross checks are reported in the same run, then cfg_unref() it; this is
 * what cfg_load_file() does); HB_ESYNTAX when the YAML
 * itself is malformed (recorded; nothing was applied); HB_EIO when the file
 * cannot be read (recorded in errs too); HB_ENOMEM. */
#define CFG_MAX_FILE_SIZE (4u << 20)
int cfg_parse_file(struct cfg *cfg, const char *path, struct cfg_errors *errs);

/* The same on a buffer; name is used in marks ("file") and for relative
 * paths. data need not be NUL-terminated and is only read, exactly len bytes;
 * a len above CFG_MAX_FILE_SIZE is reported as an error. */
int cfg_parse_buffer(struct cfg *cfg, const char *name, const void *data, size_t len,
                     struct cfg_errors *errs);

/* cfg_new_defaults() + cfg_parse_file() + cfg_finalize(). On success returns
 * 0 and *out holds a new configuration with one reference (the caller's).
 * Otherwise returns HB_EINVAL / HB_EIO / HB_ENOMEM, *out is NULL and errs
 * holds every error found. */
int cfg_load_file(const char *path, struct cfg **out, struct cfg_errors *errs);

/* The same from a buffer (tests, fuzzing). */
int cfg_load_buffer(const char *name, const void *data, size_t len, struct cfg **out,
                    struct cfg_errors *errs);

/* What `h2bridge -t -c FILE` runs: loads and finalizes path, prints
 * "configuration OK\n" to out, or every error as
 * "file:line:column: expected …, found …\n". Returns the exit status: 0 when
 * valid, 1 otherwise (also when out of memory). */
int cfg_check_file(const char *path, FILE *out);

/* ---- builder (the command line uses these; so does the loader) ------------ */

/* Appends a listener on "HOST:PORT" ("[::1]:8443", "0.0.0.0:443", ":8080" =
 * all IPv4 addresses). With cert and key (PEM paths, both or neither) it is
 * a TLS listener offering h2 and http/1.1 by ALPN; without, a plaintext
 * listener accepting h2c and HTTP/1.1. The strings are copied. Returns 0,
 * HB_EINVAL (bad HOST:PORT, or only one of cert/key; recorded in errs at
 * the "command line" mark) or HB_ENOMEM. */
int cfg_add_listener(struct cfg *cfg, const char *hostport, const char *cert, const char *key,
                     struct cfg_errors *errs);

/* Appends a server "HOST:PORT" to the upstream named "default" (creating it
 * with default settings if absent) and, when there is no catch-all route
 * yet, appends a catch-all route to "default". Returns 0, HB_EINVAL
 * (recorded in errs) or HB_ENOMEM. */
int cfg_add_backend(struct cfg *cfg, const char *hostport, struct cfg_errors *errs);

/* Sets the user to become after binding (--user; replaces user: of a
 * file). Returns 0, HB_EINVAL (empty; recorded) or HB_ENOMEM. */
int cfg_set_user(struct cfg *cfg, const char *user, struct cfg_errors *errs);

/* Fills derived values and runs the cross checks: at least one listener;
 * cert/key/ticket-key files readable (fopen + one read); unique listener
 * address:port and names; routes name defined upstreams (upstream_index is
 * set) and no
 * route follows the catch-all or repeats an earlier route's match;
 * rewrite_prefix only with a path prefix; unique servers per upstream and
 * SNI names per listener; the admin address not used by a listener; the
 * default protocols of listeners without protocols:. Collects every error.
 * Returns 0, HB_EINVAL (errors in errs) or HB_ENOMEM. After success cfg
 * must not be modified. */
int cfg_finalize(struct cfg *cfg, struct cfg_errors *errs);

/* ---- lookups and units ----------------------------------------------------- */

/* The upstream named name, or NULL. Pointer valid while cfg lives. */
const struct cfg_upstream *cfg_find_upstream(const struct cfg *cfg, const char *name);

/* The first route matching host (without port, any case: compared
 * case-insensitively; may be NULL/empty) and path (request target; a '?' and
 * what follows are ignored for matching; compared bytewise), or NULL when
 * none matches (the proxy answers 404).
 * host/path are not NUL-terminated views. */
const struct cfg_route *cfg_route_match(const struct cfg *cfg, const char *host, size_t host_len,
                                        const char *path, size_t path_len);

/* Parses a duration: an integer followed by ms, s, m or h, or a bare integer
 * of milliseconds. Returns 0 and sets *ms; HB_ESYNTAX on a malformed value;
 * HB_ERANGE when the value exceeds UINT32_MAX ms. */
int cfg_parse_duration_ms(const char *s, uint32_t *ms);

/* Parses a size: an integer followed by B, KiB, MiB, GiB (x1024), KB, MB, GB
 * (x1000), or a bare integer of bytes. Returns 0 and sets *bytes;
 * HB_ESYNTAX; HB_ERANGE when it exceeds UINT32_MAX. */
int cfg_parse_size(const char *s, uint32_t *bytes);

/* Splits "HOST:PORT" / "[V6]:PORT" / ":PORT" (host "0.0.0.0"). On success
 * returns 0, copies the host (brackets stripped, NUL-terminated) into host
 * (host_size bytes) and sets *port (1..65535). Returns HB_ESYNTAX when
 * malformed or the host does not fit, HB_ERANGE for a port out of range. */
int cfg_parse_hostport(const char *s, char *host, size_t host_size, uint16_t *port);

/* Names for logs: "h2", "http/1.1", "h2c"; "1.2", "1.3"; "combined", ... */
const char *cfg_proto_name(enum cfg_proto p);
const char *cfg_tls_version_name(enum cfg_tls_version v);
const char *cfg_access_format_name(enum cfg_access_format f);
/* "append", "replace", "trust". */
const char *cfg_xff_mode_name(enum cfg_xff_mode m);
/* "lower", "title", "preserve". */
const char *cfg_header_case_name(enum cfg_header_case c);
/* "none", "optional", "required". */
const char *cfg_client_auth_name(enum cfg_client_auth a);
/* "pass", "generate". */
const char *cfg_traceparent_name(enum cfg_traceparent t);
/* "any", "path_prefix", "path" (the YAML key that sets it). */
const char *cfg_path_match_name(enum cfg_path_match m);

/* Test hook: replaces the allocator config/ uses for everything it allocates
 * (the cfg, its strings and arrays, errors, the YAML node tree); NULL restores
 * malloc. libyaml's own allocations are not covered. Not thread-safe: tests
 * only. */
void cfg_set_alloc_hook(void *(*alloc)(size_t));

#endif
