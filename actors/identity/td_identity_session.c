/*  td_identity_session — accounts and sign-in: register, login, refresh, logout, password
 *  change, me, and auth.verify (the bridge's question "who is this bearer?").
 *
 *  A session is one sign-in and the family of the refresh tokens rotated from it (IDENTITY.md §1).
 *  State of a refresh token:  issued --refresh--> rotated (a new one issued in the same session)
 *                                    --reuse of a rotated one--> session revoked (whole family)
 *  Access tokens carry the session id; auth.verify checks the session row on every call, so a
 *  revoked session (logout, password change, reuse) is refused at once by any bridge in any
 *  process. The rotation is one UPDATE ... WHERE rotated_at IS NULL, so two workers racing with
 *  the same token cannot both win.
 *
 *  Secrets handled here (passwords, refresh tokens) are wiped from the stack after use and never
 *  logged; failures are answered with one sentence that does not tell which part was wrong.
 */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include "td_identity.h"
#include "td_json.h"
#include "td_log.h"
#include "td_mp.h"

#define S_REFRESH_PREFIX "tdr_"

//  Password rule: 8..1024 bytes and at least 8 characters (UTF-8 code points).
static int
s_password_field (td_call_t *call, const msgpack_object *body, const char *key,
                  char buf [ID_MAX_PASSWORD + 1], bool check_rule)
{
    if (id_field_str (call, body, key, 1, ID_MAX_PASSWORD, buf, ID_MAX_PASSWORD + 1))
        return -1;
    if (check_rule) {
        size_t chars = 0;
        for (const char *p = buf; *p; p++)
            if (((unsigned char) *p & 0xc0) != 0x80)
                chars++;
        if (chars < ID_MIN_PASSWORD) {
            td_call_error (call, TD_ERR_INVALID_INPUT, key,
                           "field '%s' must have at least %d characters", key, ID_MIN_PASSWORD);
            return -1;
        }
    }
    return 0;
}

//  16-byte keyed hash of an email for events: correlates attempts without revealing the address.
static void
s_email_hash (const td_config_t *cfg, const char *email, char hex [33])
{
    unsigned char key [crypto_generichash_KEYBYTES], out [16];
    crypto_generichash (key, sizeof key, (const unsigned char *) cfg->secret, strlen (cfg->secret),
                        (const unsigned char *) "tutord-email-hash", 17);
    crypto_generichash (out, sizeof out, (const unsigned char *) email, strlen (email), key, sizeof key);
    sodium_bin2hex (hex, 33, out, sizeof out);
}

//  A fresh refresh token and the hex bytea of its hash.
static void
s_new_refresh (char token [64], char hash_hex [67])
{
    unsigned char raw [32], hash [32];
    randombytes_buf (raw, sizeof raw);
    memcpy (token, S_REFRESH_PREFIX, 4);
    sodium_bin2base64 (token + 4, 60, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    id_token_hash (token, hash);
    id_bytea_hex (hash, hash_hex);
    sodium_memzero (raw, sizeof raw);
}

//  Sign an access token for user/session into out (as "token").
static int
s_put_access (td_actor_t *self, td_call_t *call, const char *user, const char *session, json_t *out)
{
    const td_config_t *cfg = td_actor_config (self);
    int ttl = cfg->access_ttl_s > 0? cfg->access_ttl_s: 900;
    int64_t now = td_now_ms () / 1000;
    char jwt [ID_JWT_MAX];
    if (id_jwt_sign (cfg->secret, user, session, now, now + ttl, jwt, sizeof jwt)) {
        td_call_error (call, TD_ERR_INTERNAL, NULL, "could not sign a token");
        return -1;
    }
    json_object_set_new (out, "token", json_string (jwt));
    json_object_set_new (out, "token_type", json_string ("Bearer"));
    json_object_set_new (out, "expires_in", json_integer (ttl));
    return 0;
}

static int
s_refresh_ttl (td_actor_t *self)
{
    int ttl = td_actor_config (self)->refresh_ttl_s;
    return ttl > 0? ttl: 30 * 86400;
}

int
id_session_open (td_actor_t *self, td_call_t *call, const char *user, json_t *out)
{
    char token [64], hash_hex [67], ttl [16];
    s_new_refresh (token, hash_hex);
    snprintf (ttl, sizeof ttl, "%d", s_refresh_ttl (self));
    const char *p [] = { user, ttl, hash_hex };
    PGresult *res = id_exec (call, td_actor_db (self),
        "WITH s AS (INSERT INTO identity_sessions (user_id, expires_at) "
        "           VALUES ($1::uuid, now() + make_interval(secs => $2::int)) "
        "           RETURNING id, expires_at) "
        "INSERT INTO identity_refresh_tokens (hash, session_id, expires_at) "
        "SELECT $3::bytea, id, expires_at FROM s RETURNING session_id::text", 3, p);
    if (!res)
        return -1;
    int rc = -1;
    if (PQntuples (res) == 1) {
        rc = s_put_access (self, call, user, PQgetvalue (res, 0, 0), out);
        if (rc == 0)
            json_object_set_new (out, "refresh_token", json_string (token));
    }
    else
        td_call_error (call, TD_ERR_INTERNAL, NULL, "could not open a session");
    PQclear (res);
    sodium_memzero (token, sizeof token);
    return rc;
}

json_t *
id_user_json (td_actor_t *self, td_call_t *call, const char *user)
{
    const char *p [] = { user };
    PGresult *res = id_exec (call, td_actor_db (self),
        "SELECT json_build_object('id', id, 'email', email, 'name', name, "
        "                         'created_at', identity_rfc3339(created_at))::text "
        "FROM identity_users WHERE id = $1::uuid", 1, p);
    if (!res)
        return NULL;
    json_t *j = NULL;
    if (PQntuples (res) == 1)
        j = json_loads (PQgetvalue (res, 0, 0), 0, NULL);
    PQclear (res);
    if (!j)
        td_call_error (call, TD_ERR_INTERNAL, NULL, "could not read the account");
    return j;
}

//  Answer {user, token, refresh_token} for a freshly signed-in user.
static int
s_signed_in (td_actor_t *self, td_call_t *call, const char *user, int status)
{
    json_t *out = json_object ();
    json_t *u = id_user_json (self, call, user);
    if (!u) {
        json_decref (out);
        return TD_ACTOR_OK;
    }
    json_object_set_new (out, "user", u);
    if (id_session_open (self, call, user, out) == 0)
        id_reply_json (call, status, out);
    else
        json_decref (out);
    return TD_ACTOR_OK;
}

int
id_register (td_actor_t *self, td_call_t *call)
{
    const msgpack_object *body = id_body (call);
    char email [ID_MAX_EMAIL + 1], name [ID_MAX_NAME + 1], password [ID_MAX_PASSWORD + 1];
    char hash [crypto_pwhash_STRBYTES];
    if (!body
    ||  id_field_str (call, body, "email", 1, ID_MAX_EMAIL, email, sizeof email))
        return TD_ACTOR_OK;
    if (!id_email_valid (email))
        return td_call_error (call, TD_ERR_INVALID_INPUT, "email",
                              "field 'email' must be an email address"), TD_ACTOR_OK;
    if (s_password_field (call, body, "password", password, true))
        return TD_ACTOR_OK;
    if (id_field_str (call, body, "name", 1, ID_MAX_NAME, name, sizeof name)) {
        sodium_memzero (password, sizeof password);
        return TD_ACTOR_OK;
    }
    id_lower (email);
    int rc = id_password_hash (td_actor_config (self), password, hash);
    sodium_memzero (password, sizeof password);
    if (rc)
        return td_call_error (call, TD_ERR_INTERNAL, NULL, "could not protect the password"),
               TD_ACTOR_OK;
    const char *p [] = { email, name, hash };
    PGresult *res = td_db_exec (td_actor_db (self), td_call_rid (call),
        "INSERT INTO identity_users (email, name, password_hash) VALUES ($1, $2, $3) "
        "RETURNING id::text", 3, p);
    sodium_memzero (hash, sizeof hash);
    if (!res) {
        if (strcmp (td_db_last_sqlstate (td_actor_db (self)), "23505") == 0)
            return td_call_error (call, TD_ERR_CONFLICT, "email",
                                  "an account with this email already exists"), TD_ACTOR_OK;
        return id_reply_db_error (call, td_actor_db (self)), TD_ACTOR_OK;
    }
    char user [ID_UUID_LEN + 1];
    snprintf (user, sizeof user, "%s", PQntuples (res) == 1? PQgetvalue (res, 0, 0): "");
    PQclear (res);
    id_publish (self, "identity.registered", NULL, user, json_pack ("{s:s}", "method", "password"));
    return s_signed_in (self, call, user, 201);
}

int
id_login (td_actor_t *self, td_call_t *call)
{
    id_state_t *st = td_actor_state (self);
    const msgpack_object *body = id_body (call);
    char email [ID_MAX_EMAIL + 1], password [ID_MAX_PASSWORD + 1], ip [64];
    if (!body
    ||  id_field_str (call, body, "email", 1, ID_MAX_EMAIL, email, sizeof email)
    ||  s_password_field (call, body, "password", password, false))
        return TD_ACTOR_OK;
    id_lower (email);
    id_client_ip (call, ip, sizeof ip);
    int wait = id_limits_check (self, call, email, ip);
    if (wait != 0) {
        sodium_memzero (password, sizeof password);
        if (wait > 0)
            td_call_error_retry (call, TD_ERR_RATE_LIMITED, wait, NULL,
                                 "too many failed logins; try again in %d seconds", wait);
        return TD_ACTOR_OK;
    }
    const char *p [] = { email };
    PGresult *res = id_exec (call, td_actor_db (self),
        "SELECT id::text, coalesce(password_hash, '') FROM identity_users "
        "WHERE lower(email) = $1", 1, p);
    if (!res) {
        sodium_memzero (password, sizeof password);
        return TD_ACTOR_OK;
    }
    bool found = PQntuples (res) == 1;
    char user [ID_UUID_LEN + 1] = "";
    bool ok;
    if (found) {
        snprintf (user, sizeof user, "%s", PQgetvalue (res, 0, 0));
        const char *hash = PQgetvalue (res, 0, 1);
        if (*hash)
            ok = id_password_verify (hash, password);
        else {                      //  a Google-only account: same cost, always refused
            (void) id_password_verify (st->dummy_hash, password);
            ok = false;
        }
    }
    else {
        (void) id_password_verify (st->dummy_hash, password);   //  same cost either way
        ok = false;
    }
    PQclear (res);
    sodium_memzero (password, sizeof password);
    if (!ok) {
        id_limits_fail (self, call, email, ip);
        char eh [33];
        s_email_hash (st->cfg, email, eh);
        id_publish (self, "identity.login_failed", NULL, found? user: NULL,
                    json_pack ("{s:s, s:s?, s:s}", "email_hash", eh, "ip", *ip? ip: NULL,
                               "reason", found? "bad_password": "unknown_account"));
        return td_call_error (call, TD_ERR_UNAUTHORIZED, NULL, "the email or password is wrong"),
               TD_ACTOR_OK;
    }
    id_limits_clear (self, call, email);
    return s_signed_in (self, call, user, 200);
}

static void
s_revoke_session (td_actor_t *self, td_call_t *call, const char *session, const char *user,
                  const char *why)
{
    const char *p [] = { session, why };
    PGresult *res = td_db_exec (td_actor_db (self), td_call_rid (call),
        "UPDATE identity_sessions SET revoked_at = now(), revoked_why = $2 "
        "WHERE id = $1::uuid AND revoked_at IS NULL RETURNING user_id::text", 2, p);
    if (res && PQntuples (res) == 1) {
        id_auth_barrier (self, call);
        id_publish (self, "identity.session_revoked", NULL, user? user: PQgetvalue (res, 0, 0),
                    json_pack ("{s:s, s:s}", "session", session, "reason", why));
    }
    PQclear (res);
}

int
id_refresh (td_actor_t *self, td_call_t *call)
{
    const msgpack_object *body = id_body (call);
    char token [128];
    if (!body || id_field_str (call, body, "refresh_token", 1, 100, token, sizeof token))
        return TD_ACTOR_OK;
    unsigned char hash [32];
    char old_hex [67], new_token [64], new_hex [67], ttl [16];
    id_token_hash (token, hash);
    id_bytea_hex (hash, old_hex);
    sodium_memzero (token, sizeof token);
    s_new_refresh (new_token, new_hex);
    snprintf (ttl, sizeof ttl, "%d", s_refresh_ttl (self));
    const char *p [] = { old_hex, new_hex, ttl };
    //  Rotate: mark the presented token used and issue its successor, in one statement; only a
    //  live, unrotated token of a live session qualifies.
    PGresult *res = id_exec (call, td_actor_db (self),
        "WITH old AS (UPDATE identity_refresh_tokens t SET rotated_at = now() "
        "             FROM identity_sessions s "
        "             WHERE t.hash = $1::bytea AND t.rotated_at IS NULL AND t.expires_at > now() "
        "               AND s.id = t.session_id AND s.revoked_at IS NULL AND s.expires_at > now() "
        "             RETURNING t.session_id, s.user_id), "
        "     ext AS (UPDATE identity_sessions SET expires_at = now() + make_interval(secs => $3::int) "
        "             WHERE id IN (SELECT session_id FROM old)) "
        "INSERT INTO identity_refresh_tokens (hash, session_id, expires_at) "
        "SELECT $2::bytea, session_id, now() + make_interval(secs => $3::int) FROM old "
        "RETURNING session_id::text, (SELECT user_id::text FROM old)", 3, p);
    if (!res) {
        sodium_memzero (new_token, sizeof new_token);
        return TD_ACTOR_OK;
    }
    if (PQntuples (res) == 1) {
        json_t *out = json_object ();
        if (s_put_access (self, call, PQgetvalue (res, 0, 1), PQgetvalue (res, 0, 0), out) == 0) {
            json_object_set_new (out, "refresh_token", json_string (new_token));
            id_reply_json (call, 200, out);
        }
        else
            json_decref (out);
        PQclear (res);
        sodium_memzero (new_token, sizeof new_token);
        return TD_ACTOR_OK;
    }
    PQclear (res);
    sodium_memzero (new_token, sizeof new_token);
    //  Not rotatable: a rotated token presented again is reuse, and its family is revoked.
    const char *q [] = { old_hex };
    res = id_exec (call, td_actor_db (self),
        "SELECT session_id::text FROM identity_refresh_tokens "
        "WHERE hash = $1::bytea AND rotated_at IS NOT NULL", 1, q);
    if (!res)
        return TD_ACTOR_OK;
    if (PQntuples (res) == 1) {
        char session [ID_UUID_LEN + 1];
        snprintf (session, sizeof session, "%s", PQgetvalue (res, 0, 0));
        td_warn (td_actor_name (self), td_call_rid (call),
                 "refresh token reused: session %s revoked", session);
        s_revoke_session (self, call, session, NULL, "refresh_reuse");
    }
    PQclear (res);
    return td_call_error (call, TD_ERR_UNAUTHORIZED, "refresh_token",
                          "the refresh token is invalid, expired or already used"), TD_ACTOR_OK;
}

//  The calling user, or NULL after answering 401.
static td_principal_t *
s_user (td_call_t *call)
{
    td_principal_t *who = id_principal (call);
    if (who && td_principal_kind (who) != TD_PRINCIPAL_USER) {
        td_principal_destroy (&who);
        td_call_error (call, TD_ERR_UNAUTHORIZED, NULL, "this needs a signed-in user");
    }
    return who;
}

int
id_logout (td_actor_t *self, td_call_t *call)
{
    td_principal_t *who = s_user (call);
    if (!who)
        return TD_ACTOR_OK;
    const char *session = td_principal_session (who);
    if (!session || !id_uuid_valid (session))
        td_call_error (call, TD_ERR_UNAUTHORIZED, NULL, "this needs a user's session token");
    else {
        s_revoke_session (self, call, session, td_principal_user (who), "logout");
        td_call_reply (call, 204, NULL, 0);
    }
    td_principal_destroy (&who);
    return TD_ACTOR_OK;
}

int
id_password_change (td_actor_t *self, td_call_t *call)
{
    td_principal_t *who = s_user (call);
    if (!who)
        return TD_ACTOR_OK;
    char user [ID_UUID_LEN + 1];
    snprintf (user, sizeof user, "%s", td_principal_user (who));
    td_principal_destroy (&who);
    const msgpack_object *body = id_body (call);
    char current [ID_MAX_PASSWORD + 1], fresh [ID_MAX_PASSWORD + 1];
    char hash [crypto_pwhash_STRBYTES];
    if (!body || s_password_field (call, body, "current_password", current, false))
        return TD_ACTOR_OK;
    if (s_password_field (call, body, "new_password", fresh, true)) {
        sodium_memzero (current, sizeof current);
        return TD_ACTOR_OK;
    }
    const char *p [] = { user };
    PGresult *res = id_uuid_valid (user)? id_exec (call, td_actor_db (self),
        "SELECT coalesce(password_hash, '') FROM identity_users WHERE id = $1::uuid", 1, p)
        : (td_call_error (call, TD_ERR_UNAUTHORIZED, NULL, "unknown user"), NULL);
    bool ok = res && PQntuples (res) == 1 && id_password_verify (PQgetvalue (res, 0, 0), current);
    bool answered = !res;
    PQclear (res);
    sodium_memzero (current, sizeof current);
    if (!ok) {
        sodium_memzero (fresh, sizeof fresh);
        if (!answered)
            td_call_error (call, TD_ERR_FORBIDDEN, "current_password",
                           "the current password is wrong");
        return TD_ACTOR_OK;
    }
    int rc = id_password_hash (td_actor_config (self), fresh, hash);
    sodium_memzero (fresh, sizeof fresh);
    if (rc)
        return td_call_error (call, TD_ERR_INTERNAL, NULL, "could not protect the password"),
               TD_ACTOR_OK;
    //  New hash and every session revoked in one statement: no window where an old session
    //  outlives the change.
    const char *q [] = { user, hash };
    res = id_exec (call, td_actor_db (self),
        "WITH pw AS (UPDATE identity_users SET password_hash = $2 WHERE id = $1::uuid) "
        "UPDATE identity_sessions SET revoked_at = now(), revoked_why = 'password_changed' "
        "WHERE user_id = $1::uuid AND revoked_at IS NULL", 2, q);
    sodium_memzero (hash, sizeof hash);
    if (!res)
        return TD_ACTOR_OK;
    PQclear (res);
    id_auth_barrier (self, call);
    id_publish (self, "identity.password_changed", NULL, user, json_object ());
    json_t *out = json_object ();
    if (id_session_open (self, call, user, out) == 0)
        id_reply_json (call, 200, out);
    else
        json_decref (out);
    return TD_ACTOR_OK;
}

//  Answer `me` with the JSON text PostgreSQL built, and keep the packed answer for next time.
static void
s_reply_me (td_actor_t *self, td_call_t *call, const char *user, uint64_t epoch,
            const char *text)
{
    td_error_t err;
    td_error_clear (&err);
    json_t *j = td_json_parse (text, strlen (text), TD_MAX_MESSAGE, &err);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    if (j && td_json_to_mp (j, &pk, &err) == 0) {
        id_me_cache_put (self, user, epoch, sb.data, sb.size);
        td_call_reply (call, 200, sb.data, sb.size);
    }
    else
        td_call_error (call, TD_ERR_INTERNAL, NULL, "could not decode the stored data");
    msgpack_sbuffer_destroy (&sb);
    json_decref (j);
}

int
id_me (td_actor_t *self, td_call_t *call)
{
    td_principal_t *who = s_user (call);
    if (!who)
        return TD_ACTOR_OK;
    char user [ID_UUID_LEN + 1];
    snprintf (user, sizeof user, "%s", td_principal_user (who) ? td_principal_user (who) : "");
    void *cached = NULL;
    size_t cached_size = 0;
    uint64_t epoch = 0;
    if (id_uuid_valid (user)
    &&  id_me_cache_get (self, user, &cached, &cached_size, &epoch) == 1) {
        td_principal_destroy (&who);
        td_call_reply (call, 200, cached, cached_size);
        free (cached);
        return TD_ACTOR_OK;
    }
    const char *p [] = { user };
    PGresult *res = id_uuid_valid (p [0])? id_exec_prepared (call, td_actor_db (self), "identity_me",
        "SELECT json_build_object("
        "  'user', json_build_object('id', u.id, 'email', u.email, 'name', u.name, "
        "                            'created_at', identity_rfc3339(u.created_at)), "
        "  'orgs', coalesce((SELECT json_agg(json_build_object('id', o.id, 'slug', o.slug, "
        "                           'name', o.name, 'role', m.role) ORDER BY o.slug) "
        "                    FROM identity_memberships m JOIN identity_orgs o ON o.id = m.org_id "
        "                    WHERE m.user_id = u.id), '[]'), "
        "  'cohorts', coalesce((SELECT json_agg(json_build_object('id', c.id, 'org', c.org_id, "
        "                           'name', c.name, 'role', cm.role) ORDER BY c.name, c.id) "
        "                    FROM identity_cohort_members cm "
        "                    JOIN identity_cohorts c ON c.id = cm.cohort_id "
        "                    WHERE cm.user_id = u.id), '[]'))::text "
        "FROM identity_users u WHERE u.id = $1::uuid", 1, p)
        : (td_call_error (call, TD_ERR_UNAUTHORIZED, NULL, "unknown user"), NULL);
    td_principal_destroy (&who);
    if (!res)
        return TD_ACTOR_OK;
    if (PQntuples (res) == 1)
        s_reply_me (self, call, user, epoch, PQgetvalue (res, 0, 0));
    else
        td_call_error (call, TD_ERR_UNAUTHORIZED, NULL, "the account no longer exists");
    PQclear (res);
    return TD_ACTOR_OK;
}

//  A user's rights in an auth map (IDENTITY.md §2), for identity_users u: memberships, cohorts
//  and mentees. Shared by auth.verify and auth.user so the two maps never differ.
#define ID_RIGHTS_SQL \
    "  'memberships', coalesce((SELECT json_agg(json_build_object('org', m.org_id, 'role', m.role)) " \
    "                           FROM identity_memberships m WHERE m.user_id = u.id), '[]'), " \
    "  'cohorts', coalesce((SELECT json_agg(json_build_object('cohort', cm.cohort_id, " \
    "                           'org', c.org_id, 'role', cm.role)) " \
    "                       FROM identity_cohort_members cm " \
    "                       JOIN identity_cohorts c ON c.id = cm.cohort_id " \
    "                       WHERE cm.user_id = u.id), '[]'), " \
    "  'mentees', coalesce((SELECT json_agg(x.user_id) FROM " \
    "                         (SELECT DISTINCT l.user_id FROM identity_cohort_members mc " \
    "                          JOIN identity_cohort_members l " \
    "                            ON l.cohort_id = mc.cohort_id AND l.role = 'learner' " \
    "                          WHERE mc.user_id = u.id AND mc.role = 'mentor' " \
    "                          LIMIT 10000) x), '[]')"

int
id_auth_verify (td_actor_t *self, td_call_t *call)
{
    char token [ID_MAX_TOKEN + 1];
    if (id_field_str (call, td_call_body (call), "token", 1, ID_MAX_TOKEN, token, sizeof token))
        return TD_ACTOR_OK;
    if (strncmp (token, "tdk_", 4) == 0) {
        id_apikey_verify (self, call, token);
        sodium_memzero (token, sizeof token);
        return TD_ACTOR_OK;
    }
    char sub [TD_MAX_ID + 1], sid [TD_MAX_ID + 1];
    const char *why = "";
    int64_t exp = 0;
    int rc = id_jwt_verify_exp (td_actor_config (self)->secret, token, td_now_ms () / 1000, sub,
                                sid, &exp, &why);
    sodium_memzero (token, sizeof token);
    if (rc != 0 || !id_uuid_valid (sub) || !id_uuid_valid (sid)) {
        td_debug (td_actor_name (self), td_call_rid (call), "token refused: %s", why);
        return td_call_error (call, TD_ERR_UNAUTHORIZED, "token", "the token is invalid or expired"),
               TD_ACTOR_OK;
    }
    char exp_text [24];
    snprintf (exp_text, sizeof exp_text, "%lld", (long long) exp);
    const char *p [] = { sid, sub, exp_text };
    //  valid_until: how long a bridge may keep this answer (the token's exp, or the session's
    //  end when that comes first); revocations before then are notified (schema/0012)
    PGresult *res = id_exec_prepared (call, td_actor_db (self), "identity_verify_v2",
        "SELECT json_build_object('kind', 'user', 'user', u.id, 'session', s.id, 'email', u.email, "
        "  'valid_until', least($3::bigint, floor(extract(epoch FROM s.expires_at))::bigint), "
        ID_RIGHTS_SQL ")::text "
        "FROM identity_sessions s JOIN identity_users u ON u.id = s.user_id "
        "WHERE s.id = $1::uuid AND s.user_id = $2::uuid AND s.revoked_at IS NULL "
        "  AND s.expires_at > now()", 3, p);
    if (!res)
        return TD_ACTOR_OK;
    if (PQntuples (res) == 1)
        id_reply_json_text (call, 200, PQgetvalue (res, 0, 0));
    else
        td_call_error (call, TD_ERR_UNAUTHORIZED, "token", "the session has ended; sign in again");
    PQclear (res);
    return TD_ACTOR_OK;
}

//  auth.user (system only): a user's auth map as it is now, without a session, for work the
//  server does on a user's behalf after their request ended (a generation job's steps:
//  actors/llm/td_llm_gen_run.c), so a role removed meanwhile is seen. valid_until is a minute
//  ahead: the map is for one step, not to be kept.
int
id_auth_user (td_actor_t *self, td_call_t *call)
{
    if (!id_require_system (call, "auth.user", "the server's own actors"))
        return TD_ACTOR_OK;
    char user [TD_MAX_ID + 1];
    if (id_field_str (call, td_call_body (call), "user", 1, TD_MAX_ID, user, sizeof user))
        return TD_ACTOR_OK;
    if (!id_uuid_valid (user))
        return td_call_error (call, TD_ERR_INVALID_INPUT, "user", "user must be a user id"),
               TD_ACTOR_OK;
    char until [24];
    snprintf (until, sizeof until, "%lld", (long long) (td_now_ms () / 1000 + 60));
    const char *p [] = { user, until };
    PGresult *res = id_exec_prepared (call, td_actor_db (self), "identity_auth_user_v1",
        "SELECT json_build_object('kind', 'user', 'user', u.id, 'email', u.email, "
        "  'valid_until', $2::bigint, "
        ID_RIGHTS_SQL ")::text "
        "FROM identity_users u WHERE u.id = $1::uuid", 2, p);
    if (!res)
        return TD_ACTOR_OK;
    if (PQntuples (res) == 1)
        id_reply_json_text (call, 200, PQgetvalue (res, 0, 0));
    else
        td_call_error (call, TD_ERR_NOT_FOUND, "user", "no such user");
    PQclear (res);
    return TD_ACTOR_OK;
}
