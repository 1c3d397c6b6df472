/*  td_catalog_exam — a lesson's exam: one exercise of its pool per learner (CATALOG.md §7).
 *
 *  The exercises of a lesson with content.exam = true are its pool; learners never see the pool
 *  in the tree. GET /lessons/{id}/exam gives the learner their current exam exercise, chosen
 *  once and kept (catalog_exam_assignments) until they pass it or fail it five times: grader
 *  results move the assignment (td_catalog_apply_result), and the next GET after five failures
 *  draws another, preferring exercises the learner has had least and never the one just failed
 *  when the pool has another. After a pass the lesson's exam is done: GET keeps answering the
 *  passed exercise.
 */
#include <stdlib.h>
#include <string.h>
#include "td_catalog.h"

#define MAX_FAILURES 5

//  The current (or passed) assignment as JSON, with the item in the learner's view; NULL with
//  *failed when the database failed, NULL alone when the learner has none.
static json_t *
s_current (td_actor_t *actor, td_call_t *call, const char *user, const char *lesson, bool *failed)
{
    const char *params [] = { user, lesson };
    return td_cat_query_json (actor, call,
        "SELECT json_build_object ('lesson_id', x.lesson_id, 'status', CASE WHEN x.outcome IS NULL"
        "   THEN 'active' ELSE x.outcome END, 'failures', x.failures,"
        "   'attempts_left', CASE WHEN x.outcome IS NULL THEN 5 - x.failures ELSE 0 END,"
        "   'exam_number', x.seq, 'assigned_at', x.assigned_at, 'ended_at', x.ended_at,"
        "   'item', json_build_object (" TD_CAT_ITEM_FIELDS "))"
        " FROM catalog_exam_assignments x JOIN catalog_items i ON i.id = x.item_id"
        " WHERE x.user_id = $1 AND x.lesson_id = $2::uuid"
        "   AND (x.outcome IS NULL OR x.outcome = 'passed')"
        " ORDER BY x.seq DESC LIMIT 1", 2, params, failed);
}

int
td_catalog_exam_get (td_actor_t *actor, td_call_t *call)
{
    char user [80];
    if (!td_cat_user (call, user, sizeof user, "exams"))
        return TD_ACTOR_OK;
    td_cat_course_t c;
    td_cat_access_t access;
    td_principal_t *p = td_cat_gate (actor, call, TD_CAT_LESSON, false, &c, &access);
    if (!p)
        return TD_ACTOR_OK;
    char *cohorts = access == TD_CAT_AUTHOR? NULL: td_cat_cohorts (p);
    td_principal_destroy (&p);
    if (access != TD_CAT_AUTHOR && !cohorts)
        return td_call_error (call, TD_ERR_INTERNAL, NULL, "out of memory"), TD_ACTOR_OK;
    char lesson [64];
    td_cat_param (call, "id", lesson, sizeof lesson);         //  checked by the gate
    //  the lesson must be released to the learner (drip), and retire an assignment whose
    //  exercise left the pool
    const char *rp [] = { lesson, c.id, cohorts, user };
    PGresult *res = td_db_exec (td_actor_db (actor), td_call_rid (call),
        "WITH ret AS (UPDATE catalog_exam_assignments x SET outcome = 'retired', ended_at = now ()"
        "   FROM catalog_items i WHERE x.user_id = $4 AND x.lesson_id = $1::uuid"
        "   AND x.outcome IS NULL AND i.id = x.item_id AND NOT catalog_is_exam (i.kind, i.content)"
        "   RETURNING 1)"
        " SELECT m.position < coalesce (CASE WHEN $3::text[] IS NULL THEN NULL"
        "   ELSE catalog_released_modules ($2::uuid, $3::text[]) END, 2147483647),"
        "   (SELECT count (*) FROM ret)"
        " FROM catalog_lessons l JOIN catalog_modules m ON m.id = l.module_id"
        " WHERE l.id = $1::uuid", 4, rp);
    free (cohorts);
    if (!res)
        return td_cat_db_down (call);
    bool released = PQntuples (res) == 1 && strcmp (PQgetvalue (res, 0, 0), "t") == 0;
    PQclear (res);
    if (!released)
        return td_cat_missing (call, false, "lesson");
    bool failed;
    json_t *exam = s_current (actor, call, user, lesson, &failed);
    if (!exam && failed)
        return td_cat_db_down (call);
    if (!exam) {
        //  draw one: least had first, not the one just ended when another exists, then at random
        const char *params [] = { user, lesson };
        res = td_db_exec (td_actor_db (actor), td_call_rid (call),
            "WITH last AS (SELECT item_id FROM catalog_exam_assignments"
            "   WHERE user_id = $1 AND lesson_id = $2::uuid ORDER BY seq DESC LIMIT 1)"
            " INSERT INTO catalog_exam_assignments (user_id, lesson_id, seq, item_id)"
            " SELECT $1, $2::uuid, coalesce ((SELECT max (seq) FROM catalog_exam_assignments"
            "   WHERE user_id = $1 AND lesson_id = $2::uuid), 0) + 1, i.id"
            " FROM catalog_items i WHERE i.lesson_id = $2::uuid AND catalog_is_exam (i.kind, i.content)"
            " ORDER BY (SELECT count (*) FROM catalog_exam_assignments y WHERE y.user_id = $1"
            "   AND y.lesson_id = $2::uuid AND y.item_id = i.id),"
            "   i.id IN (SELECT item_id FROM last), random () LIMIT 1"
            " ON CONFLICT DO NOTHING RETURNING item_id", 2, params);
        if (!res)
            return td_cat_db_down (call);
        bool drawn = PQntuples (res) == 1;
        PQclear (res);
        if (!drawn)
            return td_call_error (call, TD_ERR_NOT_FOUND, "id", "this lesson has no exam"),
                   TD_ACTOR_OK;
        exam = s_current (actor, call, user, lesson, &failed);
        if (!exam)
            return td_cat_db_down (call);
    }
    if (access != TD_CAT_AUTHOR)
        td_cat_learner_item (json_object_get (exam, "item"));
    json_object_set_new (exam, "max_failures", json_integer (MAX_FAILURES));
    return td_cat_reply (call, 200, exam);
}
