/*  test_srs_time — the RFC 3339 times of the srs actor (td_srs_common.c): offline clients send
 *  reviewed_at, and a wrong parse would reorder a learner's history, so the parser is tried with
 *  offsets, fractions, leap days and hostile text.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "srs/td_srs.h"

static void
test_parse_valid (void **state)
{
    (void) state;
    int64_t ms;
    assert_true (td_srs_time_parse ("2022-11-29T12:30:00Z", &ms));
    assert_int_equal (ms, 1669725000000LL);
    assert_true (td_srs_time_parse ("2022-11-29T12:30:00.5Z", &ms));
    assert_int_equal (ms, 1669725000500LL);
    assert_true (td_srs_time_parse ("2022-11-29T12:30:00.123456789Z", &ms));
    assert_int_equal (ms, 1669725000123LL);         //  beyond milliseconds is cut
    assert_true (td_srs_time_parse ("2022-11-29T14:30:00+02:00", &ms));
    assert_int_equal (ms, 1669725000000LL);
    assert_true (td_srs_time_parse ("2022-11-29T07:00:00-05:30", &ms));
    assert_int_equal (ms, 1669725000000LL);
    assert_true (td_srs_time_parse ("2022-11-29t12:30:00z", &ms));
    assert_int_equal (ms, 1669725000000LL);
    assert_true (td_srs_time_parse ("2024-02-29T00:00:00Z", &ms));   //  leap day
    assert_true (td_srs_time_parse ("2000-02-29T00:00:00Z", &ms));   //  400-year leap
    assert_true (td_srs_time_parse ("1970-01-01T00:00:00Z", &ms));
    assert_int_equal (ms, 0);
}

static void
test_parse_invalid (void **state)
{
    (void) state;
    int64_t ms = 42;
    const char *bad [] = {
        "", "yesterday", "2022-11-29", "2022-11-29T12:30:00", "2022-11-29T12:30Z",
        "2022-13-01T00:00:00Z", "2022-00-01T00:00:00Z", "2022-11-31T00:00:00Z",
        "2023-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2022-11-29T24:00:00Z",
        "2022-11-29T12:60:00Z", "2022-11-29T12:30:00.Z", "2022-11-29T12:30:00+2:00",
        "2022-11-29T12:30:00+02:60", "2022-11-29T12:30:00Zjunk", "2022-11-29X12:30:00Z",
        "１９７０-01-01T00:00:00Z", "1969-12-31T23:59:59Z", "2022-11-29T12:30:00 Z",
        "+2022-11-29T12:30:00Z", "2022-11-29T12:30:00.1234567890123456789012345Z",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++)
        if (td_srs_time_parse (bad [i], &ms)) {
            print_error ("accepted '%s'\n", bad [i]);
            fail ();
        }
    assert_int_equal (ms, 42);                      //  untouched on failure
}

static void
test_format_round_trip (void **state)
{
    (void) state;
    char buf [40];
    td_srs_time_format (1669725000123LL, buf, sizeof buf);
    assert_string_equal (buf, "2022-11-29T12:30:00.123Z");
    td_srs_time_format (0, buf, sizeof buf);
    assert_string_equal (buf, "1970-01-01T00:00:00.000Z");
    for (int64_t ms = 0; ms < 4102444800000LL; ms += 86400000LL * 37 + 12345) {
        int64_t back;
        td_srs_time_format (ms, buf, sizeof buf);
        assert_true (td_srs_time_parse (buf, &back));
        assert_int_equal (back, ms);
    }
    assert_true (td_srs_uuid ("00000000-0000-4000-8000-000000000000"));
    assert_false (td_srs_uuid ("00000000-0000-4000-8000-00000000000"));
    assert_false (td_srs_uuid ("00000000x0000-4000-8000-000000000000"));
    assert_false (td_srs_uuid ("'; DROP TABLE srs_cards; --"));
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_parse_valid),
        cmocka_unit_test (test_parse_invalid),
        cmocka_unit_test (test_format_round_trip),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
