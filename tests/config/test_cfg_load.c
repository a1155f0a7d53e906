/* config/: loading — defaults, every key into its field, anchors and merge
 * keys, the example files, cfg_check_file(), a guard-page buffer, and a
 * failing-allocation loop. */
#include "testutil/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/cfg.h"
#include "cfg_test.h"
#include "config/cfg_internal.h"
#include "core/err.h"

#define DATA     CFG_TEST_DATA
#define EXAMPLES H2B_SOURCE_DIR "/config/examples"

static struct cfg *load_ok(const char *yaml)
{
    struct cfg_errors errs;
    cfg_errors_init(&errs);
    struct cfg *c = NULL;
    int rc = cfg_load_buffer("t.yaml", yaml, strlen(yaml), &c, &errs);
    if (rc != 0)
        cfg_errors_print(&errs, stderr);
    assert_int_equal(rc, 0);
    assert_int_equal(errs.n, 0);
    cfg_errors_free(&errs);
    assert_non_null(c);
    return c;
}

static void test_defaults(void **state)
{
    struct cfg *c = cfg_new_defaults();
    assert_non_null(c);
    assert_int_equal(c->n_listeners, 0);
    assert_int_equal(c->n_upstreams, 0);
    assert_int_equal(c->n_routes, 0);
    assert_int_equal(c->http2.max_concurrent_streams, 100);
    assert_int_equal(c->http2.initial_window_size, 65535);
    assert_int_equal(c->http2.connection_window_size, 1 << 20);
    assert_int_equal(c->http2.max_frame_size, 16384);
    assert_int_equal(c->http2.header_table_size, 4096);
    assert_int_equal(c->http2.max_header_list_size, 65536);
    assert_int_equal(c->http2.priority_tracked_streams, 64);
    assert_int_equal(c->http2.flood.rst_stream_per_sec, 100);
    assert_int_equal(c->http2.flood.ping_per_sec, 50);
    assert_int_equal(c->http2.flood.settings_per_sec, 50);
    assert_int_equal(c->http2.flood.empty_frames_per_sec, 100);
    assert_int_equal(c->http2.flood.priority_per_sec, 500);
    assert_int_equal(c->http2.flood.window_update_per_sec, 1000);
    assert_int_equal(c->http2.flood.max_queued_control_frames, 1000);
    assert_int_equal(c->limits.stream_buffer_size, 65536);
    assert_int_equal(c->limits.request_buffer_size, 65536);
    assert_int_equal(c->limits.max_request_header_size, 65536);
    assert_int_equal(c->limits.max_response_header_size, 65536);
    assert_int_equal(c->limits.max_header_count, 100);
    assert_int_equal(c->limits.max_connections, 10000);
    assert_int_equal(c->limits.handshake_timeout_ms, 10000);
    assert_int_equal(c->limits.h2_idle_timeout_ms, 120000);
    assert_int_equal(c->limits.h1_keepalive_timeout_ms, 15000);
    assert_int_equal(c->limits.request_header_timeout_ms, 10000);
    assert_int_equal(c->limits.min_send_rate, 1024);
    assert_int_equal(c->limits.min_send_rate_window_ms, 10000);
    assert_int_equal(c->limits.shutdown_timeout_ms, 30000);
    assert_int_equal(c->logging.level, HB_LOG_INFO);
    assert_null(c->logging.access_log.s);
    assert_int_equal(c->logging.access_log_format, CFG_ACCESS_COMBINED);
    assert_null(c->logging.access_log_template.s);
    assert_int_equal(c->logging.access_log_buffer, 256 * 1024);
    assert_int_equal(c->logging.access_log_flush_ms, 1000);
    assert_int_equal(c->logging.access_log_line_max, 8192);
    assert_null(c->logging.error_log.s);
    assert_int_equal(c->logging.error_log_rate, 10);
    assert_false(c->admin.enabled);
    assert_string_equal(c->admin.address.s, "127.0.0.1");
    assert_int_equal(c->admin.port, 9901);
    assert_int_equal(c->admin.allow.n, 0);
    assert_int_equal(c->admin.max_connections, 16);
    assert_int_equal(c->admin.max_request_size, 8192);
    assert_int_equal(c->admin.request_timeout_ms, 5000);
    assert_int_equal(c->admin.worker_stall_timeout_ms, 5000);
    assert_true(c->request_id.enabled);
    assert_string_equal(c->request_id.header.s, "x-request-id");
    assert_int_equal(c->request_id.trust.n, 0);
    assert_int_equal(c->request_id.traceparent, CFG_TRACEPARENT_PASS);
    assert_int_equal(c->workers, 0);
    assert_true(c->forwarded.x_forwarded_for);
    assert_true(c->forwarded.x_forwarded_proto);
    assert_false(c->forwarded.forwarded);
    assert_false(c->forwarded.via);
    cfg_unref(c);
}

/* Every key, each set to something other than its default. */
static const char all_keys[] =
    "listeners:\n"
    "  - name: web\n" /* 2 */
    "    address: \"[::1]\"\n"
    "    port: 8443\n"
    "    protocols: [http/1.1]\n"
    "    max_connections: 7\n"
    "    backlog: 9\n"
    "    tls:\n"
    "      certificates:\n"
    "        - cert: @D@/cert.pem\n" /* 10 */
    "          key: @D@/key.pem\n"
    "          server_names: [Www.Example.COM, \"*.example.org\"]\n"
    "      min_version: TLSv1.3\n"
    "      ciphers: ECDHE-ECDSA-AES128-GCM-SHA256\n"
    "      ticket_key_file: @D@/key.pem\n"
    "      ticket_rotation: 2h\n"
    "http2:\n"
    "  max_concurrent_streams: 250\n"
    "  initial_window_size: 1MiB\n"
    "  connection_window_size: 16MiB\n" /* 20 */
    "  max_frame_size: 32KiB\n"
    "  header_table_size: 0\n"
    "  max_header_list_size: 32KB\n"
    "  rst_stream_per_second: 11\n"
    "  ping_per_second: 12\n"
    "  settings_per_second: 13\n"
    "  empty_frames_per_second: 14\n"
    "  priority_per_second: 15\n"
    "  window_update_per_second: 16\n"
    "  max_queued_control_frames: 17\n" /* 30 */
    "upstreams:\n"
    "  api:\n"
    "    servers:\n"
    "      - \"10.0.0.1:80\"\n"
    "      - {address: \"[fe80::1]:81\", weight: 5, max_connections: 50}\n"
    "      - {address: backend.local, port: 82}\n"
    "    balance: least_conn\n"
    "    connect_timeout: 250ms\n"
    "    read_timeout: 2m\n"
    "    idle_timeout: 90s\n" /* 40 */
    "    keepalive: 0\n"
    "    retries: 3\n"
    "routes:\n"
    "  - host: \"*.Example.com\"\n"
    "    path_prefix: /api/\n"
    "    rewrite_prefix: /v2/\n"
    "    upstream: api\n"
    "    request_headers:\n"
    "      set: {X-Env: prod, Host: internal}\n"
    "      add: {X-Trace: \"\"}\n" /* 50 */
    "      remove: [Cookie]\n"
    "    response_headers:\n"
    "      remove: [server, x-powered-by]\n"
    "  - {path: /exact, upstream: api}\n"
    "limits:\n"
    "  stream_buffer_size: 128KiB\n"
    "  request_buffer_size: 32KiB\n"
    "  max_request_header_size: 16KiB\n"
    "  max_response_header_size: 1MiB\n"
    "  max_header_count: 50\n" /* 60 */
    "  max_connections: 20000\n"
    "  handshake_timeout: 5s\n"
    "  h2_idle_timeout: 1h\n"
    "  h1_keepalive_timeout: 1500\n"
    "  request_header_timeout: 30s\n"
    "  min_send_rate: 0\n"
    "  min_send_rate_window: 20s\n"
    "  shutdown_timeout: 0\n"
    "logging:\n"
    "  level: DEBUG\n" /* 70 */
    "  access_log: /var/log/h2b.log\n"
    "  access_log_format: json\n"
    "admin:\n"
    "  address: \"0.0.0.0\"\n"
    "  port: 9000\n"
    "  allow: [127.0.0.0/8, \"2001:db8::/32\"]\n"
    "workers: 4\n"
    "forwarded: {x_forwarded_for: off, x_forwarded_proto: no, forwarded: yes, via: On}\n"
    "request_id: {enabled: yes, header: X-Correlation-ID, trust: [10.0.0.0/8, \"::1\"],\n"
    "             traceparent: generate}\n";

static void check_listener_keys(const struct cfg *c)
{
    assert_int_equal(c->n_listeners, 1);
    const struct cfg_listener *l = &c->listeners[0];
    assert_string_equal(l->name.s, "web");
    assert_int_equal(l->name.mark.line, 2);
    assert_int_equal(l->name.mark.col, 11);
    assert_string_equal(l->address.s, "::1");
    assert_int_equal(l->port, 8443);
    assert_int_equal(l->protocols, CFG_PROTO_HTTP11);
    assert_int_equal(l->max_connections, 7);
    assert_int_equal(l->backlog, 9);
    assert_true(l->tls);
    const struct cfg_tls *t = &l->tls_cfg;
    assert_int_equal(t->n_certs, 1);
    assert_string_equal(t->certs[0].cert.s, DATA "/cert.pem");
    assert_int_equal(t->certs[0].cert.mark.line, 10);
    assert_int_equal(t->certs[0].cert.mark.col, 17);
    assert_string_equal(t->certs[0].key.s, DATA "/key.pem");
    assert_int_equal(t->certs[0].key.mark.line, 11);
    assert_int_equal(t->certs[0].key.mark.col, 16);
    assert_string_equal(t->certs[0].key.mark.file, "t.yaml");
    assert_int_equal(t->certs[0].n_server_names, 2);
    assert_string_equal(t->certs[0].server_names[0].s, "www.example.com");
    assert_string_equal(t->certs[0].server_names[1].s, "*.example.org");
    assert_int_equal(t->min_version, CFG_TLS_1_3);
    assert_string_equal(t->ciphers.s, "ECDHE-ECDSA-AES128-GCM-SHA256");
    assert_string_equal(t->ticket_key_file.s, DATA "/key.pem");
    assert_int_equal(t->ticket_rotation_ms, 7200000);
}

static void check_http2_keys(const struct cfg *c)
{
    assert_int_equal(c->http2.max_concurrent_streams, 250);
    assert_int_equal(c->http2.initial_window_size, 1 << 20);
    assert_int_equal(c->http2.connection_window_size, 16 << 20);
    assert_int_equal(c->http2.max_frame_size, 32768);
    assert_int_equal(c->http2.header_table_size, 0);
    assert_int_equal(c->http2.max_header_list_size, 32000);
    assert_int_equal(c->http2.flood.rst_stream_per_sec, 11);
    assert_int_equal(c->http2.flood.ping_per_sec, 12);
    assert_int_equal(c->http2.flood.settings_per_sec, 13);
    assert_int_equal(c->http2.flood.empty_frames_per_sec, 14);
    assert_int_equal(c->http2.flood.priority_per_sec, 15);
    assert_int_equal(c->http2.flood.window_update_per_sec, 16);
    assert_int_equal(c->http2.flood.max_queued_control_frames, 17);
}

static void check_upstream_keys(const struct cfg *c)
{
    assert_int_equal(c->n_upstreams, 1);
    const struct cfg_upstream *u = &c->upstreams[0];
    assert_ptr_equal(cfg_find_upstream(c, "api"), u);
    assert_null(cfg_find_upstream(c, "API"));
    assert_int_equal(u->n_servers, 3);
    assert_string_equal(u->servers[0].address.s, "10.0.0.1");
    assert_int_equal(u->servers[0].port, 80);
    assert_int_equal(u->servers[0].weight, 1);
    assert_int_equal(u->servers[0].max_connections, CFG_SERVER_MAX_CONNECTIONS);
    assert_int_equal(u->servers[0].mark.line, 34);
    assert_string_equal(u->servers[1].address.s, "fe80::1");
    assert_int_equal(u->servers[1].port, 81);
    assert_int_equal(u->servers[1].weight, 5);
    assert_int_equal(u->servers[1].max_connections, 50);
    assert_string_equal(u->servers[2].address.s, "backend.local");
    assert_int_equal(u->servers[2].port, 82);
    assert_string_equal(u->balance.s, "least_conn");
    assert_int_equal(u->connect_timeout_ms, 250);
    assert_int_equal(u->read_timeout_ms, 120000);
    assert_int_equal(u->idle_timeout_ms, 90000);
    assert_int_equal(u->keepalive, 0);
    assert_int_equal(u->retries, 3);
}

static void check_route_keys(const struct cfg *c)
{
    assert_int_equal(c->n_routes, 2);
    const struct cfg_route *r = &c->routes[0];
    assert_string_equal(r->host.s, "*.example.com");
    assert_true(r->host_wildcard);
    assert_int_equal(r->path_match, CFG_PATH_PREFIX);
    assert_string_equal(r->path.s, "/api/");
    assert_string_equal(r->rewrite_prefix.s, "/v2/");
    assert_string_equal(r->upstream.s, "api");
    assert_int_equal(r->upstream_index, 0);
    assert_int_equal(r->request_headers.n_set, 2);
    assert_string_equal(r->request_headers.set[0].name.s, "x-env");
    assert_string_equal(r->request_headers.set[0].value.s, "prod");
    assert_string_equal(r->request_headers.set[1].name.s, "host");
    assert_string_equal(r->request_headers.set[1].value.s, "internal");
    assert_int_equal(r->request_headers.n_add, 1);
    assert_string_equal(r->request_headers.add[0].name.s, "x-trace");
    assert_string_equal(r->request_headers.add[0].value.s, "");
    assert_int_equal(r->request_headers.n_remove, 1);
    assert_string_equal(r->request_headers.remove[0].name.s, "cookie");
    assert_null(r->request_headers.remove[0].value.s);
    assert_int_equal(r->response_headers.n_set, 0);
    assert_int_equal(r->response_headers.n_remove, 2);
    assert_string_equal(r->response_headers.remove[1].name.s, "x-powered-by");
    assert_int_equal(c->routes[1].path_match, CFG_PATH_EXACT);
    assert_string_equal(c->routes[1].path.s, "/exact");
}

static void check_other_keys(const struct cfg *c)
{
    assert_int_equal(c->limits.stream_buffer_size, 131072);
    assert_int_equal(c->limits.request_buffer_size, 32768);
    assert_int_equal(c->limits.max_request_header_size, 16384);
    assert_int_equal(c->limits.max_response_header_size, 1 << 20);
    assert_int_equal(c->limits.max_header_count, 50);
    assert_int_equal(c->limits.max_connections, 20000);
    assert_int_equal(c->limits.handshake_timeout_ms, 5000);
    assert_int_equal(c->limits.h2_idle_timeout_ms, 3600000);
    assert_int_equal(c->limits.h1_keepalive_timeout_ms, 1500);
    assert_int_equal(c->limits.request_header_timeout_ms, 30000);
    assert_int_equal(c->limits.min_send_rate, 0);
    assert_int_equal(c->limits.min_send_rate_window_ms, 20000);
    assert_int_equal(c->limits.shutdown_timeout_ms, 0);
    assert_int_equal(c->logging.level, HB_LOG_DEBUG);
    assert_string_equal(c->logging.access_log.s, "/var/log/h2b.log");
    assert_int_equal(c->logging.access_log_format, CFG_ACCESS_JSON);
    assert_true(c->admin.enabled);
    assert_string_equal(c->admin.address.s, "0.0.0.0");
    assert_int_equal(c->admin.port, 9000);
    char net[64];
    assert_int_equal(c->admin.allow.n, 2);
    assert_string_equal(hb_cidr_format(&c->admin.allow.v[0], net, sizeof net), "127.0.0.0/8");
    assert_string_equal(hb_cidr_format(&c->admin.allow.v[1], net, sizeof net), "2001:db8::/32");
    assert_true(c->request_id.enabled);
    assert_string_equal(c->request_id.header.s, "x-correlation-id");
    assert_int_equal(c->request_id.trust.n, 2);
    assert_string_equal(hb_cidr_format(&c->request_id.trust.v[1], net, sizeof net), "::1/128");
    assert_int_equal(c->request_id.traceparent, CFG_TRACEPARENT_GENERATE);
    assert_int_equal(c->workers, 4);
    assert_false(c->forwarded.x_forwarded_for);
    assert_false(c->forwarded.x_forwarded_proto);
    assert_true(c->forwarded.forwarded);
    assert_true(c->forwarded.via);
}

static void test_every_key(void **state)
{
    char *yaml = cfg_test_subst(all_keys);
    struct cfg *c = load_ok(yaml);
    check_listener_keys(c);
    check_http2_keys(c);
    check_upstream_keys(c);
    check_route_keys(c);
    check_other_keys(c);
    cfg_unref(c);
    free(yaml);
}

/* listeners[].proxy_protocol: none by default, networks when given. */
static void test_proxy_protocol_networks(void **state)
{
    (void)state;
    struct cfg *c = load_ok("listeners:\n"
                            "  - {address: \"127.0.0.1:1\"}\n"
                            "  - {address: \"127.0.0.1:2\", proxy_protocol: [10.0.0.0/8, \"fd00::/8\"]}\n"
                            "upstreams: {u: {servers: [\"127.0.0.1:3\"]}}\n"
                            "routes: [{upstream: u}]\n");
    char net[64];
    assert_int_equal(c->listeners[0].proxy_protocol.n, 0);
    assert_int_equal(c->listeners[1].proxy_protocol.n, 2);
    assert_string_equal(hb_cidr_format(&c->listeners[1].proxy_protocol.v[1], net, sizeof net),
                        "fd00::/8");
    cfg_unref(c);
}

/* user and group: strings with their marks; none by default. */
static void test_user_group(void **state)
{
    (void)state;
    struct cfg *c = load_ok("listeners: [{address: \":1\"}]\n"
                            "upstreams: {u: {servers: [\"127.0.0.1:3\"]}}\n"
                            "routes: [{upstream: u}]\n"
                            "user: h2bridge\ngroup: www-data\n");
    assert_string_equal(c->user.s, "h2bridge");
    assert_int_equal(c->user.mark.line, 4);
    assert_string_equal(c->group.s, "www-data");
    cfg_unref(c);
    c = load_ok("listeners: [{address: \":1\"}]\n"
                "upstreams: {u: {servers: [\"127.0.0.1:3\"]}}\nroutes: [{upstream: u}]\n");
    assert_null(c->user.s);
    assert_null(c->group.s);
    cfg_unref(c);
}

/* http2.priority_tracked_streams: both ends of its range are taken. */
static void test_priority_tracked_streams(void **state)
{
    (void)state;
    static const char *const vals[] = {"0", "10000"};
    for (int i = 0; i < 2; i++) {
        char yaml[256];
        snprintf(yaml, sizeof yaml,
                 "listeners: [{address: \":1\"}]\n"
                 "upstreams: {u: {servers: [\"127.0.0.1:3\"]}}\nroutes: [{upstream: u}]\n"
                 "http2: {priority_tracked_streams: %s}\n",
                 vals[i]);
        struct cfg *c = load_ok(yaml);
        assert_int_equal(c->http2.priority_tracked_streams, i ? 10000 : 0);
        cfg_unref(c);
    }
}

/* listeners[].tcp_notsent_lowat: 0 (the kernel's own) unless set; a size. */
static void test_notsent_lowat(void **state)
{
    (void)state;
    struct cfg *c = load_ok("listeners:\n"
                            "  - {address: \":1\"}\n"
                            "  - {address: \":2\", tcp_notsent_lowat: 16KiB}\n"
                            "  - {address: \":3\", tcp_notsent_lowat: 0}\n"
                            "upstreams: {u: {servers: [\"127.0.0.1:3\"]}}\nroutes: [{upstream: u}]\n");
    assert_int_equal(c->listeners[0].notsent_lowat, 0);
    assert_int_equal(c->listeners[1].notsent_lowat, 16384);
    assert_int_equal(c->listeners[2].notsent_lowat, 0);
    cfg_unref(c);
}

/* listeners[].tls record sizing: defaults, and both keys set. */
static void test_tls_small_records(void **state)
{
    (void)state;
    struct cfg *c = load_ok("listeners:\n"
                            "  - address: \"127.0.0.1:8443\"\n"
                            "    tls: {certificates: [{cert: " DATA "/cert.pem, key: " DATA
                            "/key.pem}]}\n"
                            "  - address: \"127.0.0.1:8444\"\n"
                            "    tls:\n"
                            "      certificates: [{cert: " DATA "/cert.pem, key: " DATA "/key.pem}]\n"
                            "      small_records: 0\n"
                            "      small_records_idle: 250ms\n"
                            "upstreams:\n"
                            "  u: {servers: [\"127.0.0.1:9000\"]}\n");
    assert_int_equal(c->n_listeners, 2);
    assert_int_equal(c->listeners[0].tls_cfg.small_records, 65536);
    assert_int_equal(c->listeners[0].tls_cfg.small_records_idle_ms, 1000);
    assert_int_equal(c->listeners[1].tls_cfg.small_records, 0);
    assert_int_equal(c->listeners[1].tls_cfg.small_records_idle_ms, 250);
    cfg_unref(c);
}

/* listeners[].tls early_data, ocsp_check_interval and certificates[].ocsp_file:
 * defaults (off, 60 s, none) and set. */
static void test_tls_early_data_ocsp(void **state)
{
    (void)state;
    struct cfg *c = load_ok("listeners:\n"
                            "  - address: \"127.0.0.1:8443\"\n"
                            "    tls: {certificates: [{cert: " DATA "/cert.pem, key: " DATA
                            "/key.pem}]}\n"
                            "  - address: \"127.0.0.1:8444\"\n"
                            "    tls:\n"
                            "      certificates: [{cert: " DATA "/cert.pem, key: " DATA
                            "/key.pem, ocsp_file: " DATA "/cert.pem}]\n"
                            "      early_data: true\n"
                            "      ocsp_check_interval: 5m\n"
                            "upstreams:\n"
                            "  u: {servers: [\"127.0.0.1:9000\"]}\n");
    assert_int_equal(c->n_listeners, 2);
    assert_false(c->listeners[0].tls_cfg.early_data);
    assert_int_equal(c->listeners[0].tls_cfg.ocsp_check_ms, 60000);
    assert_null(c->listeners[0].tls_cfg.certs[0].ocsp_file.s);
    assert_true(c->listeners[1].tls_cfg.early_data);
    assert_int_equal(c->listeners[1].tls_cfg.ocsp_check_ms, 300000);
    assert_non_null(strstr(c->listeners[1].tls_cfg.certs[0].ocsp_file.s, "cert.pem"));
    cfg_unref(c);
}

/* admin: the admin listener's limits (proxy/admin/admin.h). */
static void test_admin_limits(void **state)
{
    (void)state;
    struct cfg *c = load_ok("listeners:\n"
                            "  - address: \"127.0.0.1:8080\"\n"
                            "upstreams:\n"
                            "  u: {servers: [\"127.0.0.1:9000\"]}\n"
                            "admin:\n"
                            "  address: \"127.0.0.1:9901\"\n"
                            "  max_connections: 4\n"
                            "  max_request_size: 2KiB\n"
                            "  request_timeout: 750ms\n"
                            "  worker_stall_timeout: 3s\n");
    assert_true(c->admin.enabled);
    assert_int_equal(c->admin.max_connections, 4);
    assert_int_equal(c->admin.max_request_size, 2048);
    assert_int_equal(c->admin.request_timeout_ms, 750);
    assert_int_equal(c->admin.worker_stall_timeout_ms, 3000);
    cfg_unref(c);
}

static void test_anchors_and_merge(void **state)
{
    struct cfg *c = load_ok("x-port: &port 8080\n"
                            "x-base: &base {connect_timeout: 1s, read_timeout: 2s, retries: 2}\n"
                            "x-more: &more {read_timeout: 3s, keepalive: 5, retries: 4}\n"
                            "x-servers: &servers [\"h:1\", \"h:2\"]\n"
                            "listeners:\n"
                            "  - &l {address: 127.0.0.1, port: *port}\n"
                            "  - {<<: *l, address: \"::\"}\n"
                            "upstreams:\n"
                            "  a: {<<: *base, servers: *servers}\n"
                            "  b: {<<: [*more, *base], servers: *servers, retries: 9}\n"
                            "  c:\n"
                            "    <<: *base\n"
                            "    <<: *more\n"
                            "    servers: *servers\n");
    assert_int_equal(c->n_listeners, 2);
    assert_int_equal(c->listeners[0].port, 8080);
    assert_int_equal(c->listeners[1].port, 8080);
    assert_string_equal(c->listeners[1].address.s, "::");
    const struct cfg_upstream *a = cfg_find_upstream(c, "a");
    const struct cfg_upstream *b = cfg_find_upstream(c, "b");
    const struct cfg_upstream *u3 = cfg_find_upstream(c, "c");
    assert_int_equal(a->connect_timeout_ms, 1000);
    assert_int_equal(a->read_timeout_ms, 2000);
    assert_int_equal(a->n_servers, 2);
    /* In a list of merged mappings the earlier one wins; explicit keys win. */
    assert_int_equal(b->read_timeout_ms, 3000);
    assert_int_equal(b->connect_timeout_ms, 1000);
    assert_int_equal(b->keepalive, 5);
    assert_int_equal(b->retries, 9);
    /* Two merge keys in one mapping: the first one wins, as in a list. */
    assert_int_equal(u3->read_timeout_ms, 2000);
    assert_int_equal(u3->keepalive, 5);
    assert_int_equal(u3->retries, 2);
    assert_int_equal(b->servers[1].port, 2);
    cfg_unref(c);
}

static void test_relative_paths(void **state)
{
    struct cfg_errors errs;
    cfg_errors_init(&errs);
    struct cfg *c = NULL;
    assert_int_equal(cfg_load_file(EXAMPLES "/minimal.yaml", &c, &errs), 0);
    assert_string_equal(c->listeners[0].tls_cfg.certs[0].cert.s, EXAMPLES "/certs/localhost.crt");
    assert_string_equal(c->listeners[0].tls_cfg.certs[0].cert.mark.file, EXAMPLES "/minimal.yaml");
    assert_int_equal(c->listeners[0].protocols, CFG_PROTO_H2 | CFG_PROTO_HTTP11);
    cfg_unref(c);
    c = load_ok("listeners: [{address: \":80\"}]\nlogging: {access_log: \"-\"}\n");
    assert_string_equal(c->logging.access_log.s, "-");
    cfg_unref(c);
    /* The template and the error log; the template's mark is its first
     * character when the text maps 1:1 onto the line (proxy/obs/alog.c). */
    c = load_ok("listeners: [{address: \":80\"}]\n"
                "logging:\n"
                "  access_log: a.log\n"
                "  access_log_format: template\n"
                "  access_log_template: \"${status} x\"\n"
                "  access_log_buffer: 1MiB\n"
                "  access_log_flush: 250ms\n"
                "  access_log_line_max: 2KiB\n"
                "  error_log: stderr\n"
                "  error_log_rate: 0\n");
    assert_int_equal(c->logging.access_log_format, CFG_ACCESS_TEMPLATE);
    assert_string_equal(c->logging.access_log_template.s, "${status} x");
    assert_true(c->logging.access_log_template_exact);
    assert_int_equal(c->logging.access_log_template.mark.line, 5);
    assert_int_equal(c->logging.access_log_template.mark.col, 25);
    assert_int_equal(c->logging.access_log_buffer, 1 << 20);
    assert_int_equal(c->logging.access_log_flush_ms, 250);
    assert_int_equal(c->logging.access_log_line_max, 2048);
    assert_null(c->logging.error_log.s);
    assert_int_equal(c->logging.error_log_rate, 0);
    cfg_unref(c);
    c = load_ok("listeners: [{address: \":80\"}]\n"
                "logging: {error_log: \"-\", access_log_format: template,\n"
                "  access_log_template: \"a \\\" ${x}\"}\n");
    assert_string_equal(c->logging.error_log.s, "-");
    assert_false(c->logging.access_log_template_exact); /* an escape: columns differ */
    assert_string_equal(c->listeners[0].address.s, "0.0.0.0");
    assert_int_equal(c->listeners[0].protocols, CFG_PROTO_H2C | CFG_PROTO_HTTP11);
    cfg_unref(c);
    cfg_errors_free(&errs);
}

static const struct cfg_route *match(const struct cfg *c, const char *host, const char *path)
{
    return cfg_route_match(c, host, host ? strlen(host) : 0, path, strlen(path));
}

static void test_examples(void **state)
{
    static const char *const files[] = {"demo.yaml", "minimal.yaml", "multi-host.yaml",
                                        "access-log.yaml"};
    for (size_t i = 0; i < 4; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", EXAMPLES, files[i]);
        struct cfg_errors errs;
        cfg_errors_init(&errs);
        struct cfg *c = NULL;
        int rc = cfg_load_file(path, &c, &errs);
        cfg_errors_print(&errs, stderr);
        assert_int_equal(rc, 0);
        assert_true(c->n_listeners >= 1 && c->n_routes >= 1 && c->n_upstreams >= 1);
        if (i == 3) {
            assert_int_equal(c->logging.access_log_format, CFG_ACCESS_JSON);
            assert_string_equal(c->logging.error_log.s, "/tmp/h2bridge-error.log");
        }
        if (i == 2) {
            const struct cfg_tls *t = &c->listeners[0].tls_cfg;
            assert_int_equal(t->n_certs, 2);
            assert_string_equal(t->certs[1].server_names[1].s, "*.b.example.test");
            assert_string_equal(match(c, "a.example.test", "/api/x")->upstream.s, "a-api");
            assert_string_equal(match(c, "a.example.test", "/apix")->upstream.s, "a-web");
            assert_string_equal(match(c, "b.example.test", "/api/?q")->upstream.s, "b-api");
            assert_string_equal(match(c, "x.b.example.test", "/api/")->upstream.s, "b-web");
            assert_string_equal(match(c, "other", "/healthz?x=1")->upstream.s, "a-web");
            assert_null(match(c, "other", "/healthz/"));
            assert_null(match(c, NULL, "/"));
            assert_int_equal(cfg_find_upstream(c, "b-api")->servers[0].weight, 2);
            assert_int_equal(cfg_find_upstream(c, "b-api")->retries, 2);
            assert_true(c->admin.enabled);
            assert_int_equal(c->admin.port, 9901);
            assert_int_equal(c->admin.allow.n, 2);
            assert_int_equal(c->admin.worker_stall_timeout_ms, 5000);
        }
        cfg_unref(c);
        cfg_errors_free(&errs);
    }
}

static char *check_output(const char *path, int *status)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_non_null(out);
    *status = cfg_check_file(path, out);
    fclose(out);
    return buf;
}

static void test_check_file(void **state)
{
    int status;
    char *s = check_output(EXAMPLES "/demo.yaml", &status);
    assert_int_equal(status, 0);
    assert_string_equal(s, "configuration OK\n");
    free(s);

    char path[] = "/tmp/h2b-cfg-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char bad[] = "listeners:\n  - address: \":80\"\n    prot: 1\nworkers: x\n";
    assert_int_equal(write(fd, bad, sizeof bad - 1), (ssize_t)(sizeof bad - 1));
    close(fd);
    s = check_output(path, &status);
    char want[1024];
    snprintf(
        want, sizeof want,
        "%s:3:5: expected a known key in listeners[0] (did you mean \"port\"?), found \"prot\"\n"
        "%s:4:10: expected an integer from 0 to 1024 for workers, found \"x\"\n",
        path, path);
    assert_int_equal(status, 1);
    assert_string_equal(s, want);
    free(s);
    unlink(path);

    /* The example of docs/configuration.md, word for word. */
    s = check_output(DATA "/broken.yaml", &status);
    assert_int_equal(status, 1);
    assert_string_equal(
        s, DATA "/broken.yaml:3:5: expected a known key in listeners[0] (did you mean \"port\"?), "
                "found \"prot\"\n" DATA
                "/broken.yaml:9:15: expected the name of a defined upstream (did you mean "
                "\"api\"?), found \"apx\"\n" DATA
                "/broken.yaml:11:22: expected a duration from 100ms to 10m (like \"250ms\", "
                "\"5s\", \"1m\") for limits.handshake_timeout, found \"5x\"\n");
    free(s);
}

/* The loader reads exactly len bytes: a buffer ending at a guard page
 * faults on any over-read. */
static void test_guard_page(void **state)
{
    size_t len;
    char *text = tu_read_file(EXAMPLES "/multi-host.yaml", &len);
    assert_non_null(text);
    /* Relative paths resolve next to the name given. */
    uint8_t *g = tu_guard_copy(text, len);
    struct cfg_errors errs;
    cfg_errors_init(&errs);
    struct cfg *c = NULL;
    assert_int_equal(cfg_load_buffer(EXAMPLES "/multi-host.yaml", g, len, &c, &errs), 0);
    cfg_unref(c);
    /* Every prefix too (a file cut short): each either loads or reports
     * errors, and never reads past its end. */
    for (size_t n = 0; n < len; n++) {
        uint8_t *p = tu_guard_copy(text, n);
        if (cfg_load_buffer("cut.yaml", p, n, &c, &errs) == 0)
            cfg_unref(c);
        cfg_errors_free(&errs);
        tu_guard_free(p, n);
    }
    tu_guard_free(g, len);
    free(text);
    cfg_errors_free(&errs);
}

/* ---- failing allocations ---------------------------------------------------- */

static long alloc_budget = -1;

static void *failing_alloc(size_t n)
{
    if (alloc_budget == 0)
        return NULL;
    if (alloc_budget > 0)
        alloc_budget--;
    return malloc(n);
}

/* Fails the 1st, 2nd, ... allocation of a load in turn: each run ends in
 * HB_ENOMEM (or, when an error was recorded before, its errors), never a
 * crash or a leak; the loop ends when a run needs no more than allowed. */
static long fail_loop(const char *name, const char *yaml, int final_rc, size_t final_errors)
{
    cfg_set_alloc_hook(failing_alloc);
    long n = 0;
    for (;; n++) {
        struct cfg_errors errs;
        cfg_errors_init(&errs);
        struct cfg *c = NULL;
        alloc_budget = n;
        int rc = cfg_load_buffer(name, yaml, strlen(yaml), &c, &errs);
        bool exhausted = alloc_budget == 0;
        cfg_unref(c);
        cfg_errors_free(&errs);
        if (rc == HB_ENOMEM) {
            assert_true(exhausted);
            continue;
        }
        assert_int_equal(rc, final_rc);
        if (!exhausted) {
            struct cfg_errors again;
            cfg_errors_init(&again);
            alloc_budget = -1;
            assert_int_equal(cfg_load_buffer(name, yaml, strlen(yaml), &c, &again), final_rc);
            assert_int_equal(again.n, final_errors);
            cfg_unref(c);
            cfg_errors_free(&again);
            break;
        }
    }
    alloc_budget = -1;
    cfg_set_alloc_hook(NULL);
    return n;
}

static void test_failing_allocations(void **state)
{
    size_t len;
    char *demo = tu_read_file(EXAMPLES "/demo.yaml", &len);
    assert_non_null(demo);
    /* With 16-byte chunks nearly every allocation of the pool is a malloc. */
    cfg_mem_set_chunk_size(16);
    long sites = fail_loop(EXAMPLES "/demo.yaml", demo, 0, 0);
    print_message("demo.yaml: %ld allocation sites failed in turn\n", sites);
    assert_true(sites > 200);
    free(demo);
    sites = fail_loop("bad.yaml",
                      "listeners: [{address: \":1\", prot: 1}]\nworkers: x\nroutes: [{upstream: "
                      "u}]\n",
                      HB_EINVAL, 3);
    assert_true(sites > 50);
    cfg_mem_set_chunk_size(0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),          cmocka_unit_test(test_every_key),
        cmocka_unit_test(test_tls_small_records), cmocka_unit_test(test_tls_early_data_ocsp),
        cmocka_unit_test(test_admin_limits),
        cmocka_unit_test(test_priority_tracked_streams),
        cmocka_unit_test(test_notsent_lowat),
        cmocka_unit_test(test_anchors_and_merge), cmocka_unit_test(test_relative_paths),
        cmocka_unit_test(test_proxy_protocol_networks),
        cmocka_unit_test(test_user_group),
        cmocka_unit_test(test_examples),          cmocka_unit_test(test_check_file),
        cmocka_unit_test(test_guard_page),        cmocka_unit_test(test_failing_allocations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
