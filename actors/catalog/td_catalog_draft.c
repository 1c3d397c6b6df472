/*  td_catalog_draft — draft.get and draft.put: a learner's unsaved code for one item.
 *
 *  Why: learners type into an exercise from several tabs and devices; the editor saves the draft
 *  often, and a save that started from an older version must not silently overwrite a newer one.
 *  So each draft carries a version (the number of saves) and draft.put {id, body: {code, version}}
 *  succeeds only when `version` is the stored one (0 for the first save), in a single statement:
 *
 *      version 0:  INSERT ... ON CONFLICT (user_id, item_id) DO NOTHING RETURNING ...
 *      version n:  UPDATE ... SET version = version + 1 WHERE ... AND version = n RETURNING ...
 *
 *  Of two racing first saves the unique key lets one insert; of two racing updates from the same
 *  version, the second waits for the first's row lock and then re-checks its WHERE against the
 *  committed row (READ COMMITTED), which no longer matches. So exactly one returns a row; the
 *  others get none and answer 409 conflict (field "version"). Drafts are keyed by (caller, item
 *  id); the item id is opaque here (format checked only, no foreign key,
 *  schema/0005_catalog_user.sql).
 */
#include <ctype.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "td_access.h"
#include "td_actor.h"
#include "td_catalog.h"
#include "td_catalog_user.h"
#include "td_json.h"
#include "td_mp.h"

#define DRAFT_MAX_CODE  65536           //  bytes, CATALOG.md §3
#define DRAFT_ID_MAX    64              //  an item id: 1..64 of [A-Za-z0-9_-]

#define DRAFT_TIME(col) "to_char (" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

//  The item id of the path; false after answering 404 when it cannot be one.
static bool
s_item_id (td_call_t *call, char id [DRAFT_ID_MAX + 1])
{
    bool ok = td_mp_strcpy (td_mp_get (td_call_body (call), "id"), id, DRAFT_ID_MAX + 1) && id [0];
    for (const char *c = id; ok && *c; c++)
        ok = isalnum ((unsigned char) *c) || *c == '-' || *c == '_';
    if (!ok)
        td_call_error (call, TD_ERR_NOT_FOUND, "id", "there is no such item");
    return ok;
}

int
td_catalog_draft_get (td_actor_t *self, td_call_t *call)
{
    char user [TD_MAX_ID + 1], item [DRAFT_ID_MAX + 1];
    if (!td_cat_user (call, user, sizeof user, "drafts") || !s_item_id (call, item))
        return TD_ACTOR_OK;
    const char *params [] = { user, item };
    PGresult *res = td_db_exec (td_actor_db (self), td_call_rid (call),
        "SELECT code, version, " DRAFT_TIME ("updated_at")
        " FROM catalog_drafts WHERE user_id = $1 AND item_id = $2", 2, params);
    if (!res)
        return td_call_error (call, TD_ERR_UNAVAILABLE, NULL, "drafts cannot be read now"),
               TD_ACTOR_OK;
    if (PQntuples (res) != 1) {
        PQclear (res);
        return td_call_error (call, TD_ERR_NOT_FOUND, "id", "there is no draft for this item"),
               TD_ACTOR_OK;
    }
    json_t *j = json_pack ("{s:s, s:I, s:s}", "code", PQgetvalue (res, 0, 0),
                           "version", (json_int_t) strtoll (PQgetvalue (res, 0, 1), NULL, 10),
                           "updated_at", PQgetvalue (res, 0, 2));
    PQclear (res);
    td_cat_reply (call, 200, j);
    return TD_ACTOR_OK;
}

int
td_catalog_draft_put (td_actor_t *self, td_call_t *call)
{
    char user [TD_MAX_ID + 1], item [DRAFT_ID_MAX + 1];
    if (!td_cat_user (call, user, sizeof user, "drafts") || !s_item_id (call, item))
        return TD_ACTOR_OK;
    const msgpack_object *body = td_mp_get (td_call_body (call), "body");
    if (!body || body->type != MSGPACK_OBJECT_MAP)
        return td_call_error (call, TD_ERR_INVALID_INPUT, "body",
                              "the draft must be a JSON object {code, version}"), TD_ACTOR_OK;
    const char *code;
    size_t code_len;
    if (!td_mp_str (td_mp_get (body, "code"), &code, &code_len) || memchr (code, 0, code_len))
        return td_call_error (call, TD_ERR_INVALID_INPUT, "code", "code must be a string"),
               TD_ACTOR_OK;
    if (code_len > DRAFT_MAX_CODE)
        return td_call_error (call, TD_ERR_TOO_LARGE, "code",
                              "a draft holds at most %d bytes of code", DRAFT_MAX_CODE), TD_ACTOR_OK;
    int64_t version;
    if (!td_mp_int (td_mp_get (body, "version"), &version) || version < 0)
        return td_call_error (call, TD_ERR_INVALID_INPUT, "version",
                              "version must be the draft's current version, 0 for a first save"),
               TD_ACTOR_OK;
    char *text = strndup (code, code_len);
    if (!text)
        return td_call_error (call, TD_ERR_INTERNAL, NULL, "out of memory"), TD_ACTOR_OK;
    char vtext [24];
    snprintf (vtext, sizeof vtext, "%lld", (long long) version);
    const char *params [] = { user, item, text, vtext };
    PGresult *res = version == 0
        ? td_db_exec (td_actor_db (self), td_call_rid (call),
            "INSERT INTO catalog_drafts (user_id, item_id, code, version) VALUES ($1, $2, $3, 1)"
            " ON CONFLICT (user_id, item_id) DO NOTHING"
            " RETURNING version, " DRAFT_TIME ("updated_at"), 3, params)
        : td_db_exec (td_actor_db (self), td_call_rid (call),
            "UPDATE catalog_drafts SET code = $3, version = version + 1, updated_at = now()"
            " WHERE user_id = $1 AND item_id = $2 AND version = $4::bigint"
            " RETURNING version, " DRAFT_TIME ("updated_at"), 4, params);
    free (text);
    if (!res)
        return td_call_error (call, TD_ERR_UNAVAILABLE, NULL,
                              "the draft could not be saved now; try again"), TD_ACTOR_OK;
    if (PQntuples (res) != 1) {
        PQclear (res);
        return td_call_error (call, TD_ERR_CONFLICT, "version",
                              "the draft was saved elsewhere since version %lld; reload it",
                              (long long) version), TD_ACTOR_OK;
    }
    json_t *j = json_pack ("{s:I, s:s}",
                           "version", (json_int_t) strtoll (PQgetvalue (res, 0, 0), NULL, 10),
                           "updated_at", PQgetvalue (res, 0, 1));
    PQclear (res);
    td_cat_reply (call, 200, j);
    return TD_ACTOR_OK;
}
