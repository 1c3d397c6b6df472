/*  td_session — what the session actor's files share (SESSION.md): answer checking (pure, unit
 *  tested), the caller, JSON in and out, and the asynchronous calls to srs and the catalog.
 *
 *  The actor keeps no session in memory: sessions and their questions live in PostgreSQL
 *  (schema/0014_session.sql); the only in-memory thing is the calls waiting for srs or the
 *  catalog, and those are answered 503 if the actor ends (a retry then finds the stored state).
 */
#ifndef TD_SESSION_H
#define TD_SESSION_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include "td_actor.h"
#include "td_actor_call.h"

#define TD_SESSION_FAST_MS       5000        //  right and faster than this -> Easy (default)
#define TD_SESSION_ANSWER_MAX    1000        //  bytes of an answer
#define TD_SESSION_DECK_MAX      100         //  characters of a deck name
#define TD_SESSION_SIZE_MAX      100
#define TD_SESSION_CALL_MS       10000       //  srs / catalog calls

//  --- checking (td_session_check.c, pure) -------------------------------------------------------
//  Flashcard: the self-grade (again|hard|good|easy -> 1..4) or the typed back. Returns the
//  rating 1..4; *correct set. A typed answer is right when td_session_typed accepts it.
int td_session_grade_flashcard (const char *answer, const char *back, int duration_ms,
                                int fast_ms, bool *correct, char *feedback, size_t fsize);
//  A typed answer against the expected form "der Hund" or "der Hund, die Hunde": case and
//  spacing are ignored; when the expected form starts with an article the answer must have the
//  same one; when it has a plural the answer must give it (with its article). true if right;
//  feedback says what was wrong.
bool td_session_typed (const char *expected, const char *answer, char *feedback, size_t fsize);
//  The rating of an objective answer: wrong 1, right 3, right and under fast_ms 4.
int td_session_rating (bool correct, int duration_ms, int fast_ms);
//  "der", "die", "das" and the other German articles.
bool td_session_is_article (const char *word, size_t len);

//  Placement (adaptive A1 -> B1): the questions of each level are contiguous, levels in order.
//  A level is passed with at least ceil(2n/3) of its n questions right (the rest of it is then
//  skipped) and failed once that can no longer happen (the test ends there).
typedef struct {
    char level [8];
    int first, n, right, wrong;
} td_placement_level_t;
#define TD_PLACEMENT_GO_ON   0      //  the next question in order
#define TD_PLACEMENT_JUMP    1      //  *next = the first question of the next level
#define TD_PLACEMENT_DONE    2      //  finished; *result = the level reached ("pre-A1" if none)
int td_session_placement (const td_placement_level_t *lv, size_t count, size_t cur, int *next,
                          const char **result);

//  --- the actor (session.c) --------------------------------------------------------------------
typedef struct {
    td_acall_t *acall;
} td_session_state_t;

td_acall_t *td_session_acall (td_actor_t *actor);
//  The signed-in learner's id; false after answering 401 / 403.
bool td_session_user (td_call_t *call, char *user, size_t size);
//  The JSON body of the request (an object) or NULL.
json_t *td_session_body (td_call_t *call);
//  Reply with body (stolen). TD_ACTOR_OK.
int td_session_reply (td_call_t *call, int status, json_t *body);
int td_session_db_down (td_call_t *call);
bool td_session_uuid (const char *s);
//  Publish a session.* event (data stolen).
void td_session_emit (td_actor_t *actor, const char *type, const char *user, const char *subject,
                      json_t *data);
//  Send type to service with the caller's own auth and body (stolen); fn runs exactly once when
//  0 is returned.
int td_session_send (td_actor_t *actor, td_call_t *call, const char *service, const char *type,
                     json_t *body, td_acall_fn *fn, void *arg);
//  The same as system (for catalog item.grading, which is system only).
int td_session_send_as (td_actor_t *actor, td_call_t *call, bool system, const char *service,
                        const char *type, json_t *body, td_acall_fn *fn, void *arg);

//  --- verbs ------------------------------------------------------------------------------------
int td_session_create (td_actor_t *self, td_call_t *call);     //  td_session_start.c
int td_session_answer (td_actor_t *self, td_call_t *call);     //  td_session_answer.c
int td_session_get (td_actor_t *self, td_call_t *call);
int td_session_finish (td_actor_t *self, td_call_t *call);
//  The feed (td_session_feed.c): session.answered for a question answered now (once), and
//  answer.list {since?, limit?} -> {answers, next, more} (system only). kind: the event's name
//  of a session type ("vocabulary" is "vocab_quiz").
const char *td_session_kind (const char *type);
void td_session_emit_answered (td_actor_t *actor, const char *user, const char *session,
                               const char *question, const char *type, const char *item,
                               bool correct, const char *card);
int td_session_answer_list (td_actor_t *self, td_call_t *call);
//  The session as JSON ({..., question, history?}) or NULL (not found: *found false; db down).
json_t *td_session_json (td_actor_t *self, const char *rid, const char *id, const char *user,
                         bool history, bool *found);

#endif
