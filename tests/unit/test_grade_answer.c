/*  test_grade_answer — objective answers checked against their keys (td_grade_answer), the
 *  short-answer normal form, and the result feed's cursor and time checks (td_grade_results).
 *  Each rule of GRADER.md §3 has a right, a wrong and a malformed case; malformed answers must
 *  be invalid_input on field "answer", never a silent wrong answer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "grader/td_grade_answer.h"
#include "grader/td_grade_results.h"

static json_t *
j (const char *text)
{
    json_error_t err;
    json_t *v = json_loads (text, JSON_DECODE_ANY, &err);
    if (!v)
        fail_msg ("bad test JSON %s: %s", text, err.text);
    return v;
}

//  1 right, 0 wrong, -1 refused as invalid_input on "answer", -2 anything else; *score set.
static int
grade (const char *question, const char *answer, double *score)
{
    json_t *q = j (question), *a = answer? j (answer): NULL;
    td_answer_grade_t g;
    td_error_t err;
    int rc = td_grade_answer (q, a, &g, &err);
    json_decref (q);
    json_decref (a);
    if (rc != 0)
        return err.code == TD_ERR_INVALID_INPUT && strcmp (err.field, "answer") == 0? -1: -2;
    if (score)
        *score = g.score;
    return g.pending? 2: g.passed? 1: 0;
}

#define SINGLE "{\"type\":\"single\",\"choices\":[\"a\",\"b\",\"c\"],\"answer\":1}"
#define MULTI  "{\"type\":\"multiple\",\"choices\":[\"a\",\"b\",\"c\",\"d\",\"e\"],\"answer\":[0,2,4]}"
#define SHORT  "{\"type\":\"short\",\"answer\":[\"yth\",\"Hello  World\"]}"
#define NUMBER "{\"type\":\"numeric\",\"answer\":2.5,\"tolerance\":0.1}"

static void
test_single (void **state)
{
    (void) state;
    double s = -1;
    assert_int_equal (grade (SINGLE, "1", &s), 1);
    assert_true (s == 100);
    assert_int_equal (grade (SINGLE, "0", &s), 0);
    assert_true (s == 0);
    assert_int_equal (grade (SINGLE, "3", NULL), -1);           //  out of range
    assert_int_equal (grade (SINGLE, "-1", NULL), -1);
    assert_int_equal (grade (SINGLE, "true", NULL), -1);        //  a boolean is no index
    assert_int_equal (grade (SINGLE, "1.0", NULL), -1);
    assert_int_equal (grade (SINGLE, "\"1\"", NULL), -1);
    assert_int_equal (grade (SINGLE, "[1]", NULL), -1);
    assert_int_equal (grade (SINGLE, NULL, NULL), -1);          //  missing
    //  a broken key is the question's fault, not the learner's
    assert_int_equal (grade ("{\"type\":\"single\",\"choices\":[\"a\"],\"answer\":5}", "0", NULL), -2);
}

static void
test_multiple_partial_credit (void **state)
{
    (void) state;
    double s = -1;
    assert_int_equal (grade (MULTI, "[4,0,2]", &s), 1);         //  order does not matter
    assert_true (s == 100);
    assert_int_equal (grade (MULTI, "[0,2]", &s), 0);           //  2 of 3: not passed, partial
    assert_true (s > 66.6 && s < 66.7);
    assert_int_equal (grade (MULTI, "[0,2,4,1]", &s), 0);       //  one wrong pick costs one right
    assert_true (s > 66.6 && s < 66.7);
    assert_int_equal (grade (MULTI, "[1,3]", &s), 0);           //  never below 0
    assert_true (s == 0);
    assert_int_equal (grade (MULTI, "[]", &s), 0);
    assert_true (s == 0);
    assert_int_equal (grade (MULTI, "[0,0,2,4]", NULL), -1);    //  duplicates
    assert_int_equal (grade (MULTI, "[0,9]", NULL), -1);
    assert_int_equal (grade (MULTI, "2", NULL), -1);
    assert_int_equal (grade (MULTI, "[0,1,2,3,4,0]", NULL), -1);
}

static void
test_short_and_normal_form (void **state)
{
    (void) state;
    assert_int_equal (grade (SHORT, "\"yth\"", NULL), 1);
    assert_int_equal (grade (SHORT, "\"  YTH \\n\"", NULL), 1);
    assert_int_equal (grade (SHORT, "\"hello\\t world\"", NULL), 1);
    assert_int_equal (grade (SHORT, "\"helloworld\"", NULL), 0);
    assert_int_equal (grade (SHORT, "\"yt h\"", NULL), 0);
    assert_int_equal (grade (SHORT, "\"\"", NULL), 0);
    assert_int_equal (grade (SHORT, "42", NULL), -1);
    char out [32];
    td_grade_answer_normalise ("  A \t b\n\nC  ", out, sizeof out);
    assert_string_equal (out, "a b c");
    td_grade_answer_normalise ("abcdef", out, 4);              //  truncated, still terminated
    assert_string_equal (out, "abc");
    {                               //  an embedded NUL is refused
        json_t *q = j (SHORT), *a = json_stringn ("yth\0x", 5);
        td_answer_grade_t g;
        td_error_t err;
        assert_int_equal (td_grade_answer (q, a, &g, &err), -1);
        assert_string_equal (err.field, "answer");
        json_decref (q);
        json_decref (a);
    }
    //  a huge answer is refused, not compared
    char *big = malloc (TD_ANSWER_MAX_TEXT + 10);
    memset (big, 'x', TD_ANSWER_MAX_TEXT + 5);
    big [TD_ANSWER_MAX_TEXT + 5] = 0;
    json_t *q = j (SHORT), *a = json_string (big);
    td_answer_grade_t g;
    td_error_t err;
    assert_int_equal (td_grade_answer (q, a, &g, &err), -1);
    assert_int_equal (err.code, TD_ERR_INVALID_INPUT);
    json_decref (q);
    json_decref (a);
    free (big);
}

static void
test_numeric (void **state)
{
    (void) state;
    assert_int_equal (grade (NUMBER, "2.5", NULL), 1);
    assert_int_equal (grade (NUMBER, "2.6", NULL), 1);          //  within tolerance
    assert_int_equal (grade (NUMBER, "2.61", NULL), 0);
    assert_int_equal (grade (NUMBER, "\" 2.45 \"", NULL), 1);   //  a string holding a number
    assert_int_equal (grade (NUMBER, "\"2.5x\"", NULL), -1);
    assert_int_equal (grade (NUMBER, "\"nan\"", NULL), -1);
    assert_int_equal (grade (NUMBER, "\"1e999\"", NULL), -1);
    assert_int_equal (grade (NUMBER, "false", NULL), -1);
    assert_int_equal (grade (NUMBER, "[2.5]", NULL), -1);
    //  no tolerance: exact up to rounding
    assert_int_equal (grade ("{\"type\":\"numeric\",\"answer\":0.3}", "0.30000000000000004", NULL), 1);
    assert_int_equal (grade ("{\"type\":\"numeric\",\"answer\":5,\"tolerance\":0}", "5", NULL), 1);
    assert_int_equal (grade ("{\"type\":\"numeric\",\"answer\":5,\"tolerance\":0}", "5.001", NULL), 0);
}

static void
test_subjective_is_pending (void **state)
{
    (void) state;
    const char *q = "{\"type\":\"subjective\",\"prompt\":\"Why?\",\"scorecard\":[]}";
    assert_int_equal (grade (q, "\"Because.\"", NULL), 2);
    assert_int_equal (grade (q, "\"\"", NULL), -1);
    assert_int_equal (grade (q, "7", NULL), -1);
    assert_int_equal (grade ("{\"type\":\"hologram\"}", "1", NULL), -2);
    assert_int_equal (grade ("[]", "1", NULL), -2);
}

static void
test_result_cursor (void **state)
{
    (void) state;
    const char *id = "0f8fad5b-d9cb-469f-a165-70867728950e";
    char cursor [200], t [64], back [40];
    assert_true (td_results_cursor_encode ("2026-11-22T13:22:53.123456Z", id, cursor, sizeof cursor));
    assert_null (strchr (cursor, '|'));                          //  opaque
    assert_true (td_results_cursor_decode (cursor, t, sizeof t, back, sizeof back));
    assert_string_equal (t, "2026-11-22T13:22:53.123456Z");
    assert_string_equal (back, id);
    assert_false (td_results_cursor_encode ("2026-11-22T13:22:53Z", id, cursor, 10));
    //  hostile cursors
    assert_false (td_results_cursor_decode ("", t, sizeof t, back, sizeof back));
    assert_false (td_results_cursor_decode ("!!!", t, sizeof t, back, sizeof back));
    assert_false (td_results_cursor_decode ("bm90IGEgY3Vyc29y", t, sizeof t, back, sizeof back));
    //  "x|<id>": a base64 of a bad time
    char forged [200];
    assert_true (td_results_cursor_encode ("x", id, forged, sizeof forged) == false
                 || !td_results_cursor_decode (forged, t, sizeof t, back, sizeof back));
    //  RFC 3339 shapes
    assert_true (td_results_rfc3339 ("2026-11-22T13:22:53Z"));
    assert_true (td_results_rfc3339 ("2026-11-22T13:22:53.5+02:00"));
    assert_false (td_results_rfc3339 ("2026-11-22 13:22:53Z"));
    assert_false (td_results_rfc3339 ("now"));
    assert_false (td_results_rfc3339 ("2026-11-22T13:22:53"));
    assert_false (td_results_rfc3339 ("2026-11-22T13:22:53.Z"));
    assert_false (td_results_rfc3339 ("2026-11-22T13:22:53Zjunk"));
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_single),
        cmocka_unit_test (test_multiple_partial_credit),
        cmocka_unit_test (test_short_and_normal_form),
        cmocka_unit_test (test_numeric),
        cmocka_unit_test (test_subjective_is_pending),
        cmocka_unit_test (test_result_cursor),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
