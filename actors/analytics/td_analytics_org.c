/*  td_analytics_org — an org's usage as its admins see it (ANALYTICS.md §4):
 *  GET /api/v1/orgs/{id}/activity[?days=N].
 *
 *  Read from the event log (so a rebuild cannot change it), for the org's admins, its API keys and
 *  system; its other members 403, anyone else 404 (IDENTITY.md §access). Definitions:
 *  - **active learners** of the last day, 7 days and 30 days: distinct users with an event tagged
 *    with the org in that window (analytics.* events, which analytics derives, do not count);
 *  - **submissions** / **accepted**: the org's grade.result events (all, and verdict accepted);
 *  - **reviews**: srs.reviewed events. Cards are personal (their events carry no org), so the
 *    org counts the reviews of the learners active in it over the same window;
 *  - **LLM tokens by model**: the org's llm.done events, their `usage` summed per `model`.
 *  Windows are rolling (now minus N days, UTC); `days` (1..366, default 30) sets the window of
 *  the totals; the active counts always give day, week and month.
 */
#include <string.h>
#include "td_analytics.h"
#include "td_json.h"

#define S_ACTIVITY_SQL \
    "WITH w AS (SELECT e.type, e.user_id, e.at, e.data FROM analytics_events e " \
    "           WHERE e.org_id = $1 AND e.type NOT LIKE 'analytics.%' " \
    "             AND e.at > now () - make_interval (days => greatest ($2::int, 30))), " \
    "     t AS (SELECT * FROM w WHERE w.at > now () - make_interval (days => $2::int)), " \
    "     who AS (SELECT DISTINCT t.user_id FROM t WHERE t.user_id IS NOT NULL) " \
    "SELECT json_build_object(" \
    "  'active_learners', json_build_object(" \
    "     'day', (SELECT count (DISTINCT user_id) FROM w WHERE at > now () - interval '1 day'), " \
    "     'week', (SELECT count (DISTINCT user_id) FROM w WHERE at > now () - interval '7 days'), " \
    "     'month', (SELECT count (DISTINCT user_id) FROM w WHERE at > now () - interval '30 days')), " \
    "  'learners', (SELECT count (*) FROM who), " \
    "  'submissions', (SELECT count (*) FROM t WHERE type = 'grade.result'), " \
    "  'accepted', (SELECT count (*) FROM t WHERE type = 'grade.result' " \
    "                AND data->>'verdict' = 'accepted'), " \
    "  'reviews', (SELECT count (*) FROM analytics_events r WHERE r.type = 'srs.reviewed' " \
    "     AND r.user_id IN (SELECT user_id FROM who) " \
    "     AND r.at > now () - make_interval (days => $2::int)), " \
    "  'llm', json_build_object(" \
    "     'turns', (SELECT count (*) FROM t WHERE type = 'llm.done'), " \
    "     'by_model', coalesce ((SELECT json_agg (m ORDER BY m.model) FROM (" \
    "        SELECT coalesce (data->>'model', 'unknown') AS model, count (*) AS turns, " \
    "          sum (CASE WHEN jsonb_typeof (data->'usage'->'prompt_tokens') = 'number' " \
    "               THEN (data->'usage'->>'prompt_tokens')::numeric ELSE 0 END)::bigint AS prompt_tokens, " \
    "          sum (CASE WHEN jsonb_typeof (data->'usage'->'completion_tokens') = 'number' " \
    "               THEN (data->'usage'->>'completion_tokens')::numeric ELSE 0 END)::bigint " \
    "            AS completion_tokens " \
    "        FROM t WHERE type = 'llm.done' GROUP BY 1) m), '[]')))::text"

int
td_ana_org_activity (td_actor_t *self, td_call_t *call)
{
    char org [64];
    if (!td_ana_org_admin (call, org, sizeof org, "the org's activity"))
        return TD_ACTOR_OK;
    int64_t days = 30;
    if (td_ana_int_param (call, "days", 1, 366, &days))
        return TD_ACTOR_OK;
    char ds [16];
    snprintf (ds, sizeof ds, "%d", (int) days);
    const char *pq [] = { org, ds };
    bool failed;
    json_t *j = td_ana_query_json (self, call, S_ACTIVITY_SQL, 2, pq, &failed);
    if (!j)
        return td_ana_db_down (call);
    json_object_set_new (j, "org_id", json_string (org));
    json_object_set_new (j, "days", json_integer ((json_int_t) days));
    return td_ana_reply (call, 200, j);
}
