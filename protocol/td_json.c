/*  td_json — the JSON <-> msgpack boundary of the web bridge, with the protocol's limits.
 *
 *  JSON arrives from browsers and scripts; it is parsed by jansson with duplicate keys refused
 *  (two "id" keys must not mean whichever the reader picks), then checked against td_limits.h:
 *  nesting, container counts, key and string sizes. jansson already refuses invalid UTF-8, lone
 *  surrogate escapes, \u0000 and integers beyond 64 bits; we keep all of those refusals.
 *  The converters re-check every limit as they go, so a json_t built by code (not parsed) or a
 *  msgpack_object that did not come through td_mp_check cannot smuggle past them either.
 *  Recursion is bounded by TD_MAX_DEPTH + 1 frames.
 *
 *  msgpack -> JSON: bin becomes a standard base64 string (RFC 4648 §4, padded); ext TD_MP_EXT_JSON
 *  ('J', JSON text passed through) is parsed here as the value it holds, with the same refusals
 *  and limits as a JSON body (its containers nest below where it sits); other ext, non-string
 *  keys, keys holding NUL (JSON input may not have them either), duplicate keys, unsigned integers above INT64_MAX and non-finite floats are refused,
 *  since JSON has no faithful form for them.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "td_json.h"
#include "td_limits.h"
#include "td_mp.h"
#include "td_utf8.h"

//  Limits of a parsed tree; depth counts containers, top level = 1.
static int
s_json_check (const json_t *j, int depth, td_error_t *err)
{
    if (json_is_object (j)) {
        if (depth + 1 > TD_MAX_DEPTH)
            return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                "objects and arrays are nested deeper than %d levels", TD_MAX_DEPTH);
        if (json_object_size (j) > TD_MAX_CONTAINER)
            return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                "an object has more than %d members", TD_MAX_CONTAINER);
        const char *key;
        size_t key_len;
        json_t *value;
        json_object_keylen_foreach ((json_t *) j, key, key_len, value) {
            if (key_len > TD_MAX_KEY)
                return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                    "an object key is longer than %d bytes", TD_MAX_KEY);
            if (s_json_check (value, depth + 1, err))
                return -1;
        }
    }
    else
    if (json_is_array (j)) {
        if (depth + 1 > TD_MAX_DEPTH)
            return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                "objects and arrays are nested deeper than %d levels", TD_MAX_DEPTH);
        if (json_array_size (j) > TD_MAX_CONTAINER)
            return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                "an array has more than %d elements", TD_MAX_CONTAINER);
        size_t index;
        json_t *value;
        json_array_foreach ((json_t *) j, index, value)
            if (s_json_check (value, depth + 1, err))
                return -1;
    }
    else
    if (json_is_string (j) && json_string_length (j) > TD_MAX_STRING)
        return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
            "a string is longer than %d bytes", TD_MAX_STRING);
    return 0;
}

json_t *
td_json_parse (const char *text, size_t size, size_t max_size, td_error_t *err)
{
    size_t limit = max_size ? max_size : TD_MAX_JSON_BODY;
    if (size > limit) {
        td_error_set (err, TD_ERR_TOO_LARGE, NULL,
            "the JSON body of %zu bytes exceeds the limit of %zu bytes", size, limit);
        return NULL;
    }
    if (!text || size == 0) {
        td_error_set (err, TD_ERR_INVALID_INPUT, NULL, "the JSON body is empty");
        return NULL;
    }
    json_error_t jerr;
    json_t *j = json_loadb (text, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!j) {
        td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
            "invalid JSON at line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
        return NULL;
    }
    if (s_json_check (j, 0, err)) {
        json_decref (j);
        return NULL;
    }
    return j;
}

static int
s_to_mp (const json_t *j, msgpack_packer *pk, int depth, td_error_t *err)
{
    switch (json_typeof (j)) {
        case JSON_OBJECT: {
            if (depth + 1 > TD_MAX_DEPTH)
                return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                    "objects and arrays are nested deeper than %d levels", TD_MAX_DEPTH);
            size_t n = json_object_size (j);
            if (n > TD_MAX_CONTAINER)
                return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                    "an object has more than %d members", TD_MAX_CONTAINER);
            if (msgpack_pack_map (pk, n))
                goto nomem;
            const char *key;
            size_t key_len;
            json_t *value;
            json_object_keylen_foreach ((json_t *) j, key, key_len, value) {
                if (key_len > TD_MAX_KEY || !td_utf8_valid (key, key_len))
                    return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                        "an object key is not UTF-8 of at most %d bytes", TD_MAX_KEY);
                if (td_mp_pack_strn (pk, key, key_len))
                    goto nomem;
                if (s_to_mp (value, pk, depth + 1, err))
                    return -1;
            }
            return 0;
        }
        case JSON_ARRAY: {
            if (depth + 1 > TD_MAX_DEPTH)
                return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                    "objects and arrays are nested deeper than %d levels", TD_MAX_DEPTH);
            size_t n = json_array_size (j);
            if (n > TD_MAX_CONTAINER)
                return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                    "an array has more than %d elements", TD_MAX_CONTAINER);
            if (msgpack_pack_array (pk, n))
                goto nomem;
            for (size_t i = 0; i < n; i++)
                if (s_to_mp (json_array_get (j, i), pk, depth + 1, err))
                    return -1;
            return 0;
        }
        case JSON_STRING: {
            const char *s = json_string_value (j);
            size_t len = json_string_length (j);
            if (len > TD_MAX_STRING)
                return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                    "a string is longer than %d bytes", TD_MAX_STRING);
            if (!td_utf8_valid (s, len))
                return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                    "a string is not valid UTF-8");
            if (td_mp_pack_strn (pk, s, len))
                goto nomem;
            return 0;
        }
        case JSON_INTEGER:
            if (msgpack_pack_int64 (pk, json_integer_value (j)))
                goto nomem;
            return 0;
        case JSON_REAL:
            if (msgpack_pack_double (pk, json_real_value (j)))
                goto nomem;
            return 0;
        case JSON_TRUE:
            if (msgpack_pack_true (pk))
                goto nomem;
            return 0;
        case JSON_FALSE:
            if (msgpack_pack_false (pk))
                goto nomem;
            return 0;
        case JSON_NULL:
            if (msgpack_pack_nil (pk))
                goto nomem;
            return 0;
    }
    return td_error_set (err, TD_ERR_INTERNAL, NULL, "unknown JSON type");
nomem:
    return td_error_set (err, TD_ERR_INTERNAL, NULL, "out of memory while packing");
}

int
td_json_to_mp (const json_t *j, msgpack_packer *pk, td_error_t *err)
{
    if (!j || !pk)
        return td_error_set (err, TD_ERR_INTERNAL, NULL, "no JSON value or no packer");
    return s_to_mp (j, pk, 0, err);
}

static json_t *
s_base64 (const char *data, size_t size, td_error_t *err)
{
    size_t b64_size = sodium_base64_ENCODED_LEN (size, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = (char *) malloc (b64_size);
    if (!b64) {
        td_error_set (err, TD_ERR_INTERNAL, NULL, "out of memory while converting");
        return NULL;
    }
    sodium_bin2base64 (b64, b64_size, (const unsigned char *) data, size,
                       sodium_base64_VARIANT_ORIGINAL);
    json_t *s = json_string (b64);
    free (b64);
    if (!s)
        td_error_set (err, TD_ERR_INTERNAL, NULL, "out of memory while converting");
    return s;
}

static json_t *
s_to_json (const msgpack_object *o, int depth, td_error_t *err)
{
    json_t *j = NULL;
    switch (o->type) {
        case MSGPACK_OBJECT_NIL:
            j = json_null ();
            break;
        case MSGPACK_OBJECT_BOOLEAN:
            j = json_boolean (o->via.boolean);
            break;
        case MSGPACK_OBJECT_POSITIVE_INTEGER:
            if (o->via.u64 > (uint64_t) INT64_MAX) {
                td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                    "the integer %llu is too large for JSON",
                    (unsigned long long) o->via.u64);
                return NULL;
            }
            j = json_integer ((json_int_t) o->via.u64);
            break;
        case MSGPACK_OBJECT_NEGATIVE_INTEGER:
            j = json_integer ((json_int_t) o->via.i64);
            break;
        case MSGPACK_OBJECT_FLOAT32:
        case MSGPACK_OBJECT_FLOAT64:
            if (!isfinite (o->via.f64)) {
                td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                    "a number is infinite or not a number, which JSON cannot carry");
                return NULL;
            }
            j = json_real (o->via.f64);
            break;
        case MSGPACK_OBJECT_STR:
            if (o->via.str.size > TD_MAX_STRING) {
                td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                    "a string is longer than %d bytes", TD_MAX_STRING);
                return NULL;
            }
            //  msgpack-c may leave ptr NULL for an empty string; jansson wants a pointer.
            j = json_stringn (o->via.str.size ? o->via.str.ptr : "", o->via.str.size);
            if (!j) {
                td_error_set (err, TD_ERR_INVALID_INPUT, NULL, "a string is not valid UTF-8");
                return NULL;
            }
            return j;
        case MSGPACK_OBJECT_BIN:
            if (o->via.bin.size > TD_MAX_STRING) {
                td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                    "a binary value is longer than %d bytes", TD_MAX_STRING);
                return NULL;
            }
            return s_base64 (o->via.bin.size ? o->via.bin.ptr : "", o->via.bin.size, err);
        case MSGPACK_OBJECT_EXT:
            if (o->via.ext.type == TD_MP_EXT_JSON && o->via.ext.size <= TD_MAX_STRING) {
                json_error_t jerr;
                j = o->via.ext.size? json_loadb (o->via.ext.ptr, o->via.ext.size,
                                                 JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr)
                                   : NULL;
                if (!j) {
                    td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                        "a JSON text value is not valid JSON");
                    return NULL;
                }
                if (s_json_check (j, depth, err)) {
                    json_decref (j);
                    return NULL;
                }
                return j;
            }
            td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                "msgpack extension types have no JSON form");
            return NULL;
        case MSGPACK_OBJECT_ARRAY: {
            if (depth + 1 > TD_MAX_DEPTH) {
                td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                    "maps and arrays are nested deeper than %d levels", TD_MAX_DEPTH);
                return NULL;
            }
            j = json_array ();
            if (!j)
                break;
            for (uint32_t i = 0; i < o->via.array.size; i++) {
                json_t *item = s_to_json (&o->via.array.ptr [i], depth + 1, err);
                if (!item || json_array_append_new (j, item)) {
                    if (item)
                        td_error_set (err, TD_ERR_INTERNAL, NULL, "out of memory while converting");
                    json_decref (j);
                    return NULL;
                }
            }
            return j;
        }
        case MSGPACK_OBJECT_MAP: {
            if (depth + 1 > TD_MAX_DEPTH) {
                td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                    "maps and arrays are nested deeper than %d levels", TD_MAX_DEPTH);
                return NULL;
            }
            j = json_object ();
            if (!j)
                break;
            for (uint32_t i = 0; i < o->via.map.size; i++) {
                const msgpack_object *k = &o->via.map.ptr [i].key;
                const char *kptr = k->type == MSGPACK_OBJECT_STR && k->via.str.size
                                 ? k->via.str.ptr : "";
                if (k->type != MSGPACK_OBJECT_STR || k->via.str.size > TD_MAX_KEY
                ||  !td_utf8_valid (kptr, k->via.str.size)) {
                    td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                        "map keys must be UTF-8 strings of at most %d bytes", TD_MAX_KEY);
                    json_decref (j);
                    return NULL;
                }
                if (k->via.str.size && memchr (kptr, 0, k->via.str.size)) {
                    td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                        "map keys must not contain NUL bytes");
                    json_decref (j);
                    return NULL;
                }
                if (json_object_getn (j, kptr, k->via.str.size)) {
                    td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                        "a map has the key '%.*s' more than once",
                        (int) (k->via.str.size > 64 ? 64 : k->via.str.size), kptr);
                    json_decref (j);
                    return NULL;
                }
                json_t *value = s_to_json (&o->via.map.ptr [i].val, depth + 1, err);
                if (!value) {
                    json_decref (j);
                    return NULL;
                }
                if (json_object_setn_new (j, kptr, k->via.str.size, value)) {
                    td_error_set (err, TD_ERR_INTERNAL, NULL, "out of memory while converting");
                    json_decref (j);
                    return NULL;
                }
            }
            return j;
        }
        default:
            td_error_set (err, TD_ERR_INVALID_INPUT, NULL, "unknown msgpack type %d",
                          (int) o->type);
            return NULL;
    }
    if (!j)
        td_error_set (err, TD_ERR_INTERNAL, NULL, "out of memory while converting");
    return j;
}

json_t *
td_mp_to_json (const msgpack_object *o, td_error_t *err)
{
    if (!o) {
        td_error_set (err, TD_ERR_INTERNAL, NULL, "no msgpack object");
        return NULL;
    }
    return s_to_json (o, 0, err);
}

json_t *
td_mp_bytes_to_json (const void *data, size_t size, td_error_t *err)
{
    if (td_mp_check (data, size, err))
        return NULL;
    msgpack_zone zone;
    if (!msgpack_zone_init (&zone, size * 4 < 1024 ? 1024 : size * 4 > 65536 ? 65536 : size * 4)) {
        td_error_set (err, TD_ERR_INTERNAL, NULL, "out of memory while converting");
        return NULL;
    }
    msgpack_object root;
    size_t off = 0;
    json_t *j = NULL;
    if (msgpack_unpack ((const char *) data, size, &off, &zone, &root) == MSGPACK_UNPACK_SUCCESS)
        j = s_to_json (&root, 0, err);
    else
        td_error_set (err, TD_ERR_INVALID_INPUT, NULL, "the msgpack value could not be decoded");
    msgpack_zone_destroy (&zone);
    return j;
}

json_t *
td_json_error (td_errcode_t code, const char *message, const char *field)
{
    if (!message || !*message)
        message = td_errcode_message (code);
    json_t *msg = json_string (message);
    if (!msg) {
        //  Not UTF-8 (or out of memory): send a cleaned copy rather than nothing.
        char *copy = strdup (message);
        if (copy) {
            td_utf8_sanitize (copy);
            msg = json_string (copy);
            free (copy);
        }
        if (!msg)
            msg = json_string (td_errcode_message (code));
    }
    json_t *inner = json_object ();
    json_t *outer = json_object ();
    if (!msg || !inner || !outer
    ||  json_object_set_new (inner, "code", json_string (td_errcode_name (code)))) {
        json_decref (msg);
        json_decref (inner);
        json_decref (outer);
        return NULL;
    }
    if (json_object_set_new (inner, "message", msg)) {     //  msg is consumed either way
        json_decref (inner);
        json_decref (outer);
        return NULL;
    }
    if (field && *field) {
        json_t *f = json_string (field);
        if (!f) {
            char *copy = strdup (field);
            if (copy) {
                td_utf8_sanitize (copy);
                f = json_string (copy);
                free (copy);
            }
        }
        if (f && json_object_set_new (inner, "field", f)) {
            json_decref (inner);
            json_decref (outer);
            return NULL;
        }
    }
    if (json_object_set_new (outer, "error", inner)) {
        json_decref (outer);
        return NULL;
    }
    return outer;
}
