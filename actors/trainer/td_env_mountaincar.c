/*  MountainCar-v0 (Gymnasium classic control; Moore 1990).
 *
 *  State (position, velocity). Actions 0 push left, 1 none, 2 push right:
 *      v += (a − 1)·0.001 − 0.0025·cos(3·p);  v = clip(v, −0.07, 0.07)
 *      p += v;  p = clip(p, −1.2, 0.6);  if p == −1.2 and v < 0 then v = 0
 *  Reward −1 per step; terminated when p ≥ 0.5 and v ≥ 0; truncated at 200 steps; reset puts p
 *  uniformly in [−0.6, −0.4] with v = 0.
 */
#include <math.h>
#include "td_env.h"

#define MIN_POS   -1.2
#define MAX_POS    0.6
#define MAX_SPEED  0.07
#define GOAL_POS   0.5
#define GOAL_VEL   0.0
#define FORCE      0.001
#define GRAVITY    0.0025

static double
s_clip (double v, double lo, double hi)
{
    return v < lo? lo: v > hi? hi: v;
}

static void
s_reset (td_env_t *env)
{
    env->state [0] = td_rng_range (&env->rng, -0.6, -0.4);
    env->state [1] = 0.0;
}

static bool
s_step (td_env_t *env, const double *action, double *reward)
{
    int a = (int) action [0];
    if (a < 0) a = 0;
    if (a > 2) a = 2;
    double p = env->state [0], v = env->state [1];
    v += (a - 1) * FORCE + cos (3.0 * p) * (-GRAVITY);
    v = s_clip (v, -MAX_SPEED, MAX_SPEED);
    p += v;
    p = s_clip (p, MIN_POS, MAX_POS);
    if (p == MIN_POS && v < 0)
        v = 0;
    env->state [0] = p;
    env->state [1] = v;
    *reward = -1.0;
    return p >= GOAL_POS && v >= GOAL_VEL;
}

static void
s_observe (const td_env_t *env, double *obs)
{
    obs [0] = env->state [0];
    obs [1] = env->state [1];
}

const td_env_info_t td_env_mountaincar = {
    .name = "MountainCar-v0", .obs_dim = 2, .state_dim = 2, .discrete = true, .n_actions = 3,
    .max_steps = 200, .solved_reward = -110.0,
    .reset = s_reset, .step = s_step, .observe = s_observe,
};
