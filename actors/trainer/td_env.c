/*  td_env — the environment registry and the common step logic (time limits); the dynamics are
 *  in td_env_<name>.c. */
#include <stdlib.h>
#include <string.h>
#include "td_env.h"

static const td_env_info_t *const s_envs [] = {
    &td_env_cartpole, &td_env_acrobot, &td_env_mountaincar, &td_env_pendulum
};
#define S_COUNT (sizeof s_envs / sizeof s_envs [0])

const char *const td_env_names [] = {
    "CartPole-v1", "Acrobot-v1", "MountainCar-v0", "Pendulum-v1", NULL
};

const td_env_info_t *
td_env_find (const char *name)
{
    for (size_t i = 0; name && i < S_COUNT; i++)
        if (strcmp (s_envs [i]->name, name) == 0)
            return s_envs [i];
    return NULL;
}

td_env_t *
td_env_new (const char *name, uint64_t seed)
{
    const td_env_info_t *info = td_env_find (name);
    if (!info)
        return NULL;
    td_env_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->info = info;
    td_rng_seed (&self->rng, seed);
    return self;
}

void
td_env_destroy (td_env_t **self_p)
{
    if (self_p && *self_p) {
        free (*self_p);
        *self_p = NULL;
    }
}

void
td_env_reset (td_env_t *self, double *obs)
{
    self->steps = 0;
    self->info->reset (self);
    self->info->observe (self, obs);
}

td_step_t
td_env_step (td_env_t *self, const double *action, double *obs)
{
    td_step_t r = { 0, false, false };
    r.terminated = self->info->step (self, action, &r.reward);
    self->steps++;
    r.truncated = !r.terminated && self->steps >= self->info->max_steps;
    self->info->observe (self, obs);
    return r;
}

void
td_env_get_state (const td_env_t *self, double *state)
{
    memcpy (state, self->state, sizeof (double) * (size_t) self->info->state_dim);
}

void
td_env_set_state (td_env_t *self, const double *state)
{
    memcpy (self->state, state, sizeof (double) * (size_t) self->info->state_dim);
}
