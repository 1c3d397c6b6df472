/*  td_access — the auth map parsed once into a td_principal_t, and the access questions on it.
 *
 *  Every string is copied out of the request (the principal may outlive nothing, but owning its
 *  strings makes it safe to keep), so one allocation per string plus three arrays. Lists are
 *  small (memberships, cohorts) except mentees (at most TD_ACCESS_MAX_MENTEES); lookups are
 *  linear, which at these sizes costs less than building an index per request.
 *
 *  Parsing is strict: an unknown kind, a string field of the wrong type, a membership without
 *  org or with an unknown role, or an overlong list makes the whole map invalid, so a caller is
 *  never given rights from a half-understood map.
 */
#include <stdlib.h>
#include <string.h>
#include "td_access.h"
#include "td_limits.h"
#include "td_mp.h"

typedef struct {
    char *id;                       //  org or cohort id
    char *org;                      //  cohorts: their org
    td_role_t role;
} s_grant_t;

struct td_principal {
    td_principal_kind_t kind;
    char *user, *session, *email, *key, *org;
    s_grant_t *orgs;    size_t norgs;
    s_grant_t *cohorts; size_t ncohorts;
    char **mentees;     size_t nmentees;
};

const char *
td_role_name (td_role_t role)
{
    switch (role) {
        case TD_ROLE_LEARNER: return "learner";
        case TD_ROLE_MENTOR:  return "mentor";
        case TD_ROLE_ADMIN:   return "admin";
        default:              return "none";
    }
}

td_role_t
td_role_parse (const char *name)
{
    if (!name)
        return TD_ROLE_NONE;
    if (strcmp (name, "learner") == 0)
        return TD_ROLE_LEARNER;
    if (strcmp (name, "mentor") == 0)
        return TD_ROLE_MENTOR;
    if (strcmp (name, "admin") == 0)
        return TD_ROLE_ADMIN;
    return TD_ROLE_NONE;
}

void
td_principal_destroy (td_principal_t **self_p)
{
    td_principal_t *self = self_p? *self_p: NULL;
    if (!self)
        return;
    free (self->user);
    free (self->session);
    free (self->email);
    free (self->key);
    free (self->org);
    for (size_t i = 0; i < self->norgs; i++)
        free (self->orgs [i].id);
    free (self->orgs);
    for (size_t i = 0; i < self->ncohorts; i++) {
        free (self->cohorts [i].id);
        free (self->cohorts [i].org);
    }
    free (self->cohorts);
    for (size_t i = 0; i < self->nmentees; i++)
        free (self->mentees [i]);
    free (self->mentees);
    free (self);
    *self_p = NULL;
}

//  An optional id string of auth: absent/nil -> *out NULL (0); a str of 1..TD_MAX_ID bytes
//  without NUL -> copied (0); anything else -> -1.
static int
s_opt_id (const msgpack_object *auth, const char *key, char **out)
{
    const msgpack_object *o = td_mp_get (auth, key);
    *out = NULL;
    if (!o || o->type == MSGPACK_OBJECT_NIL)
        return 0;
    if (o->type != MSGPACK_OBJECT_STR || o->via.str.size < 1 || o->via.str.size > 320)
        return -1;
    *out = td_mp_strdup (o);
    return *out? 0: -1;
}

//  Parse a list of grants: [{<idkey>: id, "org": id (cohorts), "role": name}].
static int
s_grants (const msgpack_object *auth, const char *key, const char *idkey, bool with_org,
          s_grant_t **out, size_t *n)
{
    const msgpack_object *list = td_mp_get (auth, key);
    *out = NULL;
    *n = 0;
    if (!list || list->type == MSGPACK_OBJECT_NIL)
        return 0;
    if (list->type != MSGPACK_OBJECT_ARRAY || list->via.array.size > TD_ACCESS_MAX_MENTEES)
        return -1;
    if (list->via.array.size == 0)
        return 0;
    *out = calloc (list->via.array.size, sizeof (s_grant_t));
    if (!*out)
        return -1;
    for (uint32_t i = 0; i < list->via.array.size; i++) {
        const msgpack_object *g = &list->via.array.ptr [i];
        if (g->type != MSGPACK_OBJECT_MAP)
            return -1;
        s_grant_t *grant = &(*out) [*n];
        (*n)++;
        char role [16];
        if (s_opt_id (g, idkey, &grant->id) || !grant->id
        ||  (with_org && (s_opt_id (g, "org", &grant->org) || !grant->org))
        ||  !td_mp_strcpy (td_mp_get (g, "role"), role, sizeof role)
        ||  (grant->role = td_role_parse (role)) == TD_ROLE_NONE
        ||  (with_org && grant->role == TD_ROLE_ADMIN))
            return -1;
    }
    return 0;
}

static int
s_mentees (const msgpack_object *auth, td_principal_t *self)
{
    const msgpack_object *list = td_mp_get (auth, "mentees");
    if (!list || list->type == MSGPACK_OBJECT_NIL)
        return 0;
    if (list->type != MSGPACK_OBJECT_ARRAY || list->via.array.size > TD_ACCESS_MAX_MENTEES)
        return -1;
    if (list->via.array.size == 0)
        return 0;
    self->mentees = calloc (list->via.array.size, sizeof (char *));
    if (!self->mentees)
        return -1;
    for (uint32_t i = 0; i < list->via.array.size; i++) {
        const msgpack_object *m = &list->via.array.ptr [i];
        if (m->type != MSGPACK_OBJECT_STR || m->via.str.size < 1 || m->via.str.size > 320)
            return -1;
        if (!(self->mentees [self->nmentees] = td_mp_strdup (m)))
            return -1;
        self->nmentees++;
    }
    return 0;
}

td_principal_t *
td_principal_new (const msgpack_object *auth, td_error_t *err)
{
    td_principal_t *self = calloc (1, sizeof *self);
    if (!self) {
        td_error_set (err, TD_ERR_INTERNAL, NULL, "out of memory while reading the caller");
        return NULL;
    }
    if (!auth || auth->type == MSGPACK_OBJECT_NIL)
        return self;                //  anonymous
    char kind [16];
    if (auth->type != MSGPACK_OBJECT_MAP
    ||  !td_mp_strcpy (td_mp_get (auth, "kind"), kind, sizeof kind))
        goto bad;
    if (strcmp (kind, "anonymous") == 0)
        return self;
    if (strcmp (kind, "system") == 0) {
        self->kind = TD_PRINCIPAL_SYSTEM;
        return self;
    }
    if (strcmp (kind, "user") == 0) {
        self->kind = TD_PRINCIPAL_USER;
        if (s_opt_id (auth, "user", &self->user) || !self->user
        ||  s_opt_id (auth, "session", &self->session)
        ||  s_opt_id (auth, "email", &self->email)
        ||  s_grants (auth, "memberships", "org", false, &self->orgs, &self->norgs)
        ||  s_grants (auth, "cohorts", "cohort", true, &self->cohorts, &self->ncohorts)
        ||  s_mentees (auth, self))
            goto bad;
        return self;
    }
    if (strcmp (kind, "api_key") == 0) {
        self->kind = TD_PRINCIPAL_API_KEY;
        if (s_opt_id (auth, "key", &self->key) || !self->key
        ||  s_opt_id (auth, "org", &self->org) || !self->org)
            goto bad;
        return self;
    }
bad:
    td_principal_destroy (&self);
    td_error_set (err, TD_ERR_UNAUTHORIZED, "auth", "the caller's credentials are malformed");
    return NULL;
}

td_principal_kind_t td_principal_kind (const td_principal_t *self) { return self->kind; }
const char *td_principal_user (const td_principal_t *self)        { return self->user; }
const char *td_principal_session (const td_principal_t *self)     { return self->session; }
const char *td_principal_email (const td_principal_t *self)       { return self->email; }
const char *td_principal_key (const td_principal_t *self)         { return self->key; }
const char *td_principal_key_org (const td_principal_t *self)     { return self->org; }
size_t td_principal_org_count (const td_principal_t *self)        { return self->norgs; }
size_t td_principal_cohort_count (const td_principal_t *self)     { return self->ncohorts; }

const char *
td_principal_org_at (const td_principal_t *self, size_t i, td_role_t *role)
{
    if (i >= self->norgs)
        return NULL;
    if (role)
        *role = self->orgs [i].role;
    return self->orgs [i].id;
}

const char *
td_principal_cohort_at (const td_principal_t *self, size_t i, const char **org, td_role_t *role)
{
    if (i >= self->ncohorts)
        return NULL;
    if (org)
        *org = self->cohorts [i].org;
    if (role)
        *role = self->cohorts [i].role;
    return self->cohorts [i].id;
}

td_role_t
td_principal_org_role (const td_principal_t *self, const char *org)
{
    if (!self || !org || self->kind != TD_PRINCIPAL_USER)
        return TD_ROLE_NONE;
    for (size_t i = 0; i < self->norgs; i++)
        if (strcmp (self->orgs [i].id, org) == 0)
            return self->orgs [i].role;
    return TD_ROLE_NONE;
}

td_role_t
td_principal_cohort_role (const td_principal_t *self, const char *cohort)
{
    if (!self || !cohort || self->kind != TD_PRINCIPAL_USER)
        return TD_ROLE_NONE;
    for (size_t i = 0; i < self->ncohorts; i++)
        if (strcmp (self->cohorts [i].id, cohort) == 0)
            return self->cohorts [i].role;
    return TD_ROLE_NONE;
}

bool
td_principal_is_org_admin (const td_principal_t *self, const char *org)
{
    if (self && self->kind == TD_PRINCIPAL_SYSTEM)
        return true;
    return td_principal_org_role (self, org) == TD_ROLE_ADMIN;
}

bool
td_principal_is_org_key (const td_principal_t *self, const char *org)
{
    return self && org && self->kind == TD_PRINCIPAL_API_KEY && strcmp (self->org, org) == 0;
}

bool
td_principal_in_org (const td_principal_t *self, const char *org)
{
    if (self && self->kind == TD_PRINCIPAL_SYSTEM)
        return true;
    return td_principal_org_role (self, org) != TD_ROLE_NONE || td_principal_is_org_key (self, org);
}

bool
td_principal_is_mentor_of (const td_principal_t *self, const char *user)
{
    if (!self || !user || self->kind != TD_PRINCIPAL_USER)
        return false;
    for (size_t i = 0; i < self->nmentees; i++)
        if (strcmp (self->mentees [i], user) == 0)
            return true;
    return false;
}

bool
td_principal_may_see_user (const td_principal_t *self, const char *user,
                           const char *const *user_orgs, size_t n)
{
    if (!self || !user)
        return false;
    if (self->kind == TD_PRINCIPAL_SYSTEM)
        return true;
    if (self->kind == TD_PRINCIPAL_USER && strcmp (self->user, user) == 0)
        return true;
    if (td_principal_is_mentor_of (self, user))
        return true;
    for (size_t i = 0; user_orgs && i < n; i++)
        if (user_orgs [i] && (td_principal_is_org_key (self, user_orgs [i])
                          ||  td_principal_org_role (self, user_orgs [i]) == TD_ROLE_ADMIN))
            return true;
    return false;
}
