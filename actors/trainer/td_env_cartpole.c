/*  CartPole-v1 (Gymnasium classic control; Barto, Sutton & Anderson 1983).
 *
 *  State (x, x_dot, theta, theta_dot). Constants: gravity 9.8, cart mass 1.0, pole mass 0.1,
 *  half pole length 0.5, force 10.0, tau 0.02 s, explicit Euler. With F = ±10:
 *      temp      = (F + m_p·l·θ̇²·sinθ) / (m_c + m_p)
 *      θ̈         = (g·sinθ − cosθ·temp) / (l·(4/3 − m_p·cos²θ / (m_c + m_p)))
 *      ẍ         = temp − m_p·l·θ̈·cosθ / (m_c + m_p)
 *      x += τ·ẋ;  ẋ += τ·ẍ;  θ += τ·θ̇;  θ̇ += τ·θ̈
 *  Reward 1 for every step, the last one too; terminated when |x| > 2.4 or |θ| > 12°;
 *  truncated at 500 steps; reset draws each state value uniformly from [-0.05, 0.05].
 *  Action 0 pushes left, 1 right.
 */
#include <math.h>
#include "td_env.h"

#define GRAVITY    9.8
#define MASS_CART  1.0
#define MASS_POLE  0.1
#define TOTAL_MASS (MASS_CART + MASS_POLE)
#define LENGTH     0.5
#define POLE_ML    (MASS_POLE * LENGTH)
#define FORCE      10.0
#define TAU        0.02
#define THETA_MAX  (12.0 * 2.0 * M_PI / 360.0)
#define X_MAX      2.4

static void
s_reset (td_env_t *env)
{
    for (int i = 0; i < 4; i++)
        env->state [i] = td_rng_range (&env->rng, -0.05, 0.05);
}

static bool
s_step (td_env_t *env, const double *action, double *reward)
{
    double *s = env->state;
    double x = s [0], x_dot = s [1], theta = s [2], theta_dot = s [3];
    double force = action [0] >= 0.5? FORCE: -FORCE;
    double c = cos (theta), sn = sin (theta);
    double temp = (force + POLE_ML * theta_dot * theta_dot * sn) / TOTAL_MASS;
    double theta_acc = (GRAVITY * sn - c * temp)
                     / (LENGTH * (4.0 / 3.0 - MASS_POLE * c * c / TOTAL_MASS));
    double x_acc = temp - POLE_ML * theta_acc * c / TOTAL_MASS;
    s [0] = x + TAU * x_dot;
    s [1] = x_dot + TAU * x_acc;
    s [2] = theta + TAU * theta_dot;
    s [3] = theta_dot + TAU * theta_acc;
    *reward = 1.0;
    return s [0] < -X_MAX || s [0] > X_MAX || s [2] < -THETA_MAX || s [2] > THETA_MAX;
}

static void
s_observe (const td_env_t *env, double *obs)
{
    for (int i = 0; i < 4; i++)
        obs [i] = env->state [i];
}

const td_env_info_t td_env_cartpole = {
    .name = "CartPole-v1", .obs_dim = 4, .state_dim = 4, .discrete = true, .n_actions = 2,
    .max_steps = 500, .solved_reward = 475.0,
    .reset = s_reset, .step = s_step, .observe = s_observe,
};
