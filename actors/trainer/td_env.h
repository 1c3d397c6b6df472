/*  td_env — the Gymnasium classic-control environments, in C: CartPole-v1, Acrobot-v1,
 *  MountainCar-v0 and Pendulum-v1.
 *
 *  The trainer learns on these, and the course teaches with them, so their dynamics, rewards,
 *  termination and truncation follow the published Gymnasium definitions exactly (the equations
 *  are in each td_env_<name>.c file); tests/unit/test_trainer_env.c checks steps against values
 *  computed by hand from those equations. Every environment owns its random generator, seeded at
 *  creation, so a run is reproducible. An action is an array of doubles: for discrete
 *  environments action[0] holds the action's index.
 */
#ifndef TD_ENV_H
#define TD_ENV_H

#include <stdbool.h>
#include <stdint.h>
#include "td_rng.h"

#define TD_ENV_STATE_MAX 4
#define TD_ENV_OBS_MAX   6

typedef struct td_env td_env_t;

typedef struct {
    const char *name;           //  "CartPole-v1"
    int obs_dim;                //  observation size
    int state_dim;              //  internal state size (what td_env_state gives)
    bool discrete;              //  true: n_actions choices; false: act_dim reals
    int n_actions;
    int act_dim;
    double act_low, act_high;   //  continuous bounds (every dimension)
    int max_steps;              //  truncation (the TimeLimit of the registered env)
    double solved_reward;       //  mean episode reward over 100 episodes that counts as solved
    void (*reset) (td_env_t *env);
    //  Advance the state; sets *reward and returns true when the episode terminated.
    bool (*step) (td_env_t *env, const double *action, double *reward);
    void (*observe) (const td_env_t *env, double *obs);
} td_env_info_t;

struct td_env {
    const td_env_info_t *info;
    double state [TD_ENV_STATE_MAX];
    int steps;                  //  steps in the current episode
    td_rng_t rng;
};

typedef struct {
    double reward;
    bool terminated;            //  the MDP ended (pole fell, goal reached)
    bool truncated;             //  the time limit ended the episode
} td_step_t;

//  The environment called name, or NULL. td_env_names lists them, NULL-terminated.
const td_env_info_t *td_env_find (const char *name);
extern const char *const td_env_names [];

//  Create with a seed (0 is a valid seed); NULL for an unknown name or no memory.
td_env_t *td_env_new (const char *name, uint64_t seed);
void td_env_destroy (td_env_t **self_p);

//  Start an episode; writes the first observation (info->obs_dim values).
void td_env_reset (td_env_t *self, double *obs);

//  One step; writes the next observation. After terminated or truncated, call reset.
td_step_t td_env_step (td_env_t *self, const double *action, double *obs);

//  The internal state (info->state_dim values), for tests and for animating an episode.
void td_env_get_state (const td_env_t *self, double *state);
void td_env_set_state (td_env_t *self, const double *state);

extern const td_env_info_t td_env_cartpole, td_env_acrobot, td_env_mountaincar,
    td_env_pendulum;

#endif
