/*  td_grade_job — parse, run and score one submission (see the header).
 *
 *  Verdicts: a test is accepted when the sandbox run exited cleanly and its output matches;
 *  wrong_answer when it exited cleanly and does not; otherwise the sandbox's verdict (time_limit,
 *  memory_limit, output_limit, runtime_error, security_violation, internal_error). The submission's
 *  verdict is compile_error when C does not compile, accepted when every test is, else the verdict
 *  of its first failing test. The score is the accepted tests' share of the total weight, 0..100.
 */
#include <ctype.h>
#include <math.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include "td_grade_job.h"
#include "td_grade_limits.h"
#include "td_utf8.h"

static void
s_test_free (td_grade_test_t *t)
{
    free (t->name);
    free (t->stdin_data);
    free (t->expected);
    json_decref (t->scenario);
}

void
td_grade_job_destroy (td_grade_job_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    td_grade_job_t *self = *self_p;
    for (size_t i = 0; self->tests && i < self->test_count; i++)
        s_test_free (&self->tests [i]);
    free (self->tests);
    free (self->code);
    free (self);
    *self_p = NULL;
}

//  Copy a JSON string member (optional when dflt != NULL) with a size cap.
static int
s_string (const json_t *obj, const char *key, const char *dflt, size_t max, char **out,
          size_t *len, const char *field, td_error_t *err)
{
    const json_t *v = json_object_get (obj, key);
    const char *s = dflt;
    size_t n = dflt? strlen (dflt): 0;
    if (v) {
        if (!json_is_string (v))
            return td_error_set (err, TD_ERR_INVALID_INPUT, field, "%s must be a string", field);
        s = json_string_value (v);
        n = json_string_length (v);
    }
    else
    if (!dflt)
        return td_error_set (err, TD_ERR_INVALID_INPUT, field, "%s is required", field);
    if (n > max)
        return td_error_set (err, TD_ERR_INVALID_INPUT, field, "%s is longer than %zu bytes",
                             field, max);
    *out = malloc (n + 1);
    if (!*out)
        return td_error_set (err, TD_ERR_INTERNAL, NULL, "out of memory");
    memcpy (*out, s, n);
    (*out) [n] = 0;
    if (len)
        *len = n;
    return 0;
}

static bool
s_identifier (const json_t *v)
{
    const char *s = json_string_value (v);
    if (!s || !*s || strlen (s) > 100 || isdigit ((unsigned char) *s))
        return false;
    for (; *s; s++)
        if (!isalnum ((unsigned char) *s) && *s != '_')
            return false;
    return true;
}

static bool
s_list_or_absent (const json_t *obj, const char *key)
{
    const json_t *v = json_object_get (obj, key);
    return !v || json_is_array (v);
}

//  The test's kind and its kind-specific fields.
static int
s_parse_kind (const json_t *jt, size_t i, bool is_c, td_grade_test_t *t, td_error_t *err)
{
    char field [64];
    const json_t *kind = json_object_get (jt, "kind");
    const char *k = kind? json_string_value (kind): "io";
    snprintf (field, sizeof field, "tests[%zu].kind", i);
    if (!k)
        return td_error_set (err, TD_ERR_INVALID_INPUT, field, "%s must be a string", field);
    if (strcmp (k, "io") == 0) {
        t->kind = TD_TEST_IO;
        return 0;
    }
    if (strcmp (k, "prints") == 0) {
        t->kind = TD_TEST_PRINTS;
        const json_t *n = json_object_get (jt, "expected_prints");
        snprintf (field, sizeof field, "tests[%zu].expected_prints", i);
        if (!json_is_integer (n) || json_integer_value (n) < 0 || json_integer_value (n) > 100000)
            return td_error_set (err, TD_ERR_INVALID_INPUT, field,
                                 "%s must be a whole number from 0 to 100000", field);
        t->expected_prints = (long) json_integer_value (n);
        return 0;
    }
    bool function = strcmp (k, "function") == 0;
    if (!function && strcmp (k, "class") != 0)
        return td_error_set (err, TD_ERR_INVALID_INPUT, field,
                             "%s must be one of io, prints, function, class", field);
    if (is_c)
        return td_error_set (err, TD_ERR_INVALID_INPUT, field,
                             "%s: function and class tests are for Python submissions", field);
    t->kind = function? TD_TEST_FUNCTION: TD_TEST_CLASS;
    const char *name_key = function? "function": "class";
    snprintf (field, sizeof field, "tests[%zu].%s", i, name_key);
    if (!s_identifier (json_object_get (jt, name_key)))
        return td_error_set (err, TD_ERR_INVALID_INPUT, field, "%s must be a Python name", field);
    snprintf (field, sizeof field, "tests[%zu].args", i);
    if (!s_list_or_absent (jt, function? "args": "init_args"))
        return td_error_set (err, TD_ERR_INVALID_INPUT, field, "%s must be a list", field);
    if (function) {
        const json_t *kw = json_object_get (jt, "kwargs");
        snprintf (field, sizeof field, "tests[%zu].kwargs", i);
        if (kw && !json_is_object (kw))
            return td_error_set (err, TD_ERR_INVALID_INPUT, field, "%s must be an object", field);
        snprintf (field, sizeof field, "tests[%zu].expected_return", i);
        if (!json_object_get (jt, "expected_return"))
            return td_error_set (err, TD_ERR_INVALID_INPUT, field, "%s is required", field);
        json_t *args = json_object_get (jt, "args");
        t->scenario = json_pack ("{s:s, s:O, s:o, s:o}", "kind", "function", "function",
                                 json_object_get (jt, "function"),
                                 "args", args? json_incref (args): json_array (),
                                 "kwargs", kw? json_deep_copy (kw): json_object ());
    }
    else {
        const json_t *calls = json_object_get (jt, "calls");
        snprintf (field, sizeof field, "tests[%zu].calls", i);
        if (!json_is_array (calls) || json_array_size (calls) == 0 || json_array_size (calls) > 50)
            return td_error_set (err, TD_ERR_INVALID_INPUT, field,
                                 "%s must be a list of 1 to 50 method calls", field);
        for (size_t c = 0; c < json_array_size (calls); c++) {
            const json_t *call = json_array_get (calls, c);
            snprintf (field, sizeof field, "tests[%zu].calls[%zu].method", i, c);
            if (!json_is_object (call) || !s_identifier (json_object_get (call, "method")))
                return td_error_set (err, TD_ERR_INVALID_INPUT, field, "%s must be a Python name", field);
            snprintf (field, sizeof field, "tests[%zu].calls[%zu].args", i, c);
            if (!s_list_or_absent (call, "args"))
                return td_error_set (err, TD_ERR_INVALID_INPUT, field, "%s must be a list", field);
        }
        json_t *init = json_object_get (jt, "init_args");
        t->scenario = json_pack ("{s:s, s:O, s:o, s:O}", "kind", "class", "class",
                                 json_object_get (jt, "class"),
                                 "init_args", init? json_incref (init): json_array (), "calls", calls);
    }
    if (!t->scenario)
        return td_error_set (err, TD_ERR_INTERNAL, NULL, "out of memory");
    //  The expectations stay with the grader; the harness only learns what to call.
    json_object_set (t->scenario, "expected_return", json_object_get (jt, "expected_return"));
    json_object_set (t->scenario, "expected_type", json_object_get (jt, "expected_type"));
    return 0;
}

static int
s_parse_test (const json_t *jt, size_t i, bool is_c, td_grade_test_t *t, td_error_t *err)
{
    char field [64];
    if (!json_is_object (jt)) {
        snprintf (field, sizeof field, "tests[%zu]", i);
        return td_error_set (err, TD_ERR_INVALID_INPUT, field, "%s must be an object", field);
    }
    char dflt_name [32];
    snprintf (dflt_name, sizeof dflt_name, "test %zu", i + 1);
    snprintf (field, sizeof field, "tests[%zu].name", i);
    if (s_string (jt, "name", dflt_name, TD_GRADE_MAX_NAME, &t->name, NULL, field, err))
        return -1;
    snprintf (field, sizeof field, "tests[%zu].stdin", i);
    if (s_string (jt, "stdin", "", TD_GRADE_MAX_IO, &t->stdin_data, &t->stdin_len, field, err))
        return -1;
    if (s_parse_kind (jt, i, is_c, t, err))
        return -1;
    snprintf (field, sizeof field, "tests[%zu].expected_stdout", i);
    if (s_string (jt, "expected_stdout", t->kind == TD_TEST_IO? NULL: "", TD_GRADE_MAX_IO,
                  &t->expected, &t->expected_len, field, err))
        return -1;
    const json_t *m = json_object_get (jt, "match");
    snprintf (field, sizeof field, "tests[%zu].match", i);
    int mode = m? (json_is_string (m)? td_match_parse (json_string_value (m)): -1): TD_MATCH_EXACT;
    if (mode < 0)
        return td_error_set (err, TD_ERR_INVALID_INPUT, field,
                             "%s must be one of exact, trim, ignore_case, regex, number", field);
    t->match = (td_match_t) mode;
    if (t->match == TD_MATCH_REGEX
    && (memchr (t->expected, 0, t->expected_len) || !td_match_regex_valid (t->expected))) {
        snprintf (field, sizeof field, "tests[%zu].expected_stdout", i);
        return td_error_set (err, TD_ERR_INVALID_INPUT, field,
                             "%s is not a valid regular expression", field);
    }
    const json_t *tol = json_object_get (jt, "tolerance");
    snprintf (field, sizeof field, "tests[%zu].tolerance", i);
    t->tolerance = 0;
    if (tol && !json_is_null (tol)) {
        if (!json_is_number (tol) || json_number_value (tol) < 0
        ||  !isfinite (json_number_value (tol)))
            return td_error_set (err, TD_ERR_INVALID_INPUT, field,
                                 "%s must be a number of at least 0", field);
        t->tolerance = json_number_value (tol);
    }
    const json_t *hidden = json_object_get (jt, "hidden");
    snprintf (field, sizeof field, "tests[%zu].hidden", i);
    if (hidden && !json_is_boolean (hidden) && !json_is_null (hidden))
        return td_error_set (err, TD_ERR_INVALID_INPUT, field, "%s must be true or false", field);
    t->hidden = hidden && json_is_true (hidden);
    const json_t *weight = json_object_get (jt, "weight");
    snprintf (field, sizeof field, "tests[%zu].weight", i);
    t->weight = 1;
    if (weight && !json_is_null (weight)) {
        if (!json_is_number (weight) || json_number_value (weight) < 0
        ||  json_number_value (weight) > 1000)
            return td_error_set (err, TD_ERR_INVALID_INPUT, field,
                                 "%s must be a number from 0 to 1000", field);
        t->weight = json_number_value (weight);
    }
    return 0;
}

td_grade_job_t *
td_grade_job_parse (const json_t *sub, td_error_t *err)
{
    if (!json_is_object (sub)) {
        td_error_set (err, TD_ERR_INVALID_INPUT, "body", "the submission must be a JSON object");
        return NULL;
    }
    td_grade_job_t *job = calloc (1, sizeof *job);
    if (!job) {
        td_error_set (err, TD_ERR_INTERNAL, NULL, "out of memory");
        return NULL;
    }
    td_limits_default (&job->limits);
    const json_t *lang = json_object_get (sub, "language");
    if (!json_is_string (lang)
    || (strcmp (json_string_value (lang), "python") && strcmp (json_string_value (lang), "c"))) {
        td_error_set (err, TD_ERR_INVALID_INPUT, "language", "language must be \"python\" or \"c\"");
        goto fail;
    }
    job->is_c = strcmp (json_string_value (lang), "c") == 0;
    const json_t *code = json_object_get (sub, "code");
    if (json_is_string (code) && json_string_length (code) > TD_GRADE_MAX_CODE) {
        td_error_set (err, TD_ERR_TOO_LARGE, "code", "code is longer than %d bytes",
                      TD_GRADE_MAX_CODE);
        goto fail;
    }
    if (s_string (sub, "code", NULL, TD_GRADE_MAX_CODE, &job->code, &job->code_len, "code", err))
        goto fail;
    if (job->code_len == 0) {
        td_error_set (err, TD_ERR_INVALID_INPUT, "code", "code must not be empty");
        goto fail;
    }
    const json_t *tests = json_object_get (sub, "tests");
    if (!json_is_array (tests) || json_array_size (tests) == 0
    ||  json_array_size (tests) > TD_GRADE_MAX_TESTS) {
        td_error_set (err, TD_ERR_INVALID_INPUT, "tests",
                      "tests must be a list of 1 to %d tests", TD_GRADE_MAX_TESTS);
        goto fail;
    }
    job->tests = calloc (json_array_size (tests), sizeof *job->tests);
    if (!job->tests) {
        td_error_set (err, TD_ERR_INTERNAL, NULL, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < json_array_size (tests); i++) {
        job->test_count = i + 1;
        if (s_parse_test (json_array_get (tests, i), i, job->is_c, &job->tests [i], err))
            goto fail;
        if (job->tests [i].kind == TD_TEST_FUNCTION || job->tests [i].kind == TD_TEST_CLASS)
            job->needs_harness = true;
    }
    //  An exercise's own limits (td_grade_limits.h), never above the configured maxima.
    td_limits_t max;
    td_grade_limits_max (&max);
    if (td_grade_limits_apply (json_object_get (sub, "limits"), &max, true, &job->limits, err))
        goto fail;
    unsigned char nonce [12];
    char hex [25];
    randombytes_buf (nonce, sizeof nonce);
    sodium_bin2hex (hex, sizeof hex, nonce, sizeof nonce);
    snprintf (job->marker, sizeof job->marker, "@@td-%s@@", hex);
    return job;
fail:
    td_grade_job_destroy (&job);
    return NULL;
}

json_t *
td_grade_output_json (const uint8_t *data, size_t len)
{
    char *copy = malloc (len + 1);
    if (!copy)
        return json_string ("");
    for (size_t i = 0; i < len; i++)
        copy [i] = data [i]? (char) data [i]: '?';
    copy [len] = 0;
    td_utf8_repair (copy);
    json_t *s = json_stringn (copy, strlen (copy));
    free (copy);
    return s? s: json_string ("");
}

//  Two JSON values equal, numbers within tolerance (0 -> 1e-9, absolute or relative).
static bool
s_json_close (const json_t *a, const json_t *b, double tolerance)
{
    if (json_is_number (a) && json_is_number (b)) {
        if (tolerance <= 0)
            tolerance = 1e-9;
        double x = json_number_value (a), y = json_number_value (b), d = fabs (x - y);
        return d <= tolerance || d <= tolerance * fabs (x);
    }
    if (json_is_array (a) && json_is_array (b)) {
        if (json_array_size (a) != json_array_size (b))
            return false;
        for (size_t i = 0; i < json_array_size (a); i++)
            if (!s_json_close (json_array_get (a, i), json_array_get (b, i), tolerance))
                return false;
        return true;
    }
    return json_equal (a, b);
}

//  One returned value against its expectation; sets *why on a mismatch.
static bool
s_return_ok (const json_t *got, const json_t *expected_return, const json_t *expected_type,
             double tolerance, const char **why)
{
    if (expected_type && json_is_string (expected_type)
    &&  !json_equal (json_object_get (got, "type"), expected_type)) {
        *why = "the returned value has the wrong type";
        return false;
    }
    if (expected_return && !s_json_close (json_object_get (got, "value"), expected_return, tolerance)) {
        *why = "the returned value is not the expected one";
        return false;
    }
    return true;
}

//  Judge a function/class scenario from the harness's outcome line. Returns the outcome (owned)
//  or NULL when there is none; sets *verdict and *why.
static json_t *
s_judge_scenario (const td_grade_test_t *t, const td_run_result_t *run, const char *marker,
                  td_verdict_t *verdict, const char **why)
{
    json_t *outcome = NULL;
    size_t mlen = strlen (marker);
    for (size_t i = run->out_len; run->out && i-- > 0;) {
        if (i + mlen <= run->out_len && memcmp (run->out + i, marker, mlen) == 0) {
            json_error_t jerr;
            outcome = json_loadb ((const char *) run->out + i + mlen, run->out_len - i - mlen,
                                  JSON_DISABLE_EOF_CHECK, &jerr);
            break;
        }
    }
    if (!outcome) {
        *verdict = TD_VERDICT_RUNTIME_ERROR;
        *why = "the program ended before the test could check it";
        return NULL;
    }
    if (json_object_get (outcome, "exception")) {
        *verdict = TD_VERDICT_RUNTIME_ERROR;
        *why = "the code raised an exception";
        return outcome;
    }
    bool ok = true;
    if (t->kind == TD_TEST_FUNCTION)
        ok = s_return_ok (outcome, json_object_get (t->scenario, "expected_return"),
                          json_object_get (t->scenario, "expected_type"), t->tolerance, why);
    else {
        const json_t *calls = json_object_get (t->scenario, "calls");
        const json_t *got = json_object_get (outcome, "calls");
        ok = json_array_size (got) == json_array_size (calls);
        for (size_t c = 0; ok && c < json_array_size (calls); c++) {
            const json_t *call = json_array_get (calls, c);
            ok = s_return_ok (json_array_get (got, c), json_object_get (call, "expected_return"),
                              json_object_get (call, "expected_type"), t->tolerance, why);
        }
    }
    *verdict = ok? TD_VERDICT_ACCEPTED: TD_VERDICT_WRONG_ANSWER;
    return outcome;
}

static long
s_count_lines (const uint8_t *out, size_t len)
{
    long lines = 0;
    for (size_t i = 0; i < len; i++)
        if (out [i] == '\n')
            lines++;
    if (len > 0 && out [len - 1] != '\n')
        lines++;
    return lines;
}

//  One test's result object from its sandbox run.
static json_t *
s_test_result (const td_grade_test_t *t, const td_run_result_t *run, const char *marker,
               td_verdict_t *verdict)
{
    *verdict = run->verdict;
    const char *why = NULL;
    json_t *outcome = NULL;
    if (run->verdict == TD_VERDICT_ACCEPTED) {
        if (t->kind == TD_TEST_IO
        && !td_match (t->match, t->expected, t->expected_len, (const char *) run->out, run->out_len,
                      t->tolerance))
            *verdict = TD_VERDICT_WRONG_ANSWER;
        else
        if (t->kind == TD_TEST_PRINTS && s_count_lines (run->out, run->out_len) != t->expected_prints) {
            *verdict = TD_VERDICT_WRONG_ANSWER;
            why = "the program printed a different number of lines";
        }
        else
        if (t->kind == TD_TEST_FUNCTION || t->kind == TD_TEST_CLASS)
            outcome = s_judge_scenario (t, run, marker, verdict, &why);
    }
    json_t *r = json_object ();
    if (!r)
        return NULL;
    json_object_set_new (r, "name", json_string (t->name));
    static const char *kinds [] = { "io", "prints", "function", "class" };
    json_object_set_new (r, "kind", json_string (kinds [t->kind]));
    if (why)
        json_object_set_new (r, "message", json_string (why));
    if (outcome && !t->hidden) {
        json_t *exc = json_object_get (outcome, "exception");
        if (exc)
            json_object_set_new (r, "exception", json_pack ("{s:O, s:O}", "type", exc, "message",
                                                            json_object_get (outcome, "message")));
        else
        if (t->kind == TD_TEST_FUNCTION)
            json_object_set (r, "returned", outcome);
        else
            json_object_set (r, "returned", json_object_get (outcome, "calls"));
        if (t->kind == TD_TEST_FUNCTION)
            json_object_set (r, "expected_return", json_object_get (t->scenario, "expected_return"));
    }
    json_decref (outcome);
    json_object_set_new (r, "verdict", json_string (td_verdict_name (*verdict)));
    json_object_set_new (r, "time_ms", json_integer (run->time_ms));
    json_object_set_new (r, "wall_ms", json_integer (run->wall_ms));
    json_object_set_new (r, "memory_kb", json_integer ((json_int_t) run->memory_kb));
    json_object_set_new (r, "exit_code", json_integer (run->exit_code));
    json_object_set_new (r, "stdout", td_grade_output_json (run->out, run->out_len));
    json_object_set_new (r, "stderr", td_grade_output_json (run->err, run->err_len));
    json_object_set_new (r, "stdout_truncated", json_boolean (run->out_truncated));
    json_object_set_new (r, "stderr_truncated", json_boolean (run->err_truncated));
    json_object_set_new (r, "hidden", json_boolean (t->hidden));
    json_object_set_new (r, "weight", json_real (t->weight));
    if (run->syscall [0])
        json_object_set_new (r, "syscall", json_string (run->syscall));
    if (*verdict != TD_VERDICT_ACCEPTED && run->message [0] && !why)
        json_object_set_new (r, "message", td_grade_output_json ((const uint8_t *) run->message,
                                                                strlen (run->message)));
    if (t->kind == TD_TEST_PRINTS)
        json_object_set_new (r, "expected_prints", json_integer (t->expected_prints));
    if (!t->hidden && t->kind == TD_TEST_IO)
        json_object_set_new (r, "expected_stdout",
                             td_grade_output_json ((const uint8_t *) t->expected, t->expected_len));
    if (t->hidden) {                //  a hidden test tells its verdict, not its data
        json_object_del (r, "stdout");
        json_object_del (r, "stderr");
    }
    return r;
}

static json_t *
s_finish (json_t *tests, td_verdict_t overall, double got, double total)
{
    json_t *result = json_object ();
    if (!result) {
        json_decref (tests);
        return NULL;
    }
    double score = total > 0? round (got / total * 10000.0) / 100.0: 0;
    json_object_set_new (result, "verdict", json_string (td_verdict_name (overall)));
    json_object_set_new (result, "score", json_real (score));
    json_object_set_new (result, "tests", tests);
    return result;
}

//  Run one test's program: through the warm session when one could be opened (once), else in a
//  fresh sandbox with the same isolation.
static int
s_run (td_sandbox_t *sandbox, td_run_spec_t *spec, td_sandbox_session_t **session, bool *tried,
       const char *in, size_t in_len, td_run_result_t *run)
{
    if (spec->language == TD_LANG_PYTHON && !*tried) {
        td_error_t err;
        *tried = true;
        *session = td_sandbox_session_open (sandbox, spec, &err);
    }
    if (*session)
        return td_sandbox_session_run (*session, in, in_len, run);
    spec->stdin_data = in;
    spec->stdin_size = in_len;
    return td_sandbox_run (sandbox, spec, run);
}

//  What the harness is told: the calls, never the expectations.
static char *
s_scenario_input (const td_grade_test_t *t, const char *marker)
{
    json_t *s = json_deep_copy (t->scenario);
    if (!s)
        return NULL;
    json_object_del (s, "expected_return");
    json_object_del (s, "expected_type");
    json_t *calls = json_object_get (s, "calls");
    for (size_t c = 0; c < json_array_size (calls); c++) {
        json_object_del (json_array_get (calls, c), "expected_return");
        json_object_del (json_array_get (calls, c), "expected_type");
    }
    json_object_set_new (s, "marker", json_string (marker));
    char *text = json_dumps (s, JSON_COMPACT);
    json_decref (s);
    return text;
}

json_t *
td_grade_job_run (const td_grade_job_t *job, td_sandbox_t *sandbox,
                  td_grade_progress_fn *progress, void *arg)
{
    json_t *tests = json_array ();
    if (!tests)
        return NULL;
    td_file_t files [2] = {
        { .name = "harness.py", .data = td_grade_harness_py, .size = strlen (td_grade_harness_py) },
        { .name = job->is_c? "main.c": "main.py", .data = job->code, .size = job->code_len }
    };
    td_run_spec_t spec = { .language = TD_LANG_PYTHON, .files = &files [1], .file_count = 1,
                           .limits = job->limits };
    td_run_spec_t hspec = { .language = TD_LANG_PYTHON, .files = files, .file_count = 2,
                            .limits = job->limits };
    td_sandbox_session_t *session = NULL, *hsession = NULL;
    bool tried = false, htried = false;
    td_run_result_t compiled = { 0 };
    td_file_t binary = { .name = "main", .executable = true };
    td_verdict_t overall = TD_VERDICT_ACCEPTED;
    double got = 0, total = 0;

    if (job->is_c) {
        td_run_spec_t cspec = { .language = TD_LANG_C_COMPILE, .files = &files [1], .file_count = 1 };
        td_limits_default_compile (&cspec.limits);
        if (td_sandbox_run (sandbox, &cspec, &compiled) != 0 || compiled.verdict != TD_VERDICT_ACCEPTED
        ||  !compiled.artifact) {
            overall = compiled.verdict == TD_VERDICT_ACCEPTED || compiled.verdict == TD_VERDICT_RUNTIME_ERROR
                    ? TD_VERDICT_COMPILE_ERROR: compiled.verdict;
            json_t *compile_output = td_grade_output_json (compiled.err, compiled.err_len);
            td_run_result_free (&compiled);
            for (size_t i = 0; i < job->test_count; i++)
                total += job->tests [i].weight;
            json_t *result = s_finish (tests, overall, 0, total);
            if (result)
                json_object_set_new (result, "compile_output", compile_output);
            else
                json_decref (compile_output);
            return result;
        }
        binary.data = compiled.artifact;
        binary.size = compiled.artifact_len;
        spec.language = TD_LANG_C_RUN;
        spec.files = &binary;
    }
    for (size_t i = 0; i < job->test_count; i++) {
        const td_grade_test_t *t = &job->tests [i];
        td_run_result_t run = { 0 };
        int rc;
        if (t->kind == TD_TEST_FUNCTION || t->kind == TD_TEST_CLASS) {
            char *in = s_scenario_input (t, job->marker);
            rc = in? s_run (sandbox, &hspec, &hsession, &htried, in, strlen (in), &run): -1;
            free (in);
        }
        else
            rc = s_run (sandbox, &spec, &session, &tried, t->stdin_data, t->stdin_len, &run);
        if (rc != 0)
            run.verdict = TD_VERDICT_INTERNAL_ERROR;
        td_verdict_t verdict;
        json_t *r = s_test_result (t, &run, job->marker, &verdict);
        td_run_result_free (&run);
        total += t->weight;
        if (verdict == TD_VERDICT_ACCEPTED)
            got += t->weight;
        else
        if (overall == TD_VERDICT_ACCEPTED)
            overall = verdict;
        if (r) {
            if (progress)
                progress (arg, i, r);
            json_array_append_new (tests, r);
        }
    }
    td_sandbox_session_close (&session);
    td_sandbox_session_close (&hsession);
    td_run_result_free (&compiled);
    json_t *result = s_finish (tests, overall, got, total);
    if (result)
        json_object_set_new (result, "limits", td_grade_limits_json (&job->limits));
    return result;
}

json_t *
td_grade_failed_tests (const json_t *result)
{
    json_t *names = json_array ();
    const json_t *tests = json_object_get (result, "tests");
    size_t i;
    const json_t *t;
    json_array_foreach (tests, i, t) {
        if (!names || json_array_size (names) >= TD_GRADE_MAX_FAILED_NAMES)
            break;
        const char *verdict = json_string_value (json_object_get (t, "verdict"));
        const json_t *name = json_object_get (t, "name");
        if (json_is_string (name) && (!verdict || strcmp (verdict, "accepted") != 0))
            json_array_append (names, (json_t *) name);
    }
    return names;
}
