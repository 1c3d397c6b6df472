/*  td_llm_util — replies, request parsing and event publishing shared by the llm verb files.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "td_call_json.h"
#include "td_json.h"
#include "td_log.h"
#include "td_mp.h"
#include "td_llm.h"

int
td_llm_reply (td_call_t *call, int status, json_t *body)
{
    td_call_reply_json (call, status, body);
    return TD_ACTOR_OK;
}

int
td_llm_db_down (td_call_t *call)
{
    td_call_error_retry (call, TD_ERR_UNAVAILABLE, 1, NULL, "the database is not available");
    return TD_ACTOR_OK;
}

td_principal_t *
td_llm_principal (td_call_t *call)
{
    td_error_t err;
    td_principal_t *p = td_principal_new (td_call_auth (call), &err);
    if (!p)
        td_call_error (call, err.code, NULL, "%s", err.message);
    return p;
}

json_t *
td_llm_body (td_call_t *call)
{
    return td_call_body_json (call);
}

bool
td_llm_param (td_call_t *call, const char *key, char *buf, size_t size)
{
    buf [0] = 0;
    return td_call_param (call, key, buf, size);
}

bool
td_llm_uuid_valid (const char *s)
{
    return td_uuid_valid (s);
}

void
td_llm_publish (td_actor_t *actor, const char *type, const char *org, const char *user,
                const char *subject, json_t *data)
{
    td_actor_publish_json (actor, type, user, org, subject, data);
}

bool
td_llm_printable (const char *s)
{
    for (; *s; s++)
        if ((unsigned char) *s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

size_t
td_llm_utf8_chars (const char *s, size_t bytes)
{
    size_t n = 0;
    for (size_t i = 0; i < bytes; i++)
        n += ((unsigned char) s [i] & 0xC0) != 0x80;
    return n;
}

int
td_llm_text_append (char **buf, size_t *len, size_t *cap, const char *text, size_t n, size_t max)
{
    if (*len + n > max)
        return -1;
    if (*len + n + 1 > *cap) {
        size_t grown_cap = (*len + n + 1) * 2;
        char *grown = (char *) realloc (*buf, grown_cap);
        if (!grown)
            return -1;
        *buf = grown;
        *cap = grown_cap;
    }
    memcpy (*buf + *len, text, n);
    *len += n;
    (*buf) [*len] = 0;
    return 0;
}

int
td_llm_acall_json (td_acall_t *calls, const char *service, const char *type, const void *auth,
                   size_t auth_size, json_t *body, int timeout_ms, td_acall_fn *fn, void *arg,
                   td_error_t *err)
{
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buf, msgpack_sbuffer_write);
    td_error_clear (err);
    int rc = -1;
    if (body && td_json_to_mp (body, &pk, err) == 0) {
        td_request_spec_t spec = { .type = type, .auth = auth, .auth_size = auth_size,
                                   .body = buf.data, .body_size = buf.size };
        rc = td_acall_send (calls, service, &spec, timeout_ms, fn, arg, err);
    }
    msgpack_sbuffer_destroy (&buf);
    json_decref (body);
    return rc;
}
