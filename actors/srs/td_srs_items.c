/*  td_srs_items — cards made from catalog items (SRS.md §4): which cards an item gives, the one
 *  statement that stores them, and the three ways in:
 *    - cards.from_item   (system)  one item; the session actor, when a quiz or drill starts;
 *    - cards.from_items  (system)  a learner's batch; the catalog after an enrolment and from its
 *                                  catch-up sweep (CATALOG.md §enrolment cards);
 *    - POST /api/v1/cards {item_id}  a learner adding one item they can see.
 *
 *  Why the catalog sends the content rather than srs reading it: the catalog owns its tables and
 *  decides who may see what (drip, exam pools, org visibility); srs reading catalog_items would
 *  tie two actors to one schema and copy the visibility rule. So the batch carries {id, kind,
 *  title, content} as the catalog has them, and a learner's single item is asked of the catalog's
 *  item.grading (system verb: the item with the verdict for the forwarded auth), without blocking
 *  the actor (td_actor_call.h): 404 for an item the learner may not see, as the catalog says.
 *
 *  Rules: vocabulary gives two siblings, `forward` (article + word -> translation) and `reverse`;
 *  grammar, exercise and question one `item` card (front: the title) pointing to the item.
 *  (user_id, item_id, kind) is unique, so every path is idempotent, and a batch is one INSERT
 *  statement: all its cards or none.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "td_actor_call.h"
#include "td_call_json.h"
#include "td_json.h"
#include "td_log.h"
#include "td_mp.h"
#include "srs/td_srs.h"

#define LOG "srs"
#define S_BATCH_MAX     5000        //  items in one cards.from_items
#define S_WORD_MAX      4000        //  bytes of a word, translation or title on a card
#define S_LOOKUP_MS     5000        //  item.grading
#define S_SYSTEM_AUTH   "\x81\xa4" "kind" "\xa6" "system"   //  msgpack {"kind": "system"}

//  What an item gives.
typedef enum { S_ROWS_OK = 0, S_ROWS_BAD_ID, S_ROWS_BAD_KIND, S_ROWS_INCOMPLETE } s_rows_t;

static const char *
s_str (json_t *o, const char *key)
{
    json_t *v = json_object_get (o, key);
    return json_is_string (v) && json_string_length (v) > 0
           && strlen (json_string_value (v)) == json_string_length (v)? json_string_value (v): NULL;
}

static void
s_row (json_t *rows, const char *kind, const char *item, const char *group, const char *front,
       const char *back)
{
    json_array_append_new (rows, json_pack ("{s:s, s:s, s:s, s:s, s:s}", "kind", kind,
                                            "item_id", item, "grp", group, "front", front,
                                            "back", back));
}

//  Append to rows the cards item ({id, kind, title, content}) gives; *added their number.
static s_rows_t
s_item_rows (json_t *item, json_t *rows, int *added)
{
    *added = 0;
    const char *id = json_is_object (item)? s_str (item, "id"): NULL;
    if (!id || strlen (id) > TD_MAX_ID)
        return S_ROWS_BAD_ID;
    const char *kind = s_str (item, "kind");
    const char *title = s_str (item, "title");
    json_t *content = json_object_get (item, "content");
    char group [TD_MAX_ID + 16];
    snprintf (group, sizeof group, "item:%s", id);
    if (kind && strcmp (kind, "vocabulary") == 0) {
        const char *word = json_is_object (content)? s_str (content, "word"): NULL;
        const char *tr = json_is_object (content)? s_str (content, "translation"): NULL;
        const char *article = json_is_object (content)? s_str (content, "article"): NULL;
        if (!word || !tr || strlen (word) > S_WORD_MAX || strlen (tr) > S_WORD_MAX
        ||  (article && strlen (article) > 64))
            return S_ROWS_INCOMPLETE;
        char front [S_WORD_MAX + 80];
        snprintf (front, sizeof front, "%s%s%s", article? article: "", article? " ": "", word);
        //  word -> translation and its sibling translation -> word: never on the same day
        s_row (rows, "forward", id, group, front, tr);
        s_row (rows, "reverse", id, group, tr, front);
        *added = 2;
        return S_ROWS_OK;
    }
    if (kind && (strcmp (kind, "grammar") == 0 || strcmp (kind, "exercise") == 0
             ||  strcmp (kind, "question") == 0)) {
        //  a card that points to the item: the session actor shows the item itself
        char back [TD_MAX_ID + 32];
        snprintf (back, sizeof back, "catalog item %s", id);
        s_row (rows, "item", id, group, title && strlen (title) <= S_WORD_MAX? title: kind, back);
        *added = 1;
        return S_ROWS_OK;
    }
    return S_ROWS_BAD_KIND;
}

//  Store rows (s_row objects) as user's cards in deck: one statement, so all or none. The
//  number created (rows already there are left as they are), or -1 when the database failed.
static int
s_store (td_actor_t *self, const char *rid, const char *user, const char *deck, json_t *rows)
{
    if (json_array_size (rows) == 0)
        return 0;
    char *text = json_dumps (rows, JSON_COMPACT);
    if (!text)
        return -1;
    const char *params [] = { user, deck, text };
    PGresult *res = td_db_exec (td_actor_db (self), rid,
        "WITH r AS (SELECT * FROM json_to_recordset ($3::json)"
        "   AS x (kind text, item_id text, grp text, front text, back text)),"
        " ins AS (INSERT INTO srs_cards (user_id, deck, kind, item_id, sibling_group, front, back)"
        "   SELECT $1, $2, r.kind, r.item_id, r.grp, r.front, r.back FROM r"
        "   ON CONFLICT (user_id, item_id, kind) DO NOTHING RETURNING 1),"
        " n AS (INSERT INTO srs_notified (user_id) VALUES ($1) ON CONFLICT DO NOTHING)"
        " SELECT count (*)::text FROM ins", 3, params);
    free (text);
    if (!res)
        return -1;
    int created = PQntuples (res) == 1? atoi (PQgetvalue (res, 0, 0)): 0;
    PQclear (res);
    return created;
}

//  Answer {items: [the user's cards of item], created}: 201 when some were created, else 200.
static int
s_reply_item_cards (td_actor_t *self, td_call_t *call, const char *user, const char *item,
                    int created)
{
    const char *params [] = { user, item };
    PGresult *res = td_db_exec (td_actor_db (self), td_call_rid (call),
        "SELECT " TD_SRS_CARD_COLS " FROM srs_cards c WHERE c.user_id = $1 AND c.item_id = $2"
        " ORDER BY c.kind", 2, params);
    if (!res)
        return td_srs_db_down (call);
    json_t *items = json_array ();
    for (int r = 0; r < PQntuples (res); r++)
        json_array_append_new (items, td_srs_card_row_json (res, r));
    PQclear (res);
    return td_srs_reply (call, created > 0? 201: 200,
                         json_pack ("{s:o, s:i}", "items", items, "created", created));
}

//  ---------------------------------------------------------------------------------------------
//  The system verbs

//  The system caller's input: the request body itself, or its "body" when forwarded by the
//  bridge; NULL after answering 401/403 (anyone but system) or 400.
static json_t *
s_system_input (td_call_t *call, const char *verb, const char **user)
{
    if (!td_srs_system (call, verb, "the catalog and the session actor"))
        return NULL;
    td_error_t err;
    json_t *body = td_srs_body (call);
    if (!body) {
        json_t *top = td_mp_to_json (td_call_body (call), &err);
        if (top && json_is_object (top))
            body = top;
        else
            json_decref (top);
    }
    *user = body? s_str (body, "user_id"): NULL;
    if (!*user || strlen (*user) > TD_MAX_ID) {
        td_call_error (call, TD_ERR_INVALID_INPUT, "user_id", "user_id must be a user id");
        json_decref (body);
        return NULL;
    }
    return body;
}

int
td_srs_cards_from_item (td_actor_t *self, td_call_t *call)
{
    const char *user, *deck;
    json_t *body = s_system_input (call, "cards.from_item", &user);
    if (!body)
        return TD_ACTOR_OK;
    json_t *rows = json_array ();
    json_t *item = json_object_get (body, "item");
    int added;
    if (td_srs_deck (call, body, "default", &deck)) {
        s_rows_t r = s_item_rows (item, rows, &added);
        if (r == S_ROWS_BAD_ID)
            td_call_error (call, TD_ERR_INVALID_INPUT, "item.id",
                           "item must be {id, kind, title, content}");
        else if (r == S_ROWS_BAD_KIND)
            td_call_error (call, TD_ERR_INVALID_INPUT, "item.kind",
                           "item.kind must be vocabulary, grammar, exercise or question");
        else if (r == S_ROWS_INCOMPLETE)
            td_call_error (call, TD_ERR_INVALID_INPUT, "item.content",
                           "a vocabulary item needs content.word and content.translation");
        else {
            int created = s_store (self, td_call_rid (call), user, deck, rows);
            if (created < 0)
                td_srs_db_down (call);
            else
                s_reply_item_cards (self, call, user, s_str (item, "id"), created);
        }
    }
    json_decref (rows);
    json_decref (body);
    return TD_ACTOR_OK;
}

//  {user_id, deck?, items: [{id, kind, title, content}]} -> {created, cards, skipped}: items that
//  give no card (material, a word without a translation) are skipped, not refused, so one such
//  item never holds back a whole course.
int
td_srs_cards_from_items (td_actor_t *self, td_call_t *call)
{
    const char *user, *deck;
    json_t *body = s_system_input (call, "cards.from_items", &user);
    if (!body)
        return TD_ACTOR_OK;
    json_t *rows = json_array ();
    json_t *items = json_object_get (body, "items");
    if (!td_srs_deck (call, body, "default", &deck))
        goto done;
    if (!json_is_array (items) || json_array_size (items) > S_BATCH_MAX) {
        td_call_error (call, TD_ERR_INVALID_INPUT, "items",
                       "items must be a list of at most %d catalog items", S_BATCH_MAX);
        goto done;
    }
    int skipped = 0, added;
    size_t i;
    json_t *item;
    json_array_foreach (items, i, item) {
        s_rows_t r = s_item_rows (item, rows, &added);
        if (r == S_ROWS_BAD_ID) {
            char field [48];
            snprintf (field, sizeof field, "items[%zu].id", i);
            td_call_error (call, TD_ERR_INVALID_INPUT, field, "each item must be {id, kind, ...}");
            goto done;
        }
        skipped += r != S_ROWS_OK;
    }
    int created = s_store (self, td_call_rid (call), user, deck, rows);
    if (created < 0)
        td_srs_db_down (call);
    else
        td_srs_reply (call, created > 0? 201: 200,
                      json_pack ("{s:i, s:i, s:i}", "created", created,
                                 "cards", (int) json_array_size (rows), "skipped", skipped));
done:
    json_decref (rows);
    json_decref (body);
    return TD_ACTOR_OK;
}

//  ---------------------------------------------------------------------------------------------
//  POST /api/v1/cards {item_id, deck?}: a learner adding one catalog item

typedef struct {
    td_call_t *call;
    char user [TD_MAX_ID + 1];
    char item [64];
    char deck [TD_SRS_DECK_MAX * 4 + 1];
} s_add_t;

static void
s_on_item (td_actor_t *self, void *arg, const td_msg_t *reply, const td_error_t *err)
{
    s_add_t *a = arg;
    td_call_t *call = a->call;
    int status = reply? td_msg_status (reply): 0;
    if (!reply || status >= 500)
        td_call_error_retry (call, TD_ERR_UNAVAILABLE, 1, NULL,
                             "the catalog cannot be reached to find the item; try again (%s)",
                             reply? td_msg_error_message (reply): err? err->message: "no answer");
    else if (status == 404)
        td_call_error (call, TD_ERR_NOT_FOUND, "item_id", "there is no such item");
    else if (status != 200) {
        td_warn (LOG, td_call_rid (call), "item.grading answered %d: %s", status,
                 td_msg_error_message (reply));
        td_call_error_retry (call, TD_ERR_UNAVAILABLE, 1, NULL, "the catalog refused the look-up");
    }
    else {
        td_error_t jerr;
        json_t *item = td_mp_to_json (td_msg_body (reply), &jerr);
        json_t *rows = json_array ();
        int added = 0;
        if (!item || !json_is_true (json_object_get (item, "may_submit")))
            //  the catalog's verdict: the learner may not see it (org, draft, drip, exam pool)
            td_call_error (call, TD_ERR_NOT_FOUND, "item_id", "there is no such item");
        else {
            json_object_set_new (item, "id", json_string (a->item));
            if (s_item_rows (item, rows, &added) != S_ROWS_OK)
                td_call_error (call, TD_ERR_INVALID_INPUT, "item_id",
                               "this item gives no card (only vocabulary with a translation, "
                               "grammar, exercises and questions do)");
            else {
                int created = s_store (self, td_call_rid (call), a->user, a->deck, rows);
                if (created < 0)
                    td_srs_db_down (call);
                else
                    s_reply_item_cards (self, call, a->user, a->item, created);
            }
        }
        json_decref (rows);
        json_decref (item);
    }
    free (a);
}

int
td_srs_card_from_catalog (td_actor_t *self, td_call_t *call, const char *user, json_t *body)
{
    const char *deck;
    const char *item = s_str (body, "item_id");
    const char *k;
    json_t *v;
    json_object_foreach (body, k, v)
        if (strcmp (k, "item_id") != 0 && strcmp (k, "deck") != 0) {
            char field [64];
            snprintf (field, sizeof field, "%s", k);
            td_call_error (call, TD_ERR_INVALID_INPUT, field, "a card from a catalog item is "
                           "{item_id, deck}: send either item_id or front and back");
            return TD_ACTOR_OK;
        }
    if (!item || !td_srs_uuid (item)) {
        td_call_error (call, TD_ERR_INVALID_INPUT, "item_id", "item_id must be a catalog item id");
        return TD_ACTOR_OK;
    }
    if (!td_srs_deck (call, body, "default", &deck))
        return TD_ACTOR_OK;
    td_srs_state_t *st = td_actor_state (self);
    s_add_t *a = calloc (1, sizeof *a);
    msgpack_sbuffer mb;
    msgpack_sbuffer_init (&mb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &mb, msgpack_sbuffer_write);
    int rc = msgpack_pack_map (&pk, 2);
    rc |= td_mp_pack_kv_str (&pk, "item_id", item);
    rc |= td_mp_pack_str (&pk, "auth");
    rc |= msgpack_pack_object (&pk, *td_call_auth (call));     //  the learner's verified auth
    td_error_t err = { 0 };
    if (a) {
        a->call = call;
        snprintf (a->user, sizeof a->user, "%s", user);
        snprintf (a->item, sizeof a->item, "%s", item);
        snprintf (a->deck, sizeof a->deck, "%s", deck);
    }
    td_request_spec_t spec = { .rid = td_call_rid (call), .type = "item.grading",
                               .auth = S_SYSTEM_AUTH, .auth_size = sizeof S_SYSTEM_AUTH - 1,
                               .body = mb.data, .body_size = mb.size };
    if (!a || rc != 0 || !st || !st->catalog
    ||  td_acall_send (st->catalog, "catalog", &spec, S_LOOKUP_MS, s_on_item, a, &err) != 0) {
        free (a);
        td_call_error_retry (call, TD_ERR_UNAVAILABLE, 1, NULL,
                             "the catalog cannot be reached to find the item; try again");
    }
    else
        td_call_keep (call);
    msgpack_sbuffer_destroy (&mb);
    return TD_ACTOR_OK;
}

//  ---------------------------------------------------------------------------------------------
//  The catalog client's life cycle (td_srs_init / fini / tick)

static void
s_on_catalog (td_actor_t *self, zsock_t *sock)
{
    (void) sock;
    td_srs_state_t *st = td_actor_state (self);
    if (st && st->catalog)
        td_acall_dispatch (st->catalog, self);
}

int
td_srs_items_init (td_actor_t *self, td_srs_state_t *st)
{
    st->catalog = td_acall_new (td_config_broker_endpoint (td_actor_config (self)), LOG);
    if (!st->catalog || td_actor_watch (self, td_acall_sock (st->catalog), s_on_catalog) != 0) {
        td_acall_destroy (&st->catalog, self);
        return -1;
    }
    return 0;
}

void
td_srs_items_fini (td_actor_t *self, td_srs_state_t *st)
{
    td_acall_destroy (&st->catalog, self);      //  kept calls are answered 503 by their callback
}

void
td_srs_items_tick (td_actor_t *self)
{
    td_srs_state_t *st = td_actor_state (self);
    if (st && st->catalog)
        td_acall_expire (st->catalog, self);
}
