/*  td_srs_card — the card verbs (SRS.md §3): create, get, preview, undo, and cards made from
 *  catalog items.
 *
 *  Every card is its owner's: another learner's id answers 404 exactly like a missing one. Undo
 *  restores the card as its last review log row found it and deletes that row, in one statement,
 *  so a crash between the two cannot happen and two undos cannot restore the same row twice.
 *  cards.from_item is system-only (the catalog calls it when a learner enrols or adds an item)
 *  and idempotent: (user_id, item_id, kind) is unique, so calling it twice makes no new cards.
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

//  Characters (code points) of UTF-8 text.
static size_t
s_chars (const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char) *s & 0xC0) != 0x80;
    return n;
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
    td_srs_card_t c;
    td_srs_card_read (res, 0, &c);
    json_t *j = td_srs_card_json (&c, PQgetvalue (res, 0, 14), PQgetvalue (res, 0, 15));
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
                       "a card is a JSON object {front, back, deck}");
        return TD_ACTOR_OK;
    }
    static const char *keys [] = { "front", "back", "deck", NULL };
    const char *front, *back, *deck;
    if (s_only_keys (call, body, keys)
    &&  s_text (call, body, "front", TD_SRS_TEXT_MAX, NULL, &front)
    &&  s_text (call, body, "back", TD_SRS_TEXT_MAX, NULL, &back)
    &&  s_text (call, body, "deck", TD_SRS_DECK_MAX * 4, "default", &deck)) {
        if (s_chars (deck) > TD_SRS_DECK_MAX)
            td_call_error (call, TD_ERR_INVALID_INPUT, "deck", "deck must be 1 to %d characters",
                           TD_SRS_DECK_MAX);
        else {
            const char *params [] = { user, deck, front, back };
            PGresult *res = td_db_exec (td_actor_db (self), td_call_rid (call),
                "WITH c AS (INSERT INTO srs_cards (user_id, deck, front, back)"
                " VALUES ($1, $2, $3, $4) RETURNING *),"
                " n AS (INSERT INTO srs_notified (user_id) VALUES ($1) ON CONFLICT DO NOTHING)"
                " SELECT " TD_SRS_CARD_COLS " FROM c",
                4, params);
            s_reply_card (call, res, 201);
        }
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

//  ---------------------------------------------------------------------------------------------
//  cards.from_item (system only)

static int
s_insert_item_card (td_actor_t *self, td_call_t *call, json_t *items, const char *user,
                    const char *deck, const char *kind, const char *item, const char *group,
                    const char *front, const char *back)
{
    const char *params [] = { user, deck, kind, item, group, front, back };
    PGresult *res = td_db_exec (td_actor_db (self), td_call_rid (call),
        "WITH ins AS (INSERT INTO srs_cards (user_id, deck, kind, item_id, sibling_group, front, back)"
        "   VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (user_id, item_id, kind) DO NOTHING"
        "   RETURNING *),"
        " n AS (INSERT INTO srs_notified (user_id) VALUES ($1) ON CONFLICT DO NOTHING),"
        " c AS (SELECT * FROM ins UNION ALL SELECT * FROM srs_cards"
        "   WHERE user_id = $1 AND item_id = $4 AND kind = $3 AND NOT EXISTS (SELECT 1 FROM ins))"
        " SELECT " TD_SRS_CARD_COLS ", (SELECT count (*) FROM ins)::text FROM c", 7, params);
    if (!res)
        return -1;
    int created = 0;
    if (PQntuples (res) == 1) {
        td_srs_card_t c;
        td_srs_card_read (res, 0, &c);
        json_array_append_new (items, td_srs_card_json (&c, PQgetvalue (res, 0, 14),
                                                        PQgetvalue (res, 0, 15)));
        created = atoi (PQgetvalue (res, 0, 16));
    }
    PQclear (res);
    return created;
}

//  A string member of content, or NULL when absent / not a non-empty string.
static const char *
s_content_str (json_t *content, const char *key)
{
    json_t *v = json_object_get (content, key);
    return json_is_string (v) && json_string_length (v) > 0? json_string_value (v): NULL;
}

int
td_srs_cards_from_item (td_actor_t *self, td_call_t *call)
{
    td_error_t err;
    td_principal_t *p = td_principal_new (td_call_auth (call), &err);
    if (!p) {
        td_call_error (call, err.code, *err.field? err.field: NULL, "%s", err.message);
        return TD_ACTOR_OK;
    }
    td_principal_kind_t kind = td_principal_kind (p);
    td_principal_destroy (&p);
    if (kind != TD_PRINCIPAL_SYSTEM) {
        td_call_error (call, kind == TD_PRINCIPAL_ANONYMOUS? TD_ERR_UNAUTHORIZED: TD_ERR_FORBIDDEN,
                       NULL, "cards.from_item is for the catalog (system) only");
        return TD_ACTOR_OK;
    }
    //  The verb's input is the request body itself, or its "body" when forwarded by the bridge.
    json_t *body = td_srs_body (call);
    if (!body) {
        json_t *top = td_mp_to_json (td_call_body (call), &err);
        if (top && json_is_object (top))
            body = top;
        else
            json_decref (top);
    }
    json_t *items = json_array ();
    const char *user = NULL, *deck = "default", *item_id = NULL, *ikind = NULL, *title = NULL;
    json_t *item = body? json_object_get (body, "item"): NULL;
    json_t *content = item? json_object_get (item, "content"): NULL;
    if (!body || !json_is_string (json_object_get (body, "user_id"))
    ||  !(user = json_string_value (json_object_get (body, "user_id")))
    ||  !*user || strlen (user) > TD_MAX_ID) {
        td_call_error (call, TD_ERR_INVALID_INPUT, "user_id", "user_id must be a user id");
        goto done;
    }
    if (json_is_string (json_object_get (body, "deck"))
    &&  json_string_length (json_object_get (body, "deck")) > 0
    &&  s_chars (json_string_value (json_object_get (body, "deck"))) <= TD_SRS_DECK_MAX)
        deck = json_string_value (json_object_get (body, "deck"));
    if (!json_is_object (item) || !json_is_string (json_object_get (item, "id"))
    ||  !(item_id = json_string_value (json_object_get (item, "id"))) || !*item_id
    ||  strlen (item_id) > TD_MAX_ID) {
        td_call_error (call, TD_ERR_INVALID_INPUT, "item.id", "item must be {id, kind, title, content}");
        goto done;
    }
    ikind = json_is_string (json_object_get (item, "kind"))?
            json_string_value (json_object_get (item, "kind")): "";
    title = json_is_string (json_object_get (item, "title"))?
            json_string_value (json_object_get (item, "title")): NULL;
    char group [TD_MAX_ID + 16];
    snprintf (group, sizeof group, "item:%s", item_id);
    int made = 0, rc = 0;
    if (strcmp (ikind, "vocabulary") == 0) {
        const char *word = json_is_object (content)? s_content_str (content, "word"): NULL;
        const char *tr = json_is_object (content)? s_content_str (content, "translation"): NULL;
        const char *article = json_is_object (content)? s_content_str (content, "article"): NULL;
        if (!word || !tr || strlen (word) > 4000 || strlen (tr) > 4000) {
            td_call_error (call, TD_ERR_INVALID_INPUT, "item.content",
                           "a vocabulary item needs content.word and content.translation");
            goto done;
        }
        char front [8200];
        snprintf (front, sizeof front, "%s%s%s", article? article: "", article? " ": "", word);
        //  word -> translation and its sibling translation -> word: never on the same day.
        rc = s_insert_item_card (self, call, items, user, deck, "forward", item_id, group, front, tr);
        if (rc >= 0) {
            made += rc;
            rc = s_insert_item_card (self, call, items, user, deck, "reverse", item_id, group, tr, front);
        }
    }
    else
    if (strcmp (ikind, "grammar") == 0 || strcmp (ikind, "exercise") == 0
    ||  strcmp (ikind, "question") == 0) {
        //  A card that points to the item: the session actor shows the item itself.
        char back [TD_MAX_ID + 32];
        snprintf (back, sizeof back, "catalog item %s", item_id);
        const char *front = title && *title && strlen (title) <= 4000? title: ikind;
        rc = s_insert_item_card (self, call, items, user, deck, "item", item_id, group, front, back);
    }
    else {
        td_call_error (call, TD_ERR_INVALID_INPUT, "item.kind",
                       "item.kind must be vocabulary, grammar, exercise or question");
        goto done;
    }
    if (rc < 0) {
        td_srs_db_down (call);
        goto done;
    }
    made += rc;
    json_t *out = json_pack ("{s:o, s:i}", "items", items, "created", made);
    items = NULL;
    td_srs_reply (call, made > 0? 201: 200, out);
done:
    json_decref (items);
    json_decref (body);
    return TD_ACTOR_OK;
}
