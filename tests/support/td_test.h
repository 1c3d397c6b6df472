/*  td_test — helpers the C integration tests share (header only; include after cmocka.h).
 *
 *  td_test_env: a variable tools/check provides (TUTORD_TEST_DB...); missing is a failure, never
 *  a skip. td_test_wait_ping: an actor registers with the broker only after its init, so a test
 *  waits until its service answers ping before it starts.
 */
#ifndef TD_TEST_H
#define TD_TEST_H

#include <stdlib.h>
#include <czmq.h>
#include "td_client.h"

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

#endif
