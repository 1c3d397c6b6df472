/*  td_catalog_cohort — drip per cohort: link a course to a cohort so its modules are released
 *  to that cohort one every N days from a start date, and announce each release (CATALOG.md §5).
 *
 *  Authors (admins and mentors of the course's org) link and unlink; the link names a cohort of
 *  the course's own org. What a learner sees is decided in SQL on every read
 *  (catalog_released_modules in schema/0007), so a release is exact to the request; the tick
 *  here only announces releases with catalog.published, once each (the link's `announced`).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "td_catalog.h"
#include "td_json.h"

//  The link as JSON: released_modules now and when the next one comes (null when all are out).
#define S_LINK_JSON \
    "json_build_object ('course_id', k.course_id, 'cohort_id', k.cohort_id," \
    " 'start_date', k.start_at, 'every_days', k.every_days," \
    " 'released_modules', least (catalog_drip_count (k.start_at, k.every_days, now ())," \
    "   (SELECT count (*) FROM catalog_modules WHERE course_id = k.course_id))," \
    " 'next_release_at', CASE WHEN catalog_drip_count (k.start_at, k.every_days, now ())" \
    "   >= (SELECT count (*) FROM catalog_modules WHERE course_id = k.course_id) THEN NULL" \
    "   ELSE k.start_at + make_interval (days => k.every_days" \
    "     * catalog_drip_count (k.start_at, k.every_days, now ())) END)"

//  "YYYY-MM-DD" or an RFC 3339 date-time (PostgreSQL checks the calendar).
static bool
s_start_date (const char *s)
{
    if (!s)
        return false;
    size_t n = strlen (s);
    if (n < 10 || n > 40)
        return false;
    for (size_t i = 0; i < 10; i++)
        if (i == 4 || i == 7? s [i] != '-': !isdigit ((unsigned char) s [i]))
            return false;
    if (n == 10)
        return true;
    if (s [10] != 'T' && s [10] != 't')
        return false;
    for (size_t i = 11; i < n; i++)
        if (!isdigit ((unsigned char) s [i]) && !strchr (":.+-Zz", s [i]))
            return false;
    return s [n - 1] == 'Z' || s [n - 1] == 'z' || (n >= 6 && s [n - 3] == ':'
                                                     && (s [n - 6] == '+' || s [n - 6] == '-'));
}

//  The cohort of the request ("cohort_id") must be a cohort of the course's org.
//  identity owns cohorts; the catalog only reads whether the id names one of that org.
static int
s_cohort_of_org (td_actor_t *actor, td_call_t *call, const char *cohort, const char *org)
{
    const char *params [] = { cohort, org };
    PGresult *res = td_db_exec (td_actor_db (actor), td_call_rid (call),
        "SELECT 1 FROM identity_cohorts WHERE id = $1::uuid AND org_id::text = $2", 2, params);
    if (!res)
        return -1;
    int found = PQntuples (res) == 1;
    PQclear (res);
    return found;
}

int
td_catalog_drip_put (td_actor_t *actor, td_call_t *call)
{
    td_cat_course_t c;
    td_principal_t *p = td_cat_gate (actor, call, TD_CAT_COURSE, true, &c, NULL);
    if (!p)
        return TD_ACTOR_OK;
    td_principal_destroy (&p);
    char cohort [64];
    if (!td_cat_param (call, "cohort_id", cohort, sizeof cohort) || !td_cat_uuid_valid (cohort))
        return td_call_error (call, TD_ERR_NOT_FOUND, "cohort_id", "there is no such cohort"),
               TD_ACTOR_OK;
    json_t *b = td_cat_body (call);
    if (!b)
        return td_call_error (call, TD_ERR_INVALID_INPUT, "body",
                              "the link must be a JSON object {start_date, every_days}"), TD_ACTOR_OK;
    const char *start = json_string_value (json_object_get (b, "start_date"));
    const json_t *every = json_object_get (b, "every_days");
    char start_buf [48] = "", every_buf [16] = "";
    bool good_start = s_start_date (start);
    bool good_every = json_is_integer (every) && json_integer_value (every) >= 1
                      && json_integer_value (every) <= 365;
    if (good_start)
        snprintf (start_buf, sizeof start_buf, "%s%s", start, strlen (start) == 10? "T00:00:00Z": "");
    if (good_every)
        snprintf (every_buf, sizeof every_buf, "%d", (int) json_integer_value (every));
    json_decref (b);
    if (!good_start || !good_every)
        return td_call_error (call, TD_ERR_INVALID_INPUT, good_start? "every_days": "start_date",
                              good_start? "every_days must be a whole number of days from 1 to 365"
                              : "start_date must be a date (YYYY-MM-DD) or an RFC 3339 date-time"),
               TD_ACTOR_OK;
    int known = s_cohort_of_org (actor, call, cohort, c.org);
    if (known < 0)
        return td_cat_db_down (call);
    if (!known)
        return td_call_error (call, TD_ERR_NOT_FOUND, "cohort_id",
                              "the course's org has no such cohort"), TD_ACTOR_OK;
    //  a changed start or pace re-counts what was announced from what is out now
    const char *params [] = { c.id, cohort, start_buf, every_buf };
    PGresult *res = td_db_exec (td_actor_db (actor), td_call_rid (call),
        "WITH k AS (INSERT INTO catalog_course_cohorts (course_id, cohort_id, start_at, every_days)"
        "  VALUES ($1::uuid, $2, $3::timestamptz, $4::int)"
        "  ON CONFLICT (course_id, cohort_id) DO UPDATE SET start_at = EXCLUDED.start_at,"
        "    every_days = EXCLUDED.every_days, updated_at = now (),"
        "    announced = least (catalog_course_cohorts.announced,"
        "      catalog_drip_count (EXCLUDED.start_at, EXCLUDED.every_days, now ()))"
        "  RETURNING *, (xmax = 0) AS created)"
        " SELECT " S_LINK_JSON "::text, k.created FROM k", 4, params);
    if (!res && strncmp (td_db_last_sqlstate (td_actor_db (actor)), "22", 2) == 0)
        return td_call_error (call, TD_ERR_INVALID_INPUT, "start_date", "start_date is not a valid time"),
               TD_ACTOR_OK;
    if (!res)
        return td_cat_db_down (call);
    json_t *link = PQntuples (res) == 1? json_loads (PQgetvalue (res, 0, 0), 0, NULL): NULL;
    bool created = PQntuples (res) == 1 && strcmp (PQgetvalue (res, 0, 1), "t") == 0;
    PQclear (res);
    if (!link)
        return td_cat_db_down (call);
    return td_cat_reply (call, created? 201: 200, link);
}

int
td_catalog_drip_delete (td_actor_t *actor, td_call_t *call)
{
    td_cat_course_t c;
    td_principal_t *p = td_cat_gate (actor, call, TD_CAT_COURSE, true, &c, NULL);
    if (!p)
        return TD_ACTOR_OK;
    td_principal_destroy (&p);
    char cohort [64];
    if (!td_cat_param (call, "cohort_id", cohort, sizeof cohort) || !td_cat_uuid_valid (cohort))
        return td_call_error (call, TD_ERR_NOT_FOUND, "cohort_id", "there is no such link"),
               TD_ACTOR_OK;
    const char *params [] = { c.id, cohort };
    PGresult *res = td_db_exec (td_actor_db (actor), td_call_rid (call),
        "DELETE FROM catalog_course_cohorts WHERE course_id = $1::uuid AND cohort_id = $2", 2, params);
    if (!res)
        return td_cat_db_down (call);
    bool gone = atoi (PQcmdTuples (res)) == 1;
    PQclear (res);
    if (!gone)
        return td_call_error (call, TD_ERR_NOT_FOUND, "cohort_id",
                              "the course is not linked to this cohort"), TD_ACTOR_OK;
    td_call_reply (call, 204, NULL, 0);
    return TD_ACTOR_OK;
}

int
td_catalog_drip_list (td_actor_t *actor, td_call_t *call)
{
    td_cat_course_t c;
    td_principal_t *p = td_cat_gate (actor, call, TD_CAT_COURSE, true, &c, NULL);
    if (!p)
        return TD_ACTOR_OK;
    td_principal_destroy (&p);
    const char *params [] = { c.id };
    bool failed;
    json_t *items = td_cat_query_json (actor, call,
        "SELECT coalesce (json_agg (" S_LINK_JSON " ORDER BY k.created_at, k.cohort_id), '[]')"
        " FROM catalog_course_cohorts k WHERE k.course_id = $1::uuid", 1, params, &failed);
    if (!items)
        return td_cat_db_down (call);
    return td_cat_reply (call, 200, json_pack ("{s:o}", "items", items));
}

//  Each link of a released course whose count of released modules grew since the last tick is
//  announced once: catalog.published {course_id, slug, org_id, cohort_id, released_modules,
//  modules: [the newly released module ids]}.
void
td_catalog_drip_tick (td_actor_t *actor)
{
    PGresult *res = td_db_exec (td_actor_db (actor), NULL,
        "WITH due AS (SELECT k.course_id, k.cohort_id, k.announced AS before,"
        "   least (catalog_drip_count (k.start_at, k.every_days, now ()),"
        "     (SELECT count (*) FROM catalog_modules m WHERE m.course_id = k.course_id))::int AS now_n"
        "   FROM catalog_course_cohorts k JOIN catalog_courses c ON c.id = k.course_id"
        "   WHERE " TD_CAT_RELEASED " FOR UPDATE OF k),"
        " upd AS (UPDATE catalog_course_cohorts k SET announced = due.now_n FROM due"
        "   WHERE k.course_id = due.course_id AND k.cohort_id = due.cohort_id"
        "     AND due.now_n > due.before RETURNING k.course_id, k.cohort_id, due.before, due.now_n)"
        " SELECT upd.course_id::text, c.slug, c.org_id, upd.cohort_id, upd.now_n,"
        "   (SELECT coalesce (json_agg (m.id ORDER BY m.position), '[]') FROM catalog_modules m"
        "    WHERE m.course_id = upd.course_id AND m.position >= upd.before"
        "      AND m.position < upd.now_n)::text"
        " FROM upd JOIN catalog_courses c ON c.id = upd.course_id", 0, NULL);
    if (!res)
        return;                     //  logged by td_db; the next tick tries again
    for (int i = 0; i < PQntuples (res); i++) {
        json_t *data = json_pack ("{s:s, s:s, s:s, s:s, s:i, s:o}",
                                  "course_id", PQgetvalue (res, i, 0), "slug", PQgetvalue (res, i, 1),
                                  "org_id", PQgetvalue (res, i, 2), "cohort_id", PQgetvalue (res, i, 3),
                                  "released_modules", atoi (PQgetvalue (res, i, 4)),
                                  "modules", json_loads (PQgetvalue (res, i, 5), 0, NULL));
        td_catalog_emit (actor, "catalog.published", NULL, PQgetvalue (res, i, 2),
                         PQgetvalue (res, i, 0), data);
    }
    PQclear (res);
}
