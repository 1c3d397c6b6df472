/*  td_analytics_metrics — a cohort's learners as their mentors and admins see them
 *  (ANALYTICS.md §4): GET /api/v1/cohorts/{id}/metrics[?inactive_days=N].
 *
 *  The members come from identity (the same kept call as the cohort leaderboard,
 *  td_analytics_board.c); the figures from the analytics tables and the event log. Definitions
 *  (also in ANALYTICS.md):
 *  - **inactive**: no event at all of the learner for `inactive_days` days (default 7, 1..365);
 *  - **stuck**: at least 3 graded submissions of the last 7 days failed since the last accepted
 *    one (`failing`), or an exercise with at least 3 failed attempts and no accepted one
 *    (`stuck_items`);
 *  - **time spent** (`active_minutes`, `active_minutes_7`): the learner's events in time order;
 *    every gap shorter than 5 minutes between two consecutive events is time spent, longer gaps
 *    are breaks (so an isolated event counts nothing: we cannot see how long it took);
 *  - **completion per task** (`tasks`): per exercise graded in the cohort's org, how many of the
 *    cohort's learners attempted it, how many had it accepted, attempts and failed attempts;
 *  - **error patterns** (`error_patterns`): the test cases failing most (grade.result
 *    `failed_tests`) and the practice items answered wrong most (session.answered `correct`
 *    false, by kind and item_id: grammar topics among them), with how many learners each hit.
 *  Submissions are read from grade.result events of the cohort's org (not from XP rules);
 *  practice answers carry no org, so a learner's are counted in every cohort of theirs.
 *  "Events" here are learner events: analytics.* (derived) and llm.usage (accounting of an
 *  upstream LLM call) count neither for inactivity nor for time spent.
 */
#include <string.h>
#include "td_analytics.h"
#include "td_json.h"

//  Per learner: one row each, ordered by user id.
#define S_LEARNERS_SQL \
    "SELECT coalesce (json_agg (r ORDER BY r.user_id), '[]')::text FROM (" \
    "  SELECT u.id AS user_id, coalesce (l.xp, 0) AS xp, l.last_at AS last_active, " \
    "    (SELECT count (*) FROM analytics_days d WHERE d.user_id = u.id " \
    "       AND d.day > (now () AT TIME ZONE coalesce (l.timezone, 'UTC'))::date - 7) AS active_days_7, " \
    "    (SELECT count (*) FROM analytics_days d WHERE d.user_id = u.id " \
    "       AND d.day > (now () AT TIME ZONE coalesce (l.timezone, 'UTC'))::date - 30) AS active_days_30, " \
    "    coalesce ((SELECT json_object_agg (c.name, c.value) FROM analytics_counters c " \
    "               WHERE c.user_id = u.id), '{}') AS counters, " \
    "    g.submissions_7, g.accepted_7, g.submissions, g.accepted, f.failing, " \
    "    coalesce (s.stuck_items, '[]') AS stuck_items, " \
    "    to_char (ev.last_event AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS last_event, " \
    "    ev.last_event IS NULL OR ev.last_event < now () - make_interval (days => $3::int) AS inactive, " \
    "    tm.active_minutes, tm.active_minutes_7, " \
    "    (SELECT count (*) FROM analytics_unlocks a WHERE a.user_id = u.id) AS achievements " \
    "  FROM json_array_elements_text ($1::json) u (id) " \
    "  LEFT JOIN analytics_learners l ON l.user_id = u.id " \
    "  CROSS JOIN LATERAL (SELECT max (e.at) AS last_event FROM analytics_events e " \
    "    WHERE e.user_id = u.id AND e.type NOT LIKE 'analytics.%' " \
    "      AND e.type <> '" TD_ANA_USAGE_TYPE "' " \
    "      AND (e.org_id = $2 OR e.org_id IS NULL)) ev " \
    "  CROSS JOIN LATERAL (SELECT " \
    "      (coalesce (sum (x.gap), 0) / 60)::bigint AS active_minutes, " \
    "      (coalesce (sum (x.gap) FILTER (WHERE x.at > now () - interval '7 days'), 0) / 60)::bigint " \
    "        AS active_minutes_7 " \
    "    FROM (SELECT e.at, extract (epoch FROM e.at - lag (e.at) OVER (ORDER BY e.at, e.seq)) AS gap " \
    "          FROM analytics_events e WHERE e.user_id = u.id AND e.type NOT LIKE 'analytics.%' " \
    "            AND e.type <> '" TD_ANA_USAGE_TYPE "' " \
    "            AND (e.org_id = $2 OR e.org_id IS NULL)) x " \
    "    WHERE x.gap < 300) tm " \
    "  CROSS JOIN LATERAL (SELECT " \
    "      count (*) FILTER (WHERE e.at > now () - interval '7 days') AS submissions_7, " \
    "      count (*) FILTER (WHERE e.at > now () - interval '7 days' " \
    "                        AND e.data->>'verdict' = 'accepted') AS accepted_7, " \
    "      count (*) AS submissions, " \
    "      count (*) FILTER (WHERE e.data->>'verdict' = 'accepted') AS accepted " \
    "    FROM analytics_events e WHERE e.user_id = u.id AND e.org_id = $2 " \
    "      AND e.type = 'grade.result') g " \
    "  CROSS JOIN LATERAL (SELECT count (*) AS failing FROM analytics_events e " \
    "    WHERE e.user_id = u.id AND e.org_id = $2 AND e.type = 'grade.result' " \
    "      AND e.data->>'verdict' IS DISTINCT FROM 'accepted' " \
    "      AND e.at > greatest (coalesce ((SELECT max (x.at) FROM analytics_events x " \
    "          WHERE x.user_id = u.id AND x.org_id = $2 AND x.type = 'grade.result' " \
    "            AND x.data->>'verdict' = 'accepted'), '-infinity'), " \
    "        now () - interval '7 days')) f " \
    "  CROSS JOIN LATERAL (SELECT json_agg (i.item_id ORDER BY i.item_id) AS stuck_items FROM (" \
    "      SELECT e.data->>'item_id' AS item_id FROM analytics_events e " \
    "      WHERE e.user_id = u.id AND e.org_id = $2 AND e.type = 'grade.result' " \
    "        AND jsonb_typeof (e.data->'item_id') = 'string' GROUP BY 1 " \
    "      HAVING count (*) FILTER (WHERE e.data->>'verdict' IS DISTINCT FROM 'accepted') >= 3 " \
    "         AND count (*) FILTER (WHERE e.data->>'verdict' = 'accepted') = 0) i) s) r"

//  The cohort as a whole: tasks and error patterns.
#define S_COHORT_SQL \
    "WITH g AS (SELECT e.user_id, e.data FROM analytics_events e " \
    "           WHERE e.user_id IN (SELECT json_array_elements_text ($1::json)) " \
    "             AND e.org_id = $2 AND e.type = 'grade.result' " \
    "             AND jsonb_typeof (e.data->'item_id') = 'string') " \
    "SELECT json_build_object(" \
    "  'tasks', coalesce ((SELECT json_agg (t ORDER BY t.item_id) FROM (" \
    "     SELECT g.data->>'item_id' AS item_id, count (DISTINCT g.user_id) AS attempted, " \
    "       count (DISTINCT g.user_id) FILTER (WHERE g.data->>'verdict' = 'accepted') AS completed, " \
    "       count (*) AS attempts, " \
    "       count (*) FILTER (WHERE g.data->>'verdict' IS DISTINCT FROM 'accepted') AS failed " \
    "     FROM g GROUP BY 1) t), '[]'), " \
    "  'error_patterns', json_build_object(" \
    "    'tests', coalesce ((SELECT json_agg (x ORDER BY x.failed DESC, x.test) FROM (" \
    "       SELECT ft.test, count (*) AS failed, count (DISTINCT g.user_id) AS learners " \
    "       FROM g CROSS JOIN LATERAL jsonb_array_elements_text (CASE WHEN jsonb_typeof " \
    "         (g.data->'failed_tests') = 'array' THEN g.data->'failed_tests' ELSE '[]' END) ft (test) " \
    "       GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 20) x), '[]'), " \
    "    'items', coalesce ((SELECT json_agg (x ORDER BY x.wrong DESC, x.kind, x.item_id) FROM (" \
    "       SELECT e.data->>'kind' AS kind, e.data->>'item_id' AS item_id, count (*) AS answered, " \
    "         count (*) FILTER (WHERE e.data->'correct' = 'false') AS wrong, " \
    "         count (DISTINCT e.user_id) FILTER (WHERE e.data->'correct' = 'false') AS learners " \
    "       FROM analytics_events e " \
    "       WHERE e.user_id IN (SELECT json_array_elements_text ($1::json)) " \
    "         AND e.type = 'session.answered' AND (e.org_id = $2 OR e.org_id IS NULL) " \
    "         AND jsonb_typeof (e.data->'item_id') = 'string' " \
    "       GROUP BY 1, 2 HAVING count (*) FILTER (WHERE e.data->'correct' = 'false') > 0 " \
    "       ORDER BY 4 DESC, 1, 2 LIMIT 20) x), '[]')))::text"

void
td_ana_metrics_answer (td_actor_t *self, td_call_t *call, const char *cohort, const char *org,
                       const json_t *ids, const json_t *names, int inactive_days)
{
    char *ids_text = json_dumps (ids, JSON_COMPACT), days [16];
    snprintf (days, sizeof days, "%d", inactive_days);
    const char *pq [] = { ids_text, org, days };
    bool failed;
    json_t *rows = ids_text? td_ana_query_json (self, call, S_LEARNERS_SQL, 3, pq, &failed): NULL;
    json_t *whole = rows? td_ana_query_json (self, call, S_COHORT_SQL, 2, pq, &failed): NULL;
    free (ids_text);
    if (!rows || !whole) {
        json_decref (rows);
        td_ana_db_down (call);
        return;
    }
    const td_ana_defs_t *d = td_ana_state (self)->defs;
    int inactive = 0, stuck = 0, active = 0;
    for (size_t i = 0; i < json_array_size (rows); i++) {
        json_t *r = json_array_get (rows, i);
        const char *uid = json_string_value (json_object_get (r, "user_id"));
        int64_t a7 = json_integer_value (json_object_get (r, "active_days_7"));
        bool is_stuck = json_integer_value (json_object_get (r, "failing")) >= 3
                     || json_array_size (json_object_get (r, "stuck_items")) > 0;
        json_object_set (r, "name", json_object_get (names, uid? uid: ""));
        json_object_set_new (r, "level", json_integer (td_ana_level (
            d, json_integer_value (json_object_get (r, "xp")))));
        json_object_set_new (r, "stuck", json_boolean (is_stuck));
        inactive += json_is_true (json_object_get (r, "inactive"));
        active += a7 > 0;
        stuck += is_stuck;
    }
    td_ana_reply (call, 200, json_pack ("{s:s, s:s, s:i, s:{s:i, s:i, s:i, s:i}, s:o, s:O, s:O}",
        "cohort_id", cohort, "org_id", org, "inactive_days", inactive_days,
        "summary", "learners", (int) json_array_size (rows), "active_7", active,
        "inactive", inactive, "stuck", stuck,
        "items", rows, "tasks", json_object_get (whole, "tasks"),
        "error_patterns", json_object_get (whole, "error_patterns")));
    json_decref (whole);
}
