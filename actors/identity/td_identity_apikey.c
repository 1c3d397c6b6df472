/*  td_identity_apikey — org API keys for server-to-server callers and analysts.
 *
 *  A key is "tdk_" + 8-char prefix + "_" + 43 chars base64url of 32 random bytes. The prefix is
 *  stored in clear (it finds the row and lets admins tell keys apart in lists); the key itself
 *  only as BLAKE2b-256, compared in constant time. The whole key is returned once, by create.
 *  A key acts for its org only: reads under its org are allowed (as IDENTITY.md §2 says), any
 *  change needs an admin; listing, creating and revoking keys is for the org's admins.
 */
#include <stdio.h>
#include <string.h>
#include "td_identity.h"
#include "td_log.h"

#define S_KEY_LEN (4 + 8 + 1 + 43)

static td_principal_t *
s_admin_of_org (td_call_t *call, char org [ID_UUID_LEN + 1])
{
    td_principal_t *who = id_principal (call);
    if (!who)
        return NULL;
    if (td_principal_kind (who) == TD_PRINCIPAL_ANONYMOUS) {
        td_call_error (call, TD_ERR_UNAUTHORIZED, NULL, "sign in first");
        td_principal_destroy (&who);
        return NULL;
    }
    if (id_org_visible (call, who, org)) {
        td_principal_destroy (&who);
        return NULL;
    }
    if (!td_principal_is_org_admin (who, org)) {
        td_call_error (call, TD_ERR_FORBIDDEN, NULL,
                       "only an admin of this organisation may manage its API keys");
        td_principal_destroy (&who);
        return NULL;
    }
    return who;
}

int
id_apikey_list (td_actor_t *self, td_call_t *call)
{
    char org [ID_UUID_LEN + 1], cursor [ID_UUID_LEN + 1], lim [16];
    int limit;
    td_principal_t *who = s_admin_of_org (call, org);
    if (!who)
        return TD_ACTOR_OK;
    td_principal_destroy (&who);
    if (id_list_args (call, &limit, cursor))
        return TD_ACTOR_OK;
    snprintf (lim, sizeof lim, "%d", limit + 1);
    const char *p [] = { org, cursor, lim };
    PGresult *res = id_exec (call, td_actor_db (self),
        "SELECT k.id::text, json_build_object('id', k.id, 'name', k.name, 'prefix', k.prefix, "
        "       'created_at', identity_rfc3339(k.created_at), "
        "       'revoked_at', identity_rfc3339(k.revoked_at), 'revoked', k.revoked_at IS NOT NULL)::text "
        "FROM identity_api_keys k WHERE k.org_id = $1::uuid "
        "  AND k.id > coalesce(nullif($2, '')::uuid, '00000000-0000-0000-0000-000000000000') "
        "ORDER BY k.id LIMIT $3::int", 3, p);
    if (!res)
        return TD_ACTOR_OK;
    json_t *items = json_array ();
    int n = PQntuples (res);
    for (int i = 0; i < n && i < limit; i++) {
        json_t *item = json_loads (PQgetvalue (res, i, 1), 0, NULL);
        if (item)
            json_array_append_new (items, item);
    }
    json_t *next = n > limit? json_string (PQgetvalue (res, limit - 1, 0)): json_null ();
    PQclear (res);
    id_reply_json (call, 200, json_pack ("{s:o, s:o}", "items", items, "next_cursor", next));
    return TD_ACTOR_OK;
}

int
id_apikey_create (td_actor_t *self, td_call_t *call)
{
    char org [ID_UUID_LEN + 1], name [ID_MAX_NAME + 1];
    td_principal_t *who = s_admin_of_org (call, org);
    if (!who)
        return TD_ACTOR_OK;
    char user [ID_UUID_LEN + 1] = "";
    if (td_principal_user (who) && id_uuid_valid (td_principal_user (who)))
        snprintf (user, sizeof user, "%s", td_principal_user (who));
    td_principal_destroy (&who);
    const msgpack_object *body = id_body (call);
    if (!body || id_field_str (call, body, "name", 1, ID_MAX_NAME, name, sizeof name))
        return TD_ACTOR_OK;
    unsigned char pre [6], raw [32], hash [32];
    char key [S_KEY_LEN + 8], prefix [9], hex [67];
    randombytes_buf (pre, sizeof pre);
    randombytes_buf (raw, sizeof raw);
    sodium_bin2base64 (prefix, sizeof prefix, pre, sizeof pre, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    memcpy (key, "tdk_", 4);
    memcpy (key + 4, prefix, 8);
    key [12] = '_';
    sodium_bin2base64 (key + 13, sizeof key - 13, raw, sizeof raw,
                       sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero (raw, sizeof raw);
    id_token_hash (key, hash);
    id_bytea_hex (hash, hex);
    const char *p [] = { org, name, prefix, hex, *user? user: NULL };
    PGresult *res = id_exec (call, td_actor_db (self),
        "INSERT INTO identity_api_keys AS k (org_id, name, prefix, hash, created_by) "
        "SELECT $1::uuid, $2, $3, $4::bytea, $5::uuid "
        "WHERE EXISTS (SELECT 1 FROM identity_orgs WHERE id = $1::uuid) "
        "RETURNING k.id::text, identity_rfc3339(k.created_at)", 5, p);
    if (!res) {
        sodium_memzero (key, sizeof key);
        return TD_ACTOR_OK;
    }
    if (PQntuples (res) == 1) {
        id_publish (self, "identity.key_created", org, *user? user: NULL,
                    json_pack ("{s:s, s:s}", "key", PQgetvalue (res, 0, 0), "prefix", prefix));
        id_reply_json (call, 201, json_pack ("{s:s, s:s, s:s, s:s, s:s}",
            "id", PQgetvalue (res, 0, 0), "name", name, "prefix", prefix, "key", key,
            "created_at", PQgetvalue (res, 0, 1)));
    }
    else
        td_call_error (call, TD_ERR_NOT_FOUND, NULL, "no such organisation");
    PQclear (res);
    sodium_memzero (key, sizeof key);
    return TD_ACTOR_OK;
}

int
id_apikey_revoke (td_actor_t *self, td_call_t *call)
{
    char org [ID_UUID_LEN + 1], key [ID_UUID_LEN + 1];
    td_principal_t *who = s_admin_of_org (call, org);
    if (!who)
        return TD_ACTOR_OK;
    char user [ID_UUID_LEN + 1] = "";
    if (td_principal_user (who))
        snprintf (user, sizeof user, "%s", td_principal_user (who));
    td_principal_destroy (&who);
    if (id_path_id (call, "key_id", "API key", key))
        return TD_ACTOR_OK;
    const char *p [] = { key, org };
    //  Revoking twice is fine (204); a key of another org is not found.
    PGresult *res = id_exec (call, td_actor_db (self),
        "WITH k AS (SELECT id, revoked_at FROM identity_api_keys "
        "           WHERE id = $1::uuid AND org_id = $2::uuid), "
        "     r AS (UPDATE identity_api_keys SET revoked_at = now() "
        "           WHERE id IN (SELECT id FROM k WHERE revoked_at IS NULL) RETURNING id) "
        "SELECT (SELECT count(*) FROM k), (SELECT count(*) FROM r)", 2, p);
    if (!res)
        return TD_ACTOR_OK;
    bool exists = strcmp (PQgetvalue (res, 0, 0), "1") == 0;
    bool revoked = strcmp (PQgetvalue (res, 0, 1), "1") == 0;
    PQclear (res);
    if (!exists)
        return td_call_error (call, TD_ERR_NOT_FOUND, NULL, "no such API key"), TD_ACTOR_OK;
    if (revoked) {
        id_auth_barrier (self, call);
        id_publish (self, "identity.key_revoked", org, *user? user: NULL,
                    json_pack ("{s:s}", "key", key));
    }
    td_call_reply (call, 204, NULL, 0);
    return TD_ACTOR_OK;
}

int
id_apikey_verify (td_actor_t *self, td_call_t *call, const char *key)
{
    if (strlen (key) != S_KEY_LEN || key [12] != '_')
        return td_call_error (call, TD_ERR_UNAUTHORIZED, "token", "the API key is invalid");
    char prefix [9], hex [67];
    memcpy (prefix, key + 4, 8);
    prefix [8] = 0;
    unsigned char hash [32];
    id_token_hash (key, hash);
    id_bytea_hex (hash, hex);
    const char *p [] = { prefix };
    PGresult *res = id_exec (call, td_actor_db (self),
        "SELECT id::text, org_id::text, hash::text FROM identity_api_keys "
        "WHERE prefix = $1 AND revoked_at IS NULL", 1, p);
    if (!res)
        return -1;
    bool ok = PQntuples (res) == 1 && strlen (PQgetvalue (res, 0, 2)) == 66
           && sodium_memcmp (PQgetvalue (res, 0, 2), hex, 66) == 0;
    if (ok)
        id_reply_json (call, 200, json_pack ("{s:s, s:s, s:s, s:I}", "kind", "api_key",
                                             "key", PQgetvalue (res, 0, 0),
                                             "org", PQgetvalue (res, 0, 1),
                                             "valid_until", (json_int_t) (td_now_ms () / 1000
                                                                          + ID_APIKEY_CACHE_S)));
    else
        td_call_error (call, TD_ERR_UNAUTHORIZED, "token", "the API key is invalid or revoked");
    PQclear (res);
    return 0;
}
