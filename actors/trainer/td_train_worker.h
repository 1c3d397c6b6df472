/*  td_train_worker — the threads that train, so the trainer actor's thread never does.
 *
 *  A training update takes from milliseconds to seconds of pure computation; the actor thread
 *  must keep answering requests, so runs execute on a small pool of worker threads (default:
 *  one fewer than the cores, at least one: training never takes every core) that run at a lower
 *  CPU priority (nice 10 for the thread) than the rest of tutord, grading included. A worker
 *  owns one run at a time: it gets a job (config, optional checkpoint), trains update by update,
 *  and reports each update's metrics, a checkpoint every checkpoint_ms, and the end (done with
 *  a final evaluation, stopped, or failed) as td_train_report_t messages pushed to the actor,
 *  which does every database write and publishes every event. A stop request is seen between
 *  updates.
 *
 *  Messages cross threads as pointers to heap structs inside one process (an inproc PUSH/PULL
 *  pair and the zactor pipe): the receiver owns and frees what it receives.
 */
#ifndef TD_TRAIN_WORKER_H
#define TD_TRAIN_WORKER_H

#include <czmq.h>
#include <jansson.h>
#include "td_train_job.h"

typedef struct {
    char run_id [40];
    td_train_job_t job;
    uint8_t *checkpoint;            //  owned; NULL to start fresh
    size_t checkpoint_size;
    int checkpoint_ms;              //  how often to report a checkpoint
    int eval_episodes;              //  the final evaluation
} td_train_start_t;

typedef enum {
    TD_TRAIN_METRICS = 1,           //  metrics of one update
    TD_TRAIN_CHECKPOINT,            //  checkpoint (and step) to store
    TD_TRAIN_FINISHED               //  status done | stopped | failed, with final and checkpoint
} td_train_report_kind_t;

typedef struct {
    td_train_report_kind_t kind;
    int worker;
    char run_id [40];
    char status [16];               //  FINISHED: "done", "stopped", "failed"
    long step;
    json_t *data;                   //  METRICS: metrics; FINISHED: final evaluation or error
    uint8_t *checkpoint;            //  CHECKPOINT, FINISHED (may be NULL)
    size_t checkpoint_size;
} td_train_report_t;

void td_train_report_destroy (td_train_report_t **self_p);
void td_train_start_destroy (td_train_start_t **self_p);

typedef struct td_train_pool td_train_pool_t;

//  Start n workers that push reports to endpoint (a PULL socket the caller bound). NULL on
//  failure.
td_train_pool_t *td_train_pool_new (int n, const char *endpoint);
//  Stop every worker (their runs end as "stopped" reports the caller may drain) and free.
void td_train_pool_destroy (td_train_pool_t **self_p);

int td_train_pool_size (const td_train_pool_t *self);
//  A free worker's index, or -1.
int td_train_pool_free_worker (const td_train_pool_t *self);
//  The run a worker holds ("" when free).
const char *td_train_pool_run (const td_train_pool_t *self, int worker);
//  Hand a job to a free worker (takes ownership of start). 0 or -1 (start is freed).
int td_train_pool_start (td_train_pool_t *self, int worker, td_train_start_t *start);
//  Ask the worker holding run_id to stop after its current update. 0, or -1 when none holds it.
int td_train_pool_stop (td_train_pool_t *self, const char *run_id);
//  Mark a worker free again (after its FINISHED report).
void td_train_pool_release (td_train_pool_t *self, int worker);

#endif
