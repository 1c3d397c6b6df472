/*  td_catalog_node — modules, lessons and items: create, delete and reorder within their
 *  parent, and items' get (the learner view hides answers) and update (CATALOG.md §3).
 *
 *  The three levels share one shape (a slug unique in the parent, a dense 0-based position), so
 *  one table of SQL per level drives create, delete and reorder; a delete renumbers the
 *  siblings, a reorder must list exactly the current children.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "td_catalog.h"

typedef struct {
    const char *table;          //  the children's table
    const char *parent_col;     //  their parent column
    const char *list_key;       //  the reorder body's key
    const char *what;           //  "module"...
} s_level_t;

//  Indexed by the child's level.
static const s_level_t s_levels [] = {
    [TD_CAT_MODULE] = { "catalog_modules", "course_id", "modules", "module" },
    [TD_CAT_LESSON] = { "catalog_lessons", "module_id", "lessons", "lesson" },
    [TD_CAT_ITEM]   = { "catalog_items",   "lesson_id", "items",   "item" },
};

static bool
s_sqlstate (td_actor_t *actor, const char *prefix)
{
    return strncmp (td_db_last_sqlstate (td_actor_db (actor)), prefix, strlen (prefix)) == 0;
}

static int
s_create (td_actor_t *actor, td_call_t *call, td_cat_level_t child)
{
    const s_level_t *lv = &s_levels [child];
    td_cat_course_t c;
    td_principal_t *p = td_cat_gate (actor, call, child - 1, true, &c, NULL);
    if (!p)
        return TD_ACTOR_OK;
    td_principal_destroy (&p);
    json_t *b = td_cat_body (call);
    td_error_t err;
    if (!b)
        return td_call_error (call, TD_ERR_INVALID_INPUT, "body", "the %s must be a JSON object",
                              lv->what), TD_ACTOR_OK;
    int bad = child == TD_CAT_ITEM? td_cat_check_item (b, true, NULL, "", &err)
                                  : td_cat_check_node (b, true, "", &err);
    if (bad) {
        json_decref (b);
        return td_cat_fail (call, &err);
    }
    char parent [64];
    td_cat_param (call, "id", parent, sizeof parent);      //  checked by the gate
    char *content = json_dumps (json_object_get (b, "content"), JSON_COMPACT);
    const char *params [] = {
        parent, json_string_value (json_object_get (b, "slug")),
        json_string_value (json_object_get (b, "title")),
        child == TD_CAT_ITEM? json_string_value (json_object_get (b, "kind"))
                            : json_string_value (json_object_get (b, "description")),
        content
    };
    char sql [1024];
    if (child == TD_CAT_ITEM)
        snprintf (sql, sizeof sql,
            "WITH i AS (INSERT INTO catalog_items (lesson_id, slug, title, kind, content, position)"
            " VALUES ($1::uuid, $2, $3, $4, $5::jsonb,"
            " (SELECT count(*) FROM catalog_items WHERE lesson_id = $1::uuid)) RETURNING *)"
            " SELECT json_build_object(" TD_CAT_ITEM_FIELDS ") FROM i");
    else
        snprintf (sql, sizeof sql,
            "WITH x AS (INSERT INTO %s (%s, slug, title, description, position)"
            " VALUES ($1::uuid, $2, $3, coalesce ($4, ''),"
            " (SELECT count(*) FROM %s WHERE %s = $1::uuid)) RETURNING *)"
            " SELECT json_build_object('id', x.id, '%s', x.%s, 'slug', x.slug, 'title', x.title,"
            " 'description', x.description, 'position', x.position) FROM x",
            lv->table, lv->parent_col, lv->table, lv->parent_col, lv->parent_col, lv->parent_col);
    bool failed;
    json_t *row = td_cat_query_json (actor, call, sql, child == TD_CAT_ITEM? 5: 4, params, &failed);
    free (content);
    json_decref (b);
    if (!row && s_sqlstate (actor, "23505"))
        return td_call_error (call, TD_ERR_CONFLICT, "slug", "the parent already has a %s with this slug",
                              lv->what), TD_ACTOR_OK;
    if (!row)
        return td_cat_db_down (call);
    return td_cat_reply (call, 201, row);
}

int td_catalog_module_create (td_actor_t *a, td_call_t *call) { return s_create (a, call, TD_CAT_MODULE); }
int td_catalog_lesson_create (td_actor_t *a, td_call_t *call) { return s_create (a, call, TD_CAT_LESSON); }
int td_catalog_item_create (td_actor_t *a, td_call_t *call)   { return s_create (a, call, TD_CAT_ITEM); }

static int
s_delete (td_actor_t *actor, td_call_t *call, td_cat_level_t level)
{
    const s_level_t *lv = &s_levels [level];
    td_cat_course_t c;
    td_principal_t *p = td_cat_gate (actor, call, level, true, &c, NULL);
    if (!p)
        return TD_ACTOR_OK;
    td_principal_destroy (&p);
    char id [64];
    td_cat_param (call, "id", id, sizeof id);
    char sql [512];
    snprintf (sql, sizeof sql, "DELETE FROM %s WHERE id = $1::uuid RETURNING %s::text",
              lv->table, lv->parent_col);
    const char *params [] = { id };
    PGresult *res = td_db_exec (td_actor_db (actor), td_call_rid (call), sql, 1, params);
    if (!res)
        return td_cat_db_down (call);
    char parent [64] = "";
    if (PQntuples (res) == 1)
        snprintf (parent, sizeof parent, "%s", PQgetvalue (res, 0, 0));
    PQclear (res);
    if (*parent) {
        //  keep the siblings' positions dense
        snprintf (sql, sizeof sql,
            "UPDATE %s x SET position = r.n - 1 FROM (SELECT id, row_number () OVER"
            " (ORDER BY position, id) AS n FROM %s WHERE %s = $1::uuid) r"
            " WHERE x.id = r.id AND x.position <> r.n - 1",
            lv->table, lv->table, lv->parent_col);
        const char *pp [] = { parent };
        res = td_db_exec (td_actor_db (actor), td_call_rid (call), sql, 1, pp);
        if (!res)
            return td_cat_db_down (call);
        PQclear (res);
    }
    td_call_reply (call, 204, NULL, 0);
    return TD_ACTOR_OK;
}

int td_catalog_module_delete (td_actor_t *a, td_call_t *call) { return s_delete (a, call, TD_CAT_MODULE); }
int td_catalog_lesson_delete (td_actor_t *a, td_call_t *call) { return s_delete (a, call, TD_CAT_LESSON); }
int td_catalog_item_delete (td_actor_t *a, td_call_t *call)   { return s_delete (a, call, TD_CAT_ITEM); }

//  The parent (module or lesson) with its children, after a reorder.
static json_t *
s_parent_json (td_actor_t *actor, td_call_t *call, td_cat_level_t child, const char *parent,
               bool *failed)
{
    const char *params [] = { parent };
    if (child == TD_CAT_LESSON)
        return td_cat_query_json (actor, call,
            "SELECT json_build_object('id', m.id, 'course_id', m.course_id, 'slug', m.slug,"
            " 'title', m.title, 'description', m.description, 'position', m.position,"
            " 'lessons', coalesce ((SELECT json_agg (json_build_object ('id', l.id, 'slug', l.slug,"
            "   'title', l.title, 'description', l.description, 'position', l.position)"
            "   ORDER BY l.position) FROM catalog_lessons l WHERE l.module_id = m.id), '[]'))"
            " FROM catalog_modules m WHERE m.id = $1::uuid", 1, params, failed);
    return td_cat_query_json (actor, call,
        "SELECT json_build_object('id', l.id, 'module_id', l.module_id, 'slug', l.slug,"
        " 'title', l.title, 'description', l.description, 'position', l.position,"
        " 'items', coalesce ((SELECT json_agg (json_build_object (" TD_CAT_ITEM_FIELDS ")"
        "   ORDER BY i.position) FROM catalog_items i WHERE i.lesson_id = l.id), '[]'))"
        " FROM catalog_lessons l WHERE l.id = $1::uuid", 1, params, failed);
}

static int
s_reorder (td_actor_t *actor, td_call_t *call, td_cat_level_t child)
{
    const s_level_t *lv = &s_levels [child];
    td_cat_course_t c;
    td_principal_t *p = td_cat_gate (actor, call, child - 1, true, &c, NULL);
    if (!p)
        return TD_ACTOR_OK;
    td_principal_destroy (&p);
    char parent [64];
    td_cat_param (call, "id", parent, sizeof parent);
    json_t *b = td_cat_body (call);
    json_t *list = json_object_get (b, lv->list_key);
    //  a list of distinct ids, as a PostgreSQL array literal
    bool ok = json_is_array (list) && json_array_size (list) <= 10000;
    size_t n = ok? json_array_size (list): 0;
    char *arr = ok? malloc (n * 40 + 3): NULL;
    if (arr) {
        strcpy (arr, "{");
        size_t i;
        json_t *v;
        json_array_foreach (list, i, v) {
            const char *s = json_string_value (v);
            if (!s || !td_cat_uuid_valid (s))
                ok = false;
            for (size_t j = 0; ok && j < i; j++)
                if (strcasecmp (s, json_string_value (json_array_get (list, j))) == 0)
                    ok = false;
            if (!ok)
                break;
            strcat (arr, i? ",": "");
            strcat (arr, s);
        }
        strcat (arr, "}");
    }
    json_decref (b);
    if (!ok || !arr) {
        free (arr);
        return td_call_error (call, TD_ERR_INVALID_INPUT, lv->list_key,
                              "%s must list the ids of the current %ss, each once", lv->list_key,
                              lv->what), TD_ACTOR_OK;
    }
    char count [24];
    snprintf (count, sizeof count, "%zu", n);
    char sql [768];
    //  exactly the current children, then the new positions
    snprintf (sql, sizeof sql,
        "WITH cur AS (SELECT id FROM %s WHERE %s = $1::uuid),"
        " chk AS (SELECT (SELECT count(*) FROM cur) = $3::int"
        "   AND (SELECT count(*) FROM cur WHERE id = ANY ($2::uuid[])) = $3::int AS ok),"
        " upd AS (UPDATE %s x SET position = o.ord - 1"
        "   FROM unnest ($2::uuid[]) WITH ORDINALITY AS o (id, ord), chk"
        "   WHERE chk.ok AND x.id = o.id AND x.%s = $1::uuid RETURNING x.id)"
        " SELECT chk.ok, (SELECT count(*) FROM upd) FROM chk",
        lv->table, lv->parent_col, lv->table, lv->parent_col);
    const char *params [] = { parent, arr, count };
    PGresult *res = td_db_exec (td_actor_db (actor), td_call_rid (call), sql, 3, params);
    free (arr);
    if (!res)
        return td_cat_db_down (call);
    bool exact = PQntuples (res) == 1 && strcmp (PQgetvalue (res, 0, 0), "t") == 0;
    PQclear (res);
    if (!exact)
        return td_call_error (call, TD_ERR_INVALID_INPUT, lv->list_key,
                              "%s must list exactly the current %ss", lv->list_key, lv->what),
               TD_ACTOR_OK;
    bool failed;
    json_t *out = child == TD_CAT_MODULE? td_cat_tree (actor, call, parent, &failed)
                                        : s_parent_json (actor, call, child, parent, &failed);
    if (!out)
        return td_cat_db_down (call);
    return td_cat_reply (call, 200, out);
}

int td_catalog_course_reorder (td_actor_t *a, td_call_t *call) { return s_reorder (a, call, TD_CAT_MODULE); }
int td_catalog_module_reorder (td_actor_t *a, td_call_t *call) { return s_reorder (a, call, TD_CAT_LESSON); }
int td_catalog_lesson_reorder (td_actor_t *a, td_call_t *call) { return s_reorder (a, call, TD_CAT_ITEM); }

//  Learners see an item only in a module released to them (drip) and, for an exercise of an
//  exam pool, only the one they were given (td_catalog_exam.c); an enrolled learner's read is
//  recorded as progress (started, last accessed; material completed).
int
td_catalog_item_get (td_actor_t *actor, td_call_t *call)
{
    td_cat_course_t c;
    td_cat_access_t access;
    td_principal_t *p = td_cat_gate (actor, call, TD_CAT_ITEM, false, &c, &access);
    if (!p)
        return TD_ACTOR_OK;
    char user [80] = "";
    if (td_principal_kind (p) == TD_PRINCIPAL_USER && td_principal_user (p))
        snprintf (user, sizeof user, "%s", td_principal_user (p));
    char *cohorts = access == TD_CAT_AUTHOR? NULL: td_cat_cohorts (p);
    td_principal_destroy (&p);
    if (access != TD_CAT_AUTHOR && !cohorts)
        return td_call_error (call, TD_ERR_INTERNAL, NULL, "out of memory"), TD_ACTOR_OK;
    char id [64];
    td_cat_param (call, "id", id, sizeof id);
    const char *params [] = { id, c.id, cohorts, user };
    bool failed;
    json_t *item = td_cat_query_json (actor, call,
        "SELECT json_build_object(" TD_CAT_ITEM_FIELDS ", 'course_id', $2::text,"
        "  '_visible', " TD_CAT_ITEM_VISIBLE ("$2", "$3", "$4") ")"
        " FROM catalog_items i JOIN catalog_lessons l ON l.id = i.lesson_id"
        " JOIN catalog_modules m ON m.id = l.module_id WHERE i.id = $1::uuid", 4, params, &failed);
    free (cohorts);
    if (!item)
        return td_cat_missing (call, failed, "item");
    bool visible = json_is_true (json_object_get (item, "_visible"));
    json_object_del (item, "_visible");
    if (!visible) {
        json_decref (item);
        return td_cat_missing (call, false, "item");
    }
    if (*user)
        td_catalog_item_opened (actor, call, user, c.id, id,
                                json_string_value (json_object_get (item, "kind")));
    if (access != TD_CAT_AUTHOR)
        td_cat_learner_item (item);
    return td_cat_reply (call, 200, item);
}

int
td_catalog_item_update (td_actor_t *actor, td_call_t *call)
{
    td_cat_course_t c;
    td_principal_t *p = td_cat_gate (actor, call, TD_CAT_ITEM, true, &c, NULL);
    if (!p)
        return TD_ACTOR_OK;
    td_principal_destroy (&p);
    char id [64];
    td_cat_param (call, "id", id, sizeof id);
    const char *kp [] = { id };
    PGresult *res = td_db_exec (td_actor_db (actor), td_call_rid (call),
                                "SELECT kind FROM catalog_items WHERE id = $1::uuid", 1, kp);
    if (!res)
        return td_cat_db_down (call);
    char kind [32] = "";
    if (PQntuples (res) == 1)
        snprintf (kind, sizeof kind, "%s", PQgetvalue (res, 0, 0));
    PQclear (res);
    json_t *b = td_cat_body (call);
    td_error_t err;
    if (!b)
        return td_call_error (call, TD_ERR_INVALID_INPUT, "body", "the changes must be a JSON object"),
               TD_ACTOR_OK;
    if (td_cat_check_item (b, false, kind, "", &err)) {
        json_decref (b);
        return td_cat_fail (call, &err);
    }
    const json_t *cj = json_object_get (b, "content");
    char *content = cj? json_dumps (cj, JSON_COMPACT): NULL;
    const char *params [] = {
        id, json_string_value (json_object_get (b, "slug")),
        json_string_value (json_object_get (b, "title")),
        json_string_value (json_object_get (b, "kind")), content
    };
    bool failed;
    json_t *row = td_cat_query_json (actor, call,
        "WITH i AS (UPDATE catalog_items SET slug = coalesce ($2, slug), title = coalesce ($3, title),"
        " kind = coalesce ($4, kind), content = coalesce ($5::jsonb, content), updated_at = now ()"
        " WHERE id = $1::uuid RETURNING *)"
        " SELECT json_build_object(" TD_CAT_ITEM_FIELDS ") FROM i", 5, params, &failed);
    free (content);
    json_decref (b);
    if (!row && s_sqlstate (actor, "23505"))
        return td_call_error (call, TD_ERR_CONFLICT, "slug", "the lesson already has an item with this slug"),
               TD_ACTOR_OK;
    if (!row)
        return td_cat_missing (call, failed, "item");
    return td_cat_reply (call, 200, row);
}
