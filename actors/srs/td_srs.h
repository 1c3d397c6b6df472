/*  td_srs — what the srs actor's source files share (SRS.md): the caller, JSON in and out, a
 *  card row, a learner's settings, times as RFC 3339.
 *
 *  The actor keeps no state between requests: every card, review and setting lives in
 *  PostgreSQL (schema/0009_srs.sql), so a restarted actor (or a second srs process) carries on
 *  exactly where the last one stopped. Scheduling itself is td_fsrs (pure); these files only
 *  load, validate, store and answer.
 */
#ifndef TD_SRS_H
#define TD_SRS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include "td_actor.h"
#include "td_limits.h"
#include "srs/td_fsrs.h"

#define TD_SRS_TEXT_MAX     16384       //  bytes of a card's front or back
#define TD_SRS_DECK_MAX     100         //  characters of a deck name
#define TD_SRS_CRID_MAX     128         //  bytes of a client_review_id
#define TD_SRS_TZ_MAX       64

//  A learner's settings: the scheduler's parameters plus the queue's.
typedef struct {
    td_fsrs_params_t fsrs;
    int new_per_day;
    char timezone [TD_SRS_TZ_MAX];
    bool custom_weights;            //  fitted by the optimizer (weights column not NULL)
} td_srs_settings_t;

//  A card as stored.
typedef struct {
    char id [40];
    char deck [TD_SRS_DECK_MAX * 4 + 1];
    char kind [16];
    char item_id [TD_MAX_ID + 1];
    char sibling_group [TD_MAX_ID + 16];
    td_fsrs_card_t f;
    int reps, lapses;
    int64_t created_at;
} td_srs_card_t;

//  The columns td_srs_card_read expects, in order, from srs_cards aliased c.
#define TD_SRS_CARD_COLS \
    "c.id::text, c.deck, c.kind, coalesce (c.item_id, ''), coalesce (c.sibling_group, ''), " \
    "c.state::text, c.step::text, c.stability::text, c.difficulty::text, " \
    "round (extract (epoch FROM c.due) * 1000)::bigint::text, " \
    "coalesce (round (extract (epoch FROM c.last_review) * 1000)::bigint, 0)::text, " \
    "c.reps::text, c.lapses::text, round (extract (epoch FROM c.created_at) * 1000)::bigint::text, " \
    "c.front, c.back"
#define TD_SRS_CARD_NCOLS 16

//  The actor's state (td_srs_init): the optimizer's return socket and running job, and which
//  statements are prepared on the current connection.
typedef struct {
    zsock_t *pull;
    char endpoint [96];
    struct td_srs_job *running;
    PGconn *prepared_on;
    uint32_t prepared;              //  bit n: statement TD_SRS_STMT n is prepared on it
    struct td_acall *catalog;       //  item.grading look-ups for POST /cards {item_id}
} td_srs_state_t;

//  Prepared statements of the hot paths (review, due).
typedef enum {
    TD_SRS_STMT_DUE = 0,
    TD_SRS_STMT_CARD_SETTINGS,
    TD_SRS_STMT_REVIEW_WRITE,
    TD_SRS_STMT_PICK,
    TD_SRS_STMT_REPLAY,
    TD_SRS_STMT__COUNT
} td_srs_stmt_t;

//  td_db_exec, but as a statement prepared once per connection (planning these CTEs costs about
//  as much as running them). Falls back to td_db_exec (so errors, SQLSTATE and reconnection are
//  td_db's) whenever the prepared path fails. The result is the caller's.
PGresult *td_srs_exec (td_actor_t *self, const char *rid, td_srs_stmt_t stmt, const char *sql,
                       int n, const char *const *params);

//  The signed-in user's id; false after answering 401/403 (API keys and system have no cards).
bool td_srs_user (td_call_t *call, char *user, size_t size);
//  True when the caller is the system; false after answering 401 / 403 (naming verb) or 400.
bool td_srs_system (td_call_t *call, const char *verb, const char *who);
//  The forwarded JSON body ("body"), a new object; NULL when absent or not an object.
json_t *td_srs_body (td_call_t *call);
//  A top-level string parameter (path or query); false when absent or too long.
bool td_srs_param (td_call_t *call, const char *key, char *buf, size_t size);
bool td_srs_uuid (const char *s);

//  Replies; each answers and returns TD_ACTOR_OK. json replies steal body.
int td_srs_reply (td_call_t *call, int status, json_t *body);
int td_srs_db_down (td_call_t *call);

//  Row r of a TD_SRS_CARD_COLS result into *card (front/back are read by the caller from
//  columns 14, 15).
void td_srs_card_read (PGresult *res, int r, td_srs_card_t *card);
//  The card as JSON: {id, deck, kind, item_id, front, back, state, step, stability, difficulty,
//  due, last_review, reps, lapses, created_at}; front/back may be NULL (left out).
json_t *td_srs_card_json (const td_srs_card_t *card, const char *front, const char *back);
//  Row r of a TD_SRS_CARD_COLS result as that JSON, front and back included.
json_t *td_srs_card_row_json (PGresult *res, int r);
//  The "deck" of o: absent gives def; else 1..TD_SRS_DECK_MAX characters of text, or false after
//  answering 400 deck.
bool td_srs_deck (td_call_t *call, json_t *o, const char *def, const char **deck);
//  Load the caller's card (404 / 503 answered when false).
bool td_srs_card_load (td_actor_t *self, td_call_t *call, const char *user, const char *id,
                       td_srs_card_t *card);

//  The columns td_srs_settings_from_row reads, from srs_settings aliased s (NULL: defaults).
#define TD_SRS_SETTINGS_COLS \
    "s.desired_retention::text, array_to_string (s.learning_steps, ','), " \
    "array_to_string (s.relearning_steps, ','), s.maximum_interval::text, " \
    "s.enable_fuzzing::text, s.new_per_day::text, s.timezone, " \
    "coalesce (array_to_string (s.weights, ','), '')"
//  Settings from row r, columns col.. (TD_SRS_SETTINGS_COLS); defaults when col is NULL.
void td_srs_settings_from_row (PGresult *res, int r, int col, td_srs_settings_t *s);
//  The learner's settings (defaults when none stored); false when the database failed.
bool td_srs_settings_load (td_actor_t *self, const char *rid, const char *user,
                           td_srs_settings_t *s);
json_t *td_srs_settings_json (const td_srs_settings_t *s);

//  Times.
int64_t td_srs_now_ms (void);
//  RFC 3339 UTC with milliseconds into buf (>= 32 bytes).
void td_srs_time_format (int64_t ms, char *buf, size_t size);
//  Parse RFC 3339 ("2026-11-22T10:00:00Z", fractions, offsets); false when malformed.
bool td_srs_time_parse (const char *s, int64_t *ms);

//  Verbs.
int td_srs_card_create (td_actor_t *self, td_call_t *call);
int td_srs_card_get (td_actor_t *self, td_call_t *call);
int td_srs_card_preview (td_actor_t *self, td_call_t *call);
int td_srs_card_undo (td_actor_t *self, td_call_t *call);
int td_srs_cards_from_item (td_actor_t *self, td_call_t *call);
int td_srs_cards_from_items (td_actor_t *self, td_call_t *call);
//  POST /api/v1/cards {item_id, deck?} (td_srs_items.c): body is the caller's, user signed in.
int td_srs_card_from_catalog (td_actor_t *self, td_call_t *call, const char *user, json_t *body);
//  The catalog client of td_srs_items.c, from td_srs_init / td_srs_fini / td_srs_tick.
int td_srs_items_init (td_actor_t *self, td_srs_state_t *st);
void td_srs_items_fini (td_actor_t *self, td_srs_state_t *st);
void td_srs_items_tick (td_actor_t *self);
int td_srs_review (td_actor_t *self, td_call_t *call);
int td_srs_due (td_actor_t *self, td_call_t *call);
int td_srs_settings_get (td_actor_t *self, td_call_t *call);
int td_srs_settings_put (td_actor_t *self, td_call_t *call);
//  The morning srs.due notice (tick), and the same on demand (system only: operators, tests).
void td_srs_tick (td_actor_t *self);
int td_srs_due_notify (td_actor_t *self, td_call_t *call);
//  The optimizer job (td_srs_opt.c) and the actor state it needs.
int td_srs_optimize (td_actor_t *self, td_call_t *call);
int td_srs_init (td_actor_t *self);
void td_srs_fini (td_actor_t *self);

#endif
