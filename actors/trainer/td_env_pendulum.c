/*  Pendulum-v1 (Gymnasium classic control).
 *
 *  State (θ, θ̇), θ = 0 upright. Constants g = 10, m = 1, l = 1, dt = 0.05, max speed 8, max
 *  torque 2. With u = clip(a, −2, 2):
 *      cost = norm(θ)² + 0.1·θ̇² + 0.001·u²         (norm wraps θ into [−π, π))
 *      θ̇'  = clip(θ̇ + (3g/(2l)·sinθ + 3/(m·l²)·u)·dt, −8, 8);  θ' = θ + θ̇'·dt
 *  Reward −cost (computed on the state before the step); never terminates; truncated at 200
 *  steps; reset draws θ from [−π, π] and θ̇ from [−1, 1]. Observation (cosθ, sinθ, θ̇).
 */
#include <math.h>
#include "td_env.h"

#define MAX_SPEED  8.0
#define MAX_TORQUE 2.0
#define DT         0.05
#define G          10.0
#define M          1.0
#define L          1.0

static double
s_clip (double v, double lo, double hi)
{
    return v < lo? lo: v > hi? hi: v;
}

//  ((x + π) mod 2π) − π with a non-negative modulo, as Python's % gives.
static double
s_angle_normalize (double x)
{
    double m = fmod (x + M_PI, 2.0 * M_PI);
    if (m < 0)
        m += 2.0 * M_PI;
    return m - M_PI;
}

static void
s_reset (td_env_t *env)
{
    env->state [0] = td_rng_range (&env->rng, -M_PI, M_PI);
    env->state [1] = td_rng_range (&env->rng, -1.0, 1.0);
}

static bool
s_step (td_env_t *env, const double *action, double *reward)
{
    double th = env->state [0], thdot = env->state [1];
    double u = s_clip (action [0], -MAX_TORQUE, MAX_TORQUE);
    double n = s_angle_normalize (th);
    double cost = n * n + 0.1 * thdot * thdot + 0.001 * u * u;
    double newthdot = thdot + (3.0 * G / (2.0 * L) * sin (th) + 3.0 / (M * L * L) * u) * DT;
    newthdot = s_clip (newthdot, -MAX_SPEED, MAX_SPEED);
    env->state [0] = th + newthdot * DT;
    env->state [1] = newthdot;
    *reward = -cost;
    return false;
}

static void
s_observe (const td_env_t *env, double *obs)
{
    obs [0] = cos (env->state [0]);
    obs [1] = sin (env->state [0]);
    obs [2] = env->state [1];
}

const td_env_info_t td_env_pendulum = {
    .name = "Pendulum-v1", .obs_dim = 3, .state_dim = 2, .discrete = false, .act_dim = 1,
    .act_low = -MAX_TORQUE, .act_high = MAX_TORQUE, .max_steps = 200, .solved_reward = -200.0,
    .reset = s_reset, .step = s_step, .observe = s_observe,
};
