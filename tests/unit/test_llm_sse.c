/*  test_llm_sse — the event-stream parser of the llm gateway (actors/llm/td_llm_sse.h): framing
 *  by LF, CRLF and CR, CRLF split across slices, multi-line data, comments, event names, the size
 *  caps, and the same events whatever the slicing (every stream fed one byte at a time too).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "llm/td_llm_sse.h"

typedef struct {
    int n;
    char events [16][32];
    char data [16][256];
    int stop_at;                    //  return 7 at this event (1-based), 0 never
    size_t last_len;
} seen_t;

static int
s_collect (void *arg, const char *event, const char *data, size_t len)
{
    seen_t *s = (seen_t *) arg;
    s->last_len = len;
    if (s->n < 16) {
        snprintf (s->events [s->n], sizeof s->events [0], "%s", event);
        snprintf (s->data [s->n], sizeof s->data [0], "%s", data);
    }
    s->n++;
    return s->stop_at && s->n == s->stop_at? 7: 0;
}

//  Feed text whole, and again one byte at a time, and check both give the same events.
static void
s_run (const char *text, seen_t *whole)
{
    seen_t bytes = { 0 };
    memset (whole, 0, sizeof *whole);
    td_llm_sse_t *p = td_llm_sse_new (1024, s_collect, whole);
    assert_non_null (p);
    assert_int_equal (td_llm_sse_feed (p, text, strlen (text)), 0);
    td_llm_sse_destroy (&p);
    assert_null (p);
    p = td_llm_sse_new (1024, s_collect, &bytes);
    for (size_t i = 0; text [i]; i++)
        assert_int_equal (td_llm_sse_feed (p, text + i, 1), 0);
    assert_int_equal (td_llm_sse_count (p), (size_t) bytes.n);
    td_llm_sse_destroy (&p);
    assert_int_equal (bytes.n, whole->n);
    for (int i = 0; i < whole->n && i < 16; i++) {
        assert_string_equal (bytes.events [i], whole->events [i]);
        assert_string_equal (bytes.data [i], whole->data [i]);
    }
}

static void
test_line_endings (void **state)
{
    (void) state;
    seen_t s;
    s_run ("data: a\n\ndata: b\r\n\r\ndata: c\r\rdata: d\n\n", &s);
    assert_int_equal (s.n, 4);
    assert_string_equal (s.data [0], "a");
    assert_string_equal (s.data [1], "b");
    assert_string_equal (s.data [2], "c");
    assert_string_equal (s.data [3], "d");
}

static void
test_fields (void **state)
{
    (void) state;
    seen_t s;
    s_run (": keep-alive\n\nevent: message_start\ndata: {\"x\":1}\n\n"
           "data:no-space\n\n" "data: one\ndata: two\n\n" "id: 5\nretry: 100\ndata: x\n\n"
           "event: ping\n\n" "data\n\n", &s);
    //  the comment and the event without data dispatch nothing
    assert_int_equal (s.n, 5);
    assert_string_equal (s.events [0], "message_start");
    assert_string_equal (s.data [0], "{\"x\":1}");
    assert_string_equal (s.events [1], "");            //  the event name does not stick
    assert_string_equal (s.data [1], "no-space");
    assert_string_equal (s.data [2], "one\ntwo");
    assert_string_equal (s.data [3], "x");
    assert_string_equal (s.data [4], "");              //  "data" alone: an empty data line
    assert_int_equal (s.last_len, 0);
}

static void
test_no_dispatch_without_blank_line (void **state)
{
    (void) state;
    seen_t s;
    s_run ("data: pending\n", &s);
    assert_int_equal (s.n, 0);
}

static void
test_caps (void **state)
{
    (void) state;
    seen_t s = { 0 };
    td_llm_sse_t *p = td_llm_sse_new (16, s_collect, &s);
    char big [64];
    memset (big, 'a', sizeof big);
    //  a line over the cap, without any newline
    assert_int_equal (td_llm_sse_feed (p, big, sizeof big), TD_LLM_SSE_TOO_LARGE);
    //  spent: later input is refused the same way
    assert_int_equal (td_llm_sse_feed (p, "data: x\n\n", 9), TD_LLM_SSE_TOO_LARGE);
    td_llm_sse_destroy (&p);
    //  data over the cap across several short lines
    p = td_llm_sse_new (16, s_collect, &s);
    assert_int_equal (td_llm_sse_feed (p, "data: 12345\ndata: 12345\n", 24), 0);
    assert_int_equal (td_llm_sse_feed (p, "data: 12345\n", 12), TD_LLM_SSE_TOO_LARGE);
    assert_int_equal (s.n, 0);
    td_llm_sse_destroy (&p);
    assert_null (td_llm_sse_new (0, s_collect, &s));
    assert_null (td_llm_sse_new (16, NULL, &s));
    td_llm_sse_destroy (NULL);
}

static void
test_callback_stops (void **state)
{
    (void) state;
    seen_t s = { .stop_at = 2 };
    td_llm_sse_t *p = td_llm_sse_new (64, s_collect, &s);
    const char *text = "data: 1\n\ndata: 2\n\ndata: 3\n\n";
    assert_int_equal (td_llm_sse_feed (p, text, strlen (text)), 7);
    assert_int_equal (s.n, 2);
    assert_int_equal (td_llm_sse_feed (p, "data: 4\n\n", 9), 7);
    assert_int_equal (s.n, 2);
    td_llm_sse_destroy (&p);
}

static void
test_binary_and_nul (void **state)
{
    (void) state;
    seen_t s = { 0 };
    td_llm_sse_t *p = td_llm_sse_new (64, s_collect, &s);
    const char text [] = "data: a\0b\n\n";
    assert_int_equal (td_llm_sse_feed (p, text, sizeof text - 1), 0);
    assert_int_equal (s.n, 1);
    assert_int_equal (s.last_len, 3);                  //  the length counts the NUL: no truncation
    td_llm_sse_destroy (&p);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_line_endings),
        cmocka_unit_test (test_fields),
        cmocka_unit_test (test_no_dispatch_without_blank_line),
        cmocka_unit_test (test_caps),
        cmocka_unit_test (test_callback_stops),
        cmocka_unit_test (test_binary_and_nul),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
