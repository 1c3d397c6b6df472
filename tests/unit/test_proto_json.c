/*  test_proto_json — the JSON boundary: what td_json_parse refuses, the JSON <-> msgpack mapping
 *  both ways, and the CONTRACT error body.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "td_json.h"
#include "td_mp.h"
#include "td_limits.h"

#define S(s) s, sizeof (s) - 1
#define P(...) (const unsigned char []) { __VA_ARGS__ }, sizeof ((const unsigned char []) { __VA_ARGS__ })

static json_t *
s_parse_ok (const char *text, size_t size)
{
    td_error_t err;
    json_t *j = td_json_parse (text, size, 0, &err);
    if (!j)
        fail_msg ("refused '%.*s': %s", (int) (size > 80 ? 80 : size), text, err.message);
    return j;
}

static void
s_parse_bad (const char *text, size_t size, td_errcode_t code)
{
    td_error_t err;
    td_error_clear (&err);
    json_t *j = td_json_parse (text, size, 0, &err);
    if (j) {
        json_decref (j);
        fail_msg ("accepted '%.*s'", (int) (size > 80 ? 80 : size), text);
    }
    assert_int_equal (err.code, code);
    assert_true (strlen (err.message) > 0);
}

//  JSON -> msgpack -> (td_mp_check) -> JSON must be equal.
static void
s_round_trip (const char *text, size_t size)
{
    json_t *j = s_parse_ok (text, size);
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    td_error_t err;
    assert_int_equal (td_json_to_mp (j, &pk, &err), 0);
    json_t *back = td_mp_bytes_to_json (sbuf.data, sbuf.size, &err);
    if (!back)
        fail_msg ("back: %s", err.message);
    assert_true (json_equal (j, back));
    json_decref (back);
    json_decref (j);
    msgpack_sbuffer_destroy (&sbuf);
}

static void
test_parse_basic (void **state)
{
    (void) state;
    s_round_trip (S ("{}"));
    s_round_trip (S ("[]"));
    s_round_trip (S ("{\"a\":1,\"b\":[true,false,null],\"c\":\"caf\xc3\xa9\",\"d\":{\"e\":-5}}"));
    s_round_trip (S ("\"just a string\""));
    s_round_trip (S ("42"));
    s_round_trip (S ("null"));
    s_round_trip (S ("true"));
    s_round_trip (S ("[1.5, -0.25, 1e300, 3.0, -1e-300]"));
    s_round_trip (S ("[9223372036854775807, -9223372036854775808, 0]"));
    s_round_trip (S ("{\"emoji\":\"\\ud83d\\ude00\",\"esc\":\"a\\n\\t\\\"b\"}"));
    s_round_trip (S ("{\"\":\"empty key\"}"));
    s_round_trip (S ("[\"\", {\"\": \"\"}, {\"x\": []}]"));
    json_t *j = s_parse_ok (S ("{\"f\":2.5,\"i\":7,\"n\":null,\"t\":true}"));
    assert_true (json_is_real (json_object_get (j, "f")));
    assert_true (json_is_integer (json_object_get (j, "i")));
    assert_true (json_is_null (json_object_get (j, "n")));
    assert_true (json_is_true (json_object_get (j, "t")));
    json_decref (j);
}

static void
test_parse_refused (void **state)
{
    (void) state;
    s_parse_bad (S (""), TD_ERR_INVALID_INPUT);
    s_parse_bad (NULL, 0, TD_ERR_INVALID_INPUT);
    s_parse_bad (S ("{"), TD_ERR_INVALID_INPUT);
    s_parse_bad (S ("{\"a\":1,}"), TD_ERR_INVALID_INPUT);
    s_parse_bad (S ("{} {}"), TD_ERR_INVALID_INPUT);
    s_parse_bad (S ("{'a':1}"), TD_ERR_INVALID_INPUT);
    s_parse_bad (S ("[NaN]"), TD_ERR_INVALID_INPUT);
    s_parse_bad (S ("[Infinity]"), TD_ERR_INVALID_INPUT);
    //  Duplicate keys, at the top and nested.
    s_parse_bad (S ("{\"id\":1,\"id\":2}"), TD_ERR_INVALID_INPUT);
    s_parse_bad (S ("{\"a\":{\"x\":1,\"x\":1}}"), TD_ERR_INVALID_INPUT);
    //  Big integers are refused, not rounded.
    s_parse_bad (S ("[9223372036854775808]"), TD_ERR_INVALID_INPUT);
    s_parse_bad (S ("[-9223372036854775809]"), TD_ERR_INVALID_INPUT);
    s_parse_bad (S ("[123456789012345678901234567890]"), TD_ERR_INVALID_INPUT);
    //  Invalid UTF-8, raw or escaped.
    s_parse_bad (S ("[\"\xff\"]"), TD_ERR_INVALID_INPUT);
    s_parse_bad (S ("[\"\xc0\xaf\"]"), TD_ERR_INVALID_INPUT);
    s_parse_bad (S ("[\"\xed\xa0\x80\"]"), TD_ERR_INVALID_INPUT);
    s_parse_bad (S ("[\"\xf4\x90\x80\x80\"]"), TD_ERR_INVALID_INPUT);
    s_parse_bad (S ("[\"\xe2\x82\"]"), TD_ERR_INVALID_INPUT);
    s_parse_bad (S ("{\"\xff\":1}"), TD_ERR_INVALID_INPUT);
    s_parse_bad (S ("[\"\\ud800\"]"), TD_ERR_INVALID_INPUT);
    s_parse_bad (S ("[\"\\udc00x\"]"), TD_ERR_INVALID_INPUT);
    //  NUL in strings.
    s_parse_bad (S ("[\"a\\u0000b\"]"), TD_ERR_INVALID_INPUT);
    s_parse_bad (S ("[\"a\0b\"]"), TD_ERR_INVALID_INPUT);
    //  The message is safe to send back in JSON.
    td_error_t err;
    assert_null (td_json_parse (S ("[\"\xff\xfe\x01\"]"), 0, &err));
    json_t *body = td_json_error (err.code, err.message, err.field);
    assert_non_null (body);
    json_decref (body);
}

static void
test_parse_depth_and_size (void **state)
{
    (void) state;
    char buf [200];
    for (int depth = TD_MAX_DEPTH; depth <= TD_MAX_DEPTH + 1; depth++) {
        size_t i = 0;
        for (int d = 0; d < depth; d++)
            buf [i++] = '[';
        for (int d = 0; d < depth; d++)
            buf [i++] = ']';
        if (depth == TD_MAX_DEPTH)
            s_round_trip (buf, i);
        else
            s_parse_bad (buf, i, TD_ERR_INVALID_INPUT);
        i = 0;
        for (int d = 0; d < depth; d++) {
            memcpy (buf + i, "{\"a\":", 5);
            i += 5;
        }
        buf [i++] = '1';
        for (int d = 0; d < depth; d++)
            buf [i++] = '}';
        if (depth == TD_MAX_DEPTH)
            s_round_trip (buf, i);
        else
            s_parse_bad (buf, i, TD_ERR_INVALID_INPUT);
    }
    //  Very deep input (beyond jansson's own limit) is still just invalid_input.
    size_t n = 100000;
    char *deep = malloc (n);
    assert_non_null (deep);
    memset (deep, '[', n);
    s_parse_bad (deep, n, TD_ERR_INVALID_INPUT);
    free (deep);

    //  Size: the limit is the caller's, or TD_MAX_JSON_BODY.
    td_error_t err;
    assert_null (td_json_parse (S ("[1,2,3]"), 6, &err));
    assert_int_equal (err.code, TD_ERR_TOO_LARGE);
    json_t *j = td_json_parse (S ("[1,2,3]"), 7, &err);
    assert_non_null (j);
    json_decref (j);
    n = TD_MAX_JSON_BODY + 1;
    char *big = malloc (n);
    assert_non_null (big);
    memset (big, ' ', n);
    big [0] = '1';
    assert_null (td_json_parse (big, n, 0, &err));
    assert_int_equal (err.code, TD_ERR_TOO_LARGE);
    j = td_json_parse (big, n, n, &err);
    assert_non_null (j);
    json_decref (j);
    free (big);

    //  Keys longer than TD_MAX_KEY.
    char key [TD_MAX_KEY + 16];
    for (int extra = 0; extra <= 1; extra++) {
        size_t i = 0;
        key [i++] = '{';
        key [i++] = '"';
        memset (key + i, 'k', TD_MAX_KEY + extra);
        i += TD_MAX_KEY + extra;
        memcpy (key + i, "\":1}", 4);
        i += 4;
        if (extra)
            s_parse_bad (key, i, TD_ERR_INVALID_INPUT);
        else
            s_round_trip (key, i);
    }
}

static void
test_to_mp_limits (void **state)
{
    (void) state;
    //  A tree built by code is checked too.
    json_t *root = json_array ();
    json_t *cur = root;
    for (int d = 1; d < TD_MAX_DEPTH + 1; d++) {
        json_t *next = json_array ();
        json_array_append_new (cur, next);
        cur = next;
    }
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    td_error_t err;
    assert_int_equal (td_json_to_mp (root, &pk, &err), -1);
    assert_int_equal (err.code, TD_ERR_INVALID_INPUT);
    json_decref (root);

    json_t *arr = json_array ();
    for (int i = 0; i < TD_MAX_CONTAINER + 1; i++)
        json_array_append_new (arr, json_true ());
    msgpack_sbuffer_clear (&sbuf);
    assert_int_equal (td_json_to_mp (arr, &pk, &err), -1);
    json_array_remove (arr, 0);
    msgpack_sbuffer_clear (&sbuf);
    assert_int_equal (td_json_to_mp (arr, &pk, &err), 0);
    assert_int_equal (td_mp_check (sbuf.data, sbuf.size, &err), 0);
    json_decref (arr);
    //  Invalid UTF-8 smuggled in without jansson's check.
    json_t *s = json_stringn_nocheck ("\xff", 1);
    msgpack_sbuffer_clear (&sbuf);
    assert_int_equal (td_json_to_mp (s, &pk, &err), -1);
    json_decref (s);
    assert_int_equal (td_json_to_mp (NULL, &pk, &err), -1);
    msgpack_sbuffer_destroy (&sbuf);
}

static void
test_mp_to_json (void **state)
{
    (void) state;
    td_error_t err;
    //  bin -> base64
    json_t *j = td_mp_bytes_to_json (P (0x82, 0xa1, 'b', 0xc4, 0x03, 0x01, 0x02, 0x03,
                                        0xa1, 'e', 0xc4, 0x00), &err);
    assert_non_null (j);
    assert_string_equal (json_string_value (json_object_get (j, "b")), "AQID");
    assert_string_equal (json_string_value (json_object_get (j, "e")), "");
    json_decref (j);
    j = td_mp_bytes_to_json (P (0xc4, 0x04, 0xff, 0xfe, 0xfd, 0xfc), &err);
    assert_string_equal (json_string_value (j), "//79/A==");
    json_decref (j);
    //  floats, float32, ints, nil, bool
    j = td_mp_bytes_to_json (P (0x96, 0xca, 0x3f, 0xc0, 0x00, 0x00, 0xcb, 0x40, 0x04, 0, 0, 0, 0, 0, 0,
                                0xd0, 0x80, 0xcf, 0, 0, 0, 0, 0, 0, 0, 0x2a, 0xc0, 0xc2), &err);
    assert_non_null (j);
    assert_true (json_real_value (json_array_get (j, 0)) == 1.5);
    assert_true (json_real_value (json_array_get (j, 1)) == 2.5);
    assert_int_equal (json_integer_value (json_array_get (j, 2)), -128);
    assert_int_equal (json_integer_value (json_array_get (j, 3)), 42);
    assert_true (json_is_null (json_array_get (j, 4)));
    assert_true (json_is_false (json_array_get (j, 5)));
    json_decref (j);
    //  ext refused (by td_mp_check first, and by the object converter too)
    assert_null (td_mp_bytes_to_json (P (0xd4, 0x01, 0x00), &err));
    assert_int_equal (err.code, TD_ERR_INVALID_INPUT);
    msgpack_object ext = { .type = MSGPACK_OBJECT_EXT };
    ext.via.ext.type = 1;
    ext.via.ext.size = 0;
    ext.via.ext.ptr = "";
    assert_null (td_mp_to_json (&ext, &err));
    assert_non_null (strstr (err.message, "extension"));
    //  uint64 above INT64_MAX refused
    assert_null (td_mp_bytes_to_json (P (0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), &err));
    //  NaN / infinity refused
    assert_null (td_mp_bytes_to_json (P (0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0), &err));
    assert_null (td_mp_bytes_to_json (P (0xcb, 0x7f, 0xf0, 0, 0, 0, 0, 0, 0), &err));
    //  Non-string keys, built by hand (td_mp_check would refuse them first).
    msgpack_object_kv kv = { .key = { .type = MSGPACK_OBJECT_POSITIVE_INTEGER, .via.u64 = 1 },
                             .val = { .type = MSGPACK_OBJECT_NIL } };
    msgpack_object map = { .type = MSGPACK_OBJECT_MAP, .via.map = { .size = 1, .ptr = &kv } };
    assert_null (td_mp_to_json (&map, &err));
    assert_non_null (strstr (err.message, "keys"));
    assert_null (td_mp_bytes_to_json (P (0x81, 0x01, 0xc0), &err));
    //  Keys holding NUL refused (td_json_parse refuses them too).
    assert_null (td_mp_bytes_to_json (P (0x81, 0xa3, 'a', 0x00, 'b', 0x01), &err));
    //  Duplicate keys refused.
    assert_null (td_mp_bytes_to_json (P (0x82, 0xa1, 'a', 0x01, 0xa1, 'a', 0x02), &err));
    assert_non_null (strstr (err.message, "more than once"));
    //  Invalid UTF-8 and malformed bytes.
    assert_null (td_mp_bytes_to_json (P (0xa1, 0xff), &err));
    assert_null (td_mp_bytes_to_json (P (0x92, 0x01), &err));
    assert_null (td_mp_to_json (NULL, &err));
    //  A string with a NUL is carried (JSON can escape it).
    j = td_mp_bytes_to_json (P (0xa3, 'a', 0x00, 'b'), &err);
    assert_non_null (j);
    assert_int_equal (json_string_length (j), 3);
    json_decref (j);
    //  Hand-built depth beyond the limit.
    msgpack_object levels [TD_MAX_DEPTH + 2];
    for (int i = 0; i < TD_MAX_DEPTH + 1; i++) {
        levels [i].type = MSGPACK_OBJECT_ARRAY;
        levels [i].via.array.size = 1;
        levels [i].via.array.ptr = &levels [i + 1];
    }
    levels [TD_MAX_DEPTH + 1].type = MSGPACK_OBJECT_NIL;
    assert_null (td_mp_to_json (&levels [0], &err));
    j = td_mp_to_json (&levels [1], &err);
    assert_non_null (j);
    json_decref (j);
}

//  The direct writer against the tree: same bytes on success, same refusal otherwise.
static void
s_same (const msgpack_sbuffer *sb, const char *expect)
{
    msgpack_zone zone;
    assert_true (msgpack_zone_init (&zone, 1024));
    msgpack_object obj;
    size_t off = 0;
    assert_int_equal (msgpack_unpack (sb->data, sb->size, &off, &zone, &obj), MSGPACK_UNPACK_SUCCESS);
    td_error_t e1, e2;
    td_error_clear (&e1);
    td_error_clear (&e2);
    json_t *j = td_mp_to_json (&obj, &e1);
    size_t len = 0;
    char *text = td_mp_to_json_text (&obj, &len, &e2);
    if (!expect) {
        assert_null (j);
        assert_null (text);
        assert_int_equal (e1.code, e2.code);
        assert_string_equal (e1.message, e2.message);
    }
    else {
        char *dumped = json_dumps (j, JSON_COMPACT | JSON_ENCODE_ANY);
        assert_non_null (text);
        assert_string_equal (text, dumped);
        assert_string_equal (text, expect);
        assert_int_equal (len, strlen (expect));
        free (dumped);
    }
    free (text);
    json_decref (j);
    msgpack_zone_destroy (&zone);
}

static void
test_mp_to_json_text (void **state)
{
    (void) state;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    //  numbers as jansson writes them, escapes, bin as base64, nesting, order kept
    msgpack_pack_map (&pk, 9);
    td_mp_pack_str (&pk, "z"); msgpack_pack_double (&pk, 1e20);
    td_mp_pack_str (&pk, "a"); msgpack_pack_double (&pk, -1.5e-7);
    td_mp_pack_str (&pk, "i"); msgpack_pack_double (&pk, 3.0);
    td_mp_pack_str (&pk, "r"); msgpack_pack_double (&pk, 0.1);
    td_mp_pack_str (&pk, "n"); msgpack_pack_int64 (&pk, INT64_MIN);
    td_mp_pack_str (&pk, "s"); td_mp_pack_str (&pk, "q\"\\ \b\f\n\r\t\x01\x1f/\x7f é");
    td_mp_pack_str (&pk, "b"); msgpack_pack_bin (&pk, 4); msgpack_pack_bin_body (&pk, "\x00\xff\x10" "a", 4);
    td_mp_pack_str (&pk, "l"); msgpack_pack_array (&pk, 3);
        msgpack_pack_nil (&pk); msgpack_pack_true (&pk); msgpack_pack_false (&pk);
    td_mp_pack_str (&pk, ""); msgpack_pack_map (&pk, 0);
    s_same (&sb, "{\"z\":1e20,\"a\":-1.4999999999999999e-7,\"i\":3.0,\"r\":0.10000000000000001,"
                 "\"n\":-9223372036854775808,\"s\":\"q\\\"\\\\ \\b\\f\\n\\r\\t\\u0001\\u001F/\x7f é\","
                 "\"b\":\"AP8QYQ==\",\"l\":[null,true,false],\"\":{}}");
    //  a repeated key, small map and large map (the sorted path), after a good key
    for (int size = 3; size <= 40; size += 37) {
        msgpack_sbuffer_clear (&sb);
        msgpack_pack_map (&pk, (size_t) size);
        for (int k = 0; k < size; k++) {
            char key [16];
            snprintf (key, sizeof key, "k%d", k == size - 1? 1: k);
            td_mp_pack_str (&pk, key);
            msgpack_pack_int (&pk, k);
        }
        s_same (&sb, NULL);
    }
    //  a value error before a key error; a non-string key; a NUL in a key; NaN; ext; too big
    msgpack_sbuffer_clear (&sb);
    msgpack_pack_map (&pk, 2);
    td_mp_pack_str (&pk, "x"); msgpack_pack_double (&pk, NAN);
    msgpack_pack_int (&pk, 1); msgpack_pack_int (&pk, 2);
    s_same (&sb, NULL);
    msgpack_sbuffer_clear (&sb);
    msgpack_pack_map (&pk, 1);
    msgpack_pack_int (&pk, 1); msgpack_pack_int (&pk, 2);
    s_same (&sb, NULL);
    msgpack_sbuffer_clear (&sb);
    msgpack_pack_map (&pk, 1);
    msgpack_pack_str (&pk, 3); msgpack_pack_str_body (&pk, "a\0b", 3); msgpack_pack_int (&pk, 2);
    s_same (&sb, NULL);
    msgpack_sbuffer_clear (&sb);
    msgpack_pack_array (&pk, 2);
    msgpack_pack_int (&pk, 1); msgpack_pack_ext (&pk, 1, 1); msgpack_pack_ext_body (&pk, "x", 1);
    s_same (&sb, NULL);
    msgpack_sbuffer_clear (&sb);
    msgpack_pack_uint64 (&pk, UINT64_MAX);
    s_same (&sb, NULL);
    msgpack_sbuffer_clear (&sb);
    msgpack_pack_str (&pk, 2); msgpack_pack_str_body (&pk, "\xc3\x28", 2);     //  bad UTF-8
    s_same (&sb, NULL);
    msgpack_sbuffer_destroy (&sb);
}

//  An ext value of type with payload (packed by hand, not through td_mp_check): both converters
//  refuse it; the writer's message holds want when given.
static void
s_ext_refused (msgpack_sbuffer *sb, msgpack_packer *pk, int8_t type, const char *payload,
               size_t size, const char *want)
{
    msgpack_sbuffer_clear (sb);
    msgpack_pack_ext (pk, size, type);
    if (size)
        msgpack_pack_ext_body (pk, payload, size);
    msgpack_zone zone;
    assert_true (msgpack_zone_init (&zone, 64));
    msgpack_object obj;
    size_t off = 0, len = 0;
    assert_int_equal (msgpack_unpack (sb->data, sb->size, &off, &zone, &obj), MSGPACK_UNPACK_SUCCESS);
    td_error_t err;
    assert_null (td_mp_to_json_text (&obj, &len, &err));
    if (want)
        assert_non_null (strstr (err.message, want));
    assert_null (td_mp_to_json (&obj, &err));
    msgpack_zone_destroy (&zone);
}

//  ext 'J' (JSON text): the writer copies it as is, the tree conversion parses it; what the
//  text may not be (not JSON, empty, bad UTF-8, too deep) the tree conversion refuses
static void
test_json_text_ext (void **state)
{
    (void) state;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    const char *tree = "{\"modules\":[{\"id\":\"m\",\"items\":[1,2.5,\"\\u00e9\\n\",null]}],"
                       "\"t\":\"\xc3\xa9\"}";
    msgpack_pack_map (&pk, 2);
    td_mp_pack_str (&pk, "a"); msgpack_pack_int (&pk, 1);
    td_mp_pack_str (&pk, "tree");
    assert_int_equal (td_mp_pack_json_text (&pk, tree, strlen (tree)), 0);
    td_error_t err;
    assert_int_equal (td_mp_check (sb.data, sb.size, &err), 0);
    msgpack_zone zone;
    assert_true (msgpack_zone_init (&zone, 1024));
    msgpack_object obj;
    size_t off = 0;
    assert_int_equal (msgpack_unpack (sb.data, sb.size, &off, &zone, &obj), MSGPACK_UNPACK_SUCCESS);
    size_t len = 0;
    char *text = td_mp_to_json_text (&obj, &len, &err);
    assert_non_null (text);
    char want [512];
    snprintf (want, sizeof want, "{\"a\":1,\"tree\":%s}", tree);
    assert_string_equal (text, want);               //  copied byte for byte
    assert_int_equal (len, strlen (want));
    char *checked = td_mp_to_json_text_checked (&obj, &len, &err);
    assert_string_equal (checked, want);
    json_t *j = td_mp_to_json (&obj, &err);       //  parsed into the same value
    assert_non_null (j);
    json_t *parsed = json_loads (want, 0, NULL);
    assert_true (json_equal (j, parsed));
    json_decref (parsed);
    json_decref (j);
    free (checked);
    free (text);
    msgpack_zone_destroy (&zone);
    //  refusals of the tree conversion
    const char *bad [] = { "{\"a\":", "[1,]", "{\"a\":1,\"a\":2}", "nul", "\"\\u0000\"", NULL };
    for (int i = 0; bad [i]; i++) {
        msgpack_sbuffer_clear (&sb);
        msgpack_pack_array (&pk, 1);
        assert_int_equal (td_mp_pack_json_text (&pk, bad [i], strlen (bad [i])), 0);
        json_t *no = td_mp_bytes_to_json (sb.data, sb.size, &err);
        assert_null (no);
        assert_int_equal (err.code, TD_ERR_INVALID_INPUT);
    }
    //  depth counts from where the text sits
    char deep [TD_MAX_DEPTH * 2 + 8];
    size_t d = 0;
    for (int i = 0; i < TD_MAX_DEPTH; i++)
        deep [d++] = '[';
    for (int i = 0; i < TD_MAX_DEPTH; i++)
        deep [d++] = ']';
    deep [d] = 0;
    msgpack_sbuffer_clear (&sb);
    assert_int_equal (td_mp_pack_json_text (&pk, deep, d), 0);
    json_t *ok = td_mp_bytes_to_json (sb.data, sb.size, &err);
    assert_non_null (ok);
    json_decref (ok);
    msgpack_sbuffer_clear (&sb);
    msgpack_pack_array (&pk, 1);
    assert_int_equal (td_mp_pack_json_text (&pk, deep, d), 0);
    assert_null (td_mp_bytes_to_json (sb.data, sb.size, &err));
    assert_non_null (strstr (err.message, "nested"));
    //  the packer takes no empty text; another ext type, an empty text, bad UTF-8 inside (not
    //  checked by td_mp_check here): refused by both converters
    assert_int_equal (td_mp_pack_json_text (&pk, "", 0), -1);
    s_ext_refused (&sb, &pk, TD_MP_EXT_JSON, "", 0, NULL);
    s_ext_refused (&sb, &pk, 0x4B, "[]", 2, "extension");
    s_ext_refused (&sb, &pk, TD_MP_EXT_JSON, "\"\xc3\"", 3, NULL);
    msgpack_sbuffer_destroy (&sb);
}

static void
test_error_body (void **state)
{
    (void) state;
    json_t *e = td_json_error (TD_ERR_NOT_FOUND, "course 'x' was not found", "course");
    assert_non_null (e);
    json_t *inner = json_object_get (e, "error");
    assert_string_equal (json_string_value (json_object_get (inner, "code")), "not_found");
    assert_string_equal (json_string_value (json_object_get (inner, "message")),
                         "course 'x' was not found");
    assert_string_equal (json_string_value (json_object_get (inner, "field")), "course");
    assert_int_equal (json_object_size (e), 1);
    json_decref (e);
    e = td_json_error (TD_ERR_RATE_LIMITED, NULL, NULL);
    inner = json_object_get (e, "error");
    assert_string_equal (json_string_value (json_object_get (inner, "code")), "rate_limited");
    assert_true (strlen (json_string_value (json_object_get (inner, "message"))) > 0);
    assert_null (json_object_get (inner, "field"));
    json_decref (e);
    e = td_json_error (TD_ERR_INVALID_INPUT, "bad \xff byte", "f\xfe");
    inner = json_object_get (e, "error");
    assert_string_equal (json_string_value (json_object_get (inner, "message")), "bad ? byte");
    assert_string_equal (json_string_value (json_object_get (inner, "field")), "f?");
    json_decref (e);
    e = td_json_error ((td_errcode_t) 99, "", "");
    inner = json_object_get (e, "error");
    assert_string_equal (json_string_value (json_object_get (inner, "code")), "internal");
    assert_null (json_object_get (inner, "field"));
    json_decref (e);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_parse_basic),
        cmocka_unit_test (test_parse_refused),
        cmocka_unit_test (test_parse_depth_and_size),
        cmocka_unit_test (test_to_mp_limits),
        cmocka_unit_test (test_mp_to_json),
        cmocka_unit_test (test_mp_to_json_text),
        cmocka_unit_test (test_json_text_ext),
        cmocka_unit_test (test_error_body),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
