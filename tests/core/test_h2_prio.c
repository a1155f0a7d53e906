/* RFC 7540 §5.3 priority: the tree of core/h2_prio.h on its own (the RFC's
 * figures, removal, the tracked bound), then the engine driven with the
 * harness, checking the order and the shares of the DATA frames it writes
 * for the patterns real browsers send (Chromium's exclusive chain,
 * Firefox's placeholder streams), fairness, weights, starvation. */
#include "h2_harness.h"

#include "core/h2_int.h"
#include "core/h2_prio.h"

/* ---- the tree alone -------------------------------------------------- */

static void *m_alloc(void *ud, size_t n)
{
    (void)ud;
    return malloc(n);
}

static void m_free(void *ud, void *p, size_t n)
{
    (void)ud;
    (void)n;
    free(p);
}

static const struct h2_prio_alloc malloc_hooks = {m_alloc, m_free, NULL};

/* "id:weight{children}" with children in id order, e.g. "0{1:16{3:8}}". */
static void shape_of(const struct h2_prio_node *n, char *buf, size_t cap, size_t *o)
{
    if (n->id)
        *o += (size_t)snprintf(buf + *o, cap - *o, "%u:%u", n->id, n->weight);
    else
        *o += (size_t)snprintf(buf + *o, cap - *o, "0");
    if (!n->kids)
        return;
    const struct h2_prio_node *kids[64];
    size_t nk = 0;
    for (const struct h2_prio_node *k = n->kids; k && nk < 64; k = k->knext)
        kids[nk++] = k;
    for (size_t i = 1; i < nk; i++) /* insertion sort by id */
        for (size_t j = i; j > 0 && kids[j - 1]->id > kids[j]->id; j--) {
            const struct h2_prio_node *t = kids[j];
            kids[j] = kids[j - 1];
            kids[j - 1] = t;
        }
    *o += (size_t)snprintf(buf + *o, cap - *o, "{");
    for (size_t i = 0; i < nk; i++) {
        if (i)
            *o += (size_t)snprintf(buf + *o, cap - *o, ",");
        shape_of(kids[i], buf, cap, o);
    }
    *o += (size_t)snprintf(buf + *o, cap - *o, "}");
}

static const char *shape(const struct h2_prio_tree *t)
{
    static char buf[2048];
    size_t o = 0;
    assert_null(h2_prio_check(t));
    shape_of(&t->root, buf, sizeof buf, &o);
    return buf;
}

/* Live nodes for ids, all of default priority. */
static void open_all(struct h2_prio_tree *t, const uint32_t *ids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        assert_non_null(h2_prio_open(t, ids[i]));
}

enum { A = 1, B = 3, C = 5, D = 7, E = 9, F = 11 };

/* §5.3.1: D added under A, first without, then with the exclusive flag. */
static void test_rfc_5_3_1_figures(void **state)
{
    (void)state;
    struct h2_prio_tree t;
    h2_prio_init(&t, 64, &malloc_hooks);
    open_all(&t, (const uint32_t[]){A, B, C, D}, 4);
    assert_true(h2_prio_set(&t, B, A, 16, false));
    assert_true(h2_prio_set(&t, C, A, 16, false));
    assert_string_equal(shape(&t), "0{1:16{3:16,5:16},7:16}");
    /* Non-exclusive: D becomes a sibling of B and C. */
    assert_true(h2_prio_set(&t, D, A, 16, false));
    assert_string_equal(shape(&t), "0{1:16{3:16,5:16,7:16}}");
    /* Exclusive: D becomes the sole child of A, B and C move under D. */
    assert_true(h2_prio_set(&t, D, A, 16, true));
    assert_string_equal(shape(&t), "0{1:16{7:16{3:16,5:16}}}");
    h2_prio_fini(&t);
}

/* §5.3.3: A made dependent on its own descendant D. */
static void build_5_3_3(struct h2_prio_tree *t)
{
    h2_prio_init(t, 64, &malloc_hooks);
    open_all(t, (const uint32_t[]){A, B, C, D, E, F}, 6);
    assert_true(h2_prio_set(t, B, A, 10, false));
    assert_true(h2_prio_set(t, C, A, 20, false));
    assert_true(h2_prio_set(t, D, C, 30, false));
    assert_true(h2_prio_set(t, E, C, 40, false));
    assert_true(h2_prio_set(t, F, D, 50, false));
    assert_string_equal(shape(t), "0{1:16{3:10,5:20{7:30{11:50},9:40}}}");
}

static void test_rfc_5_3_3_figure(void **state)
{
    (void)state;
    struct h2_prio_tree t;
    build_5_3_3(&t);
    /* Non-exclusive: D moves to A's former parent (x = the root) keeping
     * its weight, then A goes under D next to F. */
    assert_true(h2_prio_set(&t, A, D, 16, false));
    assert_string_equal(shape(&t), "0{7:30{1:16{3:10,5:20{9:40}},11:50}}");
    h2_prio_fini(&t);

    build_5_3_3(&t);
    /* Exclusive: F becomes a child of A as well. */
    assert_true(h2_prio_set(&t, A, D, 16, true));
    assert_string_equal(shape(&t), "0{7:30{1:16{3:10,5:20{9:40},11:50}}}");
    h2_prio_fini(&t);
}

/* §5.3.1: a dependency on a stream not in the tree gives the default
 * priority; §5.3.4: a removed node's weight is shared by its children. */
static void test_default_and_removal(void **state)
{
    (void)state;
    struct h2_prio_tree t;
    h2_prio_init(&t, 64, &malloc_hooks);
    open_all(&t, (const uint32_t[]){A, B, C}, 3);
    assert_true(h2_prio_set(&t, A, 99, 200, true)); /* 99: not in the tree */
    assert_string_equal(shape(&t), "0{1:16,3:16,5:16}");
    assert_true(h2_prio_set(&t, A, 0, 64, false));
    assert_true(h2_prio_set(&t, B, A, 8, false));
    assert_true(h2_prio_set(&t, C, A, 24, false));
    assert_string_equal(shape(&t), "0{1:64{3:8,5:24}}");
    /* A (64) goes: B gets 64 * 8 / 32 = 16, C 64 * 24 / 32 = 48. */
    h2_prio_remove(&t, h2_prio_find(&t, A));
    assert_string_equal(shape(&t), "0{3:16,5:48}");
    /* Shares round down but never below 1. */
    open_all(&t, (const uint32_t[]){D, E}, 2);
    assert_true(h2_prio_set(&t, D, B, 1, false));
    assert_true(h2_prio_set(&t, E, B, 200, false));
    h2_prio_remove(&t, h2_prio_find(&t, B));
    assert_string_equal(shape(&t), "0{5:48,7:1,9:15}");
    h2_prio_fini(&t);
}

/* Closed and idle nodes stay (tracked) up to the bound, least recently
 * used dropped first, the tree staying whole (children of a dropped node
 * go to its parent). */
static void test_tracked_bound(void **state)
{
    (void)state;
    struct h2_prio_tree t;
    h2_prio_init(&t, 3, &malloc_hooks);
    /* Idle 101 with idle 103 under it, then 105, 107: 101 is the oldest
     * and goes when the fourth arrives; 103 moves to the root. */
    assert_true(h2_prio_set(&t, 101, 0, 100, false));
    assert_true(h2_prio_set(&t, 103, 101, 50, false));
    assert_true(h2_prio_set(&t, 105, 0, 30, false));
    assert_string_equal(shape(&t), "0{101:100{103:50},105:30}");
    assert_true(h2_prio_set(&t, 107, 103, 20, false)); /* uses 103: newest */
    /* 101 went, 103 took its weight (100 · 50 / 50). */
    assert_string_equal(shape(&t), "0{103:100{107:20},105:30}");
    /* 105 is now the least recently used. */
    assert_true(h2_prio_set(&t, 109, 0, 10, false));
    assert_string_equal(shape(&t), "0{103:100{107:20},109:10}");
    assert_int_equal(t.ntracked, 3);
    /* A live stream is not counted; when it closes it is. */
    struct h2_prio_node *n = h2_prio_open(&t, 1);
    assert_true(h2_prio_set(&t, 1, 107, 16, false));
    h2_prio_set_ready(&t, n, true);
    assert_int_equal(t.ntracked, 3);
    assert_ptr_equal(h2_prio_pick(&t), n);
    h2_prio_close(&t, n); /* 103 (the oldest now) goes; 107 takes its weight */
    assert_int_equal(t.ntracked, 3);
    assert_null(h2_prio_pick(&t));
    assert_string_equal(shape(&t), "0{107:100{1:16},109:10}");
    h2_prio_fini(&t);
    /* Bound 0: nothing is kept once closed. */
    h2_prio_init(&t, 0, &malloc_hooks);
    n = h2_prio_open(&t, 1);
    assert_true(h2_prio_set(&t, 3, 1, 16, false));
    assert_string_equal(shape(&t), "0{1:16}");
    h2_prio_close(&t, n);
    assert_string_equal(shape(&t), "0");
    assert_int_equal(t.nnodes, 0);
    h2_prio_fini(&t);
}

/* The scheduler alone: a parent before its children, then weights. */
static void test_pick_order(void **state)
{
    (void)state;
    struct h2_prio_tree t;
    h2_prio_init(&t, 64, &malloc_hooks);
    open_all(&t, (const uint32_t[]){A, B, C}, 3);
    assert_true(h2_prio_set(&t, B, A, 64, false));
    assert_true(h2_prio_set(&t, C, A, 192, false));
    for (uint32_t id = A; id <= C; id += 2)
        h2_prio_set_ready(&t, h2_prio_find(&t, id), true);
    assert_null(h2_prio_check(&t));
    uint64_t got[6] = {0};
    for (int i = 0; i < 400; i++) {
        struct h2_prio_node *n = h2_prio_pick(&t);
        assert_non_null(n);
        got[n->id] += 1000;
        h2_prio_charge(&t, n, 1000);
        if (i == 9)
            h2_prio_set_ready(&t, h2_prio_find(&t, A), false); /* A done */
    }
    assert_int_equal(got[A], 10000);
    assert_null(h2_prio_check(&t));
    /* 390 picks split 1:3 (B 64, C 192), one pick of slack. */
    assert_true(got[B] >= 96500 && got[B] <= 98500);
    assert_true(got[C] >= 291500 && got[C] <= 293500);
    h2_prio_fini(&t);
}

/* ---- the engine ------------------------------------------------------ */

/* A connection whose client grants large stream windows and a connection
 * window of `conn_window` bytes (so the output stops there). */
static struct hx *prio_conn(uint32_t conn_window, const struct h2_config *cfg)
{
    struct hx *x = hx_new(cfg);
    uint16_t ids[] = {H2_SET_INITIAL_WINDOW_SIZE};
    uint32_t vals[] = {1u << 30};
    hx_settings(x, ids, vals, 1);
    if (conn_window > H2_DEFAULT_WINDOW)
        hx_u32(x, H2_WINDOW_UPDATE, 0, conn_window - H2_DEFAULT_WINDOW);
    hx_flush(x);
    hx_free_frames(x);
    return x;
}

/* A GET on id with RFC 7540 priority (weight 1..256). */
static void get_prio(struct hx *x, uint32_t id, uint32_t dep, bool excl, unsigned weight)
{
    uint8_t blk[256];
    size_t n = hx_block(x, blk, sizeof blk, hx_get);
    x->npend +=
        h2_pack_headers(hx_room(x, 300), id, H2_F_END_HEADERS | H2_F_END_STREAM | H2_F_PRIORITY,
                        blk, n, dep, excl, (uint8_t)(weight - 1), 0);
}

static void priority_frame(struct hx *x, uint32_t id, uint32_t dep, bool excl, unsigned weight)
{
    uint8_t p[5];
    h2_put32(p, dep | (excl ? 0x80000000u : 0));
    p[4] = (uint8_t)(weight - 1);
    hx_frame(x, H2_PRIORITY, 0, id, p, 5);
}

static uint8_t body[8][1 << 20];

static void rst_stream(struct hx *x, uint32_t id)
{
    hx_u32(x, H2_RST_STREAM, id, H2_CANCEL);
}

/* Bytes of DATA per stream id (ids < 64) among the frames collected. */
static void data_bytes(struct hx *x, uint64_t *per_id)
{
    memset(per_id, 0, 64 * sizeof *per_id);
    for (size_t i = 0; i < x->nframes; i++)
        if (x->frames[i].h.type == H2_DATA && x->frames[i].h.stream_id < 64)
            per_id[x->frames[i].h.stream_id] += x->frames[i].h.length;
}

/* The ids of the DATA frames in order, runs collapsed: "1 9 5". */
static const char *data_runs(struct hx *x)
{
    static char buf[1024];
    size_t o = 0;
    uint32_t last = 0;
    buf[0] = 0;
    for (size_t i = 0; i < x->nframes; i++) {
        const struct hx_frame *f = &x->frames[i];
        if (f->h.type != H2_DATA || f->h.stream_id == last)
            continue;
        last = f->h.stream_id;
        o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%u", o ? " " : "", last);
    }
    return buf;
}

/* Chromium (net/spdy, HTTP/2 priorities): every request depends exclusively
 * on the last open stream of the nearest priority at or above its own, or
 * on 0 when none. Weights by priority HIGHEST..IDLE. */
enum { HIGHEST, MEDIUM, LOW, LOWEST, IDLE, NPRIO };
static const unsigned chromium_weight[NPRIO] = {256, 220, 183, 147, 110};

static void test_chromium_pattern(void **state)
{
    (void)state;
    struct hx *x = prio_conn(1u << 22, NULL);
    /* The page: html, an image, css, a script, a font, a prefetch, more css. */
    static const struct {
        uint32_t id;
        int prio;
    } reqs[] = {{1, HIGHEST}, {3, LOWEST}, {5, MEDIUM}, {7, LOW},
                {9, HIGHEST}, {11, IDLE},  {13, MEDIUM}};
    uint32_t last[NPRIO] = {0};
    for (size_t i = 0; i < 7; i++) {
        uint32_t dep = 0;
        for (int p = reqs[i].prio; p >= HIGHEST && !dep; p--)
            dep = last[p];
        get_prio(x, reqs[i].id, dep, true, chromium_weight[reqs[i].prio]);
        last[reqs[i].prio] = reqs[i].id;
    }
    hx_flush(x);
    assert_int_equal(x->c->prio_mode, H2_PM_TREE);
    assert_null(h2_prio_check(&x->c->prio));
    /* The chain 1 → 9 → 5 → 13 → 7 → 3 → 11: all respond at once, each is
     * sent whole before the next (a parent goes before its children). */
    for (size_t i = 0; i < 7; i++)
        hx_respond(x, reqs[i].id, 200, body[i % 8], 40000);
    hx_collect(x);
    assert_string_equal(data_runs(x), "1 9 5 13 7 3 11");
    assert_int_equal(hx_count(x, H2_DATA), 7 * 3);
    hx_del(x);
}

/* Firefox before RFC 9218 (network.http.http2.priority...): idle
 * placeholder streams built with PRIORITY frames, requests under them. */
static void test_firefox_pattern(void **state)
{
    (void)state;
    struct hx *x = prio_conn(1u << 20, NULL);
    priority_frame(x, 3, 0, false, 201); /* leaders */
    priority_frame(x, 5, 0, false, 101); /* others */
    priority_frame(x, 7, 0, false, 1);   /* background */
    priority_frame(x, 9, 7, false, 1);   /* speculative */
    priority_frame(x, 11, 3, false, 1);  /* followers */
    get_prio(x, 13, 3, false, 32);       /* html: leader */
    get_prio(x, 15, 3, false, 32);       /* css: leader */
    get_prio(x, 17, 11, false, 22);      /* image: follower */
    get_prio(x, 19, 5, false, 32);       /* xhr: others */
    get_prio(x, 21, 9, false, 16);       /* prefetch: speculative */
    hx_flush(x);
    assert_int_equal(x->c->prio_mode, H2_PM_TREE);
    assert_int_equal(x->c->prio.ntracked, 5); /* the placeholders */
    for (uint32_t id = 13, i = 0; id <= 21; id += 2, i++)
        hx_respond(x, id, 200, body[i], 1u << 20);
    hx_collect(x); /* 1 MiB of window for 5 MiB of bodies */
    uint64_t b[64];
    data_bytes(x, b);
    uint64_t leaders = b[13] + b[15] + b[17], others = b[19];
    /* Root level: leaders 201, others 101, background 1 (one frame: all
     * start even, then its time moves 201 times slower). */
    assert_true(b[21] == 16384);
    double r = (double)leaders / (double)others;
    assert_true(r > 1.7 && r < 2.3);
    /* Within the leaders: html and css equal, the follower group (weight
     * 1 against 32 + 32) has had its start-up frame only. */
    assert_true(b[13] >= b[15] - 16384 && b[13] <= b[15] + 16384);
    assert_true(b[17] == 16384);
    /* html done, the next MiB goes to css and xhr, 201:101 again. */
    hx_free_frames(x);
    hx_u32(x, H2_WINDOW_UPDATE, 0, 1u << 20);
    rst_stream(x, 13);
    hx_flush(x);
    data_bytes(x, b);
    assert_int_equal(b[13], 0);
    r = (double)(b[15] + b[17]) / (double)b[19];
    assert_true(r > 1.7 && r < 2.3);
    assert_null(h2_prio_check(&x->c->prio));
    hx_del(x);
}

/* Equal weights: after any prefix, bytes within one frame of each other. */
static void test_equal_weights_fair(void **state)
{
    (void)state;
    struct hx *x = prio_conn(1u << 20, NULL);
    for (uint32_t id = 1; id <= 7; id += 2)
        get_prio(x, id, 0, false, 16);
    hx_flush(x);
    for (uint32_t id = 1, i = 0; id <= 7; id += 2, i++)
        hx_respond(x, id, 200, body[i], 1u << 20);
    hx_collect(x);
    uint64_t got[64] = {0};
    for (size_t i = 0; i < x->nframes; i++) {
        if (x->frames[i].h.type != H2_DATA)
            continue;
        got[x->frames[i].h.stream_id] += x->frames[i].h.length;
        uint64_t lo = UINT64_MAX, hi = 0;
        for (uint32_t id = 1; id <= 7; id += 2) {
            lo = got[id] < lo ? got[id] : lo;
            hi = got[id] > hi ? got[id] : hi;
        }
        assert_true(hi - lo <= 16384);
    }
    data_bytes(x, got);
    assert_int_equal(got[1] + got[3] + got[5] + got[7], 1u << 20);
    hx_del(x);
}

/* Weights 64 and 192 (1:3): bytes 1:3 within a frame. */
static void test_weight_ratio(void **state)
{
    (void)state;
    struct hx *x = prio_conn(1u << 20, NULL);
    get_prio(x, 1, 0, false, 64);
    get_prio(x, 3, 0, false, 192);
    hx_flush(x);
    hx_respond(x, 1, 200, body[0], 1u << 20);
    hx_respond(x, 3, 200, body[1], 1u << 20);
    hx_collect(x);
    uint64_t b[64];
    data_bytes(x, b);
    assert_int_equal(b[1] + b[3], 1u << 20);
    assert_true(b[1] >= 262144 - 16384 && b[1] <= 262144 + 16384);
    hx_del(x);
}

/* A light stream among heavy ones keeps getting frames. */
static void test_no_starvation(void **state)
{
    (void)state;
    struct hx *x = prio_conn(2u << 20, NULL);
    get_prio(x, 1, 0, false, 256);
    get_prio(x, 3, 0, false, 256);
    get_prio(x, 5, 0, false, 256);
    get_prio(x, 7, 0, false, 16);
    hx_flush(x);
    for (uint32_t id = 1, i = 0; id <= 7; id += 2, i++)
        hx_respond(x, id, 200, body[i], 1u << 20);
    hx_collect(x);
    uint64_t b[64];
    data_bytes(x, b);
    /* 2 MiB: 16/784 of it is 42 KiB (2 to 3 frames); the heavy ones are
     * not done. */
    assert_true(b[7] >= 2 * 16384 && b[7] <= 4 * 16384);
    assert_true(b[1] < (1u << 20) && b[3] < (1u << 20) && b[5] < (1u << 20));
    /* Its frames are spread, not bunched at the start: one in the last
     * third of the output. */
    size_t ndata = hx_count(x, H2_DATA), k = 0;
    bool late = false;
    for (size_t i = 0; i < x->nframes; i++)
        if (x->frames[i].h.type == H2_DATA && k++ > 2 * ndata / 3 && x->frames[i].h.stream_id == 7)
            late = true;
    assert_true(late);
    hx_del(x);
}

/* 10,000 PRIORITY frames for idle streams: the tree stays within
 * priority_tracked_streams and consistent. */
static void test_tracked_bound_engine(void **state)
{
    (void)state;
    struct h2_config cfg;
    h2_config_defaults(&cfg);
    cfg.priority_budget = (struct h2_budget_cfg){20000, 20000};
    struct hx *x = prio_conn(H2_DEFAULT_WINDOW, &cfg);
    get_prio(x, 1, 0, false, 16); /* a live stream the idle ones hang under */
    hx_flush(x);
    for (uint32_t i = 0; i < 10000; i++) {
        uint32_t id = 101 + 2 * i;
        priority_frame(x, id, i % 3 ? id - 2 : 1, i % 5 == 0, 1 + i % 256);
        if (x->npend > sizeof x->pend - 64)
            hx_flush(x);
    }
    hx_flush(x);
    assert_int_equal(hx_goaway(x), -1);
    assert_int_equal(x->c->prio.ntracked, 64);
    assert_int_equal(x->c->prio.nnodes, 65);
    assert_null(h2_prio_check(&x->c->prio));
    /* The live stream is still served. */
    hx_respond(x, 1, 200, body[0], 1000);
    hx_collect(x);
    assert_int_equal(hx_count(x, H2_DATA), 1);
    hx_del(x);
}

/* A PRIORITY frame on an idle stream decides its priority when it opens
 * without a signal of its own; self-dependency is a stream error. */
static void test_idle_priority_kept(void **state)
{
    (void)state;
    struct hx *x = prio_conn(1u << 20, NULL);
    get_prio(x, 1, 0, false, 16);
    priority_frame(x, 3, 1, true, 100);
    hx_headers(x, 3, H2_F_END_STREAM, hx_get); /* no PRIORITY flag */
    hx_flush(x);
    const struct h2_prio_node *n = h2_prio_find(&x->c->prio, 3);
    assert_non_null(n);
    assert_false(n->tracked);
    assert_int_equal(n->weight, 100);
    assert_int_equal(n->parent->id, 1);
    /* Stream 1 first (parent), then 3. */
    hx_respond(x, 3, 200, body[1], 40000);
    hx_respond(x, 1, 200, body[0], 40000);
    hx_collect(x);
    assert_string_equal(data_runs(x), "1 3");
    hx_free_frames(x);
    priority_frame(x, 5, 5, false, 16);
    hx_flush(x);
    assert_int_equal(hx_rst(x, 5), H2_PROTOCOL_ERROR);
    hx_del(x);
}

/* §5.3.5: a pushed stream depends on its associated stream. */
static void test_push_under_associated(void **state)
{
    (void)state;
    struct h2_config cfg;
    h2_config_defaults(&cfg);
    cfg.enable_push = true;
    struct hx *x = prio_conn(1u << 20, &cfg);
    get_prio(x, 1, 0, false, 32);
    hx_flush(x);
    struct hb_msg req = {.method = HB_STR_LIT("GET"),
                         .scheme = HB_STR_LIT("https"),
                         .authority = HB_STR_LIT("example.com"),
                         .path = HB_STR_LIT("/s.css")};
    assert_int_equal(h2_conn_submit_push_promise(x->c, 1, &req), 2);
    const struct h2_prio_node *n = h2_prio_find(&x->c->prio, 2);
    assert_non_null(n);
    assert_int_equal(n->parent->id, 1);
    assert_int_equal(n->weight, 16);
    hx_respond(x, 2, 200, body[1], 40000);
    hx_respond(x, 1, 200, body[0], 40000);
    hx_collect(x);
    assert_string_equal(data_runs(x), "1 2");
    hx_del(x);
}

/* RFC 9218 signals end tree mode for the connection: a priority header
 * field, a PRIORITY_UPDATE, or SETTINGS_NO_RFC7540_PRIORITIES=1. */
static void test_mode_switch(void **state)
{
    (void)state;
    struct hx *x = prio_conn(1u << 20, NULL);
    get_prio(x, 1, 0, false, 16);
    get_prio(x, 3, 1, true, 16);
    hx_flush(x);
    assert_int_equal(x->c->prio_mode, H2_PM_TREE);
    hx_respond(x, 1, 200, body[0], 100000);
    hx_respond(x, 3, 200, body[1], 100000);
    static const char *const get_u0[] = {":method",  "GET", ":scheme",    "https",
                                         ":path",    "/",   ":authority", "example.com",
                                         "priority", "u=0", NULL};
    hx_headers(x, 5, H2_F_END_STREAM, get_u0);
    hx_flush(x); /* the tree is gone; 1 and 3 were moved to the lists */
    assert_int_equal(x->c->prio_mode, H2_PM_URGENCY);
    assert_int_equal(x->c->prio.nnodes, 0);
    uint64_t b[64];
    data_bytes(x, b);
    assert_int_equal(b[1] + b[3], 200000);
    hx_del(x);

    /* The peer's SETTINGS_NO_RFC7540_PRIORITIES=1: PRIORITY builds nothing. */
    x = prio_conn(1u << 20, NULL);
    uint16_t ids[] = {H2_SET_NO_RFC7540_PRIORITIES};
    uint32_t vals[] = {1};
    hx_settings(x, ids, vals, 1);
    priority_frame(x, 3, 0, false, 100);
    get_prio(x, 1, 0, false, 16);
    hx_flush(x);
    assert_int_equal(x->c->prio_mode, H2_PM_URGENCY);
    assert_int_equal(x->c->prio.nnodes, 0);
    hx_del(x);

    /* Ours (configured): the same from the start. */
    struct h2_config cfg;
    h2_config_defaults(&cfg);
    cfg.no_rfc7540_priorities = true;
    x = prio_conn(1u << 20, &cfg);
    get_prio(x, 1, 0, false, 16);
    hx_flush(x);
    assert_int_equal(x->c->prio_mode, H2_PM_URGENCY);
    hx_del(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc_5_3_1_figures),
        cmocka_unit_test(test_rfc_5_3_3_figure),
        cmocka_unit_test(test_default_and_removal),
        cmocka_unit_test(test_tracked_bound),
        cmocka_unit_test(test_pick_order),
        cmocka_unit_test(test_chromium_pattern),
        cmocka_unit_test(test_firefox_pattern),
        cmocka_unit_test(test_equal_weights_fair),
        cmocka_unit_test(test_weight_ratio),
        cmocka_unit_test(test_no_starvation),
        cmocka_unit_test(test_tracked_bound_engine),
        cmocka_unit_test(test_idle_priority_kept),
        cmocka_unit_test(test_push_under_associated),
        cmocka_unit_test(test_mode_switch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
