/*  td_identity_seed — `org.seed` (system only): an organisation with its people and cohorts,
 *  as seed data describes it (issue 4 §6: "a demo org with a cohort, a mentor and learners").
 *
 *  Seed data goes through the broker like any request (CONTRACT.md §6), and `tutorctl seed`
 *  runs at every `tools/up`, so the verb is an idempotent upsert keyed by natural keys:
 *    {"slug", "name",
 *     "members": [{"email", "name", "password", "role": "admin"|"mentor"|"learner"}],
 *     "cohorts": [{"name", "members": [{"email", "role": "mentor"|"learner"}]}]}
 *  Users are found by email (case-insensitive) and created when missing, with the given
 *  password hashed (argon2id) — an existing user's name and password are never changed, so a
 *  seed cannot take over an account; the org is found by slug (its name updated); memberships and
 *  cohort memberships are set to the given roles; a cohort is found by name within the org.
 *  Each step is one idempotent statement: a run cut short is completed by the next run.
 *  Everything is validated before anything is written. Answers 200 {org_id, users: {email: id},
 *  cohorts: {name: id}}.
 */
#include <string.h>
#include "td_identity.h"
#include "td_json.h"
#include "td_log.h"

#define S_MAX_MEMBERS 500
#define S_MAX_COHORTS 100

static const char *
s_str (const json_t *o, const char *key, size_t min, size_t max)
{
    const json_t *v = json_object_get (o, key);
    if (!json_is_string (v))
        return NULL;
    size_t n = json_string_length (v);
    return n >= min && n <= max? json_string_value (v): NULL;
}

static bool
s_role_ok (const char *role, bool cohort)
{
    return role && (strcmp (role, "learner") == 0 || strcmp (role, "mentor") == 0
                    || (!cohort && strcmp (role, "admin") == 0));
}

//  Check the whole description; 0, or -1 after answering 400 with the field at fault.
static int
s_validate (td_call_t *call, const json_t *body)
{
    char field [96];
    const char *why = NULL;
    if (!json_is_object (body))
        return td_call_error (call, TD_ERR_INVALID_INPUT, "body", "the org must be a JSON object"), -1;
    const char *slug = s_str (body, "slug", 3, 64);
    if (!slug || !id_slug_valid (slug))
        return td_call_error (call, TD_ERR_INVALID_INPUT, "slug",
                              "field 'slug' must be 3 to 64 characters a-z, 0-9 and -"), -1;
    if (!s_str (body, "name", 1, ID_MAX_NAME))
        return td_call_error (call, TD_ERR_INVALID_INPUT, "name",
                              "field 'name' must be 1 to %d bytes", ID_MAX_NAME), -1;
    const json_t *members = json_object_get (body, "members");
    if (!json_is_array (members) || json_array_size (members) > S_MAX_MEMBERS)
        return td_call_error (call, TD_ERR_INVALID_INPUT, "members",
                              "field 'members' must be a list of at most %d people",
                              S_MAX_MEMBERS), -1;
    size_t i;
    const json_t *m;
    json_array_foreach (members, i, m) {
        snprintf (field, sizeof field, "members[%zu]", i);
        const char *email = s_str (m, "email", 3, ID_MAX_EMAIL);
        if (!json_is_object (m))
            why = "must be an object";
        else
        if (!email || !id_email_valid (email))
            why = "needs a valid 'email'";
        else
        if (!s_str (m, "name", 1, ID_MAX_NAME))
            why = "needs a 'name' of 1 to 200 bytes";
        else
        if (!s_str (m, "password", ID_MIN_PASSWORD, ID_MAX_PASSWORD))
            why = "needs a 'password' of at least 8 characters";
        else
        if (!s_role_ok (s_str (m, "role", 1, 16), false))
            why = "needs a 'role': admin, mentor or learner";
        if (why)
            return td_call_error (call, TD_ERR_INVALID_INPUT, field, "%s %s", field, why), -1;
    }
    const json_t *cohorts = json_object_get (body, "cohorts");
    if (cohorts && !(json_is_array (cohorts) && json_array_size (cohorts) <= S_MAX_COHORTS))
        return td_call_error (call, TD_ERR_INVALID_INPUT, "cohorts",
                              "field 'cohorts' must be a list of at most %d cohorts",
                              S_MAX_COHORTS), -1;
    const json_t *c;
    json_array_foreach (cohorts, i, c) {
        snprintf (field, sizeof field, "cohorts[%zu]", i);
        const json_t *cm = json_object_get (c, "members");
        if (!json_is_object (c) || !s_str (c, "name", 1, ID_MAX_NAME) || !json_is_array (cm))
            return td_call_error (call, TD_ERR_INVALID_INPUT, field, "%s needs a 'name' and a "
                                  "list of 'members'", field), -1;
        size_t k;
        const json_t *x;
        json_array_foreach (cm, k, x) {
            const char *email = s_str (x, "email", 3, ID_MAX_EMAIL);
            bool known = false;
            size_t j;
            json_array_foreach (members, j, m)
                if (email && strcasecmp (email, s_str (m, "email", 3, ID_MAX_EMAIL)) == 0)
                    known = true;
            if (!known || !s_role_ok (s_str (x, "role", 1, 16), true)) {
                snprintf (field, sizeof field, "cohorts[%zu].members[%zu]", i, k);
                return td_call_error (call, TD_ERR_INVALID_INPUT, field, "%s must be one of the "
                                      "org's members with a role mentor or learner", field), -1;
            }
        }
    }
    return 0;
}

//  The id of the user with this email, creating them when missing. 0, or -1 (answered).
static int
s_user (td_actor_t *self, td_call_t *call, const json_t *m, char id [ID_UUID_LEN + 1])
{
    id_state_t *st = (id_state_t *) td_actor_state (self);
    td_db_t *db = td_actor_db (self);
    const char *email = s_str (m, "email", 3, ID_MAX_EMAIL);
    const char *find [] = { email };
    PGresult *res = id_exec (call, db, "SELECT id::text FROM identity_users "
                                       "WHERE lower(email) = lower($1)", 1, find);
    if (!res)
        return -1;
    if (PQntuples (res) == 0) {
        PQclear (res);
        char hash [crypto_pwhash_STRBYTES];
        if (id_password_hash (st->cfg, s_str (m, "password", ID_MIN_PASSWORD, ID_MAX_PASSWORD),
                              hash) != 0)
            return td_call_error (call, TD_ERR_INTERNAL, NULL, "cannot hash a password"), -1;
        const char *ins [] = { email, s_str (m, "name", 1, ID_MAX_NAME), hash };
        res = id_exec (call, db,
            "WITH n AS (INSERT INTO identity_users (email, name, password_hash) "
            "           VALUES ($1, $2, $3) ON CONFLICT ((lower(email))) DO NOTHING RETURNING id) "
            "SELECT id::text FROM n UNION ALL "
            "SELECT id::text FROM identity_users WHERE lower(email) = lower($1) LIMIT 1", 3, ins);
        sodium_memzero (hash, sizeof hash);
        if (!res)
            return -1;
    }
    if (PQntuples (res) != 1) {
        PQclear (res);
        return td_call_error (call, TD_ERR_INTERNAL, NULL, "a seeded user could not be found"), -1;
    }
    snprintf (id, ID_UUID_LEN + 1, "%s", PQgetvalue (res, 0, 0));
    PQclear (res);
    return 0;
}

int
id_org_seed (td_actor_t *self, td_call_t *call)
{
    if (!id_require_system (call, "org.seed", "seed data (system)"))
        return TD_ACTOR_OK;
    td_error_t err;
    td_error_clear (&err);
    //  the request body itself is the org (seed records and the trusted broker plane send it
    //  as is; no REST route leads here)
    const msgpack_object *raw = td_call_body (call);
    json_t *body = raw? td_mp_to_json (raw, &err): NULL;
    if (!body || s_validate (call, body) != 0) {
        if (!body)
            td_call_error (call, TD_ERR_INVALID_INPUT, "body", "%s", err.message);
        json_decref (body);
        return TD_ACTOR_OK;
    }
    td_db_t *db = td_actor_db (self);
    json_t *users = json_object (), *cohort_ids = json_object ();
    char org [ID_UUID_LEN + 1] = "";
    const char *op [] = { s_str (body, "slug", 3, 64), s_str (body, "name", 1, ID_MAX_NAME) };
    PGresult *res = id_exec (call, db,
        "INSERT INTO identity_orgs (slug, name) VALUES ($1, $2) "
        "ON CONFLICT (slug) DO UPDATE SET name = EXCLUDED.name RETURNING id::text", 2, op);
    //  every failure below is answered where it happens (id_exec answers its own)
    bool ok = res && PQntuples (res) == 1 && users && cohort_ids;
    if (ok)
        snprintf (org, sizeof org, "%s", PQgetvalue (res, 0, 0));
    else
    if (res)
        td_call_error (call, TD_ERR_INTERNAL, NULL, "the org could not be seeded");
    if (res)
        PQclear (res);
    size_t i;
    const json_t *m;
    json_array_foreach (json_object_get (body, "members"), i, m) {
        char uid [ID_UUID_LEN + 1];
        if (!ok || s_user (self, call, m, uid) != 0) {
            ok = false;
            break;
        }
        const char *mp [] = { org, uid, s_str (m, "role", 1, 16) };
        res = id_exec (call, db,
            "INSERT INTO identity_memberships (org_id, user_id, role) "
            "VALUES ($1::uuid, $2::uuid, $3) "
            "ON CONFLICT (org_id, user_id) DO UPDATE SET role = EXCLUDED.role", 3, mp);
        ok = res != NULL;
        if (res)
            PQclear (res);
        char email [ID_MAX_EMAIL + 1];
        snprintf (email, sizeof email, "%s", s_str (m, "email", 3, ID_MAX_EMAIL));
        id_lower (email);
        json_object_set_new (users, email, json_string (uid));
    }
    const json_t *c;
    json_array_foreach (json_object_get (body, "cohorts"), i, c) {
        if (!ok)
            break;
        const char *cp [] = { org, s_str (c, "name", 1, ID_MAX_NAME) };
        res = id_exec (call, db,
            "WITH f AS (SELECT id FROM identity_cohorts WHERE org_id = $1::uuid AND name = $2 "
            "           ORDER BY created_at, id LIMIT 1), "
            "     n AS (INSERT INTO identity_cohorts (org_id, name) SELECT $1::uuid, $2 "
            "           WHERE NOT EXISTS (SELECT 1 FROM f) RETURNING id) "
            "SELECT id::text FROM f UNION ALL SELECT id::text FROM n", 2, cp);
        ok = res && PQntuples (res) == 1;
        char cid [ID_UUID_LEN + 1] = "";
        if (ok)
            snprintf (cid, sizeof cid, "%s", PQgetvalue (res, 0, 0));
        else
        if (res)
            td_call_error (call, TD_ERR_INTERNAL, NULL, "a cohort could not be seeded");
        if (res)
            PQclear (res);
        if (ok)
            json_object_set_new (cohort_ids, s_str (c, "name", 1, ID_MAX_NAME), json_string (cid));
        size_t k;
        const json_t *x;
        json_array_foreach (json_object_get (c, "members"), k, x) {
            if (!ok)
                break;
            char email [ID_MAX_EMAIL + 1];
            snprintf (email, sizeof email, "%s", s_str (x, "email", 3, ID_MAX_EMAIL));
            id_lower (email);
            const char *cmp [] = { cid, json_string_value (json_object_get (users, email)),
                                   s_str (x, "role", 1, 16) };
            res = id_exec (call, db,
                "INSERT INTO identity_cohort_members (cohort_id, user_id, role) "
                "VALUES ($1::uuid, $2::uuid, $3) "
                "ON CONFLICT (cohort_id, user_id) DO UPDATE SET role = EXCLUDED.role", 3, cmp);
            ok = res != NULL;
            if (res)
                PQclear (res);
        }
    }
    json_decref (body);
    if (!ok) {                      //  answered where it failed; the next run completes it
        json_decref (users);
        json_decref (cohort_ids);
        return TD_ACTOR_OK;
    }
    id_auth_barrier (self, call);
    td_info ("identity", td_call_rid (call), "org %s seeded: %zu people, %zu cohorts", org,
             json_object_size (users), json_object_size (cohort_ids));
    return id_reply_json (call, 200, json_pack ("{s:s, s:o, s:o}", "org_id", org, "users", users,
                                                "cohorts", cohort_ids));
}
