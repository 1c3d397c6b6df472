/*  td_mp — the msgpack validator that stands in front of msgpack-c, and small object helpers.
 *
 *  msgpack-c trusts the counts it reads: a 5-byte array32 header claiming 4 billion entries makes
 *  it try to allocate 64 GB, and it accepts any key type, ext types and invalid UTF-8. td_mp_check
 *  walks the raw bytes first, without allocating, so only bytes that obey td_limits.h reach it.
 *
 *  Invariants of the walker (td_mp_walk.h, shared with td_peek.c; iterative; a fixed stack of
 *  TD_MAX_DEPTH + 1 entries):
 *    - stack[0] is a pseudo-container holding the one top-level object; stack[d] is the container
 *      opened at depth d, holding the number of elements still to read (2 per map entry);
 *    - an element of a map is a key when its remaining count is even before it is read;
 *    - a container's element count never exceeds the bytes that follow its header, since every
 *      element takes at least one byte; this bounds what msgpack_unpack will allocate;
 *    - every str is valid UTF-8; keys are str of at most TD_MAX_KEY bytes; 0xc1 refused; ext
 *      refused except type TD_MP_EXT_JSON ('J', JSON text passed through: a value, never a key,
 *      of at most TD_MAX_STRING bytes of valid UTF-8, checked like a str; PROTOCOL.md);
 *    - the walk ends exactly at the end of the buffer (one object, no trailing bytes).
 *  A container beyond depth TD_MAX_DEPTH is refused even when empty, which keeps us stricter
 *  than msgpack-c's own 32-entry stack.
 */
#include <string.h>
#include "td_mp.h"
#include "td_limits.h"
#include "td_mp_walk.h"

int
td_mp_check (const void *data, size_t size, td_error_t *err)
{
    return td_mp_check_depth (data, size, TD_MAX_DEPTH, err);
}

int
td_mp_check_depth (const void *data, size_t size, int max_depth, td_error_t *err)
{
    if (max_depth < 1 || max_depth > TD_MAX_DEPTH)
        max_depth = TD_MAX_DEPTH;
    if (size > TD_MAX_MESSAGE)
        return td_error_set (err, TD_ERR_TOO_LARGE, NULL,
            "message of %zu bytes exceeds the limit of %d bytes", size, TD_MAX_MESSAGE);
    if (size == 0 || !data)
        return td_error_set (err, TD_ERR_INVALID_INPUT, NULL, "message is empty");

    td_mp_walk_t w;
    td_mp_walk_init (&w, (const uint8_t *) data, size, max_depth);
    bool is_key;
    td_mp_elem_t e;
    int rc;
    while ((rc = td_mp_walk_begin (&w, &is_key, err)) == 1)
        if (td_mp_walk_elem (&w, is_key, &e, err))
            return -1;
    return rc < 0? -1: td_mp_walk_end (&w, err);
}

const msgpack_object *
td_mp_get (const msgpack_object *o, const char *key)
{
    if (!o || o->type != MSGPACK_OBJECT_MAP || !key)
        return NULL;
    size_t klen = strlen (key);
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object *k = &o->via.map.ptr [i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == klen
        &&  (klen == 0 || memcmp (k->via.str.ptr, key, klen) == 0))
            return &o->via.map.ptr [i].val;
    }
    return NULL;
}

bool
td_mp_str (const msgpack_object *o, const char **s, size_t *len)
{
    if (!o || o->type != MSGPACK_OBJECT_STR)
        return false;
    if (s)      //  msgpack-c may leave ptr NULL for an empty string
        *s = o->via.str.size ? o->via.str.ptr : "";
    if (len)
        *len = o->via.str.size;
    return true;
}

bool
td_mp_streq (const msgpack_object *o, const char *s)
{
    if (!o || o->type != MSGPACK_OBJECT_STR || !s)
        return false;
    size_t len = strlen (s);
    return o->via.str.size == len && (len == 0 || memcmp (o->via.str.ptr, s, len) == 0);
}

char *
td_mp_strdup (const msgpack_object *o)
{
    if (!o || o->type != MSGPACK_OBJECT_STR)
        return NULL;
    size_t len = o->via.str.size;
    if (len && memchr (o->via.str.ptr, 0, len))
        return NULL;
    char *copy = (char *) malloc (len + 1);
    if (!copy)
        return NULL;
    if (len)
        memcpy (copy, o->via.str.ptr, len);
    copy [len] = 0;
    return copy;
}

bool
td_mp_strcpy (const msgpack_object *o, char *buf, size_t bufsize)
{
    if (!o || o->type != MSGPACK_OBJECT_STR || !buf || bufsize == 0)
        return false;
    size_t len = o->via.str.size;
    if (len + 1 > bufsize || (len && memchr (o->via.str.ptr, 0, len)))
        return false;
    if (len)
        memcpy (buf, o->via.str.ptr, len);
    buf [len] = 0;
    return true;
}

bool
td_mp_int (const msgpack_object *o, int64_t *v)
{
    if (!o)
        return false;
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        if (o->via.u64 > (uint64_t) INT64_MAX)
            return false;
        if (v)
            *v = (int64_t) o->via.u64;
        return true;
    }
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        if (v)
            *v = o->via.i64;
        return true;
    }
    return false;
}

bool
td_mp_bool (const msgpack_object *o, bool *v)
{
    if (!o || o->type != MSGPACK_OBJECT_BOOLEAN)
        return false;
    if (v)
        *v = o->via.boolean;
    return true;
}

bool
td_mp_number (const msgpack_object *o, double *v)
{
    if (!o)
        return false;
    double d;
    switch (o->type) {
        case MSGPACK_OBJECT_POSITIVE_INTEGER: d = (double) o->via.u64; break;
        case MSGPACK_OBJECT_NEGATIVE_INTEGER: d = (double) o->via.i64; break;
        case MSGPACK_OBJECT_FLOAT32:
        case MSGPACK_OBJECT_FLOAT64:          d = o->via.f64; break;
        default:
            return false;
    }
    if (v)
        *v = d;
    return true;
}

int
td_mp_pack_str (msgpack_packer *pk, const char *s)
{
    if (!s)
        return msgpack_pack_nil (pk);
    return td_mp_pack_strn (pk, s, strlen (s));
}

int
td_mp_pack_strn (msgpack_packer *pk, const char *s, size_t len)
{
    if (!s)
        return msgpack_pack_nil (pk);
    if (msgpack_pack_str (pk, len) != 0)
        return -1;
    return msgpack_pack_str_body (pk, s, len);
}

int
td_mp_pack_kv_str (msgpack_packer *pk, const char *key, const char *value)
{
    if (td_mp_pack_str (pk, key) != 0)
        return -1;
    return td_mp_pack_str (pk, value);
}

int
td_mp_pack_kv_int (msgpack_packer *pk, const char *key, int64_t value)
{
    if (td_mp_pack_str (pk, key) != 0)
        return -1;
    return msgpack_pack_int64 (pk, value);
}

int
td_mp_pack_kv_bool (msgpack_packer *pk, const char *key, bool value)
{
    if (td_mp_pack_str (pk, key) != 0)
        return -1;
    return value ? msgpack_pack_true (pk) : msgpack_pack_false (pk);
}

int
td_mp_pack_raw (msgpack_packer *pk, const void *data, size_t size)
{
    if (!data)
        return msgpack_pack_nil (pk);
    if (size == 0)
        return -1;                  //  not one object
    return pk->callback (pk->data, (const char *) data, size);
}
