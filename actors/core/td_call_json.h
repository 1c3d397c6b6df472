/*  td_call_json — what most verbs of most actors do with a call, written once: read the JSON
 *  body and path parameters, require a signed-in user, answer with JSON, publish JSON events.
 *
 *  Actors keep JSON (jansson) in their handlers because the bodies are free-form; the wire is
 *  msgpack. These helpers do the conversions and answer the contract's errors themselves, so a
 *  handler reads as its rules. (Each actor used to carry its own copy of them.)
 */
#ifndef TD_CALL_JSON_H
#define TD_CALL_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include "td_actor.h"

//  The request's "body" (the JSON body the bridge forwarded) as a new JSON object; NULL when it
//  is absent or not an object (nothing answered: the caller decides what that means).
json_t *td_call_body_json (td_call_t *call);

//  A top-level string parameter (a path or query parameter) copied into buf; false when absent,
//  not a string, or too long.
bool td_call_param (td_call_t *call, const char *key, char *buf, size_t size);

//  The signed-in user calling, copied into user; otherwise answers 401 (anonymous) or 403 (an
//  API key or the system: what names the thing that belongs to a user, e.g. "training runs")
//  and returns false. A malformed auth map answers its error.
bool td_call_user (td_call_t *call, char *user, size_t size, const char *what);

//  True for a UUID in its canonical text form (8-4-4-4-12 hex digits), as PostgreSQL writes ids.
bool td_uuid_valid (const char *s);

//  Answer with status and body packed as msgpack; takes body (NULL answers 500 out of memory).
//  The call's answer result (0 or -1).
int td_call_reply_json (td_call_t *call, int status, json_t *body);

//  Publish an event whose data is a JSON value; takes data. user, org, subject may be NULL or
//  "". 0, or -1 when it could not be encoded or sent.
int td_actor_publish_json (td_actor_t *actor, const char *type, const char *user,
                           const char *org, const char *subject, json_t *data);

#endif
