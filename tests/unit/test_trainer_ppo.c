/*  test_trainer_ppo — PPO's pieces computed by hand, its determinism, checkpoints that resume
 *  exactly, learner-friendly refusals of silly hyperparameters, and CartPole-v1 solved.
 *
 *  TUTORD_TEST_SERIAL: the solve test trains for a few seconds and is timing-insensitive, but
 *  it should not compete for the two cores with the black-box tests.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "trainer/td_ppo.h"
#include "trainer/td_mlp_kernels.h"

#define CLOSE(a, b) assert_true (fabs ((a) - (b)) < 1e-12 * (1.0 + fabs (b)))

static void
test_gae_by_hand (void **state)
{
    (void) state;
    //  γ = 0.9, λ = 0.8; the episode ends after the last step, so V(next) is not used there:
    //  t2: δ = 1 − 0.7 = 0.3;              A2 = 0.3
    //  t1: δ = 1 + 0.9·0.7 − 0.6 = 1.03;   A1 = 1.03 + 0.72·0.3 = 1.246
    //  t0: δ = 1 + 0.9·0.6 − 0.5 = 1.04;   A0 = 1.04 + 0.72·1.246 = 1.93712
    const double r [3] = { 1, 1, 1 }, v [3] = { 0.5, 0.6, 0.7 };
    const bool done [3] = { false, false, true };
    double adv [3], ret [3];
    td_ppo_gae (3, r, v, done, 0.9, 0.9, 0.8, adv, ret);
    CLOSE (adv [2], 0.3);
    CLOSE (adv [1], 1.246);
    CLOSE (adv [0], 1.93712);
    CLOSE (ret [0], 2.43712);
    CLOSE (ret [1], 1.846);
    CLOSE (ret [2], 1.0);
    //  γ = λ = 0.5, an episode boundary after t1 and a bootstrap value 2 after t3:
    //  t3: δ = 4 + 0.5·2 − 1 = 4;     A3 = 4
    //  t2: δ = 3 + 0.5·1 − 1 = 2.5;   A2 = 2.5 + 0.25·4 = 3.5
    //  t1: δ = 2 − 1 = 1;             A1 = 1          (nothing flows back across the boundary)
    //  t0: δ = 1 + 0.5·1 − 1 = 0.5;   A0 = 0.5 + 0.25·1 = 0.75
    const double r2 [4] = { 1, 2, 3, 4 }, v2 [4] = { 1, 1, 1, 1 };
    const bool d2 [4] = { false, true, false, false };
    double a2 [4], t2 [4];
    td_ppo_gae (4, r2, v2, d2, 2.0, 0.5, 0.5, a2, t2);
    CLOSE (a2 [3], 4.0);
    CLOSE (a2 [2], 3.5);
    CLOSE (a2 [1], 1.0);
    CLOSE (a2 [0], 0.75);
    CLOSE (t2 [2], 4.5);
}

static void
test_surrogate_by_hand (void **state)
{
    (void) state;
    double g;
    //  r = 1.5, A = 2, ε = 0.2: min(3, 1.2·2) = 2.4 from the clipped side: no gradient
    CLOSE (td_ppo_surrogate (log (1.5), 0, 2.0, 0.2, &g), -2.4);
    CLOSE (g, 0.0);
    //  r = 1.5, A = −2: min(−3, −2.4) = −3, the unclipped side: gradient −r·A = 3
    CLOSE (td_ppo_surrogate (log (1.5), 0, -2.0, 0.2, &g), 3.0);
    CLOSE (g, 3.0);
    //  r = 1.1 inside the range: −r·A
    CLOSE (td_ppo_surrogate (log (1.1), 0, 2.0, 0.2, &g), -2.2);
    CLOSE (g, -2.2);
    //  r = 0.5, A = 1: min(0.5, 0.8) = 0.5 unclipped: gradient −0.5
    CLOSE (td_ppo_surrogate (log (0.5), 0, 1.0, 0.2, &g), -0.5);
    CLOSE (g, -0.5);
    //  r = 0.5, A = −1: min(−0.5, −0.8) = −0.8 clipped: no gradient
    CLOSE (td_ppo_surrogate (log (0.5), 0, -1.0, 0.2, &g), 0.8);
    CLOSE (g, 0.0);
    //  the derivative matches a finite difference where the loss is smooth
    for (double lr = -0.5; lr <= 0.5; lr += 0.05) {
        double h = 1e-6, up = td_ppo_surrogate (lr + h, 0, 1.3, 0.2, NULL),
               down = td_ppo_surrogate (lr - h, 0, 1.3, 0.2, NULL);
        td_ppo_surrogate (lr, 0, 1.3, 0.2, &g);
        if (fabs (exp (lr) - 1.2) > 1e-3 && fabs (exp (lr) - 0.8) > 1e-3)
            assert_true (fabs ((up - down) / (2 * h) - g) < 1e-6);
    }
}

static td_ppo_config_t
s_small (uint64_t seed)
{
    td_ppo_config_t c;
    td_ppo_config_defaults (&c);
    c.n_envs = 2;
    c.n_steps = 64;
    c.batch_size = 32;
    c.n_epochs = 2;
    c.hidden [0] = c.hidden [1] = 16;
    c.total_steps = 1024;
    c.seed = seed;
    return c;
}

static void
test_config_check (void **state)
{
    (void) state;
    struct { const char *field; void (*spoil) (td_ppo_config_t *c); } cases [] = {
        { "learning_rate", NULL }, { "gamma", NULL }, { "clip_range", NULL },
        { "batch_size", NULL }, { "n_epochs", NULL }, { "hidden", NULL },
        { "n_steps", NULL }, { "total_steps", NULL }, { "max_grad_norm", NULL },
        { "gae_lambda", NULL }, { "ent_coef", NULL }, { "vf_coef", NULL },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases [0]; k++) {
        td_ppo_config_t c = s_small (1);
        const char *f = cases [k].field;
        if (!strcmp (f, "learning_rate")) c.learning_rate = 0;
        if (!strcmp (f, "gamma")) c.gamma = 1.5;
        if (!strcmp (f, "clip_range")) c.clip_range = -0.1;
        if (!strcmp (f, "batch_size")) c.batch_size = 100000;
        if (!strcmp (f, "n_epochs")) c.n_epochs = 0;
        if (!strcmp (f, "hidden")) c.hidden [1] = 100000;
        if (!strcmp (f, "n_steps")) c.n_steps = 1;
        if (!strcmp (f, "total_steps")) c.total_steps = 0;
        if (!strcmp (f, "max_grad_norm")) c.max_grad_norm = NAN;
        if (!strcmp (f, "gae_lambda")) c.gae_lambda = -1;
        if (!strcmp (f, "ent_coef")) c.ent_coef = INFINITY;
        if (!strcmp (f, "vf_coef")) c.vf_coef = -0.5;
        const char *field = NULL;
        char why [256] = "";
        assert_int_equal (td_ppo_config_check (&c, "CartPole-v1", &field, why, sizeof why), -1);
        assert_string_equal (field, f);
        assert_true (strlen (why) > 20);
        assert_null (td_ppo_new ("CartPole-v1", &c));
    }
    td_ppo_config_t c = s_small (1);
    const char *field = NULL;
    char why [256];
    assert_int_equal (td_ppo_config_check (&c, "Breakout-v5", &field, why, sizeof why), -1);
    assert_string_equal (field, "env");
    assert_int_equal (td_ppo_config_check (&c, "Pendulum-v1", &field, why, sizeof why), 0);
}

static void
s_run (td_ppo_t *p, int updates, td_ppo_metrics_t *last)
{
    for (int i = 0; i < updates; i++)
        assert_int_equal (td_ppo_update (p, last), 0);
}

static bool
s_same_metrics (const td_ppo_metrics_t *a, const td_ppo_metrics_t *b)
{
    return a->step == b->step && a->episodes == b->episodes && a->mean_reward == b->mean_reward
        && a->policy_loss == b->policy_loss && a->value_loss == b->value_loss
        && a->entropy == b->entropy && a->approx_kl == b->approx_kl
        && a->clip_fraction == b->clip_fraction;
}

static void
test_determinism_and_resume (void **state)
{
    (void) state;
    for (int k = 0; k < 2; k++) {
        const char *env = k == 0? "CartPole-v1": "Pendulum-v1";
        td_ppo_config_t c = s_small (7);
        td_ppo_t *a = td_ppo_new (env, &c), *b = td_ppo_new (env, &c);
        assert_non_null (a);
        assert_non_null (b);
        td_ppo_metrics_t ma, mb;
        s_run (a, 4, &ma);
        s_run (b, 2, &mb);
        //  b stops after 2 updates; its checkpoint goes into a fresh trainer c that goes on
        uint8_t *data;
        size_t size;
        assert_int_equal (td_ppo_save (b, &data, &size), 0);
        td_ppo_t *r = td_ppo_new (env, &c);
        assert_non_null (r);
        assert_int_equal (td_ppo_load (r, data, size), 0);
        td_ppo_metrics_t mr;
        s_run (r, 2, &mr);
        assert_true (s_same_metrics (&ma, &mr));
        assert_true (isfinite (mr.policy_loss) && isfinite (mr.value_loss) && mr.entropy > 0);
        assert_int_equal (mr.update, 4);
        //  and the whole state agrees byte for byte
        uint8_t *da, *dr;
        size_t sa, sr;
        assert_int_equal (td_ppo_save (a, &da, &sa), 0);
        assert_int_equal (td_ppo_save (r, &dr, &sr), 0);
        assert_int_equal (sa, sr);
        assert_memory_equal (da, dr, sa);
        //  a truncated or corrupted checkpoint is refused and changes nothing
        assert_int_equal (td_ppo_load (r, data, size - 1), -1);
        data [0] ^= 0xff;
        assert_int_equal (td_ppo_load (r, data, size), -1);
        uint8_t *after;
        size_t safter;
        assert_int_equal (td_ppo_save (r, &after, &safter), 0);
        assert_memory_equal (after, dr, sr);
        //  another seed learns differently
        td_ppo_config_t c2 = s_small (8);
        td_ppo_t *o = td_ppo_new (env, &c2);
        td_ppo_metrics_t mo;
        s_run (o, 4, &mo);
        assert_false (s_same_metrics (&ma, &mo));
        free (data);
        free (da);
        free (dr);
        free (after);
        td_ppo_destroy (&a);
        td_ppo_destroy (&b);
        td_ppo_destroy (&r);
        td_ppo_destroy (&o);
        assert_null (a);
    }
}

//  Training with each kernel path this CPU has: AVX2+FMA and AVX-512 train to the same bytes (a
//  run checkpointed on one machine with AVX2 resumes with the same figures on another); the
//  baseline (no FMA) rounds differently, so it is only checked to train the same way.
static void
test_isa_paths_same_run (void **state)
{
    (void) state;
    const char *isas [] = { "default", "avx2", "avx512" };
    uint8_t *bytes [3] = { NULL, NULL, NULL };
    size_t sizes [3] = { 0, 0, 0 };
    td_ppo_metrics_t m [3];
    for (int k = 0; k < 3; k++) {
        if (td_mlp_set_isa (isas [k]) != 0)
            continue;
        td_ppo_config_t c = s_small (5);
        c.n_envs = 3;
        c.batch_size = 29;          //  row tails in every minibatch
        td_ppo_t *p = td_ppo_new ("CartPole-v1", &c);
        assert_non_null (p);
        s_run (p, 3, &m [k]);
        assert_int_equal (td_ppo_save (p, &bytes [k], &sizes [k]), 0);
        td_ppo_destroy (&p);
        print_message ("%s: policy loss %.9g, value loss %.9g\n", isas [k], m [k].policy_loss,
                       m [k].value_loss);
        assert_int_equal (m [k].step, m [0].step);
        assert_true (fabs (m [k].value_loss - m [0].value_loss) < 1e-3 * (1 + m [0].value_loss));
    }
    assert_int_equal (td_mlp_set_isa (NULL), 0);
    if (bytes [1] && bytes [2]) {
        assert_true (s_same_metrics (&m [1], &m [2]));
        assert_int_equal (sizes [1], sizes [2]);
        assert_memory_equal (bytes [1], bytes [2], sizes [1]);
    }
    for (int k = 0; k < 3; k++)
        free (bytes [k]);
}

static void
test_shape_mismatch (void **state)
{
    (void) state;
    td_ppo_config_t c = s_small (1), d = s_small (1);
    d.hidden [0] = 8;
    td_ppo_t *a = td_ppo_new ("CartPole-v1", &c), *b = td_ppo_new ("CartPole-v1", &d);
    uint8_t *data;
    size_t size;
    assert_int_equal (td_ppo_save (a, &data, &size), 0);
    assert_int_equal (td_ppo_load (b, data, size), -1);
    free (data);
    td_ppo_destroy (&a);
    td_ppo_destroy (&b);
}

static void
test_evaluate_records_states (void **state)
{
    (void) state;
    td_ppo_config_t c = s_small (3);
    td_ppo_t *p = td_ppo_new ("MountainCar-v0", &c);
    assert_non_null (p);
    double rewards [3], *states = NULL;
    size_t n = 0;
    assert_int_equal (td_ppo_evaluate (p, 3, 5, rewards, &states, &n), 0);
    //  an untrained car never reaches the flag: 200 steps of −1, 201 states with the first
    assert_true (rewards [0] == -200.0 && rewards [2] == -200.0);
    assert_int_equal (n, 201);
    assert_true (states [0] >= -0.6 && states [0] < -0.4 && states [1] == 0.0);
    free (states);
    td_ppo_destroy (&p);
}

//  CartPole-v1 solved: the trained policy's mean over 100 evaluation episodes reaches 475
//  within 100,000 steps, for fixed seeds (checked every 10 updates).
static void
test_cartpole_solved (void **state)
{
    (void) state;
    const uint64_t seeds [] = { 1, 2 };
    for (size_t k = 0; k < 2; k++) {
        td_ppo_config_t c;
        td_ppo_config_defaults (&c);
        c.n_envs = 8;
        c.n_steps = 32;
        c.batch_size = 256;
        c.n_epochs = 10;
        c.gamma = 0.98;
        c.gae_lambda = 0.8;
        c.learning_rate = 1e-3;
        c.hidden [0] = c.hidden [1] = 32;
        c.total_steps = 100000;
        c.seed = seeds [k];
        td_ppo_t *p = td_ppo_new ("CartPole-v1", &c);
        assert_non_null (p);
        td_ppo_metrics_t m;
        double mean = 0;
        while (mean < 475 && td_ppo_update (p, &m) == 0)
            if (m.update % 10 == 0) {
                double r [100];
                assert_int_equal (td_ppo_evaluate (p, 100, 999, r, NULL, NULL), 0);
                mean = 0;
                for (int i = 0; i < 100; i++)
                    mean += r [i] / 100;
            }
        print_message ("seed %llu: mean %.1f over 100 episodes after %ld steps\n",
                       (unsigned long long) seeds [k], mean, m.step);
        assert_true (mean >= 475.0);
        td_ppo_destroy (&p);
    }
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_gae_by_hand),
        cmocka_unit_test (test_surrogate_by_hand),
        cmocka_unit_test (test_config_check),
        cmocka_unit_test (test_determinism_and_resume),
        cmocka_unit_test (test_isa_paths_same_run),
        cmocka_unit_test (test_shape_mismatch),
        cmocka_unit_test (test_evaluate_records_states),
        cmocka_unit_test (test_cartpole_solved),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
