/*  td_analytics_xapi — the org's learning record as xAPI 1.0.3 statements, from the event log
 *  (ANALYTICS.md §7): GET /api/v1/orgs/{id}/xapi?since=&cursor=&limit=.
 *
 *  Each learner event of the org becomes one statement a learning record store accepts: a
 *  deterministic UUID (version 3 layout, from an MD5 of source and id, so exporting twice gives
 *  the same ids and an LRS drops the repeats), the learner as an account agent on the server's
 *  home page, an ADL verb, an activity IRI under the home page, the result where the event has
 *  one, the event's time as timestamp. PostgreSQL builds the statements from the stored JSON.
 *  Access: the org's admins and API keys, and system; its other members 403; others 404.
 */
#include <string.h>
#include "td_analytics.h"
#include "td_json.h"
#include "td_mp.h"

//  verb IRI and display for each event type.
#define S_VERB_SQL \
    "CASE e.type " \
    "  WHEN 'grade.result' THEN CASE WHEN e.data->>'verdict' = 'accepted' " \
    "       THEN 'http://adlnet.gov/expapi/verbs/passed' ELSE 'http://adlnet.gov/expapi/verbs/failed' END " \
    "  WHEN 'srs.reviewed' THEN 'http://adlnet.gov/expapi/verbs/answered' " \
    "  WHEN 'catalog.progress' THEN 'http://adlnet.gov/expapi/verbs/progressed' " \
    "  WHEN 'catalog.lesson_completed' THEN 'http://adlnet.gov/expapi/verbs/completed' " \
    "  WHEN 'catalog.course_completed' THEN 'http://adlnet.gov/expapi/verbs/completed' " \
    "  WHEN 'session.started' THEN 'http://adlnet.gov/expapi/verbs/initialized' " \
    "  WHEN 'llm.done' THEN 'http://adlnet.gov/expapi/verbs/interacted' " \
    "  WHEN 'analytics.achievement' THEN 'http://id.tincanapi.com/verb/earned' " \
    "  ELSE 'http://adlnet.gov/expapi/verbs/experienced' END"

//  The activity: what the event is about.
#define S_OBJECT_SQL \
    "$3::text || '/activities/' || replace (e.type, '.', '/') || '/' || " \
    "  coalesce (e.data->>'item_id', e.data->>'lesson_id', e.data->>'course_id', " \
    "            e.data->>'card_id', e.data->>'achievement', e.data->>'session_id', " \
    "            e.subject, e.id)"

int
td_ana_xapi (td_actor_t *self, td_call_t *call)
{
    char org [64], since [48] = "";
    if (!td_ana_org_admin (call, org, sizeof org, "the org's xAPI record"))
        return TD_ACTOR_OK;
    const msgpack_object *so = td_mp_get (td_call_body (call), "since");
    if (so && so->type != MSGPACK_OBJECT_NIL
    &&  (!td_mp_strcpy (so, since, sizeof since) || !td_ana_rfc3339 (since))) {
        td_call_error (call, TD_ERR_INVALID_INPUT, "since",
                       "since must be an RFC 3339 time such as 2026-11-22T10:00:00Z");
        return TD_ACTOR_OK;
    }
    int64_t limit = 100, cursor = 0;
    if (td_ana_int_param (call, "limit", 1, 500, &limit)
    ||  td_ana_int_param (call, "cursor", 0, INT64_MAX, &cursor))
        return TD_ACTOR_OK;
    const td_config_t *cfg = td_actor_config (self);
    char home [320], ls [24], cs [24];
    snprintf (home, sizeof home, "http://%s:%d", cfg->http_host, cfg->http_port);
    snprintf (ls, sizeof ls, "%lld", (long long) limit + 1);
    snprintf (cs, sizeof cs, "%lld", (long long) cursor);
    const char *pq [] = { org, *since? since: NULL, home, cs, ls };
    bool failed;
    json_t *rows = td_ana_query_json (self, call,
        "SELECT coalesce (json_agg (s ORDER BY seq), '[]')::text FROM ("
        "  SELECT e.seq, json_strip_nulls (json_build_object("
        "    'seq', e.seq, "
        "    'id', (SELECT substr (h, 1, 8) || '-' || substr (h, 9, 4) || '-3' || substr (h, 14, 3) "
        "              || '-' || substr ('89ab', (('x' || substr (h, 17, 1))::bit(4)::int % 4) + 1, 1) "
        "              || substr (h, 18, 3) || '-' || substr (h, 21, 12) "
        "           FROM md5 (e.source || ':' || e.id) h), "
        "    'version', '1.0.3', "
        "    'actor', json_build_object('objectType', 'Agent', "
        "        'account', json_build_object('homePage', $3::text, 'name', e.user_id)), "
        "    'verb', json_build_object('id', " S_VERB_SQL ", 'display', json_build_object('en-US', "
        "        regexp_replace (" S_VERB_SQL ", '^.*/', ''))), "
        "    'object', json_build_object('objectType', 'Activity', 'id', " S_OBJECT_SQL ", "
        "        'definition', json_build_object('name', json_build_object('en-US', e.type), "
        "        'type', 'http://adlnet.gov/expapi/activities/' || CASE "
        "           WHEN e.type LIKE 'catalog.course%' THEN 'course' "
        "           WHEN e.type LIKE 'catalog.%' THEN 'lesson' "
        "           WHEN e.type = 'grade.result' THEN 'assessment' "
        "           WHEN e.type = 'srs.reviewed' THEN 'question' "
        "           ELSE 'interaction' END)), "
        "    'result', CASE WHEN e.type = 'grade.result' THEN json_build_object("
        "        'success', e.data->>'verdict' = 'accepted', "
        "        'completion', true, "
        "        'score', CASE WHEN jsonb_typeof (e.data->'score') = 'number' "
        "                 THEN json_build_object('scaled', least (1, greatest (-1, (e.data->>'score')::float8))) END, "
        "        'response', e.data->>'verdict') "
        "      WHEN e.type LIKE 'catalog.%_completed' THEN json_build_object('completion', true) "
        "      END, "
        "    'context', json_build_object('platform', 'tutord', 'extensions', json_build_object("
        "        $3::text || '/xapi/event-type', e.type, $3::text || '/xapi/org', e.org_id)), "
        "    'timestamp', to_char (e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'))) s "
        "  FROM analytics_events e WHERE e.org_id = $1 AND e.user_id IS NOT NULL "
        "    AND e.type <> 'analytics.xp' AND e.type <> '" TD_ANA_USAGE_TYPE "' "
        "    AND e.type NOT LIKE 'session.sentinel%' "
        "    AND e.seq > $4::bigint AND ($2::timestamptz IS NULL OR e.at > $2::timestamptz) "
        "  ORDER BY e.seq LIMIT $5::bigint) x", 5, pq, &failed);
    if (!rows)
        return td_ana_db_down (call);
    bool more = json_array_size (rows) > (size_t) limit;
    if (more)
        json_array_remove (rows, (size_t) limit);
    char next [24] = "", more_url [256] = "";
    json_t *last = json_array_get (rows, json_array_size (rows) - 1);
    if (more && last) {
        snprintf (next, sizeof next, "%lld",
                  (long long) json_integer_value (json_object_get (last, "seq")));
        snprintf (more_url, sizeof more_url, "/api/v1/orgs/%s/xapi?limit=%lld&cursor=%s%s%s",
                  org, (long long) limit, next, *since? "&since=": "", since);
    }
    for (size_t i = 0; i < json_array_size (rows); i++)
        json_object_del (json_array_get (rows, i), "seq");
    return td_ana_reply (call, 200, json_pack ("{s:o, s:s, s:s?}", "statements", rows,
                                               "more", more_url, "next_cursor",
                                               *next? next: NULL));
}
