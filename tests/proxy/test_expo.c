/* tests/proxy/test_expo.c — the exposition writer (proxy/obs/expo.h), the
 * counter registry (proxy/obs/stats.h: snapshot sums, folding on free,
 * buckets) and the admin endpoints' answers (proxy/admin/admin_http.h). */
#include "testutil/testutil.h"

#include <stdlib.h>
#include <string.h>

#include "config/cfg.h"
#include "core/buf.h"
#include "core/err.h"
#include "proxy/admin/admin_http.h"
#include "proxy/obs/expo.h"
#include "proxy/obs/metrics.h"
#include "proxy/obs/stats.h"

/* The buffer as a NUL-terminated string (owned by b). */
static const char *text(struct hb_buf *b)
{
    assert_int_equal(hb_buf_append(b, "", 1), 0);
    b->wpos--; /* keep the NUL out of the length */
    return (const char *)hb_buf_rptr(b);
}

static void test_counter_and_gauge_prometheus(void **st)
{
    (void)st;
    struct hb_buf b;
    hb_buf_init(&b, 0);
    struct px_expo e;
    px_expo_init(&e, &b, PX_EXPO_PROMETHEUS);
    px_expo_family(&e, "x_requests_total", PX_EXPO_COUNTER, "Help with a \\ and\na newline.");
    struct px_label l[] = {{"listener", "a\"b\\c\nd"}, {"code", "2xx"}};
    px_expo_sample(&e, l, 2, 42);
    px_expo_family(&e, "x_open", PX_EXPO_GAUGE, "Open \"things\".");
    px_expo_sample(&e, NULL, 0, 7);
    px_expo_sample_f(&e, NULL, 0, 1.5);
    assert_int_equal(px_expo_finish(&e), 0);
    assert_string_equal(text(&b),
                        "# HELP x_requests_total Help with a \\\\ and\\na newline.\n"
                        "# TYPE x_requests_total counter\n"
                        "x_requests_total{listener=\"a\\\"b\\\\c\\nd\",code=\"2xx\"} 42\n"
                        "# HELP x_open Open \"things\".\n"
                        "# TYPE x_open gauge\n"
                        "x_open 7\n"
                        "x_open 1.5\n");
    hb_buf_free(&b);
}

static void test_counter_openmetrics(void **st)
{
    (void)st;
    struct hb_buf b;
    hb_buf_init(&b, 0);
    struct px_expo e;
    px_expo_init(&e, &b, PX_EXPO_OPENMETRICS);
    px_expo_family(&e, "x_requests_total", PX_EXPO_COUNTER, "Open \"quoted\".");
    px_expo_sample(&e, NULL, 0, 3);
    assert_int_equal(px_expo_finish(&e), 0);
    /* The family drops _total, its samples keep it; HELP escapes '"';
     * the exposition ends with # EOF. */
    assert_string_equal(text(&b), "# HELP x_requests Open \\\"quoted\\\".\n"
                                  "# TYPE x_requests counter\n"
                                  "x_requests_total 3\n"
                                  "# EOF\n");
    hb_buf_free(&b);
}

static void test_histogram_cumulative(void **st)
{
    (void)st;
    struct hb_buf b;
    hb_buf_init(&b, 0);
    struct px_expo e;
    px_expo_init(&e, &b, PX_EXPO_PROMETHEUS);
    px_expo_family(&e, "x_seconds", PX_EXPO_HISTOGRAM, "Durations.");
    static const double bounds[] = {0.005, 1, 2.5};
    static const uint64_t counts[] = {2, 0, 3, 1}; /* non-cumulative, the last +Inf */
    struct px_label l[] = {{"l", "v"}};
    px_expo_histogram(&e, l, 1, bounds, 3, counts, 7.25);
    assert_int_equal(px_expo_finish(&e), 0);
    assert_string_equal(text(&b), "# HELP x_seconds Durations.\n"
                                  "# TYPE x_seconds histogram\n"
                                  "x_seconds_bucket{l=\"v\",le=\"0.005\"} 2\n"
                                  "x_seconds_bucket{l=\"v\",le=\"1.0\"} 2\n"
                                  "x_seconds_bucket{l=\"v\",le=\"2.5\"} 5\n"
                                  "x_seconds_bucket{l=\"v\",le=\"+Inf\"} 6\n"
                                  "x_seconds_sum{l=\"v\"} 7.25\n"
                                  "x_seconds_count{l=\"v\"} 6\n");
    hb_buf_free(&b);
}

static void test_error_is_sticky(void **st)
{
    (void)st;
    struct hb_buf b;
    hb_buf_init(&b, 64); /* a ceiling the output passes */
    struct px_expo e;
    px_expo_init(&e, &b, PX_EXPO_OPENMETRICS);
    px_expo_family(&e, "x_things_total", PX_EXPO_COUNTER, "A long help text that fills it.");
    for (int i = 0; i < 10; i++)
        px_expo_sample(&e, NULL, 0, (uint64_t)i);
    assert_int_equal(px_expo_finish(&e), HB_ELIMIT);
    hb_buf_free(&b);
}

static void test_negotiate(void **st)
{
    (void)st;
#define NEG(s) px_expo_negotiate((s), strlen(s))
    assert_int_equal(px_expo_negotiate(NULL, 0), PX_EXPO_PROMETHEUS);
    assert_int_equal(NEG("text/plain"), PX_EXPO_PROMETHEUS);
    assert_int_equal(NEG("*/*"), PX_EXPO_PROMETHEUS);
    /* What Prometheus 2.x sends. */
    assert_int_equal(NEG("application/openmetrics-text;version=1.0.0,application/"
                         "openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,"
                         "*/*;q=0.1"),
                     PX_EXPO_OPENMETRICS);
    assert_int_equal(NEG("text/plain, Application/OpenMetrics-Text; version=1.0.0"),
                     PX_EXPO_OPENMETRICS);
    assert_int_equal(NEG("application/openmetrics-text;q=0"), PX_EXPO_PROMETHEUS);
    assert_int_equal(NEG("application/openmetrics-textile"), PX_EXPO_PROMETHEUS);
    assert_string_equal(px_expo_content_type(PX_EXPO_OPENMETRICS),
                        "application/openmetrics-text; version=1.0.0; charset=utf-8");
    assert_string_equal(px_expo_content_type(PX_EXPO_PROMETHEUS),
                        "text/plain; version=0.0.4; charset=utf-8");
#undef NEG
}

static void test_buckets_and_labels(void **st)
{
    (void)st;
    assert_int_equal(px_st_bucket(0), 0);
    assert_int_equal(px_st_bucket(1000000), 0);     /* le 0.001: inclusive */
    assert_int_equal(px_st_bucket(1000001), 1);
    assert_int_equal(px_st_bucket(60000000000), PX_ST_NBOUNDS - 1);
    assert_int_equal(px_st_bucket(60000000001), PX_ST_NBOUNDS); /* +Inf */
    px_ctr h[PX_ST_HIST] = {0};
    px_st_observe(h, 3000000); /* 3 ms */
    px_st_observe(h, 2000000000);
    assert_int_equal(px_ctr_get(&h[2]), 1); /* le 0.005 */
    assert_int_equal(px_ctr_get(&h[10]), 1); /* le 2.5 */
    assert_int_equal(px_ctr_get(&h[PX_ST_NBUCKET]), 2003000000);
    assert_int_equal(px_ctr_get(&h[PX_ST_NBUCKET + 1]), 2);
    assert_int_equal(px_st_method_of("GET", 3), PX_ST_GET);
    assert_int_equal(px_st_method_of("PATCH", 5), PX_ST_PATCH);
    assert_int_equal(px_st_method_of("get", 3), PX_ST_OTHER); /* methods are case-sensitive */
    assert_int_equal(px_st_method_of("PROPFIND", 8), PX_ST_OTHER);
    assert_string_equal(px_st_status_name(0), "none");
    assert_string_equal(px_st_status_name(5), "5xx");
}

/* A fake block as px_stats_new makes it, without a worker. */
static struct px_stats *block(const char *lis, const char *up, const char *srv)
{
    struct px_stats *s = calloc(1, sizeof *s);
    assert_non_null(s);
    hb_list_init(&s->link);
    hb_list_init(&s->dyn);
    atomic_init(&s->heartbeat, (int64_t)hb_time_now_ns());
    s->nlis = 1;
    s->nsrv = 1;
    s->nups = 1;
    s->srv_at = calloc(2, sizeof *s->srv_at);
    s->lis = calloc(1, sizeof *s->lis);
    s->srv = calloc(1, sizeof *s->srv);
    s->mem = aligned_alloc(64, (PX_SL_N + PX_SS_N + 8) * sizeof(px_ctr) / 64 * 64 + 64);
    assert_true(s->srv_at && s->lis && s->srv && s->mem);
    for (size_t i = 0; i < PX_SL_N + PX_SS_N; i++)
        atomic_init(&s->mem[i], 0);
    s->lis[0] = (struct px_stats_group){lis, NULL, s->mem};
    s->srv[0] = (struct px_stats_group){up, srv, s->mem + PX_SL_N};
    return s;
}

static void test_registry_sums_and_folds(void **st)
{
    (void)st;
    px_obs_reset();
    struct px_stats *a = block("l1", "u", "127.0.0.1:1"), *b = block("l1", "u", "127.0.0.1:1");
    px_stats_register(a);
    px_stats_register(b);
    px_ctr_add(&a->lis[0].v[PX_SL_CONNS], 3);
    px_ctr_add(&b->lis[0].v[PX_SL_CONNS], 4);
    px_ctr_set(&a->lis[0].v[PX_SL_CONNS_OPEN], 2); /* a gauge */
    px_ctr_set(&b->srv[0].v[PX_SS_OPEN], 5);
    struct px_snap s;
    assert_int_equal(px_stats_snapshot(&s, hb_time_now_ns(), hb_time_ms(5000)), 0);
    assert_int_equal(s.nlis, 1);
    assert_int_equal(s.nsrv, 1);
    assert_int_equal(s.lis[0].v[PX_SL_CONNS], 7);
    assert_int_equal(s.lis[0].v[PX_SL_CONNS_OPEN], 2);
    assert_int_equal(s.srv[0].v[PX_SS_OPEN], 5);
    assert_int_equal(s.workers, 2);
    assert_int_equal(s.stale, 0);
    px_snap_free(&s);
    /* a is freed (a reload retired it): its counters stay, its gauges go. */
    px_stats_free(a);
    px_ctr_add(&b->lis[0].v[PX_SL_CONNS], 1);
    assert_int_equal(px_stats_snapshot(&s, hb_time_now_ns(), hb_time_ms(5000)), 0);
    assert_int_equal(s.lis[0].v[PX_SL_CONNS], 8);
    assert_int_equal(s.lis[0].v[PX_SL_CONNS_OPEN], 0);
    assert_int_equal(s.workers, 1);
    px_snap_free(&s);
    /* A stale heartbeat counts; a stopped worker does not. */
    atomic_store(&b->heartbeat, (int64_t)(hb_time_now_ns() - hb_time_ms(10000)));
    assert_int_equal(px_stats_snapshot(&s, hb_time_now_ns(), hb_time_ms(5000)), 0);
    assert_int_equal(s.stale, 1);
    px_snap_free(&s);
    px_stats_stopped(b);
    assert_int_equal(px_stats_snapshot(&s, hb_time_now_ns(), hb_time_ms(5000)), 0);
    assert_int_equal(s.workers, 0);
    assert_int_equal(s.stale, 0);
    px_snap_free(&s);
    px_stats_free(b);
    px_obs_reset();
}

/* The response of the admin endpoint for a GET of path. */
static int get(const char *method, const char *path, bool allowed, const char *accept,
               struct hb_buf *out)
{
    struct hpack_field f = {"accept", accept, 6, accept ? (uint32_t)strlen(accept) : 0, 0};
    struct hb_msg req = {.method = hb_str_c(method), .path = hb_str_c(path), .version = 11};
    if (accept) {
        req.fields = &f;
        req.nfields = 1;
    }
    hb_buf_init(out, 0);
    int rc = px_admin_respond(&req, allowed, hb_time_now_ns(), out);
    text(out);
    return rc;
}

static void test_admin_endpoints(void **st)
{
    (void)st;
    px_obs_reset();
    struct hb_buf o;
    /* No configuration yet, no worker: not ready, not healthy. */
    assert_int_equal(get("GET", "/readyz", true, NULL, &o), 503);
    hb_buf_free(&o);
    assert_int_equal(get("GET", "/healthz", true, NULL, &o), 503);
    hb_buf_free(&o);
    struct cfg *cfg = cfg_new_defaults();
    assert_non_null(cfg);
    px_obs_set_config(cfg, 3);
    px_obs_set_ready(true);
    struct px_stats *w = block("l1", "u", "127.0.0.1:1");
    px_stats_register(w);
    assert_int_equal(get("GET", "/readyz", true, NULL, &o), 200);
    hb_buf_free(&o);
    assert_int_equal(get("GET", "/healthz?x=1", true, NULL, &o), 200);
    assert_non_null(strstr(text(&o), "ok: 1 workers, 0 stalled"));
    hb_buf_free(&o);
    assert_int_equal(get("GET", "/metrics", true, NULL, &o), 200);
    assert_non_null(strstr(text(&o), "Content-Type: text/plain; version=0.0.4"));
    assert_non_null(strstr(text(&o), "\nh2bridge_config_generation 3\n"));
    assert_null(strstr(text(&o), "# EOF"));
    hb_buf_free(&o);
    assert_int_equal(get("GET", "/metrics", true, "application/openmetrics-text", &o), 200);
    assert_non_null(strstr(text(&o), "Content-Type: application/openmetrics-text"));
    assert_non_null(strstr(text(&o), "# TYPE h2bridge_requests counter\n"));
    assert_non_null(strstr(text(&o), "\n# EOF\n"));
    hb_buf_free(&o);
    assert_int_equal(get("GET", "/status", true, NULL, &o), 200);
    assert_non_null(strstr(text(&o), "\"generation\":3,\"ready\":true,\"workers\":1"));
    hb_buf_free(&o);
    assert_int_equal(get("GET", "/", true, NULL, &o), 200);
    assert_non_null(strstr(text(&o), "<meta name=\"viewport\""));
    hb_buf_free(&o);
    /* HEAD: the head with the body's length, no body. */
    assert_int_equal(get("HEAD", "/readyz", true, NULL, &o), 200);
    assert_non_null(strstr(text(&o), "Content-Length: 6\r\n"));
    assert_non_null(strstr(text(&o), "\r\n\r\n"));
    assert_string_equal(strstr(text(&o), "\r\n\r\n"), "\r\n\r\n");
    hb_buf_free(&o);
    assert_int_equal(get("GET", "/metrics", false, NULL, &o), 403);
    hb_buf_free(&o);
    assert_int_equal(get("POST", "/metrics", true, NULL, &o), 405);
    assert_non_null(strstr(text(&o), "Allow: GET, HEAD\r\n"));
    hb_buf_free(&o);
    assert_int_equal(get("GET", "/metricsx", true, NULL, &o), 404);
    hb_buf_free(&o);
    /* Shutting down: not ready any more, still healthy. */
    px_obs_set_ready(false);
    assert_int_equal(get("GET", "/readyz", true, NULL, &o), 503);
    hb_buf_free(&o);
    assert_int_equal(get("GET", "/healthz", true, NULL, &o), 200);
    hb_buf_free(&o);
    px_stats_free(w);
    cfg_unref(cfg);
    px_obs_reset();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counter_and_gauge_prometheus),
        cmocka_unit_test(test_counter_openmetrics),
        cmocka_unit_test(test_histogram_cumulative),
        cmocka_unit_test(test_error_is_sticky),
        cmocka_unit_test(test_negotiate),
        cmocka_unit_test(test_buckets_and_labels),
        cmocka_unit_test(test_registry_sums_and_folds),
        cmocka_unit_test(test_admin_endpoints),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
