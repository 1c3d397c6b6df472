/*  td_catalog_session — progress from practice sessions (CATALOG.md §6): the session actor's
 *  session.answered events, and its answer.list feed as the catch-up for events lost.
 *
 *  The rule (server side, never the client's word): a vocabulary entry is completed by one
 *  correct answer to a question made from it (a quiz question or a flashcard of its card); a
 *  grammar topic by TD_CAT_GRAMMAR_RIGHT correct answers to its exercises (drills and placement
 *  tests together), or as many as it has objective exercises when it has fewer. A wrong answer
 *  marks the item started and counts an attempt. Each answer is applied once, by question id
 *  (catalog_session_answers), in one statement with the item's progress, so the live event and
 *  the catch-up never count twice. Answers on other kinds of items (or none) are not progress.
 */
#include <stdlib.h>
#include <string.h>
#include "td_catalog.h"
#include "td_log.h"
#include "td_mp.h"

#define LOG "catalog"

int
td_catalog_apply_answer (td_actor_t *actor, const char *question_id, const char *user,
                         const char *item_id, bool correct, const char *answered_at)
{
    if (!question_id || !td_cat_uuid_valid (question_id) || !user || !*user
        || strlen (user) > 128 || !item_id || !td_cat_uuid_valid (item_id))
        return 0;
    char need [16];
    snprintf (need, sizeof need, "%d", TD_CAT_GRAMMAR_RIGHT);
    const char *params [] = { question_id, user, item_id, correct? "t": "f",
                              answered_at && *answered_at? answered_at: NULL, need };
    //  the answers counted before this one come from the statement's snapshot, which does not
    //  hold the row it inserts: this one is added by hand (d.done)
    PGresult *res = td_db_exec (td_actor_db (actor), NULL,
        "WITH it AS (SELECT i.id, CASE WHEN i.kind = 'vocabulary' THEN 1 ELSE"
        "   least ($6::int, greatest (1, (SELECT count (*) FROM jsonb_array_elements ("
        "     CASE WHEN jsonb_typeof (i.content->'exercises') = 'array'"
        "     THEN i.content->'exercises' ELSE '[]'::jsonb END) e"
        "     WHERE e->>'type' IS DISTINCT FROM 'subjective')))::int END AS need"
        "   FROM catalog_items i WHERE i.id = $3::uuid AND i.kind IN ('vocabulary', 'grammar')),"
        " ins AS (INSERT INTO catalog_session_answers (question_id, user_id, item_id, correct,"
        "   answered_at) SELECT $1, $2, it.id, $4::bool, $5::timestamptz FROM it"
        "   ON CONFLICT DO NOTHING RETURNING item_id),"
        " d AS (SELECT (SELECT count (*) FROM catalog_session_answers a WHERE a.user_id = $2"
        "   AND a.item_id = it.id AND a.correct) + CASE WHEN $4::bool THEN 1 ELSE 0 END"
        "   >= it.need AS done FROM it),"
        " old AS (SELECT status FROM catalog_item_progress WHERE user_id = $2 AND item_id = $3::uuid),"
        " up AS (INSERT INTO catalog_item_progress (user_id, item_id, status, started_at,"
        "   completed_at, last_accessed_at, attempts, updated_at)"
        "  SELECT $2, ins.item_id, CASE WHEN d.done THEN 'completed' ELSE 'started' END, now (),"
        "   CASE WHEN d.done THEN now () END, now (), 1, now () FROM ins, d"
        "  ON CONFLICT (user_id, item_id) DO UPDATE SET status = CASE WHEN"
        "   catalog_item_progress.status = 'completed' OR EXCLUDED.status = 'completed'"
        "   THEN 'completed' ELSE 'started' END,"
        "   completed_at = coalesce (catalog_item_progress.completed_at, EXCLUDED.completed_at),"
        "   attempts = catalog_item_progress.attempts + 1, updated_at = now () RETURNING status)"
        " SELECT (SELECT count (*) FROM ins), (SELECT status FROM old), (SELECT status FROM up)",
        6, params);
    if (!res && params [4]
        && strncmp (td_db_last_sqlstate (td_actor_db (actor)), "22", 2) == 0)
        //  a time PostgreSQL does not take is not worth losing the answer for
        return td_catalog_apply_answer (actor, question_id, user, item_id, correct, NULL);
    if (!res)
        return -1;
    char before [16] = "", after [16] = "";
    if (!td_cat_applied (res, before, after, NULL, sizeof before))
        return 0;
    td_debug (LOG, NULL, "answer %s of %s on %s applied (%s)", question_id, user, item_id,
              correct? "right": "wrong");
    if (strcmp (before, after) != 0)
        td_cat_announce_progress (actor, NULL, user, item_id, after,
                                  strcmp (after, "completed") == 0);
    return 1;
}

//  session.answered {session_id, question_id, kind, item_id, correct, card_id}; user = learner.
void
td_cat_answer_event (td_actor_t *actor, const td_msg_t *ev)
{
    const msgpack_object *data = td_msg_body (ev);
    char item [64] = "", question [64] = "";
    bool correct = false;
    if (!td_mp_strcpy (td_mp_get (data, "item_id"), item, sizeof item)
        || !td_mp_bool (td_mp_get (data, "correct"), &correct))
        return;                     //  a question from no catalog item is not progress
    if (!td_mp_strcpy (td_mp_get (data, "question_id"), question, sizeof question))
        snprintf (question, sizeof question, "%s", td_msg_subject (ev));
    if (td_catalog_apply_answer (actor, question, td_msg_user (ev), item, correct,
                                 td_msg_time (ev)) < 0)
        td_warn (LOG, NULL, "session answer %s not applied now; the catch-up applies it later",
                 question);
}

bool
td_cat_answers_page (td_actor_t *actor, const td_msg_t *reply, const td_error_t *err)
{
    const msgpack_object *body = td_cat_feed_page (actor, reply, err, TD_CAT_ANSWERS_SYNC,
                                                   "answer.list");
    if (!body)
        return false;
    const msgpack_object *list = td_mp_get (body, "answers");
    if (list && list->type == MSGPACK_OBJECT_ARRAY)
        for (uint32_t i = 0; i < list->via.array.size; i++) {
            const msgpack_object *a = &list->via.array.ptr [i];
            char q [64] = "", user [136] = "", item [64] = "", at [64] = "";
            bool correct = false;
            td_mp_strcpy (td_mp_get (a, "question_id"), q, sizeof q);
            td_mp_strcpy (td_mp_get (a, "user_id"), user, sizeof user);
            td_mp_strcpy (td_mp_get (a, "answered_at"), at, sizeof at);
            td_mp_bool (td_mp_get (a, "correct"), &correct);
            if (td_mp_strcpy (td_mp_get (a, "item_id"), item, sizeof item)
                && td_catalog_apply_answer (actor, q, user, item, correct, at) < 0)
                return false;       //  the cursor stays: this page is read again later
        }
    return td_cat_feed_next (actor, body, TD_CAT_ANSWERS_SYNC);
}
