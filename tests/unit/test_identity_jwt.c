/*  test_identity_jwt — access tokens on their own: signing, verifying, and every forgery we know.
 *
 *  Tokens are forged here with the test's own secret, times and headers: expired, not yet
 *  valid forms, tampered payload and signature (every byte), alg none / RS256 / HS512 headers,
 *  an HS256 token "signed with the public key bytes" (any other key), wrong typ and iss,
 *  non-canonical base64url, too many or too few parts. Also the password helpers' round trip.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "identity/td_identity.h"

static const char *s_secret = "0123456789abcdef0123456789abcdef-test-secret";
static const char *s_user = "11111111-2222-3333-4444-555555555555";
static const char *s_sid = "66666666-7777-8888-9999-000000000000";

static int
s_verify (const char *token, int64_t now)
{
    char sub [TD_MAX_ID + 1], sid [TD_MAX_ID + 1];
    const char *why = NULL;
    int rc = id_jwt_verify (s_secret, token, now, sub, sid, &why);
    if (rc == 0) {
        assert_string_equal (sub, s_user);
        assert_string_equal (sid, s_sid);
    }
    else
        assert_non_null (why);
    return rc;
}

static void
s_b64 (const void *data, size_t len, char *out, size_t outsize)
{
    sodium_bin2base64 (out, outsize, data, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

//  Build header.claims.signature with HMAC-SHA-256 over key (or a given raw signature).
static void
s_forge (const char *header, const char *claims, const char *key, char *out, size_t outsize)
{
    char h [512], c [1024];
    s_b64 (header, strlen (header), h, sizeof h);
    s_b64 (claims, strlen (claims), c, sizeof c);
    int w = snprintf (out, outsize, "%s.%s", h, c);
    assert_true (w > 0 && (size_t) w < outsize);
    unsigned char mac [32];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init (&st, (const unsigned char *) key, strlen (key));
    crypto_auth_hmacsha256_update (&st, (const unsigned char *) out, strlen (out));
    crypto_auth_hmacsha256_final (&st, mac);
    char sig [64];
    s_b64 (mac, sizeof mac, sig, sizeof sig);
    size_t n = strlen (out);
    snprintf (out + n, outsize - n, ".%s", sig);
}

static void
s_claims (char *out, size_t size, const char *iss, const char *typ, int64_t exp)
{
    snprintf (out, size, "{\"iss\":\"%s\",\"sub\":\"%s\",\"sid\":\"%s\",\"iat\":1,\"exp\":%lld,"
              "\"typ\":\"%s\"}", iss, s_user, s_sid, (long long) exp, typ);
}

static void
test_round_trip (void **state)
{
    (void) state;
    assert_int_equal (sodium_init () >= 0, 1);
    char token [ID_JWT_MAX];
    assert_int_equal (id_jwt_sign (s_secret, s_user, s_sid, 1000, 1900, token, sizeof token), 0);
    assert_int_equal (s_verify (token, 1000), 0);
    assert_int_equal (s_verify (token, 1899), 0);
    //  Expiry: exp is the first second it is refused.
    assert_int_equal (s_verify (token, 1900), -1);
    assert_int_equal (s_verify (token, 100000), -1);
    //  Another secret refuses it.
    char sub [TD_MAX_ID + 1], sid [TD_MAX_ID + 1];
    const char *why;
    assert_int_equal (id_jwt_verify ("another secret of enough length 0123456789", token, 1000,
                                     sub, sid, &why), -1);
    assert_string_equal (why, "bad signature");
    //  Header is exactly the documented one.
    assert_memory_equal (token, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.", 37);
    //  Ids that would need escaping are refused at signing.
    assert_int_equal (id_jwt_sign (s_secret, "a\"b", s_sid, 1, 2, token, sizeof token), -1);
    assert_int_equal (id_jwt_sign (s_secret, s_user, s_sid, 1, 2, token, 20), -1);
}

static void
test_tampering (void **state)
{
    (void) state;
    char token [ID_JWT_MAX], bad [ID_JWT_MAX + 8];
    assert_int_equal (id_jwt_sign (s_secret, s_user, s_sid, 1000, 1900, token, sizeof token), 0);
    size_t len = strlen (token);
    const char *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    //  Every character changed to every other one: nothing verifies.
    int tried = 0;
    for (size_t i = 0; i < len; i++) {
        for (size_t k = 0; k < 64; k += 7) {
            char a = alphabet [k];
            if (a == token [i] || token [i] == '.')
                continue;
            memcpy (bad, token, len + 1);
            bad [i] = a;
            if (s_verify (bad, 1000) == 0)
                fail_msg ("tampered token verified (position %zu, %c)", i, a);
            tried++;
        }
    }
    assert_true (tried > 1000);
    //  Truncated, extended, parts missing or added.
    for (size_t i = 0; i < len; i++) {
        memcpy (bad, token, i);
        bad [i] = 0;
        assert_int_equal (s_verify (bad, 1000), -1);
    }
    snprintf (bad, sizeof bad, "%sA", token);
    assert_int_equal (s_verify (bad, 1000), -1);
    snprintf (bad, sizeof bad, "%s.", token);
    assert_int_equal (s_verify (bad, 1000), -1);
    assert_int_equal (s_verify ("", 1000), -1);
    assert_int_equal (s_verify ("..", 1000), -1);
    assert_int_equal (s_verify ("a.b", 1000), -1);
    //  A long token is refused before any work.
    char *big = malloc (8192);
    assert_non_null (big);
    memset (big, 'A', 8191);
    big [8191] = 0;
    assert_int_equal (s_verify (big, 1000), -1);
    free (big);
}

static void
test_algorithms (void **state)
{
    (void) state;
    char claims [512], token [ID_JWT_MAX];
    s_claims (claims, sizeof claims, "tutord", "access", 1900);
    //  Our own forge with the right header and key verifies (the forge is right)...
    s_forge ("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", claims, s_secret, token, sizeof token);
    assert_int_equal (s_verify (token, 1000), 0);
    //  ...typ may be absent...
    s_forge ("{\"alg\":\"HS256\"}", claims, s_secret, token, sizeof token);
    assert_int_equal (s_verify (token, 1000), 0);
    //  ...but no other header is accepted, even with a valid HMAC under the secret.
    const char *headers [] = {
        "{\"alg\":\"none\",\"typ\":\"JWT\"}",
        "{\"alg\":\"None\"}",
        "{\"alg\":\"RS256\",\"typ\":\"JWT\"}",
        "{\"alg\":\"HS512\",\"typ\":\"JWT\"}",
        "{\"alg\":\"hs256\",\"typ\":\"JWT\"}",
        "{\"alg\":\"HS256\",\"typ\":\"JWE\"}",
        "{\"alg\":\"HS256\",\"crit\":[\"b64\"]}",
        "{\"typ\":\"JWT\"}",
        "{\"alg\":null}",
        "{\"alg\":[\"HS256\"]}",
        "{\"alg\":\"HS256\",\"alg\":\"none\"}",
        "[\"HS256\"]",
        "not json",
    };
    for (size_t i = 0; i < sizeof headers / sizeof headers [0]; i++) {
        s_forge (headers [i], claims, s_secret, token, sizeof token);
        if (s_verify (token, 1000) == 0)
            fail_msg ("accepted header %s", headers [i]);
    }
    //  alg none with an empty signature.
    char h [128], c [700];
    s_b64 ("{\"alg\":\"none\",\"typ\":\"JWT\"}", 27, h, sizeof h);
    s_b64 (claims, strlen (claims), c, sizeof c);
    snprintf (token, sizeof token, "%s.%s.", h, c);
    assert_int_equal (s_verify (token, 1000), -1);
    //  HS256 signed with "the public key bytes" (RS/HS confusion): any key but the secret fails.
    const char *pem = "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n"
                      "-----END PUBLIC KEY-----\n";
    s_forge ("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", claims, pem, token, sizeof token);
    assert_int_equal (s_verify (token, 1000), -1);
    s_forge ("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", claims, "", token, sizeof token);
    assert_int_equal (s_verify (token, 1000), -1);
}

static void
test_claims (void **state)
{
    (void) state;
    char claims [512], token [ID_JWT_MAX];
    const char *hdr = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    s_claims (claims, sizeof claims, "someone-else", "access", 1900);
    s_forge (hdr, claims, s_secret, token, sizeof token);
    assert_int_equal (s_verify (token, 1000), -1);
    s_claims (claims, sizeof claims, "tutord", "refresh", 1900);
    s_forge (hdr, claims, s_secret, token, sizeof token);
    assert_int_equal (s_verify (token, 1000), -1);
    s_claims (claims, sizeof claims, "tutord", "access", 999);      //  a past exp
    s_forge (hdr, claims, s_secret, token, sizeof token);
    assert_int_equal (s_verify (token, 1000), -1);
    const char *bad [] = {
        "{\"iss\":\"tutord\",\"sid\":\"x\",\"exp\":1900,\"typ\":\"access\"}",
        "{\"iss\":\"tutord\",\"sub\":\"x\",\"exp\":1900,\"typ\":\"access\"}",
        "{\"iss\":\"tutord\",\"sub\":\"x\",\"sid\":\"y\",\"typ\":\"access\"}",
        "{\"iss\":\"tutord\",\"sub\":\"x\",\"sid\":\"y\",\"exp\":\"1900\",\"typ\":\"access\"}",
        "{\"iss\":\"tutord\",\"sub\":\"x\",\"sid\":\"y\",\"exp\":1900.5,\"typ\":\"access\"}",
        "{\"iss\":\"tutord\",\"sub\":7,\"sid\":\"y\",\"exp\":1900,\"typ\":\"access\"}",
        "{\"iss\":\"tutord\",\"sub\":\"\",\"sid\":\"y\",\"exp\":1900,\"typ\":\"access\"}",
        "[1,2]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        s_forge (hdr, bad [i], s_secret, token, sizeof token);
        if (s_verify (token, 1000) == 0)
            fail_msg ("accepted claims %s", bad [i]);
    }
}

static void
test_base64url (void **state)
{
    (void) state;
    unsigned char out [16];
    assert_int_equal (id_b64url_decode ("AQID", 4, out, sizeof out), 3);
    assert_memory_equal (out, "\x01\x02\x03", 3);
    assert_int_equal (id_b64url_decode ("AQI", 3, out, sizeof out), 2);
    //  Non-canonical: unused low bits set.
    assert_int_equal (id_b64url_decode ("AQJ", 3, out, sizeof out), -1);
    assert_int_equal (id_b64url_decode ("AQI=", 4, out, sizeof out), -1);
    assert_int_equal (id_b64url_decode ("AQ+/", 4, out, sizeof out), -1);
    assert_int_equal (id_b64url_decode ("A", 1, out, sizeof out), -1);
    assert_int_equal (id_b64url_decode ("AQID AQID", 9, out, sizeof out), -1);
    assert_int_equal (id_b64url_decode ("AAAAAAAAAAAAAAAAAAAAAAAAAA", 26, out, 4), -1);
}

static void
test_password (void **state)
{
    (void) state;
    td_config_t cfg;
    memset (&cfg, 0, sizeof cfg);
    cfg.argon2_opslimit = 1;
    cfg.argon2_memlimit_kib = 8;
    char hash [crypto_pwhash_STRBYTES];
    assert_int_equal (id_password_hash (&cfg, "correct horse", hash), 0);
    assert_memory_equal (hash, "$argon2id$", 10);
    assert_null (strstr (hash, "correct horse"));
    assert_true (id_password_verify (hash, "correct horse"));
    assert_false (id_password_verify (hash, "correct horsE"));
    assert_false (id_password_verify (hash, ""));
    assert_false (id_password_verify ("", "correct horse"));
    assert_false (id_password_verify (NULL, "correct horse"));
    assert_false (id_password_verify ("$argon2id$garbage", "correct horse"));
}

static void
test_input_rules (void **state)
{
    (void) state;
    assert_true (id_email_valid ("a@b.co"));
    assert_true (id_email_valid ("first.last+tag@sub.example.org"));
    const char *bad [] = { "", "a", "@b.co", "a@", "a@b", "a@@b.co", "a b@c.de", "a@b..co",
                           "a@.b.co", "a@b.co.", "a@b_c.de", "\"a\"@b.co", "é@b.co" };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++)
        if (id_email_valid (bad [i]))
            fail_msg ("accepted email %s", bad [i]);
    char long_email [300];
    memset (long_email, 'a', sizeof long_email);
    memcpy (long_email + 250, "@b.co", 6);
    assert_false (id_email_valid (long_email));
    assert_true (id_slug_valid ("abc"));
    assert_true (id_slug_valid ("my-org-2"));
    assert_false (id_slug_valid ("ab"));
    assert_false (id_slug_valid ("My-Org"));
    assert_false (id_slug_valid ("a_b_c"));
    char slug [70];
    memset (slug, 'a', 65);
    slug [65] = 0;
    assert_false (id_slug_valid (slug));
    slug [64] = 0;
    assert_true (id_slug_valid (slug));
    assert_true (id_uuid_valid ("131f818d-7cb3-4496-bf9d-c2f88c625ab2"));
    assert_true (id_uuid_valid ("131F818D-7CB3-4496-BF9D-C2F88C625AB2"));
    assert_false (id_uuid_valid ("131f818d7cb34496bf9dc2f88c625ab2"));
    assert_false (id_uuid_valid ("131f818d-7cb3-4496-bf9d-c2f88c625ab"));
    assert_false (id_uuid_valid ("131f818d-7cb3-4496-bf9d-c2f88c625abz"));
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_round_trip),
        cmocka_unit_test (test_tampering),
        cmocka_unit_test (test_algorithms),
        cmocka_unit_test (test_claims),
        cmocka_unit_test (test_base64url),
        cmocka_unit_test (test_password),
        cmocka_unit_test (test_input_rules),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
