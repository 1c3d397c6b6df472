/*  td_analytics_streak — streaks with freezes, heatmap levels and calendar dates, as pure
 *  functions so the rules are unit-tested apart from the database (tests/unit/test_analytics_streak.c).
 *
 *  Streak rules (ANALYTICS.md §3): walking the days from the first active one to `today`, an
 *  active day adds one to the streak; every `freeze_every` streak days earn a freeze (at most
 *  `freeze_max` banked); a missed day is covered by a banked freeze when there is one (the streak
 *  goes on, not counting that day), otherwise the streak ends. Today not being active (yet)
 *  never ends the streak: the day is not over. Days are counted in the learner's timezone by the
 *  caller; here they are plain day numbers.
 */
#include <stdio.h>
#include <string.h>
#include "td_analytics.h"

void
td_ana_streak (const int32_t *days, size_t n, int32_t today, int freeze_every, int freeze_max,
               td_ana_streak_t *out)
{
    memset (out, 0, sizeof *out);
    int streak = 0, longest = 0, freezes = 0, frozen = 0;
    int32_t prev = 0;
    bool any = false;
    for (size_t i = 0; i < n && days [i] <= today; i++) {
        int32_t d = days [i];
        if (any && d <= prev)
            continue;               //  not ascending: ignore (the caller sorts)
        if (any && streak > 0) {
            int64_t missed = (int64_t) d - prev - 1;
            if (missed > 0) {
                if (missed <= freezes) {
                    freezes -= (int) missed;
                    frozen += (int) missed;
                }
                else {
                    freezes = 0;
                    streak = 0;
                }
            }
        }
        streak++;
        if (streak > longest)
            longest = streak;
        if (freeze_every > 0 && streak % freeze_every == 0 && freezes < freeze_max)
            freezes++;
        prev = d;
        any = true;
    }
    //  From the last active day to today: missed days before today need freezes.
    if (any && streak > 0) {
        int64_t missed = (int64_t) today - prev - 1;
        if (missed > 0) {
            if (missed <= freezes) {
                freezes -= (int) missed;
                frozen += (int) missed;
            }
            else {
                freezes = 0;
                streak = 0;
            }
        }
    }
    out->current = streak;
    out->longest = longest;
    out->freezes = freezes;
    out->frozen_days = frozen;
}

int
td_ana_heat_level (int count, const int heat [4])
{
    int level = 0;
    for (int i = 0; i < 4; i++)
        if (count >= heat [i] && heat [i] > 0)
            level = i + 1;
    return count > 0 && level == 0? 1: level;
}

//  Days since 1970-01-01 of a proleptic Gregorian date (era arithmetic: 400-year cycles).
static int32_t
s_days_from_civil (int y, int m, int d)
{
    y -= m <= 2;
    int era = (y >= 0? y: y - 399) / 400;
    int yoe = y - era * 400;
    int doy = (153 * (m + (m > 2? -3: 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static bool
s_leap (int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

bool
td_ana_parse_date (const char *s, int32_t *day)
{
    if (!s || strlen (s) != 10 || s [4] != '-' || s [7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s [i] < '0' || s [i] > '9'))
            return false;
    int y = (s [0] - '0') * 1000 + (s [1] - '0') * 100 + (s [2] - '0') * 10 + (s [3] - '0');
    int m = (s [5] - '0') * 10 + (s [6] - '0');
    int d = (s [8] - '0') * 10 + (s [9] - '0');
    static const int mdays [] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (y < 1 || m < 1 || m > 12 || d < 1)
        return false;
    int max = mdays [m - 1] + (m == 2 && s_leap (y));
    if (d > max)
        return false;
    *day = s_days_from_civil (y, m, d);
    return true;
}

void
td_ana_format_date (int32_t day, char buf [11])
{
    int32_t z = day + 719468;
    int era = (z >= 0? z: z - 146096) / 146097;
    int doe = z - era * 146097;
    int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int y = yoe + era * 400;
    int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int mp = (5 * doy + 2) / 153;
    int d = doy - (153 * mp + 2) / 5 + 1;
    int m = mp + (mp < 10? 3: -9);
    y += m <= 2;
    if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1 || d > 31) {
        memcpy (buf, "0000-00-00", 11);
        return;
    }
    buf [0] = (char) ('0' + y / 1000);
    buf [1] = (char) ('0' + y / 100 % 10);
    buf [2] = (char) ('0' + y / 10 % 10);
    buf [3] = (char) ('0' + y % 10);
    buf [4] = '-';
    buf [5] = (char) ('0' + m / 10);
    buf [6] = (char) ('0' + m % 10);
    buf [7] = '-';
    buf [8] = (char) ('0' + d / 10);
    buf [9] = (char) ('0' + d % 10);
    buf [10] = 0;
}
