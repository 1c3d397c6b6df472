/*  test_srs_opt — the FSRS-6 optimizer (td_fsrs_opt): on a log simulated from a learner whose
 *  memory differs from the defaults, the fit must lower the log loss it starts from, keep every
 *  weight in bounds, be deterministic, and refuse (keep the defaults) below 512 scored reviews,
 *  as py-fsrs's Optimizer does.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "srs/td_fsrs_opt.h"

#define CARDS 120
#define PER   12
#define T0    1767225600000LL

static td_fsrs_rev_t s_revs [CARDS][PER];
static td_fsrs_seq_t s_seqs [CARDS];
static uint64_t s_rng = 0x9E3779B97F4A7C15ULL;

static double
s_unit (void)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return (double) (s_rng >> 11) / 9007199254740992.0;
}

//  A learner who forgets faster than the defaults say: their stabilities are a third of the
//  model's. Reviews come at the intervals the default scheduler would give, with some noise.
static void
s_simulate (void)
{
    double truth [TD_FSRS_WEIGHTS];
    memcpy (truth, td_fsrs_default_w, sizeof truth);
    for (int i = 0; i < 4; i++)
        truth [i] /= 3;
    truth [8] -= 0.6;
    for (int c = 0; c < CARDS; c++) {
        double s = 0, d = 0;
        int64_t t = T0 + (int64_t) c * 3600000;
        for (int k = 0; k < PER; k++) {
            int rating = 3;
            if (k > 0) {
                double r = td_fsrs_forgetting_curve (truth, (double) ((t - s_revs [c][k - 1].t) / TD_FSRS_DAY_MS), s);
                rating = s_unit () < r? (s_unit () < 0.2? 4: 3): 1;
            }
            s_revs [c][k] = (td_fsrs_rev_t) { t, rating };
            double ts = s, td = d;
            int days = k == 0? 0: (int) ((t - s_revs [c][k - 1].t) / TD_FSRS_DAY_MS);
            td_fsrs_memory_step (truth, k > 0, ts, td, days, rating, &s, &d);
            double ivl = s * (0.5 + s_unit ()) * 3;                 //  as if scheduled on S * 3
            t += (int64_t) ((ivl < 1? 1: ivl) * TD_FSRS_DAY_MS);
        }
        s_seqs [c] = (td_fsrs_seq_t) { s_revs [c], PER };
    }
}

static void
test_fit_lowers_loss (void **state)
{
    (void) state;
    s_simulate ();
    double w [TD_FSRS_WEIGHTS], w2 [TD_FSRS_WEIGHTS];
    td_fsrs_eval_t before, after, b2, a2;
    assert_int_equal (td_fsrs_fit (td_fsrs_default_w, s_seqs, CARDS, 3, w, &before, &after), 0);
    assert_true (before.n >= TD_FSRS_OPT_MIN_REVIEWS);
    assert_true (after.n == before.n);
    assert_true (after.log_loss < before.log_loss - 0.01);
    assert_true (isfinite (after.rmse) && after.rmse >= 0 && after.rmse < 1);
    td_fsrs_params_t p;
    td_fsrs_params_default (&p);
    memcpy (p.w, w, sizeof w);
    assert_int_equal (td_fsrs_params_check (&p, NULL), 0);          //  in bounds
    //  deterministic
    assert_int_equal (td_fsrs_fit (td_fsrs_default_w, s_seqs, CARDS, 3, w2, &b2, &a2), 0);
    assert_memory_equal (w, w2, sizeof w);
    print_message ("log loss %.4f -> %.4f, rmse %.4f -> %.4f over %ld reviews\n",
                   before.log_loss, after.log_loss, before.rmse, after.rmse, before.n);
}

static void
test_too_few_reviews (void **state)
{
    (void) state;
    s_simulate ();
    double w [TD_FSRS_WEIGHTS];
    td_fsrs_eval_t before, after;
    assert_int_equal (td_fsrs_fit (td_fsrs_default_w, s_seqs, 20, 3, w, &before, &after), 1);
    assert_true (before.n < TD_FSRS_OPT_MIN_REVIEWS);
    assert_memory_equal (w, td_fsrs_default_w, sizeof w);
    assert_true (after.log_loss == before.log_loss);
    assert_int_equal (td_fsrs_fit (td_fsrs_default_w, NULL, 0, 3, w, &before, &after), 1);
    assert_int_equal (td_fsrs_fit (td_fsrs_default_w, s_seqs, CARDS, 0, w, &before, &after), -1);
    assert_int_equal (td_fsrs_evaluate (td_fsrs_default_w, s_seqs, 0, &before), -1);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_fit_lowers_loss),
        cmocka_unit_test (test_too_few_reviews),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
