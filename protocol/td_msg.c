/*  td_msg — constructors and the validator of the four message kinds (see td_msg.h, PROTOCOL.md).
 *
 *  Constructors check the spec, then pack the envelope with msgpack-c's packer and splice the
 *  caller's already-packed auth/body/data after checking each is one valid object that still fits
 *  once nested in the envelope. On any failure the output buffer is rolled back to where it was.
 *
 *  td_msg_decode runs on every request the broker routes, so it is built for one pass and few
 *  allocations: td_mp_check over the caller's bytes, one malloc holding the td_msg_t and a copy of
 *  the bytes (msgpack-c's objects point into them), one zone for the object tree, then a single
 *  walk over the top-level map that records each known key (a repeated envelope key is refused,
 *  unknown keys are ignored for forward compatibility) before the kind's rules are applied.
 *  Envelope strings are copied into fixed NUL-terminated arrays; NUL bytes in them are refused.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>
#include "td_msg.h"
#include "td_mp.h"
#include "td_utf8.h"

//  Known envelope keys, in one enumeration so one walk can find them all.
typedef enum {
    F_V, F_ID, F_RID, F_TYPE, F_DEADLINE, F_AUTH, F_BODY, F_KIND, F_STATUS, F_SEQ, F_ERROR,
    F_SOURCE, F_TIME, F_ORG, F_USER, F_SUBJECT, F_DATA, F__COUNT
} s_field_t;

static const char *s_field_names [F__COUNT] = {
    "v", "id", "rid", "type", "deadline", "auth", "body", "kind", "status", "seq", "error",
    "source", "time", "org", "user", "subject", "data"
};

#define S_MAX_TIME 40            //  longest RFC 3339 form: 9 fraction digits and an offset, 35 bytes

struct td_msg {
    td_msg_kind_t kind;
    msgpack_zone zone;
    msgpack_object root;
    msgpack_object nil;
    const msgpack_object *body;     //  body or event data; &nil when absent
    const msgpack_object *auth;     //  &nil when absent
    int64_t deadline;
    int status;
    uint32_t seq;
    td_errcode_t error;
    int error_retry_after;          //  seconds; 0 when absent
    const char *error_message;      //  in the zone; "" when none
    char error_field [64];
    char id [TD_MAX_ID + 1];
    char rid [TD_MAX_ID + 1];
    char type [TD_MAX_NAME + 1];
    char source [TD_MAX_ID + 1];
    char time [S_MAX_TIME];
    char org [TD_MAX_ID + 1];
    char user [TD_MAX_ID + 1];
    char subject [TD_MAX_ID + 1];
    size_t size;
    unsigned char data [];          //  the encoded bytes
};

//  --------------------------------------------------------------------------------------------
//  Names, ids, times

bool
td_name_valid (const char *name)
{
    if (!name || !(name [0] >= 'a' && name [0] <= 'z'))
        return false;
    size_t i;
    for (i = 1; name [i]; i++) {
        char c = name [i];
        if (i >= TD_MAX_NAME)
            return false;
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
        ||    c == '_' || c == '.' || c == '-'))
            return false;
    }
    return true;
}

bool
td_event_type_valid (const char *type)
{
    if (!td_name_valid (type))
        return false;
    const char *dot = strchr (type, '.');
    if (!dot || dot [1] == 0)
        return false;
    size_t len = strlen (type);
    return type [len - 1] != '.' && strstr (type, "..") == NULL;
}

static pthread_once_t s_sodium_once = PTHREAD_ONCE_INIT;
static void
s_sodium_init (void)
{
    if (sodium_init () < 0) {
        fprintf (stderr, "tutord: libsodium failed to initialise\n");
        abort ();
    }
}

void
td_new_id (char buf [33])
{
    unsigned char raw [16];
    if (pthread_once (&s_sodium_once, s_sodium_init) != 0)
        abort ();
    randombytes_buf (raw, sizeof (raw));
    sodium_bin2hex (buf, 33, raw, sizeof (raw));
}

int64_t
td_now_ms (void)
{
    struct timespec ts;
    if (clock_gettime (CLOCK_REALTIME, &ts) != 0)
        return 0;
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

//  0001-01-01T00:00:00.000Z .. 9999-12-31T23:59:59.999Z
#define S_MIN_MS (-62135596800000LL)
#define S_MAX_MS (253402300799999LL)

int
td_time_format (int64_t unix_ms, char buf [32])
{
    if (unix_ms < S_MIN_MS || unix_ms > S_MAX_MS) {
        buf [0] = 0;
        return -1;
    }
    int64_t secs = unix_ms / 1000;
    int64_t ms = unix_ms % 1000;
    if (ms < 0) {
        ms += 1000;
        secs -= 1;
    }
    time_t t = (time_t) secs;
    struct tm tm;
    if (!gmtime_r (&t, &tm)) {
        buf [0] = 0;
        return -1;
    }
    int rc = snprintf (buf, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                       tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                       tm.tm_hour, tm.tm_min, tm.tm_sec, (int) ms);
    if (rc < 0 || rc >= 32) {
        buf [0] = 0;
        return -1;
    }
    return 0;
}

static bool
s_digits (const char *s, int n)
{
    for (int i = 0; i < n; i++)
        if (s [i] < '0' || s [i] > '9')
            return false;
    return true;
}

static int
s_num (const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++)
        v = v * 10 + (s [i] - '0');
    return v;
}

//  RFC 3339 date-time: YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM), 't'/'z' accepted too.
static bool
s_rfc3339_valid (const char *s, size_t len)
{
    if (len < 20)
        return false;
    if (!s_digits (s, 4) || s [4] != '-' || !s_digits (s + 5, 2) || s [7] != '-'
    ||  !s_digits (s + 8, 2) || (s [10] != 'T' && s [10] != 't')
    ||  !s_digits (s + 11, 2) || s [13] != ':' || !s_digits (s + 14, 2) || s [16] != ':'
    ||  !s_digits (s + 17, 2))
        return false;
    int mon = s_num (s + 5, 2), day = s_num (s + 8, 2);
    int hour = s_num (s + 11, 2), min = s_num (s + 14, 2), sec = s_num (s + 17, 2);
    if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60)
        return false;
    size_t i = 19;
    if (i < len && s [i] == '.') {
        size_t start = ++i;
        while (i < len && s [i] >= '0' && s [i] <= '9')
            i++;
        if (i == start || i - start > 9)
            return false;
    }
    if (i < len && (s [i] == 'Z' || s [i] == 'z'))
        return i + 1 == len;
    if (i + 6 == len && (s [i] == '+' || s [i] == '-') && s_digits (s + i + 1, 2)
    &&  s [i + 3] == ':' && s_digits (s + i + 4, 2))
        return s_num (s + i + 1, 2) <= 23 && s_num (s + i + 4, 2) <= 59;
    return false;
}

//  --------------------------------------------------------------------------------------------
//  Constructors

static int
s_check_str (const char *value, const char *field, size_t max, bool required, td_error_t *err)
{
    if (!value) {
        if (required)
            return td_error_set (err, TD_ERR_INVALID_INPUT, field, "field '%s' is required", field);
        return 0;
    }
    size_t len = strlen (value);
    if (len < 1 || len > max || !td_utf8_valid (value, len))
        return td_error_set (err, TD_ERR_INVALID_INPUT, field,
            "field '%s' must be a UTF-8 string of 1 to %zu bytes", field, max);
    return 0;
}

static int
s_check_packed (const void *data, size_t size, const char *field, bool map_only, td_error_t *err)
{
    if (!data)
        return 0;
    td_error_t inner;
    if (td_mp_check_depth (data, size, TD_MAX_DEPTH - 1, &inner) != 0)
        return td_error_set (err, inner.code, field,
            "field '%s' must be one valid msgpack object: %s", field, inner.message);
    if (map_only) {
        unsigned char b = *(const unsigned char *) data;
        if (!(b == 0xc0 || (b >= 0x80 && b <= 0x8f) || b == 0xde || b == 0xdf))
            return td_error_set (err, TD_ERR_INVALID_INPUT, field,
                "field '%s' must be a map or nil", field);
    }
    return 0;
}

//  Finish a message: roll back on failure, enforce the total size.
static int
s_finish (msgpack_sbuffer *out, size_t start, int pack_rc, td_error_t *err)
{
    if (pack_rc != 0) {
        out->size = start;
        return td_error_set (err, TD_ERR_INTERNAL, NULL, "out of memory while packing a message");
    }
    if (out->size - start > TD_MAX_MESSAGE) {
        size_t size = out->size - start;
        out->size = start;
        return td_error_set (err, TD_ERR_TOO_LARGE, NULL,
            "message of %zu bytes exceeds the limit of %d bytes", size, TD_MAX_MESSAGE);
    }
    return 0;
}

static int
s_pack_key_raw (msgpack_packer *pk, const char *key, const void *data, size_t size)
{
    if (td_mp_pack_str (pk, key) != 0)
        return -1;
    return td_mp_pack_raw (pk, data, size);
}

int
td_request_pack (msgpack_sbuffer *out, const td_request_spec_t *spec, td_error_t *err)
{
    if (!out || !spec)
        return td_error_set (err, TD_ERR_INTERNAL, NULL, "no buffer or no request to pack");
    if (s_check_str (spec->id, "id", TD_MAX_ID, true, err)
    ||  s_check_str (spec->rid, "rid", TD_MAX_ID, false, err))
        return -1;
    if (!spec->type)
        return td_error_set (err, TD_ERR_INVALID_INPUT, "type", "field 'type' is required");
    if (!td_name_valid (spec->type))
        return td_error_set (err, TD_ERR_INVALID_INPUT, "type",
            "field 'type' must be a name of 1 to %d characters a-z 0-9 _ . - starting with a letter",
            TD_MAX_NAME);
    if (spec->deadline < 0)
        return td_error_set (err, TD_ERR_INVALID_INPUT, "deadline",
            "field 'deadline' must be a unix time in milliseconds, or 0 for none");
    if (s_check_packed (spec->auth, spec->auth_size, "auth", true, err)
    ||  s_check_packed (spec->body, spec->body_size, "body", false, err))
        return -1;

    size_t start = out->size;
    msgpack_packer pk;
    msgpack_packer_init (&pk, out, msgpack_sbuffer_write);
    int rc = msgpack_pack_map (&pk, 7)
          || td_mp_pack_kv_int (&pk, "v", TD_PROTOCOL_VERSION)
          || td_mp_pack_kv_str (&pk, "id", spec->id)
          || td_mp_pack_kv_str (&pk, "rid", spec->rid ? spec->rid : spec->id)
          || td_mp_pack_kv_str (&pk, "type", spec->type)
          || td_mp_pack_kv_int (&pk, "deadline", spec->deadline)
          || s_pack_key_raw (&pk, "auth", spec->auth, spec->auth_size)
          || s_pack_key_raw (&pk, "body", spec->body, spec->body_size);
    return s_finish (out, start, rc, err);
}

static int
s_reply_pack (msgpack_sbuffer *out, const td_reply_spec_t *spec, bool partial, td_error_t *err)
{
    if (!out || !spec)
        return td_error_set (err, TD_ERR_INTERNAL, NULL, "no buffer or no reply to pack");
    if (s_check_str (spec->id, "id", TD_MAX_ID, true, err)
    ||  s_check_str (spec->rid, "rid", TD_MAX_ID, false, err))
        return -1;
    if (spec->status < 100 || spec->status > 599)
        return td_error_set (err, TD_ERR_INVALID_INPUT, "status",
            "field 'status' must be an integer from 100 to 599");
    if (spec->retry_after < 0)
        return td_error_set (err, TD_ERR_INVALID_INPUT, "retry_after",
            "field 'retry_after' must be 0 (absent) or a positive number of seconds");
    bool failed = spec->status >= 400;
    if (partial && failed)
        return td_error_set (err, TD_ERR_INVALID_INPUT, "status",
            "a partial reply must have a status below 400");
    td_errcode_t code = TD_OK;
    const char *message = NULL;
    char *repaired = NULL;
    char field [64] = "";
    if (failed) {
        code = spec->error != TD_OK ? spec->error : td_errcode_from_status (spec->status);
        if ((int) code <= 0 || code >= TD_ERR__COUNT)
            return td_error_set (err, TD_ERR_INVALID_INPUT, "error", "unknown error code %d",
                                 (int) code);
        message = spec->message && spec->message [0] ? spec->message : td_errcode_message (code);
        //  Error text is repaired, not refused: an actor quoting bad input in its message, or
        //  cutting a long one mid-character, must still get its error reply out (a refusal here
        //  would turn a 400 into a 500). Invalid UTF-8 becomes '?', the field is cut to 63 bytes.
        size_t mlen = strlen (message);
        if (mlen > TD_MAX_STRING)
            return td_error_set (err, TD_ERR_INVALID_INPUT, "message",
                "field 'message' must be at most %d bytes", TD_MAX_STRING);
        if (!td_utf8_valid (message, mlen)) {
            repaired = strdup (message);
            if (!repaired)
                return td_error_set (err, TD_ERR_INTERNAL, NULL, "out of memory while packing");
            td_utf8_repair (repaired);
            message = repaired;
        }
        if (spec->field && spec->field [0]) {
            snprintf (field, sizeof (field), "%s", spec->field);
            td_utf8_repair (field);
        }
    }
    else
    if (s_check_packed (spec->body, spec->body_size, "body", false, err))
        return -1;

    size_t start = out->size;
    msgpack_packer pk;
    msgpack_packer_init (&pk, out, msgpack_sbuffer_write);
    int rc = msgpack_pack_map (&pk, partial ? 7 : 6)
          || td_mp_pack_kv_int (&pk, "v", TD_PROTOCOL_VERSION)
          || td_mp_pack_kv_str (&pk, "id", spec->id)
          || td_mp_pack_kv_str (&pk, "rid", spec->rid ? spec->rid : spec->id)
          || td_mp_pack_kv_str (&pk, "kind", partial ? "partial" : "reply")
          || td_mp_pack_kv_int (&pk, "status", spec->status);
    if (!rc && partial)
        rc = td_mp_pack_kv_int (&pk, "seq", spec->seq);
    if (!rc && failed) {
        bool has_field = field [0] != 0;
        bool has_retry = spec->retry_after > 0;
        rc = td_mp_pack_str (&pk, "error")
          || msgpack_pack_map (&pk, 2 + (has_field ? 1 : 0) + (has_retry ? 1 : 0))
          || td_mp_pack_kv_str (&pk, "code", td_errcode_name (code))
          || td_mp_pack_kv_str (&pk, "message", message)
          || (has_field && td_mp_pack_kv_str (&pk, "field", field))
          || (has_retry && td_mp_pack_kv_int (&pk, "retry_after", spec->retry_after));
    }
    else
    if (!rc)
        rc = s_pack_key_raw (&pk, "body", spec->body, spec->body_size);
    free (repaired);
    return s_finish (out, start, rc, err);
}

int
td_reply_pack (msgpack_sbuffer *out, const td_reply_spec_t *spec, td_error_t *err)
{
    return s_reply_pack (out, spec, false, err);
}

int
td_partial_pack (msgpack_sbuffer *out, const td_reply_spec_t *spec, td_error_t *err)
{
    return s_reply_pack (out, spec, true, err);
}

int
td_event_pack (msgpack_sbuffer *out, const td_event_spec_t *spec, td_error_t *err)
{
    if (!out || !spec)
        return td_error_set (err, TD_ERR_INTERNAL, NULL, "no buffer or no event to pack");
    char fresh [33];
    const char *id = spec->id;
    if (!id) {
        td_new_id (fresh);
        id = fresh;
    }
    if (s_check_str (id, "id", TD_MAX_ID, true, err))
        return -1;
    if (!spec->type)
        return td_error_set (err, TD_ERR_INVALID_INPUT, "type", "field 'type' is required");
    if (!td_event_type_valid (spec->type))
        return td_error_set (err, TD_ERR_INVALID_INPUT, "type",
            "field 'type' must be an event type '<domain>.<event>' of at most %d characters",
            TD_MAX_NAME);
    if (s_check_str (spec->source, "source", TD_MAX_ID, true, err)
    ||  s_check_str (spec->org, "org", TD_MAX_ID, false, err)
    ||  s_check_str (spec->user, "user", TD_MAX_ID, false, err)
    ||  s_check_str (spec->subject, "subject", TD_MAX_ID, false, err)
    ||  s_check_packed (spec->data, spec->data_size, "data", false, err))
        return -1;
    char when [32];
    if (td_time_format (spec->time ? spec->time : td_now_ms (), when) != 0)
        return td_error_set (err, TD_ERR_INVALID_INPUT, "time",
            "field 'time' must be a unix time in milliseconds between years 1 and 9999");

    size_t start = out->size;
    msgpack_packer pk;
    msgpack_packer_init (&pk, out, msgpack_sbuffer_write);
    int rc = msgpack_pack_map (&pk, 8)
          || td_mp_pack_kv_str (&pk, "id", id)
          || td_mp_pack_kv_str (&pk, "type", spec->type)
          || td_mp_pack_kv_str (&pk, "source", spec->source)
          || td_mp_pack_kv_str (&pk, "time", when)
          || td_mp_pack_kv_str (&pk, "org", spec->org)
          || td_mp_pack_kv_str (&pk, "user", spec->user)
          || td_mp_pack_kv_str (&pk, "subject", spec->subject)
          || s_pack_key_raw (&pk, "data", spec->data, spec->data_size);
    return s_finish (out, start, rc, err);
}

//  --------------------------------------------------------------------------------------------
//  Validator

//  Copy a str field into buf; min..max bytes, no NUL. Nil accepted when nil_ok (buf = "").
static int
s_get_str (const msgpack_object *o, const char *field, char *buf, size_t min, size_t max,
           bool nil_ok, td_error_t *err)
{
    if (nil_ok && o->type == MSGPACK_OBJECT_NIL) {
        buf [0] = 0;
        return 0;
    }
    if (o->type != MSGPACK_OBJECT_STR || o->via.str.size < min || o->via.str.size > max)
        return td_error_set (err, TD_ERR_INVALID_INPUT, field,
            "field '%s' must be a string of %zu to %zu bytes%s", field, min, max,
            nil_ok ? ", or nil" : "");
    if (!td_mp_strcpy (o, buf, max + 1))
        return td_error_set (err, TD_ERR_INVALID_INPUT, field,
            "field '%s' must not contain NUL bytes", field);
    return 0;
}

static int
s_get_int (const msgpack_object *o, const char *field, int64_t min, int64_t max, int64_t *v,
           td_error_t *err)
{
    if (!td_mp_int (o, v) || *v < min || *v > max)
        return td_error_set (err, TD_ERR_INVALID_INPUT, field,
            "field '%s' must be an integer from %lld to %lld", field,
            (long long) min, (long long) max);
    return 0;
}

static int
s_missing (const char *field, td_error_t *err)
{
    return td_error_set (err, TD_ERR_INVALID_INPUT, field, "field '%s' is required", field);
}

static int
s_decode_version_ids (td_msg_t *self, const msgpack_object **f, td_error_t *err)
{
    int64_t v;
    if (!f [F_V])
        return s_missing ("v", err);
    if (!td_mp_int (f [F_V], &v) || v != TD_PROTOCOL_VERSION)
        return td_error_set (err, TD_ERR_INVALID_INPUT, "v",
            "field 'v' must be the protocol version %d", TD_PROTOCOL_VERSION);
    if (!f [F_ID])
        return s_missing ("id", err);
    if (s_get_str (f [F_ID], "id", self->id, 1, TD_MAX_ID, false, err))
        return -1;
    if (f [F_RID]) {
        if (s_get_str (f [F_RID], "rid", self->rid, 1, TD_MAX_ID, false, err))
            return -1;
    }
    else
        memcpy (self->rid, self->id, sizeof (self->rid));
    return 0;
}

static int
s_decode_request (td_msg_t *self, const msgpack_object **f, td_error_t *err)
{
    if (s_decode_version_ids (self, f, err))
        return -1;
    if (!f [F_TYPE])
        return s_missing ("type", err);
    if (s_get_str (f [F_TYPE], "type", self->type, 1, TD_MAX_NAME, false, err))
        return -1;
    if (!td_name_valid (self->type))
        return td_error_set (err, TD_ERR_INVALID_INPUT, "type",
            "field 'type' must be a name of 1 to %d characters a-z 0-9 _ . - starting with a letter",
            TD_MAX_NAME);
    if (f [F_DEADLINE]
    &&  s_get_int (f [F_DEADLINE], "deadline", 0, INT64_MAX, &self->deadline, err))
        return -1;
    if (f [F_AUTH]) {
        if (f [F_AUTH]->type != MSGPACK_OBJECT_MAP && f [F_AUTH]->type != MSGPACK_OBJECT_NIL)
            return td_error_set (err, TD_ERR_INVALID_INPUT, "auth",
                "field 'auth' must be a map or nil");
        self->auth = f [F_AUTH];
    }
    if (f [F_BODY])
        self->body = f [F_BODY];
    return 0;
}

static int
s_decode_reply (td_msg_t *self, td_msg_kind_t expect, const msgpack_object **f, td_error_t *err)
{
    if (s_decode_version_ids (self, f, err))
        return -1;
    if (!f [F_KIND])
        return s_missing ("kind", err);
    if (td_mp_streq (f [F_KIND], "reply") && expect == TD_MSG_REPLY)
        self->kind = TD_MSG_REPLY;
    else
    if (td_mp_streq (f [F_KIND], "partial"))
        self->kind = TD_MSG_PARTIAL;
    else
        return td_error_set (err, TD_ERR_INVALID_INPUT, "kind",
            expect == TD_MSG_REPLY ? "field 'kind' must be \"reply\" or \"partial\""
                                   : "field 'kind' must be \"partial\"");
    if (!f [F_STATUS])
        return s_missing ("status", err);
    int64_t v;
    if (s_get_int (f [F_STATUS], "status", 100, 599, &v, err))
        return -1;
    self->status = (int) v;
    if (self->kind == TD_MSG_PARTIAL) {
        if (!f [F_SEQ])
            return s_missing ("seq", err);
        if (s_get_int (f [F_SEQ], "seq", 0, UINT32_MAX, &v, err))
            return -1;
        self->seq = (uint32_t) v;
        if (self->status >= 400)
            return td_error_set (err, TD_ERR_INVALID_INPUT, "status",
                "a partial reply must have a status below 400");
    }
    if (f [F_BODY])
        self->body = f [F_BODY];

    const msgpack_object *e = f [F_ERROR];
    if (e && e->type == MSGPACK_OBJECT_NIL)
        e = NULL;
    if (self->status < 400) {
        if (e)
            return td_error_set (err, TD_ERR_INVALID_INPUT, "error",
                "field 'error' is only allowed when status is 400 or above");
        return 0;
    }
    if (!e)
        return s_missing ("error", err);
    if (e->type != MSGPACK_OBJECT_MAP)
        return td_error_set (err, TD_ERR_INVALID_INPUT, "error",
            "field 'error' must be a map {code, message, field}");
    const msgpack_object *code = td_mp_get (e, "code");
    const msgpack_object *message = td_mp_get (e, "message");
    const msgpack_object *field = td_mp_get (e, "field");
    char name [32];
    if (!code || !td_mp_strcpy (code, name, sizeof (name))
    ||  (self->error = td_errcode_from_name (name)) == TD_ERR__COUNT || self->error == TD_OK)
        return td_error_set (err, TD_ERR_INVALID_INPUT, "error.code",
            "field 'error.code' must be a known error code");
    if (!message)
        return s_missing ("error.message", err);
    const char *s;
    size_t len;
    if (!td_mp_str (message, &s, &len) || (len && memchr (s, 0, len)))
        return td_error_set (err, TD_ERR_INVALID_INPUT, "error.message",
            "field 'error.message' must be a string without NUL bytes");
    char *copy = (char *) msgpack_zone_malloc (&self->zone, len + 1);
    if (!copy)
        return td_error_set (err, TD_ERR_INTERNAL, NULL, "out of memory while decoding");
    if (len)
        memcpy (copy, s, len);
    copy [len] = 0;
    self->error_message = copy;
    if (field && s_get_str (field, "error.field", self->error_field, 0,
                            sizeof (self->error_field) - 1, true, err))
        return -1;
    const msgpack_object *retry = td_mp_get (e, "retry_after");
    if (retry && retry->type != MSGPACK_OBJECT_NIL) {
        int64_t secs;
        if (s_get_int (retry, "error.retry_after", 0, INT32_MAX, &secs, err))
            return -1;
        self->error_retry_after = (int) secs;
    }
    return 0;
}

static int
s_decode_event (td_msg_t *self, const msgpack_object **f, td_error_t *err)
{
    if (!f [F_ID])
        return s_missing ("id", err);
    if (s_get_str (f [F_ID], "id", self->id, 1, TD_MAX_ID, false, err))
        return -1;
    memcpy (self->rid, self->id, sizeof (self->rid));
    if (!f [F_TYPE])
        return s_missing ("type", err);
    if (s_get_str (f [F_TYPE], "type", self->type, 1, TD_MAX_NAME, false, err))
        return -1;
    if (!td_event_type_valid (self->type))
        return td_error_set (err, TD_ERR_INVALID_INPUT, "type",
            "field 'type' must be an event type '<domain>.<event>' of at most %d characters",
            TD_MAX_NAME);
    if (!f [F_SOURCE])
        return s_missing ("source", err);
    if (s_get_str (f [F_SOURCE], "source", self->source, 1, TD_MAX_ID, false, err))
        return -1;
    if (!f [F_TIME])
        return s_missing ("time", err);
    if (s_get_str (f [F_TIME], "time", self->time, 20, S_MAX_TIME - 1, false, err))
        return -1;
    if (!s_rfc3339_valid (self->time, strlen (self->time)))
        return td_error_set (err, TD_ERR_INVALID_INPUT, "time",
            "field 'time' must be an RFC 3339 date-time such as 2026-11-22T10:00:00.123Z");
    if ((f [F_ORG] && s_get_str (f [F_ORG], "org", self->org, 0, TD_MAX_ID, true, err))
    ||  (f [F_USER] && s_get_str (f [F_USER], "user", self->user, 0, TD_MAX_ID, true, err))
    ||  (f [F_SUBJECT]
         && s_get_str (f [F_SUBJECT], "subject", self->subject, 0, TD_MAX_ID, true, err)))
        return -1;
    if (f [F_DATA])
        self->body = f [F_DATA];
    return 0;
}

//  Which known field a key names; F__COUNT when none.
static s_field_t
s_field_of (const msgpack_object *key)
{
    size_t len = key->via.str.size;
    const char *s = key->via.str.ptr;
    if (len == 0 || len > 8)
        return F__COUNT;
    for (int i = 0; i < F__COUNT; i++)
        if (s_field_names [i][0] == s [0] && strlen (s_field_names [i]) == len
        &&  memcmp (s_field_names [i], s, len) == 0)
            return (s_field_t) i;
    return F__COUNT;
}

td_msg_t *
td_msg_decode (td_msg_kind_t expect, const void *data, size_t size, td_error_t *err)
{
    if (expect < TD_MSG_REQUEST || expect > TD_MSG_EVENT) {
        td_error_set (err, TD_ERR_INTERNAL, NULL, "unknown message kind %d", (int) expect);
        return NULL;
    }
    if (td_mp_check (data, size, err) != 0)
        return NULL;
    unsigned char first = *(const unsigned char *) data;
    if (!((first >= 0x80 && first <= 0x8f) || first == 0xde || first == 0xdf)) {
        td_error_set (err, TD_ERR_INVALID_INPUT, NULL, "a message must be a msgpack map");
        return NULL;
    }
    td_msg_t *self = (td_msg_t *) malloc (sizeof (td_msg_t) + size);
    if (!self) {
        td_error_set (err, TD_ERR_INTERNAL, NULL, "out of memory while decoding");
        return NULL;
    }
    //  Zero the scalars; the string arrays need only their first byte (saves ~1 KB of memset).
    memset (self, 0, offsetof (td_msg_t, id));
    self->id [0] = self->rid [0] = self->type [0] = self->source [0] = self->time [0] = 0;
    self->org [0] = self->user [0] = self->subject [0] = 0;
    memcpy (self->data, data, size);
    self->size = size;
    self->kind = expect;
    self->nil.type = MSGPACK_OBJECT_NIL;
    self->body = &self->nil;
    self->auth = &self->nil;
    self->error_message = "";
    //  The object tree takes up to ~24 bytes per encoded byte; start with a chunk that fits
    //  typical envelopes in one go.
    size_t chunk = size * 4 < 1024 ? 1024 : size * 4 > 65536 ? 65536 : size * 4;
    if (!msgpack_zone_init (&self->zone, chunk)) {
        free (self);
        td_error_set (err, TD_ERR_INTERNAL, NULL, "out of memory while decoding");
        return NULL;
    }
    size_t off = 0;
    msgpack_unpack_return rc = msgpack_unpack ((const char *) self->data, size, &off,
                                               &self->zone, &self->root);
    if (rc != MSGPACK_UNPACK_SUCCESS || self->root.type != MSGPACK_OBJECT_MAP) {
        td_error_set (err, rc == MSGPACK_UNPACK_NOMEM_ERROR ? TD_ERR_INTERNAL
                                                            : TD_ERR_INVALID_INPUT,
                      NULL, "the message could not be decoded");
        td_msg_destroy (&self);
        return NULL;
    }
    const msgpack_object *f [F__COUNT] = { NULL };
    const msgpack_object_map *map = &self->root.via.map;
    for (uint32_t i = 0; i < map->size; i++) {
        s_field_t which = s_field_of (&map->ptr [i].key);
        if (which == F__COUNT)
            continue;
        if (f [which]) {
            td_error_set (err, TD_ERR_INVALID_INPUT, s_field_names [which],
                          "field '%s' appears more than once", s_field_names [which]);
            td_msg_destroy (&self);
            return NULL;
        }
        f [which] = &map->ptr [i].val;
    }
    int drc;
    if (expect == TD_MSG_REQUEST)
        drc = s_decode_request (self, f, err);
    else
    if (expect == TD_MSG_EVENT)
        drc = s_decode_event (self, f, err);
    else
        drc = s_decode_reply (self, expect, f, err);
    if (drc != 0) {
        td_msg_destroy (&self);
        return NULL;
    }
    return self;
}

void
td_msg_destroy (td_msg_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    td_msg_t *self = *self_p;
    msgpack_zone_destroy (&self->zone);
    free (self);
    *self_p = NULL;
}

td_msg_kind_t td_msg_kind (const td_msg_t *self)        { return self->kind; }
const void *td_msg_data (const td_msg_t *self)          { return self->data; }
size_t td_msg_size (const td_msg_t *self)               { return self->size; }
const char *td_msg_id (const td_msg_t *self)            { return self->id; }
const char *td_msg_rid (const td_msg_t *self)           { return self->rid; }
const char *td_msg_type (const td_msg_t *self)          { return self->type; }
int64_t td_msg_deadline (const td_msg_t *self)          { return self->deadline; }
int td_msg_status (const td_msg_t *self)                { return self->status; }
uint32_t td_msg_seq (const td_msg_t *self)              { return self->seq; }
const msgpack_object *td_msg_body (const td_msg_t *self) { return self->body; }
const msgpack_object *td_msg_auth (const td_msg_t *self) { return self->auth; }
td_errcode_t td_msg_error (const td_msg_t *self)        { return self->error; }
const char *td_msg_error_message (const td_msg_t *self) { return self->error_message; }
const char *td_msg_error_field (const td_msg_t *self)   { return self->error_field; }
int td_msg_error_retry_after (const td_msg_t *self)     { return self->error_retry_after; }
const char *td_msg_source (const td_msg_t *self)        { return self->source; }
const char *td_msg_time (const td_msg_t *self)          { return self->time; }
const char *td_msg_org (const td_msg_t *self)           { return self->org; }
const char *td_msg_user (const td_msg_t *self)          { return self->user; }
const char *td_msg_subject (const td_msg_t *self)       { return self->subject; }
