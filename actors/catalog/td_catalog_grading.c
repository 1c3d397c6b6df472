/*  td_catalog_grading — item.grading: what the grader needs to grade a submission to an item.
 *
 *  Why: the grader takes an exercise's language and tests, or a question's answer key, from the
 *  catalog (the catalog owns them; DESIGN.md principle 1), and must refuse a learner who may not
 *  see the item with the same 404 the catalog would give. So the grader forwards the submitter's
 *  verified auth map, and this verb decides with the catalog's own rule (td_cat_access, the one
 *  every catalog read uses) instead of the grader re-implementing it.
 *
 *    request  (system only; anyone else 403)  {"item_id": uuid, "auth": <submitter's auth> | nil}
 *    reply    200 {item_id, course_id, module_id, lesson_id, org_id, kind, title,
 *                  content (whole: solution, answers and hidden tests included),
 *                  access: "none"|"read"|"author", may_submit: bool,
 *                  limits: the exercise's content.limits (sandbox limits) | null}
 *             404 item_id: no such item; 400 auth: the forwarded auth map is malformed.
 *  may_submit is true when the submitter may read the item's course (CATALOG.md §2): a
 *  published public course for any signed-in caller or key, an org course for its members and
 *  keys, a draft for its authors. The answer goes only to system callers, so it may hold all.
 */
#include <string.h>
#include "td_catalog.h"
#include "td_catalog_grading.h"
#include "td_mp.h"

int
td_catalog_item_grading (td_actor_t *actor, td_call_t *call)
{
    td_error_t err;
    td_principal_t *caller = td_principal_new (td_call_auth (call), &err);
    if (!caller)
        return td_cat_fail (call, &err);
    bool system = td_principal_kind (caller) == TD_PRINCIPAL_SYSTEM;
    td_principal_destroy (&caller);
    if (!system)
        return td_call_error (call, TD_ERR_FORBIDDEN, NULL,
                              "item.grading is for the grader (system) only"), TD_ACTOR_OK;
    char id [64];
    if (!td_cat_param (call, "item_id", id, sizeof id) || !td_cat_uuid_valid (id))
        return td_call_error (call, TD_ERR_NOT_FOUND, "item_id", "there is no such item"),
               TD_ACTOR_OK;
    td_principal_t *who = td_principal_new (td_mp_get (td_call_body (call), "auth"), &err);
    if (!who)
        return td_call_error (call, TD_ERR_INVALID_INPUT, "auth",
                              "auth must be the submitter's auth map: %s", err.message), TD_ACTOR_OK;
    const char *params [] = { id };
    PGresult *res = td_db_exec (td_actor_db (actor), td_call_rid (call),
        "SELECT i.id::text, l.id::text, m.id::text, c.id::text, c.org_id,"
        " CASE WHEN " TD_CAT_RELEASED " THEN 'published' ELSE c.status END, c.visibility,"
        " i.kind, i.title, i.content::text"
        " FROM catalog_items i JOIN catalog_lessons l ON l.id = i.lesson_id"
        " JOIN catalog_modules m ON m.id = l.module_id JOIN catalog_courses c ON c.id = m.course_id"
        " WHERE i.id = $1::uuid", 1, params);
    if (!res || PQntuples (res) != 1) {
        td_principal_destroy (&who);
        if (res)
            PQclear (res);
        return td_cat_missing (call, !res, "item");
    }
    td_cat_course_t course = { .published = strcmp (PQgetvalue (res, 0, 5), "published") == 0,
                               .public_ = strcmp (PQgetvalue (res, 0, 6), "public") == 0 };
    snprintf (course.id, sizeof course.id, "%s", PQgetvalue (res, 0, 3));
    snprintf (course.org, sizeof course.org, "%s", PQgetvalue (res, 0, 4));
    td_cat_access_t access = td_cat_access (who, &course);
    //  a learner submits only to what they may open: released to their cohort (drip) and, for
    //  an exam-pool exercise, the one assigned to them
    if (access == TD_CAT_READ) {
        char user [80] = "";
        if (td_principal_kind (who) == TD_PRINCIPAL_USER && td_principal_user (who))
            snprintf (user, sizeof user, "%s", td_principal_user (who));
        char *cohorts = td_cat_cohorts (who);
        const char *vp [] = { id, course.id, cohorts, user };
        PGresult *vis = cohorts? td_db_exec (td_actor_db (actor), td_call_rid (call),
            "SELECT " TD_CAT_ITEM_VISIBLE ("$2", "$3", "$4")
            " FROM catalog_items i JOIN catalog_lessons l ON l.id = i.lesson_id"
            " JOIN catalog_modules m ON m.id = l.module_id WHERE i.id = $1::uuid", 4, vp): NULL;
        free (cohorts);
        if (!vis) {
            td_principal_destroy (&who);
            PQclear (res);
            return td_cat_missing (call, true, "item");
        }
        if (PQntuples (vis) != 1 || strcmp (PQgetvalue (vis, 0, 0), "t") != 0)
            access = TD_CAT_NONE;
        PQclear (vis);
    }
    td_principal_destroy (&who);
    json_error_t jerr;
    json_t *content = json_loads (PQgetvalue (res, 0, 9), 0, &jerr);
    static const char *names [] = { "none", "read", "author" };
    json_t *reply = content? json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:b}",
        "item_id", PQgetvalue (res, 0, 0), "lesson_id", PQgetvalue (res, 0, 1),
        "module_id", PQgetvalue (res, 0, 2), "course_id", PQgetvalue (res, 0, 3),
        "org_id", PQgetvalue (res, 0, 4), "kind", PQgetvalue (res, 0, 7),
        "title", PQgetvalue (res, 0, 8), "content", content,
        "access", names [access], "may_submit", access != TD_CAT_NONE): NULL;
    PQclear (res);
    //  an exercise's own sandbox limits (validated on write, CATALOG.md §1), or null
    if (reply)
        json_object_set (reply, "limits", json_is_object (json_object_get (content, "limits"))?
                         json_object_get (content, "limits"): json_null ());
    if (!reply)
        return td_call_error (call, TD_ERR_INTERNAL, NULL, "the item could not be encoded"),
               TD_ACTOR_OK;
    return td_cat_reply (call, 200, reply);
}
