/*  td_catalog_snippet — snippet.*: a user's own saved pieces of code, searchable and comparable.
 *
 *  Why: learners keep the code they want to reuse (a parser they wrote, a SQL idiom) and need to
 *  find it again by words, and to notice that they already saved nearly the same thing. Verbs
 *  (CATALOG.md §3), every one scoped to the caller: another user's snippet answers 404, exactly
 *  like one that does not exist, so ids reveal nothing.
 *
 *    snippet.create {body: {title, description?, language, code}}   201 snippet
 *    snippet.get    {id}                                             200 snippet
 *    snippet.update {id, body: {title?, description?, language?, code?}} 200 snippet
 *    snippet.delete {id}                                             204
 *    snippet.star / snippet.unstar {id}                              200 snippet
 *    snippet.list   {q?, starred?, limit?, cursor?}                  200 {items, next_cursor}
 *    snippet.similar {id}                                            200 {items}
 *
 *  A snippet is {id, title, description, language, code, starred, created_at, updated_at}. List
 *  and similar items are summaries: the same without `code`, with `preview` (its first 200
 *  characters) instead, so a page of 100 stays far below the message limit; list items found by
 *  `q` add `rank`, similar items add `similarity`.
 *
 *  Search: catalog_snippets.search is a generated tsvector (title weight A, description B, code
 *  C, 'simple' configuration; schema/0005_catalog_user.sql) with a GIN index; q goes through
 *  websearch_to_tsquery (quotes, or, -not, as in a search box) and results are ordered by ts_rank,
 *  so a word in a title ranks above the same word only in code. Pages are keyset cursors: newest
 *  first by seq ("<seq>"), or by (rank, seq) when searching ("<rank>:<seq>"); a float4 rank
 *  prints exactly and parses back to the same value, so no row is skipped or repeated.
 *
 *  Similar: pg_trgm similarity of title + code (the first 8 KiB of it, to bound the work) between
 *  the snippet and each of the owner's other snippets; the 10 best at or above 0.4.
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

#define SNIP_TITLE_MAX      200         //  characters
#define SNIP_DESC_MAX       2000        //  characters
#define SNIP_CODE_MAX       65536       //  bytes
#define SNIP_Q_MAX          200         //  characters of a search
#define SNIP_LIST_DEFAULT   20
#define SNIP_LIST_MAX       100
#define SNIP_SIMILAR_MAX    "10"
#define SNIP_SIMILAR_MIN    "0.4"
#define SNIP_SIMILAR_TEXT   "8192"
#define SNIP_PREVIEW        "200"

static const char *s_languages [] = {
    "python", "c", "cpp", "javascript", "typescript", "java", "go", "rust", "sql", "bash",
    "html", "css", "json", "markdown", "text", NULL
};

#define SNIP_TIME(col) "to_char (" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
//  Columns 0..7 of every snippet answer; code (4) or its preview, by the caller's choice.
#define SNIP_COLS(code) "id::text, title, description, language, " code ", starred::text, " \
    SNIP_TIME ("created_at") ", " SNIP_TIME ("updated_at")
#define SNIP_FULL       SNIP_COLS ("code")
#define SNIP_SUMMARY    SNIP_COLS ("left (code, " SNIP_PREVIEW ")")

//  ---------------------------------------------------------------------------------------------
//  Helpers

//  The snippet id of the path (a UUID, lowercased); false after answering 404.
static bool
s_snippet_id (td_call_t *call, char id [37])
{
    bool ok = td_mp_strcpy (td_mp_get (td_call_body (call), "id"), id, 37) && strlen (id) == 36;
    for (int i = 0; ok && i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        ok = dash? id [i] == '-': isxdigit ((unsigned char) id [i]) != 0;
        id [i] = (char) tolower ((unsigned char) id [i]);
    }
    if (!ok)
        td_call_error (call, TD_ERR_NOT_FOUND, "id", "there is no such snippet");
    return ok;
}

//  Characters (code points) of valid UTF-8 (td_mp_check has validated every str).
static size_t
s_chars (const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char) s [i] & 0xC0) != 0x80;
    return n;
}

static bool
s_blank (const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!isspace ((unsigned char) s [i]))
            return false;
    return true;
}

//  A snippet's writable fields, heap copies; NULL when absent (update leaves them alone).
typedef struct {
    char *title, *description, *language, *code;
} fields_t;

static void
s_fields_free (fields_t *f)
{
    free (f->title);
    free (f->description);
    free (f->language);
    free (f->code);
    memset (f, 0, sizeof *f);
}

//  Validate the request's body into f; with partial (update) every field is optional but one
//  must be given. false after answering 400 / 413 with the field.
static bool
s_fields (td_call_t *call, bool partial, fields_t *f)
{
    memset (f, 0, sizeof *f);
    const msgpack_object *body = td_mp_get (td_call_body (call), "body");
    if (!body || body->type != MSGPACK_OBJECT_MAP) {
        td_call_error (call, TD_ERR_INVALID_INPUT, "body",
                       "the snippet must be a JSON object {title, description, language, code}");
        return false;
    }
    for (uint32_t i = 0; i < body->via.map.size; i++) {
        const msgpack_object *k = &body->via.map.ptr [i].key;
        if (!td_mp_streq (k, "title") && !td_mp_streq (k, "description")
        &&  !td_mp_streq (k, "language") && !td_mp_streq (k, "code")) {
            char name [64];
            if (!td_mp_strcpy (k, name, sizeof name))
                snprintf (name, sizeof name, "body");
            td_call_error (call, TD_ERR_INVALID_INPUT, name,
                           "a snippet has only title, description, language and code");
            return false;
        }
    }
    const char *s;
    size_t len;
    const msgpack_object *o = td_mp_get (body, "title");
    if (o || !partial) {
        if (!td_mp_str (o, &s, &len) || memchr (s, 0, len) || s_blank (s, len)
        ||  s_chars (s, len) > SNIP_TITLE_MAX) {
            td_call_error (call, TD_ERR_INVALID_INPUT, "title",
                           "title must be text of 1 to %d characters", SNIP_TITLE_MAX);
            goto fail;
        }
        if (!(f->title = strndup (s, len)))
            goto oom;
    }
    o = td_mp_get (body, "description");
    if (o || !partial) {
        if (o && o->type != MSGPACK_OBJECT_NIL
        &&  (!td_mp_str (o, &s, &len) || memchr (s, 0, len) || s_chars (s, len) > SNIP_DESC_MAX)) {
            td_call_error (call, TD_ERR_INVALID_INPUT, "description",
                           "description must be text of at most %d characters", SNIP_DESC_MAX);
            goto fail;
        }
        if (!(f->description = o && o->type != MSGPACK_OBJECT_NIL? strndup (s, len): strdup ("")))
            goto oom;
    }
    o = td_mp_get (body, "language");
    if (o || !partial) {
        bool known = false;
        for (int i = 0; !known && s_languages [i]; i++)
            known = td_mp_streq (o, s_languages [i]);
        if (!known) {
            td_call_error (call, TD_ERR_INVALID_INPUT, "language",
                           "language must be one of python, c, cpp, javascript, typescript, java, "
                           "go, rust, sql, bash, html, css, json, markdown, text");
            goto fail;
        }
        if (!td_mp_str (o, &s, &len) || !(f->language = strndup (s, len)))
            goto oom;
    }
    o = td_mp_get (body, "code");
    if (o || !partial) {
        if (!td_mp_str (o, &s, &len) || memchr (s, 0, len) || len == 0) {
            td_call_error (call, TD_ERR_INVALID_INPUT, "code", "code must be non-empty text");
            goto fail;
        }
        if (len > SNIP_CODE_MAX) {
            td_call_error (call, TD_ERR_TOO_LARGE, "code",
                           "a snippet holds at most %d bytes of code", SNIP_CODE_MAX);
            goto fail;
        }
        if (!(f->code = strndup (s, len)))
            goto oom;
    }
    if (partial && !f->title && !f->description && !f->language && !f->code) {
        td_call_error (call, TD_ERR_INVALID_INPUT, "body",
                       "give at least one of title, description, language, code");
        goto fail;
    }
    return true;
oom:
    td_call_error (call, TD_ERR_INTERNAL, NULL, "out of memory");
fail:
    s_fields_free (f);
    return false;
}

//  Row r of a result whose columns are SNIP_FULL / SNIP_SUMMARY as JSON.
static json_t *
s_row_json (PGresult *res, int r, bool full)
{
    return json_pack ("{s:s, s:s, s:s, s:s, s:s, s:b, s:s, s:s}",
                      "id", PQgetvalue (res, r, 0), "title", PQgetvalue (res, r, 1),
                      "description", PQgetvalue (res, r, 2), "language", PQgetvalue (res, r, 3),
                      full? "code": "preview", PQgetvalue (res, r, 4),
                      "starred", strcmp (PQgetvalue (res, r, 5), "true") == 0,
                      "created_at", PQgetvalue (res, r, 6), "updated_at", PQgetvalue (res, r, 7));
}

//  Answer a statement that returns one full snippet row: status with it, 404 when none.
static int
s_reply_row (td_call_t *call, PGresult *res, int status)
{
    if (!res)
        return td_call_error (call, TD_ERR_UNAVAILABLE, NULL, "snippets cannot be reached now; try again"),
               TD_ACTOR_OK;
    if (PQntuples (res) != 1) {
        PQclear (res);
        return td_call_error (call, TD_ERR_NOT_FOUND, "id", "there is no such snippet"), TD_ACTOR_OK;
    }
    json_t *j = s_row_json (res, 0, true);
    PQclear (res);
    td_cat_reply (call, status, j);
    return TD_ACTOR_OK;
}

//  A query parameter that is a string, or (from other callers) a plain msgpack value, as text.
//  false when it has another type or does not fit.
static bool
s_param (const msgpack_object *o, char *buf, size_t size)
{
    int64_t v;
    bool b;
    if (td_mp_strcpy (o, buf, size))
        return true;
    if (td_mp_int (o, &v))
        return snprintf (buf, size, "%lld", (long long) v) < (int) size;
    if (td_mp_bool (o, &b))
        return snprintf (buf, size, "%s", b? "true": "false") < (int) size;
    return false;
}

//  ---------------------------------------------------------------------------------------------
//  Verbs

int
td_catalog_snippet_create (td_actor_t *self, td_call_t *call)
{
    char user [TD_MAX_ID + 1];
    fields_t f;
    if (!td_cat_user (call, user, sizeof user, "snippets") || !s_fields (call, false, &f))
        return TD_ACTOR_OK;
    const char *params [] = { user, f.title, f.description, f.language, f.code };
    PGresult *res = td_db_exec (td_actor_db (self), td_call_rid (call),
        "INSERT INTO catalog_snippets (user_id, title, description, language, code)"
        " VALUES ($1, $2, $3, $4, $5) RETURNING " SNIP_FULL, 5, params);
    s_fields_free (&f);
    return s_reply_row (call, res, 201);
}

int
td_catalog_snippet_get (td_actor_t *self, td_call_t *call)
{
    char user [TD_MAX_ID + 1], id [37];
    if (!td_cat_user (call, user, sizeof user, "snippets") || !s_snippet_id (call, id))
        return TD_ACTOR_OK;
    const char *params [] = { user, id };
    PGresult *res = td_db_exec (td_actor_db (self), td_call_rid (call),
        "SELECT " SNIP_FULL " FROM catalog_snippets WHERE user_id = $1 AND id = $2::uuid", 2, params);
    return s_reply_row (call, res, 200);
}

int
td_catalog_snippet_update (td_actor_t *self, td_call_t *call)
{
    char user [TD_MAX_ID + 1], id [37];
    fields_t f;
    if (!td_cat_user (call, user, sizeof user, "snippets") || !s_snippet_id (call, id) || !s_fields (call, true, &f))
        return TD_ACTOR_OK;
    const char *params [] = { user, id, f.title, f.description, f.language, f.code };
    PGresult *res = td_db_exec (td_actor_db (self), td_call_rid (call),
        "UPDATE catalog_snippets SET title = coalesce ($3, title),"
        " description = coalesce ($4, description), language = coalesce ($5, language),"
        " code = coalesce ($6, code), updated_at = now()"
        " WHERE user_id = $1 AND id = $2::uuid RETURNING " SNIP_FULL, 6, params);
    s_fields_free (&f);
    return s_reply_row (call, res, 200);
}

int
td_catalog_snippet_delete (td_actor_t *self, td_call_t *call)
{
    char user [TD_MAX_ID + 1], id [37];
    if (!td_cat_user (call, user, sizeof user, "snippets") || !s_snippet_id (call, id))
        return TD_ACTOR_OK;
    const char *params [] = { user, id };
    PGresult *res = td_db_exec (td_actor_db (self), td_call_rid (call),
        "DELETE FROM catalog_snippets WHERE user_id = $1 AND id = $2::uuid RETURNING id", 2, params);
    if (!res)
        return td_call_error (call, TD_ERR_UNAVAILABLE, NULL, "snippets cannot be reached now; try again"),
               TD_ACTOR_OK;
    int n = PQntuples (res);
    PQclear (res);
    if (n != 1)
        return td_call_error (call, TD_ERR_NOT_FOUND, "id", "there is no such snippet"), TD_ACTOR_OK;
    td_call_reply (call, 204, NULL, 0);
    return TD_ACTOR_OK;
}

//  Starring is not an edit: updated_at stays.
static int
s_set_star (td_actor_t *self, td_call_t *call, const char *starred)
{
    char user [TD_MAX_ID + 1], id [37];
    if (!td_cat_user (call, user, sizeof user, "snippets") || !s_snippet_id (call, id))
        return TD_ACTOR_OK;
    const char *params [] = { user, id, starred };
    PGresult *res = td_db_exec (td_actor_db (self), td_call_rid (call),
        "UPDATE catalog_snippets SET starred = $3::boolean"
        " WHERE user_id = $1 AND id = $2::uuid RETURNING " SNIP_FULL, 3, params);
    return s_reply_row (call, res, 200);
}

int
td_catalog_snippet_star (td_actor_t *self, td_call_t *call)
{
    return s_set_star (self, call, "true");
}

int
td_catalog_snippet_unstar (td_actor_t *self, td_call_t *call)
{
    return s_set_star (self, call, "false");
}

int
td_catalog_snippet_list (td_actor_t *self, td_call_t *call)
{
    char user [TD_MAX_ID + 1];
    if (!td_cat_user (call, user, sizeof user, "snippets"))
        return TD_ACTOR_OK;
    const msgpack_object *top = td_call_body (call);
    const msgpack_object *o;

    //  q: a search; empty or absent lists everything.
    char *q = NULL;
    if ((o = td_mp_get (top, "q")) && o->type != MSGPACK_OBJECT_NIL) {
        const char *s;
        size_t len;
        if (!td_mp_str (o, &s, &len) || memchr (s, 0, len) || s_chars (s, len) > SNIP_Q_MAX)
            return td_call_error (call, TD_ERR_INVALID_INPUT, "q",
                                  "q must be text of at most %d characters", SNIP_Q_MAX), TD_ACTOR_OK;
        if (!s_blank (s, len) && !(q = strndup (s, len)))
            return td_call_error (call, TD_ERR_INTERNAL, NULL, "out of memory"), TD_ACTOR_OK;
    }
    //  starred: true (only starred) or false (only the others); absent: all.
    char starred_text [8];
    const char *starred = NULL;
    if ((o = td_mp_get (top, "starred")) && o->type != MSGPACK_OBJECT_NIL) {
        if (!s_param (o, starred_text, sizeof starred_text)
        ||  (strcmp (starred_text, "true") && strcmp (starred_text, "false"))) {
            free (q);
            return td_call_error (call, TD_ERR_INVALID_INPUT, "starred",
                                  "starred must be true or false"), TD_ACTOR_OK;
        }
        starred = starred_text;
    }
    //  limit: 1..SNIP_LIST_MAX.
    int limit = SNIP_LIST_DEFAULT;
    char text [64];
    if ((o = td_mp_get (top, "limit")) && o->type != MSGPACK_OBJECT_NIL) {
        char *end = NULL;
        long long v = s_param (o, text, sizeof text) && text [0]? strtoll (text, &end, 10): 0;
        if (!end || *end || v < 1 || v > SNIP_LIST_MAX) {
            free (q);
            return td_call_error (call, TD_ERR_INVALID_INPUT, "limit",
                                  "limit must be an integer from 1 to %d", SNIP_LIST_MAX), TD_ACTOR_OK;
        }
        limit = (int) v;
    }
    //  cursor: "<seq>" when listing, "<rank>:<seq>" when searching, as next_cursor gave it.
    char seq [24] = "", rank [40] = "";
    if ((o = td_mp_get (top, "cursor")) && o->type != MSGPACK_OBJECT_NIL) {
        bool ok = td_mp_strcpy (o, text, sizeof text) && text [0];
        char *colon = ok? strchr (text, ':'): NULL;
        ok = ok && (q? colon != NULL: colon == NULL);
        if (ok && colon) {
            *colon = 0;
            char *end = NULL;
            double r = strtod (text, &end);
            ok = end != text && *end == 0 && r >= 0 && r < 1e30 && strlen (text) < sizeof rank;
            if (ok)
                memcpy (rank, text, strlen (text) + 1);
        }
        const char *digits = colon? colon + 1: text;
        char *end = NULL;
        long long v = ok && isdigit ((unsigned char) digits [0])? strtoll (digits, &end, 10): 0;
        ok = ok && end && *end == 0 && v > 0;
        if (!ok) {
            free (q);
            return td_call_error (call, TD_ERR_INVALID_INPUT, "cursor",
                                  "cursor must be the next_cursor of an earlier page of this list"),
                   TD_ACTOR_OK;
        }
        snprintf (seq, sizeof seq, "%lld", v);
    }
    char lim [16];
    snprintf (lim, sizeof lim, "%d", limit + 1);
    const char *params [] = { user, starred, seq [0]? seq: NULL, lim, q, rank [0]? rank: NULL };
    PGresult *res = q
        ? td_db_exec (td_actor_db (self), td_call_rid (call),
            "SELECT " SNIP_SUMMARY ", seq, rank::text FROM ("
            "  SELECT s.*, ts_rank (s.search, query) AS rank"
            "  FROM catalog_snippets s, websearch_to_tsquery ('simple', $5) AS query"
            "  WHERE s.user_id = $1 AND s.search @@ query"
            "    AND ($2::boolean IS NULL OR s.starred = $2::boolean)) found"
            " WHERE $6::real IS NULL OR (rank, seq) < ($6::real, $3::bigint)"
            " ORDER BY rank DESC, seq DESC LIMIT $4::int", 6, params)
        : td_db_exec (td_actor_db (self), td_call_rid (call),
            "SELECT " SNIP_SUMMARY ", seq FROM catalog_snippets"
            " WHERE user_id = $1 AND ($2::boolean IS NULL OR starred = $2::boolean)"
            "   AND ($3::bigint IS NULL OR seq < $3::bigint)"
            " ORDER BY seq DESC LIMIT $4::int", 4, params);
    bool searching = q != NULL;
    free (q);
    if (!res)
        return td_call_error (call, TD_ERR_UNAVAILABLE, NULL, "snippets cannot be read now; try again"),
               TD_ACTOR_OK;
    int n = PQntuples (res);
    json_t *items = json_array ();
    for (int r = 0; items && r < n && r < limit; r++) {
        json_t *row = s_row_json (res, r, false);
        if (row && searching)
            json_object_set_new (row, "rank", json_real (strtod (PQgetvalue (res, r, 9), NULL)));
        json_array_append_new (items, row);
    }
    json_t *next = json_null ();
    if (n > limit) {
        char *cursor = searching? zsys_sprintf ("%s:%s", PQgetvalue (res, limit - 1, 9),
                                                PQgetvalue (res, limit - 1, 8))
                                : strdup (PQgetvalue (res, limit - 1, 8));
        json_decref (next);
        next = cursor? json_string (cursor): NULL;
        free (cursor);
    }
    PQclear (res);
    if (!items || !next) {
        json_decref (items);
        json_decref (next);
        return td_call_error (call, TD_ERR_INTERNAL, NULL, "out of memory"), TD_ACTOR_OK;
    }
    td_cat_reply (call, 200, json_pack ("{s:o, s:o}", "items", items, "next_cursor", next));
    return TD_ACTOR_OK;
}

int
td_catalog_snippet_similar (td_actor_t *self, td_call_t *call)
{
    char user [TD_MAX_ID + 1], id [37];
    if (!td_cat_user (call, user, sizeof user, "snippets") || !s_snippet_id (call, id))
        return TD_ACTOR_OK;
    const char *params [] = { user, id };
    //  One statement: the LEFT JOIN keeps a row (with NULL other) when the snippet exists but has
    //  no similar sibling, and none when it is not the caller's.
    PGresult *res = td_db_exec (td_actor_db (self), td_call_rid (call),
        "WITH me AS ("
        "  SELECT id AS me_id, left (title || ' ' || code, " SNIP_SIMILAR_TEXT ") AS me_text"
        "  FROM catalog_snippets WHERE user_id = $1 AND id = $2::uuid),"
        " near AS ("
        "  SELECT o.*, similarity (left (o.title || ' ' || o.code, " SNIP_SIMILAR_TEXT "), me_text) AS sim"
        "  FROM me JOIN catalog_snippets o ON o.user_id = $1 AND o.id <> me_id"
        "  WHERE similarity (left (o.title || ' ' || o.code, " SNIP_SIMILAR_TEXT "), me_text)"
        "        >= " SNIP_SIMILAR_MIN
        "  ORDER BY sim DESC, o.seq DESC LIMIT " SNIP_SIMILAR_MAX ")"
        " SELECT " SNIP_SUMMARY ", sim::text FROM me LEFT JOIN near ON true"
        " ORDER BY sim DESC NULLS LAST, seq DESC", 2, params);
    if (!res)
        return td_call_error (call, TD_ERR_UNAVAILABLE, NULL, "snippets cannot be read now; try again"),
               TD_ACTOR_OK;
    int n = PQntuples (res);
    if (n == 0) {
        PQclear (res);
        return td_call_error (call, TD_ERR_NOT_FOUND, "id", "there is no such snippet"), TD_ACTOR_OK;
    }
    json_t *items = json_array ();
    for (int r = 0; items && r < n; r++) {
        if (PQgetisnull (res, r, 0))
            continue;               //  the LEFT JOIN's empty row
        json_t *row = s_row_json (res, r, false);
        if (row)
            json_object_set_new (row, "similarity", json_real (strtod (PQgetvalue (res, r, 8), NULL)));
        json_array_append_new (items, row);
    }
    PQclear (res);
    td_cat_reply (call, 200, items? json_pack ("{s:o}", "items", items): NULL);
    return TD_ACTOR_OK;
}
