/*  td_actor — the shape every domain actor shares, so an actor file holds only its own logic.
 *
 *  An actor is a czmq zactor running td_actor_task with a td_actor_spec_t: it connects as a
 *  worker of its service, opens its PostgreSQL connection when it needs one, and dispatches each
 *  request by `type` to a handler. The framework answers `ping` itself ({"actor", "service",
 *  "db": "ok"|"down"|"none", "uptime_ms"}), answers unknown types 404 not_found, answers a
 *  handler that returns without replying 500 internal, and logs every request with its rid.
 *
 *  Life cycle:  new -> init -> (poll: pipe | worker | tick)* -> fini -> exit
 *  The actor's function returns (and the supervisor restarts it) when init fails or a handler
 *  returns TD_ACTOR_FATAL. With TUTORD_FAULTS=1 the framework also answers "fault.exit" (the
 *  actor ends as if it crashed), "fault.hang" {ms} (it stops answering, heartbeats included, for
 *  ms) and "fault.slow" {ms} (it answers 200 after ms) so tests can break it on purpose.
 */
#ifndef TD_ACTOR_H
#define TD_ACTOR_H

#include <czmq.h>
#include <msgpack.h>
#include "td_config.h"
#include "td_db.h"
#include "td_msg.h"

typedef struct td_actor td_actor_t;
typedef struct td_call td_call_t;

#define TD_ACTOR_OK     0
#define TD_ACTOR_FATAL  (-1)        //  the actor ends; the supervisor restarts it

//  A handler must answer the call (td_call_reply / td_call_error) before it returns, or keep it
//  with td_call_keep and answer later (streaming, long jobs).
typedef int (td_handler_fn) (td_actor_t *self, td_call_t *call);

typedef struct {
    const char *type;               //  request type, e.g. "submit"
    td_handler_fn *fn;
} td_verb_t;

typedef struct {
    const char *name;               //  actor name, as in TUTORD_ACTORS
    const char *service;            //  service it serves
    bool needs_db;                  //  open cfg->db
    const td_verb_t *verbs;        //  terminated by {NULL, NULL}
    int (*init) (td_actor_t *self); //  optional; non-zero ends the actor
    void (*fini) (td_actor_t *self);
    void (*tick) (td_actor_t *self);//  optional, every tick_ms
    int tick_ms;                    //  0 -> no tick
    int capacity;                   //  worker capacity; 0 -> default
} td_actor_spec_t;

typedef struct {
    const td_actor_spec_t *spec;
    const td_config_t *cfg;
} td_actor_args_t;

//  The zactor function. args is a td_actor_args_t that outlives the actor.
void td_actor_task (zsock_t *pipe, void *args);

//  For handlers.
const char *td_actor_name (td_actor_t *self);
const td_config_t *td_actor_config (td_actor_t *self);
td_db_t *td_actor_db (td_actor_t *self);            //  NULL unless spec->needs_db
void *td_actor_state (td_actor_t *self);
void td_actor_set_state (td_actor_t *self, void *state);
//  Publish an event from this actor (source "tutord/<name>"). 0 or -1 (logged).
int td_actor_publish (td_actor_t *self, const td_event_spec_t *spec);
//  Poll sock (owned by the actor's own code) in the actor's loop and call fn when it is
//  readable; for actors with helper threads that report back. At most 8. 0 or -1.
typedef void (td_watch_fn) (td_actor_t *self, zsock_t *sock);
int td_actor_watch (td_actor_t *self, zsock_t *sock, td_watch_fn *fn);

const td_msg_t *td_call_msg (td_call_t *call);      //  the validated request
const msgpack_object *td_call_body (td_call_t *call);
const msgpack_object *td_call_auth (td_call_t *call);
const char *td_call_rid (td_call_t *call);
const char *td_call_type (td_call_t *call);
//  Final reply with a packed msgpack body (NULL -> nil). 0 or -1.
int td_call_reply (td_call_t *call, int status, const void *body, size_t size);
//  Final error reply. 0 or -1.
int td_call_error (td_call_t *call, td_errcode_t code, const char *field, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));
//  Added: final error reply carrying retry_after seconds (429, 503); 0 means absent. 0 or -1.
int td_call_error_retry (td_call_t *call, td_errcode_t code, int retry_after, const char *field,
                         const char *fmt, ...)
    __attribute__ ((format (printf, 5, 6)));
//  Partial reply (streaming). 0 or -1.
int td_call_partial (td_call_t *call, const void *body, size_t size);
//  Keep the call beyond the handler; it must be answered later with td_call_reply/error, which
//  also frees it.
void td_call_keep (td_call_t *call);

#endif
