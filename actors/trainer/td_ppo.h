/*  td_ppo — Proximal Policy Optimization (Schulman et al. 2017) in plain C, no ML framework.
 *
 *  What a trainer run does, as a library the actor drives one update at a time (so the actor
 *  can publish metrics, checkpoint and stop between updates): collect n_steps × n_envs
 *  transitions with the current policy, compute GAE(λ) advantages (bootstrapping through time-
 *  limit truncation with the value of the final observation), then n_epochs passes of shuffled
 *  minibatches over the clipped surrogate objective + vf_coef × value loss (optionally clipped)
 *  − ent_coef × entropy, advantages normalised per minibatch, gradients clipped to a global norm,
 *  Adam (eps 1e-5), learning rate annealed linearly to 0 over total_steps when anneal_lr.
 *  Policy and value are separate tanh MLPs; categorical policy for discrete actions, diagonal
 *  Gaussian with a learned state-independent log-std for continuous ones (actions clipped to the
 *  environment's bounds when stepping, log-probabilities taken on the unclipped sample).
 *
 *  Everything random comes from generators seeded from the config's seed, so the same seed and
 *  config give the same metrics, and a checkpoint holds the whole state (weights, Adam moments,
 *  generators, environments mid-episode, episode statistics): a run resumed from a checkpoint
 *  continues exactly as if it had not stopped.
 */
#ifndef TD_PPO_H
#define TD_PPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "td_env.h"
#include "td_mlp.h"

#define TD_PPO_MAX_HIDDEN 4
#define TD_PPO_MAX_ENVS   64

typedef struct {
    double learning_rate;       //  3e-4
    int n_steps;                //  steps per environment per rollout (2048)
    int n_envs;                 //  environments stepped side by side (1)
    int batch_size;             //  minibatch size (64)
    int n_epochs;               //  passes over a rollout (10)
    double gamma;               //  0.99
    double gae_lambda;          //  0.95
    double clip_range;          //  0.2
    double clip_range_vf;       //  <= 0: value loss not clipped
    double ent_coef;            //  0.0
    double vf_coef;             //  0.5
    double max_grad_norm;       //  0.5
    int hidden [TD_PPO_MAX_HIDDEN];
    int n_hidden;               //  (64, 64)
    bool anneal_lr;             //  true
    long total_steps;           //  environment steps in the whole run
    uint64_t seed;
} td_ppo_config_t;

//  The defaults above.
void td_ppo_config_defaults (td_ppo_config_t *cfg);

//  0 when the config can train env; else -1 with the offending field's name and a message a
//  learner understands (this is a course: people try silly values).
int td_ppo_config_check (const td_ppo_config_t *cfg, const char *env, const char **field,
                         char *why, size_t why_size);

typedef struct {
    long step;                  //  environment steps so far
    long episodes;              //  episodes finished so far
    double mean_reward, min_reward, max_reward;     //  over the last 100 episodes (0 if none)
    double policy_loss, value_loss, entropy, approx_kl, clip_fraction, explained_variance;
    double learning_rate;       //  the rate this update used
    double steps_per_second;    //  of this update (collection and training)
    int update;                 //  updates so far
} td_ppo_metrics_t;

typedef struct td_ppo td_ppo_t;

//  NULL when the config does not check (see td_ppo_config_check) or no memory.
td_ppo_t *td_ppo_new (const char *env, const td_ppo_config_t *cfg);
void td_ppo_destroy (td_ppo_t **self_p);

//  One update: a rollout then the optimisation epochs. 0, or -1 when the run is already done.
int td_ppo_update (td_ppo_t *self, td_ppo_metrics_t *metrics);

//  True once total_steps have been collected.
bool td_ppo_done (const td_ppo_t *self);

//  Play episodes with the trained policy (most likely action), in a fresh environment seeded
//  with seed. rewards gets one total per episode. When states is not NULL, the first episode's
//  states (state_dim doubles per step, the reset state first) are appended to *states with
//  *n_states counting steps (the caller frees *states). 0 or -1 (no memory).
int td_ppo_evaluate (td_ppo_t *self, int episodes, uint64_t seed, double *rewards,
                     double **states, size_t *n_states);

//  The whole state as bytes (malloc'd, *size set), and back. A checkpoint only loads into a
//  trainer made with the same env and config. 0 or -1.
int td_ppo_save (const td_ppo_t *self, uint8_t **data, size_t *size);
int td_ppo_load (td_ppo_t *self, const uint8_t *data, size_t size);

//  Internals exposed for tests (tests/unit/test_trainer_ppo.c checks them by hand).
//  GAE over one environment's trajectory of n steps: done[t] = the episode ended after step t;
//  last_value = V(observation after the last step).
void td_ppo_gae (int n, const double *rewards, const double *values, const bool *done,
                 double last_value, double gamma, double lambda, double *advantages,
                 double *returns);

//  The clipped surrogate loss of one sample and its derivative with respect to the new
//  log-probability: -min(r·A, clip(r, 1-ε, 1+ε)·A) where r = exp(logp_new - logp_old).
double td_ppo_surrogate (double logp_new, double logp_old, double adv, double clip,
                         double *dloss_dlogp);

//  The trainer's networks, for gradient checks.
td_mlp_t *td_ppo_policy_net (td_ppo_t *self);
td_mlp_t *td_ppo_value_net (td_ppo_t *self);

#endif
