/*  td_access — who is calling, and what may they see: the request's `auth` map as one object.
 *
 *  The web bridge verifies every caller through identity's `auth.verify` and puts the result in
 *  the request's `auth` (actors/identity/IDENTITY.md §2). Each actor parses it once per request
 *  into a td_principal_t and asks it questions instead of walking msgpack itself, so the access
 *  rules of issue 3 §5 are written once:
 *
 *    - a learner sees their own data and their cohorts' content;
 *    - a mentor also sees the learners of the cohorts they mentor (their "mentees");
 *    - an admin sees their org; an org's API key sees its org;
 *    - nobody sees another org's anything; `system` (tutorctl, trusted broker plane) sees all.
 *
 *  An absent or nil auth is the anonymous caller. A malformed one (wrong kind, wrong types) is
 *  refused: the bridge built it, so a bad one is a bug, and the actor answers 401.
 */
#ifndef TD_ACCESS_H
#define TD_ACCESS_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include "td_error.h"

typedef enum {
    TD_PRINCIPAL_ANONYMOUS = 0,
    TD_PRINCIPAL_USER,
    TD_PRINCIPAL_API_KEY,
    TD_PRINCIPAL_SYSTEM
} td_principal_kind_t;

//  Ordered: a higher role includes what a lower one may do within the same org.
typedef enum {
    TD_ROLE_NONE = 0,
    TD_ROLE_LEARNER,
    TD_ROLE_MENTOR,
    TD_ROLE_ADMIN
} td_role_t;

#define TD_ACCESS_MAX_MENTEES 10000     //  as IDENTITY.md §2

typedef struct td_principal td_principal_t;

//  Parse an auth map (NULL or nil -> anonymous). NULL with err set (unauthorized) when the map
//  is malformed, or (internal) when out of memory.
td_principal_t *td_principal_new (const msgpack_object *auth, td_error_t *err);
void td_principal_destroy (td_principal_t **self_p);

td_principal_kind_t td_principal_kind (const td_principal_t *self);
//  Strings of the map; NULL when absent for this kind.
const char *td_principal_user (const td_principal_t *self);        //  user
const char *td_principal_session (const td_principal_t *self);     //  user
const char *td_principal_email (const td_principal_t *self);       //  user
const char *td_principal_key (const td_principal_t *self);         //  api_key
const char *td_principal_key_org (const td_principal_t *self);     //  api_key: the key's org

//  The caller's role in an org (user: membership; others: TD_ROLE_NONE).
td_role_t td_principal_org_role (const td_principal_t *self, const char *org);
//  The caller's role in a cohort (user: cohort membership; others: TD_ROLE_NONE).
td_role_t td_principal_cohort_role (const td_principal_t *self, const char *cohort);
//  True for an admin of org, and for system.
bool td_principal_is_org_admin (const td_principal_t *self, const char *org);
//  True when the caller is an API key of exactly this org.
bool td_principal_is_org_key (const td_principal_t *self, const char *org);
//  True when the caller may know that org exists: a member, its API key, or system.
bool td_principal_in_org (const td_principal_t *self, const char *org);
//  True when user is a learner of a cohort the caller mentors.
bool td_principal_is_mentor_of (const td_principal_t *self, const char *user);
//  May the caller see user U's data? Self; mentor of a cohort U learns in; admin of, or API key
//  of, an org U belongs to (user_orgs: U's org ids, n of them); system.
bool td_principal_may_see_user (const td_principal_t *self, const char *user,
                                const char *const *user_orgs, size_t n);
//  Number of memberships / cohorts, and the i-th (org, role) / (cohort, org, role).
size_t td_principal_org_count (const td_principal_t *self);
const char *td_principal_org_at (const td_principal_t *self, size_t i, td_role_t *role);
size_t td_principal_cohort_count (const td_principal_t *self);
const char *td_principal_cohort_at (const td_principal_t *self, size_t i, const char **org,
                                    td_role_t *role);

//  "admin", "mentor", "learner" (and "none"); parse answers TD_ROLE_NONE for anything else.
const char *td_role_name (td_role_t role);
td_role_t td_role_parse (const char *name);

#endif
