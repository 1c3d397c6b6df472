/*  fuzz_peek — differential libFuzzer target: td_request_peek against td_msg_decode (TD_MSG_REQUEST).
 *
 *  The broker validates requests with td_request_peek instead of td_msg_decode, so the two must
 *  never disagree. For any input (the whole input is the message), asserted (abort on violation):
 *    - peek accepts iff decode accepts;
 *    - on refusal both give the same code, field and message;
 *    - on accept the id, rid, type and deadline are equal, every slice lies inside the input,
 *      and the auth/body slices unpack to objects equal to decode's auth/body (nil when absent);
 *    - peek's verdict does not depend on whether view/err are given.
 *  A decode refusal with `internal` (out of memory in msgpack-c) is skipped: peek cannot run out.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "td_peek.h"
#include "td_msg.h"
#include "td_mp.h"

#define CHECK(cond) do { if (!(cond)) { \
    fprintf (stderr, "invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); abort (); } } while (0)

static void
s_slice_eq (const char *s, size_t len, const char *expect)
{
    CHECK (len == strlen (expect));
    CHECK (len == 0 || memcmp (s, expect, len) == 0);
}

static void
s_inside (const void *s, size_t len, const uint8_t *data, size_t size)
{
    const uint8_t *p = (const uint8_t *) s;
    CHECK (p >= data && p + len <= data + size);
}

//  A slice of one encoded object equals the decoded object (nil when the slice is absent).
static void
s_object_eq (const void *slice, size_t size, const msgpack_object *o)
{
    if (!slice) {
        CHECK (size == 0);
        CHECK (o->type == MSGPACK_OBJECT_NIL);
        return;
    }
    msgpack_zone zone;
    CHECK (msgpack_zone_init (&zone, 1024));
    msgpack_object got;
    size_t off = 0;
    CHECK (msgpack_unpack ((const char *) slice, size, &off, &zone, &got)
           == MSGPACK_UNPACK_SUCCESS);
    CHECK (off == size);
    //  Compared as encodings: msgpack_object_equal says NaN != NaN.
    msgpack_sbuffer x, y;
    msgpack_sbuffer_init (&x);
    msgpack_sbuffer_init (&y);
    msgpack_packer px, py;
    msgpack_packer_init (&px, &x, msgpack_sbuffer_write);
    msgpack_packer_init (&py, &y, msgpack_sbuffer_write);
    CHECK (msgpack_pack_object (&px, got) == 0 && msgpack_pack_object (&py, *o) == 0);
    CHECK (x.size == y.size && memcmp (x.data, y.data, x.size) == 0);
    msgpack_sbuffer_destroy (&x);
    msgpack_sbuffer_destroy (&y);
    msgpack_zone_destroy (&zone);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    td_error_t derr, perr;
    td_error_clear (&derr);
    td_error_clear (&perr);
    td_msg_t *msg = td_msg_decode (TD_MSG_REQUEST, data, size, &derr);
    td_request_view_t view;
    int rc = td_request_peek (data, size, &view, &perr);
    CHECK (rc == 0 || rc == -1);
    CHECK (td_request_peek (data, size, NULL, NULL) == rc);
    if (!msg) {
        if (derr.code == TD_ERR_INTERNAL)
            return 0;
        if (rc == 0)
            fprintf (stderr, "decode refused (%s: %s), peek accepted\n", derr.field, derr.message);
        CHECK (rc == -1);
        if (perr.code != derr.code || strcmp (perr.field, derr.field)
        ||  strcmp (perr.message, derr.message))
            fprintf (stderr, "decode: %d %s: %s\npeek:   %d %s: %s\n", derr.code, derr.field,
                     derr.message, perr.code, perr.field, perr.message);
        CHECK (perr.code == derr.code);
        CHECK (strcmp (perr.field, derr.field) == 0);
        CHECK (strcmp (perr.message, derr.message) == 0);
        return 0;
    }
    if (rc != 0)
        fprintf (stderr, "decode accepted, peek refused (%s: %s)\n", perr.field, perr.message);
    CHECK (rc == 0);
    s_inside (view.id, view.id_len, data, size);
    s_inside (view.rid, view.rid_len, data, size);
    s_inside (view.type, view.type_len, data, size);
    s_slice_eq (view.id, view.id_len, td_msg_id (msg));
    s_slice_eq (view.rid, view.rid_len, td_msg_rid (msg));
    s_slice_eq (view.type, view.type_len, td_msg_type (msg));
    CHECK (view.deadline == td_msg_deadline (msg));
    if (view.auth)
        s_inside (view.auth, view.auth_size, data, size);
    if (view.body)
        s_inside (view.body, view.body_size, data, size);
    s_object_eq (view.auth, view.auth_size, td_msg_auth (msg));
    s_object_eq (view.body, view.body_size, td_msg_body (msg));
    td_msg_destroy (&msg);
    return 0;
}
