/*  td_catalog — what the catalog actor's source files share: JSON in and out, the course a node
 *  belongs to, and the access rules of CATALOG.md §2 written once.
 *
 *  The handlers read the forwarded request as JSON (jansson) because items carry free-form JSON
 *  content, let PostgreSQL build the JSON of rows and trees (one query per tree), and turn the
 *  answer back into msgpack. Every access decision goes through td_cat_gate, so "who may read",
 *  "who may author" and "404 rather than 403 for what you may not see" live in one place.
 */
#ifndef TD_CATALOG_H
#define TD_CATALOG_H

#include <jansson.h>
#include <stdbool.h>
#include "td_access.h"
#include "td_actor.h"
#include "td_actor_call.h"

//  The fixed org id of the built-in catalog (seeds with "org_slug": null); no identity row.
#define TD_CAT_BUILTIN_ORG "tutord"

//  SQL over a course aliased c: released (published, or its publish_at has come).
#define TD_CAT_RELEASED "(c.status = 'published' OR c.publish_at <= now ())"

//  Publish catalog.published {course_id, slug, org_id} (user may be NULL).
void td_catalog_announce (td_actor_t *actor, const char *id, const char *slug, const char *org,
                          const char *user);
//  The release tick: flip courses whose publish_at has come to published and announce them.
void td_catalog_release_tick (td_actor_t *actor);

//  Levels of the content tree.
typedef enum { TD_CAT_COURSE = 0, TD_CAT_MODULE, TD_CAT_LESSON, TD_CAT_ITEM } td_cat_level_t;

//  Access of a caller to one course.
typedef enum { TD_CAT_NONE = 0, TD_CAT_READ, TD_CAT_AUTHOR } td_cat_access_t;

typedef struct {
    char id [40];               //  the course's id
    char org [80];              //  its org id
    bool published;
    bool public_;
    char version [96];          //  its tree's version (tree_version:updated_at), for the cache
    bool dripped;               //  linked to at least one cohort
} td_cat_course_t;

//  The JSON columns of a course (alias c), for json_build_object.
#define TD_CAT_COURSE_FIELDS \
    "'id', c.id, 'org_id', c.org_id, 'slug', c.slug, 'title', c.title, " \
    "'description', c.description, 'language', c.language, 'status', c.status, " \
    "'visibility', c.visibility, 'publish_at', c.publish_at, 'created_at', c.created_at, " \
    "'updated_at', c.updated_at"
#define TD_CAT_ITEM_FIELDS \
    "'id', i.id, 'lesson_id', i.lesson_id, 'slug', i.slug, 'kind', i.kind, 'title', i.title, " \
    "'position', i.position, 'content', i.content, 'updated_at', i.updated_at"

//  Replies. Each answers the call and returns TD_ACTOR_OK; json replies steal body.
int td_cat_reply (td_call_t *call, int status, json_t *body);
int td_cat_fail (td_call_t *call, const td_error_t *err);
int td_cat_db_down (td_call_t *call);
//  The answer when a query found no row: 503 when the database failed, else 404 naming `what`.
int td_cat_missing (td_call_t *call, bool failed, const char *what);

//  The signed-in user's id into user for per-user data (drafts, snippets: `what`); false after
//  answering 401 (anonymous, malformed auth) or 403 (an API key or system has no such data).
bool td_cat_user (td_call_t *call, char *user, size_t size, const char *what);

//  The request's "body" (the JSON body) as a new object; NULL when absent or not an object.
json_t *td_cat_body (td_call_t *call);
//  A string at the request's top level (path or query parameter) copied into buf; false when
//  absent or not a string that fits.
bool td_cat_param (td_call_t *call, const char *key, char *buf, size_t size);
bool td_cat_uuid_valid (const char *s);

//  Run a query whose first row's first column is JSON text; the parsed value, or NULL with
//  *found false (no row) or *failed true (database or parse failure).
json_t *td_cat_query_json (td_actor_t *actor, td_call_t *call, const char *sql, int n,
                           const char *const *params, bool *failed);

//  Access.
bool td_cat_may_author (const td_principal_t *p, const char *org);
td_cat_access_t td_cat_access (const td_principal_t *p, const td_cat_course_t *c);
//  Load the course of the node whose id is the request's "id" at level, check the caller may
//  read it (or author it when author), answering 404/403/400/503 otherwise. The caller's
//  principal (theirs to destroy) on success, NULL after an answer.
td_principal_t *td_cat_gate (td_actor_t *actor, td_call_t *call, td_cat_level_t level,
                             bool author, td_cat_course_t *course, td_cat_access_t *access);

//  The whole tree of a course as JSON (authors' view; td_cat_learner_tree hides answers).
json_t *td_cat_tree (td_actor_t *actor, td_call_t *call, const char *course_id, bool *failed);
//  The tree as a learner in these cohorts sees it: only the modules released to them (drip,
//  CATALOG.md §5); cohorts is a PostgreSQL text[] literal, NULL for every module.
json_t *td_cat_tree_for (td_actor_t *actor, td_call_t *call, const char *course_id,
                         const char *cohorts, bool *failed);
//  Hides answers, and the items of exam pools (a lesson with a pool gets "exam": true).
void td_cat_learner_tree (json_t *tree);
//  The caller's cohorts as a PostgreSQL text[] literal (malloc'd, "{}" when none); NULL when
//  out of memory.
char *td_cat_cohorts (const td_principal_t *p);

//  Drip per cohort and progress (td_catalog_cohort.c, td_catalog_progress.c, td_catalog_exam.c).
//  The actor's state: its event subscription and the grader catch-up client.
int td_catalog_init (td_actor_t *actor);
void td_catalog_fini (td_actor_t *actor);
//  The catalog's tick: scheduled publishing, drip announcements and the grader catch-up.
void td_catalog_tick (td_actor_t *actor);
//  The rendered learner trees of course.get (td_catalog_cache.c), valid for one (course,
//  version, released modules); entries live in the actor's state.
typedef struct td_cat_cache td_cat_cache_t;
td_cat_cache_t *td_cat_cache_new (void);
void td_cat_cache_destroy (td_cat_cache_t **self_p);
td_cat_cache_t *td_catalog_cache (td_actor_t *actor);      //  NULL before init
//  The packed learner tree (msgpack) or NULL; valid until the next put.
const void *td_cat_cache_get (td_cat_cache_t *self, const char *course, const char *version,
                              int modules, size_t *size);
void td_cat_cache_put (td_cat_cache_t *self, const char *course, const char *version, int modules,
                       const void *data, size_t size);
//  The access inputs of courses (td_catalog_rows.c, CATALOG.md §8): course rows as
//  td_cat_gate reads them, kept while a LISTEN on tutord_catalog (schema/0020) is up and dropped
//  by its notifications, which are drained before every lookup.
typedef struct td_cat_rows td_cat_rows_t;
td_cat_rows_t *td_cat_rows_new (const char *conninfo);
void td_cat_rows_destroy (td_cat_rows_t **self_p);
td_cat_rows_t *td_catalog_rows (td_actor_t *actor);        //  NULL before init
//  Connect and LISTEN when down (blocking, connect_timeout 2 s); on the tick and at start.
void td_cat_rows_connect (td_cat_rows_t *self);
void td_cat_rows_tick (td_cat_rows_t *self);
//  The course's row into out (published evaluated with the clock now); false when not kept or
//  the listener is down.
bool td_cat_rows_get (td_cat_rows_t *self, const char *id, td_cat_course_t *out);
//  Keep a row just read (status_published: its status column; publish_at_us -1 for none).
void td_cat_rows_put (td_cat_rows_t *self, const td_cat_course_t *c, bool status_published,
                      int64_t publish_at_us);
//  Drip: the modules released to the cohorts (a text[] literal) of a course whose row is kept,
//  while the clock is before until_us (the next release instant; INT64_MAX: none to come).
bool td_cat_rows_released_get (td_cat_rows_t *self, const char *id, const char *cohorts,
                               int *modules);
void td_cat_rows_released_put (td_cat_rows_t *self, const char *id, const char *cohorts,
                               int modules, int64_t until_us);
//  Drop one course (id NULL: all): the actor's own writes call it.
void td_cat_rows_forget (td_cat_rows_t *self, const char *id);
//  Announce the modules released to cohorts since the last tick (catalog.published).
void td_catalog_drip_tick (td_actor_t *actor);
//  Publish an event of the catalog (data stolen; NULL data publishes nothing).
void td_catalog_emit (td_actor_t *actor, const char *type, const char *user, const char *org,
                      const char *subject, json_t *data);
//  Record that an enrolled learner opened an item (started, last accessed; material: completed).
void td_catalog_item_opened (td_actor_t *actor, td_call_t *call, const char *user,
                             const char *course_id, const char *item_id, const char *kind);
//  Apply one grader result to progress, once per submission id. 1 applied, 0 duplicate or not
//  an item, -1 database failure.
int td_catalog_apply_result (td_actor_t *actor, const char *submission_id, const char *user,
                             const char *item_id, bool passed, const char *finished_at);
//  catalog.progress (and lesson/course completed when completed_now) after an item of user
//  changed status.
void td_cat_announce_progress (td_actor_t *actor, const char *rid, const char *user,
                               const char *item, const char *status, bool completed_now);
//  The result of an apply statement whose row is (count inserted, status before, status after,
//  third?): true when it inserted, with the statuses (and the third column) copied; clears res.
bool td_cat_applied (PGresult *res, char *before, char *after, char *third, size_t size);
//  Named cursors of the catch-up feeds (catalog_sync); cursor NULL forgets the name.
void td_cat_sync_save (td_actor_t *actor, const char *name, const char *cursor);
//  Ask service's feed verb (result.list, answer.list) as system for the page after the cursor
//  stored under name: {since?, limit}. 0 when sent (fn runs once), -1 when not.
int td_cat_feed_send (td_actor_t *actor, td_acall_t *acall, const char *name, const char *service,
                      const char *type, td_acall_fn *fn, void *arg);

//  A feed's reply (result.list, answer.list): its body when 200; NULL after logging, and after
//  forgetting the cursor stored under name when the feed refused it (400 since).
const msgpack_object *td_cat_feed_page (td_actor_t *actor, const td_msg_t *reply,
                                        const td_error_t *err, const char *name, const char *type);
//  Store the page's next cursor under name; true when the feed says there is more now.
bool td_cat_feed_next (td_actor_t *actor, const msgpack_object *body, const char *name);

//  Progress from practice sessions (td_catalog_session.c, CATALOG.md §6).
#define TD_CAT_GRAMMAR_RIGHT    3                       //  right answers that complete a topic
#define TD_CAT_ANSWERS_SYNC     "session.answer.list"   //  catalog_sync name of the cursor
//  Apply one answered question, once per question id. 1 applied, 0 duplicate or not an item
//  of kind vocabulary / grammar, -1 database failure.
int td_catalog_apply_answer (td_actor_t *actor, const char *question_id, const char *user,
                             const char *item_id, bool correct, const char *answered_at);
//  A session.answered event.
void td_cat_answer_event (td_actor_t *actor, const td_msg_t *ev);
//  Apply an answer.list page (reply NULL: err); true when another page should be asked now.
bool td_cat_answers_page (td_actor_t *actor, const td_msg_t *reply, const td_error_t *err);

//  Remove from an item (with kind and content) what learners must never see (CATALOG.md §1).
void td_cat_learner_item (json_t *item);

//  Validation (td_catalog_check.c): 0, or -1 with err set (invalid_input and the field).
//  Course fields present in o (slug required when create); modules/lessons likewise.
int td_cat_check_course (const json_t *o, bool create, td_error_t *err);
int td_cat_check_node (const json_t *o, bool create, const char *prefix, td_error_t *err);
//  An item: slug, kind, title, content (all required when create); kind_hint is the stored kind
//  for an update that does not change it.
int td_cat_check_item (const json_t *o, bool create, const char *kind_hint, const char *prefix,
                       td_error_t *err);
int td_cat_check_content (const char *kind, const json_t *content, const char *prefix,
                          td_error_t *err);

//  Handlers.
int td_catalog_course_list (td_actor_t *self, td_call_t *call);
int td_catalog_course_create (td_actor_t *self, td_call_t *call);
int td_catalog_course_get (td_actor_t *self, td_call_t *call);
int td_catalog_course_update (td_actor_t *self, td_call_t *call);
int td_catalog_course_delete (td_actor_t *self, td_call_t *call);
int td_catalog_course_publish (td_actor_t *self, td_call_t *call);
int td_catalog_course_duplicate (td_actor_t *self, td_call_t *call);
int td_catalog_module_create (td_actor_t *self, td_call_t *call);
int td_catalog_lesson_create (td_actor_t *self, td_call_t *call);
int td_catalog_item_create (td_actor_t *self, td_call_t *call);
int td_catalog_item_get (td_actor_t *self, td_call_t *call);
int td_catalog_item_update (td_actor_t *self, td_call_t *call);
int td_catalog_module_delete (td_actor_t *self, td_call_t *call);
int td_catalog_lesson_delete (td_actor_t *self, td_call_t *call);
int td_catalog_item_delete (td_actor_t *self, td_call_t *call);
int td_catalog_course_reorder (td_actor_t *self, td_call_t *call);
int td_catalog_module_reorder (td_actor_t *self, td_call_t *call);
int td_catalog_lesson_reorder (td_actor_t *self, td_call_t *call);
int td_catalog_enrol (td_actor_t *self, td_call_t *call);
int td_catalog_unenrol (td_actor_t *self, td_call_t *call);
int td_catalog_enrolment_list (td_actor_t *self, td_call_t *call);
int td_catalog_course_upsert (td_actor_t *self, td_call_t *call);
int td_catalog_drip_put (td_actor_t *self, td_call_t *call);
int td_catalog_drip_delete (td_actor_t *self, td_call_t *call);
int td_catalog_drip_list (td_actor_t *self, td_call_t *call);
int td_catalog_progress_get (td_actor_t *self, td_call_t *call);
int td_catalog_exam_get (td_actor_t *self, td_call_t *call);

//  SQL: may a learner see item i (joined with its module m) of course $C, being in the cohorts
//  $K (text[]; NULL for an author, who sees everything) as user $U? Its module is released to
//  one of those cohorts (drip, CATALOG.md §5), and an exam-pool exercise is the one assigned to
//  the user (§6). Used by item.get and item.grading, so what a learner may open and what they
//  may submit to are the same thing.
#define TD_CAT_ITEM_VISIBLE(C, K, U) \
    "(" K "::text[] IS NULL OR (m.position < coalesce (catalog_released_modules" \
    " (" C "::uuid, " K "::text[]), 2147483647) AND (NOT catalog_is_exam (i.kind, i.content)" \
    " OR EXISTS (SELECT 1 FROM catalog_exam_assignments x WHERE x.user_id = " U \
    " AND x.item_id = i.id))))"

#endif
