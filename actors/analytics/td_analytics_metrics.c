/*  td_analytics_metrics — a cohort's learners as their mentors and admins see them
 *  (ANALYTICS.md §4): GET /api/v1/cohorts/{id}/metrics.
 *
 *  The members come from identity (the same kept call as the cohort leaderboard,
 *  td_analytics_board.c); the figures from the analytics tables and the event log. A learner is
 *  **inactive** with no activity in the last 7 days, and **stuck** when at least 3 graded
 *  submissions of the last 7 days failed since their last accepted one. Submissions and acceptances here are
 *  read from grade.result events of the cohort's org, so they do not depend on how XP rules are
 *  configured.
 */
#include <string.h>
#include "td_analytics.h"
#include "td_json.h"

void
td_ana_metrics_answer (td_actor_t *self, td_call_t *call, const char *cohort, const char *org,
                       const json_t *ids, const json_t *names)
{
    char *ids_text = json_dumps (ids, JSON_COMPACT);
    const char *pq [] = { ids_text, org };
    bool failed;
    json_t *rows = ids_text? td_ana_query_json (self, call,
        "SELECT coalesce (json_agg (r ORDER BY r.user_id), '[]')::text FROM ("
        "  SELECT u.id AS user_id, coalesce (l.xp, 0) AS xp, l.last_at AS last_active, "
        "    (SELECT count (*) FROM analytics_days d WHERE d.user_id = u.id "
        "       AND d.day > (now () AT TIME ZONE coalesce (l.timezone, 'UTC'))::date - 7) AS active_days_7, "
        "    (SELECT count (*) FROM analytics_days d WHERE d.user_id = u.id "
        "       AND d.day > (now () AT TIME ZONE coalesce (l.timezone, 'UTC'))::date - 30) AS active_days_30, "
        "    coalesce ((SELECT json_object_agg (c.name, c.value) FROM analytics_counters c "
        "               WHERE c.user_id = u.id), '{}') AS counters, "
        "    g.submissions_7, g.accepted_7, g.submissions, g.accepted, f.failing, "
        "    (SELECT count (*) FROM analytics_unlocks a WHERE a.user_id = u.id) AS achievements "
        "  FROM json_array_elements_text ($1::json) u (id) "
        "  LEFT JOIN analytics_learners l ON l.user_id = u.id "
        "  CROSS JOIN LATERAL (SELECT "
        "      count (*) FILTER (WHERE e.at > now () - interval '7 days') AS submissions_7, "
        "      count (*) FILTER (WHERE e.at > now () - interval '7 days' "
        "                        AND e.data->>'verdict' = 'accepted') AS accepted_7, "
        "      count (*) AS submissions, "
        "      count (*) FILTER (WHERE e.data->>'verdict' = 'accepted') AS accepted "
        "    FROM analytics_events e WHERE e.user_id = u.id AND e.org_id = $2 "
        "      AND e.type = 'grade.result') g "
        "  CROSS JOIN LATERAL (SELECT count (*) AS failing FROM analytics_events e "
        "    WHERE e.user_id = u.id AND e.org_id = $2 AND e.type = 'grade.result' "
        "      AND e.data->>'verdict' IS DISTINCT FROM 'accepted' "
        "      AND e.at > greatest (coalesce ((SELECT max (x.at) FROM analytics_events x "
        "          WHERE x.user_id = u.id AND x.org_id = $2 AND x.type = 'grade.result' "
        "            AND x.data->>'verdict' = 'accepted'), '-infinity'), "
        "        now () - interval '7 days')) f) r", 2, pq, &failed): NULL;
    free (ids_text);
    if (!rows) {
        td_ana_db_down (call);
        return;
    }
    const td_ana_defs_t *d = td_ana_state (self)->defs;
    int inactive = 0, stuck = 0, active = 0;
    for (size_t i = 0; i < json_array_size (rows); i++) {
        json_t *r = json_array_get (rows, i);
        const char *uid = json_string_value (json_object_get (r, "user_id"));
        int64_t a7 = json_integer_value (json_object_get (r, "active_days_7"));
        bool is_stuck = json_integer_value (json_object_get (r, "failing")) >= 3;
        json_object_set (r, "name", json_object_get (names, uid? uid: ""));
        json_object_set_new (r, "level", json_integer (td_ana_level (
            d, json_integer_value (json_object_get (r, "xp")))));
        json_object_set_new (r, "inactive", json_boolean (a7 == 0));
        json_object_set_new (r, "stuck", json_boolean (is_stuck));
        inactive += a7 == 0;
        active += a7 > 0;
        stuck += is_stuck;
    }
    td_ana_reply (call, 200, json_pack ("{s:s, s:s, s:{s:i, s:i, s:i, s:i}, s:o}",
        "cohort_id", cohort, "org_id", org,
        "summary", "learners", (int) json_array_size (rows), "active_7", active,
        "inactive", inactive, "stuck", stuck,
        "items", rows));
}
