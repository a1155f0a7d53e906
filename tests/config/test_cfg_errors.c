/* config/: every error class, with its exact message, line and column.
 *
 * Each case is a YAML document (BASE, 4 valid lines, then the case's lines
 * from line 5) and the exact list of errors cfg_load_buffer() must report,
 * in order. "@D@" stands for tests/config/data. */
#include "testutil/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfg.h"
#include "cfg_test.h"
#include "core/err.h"

#define DATA CFG_TEST_DATA

#define BASE                                                                                       \
    "listeners:\n"                                                                                 \
    "  - address: \"127.0.0.1:8080\"\n"                                                            \
    "upstreams:\n"                                                                                 \
    "  u: {servers: [\"127.0.0.1:9000\"]}\n"

struct ecase {
    const char *name;
    const char *yaml;
    const char *want[8];
};

/* Replaces every "@D@" with DATA; the result is malloc'd. */

static bool run_case(const struct ecase *ec)
{
    char *yaml = cfg_test_subst(ec->yaml);
    struct cfg_errors errs;
    cfg_errors_init(&errs);
    struct cfg *c = NULL;
    int rc = cfg_load_buffer("t.yaml", yaml, strlen(yaml), &c, &errs);
    char buf[1536];
    size_t nwant = 0;
    while (nwant < 8 && ec->want[nwant])
        nwant++;
    bool ok = rc == HB_EINVAL && c == NULL && errs.n == nwant;
    for (size_t i = 0; ok && i < nwant; i++) {
        char *w = cfg_test_subst(ec->want[i]);
        ok = strcmp(cfg_error_format(&errs.v[i], buf, sizeof buf), w) == 0;
        free(w);
    }
    if (!ok) {
        print_error("case %s: rc=%d, %zu errors (want %zu):\n", ec->name, rc, errs.n, nwant);
        for (size_t i = 0; i < errs.n; i++)
            print_error("  got:  %s\n", cfg_error_format(&errs.v[i], buf, sizeof buf));
        for (size_t i = 0; i < nwant; i++)
            print_error("  want: %s\n", ec->want[i]);
    }
    cfg_errors_free(&errs);
    cfg_unref(c);
    free(yaml);
    return ok;
}

/* Runs every case (so one run shows every mismatch), then fails if any did. */
static void run_cases(const struct ecase *cases, size_t n)
{
    bool ok = true;
    for (size_t i = 0; i < n; i++)
        ok &= run_case(&cases[i]);
    assert_true(ok);
}

#define RUN(cases) run_cases(cases, sizeof cases / sizeof cases[0])

static const struct ecase yaml_cases[] = {
    {"syntax",
     BASE "http2:\n  max_frame_size: [1\n",
     {"t.yaml:7:1: expected valid YAML, found a syntax error: did not find expected ',' or ']' "
      "(while parsing a flow sequence at 6:19)",
      NULL}},
    {"tab",
     BASE "http2:\n\tmax_frame_size: 1\n",
     {"t.yaml:6:1: expected valid YAML, found a syntax error: found character that cannot start "
      "any token (while scanning for the next token at 6:1)",
      NULL}},
    {"second document",
     BASE "---\nworkers: 1\n",
     {"t.yaml:5:1: expected a single YAML document, found a second one", NULL}},
    {"undefined alias",
     BASE "workers: *nope\n",
     {"t.yaml:5:10: expected an alias of a defined anchor, found *nope", NULL}},
    {"complex key",
     BASE "? [a, b]\n: 1\n",
     {"t.yaml:5:3: expected a scalar mapping key, found a sequence", NULL}},
    {"deep",
     BASE "x-deep: "
          "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]"
          "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
     {"t.yaml:5:72: expected at most 64 levels of nesting, found more", NULL}},
    {"bad utf8",
     BASE "workers: \"\xff\"\n",
     {"t.yaml:5:11: expected valid YAML, found a syntax error: invalid leading UTF-8 octet", NULL}},
};

static const struct ecase key_cases[] = {
    {"unknown top-level, suggestion",
     BASE "htpp2: {}\n",
     {"t.yaml:5:1: expected a known key in the top level (did you mean \"http2\"?), found "
      "\"htpp2\"",
      NULL}},
    {"unknown top-level, list",
     BASE "frobnicate: 1\n",
     {"t.yaml:5:1: expected a known key in the top level (one of: listeners, http2, upstreams, "
      "routes, limits, logging, admin, workers, user, group, forwarded, request_id, tunnels, "
      "clients, resolver), found \"frobnicate\"",
      NULL}},
    {"unknown nested",
     BASE "limits:\n  handshake_timout: 1s\n",
     {"t.yaml:6:3: expected a known key in limits (did you mean \"handshake_timeout\"?), found "
      "\"handshake_timout\"",
      NULL}},
    {"repeated key",
     BASE "workers: 1\nworkers: 2\n",
     {"t.yaml:6:1: expected each key once in the top level, found \"workers\" again (first at 5:1)",
      NULL}},
    {"section not a mapping",
     BASE "http2: [1]\n",
     {"t.yaml:5:8: expected a mapping for http2, found a sequence", NULL}},
    {"top not a mapping",
     "- 1\n",
     {"t.yaml: expected at least one listener (listeners: in the file or a listen flag), found "
      "none",
      "t.yaml:1:1: expected a mapping of configuration sections, found a sequence", NULL}},
    {"listeners not a sequence",
     "listeners: {a: 1}\n",
     {"t.yaml: expected at least one listener (listeners: in the file or a listen flag), found "
      "none",
      "t.yaml:1:12: expected a sequence of listeners for listeners, found a mapping", NULL}},
    {"string expected",
     BASE "logging:\n  access_log: [a]\n",
     {"t.yaml:6:15: expected a non-empty string for logging.access_log, found a sequence", NULL}},
    {"bool expected",
     BASE "forwarded:\n  via: maybe\n",
     {"t.yaml:6:8: expected a boolean (true or false) for forwarded.via, found \"maybe\"", NULL}},
    {"integer expected",
     BASE "workers: two\n",
     {"t.yaml:5:10: expected an integer from 0 to 1024 for workers, found \"two\"", NULL}},
    {"null value",
     BASE "workers:\n",
     {"t.yaml:5:9: expected an integer from 0 to 1024 for workers, found null", NULL}},
    {"merge of a scalar",
     BASE "limits:\n  <<: 5\n",
     {"t.yaml:6:7: expected a mapping or a sequence of mappings to merge (\"<<: *anchor\") for "
      "limits, found \"5\"",
      NULL}},
};

static const struct ecase range_cases[] = {
    {"integer too big",
     BASE "http2:\n  max_concurrent_streams: 100001\n",
     {"t.yaml:6:27: expected an integer from 1 to 100000 for http2.max_concurrent_streams, found "
      "\"100001\"",
      NULL}},
    {"priority_tracked_streams over its bound",
     BASE "http2:\n  priority_tracked_streams: 10001\n",
     {"t.yaml:6:29: expected an integer from 0 to 10000 for http2.priority_tracked_streams, found "
      "\"10001\"",
      NULL}},
    {"integer zero",
     BASE "http2:\n  max_concurrent_streams: 0\n",
     {"t.yaml:6:27: expected an integer from 1 to 100000 for http2.max_concurrent_streams, found "
      "\"0\"",
      NULL}},
    {"integer overflow",
     BASE "workers: 99999999999999999999999\n",
     {"t.yaml:5:10: expected an integer from 0 to 1024 for workers, found "
      "\"99999999999999999999999\"",
      NULL}},
    {"size below",
     BASE "http2:\n  max_frame_size: 16383\n",
     {"t.yaml:6:19: expected a size from 16KiB to 16777215 (like \"16KiB\", \"1MiB\") for "
      "http2.max_frame_size, found \"16383\"",
      NULL}},
    {"size above",
     BASE "http2:\n  max_frame_size: 16MiB\n",
     {"t.yaml:6:19: expected a size from 16KiB to 16777215 (like \"16KiB\", \"1MiB\") for "
      "http2.max_frame_size, found \"16MiB\"",
      NULL}},
    {"size unit",
     BASE "limits:\n  stream_buffer_size: 64kb\n",
     {"t.yaml:6:23: expected a size from 1KiB to 64MiB (like \"16KiB\", \"1MiB\") for "
      "limits.stream_buffer_size, found \"64kb\"",
      NULL}},
    {"size overflow",
     BASE "limits:\n  stream_buffer_size: 5GiB\n",
     {"t.yaml:6:23: expected a size from 1KiB to 64MiB (like \"16KiB\", \"1MiB\") for "
      "limits.stream_buffer_size, found \"5GiB\"",
      NULL}},
    {"duration unit",
     BASE "limits:\n  handshake_timeout: 5 s\n",
     {"t.yaml:6:22: expected a duration from 100ms to 10m (like \"250ms\", \"5s\", \"1m\") for "
      "limits.handshake_timeout, found \"5 s\"",
      NULL}},
    {"duration fraction",
     BASE "limits:\n  handshake_timeout: 1.5s\n",
     {"t.yaml:6:22: expected a duration from 100ms to 10m (like \"250ms\", \"5s\", \"1m\") for "
      "limits.handshake_timeout, found \"1.5s\"",
      NULL}},
    {"duration range",
     BASE "limits:\n  handshake_timeout: 50ms\n",
     {"t.yaml:6:22: expected a duration from 100ms to 10m (like \"250ms\", \"5s\", \"1m\") for "
      "limits.handshake_timeout, found \"50ms\"",
      NULL}},
    {"duration negative",
     BASE "limits:\n  shutdown_timeout: -1s\n",
     {"t.yaml:6:21: expected a duration from 0ms to 1h (like \"250ms\", \"5s\", \"1m\") for "
      "limits.shutdown_timeout, found \"-1s\"",
      NULL}},
    {"window below stream window",
     BASE "http2:\n  initial_window_size: 2MiB\n",
     {"t.yaml:6:3: expected http2.connection_window_size of at least initial_window_size "
      "(2097152), found 1048576",
      NULL}},
    {"log level",
     BASE "logging: {level: loud}\n",
     {"t.yaml:5:18: expected a log level (debug, info, warn or error) for logging.level, found "
      "\"loud\"",
      NULL}},
    {"access format",
     BASE "logging: {access_log_format: xml}\n",
     {"t.yaml:5:30: expected an access log format (combined, common, json or template) for "
      "logging.access_log_format, found \"xml\"",
      NULL}},
    {"template without its format",
     BASE "logging: {access_log: a.log, access_log_template: \"${status}\"}\n",
     {"t.yaml:5:52: expected logging.access_log_format: template with an access_log_template, "
      "found combined",
      NULL}},
    {"template format without a template",
     BASE "logging: {access_log: a.log, access_log_format: template}\n",
     {"t.yaml: expected logging.access_log_template with access_log_format: template, found none",
      NULL}},
    {"line max over a quarter of the ring",
     BASE "logging: {access_log_buffer: 16KiB, access_log_line_max: 8KiB}\n",
     {"t.yaml: expected logging.access_log_line_max (8192) of at most a quarter of "
      "access_log_buffer (16384)",
      NULL}},
    {"error log rate",
     BASE "logging: {error_log_rate: -1}\n",
     {"t.yaml:5:27: expected an integer from 0 to 1000000 for logging.error_log_rate, found "
      "\"-1\"",
      NULL}},
    {"access log flush",
     BASE "logging: {access_log_flush: 0}\n",
     {"t.yaml:5:29: expected a duration from 10ms to 1m (like \"250ms\", \"5s\", \"1m\") for "
      "logging.access_log_flush, found \"0\"",
      NULL}},
};

static const struct ecase listener_cases[] = {
    {"no port",
     "listeners:\n  - address: 127.0.0.1\n"
     "upstreams: {u: {servers: [\"h:1\"]}}\n",
     {"t.yaml:2:14: expected port: (in the address as \"HOST:PORT\", or port:) in listeners[0], "
      "found no such key",
      NULL}},
    {"no address",
     "listeners:\n  - port: 80\n"
     "upstreams: {u: {servers: [\"h:1\"]}}\n",
     {"t.yaml:2:5: expected address: (\"HOST:PORT\" or \"HOST\" with port:) in listeners[0], found "
      "no such key",
      NULL}},
    {"port twice",
     "listeners:\n  - address: \"127.0.0.1:80\"\n    port: 81\n",
     {"t.yaml:3:11: expected the port once for listeners[0] (the address at 2:14 has one), found "
      "port: too",
      NULL}},
    {"bad address",
     "listeners:\n  - address: \"127.0.0.1:http\"\n  - address: \"[::1\"\n"
     "  - address: \"h:0\"\n",
     {"t.yaml:2:14: expected an address (\"HOST\", \"HOST:PORT\" or \"[IPv6]:PORT\") for "
      "listeners[0].address, found \"127.0.0.1:http\"",
      "t.yaml:3:14: expected an address (\"HOST\", \"HOST:PORT\" or \"[IPv6]:PORT\") for "
      "listeners[1].address, found \"[::1\"",
      "t.yaml:4:14: expected a port from 1 to 65535 in \"HOST:PORT\" for listeners[2].address, "
      "found \"h:0\"",
      NULL}},
    {"protocols",
     "listeners:\n  - address: \"127.0.0.1:8081\"\n    protocols: [h2c, spdy]\n",
     {"t.yaml:3:22: expected a protocol (h2, http/1.1 or h2c) for listeners[0].protocols[1], found "
      "\"spdy\"",
      NULL}},
    {"no protocols",
     "listeners:\n  - address: \"127.0.0.1:8081\"\n    protocols: []\n",
     {"t.yaml:3:16: expected at least one protocol (h2, http/1.1 or h2c) for "
      "listeners[0].protocols, found an empty sequence",
      NULL}},
    {"h2 without tls",
     "listeners:\n  - address: \"127.0.0.1:8081\"\n    protocols: [h2]\n",
     {"t.yaml:3:16: expected h2c or http/1.1 in listeners[0].protocols of a listener without tls, "
      "found h2",
      NULL}},
    {"h2c on tls",
     "listeners:\n  - address: \":443\"\n    protocols: [h2c]\n    tls:\n"
     "      certificates: [{cert: @D@/cert.pem, key: @D@/key.pem}]\n",
     {"t.yaml:3:16: expected h2 or http/1.1 in listeners[0].protocols of a TLS listener, found h2c",
      NULL}},
    {"tls without certificates",
     "listeners:\n  - address: \":443\"\n    tls: {min_version: 1.3}\n",
     {"t.yaml:3:10: expected certificates: (a list of cert and key files) in listeners[0].tls, "
      "found no such key",
      NULL}},
    {"certificate without key",
     "listeners:\n  - address: \":443\"\n    tls:\n      certificates:\n"
     "        - cert: @D@/cert.pem\n",
     {"t.yaml:5:11: expected key: (a PEM private key file) in listeners[0].tls.certificates[0], "
      "found no such key",
      NULL}},
    {"unreadable files",
     "listeners:\n  - address: \":443\"\n    tls:\n      certificates:\n"
     "        - {cert: /nonexistent/c.pem, key: @D@}\n"
     "      ticket_key_file: /nonexistent/t.key\n",
     {"t.yaml:5:18: expected a readable certificate file, found \"/nonexistent/c.pem\" (No such "
      "file or directory)",
      "t.yaml:5:43: expected a readable private key file, found \"@D@\" (Is a directory)",
      "t.yaml:6:24: expected a readable session ticket key file, found \"/nonexistent/t.key\" (No "
      "such file or directory)",
      NULL}},
    {"small records range",
     "listeners:\n  - address: \":443\"\n    tls:\n      small_records: 65MiB\n"
     "      certificates: [{cert: @D@/cert.pem, key: @D@/key.pem}]\n",
     {"t.yaml:4:22: expected a size from 0 to 64MiB (like \"16KiB\", \"1MiB\") for "
      "listeners[0].tls.small_records, found \"65MiB\"",
      NULL}},
    {"bad early_data, ocsp interval and file",
     "listeners:\n  - address: \":443\"\n    tls:\n      early_data: sometimes\n"
     "      ocsp_check_interval: 500ms\n"
     "      certificates: [{ocsp_file: /nonexistent/o.der, cert: @D@/cert.pem, key: @D@/key.pem}]\n",
     {"t.yaml:4:19: expected a boolean (true or false) for listeners[0].tls.early_data, found "
      "\"sometimes\"",
      "t.yaml:5:28: expected a duration from 1s to 24h (like \"250ms\", \"5s\", \"1m\") for "
      "listeners[0].tls.ocsp_check_interval, found \"500ms\"",
      "t.yaml:6:34: expected a readable OCSP response file, found \"/nonexistent/o.der\" (No "
      "such file or directory)",
      NULL}},
    {"bad tls version",
     "listeners:\n  - address: \":443\"\n    tls:\n      min_version: 1.1\n"
     "      certificates: [{cert: @D@/cert.pem, key: @D@/key.pem}]\n",
     {"t.yaml:4:20: expected a TLS version (\"1.2\" or \"1.3\") for listeners[0].tls.min_version, "
      "found \"1.1\"",
      NULL}},
    {"bad server name",
     "listeners:\n  - address: \":443\"\n    tls:\n      certificates:\n"
     "        - {server_names: [\"a b\", \"*.\"], cert: @D@/cert.pem, key: @D@/key.pem}\n",
     {"t.yaml:5:27: expected a host name (\"example.com\" or \"*.example.com\") for "
      "listeners[0].tls.certificates[0].server_names[0], found \"a b\"",
      "t.yaml:5:34: expected a host name (\"example.com\" or \"*.example.com\") for "
      "listeners[0].tls.certificates[0].server_names[1], found \"*.\"",
      NULL}},
    {"duplicate server name",
     "listeners:\n  - address: \":443\"\n    tls:\n      certificates:\n"
     "        - {server_names: [a.com], cert: @D@/cert.pem, key: @D@/key.pem}\n"
     "        - {server_names: [A.com], cert: @D@/cert.pem, key: @D@/key.pem}\n",
     {"t.yaml:6:27: expected a server name served by one certificate, found \"a.com\" again (first "
      "at 5:27)",
      NULL}},
    {"duplicate listener",
     "listeners:\n  - address: \"127.0.0.1:8080\"\n  - address: 127.0.0.1\n"
     "    port: 8080\n",
     {"t.yaml:3:14: expected a unique listener address, found 127.0.0.1:8080 again (first at 2:14)",
      NULL}},
    {"duplicate listener name",
     "listeners:\n  - {name: a, address: \":1\"}\n  - {name: a, address: \":2\"}\n",
     {"t.yaml:3:12: expected a unique listener name, found \"a\" again (first at 2:12)", NULL}},
    {"admin clash",
     BASE "admin: {address: \"127.0.0.1:8080\"}\n",
     {"t.yaml:5:18: expected an admin address that no listener uses, found 127.0.0.1:8080 "
      "(listener at 2:5)",
      NULL}},
    {"admin allow: a bad network",
     BASE "admin: {address: \"127.0.0.1:1\", allow: [127.0.0.1, 10.0.0.1/8, \"::1/129\"]}\n",
     {"t.yaml:5:52: expected a network: an address (\"192.0.2.1\", \"::1\") or ADDRESS/PREFIX "
      "with no host bits set past the prefix (\"10.0.0.0/8\") for admin.allow[1], found "
      "\"10.0.0.1/8\"",
      "t.yaml:5:64: expected a network: an address (\"192.0.2.1\", \"::1\") or ADDRESS/PREFIX "
      "with no host bits set past the prefix (\"10.0.0.0/8\") for admin.allow[2], found "
      "\"::1/129\"",
      NULL}},
    {"request_id: bad header, trust not a list, bad mode",
     BASE "request_id: {header: \"x request\", trust: 10.0.0.0/8, traceparent: always}\n",
     {"t.yaml:5:22: expected a header field name (letters, digits, \"-\"; up to 64 bytes) for "
      "request_id.header, found \"x request\"",
      "t.yaml:5:42: expected a sequence of networks (\"10.0.0.0/8\", \"::1\") for "
      "request_id.trust, found \"10.0.0.0/8\"",
      "t.yaml:5:67: expected a traceparent mode (pass or generate) for request_id.traceparent, "
      "found \"always\"",
      NULL}},
    {"admin limits out of range",
     BASE "admin: {address: \"127.0.0.1:1\", worker_stall_timeout: 1s, max_connections: 0}\n",
     {"t.yaml:5:55: expected a duration from 2s to 10m (like \"250ms\", \"5s\", \"1m\") for "
      "admin.worker_stall_timeout, found \"1s\"",
      "t.yaml:5:76: expected an integer from 1 to 10000 for admin.max_connections, found \"0\"",
      NULL}},
    {"listener proxy_protocol: not networks",
     "listeners:\n  - {address: \":1\", proxy_protocol: [10.0.0.0/33]}\n",
     {"t.yaml:2:38: expected a network: an address (\"192.0.2.1\", \"::1\") or ADDRESS/PREFIX "
      "with no host bits set past the prefix (\"10.0.0.0/8\") for "
      "listeners[0].proxy_protocol[0], found \"10.0.0.0/33\"",
      NULL}},
    {"group without user",
     BASE "group: nogroup\n",
     {"t.yaml:5:8: expected user: with group: (the group is what the user becomes along with its "
      "uid), found group: alone",
      NULL}},
    {"admin port twice",
     BASE "admin: {address: \"127.0.0.1:1\", port: 2}\n",
     {"t.yaml:5:39: expected the port once for admin (the address at 5:18 has one), found port: "
      "too",
      NULL}},
    {"no listeners",
     "upstreams:\n  u: {servers: [\"h:1\"]}\n",
     {"t.yaml: expected at least one listener (listeners: in the file or a listen flag), found "
      "none",
      NULL}},
    {"empty file",
     "",
     {"t.yaml: expected at least one listener (listeners: in the file or a listen flag), found "
      "none",
      NULL}},
};

#define LST "listeners:\n  - address: \"127.0.0.1:8080\"\n"

static const struct ecase upstream_cases[] = {
    {"duplicate upstream",
     LST "upstreams:\n  a: {servers: [\"h:1\"]}\n  a: {servers: [\"h:2\"]}\n",
     {"t.yaml:5:3: expected a unique upstream name, found \"a\" again (first at 4:3)", NULL}},
    {"bad upstream name",
     LST "upstreams:\n  \"a b\": {servers: [\"h:1\"]}\n",
     {"t.yaml:4:3: expected an upstream name (1 to 64 of A-Z a-z 0-9 _ - .) for upstreams, found "
      "\"a b\"",
      NULL}},
    {"no servers",
     LST "upstreams:\n  a: {balance: random}\n  b:\n  c: {servers: []}\n",
     {"t.yaml:4:6: expected servers: (a list of \"HOST:PORT\") in upstreams.a, found no such key",
      "t.yaml:5:5: expected a mapping with servers: for upstreams.b, found null",
      "t.yaml:6:16: expected at least one server for upstreams.c.servers, found an empty sequence",
      NULL}},
    {"bad server",
     LST "upstreams:\n  a:\n    servers:\n      - \"h\"\n      - [1]\n"
         "      - {address: h, weight: 0}\n      - {port: 1}\n",
     {"t.yaml:6:9: expected port: (in the address as \"HOST:PORT\", or port:) in "
      "upstreams.a.servers[0], found no such key",
      "t.yaml:7:9: expected a server (\"HOST:PORT\" or a mapping with address, port, weight) for "
      "upstreams.a.servers[1], found a sequence",
      "t.yaml:8:19: expected port: (in the address as \"HOST:PORT\", or port:) in "
      "upstreams.a.servers[2], found no such key",
      "t.yaml:8:30: expected an integer from 1 to 1000 for upstreams.a.servers[2].weight, found "
      "\"0\"",
      "t.yaml:9:9: expected address: (\"HOST:PORT\", or \"HOST\" with port:) in "
      "upstreams.a.servers[3], found no such key",
      NULL}},
    {"duplicate server",
     LST "upstreams:\n  a:\n    servers: [\"h:1\", {address: h, port: 1}]\n",
     {"t.yaml:5:22: expected a unique server in upstream \"a\", found h:1 again (first at 5:15)",
      NULL}},
    {"balance",
     LST "upstreams:\n  a: {servers: [\"h:1\"], balance: least_con}\n"
         "  b: {servers: [\"h:1\"], balance: fastest}\n",
     {"t.yaml:4:34: expected a balancing policy (round_robin, least_conn, random, "
      "least_request, consistent_hash; did you mean \"least_conn\"?) for upstreams.a.balance, "
      "found \"least_con\"",
      "t.yaml:5:34: expected a balancing policy (round_robin, least_conn, random, "
      "least_request, consistent_hash) for "
      "upstreams.b.balance, found \"fastest\"",
      NULL}},
    {"upstreams not a mapping",
     LST "upstreams: [a]\n",
     {"t.yaml:3:12: expected a mapping from upstream names to upstream groups for upstreams, found "
      "a sequence",
      NULL}},
};

static const struct ecase route_cases[] = {
    {"undefined upstream",
     BASE "routes:\n  - {path_prefix: /a, upstream: v}\n"
          "  - {path_prefix: /b, upstream: zzzzz}\n",
     {"t.yaml:6:33: expected the name of a defined upstream (did you mean \"u\"?), found \"v\"",
      "t.yaml:7:33: expected the name of a defined upstream, found \"zzzzz\"", NULL}},
    {"no upstreams defined",
     LST "routes:\n  - upstream: u\n",
     {"t.yaml:4:15: expected the name of a defined upstream (none is defined), found \"u\"", NULL}},
    {"route without upstream",
     BASE "routes:\n  - host: a.com\n  -\n",
     {"t.yaml:6:5: expected upstream: (the name of an upstream) in routes[0], found no such key",
      "t.yaml:7:4: expected a route (a mapping with upstream:) for routes[1], found null", NULL}},
    {"path and prefix",
     BASE "routes:\n  - {path: /a, path_prefix: /b, upstream: u}\n",
     {"t.yaml:6:29: expected only one of path and path_prefix for routes[0].path_prefix, found "
      "both (the other at 6:12)",
      NULL}},
    {"relative path",
     BASE "routes:\n  - {path_prefix: api/, upstream: u}\n"
          "  - {path: \"/a?b\", upstream: u}\n",
     {"t.yaml:6:19: expected an absolute path (starting with \"/\", without spaces, \"?\" or "
      "\"#\") for routes[0].path_prefix, found \"api/\"",
      "t.yaml:7:12: expected an absolute path (starting with \"/\", without spaces, \"?\" or "
      "\"#\") for routes[1].path, found \"/a?b\"",
      NULL}},
    {"bad host",
     BASE "routes:\n  - {host: \"a.com:443\", upstream: u}\n"
          "  - {host: \"*\", upstream: u}\n  - {host: \"a.*.com\", upstream: u}\n",
     {"t.yaml:6:12: expected a host (\"example.com\" or \"*.example.com\", without port) for "
      "routes[0].host, found \"a.com:443\"",
      "t.yaml:7:12: expected a host (\"example.com\" or \"*.example.com\", without port) for "
      "routes[1].host, found \"*\"",
      "t.yaml:8:12: expected a host (\"example.com\" or \"*.example.com\", without port) for "
      "routes[2].host, found \"a.*.com\"",
      NULL}},
    {"rewrite without prefix",
     BASE "routes:\n  - {path: /a, rewrite_prefix: /b, upstream: u}\n",
     {"t.yaml:6:32: expected rewrite_prefix only in a route with path_prefix, found it without",
      NULL}},
    {"bad headers",
     BASE "routes:\n  - upstream: u\n    request_headers:\n"
          "      set: {\"x y\": 1, Transfer-Encoding: x, X-A: \"a\\nb\"}\n"
          "      add: [x]\n      remove: [x-a, X-A, \":path\"]\n"
          "    response_headers: {sett: {}}\n",
     {"t.yaml:8:13: expected a header field name (RFC 9110 token characters) for "
      "routes[0].request_headers.set, found \"x y\"",
      "t.yaml:8:23: expected a header field a route may edit (not connection-specific or framing) "
      "for routes[0].request_headers.set, found \"Transfer-Encoding\"",
      "t.yaml:8:50: expected a header field value (a string without control characters) for "
      "routes[0].request_headers.set, found \"a\\x0ab\"",
      "t.yaml:9:12: expected a mapping from header names to values for "
      "routes[0].request_headers.add, found a sequence",
      "t.yaml:10:21: expected each header once in routes[0].request_headers.remove, found \"x-a\" "
      "again (first at 10:16)",
      "t.yaml:10:26: expected a header field name (RFC 9110 token characters) for "
      "routes[0].request_headers.remove, found \":path\"",
      "t.yaml:11:24: expected a known key in routes[0].response_headers (did you mean \"set\"?), "
      "found \"sett\"",
      NULL}},
    {"after catch-all",
     BASE "routes:\n  - upstream: u\n  - {host: a.com, upstream: u}\n",
     {"t.yaml:7:5: expected no route after the catch-all route at 6:5 (it matches every request), "
      "found one that is never used",
      NULL}},
    {"same match twice",
     BASE "routes:\n  - {host: a.com, path_prefix: /x, upstream: u}\n"
          "  - {host: A.com, path_prefix: /x, upstream: u}\n",
     {"t.yaml:7:5: expected a route with a host and path no earlier route has, found the same as "
      "the route at 6:5 (this one is never used)",
      NULL}},
    {"routes not a sequence",
     BASE "routes: {upstream: u}\n",
     {"t.yaml:5:9: expected a sequence of routes for routes, found a mapping", NULL}},
};

static const struct ecase limit_cases[] = {
    {"alias to merged mapping",
     BASE "x-l: &l {handshake_timeout: 1x}\nlimits:\n  <<: *l\n"
          "http2:\n  <<: *l\n",
     {"t.yaml:5:10: expected a known key in http2 (one of: max_concurrent_streams, "
      "initial_window_size, connection_window_size, max_window_size, "
      "max_connection_window_size, max_frame_size, header_table_size, "
      "max_header_list_size, priority_tracked_streams, rst_stream_per_second, ping_per_second, "
      "settings_per_second, empty_frames_per_second, priority_per_second, window_update_per_second, "
      "max_queued_control_frames), found \"handshake_timeout\"",
      "t.yaml:5:29: expected a duration from 100ms to 10m (like \"250ms\", \"5s\", \"1m\") for "
      "limits.handshake_timeout, found \"1x\"",
      NULL}},
    {"tunnels: h2c is never an upgrade token",
     BASE "tunnels:\n  upgrade: [websocket, H2C, \"a b\"]\n  max_per_connection: 0\n",
     {"t.yaml:6:24: expected an upgrade token other than h2c (the proxy's own upgrade) for "
      "tunnels.upgrade[1], found \"H2C\"",
      "t.yaml:6:29: expected an upgrade token (\"websocket\"; letters, digits, \"-\", \"/\") "
      "for tunnels.upgrade[2], found \"a b\"",
      "t.yaml:7:23: expected an integer from 1 to 100000 for tunnels.max_per_connection, found "
      "\"0\"",
      NULL}},
    {"websocket is a boolean",
     BASE "routes:\n  - {upstream: u, websocket: maybe}\n",
     {"t.yaml:6:30: expected a boolean (true or false) for routes[0].websocket, found \"maybe\"",
      NULL}},
};

static void test_yaml_errors(void **state)
{
    RUN(yaml_cases);
}

static void test_key_and_type_errors(void **state)
{
    RUN(key_cases);
}

static void test_range_and_unit_errors(void **state)
{
    RUN(range_cases);
}

static void test_listener_errors(void **state)
{
    RUN(listener_cases);
}

static void test_upstream_errors(void **state)
{
    RUN(upstream_cases);
}

static void test_route_errors(void **state)
{
    RUN(route_cases);
}

static void test_limit_errors(void **state)
{
    RUN(limit_cases);
}

/* A growing buffer for generated documents. */
struct sbuf {
    char *p;
    size_t len, cap;
};

static void sb_add(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(struct sbuf *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (b->p && (size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        b->cap = b->cap ? b->cap * 2 : 4096;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
}

static void load_expect(const char *yaml, size_t len, const char *first_error, size_t n_errors,
                        size_t n_dropped)
{
    struct cfg_errors errs;
    cfg_errors_init(&errs);
    struct cfg *c = NULL;
    assert_int_equal(cfg_load_buffer("t.yaml", yaml, len, &c, &errs), HB_EINVAL);
    assert_null(c);
    char buf[1536];
    assert_true(errs.n >= 1);
    assert_string_equal(cfg_error_format(&errs.v[0], buf, sizeof buf), first_error);
    assert_int_equal(errs.n, n_errors);
    assert_int_equal(errs.n_dropped, n_dropped);
    cfg_errors_free(&errs);
}

/* 1000 upstreams aliasing one list of 256 servers would be 256000 values:
 * the walk stops at the budget with one error instead of growing. */
static void test_alias_expansion_budget(void **state)
{
    struct sbuf b = {0};
    sb_add(&b, LST "x-s: &s\n");
    for (int i = 0; i < 256; i++)
        sb_add(&b, "  - \"h:%d\"\n", i + 1);
    sb_add(&b, "upstreams:\n");
    for (int i = 0; i < 1000; i++)
        sb_add(&b, "  u%d: {servers: *s}\n", i);
    load_expect(b.p, b.len,
                "t.yaml:46:5: expected at most 200000 values after expanding aliases, found more",
                1, 0);
    free(b.p);
}

/* Errors are collected, not stopped at: 150 bad values give 100 errors and
 * a count of the rest. */
static void test_many_errors(void **state)
{
    struct sbuf b = {0};
    sb_add(&b, BASE "routes:\n");
    for (int i = 0; i < 150; i++)
        sb_add(&b, "  - {path_prefix: /p%d, upstream: nope%d}\n", i, i);
    load_expect(b.p, b.len, "t.yaml:6:34: expected the name of a defined upstream, found \"nope0\"",
                100, 50);
    free(b.p);
}

static void test_file_errors(void **state)
{
    struct cfg_errors errs;
    cfg_errors_init(&errs);
    struct cfg *c = NULL;
    char buf[1536];
    assert_int_equal(cfg_load_file("/nonexistent/h2b.yaml", &c, &errs), HB_EIO);
    assert_null(c);
    assert_int_equal(errs.n, 1);
    assert_string_equal(cfg_error_format(&errs.v[0], buf, sizeof buf),
                        "/nonexistent/h2b.yaml: expected a readable configuration file, found No "
                        "such file or directory");
    cfg_errors_free(&errs);

    assert_int_equal(cfg_load_file(DATA, &c, &errs), HB_EIO);
    assert_string_equal(cfg_error_format(&errs.v[0], buf, sizeof buf),
                        DATA ": expected a readable configuration file, found Is a directory");
    cfg_errors_free(&errs);

    size_t big = CFG_MAX_FILE_SIZE + 1;
    char *data = malloc(big);
    assert_non_null(data);
    memset(data, '#', big);
    assert_int_equal(cfg_load_buffer("big.yaml", data, big, &c, &errs), HB_EINVAL);
    assert_string_equal(cfg_error_format(&errs.v[0], buf, sizeof buf),
                        "big.yaml: expected a file of at most 4194304 bytes, found 4194305 bytes");
    free(data);
    cfg_errors_free(&errs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_yaml_errors),           cmocka_unit_test(test_key_and_type_errors),
        cmocka_unit_test(test_range_and_unit_errors), cmocka_unit_test(test_listener_errors),
        cmocka_unit_test(test_upstream_errors),       cmocka_unit_test(test_route_errors),
        cmocka_unit_test(test_limit_errors),          cmocka_unit_test(test_alias_expansion_budget),
        cmocka_unit_test(test_many_errors),           cmocka_unit_test(test_file_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
