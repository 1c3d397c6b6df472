/*  td_llm_lookup — asking the catalog for an item without blocking (LLM.md §1).
 *
 *  The call is kept; an item.get goes out on the actor's own td_client (its socket is watched by
 *  the actor loop) with the caller's own auth, so the catalog's access rules decide (404 when the
 *  caller may not see the item); then a second item.get with the system auth fetches the full
 *  item (reference solution included: exam mode and the helpers check answers against it; it is
 *  never returned). The broker's deadline (10 s) bounds each call. A draft lookup (the learner's
 *  latest code of an item, for the tutor) has no kept call: its callback gets the draft or NULL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "td_json.h"
#include "td_mp.h"
#include "td_llm.h"

struct td_llm_lookup {
    td_llm_lookup_t *next;
    char id [33];
    td_call_t *call;                //  NULL for a draft lookup (no call waits on it)
    int stage;                      //  1: as the caller, 2: last (as system for an item)
    const char *type;               //  "item.get" or "draft.get"
    char rid [64];
    char item_id [40];
    td_llm_item_fn *fn;
    void *arg;
};

static void
s_lookup_free (td_llm_t *llm, td_llm_lookup_t *l)
{
    for (td_llm_lookup_t **pp = &llm->lookups; *pp; pp = &(*pp)->next)
        if (*pp == l) {
            *pp = l->next;
            break;
        }
    free (l);
}

//  Send item.get to the catalog for l (auth: packed msgpack, or NULL for system).
static int
s_lookup_send (td_llm_t *llm, td_llm_lookup_t *l, const void *auth, size_t auth_size)
{
    msgpack_sbuffer body, sysauth, req;
    msgpack_sbuffer_init (&body);
    msgpack_sbuffer_init (&sysauth);
    msgpack_sbuffer_init (&req);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &body, msgpack_sbuffer_write);
    int rc = msgpack_pack_map (&pk, 2) || td_mp_pack_kv_str (&pk, "id", l->item_id)
          || td_mp_pack_str (&pk, "body") || msgpack_pack_nil (&pk);
    if (!auth) {
        msgpack_packer_init (&pk, &sysauth, msgpack_sbuffer_write);
        rc = rc || msgpack_pack_map (&pk, 1) || td_mp_pack_kv_str (&pk, "kind", "system");
        auth = sysauth.data;
        auth_size = sysauth.size;
    }
    td_new_id (l->id);
    td_request_spec_t spec = {
        .id = l->id, .rid = l->rid, .type = l->type,
        .deadline = td_now_ms () + 10000, .auth = auth, .auth_size = auth_size,
        .body = body.data, .body_size = body.size
    };
    td_error_t err;
    rc = rc || td_request_pack (&req, &spec, &err)
            || td_client_send (llm->client, "catalog", req.data, req.size);
    msgpack_sbuffer_destroy (&body);
    msgpack_sbuffer_destroy (&sysauth);
    msgpack_sbuffer_destroy (&req);
    return rc? -1: 0;
}

//  Answer the kept call (if any) with an error; then the callback learns of the failure.
static void
s_lookup_fail (td_actor_t *actor, td_llm_lookup_t *l, td_errcode_t code, const char *field,
               const char *message)
{
    td_llm_t *llm = td_llm_state (actor);
    td_llm_item_fn *fn = l->fn;
    void *arg = l->arg;
    td_call_t *call = l->call;
    if (call)
        td_call_error (call, code, field, "%s", message);
    s_lookup_free (llm, l);
    fn (actor, call, NULL, arg);
}

static void
s_lookup_reply (td_actor_t *actor, td_llm_lookup_t *l, td_msg_t *msg)
{
    td_llm_t *llm = td_llm_state (actor);
    int status = td_msg_status (msg);
    if (status == 404 || status == 403) {
        s_lookup_fail (actor, l, TD_ERR_NOT_FOUND, "item_id", "no such item");
        return;
    }
    if (status != 200) {
        td_errcode_t code = td_msg_error (msg);
        char message [300];
        snprintf (message, sizeof message, "the catalog could not give the item: %s",
                  td_msg_error_message (msg));
        s_lookup_fail (actor, l, code == TD_OK? TD_ERR_UNAVAILABLE: code, NULL, message);
        return;
    }
    if (l->stage == 1) {
        l->stage = 2;
        if (s_lookup_send (llm, l, NULL, 0) != 0)
            s_lookup_fail (actor, l, TD_ERR_UNAVAILABLE, NULL, "cannot reach the catalog");
        return;
    }
    td_error_t err;
    json_t *item = td_mp_to_json (td_msg_body (msg), &err);
    if (!json_is_object (item)) {
        json_decref (item);
        s_lookup_fail (actor, l, TD_ERR_UNAVAILABLE, NULL, "the catalog gave an unreadable item");
        return;
    }
    td_llm_item_fn *fn = l->fn;
    void *arg = l->arg;
    td_call_t *call = l->call;
    s_lookup_free (llm, l);
    fn (actor, call, item, arg);
    json_decref (item);
}

//  Start a lookup: its first request goes out with auth (the caller's, re-packed).
static td_llm_lookup_t *
s_lookup_start (td_actor_t *actor, td_call_t *call, const char *rid, const msgpack_object *auth,
                const char *type, int stage, const char *item_id, td_llm_item_fn *fn, void *arg)
{
    td_llm_t *llm = td_llm_state (actor);
    td_llm_lookup_t *l = (td_llm_lookup_t *) calloc (1, sizeof *l);
    if (!l)
        return NULL;
    l->call = call;
    l->stage = stage;
    l->type = type;
    l->fn = fn;
    l->arg = arg;
    snprintf (l->rid, sizeof l->rid, "%s", rid);
    snprintf (l->item_id, sizeof l->item_id, "%s", item_id);
    msgpack_sbuffer packed;
    msgpack_sbuffer_init (&packed);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &packed, msgpack_sbuffer_write);
    l->next = llm->lookups;
    llm->lookups = l;
    int rc = msgpack_pack_object (&pk, *auth);
    if (rc || s_lookup_send (llm, l, packed.data, packed.size) != 0) {
        msgpack_sbuffer_destroy (&packed);
        s_lookup_free (llm, l);
        return NULL;
    }
    msgpack_sbuffer_destroy (&packed);
    return l;
}

int
td_llm_draft_fetch (td_actor_t *actor, const char *rid, const msgpack_object *auth,
                    const char *item_id, td_llm_item_fn *fn, void *arg)
{
    return s_lookup_start (actor, NULL, rid, auth, "draft.get", 2, item_id, fn, arg)? 0: -1;
}

int
td_llm_item_fetch (td_actor_t *actor, td_call_t *call, const char *item_id, td_llm_item_fn *fn,
                   void *arg)
{
    //  the caller's own auth first, so the catalog applies its access rules
    if (!s_lookup_start (actor, call, td_call_rid (call), td_call_auth (call), "item.get", 1,
                         item_id, fn, arg))
        return -1;
    td_call_keep (call);
    return 0;
}

void
td_llm_lookup_ready (td_actor_t *actor, zsock_t *sock)
{
    (void) sock;
    td_llm_t *llm = td_llm_state (actor);
    for (int i = 0; i < 64; i++) {
        bool final = false;
        td_error_t err;
        td_msg_t *msg = td_client_recv (llm->client, 0, &final, &err);
        if (!msg)
            break;
        td_llm_lookup_t *l = llm->lookups;
        while (l && strcmp (l->id, td_msg_id (msg)) != 0)
            l = l->next;
        if (final && l)
            s_lookup_reply (actor, l, msg);
        td_msg_destroy (&msg);
    }
}

void
td_llm_lookup_stop_all (td_llm_t *llm)
{
    while (llm->lookups) {
        td_llm_lookup_t *l = llm->lookups;
        td_llm_item_fn *fn = l->fn;
        void *arg = l->arg;
        td_call_t *call = l->call;
        if (call)
            td_call_error (call, TD_ERR_UNAVAILABLE, NULL, "the llm service is stopping");
        s_lookup_free (llm, l);
        fn (llm->actor, call, NULL, arg);
    }
}
