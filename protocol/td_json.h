/*  td_json — JSON <-> msgpack with jansson, within the protocol's limits.
 *
 *  The bridge turns every HTTP/WebSocket JSON body into a msgpack body and every reply back.
 *  Mapping: object <-> map (string keys only), array <-> array, string <-> str, integer <-> int,
 *  real <-> float64, true/false <-> bool, null <-> nil. msgpack bin becomes a base64 string,
 *  non-string map keys and ext types are refused. Depth, sizes and counts obey td_limits.h;
 *  duplicate object keys are refused; invalid UTF-8 is refused.
 */
#ifndef TD_JSON_H
#define TD_JSON_H

#include <jansson.h>
#include <msgpack.h>
#include "td_error.h"

//  Parse a JSON text of at most max_size bytes (0 -> TD_MAX_JSON_BODY). NULL with err set
//  (invalid_input with line/column in the message, or too_large).
json_t *td_json_parse (const char *text, size_t size, size_t max_size, td_error_t *err);
//  Pack j as one msgpack object. 0, or -1 with err set.
int td_json_to_mp (const json_t *j, msgpack_packer *pk, td_error_t *err);
//  Convert one msgpack object to a new JSON value. NULL with err set.
json_t *td_mp_to_json (const msgpack_object *o, td_error_t *err);
//  One msgpack object straight to compact JSON text (malloc'd, NUL-terminated, *len bytes):
//  exactly what json_dumps (td_mp_to_json (o), JSON_COMPACT) gives, without building the tree
//  (td_json_text.c). NULL with err set, as td_mp_to_json.
char *td_mp_to_json_text (const msgpack_object *o, size_t *len, td_error_t *err);
//  The same for an object unpacked from bytes that passed td_mp_check (a decoded td_msg_t's
//  body): its strings are known to be UTF-8 and are not checked again.
char *td_mp_to_json_text_checked (const msgpack_object *o, size_t *len, td_error_t *err);
//  Pack text, which must be one valid JSON value in UTF-8 (written by a JSON writer, such as
//  json_dumps), as an ext TD_MP_EXT_JSON value: td_mp_to_json_text copies it as is, td_mp_to_json
//  parses it (PROTOCOL.md, "JSON text"). 0, or -1 (empty, over TD_MAX_STRING, packer failure).
int td_mp_pack_json_text (msgpack_packer *pk, const char *text, size_t len);
//  Convenience: encoded msgpack bytes -> JSON (validates with td_mp_check first).
json_t *td_mp_bytes_to_json (const void *data, size_t size, td_error_t *err);
//  The CONTRACT error body {"error":{"code","message","field"?}} as a new JSON object.
json_t *td_json_error (td_errcode_t code, const char *message, const char *field);

#endif
