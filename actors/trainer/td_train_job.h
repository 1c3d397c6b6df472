/*  td_train_job — a training run's request as the trainer reads it, and its figures as JSON.
 *
 *  POST /api/v1/training/runs sends {"env", "algo": "ppo", "hyperparameters": {...},
 *  "total_steps", "seed"}. This file turns that JSON into a td_ppo_config_t, refusing anything
 *  the trainer cannot run with the field at fault and a message a learner understands (the
 *  course invites people to try silly values), and turns metrics and evaluations into the JSON
 *  that events, the history and the REST answers carry (TRAINER.md §3). Pure: no I/O.
 */
#ifndef TD_TRAIN_JOB_H
#define TD_TRAIN_JOB_H

#include <jansson.h>
#include <stddef.h>
#include "td_ppo.h"

typedef struct {
    char env [32];
    td_ppo_config_t cfg;
} td_train_job_t;

//  Read a run request. 0, or -1 with *field (a JSON key, "hyperparameters.<name>" for a
//  hyperparameter) and why filled. max_steps caps total_steps (fair share).
int td_train_job_parse (const json_t *body, long max_steps, td_train_job_t *job,
                        char *field, size_t field_size, char *why, size_t why_size);

//  The hyperparameters actually used (defaults filled in), as stored and shown.
json_t *td_train_job_hyperparameters (const td_ppo_config_t *cfg);

//  A metrics record: the keys of TRAINER.md §3 (explained_variance null when undefined).
json_t *td_train_metrics_json (const td_ppo_metrics_t *m);

#endif
