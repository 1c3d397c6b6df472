/*  td_fsrs — FSRS-6 scheduling as pure functions (see td_fsrs.h for the model and invariants).
 *
 *  Written from the published algorithm and the behaviour the references' unit tests pin down
 *  (py-fsrs 6.x tests/test_basic.py, fsrs-rs 6.x src/inference.rs and src/model.rs tests; the
 *  vectors are in tests/unit/test_srs_fsrs.c). The arithmetic is in double; the references' f32
 *  vectors agree to better than 1e-4.
 */
#include <math.h>
#include <stddef.h>
#include <string.h>
#include "td_fsrs.h"

const double td_fsrs_default_w [TD_FSRS_WEIGHTS] = {
    0.212, 1.2931, 2.3065, 8.2956, 6.4133, 0.8334, 3.0194, 0.001, 1.8722, 0.1666, 0.796,
    1.4835, 0.0614, 0.2629, 1.6483, 0.6014, 1.8729, 0.5425, 0.0912, 0.0658, 0.1542
};

//  Bounds of each weight (py-fsrs LOWER/UPPER_BOUNDS_PARAMETERS; fsrs-rs clips to the same box).
static const double s_w_lo [TD_FSRS_WEIGHTS] = {
    0.001, 0.001, 0.001, 0.001, 1.0, 0.001, 0.001, 0.001, 0.0, 0.0, 0.001,
    0.001, 0.001, 0.001, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.1
};
static const double s_w_hi [TD_FSRS_WEIGHTS] = {
    100.0, 100.0, 100.0, 100.0, 10.0, 4.0, 4.0, 0.75, 4.5, 0.8, 3.5,
    5.0, 0.25, 0.9, 4.0, 1.0, 6.0, 2.0, 2.0, 0.8, 0.8
};

static double
s_clamp (double x, double lo, double hi)
{
    return x < lo? lo: x > hi? hi: x;
}

void
td_fsrs_clamp_weights (double *w)
{
    for (int i = 0; i < TD_FSRS_WEIGHTS; i++)
        w [i] = s_clamp (w [i], s_w_lo [i], s_w_hi [i]);
}

static double
s_clamp_s (double s)
{
    //  fsrs-rs: stability is clamped to [S_MIN, S_MAX] after every update; py-fsrs only floors it.
    return s_clamp (s, TD_FSRS_S_MIN, TD_FSRS_S_MAX);
}

void
td_fsrs_params_default (td_fsrs_params_t *p)
{
    memset (p, 0, sizeof *p);
    memcpy (p->w, td_fsrs_default_w, sizeof p->w);
    p->desired_retention = 0.9;
    p->learning_steps [0] = 60;
    p->learning_steps [1] = 600;
    p->n_learning_steps = 2;
    p->relearning_steps [0] = 600;
    p->n_relearning_steps = 1;
    p->maximum_interval = 36500;
    p->enable_fuzzing = true;
}

int
td_fsrs_params_check (const td_fsrs_params_t *p, const char **what)
{
    const char *bad = NULL;
    for (int i = 0; !bad && i < TD_FSRS_WEIGHTS; i++)
        if (!(p->w [i] >= s_w_lo [i] && p->w [i] <= s_w_hi [i]))
            bad = "w";
    if (!bad && !(p->desired_retention > 0.0 && p->desired_retention < 1.0))
        bad = "desired_retention";
    if (!bad && (p->n_learning_steps < 0 || p->n_learning_steps > TD_FSRS_MAX_STEPS))
        bad = "learning_steps";
    for (int i = 0; !bad && i < p->n_learning_steps; i++)
        if (p->learning_steps [i] < 1 || p->learning_steps [i] > 86400 * 30)
            bad = "learning_steps";
    if (!bad && (p->n_relearning_steps < 0 || p->n_relearning_steps > TD_FSRS_MAX_STEPS))
        bad = "relearning_steps";
    for (int i = 0; !bad && i < p->n_relearning_steps; i++)
        if (p->relearning_steps [i] < 1 || p->relearning_steps [i] > 86400 * 30)
            bad = "relearning_steps";
    if (!bad && (p->maximum_interval < 1 || p->maximum_interval > 36500))
        bad = "maximum_interval";
    if (what)
        *what = bad;
    return bad? -1: 0;
}

void
td_fsrs_card_new (td_fsrs_card_t *card, int64_t now)
{
    memset (card, 0, sizeof *card);
    card->state = TD_FSRS_LEARNING;
    card->step = 0;
    card->due = now;
}

//  ---------------------------------------------------------------------------------------------
//  Memory model

static double
s_factor (const double *w)
{
    return pow (0.9, 1.0 / -w [20]) - 1.0;
}

double
td_fsrs_forgetting_curve (const double *w, double t_days, double s)
{
    if (t_days < 0)
        t_days = 0;
    return pow (1.0 + s_factor (w) * t_days / s, -w [20]);
}

double
td_fsrs_interval_raw (const double *w, double s, double r)
{
    //  Unclamped above (fsrs-rs inference.rs test_next_interval expects 3116766 days for S = 1 at
    //  r = 0.1); td_fsrs_interval_days applies the maximum interval.
    double ivl = s / s_factor (w) * (pow (r, 1.0 / -w [20]) - 1.0);
    return ivl > 0? ivl: 0.0;
}

int
td_fsrs_interval_days (const td_fsrs_params_t *p, double s)
{
    //  fsrs-rs (Anki) rounds half away from zero; py-fsrs's round() is half-to-even. They can
    //  differ only when the real interval is exactly n + 0.5.
    double days = round (td_fsrs_interval_raw (p->w, s, p->desired_retention));
    if (days < 1)
        days = 1;
    if (days > p->maximum_interval)
        days = p->maximum_interval;
    return (int) days;
}

double
td_fsrs_init_stability (const double *w, int rating)
{
    return s_clamp_s (w [rating - 1]);
}

double
td_fsrs_init_difficulty (const double *w, int rating, bool clamp)
{
    double d = w [4] - exp (w [5] * (rating - 1)) + 1.0;
    return clamp? s_clamp (d, TD_FSRS_D_MIN, TD_FSRS_D_MAX): d;
}

double
td_fsrs_difficulty_delta (const double *w, double d, int rating)
{
    double delta = -w [6] * (rating - 3);
    return d + (10.0 - d) * delta / 9.0;            //  linear damping
}

double
td_fsrs_mean_reversion (const double *w, double d)
{
    return w [7] * td_fsrs_init_difficulty (w, TD_FSRS_EASY, false) + (1.0 - w [7]) * d;
}

double
td_fsrs_next_difficulty (const double *w, double d, int rating)
{
    return s_clamp (td_fsrs_mean_reversion (w, td_fsrs_difficulty_delta (w, d, rating)),
                    TD_FSRS_D_MIN, TD_FSRS_D_MAX);
}

double
td_fsrs_recall_stability (const double *w, double s, double d, double r, int rating)
{
    double hard = rating == TD_FSRS_HARD? w [15]: 1.0;
    double easy = rating == TD_FSRS_EASY? w [16]: 1.0;
    return s_clamp_s (s * (1.0 + exp (w [8]) * (11.0 - d) * pow (s, -w [9])
                               * (exp ((1.0 - r) * w [10]) - 1.0) * hard * easy));
}

double
td_fsrs_forget_stability (const double *w, double s, double d, double r)
{
    double long_term = w [11] * pow (d, -w [12]) * (pow (s + 1.0, w [13]) - 1.0)
                     * exp ((1.0 - r) * w [14]);
    double short_term = s / exp (w [17] * w [18]);
    return s_clamp_s (long_term < short_term? long_term: short_term);
}

double
td_fsrs_short_term_stability (const double *w, double s, int rating)
{
    double sinc = exp (w [17] * (rating - 3 + w [18])) * pow (s, -w [19]);
    //  fsrs-rs: a same-day Hard, Good or Easy never lowers stability (sinc >= 1 from Hard up,
    //  model.rs stability_short_term); py-fsrs clamps only Good and Easy.
    if (rating >= TD_FSRS_HARD && sinc < 1.0)
        sinc = 1.0;
    return s_clamp_s (s * sinc);
}

static double
s_next_stability (const double *w, double s, double d, double r, int rating)
{
    return rating == TD_FSRS_AGAIN? td_fsrs_forget_stability (w, s, d, r)
                                  : td_fsrs_recall_stability (w, s, d, r, rating);
}

void
td_fsrs_memory_step (const double *w, bool has_state, double s, double d, int delta_days,
                     int rating, double *s_out, double *d_out)
{
    if (!has_state) {
        *s_out = td_fsrs_init_stability (w, rating);
        *d_out = td_fsrs_init_difficulty (w, rating, true);
        return;
    }
    if (delta_days <= 0)
        *s_out = td_fsrs_short_term_stability (w, s, rating);
    else
        *s_out = s_next_stability (w, s, d, td_fsrs_forgetting_curve (w, delta_days, s), rating);
    *d_out = td_fsrs_next_difficulty (w, d, rating);
}

//  ---------------------------------------------------------------------------------------------
//  Fuzz

uint64_t
td_fsrs_seed (const char *card_id, int64_t review_ms)
{
    uint64_t h = 1469598103934665603ULL;           //  FNV-1a over the id
    for (const unsigned char *c = (const unsigned char *) (card_id? card_id: ""); *c; c++)
        h = (h ^ *c) * 1099511628211ULL;
    return h ^ ((uint64_t) review_ms * 0x9E3779B97F4A7C15ULL);
}

double
td_fsrs_uniform (uint64_t seed)
{
    uint64_t z = seed + 0x9E3779B97F4A7C15ULL;      //  splitmix64
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return (double) (z >> 11) * (1.0 / 9007199254740992.0);
}

void
td_fsrs_fuzz_range (int interval_days, int maximum_interval, int *lo, int *hi)
{
    static const struct { double start, end, factor; } ranges [] = {
        { 2.5, 7.0, 0.15 }, { 7.0, 20.0, 0.1 }, { 20.0, INFINITY, 0.05 }
    };
    double delta = 1.0;
    for (size_t i = 0; i < sizeof ranges / sizeof ranges [0]; i++) {
        double top = interval_days < ranges [i].end? interval_days: ranges [i].end;
        double span = top - ranges [i].start;
        delta += ranges [i].factor * (span > 0? span: 0.0);
    }
    int l = (int) round (interval_days - delta);
    int h = (int) round (interval_days + delta);
    if (l < 2)
        l = 2;
    if (h > maximum_interval)
        h = maximum_interval;
    if (l > h)
        l = h;
    *lo = l;
    *hi = h;
}

static int
s_fuzz_days (const td_fsrs_params_t *p, int days, const td_fsrs_fuzz_t *fuzz)
{
    if (!p->enable_fuzzing || !fuzz || days < 3)    //  intervals under 2.5 days are not fuzzed
        return days;
    int lo, hi;
    td_fsrs_fuzz_range (days, p->maximum_interval, &lo, &hi);
    //  fsrs-rs side (Anki's fuzz): uniform over the whole days lo..hi. py-fsrs rounds
    //  u * (hi - lo + 1) + lo, which can land one day above hi.
    int picked = lo + (int) floor (td_fsrs_uniform (fuzz->seed) * (hi - lo + 1));
    if (picked > hi)
        picked = hi;
    if (fuzz->pick) {
        int chosen = fuzz->pick (fuzz->ctx, lo, hi, picked);
        if (chosen >= lo && chosen <= hi)
            picked = chosen;
    }
    return picked < p->maximum_interval? picked: p->maximum_interval;
}

//  ---------------------------------------------------------------------------------------------
//  Scheduler

double
td_fsrs_retrievability (const td_fsrs_params_t *p, const td_fsrs_card_t *card, int64_t now)
{
    if (card->last_review <= 0 || card->stability <= 0)
        return 0.0;
    int64_t elapsed = now - card->last_review;
    int64_t days = elapsed > 0? elapsed / TD_FSRS_DAY_MS: 0;
    return td_fsrs_forgetting_curve (p->w, (double) days, card->stability);
}

//  The learning / relearning branch shared by both states (py-fsrs review_card): sets state,
//  step, and either *ms (a step) or *days (graduated to review). n == 0 graduates at once.
static void
s_steps (const int32_t *steps, int n, int rating, td_fsrs_card_t *c, int64_t *ms, int *days,
         const td_fsrs_params_t *p)
{
    if (n == 0 || (c->step >= n && rating != TD_FSRS_AGAIN)) {
        c->state = TD_FSRS_REVIEW;
        c->step = -1;
        *days = td_fsrs_interval_days (p, c->stability);
        return;
    }
    switch (rating) {
        case TD_FSRS_AGAIN:
            c->step = 0;
            *ms = (int64_t) steps [0] * 1000;
            break;
        case TD_FSRS_HARD:
            if (c->step == 0 && n == 1)
                *ms = (int64_t) steps [0] * 1500;
            else
            if (c->step == 0)
                *ms = ((int64_t) steps [0] + steps [1]) * 500;
            else
                *ms = (int64_t) steps [c->step] * 1000;
            break;
        case TD_FSRS_GOOD:
            if (c->step + 1 >= n) {
                c->state = TD_FSRS_REVIEW;
                c->step = -1;
                *days = td_fsrs_interval_days (p, c->stability);
            }
            else {
                c->step++;
                *ms = (int64_t) steps [c->step] * 1000;
            }
            break;
        default:
            c->state = TD_FSRS_REVIEW;
            c->step = -1;
            *days = td_fsrs_interval_days (p, c->stability);
            break;
    }
}

int
td_fsrs_review (const td_fsrs_params_t *p, const td_fsrs_card_t *card, int rating,
                int64_t now, const td_fsrs_fuzz_t *fuzz, td_fsrs_card_t *out)
{
    if (rating < TD_FSRS_AGAIN || rating > TD_FSRS_EASY)
        return -1;
    if (card->last_review > 0 && now < card->last_review)
        return -1;
    if (card->state < TD_FSRS_LEARNING || card->state > TD_FSRS_RELEARNING)
        return -1;
    td_fsrs_card_t c = *card;
    bool has_memory = c.stability > 0 && c.difficulty > 0;
    if (c.state != TD_FSRS_LEARNING && !has_memory)
        return -1;
    if (c.state != TD_FSRS_REVIEW && c.step < 0)
        c.step = 0;
    //  Elapsed whole days, floored as py-fsrs's timedelta.days (fsrs-rs takes them from its
    //  caller as an integer); < 1 is a same-day review.
    bool same_day = c.last_review > 0 && now - c.last_review < TD_FSRS_DAY_MS;

    if (c.state == TD_FSRS_LEARNING && !has_memory) {
        c.stability = td_fsrs_init_stability (p->w, rating);
        c.difficulty = td_fsrs_init_difficulty (p->w, rating, true);
    }
    else {
        double s = same_day? td_fsrs_short_term_stability (p->w, c.stability, rating)
                           : s_next_stability (p->w, c.stability, c.difficulty,
                                               td_fsrs_retrievability (p, &c, now), rating);
        c.difficulty = td_fsrs_next_difficulty (p->w, c.difficulty, rating);
        c.stability = s;
    }

    int64_t ms = 0;
    int days = -1;
    if (c.state == TD_FSRS_LEARNING)
        s_steps (p->learning_steps, p->n_learning_steps, rating, &c, &ms, &days, p);
    else
    if (c.state == TD_FSRS_RELEARNING)
        s_steps (p->relearning_steps, p->n_relearning_steps, rating, &c, &ms, &days, p);
    else
    if (rating == TD_FSRS_AGAIN && p->n_relearning_steps > 0) {
        c.state = TD_FSRS_RELEARNING;
        c.step = 0;
        ms = (int64_t) p->relearning_steps [0] * 1000;
    }
    else
        days = td_fsrs_interval_days (p, c.stability);

    if (days >= 0) {
        days = s_fuzz_days (p, days, fuzz);
        ms = (int64_t) days * TD_FSRS_DAY_MS;
    }
    c.due = now + ms;
    c.last_review = now;
    *out = c;
    return 0;
}

const char *
td_fsrs_state_name (td_fsrs_state_t state)
{
    switch (state) {
        case TD_FSRS_LEARNING:   return "learning";
        case TD_FSRS_REVIEW:     return "review";
        case TD_FSRS_RELEARNING: return "relearning";
    }
    return "unknown";
}

td_fsrs_state_t
td_fsrs_state_parse (const char *name)
{
    if (!name)
        return 0;
    if (strcmp (name, "learning") == 0)
        return TD_FSRS_LEARNING;
    if (strcmp (name, "review") == 0)
        return TD_FSRS_REVIEW;
    if (strcmp (name, "relearning") == 0)
        return TD_FSRS_RELEARNING;
    return 0;
}
