/*  td_srs_settings — GET / PUT /api/v1/me/srs-settings and the morning srs.due notice.
 *
 *  Settings: PUT takes any of {desired_retention, learning_steps (seconds), relearning_steps,
 *  maximum_interval (days), enable_fuzzing, new_per_day, timezone}; fields left out keep their
 *  value (the defaults of SRS.md when never set). The merged whole is validated with
 *  td_fsrs_params_check before it is stored, so a stored row is always one the scheduler takes.
 *
 *  Morning notice (tick, every 10 s): once per local day, from 08:00 in the learner's timezone,
 *  a learner with reviews waiting gets srs.due {due, day}. The day is recorded (srs_notified) in
 *  the same statement that selects the learners, so a restart or a second srs process never
 *  sends it twice; learners are taken 500 a tick, so one tick stays short with any number.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "td_json.h"
#include "td_mp.h"
#include "srs/td_srs.h"

#define NOTIFY_BATCH "500"                  //  learners checked per tick

int
td_srs_settings_get (td_actor_t *self, td_call_t *call)
{
    char user [TD_MAX_ID + 1];
    td_srs_settings_t s;
    if (!td_srs_user (call, user, sizeof user))
        return TD_ACTOR_OK;
    if (!td_srs_settings_load (self, td_call_rid (call), user, &s))
        return td_srs_db_down (call);
    return td_srs_reply (call, 200, td_srs_settings_json (&s));
}

//  steps (JSON array of seconds) into out; false after answering 400.
static bool
s_steps (td_call_t *call, json_t *v, const char *field, int32_t *out, int *n)
{
    if (!json_is_array (v) || json_array_size (v) > TD_FSRS_MAX_STEPS) {
        td_call_error (call, TD_ERR_INVALID_INPUT, field,
                       "%s must be a list of at most %d durations in seconds", field,
                       TD_FSRS_MAX_STEPS);
        return false;
    }
    size_t i;
    json_t *e;
    json_array_foreach (v, i, e) {
        if (!json_is_integer (e) || json_integer_value (e) < 1
        ||  json_integer_value (e) > 86400 * 30) {
            td_call_error (call, TD_ERR_INVALID_INPUT, field,
                           "each of %s must be 1 to 2592000 seconds", field);
            return false;
        }
        out [i] = (int32_t) json_integer_value (e);
    }
    *n = (int) json_array_size (v);
    return true;
}

static void
s_array_text (const int32_t *steps, int n, char *buf, size_t size)
{
    size_t used = (size_t) snprintf (buf, size, "{");
    for (int i = 0; i < n && used < size; i++)
        used += (size_t) snprintf (buf + used, size - used, "%s%d", i? ",": "", steps [i]);
    if (used < size)
        snprintf (buf + used, size - used, "}");
}

int
td_srs_settings_put (td_actor_t *self, td_call_t *call)
{
    char user [TD_MAX_ID + 1];
    td_srs_settings_t s;
    if (!td_srs_user (call, user, sizeof user))
        return TD_ACTOR_OK;
    json_t *body = td_srs_body (call);
    if (!body) {
        td_call_error (call, TD_ERR_INVALID_INPUT, "body", "settings are a JSON object");
        return TD_ACTOR_OK;
    }
    if (!td_srs_settings_load (self, td_call_rid (call), user, &s)) {
        json_decref (body);
        return td_srs_db_down (call);
    }
    const char *k;
    json_t *v;
    json_object_foreach (body, k, v) {
        char field [64];
        snprintf (field, sizeof field, "%s", k);
        if (strcmp (k, "desired_retention") == 0) {
            if (!json_is_number (v) || json_number_value (v) <= 0.0 || json_number_value (v) >= 1.0) {
                td_call_error (call, TD_ERR_INVALID_INPUT, field,
                               "desired_retention must be a number between 0 and 1");
                goto done;
            }
            s.fsrs.desired_retention = json_number_value (v);
        }
        else
        if (strcmp (k, "learning_steps") == 0) {
            if (!s_steps (call, v, field, s.fsrs.learning_steps, &s.fsrs.n_learning_steps))
                goto done;
        }
        else
        if (strcmp (k, "relearning_steps") == 0) {
            if (!s_steps (call, v, field, s.fsrs.relearning_steps, &s.fsrs.n_relearning_steps))
                goto done;
        }
        else
        if (strcmp (k, "maximum_interval") == 0) {
            if (!json_is_integer (v) || json_integer_value (v) < 1 || json_integer_value (v) > 36500) {
                td_call_error (call, TD_ERR_INVALID_INPUT, field,
                               "maximum_interval must be 1 to 36500 days");
                goto done;
            }
            s.fsrs.maximum_interval = (int32_t) json_integer_value (v);
        }
        else
        if (strcmp (k, "enable_fuzzing") == 0) {
            if (!json_is_boolean (v)) {
                td_call_error (call, TD_ERR_INVALID_INPUT, field, "enable_fuzzing must be true or false");
                goto done;
            }
            s.fsrs.enable_fuzzing = json_is_true (v);
        }
        else
        if (strcmp (k, "new_per_day") == 0) {
            if (!json_is_integer (v) || json_integer_value (v) < 0 || json_integer_value (v) > 10000) {
                td_call_error (call, TD_ERR_INVALID_INPUT, field, "new_per_day must be 0 to 10000");
                goto done;
            }
            s.new_per_day = (int) json_integer_value (v);
        }
        else
        if (strcmp (k, "timezone") == 0) {
            if (!json_is_string (v) || json_string_length (v) == 0
            ||  json_string_length (v) >= sizeof s.timezone
            ||  strlen (json_string_value (v)) != json_string_length (v)) {
                td_call_error (call, TD_ERR_INVALID_INPUT, field,
                               "timezone must be an IANA name such as Europe/Berlin");
                goto done;
            }
            snprintf (s.timezone, sizeof s.timezone, "%s", json_string_value (v));
        }
        else {
            td_call_error (call, TD_ERR_INVALID_INPUT, field, "unknown setting %s", field);
            goto done;
        }
    }
    const char *bad = NULL;
    if (td_fsrs_params_check (&s.fsrs, &bad) != 0) {
        td_call_error (call, TD_ERR_INVALID_INPUT, bad, "%s is out of range", bad);
        goto done;
    }
    char ls [160], rs [160], dr [40], mi [16], npd [16];
    s_array_text (s.fsrs.learning_steps, s.fsrs.n_learning_steps, ls, sizeof ls);
    s_array_text (s.fsrs.relearning_steps, s.fsrs.n_relearning_steps, rs, sizeof rs);
    snprintf (dr, sizeof dr, "%.17g", s.fsrs.desired_retention);
    snprintf (mi, sizeof mi, "%d", s.fsrs.maximum_interval);
    snprintf (npd, sizeof npd, "%d", s.new_per_day);
    const char *params [] = { user, dr, ls, rs, mi, s.fsrs.enable_fuzzing? "true": "false", npd,
                              s.timezone };
    //  The timezone must be one PostgreSQL knows (it computes the learner's days with it).
    PGresult *res = td_db_exec (td_actor_db (self), td_call_rid (call),
        "INSERT INTO srs_settings (user_id, desired_retention, learning_steps, relearning_steps,"
        "   maximum_interval, enable_fuzzing, new_per_day, timezone)"
        " SELECT $1, $2::float8, $3::int[], $4::int[], $5::int, $6::boolean, $7::int, $8"
        " WHERE EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = $8)"
        " ON CONFLICT (user_id) DO UPDATE SET desired_retention = excluded.desired_retention,"
        "   learning_steps = excluded.learning_steps, relearning_steps = excluded.relearning_steps,"
        "   maximum_interval = excluded.maximum_interval, enable_fuzzing = excluded.enable_fuzzing,"
        "   new_per_day = excluded.new_per_day, timezone = excluded.timezone, updated_at = now ()"
        " RETURNING user_id", 8, params);
    if (!res) {
        td_srs_db_down (call);
        goto done;
    }
    int n = PQntuples (res);
    PQclear (res);
    if (n != 1) {
        td_call_error (call, TD_ERR_INVALID_INPUT, "timezone",
                       "timezone must be an IANA name such as Europe/Berlin");
        goto done;
    }
    td_srs_reply (call, 200, td_srs_settings_json (&s));
done:
    json_decref (body);
    return TD_ACTOR_OK;
}

//  ---------------------------------------------------------------------------------------------
//  Morning notice

//  Publish srs.due for every learner whose local morning has come; the number published.
static int
s_notify (td_actor_t *self)
{
    //  A batch of learners whose local morning has come and who were not checked today; each
    //  is marked checked, and those with cards due now get the notice. SKIP LOCKED lets several
    //  srs processes share the work; the batch bounds one tick's time.
    PGresult *res = td_db_exec (td_actor_db (self), NULL,
        "WITH pick AS (SELECT n.user_id,"
        "   (now () AT TIME ZONE coalesce (s.timezone, 'UTC'))::date AS today"
        "   FROM srs_notified n LEFT JOIN srs_settings s ON s.user_id = n.user_id"
        "   WHERE n.day < (now () AT TIME ZONE coalesce (s.timezone, 'UTC'))::date"
        "   AND extract (hour FROM now () AT TIME ZONE coalesce (s.timezone, 'UTC')) >= 8"
        "   LIMIT " NOTIFY_BATCH " FOR UPDATE OF n SKIP LOCKED),"
        " counted AS (SELECT p.user_id, p.today, (SELECT count (*) FROM srs_cards c"
        "   WHERE c.user_id = p.user_id AND c.due <= now ()) AS due FROM pick p),"
        " marked AS (UPDATE srs_notified x SET day = c.today FROM counted c"
        "   WHERE x.user_id = c.user_id RETURNING x.user_id)"
        " SELECT c.user_id, c.today::text, c.due::text FROM counted c"
        " WHERE c.due > 0 AND c.user_id IN (SELECT user_id FROM marked)", 0, NULL);
    if (!res)
        return -1;                                  //  logged; the next tick tries again
    int sent = PQntuples (res);
    for (int r = 0; r < PQntuples (res); r++) {
        json_t *data = json_pack ("{s:I, s:s}", "due", (json_int_t) atoll (PQgetvalue (res, r, 2)),
                                  "day", PQgetvalue (res, r, 1));
        msgpack_sbuffer buf;
        msgpack_sbuffer_init (&buf);
        msgpack_packer pk;
        msgpack_packer_init (&pk, &buf, msgpack_sbuffer_write);
        td_error_t err;
        if (data && td_json_to_mp (data, &pk, &err) == 0) {
            td_event_spec_t ev = { .type = "srs.due", .user = PQgetvalue (res, r, 0),
                                   .subject = PQgetvalue (res, r, 0),
                                   .data = buf.data, .data_size = buf.size };
            td_actor_publish (self, &ev);
        }
        msgpack_sbuffer_destroy (&buf);
        json_decref (data);
    }
    PQclear (res);
    return sent;
}

void
td_srs_tick (td_actor_t *self)
{
    td_srs_items_tick (self);
    s_notify (self);
}

int
td_srs_due_notify (td_actor_t *self, td_call_t *call)
{
    if (!td_srs_system (call, "due.notify", "operators"))
        return TD_ACTOR_OK;
    int sent = s_notify (self);
    if (sent < 0)
        return td_srs_db_down (call);
    return td_srs_reply (call, 200, json_pack ("{s:i}", "notified", sent));
}
