/*  td_grade_pending — subjective answers: the queue of pending ones and how a grader (the llm
 *  actor, or a person through a trusted tool) records their grade (GRADER.md §3).
 */
#ifndef TD_GRADE_PENDING_H
#define TD_GRADE_PENDING_H

#include "td_actor.h"

#define TD_PENDING_MAX_LIMIT    100
#define TD_FEEDBACK_MAX         20000

//  answer.pending {limit?} -> {items: [{submission_id, item_id, course_id, user_id, org_id,
//  question, answer, created_at}]}, oldest first (system only).
int td_grade_answer_pending (td_actor_t *actor, td_call_t *call);
//  answer.grade {submission_id, score, passed, feedback?, scores?} -> 200 the submission; 409
//  when it is not pending any more; publishes grade.result (system only).
int td_grade_answer_grade (td_actor_t *actor, td_call_t *call);

#endif
