/*  td_catalog_course — the course verbs: list, create, get (the whole tree), update, delete,
 *  publish and duplicate (CATALOG.md §3).
 *
 *  The tree comes from one query (td_cat_tree) whatever its size; learners get it with §1's
 *  hidden fields removed. The list filters by visibility in SQL from the caller's memberships, so
 *  pagination never skips or leaks a course.
 */
#include <stdlib.h>
#include <string.h>
#include "td_call_json.h"
#include "td_catalog.h"
#include "td_json.h"
#include "td_limits.h"
#include "td_mp.h"

#define LIST_DEFAULT 20
#define LIST_MAX     100

static bool
s_is_unique_violation (td_actor_t *actor)
{
    return strcmp (td_db_last_sqlstate (td_actor_db (actor)), "23505") == 0;
}

//  Append '"id"' to a PostgreSQL array literal being built in buf.
static void
s_array_add (char *buf, size_t size, const char *id)
{
    size_t n = strlen (buf);
    snprintf (buf + n, size - n, "%s\"%s\"", n > 1? ",": "", id);
}

//  Publish catalog.published {course_id, slug, org_id} for the org's subscribers; a failure is
//  logged by the framework and the course stays published.
void
td_catalog_announce (td_actor_t *actor, const char *id, const char *slug, const char *org,
                     const char *user)
{
    td_actor_publish_json (actor, "catalog.published", user, org, id,
                           json_pack ("{s:s, s:s?, s:s}", "course_id", id, "slug", slug,
                                      "org_id", org));
}

static void
s_announce (td_actor_t *actor, const td_cat_course_t *c, const char *slug, const char *user)
{
    td_catalog_announce (actor, c->id, slug, c->org, user);
}

//  Scheduled publishing: a draft whose publish_at has come goes live here, at most one tick
//  (catalog.c) after its time; reads already treat it as released from publish_at on.
void
td_catalog_release_tick (td_actor_t *actor)
{
    PGresult *res = td_db_exec (td_actor_db (actor), NULL,
        "UPDATE catalog_courses SET status = 'published', updated_at = now ()"
        " WHERE status = 'draft' AND publish_at <= now () RETURNING id::text, slug, org_id", 0, NULL);
    if (!res)
        return;                     //  logged by td_db; the next tick tries again
    if (PQntuples (res) > 0)
        td_cat_rows_forget (td_catalog_rows (actor), NULL);    //  our own write (CATALOG.md §8)
    for (int i = 0; i < PQntuples (res); i++)
        td_catalog_announce (actor, PQgetvalue (res, i, 0), PQgetvalue (res, i, 1),
                             PQgetvalue (res, i, 2), NULL);
    PQclear (res);
}

//  The caller's user id into buf ("" for keys and system).
static void
s_user_of (const td_principal_t *p, char *buf, size_t size)
{
    snprintf (buf, size, "%s", td_principal_user (p)? td_principal_user (p): "");
}

int
td_catalog_course_list (td_actor_t *actor, td_call_t *call)
{
    td_error_t err;
    td_principal_t *p = td_principal_new (td_call_auth (call), &err);
    if (!p)
        return td_cat_fail (call, &err);
    //  limit, cursor (the last id of the previous page), q
    int64_t limit = LIST_DEFAULT;
    const msgpack_object *lo = td_mp_get (td_call_body (call), "limit");
    char tmp [32];
    if (lo && !td_mp_int (lo, &limit)) {
        char *end = NULL;
        limit = td_mp_strcpy (lo, tmp, sizeof tmp) && *tmp? strtoll (tmp, &end, 10): 0;
        if (!end || *end)
            limit = 0;
    }
    char cursor [64] = "", q [256] = "";
    bool bad_cursor = td_mp_get (td_call_body (call), "cursor")
                      && (!td_cat_param (call, "cursor", cursor, sizeof cursor)
                          || !td_cat_uuid_valid (cursor));
    bool bad_q = td_mp_get (td_call_body (call), "q") && !td_cat_param (call, "q", q, sizeof q);
    if (limit < 1 || limit > LIST_MAX || bad_cursor || bad_q) {
        td_principal_destroy (&p);
        return td_call_error (call, TD_ERR_INVALID_INPUT, bad_cursor? "cursor": bad_q? "q": "limit",
                              bad_cursor? "cursor must be a next_cursor from a previous page"
                              : bad_q? "q must be a string of at most 255 bytes"
                              : "limit must be a whole number from 1 to 100"), TD_ACTOR_OK;
    }
    //  the caller's orgs: where they author, where they read
    //  (org ids are identity's uuids: no quotes or backslashes to escape; sized for all of them)
    size_t size = 8 + (td_principal_org_count (p) + 1) * 100;
    char *authored = malloc (size), *member = malloc (size);
    if (!authored || !member) {
        free (authored);
        free (member);
        td_principal_destroy (&p);
        return td_call_error (call, TD_ERR_INTERNAL, NULL, "out of memory"), TD_ACTOR_OK;
    }
    strcpy (authored, "{");
    strcpy (member, "{");
    for (size_t i = 0; i < td_principal_org_count (p); i++) {
        td_role_t role;
        const char *org = td_principal_org_at (p, i, &role);
        if (strlen (org) > 90 || strpbrk (org, "\\\"{},"))
            continue;
        s_array_add (member, size - 2, org);
        if (role >= TD_ROLE_MENTOR)
            s_array_add (authored, size - 2, org);
    }
    const char *key_org = td_principal_key_org (p);
    if (key_org && strlen (key_org) <= 90 && !strpbrk (key_org, "\\\"{},"))
        s_array_add (member, size - 2, key_org);
    strcat (authored, "}");
    strcat (member, "}");
    td_principal_kind_t kind = td_principal_kind (p);
    td_principal_destroy (&p);
    char lim [24];
    snprintf (lim, sizeof lim, "%d", (int) limit + 1);
    const char *params [] = {
        kind == TD_PRINCIPAL_SYSTEM? "t": "f", authored, member,
        kind == TD_PRINCIPAL_USER || kind == TD_PRINCIPAL_API_KEY? "t": "f",
        *cursor? cursor: NULL, *q? q: NULL, lim
    };
    PGresult *res = td_db_exec (td_actor_db (actor), td_call_rid (call),
        "SELECT json_build_object(" TD_CAT_COURSE_FIELDS ")::text, c.id FROM catalog_courses c"
        " WHERE ($1::bool OR c.org_id = ANY ($2::text[]) OR (" TD_CAT_RELEASED " AND"
        "        ((c.visibility = 'public' AND $4::bool) OR c.org_id = ANY ($3::text[]))))"
        "   AND ($5::uuid IS NULL OR (c.created_at, c.id) >"
        "        (SELECT created_at, id FROM catalog_courses WHERE id = $5::uuid))"
        "   AND ($6::text IS NULL OR strpos (lower (c.title || ' ' || c.description), lower ($6)) > 0)"
        " ORDER BY c.created_at, c.id LIMIT $7::int", 7, params);
    free (authored);
    free (member);
    if (!res)
        return td_cat_db_down (call);
    json_t *items = json_array ();
    int rows = PQntuples (res);
    for (int i = 0; i < rows && i < limit; i++)
        json_array_append_new (items, json_loads (PQgetvalue (res, i, 0), 0, NULL));
    json_t *reply = json_pack ("{s:o, s:s?}", "items", items, "next_cursor",
                               rows > limit? PQgetvalue (res, (int) limit - 1, 1): NULL);
    if (reply && rows <= limit)
        json_object_set_new (reply, "next_cursor", json_null ());
    PQclear (res);
    return td_cat_reply (call, 200, reply);
}

int
td_catalog_course_create (td_actor_t *actor, td_call_t *call)
{
    td_error_t err;
    td_principal_t *p = td_principal_new (td_call_auth (call), &err);
    if (!p)
        return td_cat_fail (call, &err);
    char org [80];
    bool known = td_cat_param (call, "id", org, sizeof org);
    bool author = known && td_cat_may_author (p, org);
    bool in_org = known && td_principal_in_org (p, org);
    td_principal_destroy (&p);
    if (!author)
        return td_call_error (call, in_org? TD_ERR_FORBIDDEN: TD_ERR_NOT_FOUND, in_org? NULL: "id",
                              in_org? "only admins and mentors of the org may create courses"
                                    : "there is no such org"), TD_ACTOR_OK;
    json_t *b = td_cat_body (call);
    if (!b)
        return td_call_error (call, TD_ERR_INVALID_INPUT, "body", "the course must be a JSON object"),
               TD_ACTOR_OK;
    if (td_cat_check_course (b, true, &err)) {
        json_decref (b);
        return td_cat_fail (call, &err);
    }
    const json_t *at = json_object_get (b, "publish_at");
    const char *params [] = {
        org, json_string_value (json_object_get (b, "slug")),
        json_string_value (json_object_get (b, "title")),
        json_string_value (json_object_get (b, "description")),
        json_string_value (json_object_get (b, "language")),
        json_string_value (json_object_get (b, "status")),
        json_string_value (json_object_get (b, "visibility")),
        at? json_string_value (at): NULL
    };
    bool failed;
    json_t *row = td_cat_query_json (actor, call,
        "WITH c AS (INSERT INTO catalog_courses (org_id, slug, title, description, language, status,"
        "  visibility, publish_at) VALUES ($1, $2, $3, coalesce ($4, ''), coalesce ($5, 'en'),"
        "  coalesce ($6, 'draft'), coalesce ($7, 'public'), $8::timestamptz) RETURNING *)"
        " SELECT json_build_object(" TD_CAT_COURSE_FIELDS ", 'modules', '[]'::json) FROM c",
        8, params, &failed);
    json_decref (b);
    if (!row && s_is_unique_violation (actor))
        return td_call_error (call, TD_ERR_CONFLICT, "slug", "the org already has a course with this slug"),
               TD_ACTOR_OK;
    if (!row && strncmp (td_db_last_sqlstate (td_actor_db (actor)), "22", 2) == 0)
        return td_call_error (call, TD_ERR_INVALID_INPUT, "publish_at", "publish_at is not a valid time"),
               TD_ACTOR_OK;
    if (!row)
        return td_cat_db_down (call);
    return td_cat_reply (call, 201, row);
}

//  How many modules (by position) the caller's cohorts have released of a dripped course;
//  INT32_MAX when none is linked (the whole course). -1 when the database failed.
static int
s_released (td_actor_t *actor, td_call_t *call, const char *course, const char *cohorts)
{
    td_cat_rows_t *rows = td_catalog_rows (actor);
    int n = -1;
    if (td_cat_rows_released_get (rows, course, cohorts, &n))
        return n;
    //  the count, and when it next changes: the earliest next release of the cohorts' links
    //  (a link's count steps up at start + count x every days, catalog_drip_count)
    const char *params [] = { course, cohorts };
    PGresult *res = td_db_exec (td_actor_db (actor), td_call_rid (call),
        "SELECT coalesce (catalog_released_modules ($1::uuid, $2::text[]), 2147483647),"
        " coalesce ((SELECT (extract (epoch FROM min (k.start_at + make_interval (secs =>"
        "   catalog_drip_count (k.start_at, k.every_days, now ()) * k.every_days * 86400.0)))"
        "   * 1000000)::bigint FROM catalog_course_cohorts k"
        "   WHERE k.course_id = $1::uuid AND k.cohort_id = ANY ($2::text[])), -1)", 2, params);
    if (!res)
        return -1;
    if (PQntuples (res) == 1) {
        n = atoi (PQgetvalue (res, 0, 0));
        int64_t until = strtoll (PQgetvalue (res, 0, 1), NULL, 10);
        td_cat_rows_released_put (rows, course, cohorts, n, until < 0? INT64_MAX: until);
    }
    PQclear (res);
    return n;
}

//  The whole tree. Learners get the modules released to their cohorts with answers hidden,
//  from the cache of rendered trees when the course has not changed (td_catalog_cache.c).
int
td_catalog_course_get (td_actor_t *actor, td_call_t *call)
{
    td_cat_course_t c;
    td_cat_access_t access;
    td_principal_t *p = td_cat_gate (actor, call, TD_CAT_COURSE, false, &c, &access);
    if (!p)
        return TD_ACTOR_OK;
    //  learners see the modules released to their cohorts (drip, CATALOG.md §5)
    char *cohorts = access == TD_CAT_AUTHOR? NULL: td_cat_cohorts (p);
    td_principal_destroy (&p);
    if (access != TD_CAT_AUTHOR && !cohorts)
        return td_call_error (call, TD_ERR_INTERNAL, NULL, "out of memory"), TD_ACTOR_OK;
    int modules = 2147483647;
    if (cohorts && c.dripped && (modules = s_released (actor, call, c.id, cohorts)) < 0) {
        free (cohorts);
        return td_cat_db_down (call);
    }
    td_cat_cache_t *cache = cohorts? td_catalog_cache (actor): NULL;
    size_t size = 0;
    const void *hit = cache? td_cat_cache_get (cache, c.id, c.version, modules, &size): NULL;
    if (hit) {
        free (cohorts);
        td_call_reply (call, 200, hit, size);
        return TD_ACTOR_OK;
    }
    bool failed;
    json_t *tree = td_cat_tree_for (actor, call, c.id, cohorts, &failed);
    free (cohorts);
    if (!tree)
        return td_cat_missing (call, failed, "course");
    if (access == TD_CAT_AUTHOR)
        return td_cat_reply (call, 200, tree);
    td_cat_learner_tree (tree);
    //  kept and sent as JSON text (ext 'J', PROTOCOL.md): the bridge copies it into the HTTP
    //  reply as is, instead of walking a msgpack tree of the whole course on every read
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buf, msgpack_sbuffer_write);
    td_error_t err;
    char *text = json_dumps (tree, JSON_COMPACT);
    size_t tlen = text? strlen (text): 0;
    bool as_text = text && tlen > 0 && tlen <= TD_MAX_STRING;     //  else msgpack, as before
    if (as_text? td_mp_pack_json_text (&pk, text, tlen) == 0: td_json_to_mp (tree, &pk, &err) == 0) {
        if (cache)
            td_cat_cache_put (cache, c.id, c.version, modules, buf.data, buf.size);
        td_call_reply (call, 200, buf.data, buf.size);
    }
    else
        td_call_error (call, TD_ERR_INTERNAL, NULL, "the catalog could not encode its answer");
    free (text);
    msgpack_sbuffer_destroy (&buf);
    json_decref (tree);
    return TD_ACTOR_OK;
}

int
td_catalog_course_update (td_actor_t *actor, td_call_t *call)
{
    td_cat_course_t c;
    td_principal_t *p = td_cat_gate (actor, call, TD_CAT_COURSE, true, &c, NULL);
    if (!p)
        return TD_ACTOR_OK;
    char user [80];
    s_user_of (p, user, sizeof user);
    td_principal_destroy (&p);
    json_t *b = td_cat_body (call);
    td_error_t err;
    if (!b)
        return td_call_error (call, TD_ERR_INVALID_INPUT, "body", "the changes must be a JSON object"),
               TD_ACTOR_OK;
    if (json_object_get (b, "slug"))
        td_error_set (&err, TD_ERR_INVALID_INPUT, "slug", "slug cannot be changed (duplicate the course)");
    if (json_object_get (b, "slug") || td_cat_check_course (b, false, &err)) {
        json_decref (b);
        return td_cat_fail (call, &err);
    }
    const json_t *at = json_object_get (b, "publish_at");
    const char *params [] = {
        c.id,
        json_string_value (json_object_get (b, "title")),
        json_string_value (json_object_get (b, "description")),
        json_string_value (json_object_get (b, "language")),
        json_string_value (json_object_get (b, "status")),
        json_string_value (json_object_get (b, "visibility")),
        at? "t": "f", json_string_value (at)
    };
    bool failed;
    json_t *row = td_cat_query_json (actor, call,
        "WITH c AS (UPDATE catalog_courses SET title = coalesce ($2, title),"
        "  description = coalesce ($3, description), language = coalesce ($4, language),"
        "  status = coalesce ($5, status), visibility = coalesce ($6, visibility),"
        "  publish_at = CASE WHEN $7::bool THEN $8::timestamptz ELSE publish_at END,"
        "  updated_at = now () WHERE id = $1::uuid RETURNING *)"
        " SELECT json_build_object(" TD_CAT_COURSE_FIELDS ") FROM c", 8, params, &failed);
    json_decref (b);
    if (!row && failed && strncmp (td_db_last_sqlstate (td_actor_db (actor)), "22", 2) == 0)
        return td_call_error (call, TD_ERR_INVALID_INPUT, "publish_at", "publish_at is not a valid time"),
               TD_ACTOR_OK;
    if (!row)
        return td_cat_missing (call, failed, "course");
    //  going live by PATCH announces it like publish does
    if (!c.published && json_is_string (json_object_get (row, "status"))
        && strcmp (json_string_value (json_object_get (row, "status")), "published") == 0)
        s_announce (actor, &c, json_string_value (json_object_get (row, "slug")), user);
    return td_cat_reply (call, 200, row);
}

int
td_catalog_course_delete (td_actor_t *actor, td_call_t *call)
{
    td_cat_course_t c;
    td_principal_t *p = td_cat_gate (actor, call, TD_CAT_COURSE, true, &c, NULL);
    if (!p)
        return TD_ACTOR_OK;
    td_principal_destroy (&p);
    const char *params [] = { c.id };
    PGresult *res = td_db_exec (td_actor_db (actor), td_call_rid (call),
                                "DELETE FROM catalog_courses WHERE id = $1::uuid", 1, params);
    if (!res)
        return td_cat_db_down (call);
    PQclear (res);
    td_call_reply (call, 204, NULL, 0);
    return TD_ACTOR_OK;
}

int
td_catalog_course_publish (td_actor_t *actor, td_call_t *call)
{
    td_cat_course_t c;
    td_principal_t *p = td_cat_gate (actor, call, TD_CAT_COURSE, true, &c, NULL);
    if (!p)
        return TD_ACTOR_OK;
    char user [80];
    s_user_of (p, user, sizeof user);
    td_principal_destroy (&p);
    const char *params [] = { c.id };
    bool failed;
    json_t *row = td_cat_query_json (actor, call,
        "WITH c AS (UPDATE catalog_courses SET status = 'published', updated_at = now ()"
        "  WHERE id = $1::uuid RETURNING *)"
        " SELECT json_build_object(" TD_CAT_COURSE_FIELDS ") FROM c", 1, params, &failed);
    if (!row)
        return td_cat_missing (call, failed, "course");
    s_announce (actor, &c, json_string_value (json_object_get (row, "slug")), user);
    return td_cat_reply (call, 200, row);
}

int
td_catalog_course_duplicate (td_actor_t *actor, td_call_t *call)
{
    td_cat_course_t c;
    td_principal_t *p = td_cat_gate (actor, call, TD_CAT_COURSE, true, &c, NULL);
    if (!p)
        return TD_ACTOR_OK;
    td_principal_destroy (&p);
    json_t *b = td_cat_body (call);
    td_error_t err;
    if (!b)
        return td_call_error (call, TD_ERR_INVALID_INPUT, "body", "give the copy's slug: {\"slug\"}"),
               TD_ACTOR_OK;
    //  slug required; title optional (the original's by default)
    int bad = json_object_get (b, "slug")? td_cat_check_node (b, false, "", &err)
            : td_error_set (&err, TD_ERR_INVALID_INPUT, "slug", "slug is required");
    if (bad) {
        json_decref (b);
        return td_cat_fail (call, &err);
    }
    const char *params [] = { c.id, json_string_value (json_object_get (b, "slug")),
                              json_string_value (json_object_get (b, "title")) };
    PGresult *res = td_db_exec (td_actor_db (actor), td_call_rid (call),
        "WITH c AS (INSERT INTO catalog_courses (org_id, slug, title, description, language,"
        "    status, visibility)"
        "  SELECT org_id, $2, coalesce ($3, title), description, language, 'draft', visibility"
        "  FROM catalog_courses WHERE id = $1::uuid RETURNING id),"
        " mm AS (SELECT m.*, gen_random_uuid () AS nid FROM catalog_modules m WHERE m.course_id = $1::uuid),"
        " im AS (INSERT INTO catalog_modules (id, course_id, slug, title, description, position)"
        "  SELECT mm.nid, c.id, mm.slug, mm.title, mm.description, mm.position FROM mm, c),"
        " ll AS (SELECT l.*, gen_random_uuid () AS nid, mm.nid AS nmid FROM catalog_lessons l"
        "  JOIN mm ON l.module_id = mm.id),"
        " il AS (INSERT INTO catalog_lessons (id, module_id, slug, title, description, position)"
        "  SELECT ll.nid, ll.nmid, ll.slug, ll.title, ll.description, ll.position FROM ll),"
        " ii AS (INSERT INTO catalog_items (lesson_id, slug, kind, title, content, position)"
        "  SELECT ll.nid, i.slug, i.kind, i.title, i.content, i.position FROM catalog_items i"
        "  JOIN ll ON i.lesson_id = ll.id)"
        " SELECT id FROM c", 3, params);
    json_decref (b);
    if (!res && s_is_unique_violation (actor))
        return td_call_error (call, TD_ERR_CONFLICT, "slug", "the org already has a course with this slug"),
               TD_ACTOR_OK;
    if (!res)
        return td_cat_db_down (call);
    char id [40] = "";
    if (PQntuples (res) == 1)
        snprintf (id, sizeof id, "%s", PQgetvalue (res, 0, 0));
    PQclear (res);
    bool failed = true;
    json_t *tree = *id? td_cat_tree (actor, call, id, &failed): NULL;
    if (!tree)
        return td_cat_missing (call, failed, "course");
    return td_cat_reply (call, 201, tree);
}
