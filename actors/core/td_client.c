/*  td_client — the client side of the request plane (td_wire.h): a DEALER that sends
 *  ["TDC1" 0x01 service][request] and reads ["TDC1" 0x02|0x03 service][reply], each merged
 *  into one frame when the body is small (td_wire_send; both layouts are read).
 *
 *  Why: the bridge, tutorctl, tests, benchmarks and actors calling other services all need the
 *  same three things — send without blocking, read one validated reply, and call-and-wait that
 *  never outlives its timeout. Replies are validated with td_msg_decode before the caller sees
 *  them; anything else from the socket is dropped.
 */
#include <czmq.h>
#include <errno.h>
#include <string.h>

#include "td_client.h"
#include "td_wire.h"
#include "td_log.h"

struct td_client {
    zsock_t *sock;
    void *handle;                   //  libzmq handle of sock
    msgpack_sbuffer sbuf;           //  reused by td_client_call
};

td_client_t *
td_client_new (const char *endpoint)
{
    if (!endpoint)
        return NULL;
    td_client_t *self = (td_client_t *) calloc (1, sizeof (td_client_t));
    if (!self)
        return NULL;
    msgpack_sbuffer_init (&self->sbuf);
    self->sock = zsock_new (ZMQ_DEALER);
    if (!self->sock) {
        td_client_destroy (&self);
        return NULL;
    }
    zsock_set_linger (self->sock, 0);
    zsock_set_sndhwm (self->sock, 100000);
    zsock_set_rcvhwm (self->sock, 100000);
    zsock_set_maxmsgsize (self->sock, TD_MAX_MESSAGE + 65536);
    self->handle = zsock_resolve (self->sock);
    if (zsock_connect (self->sock, "%s", endpoint)) {
        td_warn ("client", NULL, "cannot connect to %s", endpoint);
        td_client_destroy (&self);
        return NULL;
    }
    return self;
}

void
td_client_destroy (td_client_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    td_client_t *self = *self_p;
    zsock_destroy (&self->sock);
    msgpack_sbuffer_destroy (&self->sbuf);
    free (self);
    *self_p = NULL;
}

zsock_t *
td_client_sock (td_client_t *self)
{
    return self->sock;
}

int
td_client_send (td_client_t *self, const char *service, const void *request, size_t size)
{
    if (!service || !td_name_valid (service) || !request || size == 0)
        return -1;
    return td_wire_send (self->handle, TD_WIRE_CLIENT, TD_C_REQUEST, service, strlen (service),
                         request, size);
}

//  Receive one whole message without waiting; NULL with err set when it is not a valid reply.
static td_msg_t *
s_recv_one (td_client_t *self, bool *final, td_error_t *err, bool *got)
{
    zmq_msg_t parts [3];            //  one more than a message has, so extras are seen
    bool overflow;
    *got = false;
    size_t n = td_wire_recv_parts (self->handle, parts, 3, &overflow);
    if (n == 0)
        return NULL;
    *got = true;
    td_msg_t *msg = NULL;
    td_wire_msg_t wire;
    byte cmd = 0;
    if (overflow
    ||  td_wire_read (parts, n, TD_WIRE_CLIENT, &wire, NULL) != TD_WIRE_OK
    ||  ((cmd = wire.cmd) != TD_C_PARTIAL && cmd != TD_C_FINAL)
    ||  !wire.has_body || wire.arg_size == 0 || wire.arg_size > TD_WIRE_ARG_MAX)
        td_error_set (err, TD_ERR_INVALID_INPUT, NULL, "a malformed message from the broker was dropped");
    else {
        msg = td_msg_decode (TD_MSG_REPLY, wire.body, wire.body_size, err);
        if (msg && (cmd == TD_C_FINAL) != (td_msg_kind (msg) == TD_MSG_REPLY)) {
            td_msg_destroy (&msg);
            td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                          "the broker framed a reply as the wrong kind; dropped");
        }
    }
    for (size_t i = 0; i < n; i++)
        zmq_msg_close (&parts [i]);
    if (msg && final)
        *final = cmd == TD_C_FINAL;
    return msg;
}

td_msg_t *
td_client_recv (td_client_t *self, int timeout_ms, bool *final, td_error_t *err)
{
    td_error_t local;
    if (!err)
        err = &local;
    int64_t end = timeout_ms > 0? zclock_mono () + timeout_ms: 0;
    while (true) {
        bool got;
        td_msg_t *msg = s_recv_one (self, final, err, &got);
        if (got)
            return msg;             //  a reply, or NULL for an invalid message (err set)
        int wait = timeout_ms;
        if (timeout_ms > 0) {
            int64_t left = end - zclock_mono ();
            if (left <= 0) {
                td_error_set (err, TD_ERR_TIMEOUT, NULL, "no reply within %d ms", timeout_ms);
                return NULL;
            }
            wait = (int) left;
        }
        else
        if (timeout_ms == 0) {
            td_error_set (err, TD_ERR_TIMEOUT, NULL, "no reply waiting");
            return NULL;
        }
        zmq_pollitem_t item = { self->handle, 0, ZMQ_POLLIN, 0 };
        int rc = zmq_poll (&item, 1, wait);
        if (rc < 0) {
            td_error_set (err, TD_ERR_UNAVAILABLE, NULL, "interrupted while waiting for a reply");
            return NULL;
        }
    }
}

td_msg_t *
td_client_call (td_client_t *self, const char *service, const td_request_spec_t *spec,
                int timeout_ms, td_error_t *err)
{
    td_error_t local;
    if (!err)
        err = &local;
    if (!spec || !spec->id) {
        td_error_set (err, TD_ERR_INVALID_INPUT, "id", "a request needs an id");
        return NULL;
    }
    td_request_spec_t copy = *spec;
    if (copy.deadline == 0 && timeout_ms >= 0)
        copy.deadline = td_now_ms () + timeout_ms;
    msgpack_sbuffer_clear (&self->sbuf);
    if (td_request_pack (&self->sbuf, &copy, err))
        return NULL;
    if (td_client_send (self, service, self->sbuf.data, self->sbuf.size)) {
        if (service && td_name_valid (service))
            td_error_set (err, TD_ERR_UNAVAILABLE, NULL, "the request could not be queued");
        else
            td_error_set (err, TD_ERR_INVALID_INPUT, "service", "the service name is not valid");
        return NULL;
    }
    int64_t end = timeout_ms >= 0? zclock_mono () + timeout_ms: 0;
    while (true) {
        int wait = -1;
        if (timeout_ms >= 0) {
            int64_t left = end - zclock_mono ();
            wait = left > 0? (int) left: 0;
        }
        bool final = false;
        td_msg_t *msg = td_client_recv (self, wait, &final, err);
        if (msg) {
            if (final && streq (td_msg_id (msg), spec->id))
                return msg;
            td_msg_destroy (&msg);  //  a partial, or a stale reply to an earlier call
        }
        else
        if (err->code != TD_ERR_INVALID_INPUT) {
            if (err->code == TD_ERR_TIMEOUT)
                td_error_set (err, TD_ERR_TIMEOUT, NULL, "%s did not answer within %d ms",
                              service, timeout_ms);
            return NULL;
        }
        if (timeout_ms >= 0 && zclock_mono () >= end) {
            td_error_set (err, TD_ERR_TIMEOUT, NULL, "%s did not answer within %d ms",
                          service, timeout_ms);
            return NULL;
        }
    }
}
