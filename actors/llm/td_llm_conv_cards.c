/*  td_llm_conv_cards — detected words become SRS cards (issue 7 point 4, LLM.md §7):
 *  `POST /api/v1/tutor/sessions/{id}/cards` {"words": [word | {word, translation}]} (verb
 *  tutor.cards, the session's learner only).
 *
 *  A word that is one of the course's vocabulary entries (the session's snapshot) becomes that
 *  item's cards through srs `cards.from_item` (system trust, the learner named: srs makes the
 *  forward and reverse siblings, idempotent by item); any other word becomes one plain card through
 *  srs `card.create` with the learner's own auth (front: the word, back: its translation, given
 *  with the word or found in the session's analyses). srs's card.create is not idempotent, so each
 *  (learner, word) is claimed in llm_word_cards before srs is asked, completed with the card ids
 *  when srs answers, and released when it fails: asking twice makes the cards once, and a claim
 *  left by a crash is taken over after two minutes. Calls go through td_llm_conv_call (the
 *  actor's td_acall): the call is kept and answered when the last srs reply is in.
 *
 *  Answers 201 {session_id, items: [{word, item_id, card_ids, created}], created} when something
 *  was made, 200 when every word had its cards already, 503 when srs failed for any word (what
 *  was made stays made; asking again completes the rest).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "td_log.h"
#include "td_mp.h"
#include "td_llm_conv.h"

#define WORDS_MAX       50
#define WORD_MAX        100         //  characters
#define TRANSLATION_MAX 200

typedef struct {
    td_call_t *call;
    char rid [64], user [64], session [64];
    int remaining, failed, created;
    json_t *items;
    json_t *failures;
} s_batch_t;

typedef struct {
    s_batch_t *batch;
    char key [4 * WORD_MAX + 8];    //  folded
    char *word;
    char item_id [40];
} s_word_job_t;

static size_t
s_chars (const char *s)
{
    return td_llm_utf8_chars (s, strlen (s));
}

static void
s_batch_end (s_batch_t *b)
{
    if (b->failed) {
        char *list = json_dumps (b->failures, JSON_COMPACT);
        td_call_error_retry (b->call, TD_ERR_UNAVAILABLE, 1, NULL,
                             "srs could not make the cards of %s; ask again", list? list: "some words");
        free (list);
    }
    else
        td_llm_reply (b->call, b->created? 201: 200,
                      json_pack ("{s:s, s:O, s:i}", "session_id", b->session, "items", b->items,
                                 "created", b->created));
    json_decref (b->items);
    json_decref (b->failures);
    free (b);
}

static void
s_on_srs (td_actor_t *actor, void *arg, int status, json_t *body)
{
    s_word_job_t *j = (s_word_job_t *) arg;
    s_batch_t *b = j->batch;
    json_t *ids = json_array ();
    bool created = false;
    if (status == 200 || status == 201) {
        if (*j->item_id) {
            size_t i;
            json_t *c;
            json_array_foreach (json_object_get (body, "items"), i, c)
                if (json_is_string (json_object_get (c, "id")))
                    json_array_append (ids, json_object_get (c, "id"));
            created = json_integer_value (json_object_get (body, "created")) > 0;
        }
        else
        if (json_is_string (json_object_get (body, "id"))) {
            json_array_append (ids, json_object_get (body, "id"));
            created = true;
        }
    }
    char *ids_s = json_array_size (ids)? json_dumps (ids, JSON_COMPACT): NULL;
    PGresult *res = NULL;
    if (ids_s) {
        const char *params [] = { b->user, j->key, ids_s };
        res = td_db_exec (td_actor_db (actor), b->rid,
            "UPDATE llm_word_cards SET card_ids = $3::jsonb, done = true"
            " WHERE user_id = $1 AND word = $2", 3, params);
    }
    if (res) {
        PQclear (res);
        b->created += created;
        json_array_append_new (b->items, json_pack ("{s:s, s:s?, s:O, s:b}", "word", j->word,
                                                    "item_id", *j->item_id? j->item_id: NULL,
                                                    "card_ids", ids, "created", created));
    }
    else {
        td_warn ("llm", b->rid, "conversation: no card for '%s' (srs answered %d)", j->word, status);
        const char *params [] = { b->user, j->key };
        res = td_db_exec (td_actor_db (actor), b->rid,
            "DELETE FROM llm_word_cards WHERE user_id = $1 AND word = $2 AND NOT done", 2, params);
        if (res)
            PQclear (res);
        b->failed++;
        json_array_append_new (b->failures, json_string (j->word));
    }
    free (ids_s);
    json_decref (ids);
    free (j->word);
    free (j);
    if (--b->remaining == 0)
        s_batch_end (b);
}

//  Claim (user, key) for this request: true when srs must be asked; otherwise *row is the
//  recorded row ({item_id, card_ids, done}). -1: database down.
static int
s_claim (td_actor_t *actor, s_batch_t *b, const char *key, const char *item_id, json_t **row)
{
    const char *params [] = { b->user, key, *item_id? item_id: NULL };
    PGresult *res = td_db_exec (td_actor_db (actor), b->rid,
        "WITH c AS (INSERT INTO llm_word_cards AS w (user_id, word, item_id) VALUES ($1, $2, $3)"
        " ON CONFLICT (user_id, word) DO UPDATE SET created_at = now (), item_id = excluded.item_id"
        " WHERE NOT w.done AND w.created_at < now () - interval '2 minutes' RETURNING 1)"
        " SELECT (SELECT count (*) FROM c), (SELECT json_build_object ('item_id', item_id,"
        " 'card_ids', card_ids, 'done', done) FROM llm_word_cards WHERE user_id = $1 AND word = $2)",
        3, params);
    if (!res)
        return -1;
    int claimed = atoi (PQgetvalue (res, 0, 0)) > 0;
    json_error_t jerr;
    *row = claimed || PQgetisnull (res, 0, 1)? NULL: json_loads (PQgetvalue (res, 0, 1), 0, &jerr);
    PQclear (res);
    return claimed;
}

//  The translations the session's analyses gave, by folded word and lemma; and the words the
//  learner has cards of already (as "" : a word carded before needs no translation again).
static json_t *
s_translations (td_actor_t *actor, const char *rid, const char *session, const char *user)
{
    const char *params [] = { session };
    PGresult *res = td_db_exec (td_actor_db (actor), rid,
        "SELECT v->>'word', v->>'lemma', v->>'translation' FROM llm_tutor_messages m,"
        " jsonb_array_elements (m.analysis->'result'->'vocabulary') v"
        " WHERE m.session_id = $1::uuid AND m.analysis->>'status' = 'done'"
        " AND jsonb_typeof (m.analysis->'result'->'vocabulary') = 'array'"
        " AND coalesce (v->>'translation', '') <> '' ORDER BY m.seq LIMIT 2000", 1, params);
    json_t *map = json_object ();
    for (int i = 0; res && map && i < PQntuples (res); i++)
        for (int k = 0; k < 2; k++) {
            char key [4 * WORD_MAX + 8];
            td_llm_word_fold (PQgetvalue (res, i, k), strlen (PQgetvalue (res, i, k)), key, sizeof key);
            if (*key)
                json_object_set_new (map, key, json_string (PQgetvalue (res, i, 2)));
        }
    if (res)
        PQclear (res);
    const char *p2 [] = { user };
    res = map? td_db_exec (td_actor_db (actor), rid,
        "SELECT word FROM llm_word_cards WHERE user_id = $1 AND done LIMIT 5000", 1, p2): NULL;
    for (int i = 0; res && i < PQntuples (res); i++)
        if (!json_object_get (map, PQgetvalue (res, i, 0)))
            json_object_set_new (map, PQgetvalue (res, i, 0), json_string (""));
    if (res)
        PQclear (res);
    return map;
}

//  words: [{word, key, item (vocab entry) | translation}], or NULL with the 400 answered.
static json_t *
s_parse_words (td_call_t *call, const json_t *given, const json_t *vocab, const json_t *known_tr)
{
    if (!json_is_array (given) || json_array_size (given) < 1 || json_array_size (given) > WORDS_MAX) {
        td_call_error (call, TD_ERR_INVALID_INPUT, "words", "words must be a list of 1 to %d words",
                       WORDS_MAX);
        return NULL;
    }
    json_t *out = json_array (), *seen = json_object ();
    size_t i;
    json_t *w;
    json_array_foreach (given, i, w) {
        const char *word = json_string_value (json_is_object (w)? json_object_get (w, "word"): w);
        json_t *tr = json_is_object (w)? json_object_get (w, "translation"): NULL;
        const char *why = NULL;
        if (!word || !*word || s_chars (word) > WORD_MAX || !td_llm_printable (word)
        ||  strlen (word) != json_string_length (json_is_object (w)? json_object_get (w, "word"): w))
            why = "each word must be 1 to 100 printable characters";
        else
        if (tr && (!json_is_string (tr) || json_string_length (tr) < 1
                   || s_chars (json_string_value (tr)) > TRANSLATION_MAX
                   || !td_llm_printable (json_string_value (tr))))
            why = "a translation must be 1 to 200 printable characters";
        else
        if (json_is_object (w) && json_object_size (w) > (tr? 2u: 1u))
            why = "a word is a string or {word, translation}";
        char key [4 * WORD_MAX + 8] = "";
        if (!why)
            td_llm_word_fold (word, strlen (word), key, sizeof key);
        const json_t *entry = why? NULL: td_llm_vocab_find (vocab, word, NULL);
        const char *translation = tr? json_string_value (tr)
                                : json_string_value (json_object_get (known_tr, key));
        if (!why && !entry && !translation)
            why = "no translation is known for a word that is not in the course: send "
                  "{\"word\", \"translation\"}";
        if (why) {
            td_call_error (call, TD_ERR_INVALID_INPUT, "words", "%s (word %zu)", why, i + 1);
            json_decref (out);
            json_decref (seen);
            return NULL;
        }
        if (entry) {
            //  the card is the entry's: keyed by its word, so "Hund" and "Hunde" are one
            const char *base = json_string_value (json_object_get (json_object_get (entry, "content"), "word"));
            td_llm_word_fold (base, strlen (base), key, sizeof key);
        }
        if (json_object_get (seen, key))
            continue;
        json_object_set_new (seen, key, json_true ());
        json_t *job = json_pack ("{s:s, s:s}", "word", word, "key", key);
        if (entry)
            json_object_set (job, "entry", (json_t *) entry);
        else
            json_object_set_new (job, "translation", json_string (translation));
        json_array_append_new (out, job);
    }
    json_decref (seen);
    return out;
}

//  Ask srs for one word's cards; 0 when sent (s_on_srs runs later).
static int
s_send (td_actor_t *actor, s_batch_t *b, const json_t *job, const msgpack_sbuffer *auth)
{
    s_word_job_t *j = (s_word_job_t *) calloc (1, sizeof *j);
    if (!j)
        return -1;
    j->batch = b;
    j->word = strdup (json_string_value (json_object_get (job, "word")));
    if (!j->word) {
        free (j);
        return -1;
    }
    snprintf (j->key, sizeof j->key, "%s", json_string_value (json_object_get (job, "key")));
    json_t *entry = json_object_get (job, "entry");
    int rc;
    if (entry) {
        snprintf (j->item_id, sizeof j->item_id, "%s", json_string_value (json_object_get (entry, "item_id")));
        rc = td_llm_conv_call (actor, "srs", "cards.from_item", NULL, 0,
            json_pack ("{s:s, s:s, s:{s:O, s:s, s:O, s:O}}", "user_id", b->user, "deck", "conversation",
                       "item", "id", json_object_get (entry, "item_id"), "kind", "vocabulary",
                       "title", json_object_get (entry, "title"), "content",
                       json_object_get (entry, "content")), s_on_srs, j);
    }
    else
        rc = td_llm_conv_call (actor, "srs", "card.create", auth->data, auth->size,
            json_pack ("{s:{s:s, s:O, s:s}}", "body", "front", j->word, "back",
                       json_object_get (job, "translation"), "deck", "conversation"), s_on_srs, j);
    if (rc != 0) {
        free (j->word);
        free (j);
        return -1;
    }
    return 0;                       //  sent: s_on_srs owns j
}

int
td_llm_tutor_cards (td_actor_t *actor, td_call_t *call)
{
    char user [64], id [64];
    PGresult *sess = td_llm_tutor_own (actor, call, user, sizeof user, id, sizeof id);
    if (!sess)
        return TD_ACTOR_OK;
    json_error_t jerr;
    json_t *vocab = PQgetisnull (sess, 0, 5)? NULL: json_loads (PQgetvalue (sess, 0, 5), 0, &jerr);
    PQclear (sess);
    json_t *body = td_llm_body (call);
    json_t *tr = s_translations (actor, td_call_rid (call), id, user);
    json_t *words = body? s_parse_words (call, json_object_get (body, "words"), vocab, tr): NULL;
    if (!body)
        td_call_error (call, TD_ERR_INVALID_INPUT, "body", "the body must be {\"words\": [...]}");
    json_decref (body);
    json_decref (tr);
    json_decref (vocab);
    if (!words)
        return TD_ACTOR_OK;
    s_batch_t *b = (s_batch_t *) calloc (1, sizeof *b);
    msgpack_sbuffer auth;
    msgpack_sbuffer_init (&auth);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &auth, msgpack_sbuffer_write);
    if (!b || msgpack_pack_object (&pk, *td_call_auth (call)) != 0) {
        free (b);
        json_decref (words);
        msgpack_sbuffer_destroy (&auth);
        return td_call_error (call, TD_ERR_INTERNAL, NULL, "out of memory"), TD_ACTOR_OK;
    }
    b->call = call;
    b->items = json_array ();
    b->failures = json_array ();
    snprintf (b->rid, sizeof b->rid, "%s", td_call_rid (call));
    snprintf (b->user, sizeof b->user, "%s", user);
    snprintf (b->session, sizeof b->session, "%s", id);
    b->remaining = 1;               //  this function's own hold, released at the end
    bool db_down = false;
    size_t i;
    json_t *job;
    json_array_foreach (words, i, job) {
        json_t *entry = json_object_get (job, "entry");
        const char *item_id = entry? json_string_value (json_object_get (entry, "item_id")): "";
        const char *word = json_string_value (json_object_get (job, "word"));
        json_t *row = NULL;
        int claimed = s_claim (actor, b, json_string_value (json_object_get (job, "key")), item_id, &row);
        if (claimed < 0) {
            db_down = true;
            break;
        }
        if (claimed) {
            b->remaining++;
            if (s_send (actor, b, job, &auth) != 0) {
                b->remaining--;
                const char *params [] = { b->user, json_string_value (json_object_get (job, "key")) };
                PGresult *res = td_db_exec (td_actor_db (actor), b->rid,
                    "DELETE FROM llm_word_cards WHERE user_id = $1 AND word = $2 AND NOT done", 2, params);
                if (res)
                    PQclear (res);
                b->failed++;
                json_array_append_new (b->failures, json_string (word));
            }
        }
        else
        if (json_is_true (json_object_get (row, "done")))
            json_array_append_new (b->items, json_pack ("{s:s, s:O, s:O, s:b}", "word", word,
                "item_id", json_object_get (row, "item_id"), "card_ids",
                json_object_get (row, "card_ids"), "created", false));
        else {
            b->failed++;            //  another request is making them right now
            json_array_append_new (b->failures, json_string (word));
        }
        json_decref (row);
    }
    json_decref (words);
    msgpack_sbuffer_destroy (&auth);
    if (db_down && b->remaining == 1) {
        json_decref (b->items);
        json_decref (b->failures);
        free (b);
        return td_llm_db_down (call);
    }
    if (db_down) {
        b->failed++;
        json_array_append_new (b->failures, json_string ("(the database failed)"));
    }
    if (b->remaining > 1)
        td_call_keep (call);
    if (--b->remaining == 0)
        s_batch_end (b);
    return TD_ACTOR_OK;
}
