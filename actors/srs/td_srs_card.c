/*  td_srs_card — the card verbs (SRS.md §3): create, get, preview, undo.
 *
 *  Every card is its owner's: another learner's id answers 404 exactly like a missing one. Undo
 *  restores the card as its last review log row found it and deletes that row, in one statement,
 *  so a crash between the two cannot happen and two undos cannot restore the same row twice.
 *  card.create has two forms: {front, back, deck} here, and {item_id, deck} (a catalog item the
 *  learner can see) in td_srs_items.c with the other cards made from catalog items.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "td_access.h"
#include "td_json.h"
#include "td_mp.h"
#include "srs/td_srs.h"

//  A text field of o: required (or optional with def), 1..max bytes, no NUL, not blank.
static bool
s_text (td_call_t *call, json_t *o, const char *key, size_t max, const char *def, const char **out)
{
    json_t *v = json_object_get (o, key);
    if (!v && def) {
        *out = def;
        return true;
    }
    const char *s = json_is_string (v)? json_string_value (v): NULL;
    size_t len = s? json_string_length (v): 0;
    bool blank = true;
    for (size_t i = 0; s && i < len; i++)
        if (s [i] != ' ' && s [i] != '\t' && s [i] != '\n' && s [i] != '\r')
            blank = false;
    if (!s || blank || len > max || strlen (s) != len) {
        td_call_error (call, TD_ERR_INVALID_INPUT, key, "%s must be text of 1 to %zu bytes",
                       key, max);
        return false;
    }
    *out = s;
    return true;
}

static bool
s_only_keys (td_call_t *call, json_t *o, const char *const *keys)
{
    const char *k;
    json_t *v;
    json_object_foreach (o, k, v) {
        bool known = false;
        for (int i = 0; keys [i] && !known; i++)
            known = strcmp (k, keys [i]) == 0;
        if (!known) {
            char field [64];
            snprintf (field, sizeof field, "%s", k);
            td_call_error (call, TD_ERR_INVALID_INPUT, field, "unknown field %s", field);
            return false;
        }
    }
    return true;
}

//  Answer a statement returning TD_SRS_CARD_COLS rows: status with the first, 404 when none.
static int
s_reply_card (td_call_t *call, PGresult *res, int status)
{
    if (!res)
        return td_srs_db_down (call);
    if (PQntuples (res) < 1) {
        PQclear (res);
        td_call_error (call, TD_ERR_NOT_FOUND, "id", "there is no such card");
        return TD_ACTOR_OK;
    }
    json_t *j = td_srs_card_row_json (res, 0);
    PQclear (res);
    return td_srs_reply (call, status, j);
}

int
td_srs_card_create (td_actor_t *self, td_call_t *call)
{
    char user [TD_MAX_ID + 1];
    if (!td_srs_user (call, user, sizeof user))
        return TD_ACTOR_OK;
    json_t *body = td_srs_body (call);
    if (!body) {
        td_call_error (call, TD_ERR_INVALID_INPUT, "body",
                       "a card is a JSON object {front, back, deck} or {item_id, deck}");
        return TD_ACTOR_OK;
    }
    if (json_object_get (body, "item_id")) {
        td_srs_card_from_catalog (self, call, user, body);
        json_decref (body);
        return TD_ACTOR_OK;
    }
    if (!json_object_get (body, "front") && !json_object_get (body, "back")) {
        td_call_error (call, TD_ERR_INVALID_INPUT, "item_id",
                       "a card is {front, back, deck} or {item_id, deck}");
        json_decref (body);
        return TD_ACTOR_OK;
    }
    static const char *keys [] = { "front", "back", "deck", NULL };
    const char *front, *back, *deck;
    if (s_only_keys (call, body, keys)
    &&  s_text (call, body, "front", TD_SRS_TEXT_MAX, NULL, &front)
    &&  s_text (call, body, "back", TD_SRS_TEXT_MAX, NULL, &back)
    &&  td_srs_deck (call, body, "default", &deck)) {
        const char *params [] = { user, deck, front, back };
        PGresult *res = td_db_exec (td_actor_db (self), td_call_rid (call),
            "WITH c AS (INSERT INTO srs_cards (user_id, deck, front, back)"
            " VALUES ($1, $2, $3, $4) RETURNING *),"
            " n AS (INSERT INTO srs_notified (user_id) VALUES ($1) ON CONFLICT DO NOTHING)"
            " SELECT " TD_SRS_CARD_COLS " FROM c",
            4, params);
        s_reply_card (call, res, 201);
    }
    json_decref (body);
    return TD_ACTOR_OK;
}

int
td_srs_card_get (td_actor_t *self, td_call_t *call)
{
    char user [TD_MAX_ID + 1], id [64];
    if (!td_srs_user (call, user, sizeof user))
        return TD_ACTOR_OK;
    if (!td_srs_param (call, "id", id, sizeof id) || !td_srs_uuid (id)) {
        td_call_error (call, TD_ERR_NOT_FOUND, "id", "there is no such card");
        return TD_ACTOR_OK;
    }
    const char *params [] = { user, id };
    PGresult *res = td_db_exec (td_actor_db (self), td_call_rid (call),
        "SELECT " TD_SRS_CARD_COLS " FROM srs_cards c WHERE c.user_id = $1 AND c.id = $2::uuid",
        2, params);
    return s_reply_card (call, res, 200);
}

//  The next state for each rating, at the time of the request, with the fuzz a review at this
//  instant would get (load balancing is left out: it depends on the other cards at review time).
int
td_srs_card_preview (td_actor_t *self, td_call_t *call)
{
    char user [TD_MAX_ID + 1], id [64];
    td_srs_card_t c;
    td_srs_settings_t set;
    if (!td_srs_user (call, user, sizeof user))
        return TD_ACTOR_OK;
    if (!td_srs_param (call, "id", id, sizeof id)) {
        td_call_error (call, TD_ERR_NOT_FOUND, "id", "there is no such card");
        return TD_ACTOR_OK;
    }
    if (!td_srs_card_load (self, call, user, id, &c))
        return TD_ACTOR_OK;
    if (!td_srs_settings_load (self, td_call_rid (call), user, &set))
        return td_srs_db_down (call);
    int64_t now = td_srs_now_ms ();
    if (c.f.last_review > now)
        now = c.f.last_review;
    static const char *names [] = { NULL, "again", "hard", "good", "easy" };
    json_t *out = json_object ();
    td_fsrs_fuzz_t fz = { .seed = td_fsrs_seed (c.id, now) };
    for (int r = 1; r <= 4; r++) {
        td_srs_card_t next = c;
        if (td_fsrs_review (&set.fsrs, &c.f, r, now, &fz, &next.f) != 0) {
            json_decref (out);
            td_call_error (call, TD_ERR_CONFLICT, "id", "this card's stored state cannot be scheduled");
            return TD_ACTOR_OK;
        }
        next.reps = c.reps + 1;
        next.lapses = c.lapses + (r == 1 && c.f.state == TD_FSRS_REVIEW);
        json_t *j = td_srs_card_json (&next, NULL, NULL);
        json_object_set_new (j, "interval_ms", json_integer (next.f.due - now));
        json_object_set_new (out, names [r], j);
    }
    char at [40];
    td_srs_time_format (now, at, sizeof at);
    json_object_set_new (out, "at", json_string (at));
    json_object_set_new (out, "retrievability", json_real (td_fsrs_retrievability (&set.fsrs, &c.f, now)));
    return td_srs_reply (call, 200, out);
}

int
td_srs_card_undo (td_actor_t *self, td_call_t *call)
{
    char user [TD_MAX_ID + 1], id [64];
    td_srs_card_t c;
    if (!td_srs_user (call, user, sizeof user))
        return TD_ACTOR_OK;
    if (!td_srs_param (call, "id", id, sizeof id)) {
        td_call_error (call, TD_ERR_NOT_FOUND, "id", "there is no such card");
        return TD_ACTOR_OK;
    }
    if (!td_srs_card_load (self, call, user, id, &c))
        return TD_ACTOR_OK;
    //  Restore only while the card is still as its last review left it (reps matches).
    char reps [16];
    snprintf (reps, sizeof reps, "%d", c.reps);
    const char *params [] = { user, c.id, reps };
    PGresult *res = td_db_exec (td_actor_db (self), td_call_rid (call),
        "WITH last AS (SELECT * FROM srs_reviews WHERE card_id = $2::uuid AND user_id = $1"
        "   ORDER BY id DESC LIMIT 1),"
        " del AS (DELETE FROM srs_reviews r USING last, srs_cards k"
        "   WHERE r.id = last.id AND k.id = last.card_id AND k.reps = $3::int RETURNING last.*),"
        " c AS (UPDATE srs_cards k SET state = del.prev_state, step = del.prev_step,"
        "   stability = del.prev_stability, difficulty = del.prev_difficulty, due = del.prev_due,"
        "   last_review = del.prev_last_review, reps = del.prev_reps, lapses = del.prev_lapses"
        "   FROM del WHERE k.id = del.card_id RETURNING k.*)"
        " SELECT " TD_SRS_CARD_COLS " FROM c", 3, params);
    if (res && PQntuples (res) == 0) {
        PQclear (res);
        td_call_error (call, TD_ERR_CONFLICT, "id", "this card has no review to undo");
        return TD_ACTOR_OK;
    }
    return s_reply_card (call, res, 200);
}
