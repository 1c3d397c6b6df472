/*  fuzz_msg_decode — libFuzzer target for td_msg_decode, all four kinds.
 *
 *  The first input byte picks the expected kind (request, reply, partial, event); the rest is the
 *  message. Invariants asserted (abort on violation):
 *    - a refusal carries invalid_input or too_large and a non-empty UTF-8 message;
 *    - an accepted message obeys its kind's rules as seen through the accessors (ids 1..TD_MAX_ID,
 *      valid names, status ranges, error code iff status >= 400, NUL-free strings);
 *    - rebuilding it with the constructor from what the accessors return succeeds, and decoding
 *      the rebuilt bytes gives the same fields and an equal body (decode and pack agree).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "td_msg.h"
#include "td_mp.h"
#include "td_utf8.h"

#define CHECK(cond) do { if (!(cond)) { \
    fprintf (stderr, "invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); abort (); } } while (0)

//  Pack one object into its own buffer (for body/auth/data).
static void
s_repack (const msgpack_object *o, msgpack_sbuffer *out)
{
    msgpack_sbuffer_init (out);
    msgpack_packer pk;
    msgpack_packer_init (&pk, out, msgpack_sbuffer_write);
    CHECK (msgpack_pack_object (&pk, *o) == 0);
}

//  Equal as encodings: msgpack_object_equal compares floats with ==, so a NaN body would never
//  equal itself; packing both (msgpack-c normalises integer widths) and comparing bytes does.
static bool
s_equal (const msgpack_object *a, const msgpack_object *b)
{
    msgpack_sbuffer x, y;
    s_repack (a, &x);
    s_repack (b, &y);
    bool same = x.size == y.size && memcmp (x.data, y.data, x.size) == 0;
    msgpack_sbuffer_destroy (&x);
    msgpack_sbuffer_destroy (&y);
    return same;
}

static void
s_check_id (const char *s)
{
    size_t len = strlen (s);
    CHECK (len >= 1 && len <= TD_MAX_ID);
    CHECK (td_utf8_valid (s, len));
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    td_msg_kind_t kind = (td_msg_kind_t) (data [0] % 4 + 1);
    td_error_t err;
    td_error_clear (&err);
    td_msg_t *msg = td_msg_decode (kind, data + 1, size - 1, &err);
    if (!msg) {
        CHECK (err.code == TD_ERR_INVALID_INPUT || err.code == TD_ERR_TOO_LARGE);
        CHECK (err.message [0] != 0);
        CHECK (td_utf8_valid (err.message, strlen (err.message)));
        return 0;
    }
    CHECK (td_msg_size (msg) == size - 1);
    CHECK (memcmp (td_msg_data (msg), data + 1, size - 1) == 0);
    CHECK (td_msg_body (msg) != NULL && td_msg_auth (msg) != NULL);
    s_check_id (td_msg_id (msg));
    s_check_id (td_msg_rid (msg));

    msgpack_sbuffer body, auth, out;
    s_repack (td_msg_body (msg), &body);
    s_repack (td_msg_auth (msg), &auth);
    msgpack_sbuffer_init (&out);
    td_msg_kind_t got = td_msg_kind (msg);
    td_msg_t *again = NULL;

    if (kind == TD_MSG_REQUEST) {
        CHECK (got == TD_MSG_REQUEST);
        CHECK (td_name_valid (td_msg_type (msg)));
        CHECK (td_msg_deadline (msg) >= 0);
        msgpack_object_type at = td_msg_auth (msg)->type;
        CHECK (at == MSGPACK_OBJECT_MAP || at == MSGPACK_OBJECT_NIL);
        td_request_spec_t spec = {
            .id = td_msg_id (msg), .rid = td_msg_rid (msg), .type = td_msg_type (msg),
            .deadline = td_msg_deadline (msg),
            .auth = auth.data, .auth_size = auth.size, .body = body.data, .body_size = body.size
        };
        CHECK (td_request_pack (&out, &spec, &err) == 0);
        again = td_msg_decode (TD_MSG_REQUEST, out.data, out.size, &err);
        CHECK (again);
        CHECK (strcmp (td_msg_type (again), td_msg_type (msg)) == 0);
        CHECK (td_msg_deadline (again) == td_msg_deadline (msg));
        CHECK (s_equal (td_msg_auth (again), td_msg_auth (msg)));
    }
    else
    if (kind == TD_MSG_REPLY || kind == TD_MSG_PARTIAL) {
        CHECK (got == TD_MSG_PARTIAL || (got == TD_MSG_REPLY && kind == TD_MSG_REPLY));
        int status = td_msg_status (msg);
        CHECK (status >= 100 && status <= 599);
        CHECK ((td_msg_error (msg) != TD_OK) == (status >= 400));
        CHECK (got == TD_MSG_REPLY || status < 400);
        td_reply_spec_t spec = {
            .id = td_msg_id (msg), .rid = td_msg_rid (msg), .status = status,
            .seq = td_msg_seq (msg), .body = body.data, .body_size = body.size,
            .error = td_msg_error (msg), .message = td_msg_error_message (msg),
            .field = td_msg_error_field (msg)
        };
        int rc = got == TD_MSG_PARTIAL ? td_partial_pack (&out, &spec, &err)
                                       : td_reply_pack (&out, &spec, &err);
        CHECK (rc == 0);
        again = td_msg_decode (kind, out.data, out.size, &err);
        CHECK (again);
        CHECK (td_msg_kind (again) == got);
        CHECK (td_msg_status (again) == status);
        CHECK (td_msg_seq (again) == td_msg_seq (msg));
        CHECK (td_msg_error (again) == td_msg_error (msg));
        CHECK (strcmp (td_msg_error_field (again), td_msg_error_field (msg)) == 0);
        if (td_msg_error_message (msg) [0])
            CHECK (strcmp (td_msg_error_message (again), td_msg_error_message (msg)) == 0);
        if (status >= 400)      //  an error reply carries no body
            CHECK (td_msg_body (again)->type == MSGPACK_OBJECT_NIL);
    }
    else {
        CHECK (got == TD_MSG_EVENT);
        CHECK (td_event_type_valid (td_msg_type (msg)));
        s_check_id (td_msg_source (msg));
        CHECK (strlen (td_msg_time (msg)) >= 20);
        #define OPT(s) ((s) [0] ? (s) : NULL)
        td_event_spec_t spec = {
            .id = td_msg_id (msg), .type = td_msg_type (msg), .source = td_msg_source (msg),
            .time = 1, .org = OPT (td_msg_org (msg)), .user = OPT (td_msg_user (msg)),
            .subject = OPT (td_msg_subject (msg)), .data = body.data, .data_size = body.size
        };
        CHECK (td_event_pack (&out, &spec, &err) == 0);
        again = td_msg_decode (TD_MSG_EVENT, out.data, out.size, &err);
        CHECK (again);
        CHECK (strcmp (td_msg_type (again), td_msg_type (msg)) == 0);
        CHECK (strcmp (td_msg_source (again), td_msg_source (msg)) == 0);
        CHECK (strcmp (td_msg_org (again), td_msg_org (msg)) == 0);
        CHECK (strcmp (td_msg_user (again), td_msg_user (msg)) == 0);
        CHECK (strcmp (td_msg_subject (again), td_msg_subject (msg)) == 0);
        CHECK (strcmp (td_msg_time (again), "1970-01-01T00:00:00.001Z") == 0);
    }
    CHECK (strcmp (td_msg_id (again), td_msg_id (msg)) == 0);
    if (kind != TD_MSG_EVENT)
        CHECK (strcmp (td_msg_rid (again), td_msg_rid (msg)) == 0);
    if (!(kind != TD_MSG_EVENT && kind != TD_MSG_REQUEST && td_msg_status (msg) >= 400))
        CHECK (s_equal (td_msg_body (again), td_msg_body (msg)));

    td_msg_destroy (&again);
    td_msg_destroy (&msg);
    CHECK (msg == NULL);
    msgpack_sbuffer_destroy (&body);
    msgpack_sbuffer_destroy (&auth);
    msgpack_sbuffer_destroy (&out);
    return 0;
}
