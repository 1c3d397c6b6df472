/*  td_analytics_apply — one stored event turned into figures (ANALYTICS.md §3), inside the
 *  transaction that stored it, so an event counts exactly once (a duplicate never gets here:
 *  its log insert found the row) and a `rebuild` replaying the log gives the same figures.
 *
 *  Order of work for an event with a user:
 *    1. the XP rules of its type whose `when` matches: one analytics_activity row each (a rule
 *       with once_per pays once per learner and value: the partial unique index refuses repeats);
 *    2. nothing matched: done. Else the learner's XP total, the rules' counters, the day (in the
 *       learner's timezone; a new day recomputes the longest streak), the org's boards, and the
 *       week's league of the org (td_analytics_league.c);
 *    3. each achievement whose metric crossed its threshold with this event is unlocked (insert
 *       if absent; crossing is exact because every figure only grows by this event's amount);
 *    4. with `out`, analytics.xp / analytics.achievement are logged and handed back to publish.
 *  Every figure only ever grows, so applying events in any order ends in the same totals.
 */
#include <string.h>
#include "td_analytics.h"
#include "td_json.h"
#include "td_log.h"

#define LOG "analytics"

PGresult *
td_ana_q (PGconn *conn, const char *sql, int n, const char *const *params)
{
    PGresult *res = PQexecParams (conn, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType st = res? PQresultStatus (res): PGRES_FATAL_ERROR;
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        td_warn (LOG, NULL, "query failed: %s", PQerrorMessage (conn));
        PQclear (res);
        return NULL;
    }
    return res;
}

bool
td_ana_cmd (PGconn *conn, const char *sql)
{
    PGresult *res = td_ana_q (conn, sql, 0, NULL);
    PQclear (res);
    return res != NULL;
}

static bool
s_when_matches (const json_t *when, const json_t *data)
{
    const char *key;
    json_t *want;
    json_object_foreach ((json_t *) when, key, want) {
        const json_t *have = json_object_get (data, key);
        if (!have || !json_equal (want, (json_t *) have))
            return false;
    }
    return true;
}

//  The value of data[key] as text (strings and integers), or false.
static bool
s_once_key (const json_t *data, const char *key, char *buf, size_t size)
{
    const json_t *v = json_object_get (data, key);
    if (json_is_string (v) && strlen (json_string_value (v)) < size) {
        snprintf (buf, size, "%s", json_string_value (v));
        return true;
    }
    if (json_is_integer (v)) {
        snprintf (buf, size, "%lld", (long long) json_integer_value (v));
        return true;
    }
    return false;
}

int
td_ana_emit (PGconn *conn, json_t *out, const char *type, const td_ana_event_t *ev, json_t *data)
{
    char id [33], time [32];
    td_new_id (id);
    int64_t now = td_now_ms ();
    if (td_time_format (now, time) != 0) {
        json_decref (data);
        return -1;
    }
    char *text = json_dumps (data, JSON_COMPACT);
    const char *p [] = { TD_ANA_SOURCE, id, type, time, ev->org && *ev->org? ev->org: NULL,
                         ev->user, text };
    PGresult *res = text? td_ana_q (conn,
        "INSERT INTO analytics_events (source, id, type, at, org_id, user_id, data) "
        "VALUES ($1, $2, $3, $4::timestamptz, $5, $6, $7::jsonb)", 7, p): NULL;
    free (text);
    if (!res) {
        json_decref (data);
        return -1;
    }
    PQclear (res);
    json_array_append_new (out, json_pack ("{s:s, s:s, s:s, s:s?, s:I, s:o}", "id", id, "type",
                                           type, "user", ev->user, "org",
                                           ev->org && *ev->org? ev->org: NULL, "time",
                                           (json_int_t) now, "data", data));
    return 0;
}

typedef struct {
    const char *name;
    int64_t old, now;
} s_metric_t;

int
td_ana_apply (td_actor_t *actor, PGconn *conn, const td_ana_event_t *ev, json_t *out)
{
    const td_ana_defs_t *defs = td_ana_state (actor)->defs;
    if (!ev->user || !*ev->user || !defs || !strcmp (ev->type, TD_ANA_USAGE_TYPE))
        return 0;               //  usage is accounting: no XP, no learner figure
    char seq [24];
    snprintf (seq, sizeof seq, "%lld", (long long) ev->seq);
    const char *org = ev->org && *ev->org? ev->org: NULL;

    //  1. Rules: the matching ones, then one insert of their ledger rows (a once_per repeat is
    //  refused by the partial unique index and pays nothing).
    json_t *cand = json_array (), *paid = json_array ();
    if (!cand || !paid) {
        json_decref (cand);
        json_decref (paid);
        return -1;
    }
    for (size_t i = 0; i < defs->rule_count; i++) {
        const td_ana_rule_t *r = &defs->rules [i];
        if (strcmp (r->type, ev->type) || (r->when && !s_when_matches (r->when, ev->data)))
            continue;
        char once [256];
        bool has_once = *r->once_per && s_once_key (ev->data, r->once_per, once, sizeof once);
        json_array_append_new (cand, json_pack ("{s:s, s:i, s:s?}", "rule", r->id, "xp", r->xp,
                                                "once", has_once? once: NULL));
    }
    if (json_array_size (cand) == 0) {
        json_decref (cand);
        json_decref (paid);
        return 0;
    }
    char *cand_text = json_dumps (cand, JSON_COMPACT);
    json_decref (cand);
    const char *pr [] = { seq, ev->user, org, ev->time, cand_text };
    PGresult *res = cand_text? td_ana_q (conn,
        "INSERT INTO analytics_activity (event_seq, user_id, org_id, at, rule, xp, once_key) "
        "SELECT $1::bigint, $2, $3, $4::timestamptz, r.rule, r.xp, r.once "
        "FROM json_to_recordset ($5::json) AS r (rule text, xp int, once text) "
        "ON CONFLICT DO NOTHING RETURNING rule, xp", 5, pr): NULL;
    free (cand_text);
    if (!res) {
        json_decref (paid);
        return -1;
    }
    int64_t gained = 0;
    const char *counters [TD_ANA_MAX_RULES];
    size_t ncounters = 0;
    for (int row = 0; row < PQntuples (res); row++) {
        const char *id = PQgetvalue (res, row, 0);
        gained += strtol (PQgetvalue (res, row, 1), NULL, 10);
        json_array_append_new (paid, json_string (id));
        for (size_t i = 0; i < defs->rule_count; i++) {
            const td_ana_rule_t *r = &defs->rules [i];
            if (strcmp (r->id, id) || !*r->counter)
                continue;
            bool seen = false;
            for (size_t j = 0; j < ncounters; j++)
                seen = seen || !strcmp (counters [j], r->counter);
            if (!seen)
                counters [ncounters++] = r->counter;
        }
    }
    bool matched = PQntuples (res) > 0;
    PQclear (res);
    if (!matched) {
        json_decref (paid);
        return 0;
    }

    //  2. Totals, counters, the day and the boards in one statement.
    s_metric_t metrics [TD_ANA_MAX_RULES + 4];
    size_t nmetrics = 0;
    char gained_s [24];
    snprintf (gained_s, sizeof gained_s, "%lld", (long long) gained);
    json_t *names = json_array ();
    for (size_t i = 0; names && i < ncounters; i++)
        json_array_append_new (names, json_string (counters [i]));
    char *names_text = names? json_dumps (names, JSON_COMPACT): NULL;
    json_decref (names);
    const char *pl [] = { ev->user, gained_s, ev->time, org, names_text };
    res = names_text? td_ana_q (conn,
        "WITH l AS (INSERT INTO analytics_learners AS l (user_id, xp, first_at, last_at) "
        "    VALUES ($1, $2::bigint, $3::timestamptz, $3::timestamptz) "
        "    ON CONFLICT (user_id) DO UPDATE SET xp = l.xp + excluded.xp, "
        "      first_at = least (l.first_at, excluded.first_at), "
        "      last_at = greatest (l.last_at, excluded.last_at) "
        "    RETURNING xp, timezone, longest_streak), "
        "c AS (INSERT INTO analytics_counters AS c (user_id, name, value) "
        "    SELECT $1::text, n, 1 FROM json_array_elements_text ($5::json) n "
        "    ON CONFLICT (user_id, name) DO UPDATE SET value = c.value + 1 RETURNING name, value), "
        "d AS (INSERT INTO analytics_days AS d (user_id, day, count, xp) "
        "    SELECT $1::text, ($3::timestamptz AT TIME ZONE l.timezone)::date, 1, $2::int FROM l "
        "    ON CONFLICT (user_id, day) DO UPDATE SET count = d.count + 1, xp = d.xp + excluded.xp "
        "    RETURNING count), "
        "b AS (INSERT INTO analytics_board AS b (org_id, kind, start, user_id, xp) "
        "    SELECT $4::text, k.kind, CASE k.kind "
        "        WHEN 'w' THEN date_trunc ('week', $3::timestamptz AT TIME ZONE 'UTC')::date "
        "        WHEN 'm' THEN date_trunc ('month', $3::timestamptz AT TIME ZONE 'UTC')::date "
        "        ELSE date '1970-01-01' END, $1, $2::bigint "
        "    FROM (VALUES ('w'), ('m'), ('a')) k (kind) WHERE $4::text IS NOT NULL AND $2::bigint > 0 "
        "    ON CONFLICT (org_id, kind, start, user_id) DO UPDATE SET xp = b.xp + excluded.xp "
        "    RETURNING 1) "
        "SELECT l.xp, l.longest_streak, (SELECT count FROM d), "
        "  coalesce ((SELECT json_object_agg (name, value) FROM c), '{}'), "
        "  (SELECT count (*) FROM b) FROM l", 5, pl): NULL;
    free (names_text);
    if (!res || PQntuples (res) != 1) {
        PQclear (res);
        json_decref (paid);
        return -1;
    }
    int64_t total = strtoll (PQgetvalue (res, 0, 0), NULL, 10);
    int64_t longest_old = strtoll (PQgetvalue (res, 0, 1), NULL, 10);
    bool new_day = strtol (PQgetvalue (res, 0, 2), NULL, 10) == 1;
    json_error_t jerr;
    json_t *values = json_loads (PQgetvalue (res, 0, 3), 0, &jerr);
    PQclear (res);
    if (!values) {
        json_decref (paid);
        return -1;
    }
    if (org && gained > 0 && td_ana_league_add (actor, conn, org, ev->user, ev->time, gained)) {
        json_decref (paid);
        return -1;
    }
    metrics [nmetrics++] = (s_metric_t) { "xp", total - gained, total };
    int level_old = td_ana_level (defs, total - gained), level_now = td_ana_level (defs, total);
    metrics [nmetrics++] = (s_metric_t) { "level", level_old, level_now };
    for (size_t i = 0; i < ncounters; i++) {
        int64_t v = json_integer_value (json_object_get (values, counters [i]));
        metrics [nmetrics++] = (s_metric_t) { counters [i], v - 1, v };
    }
    json_decref (values);
    if (new_day) {
        const char *pu [] = { ev->user };
        res = td_ana_q (conn, "SELECT (day - date '1970-01-01') FROM analytics_days "
                              "WHERE user_id = $1 ORDER BY day", 1, pu);
        if (!res) {
            json_decref (paid);
            return -1;
        }
        size_t n = (size_t) PQntuples (res);
        int32_t *days = malloc ((n? n: 1) * sizeof *days);
        if (!days) {
            PQclear (res);
            json_decref (paid);
            return -1;
        }
        for (size_t i = 0; i < n; i++)
            days [i] = (int32_t) strtol (PQgetvalue (res, (int) i, 0), NULL, 10);
        PQclear (res);
        td_ana_streak_t st;
        td_ana_streak (days, n, n? days [n - 1]: 0, defs->freeze_every, defs->freeze_max, &st);
        free (days);
        int64_t longest_now = st.longest > longest_old? st.longest: longest_old;
        metrics [nmetrics++] = (s_metric_t) { "streak", longest_old, longest_now };
        metrics [nmetrics++] = (s_metric_t) { "active_days", (int64_t) n - 1, (int64_t) n };
        if (longest_now > longest_old) {
            char l [24];
            snprintf (l, sizeof l, "%lld", (long long) longest_now);
            const char *pk [] = { ev->user, l };
            res = td_ana_q (conn, "UPDATE analytics_learners SET longest_streak = $2::int "
                                  "WHERE user_id = $1", 2, pk);
            if (!res) {
                json_decref (paid);
                return -1;
            }
            PQclear (res);
        }
    }

    //  3. Achievements crossed by this event.
    json_t *unlocked = json_array ();
    for (size_t a = 0; unlocked && a < defs->ach_count; a++) {
        const td_ana_ach_t *ach = &defs->ach [a];
        for (size_t m = 0; m < nmetrics; m++) {
            if (strcmp (metrics [m].name, ach->metric)
            ||  !(metrics [m].old < ach->threshold && metrics [m].now >= ach->threshold))
                continue;
            const char *pa [] = { ev->user, ach->id, ev->time, seq };
            res = td_ana_q (conn,
                "INSERT INTO analytics_unlocks (user_id, achievement, unlocked_at, event_seq) "
                "VALUES ($1, $2, $3::timestamptz, $4::bigint) ON CONFLICT DO NOTHING RETURNING 1",
                4, pa);
            if (!res) {
                json_decref (unlocked);
                json_decref (paid);
                return -1;
            }
            if (PQntuples (res) == 1)
                json_array_append_new (unlocked, json_integer ((json_int_t) a));
            PQclear (res);
        }
    }

    //  4. What to publish.
    int rc = unlocked? 0: -1;
    if (out && rc == 0 && gained > 0)
        rc = td_ana_emit (conn, out, "analytics.xp", ev,
                     json_pack ("{s:I, s:I, s:i, s:b, s:O}", "xp", (json_int_t) gained, "total",
                                (json_int_t) total, "level", level_now, "level_up",
                                level_now > level_old, "rules", paid));
    for (size_t i = 0; out && rc == 0 && unlocked && i < json_array_size (unlocked); i++) {
        const td_ana_ach_t *ach = &defs->ach [json_integer_value (json_array_get (unlocked, i))];
        rc = td_ana_emit (conn, out, "analytics.achievement", ev,
                     json_pack ("{s:s, s:s, s:i, s:s, s:I}", "achievement", ach->id, "title",
                                ach->title, "tier", ach->tier, "metric", ach->metric,
                                "threshold", (json_int_t) ach->threshold));
    }
    json_decref (unlocked);
    json_decref (paid);
    return rc;
}

int
td_ana_recompute_days (td_actor_t *actor, PGconn *conn, const char *user)
{
    const td_ana_defs_t *defs = td_ana_state (actor)->defs;
    const char *p [] = { user };
    PGresult *res = td_ana_q (conn, "DELETE FROM analytics_days WHERE user_id = $1", 1, p);
    PQclear (res);
    if (!res)
        return -1;
    res = td_ana_q (conn,
        "INSERT INTO analytics_days (user_id, day, count, xp) "
        "SELECT $1, (a.at AT TIME ZONE l.timezone)::date, count (DISTINCT a.event_seq), sum (a.xp) "
        "FROM analytics_activity a JOIN analytics_learners l ON l.user_id = a.user_id "
        "WHERE a.user_id = $1 GROUP BY 2", 1, p);
    PQclear (res);
    if (!res)
        return -1;
    res = td_ana_q (conn, "SELECT (day - date '1970-01-01') FROM analytics_days "
                          "WHERE user_id = $1 ORDER BY day", 1, p);
    if (!res)
        return -1;
    size_t n = (size_t) PQntuples (res);
    int32_t *days = malloc ((n? n: 1) * sizeof *days);
    if (!days) {
        PQclear (res);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        days [i] = (int32_t) strtol (PQgetvalue (res, (int) i, 0), NULL, 10);
    PQclear (res);
    td_ana_streak_t st;
    td_ana_streak (days, n, n? days [n - 1]: 0, defs->freeze_every, defs->freeze_max, &st);
    free (days);
    char l [24];
    snprintf (l, sizeof l, "%d", st.longest);
    const char *pk [] = { user, l };
    //  Exactly what the days now give, as a rebuild would; unlocked achievements stay.
    res = td_ana_q (conn, "UPDATE analytics_learners SET longest_streak = $2::int "
                          "WHERE user_id = $1", 2, pk);
    PQclear (res);
    return res? 0: -1;
}
