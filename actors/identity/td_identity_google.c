/*  td_identity_google — Sign in with Google: verify an ID token (RS256) and find or make the
 *  account.
 *
 *  The keys come from TUTORD_GOOGLE_JWKS, an absolute file path or an http(s) URL (fetched with
 *  libcurl, at most 2 s so the actor never misses its 3 s heartbeat liveness, at most 1 MiB;
 *  at most one fetch per request). They are cached until the Cache-Control max-age of the
 *  answer (300 s when absent; files are re-read after 60 s); a token naming a kid the cache
 *  lacks forces one early reload, at most every 30 s, so key rotation is picked up without
 *  letting bad tokens hammer the source.
 *
 *  A token is accepted only when: the header's alg is exactly "RS256" and its kid names an RSA
 *  key of the set; the signature verifies (OpenSSL 3 EVP over the key built from n and e);
 *  iss is accounts.google.com or https://accounts.google.com; aud is TUTORD_GOOGLE_CLIENT_ID
 *  (or an array holding it); exp is in the future; sub is present. The account is found by
 *  google_sub; else an existing account with the same email is linked when Google says the
 *  email is verified; else a new account is made (201). An unverified email that belongs to an
 *  existing account is 409: linking on it would hand the account to whoever typed the address.
 */
#include <curl/curl.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "td_identity.h"
#include "td_log.h"
#include "td_mp.h"

#define S_MAX_JWKS      (1024 * 1024)
#define S_MAX_TOKEN     4096
#define S_DEFAULT_TTL   300
#define S_FILE_TTL      60
#define S_RELOAD_MIN_MS 30000

struct id_google {
    char source [1024];
    char client_id [256];
    json_t *keys;                   //  the "keys" array of the set; NULL until loaded
    int64_t expires_ms;
    int64_t last_load_ms;
};

id_google_t *
id_google_new (const td_config_t *cfg)
{
    id_google_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    snprintf (self->source, sizeof self->source, "%s", cfg->google_jwks);
    snprintf (self->client_id, sizeof self->client_id, "%s", cfg->google_client_id);
    return self;
}

void
id_google_destroy (id_google_t **self_p)
{
    id_google_t *self = self_p? *self_p: NULL;
    if (!self)
        return;
    json_decref (self->keys);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------------------------
//  Fetching the key set

typedef struct {
    char *data;
    size_t size;
    int max_age;                    //  -1 when the answer had none
} s_fetch_t;

static size_t
s_on_body (char *ptr, size_t size, size_t nmemb, void *arg)
{
    s_fetch_t *f = arg;
    size_t n = size * nmemb;
    if (f->size + n > S_MAX_JWKS)
        return 0;                   //  too large: abort the transfer
    char *grown = realloc (f->data, f->size + n + 1);
    if (!grown)
        return 0;
    f->data = grown;
    memcpy (f->data + f->size, ptr, n);
    f->size += n;
    f->data [f->size] = 0;
    return n;
}

static size_t
s_on_header (char *ptr, size_t size, size_t nmemb, void *arg)
{
    s_fetch_t *f = arg;
    size_t n = size * nmemb;
    char line [512];
    size_t len = n < sizeof line - 1? n: sizeof line - 1;
    memcpy (line, ptr, len);
    line [len] = 0;
    if (strncasecmp (line, "cache-control:", 14) == 0) {
        const char *m = strcasestr (line, "max-age=");
        if (m) {
            long v = strtol (m + 8, NULL, 10);
            if (v >= 0 && v <= 7 * 86400)
                f->max_age = (int) v;
        }
    }
    return n;
}

static pthread_once_t s_curl_once = PTHREAD_ONCE_INIT;
static void s_curl_init (void) { curl_global_init (CURL_GLOBAL_DEFAULT); }

static int
s_fetch_url (const char *url, s_fetch_t *f)
{
    if (pthread_once (&s_curl_once, s_curl_init) != 0)
        return -1;
    CURL *curl = curl_easy_init ();
    if (!curl)
        return -1;
    long status = 0;
    int rc = -1;
    if (curl_easy_setopt (curl, CURLOPT_URL, url) == CURLE_OK
    &&  curl_easy_setopt (curl, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK
    &&  curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L) == CURLE_OK
    &&  curl_easy_setopt (curl, CURLOPT_CONNECTTIMEOUT_MS, 1000L) == CURLE_OK
    &&  curl_easy_setopt (curl, CURLOPT_TIMEOUT_MS, 2000L) == CURLE_OK
    &&  curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, s_on_body) == CURLE_OK
    &&  curl_easy_setopt (curl, CURLOPT_WRITEDATA, f) == CURLE_OK
    &&  curl_easy_setopt (curl, CURLOPT_HEADERFUNCTION, s_on_header) == CURLE_OK
    &&  curl_easy_setopt (curl, CURLOPT_HEADERDATA, f) == CURLE_OK
    &&  curl_easy_perform (curl) == CURLE_OK
    &&  curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK
    &&  status == 200)
        rc = 0;
    curl_easy_cleanup (curl);
    return rc;
}

static int
s_fetch_file (const char *path, s_fetch_t *f)
{
    FILE *file = fopen (path, "rb");
    if (!file)
        return -1;
    f->data = malloc (S_MAX_JWKS + 1);
    size_t n = f->data? fread (f->data, 1, S_MAX_JWKS + 1, file): 0;
    bool err = ferror (file);
    fclose (file);
    if (!f->data || err || n > S_MAX_JWKS)
        return -1;
    f->data [n] = 0;
    f->size = n;
    return 0;
}

//  Load the key set now. 0 or -1 (the old set, if any, stays).
static int
s_load (id_google_t *self, const char *actor)
{
    s_fetch_t f = { NULL, 0, -1 };
    bool file = self->source [0] == '/';
    int rc = file? s_fetch_file (self->source, &f): s_fetch_url (self->source, &f);
    self->last_load_ms = td_now_ms ();
    json_t *set = rc == 0? json_loadb (f.data, f.size, 0, NULL): NULL;
    free (f.data);
    json_t *keys = set? json_object_get (set, "keys"): NULL;
    if (!json_is_array (keys)) {
        td_warn (actor, NULL, "cannot load the Google key set from %s", self->source);
        json_decref (set);
        return -1;
    }
    json_decref (self->keys);
    self->keys = json_incref (keys);
    json_decref (set);
    int ttl = file? S_FILE_TTL: f.max_age >= 0? f.max_age: S_DEFAULT_TTL;
    self->expires_ms = self->last_load_ms + (int64_t) ttl * 1000;
    return 0;
}

static json_t *
s_find_key (id_google_t *self, const char *kid)
{
    size_t i;
    json_t *k;
    json_array_foreach (self->keys, i, k) {
        json_t *id = json_object_get (k, "kid");
        if (json_is_string (id) && strcmp (json_string_value (id), kid) == 0)
            return k;
    }
    return NULL;
}

//  The JWK for kid, loading or reloading the set as the cache rules say; NULL when none.
static json_t *
s_key (id_google_t *self, const char *kid, const char *actor)
{
    int64_t now = td_now_ms ();
    if (!self->keys || now >= self->expires_ms)
        s_load (self, actor);
    json_t *k = self->keys? s_find_key (self, kid): NULL;
    if (!k && now - self->last_load_ms >= S_RELOAD_MIN_MS && s_load (self, actor) == 0)
        k = s_find_key (self, kid);
    return k;
}

//  --------------------------------------------------------------------------------------------
//  RS256

static BIGNUM *
s_bn (json_t *jwk, const char *name)
{
    json_t *v = json_object_get (jwk, name);
    if (!json_is_string (v) || json_string_length (v) > 1400)
        return NULL;
    unsigned char raw [1024];
    int n = id_b64url_decode (json_string_value (v), json_string_length (v), raw, sizeof raw);
    return n > 0? BN_bin2bn (raw, n, NULL): NULL;
}

static EVP_PKEY *
s_rsa_key (json_t *jwk)
{
    json_t *kty = json_object_get (jwk, "kty");
    json_t *alg = json_object_get (jwk, "alg");
    if (!json_is_string (kty) || strcmp (json_string_value (kty), "RSA") != 0
    ||  (alg && !(json_is_string (alg) && strcmp (json_string_value (alg), "RS256") == 0)))
        return NULL;
    BIGNUM *n = s_bn (jwk, "n"), *e = s_bn (jwk, "e");
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new ();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    if (n && e && bld && BN_num_bits (n) >= 2048 && BN_num_bits (n) <= 8192
    &&  OSSL_PARAM_BLD_push_BN (bld, OSSL_PKEY_PARAM_RSA_N, n)
    &&  OSSL_PARAM_BLD_push_BN (bld, OSSL_PKEY_PARAM_RSA_E, e)
    &&  (params = OSSL_PARAM_BLD_to_param (bld)) != NULL
    &&  (ctx = EVP_PKEY_CTX_new_from_name (NULL, "RSA", NULL)) != NULL
    &&  EVP_PKEY_fromdata_init (ctx) == 1
    &&  EVP_PKEY_fromdata (ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
        pkey = NULL;
    EVP_PKEY_CTX_free (ctx);
    OSSL_PARAM_free (params);
    OSSL_PARAM_BLD_free (bld);
    BN_free (n);
    BN_free (e);
    return pkey;
}

static bool
s_rs256_ok (EVP_PKEY *key, const char *data, size_t len, const unsigned char *sig, size_t siglen)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new ();
    bool ok = md
           && EVP_DigestVerifyInit (md, NULL, EVP_sha256 (), NULL, key) == 1
           && EVP_DigestVerify (md, sig, siglen, (const unsigned char *) data, len) == 1;
    EVP_MD_CTX_free (md);
    return ok;
}

static json_t *
s_part_json (const char *part, size_t len)
{
    unsigned char raw [S_MAX_TOKEN];
    int n = id_b64url_decode (part, len, raw, sizeof raw);
    json_t *j = n > 0? json_loadb ((const char *) raw, (size_t) n, JSON_REJECT_DUPLICATES, NULL): NULL;
    if (j && !json_is_object (j)) {
        json_decref (j);
        j = NULL;
    }
    return j;
}

static bool
s_aud_ok (json_t *aud, const char *client_id)
{
    if (json_is_string (aud))
        return strcmp (json_string_value (aud), client_id) == 0;
    size_t i;
    json_t *v;
    if (json_is_array (aud))
        json_array_foreach (aud, i, v)
            if (json_is_string (v) && strcmp (json_string_value (v), client_id) == 0)
                return true;
    return false;
}

//  Verified claims of token, or NULL with *why set.
static json_t *
s_verify (id_google_t *self, const char *token, const char *actor, const char **why)
{
    size_t len = strlen (token);
    const char *dot1 = strchr (token, '.');
    const char *dot2 = dot1? strchr (dot1 + 1, '.'): NULL;
    *why = "not a JWS compact token";
    if (!dot1 || !dot2 || strchr (dot2 + 1, '.'))
        return NULL;
    json_t *header = s_part_json (token, (size_t) (dot1 - token));
    json_t *alg = header? json_object_get (header, "alg"): NULL;
    json_t *kid = header? json_object_get (header, "kid"): NULL;
    if (!json_is_string (alg) || strcmp (json_string_value (alg), "RS256") != 0
    ||  !json_is_string (kid)) {
        *why = "alg is not RS256 or no kid";
        json_decref (header);
        return NULL;
    }
    json_t *jwk = s_key (self, json_string_value (kid), actor);
    json_decref (header);
    EVP_PKEY *key = jwk? s_rsa_key (jwk): NULL;
    if (!key) {
        *why = "unknown key";
        return NULL;
    }
    unsigned char sig [1024];
    int siglen = id_b64url_decode (dot2 + 1, len - (size_t) (dot2 + 1 - token), sig, sizeof sig);
    bool ok = siglen > 0 && s_rs256_ok (key, token, (size_t) (dot2 - token), sig, (size_t) siglen);
    EVP_PKEY_free (key);
    if (!ok) {
        *why = "bad signature";
        return NULL;
    }
    json_t *claims = s_part_json (dot1 + 1, (size_t) (dot2 - dot1 - 1));
    json_t *iss = claims? json_object_get (claims, "iss"): NULL;
    json_t *exp = claims? json_object_get (claims, "exp"): NULL;
    json_t *sub = claims? json_object_get (claims, "sub"): NULL;
    if (!json_is_string (iss) || (strcmp (json_string_value (iss), "accounts.google.com") != 0
                               && strcmp (json_string_value (iss), "https://accounts.google.com") != 0))
        *why = "wrong issuer";
    else
    if (!s_aud_ok (json_object_get (claims, "aud"), self->client_id))
        *why = "wrong audience";
    else
    if (!json_is_integer (exp) || json_integer_value (exp) <= td_now_ms () / 1000)
        *why = "expired";
    else
    if (!json_is_string (sub) || json_string_length (sub) < 1 || json_string_length (sub) > 255)
        *why = "no subject";
    else
        return claims;
    json_decref (claims);
    return NULL;
}

//  --------------------------------------------------------------------------------------------
//  The verb

//  A display name of at most ID_MAX_NAME bytes, cut at a character boundary.
static void
s_name (json_t *claims, const char *email, char name [ID_MAX_NAME + 1])
{
    json_t *n = json_object_get (claims, "name");
    const char *src = json_is_string (n) && json_string_length (n) > 0? json_string_value (n): email;
    size_t len = strlen (src);
    if (len > ID_MAX_NAME) {
        len = ID_MAX_NAME;
        while (len > 0 && ((unsigned char) src [len] & 0xc0) == 0x80)
            len--;
    }
    memcpy (name, src, len);
    name [len] = 0;
    if (src == email) {
        char *at = strchr (name, '@');
        if (at && at != name)
            *at = 0;
    }
}

int
id_google_signin (td_actor_t *self, td_call_t *call)
{
    id_state_t *st = td_actor_state (self);
    if (!st->google)
        return td_call_error (call, TD_ERR_NOT_FOUND, NULL,
                              "Google sign-in is not configured on this server"), TD_ACTOR_OK;
    const msgpack_object *body = id_body (call);
    char token [S_MAX_TOKEN + 1];
    if (!body || id_field_str (call, body, "id_token", 1, S_MAX_TOKEN, token, sizeof token))
        return TD_ACTOR_OK;
    const char *why = "";
    json_t *claims = s_verify (st->google, token, td_actor_name (self), &why);
    if (!claims) {
        td_info (td_actor_name (self), td_call_rid (call), "Google ID token refused: %s", why);
        return td_call_error (call, TD_ERR_UNAUTHORIZED, "id_token",
                              "the Google ID token is invalid or expired"), TD_ACTOR_OK;
    }
    char sub [256], email [ID_MAX_EMAIL + 1] = "", name [ID_MAX_NAME + 1];
    snprintf (sub, sizeof sub, "%s", json_string_value (json_object_get (claims, "sub")));
    json_t *je = json_object_get (claims, "email");
    json_t *jv = json_object_get (claims, "email_verified");
    bool verified = json_is_true (jv)
                 || (json_is_string (jv) && strcmp (json_string_value (jv), "true") == 0);
    if (json_is_string (je) && json_string_length (je) <= ID_MAX_EMAIL)
        snprintf (email, sizeof email, "%s", json_string_value (je));
    id_lower (email);
    s_name (claims, email, name);
    json_decref (claims);
    if (!id_email_valid (email))
        return td_call_error (call, TD_ERR_INVALID_INPUT, "id_token",
                              "the Google account has no usable email address"), TD_ACTOR_OK;

    //  Find by subject, else link a verified email, else create. One statement: a race between
    //  two first sign-ins ends in the unique index, answered 409 and fine on retry.
    const char *p [] = { sub, email, verified? "t": "f", name };
    PGresult *res = td_db_exec (td_actor_db (self), td_call_rid (call),
        "WITH bysub AS (SELECT id FROM identity_users WHERE google_sub = $1), "
        "     link AS (UPDATE identity_users SET google_sub = $1 "
        "              WHERE NOT EXISTS (SELECT 1 FROM bysub) AND $3::bool "
        "                AND lower(email) = $2 AND google_sub IS NULL RETURNING id), "
        "     made AS (INSERT INTO identity_users (email, name, google_sub) "
        "              SELECT $2, $4, $1 WHERE NOT EXISTS (SELECT 1 FROM bysub) "
        "                AND NOT EXISTS (SELECT 1 FROM identity_users WHERE lower(email) = $2) "
        "              RETURNING id) "
        "SELECT id::text, 'found' FROM bysub UNION ALL SELECT id::text, 'linked' FROM link "
        "UNION ALL SELECT id::text, 'made' FROM made", 4, p);
    if (!res) {
        if (strcmp (td_db_last_sqlstate (td_actor_db (self)), "23505") == 0)
            return td_call_error (call, TD_ERR_CONFLICT, "id_token",
                                  "the account is being created; try again"), TD_ACTOR_OK;
        return id_reply_db_error (call, td_actor_db (self)), TD_ACTOR_OK;
    }
    if (PQntuples (res) != 1) {
        PQclear (res);
        return td_call_error (call, TD_ERR_CONFLICT, "id_token",
                              "an account with this email exists; sign in with its password, "
                              "or use a Google account whose email is verified"), TD_ACTOR_OK;
    }
    char user [ID_UUID_LEN + 1];
    snprintf (user, sizeof user, "%s", PQgetvalue (res, 0, 0));
    bool made = strcmp (PQgetvalue (res, 0, 1), "made") == 0;
    PQclear (res);
    if (made)
        id_publish (self, "identity.registered", NULL, user, json_pack ("{s:s}", "method", "google"));
    json_t *out = json_object ();
    json_t *u = id_user_json (self, call, user);
    if (!u) {
        json_decref (out);
        return TD_ACTOR_OK;
    }
    json_object_set_new (out, "user", u);
    if (id_session_open (self, call, user, out) == 0)
        id_reply_json (call, made? 201: 200, out);
    else
        json_decref (out);
    return TD_ACTOR_OK;
}
