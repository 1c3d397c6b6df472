/*  td_llm_util — replies, request parsing and event publishing shared by the llm verb files.
 */
#include <ctype.h>
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
    td_error_t err;
    const msgpack_object *o = td_mp_get (td_call_body (call), "body");
    json_t *j = o? td_mp_to_json (o, &err): NULL;
    if (j && !json_is_object (j)) {
        json_decref (j);
        j = NULL;
    }
    return j;
}

bool
td_llm_param (td_call_t *call, const char *key, char *buf, size_t size)
{
    buf [0] = 0;
    return td_mp_strcpy (td_mp_get (td_call_body (call), key), buf, size);
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
