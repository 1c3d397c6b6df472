/*  td_test — helpers the C integration tests share (header only; include after cmocka.h).
 *
 *  td_test_env: a variable tools/check provides (TUTORD_TEST_DB...); missing is a failure, never
 *  a skip. td_test_wait_ping: an actor registers with the broker only after its init, so a test
 *  waits until its service answers ping before it starts. td_test_free_port / td_test_connect:
 *  a loopback TCP port nobody listens on now, and a connected socket to one. td_test_pack /
 *  td_test_call_json: a request whose body and auth map are written as JSON text, its reply read
 *  back as JSON.
 */
#ifndef TD_TEST_H
#define TD_TEST_H

#include <stdlib.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <string.h>
#include <czmq.h>
#include <jansson.h>
#include <msgpack.h>
#include "td_client.h"
#include "td_error.h"
#include "td_json.h"
#include "td_mp.h"

static inline const char *
td_test_env (const char *name)
{
    const char *v = getenv (name);
    if (!v || !*v)
        fail_msg ("%s is not set: run this test through tools/check", name);
    return v;
}

//  True once service answered ping 200, within ms.
static inline bool
td_test_wait_ping (td_client_t *client, const char *service, int ms)
{
    int64_t until = zclock_mono () + ms;
    while (zclock_mono () < until) {
        char id [33];
        td_new_id (id);
        td_request_spec_t spec = { .id = id, .type = "ping" };
        td_error_t err;
        td_msg_t *r = td_client_call (client, service, &spec, 1000, &err);
        int status = r? td_msg_status (r): 0;
        td_msg_destroy (&r);
        if (status == 200)
            return true;
        zclock_sleep (50);
    }
    return false;
}

//  A loopback TCP port free at this moment (bound, read back, released).
static inline int
td_test_free_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    socklen_t len = sizeof sa;
    assert_true (fd >= 0);
    assert_int_equal (bind (fd, (struct sockaddr *) &sa, sizeof sa), 0);
    assert_int_equal (getsockname (fd, (struct sockaddr *) &sa, &len), 0);
    close (fd);
    return ntohs (sa.sin_port);
}

//  A TCP socket connected to 127.0.0.1:port.
static inline int
td_test_connect (int port)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port),
                              .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    assert_true (fd >= 0);
    assert_int_equal (connect (fd, (struct sockaddr *) &sa, sizeof sa), 0);
    return fd;
}

//  Pack a JSON text as msgpack into buf; text that is not JSON fails the test.
static inline void
td_test_pack (const char *text, msgpack_sbuffer *buf)
{
    td_error_t err;
    json_t *j = td_json_parse (text, strlen (text), 0, &err);
    if (!j)
        fail_msg ("bad test JSON %s: %s", text, err.message);
    msgpack_packer pk;
    msgpack_packer_init (&pk, buf, msgpack_sbuffer_write);
    assert_int_equal (td_json_to_mp (j, &pk, &err), 0);
    json_decref (j);
}

//  Call service/type with body text (JSON) as auth (a JSON auth map); *status is the reply's.
//  Returns the reply body as JSON, or for an error {"code", "field"?}; the caller's to decref.
//  No reply within timeout_ms fails the test.
static inline json_t *
td_test_call_json (td_client_t *client, const char *service, const char *auth, const char *type,
                   const char *text, int timeout_ms, int *status)
{
    msgpack_sbuffer body, ab;
    msgpack_sbuffer_init (&body);
    msgpack_sbuffer_init (&ab);
    td_test_pack (text, &body);
    td_test_pack (auth, &ab);
    char id [33];
    td_new_id (id);
    td_request_spec_t spec = { .id = id, .type = type, .body = body.data, .body_size = body.size,
                               .auth = ab.data, .auth_size = ab.size };
    td_error_t err;
    td_msg_t *reply = td_client_call (client, service, &spec, timeout_ms, &err);
    msgpack_sbuffer_destroy (&body);
    msgpack_sbuffer_destroy (&ab);
    if (!reply)
        fail_msg ("no reply to %s %s: %s", type, text, err.message);
    *status = td_msg_status (reply);
    json_t *out = *status < 400? td_mp_to_json (td_msg_body (reply), &err)
                               : json_pack ("{s:s, s:s?}", "code",
                                            td_errcode_name (td_msg_error (reply)),
                                            "field", td_msg_error_field (reply));
    td_msg_destroy (&reply);
    return out;
}

#endif
