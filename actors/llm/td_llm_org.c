/*  td_llm_org — per-org model settings (with the org's provider key encrypted), monthly token
 *  budgets and usage accounting (LLM.md §3).
 *
 *  Keys: crypto_secretbox_easy with a fresh random nonce per write, under the key derived from
 *  TUTORD_SECRET at start (llm.c); the database sees nonce and box only, and no answer ever
 *  carries a key (has_key says whether one is set). Usage: one upsert per finished request into
 *  (org, day, user, model); the budget check sums the org's rows of the current month.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "td_llm.h"
#include "td_llm_dbq.h"
#include "td_mp.h"
#include "td_log.h"

static int
s_hex (const unsigned char *bin, size_t n, char *out, size_t outlen)
{
    if (outlen < 2 * n + 3)
        return -1;
    out [0] = '\\';
    out [1] = 'x';
    sodium_bin2hex (out + 2, outlen - 2, bin, n);
    return 0;
}

int
td_llm_org_config (td_llm_t *llm, const char *rid, const char *org, td_llm_org_cfg_t *out)
{
    *out = llm->defaults;
    if (!org || !*org)
        return 0;
    const char *params [] = { org };
    PGresult *res = td_db_exec (td_actor_db (llm->actor), rid,
        "SELECT provider, base_url, model, array_to_string (fallback_models, ','),"
        " encode (key_nonce, 'hex'), encode (key_box, 'hex'), monthly_token_budget, webhook_url"
        " FROM llm_org_settings WHERE org_id = $1", 1, params);
    if (!res)
        return -1;
    if (PQntuples (res) == 1) {
        int kind = td_llm_kind_parse (PQgetvalue (res, 0, 0));
        out->kind = kind < 0? TD_LLM_OFFLINE: (td_llm_kind_t) kind;
        if (*PQgetvalue (res, 0, 1))
            snprintf (out->base_url, sizeof out->base_url, "%s", PQgetvalue (res, 0, 1));
        else
        if (out->kind != llm->defaults.kind)
            snprintf (out->base_url, sizeof out->base_url, "%s", td_llm_default_url (out->kind));
        if (*PQgetvalue (res, 0, 2)) {
            snprintf (out->models [0], sizeof out->models [0], "%s", PQgetvalue (res, 0, 2));
            out->nmodels = 1;
            char list [512];
            snprintf (list, sizeof list, "%s", PQgetvalue (res, 0, 3));
            char *save = NULL;
            for (char *m = strtok_r (list, ",", &save); m && out->nmodels < TD_LLM_MAX_MODELS;
                 m = strtok_r (NULL, ",", &save))
                snprintf (out->models [out->nmodels++], sizeof out->models [0], "%s", m);
        }
        out->budget = PQgetisnull (res, 0, 6)? llm->defaults.budget: atoll (PQgetvalue (res, 0, 6));
        snprintf (out->webhook, sizeof out->webhook, "%s", PQgetvalue (res, 0, 7));
        if (!PQgetisnull (res, 0, 4) && !PQgetisnull (res, 0, 5)) {
            unsigned char nonce [crypto_secretbox_NONCEBYTES], box [600];
            size_t nlen = 0, blen = 0;
            out->api_key [0] = 0;
            if (sodium_hex2bin (nonce, sizeof nonce, PQgetvalue (res, 0, 4), strlen (PQgetvalue (res, 0, 4)),
                                NULL, &nlen, NULL) != 0 || nlen != sizeof nonce
            ||  sodium_hex2bin (box, sizeof box, PQgetvalue (res, 0, 5), strlen (PQgetvalue (res, 0, 5)),
                                NULL, &blen, NULL) != 0 || blen < crypto_secretbox_MACBYTES
            ||  blen - crypto_secretbox_MACBYTES >= sizeof out->api_key
            ||  crypto_secretbox_open_easy ((unsigned char *) out->api_key, box, blen, nonce,
                                            llm->box_key) != 0) {
                td_warn ("llm", rid, "the key of org %s cannot be decrypted (TUTORD_SECRET changed?)",
                         org);
                out->api_key [0] = 0;
            }
            else
                out->api_key [blen - crypto_secretbox_MACBYTES] = 0;
            sodium_memzero (box, sizeof box);
        }
        else
            out->api_key [0] = 0;
    }
    PQclear (res);
    return 0;
}

int64_t
td_llm_org_month_tokens (td_llm_t *llm, const char *rid, const char *org)
{
    const char *params [] = { org? org: "" };
    PGresult *res = td_db_exec (td_actor_db (llm->actor), rid,
        "SELECT coalesce (sum (prompt_tokens + completion_tokens), 0) FROM llm_usage"
        " WHERE org_id = $1 AND day >= date_trunc ('month', now () AT TIME ZONE 'UTC')::date",
        1, params);
    if (!res)
        return -1;
    int64_t n = atoll (PQgetvalue (res, 0, 0));
    PQclear (res);
    return n;
}

//  $7 is the call's key (schema/0021): the figures are added only by the statement that inserts
//  it, so a statement written again (td_llm_dbq's slow path after a lost reply) adds nothing.
const char *const td_llm_usage_sql =
    "WITH k AS (INSERT INTO llm_usage_keys (key) VALUES ($7::uuid) ON CONFLICT DO NOTHING"
    " RETURNING key)"
    " INSERT INTO llm_usage AS u (org_id, user_id, model, day, prompt_tokens, completion_tokens,"
    " requests, errors) SELECT $1::text, $2::text, $3::text, (now () AT TIME ZONE 'UTC')::date,"
    " $4::bigint, $5::bigint, 1, $6::bigint FROM k"
    " ON CONFLICT (org_id, day, user_id, model) DO UPDATE SET"
    " prompt_tokens = u.prompt_tokens + $4::bigint,"
    " completion_tokens = u.completion_tokens + $5::bigint,"
    " requests = u.requests + 1, errors = u.errors + $6::bigint";

void
td_llm_usage_args (td_llm_usage_args_t *args, const char *org, const char *user,
                   const char *model, int64_t prompt, int64_t completion, bool ok,
                   const char *code)
{
    snprintf (args->prompt, sizeof args->prompt, "%lld", (long long) (prompt > 0? prompt: 0));
    snprintf (args->completion, sizeof args->completion, "%lld",
              (long long) (completion > 0? completion: 0));
    td_new_id (args->key);          //  this call's, once: a repeat of the statement adds nothing
    bool error = !ok && !(code && strcmp (code, "cancelled") == 0);
    args->params [0] = org? org: "";
    args->params [1] = user? user: "";
    args->params [2] = model? model: "";
    args->params [3] = args->prompt;
    args->params [4] = args->completion;
    args->params [5] = error? "1": "0";
    args->params [6] = args->key;
}

void
td_llm_usage_publish (td_llm_t *llm, const td_llm_usage_t *u)
{
    json_t *data = json_pack ("{s:s, s:s, s:s, s:I, s:I, s:b}", "purpose", u->purpose,
        "provider", u->provider? u->provider: "", "model", u->model? u->model: "",
        "prompt_tokens", (json_int_t) (u->prompt_tokens > 0? u->prompt_tokens: 0),
        "completion_tokens", (json_int_t) (u->completion_tokens > 0? u->completion_tokens: 0),
        "ok", u->ok);
    if (!data)
        return;
    if (!u->ok)
        json_object_set_new (data, "error", json_string (u->code && *u->code? u->code: "internal"));
    if (u->session_id && *u->session_id)
        json_object_set_new (data, "session_id", json_string (u->session_id));
    if (u->job_id && *u->job_id)
        json_object_set_new (data, "job_id", json_string (u->job_id));
    const char *subject = u->job_id && *u->job_id? u->job_id
                        : u->session_id && *u->session_id? u->session_id: NULL;
    td_llm_publish (llm->actor, "llm.usage", u->org && *u->org? u->org: NULL, u->user, subject, data);
}

//  A usage row on its way (td_llm_usage_record_async): what llm.usage will say.
typedef struct {
    td_llm_t *llm;
    char rid [64], org [64], user [64], purpose [16], provider [16], model [128], code [32];
    char session [64], job [64];
    int64_t prompt, completion;
    bool ok;
} s_usage_rec_t;

static void
s_usage_recorded (void *arg, const PGresult *res)
{
    s_usage_rec_t *r = (s_usage_rec_t *) arg;
    td_llm_usage_t u = {
        .rid = r->rid, .org = r->org, .user = r->user, .purpose = r->purpose,
        .provider = r->provider, .model = r->model, .prompt_tokens = r->prompt,
        .completion_tokens = r->completion, .ok = r->ok, .code = r->code,
        .session_id = r->session, .job_id = r->job
    };
    if (res)
        td_llm_usage_publish (r->llm, &u);
    else
        td_warn ("llm", r->rid, "usage of a %s request could not be recorded", r->purpose);
    free (r);
}

int
td_llm_usage_record_async (td_llm_t *llm, const td_llm_usage_t *u)
{
    s_usage_rec_t *r = llm->dbq? (s_usage_rec_t *) calloc (1, sizeof *r): NULL;
    if (!r)
        return td_llm_usage_record (llm, u);
    r->llm = llm;
    snprintf (r->rid, sizeof r->rid, "%s", u->rid? u->rid: "");
    snprintf (r->org, sizeof r->org, "%s", u->org? u->org: "");
    snprintf (r->user, sizeof r->user, "%s", u->user? u->user: "");
    snprintf (r->purpose, sizeof r->purpose, "%s", u->purpose? u->purpose: "");
    snprintf (r->provider, sizeof r->provider, "%s", u->provider? u->provider: "");
    snprintf (r->model, sizeof r->model, "%s", u->model? u->model: "");
    snprintf (r->code, sizeof r->code, "%s", u->code? u->code: "");
    snprintf (r->session, sizeof r->session, "%s", u->session_id? u->session_id: "");
    snprintf (r->job, sizeof r->job, "%s", u->job_id? u->job_id: "");
    r->prompt = u->prompt_tokens > 0? u->prompt_tokens: 0;
    r->completion = u->completion_tokens > 0? u->completion_tokens: 0;
    r->ok = u->ok;
    td_llm_usage_args_t args;
    td_llm_usage_args (&args, r->org, r->user, r->model, r->prompt, r->completion, r->ok, r->code);
    //  the callback may run inside the push (the queue's slow path): r is not touched after it
    if (td_llm_dbq_push (llm->dbq, r->rid, td_llm_usage_sql, 7, args.params, s_usage_recorded,
                         r) == 0)
        return 0;
    free (r);
    return td_llm_usage_record (llm, u);
}

int
td_llm_usage_record (td_llm_t *llm, const td_llm_usage_t *u)
{
    td_llm_usage_args_t args;
    td_llm_usage_args (&args, u->org, u->user, u->model, u->prompt_tokens, u->completion_tokens,
                       u->ok, u->code);
    PGresult *res = td_db_exec (td_actor_db (llm->actor), u->rid, td_llm_usage_sql, 7,
                                args.params);
    if (!res)
        return -1;
    PQclear (res);
    td_llm_usage_publish (llm, u);
    return 0;
}

//  ---------------------------------------------------------------------------------------------
//  Routes

//  The org of the path, if the caller may act on it: admins (and, when keys_ok, the org's API
//  keys). Answers and returns NULL otherwise: 404 to whom may not know the org, 403 to members.
static td_principal_t *
s_gate (td_call_t *call, char *org, size_t size, bool keys_ok)
{
    td_principal_t *p = td_llm_principal (call);
    if (!p)
        return NULL;
    td_llm_param (call, "id", org, size);
    if (!td_llm_uuid_valid (org) || !td_principal_in_org (p, org)) {
        td_call_error (call, TD_ERR_NOT_FOUND, NULL, "no such organisation");
        td_principal_destroy (&p);
        return NULL;
    }
    if (td_principal_is_org_admin (p, org) || (keys_ok && td_principal_is_org_key (p, org)))
        return p;
    td_call_error (call, TD_ERR_FORBIDDEN, NULL, "only the organisation's admins may do this");
    td_principal_destroy (&p);
    return NULL;
}

static int
s_settings_reply (td_actor_t *actor, td_call_t *call, const char *org, int status)
{
    td_llm_t *llm = td_llm_state (actor);
    td_llm_org_cfg_t cfg;
    if (td_llm_org_config (llm, td_call_rid (call), org, &cfg) != 0)
        return td_llm_db_down (call);
    json_t *fallbacks = json_array ();
    for (int i = 1; i < cfg.nmodels; i++)
        json_array_append_new (fallbacks, json_string (cfg.models [i]));
    json_t *body = json_pack ("{s:s, s:s, s:s, s:s, s:o, s:b, s:o, s:b}", "org_id", org,
        "provider", td_llm_kind_name (cfg.kind), "base_url", cfg.base_url, "model", cfg.models [0],
        "fallback_models", fallbacks, "has_key", *cfg.api_key != 0,
        "monthly_token_budget", cfg.budget < 0? json_null (): json_integer (cfg.budget),
        "has_webhook", *cfg.webhook != 0);
    sodium_memzero (&cfg, sizeof cfg);
    return td_llm_reply (call, status, body);
}

int
td_llm_settings_get (td_actor_t *actor, td_call_t *call)
{
    char org [64];
    td_principal_t *p = s_gate (call, org, sizeof org, true);
    if (!p)
        return TD_ACTOR_OK;
    td_principal_destroy (&p);
    return s_settings_reply (actor, call, org, 200);
}

bool
td_llm_webhook_valid (const char *url)
{
    if (!*url)
        return true;                //  "" removes the org's webhook
    size_t n = strlen (url);
    const char *host = strncmp (url, "http://", 7) == 0? url + 7
                     : strncmp (url, "https://", 8) == 0? url + 8: NULL;
    if (!host || n > 500 || !td_llm_printable (url) || strchr (url, ' '))
        return false;
    //  a host before any path, port or query: not empty, no credentials
    size_t hlen = strcspn (host, "/:?#");
    return hlen > 0 && memchr (host, '@', strcspn (host, "/?#")) == NULL;
}

int
td_llm_settings_put (td_actor_t *actor, td_call_t *call)
{
    td_llm_t *llm = td_llm_state (actor);
    char org [64];
    td_principal_t *p = s_gate (call, org, sizeof org, false);
    if (!p)
        return TD_ACTOR_OK;
    td_principal_destroy (&p);
    json_t *b = td_llm_body (call);
    if (!b)
        return td_call_error (call, TD_ERR_INVALID_INPUT, "body", "the settings must be a JSON object"),
               TD_ACTOR_OK;
    const char *provider = json_string_value (json_object_get (b, "provider"));
    json_t *url = json_object_get (b, "base_url"), *model = json_object_get (b, "model");
    json_t *fb = json_object_get (b, "fallback_models"), *key = json_object_get (b, "api_key");
    json_t *budget = json_object_get (b, "monthly_token_budget");
    json_t *hook = json_object_get (b, "webhook_url");
    const char *bad = NULL, *why = NULL;
    if (!provider || td_llm_kind_parse (provider) < 0)
        bad = "provider", why = "provider must be one of offline, openai, anthropic, gemini";
    else
    if (url && (!json_is_string (url) || json_string_length (url) > 500
            || !td_llm_printable (json_string_value (url))
            || (json_string_length (url) && strncmp (json_string_value (url), "http://", 7)
                && strncmp (json_string_value (url), "https://", 8))))
        bad = "base_url", why = "base_url must be an http:// or https:// URL of at most 500 characters";
    else
    if (model && (!json_is_string (model) || !td_llm_model_valid (json_string_value (model))))
        bad = "model", why = "model must be a model name (letters, digits, - . _ : / @; at most 120)";
    else
    if (fb && (!json_is_array (fb) || json_array_size (fb) > TD_LLM_MAX_MODELS - 1))
        bad = "fallback_models", why = "fallback_models must be a list of at most 3 model names";
    else
    if (key && (!json_is_string (key) || json_string_length (key) > 500
            || !td_llm_printable (json_string_value (key))))
        bad = "api_key", why = "api_key must be a string of at most 500 printable characters";
    else
    if (budget && !json_is_null (budget)
            && (!json_is_integer (budget) || json_integer_value (budget) < 0))
        bad = "monthly_token_budget", why = "monthly_token_budget must be a count of tokens or null";
    else
    if (hook && !json_is_null (hook) && (!json_is_string (hook)
                                         || !td_llm_webhook_valid (json_string_value (hook))))
        bad = "webhook_url", why = "webhook_url must be an http:// or https:// URL of at most 500 "
                                   "characters with a host (\"\" or null removes it)";
    size_t i;
    json_t *m;
    json_array_foreach (fb, i, m)
        if (!bad && (!json_is_string (m) || !td_llm_model_valid (json_string_value (m))))
            bad = "fallback_models", why = "fallback_models must hold model names";
    if (bad) {
        json_decref (b);
        td_call_error (call, TD_ERR_INVALID_INPUT, bad, "%s", why);
        return TD_ACTOR_OK;
    }
    //  fallbacks as a PostgreSQL array literal: names are [A-Za-z0-9-._:/@] so no quoting needed
    char fbl [600] = "{";
    json_array_foreach (fb, i, m) {
        if (i)
            strcat (fbl, ",");
        strncat (fbl, json_string_value (m), sizeof fbl - strlen (fbl) - 2);
    }
    strcat (fbl, "}");
    char nonce_hex [2 * crypto_secretbox_NONCEBYTES + 3] = "", box_hex [2 * 600 + 3] = "";
    const char *set_key = key? "1": "0";
    if (key && json_string_length (key) > 0) {
        unsigned char nonce [crypto_secretbox_NONCEBYTES], box [600];
        size_t klen = json_string_length (key);
        randombytes_buf (nonce, sizeof nonce);
        crypto_secretbox_easy (box, (const unsigned char *) json_string_value (key), klen, nonce,
                               llm->box_key);
        s_hex (nonce, sizeof nonce, nonce_hex, sizeof nonce_hex);
        s_hex (box, klen + crypto_secretbox_MACBYTES, box_hex, sizeof box_hex);
    }
    char budget_s [24] = "";
    if (json_is_integer (budget))
        snprintf (budget_s, sizeof budget_s, "%lld", (long long) json_integer_value (budget));
    const char *params [] = {
        org, provider, url? json_string_value (url): NULL, model? json_string_value (model): NULL,
        fb? fbl: NULL, set_key, *nonce_hex? nonce_hex: NULL, *box_hex? box_hex: NULL,
        budget? "1": "0", *budget_s? budget_s: NULL,
        hook? (json_is_string (hook)? json_string_value (hook): ""): NULL
    };
    PGresult *res = td_db_exec (td_actor_db (actor), td_call_rid (call),
        "INSERT INTO llm_org_settings AS s (org_id, provider, base_url, model, fallback_models,"
        " key_nonce, key_box, monthly_token_budget, webhook_url)"
        " VALUES ($1, $2, coalesce ($3, ''), coalesce ($4, ''), coalesce ($5::text[], '{}'),"
        " $7::bytea, $8::bytea, $10::bigint, coalesce ($11, ''))"
        " ON CONFLICT (org_id) DO UPDATE SET provider = $2,"
        " base_url = coalesce ($3, s.base_url), model = coalesce ($4, s.model),"
        " fallback_models = coalesce ($5::text[], s.fallback_models),"
        " key_nonce = CASE WHEN $6 = '1' THEN $7::bytea ELSE s.key_nonce END,"
        " key_box = CASE WHEN $6 = '1' THEN $8::bytea ELSE s.key_box END,"
        " monthly_token_budget = CASE WHEN $9 = '1' THEN $10::bigint ELSE s.monthly_token_budget END,"
        " webhook_url = coalesce ($11, s.webhook_url),"
        " updated_at = now ()", 11, params);
    json_decref (b);
    sodium_memzero (box_hex, sizeof box_hex);
    if (!res)
        return td_llm_db_down (call);
    PQclear (res);
    return s_settings_reply (actor, call, org, 200);
}

static bool
s_date_ok (const char *s)
{
    int y, m, d;
    char tail;
    return strlen (s) == 10 && sscanf (s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) == 3
        && y >= 2000 && y <= 2200 && m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

int
td_llm_usage_get (td_actor_t *actor, td_call_t *call)
{
    td_llm_t *llm = td_llm_state (actor);
    char org [64], from [32], to [32];
    td_principal_t *p = s_gate (call, org, sizeof org, true);
    if (!p)
        return TD_ACTOR_OK;
    td_principal_destroy (&p);
    bool has_from = td_llm_param (call, "from", from, sizeof from);
    bool has_to = td_llm_param (call, "to", to, sizeof to);
    if ((has_from || td_mp_get (td_call_body (call), "from")) && (!has_from || !s_date_ok (from)))
        return td_call_error (call, TD_ERR_INVALID_INPUT, "from", "from must be a date YYYY-MM-DD"),
               TD_ACTOR_OK;
    if ((has_to || td_mp_get (td_call_body (call), "to")) && (!has_to || !s_date_ok (to)))
        return td_call_error (call, TD_ERR_INVALID_INPUT, "to", "to must be a date YYYY-MM-DD"),
               TD_ACTOR_OK;
    td_llm_org_cfg_t cfg;
    if (td_llm_org_config (llm, td_call_rid (call), org, &cfg) != 0)
        return td_llm_db_down (call);
    char budget [24] = "";
    if (cfg.budget >= 0)
        snprintf (budget, sizeof budget, "%lld", (long long) cfg.budget);
    sodium_memzero (&cfg, sizeof cfg);
    const char *params [] = { org, has_from? from: NULL, has_to? to: NULL, *budget? budget: NULL };
    PGresult *res = td_db_exec (td_actor_db (actor), td_call_rid (call),
        "WITH r AS (SELECT coalesce ($2::date, date_trunc ('month', now () AT TIME ZONE 'UTC')::date) AS f,"
        "                  coalesce ($3::date, (now () AT TIME ZONE 'UTC')::date) AS t),"
        " u AS (SELECT day, user_id, model, prompt_tokens, completion_tokens, requests, errors"
        "       FROM llm_usage, r WHERE org_id = $1 AND day BETWEEN r.f AND r.t),"
        " m AS (SELECT coalesce (sum (prompt_tokens + completion_tokens), 0) AS used FROM llm_usage"
        "       WHERE org_id = $1 AND day >= date_trunc ('month', now () AT TIME ZONE 'UTC')::date)"
        " SELECT json_build_object ('org_id', $1::text, 'from', r.f, 'to', r.t,"
        "  'month', json_build_object ('tokens_used', m.used, 'budget', $4::bigint),"
        "  'rows', coalesce ((SELECT json_agg (json_build_object ('day', day, 'user_id',"
        "     nullif (user_id, ''), 'model', model, 'prompt_tokens', prompt_tokens,"
        "     'completion_tokens', completion_tokens, 'requests', requests, 'errors', errors)"
        "     ORDER BY day, user_id, model) FROM u), '[]'),"
        "  'totals', (SELECT json_build_object ('prompt_tokens', coalesce (sum (prompt_tokens), 0),"
        "     'completion_tokens', coalesce (sum (completion_tokens), 0),"
        "     'requests', coalesce (sum (requests), 0), 'errors', coalesce (sum (errors), 0)) FROM u))"
        " FROM r, m", 4, params);
    if (!res)
        return td_llm_db_down (call);
    json_error_t jerr;
    json_t *body = PQntuples (res) == 1? json_loads (PQgetvalue (res, 0, 0), 0, &jerr): NULL;
    PQclear (res);
    if (!body)
        return td_call_error (call, TD_ERR_INTERNAL, NULL, "cannot read the usage"), TD_ACTOR_OK;
    return td_llm_reply (call, 200, body);
}
