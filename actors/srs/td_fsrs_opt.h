/*  td_fsrs_opt — fitting a learner's 21 FSRS-6 weights to their review log (issue 6 point 4).
 *
 *  Pure and single-threaded, like td_fsrs: the srs actor runs it on a job thread over a copy of
 *  the log. The model is td_fsrs_memory_step replayed over each card's history; at every review
 *  made a day or more after the previous one the predicted retrievability is compared with what
 *  happened (recalled = rating above Again), as py-fsrs's Optimizer does: binary cross-entropy
 *  (log loss), the first 64 reviews of each card, at least 512 such reviews (py-fsrs
 *  mini_batch_size; with fewer the defaults stay), Adam (learning rate 0.04, cosine annealing),
 *  weights clamped to their bounds after each step. Gradients are central differences (21
 *  weights: 42 replays a step), so no autodiff is needed; the log is capped by the caller.
 *  RMSE is the binned calibration error: predictions grouped in 20 bins of R, the root of the
 *  count-weighted mean squared gap between mean prediction and observed recall rate.
 */
#ifndef TD_FSRS_OPT_H
#define TD_FSRS_OPT_H

#include <stdint.h>
#include "srs/td_fsrs.h"

#define TD_FSRS_OPT_MIN_REVIEWS 512
#define TD_FSRS_OPT_MAX_SEQ     64

typedef struct {
    int64_t t;              //  reviewed_at, unix ms
    int rating;             //  1..4
} td_fsrs_rev_t;

//  One card's reviews, oldest first.
typedef struct {
    const td_fsrs_rev_t *revs;
    int n;
} td_fsrs_seq_t;

typedef struct {
    double log_loss;
    double rmse;
    long n;                 //  reviews scored (a day or more after the previous)
} td_fsrs_eval_t;

//  Score weights w on the histories. 0, or -1 when nothing could be scored.
int td_fsrs_evaluate (const double *w, const td_fsrs_seq_t *seqs, int nseq, td_fsrs_eval_t *out);

//  Fit from w0 with `epochs` passes of ceil(n / 512) steps each. w_out gets the best weights seen
//  (w0 included, so the fit never scores worse on this log than the start). 0; 1 when there are
//  fewer than TD_FSRS_OPT_MIN_REVIEWS scored reviews (w_out = w0, after = before); -1 on bad input.
int td_fsrs_fit (const double *w0, const td_fsrs_seq_t *seqs, int nseq, int epochs,
                 double *w_out, td_fsrs_eval_t *before, td_fsrs_eval_t *after);

#endif
