/*  test_catalog_cache — the catalog's pure helpers for learners: the cache of rendered trees, the
 *  caller's cohorts as a PostgreSQL array, and the learner view of a tree with an exam pool.
 *
 *  These decide what a learner is served without asking PostgreSQL again, so the tests try the
 *  edges: a changed version or count of released modules never hits, an entry is replaced, the
 *  table stays bounded, cohort ids that would need quoting are left out, and exam exercises and
 *  answers never reach the learner view.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <msgpack.h>
#include "catalog/td_catalog.h"
#include "td_json.h"

static void
test_cache_hits_only_the_same_version (void **state)
{
    (void) state;
    td_cat_cache_t *cache = td_cat_cache_new ();
    assert_non_null (cache);
    size_t size = 0;
    assert_null (td_cat_cache_get (cache, "c1", "1:t", 3, &size));
    td_cat_cache_put (cache, "c1", "1:t", 3, "abc", 3);
    const char *hit = td_cat_cache_get (cache, "c1", "1:t", 3, &size);
    assert_non_null (hit);
    assert_int_equal (size, 3);
    assert_memory_equal (hit, "abc", 3);
    assert_null (td_cat_cache_get (cache, "c1", "2:t", 3, &size));     //  tree changed
    assert_null (td_cat_cache_get (cache, "c1", "1:t", 2, &size));     //  another release
    assert_null (td_cat_cache_get (cache, "c2", "1:t", 3, &size));
    assert_null (td_cat_cache_get (cache, "c1", "", 3, &size));        //  no version: never
    //  replaced by a newer rendering
    td_cat_cache_put (cache, "c1", "2:t", 3, "defg", 4);
    assert_null (td_cat_cache_get (cache, "c1", "1:t", 3, &size));
    hit = td_cat_cache_get (cache, "c1", "2:t", 3, &size);
    assert_non_null (hit);
    assert_int_equal (size, 4);
    //  bounded: many courses never grow it without end, and the newest stays
    char id [32];
    for (int i = 0; i < 1000; i++) {
        snprintf (id, sizeof id, "course-%d", i);
        td_cat_cache_put (cache, id, "v", 1, id, strlen (id));
    }
    assert_non_null (td_cat_cache_get (cache, "course-999", "v", 1, &size));
    assert_null (td_cat_cache_get (cache, "course-0", "v", 1, &size));
    //  a version too long to keep is not kept
    char long_version [200];
    memset (long_version, 'v', sizeof long_version - 1);
    long_version [sizeof long_version - 1] = 0;
    td_cat_cache_put (cache, "c3", long_version, 1, "x", 1);
    assert_null (td_cat_cache_get (cache, "c3", long_version, 1, &size));
    td_cat_cache_destroy (&cache);
    assert_null (cache);
    td_cat_cache_destroy (&cache);                                      //  twice is fine
}

static td_principal_t *
s_principal (const char *json_text)
{
    td_error_t err;
    json_t *j = td_json_parse (json_text, strlen (json_text), 0, &err);
    assert_non_null (j);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    assert_int_equal (td_json_to_mp (j, &pk, &err), 0);
    json_decref (j);
    msgpack_unpacked u;
    msgpack_unpacked_init (&u);
    assert_int_equal (msgpack_unpack_next (&u, sb.data, sb.size, NULL), MSGPACK_UNPACK_SUCCESS);
    td_principal_t *p = td_principal_new (&u.data, &err);
    msgpack_unpacked_destroy (&u);
    msgpack_sbuffer_destroy (&sb);
    assert_non_null (p);
    return p;
}

static void
test_cohorts_literal (void **state)
{
    (void) state;
    td_principal_t *p = s_principal (
        "{\"kind\": \"user\", \"user\": \"u\", \"cohorts\": ["
        " {\"cohort\": \"11111111-1111-1111-1111-111111111111\", \"org\": \"o\", \"role\": \"learner\"},"
        " {\"cohort\": \"bad\\\"id\", \"org\": \"o\", \"role\": \"learner\"},"
        " {\"cohort\": \"a,b\", \"org\": \"o\", \"role\": \"learner\"},"
        " {\"cohort\": \"22222222-2222-2222-2222-222222222222\", \"org\": \"o\", \"role\": \"mentor\"}]}");
    char *lit = td_cat_cohorts (p);
    assert_string_equal (lit, "{\"11111111-1111-1111-1111-111111111111\","
                              "\"22222222-2222-2222-2222-222222222222\"}");
    free (lit);
    td_principal_destroy (&p);
    p = s_principal ("{\"kind\": \"system\"}");
    lit = td_cat_cohorts (p);
    assert_string_equal (lit, "{}");
    free (lit);
    td_principal_destroy (&p);
}

static void
test_learner_tree_hides_the_exam_pool (void **state)
{
    (void) state;
    const char *text =
        "{\"modules\": [{\"lessons\": ["
        " {\"items\": [{\"kind\": \"exercise\", \"content\": {\"solution\": \"S1\", \"exam\": false,"
        "    \"tests\": [{\"stdin\": \"a\", \"expected_stdout\": \"b\", \"hidden\": true}]}},"
        "   {\"kind\": \"exercise\", \"content\": {\"solution\": \"S2\", \"exam\": true}},"
        "   {\"kind\": \"question\", \"content\": {\"answer\": 1, \"tolerance\": 0.5}},"
        "   {\"kind\": \"exercise\", \"content\": {\"solution\": \"S3\", \"exam\": true}},"
        "   {\"kind\": \"material\", \"content\": {\"blocks\": [], \"conversation\": {\"role\": \"r\"}}}]},"
        " {\"items\": []}]}]}";
    json_error_t jerr;
    json_t *tree = json_loads (text, 0, &jerr);
    assert_non_null (tree);
    td_cat_learner_tree (tree);
    json_t *lessons = json_object_get (json_array_get (json_object_get (tree, "modules"), 0), "lessons");
    json_t *l0 = json_array_get (lessons, 0);
    assert_true (json_is_true (json_object_get (l0, "exam")));
    assert_true (json_is_false (json_object_get (json_array_get (lessons, 1), "exam")));
    json_t *items = json_object_get (l0, "items");
    assert_int_equal (json_array_size (items), 3);              //  both exam exercises gone
    char *out = json_dumps (tree, JSON_COMPACT);
    assert_null (strstr (out, "S1"));
    assert_null (strstr (out, "S2"));
    assert_null (strstr (out, "S3"));
    assert_null (strstr (out, "\"answer\""));
    assert_null (strstr (out, "expected_stdout"));
    assert_non_null (strstr (out, "\"conversation\""));          //  learners see the context
    free (out);
    json_decref (tree);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_cache_hits_only_the_same_version),
        cmocka_unit_test (test_cohorts_literal),
        cmocka_unit_test (test_learner_tree_hides_the_exam_pool),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
