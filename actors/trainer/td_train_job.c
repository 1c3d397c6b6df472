/*  td_train_job — reading run requests and writing figures (see td_train_job.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "td_train_job.h"

//  The hyperparameters a run may set: name, where in the config, integer or real.
typedef enum { S_REAL, S_INT, S_BOOL } s_kind_t;

typedef struct {
    const char *name;
    s_kind_t kind;
    size_t offset;
} s_param_t;

#define R(f) { #f, S_REAL, offsetof (td_ppo_config_t, f) }
#define I(f) { #f, S_INT, offsetof (td_ppo_config_t, f) }
static const s_param_t s_params [] = {
    R (learning_rate), I (n_steps), I (n_envs), I (batch_size), I (n_epochs), R (gamma),
    R (gae_lambda), R (clip_range), R (clip_range_vf), R (ent_coef), R (vf_coef),
    R (max_grad_norm), { "anneal_lr", S_BOOL, offsetof (td_ppo_config_t, anneal_lr) },
};
#undef R
#undef I
#define S_NPARAMS (sizeof s_params / sizeof s_params [0])

#define S_FAIL(f, ...) do { snprintf (field, field_size, "%s", (f)); \
                            snprintf (why, why_size, __VA_ARGS__); return -1; } while (0)

static int
s_hidden (const json_t *v, td_ppo_config_t *cfg, char *field, size_t field_size, char *why,
          size_t why_size)
{
    if (!json_is_array (v) || json_array_size (v) < 1 || json_array_size (v) > TD_PPO_MAX_HIDDEN)
        S_FAIL ("hyperparameters.hidden", "hidden must be a list of 1 to %d layer sizes, e.g. "
                "[64, 64]", TD_PPO_MAX_HIDDEN);
    size_t i;
    json_t *n;
    json_array_foreach (v, i, n) {
        if (!json_is_integer (n) || json_integer_value (n) < 1 || json_integer_value (n) > 256)
            S_FAIL ("hyperparameters.hidden", "each hidden layer size must be a whole number "
                    "from 1 to 256");
        cfg->hidden [i] = (int) json_integer_value (n);
    }
    cfg->n_hidden = (int) json_array_size (v);
    return 0;
}

int
td_train_job_parse (const json_t *body, long max_steps, td_train_job_t *job, char *field,
                    size_t field_size, char *why, size_t why_size)
{
    memset (job, 0, sizeof *job);
    td_ppo_config_defaults (&job->cfg);
    if (!json_is_object (body))
        S_FAIL ("body", "the run must be a JSON object");
    const char *key;
    json_t *value;
    json_object_foreach ((json_t *) body, key, value) {
        if (strcmp (key, "env") && strcmp (key, "algo") && strcmp (key, "hyperparameters")
        &&  strcmp (key, "total_steps") && strcmp (key, "seed"))
            S_FAIL (key, "unknown field; a run has env, algo, hyperparameters, total_steps "
                    "and seed");
    }
    const json_t *env = json_object_get (body, "env");
    if (!json_is_string (env))
        S_FAIL ("env", "env is required: CartPole-v1, Acrobot-v1, MountainCar-v0 or "
                "Pendulum-v1");
    if (!td_env_find (json_string_value (env)))
        S_FAIL ("env", "unknown environment; choose CartPole-v1, Acrobot-v1, MountainCar-v0 or "
                "Pendulum-v1");
    snprintf (job->env, sizeof job->env, "%s", json_string_value (env));
    const json_t *algo = json_object_get (body, "algo");
    if (algo && !(json_is_string (algo) && strcmp (json_string_value (algo), "ppo") == 0))
        S_FAIL ("algo", "the only algorithm is \"ppo\"");
    const json_t *total = json_object_get (body, "total_steps");
    if (!json_is_integer (total))
        S_FAIL ("total_steps", "total_steps is required: a whole number of environment steps, "
                "e.g. 100000");
    if (json_integer_value (total) < 1 || json_integer_value (total) > max_steps)
        S_FAIL ("total_steps", "total_steps must be between 1 and %ld", max_steps);
    job->cfg.total_steps = (long) json_integer_value (total);
    const json_t *seed = json_object_get (body, "seed");
    if (seed && !json_is_null (seed)) {
        if (!json_is_integer (seed) || json_integer_value (seed) < 0
        ||  json_integer_value (seed) > 9007199254740991LL)
            S_FAIL ("seed", "seed must be a whole number from 0 to 2^53-1");
        job->cfg.seed = (uint64_t) json_integer_value (seed);
    }
    const json_t *hp = json_object_get (body, "hyperparameters");
    if (hp && !json_is_null (hp)) {
        if (!json_is_object (hp))
            S_FAIL ("hyperparameters", "hyperparameters must be a JSON object");
        json_object_foreach ((json_t *) hp, key, value) {
            char name [96];
            snprintf (name, sizeof name, "hyperparameters.%s", key);
            if (strcmp (key, "hidden") == 0) {
                if (s_hidden (value, &job->cfg, field, field_size, why, why_size) != 0)
                    return -1;
                continue;
            }
            const s_param_t *p = NULL;
            for (size_t i = 0; i < S_NPARAMS && !p; i++)
                if (strcmp (s_params [i].name, key) == 0)
                    p = &s_params [i];
            if (!p)
                S_FAIL (name, "unknown hyperparameter; PPO takes learning_rate, n_steps, "
                        "batch_size, n_epochs, gamma, gae_lambda, clip_range, clip_range_vf, "
                        "ent_coef, vf_coef, max_grad_norm, hidden, n_envs and anneal_lr");
            char *at = (char *) &job->cfg + p->offset;
            if (p->kind == S_BOOL) {
                if (!json_is_boolean (value))
                    S_FAIL (name, "%s must be true or false", key);
                *(bool *) at = json_is_true (value);
            }
            else
            if (p->kind == S_INT) {
                if (!json_is_integer (value))
                    S_FAIL (name, "%s must be a whole number", key);
                json_int_t v = json_integer_value (value);
                if (v < -1000000000 || v > 1000000000)
                    S_FAIL (name, "%s is far out of range", key);
                *(int *) at = (int) v;
            }
            else {
                if (!json_is_number (value))
                    S_FAIL (name, "%s must be a number", key);
                *(double *) at = json_number_value (value);
            }
        }
    }
    const char *bad = NULL;
    char reason [256];
    if (td_ppo_config_check (&job->cfg, job->env, &bad, reason, sizeof reason) != 0) {
        if (strcmp (bad, "env") == 0 || strcmp (bad, "total_steps") == 0)
            S_FAIL (bad, "%s", reason);
        char name [96];
        snprintf (name, sizeof name, "hyperparameters.%s", bad);
        S_FAIL (name, "%s", reason);
    }
    return 0;
}

json_t *
td_train_job_hyperparameters (const td_ppo_config_t *c)
{
    json_t *hidden = json_array ();
    for (int i = 0; hidden && i < c->n_hidden; i++)
        json_array_append_new (hidden, json_integer (c->hidden [i]));
    return json_pack ("{s:f, s:i, s:i, s:i, s:i, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:o, s:b}",
                      "learning_rate", c->learning_rate, "n_steps", c->n_steps,
                      "n_envs", c->n_envs, "batch_size", c->batch_size, "n_epochs", c->n_epochs,
                      "gamma", c->gamma, "gae_lambda", c->gae_lambda,
                      "clip_range", c->clip_range, "clip_range_vf", c->clip_range_vf,
                      "ent_coef", c->ent_coef, "vf_coef", c->vf_coef,
                      "max_grad_norm", c->max_grad_norm, "hidden", hidden,
                      "anneal_lr", c->anneal_lr);
}

static json_t *
s_real (double v)
{
    return isfinite (v)? json_real (v): json_null ();
}

json_t *
td_train_metrics_json (const td_ppo_metrics_t *m)
{
    return json_pack ("{s:I, s:I, s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
                      "step", (json_int_t) m->step, "episodes", (json_int_t) m->episodes,
                      "update", m->update,
                      "mean_reward", s_real (m->mean_reward),
                      "min_reward", s_real (m->min_reward),
                      "max_reward", s_real (m->max_reward),
                      "policy_loss", s_real (m->policy_loss),
                      "value_loss", s_real (m->value_loss),
                      "entropy", s_real (m->entropy),
                      "approx_kl", s_real (m->approx_kl),
                      "clip_fraction", s_real (m->clip_fraction),
                      "explained_variance", s_real (m->explained_variance),
                      "learning_rate", s_real (m->learning_rate),
                      "steps_per_second", s_real (m->steps_per_second));
}
