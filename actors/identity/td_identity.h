/*  td_identity — what the identity actor's files share: its state, input and reply helpers, and
 *  the handlers each file provides to the verb table in identity.c.
 *
 *  Files: identity.c (verb table, init/fini, tick), td_identity_input.c (reading and checking
 *  request fields, replying JSON), td_identity_jwt.c (HS256 access tokens), td_identity_password.c
 *  (argon2id), td_identity_session.c (register, login, refresh, logout, password, me,
 *  auth.verify), td_identity_org.c (orgs, members, cohorts), td_identity_apikey.c (org API keys),
 *  td_identity_limits.c (login limits), td_identity_google.c (Google sign-in).
 *
 *  Convention: every handler answers its call exactly once and returns TD_ACTOR_OK; helpers that
 *  may fail on bad input answer the call themselves and return -1, so a handler just returns.
 */
#ifndef TD_IDENTITY_H
#define TD_IDENTITY_H

#include <jansson.h>
#include <libpq-fe.h>
#include <sodium.h>
#include <stdbool.h>
#include "td_access.h"
#include "td_actor.h"

//  Input maxima (IDENTITY.md §3).
#define ID_MAX_EMAIL      254
#define ID_MAX_NAME       200
#define ID_MIN_PASSWORD   8
#define ID_MAX_PASSWORD   1024
#define ID_MAX_TOKEN      4096
#define ID_UUID_LEN       36
#define ID_LIST_DEFAULT   50
#define ID_LIST_MAX       200

typedef struct id_google id_google_t;
typedef struct id_listen id_listen_t;

typedef struct {
    const td_config_t *cfg;
    id_listen_t *lsn;               //  td_identity_notify.c: LISTEN thread and `me` cache
    uint64_t barriers, barrier_fails;
    id_google_t *google;            //  NULL when Google sign-in is not configured
    char dummy_hash [crypto_pwhash_STRBYTES];  //  verified against for unknown accounts
    int64_t next_cleanup_ms;
} id_state_t;

//  --- td_identity_input.c ------------------------------------------------------------------
//  The request's "body" sub-map (the JSON body the bridge forwarded). Answers 400 field "body"
//  and returns NULL when it is absent or not a map.
const msgpack_object *id_body (td_call_t *call);
//  A required string field of map within [min, max] bytes copied into buf (bufsize > max).
//  Answers 400 with field and returns -1 when missing, not a string, or out of bounds.
int id_field_str (td_call_t *call, const msgpack_object *map, const char *key, size_t min,
                  size_t max, char *buf, size_t bufsize);
//  The same, optional: 1 when present and copied, 0 when absent/nil, -1 when bad (answered).
int id_field_opt (td_call_t *call, const msgpack_object *map, const char *key, size_t min,
                  size_t max, char *buf, size_t bufsize);
//  A path id (top level of the request body): a UUID. Missing -> 400; not a UUID -> 404 (a
//  thing with that id cannot exist). what names it in the 404 message.
int id_path_id (td_call_t *call, const char *key, const char *what, char buf [ID_UUID_LEN + 1]);
//  limit (1..ID_LIST_MAX, default ID_LIST_DEFAULT) and cursor ("" or a UUID) from the top level.
int id_list_args (td_call_t *call, int *limit, char cursor [ID_UUID_LEN + 1]);
//  The client's address (top-level "client_ip"), "" when absent.
void id_client_ip (td_call_t *call, char *buf, size_t bufsize);
bool id_email_valid (const char *email);
bool id_slug_valid (const char *slug);
bool id_uuid_valid (const char *s);
//  Lowercase ASCII in place.
void id_lower (char *s);
//  The caller as a principal; answers 401 and returns NULL when the auth map is malformed.
td_principal_t *id_principal (td_call_t *call);
//  True when the caller is the system (the server's own actors, seed data); otherwise answers
//  403 "<verb> is for <whom> only" and returns false.
bool id_require_system (td_call_t *call, const char *verb, const char *whom);
//  Answer with a JSON value packed as msgpack (steals j; NULL -> 500).
int id_reply_json (td_call_t *call, int status, json_t *j);
//  Answer with a JSON text (as PostgreSQL builds it).
int id_reply_json_text (td_call_t *call, int status, const char *text);
//  Answer a failed query: 503 unavailable when the database is unreachable, else 500.
int id_reply_db_error (td_call_t *call, td_db_t *db);
//  Run a query; answers the error itself and returns NULL on failure.
PGresult *id_exec (td_call_t *call, td_db_t *db, const char *sql, int n, const char *const *p);
//  The same for a hot query, as a named prepared statement on the actor's connection (prepared
//  on first use and again after a reconnection); falls back to id_exec on any other failure.
PGresult *id_exec_prepared (td_call_t *call, td_db_t *db, const char *name, const char *sql,
                            int n, const char *const *p);
//  Hex-encoded bytea literal ("\\x" + 64 hex) of a 32-byte hash into buf[67].
void id_bytea_hex (const unsigned char hash [32], char buf [67]);
//  BLAKE2b-256 of a token (refresh tokens, API keys).
void id_token_hash (const char *token, unsigned char hash [32]);
//  Publish identity.<what> with org/user (either NULL) and a JSON data object (stolen).
void id_publish (td_actor_t *self, const char *type, const char *org, const char *user,
                 json_t *data);

//  --- td_identity_seed.c -------------------------------------------------------------------
//  org.seed (system only): an org with its people and cohorts, upserted (seed data).
int id_org_seed (td_actor_t *self, td_call_t *call);

//  --- td_identity_jwt.c --------------------------------------------------------------------
#define ID_JWT_MAX 1024
//  Sign an access token for user sub, session sid. 0 or -1.
int id_jwt_sign (const char *secret, const char *sub, const char *sid, int64_t iat,
                 int64_t exp, char *out, size_t outsize);
//  Verify an access token's form, alg, signature, iss, typ and exp (now: unix seconds). On 0,
//  sub and sid hold the claims; on -1, *why says what was wrong (for logs, never for clients).
int id_jwt_verify (const char *secret, const char *token, int64_t now,
                   char sub [TD_MAX_ID + 1], char sid [TD_MAX_ID + 1], const char **why);
//  The same, also giving the token's exp (unix seconds) when exp_out is not NULL.
int id_jwt_verify_exp (const char *secret, const char *token, int64_t now,
                       char sub [TD_MAX_ID + 1], char sid [TD_MAX_ID + 1], int64_t *exp_out,
                       const char **why);
//  Strict base64url (no padding, canonical) decode. Returns the length, or -1.
int id_b64url_decode (const char *in, size_t inlen, unsigned char *out, size_t outmax);

//  --- td_identity_password.c ---------------------------------------------------------------
int id_password_hash (const td_config_t *cfg, const char *password,
                      char out [crypto_pwhash_STRBYTES]);
bool id_password_verify (const char *hash, const char *password);

//  --- td_identity_limits.c -----------------------------------------------------------------
//  Seconds to wait when account (lowercased email) or ip is over its limit, 0 when free, -1 on
//  a database failure (answered).
int id_limits_check (td_actor_t *self, td_call_t *call, const char *account, const char *ip);
void id_limits_fail (td_actor_t *self, td_call_t *call, const char *account, const char *ip);
void id_limits_clear (td_actor_t *self, td_call_t *call, const char *account);
void id_limits_cleanup (td_actor_t *self);

//  --- td_identity_session.c ---------------------------------------------------------------
//  Open a session for user and put "token" and "refresh_token" into out. 0, or -1 (answered).
int id_session_open (td_actor_t *self, td_call_t *call, const char *user, json_t *out);
//  The user object {id,email,name,created_at} as JSON, or NULL (answered).
json_t *id_user_json (td_actor_t *self, td_call_t *call, const char *user);
td_handler_fn id_register, id_login, id_refresh, id_logout, id_password_change, id_me,
              id_auth_verify, id_auth_user;

//  --- td_identity_org.c --------------------------------------------------------------------
td_handler_fn id_org_create, id_org_get, id_org_members, id_org_member_add, id_org_member_role,
              id_org_member_remove, id_cohort_list, id_cohort_create, id_cohort_get,
              id_cohort_member_add, id_cohort_member_remove;
//  Load the org named by the path param "id" and check the caller may know it exists:
//  0, or -1 (answered 404).
int id_org_visible (td_call_t *call, const td_principal_t *who, char org [ID_UUID_LEN + 1]);

//  --- td_identity_apikey.c -----------------------------------------------------------------
td_handler_fn id_apikey_list, id_apikey_create, id_apikey_revoke;
//  auth.verify for a tdk_ key: answers the call (200 auth map or 401).
int id_apikey_verify (td_actor_t *self, td_call_t *call, const char *key);

//  --- td_identity_notify.c ----------------------------------------------------------------
//  How long an API key's verdict may be cached by a bridge (its revocation is notified).
#define ID_APIKEY_CACHE_S 300
//  After a write that changed an auth map (the triggers of schema/0012 notified it), wait until
//  a barrier notification sent after that write has reached this actor's own LISTEN
//  connection: PostgreSQL delivers notifications in commit order, so by then the write's
//  notifications are on their way to every bridge too (IDENTITY.md §1). Bounded by 2 s; on
//  failure logs and returns -1 (the write stands; the caller still answers).
int id_auth_barrier (td_actor_t *self, td_call_t *call);
//  The LISTEN thread (NULL when it cannot start: barriers then fail fast, `me` is not cached).
id_listen_t *id_listen_start (const char *conninfo, bool me_cache);
void id_listen_stop (id_listen_t **self_p);
//  The `me` cache (users' packed `me` replies), used only while the thread listens.
#define ID_ME_CACHE_MAX 10000
//  1 and a heap copy in *data / *size (free it) on a hit; 0 otherwise. *epoch: pass it to
//  id_me_cache_put after reading the answer from PostgreSQL.
int id_me_cache_get (td_actor_t *self, const char *user, void **data, size_t *size,
                     uint64_t *epoch);
void id_me_cache_put (td_actor_t *self, const char *user, uint64_t epoch, const void *data,
                      size_t size);

//  --- td_identity_google.c -----------------------------------------------------------------
id_google_t *id_google_new (const td_config_t *cfg);
void id_google_destroy (id_google_t **self_p);
td_handler_fn id_google_signin;

#endif
