/*  td_grade_pending — answer.pending and answer.grade: subjective answers graded later.
 *
 *  Why: the grader owns its table (DESIGN.md principle 1), so whoever grades a subjective answer
 *  (the llm actor with the question's scorecard, or a mentor through a trusted tool) does it
 *  through these verbs instead of writing the row. A pending row holds a copy of the question as
 *  it was answered (prompt, scorecard), so the grade never depends on a later edit of the item.
 *  answer.grade finishes a row exactly once (UPDATE ... WHERE status = 'pending'): a second
 *  grade answers 409 and changes nothing, so two graders racing cannot both publish a result.
 */
#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "td_call_json.h"
#include "td_access.h"
#include "td_grade_pending.h"
#include "td_json.h"
#include "td_mp.h"

static int
s_fail (td_call_t *call, td_errcode_t code, const char *field, const char *why)
{
    td_call_error (call, code, field, "%s", why);
    return TD_ACTOR_OK;
}

static bool
s_system (td_call_t *call)
{
    td_error_t err;
    td_principal_t *p = td_principal_new (td_call_auth (call), &err);
    bool system = p && td_principal_kind (p) == TD_PRINCIPAL_SYSTEM;
    td_principal_destroy (&p);
    return system;
}

static int
s_reply (td_call_t *call, int status, json_t *body)
{
    td_call_reply_json (call, status, body);
    return TD_ACTOR_OK;
}

static json_t *
s_json_col (PGresult *res, int row, int col)
{
    if (PQgetisnull (res, row, col))
        return json_null ();
    json_error_t jerr;
    json_t *v = json_loads (PQgetvalue (res, row, col), JSON_DECODE_ANY, &jerr);
    return v? v: json_null ();
}

static json_t *
s_str_col (PGresult *res, int row, int col)
{
    return PQgetisnull (res, row, col)? json_null (): json_string (PQgetvalue (res, row, col));
}

#define S_TIME(col) "to_char (" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

int
td_grade_answer_pending (td_actor_t *actor, td_call_t *call)
{
    if (!s_system (call))
        return s_fail (call, TD_ERR_FORBIDDEN, NULL, "answer.pending is for trusted services (system) only");
    int64_t limit = 20;
    const msgpack_object *lo = td_mp_get (td_call_body (call), "limit");
    if (lo && lo->type != MSGPACK_OBJECT_NIL) {
        char text [24];
        if (!td_mp_int (lo, &limit)) {
            char *end = NULL;
            limit = td_mp_strcpy (lo, text, sizeof text) && *text? strtoll (text, &end, 10): -1;
            if (end && *end)
                limit = -1;
        }
        if (limit < 1 || limit > TD_PENDING_MAX_LIMIT)
            return s_fail (call, TD_ERR_INVALID_INPUT, "limit", "limit must be a whole number from 1 to 100");
    }
    char lim [24];
    snprintf (lim, sizeof lim, "%lld", (long long) limit);
    const char *params [] = { lim };
    PGresult *res = td_db_exec (td_actor_db (actor), td_call_rid (call),
        "SELECT id::text, item_id, course_id, user_id, org_id, (spec->'question')::text,"
        " (spec->'answer')::text, " S_TIME ("created_at")
        " FROM grader_submissions WHERE status = 'pending' ORDER BY created_at, id LIMIT $1::int",
        1, params);
    if (!res)
        return s_fail (call, TD_ERR_UNAVAILABLE, NULL, "pending answers cannot be read now");
    json_t *items = json_array ();
    for (int i = 0; items && i < PQntuples (res); i++)
        json_array_append_new (items, json_pack ("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:s}",
            "submission_id", PQgetvalue (res, i, 0), "item_id", s_str_col (res, i, 1),
            "course_id", s_str_col (res, i, 2), "user_id", s_str_col (res, i, 3),
            "org_id", s_str_col (res, i, 4), "question", s_json_col (res, i, 5),
            "answer", s_json_col (res, i, 6), "created_at", PQgetvalue (res, i, 7)));
    PQclear (res);
    return s_reply (call, 200, items? json_pack ("{s:o}", "items", items): NULL);
}

static bool
s_uuid (const char *s)
{
    return td_uuid_valid (s);
}

int
td_grade_answer_grade (td_actor_t *actor, td_call_t *call)
{
    if (!s_system (call))
        return s_fail (call, TD_ERR_FORBIDDEN, NULL, "answer.grade is for trusted services (system) only");
    td_error_t err;
    const msgpack_object *b = td_call_body (call);
    json_t *body = b? td_mp_to_json (b, &err): NULL;
    char id [40] = "";              //  copied: body is released before the id's last use
    const char *given = json_string_value (json_object_get (body, "submission_id"));
    if (given && strlen (given) < sizeof id)
        snprintf (id, sizeof id, "%s", given);
    const json_t *score = json_object_get (body, "score");
    const json_t *passed = json_object_get (body, "passed");
    const json_t *feedback = json_object_get (body, "feedback");
    const json_t *scores = json_object_get (body, "scores");
    const char *field = NULL, *why = NULL;
    td_errcode_t code = TD_ERR_INVALID_INPUT;
    if (!json_is_object (body))
        field = "body", why = "the grade must be an object";
    else
    if (!s_uuid (id))
        code = TD_ERR_NOT_FOUND, field = "submission_id", why = "there is no such submission";
    else
    if (!json_is_number (score) || !isfinite (json_number_value (score))
    ||  json_number_value (score) < 0 || json_number_value (score) > 100)
        field = "score", why = "score must be a number from 0 to 100";
    else
    if (!json_is_boolean (passed))
        field = "passed", why = "passed must be true or false";
    else
    if (feedback && !json_is_null (feedback)
    && (!json_is_string (feedback) || json_string_length (feedback) > TD_FEEDBACK_MAX))
        field = "feedback", why = "feedback must be a string of at most 20000 bytes";
    else
    if (scores && !json_is_null (scores) && (!json_is_array (scores) || json_array_size (scores) > 50))
        field = "scores", why = "scores must be a list of at most 50 entries";
    if (why) {
        json_decref (body);
        return s_fail (call, code, field, why);
    }
    bool ok = json_is_true (passed);
    const char *verdict = ok? "accepted": "wrong_answer";
    json_t *add = json_pack ("{s:s, s:f, s:b, s:[]}", "verdict", verdict, "score",
                             json_number_value (score), "passed", ok, "tests");
    if (add && json_is_string (feedback))
        json_object_set (add, "feedback", (json_t *) feedback);
    if (add && json_is_array (scores))
        json_object_set (add, "scores", (json_t *) scores);
    char *text = add? json_dumps (add, JSON_COMPACT): NULL;
    json_decref (add);
    char sc [32];
    snprintf (sc, sizeof sc, "%.2f", json_number_value (score));
    const char *params [] = { id, verdict, sc, ok? "true": "false", text };
    PGresult *res = text? td_db_exec (td_actor_db (actor), td_call_rid (call),
        "UPDATE grader_submissions SET status = 'done', verdict = $2, score = $3::float8,"
        " passed = $4::boolean, result = coalesce (result, '{}'::jsonb) || $5::jsonb, finished_at = now ()"
        " WHERE id = $1::uuid AND status = 'pending'"
        " RETURNING user_id, org_id, item_id, " S_TIME ("finished_at"), 5, params): NULL;
    free (text);
    json_decref (body);
    if (!res)
        return s_fail (call, TD_ERR_UNAVAILABLE, NULL, "the grade could not be stored; try again");
    if (PQntuples (res) != 1) {
        PQclear (res);
        //  graded already, not a subjective answer, or no such row: tell which
        const char *p1 [] = { id };
        res = td_db_exec (td_actor_db (actor), td_call_rid (call),
                          "SELECT status FROM grader_submissions WHERE id = $1::uuid", 1, p1);
        bool exists = res && PQntuples (res) == 1;
        if (res)
            PQclear (res);
        return exists? s_fail (call, TD_ERR_CONFLICT, "submission_id",
                               "this submission is not waiting for a grade (graded already?)")
                     : s_fail (call, TD_ERR_NOT_FOUND, "submission_id", "there is no such submission");
    }
    char user [TD_MAX_ID + 1], org [TD_MAX_ID + 1], item [80];
    snprintf (user, sizeof user, "%s", PQgetisnull (res, 0, 0)? "": PQgetvalue (res, 0, 0));
    snprintf (org, sizeof org, "%s", PQgetisnull (res, 0, 1)? "": PQgetvalue (res, 0, 1));
    snprintf (item, sizeof item, "%s", PQgetisnull (res, 0, 2)? "": PQgetvalue (res, 0, 2));
    json_t *reply = json_pack ("{s:s, s:s, s:s, s:f, s:b, s:s, s:s?, s:s}", "id", id,
                               "status", "done", "verdict", verdict, "score",
                               atof (sc), "passed", ok, "kind", "question",
                               "item_id", *item? item: NULL, "finished_at", PQgetvalue (res, 0, 3));
    PQclear (res);
    json_t *data = json_pack ("{s:s, s:s, s:s, s:f, s:s, s:s?, s:b, s:[]}", "submission_id", id,
                              "status", "done", "verdict", verdict, "score", atof (sc),
                              "kind", "question", "item_id", *item? item: NULL, "passed", ok,
                              "failed_tests");
    td_actor_publish_json (actor, "grade.result", user, org, id, data);
    return s_reply (call, 200, reply);
}
