/*  td_fsrs_opt — fitting FSRS-6 weights to a review log (see td_fsrs_opt.h for the method).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "srs/td_fsrs_opt.h"

#define BATCH       512
#define LR          0.04
#define BINS        20
#define P_EPS       1e-6

//  Replay every history with w; for each scored review call back with (predicted R, recalled).
typedef void (s_score_fn) (void *ctx, double p, int y);

static long
s_replay (const double *w, const td_fsrs_seq_t *seqs, int nseq, s_score_fn *fn, void *ctx)
{
    long n = 0;
    for (int c = 0; c < nseq; c++) {
        double s = 0, d = 0;
        int64_t last = 0;
        int len = seqs [c].n < TD_FSRS_OPT_MAX_SEQ? seqs [c].n: TD_FSRS_OPT_MAX_SEQ;
        for (int i = 0; i < len; i++) {
            const td_fsrs_rev_t *r = &seqs [c].revs [i];
            int days = i == 0? 0: (int) ((r->t - last) / TD_FSRS_DAY_MS);
            if (i > 0 && days > 0) {
                double p = td_fsrs_forgetting_curve (w, days, s);
                fn (ctx, p, r->rating > TD_FSRS_AGAIN);
                n++;
            }
            td_fsrs_memory_step (w, i > 0, s, d, days, r->rating, &s, &d);
            last = r->t;
        }
    }
    return n;
}

typedef struct {
    double loss;
    double pred [BINS], real [BINS], count [BINS];
} acc_t;

static void
s_acc (void *ctx, double p, int y)
{
    acc_t *a = ctx;
    double q = p < P_EPS? P_EPS: p > 1 - P_EPS? 1 - P_EPS: p;
    a->loss -= y? log (q): log (1 - q);
    int b = (int) (p * BINS);
    if (b >= BINS)
        b = BINS - 1;
    if (b < 0)
        b = 0;
    a->pred [b] += p;
    a->real [b] += y;
    a->count [b] += 1;
}

int
td_fsrs_evaluate (const double *w, const td_fsrs_seq_t *seqs, int nseq, td_fsrs_eval_t *out)
{
    acc_t a;
    memset (&a, 0, sizeof a);
    memset (out, 0, sizeof *out);
    long n = s_replay (w, seqs, nseq, s_acc, &a);
    if (n == 0)
        return -1;
    double se = 0;
    for (int b = 0; b < BINS; b++)
        if (a.count [b] > 0) {
            double gap = a.pred [b] / a.count [b] - a.real [b] / a.count [b];
            se += gap * gap * a.count [b];
        }
    out->log_loss = a.loss / n;
    out->rmse = sqrt (se / n);
    out->n = n;
    return 0;
}

static double
s_loss (const double *w, const td_fsrs_seq_t *seqs, int nseq)
{
    td_fsrs_eval_t e;
    return td_fsrs_evaluate (w, seqs, nseq, &e) == 0? e.log_loss: INFINITY;
}

int
td_fsrs_fit (const double *w0, const td_fsrs_seq_t *seqs, int nseq, int epochs,
             double *w_out, td_fsrs_eval_t *before, td_fsrs_eval_t *after)
{
    if (!w0 || !w_out || !before || !after || nseq < 0 || (nseq > 0 && !seqs) || epochs < 1)
        return -1;
    memcpy (w_out, w0, sizeof (double) * TD_FSRS_WEIGHTS);
    if (td_fsrs_evaluate (w0, seqs, nseq, before) != 0 || before->n < TD_FSRS_OPT_MIN_REVIEWS) {
        *after = *before;
        return 1;
    }
    double w [TD_FSRS_WEIGHTS], m [TD_FSRS_WEIGHTS] = { 0 }, v [TD_FSRS_WEIGHTS] = { 0 };
    double best [TD_FSRS_WEIGHTS], best_loss = before->log_loss;
    memcpy (w, w0, sizeof w);
    td_fsrs_clamp_weights (w);
    memcpy (best, w0, sizeof best);
    int per_epoch = (int) ((before->n + BATCH - 1) / BATCH);
    int total = per_epoch * epochs;
    const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
    for (int step = 1; step <= total; step++) {
        double grad [TD_FSRS_WEIGHTS];
        for (int i = 0; i < TD_FSRS_WEIGHTS; i++) {
            double h = 1e-4 * (fabs (w [i]) > 1? fabs (w [i]): 1.0);
            double keep = w [i];
            w [i] = keep + h;
            double up = s_loss (w, seqs, nseq);
            w [i] = keep - h;
            double down = s_loss (w, seqs, nseq);
            w [i] = keep;
            grad [i] = isfinite (up) && isfinite (down)? (up - down) / (2 * h): 0.0;
        }
        //  Cosine annealing of the learning rate over all steps (py-fsrs CosineAnnealingLR).
        double lr = LR * 0.5 * (1 + cos (3.14159265358979323846 * (step - 1) / total));
        for (int i = 0; i < TD_FSRS_WEIGHTS; i++) {
            m [i] = b1 * m [i] + (1 - b1) * grad [i];
            v [i] = b2 * v [i] + (1 - b2) * grad [i] * grad [i];
            double mh = m [i] / (1 - pow (b1, step)), vh = v [i] / (1 - pow (b2, step));
            w [i] -= lr * mh / (sqrt (vh) + eps);
        }
        td_fsrs_clamp_weights (w);
        if (step % per_epoch == 0 || step == total) {
            double loss = s_loss (w, seqs, nseq);
            if (loss < best_loss) {
                best_loss = loss;
                memcpy (best, w, sizeof best);
            }
        }
    }
    memcpy (w_out, best, sizeof best);
    td_fsrs_evaluate (w_out, seqs, nseq, after);
    return 0;
}
