/*  test_proto_peek — td_request_peek gives td_msg_decode's verdict on requests, without allocating.
 *
 *  Every case runs both validators on the same bytes and demands the same answer: accept or
 *  refuse, and on refusal the same code, field and message; on accept the same id, rid, type,
 *  deadline, auth and body. Cases: valid requests in several encodings, every required field
 *  missing or of the wrong type, length bounds, NUL in names, repeated keys (all envelope keys
 *  td_msg_decode knows), deep bodies, non-maps, sizes, every prefix and every one-byte change of
 *  valid requests.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "td_peek.h"
#include "td_msg.h"
#include "td_mp.h"
#include "td_limits.h"

//  A hand-built message.
typedef struct {
    unsigned char b [16384];
    size_t n;
} buf_t;

static void
s_put (buf_t *m, const void *bytes, size_t len)
{
    assert_true (m->n + len <= sizeof (m->b));
    memcpy (m->b + m->n, bytes, len);
    m->n += len;
}

static void
s_byte (buf_t *m, unsigned char b)
{
    s_put (m, &b, 1);
}

static void
s_strn (buf_t *m, const char *s, size_t len)
{
    if (len < 32)
        s_byte (m, (unsigned char) (0xa0 | len));
    else
    if (len < 256) {
        s_byte (m, 0xd9);
        s_byte (m, (unsigned char) len);
    }
    else {
        s_byte (m, 0xda);
        s_byte (m, (unsigned char) (len >> 8));
        s_byte (m, (unsigned char) len);
    }
    s_put (m, s, len);
}

static void
s_str (buf_t *m, const char *s)
{
    s_strn (m, s, strlen (s));
}

static void
s_map (buf_t *m, unsigned n)
{
    assert_true (n < 16);
    s_byte (m, (unsigned char) (0x80 | n));
}

//  {v:1, id:"r1", type:"ping"} followed by extra entries the caller appends (count n_extra).
static void
s_base (buf_t *m, unsigned n_extra)
{
    m->n = 0;
    s_map (m, 3 + n_extra);
    s_str (m, "v");  s_byte (m, 1);
    s_str (m, "id"); s_str (m, "r1");
    s_str (m, "type"); s_str (m, "ping");
}

static void
s_slice_eq (const char *a, size_t alen, const char *b)
{
    assert_int_equal (alen, strlen (b));
    assert_memory_equal (a, b, alen);
}

//  Both validators on the same bytes; returns 0 when both accept, -1 when both refuse.
static int
s_same (const void *data, size_t size)
{
    td_error_t derr, perr;
    memset (&derr, 0x5a, sizeof derr);
    memset (&perr, 0x5a, sizeof perr);
    td_msg_t *msg = td_msg_decode (TD_MSG_REQUEST, data, size, &derr);
    td_request_view_t view;
    int rc = td_request_peek (data, size, &view, &perr);
    //  The verdict without view or err is the same.
    assert_int_equal (td_request_peek (data, size, NULL, NULL), rc);
    if (!msg) {
        if (rc == 0)
            fail_msg ("peek accepted what decode refused: %s", derr.message);
        assert_int_equal (rc, -1);
        assert_int_equal (perr.code, derr.code);
        assert_string_equal (perr.field, derr.field);
        assert_string_equal (perr.message, derr.message);
        return -1;
    }
    if (rc != 0)
        fail_msg ("peek refused what decode accepted: %s", perr.message);
    s_slice_eq (view.id, view.id_len, td_msg_id (msg));
    s_slice_eq (view.rid, view.rid_len, td_msg_rid (msg));
    s_slice_eq (view.type, view.type_len, td_msg_type (msg));
    assert_true (view.deadline == td_msg_deadline (msg));
    //  Slices point into the caller's bytes.
    const char *lo = (const char *) data, *hi = lo + size;
    assert_true (view.id >= lo && view.id + view.id_len <= hi);
    assert_true (view.rid >= lo && view.rid + view.rid_len <= hi);
    assert_true (view.type >= lo && view.type + view.type_len <= hi);
    //  auth and body: the slices unpack to the objects decode found (nil when absent).
    const void *slices [2] = { view.auth, view.body };
    size_t sizes [2] = { view.auth_size, view.body_size };
    const msgpack_object *objs [2] = { td_msg_auth (msg), td_msg_body (msg) };
    for (int i = 0; i < 2; i++) {
        if (!slices [i]) {
            assert_int_equal (sizes [i], 0);
            assert_int_equal (objs [i]->type, MSGPACK_OBJECT_NIL);
            continue;
        }
        assert_true ((const char *) slices [i] >= lo && (const char *) slices [i] + sizes [i] <= hi);
        msgpack_zone zone;
        assert_true (msgpack_zone_init (&zone, 1024));
        msgpack_object o;
        size_t off = 0;
        assert_int_equal (msgpack_unpack ((const char *) slices [i], sizes [i], &off, &zone, &o),
                          MSGPACK_UNPACK_SUCCESS);
        assert_int_equal (off, sizes [i]);
        assert_true (msgpack_object_equal (o, *objs [i]));
        msgpack_zone_destroy (&zone);
    }
    td_msg_destroy (&msg);
    return 0;
}

static void
s_ok (const buf_t *m)
{
    assert_int_equal (s_same (m->b, m->n), 0);
}

//  Both refuse, with this field ("" for none).
static void
s_bad (const buf_t *m, const char *field)
{
    assert_int_equal (s_same (m->b, m->n), -1);
    td_error_t err;
    assert_int_equal (td_request_peek (m->b, m->n, NULL, &err), -1);
    assert_int_equal (err.code, TD_ERR_INVALID_INPUT);
    assert_string_equal (err.field, field);
}

//  A request packed by the constructor.
static void
s_packed (buf_t *m, const td_request_spec_t *spec)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    td_error_t err;
    assert_int_equal (td_request_pack (&sb, spec, &err), 0);
    m->n = 0;
    s_put (m, sb.data, sb.size);
    msgpack_sbuffer_destroy (&sb);
}

static void
test_valid (void **state)
{
    (void) state;
    buf_t m;
    s_base (&m, 0);
    s_ok (&m);
    td_error_t err;
    td_request_view_t view;
    assert_int_equal (td_request_peek (m.b, m.n, &view, &err), 0);
    s_slice_eq (view.id, view.id_len, "r1");
    s_slice_eq (view.rid, view.rid_len, "r1");
    s_slice_eq (view.type, view.type_len, "ping");
    assert_true (view.deadline == 0);
    assert_null (view.auth);
    assert_null (view.body);

    //  From the constructor: rid, deadline, auth, body.
    unsigned char auth [] = { 0x81, 0xa4, 'u', 's', 'e', 'r', 0xa1, 'u' };
    unsigned char body [] = { 0x92, 0x01, 0x81, 0xa1, 'k', 0xc4, 0x02, 0xff, 0x00 };
    td_request_spec_t spec = {
        .id = "abc", .rid = "trace-1", .type = "grade.submit", .deadline = 1795860000123LL,
        .auth = auth, .auth_size = sizeof auth, .body = body, .body_size = sizeof body
    };
    s_packed (&m, &spec);
    s_ok (&m);
    assert_int_equal (td_request_peek (m.b, m.n, &view, &err), 0);
    s_slice_eq (view.rid, view.rid_len, "trace-1");
    s_slice_eq (view.type, view.type_len, "grade.submit");
    assert_true (view.deadline == 1795860000123LL);
    assert_int_equal (view.auth_size, sizeof auth);
    assert_memory_equal (view.auth, auth, sizeof auth);
    assert_int_equal (view.body_size, sizeof body);
    assert_memory_equal (view.body, body, sizeof body);
    spec.rid = NULL;
    spec.auth = NULL;
    spec.body = NULL;
    s_packed (&m, &spec);               //  rid falls back to id; auth and body nil
    s_ok (&m);

    //  Unknown keys are ignored, wherever they are; keys in any order.
    m.n = 0;
    s_map (&m, 6);
    s_str (&m, "x-extra"); s_byte (&m, 0x93); s_byte (&m, 1); s_byte (&m, 2); s_byte (&m, 3);
    s_str (&m, "type"); s_str (&m, "status");
    s_str (&m, "rid"); s_str (&m, "R");
    s_str (&m, "id"); s_str (&m, "I");
    s_str (&m, "deadlines"); s_byte (&m, 0xc0);      //  not "deadline"
    s_str (&m, "v"); s_byte (&m, 1);
    s_ok (&m);

    //  Every int encoding of v = 1 and of a deadline.
    const unsigned char ones [][9] = {
        { 0xcc, 1 }, { 0xcd, 0, 1 }, { 0xce, 0, 0, 0, 1 }, { 0xcf, 0, 0, 0, 0, 0, 0, 0, 1 },
        { 0xd0, 1 }, { 0xd1, 0, 1 }, { 0xd2, 0, 0, 0, 1 }, { 0xd3, 0, 0, 0, 0, 0, 0, 0, 1 }
    };
    const size_t one_size [] = { 2, 3, 5, 9, 2, 3, 5, 9 };
    for (size_t i = 0; i < 8; i++) {
        m.n = 0;
        s_map (&m, 3);
        s_str (&m, "v"); s_put (&m, ones [i], one_size [i]);
        s_str (&m, "id"); s_str (&m, "x");
        s_str (&m, "type"); s_str (&m, "a");
        s_ok (&m);
        s_base (&m, 1);
        s_str (&m, "deadline"); s_put (&m, ones [i], one_size [i]);
        s_ok (&m);
    }
    s_base (&m, 1);                     //  INT64_MAX as int64 and as uint64
    s_str (&m, "deadline");
    s_put (&m, (unsigned char []) { 0xd3, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, 9);
    s_ok (&m);
    s_base (&m, 1);
    s_str (&m, "deadline");
    s_put (&m, (unsigned char []) { 0xcf, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, 9);
    s_ok (&m);
    s_base (&m, 1);
    s_str (&m, "deadline"); s_byte (&m, 0);
    s_ok (&m);

    //  map16 and map32 envelopes; str8/str16 strings; a bin body; nil auth, empty map auth.
    m.n = 0;
    s_put (&m, (unsigned char []) { 0xde, 0, 5 }, 3);
    s_str (&m, "v"); s_byte (&m, 1);
    s_str (&m, "id"); s_put (&m, (unsigned char []) { 0xda, 0, 2, 'i', 'd' }, 5);
    s_str (&m, "type"); s_put (&m, (unsigned char []) { 0xd9, 3, 'a', '-', '9' }, 5);
    s_str (&m, "auth"); s_byte (&m, 0xc0);
    s_str (&m, "body"); s_put (&m, (unsigned char []) { 0xc6, 0, 0, 0, 1, 0 }, 6);
    s_ok (&m);
    m.n = 0;
    s_put (&m, (unsigned char []) { 0xdf, 0, 0, 0, 4 }, 5);
    s_str (&m, "v"); s_byte (&m, 1);
    s_str (&m, "id"); s_str (&m, "x");
    s_str (&m, "type"); s_str (&m, "z");
    s_str (&m, "auth"); s_put (&m, (unsigned char []) { 0xde, 0, 0 }, 3);
    s_ok (&m);

    //  Longest id, rid and type.
    char id [TD_MAX_ID + 1], type [TD_MAX_NAME + 1];
    memset (id, 'x', TD_MAX_ID);
    id [TD_MAX_ID] = 0;
    memset (type, 'y', TD_MAX_NAME);
    type [TD_MAX_NAME] = 0;
    td_request_spec_t longest = { .id = id, .rid = id, .type = type };
    s_packed (&m, &longest);
    s_ok (&m);
}

static void
test_required (void **state)
{
    (void) state;
    const char *keys [] = { "v", "id", "type" };
    for (int skip = 0; skip < 3; skip++) {
        buf_t m = { .n = 0 };
        s_map (&m, 2);
        for (int k = 0; k < 3; k++) {
            if (k == skip)
                continue;
            s_str (&m, keys [k]);
            if (k == 0)
                s_byte (&m, 1);
            else
                s_str (&m, "abc");
        }
        s_bad (&m, keys [skip]);
    }
    buf_t m = { .n = 0 };
    s_map (&m, 0);
    s_bad (&m, "v");                    //  v is checked first
}

static void
test_types (void **state)
{
    (void) state;
    buf_t m;
    //  v: other versions, float, str, nil, bool, negative.
    const unsigned char vs [][9] = {
        { 0x02 }, { 0x00 }, { 0xff }, { 0xc0 }, { 0xc3 }, { 0xa1, '1' },
        { 0xca, 0x3f, 0x80, 0, 0 }, { 0xcb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0 },
        { 0xcf, 0x80, 0, 0, 0, 0, 0, 0, 1 }, { 0x91, 0x01 }, { 0x81, 0xa1, 'v', 0x01 },
        { 0xc4, 1, 1 }
    };
    const size_t vsize [] = { 1, 1, 1, 1, 1, 2, 5, 9, 9, 2, 4, 3 };
    for (size_t i = 0; i < sizeof vsize / sizeof vsize [0]; i++) {
        m.n = 0;
        s_map (&m, 3);
        s_str (&m, "v"); s_put (&m, vs [i], vsize [i]);
        s_str (&m, "id"); s_str (&m, "x");
        s_str (&m, "type"); s_str (&m, "a");
        s_bad (&m, "v");
    }
    //  id, rid, type: not str (int, nil, bin, map, array, bool, float).
    const unsigned char others [][5] = {
        { 0x01 }, { 0xc0 }, { 0xc4, 1, 'a' }, { 0x80 }, { 0x90 }, { 0xc2 },
        { 0xca, 0, 0, 0, 0 }, { 0xe0 }
    };
    const size_t osize [] = { 1, 1, 3, 1, 1, 1, 5, 1 };
    const char *fields [] = { "id", "rid", "type" };
    for (int f = 0; f < 3; f++)
        for (size_t i = 0; i < sizeof osize / sizeof osize [0]; i++) {
            m.n = 0;
            s_map (&m, 4);
            s_str (&m, "v"); s_byte (&m, 1);
            for (int g = 0; g < 3; g++) {
                s_str (&m, fields [g]);
                if (g == f)
                    s_put (&m, others [i], osize [i]);
                else
                    s_str (&m, g == 2 ? "ping" : "x");
            }
            s_bad (&m, fields [f]);
        }
    //  deadline: negative, float, nil, str, uint64 above INT64_MAX, bool, map.
    const unsigned char ds [][9] = {
        { 0xff }, { 0xd0, 0x80 }, { 0xd3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
        { 0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0 }, { 0xca, 0, 0, 0, 0 }, { 0xc0 }, { 0xa1, '1' },
        { 0xcf, 0x80, 0, 0, 0, 0, 0, 0, 0 }, { 0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
        { 0xc2 }, { 0x80 }
    };
    const size_t dsize [] = { 1, 2, 9, 9, 5, 1, 2, 9, 9, 1, 1 };
    for (size_t i = 0; i < sizeof dsize / sizeof dsize [0]; i++) {
        s_base (&m, 1);
        s_str (&m, "deadline"); s_put (&m, ds [i], dsize [i]);
        s_bad (&m, "deadline");
    }
    //  auth: anything but a map or nil.
    const unsigned char as [][9] = {
        { 0x90 }, { 0x01 }, { 0xa0 }, { 0xc3 }, { 0xc4, 0 }, { 0xdc, 0, 0 },
        { 0xcb, 0, 0, 0, 0, 0, 0, 0, 0 }
    };
    const size_t asize [] = { 1, 1, 1, 1, 2, 3, 9 };
    for (size_t i = 0; i < sizeof asize / sizeof asize [0]; i++) {
        s_base (&m, 1);
        s_str (&m, "auth"); s_put (&m, as [i], asize [i]);
        s_bad (&m, "auth");
    }
    //  body: anything goes.
    const unsigned char bs [][5] = { { 0x90 }, { 0x01 }, { 0xa0 }, { 0xc3 }, { 0xc4, 0 }, { 0xc0 } };
    const size_t bsize [] = { 1, 1, 1, 1, 2, 1 };
    for (size_t i = 0; i < sizeof bsize / sizeof bsize [0]; i++) {
        s_base (&m, 1);
        s_str (&m, "body"); s_put (&m, bs [i], bsize [i]);
        s_ok (&m);
    }
    //  The rules are applied in order: a bad v wins over a missing id, a bad id over a bad type.
    m.n = 0;
    s_map (&m, 2);
    s_str (&m, "v"); s_byte (&m, 2);
    s_str (&m, "type"); s_byte (&m, 1);
    s_bad (&m, "v");
    m.n = 0;
    s_map (&m, 4);
    s_str (&m, "deadline"); s_byte (&m, 0xff);
    s_str (&m, "type"); s_str (&m, "Bad");
    s_str (&m, "id"); s_str (&m, "");
    s_str (&m, "v"); s_byte (&m, 1);
    s_bad (&m, "id");
}

static void
test_lengths_and_names (void **state)
{
    (void) state;
    char big [TD_MAX_ID + 2];
    memset (big, 'q', sizeof big);
    buf_t m;
    const char *fields [] = { "id", "rid", "type" };
    for (int f = 0; f < 3; f++) {
        size_t max = f == 2 ? TD_MAX_NAME : TD_MAX_ID;
        size_t lens [] = { 0, 1, max, max + 1 };
        for (int l = 0; l < 4; l++) {
            m.n = 0;
            s_map (&m, 4);
            s_str (&m, "v"); s_byte (&m, 1);
            for (int g = 0; g < 3; g++) {
                s_str (&m, fields [g]);
                if (g == f)
                    s_strn (&m, big, lens [l]);
                else
                    s_str (&m, g == 2 ? "ping" : "x");
            }
            if (lens [l] == 0 || lens [l] > max)
                s_bad (&m, fields [f]);
            else
                s_ok (&m);
        }
        //  NUL anywhere is refused.
        const char *with_nul [] = { "\0ab", "a\0b", "ab\0" };
        for (int k = 0; k < 3; k++) {
            m.n = 0;
            s_map (&m, 4);
            s_str (&m, "v"); s_byte (&m, 1);
            for (int g = 0; g < 3; g++) {
                s_str (&m, fields [g]);
                if (g == f)
                    s_strn (&m, with_nul [k], 3);
                else
                    s_str (&m, g == 2 ? "ping" : "x");
            }
            s_bad (&m, fields [f]);
        }
    }
    //  type must be a name.
    const char *bad_names [] = { "Ping", "1ping", "-a", "_a", ".a", "a b", "a/b", "pïng", "a:b",
                                 "a\tb", "A" };
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names [0]; i++) {
        m.n = 0;
        s_map (&m, 3);
        s_str (&m, "v"); s_byte (&m, 1);
        s_str (&m, "id"); s_str (&m, "x");
        s_str (&m, "type"); s_str (&m, bad_names [i]);
        s_bad (&m, "type");
    }
    const char *good_names [] = { "a", "z9", "a.b", "a-b_c.d", "a..", "a-", "ping" };
    for (size_t i = 0; i < sizeof good_names / sizeof good_names [0]; i++) {
        m.n = 0;
        s_map (&m, 3);
        s_str (&m, "v"); s_byte (&m, 1);
        s_str (&m, "id"); s_str (&m, "x");
        s_str (&m, "type"); s_str (&m, good_names [i]);
        s_ok (&m);
    }
    //  ids may hold any UTF-8 but NUL.
    m.n = 0;
    s_map (&m, 4);
    s_str (&m, "v"); s_byte (&m, 1);
    s_str (&m, "id"); s_str (&m, "é \x01 \x7f ✓");
    s_str (&m, "rid"); s_str (&m, " ");
    s_str (&m, "type"); s_str (&m, "a");
    s_ok (&m);
}

static void
test_repeated_keys (void **state)
{
    (void) state;
    //  Every key td_msg_decode knows is refused when repeated, even the ones requests do not use.
    const char *known [] = { "v", "id", "rid", "type", "deadline", "auth", "body", "kind",
                             "status", "seq", "error", "source", "time", "org", "user",
                             "subject", "data" };
    buf_t m;
    for (size_t i = 0; i < sizeof known / sizeof known [0]; i++) {
        s_base (&m, 2);
        s_str (&m, known [i]); s_byte (&m, 0xc0);
        s_str (&m, known [i]); s_byte (&m, 0xc0);
        s_bad (&m, known [i]);
        if (i >= 3) {                   //  once is fine (or a rule about its value)
            s_base (&m, 1);
            s_str (&m, known [i]); s_byte (&m, 0xc0);
            s_same (m.b, m.n);
        }
    }
    //  The first repeat in map order is reported, before any rule is applied.
    m.n = 0;
    s_map (&m, 4);
    s_str (&m, "kind"); s_byte (&m, 1);
    s_str (&m, "rid"); s_byte (&m, 1);
    s_str (&m, "rid"); s_byte (&m, 1);
    s_str (&m, "kind"); s_byte (&m, 1);
    s_bad (&m, "rid");
    //  Unknown keys may repeat; near misses are unknown.
    s_base (&m, 4);
    s_str (&m, "x"); s_byte (&m, 1);
    s_str (&m, "x"); s_byte (&m, 2);
    s_str (&m, "ID"); s_byte (&m, 2);
    s_strn (&m, "id\0", 3); s_byte (&m, 2);
    s_ok (&m);
}

static void
test_deep_and_not_map (void **state)
{
    (void) state;
    buf_t m;
    //  Body nested to the limit (the envelope is level 1), and one beyond.
    for (int depth = TD_MAX_DEPTH - 2; depth <= TD_MAX_DEPTH + 1; depth++) {
        s_base (&m, 1);
        s_str (&m, "body");
        for (int d = 0; d < depth; d++)
            s_byte (&m, 0x91);
        s_byte (&m, 0x90);              //  the innermost, empty
        if (depth + 2 <= TD_MAX_DEPTH)
            s_ok (&m);
        else
            s_bad (&m, "");
    }
    s_base (&m, 1);                     //  a deep map in auth
    s_str (&m, "auth");
    for (int d = 0; d < TD_MAX_DEPTH - 2; d++) {
        s_byte (&m, 0x81);
        s_str (&m, "k");
    }
    s_byte (&m, 0x80);
    s_ok (&m);
    //  Not a map, empty, ext, trailing bytes, non-string keys, bad UTF-8.
    const unsigned char *cases [] = {
        (const unsigned char *) "\x90", (const unsigned char *) "\x01",
        (const unsigned char *) "\xa1x", (const unsigned char *) "\xc0",
        (const unsigned char *) "\xd4\x01\x02", (const unsigned char *) "\x80\x80",
        (const unsigned char *) "\x81\x01\x01", (const unsigned char *) "\x81\xa1\xff\x01",
        (const unsigned char *) "\xdc\x00\x00", (const unsigned char *) "\xc1"
    };
    const size_t sizes [] = { 1, 1, 2, 1, 3, 2, 3, 4, 3, 1 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes [0]; i++) {
        m.n = 0;
        s_put (&m, cases [i], sizes [i]);
        s_bad (&m, "");
    }
    assert_int_equal (s_same ("", 0), -1);
    assert_int_equal (s_same (NULL, 0), -1);
    //  Too large: td_mp_check refuses on size alone.
    size_t huge = TD_MAX_MESSAGE + 1;
    unsigned char *big = calloc (1, huge);
    assert_non_null (big);
    big [0] = 0x80;
    assert_int_equal (s_same (big, huge), -1);
    td_error_t err;
    assert_int_equal (td_request_peek (big, huge, NULL, &err), -1);
    assert_int_equal (err.code, TD_ERR_TOO_LARGE);
    free (big);
}

//  Every prefix and every one-byte change of a few valid requests: same verdict throughout.
static void
test_prefixes_and_mutations (void **state)
{
    (void) state;
    unsigned char auth [] = { 0x82, 0xa4, 'u', 's', 'e', 'r', 0xa1, 'u', 0xa5, 'r', 'o', 'l',
                              'e', 's', 0x91, 0xa5, 'a', 'd', 'm', 'i', 'n' };
    unsigned char body [] = { 0x83, 0xa1, 'k', 0xcb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0,
                              0xa1, 'b', 0xc4, 0x02, 0xff, 0x00,
                              0xa1, 'n', 0x92, 0xd1, 0x80, 0x00, 0xdc, 0x00, 0x01, 0xc3 };
    td_request_spec_t specs [] = {
        { .id = "r1", .type = "ping" },
        { .id = "0123456789abcdef", .rid = "trace", .type = "grade.submit",
          .deadline = 1795860000123LL, .auth = auth, .auth_size = sizeof auth,
          .body = body, .body_size = sizeof body },
    };
    size_t accepted = 0, refused = 0;
    for (size_t s = 0; s < sizeof specs / sizeof specs [0]; s++) {
        buf_t m;
        s_packed (&m, &specs [s]);
        for (size_t len = 0; len < m.n; len++)
            assert_int_equal (s_same (m.b, len), -1);
        for (size_t at = 0; at < m.n; at++) {
            unsigned char keep = m.b [at];
            for (int v = 0; v < 256; v++) {
                m.b [at] = (unsigned char) v;
                if (s_same (m.b, m.n) == 0)
                    accepted++;
                else
                    refused++;
            }
            m.b [at] = keep;
        }
    }
    assert_true (accepted > 100 && refused > 100);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_valid),
        cmocka_unit_test (test_required),
        cmocka_unit_test (test_types),
        cmocka_unit_test (test_lengths_and_names),
        cmocka_unit_test (test_repeated_keys),
        cmocka_unit_test (test_deep_and_not_map),
        cmocka_unit_test (test_prefixes_and_mutations),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
