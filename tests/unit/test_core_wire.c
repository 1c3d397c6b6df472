/*  test_core_wire — the two layouts of td_wire.h, parsed and built by td_wire.c.
 *
 *  Why: every party of the request plane (broker, worker, client) reads messages with
 *  td_wire_read, so a wrong bound there is a crash or an out-of-bounds read in all three.
 *  These tests build frames uint8_t by uint8_t (not with td_wire_merged, so the layout itself is
 *  checked), feed every malformed combination the protocol names, check td_wire_send picks the
 *  layout by size, and throw random frames at the parser under ASan.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <zmq.h>

#include "td_wire.h"

//  Initialise frames [0..n) from (data, size) pairs.
static void
s_frames (zmq_msg_t *frames, int n, ...)
{
    va_list ap;
    va_start (ap, n);
    for (int i = 0; i < n; i++) {
        const void *data = va_arg (ap, const void *);
        size_t size = va_arg (ap, size_t);
        assert_int_equal (zmq_msg_init_size (&frames [i], size), 0);
        if (size)
            memcpy (zmq_msg_data (&frames [i]), data, size);
    }
    va_end (ap);
}

static void
s_close (zmq_msg_t *frames, int n)
{
    for (int i = 0; i < n; i++)
        zmq_msg_close (&frames [i]);
}

//  Parse (data, size) as a one-frame message of protocol name.
static td_wire_rc_t
s_read1 (const void *data, size_t size, const char *name, td_wire_msg_t *msg)
{
    zmq_msg_t frame;
    s_frames (&frame, 1, data, size);
    const char *why = NULL;
    td_wire_rc_t rc = td_wire_read (&frame, 1, name, msg, &why);
    if (rc == TD_WIRE_BAD)
        assert_non_null (why);
    zmq_msg_close (&frame);
    return rc;
}

static void
test_split (void **state)
{
    (void) state;
    zmq_msg_t f [3];
    td_wire_msg_t m;
    s_frames (f, 2, "TDC1\x01" "echo", (size_t) 9, "\x80", (size_t) 1);
    assert_int_equal (td_wire_read (f, 2, TD_WIRE_CLIENT, &m, NULL), TD_WIRE_OK);
    assert_int_equal (m.cmd, TD_C_REQUEST);
    assert_false (m.merged);
    assert_int_equal (m.arg_size, 4);
    assert_memory_equal (m.arg, "echo", 4);
    assert_true (m.has_body);
    assert_int_equal (m.body_size, 1);
    assert_int_equal (m.body [0], 0x80);
    //  The same frames are not a worker's
    assert_int_equal (td_wire_read (f, 2, TD_WIRE_WORKER, &m, NULL), TD_WIRE_OTHER);
    //  Header alone: no body
    assert_int_equal (td_wire_read (f, 1, TD_WIRE_CLIENT, &m, NULL), TD_WIRE_OK);
    assert_false (m.has_body);
    s_close (f, 2);
    //  Three frames: bad
    s_frames (f, 3, "TDW1\x04" "12345678", (size_t) 13, "x", (size_t) 1, "y", (size_t) 1);
    assert_int_equal (td_wire_read (f, 3, TD_WIRE_WORKER, &m, NULL), TD_WIRE_BAD);
    s_close (f, 3);
    //  Short or foreign headers are not ours; no frames at all neither
    assert_int_equal (s_read1 ("TDC1", 4, TD_WIRE_CLIENT, &m), TD_WIRE_OTHER);
    assert_int_equal (s_read1 ("", 0, TD_WIRE_CLIENT, &m), TD_WIRE_OTHER);
    assert_int_equal (s_read1 ("tdc1\x01", 5, TD_WIRE_CLIENT, &m), TD_WIRE_OTHER);
    assert_int_equal (td_wire_read (f, 0, TD_WIRE_CLIENT, &m, NULL), TD_WIRE_OTHER);
    //  HEARTBEAT: a 5-uint8_t header, empty argument
    assert_int_equal (s_read1 ("TDW1\x05", 5, TD_WIRE_WORKER, &m), TD_WIRE_OK);
    assert_int_equal (m.cmd, TD_W_HEARTBEAT);
    assert_int_equal (m.arg_size, 0);
    assert_false (m.has_body);
}

static void
test_merged (void **state)
{
    (void) state;
    td_wire_msg_t m;
    //  ["TDW1" 0x84 8 ticket body]
    const uint8_t frame [] = "TDW1\x84\x08" "TICKET01" "\x81\xa1v\x01";
    size_t size = sizeof frame - 1;
    assert_int_equal (s_read1 (frame, size, TD_WIRE_WORKER, &m), TD_WIRE_OK);
    assert_true (m.merged);
    assert_int_equal (m.cmd, TD_W_FINAL);
    assert_int_equal (m.arg_size, 8);
    assert_memory_equal (m.arg, "TICKET01", 8);
    assert_true (m.has_body);
    assert_int_equal (m.body_offset, 14);
    assert_int_equal (m.body_size, 4);
    assert_memory_equal (m.body, "\x81\xa1v\x01", 4);
    //  An empty argument is fine for the parser (the command decides): one body uint8_t
    assert_int_equal (s_read1 ("TDW1\x85\x00x", 7, TD_WIRE_WORKER, &m), TD_WIRE_OK);
    assert_int_equal (m.cmd, TD_W_HEARTBEAT);
    assert_int_equal (m.arg_size, 0);
    assert_int_equal (m.body_size, 1);
}

static void
test_merged_malformed (void **state)
{
    (void) state;
    td_wire_msg_t m;
    uint8_t frame [32];
    memcpy (frame, "TDC1\x81\x04" "echo" "\x80", 11);
    assert_int_equal (s_read1 (frame, 11, TD_WIRE_CLIENT, &m), TD_WIRE_OK);
    //  No length uint8_t
    assert_int_equal (s_read1 ("TDC1\x81", 5, TD_WIRE_CLIENT, &m), TD_WIRE_BAD);
    //  Length uint8_t only
    assert_int_equal (s_read1 ("TDC1\x81\x00", 6, TD_WIRE_CLIENT, &m), TD_WIRE_BAD);
    //  Length reaching the end (no body uint8_t), and every length past it
    for (int len = 5; len < 256; len++) {
        frame [5] = (uint8_t) len;
        assert_int_equal (s_read1 (frame, 11, TD_WIRE_CLIENT, &m), TD_WIRE_BAD);
    }
    //  Every length inside is accepted, the body being what follows
    for (int len = 0; len < 5; len++) {
        frame [5] = (uint8_t) len;
        assert_int_equal (s_read1 (frame, 11, TD_WIRE_CLIENT, &m), TD_WIRE_OK);
        assert_int_equal (m.arg_size, len);
        assert_int_equal (m.body_size, 5 - len);
        assert_ptr_equal (m.arg + len, m.body);
    }
    //  Trailing frames after a merged one
    frame [5] = 4;
    zmq_msg_t f [3];
    s_frames (f, 2, frame, (size_t) 11, "x", (size_t) 1);
    const char *why = NULL;
    assert_int_equal (td_wire_read (f, 2, TD_WIRE_CLIENT, &m, &why), TD_WIRE_BAD);
    assert_non_null (why);
    s_close (f, 2);
    s_frames (f, 3, frame, (size_t) 11, "", (size_t) 0, "y", (size_t) 1);
    assert_int_equal (td_wire_read (f, 3, TD_WIRE_CLIENT, &m, NULL), TD_WIRE_BAD);
    s_close (f, 3);
}

static void
test_build (void **state)
{
    (void) state;
    zmq_msg_t frame;
    td_wire_msg_t m;
    assert_int_equal (td_wire_merged (&frame, TD_WIRE_CLIENT, TD_C_REQUEST, "echo", 4, "\x80", 1), 0);
    assert_int_equal (zmq_msg_size (&frame), 11);
    assert_memory_equal (zmq_msg_data (&frame), "TDC1\x81\x04" "echo" "\x80", 11);
    assert_int_equal (td_wire_read (&frame, 1, TD_WIRE_CLIENT, &m, NULL), TD_WIRE_OK);
    assert_int_equal (m.cmd, TD_C_REQUEST);
    zmq_msg_close (&frame);
    //  No body, or an argument over 64 bytes: refused, nothing to close
    char arg [TD_WIRE_ARG_MAX + 1];
    memset (arg, 'a', sizeof arg);
    assert_int_equal (td_wire_merged (&frame, TD_WIRE_CLIENT, TD_C_REQUEST, "echo", 4, "", 0), -1);
    assert_int_equal (td_wire_merged (&frame, TD_WIRE_CLIENT, TD_C_REQUEST, arg, sizeof arg,
                                      "\x80", 1), -1);
    assert_int_equal (td_wire_merged (&frame, TD_WIRE_CLIENT, TD_C_REQUEST, arg, TD_WIRE_ARG_MAX,
                                      "\x80", 1), 0);
    assert_int_equal (td_wire_read (&frame, 1, TD_WIRE_CLIENT, &m, NULL), TD_WIRE_OK);
    assert_int_equal (m.arg_size, TD_WIRE_ARG_MAX);
    zmq_msg_close (&frame);
    uint8_t head [TD_WIRE_HEAD_MAX];
    assert_int_equal (td_wire_head (head, TD_WIRE_WORKER, TD_W_HEARTBEAT, NULL, 0), 5);
    assert_int_equal (td_wire_head (head, TD_WIRE_WORKER, TD_W_READY, arg, sizeof arg), 0);
}

//  td_wire_send over an inproc pair: small bodies merged, large ones split, the limit movable.
static void
test_send_layout (void **state)
{
    (void) state;
    void *ctx = zmq_ctx_new ();
    assert_non_null (ctx);
    void *out = zmq_socket (ctx, ZMQ_PAIR), *in = zmq_socket (ctx, ZMQ_PAIR);
    assert_int_equal (zmq_bind (in, "inproc://test-core-wire"), 0);
    assert_int_equal (zmq_connect (out, "inproc://test-core-wire"), 0);
    size_t max = td_wire_merge_max ();
    assert_int_equal (max, TD_WIRE_MERGE_MAX);
    uint8_t *body = (uint8_t *) calloc (1, max + 1);
    assert_non_null (body);
    const size_t sizes [] = { 1, 100, max, max + 1 };
    for (int round = 0; round < 2; round++) {
        if (round == 1)
            td_wire_set_merge_max (0);          //  never merge
        for (size_t i = 0; i < sizeof sizes / sizeof sizes [0]; i++) {
            assert_int_equal (td_wire_send (out, TD_WIRE_WORKER, TD_W_FINAL, "TICKET01", 8,
                                            body, sizes [i]), 0);
            zmq_msg_t parts [3];
            bool overflow;
            size_t n = td_wire_recv_parts (in, parts, 3, &overflow);
            for (int wait = 0; n == 0 && wait < 100; wait++) {
                zmq_pollitem_t item = { in, 0, ZMQ_POLLIN, 0 };
                assert_true (zmq_poll (&item, 1, 10) >= 0);
                n = td_wire_recv_parts (in, parts, 3, &overflow);
            }
            assert_false (overflow);
            bool merge = round == 0 && sizes [i] <= max;
            assert_int_equal (n, merge? 1: 2);
            td_wire_msg_t m;
            assert_int_equal (td_wire_read (parts, n, TD_WIRE_WORKER, &m, NULL), TD_WIRE_OK);
            assert_int_equal (m.merged, merge);
            assert_int_equal (m.cmd, TD_W_FINAL);
            assert_int_equal (m.body_size, sizes [i]);
            assert_memory_equal (m.arg, "TICKET01", 8);
            s_close (parts, (int) n);
        }
    }
    td_wire_set_merge_max (TD_WIRE_MERGE_MAX);
    assert_false (td_wire_merges (0));
    assert_true (td_wire_merges (1));
    assert_false (td_wire_merges (TD_WIRE_MERGE_MAX + 1));
    //  A header alone (HEARTBEAT) is one frame whatever the limit
    assert_int_equal (td_wire_send (out, TD_WIRE_WORKER, TD_W_HEARTBEAT, NULL, 0, NULL, 0), 0);
    zmq_msg_t part;
    zmq_msg_init (&part);
    assert_int_equal (zmq_msg_recv (&part, in, 0), 5);
    assert_false (zmq_msg_more (&part));
    zmq_msg_close (&part);
    free (body);
    zmq_close (out);
    zmq_close (in);
    zmq_ctx_term (ctx);
}

//  Random frames of random sizes and counts, headers often ours with the merged bit: the parser
//  never reads outside them (ASan), and whatever it accepts lies inside the first frame.
static void
test_random (void **state)
{
    (void) state;
    srand (4711);
    uint8_t buf [300];
    for (int i = 0; i < 200000; i++) {
        size_t size = (size_t) (rand () % 80);
        for (size_t b = 0; b < size; b++)
            buf [b] = (uint8_t) rand ();
        if (size >= 4 && rand () % 4)
            memcpy (buf, rand () % 2? "TDC1": "TDW1", 4);
        if (size >= 5 && rand () % 2)
            buf [4] |= TD_WIRE_MERGED;
        if (size >= 6 && rand () % 2)
            buf [5] = (uint8_t) (rand () % (size + 2));
        int nframes = 1 + rand () % 3;
        zmq_msg_t f [3];
        s_frames (f, 1, buf, size);
        for (int k = 1; k < nframes; k++)
            s_frames (&f [k], 1, "zz", (size_t) (rand () % 3));
        td_wire_msg_t m;
        const char *name = rand () % 2? TD_WIRE_CLIENT: TD_WIRE_WORKER;
        td_wire_rc_t rc = td_wire_read (f, (size_t) nframes, name, &m, NULL);
        if (rc == TD_WIRE_OK && m.merged) {
            const uint8_t *start = (const uint8_t *) zmq_msg_data (&f [0]);
            assert_int_equal (nframes, 1);
            assert_true (m.body_size >= 1);
            assert_true (m.body + m.body_size == start + size);
            assert_true (m.arg + m.arg_size == m.body);
        }
        if (rc == TD_WIRE_OK && !m.merged)
            assert_int_equal (m.has_body, nframes == 2);
        s_close (f, nframes);
    }
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_split),
        cmocka_unit_test (test_merged),
        cmocka_unit_test (test_merged_malformed),
        cmocka_unit_test (test_build),
        cmocka_unit_test (test_send_layout),
        cmocka_unit_test (test_random),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
