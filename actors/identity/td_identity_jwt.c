/*  td_identity_jwt — tutord's access tokens: JWT (RFC 7519) signed HS256 with TUTORD_SECRET.
 *
 *  Only one form is ever made or accepted: header exactly {"alg":"HS256","typ":"JWT"} in its
 *  meaning (alg must be the string "HS256"; "none", "RS256", "HS512"... are refused before any
 *  signature check, so no key confusion is possible), claims {iss:"tutord", sub, sid, iat, exp,
 *  typ:"access"}. The signature is HMAC-SHA-256 over "<header>.<payload>" with libsodium's
 *  incremental API (the secret may be any length), compared in constant time. base64url is
 *  decoded strictly and must be canonical (re-encoding gives the same text), so flipping the
 *  unused low bits of the last character is a different, refused token.
 *
 *  These functions are pure (no database, no clock of their own) so tests can forge tokens with
 *  any secret, time and header.
 */
#include <stdio.h>
#include <string.h>
#include "td_identity.h"

int
id_b64url_decode (const char *in, size_t inlen, unsigned char *out, size_t outmax)
{
    size_t binlen = 0;
    const char *end = NULL;
    if (inlen == 0)
        return 0;
    if (sodium_base642bin (out, outmax, in, inlen, NULL, &binlen, &end,
                           sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0
    ||  end != in + inlen)
        return -1;
    //  Canonical form only.
    char again [4200];
    if (sodium_base64_ENCODED_LEN (binlen, sodium_base64_VARIANT_URLSAFE_NO_PADDING) > sizeof again)
        return -1;
    sodium_bin2base64 (again, sizeof again, out, binlen, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    if (strlen (again) != inlen || memcmp (again, in, inlen) != 0)
        return -1;
    return (int) binlen;
}

static void
s_hmac (const char *secret, const char *data, size_t len, unsigned char mac [32])
{
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init (&st, (const unsigned char *) secret, strlen (secret));
    crypto_auth_hmacsha256_update (&st, (const unsigned char *) data, len);
    crypto_auth_hmacsha256_final (&st, mac);
    sodium_memzero (&st, sizeof st);
}

//  Append base64url of data to out at *pos; -1 when it does not fit.
static int
s_append_b64 (char *out, size_t outsize, size_t *pos, const void *data, size_t len)
{
    size_t need = sodium_base64_ENCODED_LEN (len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    if (*pos + need > outsize)
        return -1;
    sodium_bin2base64 (out + *pos, outsize - *pos, data, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    *pos += strlen (out + *pos);
    return 0;
}

int
id_jwt_sign (const char *secret, const char *sub, const char *sid, int64_t iat, int64_t exp,
             char *out, size_t outsize)
{
    static const char header [] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    //  sub and sid are UUIDs from PostgreSQL; refuse anything that would need JSON escaping.
    for (const char *p = sub; *p; p++)
        if (*p == '"' || *p == '\\' || (unsigned char) *p < 0x20)
            return -1;
    for (const char *p = sid; *p; p++)
        if (*p == '"' || *p == '\\' || (unsigned char) *p < 0x20)
            return -1;
    char claims [512];
    int n = snprintf (claims, sizeof claims,
                      "{\"iss\":\"tutord\",\"sub\":\"%s\",\"sid\":\"%s\",\"iat\":%lld,"
                      "\"exp\":%lld,\"typ\":\"access\"}",
                      sub, sid, (long long) iat, (long long) exp);
    if (n < 0 || (size_t) n >= sizeof claims)
        return -1;
    size_t pos = 0;
    if (s_append_b64 (out, outsize, &pos, header, sizeof header - 1)
    ||  pos + 1 >= outsize)
        return -1;
    out [pos++] = '.';
    if (s_append_b64 (out, outsize, &pos, claims, (size_t) n) || pos + 1 >= outsize)
        return -1;
    unsigned char mac [32];
    s_hmac (secret, out, pos, mac);
    out [pos++] = '.';
    return s_append_b64 (out, outsize, &pos, mac, sizeof mac);
}

static json_t *
s_decode_json (const char *part, size_t len)
{
    unsigned char raw [ID_JWT_MAX];
    int n = id_b64url_decode (part, len, raw, sizeof raw);
    if (n <= 0)
        return NULL;
    json_t *j = json_loadb ((const char *) raw, (size_t) n, JSON_REJECT_DUPLICATES, NULL);
    if (j && !json_is_object (j)) {
        json_decref (j);
        return NULL;
    }
    return j;
}

static int
s_refuse (const char **why, const char *reason, json_t *a, json_t *b)
{
    if (why)
        *why = reason;
    json_decref (a);
    json_decref (b);
    return -1;
}

int
id_jwt_verify (const char *secret, const char *token, int64_t now,
               char sub [TD_MAX_ID + 1], char sid [TD_MAX_ID + 1], const char **why)
{
    return id_jwt_verify_exp (secret, token, now, sub, sid, NULL, why);
}

int
id_jwt_verify_exp (const char *secret, const char *token, int64_t now,
                   char sub [TD_MAX_ID + 1], char sid [TD_MAX_ID + 1], int64_t *exp_out,
                   const char **why)
{
    size_t len = strlen (token);
    if (len > ID_JWT_MAX)
        return s_refuse (why, "token too long", NULL, NULL);
    const char *dot1 = strchr (token, '.');
    const char *dot2 = dot1? strchr (dot1 + 1, '.'): NULL;
    if (!dot1 || !dot2 || strchr (dot2 + 1, '.'))
        return s_refuse (why, "not a JWS compact token", NULL, NULL);
    json_t *header = s_decode_json (token, (size_t) (dot1 - token));
    if (!header)
        return s_refuse (why, "bad header", NULL, NULL);
    //  alg first: nothing else is looked at for a token that is not HS256.
    json_t *alg = json_object_get (header, "alg");
    if (!json_is_string (alg) || strcmp (json_string_value (alg), "HS256") != 0)
        return s_refuse (why, "alg is not HS256", header, NULL);
    json_t *typ = json_object_get (header, "typ");
    if (typ && !(json_is_string (typ) && strcmp (json_string_value (typ), "JWT") == 0))
        return s_refuse (why, "header typ is not JWT", header, NULL);
    if (json_object_get (header, "crit"))
        return s_refuse (why, "critical header extensions are not supported", header, NULL);

    unsigned char mac [32], given [64];
    s_hmac (secret, token, (size_t) (dot2 - token), mac);
    int n = id_b64url_decode (dot2 + 1, len - (size_t) (dot2 + 1 - token), given, sizeof given);
    if (n != 32 || sodium_memcmp (mac, given, 32) != 0)
        return s_refuse (why, "bad signature", header, NULL);

    json_t *claims = s_decode_json (dot1 + 1, (size_t) (dot2 - dot1 - 1));
    if (!claims)
        return s_refuse (why, "bad claims", header, NULL);
    json_t *iss = json_object_get (claims, "iss");
    json_t *ctyp = json_object_get (claims, "typ");
    json_t *jsub = json_object_get (claims, "sub");
    json_t *jsid = json_object_get (claims, "sid");
    json_t *exp = json_object_get (claims, "exp");
    if (!json_is_string (iss) || strcmp (json_string_value (iss), "tutord") != 0)
        return s_refuse (why, "wrong issuer", header, claims);
    if (!json_is_string (ctyp) || strcmp (json_string_value (ctyp), "access") != 0)
        return s_refuse (why, "not an access token", header, claims);
    if (!json_is_integer (exp) || json_integer_value (exp) <= now)
        return s_refuse (why, "expired", header, claims);
    if (!json_is_string (jsub) || !json_is_string (jsid)
    ||  json_string_length (jsub) < 1 || json_string_length (jsub) > TD_MAX_ID
    ||  json_string_length (jsid) < 1 || json_string_length (jsid) > TD_MAX_ID)
        return s_refuse (why, "bad sub or sid", header, claims);
    snprintf (sub, TD_MAX_ID + 1, "%s", json_string_value (jsub));
    snprintf (sid, TD_MAX_ID + 1, "%s", json_string_value (jsid));
    if (exp_out)
        *exp_out = (int64_t) json_integer_value (exp);
    json_decref (header);
    json_decref (claims);
    return 0;
}
