/*  test_core_access — the auth map parsed into a td_principal_t, and the access questions.
 *
 *  Maps are written as JSON and packed the way the bridge packs them. Covered: every kind,
 *  absent/nil auth as anonymous, malformed maps refused (wrong kind, wrong types, unknown
 *  roles, admin as a cohort role, overlong lists), and each rule of IDENTITY.md §2: roles in
 *  orgs and cohorts, mentees, admins and API keys of the user's orgs, other orgs never.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "td_access.h"
#include "td_json.h"

//  Parse JSON into a msgpack object (zone owned by the caller).
static msgpack_object
s_obj (const char *json, msgpack_sbuffer *buf, msgpack_zone *zone)
{
    msgpack_sbuffer_init (buf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, buf, msgpack_sbuffer_write);
    td_error_t err;
    json_t *j = td_json_parse (json, strlen (json), 0, &err);
    assert_non_null (j);
    assert_int_equal (td_json_to_mp (j, &pk, &err), 0);
    json_decref (j);
    msgpack_zone_init (zone, 2048);
    msgpack_object o;
    size_t off = 0;
    assert_int_equal (msgpack_unpack (buf->data, buf->size, &off, zone, &o), MSGPACK_UNPACK_SUCCESS);
    return o;
}

static td_principal_t *
s_parse (const char *json)
{
    msgpack_sbuffer buf;
    msgpack_zone zone;
    msgpack_object o = s_obj (json, &buf, &zone);
    td_error_t err;
    td_principal_t *p = td_principal_new (&o, &err);
    if (!p)
        assert_int_equal (err.code, TD_ERR_UNAUTHORIZED);
    msgpack_zone_destroy (&zone);
    msgpack_sbuffer_destroy (&buf);
    return p;                       //  owns copies: the buffers are gone
}

static const char *s_learner =
    "{\"kind\":\"user\",\"user\":\"u-learner\",\"session\":\"s1\",\"email\":\"l@x.io\","
    " \"memberships\":[{\"org\":\"A\",\"role\":\"learner\"}],"
    " \"cohorts\":[{\"cohort\":\"A1\",\"org\":\"A\",\"role\":\"learner\"}], \"mentees\":[]}";
static const char *s_mentor =
    "{\"kind\":\"user\",\"user\":\"u-mentor\",\"session\":\"s2\","
    " \"memberships\":[{\"org\":\"A\",\"role\":\"mentor\"}],"
    " \"cohorts\":[{\"cohort\":\"A1\",\"org\":\"A\",\"role\":\"mentor\"}],"
    " \"mentees\":[\"u-learner\"]}";
static const char *s_admin_a =
    "{\"kind\":\"user\",\"user\":\"u-admin\",\"session\":\"s3\","
    " \"memberships\":[{\"org\":\"A\",\"role\":\"admin\"}], \"cohorts\":[], \"mentees\":[]}";
static const char *s_admin_b =
    "{\"kind\":\"user\",\"user\":\"u-adminb\",\"session\":\"s4\","
    " \"memberships\":[{\"org\":\"B\",\"role\":\"admin\"}]}";
static const char *s_key_a = "{\"kind\":\"api_key\",\"key\":\"k1\",\"org\":\"A\"}";

static void
test_kinds (void **state)
{
    (void) state;
    td_error_t err;
    td_principal_t *p = td_principal_new (NULL, &err);
    assert_non_null (p);
    assert_int_equal (td_principal_kind (p), TD_PRINCIPAL_ANONYMOUS);
    assert_null (td_principal_user (p));
    assert_false (td_principal_in_org (p, "A"));
    td_principal_destroy (&p);
    assert_null (p);
    td_principal_destroy (&p);      //  twice is harmless

    msgpack_object nil = { .type = MSGPACK_OBJECT_NIL };
    p = td_principal_new (&nil, &err);
    assert_int_equal (td_principal_kind (p), TD_PRINCIPAL_ANONYMOUS);
    td_principal_destroy (&p);

    p = s_parse ("{\"kind\":\"anonymous\"}");
    assert_int_equal (td_principal_kind (p), TD_PRINCIPAL_ANONYMOUS);
    td_principal_destroy (&p);

    p = s_parse ("{\"kind\":\"system\"}");
    assert_int_equal (td_principal_kind (p), TD_PRINCIPAL_SYSTEM);
    assert_true (td_principal_in_org (p, "anything"));
    assert_true (td_principal_is_org_admin (p, "anything"));
    assert_true (td_principal_may_see_user (p, "anyone", NULL, 0));
    assert_false (td_principal_is_org_key (p, "anything"));
    td_principal_destroy (&p);

    p = s_parse (s_learner);
    assert_int_equal (td_principal_kind (p), TD_PRINCIPAL_USER);
    assert_string_equal (td_principal_user (p), "u-learner");
    assert_string_equal (td_principal_session (p), "s1");
    assert_string_equal (td_principal_email (p), "l@x.io");
    assert_null (td_principal_key (p));
    assert_int_equal (td_principal_org_count (p), 1);
    td_role_t role;
    assert_string_equal (td_principal_org_at (p, 0, &role), "A");
    assert_int_equal (role, TD_ROLE_LEARNER);
    assert_null (td_principal_org_at (p, 1, &role));
    const char *org;
    assert_int_equal (td_principal_cohort_count (p), 1);
    assert_string_equal (td_principal_cohort_at (p, 0, &org, &role), "A1");
    assert_string_equal (org, "A");
    assert_null (td_principal_cohort_at (p, 1, NULL, NULL));
    td_principal_destroy (&p);

    p = s_parse (s_key_a);
    assert_int_equal (td_principal_kind (p), TD_PRINCIPAL_API_KEY);
    assert_string_equal (td_principal_key (p), "k1");
    assert_string_equal (td_principal_key_org (p), "A");
    assert_null (td_principal_user (p));
    td_principal_destroy (&p);
}

static void
test_malformed (void **state)
{
    (void) state;
    const char *bad [] = {
        "[]",
        "{}",
        "{\"kind\":\"root\"}",
        "{\"kind\":7}",
        "{\"kind\":\"user\"}",                                          //  no user
        "{\"kind\":\"user\",\"user\":5}",
        "{\"kind\":\"user\",\"user\":\"\"}",
        "{\"kind\":\"user\",\"user\":\"u\",\"memberships\":{}}",
        "{\"kind\":\"user\",\"user\":\"u\",\"memberships\":[\"A\"]}",
        "{\"kind\":\"user\",\"user\":\"u\",\"memberships\":[{\"org\":\"A\",\"role\":\"owner\"}]}",
        "{\"kind\":\"user\",\"user\":\"u\",\"memberships\":[{\"role\":\"admin\"}]}",
        "{\"kind\":\"user\",\"user\":\"u\",\"cohorts\":[{\"cohort\":\"C\",\"role\":\"learner\"}]}",
        "{\"kind\":\"user\",\"user\":\"u\",\"cohorts\":[{\"cohort\":\"C\",\"org\":\"A\",\"role\":\"admin\"}]}",
        "{\"kind\":\"user\",\"user\":\"u\",\"mentees\":[1]}",
        "{\"kind\":\"user\",\"user\":\"u\",\"mentees\":\"x\"}",
        "{\"kind\":\"api_key\",\"key\":\"k\"}",                        //  no org
        "{\"kind\":\"api_key\",\"org\":\"A\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        td_principal_t *p = s_parse (bad [i]);
        if (p)
            fail_msg ("accepted malformed auth %s", bad [i]);
    }
    //  Too many mentees.
    size_t cap = 16 + (TD_ACCESS_MAX_MENTEES + 1) * 6;
    char *json = malloc (cap);
    assert_non_null (json);
    size_t n = (size_t) snprintf (json, cap, "{\"kind\":\"user\",\"user\":\"u\",\"mentees\":[");
    for (int i = 0; i <= TD_ACCESS_MAX_MENTEES; i++)
        n += (size_t) snprintf (json + n, cap - n, "%s\"m\"", i? ",": "");
    snprintf (json + n, cap - n, "]}");
    assert_null (s_parse (json));
    free (json);
}

static void
test_rules (void **state)
{
    (void) state;
    td_principal_t *learner = s_parse (s_learner), *mentor = s_parse (s_mentor);
    td_principal_t *admin = s_parse (s_admin_a), *admin_b = s_parse (s_admin_b);
    td_principal_t *key = s_parse (s_key_a);
    td_principal_t *anon = s_parse ("{\"kind\":\"anonymous\"}");
    const char *orgs_a [] = { "A" };
    const char *orgs_ab [] = { "B", "A" };

    //  Roles.
    assert_int_equal (td_principal_org_role (learner, "A"), TD_ROLE_LEARNER);
    assert_int_equal (td_principal_org_role (learner, "B"), TD_ROLE_NONE);
    assert_int_equal (td_principal_org_role (mentor, "A"), TD_ROLE_MENTOR);
    assert_int_equal (td_principal_org_role (admin, "A"), TD_ROLE_ADMIN);
    assert_int_equal (td_principal_org_role (key, "A"), TD_ROLE_NONE);
    assert_int_equal (td_principal_cohort_role (learner, "A1"), TD_ROLE_LEARNER);
    assert_int_equal (td_principal_cohort_role (mentor, "A1"), TD_ROLE_MENTOR);
    assert_int_equal (td_principal_cohort_role (admin, "A1"), TD_ROLE_NONE);
    assert_int_equal (td_principal_org_role (learner, NULL), TD_ROLE_NONE);

    //  Visibility of orgs.
    assert_true (td_principal_in_org (learner, "A"));
    assert_true (td_principal_in_org (key, "A"));
    assert_false (td_principal_in_org (key, "B"));
    assert_false (td_principal_in_org (admin_b, "A"));
    assert_false (td_principal_in_org (anon, "A"));
    assert_true (td_principal_is_org_admin (admin, "A"));
    assert_false (td_principal_is_org_admin (admin, "B"));
    assert_false (td_principal_is_org_admin (mentor, "A"));
    assert_false (td_principal_is_org_admin (key, "A"));
    assert_true (td_principal_is_org_key (key, "A"));
    assert_false (td_principal_is_org_key (key, "B"));
    assert_false (td_principal_is_org_key (admin, "A"));

    //  May see user U: self, mentor of U, admin or key of U's org; never another org's.
    assert_true (td_principal_may_see_user (learner, "u-learner", orgs_a, 1));
    assert_false (td_principal_may_see_user (learner, "u-mentor", orgs_a, 1));
    assert_true (td_principal_may_see_user (mentor, "u-learner", orgs_a, 1));
    assert_true (td_principal_is_mentor_of (mentor, "u-learner"));
    assert_false (td_principal_is_mentor_of (learner, "u-learner"));
    assert_false (td_principal_may_see_user (mentor, "u-other", orgs_a, 1));
    assert_true (td_principal_may_see_user (admin, "u-other", orgs_a, 1));
    assert_true (td_principal_may_see_user (admin, "u-other", orgs_ab, 2));
    assert_false (td_principal_may_see_user (admin, "u-other", NULL, 0));
    assert_false (td_principal_may_see_user (admin_b, "u-learner", orgs_a, 1));
    assert_true (td_principal_may_see_user (admin_b, "u-x", orgs_ab, 2));
    assert_true (td_principal_may_see_user (key, "u-learner", orgs_a, 1));
    assert_false (td_principal_may_see_user (key, "u-x", (const char *[]) { "B" }, 1));
    assert_false (td_principal_may_see_user (anon, "u-learner", orgs_a, 1));
    assert_false (td_principal_may_see_user (learner, NULL, orgs_a, 1));

    td_principal_destroy (&learner);
    td_principal_destroy (&mentor);
    td_principal_destroy (&admin);
    td_principal_destroy (&admin_b);
    td_principal_destroy (&key);
    td_principal_destroy (&anon);
}

static void
test_role_names (void **state)
{
    (void) state;
    assert_string_equal (td_role_name (TD_ROLE_ADMIN), "admin");
    assert_string_equal (td_role_name (TD_ROLE_MENTOR), "mentor");
    assert_string_equal (td_role_name (TD_ROLE_LEARNER), "learner");
    assert_string_equal (td_role_name (TD_ROLE_NONE), "none");
    assert_int_equal (td_role_parse ("admin"), TD_ROLE_ADMIN);
    assert_int_equal (td_role_parse ("Admin"), TD_ROLE_NONE);
    assert_int_equal (td_role_parse (""), TD_ROLE_NONE);
    assert_int_equal (td_role_parse (NULL), TD_ROLE_NONE);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_kinds),
        cmocka_unit_test (test_malformed),
        cmocka_unit_test (test_rules),
        cmocka_unit_test (test_role_names),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
