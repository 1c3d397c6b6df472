/*  td_session_feed — what other services learn about answers (SESSION.md §4): the
 *  session.answered event, and answer.list, the feed a consumer catches up from.
 *
 *  Why both: events are best effort (PUB/SUB drops for slow subscribers, and nobody hears them
 *  while the consumer is down), yet the catalog derives progress from answers and must count
 *  every one. So the table is the feed, as for the grader's result.list: answered questions in
 *  the total order (answered_at, id), in pages after a cursor (the grader's cursor format,
 *  td_grade_results.h). answered_at is its transaction's time and transactions commit in another
 *  order than they start, so the feed serves only answers older than TD_RESULTS_SETTLE_S (an
 *  answer is one statement that commits within milliseconds); live consumers have the event.
 *
 *  A question's catalog item (a vocabulary entry, a grammar topic) is stored with its expected
 *  answer when the session is created (expected.item_id): the event and the feed read it there.
 */
#include <stdlib.h>
#include <string.h>
#include "td_call_json.h"
#include "td_access.h"
#include "td_json.h"
#include "td_mp.h"
#include "grader/td_grade_results.h"
#include "session/td_session.h"

#define FEED_DEFAULT    100
#define FEED_MAX        500
#define NIL_UUID        "00000000-0000-0000-0000-000000000000"

const char *
td_session_kind (const char *type)
{
    //  the event's names for the session types (the vocabulary quiz is "vocab_quiz")
    if (strcmp (type, "vocabulary") == 0)
        return "vocab_quiz";
    return type;
}

void
td_session_emit_answered (td_actor_t *actor, const char *user, const char *session,
                          const char *question, const char *type, const char *item, bool correct,
                          const char *card)
{
    td_session_emit (actor, "session.answered", user, question,
        json_pack ("{s:s, s:s, s:s, s:s?, s:b, s:s?}", "session_id", session,
                   "question_id", question, "kind", td_session_kind (type),
                   "item_id", item && *item? item: NULL, "correct", correct,
                   "card_id", card && *card? card: NULL));
}

//  limit: absent (the default), an integer or a decimal string of one, 1..FEED_MAX; -1 if bad.
static int
s_limit (const msgpack_object *o)
{
    if (!o || o->type == MSGPACK_OBJECT_NIL)
        return FEED_DEFAULT;
    int64_t v = -1;
    char text [16];
    if (!td_mp_int (o, &v) && td_mp_strcpy (o, text, sizeof text) && *text) {
        char *end = NULL;
        v = strtoll (text, &end, 10);
        if (*end)
            v = -1;
    }
    return v >= 1 && v <= FEED_MAX? (int) v: -1;
}

int
td_session_answer_list (td_actor_t *self, td_call_t *call)
{
    td_error_t err;
    td_principal_t *p = td_principal_new (td_call_auth (call), &err);
    bool system = p && td_principal_kind (p) == TD_PRINCIPAL_SYSTEM;
    td_principal_destroy (&p);
    if (!system)
        return td_call_error (call, TD_ERR_FORBIDDEN, NULL,
                              "answer.list is for trusted services (system) only"), TD_ACTOR_OK;
    const msgpack_object *body = td_call_body (call);
    int limit = s_limit (td_mp_get (body, "limit"));
    if (limit < 0)
        return td_call_error (call, TD_ERR_INVALID_INPUT, "limit",
                              "limit must be a whole number from 1 to 500"), TD_ACTOR_OK;
    char since [200] = "", after [64] = "1970-01-01T00:00:00Z", after_id [40] = NIL_UUID;
    const msgpack_object *so = td_mp_get (body, "since");
    if (so && so->type != MSGPACK_OBJECT_NIL
    &&  (!td_mp_strcpy (so, since, sizeof since)
         || !td_results_cursor_decode (since, after, sizeof after, after_id, sizeof after_id)))
        return td_call_error (call, TD_ERR_INVALID_INPUT, "since",
                              "since must be a cursor from an earlier next"), TD_ACTOR_OK;
    char lim [16];
    snprintf (lim, sizeof lim, "%d", limit);
    const char *params [] = { after, after_id, lim };
    PGresult *res = td_db_exec (td_actor_db (self), td_call_rid (call),
        "SELECT q.id::text, s.id::text, s.user_id, s.type, q.expected->>'item_id', q.correct,"
        " q.card_id,"
        " to_char (q.answered_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
        " to_char (q.answered_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
        " FROM practice_questions q JOIN practice_sessions s ON s.id = q.session_id"
        " WHERE q.answered_at IS NOT NULL"
        " AND q.answered_at < now () - make_interval (secs => " TD_RESULTS_SETTLE_S ")"
        " AND (q.answered_at, q.id) > ($1::timestamptz, $2::uuid)"
        " ORDER BY q.answered_at, q.id LIMIT $3::int", 3, params);
    if (!res)
        return td_session_db_down (call);
    int rows = PQntuples (res);
    json_t *list = json_array ();
    for (int r = 0; list && r < rows; r++) {
        json_t *a = json_pack ("{s:s, s:s, s:s, s:s, s:s?, s:b, s:s?, s:s}",
            "question_id", PQgetvalue (res, r, 0), "session_id", PQgetvalue (res, r, 1),
            "user_id", PQgetvalue (res, r, 2), "kind", td_session_kind (PQgetvalue (res, r, 3)),
            "item_id", PQgetisnull (res, r, 4)? NULL: PQgetvalue (res, r, 4),
            "correct", strcmp (PQgetvalue (res, r, 5), "t") == 0,
            "card_id", PQgetisnull (res, r, 6)? NULL: PQgetvalue (res, r, 6),
            "answered_at", PQgetvalue (res, r, 7));
        if (!a || json_array_append_new (list, a) != 0) {
            json_decref (list);
            list = NULL;
        }
    }
    json_t *out = td_results_page ("answers", list, res, 8, 0, rows == limit);
    PQclear (res);
    if (!out)
        return td_call_error (call, TD_ERR_INTERNAL, NULL, "the answers could not be encoded"),
               TD_ACTOR_OK;
    return td_session_reply (call, 200, out);
}
