/*  td_catalog_access — the catalog's shared helpers: JSON replies, the course a node belongs to,
 *  the access rules of CATALOG.md §2, the tree query and the learner view.
 *
 *  Kept in one file so every verb decides access the same way: authors are admins and mentors of
 *  the course's org and system; readers see published public courses when signed in, published
 *  org courses when in the org; whoever may not read a course is told it does not exist (404),
 *  whoever may read but not author is refused (403).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "td_call_json.h"
#include "td_catalog.h"
#include "td_json.h"
#include "td_mp.h"

bool
td_cat_user (td_call_t *call, char *user, size_t size, const char *what)
{
    td_error_t err;
    td_principal_t *p = td_principal_new (td_call_auth (call), &err);
    if (!p) {
        td_call_error (call, err.code, *err.field? err.field: NULL, "%s", err.message);
        return false;
    }
    bool ok = false;
    if (td_principal_kind (p) == TD_PRINCIPAL_ANONYMOUS)
        td_call_error (call, TD_ERR_UNAUTHORIZED, NULL, "sign in to keep %s", what);
    else
    if (td_principal_kind (p) != TD_PRINCIPAL_USER || !td_principal_user (p)
    ||  strlen (td_principal_user (p)) >= size)
        td_call_error (call, TD_ERR_FORBIDDEN, NULL, "%s belong to a signed-in user", what);
    else {
        snprintf (user, size, "%s", td_principal_user (p));
        ok = true;
    }
    td_principal_destroy (&p);
    return ok;
}

int
td_cat_reply (td_call_t *call, int status, json_t *body)
{
    td_call_reply_json (call, status, body);
    return TD_ACTOR_OK;
}

int
td_cat_fail (td_call_t *call, const td_error_t *err)
{
    td_call_error (call, err->code, *err->field? err->field: NULL, "%s", err->message);
    return TD_ACTOR_OK;
}

int
td_cat_missing (td_call_t *call, bool failed, const char *what)
{
    if (failed)
        return td_cat_db_down (call);
    td_call_error (call, TD_ERR_NOT_FOUND, "id", "there is no such %s", what);
    return TD_ACTOR_OK;
}

int
td_cat_db_down (td_call_t *call)
{
    td_call_error (call, TD_ERR_UNAVAILABLE, NULL, "the catalog cannot reach its database now");
    return TD_ACTOR_OK;
}

json_t *
td_cat_body (td_call_t *call)
{
    return td_call_body_json (call);
}

bool
td_cat_param (td_call_t *call, const char *key, char *buf, size_t size)
{
    return td_call_param (call, key, buf, size);
}

bool
td_cat_uuid_valid (const char *s)
{
    return td_uuid_valid (s);
}

json_t *
td_cat_query_json (td_actor_t *actor, td_call_t *call, const char *sql, int n,
                   const char *const *params, bool *failed)
{
    *failed = false;
    PGresult *res = td_db_exec (td_actor_db (actor), td_call_rid (call), sql, n, params);
    if (!res) {
        *failed = true;
        return NULL;
    }
    json_t *j = NULL;
    if (PQntuples (res) > 0 && !PQgetisnull (res, 0, 0)) {
        json_error_t jerr;
        j = json_loads (PQgetvalue (res, 0, 0), JSON_DECODE_ANY, &jerr);
        if (!j)
            *failed = true;
    }
    PQclear (res);
    return j;
}

bool
td_cat_may_author (const td_principal_t *p, const char *org)
{
    return td_principal_kind (p) == TD_PRINCIPAL_SYSTEM
        || td_principal_org_role (p, org) >= TD_ROLE_MENTOR;
}

td_cat_access_t
td_cat_access (const td_principal_t *p, const td_cat_course_t *c)
{
    if (td_cat_may_author (p, c->org))
        return TD_CAT_AUTHOR;
    if (!c->published)
        return TD_CAT_NONE;
    td_principal_kind_t kind = td_principal_kind (p);
    if (c->public_ && (kind == TD_PRINCIPAL_USER || kind == TD_PRINCIPAL_API_KEY))
        return TD_CAT_READ;
    if (td_principal_in_org (p, c->org) || td_principal_is_org_key (p, c->org))
        return TD_CAT_READ;
    return TD_CAT_NONE;
}

//  A course counts as published from its publish_at on, even before the release tick has
//  flipped its status (TD_CAT_RELEASED), so what a learner sees is exact to the request.
#define S_COURSE_COLUMNS "SELECT c.id, c.org_id, CASE WHEN " TD_CAT_RELEASED \
    " THEN 'published' ELSE c.status END, c.visibility," \
    " c.tree_version || ':' || c.updated_at::text, EXISTS (SELECT 1 FROM catalog_course_cohorts k" \
    " WHERE k.course_id = c.id), c.status = 'published'," \
    " coalesce ((extract (epoch FROM c.publish_at) * 1000000)::bigint, -1) FROM catalog_courses c"
static const char *s_course_of [] = {
    S_COURSE_COLUMNS " WHERE c.id = $1::uuid",
    S_COURSE_COLUMNS " JOIN catalog_modules m ON m.course_id = c.id WHERE m.id = $1::uuid",
    S_COURSE_COLUMNS " JOIN catalog_modules m ON m.course_id = c.id"
    " JOIN catalog_lessons l ON l.module_id = m.id WHERE l.id = $1::uuid",
    S_COURSE_COLUMNS " JOIN catalog_modules m ON m.course_id = c.id"
    " JOIN catalog_lessons l ON l.module_id = m.id"
    " JOIN catalog_items i ON i.lesson_id = l.id WHERE i.id = $1::uuid"
};
static const char *s_level_name [] = { "course", "module", "lesson", "item" };

td_principal_t *
td_cat_gate (td_actor_t *actor, td_call_t *call, td_cat_level_t level, bool author,
             td_cat_course_t *course, td_cat_access_t *access)
{
    td_error_t err;
    td_principal_t *p = td_principal_new (td_call_auth (call), &err);
    if (!p) {
        td_cat_fail (call, &err);
        return NULL;
    }
    char id [64];
    if (!td_cat_param (call, "id", id, sizeof id) || !td_cat_uuid_valid (id)) {
        td_principal_destroy (&p);
        td_call_error (call, TD_ERR_NOT_FOUND, "id", "there is no such %s", s_level_name [level]);
        return NULL;
    }
    //  a course's row comes from the actor's cache when it holds it (td_catalog_rows.c)
    td_cat_rows_t *rows = td_catalog_rows (actor);
    td_cat_access_t a = TD_CAT_NONE;
    bool found = level == TD_CAT_COURSE && td_cat_rows_get (rows, id, course);
    if (!found) {
        const char *params [] = { id };
        PGresult *res = td_db_exec (td_actor_db (actor), td_call_rid (call), s_course_of [level],
                                    1, params);
        if (!res) {
            td_principal_destroy (&p);
            td_cat_db_down (call);
            return NULL;
        }
        if (PQntuples (res) == 1) {
            found = true;
            snprintf (course->id, sizeof course->id, "%s", PQgetvalue (res, 0, 0));
            snprintf (course->org, sizeof course->org, "%s", PQgetvalue (res, 0, 1));
            course->published = strcmp (PQgetvalue (res, 0, 2), "published") == 0;
            course->public_ = strcmp (PQgetvalue (res, 0, 3), "public") == 0;
            snprintf (course->version, sizeof course->version, "%s", PQgetvalue (res, 0, 4));
            course->dripped = strcmp (PQgetvalue (res, 0, 5), "t") == 0;
            td_cat_rows_put (rows, course, strcmp (PQgetvalue (res, 0, 6), "t") == 0,
                             strtoll (PQgetvalue (res, 0, 7), NULL, 10));
        }
        PQclear (res);
    }
    if (found) {
        a = td_cat_access (p, course);
        if (author)
            //  the verb is about to change the course (or its tree, or its cohort links):
            //  nothing this actor reads after it may come from before it
            td_cat_rows_forget (rows, course->id);
    }
    if (a == TD_CAT_NONE || (author && a != TD_CAT_AUTHOR)) {
        td_principal_destroy (&p);
        if (a == TD_CAT_NONE)
            td_call_error (call, TD_ERR_NOT_FOUND, "id", "there is no such %s", s_level_name [level]);
        else
            td_call_error (call, TD_ERR_FORBIDDEN, NULL,
                           "only the course's authors (admins and mentors of its org) may change it");
        return NULL;
    }
    if (access)
        *access = a;
    return p;
}

json_t *
td_cat_tree (td_actor_t *actor, td_call_t *call, const char *course_id, bool *failed)
{
    return td_cat_tree_for (actor, call, course_id, NULL, failed);
}

//  One query whatever the tree's size; r.n is how many modules (by position) the caller sees:
//  all of them unless a cohort of theirs is linked to the course (drip, CATALOG.md §5).
json_t *
td_cat_tree_for (td_actor_t *actor, td_call_t *call, const char *course_id, const char *cohorts,
                 bool *failed)
{
    const char *params [] = { course_id, cohorts };
    return td_cat_query_json (actor, call,
        "SELECT json_build_object(" TD_CAT_COURSE_FIELDS ", 'modules', coalesce(("
        "  SELECT json_agg(json_build_object('id', m.id, 'slug', m.slug, 'title', m.title,"
        "    'description', m.description, 'position', m.position, 'lessons', coalesce(("
        "      SELECT json_agg(json_build_object('id', l.id, 'slug', l.slug, 'title', l.title,"
        "        'description', l.description, 'position', l.position, 'items', coalesce(("
        "          SELECT json_agg(json_build_object(" TD_CAT_ITEM_FIELDS ") ORDER BY i.position)"
        "          FROM catalog_items i WHERE i.lesson_id = l.id), '[]'))"
        "        ORDER BY l.position) FROM catalog_lessons l WHERE l.module_id = m.id), '[]'))"
        "    ORDER BY m.position) FROM catalog_modules m"
        "    WHERE m.course_id = c.id AND m.position < r.n), '[]'))"
        " FROM catalog_courses c CROSS JOIN LATERAL (SELECT CASE WHEN $2::text[] IS NULL"
        "   THEN 2147483647 ELSE coalesce (catalog_released_modules (c.id, $2::text[]),"
        "   2147483647) END AS n) r"
        " WHERE c.id = $1::uuid", 2, params, failed);
}

char *
td_cat_cohorts (const td_principal_t *p)
{
    size_t n = td_principal_cohort_count (p);
    char *buf = malloc (3 + n * 100);
    if (!buf)
        return NULL;
    strcpy (buf, "{");
    size_t len = 1;
    for (size_t i = 0; i < n; i++) {
        const char *id = td_principal_cohort_at (p, i, NULL, NULL);
        //  identity's ids are uuids: skip anything that would need quoting in the literal
        if (!id || strlen (id) > 90 || strpbrk (id, "\\\"{},"))
            continue;
        len += (size_t) sprintf (buf + len, "%s\"%s\"", len > 1? ",": "", id);
    }
    strcpy (buf + len, "}");
    return buf;
}

static void
s_hide_question (json_t *q)
{
    if (json_is_object (q)) {
        json_object_del (q, "answer");
        json_object_del (q, "tolerance");
    }
}

void
td_cat_learner_item (json_t *item)
{
    const char *kind = json_string_value (json_object_get (item, "kind"));
    json_t *content = json_object_get (item, "content");
    if (!kind || !json_is_object (content))
        return;
    if (strcmp (kind, "exercise") == 0) {
        json_object_del (content, "solution");
        size_t i;
        json_t *t;
        json_array_foreach (json_object_get (content, "tests"), i, t)
            if (json_is_object (t) && json_is_true (json_object_get (t, "hidden"))) {
                //  every expected_* of a hidden test (stdout, return, type, prints...)
                const char *key;
                json_t *v, *tmp;
                json_object_foreach_safe (t, tmp, key, v)
                    if (strncmp (key, "expected", 8) == 0)
                        json_object_del (t, key);
            }
    }
    else
    if (strcmp (kind, "question") == 0)
        s_hide_question (content);
    else
    if (strcmp (kind, "grammar") == 0) {
        size_t i;
        json_t *q;
        json_array_foreach (json_object_get (content, "exercises"), i, q)
            s_hide_question (q);
    }
}

//  An exercise of a lesson's exam pool (content.exam true).
static bool
s_is_exam (const json_t *item)
{
    const char *kind = json_string_value (json_object_get (item, "kind"));
    return kind && strcmp (kind, "exercise") == 0
        && json_is_true (json_object_get (json_object_get (item, "content"), "exam"));
}

void
td_cat_learner_tree (json_t *tree)
{
    size_t i, j;
    json_t *m, *l;
    json_array_foreach (json_object_get (tree, "modules"), i, m)
        json_array_foreach (json_object_get (m, "lessons"), j, l) {
            //  a learner gets one exam exercise through GET /lessons/{id}/exam, not the pool
            json_t *items = json_object_get (l, "items");
            bool exam = false;
            for (size_t k = 0; k < json_array_size (items); ) {
                json_t *it = json_array_get (items, k);
                if (s_is_exam (it)) {
                    exam = true;
                    json_array_remove (items, k);
                    continue;
                }
                td_cat_learner_item (it);
                k++;
            }
            json_object_set_new (l, "exam", json_boolean (exam));
        }
}
