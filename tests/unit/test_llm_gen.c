/*  test_llm_gen — the rules of each kind of generation job, without a server
 *  (actors/llm/td_llm_gen_kind.c): parameters and their defaults, the context read from a course
 *  tree, the schema a model's answer must pass (hostile and half-right answers refused with a
 *  reason), the offline vocabulary exercises, the catalog bodies and slugs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include "llm/td_llm_gen.h"

static json_t *
J (const char *text)
{
    json_error_t err;
    json_t *j = json_loads (text, 0, &err);
    assert_non_null (j);
    return j;
}

static void
test_params (void **state)
{
    (void) state;
    const char *field = NULL, *why = NULL;
    json_t *b = J ("{\"kind\": \"grammar_exercises\", \"org_id\": \"x\"}");
    json_t *p = td_gen_params (TD_GEN_GRAMMAR, b, &field, &why);
    assert_non_null (p);
    assert_int_equal (json_integer_value (json_object_get (p, "count")), 5);     //  the default
    json_decref (p);
    json_decref (b);
    struct { td_gen_kind_t kind; const char *body, *field; } bad [] = {
        { TD_GEN_GRAMMAR, "{\"count\": 0}", "count" },
        { TD_GEN_GRAMMAR, "{\"count\": 21}", "count" },
        { TD_GEN_GRAMMAR, "{\"count\": 2.5}", "count" },
        { TD_GEN_GRAMMAR, "{\"level\": \"a1\"}", "level" },
        { TD_GEN_GRAMMAR, "{\"modules\": 2}", "modules" },          //  not a grammar parameter
        { TD_GEN_VOCABULARY, "{\"topic\": \"x\"}", "topic" },       //  nor a vocabulary one
        { TD_GEN_CODE, "{}", "topic" },
        { TD_GEN_CODE, "{\"topic\": \"t\", \"language\": \"rust\"}", "language" },
        { TD_GEN_OUTLINE, "{\"topic\": \"t\", \"language\": \"1x\"}", "language" },
        { TD_GEN_OUTLINE, "{\"topic\": \"t\", \"lessons_per_module\": 9}", "lessons_per_module" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        b = J (bad [i].body);
        field = why = NULL;
        assert_null (td_gen_params (bad [i].kind, b, &field, &why));
        assert_string_equal (field, bad [i].field);
        assert_non_null (why);
        json_decref (b);
    }
    b = J ("{\"topic\": \"travel\"}");
    p = td_gen_params (TD_GEN_OUTLINE, b, &field, &why);
    assert_int_equal (json_integer_value (json_object_get (p, "modules")), 4);
    assert_int_equal (json_integer_value (json_object_get (p, "lessons_per_module")), 3);
    json_decref (p);
    json_decref (b);
}

#define TREE "{\"id\": \"C\", \"title\": \"German\", \"language\": \"de\", \"modules\": [{\"id\": \"M\"," \
    " \"slug\": \"mod\", \"lessons\": [{\"id\": \"L\", \"slug\": \"les\", \"title\": \"Cases\", \"items\": [" \
    "{\"id\": \"G\", \"kind\": \"grammar\", \"title\": \"Dativ\", \"content\": {\"level\": \"A2\"," \
    " \"explanation\": \"dem\"}}," \
    "{\"id\": \"V\", \"kind\": \"vocabulary\", \"content\": {\"word\": \"Haus\", \"article\": \"das\"," \
    " \"translation\": \"house\", \"example\": \"Das Haus ist alt.\"}}]}]}]}"

static void
test_context (void **state)
{
    (void) state;
    json_t *tree = J (TREE), *params = J ("{\"count\": 3}");
    int total = 0;
    td_errcode_t code;
    const char *field, *why;
    json_t *ctx = td_gen_context (TD_GEN_GRAMMAR, tree, "G", params, &total, &code, &field, &why);
    assert_non_null (ctx);
    assert_int_equal (total, 3);
    assert_string_equal (json_string_value (json_object_get (ctx, "lesson_id")), "L");
    assert_string_equal (json_string_value (json_object_get (ctx, "level")), "A2");
    json_decref (ctx);
    //  the wrong kind of item, an unknown one, a lesson for an outline
    assert_null (td_gen_context (TD_GEN_GRAMMAR, tree, "V", params, &total, &code, &field, &why));
    assert_int_equal (code, TD_ERR_INVALID_INPUT);
    assert_null (td_gen_context (TD_GEN_GRAMMAR, tree, "nope", params, &total, &code, &field, &why));
    assert_int_equal (code, TD_ERR_NOT_FOUND);
    assert_string_equal (field, "target_id");
    assert_null (td_gen_context (TD_GEN_OUTLINE, tree, "L", params, &total, &code, &field, &why));
    //  vocabulary: the words of the lesson; the default count is two exercises per word
    json_t *none = J ("{}");
    ctx = td_gen_context (TD_GEN_VOCABULARY, tree, "L", none, &total, &code, &field, &why);
    assert_non_null (ctx);
    assert_int_equal (total, 2);
    assert_int_equal (json_array_size (json_object_get (ctx, "words")), 1);
    //  offline: a cloze from the example, then a translation question
    json_t *q = td_gen_offline_vocabulary (ctx, 0);
    assert_string_equal (json_string_value (json_object_get (q, "prompt")),
                         "Fill in the gap: Das _____ ist alt.");
    assert_string_equal (json_string_value (json_array_get (json_object_get (q, "answer"), 0)), "Haus");
    json_t *body = td_gen_item_body (TD_GEN_VOCABULARY, "0123456789ab", ctx, 0, q, true);
    assert_string_equal (json_string_value (json_object_get (body, "slug")), "gen-01234567-1");
    assert_string_equal (json_string_value (json_object_get (body, "title")), "[offline] Vocabulary: Haus (1)");
    json_decref (body);
    json_decref (q);
    q = td_gen_offline_vocabulary (ctx, 1);
    assert_string_equal (json_string_value (json_object_get (q, "prompt")), "Which word means \"house\"?");
    assert_int_equal (json_array_size (json_object_get (q, "answer")), 2);     //  Haus, das Haus
    json_decref (q);
    json_decref (ctx);
    json_decref (none);
    json_decref (params);
    json_decref (tree);
    char slug [64];
    td_gen_slug (slug, sizeof slug, "abcdef0123", -2, -1);
    assert_string_equal (slug, "gen-abcdef01-m2");
    td_gen_slug (slug, sizeof slug, "abcdef0123", 1, 0);
    assert_string_equal (slug, "gen-abcdef01-m2-l1");
}

static void
test_question_schema (void **state)
{
    (void) state;
    json_t *params = J ("{\"count\": 1}");
    char why [240];
    json_t *q = td_gen_validate (TD_GEN_GRAMMAR, params, "Here you go:\n```json\n{\"type\": \"single\","
        " \"prompt\": \"P\", \"choices\": [\"a\", \"b\"], \"answer\": 1, \"x\": 1}\n```", why, sizeof why);
    assert_non_null (q);
    assert_null (json_object_get (q, "x"));                 //  only the known keys are kept
    assert_string_equal (json_string_value (json_object_get (q, "explanation")), "");
    json_decref (q);
    const char *bad [] = {
        "no json here",
        "[1, 2]",
        "{\"type\": \"essay\", \"prompt\": \"P\"}",
        "{\"type\": \"single\", \"prompt\": \"\", \"choices\": [\"a\", \"b\"], \"answer\": 0}",
        "{\"type\": \"single\", \"prompt\": \"P\", \"choices\": [\"a\"], \"answer\": 0}",
        "{\"type\": \"single\", \"prompt\": \"P\", \"choices\": [\"a\", \"a\"], \"answer\": 0}",
        "{\"type\": \"single\", \"prompt\": \"P\", \"choices\": [\"a\", \"b\"], \"answer\": 2}",
        "{\"type\": \"single\", \"prompt\": \"P\", \"choices\": [\"a\", \"b\"], \"answer\": \"a\"}",
        "{\"type\": \"multiple\", \"prompt\": \"P\", \"choices\": [\"a\", \"b\"], \"answer\": [0, 0]}",
        "{\"type\": \"multiple\", \"prompt\": \"P\", \"choices\": [\"a\", \"b\"], \"answer\": []}",
        "{\"type\": \"short\", \"prompt\": \"P\", \"answer\": []}",
        "{\"type\": \"short\", \"prompt\": \"P\", \"answer\": [\"\"]}",
        "{\"type\": \"short\", \"prompt\": \"P\", \"answer\": [\"a\"], \"explanation\": 3}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        why [0] = 0;
        assert_null (td_gen_validate (TD_GEN_GRAMMAR, params, bad [i], why, sizeof why));
        assert_true (strlen (why) > 0);
    }
    json_decref (params);
}

static void
test_code_and_outline_schema (void **state)
{
    (void) state;
    json_t *params = J ("{\"language\": \"python\", \"modules\": 1, \"lessons_per_module\": 2}");
    char why [240];
    json_t *e = td_gen_validate (TD_GEN_CODE, params, "{\"title\": \"T\", \"instructions\": \"I\","
        " \"tests\": [{\"stdin\": \"1\", \"expected_stdout\": \"1\\n\"}], \"solution\": \"print(1)\","
        " \"language\": \"c\", \"exam\": true}", why, sizeof why);
    assert_non_null (e);
    //  the job's language, never the model's; never an exam exercise
    assert_string_equal (json_string_value (json_object_get (e, "language")), "python");
    assert_true (json_is_false (json_object_get (e, "exam")));
    json_decref (e);
    assert_null (td_gen_validate (TD_GEN_CODE, params, "{\"title\": \"T\", \"instructions\": \"I\","
        " \"tests\": [], \"solution\": \"x\"}", why, sizeof why));
    assert_non_null (strstr (why, "tests"));
    assert_null (td_gen_validate (TD_GEN_CODE, params, "{\"title\": \"T\", \"instructions\": \"I\","
        " \"tests\": [1], \"solution\": \"x\"}", why, sizeof why));
    json_t *o = td_gen_validate (TD_GEN_OUTLINE, params, "{\"modules\": [{\"title\": \"M\","
        " \"description\": \"\", \"lessons\": [{\"title\": \"L\", \"description\": \"d\"}]}]}",
        why, sizeof why);
    assert_non_null (o);
    json_decref (o);
    //  more modules or lessons than asked for: refused, not cut
    assert_null (td_gen_validate (TD_GEN_OUTLINE, params, "{\"modules\": [{\"title\": \"M\","
        " \"description\": \"\", \"lessons\": [{\"title\": \"L\", \"description\": \"d\"}]},"
        " {\"title\": \"N\", \"description\": \"\", \"lessons\": [{\"title\": \"L\", \"description\": \"\"}]}]}",
        why, sizeof why));
    assert_null (td_gen_validate (TD_GEN_OUTLINE, params, "{\"modules\": [{\"title\": \"M\","
        " \"description\": \"\", \"lessons\": [{\"title\": \"\", \"description\": \"d\"}]}]}",
        why, sizeof why));
    json_decref (params);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_params),
        cmocka_unit_test (test_context),
        cmocka_unit_test (test_question_schema),
        cmocka_unit_test (test_code_and_outline_schema),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
