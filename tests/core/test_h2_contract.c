/* tests/core/test_h2_contract.c — the engine's threading contract
 * (core/h2_conn.h): callbacks run only inside h2_conn_recv(), h2_conn_send()
 * and h2_conn_on_timeout(). A submit/reset/goaway call made from outside
 * them that closes a stream owes on_stream_close to the next of those. */
#include "h2_harness.h"

#include "core/err.h"

static void test_submit_end_stream_defers_close(void **st)
{
    (void)st;
    struct hx *x = hx_with_gets(1);
    struct hb_msg m = {.status = 204};
    assert_int_equal(h2_conn_submit_response(x->c, 1, &m, true), 0);
    assert_int_equal(x->nev, 0); /* no callback inside a submit call */
    /* The stream is closed for the API already; the notification is owed. */
    assert_int_equal(h2_conn_submit_response(x->c, 1, &m, true), HB_ENOTFOUND);
    assert_true(h2_conn_want_write(x->c));
    hx_collect(x);
    assert_int_equal(x->nev, 1);
    assert_int_equal(x->ev[0].kind, 'C');
    assert_int_equal(x->ev[0].id, 1);
    assert_int_equal(x->ev[0].code, H2_NO_ERROR);
    assert_non_null(hx_find(x, H2_HEADERS, 0));
    hx_collect(x); /* delivered exactly once */
    assert_int_equal(x->nev, 1);
    hx_del(x);
}

static void test_reset_defers_close(void **st)
{
    (void)st;
    struct hx *x = hx_with_gets(2);
    assert_int_equal(h2_conn_reset_stream(x->c, 3, H2_CANCEL), 0);
    assert_int_equal(h2_conn_reset_stream(x->c, 1, H2_INTERNAL_ERROR), 0);
    assert_int_equal(x->nev, 0);
    hx_collect(x);
    assert_int_equal(x->nev, 2); /* in the order the streams closed */
    assert_int_equal(x->ev[0].kind, 'C');
    assert_int_equal(x->ev[0].id, 3);
    assert_int_equal(x->ev[0].code, H2_CANCEL);
    assert_int_equal(x->ev[1].id, 1);
    assert_int_equal(x->ev[1].code, H2_INTERNAL_ERROR);
    assert_int_equal(hx_rst(x, 3), H2_CANCEL);
    hx_del(x);
}

static void test_goaway_defers_close_and_holds_want_close(void **st)
{
    (void)st;
    struct hx *x = hx_with_gets(3);
    assert_int_equal(h2_conn_goaway(x->c, H2_INTERNAL_ERROR, false), 0);
    assert_int_equal(x->nev, 0);
    /* The owed closes keep the connection from being deleted unnotified. */
    assert_false(h2_conn_want_close(x->c));
    assert_true(h2_conn_want_write(x->c));
    hx_collect(x);
    assert_int_equal(hx_count_ev(x, 'C'), 3);
    assert_int_equal(hx_find_ev(x, 'C', 0)->code, H2_INTERNAL_ERROR);
    assert_int_equal(hx_goaway(x), H2_INTERNAL_ERROR);
    assert_true(h2_conn_want_close(x->c));
    hx_del(x);
}

static void test_recv_delivers_owed_close_first(void **st)
{
    (void)st;
    struct hx *x = hx_with_gets(1);
    struct hb_msg m = {.status = 200};
    assert_int_equal(h2_conn_submit_response(x->c, 1, &m, true), 0);
    hx_headers(x, 3, H2_F_END_STREAM, hx_get);
    assert_int_equal(x->nev, 0);
    hx_flush(x); /* recv, then send */
    assert_int_equal(x->nev, 2);
    assert_int_equal(x->ev[0].kind, 'C');
    assert_int_equal(x->ev[0].id, 1);
    assert_int_equal(x->ev[1].kind, 'R');
    assert_int_equal(x->ev[1].id, 3);
    hx_del(x);
}

static void test_on_timeout_delivers_owed_close(void **st)
{
    (void)st;
    struct hx *x = hx_with_gets(1);
    assert_int_equal(h2_conn_reset_stream(x->c, 1, H2_CANCEL), 0);
    assert_int_equal(x->nev, 0);
    assert_int_equal(h2_conn_on_timeout(x->c, x->now), 0);
    assert_int_equal(x->nev, 1);
    assert_int_equal(x->ev[0].kind, 'C');
    assert_int_equal(x->ev[0].code, H2_CANCEL);
    hx_del(x);
}

static void test_close_inside_callback_still_immediate(void **st)
{
    (void)st;
    /* Inside recv (a callback context) a peer RST closes at once. */
    struct hx *x = hx_with_gets(1);
    hx_u32(x, H2_RST_STREAM, 1, H2_CANCEL);
    hx_flush(x);
    assert_int_equal(hx_count_ev(x, 'C'), 1);
    hx_del(x);
}

static void test_del_with_owed_close(void **st)
{
    (void)st;
    /* Deleting with notifications owed frees them without calling back. */
    struct hx *x = hx_with_gets(20);
    for (uint32_t id = 1; id < 40; id += 2)
        assert_int_equal(h2_conn_reset_stream(x->c, id, H2_CANCEL), 0);
    assert_int_equal(x->nev, 0);
    hx_del(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_submit_end_stream_defers_close),
        cmocka_unit_test(test_reset_defers_close),
        cmocka_unit_test(test_goaway_defers_close_and_holds_want_close),
        cmocka_unit_test(test_recv_delivers_owed_close_first),
        cmocka_unit_test(test_on_timeout_delivers_owed_close),
        cmocka_unit_test(test_close_inside_callback_still_immediate),
        cmocka_unit_test(test_del_with_owed_close),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
