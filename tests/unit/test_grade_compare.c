/*  test_grade_compare — output matching modes of the grader, including hostile output. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "grader/td_grade_compare.h"

static bool
m (td_match_t mode, const char *expected, const char *actual, double tol)
{
    return td_match (mode, expected, strlen (expected), actual, strlen (actual), tol);
}

static void
test_modes (void **state)
{
    (void) state;
    assert_true (m (TD_MATCH_EXACT, "5\n", "5\n", 0));
    assert_false (m (TD_MATCH_EXACT, "5\n", "5", 0));
    assert_false (m (TD_MATCH_EXACT, "5", "6", 0));

    assert_true (m (TD_MATCH_TRIM, "a\nb", "a  \r\nb\n\n\n", 0));
    assert_true (m (TD_MATCH_TRIM, "", "\n \n", 0));
    assert_false (m (TD_MATCH_TRIM, "a b", "a  b", 0));       //  inner spaces count
    assert_false (m (TD_MATCH_TRIM, "a\nb", "ab", 0));

    assert_true (m (TD_MATCH_IGNORE_CASE, "Hello World", "hello world  \n", 0));
    assert_false (m (TD_MATCH_IGNORE_CASE, "Hello", "Help", 0));

    assert_true (m (TD_MATCH_REGEX, "[0-9]+ items?", "12 items\n", 0));
    assert_false (m (TD_MATCH_REGEX, "[0-9]+", "12 items", 0));  //  anchored: whole output
    assert_false (m (TD_MATCH_REGEX, "(", "(", 0));              //  invalid pattern never matches
    assert_true (td_match_regex_valid ("a|b"));
    assert_false (td_match_regex_valid ("("));

    assert_true (m (TD_MATCH_NUMBER, "3.14159 2", "3.1416\n2.0", 0.001));
    assert_false (m (TD_MATCH_NUMBER, "3.14159", "3.15", 0.001));
    assert_true (m (TD_MATCH_NUMBER, "1000000", "1000001", 1e-5));   //  relative tolerance
    assert_true (m (TD_MATCH_NUMBER, "x = 2", "x = 2.0000000001", 0));
    assert_false (m (TD_MATCH_NUMBER, "x = 2", "y = 2", 0));
    assert_false (m (TD_MATCH_NUMBER, "1 2", "1 2 3", 0));
    assert_false (m (TD_MATCH_NUMBER, "1", "nan", 1e9));
    assert_false (m (TD_MATCH_NUMBER, "1", "inf", 1e300));
}

static void
test_names (void **state)
{
    (void) state;
    for (int i = 0; i < TD_MATCH__COUNT; i++)
        assert_int_equal (td_match_parse (td_match_name ((td_match_t) i)), i);
    assert_int_equal (td_match_parse ("fuzzy"), -1);
    assert_int_equal (td_match_parse (NULL), -1);
}

//  Binary output, NUL bytes and huge tokens never crash and compare by length.
static void
test_hostile_output (void **state)
{
    (void) state;
    const char bin [] = { 'a', 0, 'b' };
    assert_true (td_match (TD_MATCH_EXACT, bin, 3, bin, 3, 0));
    assert_false (td_match (TD_MATCH_EXACT, "a", 1, bin, 3, 0));
    assert_false (td_match (TD_MATCH_REGEX, "a.b", 3, bin, 3, 0));
    assert_true (td_match (TD_MATCH_TRIM, bin, 3, bin, 3, 0));
    static char huge [70000];
    memset (huge, '9', sizeof huge - 1);
    assert_false (m (TD_MATCH_NUMBER, "9", huge, 0));
    assert_true (td_match (TD_MATCH_EXACT, NULL, 0, NULL, 0, 0));
    const char invalid [] = { (char) 0xff, (char) 0xfe };
    assert_true (td_match (TD_MATCH_IGNORE_CASE, invalid, 2, invalid, 2, 0));
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_modes),
        cmocka_unit_test (test_names),
        cmocka_unit_test (test_hostile_output),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
