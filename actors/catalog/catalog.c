/*  catalog — the catalog actor: courses, modules, lessons, items, enrolments, progress, drafts
 *  and snippets (CATALOG.md).
 *
 *  It serves the "catalog" service through the broker. The backbone gives it its run loop
 *  (actors/core/td_actor.c): registration, heartbeats, its PostgreSQL connection, `ping` for
 *  /health, and supervision. This file is only the verb table: the content verbs live in
 *  td_catalog_course.c, td_catalog_node.c, td_catalog_enrol.c and td_catalog_upsert.c (shared
 *  access rules in td_catalog_access.c, validation in td_catalog_check.c), the per-user drafts
 *  and snippets in td_catalog_draft.c and td_catalog_snippet.c (td_catalog_user.h), drip per
 *  cohort in td_catalog_cohort.c, progress in td_catalog_progress.c, exams in td_catalog_exam.c.
 */
#include "td_actor.h"
#include "td_catalog.h"
#include "td_catalog_user.h"
#include "td_catalog_grading.h"     //  item.grading, for the grader (GRADER.md)

static const td_verb_t s_verbs [] = {
    { "course.list",        td_catalog_course_list },
    { "course.create",      td_catalog_course_create },
    { "course.get",         td_catalog_course_get },
    { "course.update",      td_catalog_course_update },
    { "course.delete",      td_catalog_course_delete },
    { "course.publish",     td_catalog_course_publish },
    { "course.duplicate",   td_catalog_course_duplicate },
    { "course.reorder",     td_catalog_course_reorder },
    { "course.upsert",      td_catalog_course_upsert },
    { "module.create",      td_catalog_module_create },
    { "module.delete",      td_catalog_module_delete },
    { "module.reorder",     td_catalog_module_reorder },
    { "lesson.create",      td_catalog_lesson_create },
    { "lesson.delete",      td_catalog_lesson_delete },
    { "lesson.reorder",     td_catalog_lesson_reorder },
    { "item.create",        td_catalog_item_create },
    { "item.get",           td_catalog_item_get },
    { "item.grading",       td_catalog_item_grading },
    { "item.update",        td_catalog_item_update },
    { "item.delete",        td_catalog_item_delete },
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
    { "drip.put",           td_catalog_drip_put },
    { "drip.delete",        td_catalog_drip_delete },
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
