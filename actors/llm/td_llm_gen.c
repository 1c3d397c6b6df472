/*  td_llm_gen — the verbs of generation jobs (LLM.md §8): create, get, list, cancel.
 *
 *  Create checks every parameter (400 with its field), the caller's role in the org (admins and
 *  mentors; a learner 403, anyone else 404), that the org has a model (offline, only vocabulary
 *  exercises can be made: anything else is refused at once with 503, not left as a job that never
 *  ends), then reads the course through the catalog with the creator's own auth (so the catalog's
 *  rules decide: a course they may not see is 404), checks the target is in it and the course is
 *  a draft (generated content is a draft: it goes into draft courses only), and INSERTs the job
 *  before answering 202. The catalog call is asynchronous (td_llm_gen_send): the call is kept,
 *  the actor never waits. The runner (td_llm_gen_run.c) does the rest.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "td_call_json.h"
#include "td_json.h"
#include "td_log.h"
#include "td_mp.h"
#include "td_llm_gen.h"

#define S_CATALOG_MS 10000

typedef struct {
    td_call_t *call;
    td_gen_kind_t kind;
    char org [64], user [64], course [64], target [64];
    json_t *params;
    bool offline;
    msgpack_sbuffer auth;           //  the creator's auth, packed
    char *auth_json;                //  and as JSON, as the job row keeps it
} s_create_t;

static void
s_create_free (s_create_t *c)
{
    json_decref (c->params);
    msgpack_sbuffer_destroy (&c->auth);
    free (c->auth_json);
    free (c);
}

//  The job row as JSON text into a reply.
static int
s_reply_row (td_call_t *call, int status, PGresult *res)
{
    json_error_t jerr;
    json_t *j = json_loads (PQgetvalue (res, 0, 0), 0, &jerr);
    PQclear (res);
    return td_llm_reply (call, status, j);
}

static void
s_on_course (td_actor_t *actor, void *arg, const td_msg_t *reply, const td_error_t *err)
{
    s_create_t *c = (s_create_t *) arg;
    td_llm_t *llm = td_llm_state (actor);
    int status = reply? td_msg_status (reply): 0;
    if (!reply || !llm) {
        td_call_error (c->call, TD_ERR_UNAVAILABLE, NULL, "cannot reach the catalog: %s",
                       err? err->message: "no answer");
        s_create_free (c);
        return;
    }
    if (status != 200) {
        td_errcode_t code = td_msg_error (reply);
        if (code == TD_ERR_NOT_FOUND || code == TD_ERR_FORBIDDEN)
            td_call_error (c->call, code, "course_id", "%s", td_msg_error_message (reply));
        else
            td_call_error (c->call, TD_ERR_UNAVAILABLE, NULL, "the catalog answered %d: %s", status,
                           td_msg_error_message (reply));
        s_create_free (c);
        return;
    }
    json_t *tree = td_mp_to_json (td_msg_body (reply), NULL);
    const char *org = json_string_value (json_object_get (tree, "org_id"));
    const char *cstatus = json_string_value (json_object_get (tree, "status"));
    td_errcode_t code = TD_OK;
    const char *field = NULL, *why = NULL;
    int total = 0;
    json_t *ctx = NULL;
    if (!tree || !org || strcmp (org, c->org) != 0)
        code = TD_ERR_NOT_FOUND, field = "course_id", why = "the organisation has no such course";
    else
    if (!cstatus || strcmp (cstatus, "draft") != 0)
        code = TD_ERR_CONFLICT, field = "course_id", why = "generated content is a draft and goes "
               "into draft courses only: duplicate the published course and generate into the copy";
    else
        ctx = td_gen_context (c->kind, tree, c->target, c->params, &total, &code, &field, &why);
    json_decref (tree);
    if (!ctx) {
        td_call_error (c->call, code, field, "%s", why);
        s_create_free (c);
        return;
    }
    const char *auth_s = c->auth_json;
    char *params_s = json_dumps (c->params, JSON_COMPACT);
    char *ctx_s = json_dumps (ctx, JSON_COMPACT);
    char total_s [16];
    snprintf (total_s, sizeof total_s, "%d", total);
    char limit_s [16];
    snprintf (limit_s, sizeof limit_s, "%d", llm->gen? llm->gen->org_jobs: 1);
    const char *params [] = { c->org, c->user, auth_s, td_gen_kind_name (c->kind), c->course,
                              c->target, params_s, ctx_s, c->offline? "t": "f", total_s, limit_s };
    //  the org's limit of jobs in flight is checked in the INSERT itself (one llm process handles
    //  its creates one at a time; two processes racing may let one more through)
    PGresult *res = auth_s && params_s && ctx_s?
        td_db_exec (td_actor_db (actor), td_call_rid (c->call),
            "WITH j AS (INSERT INTO llm_gen_jobs (org_id, created_by, auth, kind, course_id,"
            "  target_id, params, context, offline, total)"
            " SELECT $1::uuid, $2::uuid, $3::jsonb, $4, $5::uuid, $6::uuid, $7::jsonb, $8::jsonb,"
            "  $9::boolean, $10::int WHERE (SELECT count (*) FROM llm_gen_jobs WHERE org_id = $1::uuid"
            "  AND status IN ('queued', 'running')) < $11::int RETURNING *)"
            " SELECT " TD_GEN_JOB_JSON " FROM j", 11, params): NULL;
    json_decref (ctx);
    free (params_s);
    free (ctx_s);
    if (res && PQntuples (res) == 0) {
        PQclear (res);
        td_call_error_retry (c->call, TD_ERR_RATE_LIMITED, 30, NULL, "the organisation has %s "
                             "generation jobs queued or running, the most at once: wait for one to "
                             "end, or cancel one", limit_s);
    }
    else
    if (!res || PQntuples (res) != 1) {
        if (res)
            PQclear (res);
        td_llm_db_down (c->call);
    }
    else {
        td_info ("llm", td_call_rid (c->call), "generation job queued (%s on %s, %d pieces)",
                 td_gen_kind_name (c->kind), c->target, total);
        s_reply_row (c->call, 202, res);
        if (llm->gen)
            llm->gen->next_claim_ms = 0;    //  claim it now rather than in a second
        td_llm_gen_tick (actor);
    }
    s_create_free (c);
}

//  Who may work with an org's jobs: its admins and mentors (TD_ROLE_MENTOR or more). 0 when
//  allowed; else the answer for the caller: 403 for the org's learners and keys, 404 otherwise.
static td_errcode_t
s_org_access (const td_principal_t *p, const char *org)
{
    if (td_principal_kind (p) == TD_PRINCIPAL_SYSTEM)
        return TD_OK;
    if (td_principal_kind (p) == TD_PRINCIPAL_API_KEY)
        return td_principal_is_org_key (p, org)? TD_ERR_FORBIDDEN: TD_ERR_NOT_FOUND;
    td_role_t role = td_principal_org_role (p, org);
    return role >= TD_ROLE_MENTOR? TD_OK: role == TD_ROLE_LEARNER? TD_ERR_FORBIDDEN: TD_ERR_NOT_FOUND;
}

int
td_llm_gen_create (td_actor_t *actor, td_call_t *call)
{
    char user [64];
    if (!td_call_user (call, user, sizeof user, "generation jobs (they run with their creator's rights)"))
        return TD_ACTOR_OK;
    json_t *b = td_call_body_json (call);
    const char *field = NULL, *why = NULL;
    int kind = b? td_gen_kind_parse (json_string_value (json_object_get (b, "kind"))): -1;
    const char *org = json_string_value (json_object_get (b, "org_id"));
    const char *course = json_string_value (json_object_get (b, "course_id"));
    const char *target = json_string_value (json_object_get (b, "target_id"));
    json_t *params = NULL;
    if (!b)
        field = "body", why = "must be a JSON object";
    else
    if (kind < 0)
        field = "kind", why = "must be grammar_exercises, vocabulary_exercises, code_exercise or "
                              "course_outline";
    else
    if (!org || !td_uuid_valid (org))
        field = "org_id", why = "must be an organisation id";
    else
    if (!course || !td_uuid_valid (course))
        field = "course_id", why = "must be the id of the (draft) course the job writes into";
    else
    if (kind == TD_GEN_OUTLINE && !json_object_get (b, "target_id"))
        target = course;
    else
    if (!target || !td_uuid_valid (target))
        field = "target_id", why = kind == TD_GEN_GRAMMAR? "must be a grammar item's id"
                                 : kind == TD_GEN_OUTLINE? "must be the course's id"
                                 : "must be a lesson's id";
    if (!field)
        params = td_gen_params ((td_gen_kind_t) kind, b, &field, &why);
    if (!params) {
        char msg [300], name [72];     //  field may be a key of b: copied before b goes
        snprintf (msg, sizeof msg, "%.64s %s", field, why);
        snprintf (name, sizeof name, "%.64s", field);
        json_decref (b);
        return td_call_error (call, TD_ERR_INVALID_INPUT, name, "%s", msg), TD_ACTOR_OK;
    }
    td_principal_t *p = td_llm_principal (call);
    if (!p) {
        json_decref (b);
        json_decref (params);
        return TD_ACTOR_OK;
    }
    td_errcode_t denied = s_org_access (p, org);
    td_principal_destroy (&p);
    if (denied != TD_OK) {
        json_decref (b);
        json_decref (params);
        return td_call_error (call, denied, denied == TD_ERR_NOT_FOUND? "org_id": NULL,
                              denied == TD_ERR_NOT_FOUND? "there is no such organisation"
                              : "generation jobs are for the organisation's admins and mentors"),
               TD_ACTOR_OK;
    }
    td_llm_t *llm = td_llm_state (actor);
    td_llm_org_cfg_t cfg;
    if (td_llm_org_config (llm, td_call_rid (call), org, &cfg) != 0) {
        json_decref (b);
        json_decref (params);
        return td_llm_db_down (call);
    }
    bool offline = cfg.kind == TD_LLM_OFFLINE;
    sodium_memzero (&cfg, sizeof cfg);
    if (offline && kind != TD_GEN_VOCABULARY) {
        json_decref (b);
        json_decref (params);
        return td_call_error (call, TD_ERR_UNAVAILABLE, "kind", "%s needs a language model and the "
                              "organisation's provider is offline (only vocabulary exercises can be "
                              "made offline); set a provider with PUT /api/v1/orgs/{id}/llm",
                              td_gen_kind_name ((td_gen_kind_t) kind)), TD_ACTOR_OK;
    }
    s_create_t *c = (s_create_t *) calloc (1, sizeof *c);
    if (!c) {
        json_decref (b);
        json_decref (params);
        return td_call_error (call, TD_ERR_INTERNAL, NULL, "out of memory"), TD_ACTOR_OK;
    }
    c->call = call;
    c->kind = (td_gen_kind_t) kind;
    c->params = params;
    c->offline = offline;
    snprintf (c->org, sizeof c->org, "%s", org);
    snprintf (c->user, sizeof c->user, "%s", user);
    snprintf (c->course, sizeof c->course, "%s", course);
    snprintf (c->target, sizeof c->target, "%s", target);
    json_decref (b);
    msgpack_sbuffer_init (&c->auth);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &c->auth, msgpack_sbuffer_write);
    json_t *auth = td_mp_to_json (td_call_auth (call), NULL);
    c->auth_json = auth? json_dumps (auth, JSON_COMPACT): NULL;
    json_decref (auth);
    if (!c->auth_json || msgpack_pack_object (&pk, *td_call_auth (call)) != 0) {
        s_create_free (c);
        return td_call_error (call, TD_ERR_INTERNAL, NULL, "out of memory"), TD_ACTOR_OK;
    }
    td_call_keep (call);
    if (td_llm_gen_send (actor, "catalog", "course.get", c->auth.data, c->auth.size,
                         json_pack ("{s:s}", "id", c->course), S_CATALOG_MS, s_on_course, c) != 0) {
        td_call_error (call, TD_ERR_UNAVAILABLE, NULL, "cannot reach the catalog");
        s_create_free (c);
    }
    return TD_ACTOR_OK;
}

//  The job with the path's id when the caller may see it (admins and mentors of its org,
//  system); else answered 404 (or 503) and NULL. The row: JSON text, org.
static PGresult *
s_visible_job (td_actor_t *actor, td_call_t *call, const char *extra_sql)
{
    char id [64];
    if (!td_call_param (call, "id", id, sizeof id) || !td_uuid_valid (id)) {
        td_call_error (call, TD_ERR_NOT_FOUND, NULL, "there is no such generation job");
        return NULL;
    }
    td_principal_t *p = td_llm_principal (call);
    if (!p)
        return NULL;
    char sql [1024];
    snprintf (sql, sizeof sql, "SELECT " TD_GEN_JOB_JSON ", j.org_id::text, j.status"
              " FROM llm_gen_jobs j WHERE j.id = $1::uuid%s", extra_sql? extra_sql: "");
    const char *params [] = { id };
    PGresult *res = td_db_exec (td_actor_db (actor), td_call_rid (call), sql, 1, params);
    if (!res) {
        td_principal_destroy (&p);
        td_llm_db_down (call);
        return NULL;
    }
    if (PQntuples (res) != 1 || s_org_access (p, PQgetvalue (res, 0, 1)) != TD_OK) {
        PQclear (res);
        td_principal_destroy (&p);
        td_call_error (call, TD_ERR_NOT_FOUND, NULL, "there is no such generation job");
        return NULL;
    }
    td_principal_destroy (&p);
    return res;
}

int
td_llm_gen_get (td_actor_t *actor, td_call_t *call)
{
    PGresult *res = s_visible_job (actor, call, NULL);
    return res? s_reply_row (call, 200, res): TD_ACTOR_OK;
}

int
td_llm_gen_cancel (td_actor_t *actor, td_call_t *call)
{
    PGresult *res = s_visible_job (actor, call, NULL);
    if (!res)
        return TD_ACTOR_OK;
    char id [64], org [64];
    td_call_param (call, "id", id, sizeof id);     //  checked by s_visible_job
    snprintf (org, sizeof org, "%s", PQgetvalue (res, 0, 1));
    PQclear (res);
    const char *params [] = { id };
    res = td_db_exec (td_actor_db (actor), td_call_rid (call),
        "WITH j AS (UPDATE llm_gen_jobs SET status = 'cancelled', owner = NULL, lease_until = NULL,"
        "  finished_at = now (), updated_at = now ()"
        "  WHERE id = $1::uuid AND status IN ('queued', 'running') RETURNING *)"
        " SELECT " TD_GEN_JOB_JSON ", j.created_by::text, j.kind, j.done, j.total FROM j", 1, params);
    if (!res)
        return td_llm_db_down (call);
    if (PQntuples (res) != 1) {
        PQclear (res);
        return td_call_error (call, TD_ERR_CONFLICT, NULL, "the job has ended already"), TD_ACTOR_OK;
    }
    td_llm_gen_drop (actor, id);
    td_actor_publish_json (actor, "llm.job_done", PQgetvalue (res, 0, 1), org, id,
        json_pack ("{s:s, s:s, s:s, s:i, s:i}", "job_id", id, "kind", PQgetvalue (res, 0, 2),
                   "status", "cancelled", "done", atoi (PQgetvalue (res, 0, 3)),
                   "total", atoi (PQgetvalue (res, 0, 4))));
    td_info ("llm", td_call_rid (call), "generation job %s cancelled", id);
    return s_reply_row (call, 200, res);
}

int
td_llm_gen_list (td_actor_t *actor, td_call_t *call)
{
    char org [64], status [16] = "", limit_s [16] = "20";
    if (!td_call_param (call, "id", org, sizeof org) || !td_uuid_valid (org))
        return td_call_error (call, TD_ERR_NOT_FOUND, NULL, "there is no such organisation"),
               TD_ACTOR_OK;
    td_principal_t *p = td_llm_principal (call);
    if (!p)
        return TD_ACTOR_OK;
    td_errcode_t denied = s_org_access (p, org);
    td_principal_destroy (&p);
    if (denied != TD_OK)
        return td_call_error (call, denied, NULL, denied == TD_ERR_NOT_FOUND?
                              "there is no such organisation": "generation jobs are for the "
                              "organisation's admins and mentors"), TD_ACTOR_OK;
    if (td_mp_get (td_call_body (call), "status")
    &&  (!td_call_param (call, "status", status, sizeof status)
         || (strcmp (status, "queued") && strcmp (status, "running") && strcmp (status, "done")
             && strcmp (status, "failed") && strcmp (status, "cancelled"))))
        return td_call_error (call, TD_ERR_INVALID_INPUT, "status", "status must be queued, "
                              "running, done, failed or cancelled"), TD_ACTOR_OK;
    if (td_mp_get (td_call_body (call), "limit")) {
        char *end = NULL;
        long n = td_call_param (call, "limit", limit_s, sizeof limit_s)? strtol (limit_s, &end, 10): 0;
        if (!end || *end || n < 1 || n > 100)
            return td_call_error (call, TD_ERR_INVALID_INPUT, "limit", "limit must be a whole "
                                  "number from 1 to 100"), TD_ACTOR_OK;
    }
    const char *params [] = { org, *status? status: NULL, limit_s };
    PGresult *res = td_db_exec (td_actor_db (actor), td_call_rid (call),
        "SELECT coalesce (json_agg (x.j ORDER BY x.created_at DESC), '[]')::text FROM"
        " (SELECT " TD_GEN_JOB_JSON "::json AS j, j.created_at FROM llm_gen_jobs j"
        "  WHERE j.org_id = $1::uuid AND ($2::text IS NULL OR j.status = $2)"
        "  ORDER BY j.created_at DESC LIMIT $3::int) x", 3, params);
    if (!res)
        return td_llm_db_down (call);
    json_error_t jerr;
    json_t *items = json_loads (PQgetvalue (res, 0, 0), 0, &jerr);
    PQclear (res);
    return td_llm_reply (call, 200, json_pack ("{s:o}", "items", items? items: json_array ()));
}
