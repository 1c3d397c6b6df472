/*  catalog — the catalog actor: courses, modules, lessons, items, enrolments, progress, drafts
 *  and snippets (CATALOG.md).
 *
 *  It serves the "catalog" service through the broker. The backbone gives it its run loop
 *  (actors/core/td_actor.c): registration, heartbeats, its PostgreSQL connection, `ping` for
 *  /health, and supervision. This file is only the verb table: the content verbs live in
 *  td_catalog_course.c, td_catalog_node.c, td_catalog_enrol.c and td_catalog_upsert.c (shared
 *  access rules in td_catalog_access.c, validation in td_catalog_check.c), the per-user drafts
 *  and snippets in td_catalog_draft.c and td_catalog_snippet.c (td_catalog_user.h), drip per
 *  cohort in td_catalog_cohort.c, progress in td_catalog_progress.c (from the grader) and
 *  td_catalog_session.c (from practice sessions), exams in td_catalog_exam.c, and course.get's
 *  caches in td_catalog_rows.c (access inputs) and td_catalog_cache.c (learner trees as JSON text).
 */
#include "td_actor.h"
#include "td_catalog.h"
#include "td_catalog_user.h"
#include "td_catalog_grading.h"     //  item.grading, for the grader (GRADER.md)

//  The verbs that write courses, their trees or their cohort links drop the actor's course-row
//  cache when they are done (td_catalog_rows.c, CATALOG.md §8): with td_cat_gate's drop before
//  the write, no row read before one of our own writes is served after it.
#define S_WRITES(fn) \
    static int fn##_w (td_actor_t *a, td_call_t *c) \
    { int rc = fn (a, c); td_cat_rows_forget (td_catalog_rows (a), NULL); return rc; }
S_WRITES (td_catalog_course_create)
S_WRITES (td_catalog_course_update)
S_WRITES (td_catalog_course_delete)
S_WRITES (td_catalog_course_publish)
S_WRITES (td_catalog_course_duplicate)
S_WRITES (td_catalog_course_reorder)
S_WRITES (td_catalog_course_upsert)
S_WRITES (td_catalog_module_create)
S_WRITES (td_catalog_module_delete)
S_WRITES (td_catalog_module_reorder)
S_WRITES (td_catalog_lesson_create)
S_WRITES (td_catalog_lesson_delete)
S_WRITES (td_catalog_lesson_reorder)
S_WRITES (td_catalog_item_create)
S_WRITES (td_catalog_item_update)
S_WRITES (td_catalog_item_delete)
S_WRITES (td_catalog_drip_put)
S_WRITES (td_catalog_drip_delete)

static const td_verb_t s_verbs [] = {
    { "course.list",        td_catalog_course_list },
    { "course.create",      td_catalog_course_create_w },
    { "course.get",         td_catalog_course_get },
    { "course.update",      td_catalog_course_update_w },
    { "course.delete",      td_catalog_course_delete_w },
    { "course.publish",     td_catalog_course_publish_w },
    { "course.duplicate",   td_catalog_course_duplicate_w },
    { "course.reorder",     td_catalog_course_reorder_w },
    { "course.upsert",      td_catalog_course_upsert_w },
    { "module.create",      td_catalog_module_create_w },
    { "module.delete",      td_catalog_module_delete_w },
    { "module.reorder",     td_catalog_module_reorder_w },
    { "lesson.create",      td_catalog_lesson_create_w },
    { "lesson.delete",      td_catalog_lesson_delete_w },
    { "lesson.reorder",     td_catalog_lesson_reorder_w },
    { "item.create",        td_catalog_item_create_w },
    { "item.get",           td_catalog_item_get },
    { "item.grading",       td_catalog_item_grading },
    { "item.update",        td_catalog_item_update_w },
    { "item.delete",        td_catalog_item_delete_w },
    { "enrol",              td_catalog_enrol },
    { "unenrol",            td_catalog_unenrol },
    { "enrolment.list",     td_catalog_enrolment_list },
    { "draft.get",          td_catalog_draft_get },
    { "draft.put",          td_catalog_draft_put },
    { "snippet.list",       td_catalog_snippet_list },
    { "snippet.create",     td_catalog_snippet_create },
    { "snippet.get",        td_catalog_snippet_get },
    { "snippet.update",     td_catalog_snippet_update },
    { "snippet.delete",     td_catalog_snippet_delete },
    { "snippet.star",       td_catalog_snippet_star },
    { "snippet.unstar",     td_catalog_snippet_unstar },
    { "snippet.similar",    td_catalog_snippet_similar },
    { "drip.put",           td_catalog_drip_put_w },
    { "drip.delete",        td_catalog_drip_delete_w },
    { "drip.list",          td_catalog_drip_list },
    { "progress.get",       td_catalog_progress_get },
    { "exam.get",           td_catalog_exam_get },
    { NULL, NULL }
};

const td_actor_spec_t td_catalog_actor = {
    .name = "catalog",
    .service = "catalog",
    .needs_db = true,
    .verbs = s_verbs,
    .init = td_catalog_init,            //  grade.result subscription, grader catch-up
    .fini = td_catalog_fini,
    .tick = td_catalog_tick,            //  scheduled publishing, drip, catch-up (CATALOG.md §5, §6)
    .tick_ms = 5000,
};
