/*  fuzz_mp_check — libFuzzer target for td_mp_check, the gate in front of msgpack_unpack.
 *
 *  Invariants asserted (abort on violation):
 *    - a refusal always carries a code (invalid_input or too_large) and a non-empty UTF-8 message;
 *    - anything accepted is accepted by msgpack_unpack, consuming exactly every byte, as a tree
 *      that re-packs into bytes td_mp_check accepts again (the checker is never looser than the
 *      unpacker, and the limits survive re-encoding);
 *    - when the accepted value converts to JSON, that JSON packs back to msgpack that passes the
 *      check and converts to an equal JSON value;
 *    - the direct writer (td_mp_to_json_text) gives byte for byte what dumping the tree gives,
 *      and refuses exactly what the tree conversion refuses, with the same message -- for every
 *      input without an ext TD_MP_EXT_JSON value (JSON text, copied as is by the writer and
 *      parsed by the tree conversion); with one, whenever the tree conversion accepts it the
 *      writer's text parses back to the same value.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "td_mp.h"
#include "td_json.h"
#include "td_utf8.h"

#define CHECK(cond) do { if (!(cond)) { \
    fprintf (stderr, "invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); abort (); } } while (0)

//  Does o hold an ext TD_MP_EXT_JSON value anywhere?
static bool
s_has_json_text (const msgpack_object *o)
{
    if (o->type == MSGPACK_OBJECT_EXT)
        return o->via.ext.type == TD_MP_EXT_JSON;
    if (o->type == MSGPACK_OBJECT_ARRAY) {
        for (uint32_t i = 0; i < o->via.array.size; i++)
            if (s_has_json_text (&o->via.array.ptr [i]))
                return true;
    }
    else
    if (o->type == MSGPACK_OBJECT_MAP)
        for (uint32_t i = 0; i < o->via.map.size; i++)
            if (s_has_json_text (&o->via.map.ptr [i].val))
                return true;
    return false;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    td_error_t err;
    td_error_clear (&err);
    if (td_mp_check (data, size, &err) != 0) {
        CHECK (err.code == TD_ERR_INVALID_INPUT || err.code == TD_ERR_TOO_LARGE);
        CHECK (err.message [0] != 0);
        CHECK (td_utf8_valid (err.message, strlen (err.message)));
        return 0;
    }
    msgpack_zone zone;
    CHECK (msgpack_zone_init (&zone, 1024));
    msgpack_object obj;
    size_t off = 0;
    CHECK (msgpack_unpack ((const char *) data, size, &off, &zone, &obj) == MSGPACK_UNPACK_SUCCESS);
    CHECK (off == size);

    //  Re-encoding keeps every limit.
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    CHECK (msgpack_pack_object (&pk, obj) == 0);
    CHECK (td_mp_check (sbuf.data, sbuf.size, &err) == 0);

    //  msgpack -> JSON -> msgpack -> JSON is stable.
    json_t *j = td_mp_to_json (&obj, &err);
    td_error_t terr;
    td_error_clear (&terr);
    size_t tlen = 0;
    char *text = td_mp_to_json_text (&obj, &tlen, &terr);
    if (s_has_json_text (&obj)) {
        //  JSON text copied as is: the same value, not necessarily the same bytes
        if (j) {
            CHECK (text);
            json_t *again = json_loadb (text, tlen, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
            CHECK (again && json_equal (again, j));
            json_decref (again);
        }
    }
    else
    if (j) {
        char *dumped = json_dumps (j, JSON_COMPACT | JSON_ENCODE_ANY);
        CHECK (dumped && text);
        CHECK (strlen (dumped) == tlen && memcmp (dumped, text, tlen) == 0);
        free (dumped);
    }
    else {
        CHECK (!text);
        CHECK (terr.code == err.code && strcmp (terr.message, err.message) == 0);
    }
    //  input that passed td_mp_check: the writer that trusts its UTF-8 writes the same bytes
    size_t clen = 0;
    char *checked = td_mp_to_json_text_checked (&obj, &clen, &terr);
    CHECK ((checked == NULL) == (text == NULL));
    CHECK (!checked || (clen == tlen && memcmp (checked, text, tlen) == 0));
    free (checked);
    free (text);
    if (j) {
        msgpack_sbuffer_clear (&sbuf);
        CHECK (td_json_to_mp (j, &pk, &err) == 0);
        CHECK (td_mp_check (sbuf.data, sbuf.size, &err) == 0);
        json_t *back = td_mp_bytes_to_json (sbuf.data, sbuf.size, &err);
        CHECK (back != NULL);
        CHECK (json_equal (j, back));
        json_decref (back);
        json_decref (j);
    }
    else
        CHECK (err.code == TD_ERR_INVALID_INPUT && err.message [0]);
    msgpack_sbuffer_destroy (&sbuf);
    msgpack_zone_destroy (&zone);
    return 0;
}
