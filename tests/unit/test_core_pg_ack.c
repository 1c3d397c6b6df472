/*  test_core_pg_ack — the barrier acknowledgement queue shared by the LISTEN threads: what it
 *  queues, in what form, and that it stays bounded (a flood of barriers never grows it). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "td_pg_ack.h"

static void
test_queue (void **state)
{
    (void) state;
    td_pg_ack_t q;
    memset (&q, 0xff, sizeof q);
    td_pg_ack_reset (&q);
    assert_int_equal (q.count, 0);
    assert_false (q.inflight || q.flush_pending);
    td_pg_ack_push (&q, "b:1700000000000000:ab12", "4242");
    assert_int_equal (q.count, 1);
    assert_string_equal (q.acks [q.head], "a:1700000000000000:ab12:4242");
    td_pg_ack_push (&q, "b", "4242");                   //  not a barrier: ignored
    assert_int_equal (q.count, 1);
    char big [300];
    memset (big, 'x', sizeof big - 1);
    big [sizeof big - 1] = 0;
    td_pg_ack_push (&q, big, "1");                      //  would not fit: dropped, not cut
    assert_int_equal (q.count, 1);
    for (int i = 0; i < 2 * TD_PG_ACKS_MAX; i++) {
        char b [32];
        snprintf (b, sizeof b, "b:%d", i);
        td_pg_ack_push (&q, b, "7");
    }
    assert_int_equal (q.count, TD_PG_ACKS_MAX);         //  bounded
    assert_string_equal (q.acks [q.head], "a:1700000000000000:ab12:4242");   //  oldest first
    td_pg_ack_reset (&q);
    assert_int_equal (q.count, 0);
}

int
main (void)
{
    const struct CMUnitTest tests [] = { cmocka_unit_test (test_queue) };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
