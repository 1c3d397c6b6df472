/*  test_proto_mp — td_mp_check against hostile msgpack, and the object/packing helpers.
 *
 *  Everything td_mp_check accepts is also handed to msgpack_unpack, which must accept it: the
 *  checker is only useful if it is never looser than the unpacker behind it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "td_mp.h"
#include "td_limits.h"

#define B(...) (const unsigned char []) { __VA_ARGS__ }, sizeof ((const unsigned char []) { __VA_ARGS__ })

//  Accepted by td_mp_check, and then by msgpack_unpack.
static void
s_ok (const void *data, size_t size)
{
    td_error_t err;
    td_error_clear (&err);
    int rc = td_mp_check (data, size, &err);
    if (rc != 0)
        fail_msg ("refused: %s", err.message);
    msgpack_zone zone;
    assert_true (msgpack_zone_init (&zone, 1024));
    msgpack_object obj;
    size_t off = 0;
    assert_int_equal (msgpack_unpack ((const char *) data, size, &off, &zone, &obj),
                      MSGPACK_UNPACK_SUCCESS);
    assert_int_equal (off, size);
    msgpack_zone_destroy (&zone);
}

static void
s_bad (const void *data, size_t size, td_errcode_t code)
{
    td_error_t err;
    td_error_clear (&err);
    assert_int_equal (td_mp_check (data, size, &err), -1);
    assert_int_equal (err.code, code);
    assert_true (strlen (err.message) > 0);
}

static void
test_scalars (void **state)
{
    (void) state;
    s_ok (B (0x00));
    s_ok (B (0x7f));
    s_ok (B (0xe0));
    s_ok (B (0xff));
    s_ok (B (0xc0));
    s_ok (B (0xc2));
    s_ok (B (0xc3));
    s_ok (B (0xcc, 0xff));
    s_ok (B (0xcd, 0xff, 0xff));
    s_ok (B (0xce, 1, 2, 3, 4));
    s_ok (B (0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff));
    s_ok (B (0xd0, 0x80));
    s_ok (B (0xd1, 1, 2));
    s_ok (B (0xd2, 1, 2, 3, 4));
    s_ok (B (0xd3, 1, 2, 3, 4, 5, 6, 7, 8));
    s_ok (B (0xca, 0x3f, 0x80, 0, 0));
    s_ok (B (0xcb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0));
    s_ok (B (0xa0));
    s_ok (B (0xa3, 'a', 'b', 'c'));
    s_ok (B (0xd9, 2, 0xc3, 0xa9));
    s_ok (B (0xda, 0, 1, 'x'));
    s_ok (B (0xdb, 0, 0, 0, 1, 'x'));
    s_ok (B (0xc4, 2, 0xff, 0x00));            //  bin need not be UTF-8
    s_ok (B (0xc5, 0, 1, 0xff));
    s_ok (B (0xc6, 0, 0, 0, 1, 0xc0));
    s_ok (B (0x90));
    s_ok (B (0x80));
    s_ok (B (0xdc, 0, 0));
    s_ok (B (0xdf, 0, 0, 0, 0));
    s_ok (B (0x92, 0x01, 0x91, 0xc0));
    s_ok (B (0x82, 0xa1, 'a', 0x01, 0xa1, 'b', 0x80));
}

static void
test_malformed (void **state)
{
    (void) state;
    s_bad (NULL, 0, TD_ERR_INVALID_INPUT);
    s_bad ("", 0, TD_ERR_INVALID_INPUT);
    s_bad (B (0xc1), TD_ERR_INVALID_INPUT);
    s_bad (B (0x01, 0x02), TD_ERR_INVALID_INPUT);          //  two objects
    s_bad (B (0x90, 0x00), TD_ERR_INVALID_INPUT);          //  trailing byte
    s_bad (B (0x91), TD_ERR_INVALID_INPUT);
    s_bad (B (0x81, 0xa1, 'a'), TD_ERR_INVALID_INPUT);     //  key without value
    s_bad (B (0xa5, 'a'), TD_ERR_INVALID_INPUT);
    s_bad (B (0xd9), TD_ERR_INVALID_INPUT);
    s_bad (B (0xda, 0), TD_ERR_INVALID_INPUT);
    s_bad (B (0xcb, 0, 0), TD_ERR_INVALID_INPUT);
    s_bad (B (0xdc, 0), TD_ERR_INVALID_INPUT);
}

static void
test_ext_refused (void **state)
{
    (void) state;
    s_bad (B (0xd4, 1, 0), TD_ERR_INVALID_INPUT);
    s_bad (B (0xd5, 1, 0, 0), TD_ERR_INVALID_INPUT);
    s_bad (B (0xd6, 1, 0, 0, 0, 0), TD_ERR_INVALID_INPUT);
    s_bad (B (0xd7, 1, 0, 0, 0, 0, 0, 0, 0, 0), TD_ERR_INVALID_INPUT);
    s_bad (B (0xd8, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), TD_ERR_INVALID_INPUT);
    s_bad (B (0xc7, 1, 1, 0), TD_ERR_INVALID_INPUT);
    s_bad (B (0xc8, 0, 1, 1, 0), TD_ERR_INVALID_INPUT);
    s_bad (B (0xc9, 0, 0, 0, 1, 1, 0), TD_ERR_INVALID_INPUT);
    s_bad (B (0x91, 0xd4, 1, 0), TD_ERR_INVALID_INPUT);    //  nested
    td_error_t err;
    td_mp_check (B (0xd4, 1, 0), &err);
    assert_non_null (strstr (err.message, "extension"));
}

//  ext TD_MP_EXT_JSON ('J'): JSON text as a value, in every ext form, checked like a str
static void
test_ext_json (void **state)
{
    (void) state;
    s_ok (B (0xd4, 0x4A, '1'));                                         //  fixext 1
    s_ok (B (0xd6, 0x4A, 'n', 'u', 'l', 'l'));                          //  fixext 4
    s_ok (B (0xc7, 2, 0x4A, '[', ']'));                                 //  ext 8
    s_ok (B (0xc8, 0, 2, 0x4A, '{', '}'));                              //  ext 16
    s_ok (B (0xc9, 0, 0, 0, 3, 0x4A, '"', 0xc3, 0xa9));                 //  ext 32, UTF-8 "é
    s_ok (B (0x82, 0xa1, 'a', 0xc7, 1, 0x4A, '2', 0xa1, 'b', 0xd4, 0x4A, '3'));   //  in a map
    s_ok (B (0x92, 0xc7, 0, 0x4A, 0xc0));                               //  empty: checked later
    //  never a key; invalid UTF-8; cut short; another type in any form
    s_bad (B (0x81, 0xd4, 0x4A, '1', 0x01), TD_ERR_INVALID_INPUT);
    s_bad (B (0xc7, 2, 0x4A, 0xc3, 0x28), TD_ERR_INVALID_INPUT);
    s_bad (B (0xc7, 2, 0x4A, 0xed, 0xa0), TD_ERR_INVALID_INPUT);
    s_bad (B (0xc7, 3, 0x4A, '1'), TD_ERR_INVALID_INPUT);
    s_bad (B (0xc7, 3), TD_ERR_INVALID_INPUT);
    s_bad (B (0xc8, 0), TD_ERR_INVALID_INPUT);
    s_bad (B (0xd5, 0x4A, '1'), TD_ERR_INVALID_INPUT);
    s_bad (B (0xd4), TD_ERR_INVALID_INPUT);
    s_bad (B (0xd4, 0x4B, '1'), TD_ERR_INVALID_INPUT);
    s_bad (B (0xc7, 1, 0x00, '1'), TD_ERR_INVALID_INPUT);
    //  a payload over TD_MAX_STRING is refused before its bytes are read
    s_bad (B (0xc9, 0x00, 0x10, 0x00, 0x01, 0x4A, '1'), TD_ERR_INVALID_INPUT);
}

static void
test_keys (void **state)
{
    (void) state;
    s_bad (B (0x81, 0x01, 0x01), TD_ERR_INVALID_INPUT);    //  int key
    s_bad (B (0x81, 0xc0, 0x01), TD_ERR_INVALID_INPUT);    //  nil key
    s_bad (B (0x81, 0x90, 0x01), TD_ERR_INVALID_INPUT);    //  array key
    s_bad (B (0x81, 0xc4, 1, 'a', 0x01), TD_ERR_INVALID_INPUT);  //  bin key
    s_bad (B (0x82, 0xa1, 'a', 0x01, 0x02, 0x03), TD_ERR_INVALID_INPUT);  //  second key int
    //  Value position may hold anything; a map inside a map checks its own keys.
    s_ok (B (0x81, 0xa1, 'a', 0x81, 0xa1, 'b', 0x90));
    s_bad (B (0x81, 0xa1, 'a', 0x81, 0x05, 0x90), TD_ERR_INVALID_INPUT);
    td_error_t err;
    td_mp_check (B (0x81, 0x01, 0x01), &err);
    assert_non_null (strstr (err.message, "keys must be strings"));

    //  Key length limit: TD_MAX_KEY accepted, one more refused.
    unsigned char buf [TD_MAX_KEY + 16];
    for (int extra = 0; extra <= 1; extra++) {
        size_t n = TD_MAX_KEY + extra, i = 0;
        buf [i++] = 0x81;
        buf [i++] = 0xda;
        buf [i++] = (unsigned char) (n >> 8);
        buf [i++] = (unsigned char) n;
        memset (buf + i, 'k', n);
        i += n;
        buf [i++] = 0xc0;
        if (extra)
            s_bad (buf, i, TD_ERR_INVALID_INPUT);
        else
            s_ok (buf, i);
    }
}

static void
test_utf8 (void **state)
{
    (void) state;
    s_bad (B (0xa2, 0xc0, 0x80), TD_ERR_INVALID_INPUT);            //  overlong NUL
    s_bad (B (0xa3, 0xed, 0xa0, 0x80), TD_ERR_INVALID_INPUT);      //  surrogate
    s_bad (B (0xa4, 0xf4, 0x90, 0x80, 0x80), TD_ERR_INVALID_INPUT);//  > U+10FFFF
    s_bad (B (0xa1, 0xe2), TD_ERR_INVALID_INPUT);                  //  truncated sequence
    s_bad (B (0x81, 0xa1, 0xff, 0xc0), TD_ERR_INVALID_INPUT);      //  in a key
    s_bad (B (0x91, 0xa1, 0x80), TD_ERR_INVALID_INPUT);            //  nested
    s_ok (B (0xa4, 0xf0, 0x9f, 0x98, 0x80));
    s_ok (B (0xa1, 0x00));                                          //  NUL is valid UTF-8
}

static void
test_truncated_prefixes (void **state)
{
    (void) state;
    const unsigned char msg [] = {
        0x83, 0xa1, 'a', 0x92, 0xcd, 0x01, 0x00, 0xcb, 0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18,
        0xa1, 'b', 0xc4, 0x03, 1, 2, 3,
        0xa1, 'c', 0x81, 0xa2, 'd', 'e', 0xd9, 0x04, 0xf0, 0x9f, 0x98, 0x80
    };
    s_ok (msg, sizeof (msg));
    for (size_t n = 0; n < sizeof (msg); n++)
        s_bad (msg, n, TD_ERR_INVALID_INPUT);
}

static void
test_oversized (void **state)
{
    (void) state;
    //  A string longer than TD_MAX_STRING is refused from its header alone.
    s_bad (B (0xdb, 0x00, 0x10, 0x00, 0x01, 'x'), TD_ERR_INVALID_INPUT);
    s_bad (B (0xc6, 0x00, 0x10, 0x00, 0x01, 'x'), TD_ERR_INVALID_INPUT);
    s_bad (B (0xdb, 0xff, 0xff, 0xff, 0xff), TD_ERR_INVALID_INPUT);
    //  Container counts above TD_MAX_CONTAINER.
    s_bad (B (0xdd, 0x00, 0x01, 0x00, 0x01, 0x00), TD_ERR_INVALID_INPUT);
    s_bad (B (0xdf, 0xff, 0xff, 0xff, 0xff), TD_ERR_INVALID_INPUT);
    //  Counts larger than the bytes that remain: no allocation is ever attempted.
    s_bad (B (0xdd, 0x00, 0x00, 0x10, 0x00, 0x01, 0x02), TD_ERR_INVALID_INPUT);
    s_bad (B (0xdc, 0x00, 0x03, 0x01, 0x02), TD_ERR_INVALID_INPUT);
    s_bad (B (0x82, 0xa1, 'a', 0x01), TD_ERR_INVALID_INPUT);        //  map needs 2 per entry
    td_error_t err;
    td_mp_check (B (0xdd, 0x00, 0x00, 0x10, 0x00, 0x01, 0x02), &err);
    assert_non_null (strstr (err.message, "claims more entries"));

    //  A string of exactly TD_MAX_STRING is fine, one more byte is not.
    size_t n = TD_MAX_STRING + 6;
    unsigned char *buf = malloc (n);
    assert_non_null (buf);
    memset (buf, 'a', n);
    buf [0] = 0xdb;
    buf [1] = 0x00; buf [2] = 0x10; buf [3] = 0x00; buf [4] = 0x00;
    s_ok (buf, 5 + TD_MAX_STRING);
    buf [4] = 0x01;
    s_bad (buf, 5 + TD_MAX_STRING + 1, TD_ERR_INVALID_INPUT);
    free (buf);

    //  Total size: too_large before anything is read.
    buf = calloc (1, TD_MAX_MESSAGE + 1);
    assert_non_null (buf);
    s_bad (buf, TD_MAX_MESSAGE + 1, TD_ERR_TOO_LARGE);
    free (buf);

    //  A full TD_MAX_CONTAINER array is accepted.
    n = 5 + TD_MAX_CONTAINER;
    buf = malloc (n);
    assert_non_null (buf);
    buf [0] = 0xdd; buf [1] = 0x00; buf [2] = 0x01; buf [3] = 0x00; buf [4] = 0x00;
    memset (buf + 5, 0x01, TD_MAX_CONTAINER);
    s_ok (buf, 5 + TD_MAX_CONTAINER);
    free (buf);
}

//  depth nested arrays, the innermost holding `inner` (0: empty, 1: one int).
static size_t
s_nested (unsigned char *buf, int depth, int inner)
{
    size_t i = 0;
    for (int d = 0; d < depth - 1; d++)
        buf [i++] = 0x91;
    buf [i++] = inner ? 0x91 : 0x90;
    if (inner)
        buf [i++] = 0x07;
    return i;
}

static void
test_depth (void **state)
{
    (void) state;
    unsigned char buf [64];
    s_ok (buf, s_nested (buf, TD_MAX_DEPTH, 1));
    s_ok (buf, s_nested (buf, TD_MAX_DEPTH, 0));
    s_bad (buf, s_nested (buf, TD_MAX_DEPTH + 1, 1), TD_ERR_INVALID_INPUT);
    s_bad (buf, s_nested (buf, TD_MAX_DEPTH + 1, 0), TD_ERR_INVALID_INPUT);
    td_error_t err;
    td_mp_check (buf, s_nested (buf, TD_MAX_DEPTH + 1, 1), &err);
    assert_non_null (strstr (err.message, "nested deeper than 32"));
    //  Depth with a tighter bound.
    s_ok (buf, s_nested (buf, 5, 1));
    assert_int_equal (td_mp_check_depth (buf, s_nested (buf, 5, 1), 5, NULL), 0);
    assert_int_equal (td_mp_check_depth (buf, s_nested (buf, 5, 1), 4, NULL), -1);
    assert_int_equal (td_mp_check_depth (buf, s_nested (buf, 33, 1), 99, NULL), -1);
}

static void
test_deep_maps (void **state)
{
    (void) state;
    unsigned char buf [256];
    for (int depth = TD_MAX_DEPTH; depth <= TD_MAX_DEPTH + 1; depth++) {
        size_t i = 0;
        for (int d = 0; d < depth; d++) {
            buf [i++] = 0x81; buf [i++] = 0xa1; buf [i++] = 'a';
        }
        buf [i++] = 0xc0;
        if (depth == TD_MAX_DEPTH)
            s_ok (buf, i);
        else
            s_bad (buf, i, TD_ERR_INVALID_INPUT);
    }
}

static void
test_helpers (void **state)
{
    (void) state;
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    assert_int_equal (msgpack_pack_map (&pk, 9), 0);
    assert_int_equal (td_mp_pack_kv_str (&pk, "s", "hello"), 0);
    assert_int_equal (td_mp_pack_kv_int (&pk, "i", -42), 0);
    assert_int_equal (td_mp_pack_kv_bool (&pk, "b", true), 0);
    assert_int_equal (td_mp_pack_kv_str (&pk, "n", NULL), 0);
    assert_int_equal (td_mp_pack_str (&pk, "nul"), 0);
    assert_int_equal (td_mp_pack_strn (&pk, "a\0b", 3), 0);
    assert_int_equal (td_mp_pack_str (&pk, "raw"), 0);
    assert_int_equal (td_mp_pack_raw (&pk, (const unsigned char []) { 0x92, 0x01, 0x02 }, 3), 0);
    assert_int_equal (td_mp_pack_str (&pk, "nil"), 0);
    assert_int_equal (td_mp_pack_raw (&pk, NULL, 0), 0);
    assert_int_equal (td_mp_pack_kv_int (&pk, "big", INT64_MAX), 0);
    assert_int_equal (td_mp_pack_str (&pk, "f"), 0);
    assert_int_equal (msgpack_pack_double (&pk, 2.5), 0);
    assert_int_equal (td_mp_pack_raw (&pk, "", 0), -1);
    s_ok (sbuf.data, sbuf.size);

    msgpack_zone zone;
    assert_true (msgpack_zone_init (&zone, 1024));
    msgpack_object o;
    size_t off = 0;
    assert_int_equal (msgpack_unpack (sbuf.data, sbuf.size, &off, &zone, &o), MSGPACK_UNPACK_SUCCESS);

    const char *s;
    size_t len;
    assert_true (td_mp_str (td_mp_get (&o, "s"), &s, &len));
    assert_int_equal (len, 5);
    assert_memory_equal (s, "hello", 5);
    assert_true (td_mp_streq (td_mp_get (&o, "s"), "hello"));
    assert_false (td_mp_streq (td_mp_get (&o, "s"), "hell"));
    assert_false (td_mp_streq (td_mp_get (&o, "i"), "hello"));
    char *dup = td_mp_strdup (td_mp_get (&o, "s"));
    assert_string_equal (dup, "hello");
    free (dup);
    assert_null (td_mp_strdup (td_mp_get (&o, "nul")));     //  holds a NUL
    assert_null (td_mp_strdup (td_mp_get (&o, "i")));
    char buf [6];
    assert_true (td_mp_strcpy (td_mp_get (&o, "s"), buf, sizeof (buf)));
    assert_string_equal (buf, "hello");
    assert_false (td_mp_strcpy (td_mp_get (&o, "s"), buf, 5));  //  no room for the NUL
    assert_false (td_mp_strcpy (td_mp_get (&o, "nul"), buf, sizeof (buf)));
    int64_t v;
    assert_true (td_mp_int (td_mp_get (&o, "i"), &v));
    assert_int_equal (v, -42);
    assert_true (td_mp_int (td_mp_get (&o, "big"), &v));
    assert_true (v == INT64_MAX);
    assert_false (td_mp_int (td_mp_get (&o, "s"), &v));
    bool b;
    assert_true (td_mp_bool (td_mp_get (&o, "b"), &b));
    assert_true (b);
    assert_false (td_mp_bool (td_mp_get (&o, "i"), &b));
    double d;
    assert_true (td_mp_number (td_mp_get (&o, "f"), &d));
    assert_true (d == 2.5);
    assert_true (td_mp_number (td_mp_get (&o, "i"), &d));
    assert_true (d == -42.0);
    assert_false (td_mp_number (td_mp_get (&o, "s"), &d));
    assert_int_equal (td_mp_get (&o, "n")->type, MSGPACK_OBJECT_NIL);
    assert_int_equal (td_mp_get (&o, "nil")->type, MSGPACK_OBJECT_NIL);
    assert_int_equal (td_mp_get (&o, "raw")->type, MSGPACK_OBJECT_ARRAY);
    assert_null (td_mp_get (&o, "missing"));
    assert_null (td_mp_get (td_mp_get (&o, "s"), "x"));
    assert_null (td_mp_get (NULL, "x"));

    //  uint64 above INT64_MAX is not an int64.
    msgpack_object u = { .type = MSGPACK_OBJECT_POSITIVE_INTEGER, .via.u64 = UINT64_MAX };
    assert_false (td_mp_int (&u, &v));
    msgpack_zone_destroy (&zone);
    msgpack_sbuffer_destroy (&sbuf);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_scalars),
        cmocka_unit_test (test_malformed),
        cmocka_unit_test (test_ext_refused),
        cmocka_unit_test (test_ext_json),
        cmocka_unit_test (test_keys),
        cmocka_unit_test (test_utf8),
        cmocka_unit_test (test_truncated_prefixes),
        cmocka_unit_test (test_oversized),
        cmocka_unit_test (test_depth),
        cmocka_unit_test (test_deep_maps),
        cmocka_unit_test (test_helpers),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
