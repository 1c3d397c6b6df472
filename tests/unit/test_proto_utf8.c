/*  test_proto_utf8 — strict UTF-8: boundaries of each sequence length, and every way to be wrong.
 *
 *  Each invalid sequence is also tried embedded in long ASCII runs at every offset, because the
 *  validator skips ASCII eight bytes at a time and an off-by-one there would let bytes through.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "td_utf8.h"

#define V(s) td_utf8_valid (s, sizeof (s) - 1)

static void
test_valid (void **state)
{
    (void) state;
    assert_true (td_utf8_valid ("", 0));
    assert_true (td_utf8_valid (NULL, 0));
    assert_true (V ("hello, world"));
    assert_true (V ("\x00"));                       //  NUL is a code point
    assert_true (V ("\x7f"));
    assert_true (V ("\xc2\x80"));                   //  U+0080
    assert_true (V ("\xdf\xbf"));                   //  U+07FF
    assert_true (V ("\xe0\xa0\x80"));               //  U+0800
    assert_true (V ("\xed\x9f\xbf"));               //  U+D7FF
    assert_true (V ("\xee\x80\x80"));               //  U+E000
    assert_true (V ("\xef\xbf\xbf"));               //  U+FFFF
    assert_true (V ("\xf0\x90\x80\x80"));           //  U+10000
    assert_true (V ("\xf4\x8f\xbf\xbf"));           //  U+10FFFF
    assert_true (V ("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
}

static const char *s_invalid [] = {
    "\x80", "\xbf",                                 //  lone continuation
    "\xc0\x80", "\xc1\xbf",                         //  overlong 2-byte
    "\xe0\x80\x80", "\xe0\x9f\xbf",                 //  overlong 3-byte
    "\xf0\x80\x80\x80", "\xf0\x8f\xbf\xbf",         //  overlong 4-byte
    "\xed\xa0\x80", "\xed\xbf\xbf", "\xed\xb0\x80", //  surrogates
    "\xf4\x90\x80\x80", "\xf7\xbf\xbf\xbf",         //  above U+10FFFF
    "\xf5\x80\x80\x80", "\xf8\x88\x80\x80\x80", "\xfe", "\xff",
    "\xc3", "\xe2\x82", "\xf0\x9f\x98",             //  truncated
    "\xc3\x28", "\xe2\x28\xa1", "\xf0\x9f\x28\x80", //  bad continuation
};
#define S_INVALID (sizeof (s_invalid) / sizeof (s_invalid [0]))

static void
test_invalid (void **state)
{
    (void) state;
    for (size_t i = 0; i < S_INVALID; i++)
        assert_false (td_utf8_valid (s_invalid [i], strlen (s_invalid [i])));
}

static void
test_invalid_in_ascii_runs (void **state)
{
    (void) state;
    char buf [64];
    for (size_t i = 0; i < S_INVALID; i++) {
        size_t n = strlen (s_invalid [i]);
        for (size_t at = 0; at + n <= 40; at++) {
            memset (buf, 'a', 40);
            memcpy (buf + at, s_invalid [i], n);
            assert_false (td_utf8_valid (buf, 40));
            //  Truncated sequences at the very end of the buffer.
            assert_false (td_utf8_valid (buf, at + n));
        }
    }
    //  A valid sequence at every offset of a long run stays valid.
    for (size_t at = 0; at + 4 <= 40; at++) {
        memset (buf, 'a', 40);
        memcpy (buf + at, "\xf0\x9f\x98\x80", 4);
        assert_true (td_utf8_valid (buf, 40));
        //  ...but cut in the middle is not.
        assert_false (td_utf8_valid (buf, at + 3));
    }
}

static void
test_sanitize (void **state)
{
    (void) state;
    char s [] = "ok \xc3\xa9 \xff\xc3 \x01\t end";
    td_utf8_sanitize (s);
    assert_string_equal (s, "ok \xc3\xa9 ??    end");
    assert_true (td_utf8_valid (s, strlen (s)));
    char r [] = "ok \xc3\xa9 \xff\xc3 \x01\t\n end \xf0\x9f";
    td_utf8_repair (r);
    assert_string_equal (r, "ok \xc3\xa9 ?? \x01\t\n end ??");
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_valid),
        cmocka_unit_test (test_invalid),
        cmocka_unit_test (test_invalid_in_ascii_runs),
        cmocka_unit_test (test_sanitize),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
