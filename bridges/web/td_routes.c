/*  td_routes — the bridge's route table and the pure helpers around it (see td_routes.h).
 *
 *  To add a REST route, add one line to td_routes[] below and describe it in openapi.json;
 *  tests/unit/test_web_routes.c checks that every route in the table is in the OpenAPI file.
 *  Matching is a linear scan over path segments: the table is small and the scan allocates
 *  nothing. Patterns are literal segments or "{name}" captures of one non-empty segment.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include "td_mp.h"
#include "td_json.h"
#include "td_msg.h"
#include "td_utf8.h"
#include "td_routes.h"

//  --------------------------------------------------------------------------
//  The route table

const td_route_t td_routes [] = {
#define F TD_ROUTE_FORWARD
#define ID "identity"
#define PUB TD_ROUTE_PUBLIC
#define NOA TD_ROUTE_NOAUTH
    //  method           pattern                                  kind              service      type        flags
    { TD_METHOD_GET,  "/health",                               TD_ROUTE_HEALTH,  NULL,        NULL,       0 },
    { TD_METHOD_GET,  "/metrics",                              TD_ROUTE_METRICS, NULL,        NULL,       0 },
    { TD_METHOD_GET,  "/ws",                                   TD_ROUTE_WS,      NULL,        NULL,       0 },
    { TD_METHOD_GET,  "/api/v1/openapi.json",                  TD_ROUTE_OPENAPI, NULL,        NULL,       0 },
    { TD_METHOD_GET,  "/api/v1/services/{service}/ping",       F, "{service}", "ping",     PUB },
    { TD_METHOD_POST, "/api/v1/_call/{service}/{type}",        F, "{service}", "{type}",
      TD_ROUTE_FAULTS | TD_ROUTE_RAW | PUB },
    //  identity (IDENTITY.md §3)
    { TD_METHOD_POST,   "/api/v1/auth/register",                    F, ID, "register",             NOA },
    { TD_METHOD_POST,   "/api/v1/auth/login",                       F, ID, "login",                NOA },
    { TD_METHOD_POST,   "/api/v1/auth/refresh",                     F, ID, "refresh",              NOA },
    { TD_METHOD_POST,   "/api/v1/auth/google",                      F, ID, "google",               NOA },
    { TD_METHOD_POST,   "/api/v1/auth/logout",                      F, ID, "logout",               0 },
    { TD_METHOD_GET,    "/api/v1/me",                               F, ID, "me",                   0 },
    { TD_METHOD_PUT,    "/api/v1/me/password",                      F, ID, "password.change",      0 },
    { TD_METHOD_POST,   "/api/v1/orgs",                             F, ID, "org.create",           0 },
    { TD_METHOD_GET,    "/api/v1/orgs/{id}",                        F, ID, "org.get",              0 },
    { TD_METHOD_GET,    "/api/v1/orgs/{id}/members",                F, ID, "org.members",          0 },
    { TD_METHOD_POST,   "/api/v1/orgs/{id}/members",                F, ID, "org.member.add",       0 },
    { TD_METHOD_PUT,    "/api/v1/orgs/{id}/members/{user_id}",      F, ID, "org.member.role",      0 },
    { TD_METHOD_DELETE, "/api/v1/orgs/{id}/members/{user_id}",      F, ID, "org.member.remove",    0 },
    { TD_METHOD_GET,    "/api/v1/orgs/{id}/cohorts",                F, ID, "cohort.list",          0 },
    { TD_METHOD_POST,   "/api/v1/orgs/{id}/cohorts",                F, ID, "cohort.create",        0 },
    { TD_METHOD_GET,    "/api/v1/cohorts/{id}",                     F, ID, "cohort.get",           0 },
    { TD_METHOD_POST,   "/api/v1/cohorts/{id}/members",             F, ID, "cohort.member.add",    0 },
    { TD_METHOD_DELETE, "/api/v1/cohorts/{id}/members/{user_id}",   F, ID, "cohort.member.remove", 0 },
    { TD_METHOD_GET,    "/api/v1/orgs/{id}/api-keys",               F, ID, "apikey.list",          0 },
    { TD_METHOD_POST,   "/api/v1/orgs/{id}/api-keys",               F, ID, "apikey.create",        0 },
    { TD_METHOD_DELETE, "/api/v1/orgs/{id}/api-keys/{key_id}",      F, ID, "apikey.revoke",        0 },
    //  grader (issue 5): ?wait=true on submissions answers with the final result
    { TD_METHOD_POST,   "/api/v1/submissions",                      F, "grade", "submit",          0 },
    { TD_METHOD_POST,   "/api/v1/submissions/batch",                F, "grade", "batch",           0 },
    { TD_METHOD_GET,    "/api/v1/submissions/{id}",                 F, "grade", "get",             0 },
    { TD_METHOD_POST,   "/api/v1/execute",                          F, "grade", "execute",         0 },
    //  catalog (issue 4, CATALOG.md §3)
#define CA "catalog"
    { TD_METHOD_GET,    "/api/v1/courses",                          F, CA, "course.list",          0 },
    { TD_METHOD_POST,   "/api/v1/orgs/{id}/courses",                F, CA, "course.create",        0 },
    { TD_METHOD_GET,    "/api/v1/courses/{id}",                     F, CA, "course.get",           0 },
    { TD_METHOD_PATCH,  "/api/v1/courses/{id}",                     F, CA, "course.update",        0 },
    { TD_METHOD_DELETE, "/api/v1/courses/{id}",                     F, CA, "course.delete",        0 },
    { TD_METHOD_POST,   "/api/v1/courses/{id}/publish",             F, CA, "course.publish",       0 },
    { TD_METHOD_POST,   "/api/v1/courses/{id}/duplicate",           F, CA, "course.duplicate",     0 },
    { TD_METHOD_PUT,    "/api/v1/courses/{id}/order",               F, CA, "course.reorder",       0 },
    { TD_METHOD_POST,   "/api/v1/courses/{id}/modules",             F, CA, "module.create",        0 },
    { TD_METHOD_DELETE, "/api/v1/modules/{id}",                     F, CA, "module.delete",        0 },
    { TD_METHOD_PUT,    "/api/v1/modules/{id}/order",               F, CA, "module.reorder",       0 },
    { TD_METHOD_POST,   "/api/v1/modules/{id}/lessons",             F, CA, "lesson.create",        0 },
    { TD_METHOD_DELETE, "/api/v1/lessons/{id}",                     F, CA, "lesson.delete",        0 },
    { TD_METHOD_PUT,    "/api/v1/lessons/{id}/order",               F, CA, "lesson.reorder",       0 },
    { TD_METHOD_POST,   "/api/v1/lessons/{id}/items",               F, CA, "item.create",          0 },
    { TD_METHOD_GET,    "/api/v1/items/{id}",                       F, CA, "item.get",             0 },
    { TD_METHOD_PATCH,  "/api/v1/items/{id}",                       F, CA, "item.update",          0 },
    { TD_METHOD_DELETE, "/api/v1/items/{id}",                       F, CA, "item.delete",          0 },
    { TD_METHOD_POST,   "/api/v1/courses/{id}/enrolment",           F, CA, "enrol",                0 },
    { TD_METHOD_DELETE, "/api/v1/courses/{id}/enrolment",           F, CA, "unenrol",              0 },
    { TD_METHOD_GET,    "/api/v1/me/courses",                       F, CA, "enrolment.list",       0 },
    { TD_METHOD_GET,    "/api/v1/items/{id}/draft",                 F, CA, "draft.get",            0 },
    { TD_METHOD_PUT,    "/api/v1/items/{id}/draft",                 F, CA, "draft.put",            0 },
    { TD_METHOD_GET,    "/api/v1/me/snippets",                      F, CA, "snippet.list",         0 },
    { TD_METHOD_POST,   "/api/v1/me/snippets",                      F, CA, "snippet.create",       0 },
    { TD_METHOD_GET,    "/api/v1/me/snippets/{id}",                 F, CA, "snippet.get",          0 },
    { TD_METHOD_PATCH,  "/api/v1/me/snippets/{id}",                 F, CA, "snippet.update",       0 },
    { TD_METHOD_DELETE, "/api/v1/me/snippets/{id}",                 F, CA, "snippet.delete",       0 },
    { TD_METHOD_PUT,    "/api/v1/me/snippets/{id}/star",            F, CA, "snippet.star",         0 },
    { TD_METHOD_DELETE, "/api/v1/me/snippets/{id}/star",            F, CA, "snippet.unstar",       0 },
    { TD_METHOD_GET,    "/api/v1/me/snippets/{id}/similar",         F, CA, "snippet.similar",      0 },
    { TD_METHOD_GET,    "/api/v1/courses/{id}/cohorts",             F, CA, "drip.list",            0 },
    { TD_METHOD_PUT,    "/api/v1/courses/{id}/cohorts/{cohort_id}", F, CA, "drip.put",             0 },
    { TD_METHOD_DELETE, "/api/v1/courses/{id}/cohorts/{cohort_id}", F, CA, "drip.delete",          0 },
    { TD_METHOD_GET,    "/api/v1/courses/{id}/progress",            F, CA, "progress.get",         0 },
    { TD_METHOD_GET,    "/api/v1/lessons/{id}/exam",                F, CA, "exam.get",             0 },
    //  srs (issue 6): routes of the srs service go below this line
    { TD_METHOD_POST,   "/api/v1/cards",                            F, "srs", "card.create",       0 },
    { TD_METHOD_GET,    "/api/v1/cards/{id}",                       F, "srs", "card.get",          0 },
    { TD_METHOD_GET,    "/api/v1/cards/{id}/preview",               F, "srs", "card.preview",      0 },
    { TD_METHOD_POST,   "/api/v1/cards/{id}/undo",                  F, "srs", "card.undo",         0 },
    { TD_METHOD_POST,   "/api/v1/reviews",                          F, "srs", "review",            0 },
    { TD_METHOD_GET,    "/api/v1/reviews/due",                      F, "srs", "due",               0 },
    { TD_METHOD_GET,    "/api/v1/me/srs-settings",                  F, "srs", "settings.get",      0 },
    { TD_METHOD_PUT,    "/api/v1/me/srs-settings",                  F, "srs", "settings.put",      0 },
    { TD_METHOD_POST,   "/api/v1/me/srs-settings/optimize",         F, "srs", "optimize",          0 },
    //  llm and tutor (issue 7): routes of the llm and session services go below this line
    { TD_METHOD_POST,   "/api/v1/generation/jobs",                  F, "llm", "gen.create",        0 },
    { TD_METHOD_GET,    "/api/v1/generation/jobs/{id}",             F, "llm", "gen.get",           0 },
    { TD_METHOD_POST,   "/api/v1/generation/jobs/{id}/cancel",      F, "llm", "gen.cancel",        0 },
    { TD_METHOD_GET,    "/api/v1/orgs/{id}/generation/jobs",        F, "llm", "gen.list",          0 },
    { TD_METHOD_POST,   "/api/v1/tutor/sessions",                   F, "llm", "tutor.create",      0 },
    { TD_METHOD_GET,    "/api/v1/tutor/sessions/{id}",              F, "llm", "tutor.get",         0 },
    { TD_METHOD_POST,   "/api/v1/tutor/sessions/{id}/messages",     F, "llm", "tutor.message",     0 },
    { TD_METHOD_POST,   "/api/v1/tutor/sessions/{id}/cancel",       F, "llm", "tutor.cancel",      0 },
    { TD_METHOD_POST,   "/api/v1/tutor/sessions/{id}/cards",        F, "llm", "tutor.cards",       0 },
    { TD_METHOD_GET,    "/api/v1/orgs/{id}/llm",                    F, "llm", "settings.get",      0 },
    { TD_METHOD_PUT,    "/api/v1/orgs/{id}/llm",                    F, "llm", "settings.put",      0 },
    { TD_METHOD_GET,    "/api/v1/orgs/{id}/usage",                  F, "llm", "usage.get",         0 },
    { TD_METHOD_POST,   "/api/v1/llm/hint",                         F, "llm", "assist.hint",       0 },
    { TD_METHOD_POST,   "/api/v1/llm/feedback",                     F, "llm", "assist.feedback",   0 },
    { TD_METHOD_POST,   "/api/v1/llm/explain",                      F, "llm", "assist.explain",    0 },
    { TD_METHOD_POST,   "/api/v1/llm/complexity",                   F, "llm", "assist.complexity", 0 },
    { TD_METHOD_POST,   "/api/v1/llm/evaluate",                     F, "llm", "assist.evaluate",   0 },
    //  analytics (issue 8): routes of the analytics service go below this line
    { TD_METHOD_GET,    "/api/v1/me/stats",                         F, "analytics", "stats",         0 },
    { TD_METHOD_GET,    "/api/v1/me/heatmap",                       F, "analytics", "heatmap",       0 },
    { TD_METHOD_GET,    "/api/v1/me/achievements",                  F, "analytics", "achievements",  0 },
    { TD_METHOD_GET,    "/api/v1/me/report",                        F, "analytics", "report",        0 },
    { TD_METHOD_GET,    "/api/v1/me/progress",                      F, "analytics", "progress",      0 },
    { TD_METHOD_GET,    "/api/v1/me/analytics-settings",            F, "analytics", "settings.get",  0 },
    { TD_METHOD_PUT,    "/api/v1/me/analytics-settings",            F, "analytics", "settings.put",  0 },
    { TD_METHOD_GET,    "/api/v1/events",                           F, "analytics", "events",        0 },
    { TD_METHOD_GET,    "/api/v1/cohorts/{id}/leaderboard",         F, "analytics", "leaderboard",   0 },
    { TD_METHOD_GET,    "/api/v1/orgs/{id}/leaderboard",            F, "analytics", "org.leaderboard", 0 },
    { TD_METHOD_GET,    "/api/v1/orgs/{id}/xapi",                   F, "analytics", "xapi",          0 },
    { TD_METHOD_GET,    "/api/v1/cohorts/{id}/metrics",             F, "analytics", "cohort.metrics", 0 },
    { TD_METHOD_GET,    "/api/v1/orgs/{id}/activity",               F, "analytics", "org.activity",  0 },
    { TD_METHOD_GET,    "/api/v1/me/league",                        F, "analytics", "league",        0 },
    //  practice sessions (issue 6 point 5): routes of the session service go below this line
    { TD_METHOD_POST,   "/api/v1/practice/sessions",                F, "session", "practice.create", 0 },
    { TD_METHOD_GET,    "/api/v1/practice/sessions/{id}",           F, "session", "practice.get",    0 },
    { TD_METHOD_POST,   "/api/v1/practice/sessions/{id}/answers",   F, "session", "practice.answer", 0 },
    { TD_METHOD_POST,   "/api/v1/practice/sessions/{id}/finish",    F, "session", "practice.finish", 0 },
    //  trainer (issue 9, actors/trainer/TRAINER.md)
    { TD_METHOD_POST,   "/api/v1/training/runs",                    F, "train", "run.create",    0 },
    { TD_METHOD_GET,    "/api/v1/training/runs",                    F, "train", "run.list",      0 },
    { TD_METHOD_GET,    "/api/v1/training/runs/{id}",               F, "train", "run.get",       0 },
    { TD_METHOD_POST,   "/api/v1/training/runs/{id}/stop",          F, "train", "run.stop",      0 },
    { TD_METHOD_POST,   "/api/v1/training/runs/{id}/resume",        F, "train", "run.resume",    0 },
    { TD_METHOD_POST,   "/api/v1/training/runs/{id}/evaluate",      F, "train", "run.evaluate",  0 },
#undef CA
#undef F
#undef ID
#undef PUB
#undef NOA
};
const size_t td_routes_count = sizeof td_routes / sizeof td_routes [0];

//  --------------------------------------------------------------------------
//  Methods

static const struct { td_method_t method; const char *name; } s_methods [] = {
    { TD_METHOD_GET, "GET" }, { TD_METHOD_POST, "POST" }, { TD_METHOD_PUT, "PUT" },
    { TD_METHOD_PATCH, "PATCH" }, { TD_METHOD_DELETE, "DELETE" }, { TD_METHOD_HEAD, "HEAD" },
    { TD_METHOD_OPTIONS, "OPTIONS" }
};
#define S_METHODS (sizeof s_methods / sizeof s_methods [0])

td_method_t
td_method_parse (const char *name)
{
    if (!name)
        return 0;
    for (size_t i = 0; i < S_METHODS; i++)
        if (strcmp (name, s_methods [i].name) == 0)
            return s_methods [i].method;
    return 0;
}

const char *
td_method_name (td_method_t method)
{
    for (size_t i = 0; i < S_METHODS; i++)
        if (s_methods [i].method == method)
            return s_methods [i].name;
    return "OTHER";
}

char *
td_allow_format (unsigned allowed, char *buf, size_t size)
{
    if (!buf || size == 0)
        return buf;
    buf [0] = 0;
    size_t used = 0;
    for (size_t i = 0; i < S_METHODS; i++) {
        if (!(allowed & s_methods [i].method))
            continue;
        int n = snprintf (buf + used, size - used, "%s%s", used ? ", " : "", s_methods [i].name);
        if (n < 0 || (size_t) n >= size - used) {
            buf [used] = 0;         //  drop the partial name
            break;
        }
        used += (size_t) n;
    }
    return buf;
}

//  --------------------------------------------------------------------------
//  Parameters

int
td_params_add (td_params_t *params, const char *name, size_t name_len, const char *value,
               size_t value_len, td_error_t *err)
{
    if (params->count >= TD_PARAMS_MAX)
        return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                             "Too many parameters (at most %d).", TD_PARAMS_MAX);
    if (name_len == 0 || name_len > TD_PARAM_NAME_MAX)
        return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                             "A parameter name must be 1 to %d bytes.", TD_PARAM_NAME_MAX);
    if (value_len > TD_PARAM_VALUE_MAX)
        return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                             "A parameter value is longer than %d bytes.", TD_PARAM_VALUE_MAX);
    if (memchr (name, 0, name_len) || memchr (value, 0, value_len)
    ||  !td_utf8_valid (name, name_len) || !td_utf8_valid (value, value_len))
        return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                             "A parameter is not valid UTF-8 text.");
    memcpy (params->name [params->count], name, name_len);
    params->name [params->count][name_len] = 0;
    memcpy (params->value [params->count], value, value_len);
    params->value [params->count][value_len] = 0;
    params->count++;
    return 0;
}

const char *
td_params_get (const td_params_t *params, const char *name)
{
    if (!params || !name)
        return NULL;
    for (int i = 0; i < params->count; i++)
        if (strcmp (params->name [i], name) == 0)
            return params->value [i];
    return NULL;
}

//  --------------------------------------------------------------------------
//  Matching

//  Match one pattern against path; captures into params (reset first). True on a match.
static bool
s_pattern_match (const char *pattern, const char *path, td_params_t *params)
{
    params->count = 0;
    const char *p = pattern, *q = path;
    while (*p && *q) {
        if (*p != '/' || *q != '/')
            return false;
        p++, q++;
        const char *pend = strchr (p, '/');
        const char *qend = strchr (q, '/');
        size_t plen = pend ? (size_t) (pend - p) : strlen (p);
        size_t qlen = qend ? (size_t) (qend - q) : strlen (q);
        if (plen >= 2 && p [0] == '{' && p [plen - 1] == '}') {
            if (qlen == 0)
                return false;
            if (td_params_add (params, p + 1, plen - 2, q, qlen, NULL))
                return false;
        }
        else
        if (plen != qlen || memcmp (p, q, plen) != 0)
            return false;
        p += plen;
        q += qlen;
    }
    return *p == 0 && *q == 0;
}

td_match_t
td_route_match (const td_route_t *table, size_t count, td_method_t method, const char *path,
                bool faults, const td_route_t **route, td_params_t *params, unsigned *allowed)
{
    unsigned mask = 0;
    td_params_t scratch;
    if (!path || path [0] != '/')
        return TD_MATCH_NOT_FOUND;
    for (size_t i = 0; i < count; i++) {
        const td_route_t *r = &table [i];
        if ((r->flags & TD_ROUTE_FAULTS) && !faults)
            continue;
        if (!s_pattern_match (r->pattern, path, &scratch))
            continue;
        if (r->method == method || (method == TD_METHOD_HEAD && r->method == TD_METHOD_GET)) {
            if (route)
                *route = r;
            if (params)
                *params = scratch;
            return TD_MATCH_OK;
        }
        mask |= r->method;
    }
    if (allowed)
        *allowed = mask;
    return mask ? TD_MATCH_METHOD : TD_MATCH_NOT_FOUND;
}

int
td_route_target (const td_route_t *route, const td_params_t *params, const char **service,
                 const char **type, td_error_t *err)
{
    const char *names [2] = { route->service, route->type };
    const char *out [2] = { NULL, NULL };
    for (int i = 0; i < 2; i++) {
        const char *n = names [i];
        if (!n)
            return td_error_set (err, TD_ERR_INTERNAL, NULL, "The route has no target.");
        size_t len = strlen (n);
        if (len >= 2 && n [0] == '{' && n [len - 1] == '}') {
            char pname [TD_PARAM_NAME_MAX + 1];
            if (len - 2 > TD_PARAM_NAME_MAX)
                return td_error_set (err, TD_ERR_INTERNAL, NULL, "The route is malformed.");
            memcpy (pname, n + 1, len - 2);
            pname [len - 2] = 0;
            out [i] = td_params_get (params, pname);
            if (!out [i] || !td_name_valid (out [i]))
                return td_error_set (err, TD_ERR_NOT_FOUND, pname,
                                     "There is no %s of that name.", pname);
        }
        else
            out [i] = n;
    }
    *service = out [0];
    *type = out [1];
    return 0;
}

//  --------------------------------------------------------------------------
//  URL decoding

static int
s_hexval (int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int
td_url_decode (const char *src, size_t len, char *dst, size_t size, bool plus_space)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char) src [i];
        if (c == '%') {
            if (i + 2 >= len)
                return -1;
            int hi = s_hexval ((unsigned char) src [i + 1]);
            int lo = s_hexval ((unsigned char) src [i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = hi * 16 + lo;
            i += 2;
        }
        else
        if (c == '+' && plus_space)
            c = ' ';
        if (c == 0 || o + 1 >= size)
            return -1;
        dst [o++] = (char) c;
    }
    if (o >= size)
        return -1;
    dst [o] = 0;
    return (int) o;
}

int
td_query_parse (const char *query, td_params_t *params, td_error_t *err)
{
    const char *p = query;
    while (p && *p) {
        const char *amp = strchr (p, '&');
        size_t len = amp ? (size_t) (amp - p) : strlen (p);
        const char *eq = len > 0 ? memchr (p, '=', len) : NULL;
        size_t nlen = eq ? (size_t) (eq - p) : len;
        if (nlen > 0) {                 //  "&&" and "=x" carry no name: skipped
            size_t vlen = eq ? len - nlen - 1 : 0;
            char name [TD_PARAM_NAME_MAX + 1];
            char value [TD_PARAM_VALUE_MAX + 1];
            int nn = td_url_decode (p, nlen, name, sizeof name, true);
            int vn = eq ? td_url_decode (eq + 1, vlen, value, sizeof value, true) : 0;
            if (!eq)
                value [0] = 0;
            if (nn <= 0 || vn < 0)
                return td_error_set (err, TD_ERR_INVALID_INPUT, NULL,
                                     "The query string is malformed or too long.");
            if (td_params_add (params, name, (size_t) nn, value, (size_t) vn, err))
                return -1;
        }
        p = amp ? amp + 1 : NULL;
    }
    return 0;
}

int
td_target_parse (const char *target, char *path, size_t path_size, td_params_t *query,
                 td_error_t *err)
{
    if (!target || target [0] != '/')
        return td_error_set (err, TD_ERR_INVALID_INPUT, "path",
                             "The path must start with '/'.");
    const char *qm = strchr (target, '?');
    size_t plen = qm ? (size_t) (qm - target) : strlen (target);
    if (td_url_decode (target, plen, path, path_size, false) < 0)
        return td_error_set (err, TD_ERR_INVALID_INPUT, "path",
                             "The path is malformed or too long.");
    if (!td_utf8_valid (path, strlen (path)))
        return td_error_set (err, TD_ERR_INVALID_INPUT, "path", "The path is not valid UTF-8.");
    query->count = 0;
    if (qm && td_query_parse (qm + 1, query, err))
        return -1;
    return 0;
}

//  --------------------------------------------------------------------------
//  Request body

bool
td_route_public (const td_route_t *route)
{
    return route && (route->kind != TD_ROUTE_FORWARD
                     || (route->flags & (TD_ROUTE_PUBLIC | TD_ROUTE_NOAUTH)));
}

bool
td_route_noauth (const td_route_t *route)
{
    return route && (route->kind != TD_ROUTE_FORWARD || (route->flags & TD_ROUTE_NOAUTH));
}

int
td_route_body_pack (msgpack_sbuffer *out, const td_route_t *route, const td_params_t *path,
                    const td_params_t *query, const char *client_ip, const json_t *body,
                    td_error_t *err)
{
    msgpack_packer pk;
    msgpack_packer_init (&pk, out, msgpack_sbuffer_write);
    if (route->flags & TD_ROUTE_RAW) {
        if (!body)
            return msgpack_pack_nil (&pk) ? td_error_set (err, TD_ERR_INTERNAL, NULL,
                                                          "Out of memory.") : 0;
        return td_json_to_mp (body, &pk, err);
    }
    //  Decide which keys go in first: path params, then query params not shadowed and not
    //  repeated, and never "body" or "client_ip" (the bridge's own).
    bool use_query [TD_PARAMS_MAX] = { false };
    size_t count = client_ip ? 2 : 1;
    int npath = path ? path->count : 0;
    for (int i = 0; i < npath; i++)
        count++;
    int nquery = query ? query->count : 0;
    for (int i = 0; i < nquery; i++) {
        const char *name = query->name [i];
        if (strcmp (name, "body") == 0 || strcmp (name, "client_ip") == 0
        ||  td_params_get (path, name))
            continue;
        bool dup = false;
        for (int j = 0; j < i && !dup; j++)
            dup = use_query [j] && strcmp (query->name [j], name) == 0;
        if (dup)
            continue;
        use_query [i] = true;
        count++;
    }
    int rc = msgpack_pack_map (&pk, count);
    for (int i = 0; i < npath && rc == 0; i++)
        rc = td_mp_pack_kv_str (&pk, path->name [i], path->value [i]);
    for (int i = 0; i < nquery && rc == 0; i++)
        if (use_query [i])
            rc = td_mp_pack_kv_str (&pk, query->name [i], query->value [i]);
    if (rc == 0 && client_ip)
        rc = td_mp_pack_kv_str (&pk, "client_ip", client_ip);
    if (rc == 0)
        rc = td_mp_pack_str (&pk, "body");
    if (rc)
        return td_error_set (err, TD_ERR_INTERNAL, NULL, "Out of memory.");
    if (!body)
        return msgpack_pack_nil (&pk) ? td_error_set (err, TD_ERR_INTERNAL, NULL,
                                                      "Out of memory.") : 0;
    return td_json_to_mp (body, &pk, err);
}
