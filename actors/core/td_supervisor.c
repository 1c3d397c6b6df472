/*  td_supervisor — keeps this process's actors running.
 *
 *  Per actor:   UP --its thread returned--> RESTARTING --backoff elapsed--> UP (restarts + 1)
 *
 *  An actor's death shows as an unsolicited message on its zactor pipe (the shim's final
 *  signal). The dead zactor is then destroyed: its thread has already left the function, so the
 *  "$TERM" that zactor_destroy sends may sit unread; a short receive timeout on the pipe keeps
 *  the destroy from waiting for an answer that will never come. Backoff doubles from
 *  backoff_min to backoff_max and falls back to the minimum once an actor stayed up 60 s, so a
 *  crash loop costs little and a rare crash is fixed fast. Every restart is logged and published
 *  as system.actor_restarted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "td_events.h"
#include "td_log.h"
#include "td_mp.h"
#include "td_supervisor.h"

#define STABLE_MS 60000

typedef struct {
    td_actor_args_t args;           //  what the actor thread reads; lives as long as the slot
    zactor_t *actor;                //  NULL while restarting
    int restarts;
    int backoff_ms;                 //  next backoff
    int64_t started_ms;
    int64_t restart_at_ms;          //  when RESTARTING
} slot_t;

typedef struct {
    const td_supervisor_args_t *args;
    zsock_t *pipe;
    slot_t *slots;
    size_t count;
    td_events_t *events;
    zpoller_t *poller;              //  rebuilt whenever the set of live actors changes
    bool terminated;
} self_t;

static int
s_start (self_t *self, slot_t *slot)
{
    slot->actor = zactor_new (td_actor_task, &slot->args);
    slot->started_ms = td_now_ms ();
    if (!slot->actor) {
        td_error ("supervisor", NULL, "cannot start actor %s", slot->args.spec->name);
        slot->restart_at_ms = td_now_ms () + slot->backoff_ms;
        return -1;
    }
    (void) self;
    return 0;
}

static int
s_rebuild_poller (self_t *self)
{
    zpoller_destroy (&self->poller);
    self->poller = zpoller_new (self->pipe, NULL);
    if (!self->poller)
        return -1;
    zpoller_set_nonstop (self->poller, true);
    for (size_t i = 0; i < self->count; i++)
        if (self->slots [i].actor && zpoller_add (self->poller, self->slots [i].actor) != 0)
            return -1;
    return 0;
}

static void
s_publish_restart (self_t *self, slot_t *slot, int backoff_ms)
{
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buf, msgpack_sbuffer_write);
    int rc = msgpack_pack_map (&pk, 3);
    rc |= td_mp_pack_kv_str (&pk, "actor", slot->args.spec->name);
    rc |= td_mp_pack_kv_int (&pk, "restarts", slot->restarts);
    rc |= td_mp_pack_kv_int (&pk, "backoff_ms", backoff_ms);
    td_event_spec_t ev = {
        .type = "system.actor_restarted", .source = "tutord/supervisor",
        .subject = slot->args.spec->name, .data = buf.data, .data_size = buf.size
    };
    td_error_t err;
    if (rc != 0 || td_events_publish (self->events, &ev, &err) != 0)
        td_warn ("supervisor", NULL, "cannot publish system.actor_restarted for %s",
                 slot->args.spec->name);
    msgpack_sbuffer_destroy (&buf);
}

//  The actor's thread has returned: collect it and schedule the restart.
static void
s_collect (self_t *self, slot_t *slot)
{
    zsock_set_rcvtimeo (zactor_sock (slot->actor), 200);
    zactor_destroy (&slot->actor);
    int64_t now = td_now_ms ();
    int min = self->args->backoff_min_ms > 0? self->args->backoff_min_ms: 100;
    int max = self->args->backoff_max_ms > 0? self->args->backoff_max_ms: 10000;
    if (now - slot->started_ms >= STABLE_MS)
        slot->backoff_ms = min;
    slot->restart_at_ms = now + slot->backoff_ms;
    td_error ("supervisor", NULL, "actor %s ended after %lld ms; restarting in %d ms",
              slot->args.spec->name, (long long) (now - slot->started_ms), slot->backoff_ms);
    slot->backoff_ms = slot->backoff_ms * 2 > max? max: slot->backoff_ms * 2;
}

static void
s_restart_due (self_t *self, bool *changed)
{
    int64_t now = td_now_ms ();
    for (size_t i = 0; i < self->count; i++) {
        slot_t *slot = &self->slots [i];
        if (slot->actor || now < slot->restart_at_ms)
            continue;
        if (s_start (self, slot) == 0) {
            slot->restarts++;
            td_info ("supervisor", NULL, "actor %s restarted (%d restarts)",
                     slot->args.spec->name, slot->restarts);
            s_publish_restart (self, slot, slot->backoff_ms / 2);
            *changed = true;
        }
    }
}

static int
s_next_timeout (self_t *self)
{
    int64_t now = td_now_ms ();
    int64_t timeout = 1000;
    for (size_t i = 0; i < self->count; i++)
        if (!self->slots [i].actor && self->slots [i].restart_at_ms - now < timeout)
            timeout = self->slots [i].restart_at_ms - now;
    return timeout < 0? 0: (int) timeout;
}

static void
s_status (self_t *self)
{
    json_t *root = json_object ();
    for (size_t i = 0; root && i < self->count; i++) {
        slot_t *slot = &self->slots [i];
        //  Several slots of one actor (TUTORD_SRS_WORKERS) show as one entry: "up" only when
        //  every slot is, restarts summed, and how many slots there are.
        json_t *one = json_object_get (root, slot->args.spec->name);
        if (one) {
            bool up = slot->actor && strcmp (json_string_value (json_object_get (one, "state")),
                                             "up") == 0;
            json_int_t restarts = json_integer_value (json_object_get (one, "restarts"));
            json_int_t slots = json_integer_value (json_object_get (one, "slots"));
            if (json_object_set_new (one, "state", json_string (up? "up": "restarting")) != 0
            ||  json_object_set_new (one, "restarts", json_integer (restarts + slot->restarts)) != 0
            ||  json_object_set_new (one, "slots", json_integer (slots + 1)) != 0) {
                json_decref (root);
                root = NULL;
            }
            continue;
        }
        one = json_pack ("{s:s, s:i, s:i}", "state", slot->actor? "up": "restarting",
                         "restarts", slot->restarts, "slots", 1);
        if (!one || json_object_set_new (root, slot->args.spec->name, one) != 0) {
            json_decref (root);
            root = NULL;
        }
    }
    char *text = root? json_dumps (root, JSON_COMPACT): NULL;
    if (zstr_send (self->pipe, text? text: "{}") != 0)
        td_warn ("supervisor", NULL, "cannot answer STATUS");
    free (text);
    json_decref (root);
}

static void
s_handle_pipe (self_t *self)
{
    char *command = zstr_recv (self->pipe);
    if (!command || streq (command, "$TERM"))
        self->terminated = true;
    else
    if (streq (command, "STATUS"))
        s_status (self);
    else
        td_warn ("supervisor", NULL, "unknown pipe command '%s'", command);
    zstr_free (&command);
}

void
td_supervisor_actor (zsock_t *pipe, void *argp)
{
    const td_supervisor_args_t *args = (const td_supervisor_args_t *) argp;
    self_t self = { .args = args, .pipe = pipe, .count = args->count };
    self.slots = calloc (args->count? args->count: 1, sizeof (slot_t));
    self.events = td_events_new (td_config_events_in_endpoint (args->cfg));
    if (!self.slots || !self.events) {
        td_error ("supervisor", NULL, "cannot start: out of memory or no event socket");
        free (self.slots);
        td_events_destroy (&self.events);
        zsock_signal (pipe, 0);
        return;
    }
    int min = args->backoff_min_ms > 0? args->backoff_min_ms: 100;
    for (size_t i = 0; i < self.count; i++) {
        self.slots [i].args.spec = args->specs [i];
        self.slots [i].args.cfg = args->cfg;
        self.slots [i].backoff_ms = min;
        if (s_start (&self, &self.slots [i]) == 0)
            td_info ("supervisor", NULL, "actor %s started", args->specs [i]->name);
    }
    bool ok = s_rebuild_poller (&self) == 0;
    zsock_signal (pipe, 0);

    while (ok && !self.terminated) {
        void *which = zpoller_wait (self.poller, s_next_timeout (&self));
        bool changed = false;
        if (which == pipe)
            s_handle_pipe (&self);
        else
        if (which) {
            for (size_t i = 0; i < self.count; i++)
                if (self.slots [i].actor && which == (void *) self.slots [i].actor) {
                    s_collect (&self, &self.slots [i]);
                    changed = true;
                }
        }
        if (!self.terminated)
            s_restart_due (&self, &changed);
        if (changed && s_rebuild_poller (&self) != 0) {
            td_error ("supervisor", NULL, "cannot rebuild the poller; stopping");
            ok = false;
        }
    }
    //  Stop in reverse start order.
    for (size_t i = self.count; i-- > 0;)
        if (self.slots [i].actor) {
            zactor_destroy (&self.slots [i].actor);
            td_info ("supervisor", NULL, "actor %s stopped", self.slots [i].args.spec->name);
        }
    zpoller_destroy (&self.poller);
    td_events_destroy (&self.events);
    free (self.slots);
}
