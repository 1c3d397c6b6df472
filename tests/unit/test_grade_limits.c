/*  test_grade_limits — an exercise's own limits (td_grade_limits) and the failing tests' names
 *  grade.result carries (td_grade_failed_tests): units, ranges, clamping to the configured
 *  maxima, refusals with the field, hostile values; hidden tests named without their data.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include "grader/td_grade_job.h"
#include "grader/td_grade_limits.h"

static void
s_same (const td_limits_t *a, const td_limits_t *b)
{
    assert_int_equal (a->cpu_ms, b->cpu_ms);
    assert_int_equal (a->wall_ms, b->wall_ms);
    assert_int_equal (a->memory_kb, b->memory_kb);
    assert_int_equal (a->processes, b->processes);
    assert_int_equal (a->output_bytes, b->output_bytes);
    assert_int_equal (a->file_bytes, b->file_bytes);
    assert_int_equal (a->source_bytes, b->source_bytes);
}

static json_t *
s_json (const char *text)
{
    json_error_t jerr;
    json_t *j = json_loads (text, 0, &jerr);
    assert_non_null (j);
    return j;
}

//  Apply text onto the defaults with the default maxima; returns rc, err filled.
static int
s_apply (const char *text, bool clamp, td_limits_t *out, td_error_t *err)
{
    td_limits_t max;
    td_grade_limits_max (&max);
    td_limits_default (out);
    json_t *j = s_json (text);
    td_error_clear (err);
    int rc = td_grade_limits_apply (j, &max, clamp, out, err);
    json_decref (j);
    return rc;
}

static void
test_units_and_defaults (void **state)
{
    (void) state;
    td_limits_t l;
    td_error_t err;
    assert_int_equal (s_apply ("{}", true, &l, &err), 0);
    td_limits_t d;
    td_limits_default (&d);
    s_same (&l, &d);
    assert_int_equal (s_apply ("{\"cpu_ms\": 1500, \"wall_ms\": 1000, \"memory_mb\": 32, "
                               "\"processes\": 8, \"output_kb\": 16, \"file_kb\": 2048}", true,
                               &l, &err), 0);
    assert_int_equal (l.cpu_ms, 1500);
    assert_int_equal (l.wall_ms, 1000);
    assert_int_equal (l.memory_kb, 32 * 1024);
    assert_int_equal (l.processes, 8);
    assert_int_equal (l.output_bytes, 16 * 1024);
    assert_int_equal (l.file_bytes, 2048 * 1024);
    assert_int_equal (l.source_bytes, d.source_bytes);          //  not an item's to choose
    //  a whole number written as a real is one
    assert_int_equal (s_apply ("{\"wall_ms\": 1200.0}", true, &l, &err), 0);
    assert_int_equal (l.wall_ms, 1200);
    //  null or absent: nothing applies
    td_limits_t max;
    td_grade_limits_max (&max);
    assert_int_equal (td_grade_limits_apply (NULL, &max, false, &l, &err), 0);
    json_t *null = json_null ();
    assert_int_equal (td_grade_limits_apply (null, &max, false, &l, &err), 0);
    json_decref (null);
    //  the JSON form round-trips
    json_t *j = td_grade_limits_json (&l);
    td_limits_t back;
    td_limits_default (&back);
    assert_int_equal (td_grade_limits_apply (j, &max, false, &back, &err), 0);
    json_decref (j);
    s_same (&back, &l);
}

static void
test_refused_with_field (void **state)
{
    (void) state;
    static const struct { const char *text; const char *field; } cases [] = {
        { "[1]", "limits" },
        { "\"fast\"", "limits" },
        { "{\"disk_gb\": 3}", "limits.disk_gb" },
        { "{\"cpu_ms\": \"fast\"}", "limits.cpu_ms" },
        { "{\"cpu_ms\": 99}", "limits.cpu_ms" },
        { "{\"wall_ms\": 1.5e3, \"memory_mb\": 15}", "limits.memory_mb" },
        { "{\"processes\": 0}", "limits.processes" },
        { "{\"processes\": -5}", "limits.processes" },
        { "{\"output_kb\": 1.5}", "limits.output_kb" },
        { "{\"file_kb\": true}", "limits.file_kb" },
        { "{\"file_kb\": null}", "limits.file_kb" },
        { "{\"memory_mb\": 1e400}", "limits.memory_mb" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        td_limits_t l, before;
        td_error_t err;
        json_error_t jerr;
        json_t *j = json_loads (cases [i].text, JSON_DECODE_ANY, &jerr);
        if (!j)
            continue;                   //  jansson refuses 1e400 itself: nothing to apply
        td_limits_t max;
        td_grade_limits_max (&max);
        td_limits_default (&l);
        before = l;
        td_error_clear (&err);
        assert_int_equal (td_grade_limits_apply (j, &max, true, &l, &err), -1);
        json_decref (j);
        assert_int_equal (err.code, TD_ERR_INVALID_INPUT);
        assert_string_equal (err.field, cases [i].field);
        s_same (&l, &before);                   //  nothing half-applied
    }
}

static void
test_maxima_clamp_or_refuse (void **state)
{
    (void) state;
    td_limits_t l;
    td_error_t err;
    //  default maxima (the catalog's ranges): clamped for items, refused when not clamping
    assert_int_equal (s_apply ("{\"cpu_ms\": 60000, \"memory_mb\": 999999999999}", true, &l,
                               &err), 0);
    assert_int_equal (l.cpu_ms, 10000);
    assert_int_equal (l.memory_kb, 1024 * 1024);
    assert_int_equal (s_apply ("{\"cpu_ms\": 10001}", false, &l, &err), -1);
    assert_string_equal (err.field, "limits.cpu_ms");
    //  configured maxima
    setenv ("TUTORD_GRADER_MAX_WALL_MS", "1500", 1);
    setenv ("TUTORD_GRADER_MAX_PROCESSES", "999999", 1);     //  beyond the sandbox: its ceiling
    setenv ("TUTORD_GRADER_MAX_MEMORY_MB", "lots", 1);       //  not a number: the default
    td_limits_t max;
    td_grade_limits_max (&max);
    assert_int_equal (max.wall_ms, 1500);
    assert_int_equal (max.processes, 4096);
    assert_int_equal (max.memory_kb, 1024 * 1024);
    assert_int_equal (s_apply ("{\"wall_ms\": 20000}", true, &l, &err), 0);
    assert_int_equal (l.wall_ms, 1500);
    unsetenv ("TUTORD_GRADER_MAX_WALL_MS");
    unsetenv ("TUTORD_GRADER_MAX_PROCESSES");
    unsetenv ("TUTORD_GRADER_MAX_MEMORY_MB");
    //  inline submissions: the defaults are the maxima (lowering is fine)
    td_limits_t dflt;
    td_limits_default (&dflt);
    json_t *j = s_json ("{\"wall_ms\": 5001}");
    assert_int_equal (td_grade_limits_apply (j, &dflt, false, &l, &err), -1);
    json_decref (j);
    j = s_json ("{\"wall_ms\": 1000, \"memory_mb\": 256}");
    td_limits_default (&l);
    assert_int_equal (td_grade_limits_apply (j, &dflt, false, &l, &err), 0);
    json_decref (j);
    assert_int_equal (l.wall_ms, 1000);
}

static void
test_job_takes_limits (void **state)
{
    (void) state;
    td_error_t err;
    json_t *sub = s_json ("{\"language\": \"python\", \"code\": \"print(1)\", "
                          "\"tests\": [{\"expected_stdout\": \"1\\n\"}], "
                          "\"limits\": {\"wall_ms\": 1000, \"memory_mb\": 32}}");
    td_grade_job_t *job = td_grade_job_parse (sub, &err);
    json_decref (sub);
    assert_non_null (job);
    assert_int_equal (job->limits.wall_ms, 1000);
    assert_int_equal (job->limits.memory_kb, 32 * 1024);
    td_grade_job_destroy (&job);
    sub = s_json ("{\"language\": \"python\", \"code\": \"print(1)\", "
                  "\"tests\": [{\"expected_stdout\": \"1\\n\"}], \"limits\": {\"wall_ms\": 5}}");
    job = td_grade_job_parse (sub, &err);
    json_decref (sub);
    assert_null (job);
    assert_string_equal (err.field, "limits.wall_ms");
}

static void
test_failed_tests_names (void **state)
{
    (void) state;
    //  in order, hidden by name only, at most 20, entries without a name skipped
    json_t *tests = json_array ();
    for (int i = 0; i < 30; i++) {
        char name [16];
        snprintf (name, sizeof name, "t%02d", i);
        json_array_append_new (tests, json_pack ("{s:s, s:s, s:b}", "name", name, "verdict",
                                                 i % 3 == 0? "accepted": "wrong_answer",
                                                 "hidden", i == 1));
    }
    json_array_insert_new (tests, 0, json_pack ("{s:s}", "verdict", "time_limit"));
    json_t *result = json_pack ("{s:s, s:o}", "verdict", "wrong_answer", "tests", tests);
    json_t *names = td_grade_failed_tests (result);
    assert_int_equal (json_array_size (names), TD_GRADE_MAX_FAILED_NAMES);
    assert_string_equal (json_string_value (json_array_get (names, 0)), "t01");
    assert_string_equal (json_string_value (json_array_get (names, 1)), "t02");
    assert_string_equal (json_string_value (json_array_get (names, 2)), "t04");
    json_decref (names);
    json_decref (result);
    //  no tests (a question, a result that could not be read): []
    names = td_grade_failed_tests (NULL);
    assert_non_null (names);
    assert_int_equal (json_array_size (names), 0);
    json_decref (names);
    result = s_json ("{\"verdict\": \"accepted\", \"tests\": [{\"name\": \"a\", "
                     "\"verdict\": \"accepted\"}]}");
    names = td_grade_failed_tests (result);
    assert_int_equal (json_array_size (names), 0);
    json_decref (names);
    json_decref (result);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_units_and_defaults),
        cmocka_unit_test (test_refused_with_field),
        cmocka_unit_test (test_maxima_clamp_or_refuse),
        cmocka_unit_test (test_job_takes_limits),
        cmocka_unit_test (test_failed_tests_names),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
