/*  test_trainer_mlp — the MLP's analytic gradients against central finite differences, and
 *  orthogonal initialisation. A wrong backward pass would still train a little, which makes
 *  it the kind of bug only a gradient check finds. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include "trainer/td_mlp.h"

//  loss = Σ_k c_k · out_k for fixed random c: d(loss)/d(out) = c.
static double
s_loss (td_mlp_t *net, const double *x, const double *c)
{
    double out [16];
    td_mlp_changed (net);
    td_mlp_forward (net, x, 1, out, NULL);
    double s = 0;
    for (int k = 0; k < net->sizes [net->n_layers]; k++)
        s += c [k] * out [k];
    return s;
}

static void
s_check (int in, const int *hidden, int n_hidden, int out, uint64_t seed)
{
    td_rng_t rng;
    td_rng_seed (&rng, seed);
    td_mlp_t *net = td_mlp_new (in, hidden, n_hidden, out);
    assert_non_null (net);
    td_mlp_init_orthogonal (net, &rng, sqrt (2.0), 1.0);
    for (size_t i = 0; i < net->n_params; i++)      //  biases too, so their gradient matters
        net->params [i] += 0.1 * td_rng_normal (&rng);
    double x [16], c [16];
    for (int i = 0; i < in; i++)
        x [i] = td_rng_normal (&rng);
    for (int k = 0; k < out; k++)
        c [k] = td_rng_normal (&rng);
    double *cache = calloc (td_mlp_cache_size (net), sizeof (double));
    double *grad = calloc (net->n_params, sizeof (double));
    double *scratch = calloc (2 * TD_MLP_MAX_WIDTH, sizeof (double));
    assert_non_null (cache);
    assert_non_null (grad);
    assert_non_null (scratch);
    double y [16];
    td_mlp_changed (net);
    td_mlp_forward (net, x, 1, y, cache);
    td_mlp_backward (net, cache, 1, c, grad, scratch);
    double worst = 0;
    for (size_t i = 0; i < net->n_params; i++) {
        double keep = net->params [i], h = 1e-6;
        net->params [i] = keep + h;
        double up = s_loss (net, x, c);
        net->params [i] = keep - h;
        double down = s_loss (net, x, c);
        net->params [i] = keep;
        double fd = (up - down) / (2 * h);
        double rel = fabs (fd - grad [i]) / (1e-7 + fabs (fd) + fabs (grad [i]));
        if (rel > worst)
            worst = rel;
    }
    assert_true (worst < 1e-5);
    //  backward accumulates: a second call doubles the gradient
    double g0 = grad [0];
    td_mlp_backward (net, cache, 1, c, grad, scratch);
    assert_true (fabs (grad [0] - 2 * g0) < 1e-12 * (1 + fabs (g0)));
    free (cache);
    free (grad);
    free (scratch);
    td_mlp_destroy (&net);
    assert_null (net);
}

static void
test_gradients (void **state)
{
    (void) state;
    const int h2 [] = { 8, 7 }, h1 [] = { 5 }, h3 [] = { 6, 4, 5 };
    s_check (4, h2, 2, 2, 1);           //  CartPole-shaped policy
    s_check (3, h1, 1, 1, 2);           //  Pendulum-shaped value
    s_check (6, h3, 3, 3, 3);           //  deeper
    s_check (2, NULL, 0, 3, 4);         //  linear
}

//  A batch gives every row exactly what it gets alone, and its gradient is exactly the sum of
//  the rows' gradients taken one after the other (the kernels fix the summation order).
static void
test_batch_equals_rows (void **state)
{
    (void) state;
    td_rng_t rng;
    td_rng_seed (&rng, 11);
    const int h [] = { 9, 7 };
    td_mlp_t *net = td_mlp_new (5, h, 2, 3);
    assert_non_null (net);
    td_mlp_init_orthogonal (net, &rng, sqrt (2.0), 1.0);
    enum { N = 37 };
    size_t cs = td_mlp_cache_size (net);
    double x [N * 5], d [N * 3], out [N * 3], one [3];
    for (int i = 0; i < N * 5; i++)
        x [i] = td_rng_normal (&rng);
    for (int i = 0; i < N * 3; i++)
        d [i] = td_rng_normal (&rng);
    double *cache = calloc (N * cs, sizeof (double)), *c1 = calloc (cs, sizeof (double));
    double *gb = calloc (net->n_params, sizeof (double)), *gr = calloc (net->n_params, sizeof (double));
    double *scratch = calloc (2 * N * TD_MLP_MAX_WIDTH, sizeof (double));
    assert_true (cache && c1 && gb && gr && scratch);
    td_mlp_forward (net, x, N, out, cache);
    td_mlp_backward (net, cache, N, d, gb, scratch);
    double nocache [N * 3];
    td_mlp_forward (net, x, N, nocache, NULL);          //  the row-by-row path without a cache
    assert_memory_equal (nocache, out, sizeof nocache);
    for (int r = 0; r < N; r++) {
        td_mlp_forward (net, x + r * 5, 1, one, c1);
        assert_memory_equal (one, out + r * 3, sizeof one);
        td_mlp_backward (net, c1, 1, d + r * 3, gr, scratch);
    }
    assert_memory_equal (gb, gr, sizeof (double) * net->n_params);
    free (cache);
    free (c1);
    free (gb);
    free (gr);
    free (scratch);
    td_mlp_destroy (&net);
}

static void
test_orthogonal (void **state)
{
    (void) state;
    td_rng_t rng;
    td_rng_seed (&rng, 7);
    const int h [] = { 16 };
    td_mlp_t *net = td_mlp_new (4, h, 1, 3);
    assert_non_null (net);
    td_mlp_init_orthogonal (net, &rng, 2.0, 0.5);
    //  first layer 16×4: columns orthogonal with norm 2 (gain)
    const double *w = net->params;
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 4; b++) {
            double dot = 0;
            for (int r = 0; r < 16; r++)
                dot += w [r * 4 + a] * w [r * 4 + b];
            assert_true (fabs (dot - (a == b? 4.0: 0.0)) < 1e-9);
        }
    //  biases zero; the last layer 3×16: rows orthogonal with norm 0.5
    for (int i = 0; i < 16; i++)
        assert_true (net->params [64 + i] == 0.0);
    const double *w2 = net->params + 64 + 16;
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++) {
            double dot = 0;
            for (int col = 0; col < 16; col++)
                dot += w2 [a * 16 + col] * w2 [b * 16 + col];
            assert_true (fabs (dot - (a == b? 0.25: 0.0)) < 1e-9);
        }
    td_mlp_destroy (&net);
}

static void
test_bad_shapes (void **state)
{
    (void) state;
    const int zero [] = { 0 }, big [] = { TD_MLP_MAX_WIDTH + 1 }, many [] = { 4, 4, 4, 4, 4 };
    assert_null (td_mlp_new (0, NULL, 0, 1));
    assert_null (td_mlp_new (4, zero, 1, 2));
    assert_null (td_mlp_new (4, big, 1, 2));
    assert_null (td_mlp_new (4, many, 5, 2));
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_gradients),
        cmocka_unit_test (test_batch_equals_rows),
        cmocka_unit_test (test_orthogonal),
        cmocka_unit_test (test_bad_shapes),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
