/*  test_proto_error — the error code table of CONTRACT.md §3 and td_error_set.
 *
 *  The contract fixes names and statuses that clients match on; a typo here would break every
 *  client, so each pair is spelled out again rather than read back from the table.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "td_error.h"
#include "td_utf8.h"

static const struct { td_errcode_t code; const char *name; int status; } s_expected [] = {
    { TD_ERR_INVALID_INPUT,          "invalid_input",          400 },
    { TD_ERR_UNAUTHORIZED,           "unauthorized",           401 },
    { TD_ERR_FORBIDDEN,              "forbidden",              403 },
    { TD_ERR_NOT_FOUND,              "not_found",              404 },
    { TD_ERR_METHOD_NOT_ALLOWED,     "method_not_allowed",     405 },
    { TD_ERR_CONFLICT,               "conflict",               409 },
    { TD_ERR_TOO_LARGE,              "too_large",              413 },
    { TD_ERR_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", 415 },
    { TD_ERR_RATE_LIMITED,           "rate_limited",           429 },
    { TD_ERR_INTERNAL,               "internal",               500 },
    { TD_ERR_NOT_IMPLEMENTED,        "not_implemented",        501 },
    { TD_ERR_UNAVAILABLE,            "unavailable",            503 },
    { TD_ERR_TIMEOUT,                "timeout",                504 },
    { TD_ERR_BUDGET_EXCEEDED,        "budget_exceeded",        429 },
};
#define S_EXPECTED (sizeof (s_expected) / sizeof (s_expected [0]))

static void
test_table (void **state)
{
    (void) state;
    assert_int_equal (S_EXPECTED, TD_ERR__COUNT - 1);
    for (size_t i = 0; i < S_EXPECTED; i++) {
        assert_string_equal (td_errcode_name (s_expected [i].code), s_expected [i].name);
        assert_int_equal (td_errcode_status (s_expected [i].code), s_expected [i].status);
        assert_int_equal (td_errcode_from_name (s_expected [i].name), s_expected [i].code);
        //  a status maps back to its first, most general code (429: rate_limited)
        if (s_expected [i].code != TD_ERR_BUDGET_EXCEEDED)
            assert_int_equal (td_errcode_from_status (s_expected [i].status), s_expected [i].code);
        const char *m = td_errcode_message (s_expected [i].code);
        assert_non_null (m);
        assert_true (strlen (m) > 5);
    }
}

static void
test_out_of_range (void **state)
{
    (void) state;
    assert_string_equal (td_errcode_name (TD_ERR__COUNT), "internal");
    assert_string_equal (td_errcode_name ((td_errcode_t) -1), "internal");
    assert_int_equal (td_errcode_status (TD_ERR__COUNT), 500);
    assert_int_equal (td_errcode_status ((td_errcode_t) 999), 500);
    assert_int_equal (td_errcode_from_name ("nope"), TD_ERR__COUNT);
    assert_int_equal (td_errcode_from_name (""), TD_ERR__COUNT);
    assert_int_equal (td_errcode_from_name (NULL), TD_ERR__COUNT);
    assert_int_equal (td_errcode_from_name ("INVALID_INPUT"), TD_ERR__COUNT);
}

static void
test_from_status (void **state)
{
    (void) state;
    assert_int_equal (td_errcode_from_status (200), TD_OK);
    assert_int_equal (td_errcode_from_status (202), TD_OK);
    assert_int_equal (td_errcode_from_status (204), TD_OK);
    assert_int_equal (td_errcode_from_status (302), TD_OK);
    assert_int_equal (td_errcode_from_status (502), TD_ERR_UNAVAILABLE);
    assert_int_equal (td_errcode_from_status (408), TD_ERR_TIMEOUT);
    assert_int_equal (td_errcode_from_status (429), TD_ERR_RATE_LIMITED);
    assert_int_equal (td_errcode_from_status (410), TD_ERR_NOT_FOUND);
    assert_int_equal (td_errcode_from_status (418), TD_ERR_INVALID_INPUT);
    assert_int_equal (td_errcode_from_status (422), TD_ERR_INVALID_INPUT);
    assert_int_equal (td_errcode_from_status (599), TD_ERR_INTERNAL);
    assert_int_equal (td_errcode_from_status (0), TD_ERR_INTERNAL);
    assert_int_equal (td_errcode_from_status (-5), TD_ERR_INTERNAL);
}

static void
test_error_set (void **state)
{
    (void) state;
    td_error_t err;
    td_error_clear (&err);
    assert_int_equal (err.code, TD_OK);
    assert_string_equal (err.message, "");
    assert_int_equal (td_error_set (&err, TD_ERR_NOT_FOUND, "id", "course '%s' was not found", "c1"), -1);
    assert_int_equal (err.code, TD_ERR_NOT_FOUND);
    assert_string_equal (err.message, "course 'c1' was not found");
    assert_string_equal (err.field, "id");
    assert_int_equal (td_error_set (&err, TD_ERR_CONFLICT, NULL, "taken"), -1);
    assert_string_equal (err.field, "");
    //  NULL err is allowed.
    assert_int_equal (td_error_set (NULL, TD_ERR_CONFLICT, NULL, "x"), -1);
    td_error_clear (NULL);
    //  Truncation of long messages and fields, never an overflow.
    char big [1000];
    memset (big, 'a', sizeof (big) - 1);
    big [sizeof (big) - 1] = 0;
    td_error_set (&err, TD_ERR_INVALID_INPUT, big, "%s", big);
    assert_int_equal (strlen (err.message), sizeof (err.message) - 1);
    assert_int_equal (strlen (err.field), sizeof (err.field) - 1);
}

static void
test_error_set_sanitizes (void **state)
{
    (void) state;
    td_error_t err;
    //  Invalid UTF-8 and control characters quoted from input must not reach JSON.
    td_error_set (&err, TD_ERR_INVALID_INPUT, "f\xff", "bad \xc3\x28 near '\x01\n'");
    assert_true (td_utf8_valid (err.message, strlen (err.message)));
    assert_string_equal (err.message, "bad ?( near '  '");
    assert_string_equal (err.field, "f?");
    //  A multi-byte character cut by truncation is cleaned up.
    char big [600];
    size_t n = 0;
    while (n + 2 < sizeof (big)) {
        big [n++] = '\xc3';
        big [n++] = '\xa9';
    }
    big [n] = 0;
    td_error_set (&err, TD_ERR_INVALID_INPUT, NULL, "x%s", big);
    assert_true (td_utf8_valid (err.message, strlen (err.message)));
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_table),
        cmocka_unit_test (test_out_of_range),
        cmocka_unit_test (test_from_status),
        cmocka_unit_test (test_error_set),
        cmocka_unit_test (test_error_set_sanitizes),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
