/*  fuzz_json_parse — libFuzzer target for the JSON boundary of the bridge.
 *
 *  Invariants asserted (abort on violation):
 *    - a refusal carries invalid_input or too_large and a non-empty UTF-8 message, and that
 *      message always makes a CONTRACT error body (td_json_error never fails on it);
 *    - anything td_json_parse accepts packs to msgpack (td_json_to_mp) that td_mp_check accepts,
 *      and converts back (td_mp_bytes_to_json) to a value json_equal to the parsed one;
 *    - the value re-serialised as JSON text parses again to an equal value.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "td_json.h"
#include "td_mp.h"
#include "td_utf8.h"

#define CHECK(cond) do { if (!(cond)) { \
    fprintf (stderr, "invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); abort (); } } while (0)

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    td_error_t err;
    td_error_clear (&err);
    json_t *j = td_json_parse ((const char *) data, size, 0, &err);
    if (!j) {
        CHECK (err.code == TD_ERR_INVALID_INPUT || err.code == TD_ERR_TOO_LARGE);
        CHECK (err.message [0] != 0);
        CHECK (td_utf8_valid (err.message, strlen (err.message)));
        json_t *body = td_json_error (err.code, err.message, err.field);
        CHECK (body != NULL);
        json_decref (body);
        return 0;
    }
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    CHECK (td_json_to_mp (j, &pk, &err) == 0);
    CHECK (td_mp_check (sbuf.data, sbuf.size, &err) == 0);
    json_t *back = td_mp_bytes_to_json (sbuf.data, sbuf.size, &err);
    CHECK (back != NULL);
    CHECK (json_equal (j, back));

    char *text = json_dumps (back, JSON_ENCODE_ANY | JSON_COMPACT);
    CHECK (text != NULL);
    json_t *again = td_json_parse (text, strlen (text), strlen (text), &err);
    CHECK (again != NULL);
    CHECK (json_equal (j, again));

    free (text);
    json_decref (again);
    json_decref (back);
    json_decref (j);
    msgpack_sbuffer_destroy (&sbuf);
    return 0;
}
