/*  test_llm_conv — the pure pieces of conversation practice (actors/llm/td_llm_conv_words.c,
 *  td_llm_schema.c): word folding, the course's vocabulary entries, the offline analysis (words
 *  found, known words, article agreement that is certain and only that, the level), and the JSON
 *  Schema subset every analysis passes before it is stored, run against the real schema file
 *  prompts/analysis.schema.json: a valid analysis, and each way a model's answer can be wrong.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include "llm/td_llm_conv.h"
#include "llm/td_llm_schema.h"

static json_t *
s_course (void)
{
    json_error_t jerr;
    json_t *c = json_loads ("{\"modules\": [{\"lessons\": [{\"items\": ["
        "{\"id\": \"i1\", \"kind\": \"vocabulary\", \"title\": \"der Hund\", \"content\": {\"word\": \"Hund\","
        "  \"article\": \"der\", \"gender\": \"m\", \"plural\": \"die Hunde\", \"translation\": \"dog\"}},"
        "{\"id\": \"i2\", \"kind\": \"vocabulary\", \"title\": \"die Katze\", \"content\": {\"word\": \"Katze\","
        "  \"article\": \"die\", \"gender\": \"f\", \"plural\": \"die Katzen\", \"translation\": \"cat\"}},"
        "{\"id\": \"i3\", \"kind\": \"vocabulary\", \"title\": \"das Mädchen\", \"content\": {\"word\": \"Mädchen\","
        "  \"article\": \"das\", \"plural\": \"die Mädchen\", \"translation\": \"girl\"}},"
        "{\"id\": \"i4\", \"kind\": \"vocabulary\", \"title\": \"laufen\", \"content\": {\"word\": \"laufen\","
        "  \"translation\": \"to run\"}},"
        "{\"id\": \"m1\", \"kind\": \"material\", \"title\": \"Talk\", \"content\": {\"blocks\": []}}"
        "]}]}]}", 0, &jerr);
    assert_non_null (c);
    return c;
}

static void
test_fold (void **state)
{
    (void) state;
    char out [64];
    const char *w = "ÄRGER Öl Über";
    td_llm_word_fold (w, strlen (w), out, sizeof out);
    assert_string_equal (out, "ärger öl über");
    td_llm_word_fold ("ABC", 3, out, 3);        //  bounded
    assert_string_equal (out, "ab");
}

static void
test_vocab (void **state)
{
    (void) state;
    json_t *course = s_course ();
    json_t *v = td_llm_vocab_from_course (course, 100);
    assert_int_equal (json_array_size (v), 4);  //  the material is not vocabulary
    bool plural = true;
    const json_t *e = td_llm_vocab_find (v, "HUND", &plural);
    assert_non_null (e);
    assert_false (plural);
    assert_string_equal (json_string_value (json_object_get (e, "item_id")), "i1");
    e = td_llm_vocab_find (v, "hunde", &plural);
    assert_non_null (e);
    assert_true (plural);
    assert_null (td_llm_vocab_find (v, "Maus", NULL));
    json_t *v2 = td_llm_vocab_from_course (course, 2);
    assert_int_equal (json_array_size (v2), 2);
    json_decref (v2);
    json_decref (v);
    json_decref (course);
}

static json_t *
s_schema (void)
{
    json_error_t jerr;
    json_t *s = json_load_file (TUTORD_SOURCE_DIR "/prompts/analysis.schema.json", 0, &jerr);
    assert_non_null (s);
    char why [200];
    assert_int_equal (td_llm_schema_check_schema (s, why, sizeof why), 0);
    return s;
}

static void
test_offline_analysis (void **state)
{
    (void) state;
    json_t *course = s_course ();
    json_t *v = td_llm_vocab_from_course (course, 100);
    json_t *known = json_pack ("[s]", "katze");
    json_t *schema = s_schema ();
    //  "die Hund" and "das Katze" are wrong in every case; "der Katze" (dative) is not flagged;
    //  "die Hunde" is a plural: fine
    json_t *a = td_llm_offline_analysis ("Ich sehe die Hund. Das Katze schläft. Ich gebe der Katze "
                                         "Milch und die Hunde laufen.", v, known, "A2");
    assert_non_null (a);
    char why [200];
    assert_int_equal (td_llm_schema_validate (schema, a, why, sizeof why), 0);
    json_t *errors = json_object_get (a, "grammar_errors");
    assert_int_equal (json_array_size (errors), 2);
    assert_string_equal (json_string_value (json_object_get (json_array_get (errors, 0), "text")), "die Hund");
    assert_string_equal (json_string_value (json_object_get (json_array_get (errors, 0), "correction")),
                         "der Hund");
    assert_string_equal (json_string_value (json_object_get (json_array_get (errors, 1), "text")), "Das Katze");
    assert_string_equal (json_string_value (json_object_get (json_array_get (errors, 1), "correction")),
                         "Die Katze");
    json_t *words = json_object_get (a, "vocabulary");
    assert_int_equal (json_array_size (words), 3);  //  Hund, Katze, laufen: each once
    json_t *w0 = json_array_get (words, 0), *w1 = json_array_get (words, 1), *w2 = json_array_get (words, 2);
    assert_string_equal (json_string_value (json_object_get (w0, "lemma")), "Hund");
    assert_string_equal (json_string_value (json_object_get (w0, "article")), "der");
    assert_string_equal (json_string_value (json_object_get (w0, "translation")), "dog");
    assert_false (json_is_true (json_object_get (w0, "known")));
    assert_true (json_is_true (json_object_get (w1, "known")));
    assert_string_equal (json_string_value (json_object_get (w2, "lemma")), "laufen");
    assert_null (json_object_get (w2, "article"));
    assert_string_equal (json_string_value (json_object_get (a, "level")), "A2");
    assert_non_null (strstr (json_string_value (json_object_get (a, "note")), "offline"));
    json_decref (a);
    //  no level given: estimated; nothing found: empty lists, still valid
    a = td_llm_offline_analysis ("Hallo!", v, NULL, NULL);
    assert_string_equal (json_string_value (json_object_get (a, "level")), "A1");
    assert_int_equal (json_array_size (json_object_get (a, "vocabulary")), 0);
    assert_int_equal (td_llm_schema_validate (schema, a, why, sizeof why), 0);
    json_decref (a);
    //  the neuter noun: "der Mädchen" is never right in the singular
    a = td_llm_offline_analysis ("der Mädchen", v, NULL, "B1");
    assert_int_equal (json_array_size (json_object_get (a, "grammar_errors")), 1);
    json_decref (a);
    //  hostile text: long, no words, odd bytes
    char *big = malloc (100000);
    memset (big, 'x', 99999);
    big [99999] = 0;
    a = td_llm_offline_analysis (big, v, NULL, NULL);
    assert_non_null (a);
    assert_int_equal (td_llm_schema_validate (schema, a, why, sizeof why), 0);
    json_decref (a);
    free (big);
    json_decref (schema);
    json_decref (known);
    json_decref (v);
    json_decref (course);
}

static int
s_check (json_t *schema, const char *text, char *why, size_t whylen)
{
    json_error_t jerr;
    json_t *j = json_loads (text, 0, &jerr);
    assert_non_null (j);
    int rc = td_llm_schema_validate (schema, j, why, whylen);
    json_decref (j);
    return rc;
}

static void
test_schema (void **state)
{
    (void) state;
    json_t *s = s_schema ();
    char why [200];
    assert_int_equal (s_check (s, "{\"grammar_errors\": [{\"text\": \"ich bin gehen\", \"correction\":"
        " \"ich gehe\", \"explanation\": \"one verb\"}], \"vocabulary\": [{\"word\": \"Hunde\", \"lemma\":"
        " \"Hund\", \"translation\": \"dog\", \"article\": \"der\", \"known\": false}], \"level\": \"B1\"}",
        why, sizeof why), 0);
    //  each way to be wrong
    assert_int_equal (s_check (s, "{\"grammar_errors\": [], \"vocabulary\": []}", why, sizeof why), -1);
    assert_non_null (strstr (why, "level"));
    assert_int_equal (s_check (s, "{\"grammar_errors\": [], \"vocabulary\": [], \"level\": \"C2\"}",
                               why, sizeof why), -1);
    assert_int_equal (s_check (s, "{\"grammar_errors\": {}, \"vocabulary\": [], \"level\": \"A1\"}",
                               why, sizeof why), -1);
    assert_int_equal (s_check (s, "{\"grammar_errors\": [], \"vocabulary\": [], \"level\": \"A1\","
                               " \"secret\": 1}", why, sizeof why), -1);
    assert_non_null (strstr (why, "secret"));
    assert_int_equal (s_check (s, "{\"grammar_errors\": [{\"text\": \"x\"}], \"vocabulary\": [],"
                               " \"level\": \"A1\"}", why, sizeof why), -1);
    assert_non_null (strstr (why, "grammar_errors[0].correction"));
    assert_int_equal (s_check (s, "{\"grammar_errors\": [], \"vocabulary\": [{\"word\": \"a\", \"lemma\":"
                               " \"a\", \"translation\": \"b\", \"known\": \"yes\"}], \"level\": \"A1\"}",
                               why, sizeof why), -1);
    assert_int_equal (s_check (s, "{\"grammar_errors\": [{\"text\": \"\", \"correction\": \"a\","
                               " \"explanation\": \"b\"}], \"vocabulary\": [], \"level\": \"A1\"}",
                               why, sizeof why), -1);
    assert_int_equal (s_check (s, "[]", why, sizeof why), -1);
    //  a schema with a keyword this validator does not check is refused, never half-applied
    json_error_t jerr;
    json_t *bad = json_loads ("{\"type\": \"object\", \"properties\": {\"a\": {\"pattern\": \"x\"}}}",
                              0, &jerr);
    assert_int_equal (td_llm_schema_check_schema (bad, why, sizeof why), -1);
    assert_non_null (strstr (why, "pattern"));
    json_decref (bad);
    json_decref (s);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_fold),
        cmocka_unit_test (test_vocab),
        cmocka_unit_test (test_offline_analysis),
        cmocka_unit_test (test_schema),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
