/*  td_grade_compare — does a program's output match what a test expects?
 *
 *  The match modes of issue 5 (as the Python courses we replace grade): exact (byte for byte),
 *  trim (trailing whitespace of every line and trailing blank lines ignored; Windows line ends
 *  equal Unix ones), ignore_case (trim, then ASCII case folded), regex (POSIX extended regular
 *  expression that must match the whole trimmed output), number (every whitespace-separated token
 *  compared; tokens that parse as numbers must agree within tolerance, absolute or relative,
 *  whichever is looser; other tokens exactly). Pure functions: no allocation beyond a bounded
 *  scratch copy, safe on binary output.
 */
#ifndef TD_GRADE_COMPARE_H
#define TD_GRADE_COMPARE_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    TD_MATCH_EXACT = 0,
    TD_MATCH_TRIM,
    TD_MATCH_IGNORE_CASE,
    TD_MATCH_REGEX,
    TD_MATCH_NUMBER,
    TD_MATCH__COUNT
} td_match_t;

//  "exact" etc. -> mode; -1 when unknown.
int td_match_parse (const char *name);
const char *td_match_name (td_match_t mode);

//  True when actual matches expected under mode. tolerance is used by TD_MATCH_NUMBER only
//  (0 -> 1e-9). For TD_MATCH_REGEX, expected is the pattern; an invalid pattern never matches
//  (the grader refuses such tests when they are submitted: td_match_regex_valid).
bool td_match (td_match_t mode, const char *expected, size_t expected_len,
               const char *actual, size_t actual_len, double tolerance);
//  True when pattern compiles as a POSIX extended regular expression.
bool td_match_regex_valid (const char *pattern);

#endif
