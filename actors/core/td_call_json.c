/*  td_call_json — JSON in and out of calls and events (see td_call_json.h). */
#include <string.h>
#include "td_access.h"
#include "td_call_json.h"
#include "td_json.h"
#include "td_mp.h"

json_t *
td_call_body_json (td_call_t *call)
{
    td_error_t err;
    td_error_clear (&err);
    const msgpack_object *o = td_mp_get (td_call_body (call), "body");
    json_t *j = o? td_mp_to_json (o, &err): NULL;
    if (j && !json_is_object (j)) {
        json_decref (j);
        j = NULL;
    }
    return j;
}

bool
td_call_param (td_call_t *call, const char *key, char *buf, size_t size)
{
    return td_mp_strcpy (td_mp_get (td_call_body (call), key), buf, size);
}

bool
td_call_user (td_call_t *call, char *user, size_t size, const char *what)
{
    td_error_t err;
    td_error_clear (&err);
    td_principal_t *p = td_principal_new (td_call_auth (call), &err);
    if (!p) {
        td_call_error (call, err.code, *err.field? err.field: NULL, "%s", err.message);
        return false;
    }
    bool ok = false;
    if (td_principal_kind (p) == TD_PRINCIPAL_ANONYMOUS)
        td_call_error (call, TD_ERR_UNAUTHORIZED, NULL, "sign in first: %s belong to a signed-in "
                       "user", what);
    else
    if (td_principal_kind (p) != TD_PRINCIPAL_USER || !td_principal_user (p)
    ||  strlen (td_principal_user (p)) >= size)
        td_call_error (call, TD_ERR_FORBIDDEN, NULL, "%s belong to a signed-in user", what);
    else {
        snprintf (user, size, "%s", td_principal_user (p));
        ok = true;
    }
    td_principal_destroy (&p);
    return ok;
}

bool
td_uuid_valid (const char *s)
{
    if (!s || strlen (s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        char c = s [i];
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash? c != '-': !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')
                              || (c >= 'A' && c <= 'F')))
            return false;
    }
    return true;
}

int
td_call_reply_json (td_call_t *call, int status, json_t *body)
{
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buf, msgpack_sbuffer_write);
    td_error_t err;
    td_error_clear (&err);
    int rc;
    if (!body)
        rc = td_call_error (call, TD_ERR_INTERNAL, NULL, "out of memory");
    else
    if (td_json_to_mp (body, &pk, &err) != 0)
        rc = td_call_error (call, TD_ERR_INTERNAL, NULL, "the answer could not be encoded: %s",
                            err.message);
    else
        rc = td_call_reply (call, status, buf.data, buf.size);
    msgpack_sbuffer_destroy (&buf);
    json_decref (body);
    return rc;
}

int
td_actor_publish_json (td_actor_t *actor, const char *type, const char *user, const char *org,
                       const char *subject, json_t *data)
{
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buf, msgpack_sbuffer_write);
    td_error_t err;
    td_error_clear (&err);
    int rc = -1;
    if (data && td_json_to_mp (data, &pk, &err) == 0) {
        td_event_spec_t ev = { .type = type, .user = user && *user? user: NULL,
                               .org = org && *org? org: NULL,
                               .subject = subject && *subject? subject: NULL,
                               .data = buf.data, .data_size = buf.size };
        rc = td_actor_publish (actor, &ev);
    }
    msgpack_sbuffer_destroy (&buf);
    json_decref (data);
    return rc;
}
