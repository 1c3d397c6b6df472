/*  test_analytics_league — the weekly leagues' pure rules apart from the database
 *  (actors/analytics/ANALYTICS.md §3 Leagues): who is promoted, demoted or stays in a group, and
 *  which UTC week an instant belongs to (Monday 00:00 starts it; Sunday 23:59:59.999 is still in
 *  the week before).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "analytics/td_analytics.h"

static void
test_zones_of_a_full_group (void **state)
{
    (void) state;
    //  30 learners in silver, top 7 up, bottom 5 down
    for (int pos = 1; pos <= 30; pos++) {
        const char *z = td_ana_league_zone (pos, 30, 100, 1, 7, 5);
        assert_string_equal (z, pos <= 7? "promoted": pos > 25? "demoted": "stayed");
    }
}

static void
test_zones_at_the_edges (void **state)
{
    (void) state;
    //  no XP, no promotion; bronze cannot go down; diamond cannot go up
    assert_string_equal (td_ana_league_zone (1, 30, 0, 1, 7, 5), "stayed");
    assert_string_equal (td_ana_league_zone (30, 30, 5, 0, 7, 5), "stayed");
    assert_string_equal (td_ana_league_zone (1, 30, 500, 4, 7, 5), "stayed");
    assert_string_equal (td_ana_league_zone (30, 30, 5, 4, 7, 5), "demoted");
    //  a small group: promotion wins over demotion; the others of the bottom go down
    assert_string_equal (td_ana_league_zone (1, 2, 10, 2, 1, 1), "promoted");
    assert_string_equal (td_ana_league_zone (2, 2, 5, 2, 1, 1), "demoted");
    assert_string_equal (td_ana_league_zone (1, 1, 10, 2, 1, 1), "promoted");
    assert_string_equal (td_ana_league_zone (1, 1, 0, 2, 1, 1), "stayed");   //  not promoted: pos <= promote
    for (int pos = 1; pos <= 5; pos++)
        assert_string_equal (td_ana_league_zone (pos, 5, 10, 2, 7, 5), "promoted");
    //  nothing configured: everybody stays
    assert_string_equal (td_ana_league_zone (1, 30, 10, 2, 0, 0), "stayed");
    assert_string_equal (td_ana_league_zone (30, 30, 10, 2, 0, 0), "stayed");
}

static void
test_weeks_start_on_monday_utc (void **state)
{
    (void) state;
    const int64_t day = 86400000;
    int32_t monday;                 //  2026-11-23 is a Monday
    assert_true (td_ana_parse_date ("2026-11-23", &monday));
    int64_t m = (int64_t) monday * day;
    struct { int64_t ms; const char *week; } cases [] = {
        { m, "2026-11-23" },
        { m + 7 * day - 1, "2026-11-23" },          //  Sunday 23:59:59.999
        { m - 1, "2026-11-16" },
        { m + 7 * day, "2026-11-30" },
        { m + 39 * day, "2026-12-28" },             //  2027-01-01, across the year
        { 0, "1969-12-29" },                        //  1970-01-01 was a Thursday
        { -1, "1969-12-29" },
        { -3 * day, "1969-12-29" },
        { -3 * day - 1, "1969-12-22" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        char buf [11];
        td_ana_format_date (td_ana_week_of (cases [i].ms), buf);
        assert_string_equal (buf, cases [i].week);
    }
}

static void
test_tier_names (void **state)
{
    (void) state;
    assert_string_equal (td_ana_tier_name (0), "bronze");
    assert_string_equal (td_ana_tier_name (4), "diamond");
    assert_string_equal (td_ana_tier_name (5), "unknown");
    assert_string_equal (td_ana_tier_name (-1), "unknown");
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_zones_of_a_full_group),
        cmocka_unit_test (test_zones_at_the_edges),
        cmocka_unit_test (test_weeks_start_on_monday_utc),
        cmocka_unit_test (test_tier_names),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
