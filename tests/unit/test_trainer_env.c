/*  test_trainer_env — the classic-control environments against values computed by hand.
 *
 *  The expected numbers come from the published Gymnasium equations evaluated independently in
 *  Python (double precision; the script is in the comment at the bottom of this file), one step
 *  from a fixed state per case, plus the termination, truncation, clipping and seeding rules.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>
#include "trainer/td_env.h"

#define CLOSE(a, b) assert_true (fabs ((a) - (b)) < 1e-12 * (1.0 + fabs (b)))

static td_env_t *
s_env_at (const char *name, const double *state)
{
    td_env_t *env = td_env_new (name, 1);
    assert_non_null (env);
    double obs [TD_ENV_OBS_MAX];
    td_env_reset (env, obs);
    td_env_set_state (env, state);
    return env;
}

static void
test_cartpole (void **state)
{
    (void) state;
    const double s0 [4] = { 0.01, -0.02, 0.03, 0.04 };
    td_env_t *env = s_env_at ("CartPole-v1", s0);
    double a = 1, obs [4];
    td_step_t st = td_env_step (env, &a, obs);
    CLOSE (obs [0], 0.0096000000000000009);
    CLOSE (obs [1], 0.17467919574755525);
    CLOSE (obs [2], 0.030799999999999998);
    CLOSE (obs [3], -0.24306871796000809);
    assert_true (st.reward == 1.0 && !st.terminated && !st.truncated);
    td_env_set_state (env, s0);
    a = 0;
    td_env_step (env, &a, obs);
    CLOSE (obs [1], -0.21553901710278936);
    CLOSE (obs [3], 0.34199522377603914);
    //  the pole past 12 degrees ends the episode, and that step still pays 1
    const double falling [4] = { 0, 0, 0.2094, 0.5 };
    td_env_set_state (env, falling);
    st = td_env_step (env, &a, obs);
    assert_true (st.terminated && st.reward == 1.0);
    //  the cart past 2.4
    const double off [4] = { 2.399, 1.0, 0, 0 };
    td_env_set_state (env, off);
    st = td_env_step (env, &a, obs);
    assert_true (st.terminated);
    //  500 steps without falling: truncated, not terminated
    double o [4];
    td_env_reset (env, o);
    const double still [4] = { 0, 0, 0, 0 };
    for (int i = 0; i < 499; i++) {
        td_env_set_state (env, still);
        st = td_env_step (env, &a, o);
        assert_false (st.terminated || st.truncated);
    }
    td_env_set_state (env, still);
    st = td_env_step (env, &a, o);
    assert_true (st.truncated && !st.terminated);
    td_env_destroy (&env);
    assert_null (env);
}

static void
test_mountaincar (void **state)
{
    (void) state;
    const double s0 [2] = { -0.5, 0.0 };
    td_env_t *env = s_env_at ("MountainCar-v0", s0);
    double a = 2, obs [2];
    td_step_t st = td_env_step (env, &a, obs);
    CLOSE (obs [0], -0.49917684300416926);
    CLOSE (obs [1], 0.00082315699583074275);
    assert_true (st.reward == -1.0 && !st.terminated);
    const double s1 [2] = { -0.5, 0.01 };
    td_env_set_state (env, s1);
    a = 0;
    td_env_step (env, &a, obs);
    CLOSE (obs [0], -0.49117684300416925);
    CLOSE (obs [1], 0.0088231569958307429);
    //  the left wall stops the car
    const double wall [2] = { -1.19, -0.07 };
    td_env_set_state (env, wall);
    td_env_step (env, &a, obs);
    assert_true (obs [0] == -1.2 && obs [1] == 0.0);
    //  speed is clipped to 0.07
    const double fast [2] = { 0.0, 0.0699 };
    td_env_set_state (env, fast);
    a = 2;
    td_env_step (env, &a, obs);
    assert_true (obs [1] <= 0.07);
    //  the goal: position >= 0.5 with velocity >= 0
    const double goal [2] = { 0.49, 0.02 };
    td_env_set_state (env, goal);
    st = td_env_step (env, &a, obs);
    assert_true (st.terminated && st.reward == -1.0);
    //  reset puts the car in [-0.6, -0.4] at rest
    for (int i = 0; i < 100; i++) {
        td_env_reset (env, obs);
        assert_true (obs [0] >= -0.6 && obs [0] < -0.4 && obs [1] == 0.0);
    }
    td_env_destroy (&env);
}

static void
test_pendulum (void **state)
{
    (void) state;
    const double s0 [2] = { 1.0, 0.5 };
    td_env_t *env = s_env_at ("Pendulum-v1", s0);
    double a = 1.5, obs [3], st_now [2];
    td_step_t st = td_env_step (env, &a, obs);
    td_env_get_state (env, st_now);
    CLOSE (st_now [0], 1.0678051619302962);
    CLOSE (st_now [1], 1.3561032386059226);
    CLOSE (st.reward, -1.02725);
    CLOSE (obs [0], cos (1.0678051619302962));
    CLOSE (obs [1], sin (1.0678051619302962));
    CLOSE (obs [2], 1.3561032386059226);
    assert_false (st.terminated);
    //  the torque is clipped to 2, the speed to 8, the angle wrapped in the cost
    const double s1 [2] = { 4.0, -7.9 };
    td_env_set_state (env, s1);
    a = 5.0;
    st = td_env_step (env, &a, obs);
    td_env_get_state (env, st_now);
    CLOSE (st_now [0], 3.6000000000000001);
    CLOSE (st_now [1], -8.0);
    CLOSE (st.reward, -11.457935146920741);
    //  never terminates; truncated at 200
    td_env_reset (env, obs);
    for (int i = 0; i < 199; i++) {
        st = td_env_step (env, &a, obs);
        assert_false (st.terminated || st.truncated);
    }
    st = td_env_step (env, &a, obs);
    assert_true (st.truncated && !st.terminated);
    td_env_destroy (&env);
}

static void
test_acrobot (void **state)
{
    (void) state;
    const double s0 [4] = { 0.1, -0.2, 0.3, -0.4 };
    td_env_t *env = s_env_at ("Acrobot-v1", s0);
    double a = 2, obs [6], s [4];
    td_step_t st = td_env_step (env, &a, obs);
    td_env_get_state (env, s);
    CLOSE (s [0], 0.1282116312891261);
    CLOSE (s [1], -0.211840321026976);
    CLOSE (s [2], -0.023484731535001357);
    CLOSE (s [3], 0.28679521459777013);
    CLOSE (obs [0], cos (s [0]));
    CLOSE (obs [3], sin (s [1]));
    assert_true (st.reward == -1.0 && !st.terminated);
    //  wrapped angles; the tip above the bar ends it with reward 0
    const double s1 [4] = { 3.0, 0.1, 2.0, 5.0 };
    td_env_set_state (env, s1);
    a = 0;
    st = td_env_step (env, &a, obs);
    td_env_get_state (env, s);
    CLOSE (s [0], -2.7835850246194025);
    CLOSE (s [1], 0.96315148016868379);
    CLOSE (s [2], 3.3307295138323583);
    CLOSE (s [3], 3.2359323357383127);
    assert_true (st.terminated && st.reward == 0.0);
    td_env_destroy (&env);
}

static void
test_seeding (void **state)
{
    (void) state;
    for (int k = 0; td_env_names [k]; k++) {
        td_env_t *a = td_env_new (td_env_names [k], 42), *b = td_env_new (td_env_names [k], 42),
                 *c = td_env_new (td_env_names [k], 43);
        assert_non_null (a);
        double oa [TD_ENV_OBS_MAX], ob [TD_ENV_OBS_MAX], oc [TD_ENV_OBS_MAX];
        td_env_reset (a, oa);
        td_env_reset (b, ob);
        td_env_reset (c, oc);
        size_t n = sizeof (double) * (size_t) a->info->obs_dim;
        assert_memory_equal (oa, ob, n);
        assert_memory_not_equal (oa, oc, n);
        td_env_destroy (&a);
        td_env_destroy (&b);
        td_env_destroy (&c);
    }
    assert_null (td_env_new ("CartPole-v0", 1));
    assert_null (td_env_find (NULL));
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_cartpole),
        cmocka_unit_test (test_mountaincar),
        cmocka_unit_test (test_pendulum),
        cmocka_unit_test (test_acrobot),
        cmocka_unit_test (test_seeding),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

/*  The reference values, from the Gymnasium equations in Python:

    def cartpole(s, a):
        x, xd, th, thd = s; g, mc, mp, l, fm, tau = 9.8, 1.0, 0.1, 0.5, 10.0, 0.02
        tm = mc + mp; pml = mp * l; f = fm if a == 1 else -fm
        c, sn = math.cos(th), math.sin(th)
        temp = (f + pml * thd ** 2 * sn) / tm
        tha = (g * sn - c * temp) / (l * (4.0 / 3.0 - mp * c ** 2 / tm))
        xa = temp - pml * tha * c / tm
        return [x + tau * xd, xd + tau * xa, th + tau * thd, thd + tau * tha]

    def mc(s, a):
        p, v = s; v += (a - 1) * 0.001 + math.cos(3 * p) * (-0.0025)
        v = min(max(v, -0.07), 0.07); p += v; p = min(max(p, -1.2), 0.6)
        if p == -1.2 and v < 0: v = 0
        return [p, v]

    def pend(s, u):
        th, thd = s; u = min(max(u, -2.0), 2.0)
        n = ((th + math.pi) % (2 * math.pi)) - math.pi
        cost = n ** 2 + .1 * thd ** 2 + .001 * u ** 2
        nthd = min(max(thd + (3 * 10.0 / 2 * math.sin(th) + 3.0 * u) * 0.05, -8), 8)
        return [th + nthd * 0.05, nthd], -cost

    Acrobot: dsdt of the "book" dynamics and one rk4 step of 0.2 s over (s, torque), then
    wrap(θ, -π, π) and clip of the speeds to 4π and 9π, exactly as written in td_env_acrobot.c's
    header comment.
*/
