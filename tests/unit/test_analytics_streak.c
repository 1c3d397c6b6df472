/*  test_analytics_streak — streaks with freezes, heatmap levels, dates, the definitions'
 *  validation and the `since` time check of the analytics actor, apart from the database
 *  (actors/analytics/ANALYTICS.md §3).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "analytics/td_analytics.h"

static int32_t
D (const char *s)
{
    int32_t d = 0;
    assert_true (td_ana_parse_date (s, &d));
    return d;
}

static td_ana_streak_t
S (const int32_t *days, size_t n, int32_t today, int every, int max)
{
    td_ana_streak_t st;
    td_ana_streak (days, n, today, every, max, &st);
    return st;
}

static void
test_dates (void **state)
{
    (void) state;
    assert_int_equal (D ("1970-01-01"), 0);
    assert_int_equal (D ("1970-01-02"), 1);
    assert_int_equal (D ("1969-12-31"), -1);
    assert_int_equal (D ("2000-03-01") - D ("2000-02-28"), 2);     //  2000 is a leap year
    assert_int_equal (D ("1900-03-01") - D ("1900-02-28"), 1);     //  1900 is not
    int32_t d;
    assert_false (td_ana_parse_date ("2026-02-29", &d));
    assert_false (td_ana_parse_date ("2026-13-01", &d));
    assert_false (td_ana_parse_date ("2026-1-01", &d));
    assert_false (td_ana_parse_date ("2026-01-01x", &d));
    assert_false (td_ana_parse_date ("20x6-01-01", &d));
    assert_false (td_ana_parse_date ("0000-01-01", &d));
    assert_false (td_ana_parse_date (NULL, &d));
    char buf [11];
    const char *round [] = { "2026-11-22", "2024-02-29", "0001-01-01", "9999-12-31", "1970-01-01" };
    for (size_t i = 0; i < sizeof round / sizeof round [0]; i++) {
        td_ana_format_date (D (round [i]), buf);
        assert_string_equal (buf, round [i]);
    }
}

static void
test_plain_streaks (void **state)
{
    (void) state;
    int32_t t = D ("2026-11-22");
    td_ana_streak_t st = S (NULL, 0, t, 7, 2);
    assert_int_equal (st.current, 0);
    assert_int_equal (st.longest, 0);
    //  three days ending today
    int32_t a [] = { t - 2, t - 1, t };
    st = S (a, 3, t, 0, 0);
    assert_int_equal (st.current, 3);
    assert_int_equal (st.longest, 3);
    //  ending yesterday: today is not over, the streak carries
    int32_t b [] = { t - 3, t - 2, t - 1 };
    st = S (b, 3, t, 0, 0);
    assert_int_equal (st.current, 3);
    //  ending the day before yesterday, no freezes: broken
    int32_t c [] = { t - 4, t - 3, t - 2 };
    st = S (c, 3, t, 0, 0);
    assert_int_equal (st.current, 0);
    assert_int_equal (st.longest, 3);
    //  a gap in the middle: the longest is the longer run
    int32_t e [] = { t - 10, t - 9, t - 8, t - 7, t - 5, t - 4, t };
    st = S (e, 7, t, 0, 0);
    assert_int_equal (st.longest, 4);
    assert_int_equal (st.current, 1);
    //  days after today are ignored (as_of in the past)
    st = S (a, 3, t - 1, 0, 0);
    assert_int_equal (st.current, 2);
    assert_int_equal (st.longest, 2);
}

static void
test_freezes (void **state)
{
    (void) state;
    int32_t t = D ("2026-11-22");
    //  7 days earn one freeze, which covers one missed day
    int32_t a [16];
    size_t n = 0;
    for (int i = 0; i < 7; i++)
        a [n++] = t - 20 + i;              //  t-20 .. t-14
    a [n++] = t - 12;                       //  t-13 missed: frozen
    td_ana_streak_t st = S (a, n, t - 12, 7, 2);
    assert_int_equal (st.current, 8);
    assert_int_equal (st.frozen_days, 1);
    assert_int_equal (st.freezes, 0);
    assert_int_equal (st.longest, 8);
    //  two missed days with one freeze: broken
    a [n - 1] = t - 11;
    st = S (a, n, t - 11, 7, 2);
    assert_int_equal (st.current, 1);
    assert_int_equal (st.longest, 7);
    assert_int_equal (st.freezes, 0);
    //  without freezes the single missed day breaks it too
    a [n - 1] = t - 12;
    st = S (a, n, t - 12, 0, 0);
    assert_int_equal (st.current, 1);
    //  freezes are capped: 21 days earn 3 but max is 2; then 2 missed days are covered
    int32_t b [32];
    n = 0;
    for (int i = 0; i < 21; i++)
        b [n++] = t - 30 + i;              //  t-30 .. t-10
    st = S (b, n, t - 10, 7, 2);
    assert_int_equal (st.freezes, 2);
    b [n++] = t - 7;                        //  t-9, t-8 missed: two freezes
    st = S (b, n, t - 7, 7, 2);
    assert_int_equal (st.current, 22);
    assert_int_equal (st.frozen_days, 2);
    assert_int_equal (st.freezes, 0);
    //  the gap up to today uses freezes too: active until t-10, today t-8 (t-9 missed)
    st = S (b, n - 1, t - 8, 7, 2);
    assert_int_equal (st.current, 21);
    assert_int_equal (st.freezes, 1);
    //  three missed days before today with two freezes: broken, and the freezes are spent
    st = S (b, n - 1, t - 6, 7, 2);
    assert_int_equal (st.current, 0);
    assert_int_equal (st.freezes, 0);
    assert_int_equal (st.longest, 21);
}

static void
test_heat_levels (void **state)
{
    (void) state;
    int heat [4] = { 1, 3, 6, 10 };
    assert_int_equal (td_ana_heat_level (0, heat), 0);
    assert_int_equal (td_ana_heat_level (1, heat), 1);
    assert_int_equal (td_ana_heat_level (2, heat), 1);
    assert_int_equal (td_ana_heat_level (3, heat), 2);
    assert_int_equal (td_ana_heat_level (6, heat), 3);
    assert_int_equal (td_ana_heat_level (9, heat), 3);
    assert_int_equal (td_ana_heat_level (10, heat), 4);
    assert_int_equal (td_ana_heat_level (100000, heat), 4);
}

static void
test_seed_definitions (void **state)
{
    (void) state;
    char path [4096];
    const char *src = getenv ("TUTORD_SOURCE_DIR");
    snprintf (path, sizeof path, "%s/seed/achievements.json", src? src: TUTORD_SOURCE_DIR);
    td_error_t err;
    td_ana_defs_t *d = td_ana_defs_load (path, &err);
    assert_non_null (d);
    assert_true (d->ach_count >= 31);
    //  tier 1 is reached by the first accepted submission, first review and first lesson
    bool acc = false, rev = false, les = false;
    for (size_t i = 0; i < d->ach_count; i++) {
        const td_ana_ach_t *a = &d->ach [i];
        if (a->tier == 1 && a->threshold == 1) {
            acc = acc || !strcmp (a->metric, "accepted");
            rev = rev || !strcmp (a->metric, "reviews");
            les = les || !strcmp (a->metric, "lessons");
        }
    }
    assert_true (acc && rev && les);
    assert_int_equal (td_ana_level (d, 0), 1);
    assert_int_equal (td_ana_level (d, d->levels [1] - 1), 1);
    assert_int_equal (td_ana_level (d, d->levels [1]), 2);
    td_ana_defs_destroy (&d);
    assert_null (d);
}

static json_t *
s_defs (const char *text)
{
    json_error_t jerr;
    json_t *j = json_loads (text, 0, &jerr);
    assert_non_null (j);
    return j;
}

static void
test_bad_definitions (void **state)
{
    (void) state;
    struct { const char *text, *field; } bad [] = {
        { "[]", "body" },
        { "{\"xp_rules\": [], \"levels\": [0], \"streak\": {\"freeze_every\": 0, \"freeze_max\": 0},"
          " \"heatmap\": [1,2,3,4], \"achievements\": []}", "xp_rules" },
        { "{\"xp_rules\": [{\"id\": \"a\", \"type\": \"grade\", \"xp\": 1}], \"levels\": [0],"
          " \"streak\": {\"freeze_every\": 0, \"freeze_max\": 0}, \"heatmap\": [1,2,3,4],"
          " \"achievements\": []}", "type" },
        //  llm.usage is accounting: a rule paying XP for it is refused
        { "{\"xp_rules\": [{\"id\": \"a\", \"type\": \"llm.usage\", \"xp\": 1}], \"levels\": [0],"
          " \"streak\": {\"freeze_every\": 0, \"freeze_max\": 0}, \"heatmap\": [1,2,3,4],"
          " \"achievements\": []}", "type" },
        { "{\"xp_rules\": [{\"id\": \"a\", \"type\": \"grade.result\", \"xp\": -1}], \"levels\": [0],"
          " \"streak\": {\"freeze_every\": 0, \"freeze_max\": 0}, \"heatmap\": [1,2,3,4],"
          " \"achievements\": []}", "xp_rules[0].xp" },
        { "{\"xp_rules\": [{\"id\": \"a\", \"type\": \"grade.result\", \"xp\": 1}], \"levels\": [0, 0],"
          " \"streak\": {\"freeze_every\": 0, \"freeze_max\": 0}, \"heatmap\": [1,2,3,4],"
          " \"achievements\": []}", "levels" },
        { "{\"xp_rules\": [{\"id\": \"a\", \"type\": \"grade.result\", \"xp\": 1}], \"levels\": [0],"
          " \"streak\": {\"freeze_every\": 0, \"freeze_max\": 0}, \"heatmap\": [1,2,2,4],"
          " \"achievements\": []}", "heatmap" },
        { "{\"xp_rules\": [{\"id\": \"a\", \"type\": \"grade.result\", \"xp\": 1, \"counter\": \"c\"}],"
          " \"levels\": [0], \"streak\": {\"freeze_every\": 0, \"freeze_max\": 0},"
          " \"heatmap\": [1,2,3,4], \"achievements\": [{\"id\": \"x\", \"tier\": 1, \"title\": \"X\","
          " \"metric\": \"nope\", \"threshold\": 1}]}", "achievements[0].metric" },
        { "{\"xp_rules\": [{\"id\": \"a\", \"type\": \"grade.result\", \"xp\": 1, \"counter\": \"c\"}],"
          " \"levels\": [0], \"streak\": {\"freeze_every\": 0, \"freeze_max\": 0},"
          " \"heatmap\": [1,2,3,4], \"achievements\": [{\"id\": \"x\", \"tier\": 1, \"title\": \"X\","
          " \"metric\": \"c\", \"threshold\": 0}]}", "achievements[0].threshold" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        json_t *j = s_defs (bad [i].text);
        td_error_t err;
        td_ana_defs_t *d = td_ana_defs_parse (j, &err);
        json_decref (j);
        if (d)
            fail_msg ("definitions %zu were accepted", i);
        assert_int_equal (err.code, TD_ERR_INVALID_INPUT);
        assert_string_equal (err.field, bad [i].field);
    }
    td_error_t err;
    assert_null (td_ana_defs_load ("/nonexistent/achievements.json", &err));
}

static void
test_rfc3339 (void **state)
{
    (void) state;
    const char *good [] = { "2026-11-22T10:00:00Z", "2026-11-22T10:00:00.123Z",
                            "2026-11-22t10:00:00.123456789+05:30", "2026-11-22T10:00:00-08:00" };
    const char *bad [] = { "", "2026-11-22", "yesterday", "2026-11-22T10:00:00",
                           "2026-11-22T10:00:00.Z", "2026-11-22T10:00:00.1234567890Z",
                           "2026-11-22T10:00:00+0530", "2026-11-22T10:00:00Zjunk",
                           "2026-11-22 10:00:00Z", "2026-1x-22T10:00:00Z" };
    for (size_t i = 0; i < sizeof good / sizeof good [0]; i++)
        assert_true (td_ana_rfc3339 (good [i]));
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++)
        if (td_ana_rfc3339 (bad [i]))
            fail_msg ("accepted '%s'", bad [i]);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_dates),
        cmocka_unit_test (test_plain_streaks),
        cmocka_unit_test (test_freezes),
        cmocka_unit_test (test_heat_levels),
        cmocka_unit_test (test_seed_definitions),
        cmocka_unit_test (test_bad_definitions),
        cmocka_unit_test (test_rfc3339),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
