/*  bench_ppo — tutord's PPO solving CartPole-v1: wall time and environment steps per second.
 *
 *  The same algorithm and hyperparameters as tools/bench/baseline/ppo_torch.py (PyTorch +
 *  NumPy), which tools/bench/bench_ppo.sh runs beside it in the same run: 8 environments × 32
 *  steps per update, minibatch 256, 10 epochs, γ 0.98, λ 0.8, learning rate 1e-3 annealed,
 *  hidden [64, 64] by default. "Solved": every 10 updates the greedy policy plays 100 evaluation
 *  episodes; solved when their mean reaches 475. Training time excludes those evaluations (as
 *  in the baseline). One line per seed, with the kernels used (isa=: avx512, avx2 or default;
 *  BENCH_PPO_ISA=default|avx2|avx512 forces one, to compare them).
 *
 *  usage: bench_ppo SEED [TOTAL_STEPS] [HIDDEN]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "trainer/td_mlp_kernels.h"
#include "trainer/td_ppo.h"

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main (int argc, char **argv)
{
    if (argc < 2) {
        fprintf (stderr, "usage: bench_ppo SEED [TOTAL_STEPS] [HIDDEN]\n");
        return 2;
    }
    const char *isa = getenv ("BENCH_PPO_ISA");
    if (isa && *isa && td_mlp_set_isa (isa) != 0) {
        fprintf (stderr, "bench_ppo: this CPU cannot run the %s kernels\n", isa);
        return 1;
    }
    td_ppo_config_t c;
    td_ppo_config_defaults (&c);
    c.seed = strtoull (argv [1], NULL, 10);
    c.total_steps = argc > 2? atol (argv [2]): 200000;
    c.hidden [0] = c.hidden [1] = argc > 3? atoi (argv [3]): 64;
    c.n_envs = 8;
    c.n_steps = 32;
    c.batch_size = 256;
    c.n_epochs = 10;
    c.gamma = 0.98;
    c.gae_lambda = 0.8;
    c.learning_rate = 1e-3;
    td_ppo_t *p = td_ppo_new ("CartPole-v1", &c);
    if (!p) {
        fprintf (stderr, "bench_ppo: bad configuration\n");
        return 1;
    }
    td_ppo_metrics_t m = { 0 };
    double train = 0, mean = 0;
    long solved_at = -1;
    while (!td_ppo_done (p)) {
        double t0 = s_now ();
        if (td_ppo_update (p, &m) != 0)
            break;
        train += s_now () - t0;
        if (m.update % 10 == 0) {
            double r [100];
            if (td_ppo_evaluate (p, 100, 999, r, NULL, NULL) != 0)
                break;
            mean = 0;
            for (int i = 0; i < 100; i++)
                mean += r [i] / 100;
            if (mean >= 475) {
                solved_at = m.step;
                break;
            }
        }
    }
    printf ("tutord seed=%llu solved=%s steps=%ld train_s=%.3f steps_per_s=%.0f eval_mean=%.1f "
            "isa=%s\n", (unsigned long long) c.seed, solved_at >= 0? "True": "False", m.step,
            train, train > 0? m.step / train: 0, mean, td_mlp_isa ());
    td_ppo_destroy (&p);
    return 0;
}
