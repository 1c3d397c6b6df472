/*  td_mp — the msgpack validator that stands in front of msgpack-c, and small object helpers.
 *
 *  msgpack-c trusts the counts it reads: a 5-byte array32 header claiming 4 billion entries makes
 *  it try to allocate 64 GB, and it accepts any key type, ext types and invalid UTF-8. td_mp_check
 *  walks the raw bytes first, without allocating, so only bytes that obey td_limits.h reach it.
 *
 *  Invariants of the walker (iterative; a fixed stack of TD_MAX_DEPTH + 1 entries):
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
#include "td_utf8.h"

static uint32_t
s_be (const uint8_t *p, int n)
{
    uint32_t v = 0;
    for (int i = 0; i < n; i++)
        v = (v << 8) | p [i];
    return v;
}

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

    const uint8_t *p = (const uint8_t *) data;
    uint32_t left [TD_MAX_DEPTH + 1];
    bool is_map [TD_MAX_DEPTH + 1];
    int top = 0;
    left [0] = 1;
    is_map [0] = false;
    size_t pos = 0;

    for (;;) {
        while (top > 0 && left [top] == 0)
            top--;
        if (top == 0 && left [0] == 0)
            break;
        bool is_key = is_map [top] && (left [top] % 2 == 0);
        left [top]--;

        if (pos >= size)
            return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                "malformed msgpack: message ends early at byte %zu", pos);
        size_t at = pos;
        uint8_t b = p [pos++];
        size_t avail = size - pos;

        int lenbytes = 0;           //  bytes of a length/count field that follows
        size_t payload = 0;         //  fixed payload of a scalar
        enum { K_SCALAR, K_STR, K_BIN, K_ARRAY, K_MAP, K_EXT } kind = K_SCALAR;
        uint32_t n = 0;

        if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
            ;
        else
        if (b <= 0x8f) { kind = K_MAP; n = b & 0x0f; }
        else
        if (b <= 0x9f) { kind = K_ARRAY; n = b & 0x0f; }
        else
        if (b <= 0xbf) { kind = K_STR; n = b & 0x1f; }
        else
        switch (b) {
            case 0xc4: kind = K_BIN; lenbytes = 1; break;
            case 0xc5: kind = K_BIN; lenbytes = 2; break;
            case 0xc6: kind = K_BIN; lenbytes = 4; break;
            case 0xca: payload = 4; break;
            case 0xcb: payload = 8; break;
            case 0xcc: case 0xd0: payload = 1; break;
            case 0xcd: case 0xd1: payload = 2; break;
            case 0xce: case 0xd2: payload = 4; break;
            case 0xcf: case 0xd3: payload = 8; break;
            case 0xd9: kind = K_STR; lenbytes = 1; break;
            case 0xda: kind = K_STR; lenbytes = 2; break;
            case 0xdb: kind = K_STR; lenbytes = 4; break;
            case 0xdc: kind = K_ARRAY; lenbytes = 2; break;
            case 0xdd: kind = K_ARRAY; lenbytes = 4; break;
            case 0xde: kind = K_MAP; lenbytes = 2; break;
            case 0xdf: kind = K_MAP; lenbytes = 4; break;
            case 0xc7: kind = K_EXT; lenbytes = 1; break;
            case 0xc8: kind = K_EXT; lenbytes = 2; break;
            case 0xc9: kind = K_EXT; lenbytes = 4; break;
            case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
                kind = K_EXT;
                n = 1u << (b - 0xd4);
                break;
            default:            //  0xc1, never used
                return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                    "malformed msgpack: invalid type byte 0x%02x at byte %zu", b, at);
        }
        if (is_key && kind != K_STR)
            return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                "map keys must be strings (byte %zu)", at);
        if (kind == K_EXT) {
            //  its type byte follows the length; only JSON text is taken
            size_t tpos = pos + (size_t) lenbytes;
            if (tpos >= size || (uint8_t) p [tpos] != TD_MP_EXT_JSON)
                return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                    "msgpack extension types are not accepted (byte %zu)", at);
        }
        if (lenbytes) {
            if (avail < (size_t) lenbytes)
                return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                    "malformed msgpack: message ends early at byte %zu", size);
            n = s_be (p + pos, lenbytes);
            pos += lenbytes;
            avail -= lenbytes;
        }
        switch (kind) {
            case K_SCALAR:
                if (avail < payload)
                    return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                        "malformed msgpack: message ends early at byte %zu", size);
                pos += payload;
                break;
            case K_EXT:             //  the payload is JSON text, checked as a str
            case K_STR:
            case K_BIN:
                if (kind == K_EXT) {
                    pos++;          //  the type byte, checked above
                    avail--;
                }
                if (n > TD_MAX_STRING)
                    return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                        "a string or binary value of %u bytes exceeds the limit of %d bytes",
                        n, TD_MAX_STRING);
                if (is_key && n > TD_MAX_KEY)
                    return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                        "a map key of %u bytes exceeds the limit of %d bytes", n, TD_MAX_KEY);
                if (avail < n)
                    return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                        "malformed msgpack: a value of %u bytes at byte %zu runs past the end",
                        n, at);
                if (kind != K_BIN && !td_utf8_valid ((const char *) p + pos, n))
                    return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                        "a string at byte %zu is not valid UTF-8", at);
                pos += n;
                break;
            case K_ARRAY:
            case K_MAP: {
                if (n > TD_MAX_CONTAINER)
                    return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                        "a map or array of %u entries exceeds the limit of %d", n,
                        TD_MAX_CONTAINER);
                uint64_t elements = kind == K_MAP ? 2 * (uint64_t) n : n;
                if (elements > avail)
                    return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                        "malformed msgpack: a container at byte %zu claims more entries "
                        "than bytes remain", at);
                if (top + 1 > max_depth)
                    return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                        "maps and arrays are nested deeper than %d levels", max_depth);
                if (elements > 0) {
                    top++;
                    left [top] = (uint32_t) elements;
                    is_map [top] = kind == K_MAP;
                }
                break;
            }
        }
    }
    if (pos != size)
        return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
            "malformed msgpack: %zu trailing bytes after the object", size - pos);
    return 0;
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
