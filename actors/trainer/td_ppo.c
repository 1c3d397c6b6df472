/*  td_ppo — the PPO trainer (see td_ppo.h for what it does and why it is built this way). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "td_ppo.h"
#include "td_mlp_kernels.h"

#define S_RECENT   100              //  episodes in the reward window
#define S_ADAM_B1  0.9
#define S_ADAM_B2  0.999
#define S_ADAM_EPS 1e-5
#define S_MAGIC    "TDPPO001"

struct td_ppo {
    td_ppo_config_t cfg;
    const td_env_info_t *info;
    int obs_dim, out_dim, act_dim;  //  act_dim: stored action size (1 for discrete)
    td_env_t *envs [TD_PPO_MAX_ENVS];
    td_mlp_t *pi, *vf;
    double *log_std;                //  continuous: act_dim
    size_t n_pi, n_vf, n_ls, n_all;
    double *m, *v, *grad;           //  Adam moments and the gradient, n_all each
    long adam_t;
    td_rng_t rng;                   //  actions and minibatch shuffles
    double *obs;                    //  n_envs × obs_dim: the observation each env is at
    double ep_reward [TD_PPO_MAX_ENVS];
    double recent [S_RECENT];
    int n_recent, recent_pos;
    long steps, episodes;
    int updates;
    int N;                          //  transitions per rollout (env-major: e × n_steps + t)
    double *b_obs, *b_act, *b_logp, *b_val, *b_rew, *b_adv, *b_ret;
    bool *b_done;
    int rows;                       //  rows of the batch buffers: max (batch_size, n_envs)
    float *cache_pi, *cache_vf;     //  rows × cache size (td_mlp_alloc)
    float *scratch;                 //  rows × the wider scratch size (td_mlp_alloc)
    double *mb_x, *mb_out, *mb_dout, *mb_v, *mb_dv;
    int *idx;
};

void
td_ppo_config_defaults (td_ppo_config_t *cfg)
{
    memset (cfg, 0, sizeof *cfg);
    cfg->learning_rate = 3e-4;
    cfg->n_steps = 2048;
    cfg->n_envs = 1;
    cfg->batch_size = 64;
    cfg->n_epochs = 10;
    cfg->gamma = 0.99;
    cfg->gae_lambda = 0.95;
    cfg->clip_range = 0.2;
    cfg->clip_range_vf = 0;
    cfg->ent_coef = 0.0;
    cfg->vf_coef = 0.5;
    cfg->max_grad_norm = 0.5;
    cfg->hidden [0] = 64;
    cfg->hidden [1] = 64;
    cfg->n_hidden = 2;
    cfg->anneal_lr = true;
    cfg->total_steps = 100000;
    cfg->seed = 0;
}

#define S_FAIL(f, ...) do { *field = (f); snprintf (why, why_size, __VA_ARGS__); return -1; } while (0)

int
td_ppo_config_check (const td_ppo_config_t *c, const char *env, const char **field, char *why,
                     size_t why_size)
{
    if (!td_env_find (env))
        S_FAIL ("env", "unknown environment; choose CartPole-v1, Acrobot-v1, MountainCar-v0 or "
                "Pendulum-v1");
    if (!(c->learning_rate > 0 && c->learning_rate <= 1))
        S_FAIL ("learning_rate", "the learning rate must be above 0 and at most 1 (try 3e-4): "
                "0 never learns, large values make the policy jump around and collapse");
    if (c->n_steps < 8 || c->n_steps > 65536)
        S_FAIL ("n_steps", "n_steps (steps collected per environment before each update) must "
                "be between 8 and 65536 (try 2048)");
    if (c->n_envs < 1 || c->n_envs > TD_PPO_MAX_ENVS)
        S_FAIL ("n_envs", "n_envs must be between 1 and %d", TD_PPO_MAX_ENVS);
    if ((long) c->n_steps * c->n_envs > 262144)
        S_FAIL ("n_steps", "n_steps × n_envs must be at most 262144 transitions per update");
    if (c->batch_size < 1 || c->batch_size > c->n_steps * c->n_envs)
        S_FAIL ("batch_size", "the minibatch size must be between 1 and n_steps × n_envs "
                "(%d): a minibatch is a slice of one rollout", c->n_steps * c->n_envs);
    if (c->n_epochs < 1 || c->n_epochs > 100)
        S_FAIL ("n_epochs", "n_epochs (passes over each rollout) must be between 1 and 100 "
                "(try 10)");
    if (!(c->gamma >= 0 && c->gamma <= 1))
        S_FAIL ("gamma", "gamma (the discount) must be between 0 and 1 (try 0.99): above 1 the "
                "returns grow without bound");
    if (!(c->gae_lambda >= 0 && c->gae_lambda <= 1))
        S_FAIL ("gae_lambda", "gae_lambda must be between 0 and 1 (try 0.95)");
    if (!(c->clip_range > 0 && c->clip_range < 1))
        S_FAIL ("clip_range", "clip_range must be above 0 and below 1 (try 0.2): it bounds how "
                "far one update may move the policy");
    if (!(c->clip_range_vf >= 0 && c->clip_range_vf < 1e6))
        S_FAIL ("clip_range_vf", "clip_range_vf must be 0 (no clipping) or positive");
    if (!(c->ent_coef >= 0 && c->ent_coef <= 1))
        S_FAIL ("ent_coef", "ent_coef (the entropy bonus) must be between 0 and 1 (try 0.0 or "
                "0.01)");
    if (!(c->vf_coef >= 0 && c->vf_coef <= 10))
        S_FAIL ("vf_coef", "vf_coef must be between 0 and 10 (try 0.5)");
    if (!(c->max_grad_norm > 0 && c->max_grad_norm <= 1000))
        S_FAIL ("max_grad_norm", "max_grad_norm must be above 0 and at most 1000 (try 0.5)");
    if (c->n_hidden < 1 || c->n_hidden > TD_PPO_MAX_HIDDEN)
        S_FAIL ("hidden", "hidden must list 1 to %d layer sizes, e.g. [64, 64]", TD_PPO_MAX_HIDDEN);
    for (int i = 0; i < c->n_hidden; i++)
        if (c->hidden [i] < 1 || c->hidden [i] > 256)
            S_FAIL ("hidden", "each hidden layer must have between 1 and 256 units");
    if (c->total_steps < 1 || c->total_steps > 50000000)
        S_FAIL ("total_steps", "total_steps must be between 1 and 50000000");
    return 0;
}

//  --------------------------------------------------------------------------
//  Policy arithmetic

//  log-softmax of logits into lp (n values).
static void
s_log_softmax (const double *z, int n, double *lp)
{
    double mx = z [0];
    for (int i = 1; i < n; i++)
        if (z [i] > mx)
            mx = z [i];
    double s = 0;
    for (int i = 0; i < n; i++)
        s += exp (z [i] - mx);
    double lse = mx + log (s);
    for (int i = 0; i < n; i++)
        lp [i] = z [i] - lse;
}

//  The log-probability and entropy of action a under the policy output out, and (when d_out
//  is given) the derivatives of logp and entropy with respect to out and log_std.
static void
s_policy_stats (const td_ppo_t *self, const double *out, const double *a, double *logp,
                double *entropy, double *dlogp_out, double *dent_out, double *dlogp_ls)
{
    if (self->info->discrete) {
        int n = self->out_dim, k = (int) a [0];
        if (n < 1 || n > TD_MLP_MAX_WIDTH || k < 0 || k >= n) {
            *logp = -INFINITY;          //  cannot happen: actions come from s_act
            *entropy = 0;
            return;
        }
        double lp [TD_MLP_MAX_WIDTH], p [TD_MLP_MAX_WIDTH];
        s_log_softmax (out, n, lp);
        *logp = lp [k];
        double h = 0;
        for (int i = 0; i < n; i++) {
            p [i] = exp (lp [i]);
            h -= p [i] * lp [i];
        }
        *entropy = h;
        if (dlogp_out)
            for (int i = 0; i < n; i++) {
                dlogp_out [i] = (i == k? 1.0: 0.0) - p [i];
                dent_out [i] = -p [i] * (lp [i] + h);
            }
        return;
    }
    double lsum = 0, h = 0;
    for (int d = 0; d < self->act_dim; d++) {
        double ls = self->log_std [d], sd = exp (ls), z = (a [d] - out [d]) / sd;
        lsum += -0.5 * z * z - ls - 0.5 * log (2.0 * M_PI);
        h += 0.5 + 0.5 * log (2.0 * M_PI) + ls;
        if (dlogp_out) {
            dlogp_out [d] = z / sd;
            dent_out [d] = 0;
            dlogp_ls [d] = z * z - 1.0;
        }
    }
    *logp = lsum;
    *entropy = h;
}

//  Sample (or, deterministic, pick the most likely) action for out into a.
static void
s_act (td_ppo_t *self, const double *out, bool deterministic, double *a)
{
    if (self->info->discrete) {
        int n = self->out_dim, best = 0;
        if (deterministic) {
            for (int i = 1; i < n; i++)
                if (out [i] > out [best])
                    best = i;
            a [0] = best;
            return;
        }
        double lp [TD_MLP_MAX_WIDTH];
        s_log_softmax (out, n, lp);
        double u = td_rng_uniform (&self->rng), c = 0;
        best = n - 1;
        for (int i = 0; i < n; i++) {
            c += exp (lp [i]);
            if (u < c) {
                best = i;
                break;
            }
        }
        a [0] = best;
        return;
    }
    for (int d = 0; d < self->act_dim; d++)
        a [d] = deterministic? out [d]: out [d] + exp (self->log_std [d]) * td_rng_normal (&self->rng);
}

//  The action the environment gets: continuous actions clipped to its bounds.
static void
s_env_action (const td_ppo_t *self, const double *a, double *env_a)
{
    for (int d = 0; d < self->act_dim; d++) {
        double x = a [d];
        if (!self->info->discrete) {
            if (x < self->info->act_low) x = self->info->act_low;
            if (x > self->info->act_high) x = self->info->act_high;
        }
        env_a [d] = x;
    }
}

static double
s_value (td_ppo_t *self, const double *obs)
{
    double v;
    td_mlp_forward (self->vf, obs, 1, &v, NULL);
    return v;
}

//  --------------------------------------------------------------------------
//  Life cycle

td_ppo_t *
td_ppo_new (const char *env, const td_ppo_config_t *cfg)
{
    const char *field;
    char why [256];
    if (td_ppo_config_check (cfg, env, &field, why, sizeof why) != 0)
        return NULL;
    td_ppo_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->cfg = *cfg;
    self->info = td_env_find (env);
    self->obs_dim = self->info->obs_dim;
    self->out_dim = self->info->discrete? self->info->n_actions: self->info->act_dim;
    self->act_dim = self->info->discrete? 1: self->info->act_dim;
    self->N = cfg->n_steps * cfg->n_envs;
    td_rng_t init;
    td_rng_seed (&init, cfg->seed * 2 + 1);
    td_rng_seed (&self->rng, cfg->seed * 2 + 2);
    bool ok = true;
    for (int e = 0; e < cfg->n_envs && ok; e++)
        ok = (self->envs [e] = td_env_new (env, cfg->seed * 1000003u + (uint64_t) e)) != NULL;
    if (ok) {
        self->pi = td_mlp_new (self->obs_dim, cfg->hidden, cfg->n_hidden, self->out_dim);
        self->vf = td_mlp_new (self->obs_dim, cfg->hidden, cfg->n_hidden, 1);
    }
    if (ok && self->pi && self->vf) {
        td_mlp_init_orthogonal (self->pi, &init, sqrt (2.0), 0.01);
        td_mlp_init_orthogonal (self->vf, &init, sqrt (2.0), 1.0);
        self->n_pi = self->pi->n_params;
        self->n_vf = self->vf->n_params;
        self->n_ls = self->info->discrete? 0: (size_t) self->act_dim;
        self->n_all = self->n_pi + self->n_vf + self->n_ls;
        size_t N = (size_t) self->N;
        self->log_std = calloc (self->n_ls + 1, sizeof (double));
        self->m = calloc (self->n_all, sizeof (double));
        self->v = calloc (self->n_all, sizeof (double));
        self->grad = calloc (self->n_all, sizeof (double));
        self->obs = calloc ((size_t) cfg->n_envs * (size_t) self->obs_dim, sizeof (double));
        self->b_obs = calloc (N * (size_t) self->obs_dim, sizeof (double));
        self->b_act = calloc (N * (size_t) self->act_dim, sizeof (double));
        self->b_logp = calloc (N, sizeof (double));
        self->b_val = calloc (N, sizeof (double));
        self->b_rew = calloc (N, sizeof (double));
        self->b_adv = calloc (N, sizeof (double));
        self->b_ret = calloc (N, sizeof (double));
        self->b_done = calloc (N, sizeof (bool));
        self->rows = cfg->batch_size > cfg->n_envs? cfg->batch_size: cfg->n_envs;
        size_t rows = (size_t) self->rows;
        self->cache_pi = td_mlp_alloc (rows * td_mlp_cache_size (self->pi));
        self->cache_vf = td_mlp_alloc (rows * td_mlp_cache_size (self->vf));
        self->mb_x = calloc (rows * (size_t) self->obs_dim, sizeof (double));
        self->mb_out = calloc (rows * (size_t) self->out_dim, sizeof (double));
        self->mb_dout = calloc (rows * (size_t) self->out_dim, sizeof (double));
        self->mb_v = calloc (rows, sizeof (double));
        self->mb_dv = calloc (rows, sizeof (double));
        size_t sp = td_mlp_scratch_size (self->pi), sv = td_mlp_scratch_size (self->vf);
        self->scratch = td_mlp_alloc (rows * (sp > sv? sp: sv));
        self->idx = calloc (N, sizeof (int));
        ok = self->log_std && self->m && self->v && self->grad && self->obs && self->b_obs
          && self->b_act && self->b_logp && self->b_val && self->b_rew && self->b_adv
          && self->b_ret && self->b_done && self->cache_pi && self->cache_vf && self->mb_x
          && self->mb_out && self->mb_dout && self->mb_v && self->mb_dv && self->scratch
          && self->idx;
    }
    else
        ok = false;
    if (!ok) {
        td_ppo_destroy (&self);
        return NULL;
    }
    for (int e = 0; e < cfg->n_envs; e++)
        td_env_reset (self->envs [e], self->obs + (size_t) e * (size_t) self->obs_dim);
    return self;
}

void
td_ppo_destroy (td_ppo_t **self_p)
{
    td_ppo_t *self = self_p? *self_p: NULL;
    if (!self)
        return;
    for (int e = 0; e < TD_PPO_MAX_ENVS; e++)
        td_env_destroy (&self->envs [e]);
    td_mlp_destroy (&self->pi);
    td_mlp_destroy (&self->vf);
    free (self->log_std);
    free (self->m);
    free (self->v);
    free (self->grad);
    free (self->obs);
    free (self->b_obs);
    free (self->b_act);
    free (self->b_logp);
    free (self->b_val);
    free (self->b_rew);
    free (self->b_adv);
    free (self->b_ret);
    free (self->b_done);
    free (self->cache_pi);
    free (self->cache_vf);
    free (self->mb_x);
    free (self->mb_out);
    free (self->mb_dout);
    free (self->mb_v);
    free (self->mb_dv);
    free (self->scratch);
    free (self->idx);
    free (self);
    *self_p = NULL;
}

bool
td_ppo_done (const td_ppo_t *self)
{
    return self->steps >= self->cfg.total_steps;
}

td_mlp_t *td_ppo_policy_net (td_ppo_t *self) { return self->pi; }
td_mlp_t *td_ppo_value_net (td_ppo_t *self) { return self->vf; }

//  --------------------------------------------------------------------------
//  The pieces checked by hand in the tests

void
td_ppo_gae (int n, const double *rewards, const double *values, const bool *done,
            double last_value, double gamma, double lambda, double *advantages, double *returns)
{
    double last = 0;
    for (int t = n - 1; t >= 0; t--) {
        double next_value = t == n - 1? last_value: values [t + 1];
        double nonterminal = done [t]? 0.0: 1.0;
        double delta = rewards [t] + gamma * next_value * nonterminal - values [t];
        last = delta + gamma * lambda * nonterminal * last;
        advantages [t] = last;
        returns [t] = last + values [t];
    }
}

double
td_ppo_surrogate (double logp_new, double logp_old, double adv, double clip, double *dloss_dlogp)
{
    double r = exp (logp_new - logp_old);
    double rc = r < 1.0 - clip? 1.0 - clip: r > 1.0 + clip? 1.0 + clip: r;
    double unclipped = r * adv, clipped = rc * adv;
    //  the min picks the unclipped term, or the clipped one whose slope is 0 outside the range
    bool inside = r >= 1.0 - clip && r <= 1.0 + clip;
    if (dloss_dlogp)
        *dloss_dlogp = (unclipped <= clipped || inside)? -unclipped: 0.0;
    return -(unclipped < clipped? unclipped: clipped);
}

//  --------------------------------------------------------------------------
//  One update

static void
s_episode_done (td_ppo_t *self, double total)
{
    self->recent [self->recent_pos] = total;
    self->recent_pos = (self->recent_pos + 1) % S_RECENT;
    if (self->n_recent < S_RECENT)
        self->n_recent++;
    self->episodes++;
}

static void
s_collect (td_ppo_t *self)
{
    const td_ppo_config_t *c = &self->cfg;
    int od = self->obs_dim, ad = self->act_dim;
    double env_a [TD_ENV_STATE_MAX], next [TD_ENV_OBS_MAX];
    for (int t = 0; t < c->n_steps; t++) {
        //  the policy and value of every environment's observation, in one batch each
        td_mlp_forward (self->pi, self->obs, c->n_envs, self->mb_out, self->cache_pi);
        td_mlp_forward (self->vf, self->obs, c->n_envs, self->mb_v, self->cache_vf);
        for (int e = 0; e < c->n_envs; e++) {
            size_t i = (size_t) e * (size_t) c->n_steps + (size_t) t;
            double *o = self->obs + (size_t) e * (size_t) od;
            const double *out = self->mb_out + (size_t) e * (size_t) self->out_dim;
            memcpy (self->b_obs + i * (size_t) od, o, sizeof (double) * (size_t) od);
            double *a = self->b_act + i * (size_t) ad;
            s_act (self, out, false, a);
            double ent;
            s_policy_stats (self, out, a, &self->b_logp [i], &ent, NULL, NULL, NULL);
            self->b_val [i] = self->mb_v [e];
            s_env_action (self, a, env_a);
            td_step_t st = td_env_step (self->envs [e], env_a, next);
            double r = st.reward;
            self->ep_reward [e] += st.reward;
            bool done = st.terminated || st.truncated;
            if (st.truncated)           //  the time limit is not the MDP's end: bootstrap
                r += c->gamma * s_value (self, next);
            if (done) {
                s_episode_done (self, self->ep_reward [e]);
                self->ep_reward [e] = 0;
                td_env_reset (self->envs [e], o);
            }
            else
                memcpy (o, next, sizeof (double) * (size_t) od);
            self->b_rew [i] = r;
            self->b_done [i] = done;
        }
    }
    self->steps += (long) self->N;
    for (int e = 0; e < c->n_envs; e++) {
        size_t base = (size_t) e * (size_t) c->n_steps;
        double last = s_value (self, self->obs + (size_t) e * (size_t) od);
        td_ppo_gae (c->n_steps, self->b_rew + base, self->b_val + base, self->b_done + base,
                    last, c->gamma, c->gae_lambda, self->b_adv + base, self->b_ret + base);
    }
}

static void
s_adam (td_ppo_t *self, double lr)
{
    double *params [3] = { self->pi->params, self->vf->params, self->log_std };
    size_t counts [3] = { self->n_pi, self->n_vf, self->n_ls };
    self->adam_t++;
    double bc1 = 1.0 - pow (S_ADAM_B1, (double) self->adam_t);
    double bc2 = 1.0 - pow (S_ADAM_B2, (double) self->adam_t);
    size_t k = 0;
    for (int s = 0; s < 3; s++) {
        td_mlp_kernels ()->adam (params [s], self->grad + k, self->m + k, self->v + k,
                                 counts [s], S_ADAM_B1, S_ADAM_B2, S_ADAM_EPS, lr / bc1,
                                 1.0 / sqrt (bc2));
        k += counts [s];
    }
}

//  The global norm of the gradient: four interleaved partial sums (a fixed order, so the same
//  result every time) rather than one long chain of dependent additions.
static double
s_grad_norm (const double *restrict g, size_t n)
{
    double part [4] = { 0, 0, 0, 0 };
    size_t k = 0;
    for (; k + 4 <= n; k += 4)
        for (int j = 0; j < 4; j++)
            part [j] += g [k + (size_t) j] * g [k + (size_t) j];
    for (; k < n; k++)
        part [0] += g [k] * g [k];
    return sqrt ((part [0] + part [1]) + (part [2] + part [3]));
}

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

int
td_ppo_update (td_ppo_t *self, td_ppo_metrics_t *mt)
{
    if (td_ppo_done (self))
        return -1;
    const td_ppo_config_t *c = &self->cfg;
    double t0 = s_now ();
    s_collect (self);
    double progress = (double) self->steps / (double) c->total_steps;
    double lr = c->anneal_lr? c->learning_rate * (1.0 - (progress > 1? 1: progress)): c->learning_rate;

    int N = self->N, od = self->obs_dim, ad = self->act_dim;
    //  explained variance of the rollout's values
    double mr = 0, md = 0;
    for (int i = 0; i < N; i++) {
        mr += self->b_ret [i];
        md += self->b_ret [i] - self->b_val [i];
    }
    mr /= N;
    md /= N;
    double vr = 0, vd = 0;
    for (int i = 0; i < N; i++) {
        double d = self->b_ret [i] - self->b_val [i];
        vr += (self->b_ret [i] - mr) * (self->b_ret [i] - mr);
        vd += (d - md) * (d - md);
    }
    double ev = vr == 0? NAN: 1.0 - vd / vr;

    double sum_pg = 0, sum_vl = 0, sum_ent = 0, sum_kl = 0, sum_cf = 0;
    long n_batches = 0, n_samples = 0;
    double dlp [TD_MLP_MAX_WIDTH], dent [TD_MLP_MAX_WIDTH], dls [TD_MLP_MAX_WIDTH];
    for (int i = 0; i < N; i++)
        self->idx [i] = i;
    for (int epoch = 0; epoch < c->n_epochs; epoch++) {
        td_rng_shuffle (&self->rng, self->idx, N);
        for (int start = 0; start < N; start += c->batch_size) {
            int B = N - start < c->batch_size? N - start: c->batch_size;
            const int *bi = self->idx + start;
            double am = 0, as = 0;
            for (int j = 0; j < B; j++)
                am += self->b_adv [bi [j]];
            am /= B;
            for (int j = 0; j < B; j++)
                as += (self->b_adv [bi [j]] - am) * (self->b_adv [bi [j]] - am);
            as = B > 1? sqrt (as / (B - 1)): 1.0;       //  unbiased, as torch's std()
            memset (self->grad, 0, sizeof (double) * self->n_all);
            double *g_pi = self->grad, *g_vf = self->grad + self->n_pi,
                   *g_ls = self->grad + self->n_pi + self->n_vf;
            double pg = 0, vl = 0, en = 0, kl = 0, cf = 0;
            for (int j = 0; j < B; j++)
                memcpy (self->mb_x + (size_t) j * (size_t) od,
                        self->b_obs + (size_t) bi [j] * (size_t) od, sizeof (double) * (size_t) od);
            td_mlp_forward (self->pi, self->mb_x, B, self->mb_out, self->cache_pi);
            td_mlp_forward (self->vf, self->mb_x, B, self->mb_v, self->cache_vf);
            for (int j = 0; j < B; j++) {
                int i = bi [j];
                const double *a = self->b_act + (size_t) i * (size_t) ad;
                const double *out = self->mb_out + (size_t) j * (size_t) self->out_dim;
                double *dout = self->mb_dout + (size_t) j * (size_t) self->out_dim;
                double adv = B > 1? (self->b_adv [i] - am) / (as + 1e-8): self->b_adv [i];
                double logp, ent, dl;
                s_policy_stats (self, out, a, &logp, &ent, dlp, dent, dls);
                pg += td_ppo_surrogate (logp, self->b_logp [i], adv, c->clip_range, &dl);
                double log_ratio = logp - self->b_logp [i], ratio = exp (log_ratio);
                kl += (ratio - 1.0) - log_ratio;
                cf += fabs (ratio - 1.0) > c->clip_range? 1.0: 0.0;
                en += ent;
                for (int k = 0; k < self->out_dim; k++)
                    dout [k] = (dl * dlp [k] - c->ent_coef * dent [k]) / B;
                for (size_t k = 0; k < self->n_ls; k++)
                    g_ls [k] += (dl * dls [k] - c->ent_coef) / B;
                double vpred = self->mb_v [j], vold = self->b_val [i], slope = 1.0;
                if (c->clip_range_vf > 0) {
                    double d = vpred - vold;
                    if (d > c->clip_range_vf) { vpred = vold + c->clip_range_vf; slope = 0; }
                    else if (d < -c->clip_range_vf) { vpred = vold - c->clip_range_vf; slope = 0; }
                }
                double err = vpred - self->b_ret [i];
                vl += err * err;
                self->mb_dv [j] = c->vf_coef * 2.0 * err * slope / B;
            }
            td_mlp_backward (self->pi, self->cache_pi, B, self->mb_dout, g_pi, self->scratch);
            td_mlp_backward (self->vf, self->cache_vf, B, self->mb_dv, g_vf, self->scratch);
            double norm = s_grad_norm (self->grad, self->n_all);
            if (norm > c->max_grad_norm) {
                double scale = c->max_grad_norm / (norm + 1e-6);
                for (size_t k = 0; k < self->n_all; k++)
                    self->grad [k] *= scale;
            }
            s_adam (self, lr);
            td_mlp_changed (self->pi);
            td_mlp_changed (self->vf);
            sum_pg += pg / B;
            sum_vl += vl / B;
            sum_ent += en;
            sum_kl += kl;
            sum_cf += cf;
            n_batches++;
            n_samples += B;
        }
    }
    self->updates++;
    if (mt) {
        memset (mt, 0, sizeof *mt);
        mt->step = self->steps;
        mt->episodes = self->episodes;
        if (self->n_recent > 0) {
            double s = 0, lo = self->recent [0], hi = self->recent [0];
            for (int k = 0; k < self->n_recent; k++) {
                s += self->recent [k];
                if (self->recent [k] < lo) lo = self->recent [k];
                if (self->recent [k] > hi) hi = self->recent [k];
            }
            mt->mean_reward = s / self->n_recent;
            mt->min_reward = lo;
            mt->max_reward = hi;
        }
        mt->policy_loss = sum_pg / (double) n_batches;
        mt->value_loss = sum_vl / (double) n_batches;
        mt->entropy = sum_ent / (double) n_samples;
        mt->approx_kl = sum_kl / (double) n_samples;
        mt->clip_fraction = sum_cf / (double) n_samples;
        mt->explained_variance = ev;
        mt->learning_rate = lr;
        double dt = s_now () - t0;
        mt->steps_per_second = dt > 0? (double) N / dt: 0;
        mt->update = self->updates;
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  Evaluation

//  Append env's state to *states (growing it); 0 or -1.
static int
s_record (const td_env_t *env, double **states, size_t *n, size_t *cap)
{
    size_t sd = (size_t) env->info->state_dim;
    if (*n == *cap) {
        size_t ncap = *cap? *cap * 2: 256;
        double *grown = realloc (*states, ncap * sd * sizeof (double));
        if (!grown)
            return -1;
        *states = grown;
        *cap = ncap;
    }
    td_env_get_state (env, *states + *n * sd);
    (*n)++;
    return 0;
}

int
td_ppo_evaluate (td_ppo_t *self, int episodes, uint64_t seed, double *rewards, double **states,
                 size_t *n_states)
{
    td_env_t *env = td_env_new (self->info->name, seed);
    if (!env)
        return -1;
    double obs [TD_ENV_OBS_MAX], out [TD_MLP_MAX_WIDTH], a [TD_ENV_STATE_MAX],
           env_a [TD_ENV_STATE_MAX];
    size_t cap = 0;
    if (states) {
        *states = NULL;
        *n_states = 0;
    }
    int rc = 0;
    for (int ep = 0; ep < episodes && rc == 0; ep++) {
        td_env_reset (env, obs);
        double total = 0;
        bool record = states && ep == 0;
        if (record)
            rc = s_record (env, states, n_states, &cap);
        while (rc == 0) {
            td_mlp_forward (self->pi, obs, 1, out, NULL);
            s_act (self, out, true, a);
            s_env_action (self, a, env_a);
            td_step_t st = td_env_step (env, env_a, obs);
            total += st.reward;
            if (record)
                rc = s_record (env, states, n_states, &cap);
            if (st.terminated || st.truncated)
                break;
        }
        rewards [ep] = total;
    }
    td_env_destroy (&env);
    if (rc != 0 && states) {
        free (*states);
        *states = NULL;
        *n_states = 0;
    }
    return rc;
}

//  --------------------------------------------------------------------------
//  Checkpoints: a header, then every piece of mutable state in a fixed order

typedef struct {
    uint8_t *p;
    size_t size, at;
    bool write, bad;
} s_io_t;

static void
s_io (s_io_t *io, void *data, size_t n)
{
    if (io->bad)
        return;
    if (io->at + n > io->size) {
        io->bad = true;
        return;
    }
    if (io->write)
        memcpy (io->p + io->at, data, n);
    else
        memcpy (data, io->p + io->at, n);
    io->at += n;
}

//  Walk the state in checkpoint order; the header carries the sizes that must match.
static void
s_walk (td_ppo_t *self, s_io_t *io)
{
    char magic [8];
    memcpy (magic, S_MAGIC, 8);
    uint64_t shape [4] = { self->n_all, (uint64_t) self->cfg.n_envs, (uint64_t) self->N,
                           (uint64_t) self->obs_dim };
    uint64_t want [4];
    memcpy (want, shape, sizeof want);
    s_io (io, magic, 8);
    s_io (io, shape, sizeof shape);
    if (!io->write && (memcmp (magic, S_MAGIC, 8) != 0 || memcmp (shape, want, sizeof want) != 0))
        io->bad = true;
    s_io (io, &self->steps, sizeof self->steps);
    s_io (io, &self->episodes, sizeof self->episodes);
    s_io (io, &self->updates, sizeof self->updates);
    s_io (io, &self->adam_t, sizeof self->adam_t);
    s_io (io, &self->rng, sizeof self->rng);
    for (int e = 0; e < self->cfg.n_envs; e++) {
        td_env_t *env = self->envs [e];
        s_io (io, env->state, sizeof env->state);
        s_io (io, &env->steps, sizeof env->steps);
        s_io (io, &env->rng, sizeof env->rng);
    }
    s_io (io, self->obs, sizeof (double) * (size_t) self->cfg.n_envs * (size_t) self->obs_dim);
    s_io (io, self->ep_reward, sizeof self->ep_reward);
    s_io (io, self->recent, sizeof self->recent);
    s_io (io, &self->n_recent, sizeof self->n_recent);
    s_io (io, &self->recent_pos, sizeof self->recent_pos);
    s_io (io, self->pi->params, sizeof (double) * self->n_pi);
    s_io (io, self->vf->params, sizeof (double) * self->n_vf);
    s_io (io, self->log_std, sizeof (double) * self->n_ls);
    s_io (io, self->m, sizeof (double) * self->n_all);
    s_io (io, self->v, sizeof (double) * self->n_all);
}

//  Bytes of a checkpoint: fixed by the trainer's shape (the order of s_walk).
static size_t
s_checkpoint_size (const td_ppo_t *self)
{
    size_t envs = (size_t) self->cfg.n_envs;
    return 8 + 4 * sizeof (uint64_t)
         + 2 * sizeof (long) + sizeof (int) + sizeof (long) + sizeof (td_rng_t)
         + envs * (sizeof (double) * TD_ENV_STATE_MAX + sizeof (int) + sizeof (td_rng_t))
         + sizeof (double) * envs * (size_t) self->obs_dim
         + sizeof (double) * TD_PPO_MAX_ENVS + sizeof (double) * S_RECENT + 2 * sizeof (int)
         + sizeof (double) * (self->n_pi + self->n_vf + self->n_ls + 2 * self->n_all);
}

int
td_ppo_save (const td_ppo_t *self, uint8_t **data, size_t *size)
{
    size_t n = s_checkpoint_size (self);
    uint8_t *buf = malloc (n);
    if (!buf)
        return -1;
    s_io_t io = { .p = buf, .size = n, .write = true };
    s_walk ((td_ppo_t *) self, &io);        //  in write mode the walk only reads the state
    if (io.bad || io.at != n) {
        free (buf);
        return -1;
    }
    *data = buf;
    *size = n;
    return 0;
}

int
td_ppo_load (td_ppo_t *self, const uint8_t *data, size_t size)
{
    //  load into a copy first, so a bad checkpoint leaves the trainer as it was
    uint8_t *mine = NULL;
    size_t mine_size = 0;
    if (td_ppo_save (self, &mine, &mine_size) != 0)
        return -1;
    if (size != mine_size) {
        free (mine);
        return -1;
    }
    s_io_t io = { .p = (uint8_t *) data, .size = size };
    s_walk (self, &io);
    if (io.bad || io.at != size) {
        s_io_t back = { .p = mine, .size = mine_size };
        s_walk (self, &back);
        free (mine);
        return -1;
    }
    free (mine);
    td_mlp_changed (self->pi);
    td_mlp_changed (self->vf);
    return 0;
}
