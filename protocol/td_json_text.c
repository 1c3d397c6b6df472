/*  td_json_text — one msgpack object straight to compact JSON text, without a jansson tree.
 *
 *  Every HTTP reply crosses the bridge as msgpack and leaves as JSON. Building a jansson tree
 *  (one allocation per value, a hash table per object) and dumping it cost two thirds of the
 *  bridge's CPU on large replies such as a whole course (bench_catalog). This writer walks the
 *  msgpack object once into a growing buffer and produces exactly the bytes
 *  json_dumps (td_mp_to_json (o), JSON_COMPACT) would, with the same refusals (non-string keys,
 *  duplicate keys, NUL in keys, invalid UTF-8, non-finite numbers, ext types, depth and size
 *  limits) and the same messages; tests/fuzz/fuzz_mp_check.c holds it to that on any input.
 *
 *  The one exception is on purpose: an ext TD_MP_EXT_JSON value ('J', td_mp.h) is JSON text that
 *  its producer already wrote (the catalog's rendered course trees), and this writer copies it
 *  as is -- that copy is the point, a 79 KB tree costs a memcpy instead of a walk. The tree
 *  conversion parses it instead; for valid compact JSON both give the same value, and the
 *  producer guarantees the text is valid JSON (td_mp_pack_json_text).
 */
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "td_json.h"
#include "td_limits.h"
#include "td_mp.h"
#include "td_utf8.h"

typedef struct {
    char *data;
    size_t len, cap;
    bool oom;
    bool utf8_known;                //  the input passed td_mp_check: every str is UTF-8
} s_buf_t;

static bool
s_reserve (s_buf_t *b, size_t more)
{
    if (b->oom)
        return false;
    if (b->len + more + 1 <= b->cap)
        return true;
    size_t cap = b->cap? b->cap: 256;
    while (cap < b->len + more + 1)
        cap *= 2;
    char *grown = realloc (b->data, cap);
    if (!grown) {
        b->oom = true;
        return false;
    }
    b->data = grown;
    b->cap = cap;
    return true;
}

static void
s_put (s_buf_t *b, const char *s, size_t n)
{
    if (s_reserve (b, n)) {
        memcpy (b->data + b->len, s, n);
        b->len += n;
    }
}

static void
s_putc (s_buf_t *b, char c)
{
    if (s_reserve (b, 1))
        b->data [b->len++] = c;
}

//  A JSON string of valid UTF-8 bytes, escaped as jansson escapes it: quote, backslash and
//  control characters (short forms where JSON has them, else \u00XX), nothing else.
static void
s_string (s_buf_t *b, const char *s, size_t n)
{
    if (!s_reserve (b, n + 2))
        return;
    b->data [b->len++] = '"';
    size_t run = 0;                 //  start of the bytes copied as they are
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char) s [i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        s_put (b, s + run, i - run);
        run = i + 1;
        char esc [8];
        switch (c) {
            case '"':  s_put (b, "\\\"", 2); break;
            case '\\': s_put (b, "\\\\", 2); break;
            case '\b': s_put (b, "\\b", 2); break;
            case '\f': s_put (b, "\\f", 2); break;
            case '\n': s_put (b, "\\n", 2); break;
            case '\r': s_put (b, "\\r", 2); break;
            case '\t': s_put (b, "\\t", 2); break;
            default:
                snprintf (esc, sizeof esc, "\\u%04X", c);
                s_put (b, esc, 6);
        }
    }
    s_put (b, s + run, n - run);
    s_putc (b, '"');
}

//  A real as jansson writes it: %.17g, ".0" when it would read back as an integer, and the
//  exponent without '+' or leading zeros.
static void
s_real (s_buf_t *b, double v)
{
    char buf [64];
    int n = snprintf (buf, sizeof buf, "%.17g", v);
    if (n < 0 || n >= (int) sizeof buf - 3) {
        b->oom = true;
        return;
    }
    for (char *p = buf; *p; p++)
        if (*p == ',')
            *p = '.';               //  a locale's decimal comma
    size_t len = (size_t) n;
    if (strspn (buf, "0123456789-") == len) {
        memcpy (buf + len, ".0", 3);
        len += 2;
    }
    char *e = strchr (buf, 'e');
    if (e) {
        char *start = e + 1, *end = start + 1;
        if (*start == '-')
            start++;
        while (*end == '0')
            end++;
        if (end != start) {
            memmove (start, end, len - (size_t) (end - buf) + 1);
            len -= (size_t) (end - start);
        }
    }
    s_put (b, buf, len);
}

static bool
s_key_valid (const msgpack_object *k, bool utf8_known)
{
    const char *kptr = k->type == MSGPACK_OBJECT_STR && k->via.str.size? k->via.str.ptr: "";
    return k->type == MSGPACK_OBJECT_STR && k->via.str.size <= TD_MAX_KEY
        && (utf8_known || td_utf8_valid (kptr, k->via.str.size))
        && !(k->via.str.size && memchr (kptr, 0, k->via.str.size));
}

static bool
s_key_eq (const msgpack_object *a, const msgpack_object *b)
{
    return a->via.str.size == b->via.str.size
        && (a->via.str.size == 0 || memcmp (a->via.str.ptr, b->via.str.ptr, a->via.str.size) == 0);
}

typedef struct {
    const msgpack_object *key;
    uint32_t index;
} s_keyref_t;

static int
s_keyref_cmp (const void *a, const void *b)
{
    const s_keyref_t *x = a, *y = b;
    size_t xs = x->key->via.str.size, ys = y->key->via.str.size, n = xs < ys? xs: ys;
    int c = n? memcmp (x->key->via.str.ptr, y->key->via.str.ptr, n): 0;
    if (c)
        return c;
    if (xs != ys)
        return xs < ys? -1: 1;
    return x->index < y->index? -1: x->index > y->index;
}

//  The first index i < n whose key equals an earlier key (n when none): where a tree builder
//  inserting keys in order would find the key already there. -1 when out of memory.
static int64_t
s_first_duplicate (const msgpack_object_map *m, uint32_t n)
{
    if (n <= 16) {
        for (uint32_t i = 1; i < n; i++)
            for (uint32_t j = 0; j < i; j++)
                if (s_key_eq (&m->ptr [i].key, &m->ptr [j].key))
                    return i;
        return n;
    }
    s_keyref_t *refs = malloc ((size_t) n * sizeof *refs);
    if (!refs)
        return -1;
    for (uint32_t i = 0; i < n; i++)
        refs [i] = (s_keyref_t) { &m->ptr [i].key, i };
    qsort (refs, n, sizeof *refs, s_keyref_cmp);
    //  equal keys sit together in index order: each run's second index is where that key
    //  repeats first
    uint32_t first = n;
    for (uint32_t i = 1; i < n; i++)
        if (s_key_eq (refs [i].key, refs [i - 1].key)
        &&  (i < 2 || !s_key_eq (refs [i - 1].key, refs [i - 2].key))
        &&  refs [i].index < first)
            first = refs [i].index;
    free (refs);
    return first;
}

static int
s_value (s_buf_t *b, const msgpack_object *o, int depth, td_error_t *err)
{
    char num [32];
    switch (o->type) {
        case MSGPACK_OBJECT_NIL:
            s_put (b, "null", 4);
            return 0;
        case MSGPACK_OBJECT_BOOLEAN:
            if (o->via.boolean)
                s_put (b, "true", 4);
            else
                s_put (b, "false", 5);
            return 0;
        case MSGPACK_OBJECT_POSITIVE_INTEGER:
            if (o->via.u64 > (uint64_t) INT64_MAX)
                return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                    "the integer %llu is too large for JSON", (unsigned long long) o->via.u64);
            s_put (b, num, (size_t) snprintf (num, sizeof num, "%llu",
                                              (unsigned long long) o->via.u64));
            return 0;
        case MSGPACK_OBJECT_NEGATIVE_INTEGER:
            s_put (b, num, (size_t) snprintf (num, sizeof num, "%lld", (long long) o->via.i64));
            return 0;
        case MSGPACK_OBJECT_FLOAT32:
        case MSGPACK_OBJECT_FLOAT64:
            if (!isfinite (o->via.f64))
                return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                    "a number is infinite or not a number, which JSON cannot carry");
            s_real (b, o->via.f64);
            return 0;
        case MSGPACK_OBJECT_STR: {
            if (o->via.str.size > TD_MAX_STRING)
                return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                    "a string is longer than %d bytes", TD_MAX_STRING);
            const char *s = o->via.str.size? o->via.str.ptr: "";
            if (!b->utf8_known && !td_utf8_valid (s, o->via.str.size))
                return td_error_set (err, TD_ERR_INVALID_INPUT, NULL, "a string is not valid UTF-8");
            s_string (b, s, o->via.str.size);
            return 0;
        }
        case MSGPACK_OBJECT_BIN: {
            if (o->via.bin.size > TD_MAX_STRING)
                return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                    "a binary value is longer than %d bytes", TD_MAX_STRING);
            size_t n = sodium_base64_ENCODED_LEN (o->via.bin.size, sodium_base64_VARIANT_ORIGINAL);
            if (!s_reserve (b, n + 2))
                break;
            b->data [b->len++] = '"';
            sodium_bin2base64 (b->data + b->len, n, (const unsigned char *) (o->via.bin.size? o->via.bin.ptr: ""),
                               o->via.bin.size, sodium_base64_VARIANT_ORIGINAL);
            b->len += n - 1;        //  without the terminating NUL
            s_putc (b, '"');
            return 0;
        }
        case MSGPACK_OBJECT_EXT:
            if (o->via.ext.type == TD_MP_EXT_JSON && o->via.ext.size <= TD_MAX_STRING) {
                if (o->via.ext.size == 0
                ||  (!b->utf8_known && !td_utf8_valid (o->via.ext.ptr, o->via.ext.size)))
                    return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                        "a JSON text value is not valid JSON");
                s_put (b, o->via.ext.ptr, o->via.ext.size);
                return 0;
            }
            return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                "msgpack extension types have no JSON form");
        case MSGPACK_OBJECT_ARRAY:
            if (depth + 1 > TD_MAX_DEPTH)
                return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                    "maps and arrays are nested deeper than %d levels", TD_MAX_DEPTH);
            s_putc (b, '[');
            for (uint32_t i = 0; i < o->via.array.size; i++) {
                if (i)
                    s_putc (b, ',');
                if (s_value (b, &o->via.array.ptr [i], depth + 1, err) != 0)
                    return -1;
            }
            s_putc (b, ']');
            return 0;
        case MSGPACK_OBJECT_MAP: {
            if (depth + 1 > TD_MAX_DEPTH)
                return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                    "maps and arrays are nested deeper than %d levels", TD_MAX_DEPTH);
            //  errors in the order a tree builder meets them: per entry, a bad key, then a
            //  repeated key, then whatever is wrong inside the value
            uint32_t n = o->via.map.size, bad = n;
            for (uint32_t i = 0; i < n && bad == n; i++)
                if (!s_key_valid (&o->via.map.ptr [i].key, b->utf8_known))
                    bad = i;
            int64_t dup = s_first_duplicate (&o->via.map, bad);
            if (dup < 0) {
                b->oom = true;
                return 0;
            }
            s_putc (b, '{');
            for (uint32_t i = 0; i < n; i++) {
                const msgpack_object *k = &o->via.map.ptr [i].key;
                if (i == bad) {
                    if (k->type == MSGPACK_OBJECT_STR && k->via.str.size <= TD_MAX_KEY
                    &&  td_utf8_valid (k->via.str.size? k->via.str.ptr: "", k->via.str.size))
                        return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                            "map keys must not contain NUL bytes");
                    return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                        "map keys must be UTF-8 strings of at most %d bytes", TD_MAX_KEY);
                }
                if ((int64_t) i == dup)
                    return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                        "a map has the key '%.*s' more than once",
                        (int) (k->via.str.size > 64? 64: k->via.str.size),
                        k->via.str.size? k->via.str.ptr: "");
                if (i)
                    s_putc (b, ',');
                s_string (b, k->via.str.size? k->via.str.ptr: "", k->via.str.size);
                s_putc (b, ':');
                if (s_value (b, &o->via.map.ptr [i].val, depth + 1, err) != 0)
                    return -1;
            }
            s_putc (b, '}');
            return 0;
        }
        default:
            return td_error_set (err, TD_ERR_INVALID_INPUT, NULL, "unknown msgpack type %d",
                                 (int) o->type);
    }
    b->oom = true;
    return 0;
}

static char *
s_text (const msgpack_object *o, size_t *len, bool utf8_known, td_error_t *err)
{
    if (!o) {
        td_error_set (err, TD_ERR_INTERNAL, NULL, "no msgpack object");
        return NULL;
    }
    s_buf_t b = { NULL, 0, 0, false, utf8_known };
    if (s_value (&b, o, 0, err) != 0 || b.oom || !s_reserve (&b, 0)) {
        if (b.oom)
            td_error_set (err, TD_ERR_INTERNAL, NULL, "out of memory while converting");
        free (b.data);
        return NULL;
    }
    b.data [b.len] = 0;
    if (len)
        *len = b.len;
    return b.data;
}

char *
td_mp_to_json_text (const msgpack_object *o, size_t *len, td_error_t *err)
{
    return s_text (o, len, false, err);
}

char *
td_mp_to_json_text_checked (const msgpack_object *o, size_t *len, td_error_t *err)
{
    return s_text (o, len, true, err);
}

int
td_mp_pack_json_text (msgpack_packer *pk, const char *text, size_t len)
{
    if (!text || len == 0 || len > TD_MAX_STRING || len > UINT32_MAX)
        return -1;
    if (msgpack_pack_ext (pk, len, TD_MP_EXT_JSON) != 0)
        return -1;
    return msgpack_pack_ext_body (pk, text, len);
}
