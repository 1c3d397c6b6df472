/*  td_grade_compare — output matching for graded tests (see the header for the modes).
 *
 *  Outputs are capped by the sandbox (64 KiB per stream by default), so the normalising copies
 *  made here are bounded too. Outputs may hold NUL bytes and invalid UTF-8: comparisons work on
 *  lengths, never on C-string ends, except for the regex mode, which refuses outputs with NUL.
 */
#include <ctype.h>
#include <math.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include "td_grade_compare.h"

static const char *s_names [TD_MATCH__COUNT] = { "exact", "trim", "ignore_case", "regex", "number" };

int
td_match_parse (const char *name)
{
    for (int i = 0; name && i < TD_MATCH__COUNT; i++)
        if (strcmp (name, s_names [i]) == 0)
            return i;
    return -1;
}

const char *
td_match_name (td_match_t mode)
{
    return mode < TD_MATCH__COUNT? s_names [mode]: "exact";
}

//  Normalise for trim: CRLF -> LF, trailing spaces/tabs of each line dropped, trailing blank
//  lines dropped. Writes into out (at least len bytes); returns the new length.
static size_t
s_trim (const char *in, size_t len, char *out, bool fold)
{
    size_t n = 0, line_start = 0;
    for (size_t i = 0; i < len; i++) {
        char c = in [i];
        if (c == '\r' && i + 1 < len && in [i + 1] == '\n')
            continue;
        if (c == '\n') {
            while (n > line_start && (out [n - 1] == ' ' || out [n - 1] == '\t' || out [n - 1] == '\r'))
                n--;
            out [n++] = '\n';
            line_start = n;
            continue;
        }
        out [n++] = fold? (char) tolower ((unsigned char) c): c;
    }
    while (n > line_start && (out [n - 1] == ' ' || out [n - 1] == '\t' || out [n - 1] == '\r'))
        n--;
    while (n > 0 && (out [n - 1] == '\n' || out [n - 1] == ' ' || out [n - 1] == '\t'
                  || out [n - 1] == '\r'))
        n--;
    return n;
}

static bool
s_trim_equal (const char *a, size_t alen, const char *b, size_t blen, bool fold)
{
    char *x = malloc (alen + 1), *y = malloc (blen + 1);
    bool equal = false;
    if (x && y) {
        size_t xn = s_trim (a, alen, x, fold);
        size_t yn = s_trim (b, blen, y, fold);
        equal = xn == yn && memcmp (x, y, xn) == 0;
    }
    free (x);
    free (y);
    return equal;
}

bool
td_match_regex_valid (const char *pattern)
{
    regex_t re;
    if (!pattern || regcomp (&re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
        return false;
    regfree (&re);
    return true;
}

static bool
s_regex (const char *pattern, size_t pattern_len, const char *actual, size_t actual_len)
{
    if (memchr (actual, 0, actual_len) || memchr (pattern, 0, pattern_len))
        return false;
    char *pat = malloc (pattern_len + 5), *text = malloc (actual_len + 1);
    bool matched = false;
    if (pat && text) {
        //  Anchored: the pattern must match the whole trimmed output.
        memcpy (pat, "^(", 2);
        memcpy (pat + 2, pattern, pattern_len);
        memcpy (pat + 2 + pattern_len, ")$", 3);
        size_t n = s_trim (actual, actual_len, text, false);
        text [n] = 0;
        regex_t re;
        if (regcomp (&re, pat, REG_EXTENDED | REG_NOSUB) == 0) {
            matched = regexec (&re, text, 0, NULL, 0) == 0;
            regfree (&re);
        }
    }
    free (pat);
    free (text);
    return matched;
}

//  Next whitespace-separated token of s[*pos..len); false at the end.
static bool
s_token (const char *s, size_t len, size_t *pos, const char **tok, size_t *tok_len)
{
    size_t i = *pos;
    while (i < len && isspace ((unsigned char) s [i]))
        i++;
    if (i >= len)
        return false;
    size_t start = i;
    while (i < len && !isspace ((unsigned char) s [i]))
        i++;
    *tok = s + start;
    *tok_len = i - start;
    *pos = i;
    return true;
}

static bool
s_number (const char *tok, size_t len, double *value)
{
    char buf [64];
    if (len == 0 || len >= sizeof buf)
        return false;
    memcpy (buf, tok, len);
    buf [len] = 0;
    char *end = NULL;
    *value = strtod (buf, &end);
    return end == buf + len && isfinite (*value);
}

static bool
s_numbers_match (const char *a, size_t alen, const char *b, size_t blen, double tolerance)
{
    if (tolerance <= 0)
        tolerance = 1e-9;
    size_t pa = 0, pb = 0;
    const char *ta, *tb;
    size_t la, lb;
    while (true) {
        bool more_a = s_token (a, alen, &pa, &ta, &la);
        bool more_b = s_token (b, blen, &pb, &tb, &lb);
        if (!more_a || !more_b)
            return more_a == more_b;
        double x, y;
        if (s_number (ta, la, &x) && s_number (tb, lb, &y)) {
            double diff = fabs (x - y);
            if (diff > tolerance && diff > tolerance * fabs (x))
                return false;
        }
        else
        if (la != lb || memcmp (ta, tb, la) != 0)
            return false;
    }
}

bool
td_match (td_match_t mode, const char *expected, size_t expected_len,
          const char *actual, size_t actual_len, double tolerance)
{
    if (!expected)
        expected = "", expected_len = 0;
    if (!actual)
        actual = "", actual_len = 0;
    switch (mode) {
        case TD_MATCH_EXACT:
            return expected_len == actual_len && memcmp (expected, actual, actual_len) == 0;
        case TD_MATCH_TRIM:
            return s_trim_equal (expected, expected_len, actual, actual_len, false);
        case TD_MATCH_IGNORE_CASE:
            return s_trim_equal (expected, expected_len, actual, actual_len, true);
        case TD_MATCH_REGEX:
            return s_regex (expected, expected_len, actual, actual_len);
        case TD_MATCH_NUMBER:
            return s_numbers_match (expected, expected_len, actual, actual_len, tolerance);
        default:
            return false;
    }
}
