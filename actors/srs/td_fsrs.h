/*  td_fsrs — FSRS-6, the scheduler of the srs actor, as pure functions (no I/O, no clock, no heap).
 *
 *  Why pure: the same review must give the same card on every worker, in tests and in the
 *  benchmark; so time comes in as an argument and the only randomness (fuzz) is derived from a
 *  seed the caller builds from the card and the review (td_fsrs_seed). The actor stores what
 *  td_fsrs_review returns and never computes schedules itself.
 *
 *  Two layers, as the references have them:
 *    - the memory model (fsrs-rs `model.rs`): stability S (days until R falls to 90 %),
 *      difficulty D in [1, 10], retrievability R = (1 + factor * t / S) ^ -w20 over elapsed days t;
 *      td_fsrs_memory_step is fsrs-rs's `step`/`next_states` for one rating;
 *    - the scheduler (py-fsrs `Scheduler.review_card`): states learning / review / relearning,
 *      learning steps (default 1 min, 10 min), relearning steps (10 min), desired retention 0.9,
 *      maximum interval 36500 days, fuzz of review intervals, same-day reviews.
 *
 *  Where the two references differ this module follows fsrs-rs (the rule); each place
 *  says so in td_fsrs.c ("fsrs-rs:" comments): stability is clamped to [0.001, 36500]; a same-day
 *  Hard never lowers stability (sinc >= 1 for Hard, Good, Easy); intervals round half away from
 *  zero; fuzz picks uniformly among the whole days of its range (as Anki, fsrs-rs's host, does).
 *
 *  Invariants (checked by tests/unit/test_srs_fsrs.c over random histories): after any review
 *  0.001 <= S <= 36500 and 1 <= D <= 10; due > last_review; for one card at one instant the next
 *  interval never shrinks with a better rating (Again <= Hard <= Good <= Easy), fuzz included.
 */
#ifndef TD_FSRS_H
#define TD_FSRS_H

#include <stdbool.h>
#include <stdint.h>

#define TD_FSRS_WEIGHTS         21
#define TD_FSRS_MAX_STEPS       8
#define TD_FSRS_S_MIN           0.001
#define TD_FSRS_S_MAX           36500.0
#define TD_FSRS_D_MIN           1.0
#define TD_FSRS_D_MAX           10.0
#define TD_FSRS_DAY_MS          86400000LL

typedef enum {
    TD_FSRS_LEARNING = 1,
    TD_FSRS_REVIEW = 2,
    TD_FSRS_RELEARNING = 3
} td_fsrs_state_t;

typedef enum {
    TD_FSRS_AGAIN = 1,
    TD_FSRS_HARD = 2,
    TD_FSRS_GOOD = 3,
    TD_FSRS_EASY = 4
} td_fsrs_rating_t;

//  The 21 default weights of FSRS-6 (fsrs-rs DEFAULT_PARAMETERS = py-fsrs DEFAULT_PARAMETERS).
extern const double td_fsrs_default_w [TD_FSRS_WEIGHTS];

typedef struct {
    double w [TD_FSRS_WEIGHTS];
    double desired_retention;                   //  (0, 1)
    int32_t learning_steps [TD_FSRS_MAX_STEPS]; //  seconds
    int n_learning_steps;
    int32_t relearning_steps [TD_FSRS_MAX_STEPS];
    int n_relearning_steps;
    int32_t maximum_interval;                   //  days, >= 1
    bool enable_fuzzing;
} td_fsrs_params_t;

//  A card's scheduling state. A new card: state learning, step 0, stability 0 (none yet),
//  difficulty 0, last_review 0 (never). step is -1 outside learning / relearning.
typedef struct {
    td_fsrs_state_t state;
    int step;
    double stability;
    double difficulty;
    int64_t due;                    //  unix ms
    int64_t last_review;            //  unix ms, 0 = never reviewed
} td_fsrs_card_t;

//  Choosing the day of a fuzzed interval (load balancing). Called with the whole-day range
//  [lo, hi] (lo <= fuzzed <= hi) and the day fuzz picked; answers a day in [lo, hi]. NULL: keep
//  the fuzzed day.
typedef int (td_fsrs_pick_fn) (void *ctx, int lo, int hi, int fuzzed);

typedef struct {
    uint64_t seed;                  //  td_fsrs_seed (card, review)
    td_fsrs_pick_fn *pick;
    void *ctx;
} td_fsrs_fuzz_t;

//  Defaults: FSRS-6 weights, retention 0.9, steps 1 min + 10 min, relearning 10 min, 36500 d, fuzz.
void td_fsrs_params_default (td_fsrs_params_t *p);
//  0 when every field is in range (weights within fsrs-rs/py-fsrs bounds), else -1 and *what
//  names the first bad field ("w", "desired_retention", "learning_steps", ...).
int td_fsrs_params_check (const td_fsrs_params_t *p, const char **what);

//  Clamp each weight into its bounds (the box td_fsrs_params_check accepts).
void td_fsrs_clamp_weights (double *w);

//  A new card due at `now`.
void td_fsrs_card_new (td_fsrs_card_t *card, int64_t now);

//  Review card with rating at now (ms) into *out (out may equal card). fuzz may be NULL (no
//  fuzz even when enabled). 0, or -1 when rating is not 1..4, now precedes the last review, or
//  the card is malformed (a review-state card without memory, a state out of range).
int td_fsrs_review (const td_fsrs_params_t *p, const td_fsrs_card_t *card, int rating,
                    int64_t now, const td_fsrs_fuzz_t *fuzz, td_fsrs_card_t *out);

//  Probability of recall at now (0 for a card never reviewed), as py-fsrs
//  get_card_retrievability: elapsed whole days (floor), never negative.
double td_fsrs_retrievability (const td_fsrs_params_t *p, const td_fsrs_card_t *card, int64_t now);

//  A 64-bit seed from a card's id and a review's instant, so a review reproduces its fuzz.
uint64_t td_fsrs_seed (const char *card_id, int64_t review_ms);
//  Uniform double in [0, 1) from a seed (splitmix64).
double td_fsrs_uniform (uint64_t seed);

//  ---- The memory model, exposed for conformance tests and the optimizer ----
double td_fsrs_forgetting_curve (const double *w, double t_days, double s);
//  Fractional interval for stability s at retention r (>= 0, not capped).
double td_fsrs_interval_raw (const double *w, double s, double r);
//  Whole days: rounded, at least 1, at most maximum_interval.
int td_fsrs_interval_days (const td_fsrs_params_t *p, double s);
double td_fsrs_init_stability (const double *w, int rating);
double td_fsrs_init_difficulty (const double *w, int rating, bool clamp);
//  d + linear damping of -w6 * (rating - 3), before mean reversion (fsrs-rs next_difficulty).
double td_fsrs_difficulty_delta (const double *w, double d, int rating);
double td_fsrs_mean_reversion (const double *w, double d);
//  Both, clamped to [1, 10].
double td_fsrs_next_difficulty (const double *w, double d, int rating);
double td_fsrs_recall_stability (const double *w, double s, double d, double r, int rating);
double td_fsrs_forget_stability (const double *w, double s, double d, double r);
double td_fsrs_short_term_stability (const double *w, double s, int rating);
//  One review in fsrs-rs's model: no state (has_state false) -> initial S and D of rating; else
//  elapsed whole days delta (0 = same day, short-term) from (s, d). Results in *s_out, *d_out.
void td_fsrs_memory_step (const double *w, bool has_state, double s, double d, int delta_days,
                          int rating, double *s_out, double *d_out);
//  The fuzz range of py-fsrs / Anki for an interval in days (2.5+ only): [lo, hi].
void td_fsrs_fuzz_range (int interval_days, int maximum_interval, int *lo, int *hi);

const char *td_fsrs_state_name (td_fsrs_state_t state);
//  1..3, or 0 for an unknown name.
td_fsrs_state_t td_fsrs_state_parse (const char *name);

#endif
