/* tests/core/test_h2_user_data.c — per-stream user data (core/h2_conn.h:
 * h2_conn_stream_set_user_data / h2_conn_stream_user_data), readable until
 * and during the stream's on_stream_close, whether that close is delivered
 * at once (inside recv) or owed (a submit call outside the callbacks). */
#include "h2_harness.h"

#include "core/err.h"

static void test_set_and_get(void **st)
{
    (void)st;
    struct hx *x = hx_with_gets(2);
    int a, b;
    assert_null(h2_conn_stream_user_data(x->c, 1)); /* none attached yet */
    assert_int_equal(h2_conn_stream_set_user_data(x->c, 1, &a), 0);
    assert_int_equal(h2_conn_stream_set_user_data(x->c, 3, &b), 0);
    assert_ptr_equal(h2_conn_stream_user_data(x->c, 1), &a);
    assert_ptr_equal(h2_conn_stream_user_data(x->c, 3), &b);
    assert_int_equal(h2_conn_stream_set_user_data(x->c, 5, &a), HB_ENOTFOUND);
    assert_null(h2_conn_stream_user_data(x->c, 5));
    assert_null(h2_conn_stream_user_data(x->c, 0));
    assert_int_equal(h2_conn_stream_set_user_data(x->c, 1, &b), 0); /* replaced */
    assert_ptr_equal(h2_conn_stream_user_data(x->c, 1), &b);
    hx_del(x);
}

/* A close owed by a submit call outside the callbacks: the stream has left
 * the API, but its user data reaches the deferred on_stream_close. */
static void test_deferred_close_sees_user_data(void **st)
{
    (void)st;
    struct hx *x = hx_with_gets(2);
    int a, b;
    h2_conn_stream_set_user_data(x->c, 1, &a);
    h2_conn_stream_set_user_data(x->c, 3, &b);
    struct hb_msg m = {.status = 204};
    assert_int_equal(h2_conn_submit_response(x->c, 1, &m, true), 0);
    assert_int_equal(h2_conn_reset_stream(x->c, 3, H2_CANCEL), 0);
    assert_null(h2_conn_stream_user_data(x->c, 1)); /* closed for the API */
    assert_null(h2_conn_stream_user_data(x->c, 3));
    hx_collect(x);
    assert_int_equal(hx_count_ev(x, 'C'), 2);
    assert_int_equal(x->ev[0].id, 1);
    assert_ptr_equal(x->ev[0].user_data, &a);
    assert_int_equal(x->ev[1].id, 3);
    assert_ptr_equal(x->ev[1].user_data, &b);
    assert_null(h2_conn_stream_user_data(x->c, 1)); /* and gone after it */
    hx_del(x);
}

/* A close delivered at once, inside recv (the client's RST_STREAM). */
static void test_immediate_close_sees_user_data(void **st)
{
    (void)st;
    struct hx *x = hx_with_gets(1);
    int a;
    h2_conn_stream_set_user_data(x->c, 1, &a);
    hx_u32(x, H2_RST_STREAM, 1, H2_CANCEL);
    hx_flush(x);
    struct hx_ev *e = hx_find_ev(x, 'C', 0);
    assert_non_null(e);
    assert_int_equal(e->code, H2_CANCEL);
    assert_ptr_equal(e->user_data, &a);
    assert_null(h2_conn_stream_user_data(x->c, 1));
    hx_del(x);
}

/* A stream without user data closes with NULL, even while another stream's
 * close is being delivered. */
static void test_no_user_data_is_null(void **st)
{
    (void)st;
    struct hx *x = hx_with_gets(2);
    int a;
    h2_conn_stream_set_user_data(x->c, 3, &a);
    struct hb_msg m = {.status = 204};
    h2_conn_submit_response(x->c, 1, &m, true);
    h2_conn_submit_response(x->c, 3, &m, true);
    hx_collect(x);
    assert_int_equal(hx_count_ev(x, 'C'), 2);
    assert_null(x->ev[0].user_data);
    assert_ptr_equal(x->ev[1].user_data, &a);
    hx_del(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_and_get),
        cmocka_unit_test(test_deferred_close_sees_user_data),
        cmocka_unit_test(test_immediate_close_sees_user_data),
        cmocka_unit_test(test_no_user_data_is_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
