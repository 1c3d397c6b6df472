/*  td_identity_org — organisations, their members and roles, cohorts and cohort members.
 *
 *  Access (IDENTITY.md §2), decided from the caller's auth map before any data is read:
 *    - a caller who is not in the org (not a member, not its API key, not system) gets 404 for
 *      anything under it, whether it exists or not, so ids of other orgs reveal nothing;
 *    - inside the org: reads of the org are open to members; member lists to admins and the
 *      org's API keys; every change (members, roles, cohorts) to admins (and system); otherwise
 *      403;
 *    - a cohort is visible to the org's admins and API keys and to its own members (learners see
 *      it without its member list); to other members of the org it answers 404.
 *  An org always keeps one admin: demoting or removing the last one is 409 conflict. Removing a
 *  member from the org also removes them from its cohorts, in the same statement.
 */
#include <stdio.h>
#include <string.h>
#include "td_identity.h"
#include "td_log.h"
#include "td_mp.h"

#define S_ORG_JSON \
    "json_build_object('id', o.id, 'slug', o.slug, 'name', o.name, " \
    "                  'created_at', identity_rfc3339(o.created_at))"
#define S_COHORT_JSON \
    "json_build_object('id', c.id, 'org', c.org_id, 'name', c.name, " \
    "                  'created_at', identity_rfc3339(c.created_at))"

//  The caller, answering 401 for anonymous (and malformed) callers.
static td_principal_t *
s_caller (td_call_t *call)
{
    td_principal_t *who = id_principal (call);
    if (who && td_principal_kind (who) == TD_PRINCIPAL_ANONYMOUS) {
        td_principal_destroy (&who);
        td_call_error (call, TD_ERR_UNAUTHORIZED, NULL, "sign in first");
    }
    return who;
}

static bool
s_is_admin (const td_principal_t *who, const char *org)
{
    return td_principal_is_org_admin (who, org);
}

static int
s_forbidden (td_call_t *call, const char *what)
{
    return td_call_error (call, TD_ERR_FORBIDDEN, NULL, "only an admin of this organisation may %s",
                          what);
}

int
id_org_visible (td_call_t *call, const td_principal_t *who, char org [ID_UUID_LEN + 1])
{
    if (id_path_id (call, "id", "organisation", org))
        return -1;
    if (!td_principal_in_org (who, org)) {
        td_call_error (call, TD_ERR_NOT_FOUND, NULL, "no such organisation");
        return -1;
    }
    return 0;
}

//  The org exists (system sees ids of orgs that may not exist; members' orgs do). 0 or -1.
static int
s_org_exists (td_actor_t *self, td_call_t *call, const char *org)
{
    const char *p [] = { org };
    PGresult *res = id_exec (call, td_actor_db (self),
        "SELECT 1 FROM identity_orgs WHERE id = $1::uuid", 1, p);
    if (!res)
        return -1;
    int n = PQntuples (res);
    PQclear (res);
    if (n != 1) {
        td_call_error (call, TD_ERR_NOT_FOUND, NULL, "no such organisation");
        return -1;
    }
    return 0;
}

//  Answer a page {items, next_cursor} from rows (cursor id, item JSON) fetched with limit + 1.
static int
s_reply_page (td_call_t *call, PGresult *res, int limit)
{
    json_t *items = json_array ();
    int n = PQntuples (res);
    for (int i = 0; i < n && i < limit; i++) {
        json_t *item = json_loads (PQgetvalue (res, i, 1), 0, NULL);
        if (item)
            json_array_append_new (items, item);
    }
    json_t *next = n > limit? json_string (PQgetvalue (res, limit - 1, 0)): json_null ();
    return id_reply_json (call, 200, json_pack ("{s:o, s:o}", "items", items, "next_cursor", next));
}

int
id_org_create (td_actor_t *self, td_call_t *call)
{
    td_principal_t *who = s_caller (call);
    if (!who)
        return TD_ACTOR_OK;
    char user [ID_UUID_LEN + 1] = "";
    td_principal_kind_t kind = td_principal_kind (who);
    if (kind == TD_PRINCIPAL_USER)
        snprintf (user, sizeof user, "%s", td_principal_user (who));
    td_principal_destroy (&who);
    if (kind == TD_PRINCIPAL_API_KEY)
        return td_call_error (call, TD_ERR_FORBIDDEN, NULL,
                              "an API key cannot create organisations"), TD_ACTOR_OK;
    if (kind == TD_PRINCIPAL_USER && !id_uuid_valid (user))
        return td_call_error (call, TD_ERR_UNAUTHORIZED, NULL, "unknown user"), TD_ACTOR_OK;
    const msgpack_object *body = id_body (call);
    char name [ID_MAX_NAME + 1], slug [65];
    if (!body || id_field_str (call, body, "name", 1, ID_MAX_NAME, name, sizeof name)
    ||  id_field_str (call, body, "slug", 1, 64, slug, sizeof slug))
        return TD_ACTOR_OK;
    if (!id_slug_valid (slug))
        return td_call_error (call, TD_ERR_INVALID_INPUT, "slug",
                              "field 'slug' must be 3 to 64 characters a-z, 0-9 and -"), TD_ACTOR_OK;
    const char *p [] = { slug, name, *user? user: NULL };
    PGresult *res = td_db_exec (td_actor_db (self), td_call_rid (call),
        "WITH o AS (INSERT INTO identity_orgs (slug, name) VALUES ($1, $2) RETURNING *), "
        "     m AS (INSERT INTO identity_memberships (org_id, user_id, role) "
        "           SELECT id, $3::uuid, 'admin' FROM o WHERE $3::uuid IS NOT NULL) "
        "SELECT o.id::text, json_build_object('id', o.id, 'slug', o.slug, 'name', o.name, "
        "       'created_at', identity_rfc3339(o.created_at), "
        "       'role', CASE WHEN $3::uuid IS NULL THEN NULL ELSE 'admin' END)::text FROM o",
        3, p);
    if (!res) {
        if (strcmp (td_db_last_sqlstate (td_actor_db (self)), "23505") == 0)
            return td_call_error (call, TD_ERR_CONFLICT, "slug",
                                  "an organisation with this slug already exists"), TD_ACTOR_OK;
        return id_reply_db_error (call, td_actor_db (self)), TD_ACTOR_OK;
    }
    if (PQntuples (res) == 1) {
        id_auth_barrier (self, call);
        if (*user)
            id_publish (self, "identity.member_added", PQgetvalue (res, 0, 0), user,
                        json_pack ("{s:s}", "role", "admin"));
        id_reply_json_text (call, 201, PQgetvalue (res, 0, 1));
    }
    else
        td_call_error (call, TD_ERR_INTERNAL, NULL, "could not create the organisation");
    PQclear (res);
    return TD_ACTOR_OK;
}

int
id_org_get (td_actor_t *self, td_call_t *call)
{
    td_principal_t *who = s_caller (call);
    char org [ID_UUID_LEN + 1];
    if (!who || id_org_visible (call, who, org)) {
        td_principal_destroy (&who);
        return TD_ACTOR_OK;
    }
    const char *role = td_role_name (td_principal_org_role (who, org));
    const char *p [] = { org, strcmp (role, "none")? role: NULL };
    td_principal_destroy (&who);
    PGresult *res = id_exec (call, td_actor_db (self),
        "SELECT json_build_object('id', o.id, 'slug', o.slug, 'name', o.name, "
        "       'created_at', identity_rfc3339(o.created_at), 'role', $2::text, "
        "       'members', (SELECT count(*) FROM identity_memberships m WHERE m.org_id = o.id), "
        "       'cohorts', (SELECT count(*) FROM identity_cohorts c WHERE c.org_id = o.id))::text "
        "FROM identity_orgs o WHERE o.id = $1::uuid", 2, p);
    if (!res)
        return TD_ACTOR_OK;
    if (PQntuples (res) == 1)
        id_reply_json_text (call, 200, PQgetvalue (res, 0, 0));
    else
        td_call_error (call, TD_ERR_NOT_FOUND, NULL, "no such organisation");
    PQclear (res);
    return TD_ACTOR_OK;
}

int
id_org_members (td_actor_t *self, td_call_t *call)
{
    td_principal_t *who = s_caller (call);
    char org [ID_UUID_LEN + 1], cursor [ID_UUID_LEN + 1], lim [16];
    int limit;
    if (!who || id_org_visible (call, who, org)) {
        td_principal_destroy (&who);
        return TD_ACTOR_OK;
    }
    bool allowed = s_is_admin (who, org) || td_principal_is_org_key (who, org);
    td_principal_destroy (&who);
    if (!allowed)
        return td_call_error (call, TD_ERR_FORBIDDEN, NULL,
                              "only admins may list the members of an organisation"), TD_ACTOR_OK;
    if (id_list_args (call, &limit, cursor) || s_org_exists (self, call, org))
        return TD_ACTOR_OK;
    snprintf (lim, sizeof lim, "%d", limit + 1);
    const char *p [] = { org, cursor, lim };
    PGresult *res = id_exec (call, td_actor_db (self),
        "SELECT m.user_id::text, json_build_object('user_id', m.user_id, 'email', u.email, "
        "       'name', u.name, 'role', m.role, 'joined_at', identity_rfc3339(m.created_at))::text "
        "FROM identity_memberships m JOIN identity_users u ON u.id = m.user_id "
        "WHERE m.org_id = $1::uuid "
        "  AND m.user_id > coalesce(nullif($2, '')::uuid, '00000000-0000-0000-0000-000000000000') "
        "ORDER BY m.user_id LIMIT $3::int", 3, p);
    if (res) {
        s_reply_page (call, res, limit);
        PQclear (res);
    }
    return TD_ACTOR_OK;
}

//  The role field of body, one of allowed (NULL-terminated); -1 when answered.
static int
s_role_field (td_call_t *call, const msgpack_object *body, bool admin_ok, char role [16])
{
    if (id_field_str (call, body, "role", 1, 15, role, 16))
        return -1;
    td_role_t r = td_role_parse (role);
    if (r == TD_ROLE_NONE || (!admin_ok && r == TD_ROLE_ADMIN)) {
        td_call_error (call, TD_ERR_INVALID_INPUT, "role", "field 'role' must be one of %s",
                       admin_ok? "admin, mentor, learner": "mentor, learner");
        return -1;
    }
    return 0;
}

int
id_org_member_add (td_actor_t *self, td_call_t *call)
{
    td_principal_t *who = s_caller (call);
    char org [ID_UUID_LEN + 1];
    if (!who || id_org_visible (call, who, org)) {
        td_principal_destroy (&who);
        return TD_ACTOR_OK;
    }
    bool admin = s_is_admin (who, org);
    td_principal_destroy (&who);
    if (!admin)
        return s_forbidden (call, "add members"), TD_ACTOR_OK;
    const msgpack_object *body = id_body (call);
    char email [ID_MAX_EMAIL + 1], role [16];
    if (!body || id_field_str (call, body, "email", 1, ID_MAX_EMAIL, email, sizeof email)
    ||  s_role_field (call, body, true, role))
        return TD_ACTOR_OK;
    id_lower (email);
    if (s_org_exists (self, call, org))
        return TD_ACTOR_OK;
    const char *p [] = { org, email, role };
    PGresult *res = td_db_exec (td_actor_db (self), td_call_rid (call),
        "WITH u AS (SELECT id, email, name FROM identity_users WHERE lower(email) = $2), "
        "     m AS (INSERT INTO identity_memberships (org_id, user_id, role) "
        "           SELECT $1::uuid, id, $3 FROM u RETURNING *) "
        "SELECT m.user_id::text, json_build_object('user_id', m.user_id, 'email', u.email, "
        "       'name', u.name, 'role', m.role, 'joined_at', identity_rfc3339(m.created_at))::text "
        "FROM m JOIN u ON u.id = m.user_id", 3, p);
    if (!res) {
        if (strcmp (td_db_last_sqlstate (td_actor_db (self)), "23505") == 0)
            return td_call_error (call, TD_ERR_CONFLICT, "email",
                                  "this account is already a member"), TD_ACTOR_OK;
        return id_reply_db_error (call, td_actor_db (self)), TD_ACTOR_OK;
    }
    if (PQntuples (res) == 1) {
        id_auth_barrier (self, call);
        id_publish (self, "identity.member_added", org, PQgetvalue (res, 0, 0),
                    json_pack ("{s:s}", "role", role));
        id_reply_json_text (call, 201, PQgetvalue (res, 0, 1));
    }
    else
        td_call_error (call, TD_ERR_NOT_FOUND, "email", "no account has this email");
    PQclear (res);
    return TD_ACTOR_OK;
}

//  Is user a member of org? 1 yes, 0 no, -1 answered.
static int
s_is_member (td_actor_t *self, td_call_t *call, const char *org, const char *user)
{
    const char *p [] = { org, user };
    PGresult *res = id_exec (call, td_actor_db (self),
        "SELECT 1 FROM identity_memberships WHERE org_id = $1::uuid AND user_id = $2::uuid", 2, p);
    if (!res)
        return -1;
    int n = PQntuples (res);
    PQclear (res);
    return n == 1;
}

int
id_org_member_role (td_actor_t *self, td_call_t *call)
{
    td_principal_t *who = s_caller (call);
    char org [ID_UUID_LEN + 1], user [ID_UUID_LEN + 1], role [16];
    if (!who || id_org_visible (call, who, org)) {
        td_principal_destroy (&who);
        return TD_ACTOR_OK;
    }
    bool admin = s_is_admin (who, org);
    td_principal_destroy (&who);
    if (!admin)
        return s_forbidden (call, "change roles"), TD_ACTOR_OK;
    if (id_path_id (call, "user_id", "member", user))
        return TD_ACTOR_OK;
    const msgpack_object *body = id_body (call);
    if (!body || s_role_field (call, body, true, role))
        return TD_ACTOR_OK;
    const char *p [] = { org, user, role };
    PGresult *res = id_exec (call, td_actor_db (self),
        "UPDATE identity_memberships m SET role = $3 FROM identity_users u "
        "WHERE m.org_id = $1::uuid AND m.user_id = $2::uuid AND u.id = m.user_id "
        "  AND ($3 = 'admin' OR m.role <> 'admin' "
        "       OR (SELECT count(*) FROM identity_memberships a "
        "           WHERE a.org_id = $1::uuid AND a.role = 'admin') > 1) "
        "RETURNING json_build_object('user_id', m.user_id, 'email', u.email, 'name', u.name, "
        "          'role', m.role, 'joined_at', identity_rfc3339(m.created_at))::text", 3, p);
    if (!res)
        return TD_ACTOR_OK;
    if (PQntuples (res) == 1) {
        id_auth_barrier (self, call);
        id_publish (self, "identity.role_changed", org, user, json_pack ("{s:s}", "role", role));
        id_reply_json_text (call, 200, PQgetvalue (res, 0, 0));
        PQclear (res);
        return TD_ACTOR_OK;
    }
    PQclear (res);
    int member = s_is_member (self, call, org, user);
    if (member == 1)
        td_call_error (call, TD_ERR_CONFLICT, "role", "an organisation must keep at least one admin");
    else
    if (member == 0)
        td_call_error (call, TD_ERR_NOT_FOUND, "user_id", "no such member");
    return TD_ACTOR_OK;
}

int
id_org_member_remove (td_actor_t *self, td_call_t *call)
{
    td_principal_t *who = s_caller (call);
    char org [ID_UUID_LEN + 1], user [ID_UUID_LEN + 1];
    if (!who || id_org_visible (call, who, org)) {
        td_principal_destroy (&who);
        return TD_ACTOR_OK;
    }
    bool admin = s_is_admin (who, org);
    td_principal_destroy (&who);
    if (!admin)
        return s_forbidden (call, "remove members"), TD_ACTOR_OK;
    if (id_path_id (call, "user_id", "member", user))
        return TD_ACTOR_OK;
    const char *p [] = { org, user };
    PGresult *res = id_exec (call, td_actor_db (self),
        "WITH d AS (DELETE FROM identity_memberships m "
        "           WHERE m.org_id = $1::uuid AND m.user_id = $2::uuid "
        "             AND (m.role <> 'admin' OR (SELECT count(*) FROM identity_memberships a "
        "                  WHERE a.org_id = $1::uuid AND a.role = 'admin') > 1) "
        "           RETURNING user_id), "
        "     c AS (DELETE FROM identity_cohort_members cm "
        "           WHERE cm.user_id IN (SELECT user_id FROM d) "
        "             AND cm.cohort_id IN (SELECT id FROM identity_cohorts WHERE org_id = $1::uuid)) "
        "SELECT count(*) FROM d", 2, p);
    if (!res)
        return TD_ACTOR_OK;
    bool removed = PQntuples (res) == 1 && strcmp (PQgetvalue (res, 0, 0), "1") == 0;
    PQclear (res);
    if (removed) {
        id_auth_barrier (self, call);
        id_publish (self, "identity.member_removed", org, user, json_object ());
        td_call_reply (call, 204, NULL, 0);
        return TD_ACTOR_OK;
    }
    int member = s_is_member (self, call, org, user);
    if (member == 1)
        td_call_error (call, TD_ERR_CONFLICT, "user_id",
                       "an organisation must keep at least one admin");
    else
    if (member == 0)
        td_call_error (call, TD_ERR_NOT_FOUND, "user_id", "no such member");
    return TD_ACTOR_OK;
}

int
id_cohort_list (td_actor_t *self, td_call_t *call)
{
    td_principal_t *who = s_caller (call);
    char org [ID_UUID_LEN + 1], cursor [ID_UUID_LEN + 1], lim [16];
    int limit;
    if (!who || id_org_visible (call, who, org)) {
        td_principal_destroy (&who);
        return TD_ACTOR_OK;
    }
    bool all = s_is_admin (who, org) || td_principal_is_org_key (who, org);
    char user [ID_UUID_LEN + 1] = "";
    if (!all && td_principal_user (who) && id_uuid_valid (td_principal_user (who)))
        snprintf (user, sizeof user, "%s", td_principal_user (who));
    td_principal_destroy (&who);
    if (id_list_args (call, &limit, cursor) || s_org_exists (self, call, org))
        return TD_ACTOR_OK;
    snprintf (lim, sizeof lim, "%d", limit + 1);
    const char *p [] = { org, cursor, lim, all? "all": "mine", user };
    PGresult *res = id_exec (call, td_actor_db (self),
        "SELECT c.id::text, " S_COHORT_JSON "::text FROM identity_cohorts c "
        "WHERE c.org_id = $1::uuid "
        "  AND c.id > coalesce(nullif($2, '')::uuid, '00000000-0000-0000-0000-000000000000') "
        "  AND ($4 = 'all' OR EXISTS (SELECT 1 FROM identity_cohort_members cm "
        "       WHERE cm.cohort_id = c.id AND cm.user_id = nullif($5, '')::uuid)) "
        "ORDER BY c.id LIMIT $3::int", 5, p);
    if (res) {
        s_reply_page (call, res, limit);
        PQclear (res);
    }
    return TD_ACTOR_OK;
}

int
id_cohort_create (td_actor_t *self, td_call_t *call)
{
    td_principal_t *who = s_caller (call);
    char org [ID_UUID_LEN + 1], name [ID_MAX_NAME + 1];
    if (!who || id_org_visible (call, who, org)) {
        td_principal_destroy (&who);
        return TD_ACTOR_OK;
    }
    bool admin = s_is_admin (who, org);
    td_principal_destroy (&who);
    if (!admin)
        return s_forbidden (call, "create cohorts"), TD_ACTOR_OK;
    const msgpack_object *body = id_body (call);
    if (!body || id_field_str (call, body, "name", 1, ID_MAX_NAME, name, sizeof name))
        return TD_ACTOR_OK;
    if (s_org_exists (self, call, org))
        return TD_ACTOR_OK;
    const char *p [] = { org, name };
    PGresult *res = id_exec (call, td_actor_db (self),
        "INSERT INTO identity_cohorts AS c (org_id, name) VALUES ($1::uuid, $2) "
        "RETURNING c.id::text, " S_COHORT_JSON "::text", 2, p);
    if (!res)
        return TD_ACTOR_OK;
    if (PQntuples (res) == 1)
        id_reply_json_text (call, 201, PQgetvalue (res, 0, 1));
    else
        td_call_error (call, TD_ERR_INTERNAL, NULL, "could not create the cohort");
    PQclear (res);
    return TD_ACTOR_OK;
}

//  The cohort of path "id" and its org, visible to the caller; 0, or -1 (answered 404).
static int
s_cohort_visible (td_actor_t *self, td_call_t *call, const td_principal_t *who,
                  char cohort [ID_UUID_LEN + 1], char org [ID_UUID_LEN + 1])
{
    if (id_path_id (call, "id", "cohort", cohort))
        return -1;
    const char *p [] = { cohort };
    PGresult *res = id_exec (call, td_actor_db (self),
        "SELECT org_id::text FROM identity_cohorts WHERE id = $1::uuid", 1, p);
    if (!res)
        return -1;
    bool found = PQntuples (res) == 1;
    if (found)
        snprintf (org, ID_UUID_LEN + 1, "%s", PQgetvalue (res, 0, 0));
    PQclear (res);
    if (!found || !td_principal_in_org (who, org)
    ||  !(s_is_admin (who, org) || td_principal_is_org_key (who, org)
          || td_principal_cohort_role (who, cohort) != TD_ROLE_NONE)) {
        td_call_error (call, TD_ERR_NOT_FOUND, NULL, "no such cohort");
        return -1;
    }
    return 0;
}

int
id_cohort_get (td_actor_t *self, td_call_t *call)
{
    td_principal_t *who = s_caller (call);
    char cohort [ID_UUID_LEN + 1], org [ID_UUID_LEN + 1];
    if (!who || s_cohort_visible (self, call, who, cohort, org)) {
        td_principal_destroy (&who);
        return TD_ACTOR_OK;
    }
    bool members = s_is_admin (who, org) || td_principal_is_org_key (who, org)
                || td_principal_cohort_role (who, cohort) == TD_ROLE_MENTOR;
    td_principal_destroy (&who);
    const char *p [] = { cohort, members? "yes": "no" };
    PGresult *res = id_exec (call, td_actor_db (self),
        "SELECT json_build_object('id', c.id, 'org', c.org_id, 'name', c.name, "
        "       'created_at', identity_rfc3339(c.created_at), "
        "       'members', CASE WHEN $2 = 'yes' THEN coalesce((SELECT json_agg(json_build_object("
        "           'user_id', cm.user_id, 'email', u.email, 'name', u.name, 'role', cm.role) "
        "           ORDER BY cm.role, u.email) FROM identity_cohort_members cm "
        "           JOIN identity_users u ON u.id = cm.user_id WHERE cm.cohort_id = c.id), '[]') "
        "       END)::text FROM identity_cohorts c WHERE c.id = $1::uuid", 2, p);
    if (!res)
        return TD_ACTOR_OK;
    if (PQntuples (res) == 1)
        id_reply_json_text (call, 200, PQgetvalue (res, 0, 0));
    else
        td_call_error (call, TD_ERR_NOT_FOUND, NULL, "no such cohort");
    PQclear (res);
    return TD_ACTOR_OK;
}

int
id_cohort_member_add (td_actor_t *self, td_call_t *call)
{
    td_principal_t *who = s_caller (call);
    char cohort [ID_UUID_LEN + 1], org [ID_UUID_LEN + 1];
    if (!who || s_cohort_visible (self, call, who, cohort, org)) {
        td_principal_destroy (&who);
        return TD_ACTOR_OK;
    }
    bool admin = s_is_admin (who, org);
    td_principal_destroy (&who);
    if (!admin)
        return s_forbidden (call, "change cohort members"), TD_ACTOR_OK;
    const msgpack_object *body = id_body (call);
    char user [65], email [ID_MAX_EMAIL + 1], role [16];
    int has_user, has_email;
    if (!body
    ||  (has_user = id_field_opt (call, body, "user_id", 1, 64, user, sizeof user)) < 0
    ||  (has_email = id_field_opt (call, body, "email", 1, ID_MAX_EMAIL, email, sizeof email)) < 0)
        return TD_ACTOR_OK;
    if (!has_user && !has_email)
        return td_call_error (call, TD_ERR_INVALID_INPUT, "user_id",
                              "give field 'user_id' or field 'email'"), TD_ACTOR_OK;
    if (s_role_field (call, body, false, role))
        return TD_ACTOR_OK;
    const char *field = has_user? "user_id": "email";
    if (has_user && !id_uuid_valid (user))
        return td_call_error (call, TD_ERR_NOT_FOUND, field,
                              "no member of this organisation has this id"), TD_ACTOR_OK;
    id_lower (user);
    id_lower (email);
    const char *p [] = { org, has_user? user: NULL, has_email? email: NULL, cohort, role };
    PGresult *res = td_db_exec (td_actor_db (self), td_call_rid (call),
        "WITH u AS (SELECT u.id, u.email, u.name FROM identity_users u "
        "           JOIN identity_memberships m ON m.user_id = u.id AND m.org_id = $1::uuid "
        "           WHERE ($2::uuid IS NOT NULL AND u.id = $2::uuid) "
        "              OR ($2::uuid IS NULL AND lower(u.email) = $3) LIMIT 1), "
        "     i AS (INSERT INTO identity_cohort_members (cohort_id, user_id, role) "
        "           SELECT $4::uuid, id, $5 FROM u RETURNING *) "
        "SELECT i.user_id::text, json_build_object('cohort', i.cohort_id, 'user_id', i.user_id, "
        "       'email', u.email, 'name', u.name, 'role', i.role)::text "
        "FROM i JOIN u ON u.id = i.user_id", 5, p);
    if (!res) {
        if (strcmp (td_db_last_sqlstate (td_actor_db (self)), "23505") == 0)
            return td_call_error (call, TD_ERR_CONFLICT, field,
                                  "this user is already in the cohort"), TD_ACTOR_OK;
        return id_reply_db_error (call, td_actor_db (self)), TD_ACTOR_OK;
    }
    if (PQntuples (res) == 1) {
        id_auth_barrier (self, call);
        id_publish (self, "identity.member_added", org, PQgetvalue (res, 0, 0),
                    json_pack ("{s:s, s:s}", "cohort", cohort, "role", role));
        id_reply_json_text (call, 201, PQgetvalue (res, 0, 1));
    }
    else
        td_call_error (call, TD_ERR_NOT_FOUND, field, "no member of this organisation matches");
    PQclear (res);
    return TD_ACTOR_OK;
}

int
id_cohort_member_remove (td_actor_t *self, td_call_t *call)
{
    td_principal_t *who = s_caller (call);
    char cohort [ID_UUID_LEN + 1], org [ID_UUID_LEN + 1], user [ID_UUID_LEN + 1];
    if (!who || s_cohort_visible (self, call, who, cohort, org)) {
        td_principal_destroy (&who);
        return TD_ACTOR_OK;
    }
    bool admin = s_is_admin (who, org);
    td_principal_destroy (&who);
    if (!admin)
        return s_forbidden (call, "change cohort members"), TD_ACTOR_OK;
    if (id_path_id (call, "user_id", "cohort member", user))
        return TD_ACTOR_OK;
    const char *p [] = { cohort, user };
    PGresult *res = id_exec (call, td_actor_db (self),
        "DELETE FROM identity_cohort_members WHERE cohort_id = $1::uuid AND user_id = $2::uuid "
        "RETURNING role", 2, p);
    if (!res)
        return TD_ACTOR_OK;
    if (PQntuples (res) == 1) {
        id_auth_barrier (self, call);
        id_publish (self, "identity.member_removed", org, user,
                    json_pack ("{s:s}", "cohort", cohort));
        td_call_reply (call, 204, NULL, 0);
    }
    else
        td_call_error (call, TD_ERR_NOT_FOUND, "user_id", "no such cohort member");
    PQclear (res);
    return TD_ACTOR_OK;
}
