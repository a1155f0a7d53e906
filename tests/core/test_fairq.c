/* tests/core/test_fairq.c — the fair wait queue and the per-client cap
 * (core/fairq.h): round-robin across clients, arrival order within one,
 * the cap, removal, the key table under churn. */
#include "testutil/testutil.h"

#include <stdlib.h>

#include "core/fairq.h"

#define A ((uintptr_t)0x1000)
#define B ((uintptr_t)0x2000)
#define C ((uintptr_t)0x3000)

struct waiter {
    struct hb_fq_item it;
    uintptr_t who;
    int n;
};

static struct waiter *pop(struct hb_fairq *q, struct hb_fq_client **cl)
{
    struct hb_fq_item *it = hb_fq_pop(q, cl);
    return it ? hb_container_of(it, struct waiter, it) : NULL;
}

/* One client's 1,000 waiters do not stand in front of another's first. */
static void test_round_robin(void **st)
{
    (void)st;
    struct hb_fairq q;
    hb_fq_init(&q, 0);
    static struct waiter a[1000], b[2], c[1];
    for (int i = 0; i < 1000; i++) {
        a[i] = (struct waiter){.who = A, .n = i};
        assert_int_equal(hb_fq_push(&q, A, &a[i].it), 0);
    }
    b[0] = (struct waiter){.who = B, .n = 0};
    b[1] = (struct waiter){.who = B, .n = 1};
    c[0] = (struct waiter){.who = C, .n = 0};
    assert_int_equal(hb_fq_push(&q, B, &b[0].it), 0);
    assert_int_equal(hb_fq_push(&q, B, &b[1].it), 0);
    assert_int_equal(hb_fq_push(&q, C, &c[0].it), 0);
    assert_int_equal(q.nwait, 1003);
    /* The oldest is A's first (for timeouts), whatever the serving order. */
    assert_ptr_equal(hb_fq_oldest(&q), &a[0].it);
    struct hb_fq_client *cl;
    struct waiter *w = pop(&q, &cl);
    assert_ptr_equal(w, &a[0]);
    assert_null(cl); /* no cap: nothing counted */
    assert_ptr_equal(pop(&q, &cl), &b[0]);
    assert_ptr_equal(pop(&q, &cl), &c[0]);
    assert_ptr_equal(pop(&q, &cl), &a[1]);
    assert_ptr_equal(pop(&q, &cl), &b[1]);
    /* Only A is left: its waiters in order. */
    for (int i = 2; i < 1000; i++) {
        w = pop(&q, &cl);
        assert_non_null(w);
        assert_int_equal(w->who, A);
        assert_int_equal(w->n, i);
    }
    assert_null(pop(&q, &cl));
    assert_false(hb_fq_ready(&q));
    assert_int_equal(q.nwait, 0);
    assert_int_equal(q.nclients, 0);
    hb_fq_free(&q);
}

/* A client at its cap waits, and is served again when it gives one back,
 * while others under the cap are served meanwhile. */
static void test_cap(void **st)
{
    (void)st;
    struct hb_fairq q;
    hb_fq_init(&q, 2);
    bool enomem;
    assert_true(hb_fq_may_take(&q, A));
    struct hb_fq_client *h1 = hb_fq_take(&q, A, &enomem);
    struct hb_fq_client *h2 = hb_fq_take(&q, A, &enomem);
    assert_non_null(h1);
    assert_ptr_equal(h1, h2);
    assert_int_equal(hb_fq_held(&q, A), 2);
    assert_false(hb_fq_may_take(&q, A));
    assert_true(hb_fq_may_take(&q, B));
    struct waiter a1 = {.who = A}, a2 = {.who = A}, b1 = {.who = B};
    assert_int_equal(hb_fq_push(&q, A, &a1.it), 0);
    assert_int_equal(hb_fq_push(&q, A, &a2.it), 0);
    /* A is at its cap: none of its waiters may be served. */
    assert_false(hb_fq_ready(&q));
    struct hb_fq_client *cl;
    assert_null(pop(&q, &cl));
    assert_int_equal(hb_fq_push(&q, B, &b1.it), 0);
    assert_true(hb_fq_ready(&q));
    assert_ptr_equal(pop(&q, &cl), &b1);
    assert_non_null(cl);
    assert_int_equal(hb_fq_held(&q, B), 1);
    hb_fq_give(&q, cl);
    assert_int_equal(hb_fq_held(&q, B), 0);
    assert_false(hb_fq_ready(&q));
    /* A gives one back: its first waiter is next, and is charged. */
    hb_fq_give(&q, h1);
    assert_int_equal(hb_fq_held(&q, A), 1);
    assert_true(hb_fq_ready(&q));
    assert_ptr_equal(pop(&q, &cl), &a1);
    assert_ptr_equal(cl, h2);
    assert_int_equal(hb_fq_held(&q, A), 2);
    assert_false(hb_fq_ready(&q)); /* a2 waits for the next one */
    hb_fq_remove(&q, &a2.it);       /* withdrawn */
    hb_fq_remove(&q, &a2.it);       /* twice: a no-op */
    assert_int_equal(q.nwait, 0);
    hb_fq_give(&q, cl);
    hb_fq_give(&q, cl);
    assert_int_equal(q.nclients, 0); /* nothing held or waiting: entries gone */
    hb_fq_free(&q);
}

/* Removal from the middle keeps both orders; the oldest moves on. */
static void test_remove_and_oldest(void **st)
{
    (void)st;
    struct hb_fairq q;
    hb_fq_init(&q, 0);
    struct waiter w[6];
    for (int i = 0; i < 6; i++) {
        w[i] = (struct waiter){.who = i % 2 ? B : A, .n = i};
        assert_int_equal(hb_fq_push(&q, w[i].who, &w[i].it), 0);
    }
    hb_fq_remove(&q, &w[0].it);
    assert_ptr_equal(hb_fq_oldest(&q), &w[1].it);
    hb_fq_remove(&q, &w[2].it);
    struct hb_fq_client *cl;
    /* A is first in the ring, its next is w4; then B's w1, w3. */
    assert_ptr_equal(pop(&q, &cl), &w[4]);
    assert_ptr_equal(pop(&q, &cl), &w[1]);
    assert_ptr_equal(hb_fq_oldest(&q), &w[3].it);
    assert_ptr_equal(pop(&q, &cl), &w[3]);
    assert_ptr_equal(hb_fq_oldest(&q), &w[5].it);
    assert_ptr_equal(pop(&q, &cl), &w[5]);
    assert_null(hb_fq_oldest(&q));
    hb_fq_free(&q);
}

/* Many clients come and go: the table grows, deletions keep every
 * remaining key reachable (backward shift), counts stay exact. */
static void test_table_churn(void **st)
{
    (void)st;
    struct hb_fairq q;
    hb_fq_init(&q, 3);
    enum { N = 5000 };
    struct hb_fq_client **h = calloc(N, sizeof *h);
    assert_non_null(h);
    bool enomem;
    for (int round = 0; round < 4; round++) {
        for (uintptr_t k = 0; k < N; k++) {
            h[k] = hb_fq_take(&q, k * 8 + 8, &enomem);
            assert_non_null(h[k]);
        }
        assert_int_equal(q.nclients, N);
        /* Give back every other one (in a stride so that chains break up). */
        for (uintptr_t k = round % 2; k < N; k += 2)
            hb_fq_give(&q, h[k]);
        for (uintptr_t k = 0; k < N; k++)
            assert_int_equal(hb_fq_held(&q, k * 8 + 8), (k % 2 == (uintptr_t)(round % 2)) ? 0 : 1);
        for (uintptr_t k = 1 - round % 2; k < N; k += 2)
            hb_fq_give(&q, h[k]);
        assert_int_equal(q.nclients, 0);
    }
    free(h);
    hb_fq_free(&q);
}

/* No cap: take counts nothing and give of NULL is a no-op. */
static void test_no_cap(void **st)
{
    (void)st;
    struct hb_fairq q;
    hb_fq_init(&q, 0);
    bool enomem = true;
    assert_null(hb_fq_take(&q, A, &enomem));
    assert_false(enomem);
    hb_fq_give(&q, NULL);
    assert_true(hb_fq_may_take(&q, A));
    assert_int_equal(q.nclients, 0);
    assert_null(q.slots); /* nothing was allocated */
    hb_fq_free(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_robin),       cmocka_unit_test(test_cap),
        cmocka_unit_test(test_remove_and_oldest), cmocka_unit_test(test_table_churn),
        cmocka_unit_test(test_no_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
