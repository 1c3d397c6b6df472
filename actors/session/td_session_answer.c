/*  td_session_answer — practice.answer, practice.get and practice.finish (SESSION.md §2, §3).
 *
 *  An answer is judged here (td_session_check.c), written once with the session's counters in
 *  one statement (answer IS NULL guards it), and then sent to srs as a review whose
 *  client_review_id is the question's id: srs applies it once however often it is sent. The
 *  review's result is stored on the question; until it is, the same answer sent again re-sends
 *  the review, so a crash between the two writes (actor killed, srs down) loses nothing and
 *  reviews nothing twice.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "td_json.h"
#include "td_log.h"
#include "td_mp.h"
#include "grader/td_grade_answer.h"
#include "session/td_session.h"

#define LOG "session"

static int s_answer (td_actor_t *self, td_call_t *call, const char *user, const char *id,
                     const char *question, const char *answer, const json_t *given, bool is_string,
                     int duration);

typedef struct {
    td_call_t *call;
    char user [TD_MAX_ID + 1];
    char session [40], question [40];
} pend_t;

static const char *
s_val (PGresult *res, int r, int c)
{
    return PQgetisnull (res, r, c)? NULL: PQgetvalue (res, r, c);
}

static json_t *
s_json_col (PGresult *res, int r, int c)
{
    const char *v = s_val (res, r, c);
    return v? json_loads (v, 0, NULL): json_null ();
}

//  A question row (columns as in s_question_sql) as JSON; with the result once it is answered.
#define QCOLS "q.id::text, q.position, q.kind, q.card_id, q.prompt::text, q.expected->>'display'," \
              " q.answer, q.correct, q.rating, q.duration_ms, q.feedback," \
              " to_char (q.answered_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')," \
              " q.review::text"

static json_t *
s_question (PGresult *res, int r, bool result)
{
    json_t *prompt = s_json_col (res, r, 4);
    json_t *q = json_pack ("{s:s, s:i, s:s, s:s?}", "id", PQgetvalue (res, r, 0),
                           "position", atoi (PQgetvalue (res, r, 1)), "kind", PQgetvalue (res, r, 2),
                           "card_id", s_val (res, r, 3));
    if (!q) {
        json_decref (prompt);
        return NULL;
    }
    if (json_is_object (prompt))
        json_object_update (q, prompt);
    json_decref (prompt);
    if (result && s_val (res, r, 6)) {
        json_object_set_new (q, "answer", json_string (PQgetvalue (res, r, 6)));
        json_object_set_new (q, "correct", json_boolean (strcmp (PQgetvalue (res, r, 7), "t") == 0));
        json_object_set_new (q, "rating", json_integer (atoi (PQgetvalue (res, r, 8))));
        json_object_set_new (q, "expected", json_string (PQgetvalue (res, r, 5)));
        json_object_set_new (q, "duration_ms", s_val (res, r, 9)?
                             json_integer (atoi (PQgetvalue (res, r, 9))): json_null ());
        json_object_set_new (q, "feedback", s_val (res, r, 10)?
                             json_string (PQgetvalue (res, r, 10)): json_null ());
        json_object_set_new (q, "answered_at", json_string (PQgetvalue (res, r, 11)));
        json_object_set_new (q, "review", s_json_col (res, r, 12));
    }
    return q;
}

json_t *
td_session_json (td_actor_t *self, const char *rid, const char *id, const char *user,
                 bool history, bool *found)
{
    *found = false;
    const char *params [] = { id, user };
    PGresult *res = td_db_exec (td_actor_db (self), rid,
        "SELECT s.id::text, s.type, s.deck, s.course_id, s.status, s.position, s.total,"
        "  s.answered, s.correct, s.fast_ms,"
        "  to_char (s.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
        "  to_char (s.ended_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
        "  s.item_id, s.result::text"
        " FROM practice_sessions s WHERE s.id = $1::uuid AND s.user_id = $2", 2, params);
    if (!res)
        return NULL;
    if (PQntuples (res) != 1) {
        PQclear (res);
        *found = false;
        return json_object ();          //  not NULL: the database answered
    }
    *found = true;
    json_t *s = json_pack ("{s:s, s:s, s:s?, s:s?, s:s, s:i, s:i, s:i, s:i, s:i, s:s, s:s?}",
        "id", PQgetvalue (res, 0, 0), "type", PQgetvalue (res, 0, 1), "deck", s_val (res, 0, 2),
        "course_id", s_val (res, 0, 3), "status", PQgetvalue (res, 0, 4),
        "position", atoi (PQgetvalue (res, 0, 5)), "size", atoi (PQgetvalue (res, 0, 6)),
        "answered", atoi (PQgetvalue (res, 0, 7)), "correct", atoi (PQgetvalue (res, 0, 8)),
        "fast_ms", atoi (PQgetvalue (res, 0, 9)), "started_at", PQgetvalue (res, 0, 10),
        "ended_at", s_val (res, 0, 11));
    bool active = strcmp (PQgetvalue (res, 0, 4), "active") == 0;
    if (s && s_val (res, 0, 12))
        json_object_set_new (s, "item_id", json_string (PQgetvalue (res, 0, 12)));
    if (s && s_val (res, 0, 13))
        json_object_set_new (s, "result", s_json_col (res, 0, 13));
    PQclear (res);
    if (!s)
        return NULL;
    res = td_db_exec (td_actor_db (self), rid,
        "SELECT " QCOLS " FROM practice_questions q JOIN practice_sessions s ON s.id = q.session_id"
        " WHERE q.session_id = $1::uuid AND s.user_id = $2"
        "  AND (q.answer IS NOT NULL OR q.position = s.position)"
        " ORDER BY q.position", 2, params);
    if (!res) {
        json_decref (s);
        return NULL;
    }
    json_t *hist = json_array ();
    json_t *current = json_null ();
    for (int r = 0; r < PQntuples (res); r++) {
        if (!s_val (res, r, 6)) {
            if (active) {
                json_decref (current);
                current = s_question (res, r, false);
            }
        }
        else
        if (history)
            json_array_append_new (hist, s_question (res, r, true));
    }
    PQclear (res);
    json_object_set_new (s, "question", current? current: json_null ());
    if (history)
        json_object_set_new (s, "history", hist);
    else
        json_decref (hist);
    return s;
}

//  {result: <the answered question>, session: <the session and its next question>}
static void
s_reply_result (td_actor_t *self, td_call_t *call, const char *session, const char *question,
                const char *user)
{
    const char *params [] = { question, session };
    PGresult *res = td_db_exec (td_actor_db (self), td_call_rid (call),
        "SELECT " QCOLS " FROM practice_questions q WHERE q.id = $1::uuid AND q.session_id = $2::uuid",
        2, params);
    bool found = false;
    json_t *s = res? td_session_json (self, td_call_rid (call), session, user, false, &found): NULL;
    if (!res || !s || PQntuples (res) != 1) {
        if (res)
            PQclear (res);
        json_decref (s);
        td_session_db_down (call);
        return;
    }
    json_t *out = json_pack ("{s:o, s:o, s:b}", "result", s_question (res, 0, true), "session", s,
                             "finished", strcmp (json_string_value (json_object_get (s, "status")),
                                                 "finished") == 0);
    PQclear (res);
    td_session_reply (call, 200, out);
}

static void
s_on_review (td_actor_t *self, void *arg, const td_msg_t *reply, const td_error_t *err)
{
    pend_t *p = (pend_t *) arg;
    json_t *review = NULL;
    if (reply && td_msg_status (reply) == 200) {
        td_error_t jerr;
        json_t *b = td_mp_to_json (td_msg_body (reply), &jerr);
        json_t *card = json_object_get (b, "card");
        review = json_pack ("{s:O?, s:O?, s:O?, s:O?, s:b}",
            "card_id", json_object_get (card, "id"), "log_id", json_object_get (b, "log_id"),
            "state", json_object_get (card, "state"), "due", json_object_get (card, "due"),
            "replayed", json_is_true (json_object_get (b, "replayed")));
        json_decref (b);
    }
    else
    if (reply && td_msg_status (reply) == 404)
        //  the card was deleted meanwhile: nothing to review, the answer stands
        review = json_pack ("{s:s}", "error", "the card no longer exists");
    else {
        td_call_error_retry (p->call, TD_ERR_UNAVAILABLE, 1, NULL,
            "the answer is recorded but its review could not be applied now (%s); send the same "
            "answer again", reply? td_msg_error_message (reply): err? err->message: "no answer");
        free (p);
        return;
    }
    char *text = review? json_dumps (review, JSON_COMPACT): NULL;
    json_decref (review);
    const char *params [] = { p->question, text };
    PGresult *res = text? td_db_exec (td_actor_db (self), td_call_rid (p->call),
        "UPDATE practice_questions SET review = $2::jsonb WHERE id = $1::uuid", 2, params): NULL;
    free (text);
    if (!res)
        td_session_db_down (p->call);
    else {
        PQclear (res);
        s_reply_result (self, p->call, p->session, p->question, p->user);
    }
    free (p);
}

//  Send the question's review to srs (rating stored), then answer; or answer now when the
//  question reviews no card or its review is already stored.
static int
s_review_or_reply (td_actor_t *self, td_call_t *call, const char *user, const char *session,
                   const char *question, const char *card, int rating, int duration)
{
    if (!card) {
        s_reply_result (self, call, session, question, user);
        return TD_ACTOR_OK;
    }
    pend_t *p = calloc (1, sizeof *p);
    if (!p)
        return td_call_error (call, TD_ERR_INTERNAL, NULL, "out of memory"), TD_ACTOR_OK;
    p->call = call;
    snprintf (p->user, sizeof p->user, "%s", user);
    snprintf (p->session, sizeof p->session, "%s", session);
    snprintf (p->question, sizeof p->question, "%s", question);
    json_t *rv = json_pack ("{s:s, s:i, s:s}", "card_id", card, "rating", rating,
                            "client_review_id", question);
    if (rv && duration >= 0)
        json_object_set_new (rv, "duration_ms", json_integer (duration));
    if (td_session_send (self, call, "srs", "review", json_pack ("{s:o}", "body", rv),
                         s_on_review, p) != 0) {
        free (p);
        return td_call_error_retry (call, TD_ERR_UNAVAILABLE, 1, NULL,
            "the answer is recorded but srs cannot be reached now; send the same answer again"),
            TD_ACTOR_OK;
    }
    td_call_keep (call);
    return TD_ACTOR_OK;
}

//  Placement: after an answer, move on within the level, jump to the next level, or end the
//  test with the level reached (td_session_placement). 0, or -1 when the database failed.
static int
s_placement_step (td_actor_t *self, td_call_t *call, const char *user, const char *id,
                  const char *question)
{
    const char *params [] = { id, question };
    PGresult *res = td_db_exec (td_actor_db (self), td_call_rid (call),
        "SELECT q.expected->>'level', min (q.position), count (*),"
        "  count (*) FILTER (WHERE q.correct), count (*) FILTER (WHERE NOT q.correct),"
        "  bool_or (q.id = $2::uuid)"
        " FROM practice_questions q WHERE q.session_id = $1::uuid"
        " GROUP BY 1 ORDER BY 2 LIMIT 8", 2, params);
    if (!res)
        return -1;
    td_placement_level_t lv [8];
    size_t n = 0, cur = 8;
    for (int r = 0; r < PQntuples (res) && n < 8; r++, n++) {
        snprintf (lv [n].level, sizeof lv [n].level, "%s", PQgetvalue (res, r, 0));
        lv [n].first = atoi (PQgetvalue (res, r, 1));
        lv [n].n = atoi (PQgetvalue (res, r, 2));
        lv [n].right = atoi (PQgetvalue (res, r, 3));
        lv [n].wrong = atoi (PQgetvalue (res, r, 4));
        if (strcmp (PQgetvalue (res, r, 5), "t") == 0)
            cur = n;
    }
    PQclear (res);
    int next = 0;
    const char *level = NULL;
    int step = td_session_placement (lv, n, cur, &next, &level);
    if (step == TD_PLACEMENT_GO_ON)
        return 0;
    if (step == TD_PLACEMENT_JUMP) {
        char pos [16];
        snprintf (pos, sizeof pos, "%d", next);
        const char *jp [] = { id, pos };
        res = td_db_exec (td_actor_db (self), td_call_rid (call),
            "UPDATE practice_sessions SET position = $2::int WHERE id = $1::uuid"
            " AND status = 'active' AND position < $2::int", 2, jp);
        if (!res)
            return -1;
        PQclear (res);
        return 0;
    }
    json_t *levels = json_array ();
    for (size_t i = 0; i < n; i++)
        json_array_append_new (levels, json_pack ("{s:s, s:i, s:i, s:i}", "level", lv [i].level,
                               "questions", lv [i].n, "asked", lv [i].right + lv [i].wrong,
                               "right", lv [i].right));
    json_t *result = json_pack ("{s:s, s:o}", "level", level, "levels", levels);
    char *text = result? json_dumps (result, JSON_COMPACT): NULL;
    json_decref (result);
    const char *dp [] = { id, text };
    res = text? td_db_exec (td_actor_db (self), td_call_rid (call),
        "UPDATE practice_sessions SET status = 'finished', ended_at = coalesce (ended_at, now ()),"
        " result = $2::jsonb WHERE id = $1::uuid AND result IS NULL"
        " RETURNING total, answered, correct", 2, dp): NULL;
    free (text);
    if (!res)
        return -1;
    if (PQntuples (res) == 1)
        td_session_emit (self, "session.ended", user, id,
                         json_pack ("{s:s, s:s, s:s, s:i, s:i, s:i, s:s}", "session_id", id,
                                    "type", "placement", "reason", "completed",
                                    "size", atoi (PQgetvalue (res, 0, 0)),
                                    "answered", atoi (PQgetvalue (res, 0, 1)),
                                    "correct", atoi (PQgetvalue (res, 0, 2)), "level", level));
    PQclear (res);
    return 0;
}

static bool
s_session_id (td_call_t *call, char *id, size_t size)
{
    if (!td_mp_strcpy (td_mp_get (td_call_body (call), "id"), id, size) || !td_session_uuid (id)) {
        td_call_error (call, TD_ERR_NOT_FOUND, NULL, "there is no such practice session");
        return false;
    }
    return true;
}

int
td_session_answer (td_actor_t *self, td_call_t *call)
{
    char user [TD_MAX_ID + 1], id [40];
    if (!td_session_user (call, user, sizeof user) || !s_session_id (call, id, sizeof id))
        return TD_ACTOR_OK;
    json_t *body = td_session_body (call);
    if (!body)
        return td_call_error (call, TD_ERR_INVALID_INPUT, "body", "the body must be a JSON object"),
               TD_ACTOR_OK;
    const char *key, *bad = NULL, *why = NULL;
    json_t *v;
    json_object_foreach (body, key, v)
        if (strcmp (key, "question_id") && strcmp (key, "answer") && strcmp (key, "duration_ms")) {
            bad = key, why = "unknown field";
            break;
        }
    json_t *qid = json_object_get (body, "question_id"), *ans = json_object_get (body, "answer");
    json_t *dur = json_object_get (body, "duration_ms");
    char answer [TD_SESSION_ANSWER_MAX + 1] = "";
    if (bad)
        ;
    else
    if (!json_is_string (qid) || !td_session_uuid (json_string_value (qid)))
        bad = "question_id", why = "question_id must be the id of the session's question";
    else
    if (json_is_string (ans)) {
        if (json_string_length (ans) == 0 || json_string_length (ans) > TD_SESSION_ANSWER_MAX
        ||  strlen (json_string_value (ans)) != json_string_length (ans))
            bad = "answer", why = "answer must be a string of 1 to 1000 bytes";
        else
            snprintf (answer, sizeof answer, "%s", json_string_value (ans));
    }
    else
    if (json_is_number (ans) || (json_is_array (ans) && json_array_size (ans) <= 50)) {
        //  a choice's index, a number, or a list of indexes (grammar exercises): the question's
        //  kind decides below whether this shape fits
        char *text = json_dumps (ans, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!text || strlen (text) > TD_SESSION_ANSWER_MAX)
            bad = "answer", why = "answer is too long";
        else
            snprintf (answer, sizeof answer, "%s", text);
        free (text);
    }
    else
        bad = "answer", why = "answer must be a string, a number or a list of choice indexes";
    if (!bad && dur && (!json_is_integer (dur) || json_integer_value (dur) < 0
                        || json_integer_value (dur) > 86400000))
        bad = "duration_ms", why = "duration_ms must be an integer from 0 to 86400000";
    if (bad) {
        td_call_error (call, TD_ERR_INVALID_INPUT, bad, "%s", why);
        json_decref (body);
        return TD_ACTOR_OK;
    }
    int duration = dur? (int) json_integer_value (dur): -1;
    char question [40];
    snprintf (question, sizeof question, "%s", json_string_value (qid));
    bool is_string = json_is_string (ans);
    json_t *given = json_incref (ans);
    json_decref (body);

    int rc = s_answer (self, call, user, id, question, answer, given, is_string, duration);
    json_decref (given);
    return rc;
}

//  The answer, validated in shape: look the question up, judge, store, review.
static int
s_answer (td_actor_t *self, td_call_t *call, const char *user, const char *id,
          const char *question, const char *answer, const json_t *given, bool is_string,
          int duration)
{
    const char *params [] = { id, user, question };
    PGresult *res = td_db_exec (td_actor_db (self), td_call_rid (call),
        "SELECT s.status, s.position, s.fast_ms, q.position, q.kind, q.card_id, q.expected::text,"
        "  q.answer IS NOT NULL, q.review IS NOT NULL, q.rating, s.type"
        " FROM practice_sessions s LEFT JOIN practice_questions q"
        "   ON q.session_id = s.id AND q.id = $3::uuid"
        " WHERE s.id = $1::uuid AND s.user_id = $2", 3, params);
    if (!res)
        return td_session_db_down (call);
    if (PQntuples (res) != 1) {
        PQclear (res);
        return td_call_error (call, TD_ERR_NOT_FOUND, NULL, "there is no such practice session"),
               TD_ACTOR_OK;
    }
    if (!s_val (res, 0, 3)) {
        PQclear (res);
        return td_call_error (call, TD_ERR_NOT_FOUND, "question_id",
                              "this session has no such question"), TD_ACTOR_OK;
    }
    char card [64] = "";
    if (s_val (res, 0, 5))
        snprintf (card, sizeof card, "%s", PQgetvalue (res, 0, 5));
    if (strcmp (PQgetvalue (res, 0, 7), "t") == 0) {
        //  answered before: the same answer again (a retry) answers the stored result, and
        //  re-sends the review if it was never applied
        bool reviewed = strcmp (PQgetvalue (res, 0, 8), "t") == 0;
        int rating = atoi (PQgetvalue (res, 0, 9));
        bool placement = strcmp (PQgetvalue (res, 0, 10), "placement") == 0;
        PQclear (res);
        //  a placement step lost in a crash after the answer was written is taken now (the
        //  step only moves forward and decides the result once, so replaying it is harmless)
        if (placement && s_placement_step (self, call, user, id, question) != 0)
            return td_session_db_down (call);
        return s_review_or_reply (self, call, user, id, question, reviewed || !*card? NULL: card,
                                  rating, duration);
    }
    if (strcmp (PQgetvalue (res, 0, 0), "active") != 0) {
        PQclear (res);
        return td_call_error (call, TD_ERR_CONFLICT, NULL, "this practice session is finished"),
               TD_ACTOR_OK;
    }
    if (strcmp (PQgetvalue (res, 0, 1), PQgetvalue (res, 0, 3)) != 0) {
        PQclear (res);
        return td_call_error (call, TD_ERR_CONFLICT, "question_id",
                              "answer the session's current question"), TD_ACTOR_OK;
    }
    int fast_ms = atoi (PQgetvalue (res, 0, 2));
    bool placement = strcmp (PQgetvalue (res, 0, 10), "placement") == 0;
    char kind [16], stype [16], item [TD_MAX_ID + 1] = "";
    snprintf (kind, sizeof kind, "%s", PQgetvalue (res, 0, 4));
    snprintf (stype, sizeof stype, "%s", PQgetvalue (res, 0, 10));
    json_t *expected = json_loads (PQgetvalue (res, 0, 6), 0, NULL);
    PQclear (res);
    const char *item_id = json_string_value (json_object_get (expected, "item_id"));
    if (item_id && strlen (item_id) <= TD_MAX_ID)
        snprintf (item, sizeof item, "%s", item_id);
    const char *display = json_string_value (json_object_get (expected, "display"));
    char feedback [2 * TD_SESSION_ANSWER_MAX + 64] = "";
    bool correct = false;
    int rating;
    bool choice_index = json_is_integer (given) && json_integer_value (given) >= 0
                     && json_integer_value (given) < 100;
    if (strcmp (kind, "exercise") == 0) {
        //  the grader's own rules (GRADER.md §3) against the key the catalog holds
        td_answer_grade_t g;
        td_error_t gerr;
        if (td_grade_answer (json_object_get (expected, "question"), given, &g, &gerr) != 0) {
            json_decref (expected);
            return td_call_error (call, TD_ERR_INVALID_INPUT, "answer", "%s", gerr.message),
                   TD_ACTOR_OK;
        }
        correct = g.passed;
        if (!correct)
            snprintf (feedback, sizeof feedback, "expected \"%s\"", display? display: "");
        rating = td_session_rating (correct, duration, fast_ms);
    }
    else
    if (!is_string && !(choice_index && strcmp (kind, "choice") == 0)) {
        json_decref (expected);
        return td_call_error (call, TD_ERR_INVALID_INPUT, "answer", "%s",
                              strcmp (kind, "choice") == 0? "answer must be a choice's index or text"
                                                          : "answer must be a string"), TD_ACTOR_OK;
    }
    else
    if (strcmp (kind, "flashcard") == 0)
        rating = td_session_grade_flashcard (answer, display? display: "", duration, fast_ms,
                                             &correct, feedback, sizeof feedback);
    else
    if (strcmp (kind, "choice") == 0) {
        int want = (int) json_integer_value (json_object_get (expected, "choice"));
        char *end = NULL;
        long got = strtol (answer, &end, 10);
        correct = (end && !*end && got == want)
               || (display && strcasecmp (answer, display) == 0);
        if (!correct)
            snprintf (feedback, sizeof feedback, "expected \"%s\"", display? display: "");
        rating = td_session_rating (correct, duration, fast_ms);
    }
    else {
        correct = td_session_typed (display, answer, feedback, sizeof feedback);
        rating = td_session_rating (correct, duration, fast_ms);
    }
    json_decref (expected);

    char s_rating [8], s_dur [16];
    snprintf (s_rating, sizeof s_rating, "%d", rating);
    snprintf (s_dur, sizeof s_dur, "%d", duration);
    const char *wp [] = { id, question, answer, correct? "t": "f", s_rating,
                          duration >= 0? s_dur: NULL, *feedback? feedback: NULL };
    res = td_db_exec (td_actor_db (self), td_call_rid (call),
        "WITH q AS (UPDATE practice_questions SET answer = $3, correct = $4::bool,"
        "   rating = $5::smallint, duration_ms = $6::int, feedback = $7, answered_at = now ()"
        "   WHERE id = $2::uuid AND session_id = $1::uuid AND answer IS NULL RETURNING position),"
        " s AS (UPDATE practice_sessions p SET position = q.position + 1, answered = p.answered + 1,"
        "   correct = p.correct + CASE WHEN $4::bool THEN 1 ELSE 0 END,"
        "   status = CASE WHEN q.position + 1 >= p.total THEN 'finished' ELSE p.status END,"
        "   ended_at = CASE WHEN q.position + 1 >= p.total THEN now () END"
        "   FROM q WHERE p.id = $1::uuid AND p.status = 'active'"
        "   RETURNING p.status, p.type, p.total, p.answered, p.correct)"
        " SELECT (SELECT count (*) FROM q), s.* FROM (SELECT 1) one LEFT JOIN s ON true", 7, wp);
    if (!res)
        return td_session_db_down (call);
    if (!placement && PQntuples (res) == 1 && s_val (res, 0, 1)
    &&  strcmp (PQgetvalue (res, 0, 1), "finished") == 0)
        td_session_emit (self, "session.ended", user, id,
                         json_pack ("{s:s, s:s, s:s, s:i, s:i, s:i}", "session_id", id,
                                    "type", PQgetvalue (res, 0, 2), "reason", "completed",
                                    "size", atoi (PQgetvalue (res, 0, 3)),
                                    "answered", atoi (PQgetvalue (res, 0, 4)),
                                    "correct", atoi (PQgetvalue (res, 0, 5))));
    bool wrote = PQntuples (res) == 1 && atoi (PQgetvalue (res, 0, 0)) == 1;
    PQclear (res);
    if (!wrote)
        //  a racing copy of this answer wrote first: replay what it stored (its rating is the
        //  one srs gets, whichever review call arrives first)
        return s_answer (self, call, user, id, question, answer, given, is_string, duration);
    //  once per question: only the call that wrote the answer gets here
    td_session_emit_answered (self, user, id, question, stype, item, correct, card);
    if (placement && s_placement_step (self, call, user, id, question) != 0)
        return td_session_db_down (call);
    return s_review_or_reply (self, call, user, id, question, *card? card: NULL, rating, duration);
}

int
td_session_get (td_actor_t *self, td_call_t *call)
{
    char user [TD_MAX_ID + 1], id [40];
    if (!td_session_user (call, user, sizeof user) || !s_session_id (call, id, sizeof id))
        return TD_ACTOR_OK;
    bool found = false;
    json_t *s = td_session_json (self, td_call_rid (call), id, user, true, &found);
    if (!s)
        return td_session_db_down (call);
    if (!found) {
        json_decref (s);
        return td_call_error (call, TD_ERR_NOT_FOUND, NULL, "there is no such practice session"),
               TD_ACTOR_OK;
    }
    return td_session_reply (call, 200, s);
}

int
td_session_finish (td_actor_t *self, td_call_t *call)
{
    char user [TD_MAX_ID + 1], id [40];
    if (!td_session_user (call, user, sizeof user) || !s_session_id (call, id, sizeof id))
        return TD_ACTOR_OK;
    const char *params [] = { id, user };
    PGresult *res = td_db_exec (td_actor_db (self), td_call_rid (call),
        "UPDATE practice_sessions SET status = 'finished', ended_at = now ()"
        " WHERE id = $1::uuid AND user_id = $2 AND status = 'active'"
        " RETURNING type, total, answered, correct", 2, params);
    if (!res)
        return td_session_db_down (call);
    if (PQntuples (res) == 1)
        td_session_emit (self, "session.ended", user, id,
                         json_pack ("{s:s, s:s, s:s, s:i, s:i, s:i}", "session_id", id,
                                    "type", PQgetvalue (res, 0, 0), "reason", "finished",
                                    "size", atoi (PQgetvalue (res, 0, 1)),
                                    "answered", atoi (PQgetvalue (res, 0, 2)),
                                    "correct", atoi (PQgetvalue (res, 0, 3))));
    PQclear (res);
    bool found = false;
    json_t *s = td_session_json (self, td_call_rid (call), id, user, true, &found);
    if (!s)
        return td_session_db_down (call);
    if (!found) {
        json_decref (s);
        return td_call_error (call, TD_ERR_NOT_FOUND, NULL, "there is no such practice session"),
               TD_ACTOR_OK;
    }
    return td_session_reply (call, 200, s);
}
