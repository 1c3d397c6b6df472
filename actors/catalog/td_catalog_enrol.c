/*  td_catalog_enrol — enrolments: enrol, unenrol and the caller's courses with their progress.
 *
 *  Only a signed-in user enrols (an API key or system is not a learner: 403, as for drafts and
 *  snippets), and only in a course they may read. Progress is the share of the course's units the
 *  learner completed (schema/0007's catalog_lesson_stats over catalog_item_progress, which
 *  td_catalog_progress.c derives from the grader's results and the learner's reads).
 */
#include <stdlib.h>
#include <string.h>
#include "td_catalog.h"

//  The caller's user id copied into user, or an answer (401) and false.
static bool
s_user (td_call_t *call, char *user, size_t size)
{
    td_error_t err;
    td_principal_t *p = td_principal_new (td_call_auth (call), &err);
    if (!p) {
        td_cat_fail (call, &err);
        return false;
    }
    bool anonymous = td_principal_kind (p) == TD_PRINCIPAL_ANONYMOUS;
    bool ok = td_principal_kind (p) == TD_PRINCIPAL_USER && td_principal_user (p)
              && strlen (td_principal_user (p)) < size;
    if (ok)
        snprintf (user, size, "%s", td_principal_user (p));
    td_principal_destroy (&p);
    if (!ok)
        td_call_error (call, anonymous? TD_ERR_UNAUTHORIZED: TD_ERR_FORBIDDEN, NULL,
                       "enrolments belong to a signed-in user");
    return ok;
}

int
td_catalog_enrol (td_actor_t *actor, td_call_t *call)
{
    char user [80];
    if (!s_user (call, user, sizeof user))
        return TD_ACTOR_OK;
    td_cat_course_t c;
    td_principal_t *p = td_cat_gate (actor, call, TD_CAT_COURSE, false, &c, NULL);
    if (!p)
        return TD_ACTOR_OK;
    td_principal_destroy (&p);
    const char *params [] = { user, c.id };
    PGresult *res = td_db_exec (td_actor_db (actor), td_call_rid (call),
        "INSERT INTO catalog_enrolments (user_id, course_id) VALUES ($1, $2::uuid)"
        " ON CONFLICT DO NOTHING RETURNING created_at", 2, params);
    if (!res)
        return td_cat_db_down (call);
    bool created = PQntuples (res) == 1;
    PQclear (res);
    return td_cat_reply (call, created? 201: 200,
                         json_pack ("{s:s, s:s, s:b}", "course_id", c.id, "user_id", user,
                                    "enrolled", 1));
}

int
td_catalog_unenrol (td_actor_t *actor, td_call_t *call)
{
    char user [80];
    if (!s_user (call, user, sizeof user))
        return TD_ACTOR_OK;
    td_cat_course_t c;
    td_principal_t *p = td_cat_gate (actor, call, TD_CAT_COURSE, false, &c, NULL);
    if (!p)
        return TD_ACTOR_OK;
    td_principal_destroy (&p);
    const char *params [] = { user, c.id };
    PGresult *res = td_db_exec (td_actor_db (actor), td_call_rid (call),
        "DELETE FROM catalog_enrolments WHERE user_id = $1 AND course_id = $2::uuid", 2, params);
    if (!res)
        return td_cat_db_down (call);
    PQclear (res);
    td_call_reply (call, 204, NULL, 0);     //  unenrolling twice is fine
    return TD_ACTOR_OK;
}

//  Each enrolled course with its progress (CATALOG.md §6): items and completed count units
//  (items outside exam pools, one per lesson exam), started, completed, last accessed and the
//  next lesson among those released to the learner's cohorts.
int
td_catalog_enrolment_list (td_actor_t *actor, td_call_t *call)
{
    char user [80];
    if (!s_user (call, user, sizeof user))
        return TD_ACTOR_OK;
    td_error_t err;
    td_principal_t *p = td_principal_new (td_call_auth (call), &err);
    char *cohorts = p? td_cat_cohorts (p): NULL;
    td_principal_destroy (&p);
    if (!cohorts)
        return td_call_error (call, TD_ERR_INTERNAL, NULL, "out of memory"), TD_ACTOR_OK;
    const char *params [] = { user, cohorts };
    bool failed;
    json_t *items = td_cat_query_json (actor, call,
        "SELECT coalesce (json_agg (json_build_object (" TD_CAT_COURSE_FIELDS ","
        "   'enrolled_at', e.created_at, 'items', t.total, 'completed', t.done,"
        "   'progress', CASE WHEN t.total = 0 THEN 0 ELSE floor (100.0 * t.done / t.total)::int END,"
        "   'percent', CASE WHEN t.total = 0 THEN 0 ELSE floor (100.0 * t.done / t.total)::int END,"
        "   'started', t.touched > 0, 'course_completed', t.total > 0 AND t.done = t.total,"
        "   'last_accessed_at', t.last_accessed_at,"
        "   'next_lesson', catalog_next_lesson ($1, c.id, $2::text[]))"
        "   ORDER BY e.created_at, c.id), '[]')"
        " FROM catalog_enrolments e JOIN catalog_courses c ON c.id = e.course_id"
        " CROSS JOIN LATERAL (SELECT coalesce (sum (s.total), 0)::int AS total,"
        "   coalesce (sum (s.done), 0)::int AS done, coalesce (sum (s.touched), 0)::int AS touched,"
        "   max (s.last_accessed_at) AS last_accessed_at"
        "   FROM catalog_lesson_stats ($1, c.id) s) t"
        " WHERE e.user_id = $1", 2, params, &failed);
    free (cohorts);
    if (!items)
        return td_cat_db_down (call);
    return td_cat_reply (call, 200, json_pack ("{s:o}", "items", items));
}
