/*  test_proto_msg — the four message kinds: round trips through the constructors and td_msg_decode,
 *  and every way a peer can get a message wrong.
 *
 *  Hostile variants are made by re-packing a valid message with one key dropped, replaced or
 *  added (s_mutate), so each rule of td_msg.h is tried on its own against an otherwise good
 *  message, and the error must name the field at fault.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "td_msg.h"
#include "td_mp.h"

//  Packed helper values.
#define P(...) (const unsigned char []) { __VA_ARGS__ }, sizeof ((const unsigned char []) { __VA_ARGS__ })
static const unsigned char s_nil [] = { 0xc0 };
static const unsigned char s_int7 [] = { 0x07 };
static const unsigned char s_neg [] = { 0xff };
static const unsigned char s_arr [] = { 0x90 };
static const unsigned char s_map [] = { 0x80 };
static const unsigned char s_empty [] = { 0xa0 };
static const unsigned char s_true [] = { 0xc3 };

static void
s_request (msgpack_sbuffer *sbuf)
{
    msgpack_sbuffer_init (sbuf);
    td_request_spec_t spec = {
        .id = "c1", .rid = "r1", .type = "submit", .deadline = 1795860000000,
        .auth = (const unsigned char []) { 0x81, 0xa4, 'u', 's', 'e', 'r', 0xa2, 'u', '1' },
        .auth_size = 9,
        .body = (const unsigned char []) { 0x81, 0xa4, 'c', 'o', 'd', 'e', 0xa1, 'x' },
        .body_size = 8,
    };
    td_error_t err;
    assert_int_equal (td_request_pack (sbuf, &spec, &err), 0);
}

static void
s_reply (msgpack_sbuffer *sbuf, int status, bool partial)
{
    msgpack_sbuffer_init (sbuf);
    td_reply_spec_t spec = {
        .id = "c1", .status = status, .seq = 3,
        .body = (const unsigned char []) { 0x91, 0x01 }, .body_size = 2,
        .message = "course 'x' was not found", .field = "course",
    };
    td_error_t err;
    int rc = partial ? td_partial_pack (sbuf, &spec, &err) : td_reply_pack (sbuf, &spec, &err);
    assert_int_equal (rc, 0);
}

static void
s_event (msgpack_sbuffer *sbuf)
{
    msgpack_sbuffer_init (sbuf);
    td_event_spec_t spec = {
        .id = "e1", .type = "grade.result", .source = "tutord/grader", .time = 1795860000123,
        .org = "o1", .user = "u1", .subject = "submissions/s1",
        .data = (const unsigned char []) { 0x81, 0xa1, 'v', 0xc3 }, .data_size = 4,
    };
    td_error_t err;
    assert_int_equal (td_event_pack (sbuf, &spec, &err), 0);
}

//  Re-pack the top-level map of data: drop `drop`, set `set` to the packed value (replacing it, or
//  adding it when absent), and with dup also add a second copy of `set`.
static void
s_mutate (const msgpack_sbuffer *in, msgpack_sbuffer *out, const char *drop,
          const char *set, const void *val, size_t val_size, bool dup)
{
    msgpack_zone zone;
    assert_true (msgpack_zone_init (&zone, 2048));
    msgpack_object o;
    size_t off = 0;
    assert_int_equal (msgpack_unpack (in->data, in->size, &off, &zone, &o), MSGPACK_UNPACK_SUCCESS);
    assert_int_equal (o.type, MSGPACK_OBJECT_MAP);
    msgpack_sbuffer_init (out);
    msgpack_packer pk;
    msgpack_packer_init (&pk, out, msgpack_sbuffer_write);
    uint32_t n = 0;
    bool found = false;
    for (uint32_t i = 0; i < o.via.map.size; i++) {
        if (drop && td_mp_streq (&o.via.map.ptr [i].key, drop))
            continue;
        if (set && td_mp_streq (&o.via.map.ptr [i].key, set))
            found = true;
        n++;
    }
    if (set && (!found || dup))
        n++;
    assert_int_equal (msgpack_pack_map (&pk, n), 0);
    for (uint32_t i = 0; i < o.via.map.size; i++) {
        const msgpack_object_kv *kv = &o.via.map.ptr [i];
        if (drop && td_mp_streq (&kv->key, drop))
            continue;
        assert_int_equal (msgpack_pack_object (&pk, kv->key), 0);
        if (set && td_mp_streq (&kv->key, set) && !dup)
            assert_int_equal (td_mp_pack_raw (&pk, val, val_size), 0);
        else
            assert_int_equal (msgpack_pack_object (&pk, kv->val), 0);
    }
    if (set && (!found || dup)) {
        assert_int_equal (td_mp_pack_str (&pk, set), 0);
        assert_int_equal (td_mp_pack_raw (&pk, val, val_size), 0);
    }
    msgpack_zone_destroy (&zone);
}

//  Decoding must fail, naming `field` (NULL: any).
static void
s_refused (td_msg_kind_t kind, const msgpack_sbuffer *sbuf, const char *field)
{
    td_error_t err;
    td_error_clear (&err);
    td_msg_t *msg = td_msg_decode (kind, sbuf->data, sbuf->size, &err);
    if (msg) {
        td_msg_destroy (&msg);
        fail_msg ("accepted a bad message (expected field '%s')", field ? field : "");
    }
    assert_int_equal (err.code, TD_ERR_INVALID_INPUT);
    assert_true (strlen (err.message) > 0);
    if (field && strcmp (err.field, field) != 0)
        fail_msg ("field '%s' != '%s' (%s)", err.field, field, err.message);
}

static void
s_accepted (td_msg_kind_t kind, const msgpack_sbuffer *sbuf)
{
    td_error_t err;
    td_msg_t *msg = td_msg_decode (kind, sbuf->data, sbuf->size, &err);
    if (!msg)
        fail_msg ("refused: %s", err.message);
    td_msg_destroy (&msg);
}

static void
s_mutate_refused (td_msg_kind_t kind, const msgpack_sbuffer *base, const char *drop,
                  const char *set, const void *val, size_t size, const char *field)
{
    msgpack_sbuffer bad;
    s_mutate (base, &bad, drop, set, val, size, false);
    s_refused (kind, &bad, field);
    msgpack_sbuffer_destroy (&bad);
}

static void
s_mutate_accepted (td_msg_kind_t kind, const msgpack_sbuffer *base, const char *drop,
                   const char *set, const void *val, size_t size)
{
    msgpack_sbuffer ok;
    s_mutate (base, &ok, drop, set, val, size, false);
    s_accepted (kind, &ok);
    msgpack_sbuffer_destroy (&ok);
}

//  --------------------------------------------------------------------------------------------

static void
test_request_round_trip (void **state)
{
    (void) state;
    msgpack_sbuffer sbuf;
    s_request (&sbuf);
    td_error_t err;
    td_msg_t *msg = td_msg_decode (TD_MSG_REQUEST, sbuf.data, sbuf.size, &err);
    assert_non_null (msg);
    assert_int_equal (td_msg_kind (msg), TD_MSG_REQUEST);
    assert_string_equal (td_msg_id (msg), "c1");
    assert_string_equal (td_msg_rid (msg), "r1");
    assert_string_equal (td_msg_type (msg), "submit");
    assert_true (td_msg_deadline (msg) == 1795860000000);
    assert_true (td_mp_streq (td_mp_get (td_msg_body (msg), "code"), "x"));
    assert_true (td_mp_streq (td_mp_get (td_msg_auth (msg), "user"), "u1"));
    assert_int_equal (td_msg_size (msg), sbuf.size);
    assert_memory_equal (td_msg_data (msg), sbuf.data, sbuf.size);
    assert_ptr_not_equal (td_msg_data (msg), sbuf.data);      //  owns a copy
    td_msg_destroy (&msg);
    assert_null (msg);
    td_msg_destroy (&msg);
    td_msg_destroy (NULL);

    //  Minimal request: rid falls back to id; auth and body are nil.
    msgpack_sbuffer_clear (&sbuf);
    td_request_spec_t spec = { .id = "c2", .type = "ping" };
    assert_int_equal (td_request_pack (&sbuf, &spec, &err), 0);
    msg = td_msg_decode (TD_MSG_REQUEST, sbuf.data, sbuf.size, &err);
    assert_non_null (msg);
    assert_string_equal (td_msg_rid (msg), "c2");
    assert_int_equal (td_msg_body (msg)->type, MSGPACK_OBJECT_NIL);
    assert_int_equal (td_msg_auth (msg)->type, MSGPACK_OBJECT_NIL);
    assert_int_equal (td_msg_deadline (msg), 0);
    assert_int_equal (td_msg_status (msg), 0);
    assert_string_equal (td_msg_error_message (msg), "");
    td_msg_destroy (&msg);

    //  Two messages appended to one buffer: the constructor appends.
    size_t first = sbuf.size;
    assert_int_equal (td_request_pack (&sbuf, &spec, &err), 0);
    assert_int_equal (sbuf.size, 2 * first);
    msgpack_sbuffer_destroy (&sbuf);
}

static void
test_request_required (void **state)
{
    (void) state;
    msgpack_sbuffer base;
    s_request (&base);
    s_mutate_refused (TD_MSG_REQUEST, &base, "v", NULL, NULL, 0, "v");
    s_mutate_refused (TD_MSG_REQUEST, &base, "id", NULL, NULL, 0, "id");
    s_mutate_refused (TD_MSG_REQUEST, &base, "type", NULL, NULL, 0, "type");
    //  Optional ones.
    s_mutate_accepted (TD_MSG_REQUEST, &base, "rid", NULL, NULL, 0);
    s_mutate_accepted (TD_MSG_REQUEST, &base, "deadline", NULL, NULL, 0);
    s_mutate_accepted (TD_MSG_REQUEST, &base, "auth", NULL, NULL, 0);
    s_mutate_accepted (TD_MSG_REQUEST, &base, "body", NULL, NULL, 0);
    //  Unknown keys are ignored.
    s_mutate_accepted (TD_MSG_REQUEST, &base, NULL, "future", s_int7, 1);
    msgpack_sbuffer_destroy (&base);
}

static void
test_request_types (void **state)
{
    (void) state;
    msgpack_sbuffer base;
    s_request (&base);
    s_mutate_refused (TD_MSG_REQUEST, &base, NULL, "v", s_nil, 1, "v");
    s_mutate_refused (TD_MSG_REQUEST, &base, NULL, "v", P (0x02), "v");
    s_mutate_refused (TD_MSG_REQUEST, &base, NULL, "v", P (0xa1, '1'), "v");
    s_mutate_refused (TD_MSG_REQUEST, &base, NULL, "id", s_int7, 1, "id");
    s_mutate_refused (TD_MSG_REQUEST, &base, NULL, "id", s_empty, 1, "id");
    s_mutate_refused (TD_MSG_REQUEST, &base, NULL, "id", s_nil, 1, "id");
    s_mutate_refused (TD_MSG_REQUEST, &base, NULL, "id", P (0xc4, 1, 'x'), "id");   //  bin
    s_mutate_refused (TD_MSG_REQUEST, &base, NULL, "id", P (0xa3, 'a', 0, 'b'), "id");
    s_mutate_refused (TD_MSG_REQUEST, &base, NULL, "rid", P (0xa3, 'a', 0, 'b'), "rid");
    s_mutate_refused (TD_MSG_REQUEST, &base, NULL, "rid", s_empty, 1, "rid");
    s_mutate_refused (TD_MSG_REQUEST, &base, NULL, "rid", s_arr, 1, "rid");
    s_mutate_refused (TD_MSG_REQUEST, &base, NULL, "type", s_int7, 1, "type");
    s_mutate_refused (TD_MSG_REQUEST, &base, NULL, "type", P (0xa3, 'a', 0, 'b'), "type");
    s_mutate_refused (TD_MSG_REQUEST, &base, NULL, "type", P (0xa2, 'A', 'b'), "type");
    s_mutate_refused (TD_MSG_REQUEST, &base, NULL, "type", s_empty, 1, "type");
    s_mutate_refused (TD_MSG_REQUEST, &base, NULL, "deadline", s_neg, 1, "deadline");
    s_mutate_refused (TD_MSG_REQUEST, &base, NULL, "deadline", P (0xa1, '1'), "deadline");
    s_mutate_refused (TD_MSG_REQUEST, &base, NULL, "deadline", P (0xcb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0), "deadline");
    s_mutate_refused (TD_MSG_REQUEST, &base, NULL, "deadline",
                      P (0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), "deadline");
    s_mutate_refused (TD_MSG_REQUEST, &base, NULL, "auth", s_arr, 1, "auth");
    s_mutate_refused (TD_MSG_REQUEST, &base, NULL, "auth", s_int7, 1, "auth");
    s_mutate_accepted (TD_MSG_REQUEST, &base, NULL, "auth", s_nil, 1);
    s_mutate_accepted (TD_MSG_REQUEST, &base, NULL, "body", s_int7, 1);
    s_mutate_accepted (TD_MSG_REQUEST, &base, NULL, "deadline", P (0x00));

    //  Id of exactly TD_MAX_ID accepted, one more refused.
    unsigned char id [TD_MAX_ID + 4];
    id [0] = 0xd9;
    id [1] = TD_MAX_ID;
    memset (id + 2, 'i', TD_MAX_ID + 1);
    s_mutate_accepted (TD_MSG_REQUEST, &base, NULL, "id", id, TD_MAX_ID + 2);
    id [1] = TD_MAX_ID + 1;
    s_mutate_refused (TD_MSG_REQUEST, &base, NULL, "id", id, TD_MAX_ID + 3, "id");

    //  Duplicate envelope keys are refused.
    msgpack_sbuffer bad;
    s_mutate (&base, &bad, NULL, "id", P (0xa1, 'z'), true);
    s_refused (TD_MSG_REQUEST, &bad, "id");
    msgpack_sbuffer_destroy (&bad);
    msgpack_sbuffer_destroy (&base);
}

static void
test_not_a_map (void **state)
{
    (void) state;
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_sbuffer_write (&sbuf, "\x92\x01\x02", 3);
    for (int kind = TD_MSG_REQUEST; kind <= TD_MSG_EVENT; kind++)
        s_refused ((td_msg_kind_t) kind, &sbuf, "");
    msgpack_sbuffer_clear (&sbuf);
    msgpack_sbuffer_write (&sbuf, "\x80", 1);
    for (int kind = TD_MSG_REQUEST; kind <= TD_MSG_EVENT; kind++)
        s_refused ((td_msg_kind_t) kind, &sbuf, NULL);
    //  A bad expected kind.
    td_error_t err;
    assert_null (td_msg_decode ((td_msg_kind_t) 0, "\x80", 1, &err));
    assert_null (td_msg_decode ((td_msg_kind_t) 9, "\x80", 1, NULL));
    msgpack_sbuffer_destroy (&sbuf);
}

static void
test_reply_round_trip (void **state)
{
    (void) state;
    msgpack_sbuffer sbuf;
    td_error_t err;
    s_reply (&sbuf, 200, false);
    td_msg_t *msg = td_msg_decode (TD_MSG_REPLY, sbuf.data, sbuf.size, &err);
    assert_non_null (msg);
    assert_int_equal (td_msg_kind (msg), TD_MSG_REPLY);
    assert_string_equal (td_msg_id (msg), "c1");
    assert_string_equal (td_msg_rid (msg), "c1");
    assert_int_equal (td_msg_status (msg), 200);
    assert_int_equal (td_msg_error (msg), TD_OK);
    assert_string_equal (td_msg_error_message (msg), "");
    assert_int_equal (td_msg_body (msg)->type, MSGPACK_OBJECT_ARRAY);
    td_msg_destroy (&msg);
    //  A final reply is not a partial.
    s_refused (TD_MSG_PARTIAL, &sbuf, "kind");
    msgpack_sbuffer_destroy (&sbuf);

    s_reply (&sbuf, 404, false);
    msg = td_msg_decode (TD_MSG_REPLY, sbuf.data, sbuf.size, &err);
    assert_non_null (msg);
    assert_int_equal (td_msg_status (msg), 404);
    assert_int_equal (td_msg_error (msg), TD_ERR_NOT_FOUND);
    assert_string_equal (td_msg_error_message (msg), "course 'x' was not found");
    assert_string_equal (td_msg_error_field (msg), "course");
    assert_int_equal (td_msg_body (msg)->type, MSGPACK_OBJECT_NIL);
    td_msg_destroy (&msg);
    msgpack_sbuffer_destroy (&sbuf);

    //  No message: the generic sentence of the code; explicit code wins over status.
    msgpack_sbuffer_init (&sbuf);
    td_reply_spec_t spec = { .id = "c1", .rid = "r9", .status = 503 };
    assert_int_equal (td_reply_pack (&sbuf, &spec, &err), 0);
    msg = td_msg_decode (TD_MSG_REPLY, sbuf.data, sbuf.size, &err);
    assert_non_null (msg);
    assert_string_equal (td_msg_rid (msg), "r9");
    assert_int_equal (td_msg_error (msg), TD_ERR_UNAVAILABLE);
    assert_string_equal (td_msg_error_message (msg), td_errcode_message (TD_ERR_UNAVAILABLE));
    assert_string_equal (td_msg_error_field (msg), "");
    td_msg_destroy (&msg);
    msgpack_sbuffer_clear (&sbuf);
    spec.status = 400;
    spec.error = TD_ERR_TOO_LARGE;
    assert_int_equal (td_reply_pack (&sbuf, &spec, &err), 0);
    msg = td_msg_decode (TD_MSG_REPLY, sbuf.data, sbuf.size, &err);
    assert_int_equal (td_msg_error (msg), TD_ERR_TOO_LARGE);
    td_msg_destroy (&msg);
    msgpack_sbuffer_destroy (&sbuf);
}

static void
test_partial_round_trip (void **state)
{
    (void) state;
    msgpack_sbuffer sbuf;
    td_error_t err;
    s_reply (&sbuf, 206, true);
    td_msg_t *msg = td_msg_decode (TD_MSG_PARTIAL, sbuf.data, sbuf.size, &err);
    assert_non_null (msg);
    assert_int_equal (td_msg_kind (msg), TD_MSG_PARTIAL);
    assert_int_equal (td_msg_seq (msg), 3);
    assert_int_equal (td_msg_status (msg), 206);
    td_msg_destroy (&msg);
    //  Expecting a reply also accepts a partial and says so.
    msg = td_msg_decode (TD_MSG_REPLY, sbuf.data, sbuf.size, &err);
    assert_non_null (msg);
    assert_int_equal (td_msg_kind (msg), TD_MSG_PARTIAL);
    td_msg_destroy (&msg);
    //  A partial is not a request.
    s_refused (TD_MSG_REQUEST, &sbuf, "type");
    //  A partial with an error status cannot be built.
    msgpack_sbuffer_clear (&sbuf);
    td_reply_spec_t spec = { .id = "c1", .status = 500 };
    assert_int_equal (td_partial_pack (&sbuf, &spec, &err), -1);
    assert_string_equal (err.field, "status");
    assert_int_equal (sbuf.size, 0);
    msgpack_sbuffer_destroy (&sbuf);
}

static void
test_reply_rules (void **state)
{
    (void) state;
    msgpack_sbuffer ok, fail, part;
    s_reply (&ok, 200, false);
    s_reply (&fail, 409, false);
    s_reply (&part, 200, true);
    const char *req [] = { "v", "id", "kind", "status" };
    for (size_t i = 0; i < 4; i++) {
        s_mutate_refused (TD_MSG_REPLY, &ok, req [i], NULL, NULL, 0, req [i]);
        s_mutate_refused (TD_MSG_REPLY, &fail, req [i], NULL, NULL, 0, req [i]);
        s_mutate_refused (TD_MSG_PARTIAL, &part, req [i], NULL, NULL, 0, req [i]);
    }
    s_mutate_refused (TD_MSG_PARTIAL, &part, "seq", NULL, NULL, 0, "seq");
    s_mutate_refused (TD_MSG_PARTIAL, &part, NULL, "seq", s_neg, 1, "seq");
    s_mutate_refused (TD_MSG_PARTIAL, &part, NULL, "seq", P (0xcf, 0, 0, 0, 1, 0, 0, 0, 0), "seq");
    s_mutate_refused (TD_MSG_PARTIAL, &part, NULL, "status", P (0xcd, 0x01, 0xf4), "status");
    s_mutate_refused (TD_MSG_REPLY, &fail, "error", NULL, NULL, 0, "error");
    s_mutate_refused (TD_MSG_REPLY, &fail, NULL, "error", s_nil, 1, "error");
    s_mutate_refused (TD_MSG_REPLY, &fail, NULL, "error", s_arr, 1, "error");
    s_mutate_refused (TD_MSG_REPLY, &fail, NULL, "error", s_map, 1, "error.code");
    //  {code: "bogus", message: "m"}
    s_mutate_refused (TD_MSG_REPLY, &fail, NULL, "error",
        P (0x82, 0xa4, 'c', 'o', 'd', 'e', 0xa5, 'b', 'o', 'g', 'u', 's',
           0xa7, 'm', 'e', 's', 's', 'a', 'g', 'e', 0xa1, 'm'), "error.code");
    //  {code: "ok", message: "m"}: TD_OK is not an error.
    s_mutate_refused (TD_MSG_REPLY, &fail, NULL, "error",
        P (0x82, 0xa4, 'c', 'o', 'd', 'e', 0xa2, 'o', 'k',
           0xa7, 'm', 'e', 's', 's', 'a', 'g', 'e', 0xa1, 'm'), "error.code");
    //  {code: "conflict"} without message.
    s_mutate_refused (TD_MSG_REPLY, &fail, NULL, "error",
        P (0x81, 0xa4, 'c', 'o', 'd', 'e', 0xa8, 'c', 'o', 'n', 'f', 'l', 'i', 'c', 't'),
        "error.message");
    //  {code: "conflict", message: "a\0b"}.
    s_mutate_refused (TD_MSG_REPLY, &fail, NULL, "error",
        P (0x82, 0xa4, 'c', 'o', 'd', 'e', 0xa8, 'c', 'o', 'n', 'f', 'l', 'i', 'c', 't',
           0xa7, 'm', 'e', 's', 's', 'a', 'g', 'e', 0xa3, 'a', 0, 'b'), "error.message");
    //  {code: "conflict", message: "m", field: 7}.
    s_mutate_refused (TD_MSG_REPLY, &fail, NULL, "error",
        P (0x83, 0xa4, 'c', 'o', 'd', 'e', 0xa8, 'c', 'o', 'n', 'f', 'l', 'i', 'c', 't',
           0xa7, 'm', 'e', 's', 's', 'a', 'g', 'e', 0xa1, 'm', 0xa5, 'f', 'i', 'e', 'l', 'd', 0x07),
        "error.field");
    //  A success may not carry an error.
    s_mutate_refused (TD_MSG_REPLY, &ok, NULL, "error",
        P (0x82, 0xa4, 'c', 'o', 'd', 'e', 0xa8, 'c', 'o', 'n', 'f', 'l', 'i', 'c', 't',
           0xa7, 'm', 'e', 's', 's', 'a', 'g', 'e', 0xa1, 'm'), "error");
    s_mutate_accepted (TD_MSG_REPLY, &ok, NULL, "error", s_nil, 1);
    s_mutate_refused (TD_MSG_REPLY, &ok, NULL, "status", P (0x63), "status");           //  99
    s_mutate_refused (TD_MSG_REPLY, &ok, NULL, "status", P (0xcd, 0x02, 0x58), "status");  //  600
    s_mutate_refused (TD_MSG_REPLY, &ok, NULL, "status", P (0xa3, '2', '0', '0'), "status");
    s_mutate_refused (TD_MSG_REPLY, &ok, NULL, "kind", P (0xa4, 'n', 'o', 'p', 'e'), "kind");
    s_mutate_refused (TD_MSG_REPLY, &ok, NULL, "kind", s_true, 1, "kind");
    s_mutate_refused (TD_MSG_REPLY, &ok, NULL, "id", P (0xa3, 'a', 0, 'b'), "id");
    s_mutate_accepted (TD_MSG_REPLY, &ok, "body", NULL, NULL, 0);
    s_mutate_accepted (TD_MSG_REPLY, &ok, "rid", NULL, NULL, 0);
    msgpack_sbuffer_destroy (&ok);
    msgpack_sbuffer_destroy (&fail);
    msgpack_sbuffer_destroy (&part);
}

static void
test_reply_retry_after (void **state)
{
    (void) state;
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    td_error_t err;
    //  429 with retry_after: packed inside the error map, decoded back.
    td_reply_spec_t spec = { .id = "c1", .status = 429, .message = "slow down",
                             .field = "email", .retry_after = 42 };
    assert_int_equal (td_reply_pack (&sbuf, &spec, &err), 0);
    td_msg_t *msg = td_msg_decode (TD_MSG_REPLY, sbuf.data, sbuf.size, &err);
    assert_non_null (msg);
    assert_int_equal (td_msg_error (msg), TD_ERR_RATE_LIMITED);
    assert_int_equal (td_msg_error_retry_after (msg), 42);
    assert_string_equal (td_msg_error_field (msg), "email");
    const msgpack_object *e = NULL;
    msgpack_zone zone;
    msgpack_zone_init (&zone, 1024);
    msgpack_object root;
    size_t off = 0;
    assert_int_equal (msgpack_unpack (sbuf.data, sbuf.size, &off, &zone, &root), MSGPACK_UNPACK_SUCCESS);
    e = td_mp_get (&root, "error");
    assert_non_null (e);
    assert_int_equal (e->via.map.size, 4);
    int64_t v = 0;
    assert_true (td_mp_int (td_mp_get (e, "retry_after"), &v));
    assert_int_equal (v, 42);
    msgpack_zone_destroy (&zone);
    td_msg_destroy (&msg);
    //  0 means absent: the map keeps its old shape, the accessor answers 0.
    msgpack_sbuffer_clear (&sbuf);
    spec.retry_after = 0;
    spec.field = NULL;
    assert_int_equal (td_reply_pack (&sbuf, &spec, &err), 0);
    msg = td_msg_decode (TD_MSG_REPLY, sbuf.data, sbuf.size, &err);
    assert_non_null (msg);
    assert_int_equal (td_msg_error_retry_after (msg), 0);
    td_msg_destroy (&msg);
    //  A negative retry_after cannot be built.
    msgpack_sbuffer_clear (&sbuf);
    spec.retry_after = -1;
    assert_int_equal (td_reply_pack (&sbuf, &spec, &err), -1);
    assert_string_equal (err.field, "retry_after");
    assert_int_equal (sbuf.size, 0);
    msgpack_sbuffer_destroy (&sbuf);
    //  A decoder refuses a retry_after that is not a non-negative integer.
    msgpack_sbuffer fail;
    s_reply (&fail, 409, false);
    //  {code: "conflict", message: "m", retry_after: "x"}
    s_mutate_refused (TD_MSG_REPLY, &fail, NULL, "error",
        P (0x83, 0xa4, 'c', 'o', 'd', 'e', 0xa8, 'c', 'o', 'n', 'f', 'l', 'i', 'c', 't',
           0xa7, 'm', 'e', 's', 's', 'a', 'g', 'e', 0xa1, 'm',
           0xab, 'r', 'e', 't', 'r', 'y', '_', 'a', 'f', 't', 'e', 'r', 0xa1, 'x'),
        "error.retry_after");
    s_mutate_refused (TD_MSG_REPLY, &fail, NULL, "error",
        P (0x83, 0xa4, 'c', 'o', 'd', 'e', 0xa8, 'c', 'o', 'n', 'f', 'l', 'i', 'c', 't',
           0xa7, 'm', 'e', 's', 's', 'a', 'g', 'e', 0xa1, 'm',
           0xab, 'r', 'e', 't', 'r', 'y', '_', 'a', 'f', 't', 'e', 'r', 0xff),
        "error.retry_after");
    msgpack_sbuffer_destroy (&fail);
}

static void
test_event_round_trip (void **state)
{
    (void) state;
    msgpack_sbuffer sbuf;
    td_error_t err;
    s_event (&sbuf);
    td_msg_t *msg = td_msg_decode (TD_MSG_EVENT, sbuf.data, sbuf.size, &err);
    assert_non_null (msg);
    assert_int_equal (td_msg_kind (msg), TD_MSG_EVENT);
    assert_string_equal (td_msg_id (msg), "e1");
    assert_string_equal (td_msg_type (msg), "grade.result");
    assert_string_equal (td_msg_source (msg), "tutord/grader");
    assert_string_equal (td_msg_time (msg), "2026-11-28T10:00:00.123Z");
    assert_string_equal (td_msg_org (msg), "o1");
    assert_string_equal (td_msg_user (msg), "u1");
    assert_string_equal (td_msg_subject (msg), "submissions/s1");
    bool v;
    assert_true (td_mp_bool (td_mp_get (td_msg_body (msg), "v"), &v) && v);
    td_msg_destroy (&msg);
    msgpack_sbuffer_destroy (&sbuf);

    //  Defaults: fresh id, time now, nil org/user/subject/data.
    msgpack_sbuffer_init (&sbuf);
    td_event_spec_t spec = { .type = "srs.due", .source = "tutord/srs" };
    assert_int_equal (td_event_pack (&sbuf, &spec, &err), 0);
    msg = td_msg_decode (TD_MSG_EVENT, sbuf.data, sbuf.size, &err);
    assert_non_null (msg);
    assert_int_equal (strlen (td_msg_id (msg)), 32);
    assert_int_equal (strlen (td_msg_time (msg)), 24);
    assert_string_equal (td_msg_org (msg), "");
    assert_string_equal (td_msg_user (msg), "");
    assert_string_equal (td_msg_subject (msg), "");
    assert_int_equal (td_msg_body (msg)->type, MSGPACK_OBJECT_NIL);
    td_msg_destroy (&msg);
    msgpack_sbuffer_destroy (&sbuf);
}

static void
test_event_rules (void **state)
{
    (void) state;
    msgpack_sbuffer base;
    s_event (&base);
    const char *req [] = { "id", "type", "source", "time" };
    for (size_t i = 0; i < 4; i++)
        s_mutate_refused (TD_MSG_EVENT, &base, req [i], NULL, NULL, 0, req [i]);
    const char *opt [] = { "org", "user", "subject", "data" };
    for (size_t i = 0; i < 4; i++) {
        s_mutate_accepted (TD_MSG_EVENT, &base, opt [i], NULL, NULL, 0);
        s_mutate_accepted (TD_MSG_EVENT, &base, NULL, opt [i], s_nil, 1);
    }
    s_mutate_refused (TD_MSG_EVENT, &base, NULL, "org", s_int7, 1, "org");
    s_mutate_refused (TD_MSG_EVENT, &base, NULL, "user", P (0xa3, 'a', 0, 'b'), "user");
    s_mutate_refused (TD_MSG_EVENT, &base, NULL, "subject", s_arr, 1, "subject");
    s_mutate_refused (TD_MSG_EVENT, &base, NULL, "type", P (0xa5, 'g', 'r', 'a', 'd', 'e'), "type");
    s_mutate_refused (TD_MSG_EVENT, &base, NULL, "type", s_int7, 1, "type");
    s_mutate_refused (TD_MSG_EVENT, &base, NULL, "source", s_empty, 1, "source");
    s_mutate_refused (TD_MSG_EVENT, &base, NULL, "id", P (0xa3, 'a', 0, 'b'), "id");
    s_mutate_refused (TD_MSG_EVENT, &base, NULL, "time", s_int7, 1, "time");
#define T(s) (const unsigned char *) "\xb8" s, 25
    s_mutate_accepted (TD_MSG_EVENT, &base, NULL, "time", T ("2026-11-22T10:00:00.123Z"));
    s_mutate_refused (TD_MSG_EVENT, &base, NULL, "time", T ("2026-13-22T10:00:00.123Z"), "time");
    s_mutate_refused (TD_MSG_EVENT, &base, NULL, "time", T ("2026-11-22 10:00:00.123Z"), "time");
    s_mutate_refused (TD_MSG_EVENT, &base, NULL, "time", T ("2026-11-22T10:00:00.123X"), "time");
    s_mutate_refused (TD_MSG_EVENT, &base, NULL, "time", T ("2026-11-22T25:00:00.123Z"), "time");
    s_mutate_accepted (TD_MSG_EVENT, &base, NULL, "time",
                       (const unsigned char *) "\xb9" "2026-11-22T10:00:00+01:00", 26);
    s_mutate_accepted (TD_MSG_EVENT, &base, NULL, "time",
                       (const unsigned char *) "\xb4" "2026-11-22T10:00:00Z", 21);
    s_mutate_refused (TD_MSG_EVENT, &base, NULL, "time",
                      (const unsigned char *) "\xb3" "2026-11-22T10:00:00", 20, "time");
    s_mutate_accepted (TD_MSG_EVENT, &base, NULL, "time",
                       (const unsigned char *) "\xd9\x23" "2026-11-22T10:00:00.123456789+01:00", 37);
    s_mutate_refused (TD_MSG_EVENT, &base, NULL, "time",
                      (const unsigned char *) "\xd9\x24" "2026-11-22T10:00:00.1234567890+01:00", 38, "time");
    msgpack_sbuffer_destroy (&base);
}

static void
test_constructor_rules (void **state)
{
    (void) state;
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    td_error_t err;
    td_request_spec_t r = { .id = "c1", .type = "ping" };
    r.id = NULL;
    assert_int_equal (td_request_pack (&sbuf, &r, &err), -1);
    assert_string_equal (err.field, "id");
    assert_string_equal (err.message, "field 'id' is required");
    r.id = "";
    assert_int_equal (td_request_pack (&sbuf, &r, &err), -1);
    r.id = "bad\xff";
    assert_int_equal (td_request_pack (&sbuf, &r, &err), -1);
    r.id = "c1";
    r.type = NULL;
    assert_int_equal (td_request_pack (&sbuf, &r, &err), -1);
    assert_string_equal (err.field, "type");
    r.type = "Bad Name";
    assert_int_equal (td_request_pack (&sbuf, &r, &err), -1);
    r.type = "ping";
    r.deadline = -1;
    assert_int_equal (td_request_pack (&sbuf, &r, &err), -1);
    assert_string_equal (err.field, "deadline");
    r.deadline = 0;
    r.auth = s_arr;
    r.auth_size = 1;
    assert_int_equal (td_request_pack (&sbuf, &r, &err), -1);
    assert_string_equal (err.field, "auth");
    r.auth = NULL;
    r.body = "\x92\x01";             //  truncated
    r.body_size = 2;
    assert_int_equal (td_request_pack (&sbuf, &r, &err), -1);
    assert_string_equal (err.field, "body");
    r.body = "\x01\x02";             //  two objects
    assert_int_equal (td_request_pack (&sbuf, &r, &err), -1);
    r.body = "\x01";
    r.body_size = 0;                 //  empty
    assert_int_equal (td_request_pack (&sbuf, &r, &err), -1);
    assert_int_equal (sbuf.size, 0);  //  nothing written on failure
    assert_int_equal (td_request_pack (&sbuf, NULL, &err), -1);
    assert_int_equal (td_request_pack (NULL, &r, NULL), -1);

    td_reply_spec_t p = { .id = "c1", .status = 99 };
    assert_int_equal (td_reply_pack (&sbuf, &p, &err), -1);
    p.status = 600;
    assert_int_equal (td_reply_pack (&sbuf, &p, &err), -1);
    p.status = 400;
    p.error = TD_ERR__COUNT;
    assert_int_equal (td_reply_pack (&sbuf, &p, &err), -1);
    assert_int_equal (sbuf.size, 0);
    //  Error text is repaired rather than refused: invalid UTF-8 becomes '?', a long field is cut.
    p.error = TD_OK;
    p.message = "bad \xc3 input";
    p.field = "this field name is far too long to fit into the sixty-four byte field";
    assert_int_equal (td_reply_pack (&sbuf, &p, &err), 0);
    td_msg_t *msg = td_msg_decode (TD_MSG_REPLY, sbuf.data, sbuf.size, &err);
    assert_non_null (msg);
    assert_string_equal (td_msg_error_message (msg), "bad ? input");
    assert_int_equal (strlen (td_msg_error_field (msg)), 63);
    assert_int_equal (td_msg_error (msg), TD_ERR_INVALID_INPUT);
    td_msg_destroy (&msg);
    msgpack_sbuffer_clear (&sbuf);

    td_event_spec_t e = { .type = "grade", .source = "tutord/grader" };
    assert_int_equal (td_event_pack (&sbuf, &e, &err), -1);
    assert_string_equal (err.field, "type");
    e.type = "grade.result";
    e.source = NULL;
    assert_int_equal (td_event_pack (&sbuf, &e, &err), -1);
    assert_string_equal (err.field, "source");
    e.source = "tutord/grader";
    e.time = INT64_MAX;
    assert_int_equal (td_event_pack (&sbuf, &e, &err), -1);
    assert_string_equal (err.field, "time");
    e.time = 0;
    e.org = "";
    assert_int_equal (td_event_pack (&sbuf, &e, &err), -1);
    assert_string_equal (err.field, "org");
    assert_int_equal (sbuf.size, 0);
    msgpack_sbuffer_destroy (&sbuf);
}

static void
test_truncated_prefixes (void **state)
{
    (void) state;
    msgpack_sbuffer m [4];
    s_request (&m [0]);
    s_reply (&m [1], 404, false);
    s_reply (&m [2], 200, true);
    s_event (&m [3]);
    td_msg_kind_t kinds [4] = { TD_MSG_REQUEST, TD_MSG_REPLY, TD_MSG_PARTIAL, TD_MSG_EVENT };
    for (int k = 0; k < 4; k++) {
        s_accepted (kinds [k], &m [k]);
        for (size_t n = 0; n < m [k].size; n++) {
            td_error_t err;
            td_msg_t *msg = td_msg_decode (kinds [k], m [k].data, n, &err);
            assert_null (msg);
            assert_int_equal (err.code, TD_ERR_INVALID_INPUT);
        }
        //  One trailing byte too.
        msgpack_sbuffer_write (&m [k], "\x00", 1);
        s_refused (kinds [k], &m [k], NULL);
        msgpack_sbuffer_destroy (&m [k]);
    }
}

static void
test_oversized_and_deep (void **state)
{
    (void) state;
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    td_error_t err;
    //  A body of 5 strings of 1 MB: refused as too large by the constructor.
    size_t one = TD_MAX_STRING - 12;   //  4 of these fit in 4 MB, not with the envelope
    size_t size = 1 + 5 * (5 + one);
    unsigned char *body = malloc (size);
    assert_non_null (body);
    size_t i = 0;
    body [i++] = 0x95;
    for (int k = 0; k < 5; k++) {
        body [i++] = 0xdb;
        body [i++] = (unsigned char) (one >> 24);
        body [i++] = (unsigned char) (one >> 16);
        body [i++] = (unsigned char) (one >> 8);
        body [i++] = (unsigned char) one;
        memset (body + i, 'a', one);
        i += one;
    }
    td_request_spec_t r = { .id = "c1", .type = "ping", .body = body, .body_size = size };
    assert_int_equal (td_request_pack (&sbuf, &r, &err), -1);
    assert_int_equal (err.code, TD_ERR_TOO_LARGE);
    //  Four fit in the body but the body plus the envelope is over the limit.
    body [0] = 0x94;
    r.body_size = 1 + 4 * (5 + one);
    assert_true (r.body_size <= TD_MAX_MESSAGE);
    assert_int_equal (td_request_pack (&sbuf, &r, &err), -1);
    assert_int_equal (err.code, TD_ERR_TOO_LARGE);
    assert_int_equal (sbuf.size, 0);
    //  Three are fine.
    body [0] = 0x93;
    r.body_size = 1 + 3 * (5 + one);
    assert_int_equal (td_request_pack (&sbuf, &r, &err), 0);
    s_accepted (TD_MSG_REQUEST, &sbuf);
    //  The decoder refuses anything above TD_MAX_MESSAGE as too_large.
    unsigned char *big = calloc (1, TD_MAX_MESSAGE + 1);
    assert_non_null (big);
    big [0] = 0x80;
    assert_null (td_msg_decode (TD_MSG_REQUEST, big, TD_MAX_MESSAGE + 1, &err));
    assert_int_equal (err.code, TD_ERR_TOO_LARGE);
    free (big);
    free (body);

    //  Body nesting: 31 levels fit (32 with the envelope), 32 do not.
    unsigned char deep [64];
    for (int depth = 31; depth <= 32; depth++) {
        msgpack_sbuffer_clear (&sbuf);
        memset (deep, 0x91, depth);
        deep [depth] = 0x01;
        r.body = deep;
        r.body_size = depth + 1;
        int rc = td_request_pack (&sbuf, &r, &err);
        if (depth == 31) {
            assert_int_equal (rc, 0);
            s_accepted (TD_MSG_REQUEST, &sbuf);
        }
        else
            assert_int_equal (rc, -1);
    }
    //  And a hand-made message with a 32-deep body is refused by the decoder.
    msgpack_sbuffer base;
    s_request (&base);
    s_mutate_refused (TD_MSG_REQUEST, &base, NULL, "body", deep, 33, NULL);
    //  A string over the limit in a hand-made message.
    unsigned char hdr [] = { 0xdb, 0x00, 0x10, 0x00, 0x01 };
    s_mutate_refused (TD_MSG_REQUEST, &base, NULL, "body", hdr, sizeof (hdr), NULL);
    //  A count claim far beyond the bytes.
    s_mutate_refused (TD_MSG_REQUEST, &base, NULL, "body", P (0xdd, 0x7f, 0xff, 0xff, 0xff), NULL);
    //  Ext types and non-string keys deep in a body.
    s_mutate_refused (TD_MSG_REQUEST, &base, NULL, "body", P (0x91, 0xd4, 0x01, 0x00), NULL);
    s_mutate_refused (TD_MSG_REQUEST, &base, NULL, "body", P (0x81, 0x01, 0x02), NULL);
    //  Invalid UTF-8 in a body string.
    s_mutate_refused (TD_MSG_REQUEST, &base, NULL, "body", P (0xa2, 0xc0, 0xaf), NULL);
    s_mutate_refused (TD_MSG_REQUEST, &base, NULL, "body", P (0xa3, 0xed, 0xa0, 0x80), NULL);
    s_mutate_refused (TD_MSG_REQUEST, &base, NULL, "body", P (0xa4, 0xf4, 0x90, 0x80, 0x80), NULL);
    s_mutate_refused (TD_MSG_REQUEST, &base, NULL, "body", P (0xa2, 0xe2, 0x82), NULL);
    msgpack_sbuffer_destroy (&base);
    msgpack_sbuffer_destroy (&sbuf);
}

static void
test_ids_and_times (void **state)
{
    (void) state;
    char a [33], b [33];
    td_new_id (a);
    td_new_id (b);
    assert_int_equal (strlen (a), 32);
    assert_string_not_equal (a, b);
    for (int i = 0; i < 32; i++)
        assert_true ((a [i] >= '0' && a [i] <= '9') || (a [i] >= 'a' && a [i] <= 'f'));
    char t [32];
    assert_int_equal (td_time_format (0, t), 0);
    assert_string_equal (t, "1970-01-01T00:00:00.000Z");
    assert_int_equal (td_time_format (1795860000123, t), 0);
    assert_string_equal (t, "2026-11-28T10:00:00.123Z");
    assert_int_equal (td_time_format (-1, t), 0);
    assert_string_equal (t, "1969-12-31T23:59:59.999Z");
    assert_int_equal (td_time_format (253402300799999LL, t), 0);
    assert_string_equal (t, "9999-12-31T23:59:59.999Z");
    assert_int_equal (td_time_format (253402300800000LL, t), -1);
    assert_int_equal (td_time_format (INT64_MIN, t), -1);
    assert_int_equal (td_time_format (INT64_MAX, t), -1);
    int64_t now = td_now_ms ();
    assert_true (now > 1700000000000LL);
    assert_int_equal (td_time_format (now, t), 0);
    assert_int_equal (strlen (t), 24);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_request_round_trip),
        cmocka_unit_test (test_request_required),
        cmocka_unit_test (test_request_types),
        cmocka_unit_test (test_not_a_map),
        cmocka_unit_test (test_reply_round_trip),
        cmocka_unit_test (test_partial_round_trip),
        cmocka_unit_test (test_reply_rules),
        cmocka_unit_test (test_reply_retry_after),
        cmocka_unit_test (test_event_round_trip),
        cmocka_unit_test (test_event_rules),
        cmocka_unit_test (test_constructor_rules),
        cmocka_unit_test (test_truncated_prefixes),
        cmocka_unit_test (test_oversized_and_deep),
        cmocka_unit_test (test_ids_and_times),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
