/*  td_analytics_org — an org's usage as its admins see it (ANALYTICS.md §4):
 *  GET /api/v1/orgs/{id}/activity[?days=N].
 *
 *  Read from the event log (so a rebuild cannot change it), for the org's admins, its API keys and
 *  system; its other members 403, anyone else 404 (IDENTITY.md §access). Definitions:
 *  - **active learners** of the last day, 7 days and 30 days: distinct users with a learner
 *    event tagged with the org in that window (analytics.* events, which analytics derives, and
 *    llm.usage, which is accounting, do not count);
 *  - **submissions** / **accepted**: the org's grade.result events (all, and verdict accepted);
 *  - **reviews**: srs.reviewed events. Cards are personal (their events carry no org), so the
 *    org counts the reviews of the learners active in it over the same window;
 *  - **LLM usage**: `turns` are the org's llm.done events (tutor turns); tokens, requests and
 *    errors come ONLY from llm.usage (one per logical upstream call, whatever its purpose; an
 *    error is ok false with any error but "cancelled", as in the llm's usage table:
 *    tutor turns publish both, so counting llm.done's usage too would count them twice), in
 *    total, by model and by purpose. A token figure that is not a number counts 0; one above
 *    10^9 is clamped (a hostile event cannot overflow the sums and take the view down).
 *  Windows are rolling (now minus N days, UTC); `days` (1..366, default 30) sets the window of
 *  the totals; the active counts always give day, week and month.
 */
#include <string.h>
#include "td_analytics.h"
#include "td_json.h"

//  A token count of an llm.usage event's data, as a number in 0..10^9.
#define S_TOKENS(key) \
    "least (greatest (CASE WHEN jsonb_typeof (data->'" key "') = 'number' " \
    "  THEN trunc ((data->>'" key "')::numeric) ELSE 0 END, 0), 1000000000)"

//  A text field of the data ('unknown' when absent, empty or not a string).
#define S_NAME(key) \
    "CASE WHEN jsonb_typeof (data->'" key "') = 'string' AND data->>'" key "' <> '' " \
    "  THEN data->>'" key "' ELSE 'unknown' END"

//  The columns of a group of llm.usage rows u (p, c, err).
#define S_USAGE_COLS \
    "count (*) AS requests, count (*) FILTER (WHERE u.err) AS errors, " \
    "coalesce (sum (u.p), 0)::bigint AS prompt_tokens, " \
    "coalesce (sum (u.c), 0)::bigint AS completion_tokens, " \
    "coalesce (sum (u.p + u.c), 0)::bigint AS total_tokens"

#define S_ACTIVITY_SQL \
    "WITH w AS (SELECT e.type, e.user_id, e.at, e.data FROM analytics_events e " \
    "           WHERE e.org_id = $1 AND e.type NOT LIKE 'analytics.%' " \
    "             AND e.at > now () - make_interval (days => greatest ($2::int, 30))), " \
    "     a AS (SELECT * FROM w WHERE w.type <> '" TD_ANA_USAGE_TYPE "'), " \
    "     t AS (SELECT * FROM w WHERE w.at > now () - make_interval (days => $2::int)), " \
    "     who AS (SELECT DISTINCT t.user_id FROM t WHERE t.user_id IS NOT NULL " \
    "             AND t.type <> '" TD_ANA_USAGE_TYPE "'), " \
    "     u AS (SELECT " S_NAME ("model") " AS model, " S_NAME ("purpose") " AS purpose, " \
    "             " S_TOKENS ("prompt_tokens") " AS p, " S_TOKENS ("completion_tokens") " AS c, " \
    "             coalesce (data->'ok' = 'false'::jsonb " \
    "                       AND coalesce (data->>'error', '') <> 'cancelled', false) AS err " \
    "           FROM t WHERE type = '" TD_ANA_USAGE_TYPE "'), " \
    "     d AS (SELECT " S_NAME ("model") " AS model, count (*) AS turns " \
    "           FROM t WHERE type = 'llm.done' GROUP BY 1), " \
    "     um AS (SELECT u.model, " S_USAGE_COLS " FROM u GROUP BY 1) " \
    "SELECT json_build_object(" \
    "  'active_learners', json_build_object(" \
    "     'day', (SELECT count (DISTINCT user_id) FROM a WHERE at > now () - interval '1 day'), " \
    "     'week', (SELECT count (DISTINCT user_id) FROM a WHERE at > now () - interval '7 days'), " \
    "     'month', (SELECT count (DISTINCT user_id) FROM a WHERE at > now () - interval '30 days')), " \
    "  'learners', (SELECT count (*) FROM who), " \
    "  'submissions', (SELECT count (*) FROM t WHERE type = 'grade.result'), " \
    "  'accepted', (SELECT count (*) FROM t WHERE type = 'grade.result' " \
    "                AND data->>'verdict' = 'accepted'), " \
    "  'reviews', (SELECT count (*) FROM analytics_events r WHERE r.type = 'srs.reviewed' " \
    "     AND r.user_id IN (SELECT user_id FROM who) " \
    "     AND r.at > now () - make_interval (days => $2::int)), " \
    "  'llm', (SELECT json_build_object('turns', (SELECT coalesce (sum (turns), 0) FROM d), " \
    "     'requests', x.requests, 'errors', x.errors, 'prompt_tokens', x.prompt_tokens, " \
    "     'completion_tokens', x.completion_tokens, 'total_tokens', x.total_tokens, " \
    "     'by_model', coalesce ((SELECT json_agg (m ORDER BY m.model) FROM (" \
    "        SELECT k.model, coalesce (d.turns, 0) AS turns, coalesce (um.requests, 0) AS requests, " \
    "          coalesce (um.errors, 0) AS errors, coalesce (um.prompt_tokens, 0) AS prompt_tokens, " \
    "          coalesce (um.completion_tokens, 0) AS completion_tokens, " \
    "          coalesce (um.total_tokens, 0) AS total_tokens " \
    "        FROM (SELECT model FROM d UNION SELECT model FROM um) k " \
    "        LEFT JOIN d ON d.model = k.model LEFT JOIN um ON um.model = k.model) m), '[]'), " \
    "     'by_purpose', coalesce ((SELECT json_agg (q ORDER BY q.purpose) FROM (" \
    "        SELECT u.purpose, " S_USAGE_COLS " FROM u GROUP BY 1) q), '[]')) " \
    "   FROM (SELECT " S_USAGE_COLS " FROM u) x))::text"

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
