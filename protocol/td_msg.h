/*  td_msg — the four message kinds of DESIGN.md: request, reply, partial reply, event.
 *
 *  One constructor per kind packs a spec into msgpack; one validator (td_msg_decode) checks raw
 *  bytes with td_mp_check, unpacks them and checks the kind's fields, so no actor hand-assembles or
 *  trusts a frame. Wire maps (keys exact; PROTOCOL.md is the reference):
 *
 *    request  {v, id, rid, type, deadline, auth, body}
 *             v        int, == TD_PROTOCOL_VERSION
 *             id       str 1..TD_MAX_ID   correlation id, unique per caller
 *             rid      str 1..TD_MAX_ID   request id for logs, carried through every actor
 *             type     str name           verb within the service, e.g. "ping", "submit"
 *             deadline int >= 0           absolute unix time in ms; 0 = none
 *             auth     map | nil          caller as the bridge verified it
 *             body     any                the verb's arguments
 *    reply    {v, id, rid, kind:"reply",   status, body | error:{code, message, field, retry_after}}
 *    partial  {v, id, rid, kind:"partial", status, seq, body}
 *    event    {id, type, source, time, org, user, subject, data}   (CloudEvents-shaped, §5)
 *             time is an RFC 3339 UTC string with milliseconds; org/user/subject str or nil.
 *
 *  Names (type of requests, service names) match [a-z][a-z0-9_.-]*, at most TD_MAX_NAME bytes;
 *  event types are "<domain>.<event>" in the same alphabet.
 */
#ifndef TD_MSG_H
#define TD_MSG_H

#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>
#include "td_error.h"
#include "td_limits.h"

typedef enum {
    TD_MSG_REQUEST = 1,
    TD_MSG_REPLY,
    TD_MSG_PARTIAL,
    TD_MSG_EVENT
} td_msg_kind_t;

//  Bodies, auth and data are passed in already packed (one msgpack object each) so a caller
//  can build them with any packer; NULL packs nil.
typedef struct {
    const char *id;                 //  required
    const char *rid;                //  NULL -> same as id
    const char *type;               //  required
    int64_t deadline;               //  unix ms, 0 = none
    const void *auth;   size_t auth_size;
    const void *body;   size_t body_size;
} td_request_spec_t;

typedef struct {
    const char *id;                 //  required: the request's id
    const char *rid;                //  NULL -> same as id
    int status;                     //  100..599
    uint32_t seq;                   //  partial replies only: 0, 1, 2, ...
    const void *body;   size_t body_size;   //  success (status < 400)
    td_errcode_t error;             //  status >= 400: the code (TD_OK -> derived from status)
    const char *message;            //  status >= 400: the sentence (NULL -> generic)
    const char *field;              //  optional
    int retry_after;                //  status >= 400: seconds the caller should wait (0 = absent)
} td_reply_spec_t;

typedef struct {
    const char *id;                 //  NULL -> a fresh random id
    const char *type;               //  required, "<domain>.<event>"
    const char *source;             //  required, e.g. "tutord/grader"
    int64_t time;                   //  unix ms, 0 -> now
    const char *org;                //  NULL -> nil
    const char *user;
    const char *subject;
    const void *data;   size_t data_size;
} td_event_spec_t;

//  Constructors: append one message to out (caller owns out). 0, or -1 with err set when the
//  spec breaks a rule (missing id, bad name, body not one msgpack object, too large...).
int td_request_pack (msgpack_sbuffer *out, const td_request_spec_t *spec, td_error_t *err);
int td_reply_pack   (msgpack_sbuffer *out, const td_reply_spec_t *spec, td_error_t *err);
int td_partial_pack (msgpack_sbuffer *out, const td_reply_spec_t *spec, td_error_t *err);
int td_event_pack   (msgpack_sbuffer *out, const td_event_spec_t *spec, td_error_t *err);

//  A decoded, validated message. It owns a copy of its bytes and the unpacked tree; every
//  pointer an accessor returns lives as long as the message.
typedef struct td_msg td_msg_t;

//  Validator: NULL with err set (invalid_input / too_large) unless data holds a valid message
//  of kind `expect`. For TD_MSG_REPLY, a partial is also accepted (see td_msg_kind).
td_msg_t *td_msg_decode (td_msg_kind_t expect, const void *data, size_t size, td_error_t *err);
void td_msg_destroy (td_msg_t **self_p);

td_msg_kind_t td_msg_kind (const td_msg_t *self);
const void *td_msg_data (const td_msg_t *self);     //  the encoded bytes
size_t td_msg_size (const td_msg_t *self);
//  Envelope strings, NUL-terminated; "" when absent (rid falls back to id).
const char *td_msg_id (const td_msg_t *self);
const char *td_msg_rid (const td_msg_t *self);
const char *td_msg_type (const td_msg_t *self);     //  request and event
int64_t td_msg_deadline (const td_msg_t *self);     //  request; 0 = none
int td_msg_status (const td_msg_t *self);           //  reply / partial
uint32_t td_msg_seq (const td_msg_t *self);         //  partial
//  Request/reply/partial body, or event data; never NULL (nil object when absent).
const msgpack_object *td_msg_body (const td_msg_t *self);
//  Request auth; never NULL (nil object when absent).
const msgpack_object *td_msg_auth (const td_msg_t *self);
//  Reply error (TD_OK when none), message and field ("" when none).
td_errcode_t td_msg_error (const td_msg_t *self);
const char *td_msg_error_message (const td_msg_t *self);
const char *td_msg_error_field (const td_msg_t *self);
//  Added: the error's retry_after in seconds (0 when absent), e.g. for 429 and 503.
int td_msg_error_retry_after (const td_msg_t *self);
//  Event envelope fields; "" when nil.
const char *td_msg_source (const td_msg_t *self);
const char *td_msg_time (const td_msg_t *self);
const char *td_msg_org (const td_msg_t *self);
const char *td_msg_user (const td_msg_t *self);
const char *td_msg_subject (const td_msg_t *self);

//  Name rules, shared with the broker and bridge.
bool td_name_valid (const char *name);              //  services, request types, actors
bool td_event_type_valid (const char *type);        //  "<domain>.<event>"
//  A fresh random id (32 lowercase hex chars + NUL) into buf[33].
void td_new_id (char buf [33]);
//  Now as unix ms; and unix ms as RFC 3339 UTC with milliseconds into buf[32]. -1 if out of range.
int64_t td_now_ms (void);
int td_time_format (int64_t unix_ms, char buf [32]);

#endif
