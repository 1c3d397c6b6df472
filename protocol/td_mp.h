/*  td_mp — the msgpack validator and small helpers over msgpack-c objects.
 *
 *  td_mp_check walks raw bytes before msgpack-c unpacks them: exactly one object filling the
 *  buffer, depth, container counts (a count can never exceed the bytes left, so a 5-byte input
 *  cannot make the unpacker allocate gigabytes), string sizes, map keys that are strings, UTF-8
 *  in every str. Only checked bytes reach msgpack_unpack.
 */
#ifndef TD_MP_H
#define TD_MP_H

#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>
#include "td_error.h"

//  The one msgpack extension type tutord accepts: its payload is JSON text (UTF-8, one JSON value)
//  that converters take as that value and the JSON writer copies as is (PROTOCOL.md, "JSON
//  text"). Whoever packs it (td_mp_pack_json_text) guarantees it is valid JSON.
#define TD_MP_EXT_JSON  0x4A

//  0 when data holds one valid object within the limits of td_limits.h; else -1 and err set
//  (invalid_input, or too_large when size > TD_MAX_MESSAGE).
int td_mp_check (const void *data, size_t size, td_error_t *err);
//  Added: the same check with a tighter nesting bound (1..TD_MAX_DEPTH), for a value that will be
//  embedded max_depth levels below the top (a body inside an envelope map: TD_MAX_DEPTH - 1).
int td_mp_check_depth (const void *data, size_t size, int max_depth, td_error_t *err);

//  Value of key in a map object; NULL when o is not a map or has no such key.
const msgpack_object *td_mp_get (const msgpack_object *o, const char *key);
//  True when o is a str; sets *s (not NUL-terminated) and *len.
bool td_mp_str (const msgpack_object *o, const char **s, size_t *len);
//  True when o is a str equal to s.
bool td_mp_streq (const msgpack_object *o, const char *s);
//  Heap copy (NUL-terminated) of a str object; NULL when not a str or it holds a NUL byte.
char *td_mp_strdup (const msgpack_object *o);
//  Copy a str object into buf (NUL-terminated); false when not a str, holds NUL, or too long.
bool td_mp_strcpy (const msgpack_object *o, char *buf, size_t bufsize);
//  True when o is an integer that fits int64_t.
bool td_mp_int (const msgpack_object *o, int64_t *v);
//  True when o is a bool.
bool td_mp_bool (const msgpack_object *o, bool *v);
//  True when o is a number (int or float).
bool td_mp_number (const msgpack_object *o, double *v);

//  Packing helpers; return msgpack-c's 0 / -1. NULL packs nil.
int td_mp_pack_str (msgpack_packer *pk, const char *s);
int td_mp_pack_strn (msgpack_packer *pk, const char *s, size_t len);
//  Packs the key then the value.
int td_mp_pack_kv_str (msgpack_packer *pk, const char *key, const char *value);
int td_mp_pack_kv_int (msgpack_packer *pk, const char *key, int64_t value);
int td_mp_pack_kv_bool (msgpack_packer *pk, const char *key, bool value);
//  Appends already-encoded msgpack bytes (one object) as a value; nil when data is NULL.
int td_mp_pack_raw (msgpack_packer *pk, const void *data, size_t size);

#endif
