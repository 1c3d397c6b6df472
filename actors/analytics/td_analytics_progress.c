/*  td_analytics_progress — per-course progress and error patterns of the caller
 *  (ANALYTICS.md §4): GET /api/v1/me/progress.
 *
 *  Both are read from the event log, so they need no table of their own and a rebuild cannot
 *  change them: per course, the latest catalog.progress the catalog sent (percent, items
 *  completed of items; latest by event time, so reordered events change nothing) and whether
 *  catalog.course_completed came; error patterns from
 *  grade.result: the verdicts counted, and the exercises failed most (attempts, failures,
 *  accepted, last verdict), most failures first; the test cases failing most (the
 *  `failed_tests` names grade.result carries: how often, on how many exercises); and the practice
 *  items answered wrong most (session.answered with `correct` false, by kind and item_id: a
 *  grammar drill's item is its topic). Grammar exercises graded by the grader count like any
 *  other item.
 */
#include <string.h>
#include "td_call_json.h"
#include "td_analytics.h"
#include "td_json.h"

int
td_ana_progress (td_actor_t *self, td_call_t *call)
{
    char user [160];
    if (!td_call_user (call, user, sizeof user, "learner figures"))
        return TD_ACTOR_OK;
    const char *pu [] = { user };
    bool failed;
    json_t *j = td_ana_query_json (self, call,
        "SELECT json_build_object("
        "  'courses', coalesce ((SELECT json_agg (c ORDER BY c.updated_at DESC) FROM ("
        "     SELECT DISTINCT ON (e.data->>'course_id') e.data->>'course_id' AS course_id, "
        "       CASE WHEN jsonb_typeof (e.data->'percent') = 'number' "
        "            THEN (e.data->>'percent')::float8 END AS percent, "
        "       CASE WHEN jsonb_typeof (e.data->'completed') = 'number' "
        "            THEN (e.data->>'completed')::float8 END AS items_completed, "
        "       CASE WHEN jsonb_typeof (e.data->'items') = 'number' "
        "            THEN (e.data->>'items')::float8 END AS items, "
        "       EXISTS (SELECT 1 FROM analytics_events x WHERE x.user_id = $1 "
        "               AND x.type = 'catalog.course_completed' "
        "               AND x.data->>'course_id' = e.data->>'course_id') AS completed, "
        "       to_char (e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS updated_at "
        "     FROM analytics_events e WHERE e.user_id = $1 AND e.type = 'catalog.progress' "
        "       AND jsonb_typeof (e.data->'course_id') = 'string' "
        "     ORDER BY e.data->>'course_id', e.at DESC, e.seq DESC) c), '[]'), "
        "  'verdicts', coalesce ((SELECT json_object_agg (v, n) FROM ("
        "     SELECT coalesce (e.data->>'verdict', 'unknown') AS v, count (*) AS n "
        "     FROM analytics_events e WHERE e.user_id = $1 AND e.type = 'grade.result' "
        "     GROUP BY 1) v), '{}'), "
        "  'failing_items', coalesce ((SELECT json_agg (i ORDER BY i.failed DESC, i.item_id) FROM ("
        "     SELECT e.data->>'item_id' AS item_id, count (*) AS attempts, "
        "       count (*) FILTER (WHERE e.data->>'verdict' IS DISTINCT FROM 'accepted') AS failed, "
        "       count (*) FILTER (WHERE e.data->>'verdict' = 'accepted') AS accepted, "
        "       (array_agg (e.data->>'verdict' ORDER BY e.at DESC, e.seq DESC))[1] AS last_verdict "
        "     FROM analytics_events e WHERE e.user_id = $1 AND e.type = 'grade.result' "
        "       AND jsonb_typeof (e.data->'item_id') = 'string' "
        "     GROUP BY 1 HAVING count (*) FILTER (WHERE e.data->>'verdict' "
        "                                         IS DISTINCT FROM 'accepted') > 0 "
        "     ORDER BY 3 DESC, 1 LIMIT 20) i), '[]'), "
        "  'failing_tests', coalesce ((SELECT json_agg (x ORDER BY x.failed DESC, x.test) FROM ("
        "     SELECT ft.test, count (*) AS failed, count (DISTINCT e.data->>'item_id') AS items, "
        "       max (to_char (e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')) AS last_failed "
        "     FROM analytics_events e CROSS JOIN LATERAL jsonb_array_elements_text ("
        "       CASE WHEN jsonb_typeof (e.data->'failed_tests') = 'array' "
        "            THEN e.data->'failed_tests' ELSE '[]' END) ft (test) "
        "     WHERE e.user_id = $1 AND e.type = 'grade.result' "
        "     GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 20) x), '[]'), "
        "  'failing_topics', coalesce ((SELECT json_agg (x ORDER BY x.wrong DESC, x.kind, x.item_id) FROM ("
        "     SELECT e.data->>'kind' AS kind, e.data->>'item_id' AS item_id, count (*) AS answered, "
        "       count (*) FILTER (WHERE e.data->'correct' = 'false') AS wrong, "
        "       (array_agg ((e.data->'correct') = 'true' ORDER BY e.at DESC, e.seq DESC))[1] AS last_correct "
        "     FROM analytics_events e WHERE e.user_id = $1 AND e.type = 'session.answered' "
        "       AND jsonb_typeof (e.data->'item_id') = 'string' "
        "     GROUP BY 1, 2 HAVING count (*) FILTER (WHERE e.data->'correct' = 'false') > 0 "
        "     ORDER BY 4 DESC, 1, 2 LIMIT 20) x), '[]'))::text", 1, pu, &failed);
    return j? td_ana_reply (call, 200, j): td_ana_db_down (call);
}
