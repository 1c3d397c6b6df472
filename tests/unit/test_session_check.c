/*  test_session_check — how practice answers are judged (actors/session/td_session_check.c).
 *
 *  Why: a typed answer decides a learner's schedule; "Hund" for "der Hund" must be wrong and say
 *  why, spacing and case must not matter, a plural asked for must be given, and hostile input
 *  (huge, empty, only commas) must neither crash nor pass.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "session/td_session.h"

static char fb [2200];

static void
test_typed_article_and_plural (void **state)
{
    (void) state;
    assert_true (td_session_typed ("der Hund", "der Hund", fb, sizeof fb));
    assert_true (td_session_typed ("der Hund", "  DER   hund ", fb, sizeof fb));
    assert_false (td_session_typed ("der Hund", "Hund", fb, sizeof fb));
    assert_non_null (strstr (fb, "article is missing"));
    assert_non_null (strstr (fb, "\"der Hund\""));
    assert_false (td_session_typed ("der Hund", "das Hund", fb, sizeof fb));
    assert_non_null (strstr (fb, "wrong article"));
    assert_false (td_session_typed ("der Hund", "der Katze", fb, sizeof fb));
    assert_non_null (strstr (fb, "wrong"));
    assert_true (td_session_typed ("der Hund, die Hunde", "der Hund, die Hunde", fb, sizeof fb));
    assert_true (td_session_typed ("der Hund, die Hunde", "der hund,die hunde", fb, sizeof fb));
    assert_false (td_session_typed ("der Hund, die Hunde", "der Hund", fb, sizeof fb));
    assert_non_null (strstr (fb, "plural is missing"));
    assert_false (td_session_typed ("der Hund, die Hunde", "der Hund, Hunde", fb, sizeof fb));
    assert_non_null (strstr (fb, "plural's article"));
    assert_false (td_session_typed ("der Hund, die Hunde", "der Hund, die Hunden", fb, sizeof fb));
    assert_non_null (strstr (fb, "wrong plural"));
    assert_false (td_session_typed ("der Hund, die Hunde", "der Hund, der Hunde", fb, sizeof fb));
    assert_non_null (strstr (fb, "wrong article in the plural"));
    //  no article expected: plain comparison
    assert_true (td_session_typed ("the dog", "The Dog", fb, sizeof fb));
    assert_false (td_session_typed ("the dog", "the dog, the dogs", fb, sizeof fb));
    //  UTF-8 is compared byte for byte (case folding is ASCII only)
    assert_true (td_session_typed ("das Haus, die Häuser", "das haus, die häuser", fb, sizeof fb));
}

static void
test_typed_hostile (void **state)
{
    (void) state;
    assert_false (td_session_typed ("der Hund", "", fb, sizeof fb));
    assert_false (td_session_typed ("der Hund", ",,,,,,", fb, sizeof fb));
    assert_false (td_session_typed ("der Hund", "   ", fb, sizeof fb));
    assert_false (td_session_typed (NULL, "x", fb, sizeof fb));
    assert_false (td_session_typed ("der Hund", NULL, fb, sizeof fb));
    static char big [5000];
    memset (big, 'a', sizeof big - 1);
    assert_false (td_session_typed ("der Hund", big, fb, sizeof fb));
    //  an expected form that is only an article compares as a word
    assert_true (td_session_typed ("der", "der", fb, sizeof fb));
    char small [8];
    assert_false (td_session_typed ("der Hund", "Hund", small, sizeof small));
    assert_int_equal (strlen (small), 7);
}

static void
test_ratings (void **state)
{
    (void) state;
    assert_int_equal (td_session_rating (false, 100, 5000), 1);
    assert_int_equal (td_session_rating (true, 100, 5000), 4);
    assert_int_equal (td_session_rating (true, 5000, 5000), 3);
    assert_int_equal (td_session_rating (true, -1, 5000), 3);     //  no duration: not fast
    bool ok = false;
    assert_int_equal (td_session_grade_flashcard ("again", "the dog", 10, 5000, &ok, fb, sizeof fb), 1);
    assert_false (ok);
    assert_int_equal (td_session_grade_flashcard ("Hard", "the dog", 10, 5000, &ok, fb, sizeof fb), 2);
    assert_true (ok);
    assert_int_equal (td_session_grade_flashcard ("good", "the dog", 10, 5000, &ok, fb, sizeof fb), 3);
    assert_int_equal (td_session_grade_flashcard (" EASY ", "the dog", 99999, 5000, &ok, fb, sizeof fb), 4);
    assert_int_equal (td_session_grade_flashcard ("the dog", "the dog", 1000, 5000, &ok, fb, sizeof fb), 4);
    assert_true (ok);
    assert_int_equal (td_session_grade_flashcard ("the dog", "the dog", 9000, 5000, &ok, fb, sizeof fb), 3);
    assert_int_equal (td_session_grade_flashcard ("a cat", "the dog", 1000, 5000, &ok, fb, sizeof fb), 1);
    assert_false (ok);
    //  a back that is itself a grade word is checked as typed
    assert_int_equal (td_session_grade_flashcard ("good", "good", 1000, 5000, &ok, fb, sizeof fb), 4);
    assert_true (ok);
    assert_true (td_session_is_article ("Die", 3));
    assert_false (td_session_is_article ("dies", 4));
}

static void
test_placement_steps (void **state)
{
    (void) state;
    td_placement_level_t lv [3] = {
        { "A1", 0, 3, 0, 0 }, { "A2", 3, 3, 0, 0 }, { "B1", 6, 2, 0, 0 }
    };
    int next = -1;
    const char *level = NULL;
    assert_int_equal (td_session_placement (lv, 3, 0, &next, &level), TD_PLACEMENT_GO_ON);
    lv [0].right = 1;
    assert_int_equal (td_session_placement (lv, 3, 0, &next, &level), TD_PLACEMENT_GO_ON);
    lv [0].right = 2;                                   //  2 of 3: passed, skip the third
    assert_int_equal (td_session_placement (lv, 3, 0, &next, &level), TD_PLACEMENT_JUMP);
    assert_int_equal (next, 3);
    lv [1].wrong = 1;
    assert_int_equal (td_session_placement (lv, 3, 1, &next, &level), TD_PLACEMENT_GO_ON);
    lv [1].wrong = 2;                                   //  2 of 3 can no longer be right
    assert_int_equal (td_session_placement (lv, 3, 1, &next, &level), TD_PLACEMENT_DONE);
    assert_string_equal (level, "A1");
    lv [1].wrong = 0;
    lv [1].right = 2;
    lv [2].right = 2;                                   //  the last level passed
    assert_int_equal (td_session_placement (lv, 3, 2, &next, &level), TD_PLACEMENT_DONE);
    assert_string_equal (level, "B1");
    lv [0].right = 0;
    lv [0].wrong = 2;
    assert_int_equal (td_session_placement (lv, 3, 0, &next, &level), TD_PLACEMENT_DONE);
    assert_string_equal (level, "pre-A1");
    //  a level of one question needs it right
    td_placement_level_t one [1] = { { "A1", 0, 1, 0, 1 } };
    assert_int_equal (td_session_placement (one, 1, 0, &next, &level), TD_PLACEMENT_DONE);
    assert_string_equal (level, "pre-A1");
    //  an index past the end changes nothing
    assert_int_equal (td_session_placement (lv, 3, 8, &next, &level), TD_PLACEMENT_GO_ON);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_typed_article_and_plural),
        cmocka_unit_test (test_typed_hostile),
        cmocka_unit_test (test_ratings),
        cmocka_unit_test (test_placement_steps),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
