/*  Acrobot-v1 (Gymnasium classic control; Sutton 1996, dynamics of Sutton & Barto's book).
 *
 *  State (θ1, θ2, θ̇1, θ̇2); links of length 1, mass 1, centre of mass 0.5, moment of inertia 1;
 *  g = 9.8; dt = 0.2; torque on the joint −1, 0, +1 for actions 0, 1, 2 (no noise). With
 *      d1 = m1·lc1² + m2·(l1² + lc2² + 2·l1·lc2·cosθ2) + I1 + I2
 *      d2 = m2·(lc2² + l1·lc2·cosθ2) + I2
 *      φ2 = m2·lc2·g·cos(θ1 + θ2 − π/2)
 *      φ1 = −m2·l1·lc2·θ̇2²·sinθ2 − 2·m2·l1·lc2·θ̇2·θ̇1·sinθ2 + (m1·lc1 + m2·l1)·g·cos(θ1 − π/2) + φ2
 *      θ̈2 = (τ + d2/d1·φ1 − m2·l1·lc2·θ̇1²·sinθ2 − φ2) / (m2·lc2² + I2 − d2²/d1)
 *      θ̈1 = −(d2·θ̈2 + φ1) / d1
 *  one classical Runge-Kutta (RK4) step of length dt integrates the state; then θ1, θ2 wrap
 *  into [−π, π] and θ̇1, θ̇2 clip to ±4π, ±9π. Terminated when −cosθ1 − cos(θ1 + θ2) > 1
 *  (the tip above the bar); reward −1 per step, 0 on the terminating step; truncated at 500
 *  steps; reset draws all four values from [−0.1, 0.1]. Observation (cosθ1, sinθ1, cosθ2,
 *  sinθ2, θ̇1, θ̇2).
 */
#include <math.h>
#include "td_env.h"

#define DT    0.2
#define L1    1.0
#define M1    1.0
#define M2    1.0
#define LC1   0.5
#define LC2   0.5
#define I1    1.0
#define I2    1.0
#define G     9.8
#define MAX_VEL_1 (4.0 * M_PI)
#define MAX_VEL_2 (9.0 * M_PI)

static void
s_derivs (const double *s, double torque, double *d)
{
    double t1 = s [0], t2 = s [1], dt1 = s [2], dt2 = s [3];
    double d1 = M1 * LC1 * LC1 + M2 * (L1 * L1 + LC2 * LC2 + 2.0 * L1 * LC2 * cos (t2)) + I1 + I2;
    double d2 = M2 * (LC2 * LC2 + L1 * LC2 * cos (t2)) + I2;
    double phi2 = M2 * LC2 * G * cos (t1 + t2 - M_PI / 2.0);
    double phi1 = -M2 * L1 * LC2 * dt2 * dt2 * sin (t2)
                - 2.0 * M2 * L1 * LC2 * dt2 * dt1 * sin (t2)
                + (M1 * LC1 + M2 * L1) * G * cos (t1 - M_PI / 2.0) + phi2;
    double ddt2 = (torque + d2 / d1 * phi1 - M2 * L1 * LC2 * dt1 * dt1 * sin (t2) - phi2)
                / (M2 * LC2 * LC2 + I2 - d2 * d2 / d1);
    double ddt1 = -(d2 * ddt2 + phi1) / d1;
    d [0] = dt1;
    d [1] = dt2;
    d [2] = ddt1;
    d [3] = ddt2;
}

static double
s_wrap (double x, double lo, double hi)
{
    double diff = hi - lo;
    while (x > hi)
        x -= diff;
    while (x < lo)
        x += diff;
    return x;
}

static double
s_clip (double v, double lo, double hi)
{
    return v < lo? lo: v > hi? hi: v;
}

static void
s_reset (td_env_t *env)
{
    for (int i = 0; i < 4; i++)
        env->state [i] = td_rng_range (&env->rng, -0.1, 0.1);
}

static bool
s_step (td_env_t *env, const double *action, double *reward)
{
    int a = (int) action [0];
    double torque = a <= 0? -1.0: a == 1? 0.0: 1.0;
    double *s = env->state;
    double k1 [4], k2 [4], k3 [4], k4 [4], y [4];
    s_derivs (s, torque, k1);
    for (int i = 0; i < 4; i++) y [i] = s [i] + DT / 2.0 * k1 [i];
    s_derivs (y, torque, k2);
    for (int i = 0; i < 4; i++) y [i] = s [i] + DT / 2.0 * k2 [i];
    s_derivs (y, torque, k3);
    for (int i = 0; i < 4; i++) y [i] = s [i] + DT * k3 [i];
    s_derivs (y, torque, k4);
    for (int i = 0; i < 4; i++)
        s [i] = s [i] + DT / 6.0 * (k1 [i] + 2.0 * k2 [i] + 2.0 * k3 [i] + k4 [i]);
    s [0] = s_wrap (s [0], -M_PI, M_PI);
    s [1] = s_wrap (s [1], -M_PI, M_PI);
    s [2] = s_clip (s [2], -MAX_VEL_1, MAX_VEL_1);
    s [3] = s_clip (s [3], -MAX_VEL_2, MAX_VEL_2);
    bool terminal = -cos (s [0]) - cos (s [1] + s [0]) > 1.0;
    *reward = terminal? 0.0: -1.0;
    return terminal;
}

static void
s_observe (const td_env_t *env, double *obs)
{
    const double *s = env->state;
    obs [0] = cos (s [0]);
    obs [1] = sin (s [0]);
    obs [2] = cos (s [1]);
    obs [3] = sin (s [1]);
    obs [4] = s [2];
    obs [5] = s [3];
}

const td_env_info_t td_env_acrobot = {
    .name = "Acrobot-v1", .obs_dim = 6, .state_dim = 4, .discrete = true, .n_actions = 3,
    .max_steps = 500, .solved_reward = -100.0,
    .reset = s_reset, .step = s_step, .observe = s_observe,
};
