/*  td_grade_job — one submission as the grader runs it: language, code, tests; and its result.
 *
 *  A submission arrives as JSON-shaped data (the inline form of issue 5: {"language", "code",
 *  "tests": [{"name", "stdin", "expected_stdout", "match", "tolerance", "hidden", "weight"}]}),
 *  where a test's "kind" may also be, as the Python courses we replace grade:
 *    "prints"   {"stdin"?, "expected_prints": n}: the program prints exactly n lines;
 *    "function" {"function", "args"?, "kwargs"?, "expected_return", "expected_type"?} (Python):
 *               the learner's module is run, then the named function called; its return value and
 *               type are compared (numbers within tolerance);
 *    "class"    {"class", "init_args"?, "calls": [{"method", "args"?, "expected_return"?,
 *               "expected_type"?}]} (Python): an instance is made and its methods called in turn.
 *  Function and class tests run a small harness (td_grade_harness.c) that reads the scenario
 *  from stdin, runs the learner's code with its prints captured, and writes the outcome as JSON
 *  on a line behind a per-submission random marker.
 *  An optional "limits" object (td_grade_limits.h) replaces the default limits of every test
 *  (never above the configured maxima); the result then carries the limits it ran with.
 *  is validated once here, stored as that JSON, and parsed again from the stored JSON when a
 *  grader claims it (after a restart too), so there is one parser for both paths.
 *
 *  td_grade_job_run runs every test in the sandbox (Python: one warm session per submission; C:
 *  compile once, run each test) and builds the result JSON: {"verdict", "score", "tests": [{"name",
 *  "verdict", "time_ms", "memory_kb", "stdout", "stderr", "stdout_truncated", "stderr_truncated",
 *  "expected_stdout" (not for hidden tests), "hidden", "weight"}], "compile_output"?}. Program
 *  output is made valid UTF-8 (bad bytes become '?') before it enters JSON.
 */
#ifndef TD_GRADE_JOB_H
#define TD_GRADE_JOB_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include "td_error.h"
#include "td_grade_compare.h"
#include "td_sandbox.h"

#define TD_GRADE_MAX_TESTS      100
#define TD_GRADE_MAX_CODE       65536           //  bytes of source (issue 5 default)
#define TD_GRADE_MAX_IO         (1024 * 1024)   //  stdin or expected output of one test
#define TD_GRADE_MAX_NAME       200

typedef enum {
    TD_TEST_IO = 0,
    TD_TEST_PRINTS,
    TD_TEST_FUNCTION,
    TD_TEST_CLASS
} td_test_kind_t;

typedef struct {
    td_test_kind_t kind;
    long expected_prints;           //  TD_TEST_PRINTS
    json_t *scenario;               //  TD_TEST_FUNCTION / CLASS: the test object (owned reference)
    char *name;
    char *stdin_data;   size_t stdin_len;
    char *expected;     size_t expected_len;
    td_match_t match;
    double tolerance;
    bool hidden;
    double weight;
} td_grade_test_t;

typedef struct {
    bool is_c;                      //  false: Python
    char *code;         size_t code_len;
    td_grade_test_t *tests;
    size_t test_count;
    bool needs_harness;             //  some test is a function or class scenario
    char marker [40];               //  random, ends the harness's output line
    td_limits_t limits;
} td_grade_job_t;

//  Validate a submission (a JSON object) into a job. NULL with err set (invalid_input with
//  field like "tests[3].match", or too_large for the code).
td_grade_job_t *td_grade_job_parse (const json_t *submission, td_error_t *err);
void td_grade_job_destroy (td_grade_job_t **self_p);

//  Called after each test with its result object (borrowed) and index.
typedef void (td_grade_progress_fn) (void *arg, size_t index, const json_t *test_result);

//  Run the job; returns the result object (caller owns), never NULL unless out of memory.
json_t *td_grade_job_run (const td_grade_job_t *job, td_sandbox_t *sandbox,
                          td_grade_progress_fn *progress, void *arg);

//  The names of a result's failing tests (verdict not accepted), in order, at most 20: what
//  grade.result carries as failed_tests. A hidden test is named by its name only (its data never
//  leaves the result). Never NULL unless out of memory; [] when none failed or there are no tests.
#define TD_GRADE_MAX_FAILED_NAMES 20
json_t *td_grade_failed_tests (const json_t *result);

//  The harness script (Python) for function and class tests.
extern const char td_grade_harness_py [];

//  Make raw program output a valid UTF-8 JSON string (NULs and bad bytes become '?').
json_t *td_grade_output_json (const uint8_t *data, size_t len);

#endif
