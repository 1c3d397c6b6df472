/*  td_catalog_progress — how far learners got, derived by the server, never taken from the
 *  client (CATALOG.md §6).
 *
 *  Sources: the grader's grade.result events (a SUB socket on the event plane, watched in the
 *  actor's loop), the grader's result.list as a catch-up for events lost while the catalog was
 *  down (an asynchronous call through the broker, td_actor_call.h, at start and on the tick),
 *  the session actor's session.answered events and answer.list feed (td_catalog_session.c, the
 *  same socket, client and cursor table),
 *  and item.get by an enrolled learner (started, last accessed; material is completed by being
 *  opened). Each grader result is applied once by submission id (catalog_grade_results), so the
 *  live event and the catch-up never count twice. Changes go out as catalog.progress,
 *  catalog.lesson_completed and catalog.course_completed events with the learner as user.
 */
#include <stdlib.h>
#include <string.h>
#include "td_call_json.h"
#include "td_actor_call.h"
#include "td_catalog.h"
#include "td_catalog_enrol.h"     //  srs cards on enrolment (issue 6)
#include "td_json.h"
#include "td_log.h"
#include "td_mp.h"

#define LOG "catalog"
#define CATCHUP_EVERY_MS   30000    //  result.list while idle
#define CATCHUP_LIMIT      200      //  results per page
#define CATCHUP_TIMEOUT_MS 10000
#define SYNC_NAME          "grade.result.list"

typedef struct {
    zsock_t *sub;                   //  grade.result and session.answered events
    td_acall_t *acall;              //  result.list and answer.list catch-ups
    int64_t next_catchup;           //  zclock_mono ms
    bool results_inflight;          //  a result.list page is on its way
    bool answers_inflight;          //  an answer.list page is on its way
    td_cat_cache_t *cache;          //  course.get's rendered learner trees
    td_cat_rows_t *rows;            //  the access inputs of courses (td_catalog_rows.c)
} s_state_t;

td_cat_rows_t *
td_catalog_rows (td_actor_t *actor)
{
    s_state_t *st = (s_state_t *) td_actor_state (actor);
    return st? st->rows: NULL;
}

td_cat_cache_t *
td_catalog_cache (td_actor_t *actor)
{
    s_state_t *st = (s_state_t *) td_actor_state (actor);
    return st? st->cache: NULL;
}

//  --------------------------------------------------------------------------
//  Events out

void
td_catalog_emit (td_actor_t *actor, const char *type, const char *user, const char *org,
                 const char *subject, json_t *data)
{
    if (data)
        td_actor_publish_json (actor, type, user, org, subject, data);
}

//  After an item (or a lesson's exam) of a learner changed status: catalog.progress, and when
//  the change completed the lesson or the course, catalog.lesson_completed / course_completed.
void
td_cat_announce_progress (td_actor_t *actor, const char *rid, const char *user, const char *item,
                     const char *status, bool completed_now)
{
    const char *params [] = { user, item };
    PGresult *res = td_db_exec (td_actor_db (actor), rid,
        "SELECT c.id::text, c.org_id, l.id::text, st.ltotal, st.ldone, st.total, st.done"
        " FROM catalog_items i JOIN catalog_lessons l ON l.id = i.lesson_id"
        " JOIN catalog_modules m ON m.id = l.module_id JOIN catalog_courses c ON c.id = m.course_id"
        " CROSS JOIN LATERAL (SELECT"
        "   coalesce (sum (s.total) FILTER (WHERE s.lesson_id = l.id), 0)::int AS ltotal,"
        "   coalesce (sum (s.done) FILTER (WHERE s.lesson_id = l.id), 0)::int AS ldone,"
        "   coalesce (sum (s.total), 0)::int AS total, coalesce (sum (s.done), 0)::int AS done"
        "   FROM catalog_lesson_stats ($1, c.id) s) st"
        " WHERE i.id = $2::uuid", 2, params);
    if (!res)
        return;
    if (PQntuples (res) == 1) {
        const char *course = PQgetvalue (res, 0, 0), *org = PQgetvalue (res, 0, 1);
        const char *lesson = PQgetvalue (res, 0, 2);
        int ltotal = atoi (PQgetvalue (res, 0, 3)), ldone = atoi (PQgetvalue (res, 0, 4));
        int ctotal = atoi (PQgetvalue (res, 0, 5)), cdone = atoi (PQgetvalue (res, 0, 6));
        int percent = ctotal? (int) (100LL * cdone / ctotal): 0;
        td_catalog_emit (actor, "catalog.progress", user, org, item,
                         json_pack ("{s:s, s:s, s:s, s:s, s:i, s:i, s:i}", "course_id", course,
                                    "lesson_id", lesson, "item_id", item, "status", status,
                                    "percent", percent, "completed", cdone, "items", ctotal));
        if (completed_now && ltotal > 0 && ldone == ltotal)
            td_catalog_emit (actor, "catalog.lesson_completed", user, org, lesson,
                             json_pack ("{s:s, s:s}", "course_id", course, "lesson_id", lesson));
        if (completed_now && ctotal > 0 && cdone == ctotal)
            td_catalog_emit (actor, "catalog.course_completed", user, org, course,
                             json_pack ("{s:s}", "course_id", course));
    }
    PQclear (res);
}

//  --------------------------------------------------------------------------
//  Progress in

void
td_catalog_item_opened (td_actor_t *actor, td_call_t *call, const char *user,
                        const char *course_id, const char *item_id, const char *kind)
{
    bool material = kind && strcmp (kind, "material") == 0;
    const char *params [] = { user, item_id, course_id, material? "t": "f" };
    PGresult *res = td_db_exec (td_actor_db (actor), td_call_rid (call),
        "WITH e AS (SELECT 1 FROM catalog_enrolments WHERE user_id = $1 AND course_id = $3::uuid),"
        " old AS (SELECT status FROM catalog_item_progress WHERE user_id = $1 AND item_id = $2::uuid),"
        " up AS (INSERT INTO catalog_item_progress (user_id, item_id, status, started_at,"
        "   completed_at, last_accessed_at, updated_at)"
        "  SELECT $1, $2::uuid, CASE WHEN $4::bool THEN 'completed' ELSE 'started' END, now (),"
        "   CASE WHEN $4::bool THEN now () END, now (), now () FROM e"
        "  ON CONFLICT (user_id, item_id) DO UPDATE SET status = CASE WHEN"
        "   catalog_item_progress.status = 'completed' OR $4::bool THEN 'completed' ELSE 'started' END,"
        "   completed_at = coalesce (catalog_item_progress.completed_at, EXCLUDED.completed_at),"
        "   last_accessed_at = now (), updated_at = now () RETURNING status)"
        " SELECT (SELECT status FROM old), (SELECT status FROM up)", 4, params);
    if (!res)
        return;                     //  logged; the read itself still answers
    if (PQntuples (res) == 1 && !PQgetisnull (res, 0, 1)) {
        char before [16], after [16];
        snprintf (before, sizeof before, "%s", PQgetvalue (res, 0, 0));
        snprintf (after, sizeof after, "%s", PQgetvalue (res, 0, 1));
        PQclear (res);
        if (strcmp (before, after) != 0)
            td_cat_announce_progress (actor, td_call_rid (call), user, item_id, after,
                                 strcmp (after, "completed") == 0);
        return;
    }
    PQclear (res);
}

bool
td_cat_applied (PGresult *res, char *before, char *after, char *third, size_t size)
{
    bool applied = PQntuples (res) == 1 && atoi (PQgetvalue (res, 0, 0)) == 1;
    if (applied) {
        snprintf (before, size, "%s", PQgetvalue (res, 0, 1));
        snprintf (after, size, "%s", PQgetvalue (res, 0, 2));
        if (third)
            snprintf (third, size, "%s", PQgetvalue (res, 0, 3));
    }
    PQclear (res);
    return applied;
}

int
td_catalog_apply_result (td_actor_t *actor, const char *submission_id, const char *user,
                         const char *item_id, bool passed, const char *finished_at)
{
    if (!submission_id || !*submission_id || strlen (submission_id) > 128 || !user || !*user
        || strlen (user) > 128 || !item_id || !td_cat_uuid_valid (item_id))
        return 0;
    const char *params [] = { submission_id, user, item_id, passed? "t": "f",
                              finished_at && *finished_at? finished_at: NULL };
    //  one statement: the result is recorded (once), the item's progress and the learner's
    //  current exam on that item move together, or nothing does
    PGresult *res = td_db_exec (td_actor_db (actor), NULL,
        "WITH ins AS (INSERT INTO catalog_grade_results (submission_id, user_id, item_id, passed,"
        "   finished_at) SELECT $1, $2, i.id, $4::bool, $5::timestamptz FROM catalog_items i"
        "   WHERE i.id = $3::uuid ON CONFLICT DO NOTHING RETURNING item_id),"
        " old AS (SELECT status FROM catalog_item_progress WHERE user_id = $2 AND item_id = $3::uuid),"
        " up AS (INSERT INTO catalog_item_progress (user_id, item_id, status, started_at,"
        "   completed_at, last_accessed_at, attempts, updated_at)"
        "  SELECT $2, ins.item_id, CASE WHEN $4::bool THEN 'completed' ELSE 'started' END, now (),"
        "   CASE WHEN $4::bool THEN now () END, now (), 1, now () FROM ins"
        "  ON CONFLICT (user_id, item_id) DO UPDATE SET status = CASE WHEN"
        "   catalog_item_progress.status = 'completed' OR $4::bool THEN 'completed' ELSE 'started' END,"
        "   completed_at = coalesce (catalog_item_progress.completed_at, EXCLUDED.completed_at),"
        "   attempts = catalog_item_progress.attempts + 1, updated_at = now () RETURNING status),"
        " ex AS (UPDATE catalog_exam_assignments x SET"
        "   failures = x.failures + CASE WHEN $4::bool THEN 0 ELSE 1 END,"
        "   outcome = CASE WHEN $4::bool THEN 'passed' WHEN x.failures + 1 >= 5 THEN 'failed' END,"
        "   ended_at = CASE WHEN $4::bool OR x.failures + 1 >= 5 THEN now () END"
        "  FROM ins WHERE x.user_id = $2 AND x.item_id = ins.item_id AND x.outcome IS NULL"
        "  RETURNING x.outcome)"
        " SELECT (SELECT count (*) FROM ins), (SELECT status FROM old), (SELECT status FROM up),"
        "   (SELECT outcome FROM ex LIMIT 1)", 5, params);
    if (!res && params [4]
        && strncmp (td_db_last_sqlstate (td_actor_db (actor)), "22", 2) == 0)
        //  a finished_at PostgreSQL does not take is not worth losing the result for
        return td_catalog_apply_result (actor, submission_id, user, item_id, passed, NULL);
    if (!res)
        return -1;
    char before [16] = "", after [16] = "", exam [16] = "";
    if (!td_cat_applied (res, before, after, exam, sizeof before))
        return 0;
    td_debug (LOG, NULL, "result %s of %s on %s applied (%s)", submission_id, user, item_id,
              passed? "passed": "not passed");
    bool exam_passed = strcmp (exam, "passed") == 0;
    if (strcmp (before, after) != 0 || exam_passed)
        td_cat_announce_progress (actor, NULL, user, item_id, after,
                             (strcmp (after, "completed") == 0 && strcmp (before, "completed") != 0)
                             || exam_passed);
    return 1;
}

//  A grade.result's data: {submission_id, item_id, passed, verdict, ...}; the event's user is
//  the learner. Results of submissions tied to no catalog item are not progress.
static void
s_apply_event (td_actor_t *actor, const td_msg_t *ev)
{
    const msgpack_object *data = td_msg_body (ev);
    char item [64] = "", submission [136] = "", verdict [64] = "";
    if (!td_mp_strcpy (td_mp_get (data, "item_id"), item, sizeof item))
        return;
    if (!td_mp_strcpy (td_mp_get (data, "submission_id"), submission, sizeof submission))
        snprintf (submission, sizeof submission, "%s", td_msg_subject (ev));
    bool passed = false;
    if (!td_mp_bool (td_mp_get (data, "passed"), &passed)) {
        td_mp_strcpy (td_mp_get (data, "verdict"), verdict, sizeof verdict);
        passed = strcmp (verdict, "accepted") == 0;
    }
    char status [32] = "";
    if (td_mp_strcpy (td_mp_get (data, "status"), status, sizeof status) && strcmp (status, "done"))
        return;                     //  only final results
    if (td_catalog_apply_result (actor, submission, td_msg_user (ev), item, passed,
                                 td_msg_time (ev)) < 0)
        td_warn (LOG, NULL, "grade.result %s not applied now; the catch-up applies it later",
                 submission);
}

static void
s_on_event (td_actor_t *actor, zsock_t *sock)
{
    for (int n = 0; n < 256 && (zsock_events (sock) & ZMQ_POLLIN); n++) {
        zmsg_t *msg = zmsg_recv (sock);
        if (!msg)
            return;
        zframe_t *type = zmsg_first (msg);
        zframe_t *body = zmsg_next (msg);
        bool grade = type && zframe_streq (type, "grade.result");
        if (body && (grade || (type && zframe_streq (type, "session.answered")))) {
            td_error_t err;
            td_msg_t *ev = td_msg_decode (TD_MSG_EVENT, zframe_data (body), zframe_size (body), &err);
            if (ev) {
                if (grade)
                    s_apply_event (actor, ev);
                else
                    td_cat_answer_event (actor, ev);
                td_msg_destroy (&ev);
            }
            else
                td_warn (LOG, NULL, "a malformed event was dropped: %s", err.message);
        }
        zmsg_destroy (&msg);
    }
}

//  --------------------------------------------------------------------------
//  Catch-up: result.list {since, limit} -> {results: [...], next}

static void s_catchup_send (td_actor_t *actor, s_state_t *st);

void
td_cat_sync_save (td_actor_t *actor, const char *name, const char *cursor)
{
    const char *params [] = { name, cursor };
    PGresult *res = td_db_exec (td_actor_db (actor), NULL, cursor?
        "INSERT INTO catalog_sync (name, cursor) VALUES ($1, $2) ON CONFLICT (name)"
        " DO UPDATE SET cursor = EXCLUDED.cursor, updated_at = now ()":
        "DELETE FROM catalog_sync WHERE name = $1", cursor? 2: 1, params);
    if (res)
        PQclear (res);
}

int
td_cat_feed_send (td_actor_t *actor, td_acall_t *acall, const char *name, const char *service,
                  const char *type, td_acall_fn *fn, void *arg)
{
    if (!acall)
        return -1;
    char since [256] = "";
    const char *params [] = { name };
    PGresult *res = td_db_exec (td_actor_db (actor), NULL,
                                "SELECT cursor FROM catalog_sync WHERE name = $1", 1, params);
    if (!res)
        return -1;
    if (PQntuples (res) == 1)
        snprintf (since, sizeof since, "%s", PQgetvalue (res, 0, 0));
    PQclear (res);
    json_t *body = json_pack ("{s:i}", "limit", CATCHUP_LIMIT);
    if (body && *since)
        json_object_set_new (body, "since", json_string (since));
    json_t *auth = json_pack ("{s:s}", "kind", "system");
    msgpack_sbuffer bb, ab;
    msgpack_sbuffer_init (&bb);
    msgpack_sbuffer_init (&ab);
    msgpack_packer pb, pa;
    msgpack_packer_init (&pb, &bb, msgpack_sbuffer_write);
    msgpack_packer_init (&pa, &ab, msgpack_sbuffer_write);
    td_error_t err;
    int rc = -1;
    if (body && auth && td_json_to_mp (body, &pb, &err) == 0 && td_json_to_mp (auth, &pa, &err) == 0) {
        td_request_spec_t spec = { .type = type, .auth = ab.data, .auth_size = ab.size,
                                   .body = bb.data, .body_size = bb.size };
        rc = td_acall_send (acall, service, &spec, CATCHUP_TIMEOUT_MS, fn, arg, &err);
        if (rc)
            td_debug (LOG, NULL, "%s not sent: %s", type, err.message);
    }
    msgpack_sbuffer_destroy (&bb);
    msgpack_sbuffer_destroy (&ab);
    json_decref (body);
    json_decref (auth);
    return rc;
}

const msgpack_object *
td_cat_feed_page (td_actor_t *actor, const td_msg_t *reply, const td_error_t *err,
                  const char *name, const char *type)
{
    if (!reply) {
        td_debug (LOG, NULL, "%s: %s", type, err? err->message: "no answer");
        return NULL;
    }
    if (td_msg_status (reply) == 400 && strcmp (td_msg_error_field (reply), "since") == 0) {
        //  a cursor the feed does not know (it was reset): read it from the start (applying is
        //  idempotent, so nothing counts twice)
        td_warn (LOG, NULL, "%s refused the stored cursor; reading from the start", type);
        td_cat_sync_save (actor, name, NULL);
        return NULL;
    }
    if (td_msg_status (reply) != 200) {
        //  a service without the verb (404) or none running (503): live events only till then
        td_debug (LOG, NULL, "%s answered %d: %s", type, td_msg_status (reply),
                  td_msg_error_message (reply));
        return NULL;
    }
    return td_msg_body (reply);
}

bool
td_cat_feed_next (td_actor_t *actor, const msgpack_object *body, const char *name)
{
    char next [256] = "";
    bool more = false;
    if (!td_mp_strcpy (td_mp_get (body, "next"), next, sizeof next) || !*next)
        return false;
    td_cat_sync_save (actor, name, next);
    return td_mp_bool (td_mp_get (body, "more"), &more) && more;
}

static void
s_on_results (td_actor_t *actor, void *arg, const td_msg_t *reply, const td_error_t *err)
{
    s_state_t *st = (s_state_t *) arg;
    st->results_inflight = false;
    const msgpack_object *body = td_cat_feed_page (actor, reply, err, SYNC_NAME, "result.list");
    if (!body)
        return;
    const msgpack_object *results = td_mp_get (body, "results");
    bool failed = false;
    if (results && results->type == MSGPACK_OBJECT_ARRAY)
        for (uint32_t i = 0; i < results->via.array.size && !failed; i++) {
            const msgpack_object *r = &results->via.array.ptr [i];
            char sub [136] = "", user [136] = "", item [64] = "", at [64] = "";
            bool passed = false;
            td_mp_strcpy (td_mp_get (r, "submission_id"), sub, sizeof sub);
            td_mp_strcpy (td_mp_get (r, "user_id"), user, sizeof user);
            td_mp_strcpy (td_mp_get (r, "finished_at"), at, sizeof at);
            if (!td_mp_strcpy (td_mp_get (r, "item_id"), item, sizeof item))
                continue;
            td_mp_bool (td_mp_get (r, "passed"), &passed);
            failed = td_catalog_apply_result (actor, sub, user, item, passed, at) < 0;
        }
    if (!failed && td_cat_feed_next (actor, body, SYNC_NAME))
        s_catchup_send (actor, st);         //  the next page at once
}

static void
s_catchup_send (td_actor_t *actor, s_state_t *st)
{
    if (st->results_inflight)
        return;
    //  the grader's feed starts at the epoch when no cursor is stored
    st->results_inflight = td_cat_feed_send (actor, st->acall, SYNC_NAME, "grade", "result.list",
                                             s_on_results, st) == 0;
}

static void
s_on_answers_page (td_actor_t *actor, void *arg, const td_msg_t *reply, const td_error_t *err)
{
    s_state_t *st = (s_state_t *) arg;
    st->answers_inflight = false;
    if (td_cat_answers_page (actor, reply, err) && !st->answers_inflight)
        st->answers_inflight = td_cat_feed_send (actor, st->acall, TD_CAT_ANSWERS_SYNC, "session",
                                                 "answer.list", s_on_answers_page, st) == 0;
}

static void
s_answers_send (td_actor_t *actor, s_state_t *st)
{
    if (!st->answers_inflight)
        st->answers_inflight = td_cat_feed_send (actor, st->acall, TD_CAT_ANSWERS_SYNC, "session",
                                                 "answer.list", s_on_answers_page, st) == 0;
}

static void
s_on_reply (td_actor_t *actor, zsock_t *sock)
{
    (void) sock;
    s_state_t *st = (s_state_t *) td_actor_state (actor);
    if (st && st->acall)
        td_acall_dispatch (st->acall, actor);
}

//  --------------------------------------------------------------------------
//  Life cycle

int
td_catalog_init (td_actor_t *actor)
{
    s_state_t *st = calloc (1, sizeof *st);
    if (!st)
        return -1;
    const td_config_t *cfg = td_actor_config (actor);
    st->sub = zsock_new_sub (td_config_events_endpoint (cfg), "grade.result");
    if (st->sub)
        zsock_set_subscribe (st->sub, "session.answered");
    st->acall = td_acall_new (td_config_broker_endpoint (cfg), "catalog");
    st->cache = td_cat_cache_new ();
    st->rows = td_cat_rows_new (cfg->db);
    if (!st->sub || !st->acall || !st->cache || !st->rows
        || td_actor_watch (actor, st->sub, s_on_event)
        || td_actor_watch (actor, td_acall_sock (st->acall), s_on_reply)) {
        zsock_destroy (&st->sub);
        td_acall_destroy (&st->acall, actor);
        td_cat_cache_destroy (&st->cache);
        td_cat_rows_destroy (&st->rows);
        free (st);
        return -1;
    }
    td_actor_set_state (actor, st);
    td_cat_rows_connect (st->rows);
    st->next_catchup = zclock_mono () + 1000;   //  once the broker knows the grader
    td_catalog_cards_init (actor);              //  failure logged; the tick retries
    return 0;
}

void
td_catalog_fini (td_actor_t *actor)
{
    s_state_t *st = (s_state_t *) td_actor_state (actor);
    if (!st)
        return;
    td_catalog_cards_fini (actor);
    td_acall_destroy (&st->acall, actor);
    zsock_destroy (&st->sub);
    td_cat_cache_destroy (&st->cache);
    td_cat_rows_destroy (&st->rows);
    free (st);
    td_actor_set_state (actor, NULL);
}

void
td_catalog_tick (td_actor_t *actor)
{
    td_catalog_release_tick (actor);
    td_catalog_drip_tick (actor);
    td_catalog_cards_tick (actor);             //  srs cards on enrolment: catch-up sweep
    s_state_t *st = (s_state_t *) td_actor_state (actor);
    if (!st)
        return;
    td_acall_expire (st->acall, actor);
    td_cat_rows_tick (st->rows);
    if (zclock_mono () >= st->next_catchup) {
        st->next_catchup = zclock_mono () + CATCHUP_EVERY_MS;
        s_catchup_send (actor, st);
        s_answers_send (actor, st);
    }
}

//  --------------------------------------------------------------------------
//  progress.get

int
td_catalog_progress_get (td_actor_t *actor, td_call_t *call)
{
    //  ?user_id: another learner's progress, for their mentors and the course org's admins
    char other [80] = "";
    if (td_mp_get (td_call_body (call), "user_id")
        && !td_cat_param (call, "user_id", other, sizeof other))
        return td_call_error (call, TD_ERR_INVALID_INPUT, "user_id", "user_id must be a user id"),
               TD_ACTOR_OK;
    char user [80];
    td_cat_course_t c;
    td_cat_access_t access;
    char *cohorts = NULL;
    if (*other) {
        td_principal_t *p = td_cat_gate (actor, call, TD_CAT_COURSE, false, &c, &access);
        if (!p)
            return TD_ACTOR_OK;
        bool self = td_principal_user (p) && strcmp (td_principal_user (p), other) == 0;
        bool mentor = td_principal_is_mentor_of (p, other);
        bool admin = td_principal_is_org_admin (p, c.org);
        bool system = td_principal_kind (p) == TD_PRINCIPAL_SYSTEM;
        td_principal_destroy (&p);
        if ((!self && !mentor && !system && !admin) || !td_cat_uuid_valid (other))
            return td_call_error (call, TD_ERR_NOT_FOUND, "user_id", "there is no such learner"),
                   TD_ACTOR_OK;
        //  the learner's own cohorts decide what was released to them; an admin sees members
        //  of the course's org only
        const char *params [] = { other, c.org, admin && !self && !mentor && !system? "t": "f" };
        PGresult *res = td_db_exec (td_actor_db (actor), td_call_rid (call),
            "SELECT '{' || coalesce ((SELECT string_agg ('\"' || m.cohort_id::text || '\"', ',')"
            "   FROM identity_cohort_members m WHERE m.user_id = $1::uuid), '') || '}',"
            " NOT $3::bool OR EXISTS (SELECT 1 FROM identity_memberships o"
            "   WHERE o.user_id = $1::uuid AND o.org_id::text = $2)", 3, params);
        if (!res)
            return td_cat_db_down (call);
        bool member = PQntuples (res) == 1 && strcmp (PQgetvalue (res, 0, 1), "t") == 0;
        cohorts = member? strdup (PQgetvalue (res, 0, 0)): NULL;
        PQclear (res);
        if (!member)
            return td_call_error (call, TD_ERR_NOT_FOUND, "user_id", "there is no such learner"),
                   TD_ACTOR_OK;
        if (!cohorts)
            return td_call_error (call, TD_ERR_INTERNAL, NULL, "out of memory"), TD_ACTOR_OK;
        snprintf (user, sizeof user, "%s", other);
    }
    else {
        if (!td_cat_user (call, user, sizeof user, "progress"))
            return TD_ACTOR_OK;
        td_principal_t *p = td_cat_gate (actor, call, TD_CAT_COURSE, false, &c, &access);
        if (!p)
            return TD_ACTOR_OK;
        cohorts = access == TD_CAT_AUTHOR? NULL: td_cat_cohorts (p);
        td_principal_destroy (&p);
        if (access != TD_CAT_AUTHOR && !cohorts)
            return td_call_error (call, TD_ERR_INTERNAL, NULL, "out of memory"), TD_ACTOR_OK;
    }
    const char *params [] = { user, c.id, cohorts };
    bool failed;
    json_t *out = td_cat_query_json (actor, call,
        "WITH s AS (SELECT * FROM catalog_lesson_stats ($1, $2::uuid)),"
        " r AS (SELECT CASE WHEN $3::text[] IS NULL THEN NULL"
        "   ELSE catalog_released_modules ($2::uuid, $3::text[]) END AS n),"
        " les AS (SELECT s.*, l.slug, l.title FROM s JOIN catalog_lessons l ON l.id = s.lesson_id),"
        " mods AS (SELECT m.id, m.slug, m.title, m.position,"
        "   coalesce (sum (les.total), 0)::int AS total, coalesce (sum (les.done), 0)::int AS done,"
        "   coalesce (sum (les.touched), 0)::int AS touched, min (les.started_at) AS started_at,"
        "   max (les.completed_at) AS completed_at, max (les.last_accessed_at) AS last_accessed_at,"
        "   coalesce (json_agg (json_build_object ('id', les.lesson_id, 'slug', les.slug,"
        "     'title', les.title, 'position', les.lesson_pos, 'items', les.total,"
        "     'completed_items', les.done, 'started', les.touched > 0,"
        "     'completed', les.total > 0 AND les.done = les.total,"
        "     'percent', CASE WHEN les.total = 0 THEN 0 ELSE 100 * les.done / les.total END,"
        "     'started_at', les.started_at, 'completed_at', CASE WHEN les.total > 0 AND"
        "       les.done = les.total THEN les.completed_at END,"
        "     'last_accessed_at', les.last_accessed_at, 'units', les.units)"
        "     ORDER BY les.lesson_pos) FILTER (WHERE les.lesson_id IS NOT NULL), '[]') AS lessons"
        "   FROM catalog_modules m LEFT JOIN les ON les.module_id = m.id"
        "   WHERE m.course_id = $2::uuid GROUP BY m.id, m.slug, m.title, m.position),"
        " tot AS (SELECT coalesce (sum (total), 0)::int AS total, coalesce (sum (done), 0)::int AS done,"
        "   coalesce (sum (touched), 0)::int AS touched, min (started_at) AS started_at,"
        "   max (completed_at) AS completed_at, max (last_accessed_at) AS last_accessed_at FROM mods)"
        " SELECT json_build_object ('course_id', $2::text, 'user_id', $1::text,"
        "   'enrolled', EXISTS (SELECT 1 FROM catalog_enrolments e WHERE e.user_id = $1"
        "     AND e.course_id = $2::uuid),"
        "   'items', tot.total, 'completed_items', tot.done, 'started', tot.touched > 0,"
        "   'completed', tot.total > 0 AND tot.done = tot.total,"
        "   'percent', CASE WHEN tot.total = 0 THEN 0 ELSE 100 * tot.done / tot.total END,"
        "   'started_at', tot.started_at, 'completed_at', CASE WHEN tot.total > 0 AND"
        "     tot.done = tot.total THEN tot.completed_at END,"
        "   'last_accessed_at', tot.last_accessed_at, 'released_modules', r.n,"
        "   'next_lesson', catalog_next_lesson ($1, $2::uuid, $3::text[]),"
        "   'modules', coalesce ((SELECT json_agg (json_build_object ('id', mods.id,"
        "     'slug', mods.slug, 'title', mods.title, 'position', mods.position,"
        "     'items', mods.total, 'completed_items', mods.done, 'started', mods.touched > 0,"
        "     'completed', mods.total > 0 AND mods.done = mods.total,"
        "     'percent', CASE WHEN mods.total = 0 THEN 0 ELSE 100 * mods.done / mods.total END,"
        "     'started_at', mods.started_at, 'last_accessed_at', mods.last_accessed_at,"
        "     'lessons', mods.lessons) ORDER BY mods.position) FROM mods"
        "     WHERE mods.position < coalesce (r.n, 2147483647)), '[]'))"
        " FROM tot, r", 3, params, &failed);
    free (cohorts);
    if (!out)
        return td_cat_missing (call, failed, "course");
    return td_cat_reply (call, 200, out);
}
