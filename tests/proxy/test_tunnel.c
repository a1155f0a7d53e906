/* tests/proxy/test_tunnel.c — tunnel admission and the WebSocket accept key
 * (proxy/exchange/tunnel.h). The data path runs in tests/e2e/test_websocket.py. */
#include "testutil/testutil.h"

#include <string.h>

#include "config/cfg.h"
#include "core/err.h"
#include "proxy/exchange/tunnel.h"
#include "proxy/front/conn.h"
#include "proxy/worker.h"

static void test_accept_key(void **st)
{
    (void)st;
    /* RFC 6455 §1.3's example. */
    char out[29];
    px_ws_accept("dGhlIHNhbXBsZSBub25jZQ==", 24, out);
    assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

static const char yaml[] = "listeners:\n"
                           "  - {address: \"127.0.0.1:1\", websocket: true}\n"
                           "  - {address: \"127.0.0.1:2\"}\n"
                           "upstreams:\n  u: {servers: [\"127.0.0.1:9\"]}\n"
                           "routes:\n"
                           "  - {path_prefix: /off/, upstream: u, websocket: false}\n"
                           "  - {upstream: u}\n"
                           "tunnels: {upgrade: [WebSocket, foo/2], max_per_connection: 2, "
                           "max_per_worker: 3}\n";

struct rig {
    struct cfg *cfg;
    struct px_worker w;
    struct px_listener l[2];
    struct px_fconn fc;
};

static void rig_init(struct rig *r, int listener)
{
    memset(r, 0, sizeof *r);
    struct cfg_errors errs;
    cfg_errors_init(&errs);
    assert_int_equal(cfg_load_buffer("t.yaml", yaml, strlen(yaml), &r->cfg, &errs), 0);
    cfg_errors_free(&errs);
    r->w.cfg = r->cfg;
    for (int i = 0; i < 2; i++) {
        r->l[i].cfg = &r->cfg->listeners[i];
        r->l[i].w = &r->w;
    }
    r->fc.w = &r->w;
    r->fc.l = &r->l[listener];
}

/* An HTTP/1.1 GET with Connection: upgrade and Upgrade: token (NULL: none). */
static struct hb_msg h1_req(struct hpack_field *f, const char *token, bool body)
{
    struct hb_msg m = {.method = HB_STR_LIT("GET"), .path = HB_STR_LIT("/ws"), .version = 11,
                       .fields = f, .flags = body ? HB_MSG_HAS_CL : HB_MSG_END_STREAM};
    f[0] = (struct hpack_field){.name = "connection", .name_len = 10, .value = "upgrade",
                                .value_len = 7};
    m.nfields = 1;
    if (token) {
        f[1] = (struct hpack_field){.name = "upgrade", .name_len = 7, .value = token,
                                    .value_len = (uint32_t)strlen(token)};
        m.nfields = 2;
        m.flags |= HB_MSG_UPGRADE;
    }
    return m;
}

static int admit(struct rig *r, const struct hb_msg *m, const char *path, enum px_tun_kind *k)
{
    char why[128];
    const struct cfg_route *route = cfg_route_match(r->cfg, NULL, 0, path, strlen(path));
    assert_non_null(route);
    return px_tunnel_admit(&r->fc, m, route, k, why, sizeof why);
}

static void test_h1_admission(void **st)
{
    (void)st;
    struct rig r;
    rig_init(&r, 0);
    struct hpack_field f[2];
    enum px_tun_kind k;
    struct hb_msg m = h1_req(f, "websocket", false);
    assert_true(px_tunnel_asked(&m));
    assert_int_equal(admit(&r, &m, "/ws", &k), 0);
    assert_int_equal(k, PX_TUN_UPGRADE); /* listed as WebSocket: any case */
    m = h1_req(f, "FOO/2", false);
    assert_int_equal(admit(&r, &m, "/ws", &k), 0);
    assert_int_equal(k, PX_TUN_UPGRADE);
    /* Not tunnels (served as plain requests): several tokens, an unlisted
     * one, h2c, a body, the route's websocket: false. */
    static const char *const no[] = {"websocket, foo/2", "bar", "h2c"};
    for (size_t i = 0; i < 3; i++) {
        m = h1_req(f, no[i], false);
        assert_int_equal(admit(&r, &m, "/ws", &k), 0);
        assert_int_equal(k, PX_TUN_NONE);
    }
    m = h1_req(f, "websocket", true);
    assert_int_equal(admit(&r, &m, "/ws", &k), 0);
    assert_int_equal(k, PX_TUN_NONE);
    m = h1_req(f, "websocket", false);
    assert_int_equal(admit(&r, &m, "/off/x", &k), 0);
    assert_int_equal(k, PX_TUN_NONE);
    /* No Upgrade at all: nothing asked. */
    m = h1_req(f, NULL, false);
    assert_false(px_tunnel_asked(&m));
    /* A listener without websocket. */
    cfg_unref(r.cfg);
    rig_init(&r, 1);
    m = h1_req(f, "websocket", false);
    assert_int_equal(admit(&r, &m, "/ws", &k), 0);
    assert_int_equal(k, PX_TUN_NONE);
    cfg_unref(r.cfg);
}

static void test_h2_admission_and_limits(void **st)
{
    (void)st;
    struct rig r;
    rig_init(&r, 0);
    enum px_tun_kind k;
    struct hb_msg m = {.method = HB_STR_LIT("CONNECT"), .protocol = HB_STR_LIT("websocket"),
                       .path = HB_STR_LIT("/ws"), .authority = HB_STR_LIT("a")};
    assert_true(px_tunnel_asked(&m));
    assert_int_equal(admit(&r, &m, "/ws", &k), 0);
    assert_int_equal(k, PX_TUN_H2_WEBSOCKET);
    assert_int_equal(admit(&r, &m, "/off/x", &k), 501);
    assert_int_equal(k, PX_TUN_NONE);
    struct hb_msg other = m;
    other.protocol = HB_STR_LIT("connect-udp");
    assert_int_equal(admit(&r, &other, "/ws", &k), 501);
    /* tunnels.max_per_connection 2, max_per_worker 3. */
    r.fc.n_tunnels = 2;
    assert_int_equal(admit(&r, &m, "/ws", &k), 503);
    assert_int_equal(k, PX_TUN_NONE);
    r.fc.n_tunnels = 1;
    r.w.n_tunnels = 3;
    assert_int_equal(admit(&r, &m, "/ws", &k), 503);
    r.w.n_tunnels = 2;
    assert_int_equal(admit(&r, &m, "/ws", &k), 0);
    cfg_unref(r.cfg);
}

static void test_config_defaults(void **st)
{
    (void)st;
    static const char y[] = "listeners:\n  - {address: \"127.0.0.1:1\"}\n"
                            "upstreams:\n  u: {servers: [\"127.0.0.1:9\"]}\n"
                            "routes:\n  - {upstream: u}\n";
    struct cfg *c = NULL;
    struct cfg_errors errs;
    cfg_errors_init(&errs);
    assert_int_equal(cfg_load_buffer("t.yaml", y, strlen(y), &c, &errs), 0);
    cfg_errors_free(&errs);
    assert_false(c->listeners[0].websocket);
    assert_true(c->routes[0].websocket);
    assert_int_equal(c->tunnels.n_upgrade, 1);
    assert_string_equal(c->tunnels.upgrade[0].s, "websocket");
    assert_int_equal(c->tunnels.idle_timeout_ms, 300000);
    assert_int_equal(c->tunnels.max_per_connection, 100);
    assert_int_equal(c->tunnels.max_per_worker, 10000);
    cfg_unref(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accept_key),
        cmocka_unit_test(test_h1_admission),
        cmocka_unit_test(test_h2_admission_and_limits),
        cmocka_unit_test(test_config_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
