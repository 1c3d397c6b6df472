/*  td_session_start — practice.create (POST /api/v1/practice/sessions, SESSION.md §2).
 *
 *  The questions come from other services, asked with the learner's own auth so their rules
 *  apply: flashcards and deck quizzes from srs `due` (the learner's cards), course quizzes from
 *  the catalog's `course.get` (the vocabulary items the learner may see). The call is kept while
 *  they answer (the actor thread never waits); the session and all its questions are then stored
 *  in one statement, so a session exists whole or not at all.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "td_json.h"
#include "td_log.h"
#include "td_mp.h"
#include "session/td_session.h"

#define LOG "session"
#define QUIZ_POOL   200                 //  cards read for a deck quiz
#define CHOICES     4

typedef struct {
    td_call_t *call;
    char user [TD_MAX_ID + 1];
    char type [16];
    char deck [TD_SESSION_DECK_MAX * 4 + 1];
    char course [40];
    char item [40];
    int size, fast_ms;
    json_t *visible;                //  placement: the grammar items the learner may see
} start_t;

//  A pool entry a quiz picks from: the prompt side, the answer side, its card (if any).
typedef struct {
    const char *front, *back, *card, *plural;
    json_t *item;                   //  course quiz: the catalog item (borrowed)
    const char *item_id;            //  the catalog item it comes from, if any (session.answered)
} entry_t;

//  Course quiz: the learner's cards of the quiz's items, asked of srs cards.from_item (as
//  system, for the learner; idempotent: existing cards are returned, missing ones made) so every
//  answer reviews a card: the forward card (German -> translation) for multiple choice, the
//  reverse card (translation -> German) for typed answers.
typedef struct {
    start_t *st;
    json_t *qs;                     //  the questions, question i <-> items[i]
    int pending;
    bool failed;
} batch_t;

typedef struct {
    batch_t *batch;
    size_t index;
} batch_slot_t;

static size_t
s_chars (const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char) *s & 0xC0) != 0x80;
    return n;
}

static int
s_int_field (json_t *body, const char *key, int lo, int hi, int dflt, int *out)
{
    json_t *v = json_object_get (body, key);
    if (!v) {
        *out = dflt;
        return 0;
    }
    if (!json_is_integer (v) || json_integer_value (v) < lo || json_integer_value (v) > hi)
        return -1;
    *out = (int) json_integer_value (v);
    return 0;
}

static void
s_shuffle (entry_t *e, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = randombytes_uniform ((uint32_t) i);
        entry_t t = e [i - 1];
        e [i - 1] = e [j];
        e [j] = t;
    }
}

static json_t *
s_question (const char *kind, const entry_t *e, json_t *prompt, json_t *expected)
{
    //  expected.item_id: the catalog item the question comes from, for session.answered
    if (e->item_id && *e->item_id && json_is_object (expected))
        json_object_set_new (expected, "item_id", json_string (e->item_id));
    return json_pack ("{s:s, s:s?, s:o, s:o}", "kind", kind, "card_id", e->card,
                      "prompt", prompt, "expected", expected);
}

//  Vocabulary questions over pool: even positions multiple choice (the German form -> its
//  translation among up to 4 from the same pool), odd ones typed (the translation -> the German
//  form with its article, and the plural when the pool knows it).
static json_t *
s_quiz (entry_t *pool, size_t n, int size)
{
    json_t *qs = json_array ();
    s_shuffle (pool, n);
    for (size_t i = 0; qs && i < n && (int) i < size; i++) {
        const entry_t *e = &pool [i];
        if (i % 2 == 0 || n < 2) {
            json_t *choices = json_array ();
            json_array_append_new (choices, json_string (e->back));
            for (size_t k = 0; k < n && json_array_size (choices) < CHOICES; k++) {
                bool dup = false;
                for (size_t c = 0; c < json_array_size (choices); c++)
                    dup |= strcmp (json_string_value (json_array_get (choices, c)), pool [k].back) == 0;
                if (!dup)
                    json_array_append_new (choices, json_string (pool [k].back));
            }
            size_t nc = json_array_size (choices);
            size_t at = randombytes_uniform ((uint32_t) nc);
            json_t *right = json_incref (json_array_get (choices, 0));
            json_array_remove (choices, 0);
            json_array_insert_new (choices, at, right);
            json_array_append_new (qs, s_question ("choice", e,
                json_pack ("{s:s, s:o}", "prompt", e->front, "choices", choices),
                json_pack ("{s:s, s:i}", "display", e->back, "choice", (int) at)));
        }
        else {
            char form [2 * TD_SESSION_ANSWER_MAX + 8];
            if (e->plural && *e->plural)
                snprintf (form, sizeof form, "%s, %s", e->front, e->plural);
            else
                snprintf (form, sizeof form, "%s", e->front);
            json_array_append_new (qs, s_question ("typed", e,
                json_pack ("{s:s}", "prompt", e->back),
                json_pack ("{s:s}", "display", form)));
        }
    }
    return qs;
}

//  The German plural with its article ("Hunde" -> "die Hunde"); NULL when there is none.
static char *
s_plural (const char *plural)
{
    if (!plural || !*plural || strcmp (plural, "-") == 0 || strlen (plural) > 200)
        return NULL;
    char buf [256];
    if (strncasecmp (plural, "die ", 4) == 0)
        snprintf (buf, sizeof buf, "%s", plural);
    else
        snprintf (buf, sizeof buf, "die %s", plural);
    return strdup (buf);
}

static void
s_store (td_actor_t *actor, start_t *st, json_t *questions)
{
    td_call_t *call = st->call;
    size_t n = json_array_size (questions);
    if (n == 0) {
        json_decref (questions);
        bool deck = !*st->course && !*st->item;
        td_call_error (call, TD_ERR_CONFLICT, deck? "deck": *st->item? "item_id": "course_id", "%s",
                       deck? "there is nothing to practise in this deck now"
                           : *st->item? "this grammar topic has no exercise to check"
                           : "this course has nothing for this kind of session");
        return;
    }
    char *text = json_dumps (questions, JSON_COMPACT);
    json_decref (questions);
    char size [24], fast [16];
    snprintf (size, sizeof size, "%zu", n);
    snprintf (fast, sizeof fast, "%d", st->fast_ms);
    const char *params [] = { st->user, st->type, *st->deck? st->deck: NULL,
                              *st->course? st->course: NULL, fast, size, text,
                              *st->item? st->item: NULL };
    PGresult *res = text? td_db_exec (td_actor_db (actor), td_call_rid (call),
        "WITH s AS (INSERT INTO practice_sessions (user_id, type, deck, course_id, fast_ms, total,"
        "   item_id) VALUES ($1, $2, $3, $4, $5::int, $6::int, $8) RETURNING id),"
        " q AS (INSERT INTO practice_questions (session_id, position, kind, card_id, prompt, expected)"
        "   SELECT s.id, (x.ord - 1)::int, x.e->>'kind', x.e->>'card_id', x.e->'prompt', x.e->'expected'"
        "   FROM s, jsonb_array_elements ($7::jsonb) WITH ORDINALITY x (e, ord) RETURNING 1)"
        " SELECT (SELECT id::text FROM s), (SELECT count (*) FROM q)", 8, params): NULL;
    free (text);
    if (!res || PQntuples (res) != 1) {
        if (res)
            PQclear (res);
        td_session_db_down (call);
        return;
    }
    char id [40];
    snprintf (id, sizeof id, "%s", PQgetvalue (res, 0, 0));
    PQclear (res);
    td_session_emit (actor, "session.started", st->user, id,
                     json_pack ("{s:s, s:s, s:i, s:s?, s:s?, s:s?}", "session_id", id,
                                "type", st->type, "size", (int) n,
                                "deck", *st->deck? st->deck: NULL,
                                "course_id", *st->course? st->course: NULL,
                                "item_id", *st->item? st->item: NULL));
    bool found = false;
    json_t *out = td_session_json (actor, td_call_rid (call), id, st->user, false, &found);
    if (!out)
        td_session_db_down (call);
    else
        td_session_reply (call, 201, out);
}

//  Pass another service's error on (its status and field), or 503 when it did not answer.
static bool
s_failed (td_call_t *call, const td_msg_t *reply, const td_error_t *err, const char *what,
          const char *field404)
{
    if (!reply) {
        td_call_error_retry (call, TD_ERR_UNAVAILABLE, 1, NULL, "%s cannot be reached now (%s); "
                             "try again", what, err? err->message: "no answer");
        return true;
    }
    int status = td_msg_status (reply);
    if (status == 200)
        return false;
    if (status == 404)
        td_call_error (call, TD_ERR_NOT_FOUND, field404, "%s", td_msg_error_message (reply));
    else
    if (status >= 500)
        td_call_error_retry (call, TD_ERR_UNAVAILABLE, 1, NULL, "%s answered %d: %s", what, status,
                             td_msg_error_message (reply));
    else
        td_call_error (call, td_msg_error (reply), *td_msg_error_field (reply)?
                       td_msg_error_field (reply): NULL, "%s", td_msg_error_message (reply));
    return true;
}

//  srs due -> flashcards (reviewed cards first, then new ones) or a deck quiz.
static void
s_on_due (td_actor_t *actor, void *arg, const td_msg_t *reply, const td_error_t *err)
{
    start_t *st = (start_t *) arg;
    if (s_failed (st->call, reply, err, "srs", "deck")) {
        free (st);
        return;
    }
    td_error_t jerr;
    json_t *body = td_mp_to_json (td_msg_body (reply), &jerr);
    json_t *items = json_object_get (body, "items");
    size_t n = json_array_size (items);
    entry_t *pool = calloc (n + 1, sizeof *pool);
    json_t *qs = NULL;
    if (pool) {
        size_t k = 0;
        for (int pass = 0; pass < 2; pass++)        //  due (reviewed before) first, then new
            for (size_t i = 0; i < n; i++) {
                json_t *c = json_array_get (items, i);
                bool fresh = json_integer_value (json_object_get (c, "reps")) == 0;
                const char *id = json_string_value (json_object_get (c, "id"));
                const char *front = json_string_value (json_object_get (c, "front"));
                const char *back = json_string_value (json_object_get (c, "back"));
                if (fresh == (pass == 1) && id && front && back
                &&  strlen (front) <= TD_SESSION_ANSWER_MAX && strlen (back) <= TD_SESSION_ANSWER_MAX)
                    pool [k++] = (entry_t) { .front = front, .back = back, .card = id,
                        .item_id = json_string_value (json_object_get (c, "item_id")) };
            }
        if (strcmp (st->type, "flashcards") == 0) {
            qs = json_array ();
            for (size_t i = 0; qs && i < k && (int) i < st->size; i++)
                json_array_append_new (qs, s_question ("flashcard", &pool [i],
                    json_pack ("{s:s}", "prompt", pool [i].front),
                    json_pack ("{s:s}", "display", pool [i].back)));
        }
        else
            qs = k >= 2? s_quiz (pool, k, st->size): json_array ();
    }
    if (qs)
        s_store (actor, st, qs);
    else
        td_call_error (st->call, TD_ERR_INTERNAL, NULL, "out of memory");
    free (pool);
    json_decref (body);
    free (st);
}

static void
s_batch_done (td_actor_t *actor, batch_t *b)
{
    if (b->failed) {
        json_decref (b->qs);
        td_call_error_retry (b->st->call, TD_ERR_UNAVAILABLE, 1, NULL,
                             "srs cannot be reached to find the quiz's cards now; try again");
    }
    else
        s_store (actor, b->st, b->qs);
    free (b->st);
    free (b);
}

static void
s_on_item_cards (td_actor_t *actor, void *arg, const td_msg_t *reply, const td_error_t *err)
{
    (void) err;
    batch_slot_t *slot = (batch_slot_t *) arg;
    batch_t *b = slot->batch;
    json_t *q = json_array_get (b->qs, slot->index);
    int status = reply? td_msg_status (reply): 0;
    if (status == 200 || status == 201) {
        td_error_t jerr;
        json_t *body = td_mp_to_json (td_msg_body (reply), &jerr);
        const char *want = strcmp (json_string_value (json_object_get (q, "kind")), "choice") == 0?
                           "forward": "reverse";
        size_t i;
        json_t *c;
        json_array_foreach (json_object_get (body, "items"), i, c)
            if (json_is_string (json_object_get (c, "kind"))
            &&  strcmp (json_string_value (json_object_get (c, "kind")), want) == 0)
                json_object_set (q, "card_id", json_object_get (c, "id"));
        json_decref (body);
    }
    else
        b->failed = true;
    free (slot);
    if (--b->pending == 0)
        s_batch_done (actor, b);
}

//  Send cards.from_item for the items of qs (pool[i] for question i); st and qs are the batch's.
static void
s_cards_for (td_actor_t *actor, start_t *st, json_t *qs, const entry_t *pool, const char *slug)
{
    batch_t *b = calloc (1, sizeof *b);
    if (!b) {
        json_decref (qs);
        td_call_error (st->call, TD_ERR_INTERNAL, NULL, "out of memory");
        free (st);
        return;
    }
    *b = (batch_t) { .st = st, .qs = qs, .pending = 1 };    //  1: held until all are sent
    for (size_t i = 0; i < json_array_size (qs) && !b->failed; i++) {
        batch_slot_t *slot = calloc (1, sizeof *slot);
        json_t *it = pool [i].item;
        json_t *body = json_pack ("{s:s, s:{s:O, s:s, s:O, s:O}}", "user_id", st->user,
            "item", "id", json_object_get (it, "id"), "kind", "vocabulary",
            "title", json_object_get (it, "title"), "content", json_object_get (it, "content"));
        if (body && slug && *slug && strlen (slug) <= TD_SESSION_DECK_MAX)
            json_object_set_new (body, "deck", json_string (slug));
        if (!slot) {
            json_decref (body);
            b->failed = true;
            break;
        }
        *slot = (batch_slot_t) { .batch = b, .index = i };
        b->pending++;
        if (td_session_send_as (actor, st->call, true, "srs", "cards.from_item", body,
                                s_on_item_cards, slot) != 0) {
            b->pending--;
            b->failed = true;
            free (slot);
        }
    }
    if (--b->pending == 0)
        s_batch_done (actor, b);
}

//  catalog course.get -> the course's vocabulary items, as a quiz.
static void
s_on_course (td_actor_t *actor, void *arg, const td_msg_t *reply, const td_error_t *err)
{
    start_t *st = (start_t *) arg;
    if (s_failed (st->call, reply, err, "the catalog", "course_id")) {
        free (st);
        return;
    }
    td_error_t jerr;
    json_t *course = td_mp_to_json (td_msg_body (reply), &jerr);
    size_t cap = 64, k = 0;
    entry_t *pool = calloc (cap, sizeof *pool);
    json_t *plurals = json_array ();            //  owns the plurals with their article
    json_t *mods = json_object_get (course, "modules"), *m, *l, *it;
    size_t i, j, x;
    json_array_foreach (mods, i, m) {
        json_array_foreach (json_object_get (m, "lessons"), j, l) {
            json_array_foreach (json_object_get (l, "items"), x, it) {
                json_t *c = json_object_get (it, "content");
                const char *kind = json_string_value (json_object_get (it, "kind"));
                const char *word = json_string_value (json_object_get (c, "word"));
                const char *tr = json_string_value (json_object_get (c, "translation"));
                const char *art = json_string_value (json_object_get (c, "article"));
                if (!pool || !kind || strcmp (kind, "vocabulary") || !word || !tr
                ||  strlen (word) > 200 || strlen (tr) > 200 || (art && strlen (art) > 16))
                    continue;
                if (k == cap) {
                    entry_t *more = realloc (pool, 2 * cap * sizeof *pool);
                    if (!more)
                        continue;
                    pool = more;
                    cap *= 2;
                }
                char form [256];
                snprintf (form, sizeof form, "%s%s%s", art && *art? art: "", art && *art? " ": "",
                          word);
                json_array_append_new (plurals, json_string (form));
                const char *front = json_string_value (json_array_get (plurals,
                                                       json_array_size (plurals) - 1));
                char *pl = s_plural (json_string_value (json_object_get (c, "plural")));
                const char *plural = NULL;
                if (pl) {
                    json_array_append_new (plurals, json_string (pl));
                    plural = json_string_value (json_array_get (plurals, json_array_size (plurals) - 1));
                    free (pl);
                }
                pool [k++] = (entry_t) { .front = front, .back = tr, .plural = plural, .item = it,
                                         .item_id = json_string_value (json_object_get (it, "id")) };
            }
        }
    }
    json_t *qs = pool && k >= 2? s_quiz (pool, k, st->size): json_array ();
    if (!qs) {
        td_call_error (st->call, TD_ERR_INTERNAL, NULL, "out of memory");
        free (st);
    }
    else
    if (json_array_size (qs) == 0)
        s_store (actor, st, qs), free (st);
    else
        s_cards_for (actor, st, qs, pool, json_string_value (json_object_get (course, "slug")));
    free (pool);
    json_decref (plurals);
    json_decref (course);
}

//  What a right answer to a grammar exercise looks like, for the learner after answering.
static json_t *
s_display (const json_t *q)
{
    const char *type = json_string_value (json_object_get (q, "type"));
    json_t *key = json_object_get (q, "answer"), *choices = json_object_get (q, "choices");
    if (!type)
        return json_string ("");
    if (strcmp (type, "single") == 0 && json_is_integer (key))
        return json_incref (json_array_get (choices, (size_t) json_integer_value (key)));
    if (strcmp (type, "short") == 0 && json_is_array (key))
        return json_incref (json_array_get (key, 0));
    if (strcmp (type, "multiple") == 0 && json_is_array (key)) {
        char buf [1024] = "";
        size_t i, o = 0;
        json_t *k;
        json_array_foreach (key, i, k) {
            const char *c = json_string_value (json_array_get (choices,
                                               (size_t) json_integer_value (k)));
            if (c && o < sizeof buf)
                o += (size_t) snprintf (buf + o, sizeof buf - o, "%s%s", i? ", ": "", c);
        }
        return json_string (buf);
    }
    if (strcmp (type, "numeric") == 0 && json_is_number (key)) {
        char buf [64];
        snprintf (buf, sizeof buf, "%g", json_number_value (key));
        return json_string (buf);
    }
    return json_string ("");
}

//  Subjective answers need a person or the LLM, not a drill.
static bool
s_objective (const json_t *q)
{
    const char *type = json_string_value (json_object_get (q, "type"));
    return json_is_object (q) && type && strcmp (type, "subjective") != 0;
}

//  A grammar exercise as a question: shown without its key, checked against it.
static json_t *
s_exercise (json_t *q, const char *level, const char *item_id)
{
    json_t *shown = json_deep_copy (q);
    json_object_del (shown, "answer");
    json_object_del (shown, "tolerance");
    json_object_del (shown, "explanation");
    json_object_del (shown, "scorecard");
    json_object_set_new (shown, "question_type", json_incref (json_object_get (q, "type")));
    json_object_del (shown, "type");
    if (level)
        json_object_set_new (shown, "level", json_string (level));
    json_t *expected = json_pack ("{s:o, s:O, s:s?, s:s?}", "display", s_display (q), "question", q,
                                  "level", level, "item_id", item_id);
    return json_pack ("{s:s, s:o, s:o}", "kind", "exercise", "prompt", shown, "expected", expected);
}

//  A grammar drill's questions, waiting for the topic's srs card.
typedef struct {
    start_t *st;
    json_t *qs;
} drill_t;

//  srs cards.from_item -> the topic's card: every answer of the drill reviews it (issue 6 §5:
//  each answer becomes a rating; FSRS-6 takes same-day reviews as short-term ones). Without a
//  card (srs down) the drill still runs, answers just review nothing.
static void
s_on_topic_card (td_actor_t *actor, void *arg, const td_msg_t *reply, const td_error_t *err)
{
    (void) err;
    drill_t *d = (drill_t *) arg;
    int status = reply? td_msg_status (reply): 0;
    json_t *body = status == 200 || status == 201? td_mp_to_json (td_msg_body (reply), NULL): NULL;
    json_t *card = json_object_get (json_array_get (json_object_get (body, "items"), 0), "id");
    size_t i;
    json_t *q;
    if (json_is_string (card))
        json_array_foreach (d->qs, i, q)
            json_object_set (q, "card_id", card);
    else
        td_warn ("session", td_call_rid (d->st->call),
                 "no srs card for grammar topic %s (%d): the drill reviews nothing", d->st->item,
                 status);
    json_decref (body);
    s_store (actor, d->st, d->qs);
    free (d->st);
    free (d);
}

//  catalog item.grading -> the grammar topic's objective exercises, in order.
static void
s_on_grammar (td_actor_t *actor, void *arg, const td_msg_t *reply, const td_error_t *err)
{
    start_t *st = (start_t *) arg;
    if (s_failed (st->call, reply, err, "the catalog", "item_id")) {
        free (st);
        return;
    }
    td_error_t jerr;
    json_t *item = td_mp_to_json (td_msg_body (reply), &jerr);
    const char *kind = json_string_value (json_object_get (item, "kind"));
    if (!json_is_true (json_object_get (item, "may_submit"))) {
        td_call_error (st->call, TD_ERR_NOT_FOUND, "item_id", "there is no such item");
        json_decref (item);
        free (st);
        return;
    }
    if (!kind || strcmp (kind, "grammar") != 0) {
        td_call_error (st->call, TD_ERR_INVALID_INPUT, "item_id", "item_id must be a grammar topic");
        json_decref (item);
        free (st);
        return;
    }
    json_t *qs = json_array ();
    size_t i;
    json_t *q;
    json_array_foreach (json_object_get (json_object_get (item, "content"), "exercises"), i, q)
        if (qs && s_objective (q) && (int) json_array_size (qs) < st->size)
            json_array_append_new (qs, s_exercise (q, NULL, st->item));
    drill_t *d = qs && json_array_size (qs) > 0? calloc (1, sizeof *d): NULL;
    json_t *body = d? json_pack ("{s:s, s:{s:O, s:s, s:O, s:O}}", "user_id", st->user,
        "item", "id", json_object_get (item, "item_id"), "kind", "grammar",
        "title", json_object_get (item, "title"), "content", json_object_get (item, "content")): NULL;
    json_decref (item);
    if (d && body) {
        *d = (drill_t) { .st = st, .qs = qs };
        if (td_session_send_as (actor, st->call, true, "srs", "cards.from_item", body,
                                s_on_topic_card, d) == 0)
            return;                 //  s_on_topic_card stores the drill
        free (d);
    }
    else {
        json_decref (body);
        free (d);
    }
    if (qs)
        s_store (actor, st, qs);
    else
        td_call_error (st->call, TD_ERR_INTERNAL, NULL, "out of memory");
    free (st);
}

#define PLACEMENT_PER_LEVEL 3
static const char *s_levels [] = { "A1", "A2", "B1", NULL };

//  Placement, second step: the course as system (answer keys included) -> up to 3 exercises per
//  level A1, A2, B1 from the grammar topics the learner may see, levels in order.
static void
s_on_place_keys (td_actor_t *actor, void *arg, const td_msg_t *reply, const td_error_t *err)
{
    start_t *st = (start_t *) arg;
    if (s_failed (st->call, reply, err, "the catalog", "course_id")) {
        json_decref (st->visible);
        free (st);
        return;
    }
    td_error_t jerr;
    json_t *course = td_mp_to_json (td_msg_body (reply), &jerr);
    json_t *qs = json_array ();
    for (int lv = 0; s_levels [lv] && qs; lv++) {
        json_t *pool = json_array ();
        size_t i, j, x, e;
        json_t *m, *l, *it, *q;
        json_array_foreach (json_object_get (course, "modules"), i, m)
            json_array_foreach (json_object_get (m, "lessons"), j, l)
                json_array_foreach (json_object_get (l, "items"), x, it) {
                    json_t *c = json_object_get (it, "content");
                    const char *id = json_string_value (json_object_get (it, "id"));
                    const char *level = json_string_value (json_object_get (c, "level"));
                    if (!id || !json_object_get (st->visible, id) || !level
                    ||  strcmp (level, s_levels [lv]) != 0)
                        continue;
                    json_array_foreach (json_object_get (c, "exercises"), e, q)
                        if (s_objective (q))
                            json_array_append_new (pool, json_pack ("{s:O, s:s}", "q", q,
                                                                    "item", id));
                }
        //  a random few of the level's exercises
        size_t n = json_array_size (pool);
        for (size_t k = 0; k < n && k < PLACEMENT_PER_LEVEL; k++) {
            size_t pick = k + randombytes_uniform ((uint32_t) (n - k));
            json_t *a = json_incref (json_array_get (pool, k)), *b = json_incref (json_array_get (pool, pick));
            json_array_set_new (pool, k, b);
            json_array_set_new (pool, pick, a);
            json_t *pick_k = json_array_get (pool, k);
            json_array_append_new (qs, s_exercise (json_object_get (pick_k, "q"), s_levels [lv],
                                   json_string_value (json_object_get (pick_k, "item"))));
        }
        json_decref (pool);
    }
    json_decref (course);
    json_decref (st->visible);
    st->visible = NULL;
    if (qs)
        s_store (actor, st, qs);
    else
        td_call_error (st->call, TD_ERR_INTERNAL, NULL, "out of memory");
    free (st);
}

//  Placement, first step: the course as the learner sees it (their access, their drip) -> the
//  grammar topics they may see; then the keys of those.
static void
s_on_place_view (td_actor_t *actor, void *arg, const td_msg_t *reply, const td_error_t *err)
{
    start_t *st = (start_t *) arg;
    if (s_failed (st->call, reply, err, "the catalog", "course_id")) {
        free (st);
        return;
    }
    td_error_t jerr;
    json_t *course = td_mp_to_json (td_msg_body (reply), &jerr);
    st->visible = json_object ();
    size_t i, j, x;
    json_t *m, *l, *it;
    json_array_foreach (json_object_get (course, "modules"), i, m)
        json_array_foreach (json_object_get (m, "lessons"), j, l)
            json_array_foreach (json_object_get (l, "items"), x, it) {
                const char *kind = json_string_value (json_object_get (it, "kind"));
                const char *id = json_string_value (json_object_get (it, "id"));
                if (kind && id && strcmp (kind, "grammar") == 0)
                    json_object_set_new (st->visible, id, json_true ());
            }
    json_decref (course);
    if (td_session_send_as (actor, st->call, true, "catalog", "course.get",
                            json_pack ("{s:s}", "id", st->course), s_on_place_keys, st) != 0) {
        td_call_error_retry (st->call, TD_ERR_UNAVAILABLE, 1, NULL,
                             "the placement test cannot be prepared now; try again");
        json_decref (st->visible);
        free (st);
    }
}

int
td_session_create (td_actor_t *self, td_call_t *call)
{
    char user [TD_MAX_ID + 1];
    if (!td_session_user (call, user, sizeof user))
        return TD_ACTOR_OK;
    json_t *body = td_session_body (call);
    if (!body)
        return td_call_error (call, TD_ERR_INVALID_INPUT, "body", "the body must be a JSON object"),
               TD_ACTOR_OK;
    static const char *keys [] = { "type", "deck", "course_id", "item_id", "size", "fast_ms", NULL };
    const char *key;
    json_t *v;
    json_object_foreach (body, key, v) {
        bool known = false;
        for (int i = 0; keys [i]; i++)
            known |= strcmp (key, keys [i]) == 0;
        if (!known) {
            td_call_error (call, TD_ERR_INVALID_INPUT, key, "unknown field");
            json_decref (body);
            return TD_ACTOR_OK;
        }
    }
    start_t *st = calloc (1, sizeof *st);
    if (!st) {
        json_decref (body);
        return td_call_error (call, TD_ERR_INTERNAL, NULL, "out of memory"), TD_ACTOR_OK;
    }
    st->call = call;
    snprintf (st->user, sizeof st->user, "%s", user);
    const char *type = json_string_value (json_object_get (body, "type"));
    json_t *deck = json_object_get (body, "deck"), *course = json_object_get (body, "course_id");
    json_t *item = json_object_get (body, "item_id");
    bool grammar = type && strcmp (type, "grammar") == 0;
    bool placement = type && strcmp (type, "placement") == 0;
    const char *bad = NULL, *why = NULL;
    if (!type || (strcmp (type, "flashcards") && strcmp (type, "vocabulary") && !grammar
                  && !placement))
        bad = "type", why = "type must be flashcards, vocabulary, grammar or placement";
    else
    if (placement && (!json_is_string (course) || !td_session_uuid (json_string_value (course))))
        bad = "course_id", why = "a placement test takes course_id, the id of a course";
    else
    if (placement && (deck || item))
        bad = deck? "deck": "item_id", why = "a placement test takes only course_id";
    else
    if (grammar && (!json_is_string (item) || !td_session_uuid (json_string_value (item))))
        bad = "item_id", why = "a grammar drill takes item_id, the id of a grammar topic";
    else
    if (item && !grammar)
        bad = "item_id", why = "item_id is for grammar drills only";
    else
    if (grammar && (deck || course))
        bad = deck? "deck": "course_id", why = "a grammar drill takes only item_id";
    else
    if (deck && (!json_is_string (deck) || json_string_length (deck) == 0
                 || s_chars (json_string_value (deck)) > TD_SESSION_DECK_MAX))
        bad = "deck", why = "deck must be 1 to 100 characters";
    else
    if (course && ((strcmp (type, "vocabulary") && !placement) || !json_is_string (course)
                   || !td_session_uuid (json_string_value (course))))
        bad = "course_id", why = "course_id must be a course id (vocabulary only)";
    else
    if (strcmp (type, "vocabulary") == 0 && !course == !deck)
        bad = "course_id", why = "a vocabulary quiz takes either course_id or deck";
    else
    if (s_int_field (body, "size", 1, TD_SESSION_SIZE_MAX, 20, &st->size))
        bad = "size", why = "size must be an integer from 1 to 100";
    else
    if (s_int_field (body, "fast_ms", 500, 600000, TD_SESSION_FAST_MS, &st->fast_ms))
        bad = "fast_ms", why = "fast_ms must be an integer from 500 to 600000";
    if (bad) {
        td_call_error (call, TD_ERR_INVALID_INPUT, bad, "%s", why);
        json_decref (body);
        free (st);
        return TD_ACTOR_OK;
    }
    snprintf (st->type, sizeof st->type, "%s", type);
    if (deck)
        snprintf (st->deck, sizeof st->deck, "%s", json_string_value (deck));
    if (course)
        snprintf (st->course, sizeof st->course, "%s", json_string_value (course));
    if (item)
        snprintf (st->item, sizeof st->item, "%s", json_string_value (item));
    json_decref (body);
    int rc;
    if (placement)
        rc = td_session_send (self, call, "catalog", "course.get",
                              json_pack ("{s:s}", "id", st->course), s_on_place_view, st);
    else
    if (grammar) {
        //  item.grading (system only) holds the answer keys; the learner's auth goes in its body
        //  so the catalog decides with its own rule whether they may open the topic
        td_error_t aerr;
        json_t *auth = td_mp_to_json (td_call_auth (call), &aerr);
        json_t *q = json_pack ("{s:s, s:o}", "item_id", st->item, "auth", auth? auth: json_null ());
        rc = td_session_send_as (self, call, true, "catalog", "item.grading", q, s_on_grammar, st);
    }
    else
    if (*st->course)
        rc = td_session_send (self, call, "catalog", "course.get",
                              json_pack ("{s:s}", "id", st->course), s_on_course, st);
    else {
        char limit [16];
        snprintf (limit, sizeof limit, "%d", QUIZ_POOL);     //  then due first, new after
        json_t *q = json_pack ("{s:s}", "limit", limit);
        if (q && *st->deck)
            json_object_set_new (q, "deck", json_string (st->deck));
        rc = td_session_send (self, call, "srs", "due", q, s_on_due, st);
    }
    if (rc != 0) {
        free (st);
        return td_call_error_retry (call, TD_ERR_UNAVAILABLE, 1, NULL,
                                    "the practice session cannot be prepared now; try again"),
               TD_ACTOR_OK;
    }
    td_call_keep (call);
    return TD_ACTOR_OK;
}
