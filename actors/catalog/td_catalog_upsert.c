/*  td_catalog_upsert — course.upsert: a whole course tree from a seed record, idempotent by slugs
 *  (CATALOG.md §4). System only.
 *
 *  The record is validated completely before anything is written, then applied in one
 *  transaction: the course by (org, slug), modules, lessons and items by slug within their parent.
 *  A row is only rewritten when a value differs (IS DISTINCT FROM), so loading the same file twice
 *  changes nothing, not even updated_at. Fields absent from the record keep their stored value;
 *  children absent from the record are left alone (seeds never delete learners' progress); new
 *  children are appended after the existing ones.
 */
#include <stdlib.h>
#include <string.h>
#include "td_catalog.h"
#include "td_json.h"

#define MAX_CHILDREN 1000

//  Validate one level's list of children (slugs distinct) and, recursively, theirs.
static int
s_check_list (const json_t *parent, const char *key, td_cat_level_t level, const char *prefix,
              td_error_t *err)
{
    char field [256];
    snprintf (field, sizeof field, "%s%s", prefix, key);
    const json_t *list = json_object_get (parent, key);
    if (!list)
        return 0;
    if (!json_is_array (list) || json_array_size (list) > MAX_CHILDREN)
        return td_error_set (err, TD_ERR_INVALID_INPUT, field, "%s must be a list (at most %d)",
                             field, MAX_CHILDREN);
    size_t i;
    const json_t *o;
    json_array_foreach (list, i, o) {
        char p [192];
        snprintf (p, sizeof p, "%s%s[%zu].", prefix, key, i);
        if (!json_is_object (o))
            return td_error_set (err, TD_ERR_INVALID_INPUT, field, "%s must hold objects", field);
        if (level == TD_CAT_ITEM? td_cat_check_item (o, true, NULL, p, err)
                                : td_cat_check_node (o, true, p, err))
            return -1;
        const char *slug = json_string_value (json_object_get (o, "slug"));
        for (size_t j = 0; j < i; j++)
            if (strcmp (slug, json_string_value (json_object_get (json_array_get (list, j), "slug"))) == 0)
                return td_error_set (err, TD_ERR_INVALID_INPUT, field, "%s has the slug %s twice",
                                     field, slug);
        if (level == TD_CAT_MODULE && s_check_list (o, "lessons", TD_CAT_LESSON, p, err))
            return -1;
        if (level == TD_CAT_LESSON && s_check_list (o, "items", TD_CAT_ITEM, p, err))
            return -1;
    }
    return 0;
}

//  Run an INSERT ... ON CONFLICT DO UPDATE ... WHERE changed RETURNING id, (xmax = 0); when no row
//  comes back (nothing changed) the id comes from find. 0 or -1.
static int
s_upsert (td_actor_t *actor, td_call_t *call, const char *sql, int n, const char *const *params,
          const char *find, char *id, bool *created)
{
    PGresult *res = td_db_exec (td_actor_db (actor), td_call_rid (call), sql, n, params);
    if (!res)
        return -1;
    *created = false;
    if (PQntuples (res) == 1) {
        snprintf (id, 40, "%s", PQgetvalue (res, 0, 0));
        *created = strcmp (PQgetvalue (res, 0, 1), "t") == 0;
        PQclear (res);
        return 0;
    }
    PQclear (res);
    res = td_db_exec (td_actor_db (actor), td_call_rid (call), find, 2, params);
    if (!res)
        return -1;
    int rc = PQntuples (res) == 1? 0: -1;
    if (rc == 0)
        snprintf (id, 40, "%s", PQgetvalue (res, 0, 0));
    PQclear (res);
    return rc;
}

static int
s_apply_nodes (td_actor_t *actor, td_call_t *call, const json_t *list, td_cat_level_t level,
               const char *parent)
{
    size_t i;
    const json_t *o;
    json_array_foreach (list, i, o) {
        char id [40];
        bool created;
        const char *slug = json_string_value (json_object_get (o, "slug"));
        const char *title = json_string_value (json_object_get (o, "title"));
        int rc;
        if (level == TD_CAT_ITEM) {
            char *content = json_dumps (json_object_get (o, "content"), JSON_COMPACT);
            const char *params [] = { parent, slug, title,
                                      json_string_value (json_object_get (o, "kind")), content };
            rc = content? s_upsert (actor, call,
                "INSERT INTO catalog_items AS x (lesson_id, slug, title, kind, content, position)"
                " VALUES ($1::uuid, $2, $3, $4, $5::jsonb,"
                "  (SELECT count(*) FROM catalog_items WHERE lesson_id = $1::uuid))"
                " ON CONFLICT (lesson_id, slug) DO UPDATE SET title = EXCLUDED.title,"
                "  kind = EXCLUDED.kind, content = EXCLUDED.content, updated_at = now ()"
                " WHERE (x.title, x.kind, x.content) IS DISTINCT FROM"
                "  (EXCLUDED.title, EXCLUDED.kind, EXCLUDED.content)"
                " RETURNING x.id, (x.xmax = 0)", 5, params,
                "SELECT id FROM catalog_items WHERE lesson_id = $1::uuid AND slug = $2",
                id, &created): -1;
            free (content);
        }
        else {
            const char *params [] = { parent, slug, title,
                                      json_string_value (json_object_get (o, "description")) };
            char sql [1024], find [256];
            const char *table = level == TD_CAT_MODULE? "catalog_modules": "catalog_lessons";
            const char *col = level == TD_CAT_MODULE? "course_id": "module_id";
            snprintf (sql, sizeof sql,
                "INSERT INTO %s AS x (%s, slug, title, description, position)"
                " VALUES ($1::uuid, $2, $3, coalesce ($4, ''),"
                "  (SELECT count(*) FROM %s WHERE %s = $1::uuid))"
                " ON CONFLICT (%s, slug) DO UPDATE SET title = EXCLUDED.title,"
                "  description = coalesce ($4, x.description), updated_at = now ()"
                " WHERE (x.title, x.description) IS DISTINCT FROM"
                "  (EXCLUDED.title, coalesce ($4, x.description))"
                " RETURNING x.id, (x.xmax = 0)", table, col, table, col, col);
            snprintf (find, sizeof find, "SELECT id FROM %s WHERE %s = $1::uuid AND slug = $2",
                      table, col);
            rc = s_upsert (actor, call, sql, 4, params, find, id, &created);
        }
        if (rc)
            return -1;
        if (level == TD_CAT_MODULE
            && s_apply_nodes (actor, call, json_object_get (o, "lessons"), TD_CAT_LESSON, id))
            return -1;
        if (level == TD_CAT_LESSON
            && s_apply_nodes (actor, call, json_object_get (o, "items"), TD_CAT_ITEM, id))
            return -1;
    }
    return 0;
}

static bool
s_exec (td_actor_t *actor, td_call_t *call, const char *sql)
{
    PGresult *res = td_db_exec (td_actor_db (actor), td_call_rid (call), sql, 0, NULL);
    PQclear (res);
    return res != NULL;
}

int
td_catalog_course_upsert (td_actor_t *actor, td_call_t *call)
{
    td_error_t err;
    td_principal_t *p = td_principal_new (td_call_auth (call), &err);
    if (!p)
        return td_cat_fail (call, &err);
    bool system = td_principal_kind (p) == TD_PRINCIPAL_SYSTEM;
    td_principal_destroy (&p);
    if (!system)
        return td_call_error (call, TD_ERR_FORBIDDEN, NULL, "only the system loads seed courses"),
               TD_ACTOR_OK;
    //  it may change any course it finds by slug: nothing kept from before it (CATALOG.md §8)
    td_cat_rows_forget (td_catalog_rows (actor), NULL);
    //  the request body is the course itself (a seed record's "body")
    const msgpack_object *o = td_call_body (call);
    json_t *b = o? td_mp_to_json (o, &err): NULL;
    if (b && !json_is_object (b)) {
        json_decref (b);
        b = NULL;
    }
    if (!b)
        return td_call_error (call, TD_ERR_INVALID_INPUT, "body", "the course must be a JSON object"),
               TD_ACTOR_OK;
    const json_t *org_slug = json_object_get (b, "org_slug");
    if (org_slug && !json_is_null (org_slug) && !json_is_string (org_slug))
        td_error_set (&err, TD_ERR_INVALID_INPUT, "org_slug", "org_slug must be an org's slug or null");
    if ((org_slug && !json_is_null (org_slug) && !json_is_string (org_slug))
        || td_cat_check_course (b, true, &err)
        || s_check_list (b, "modules", TD_CAT_MODULE, "", &err)) {
        json_decref (b);
        return td_cat_fail (call, &err);
    }
    if (!s_exec (actor, call, "BEGIN")) {
        json_decref (b);
        return td_cat_db_down (call);
    }
    char org [80] = TD_CAT_BUILTIN_ORG;
    int rc = 0;
    bool bad_org = false;
    if (json_is_string (org_slug)) {
        const char *params [] = { json_string_value (org_slug) };
        PGresult *res = td_db_exec (td_actor_db (actor), td_call_rid (call),
                                    "SELECT id::text FROM identity_orgs WHERE slug = $1", 1, params);
        rc = res? 0: -1;
        bad_org = res && PQntuples (res) != 1;
        if (res && !bad_org)
            snprintf (org, sizeof org, "%s", PQgetvalue (res, 0, 0));
        PQclear (res);
    }
    char id [40] = "";
    bool created = false;
    if (rc == 0 && !bad_org) {
        const json_t *at = json_object_get (b, "publish_at");
        const char *params [] = {
            org, json_string_value (json_object_get (b, "slug")),
            json_string_value (json_object_get (b, "title")),
            json_string_value (json_object_get (b, "description")),
            json_string_value (json_object_get (b, "language")),
            json_string_value (json_object_get (b, "status")),
            json_string_value (json_object_get (b, "visibility")),
            at? "t": "f", json_string_value (at)
        };
        rc = s_upsert (actor, call,
            "INSERT INTO catalog_courses AS x (org_id, slug, title, description, language, status,"
            "  visibility, publish_at)"
            " VALUES ($1, $2, $3, coalesce ($4, ''), coalesce ($5, 'en'), coalesce ($6, 'draft'),"
            "  coalesce ($7, 'public'), $9::timestamptz)"
            " ON CONFLICT (org_id, slug) DO UPDATE SET title = EXCLUDED.title,"
            "  description = coalesce ($4, x.description), language = coalesce ($5, x.language),"
            "  status = coalesce ($6, x.status), visibility = coalesce ($7, x.visibility),"
            "  publish_at = CASE WHEN $8::bool THEN $9::timestamptz ELSE x.publish_at END,"
            "  updated_at = now ()"
            " WHERE (x.title, x.description, x.language, x.status, x.visibility, x.publish_at)"
            "  IS DISTINCT FROM (EXCLUDED.title, coalesce ($4, x.description),"
            "  coalesce ($5, x.language), coalesce ($6, x.status), coalesce ($7, x.visibility),"
            "  CASE WHEN $8::bool THEN $9::timestamptz ELSE x.publish_at END)"
            " RETURNING x.id, (x.xmax = 0)", 9, params,
            "SELECT id FROM catalog_courses WHERE org_id = $1 AND slug = $2", id, &created);
        if (rc == 0)
            rc = s_apply_nodes (actor, call, json_object_get (b, "modules"), TD_CAT_MODULE, id);
    }
    json_decref (b);
    if (rc || bad_org) {
        const char *state = td_db_last_sqlstate (td_actor_db (actor));
        bool invalid = strncmp (state, "22", 2) == 0 || strcmp (state, "23514") == 0;
        if (!s_exec (actor, call, "ROLLBACK"))
            return td_cat_db_down (call);
        if (bad_org)
            return td_call_error (call, TD_ERR_INVALID_INPUT, "org_slug", "there is no org with this slug"),
                   TD_ACTOR_OK;
        if (invalid)
            return td_call_error (call, TD_ERR_INVALID_INPUT, NULL, "the course has a value the catalog refuses"),
                   TD_ACTOR_OK;
        return td_cat_db_down (call);
    }
    if (!s_exec (actor, call, "COMMIT"))
        return td_cat_db_down (call);
    return td_cat_reply (call, created? 201: 200, json_pack ("{s:s, s:b}", "id", id, "created", created));
}
