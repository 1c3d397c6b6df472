/*  test_trainer_mlp — the MLP's double reference gradients against central finite
 *  differences, the float32 passes of every kernel path (baseline, AVX2+FMA, AVX-512, whichever
 *  the CPU has) against that reference and each other, the float tanh, and orthogonal
 *  initialisation. A wrong backward pass would still train a little, which makes it the kind
 *  of bug only a gradient check finds. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include "trainer/td_mlp.h"
#include "trainer/td_mlp_kernels.h"

//  loss = Σ_k c_k · out_k for fixed random c: d(loss)/d(out) = c. The reference pass.
static double
s_loss (td_mlp_t *net, const double *x, const double *c)
{
    double out [16], cache [64];
    assert_true (td_mlp_ref_cache_size (net) <= 64);
    td_mlp_forward_ref (net, x, out, cache);
    double s = 0;
    for (int k = 0; k < net->sizes [net->n_layers]; k++)
        s += c [k] * out [k];
    return s;
}

//  A random network of the given shape, biases non-zero so their gradients matter.
static td_mlp_t *
s_net (int in, const int *hidden, int n_hidden, int out, uint64_t seed, td_rng_t *rng)
{
    td_rng_seed (rng, seed);
    td_mlp_t *net = td_mlp_new (in, hidden, n_hidden, out);
    assert_non_null (net);
    td_mlp_init_orthogonal (net, rng, sqrt (2.0), 1.0);
    for (size_t i = 0; i < net->n_params; i++)
        net->params [i] += 0.1 * td_rng_normal (rng);
    td_mlp_changed (net);
    return net;
}

//  The double reference against central finite differences.
static void
s_check (int in, const int *hidden, int n_hidden, int out, uint64_t seed)
{
    td_rng_t rng;
    td_mlp_t *net = s_net (in, hidden, n_hidden, out, seed, &rng);
    double x [16], c [16];
    for (int i = 0; i < in; i++)
        x [i] = td_rng_normal (&rng);
    for (int k = 0; k < out; k++)
        c [k] = td_rng_normal (&rng);
    double cache [64], y [16];
    double *grad = calloc (net->n_params, sizeof (double));
    assert_non_null (grad);
    td_mlp_forward_ref (net, x, y, cache);
    td_mlp_backward_ref (net, cache, c, grad);
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
    td_mlp_backward_ref (net, cache, c, grad);
    assert_true (fabs (grad [0] - 2 * g0) < 1e-12 * (1 + fabs (g0)));
    free (grad);
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

//  The float32 passes (whichever kernels run) against the double reference: outputs and the
//  gradient of a batch, for shapes with and without padding and row tails. A wrong index in
//  a kernel, padding that is not zero, or a tail row dropped shows up here.
static void
s_fast_vs_ref (int in, const int *hidden, int n_hidden, int out, int N, uint64_t seed)
{
    td_rng_t rng;
    td_mlp_t *net = s_net (in, hidden, n_hidden, out, seed, &rng);
    double *x = calloc ((size_t) N * (size_t) in, sizeof (double));
    double *d = calloc ((size_t) N * (size_t) out, sizeof (double));
    double *y = calloc ((size_t) N * (size_t) out, sizeof (double));
    double *gf = calloc (net->n_params, sizeof (double)), *gr = calloc (net->n_params, sizeof (double));
    double *rc = calloc (td_mlp_ref_cache_size (net), sizeof (double));
    float *cache = td_mlp_alloc ((size_t) N * td_mlp_cache_size (net));
    float *scratch = td_mlp_alloc ((size_t) N * td_mlp_scratch_size (net));
    assert_true (x && d && y && gf && gr && rc && cache && scratch);
    for (int i = 0; i < N * in; i++)
        x [i] = td_rng_normal (&rng);
    for (int i = 0; i < N * out; i++)
        d [i] = td_rng_normal (&rng) / N;
    td_mlp_forward (net, x, N, y, cache);
    td_mlp_backward (net, cache, N, d, gf, scratch);
    double yr [TD_MLP_MAX_WIDTH];
    for (int r = 0; r < N; r++) {
        td_mlp_forward_ref (net, x + (size_t) r * (size_t) in, yr, rc);
        for (int k = 0; k < out; k++)
            assert_true (fabs (y [(size_t) r * (size_t) out + (size_t) k] - yr [k])
                         < 2e-5 * (1.0 + fabs (yr [k])));
        td_mlp_backward_ref (net, rc, d + (size_t) r * (size_t) out, gr);
    }
    double scale = 0;
    for (size_t i = 0; i < net->n_params; i++)
        if (fabs (gr [i]) > scale)
            scale = fabs (gr [i]);
    assert_true (scale > 0);
    for (size_t i = 0; i < net->n_params; i++)
        assert_true (fabs (gf [i] - gr [i]) < 1e-4 * scale);
    free (x);
    free (d);
    free (y);
    free (gf);
    free (gr);
    free (rc);
    free (cache);
    free (scratch);
    td_mlp_destroy (&net);
}

static void
test_fast_matches_reference (void **state)
{
    (void) state;
    const int h64 [] = { 64, 64 }, h2 [] = { 9, 7 }, h3 [] = { 40, 33, 5 }, wide [] = { 300 };
    s_fast_vs_ref (4, h64, 2, 2, 256, 5);       //  the CartPole policy, a full minibatch
    s_fast_vs_ref (4, h64, 2, 1, 8, 6);         //  its value net, the rollout's 8 rows
    s_fast_vs_ref (5, h2, 2, 3, 37, 7);         //  odd sizes, a row tail
    s_fast_vs_ref (6, h3, 3, 3, 3, 8);          //  fewer rows than a block
    s_fast_vs_ref (3, wide, 1, 1, 5, 9);        //  a layer wider than one block of columns
    s_fast_vs_ref (2, NULL, 0, 3, 6, 10);       //  linear
}

//  The kernels of every instruction set this CPU has. The fused multiply-add ones (AVX2+FMA,
//  AVX-512) give bit-identical outputs and gradients, so a run gives the same figures on any
//  machine with AVX2; the baseline (no FMA: CPUs before AVX2) rounds differently but matches
//  them to float rounding. The baseline always runs here, so CI machines without AVX2 test
//  that path too; and each path against the double reference.
static void
test_isa_paths (void **state)
{
    (void) state;
    const char *isas [] = { "default", "avx2", "avx512" };
    td_rng_t rng;
    const int h [] = { 64, 37 };
    td_mlp_t *net = s_net (4, h, 2, 2, 21, &rng);
    enum { N = 45 };
    double x [N * 4], d [N * 2], y [3][N * 2], ync [N * 2];
    for (int i = 0; i < N * 4; i++)
        x [i] = 3 * td_rng_normal (&rng);
    for (int i = 0; i < N * 2; i++)
        d [i] = td_rng_normal (&rng);
    float *cache = td_mlp_alloc (N * td_mlp_cache_size (net));
    float *scratch = td_mlp_alloc (N * td_mlp_scratch_size (net));
    double *g [3];
    for (int k = 0; k < 3; k++)
        g [k] = calloc (net->n_params, sizeof (double));
    assert_true (cache && scratch && g [0] && g [1] && g [2]);
    bool ran [3] = { false, false, false };
    for (int k = 0; k < 3; k++) {
        if (td_mlp_set_isa (isas [k]) != 0) {
            assert_int_not_equal (k, 0);            //  the baseline is always there
            continue;
        }
        ran [k] = true;
        assert_string_equal (td_mlp_isa (), isas [k]);
        td_mlp_forward (net, x, N, y [k], cache);
        td_mlp_forward (net, x, N, ync, NULL);
        td_mlp_backward (net, cache, N, d, g [k], scratch);
        assert_memory_equal (y [k], ync, sizeof ync);
        const int h64 [] = { 64, 64 }, h2 [] = { 9, 7 };
        s_fast_vs_ref (4, h64, 2, 2, 256, 5);
        s_fast_vs_ref (5, h2, 2, 3, 37, 7);
        if (k > 0) {
            for (int i = 0; i < N * 2; i++)
                assert_true (fabs (y [k][i] - y [0][i]) < 1e-5 * (1.0 + fabs (y [0][i])));
            for (size_t i = 0; i < net->n_params; i++)
                assert_true (fabs (g [k][i] - g [0][i]) < 1e-4 * (1.0 + fabs (g [0][i])));
        }
    }
    if (ran [1] && ran [2]) {
        assert_memory_equal (y [1], y [2], sizeof y [1]);
        assert_memory_equal (g [1], g [2], sizeof (double) * net->n_params);
    }
    assert_int_equal (td_mlp_set_isa ("sse9"), -1);
    assert_int_equal (td_mlp_set_isa (NULL), 0);   //  back to the best this CPU has
    for (int k = 0; k < 3; k++)
        free (g [k]);
    free (cache);
    free (scratch);
    td_mlp_destroy (&net);
}

//  The float tanh of the kernels, through a 1-1-1 network whose output is tanh (x): within a
//  few float roundings of libm's over the whole range, exact signs, ±1 far out, NaN kept.
static void
test_tanh (void **state)
{
    (void) state;
    const int h [] = { 1 };
    td_mlp_t *net = td_mlp_new (1, h, 1, 1);
    assert_non_null (net);
    net->params [0] = 1;        //  w1
    net->params [1] = 0;        //  b1
    net->params [2] = 1;        //  w2
    net->params [3] = 0;        //  b2
    td_mlp_changed (net);
    double worst = 0;
    for (double x = -30; x <= 30; x += 0.0137) {
        double xf = (float) x, y;
        td_mlp_forward (net, &xf, 1, &y, NULL);
        double want = tanh (xf);
        double err = fabs (y - want) / (fabs (want) + 1e-30);
        if (err > worst)
            worst = err;
        assert_true (y == 0 || (y > 0) == (xf > 0));
        assert_true (fabs (y) <= 1.0);
    }
    assert_true (worst < 1e-6);
    const double tiny [] = { 1e-3, -2.5e-5, 1e-8, 0.0, 20.0, -1e30 };
    for (size_t i = 0; i < sizeof tiny / sizeof tiny [0]; i++) {
        double y;
        td_mlp_forward (net, &tiny [i], 1, &y, NULL);
        double want = tanh ((float) tiny [i]);
        assert_true (fabs (y - want) <= 1e-6 * fabs (want));
    }
    double nan_in = NAN, y;
    td_mlp_forward (net, &nan_in, 1, &y, NULL);
    assert_true (isnan (y));
    td_mlp_destroy (&net);
}

//  A batch gives every row exactly what it gets alone (with or without a cache), and its
//  gradient is the sum of the rows' gradients taken one after the other, to float rounding
//  (the batch sums in float before adding to the double gradient).
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
    float *cache = td_mlp_alloc (N * cs), *c1 = td_mlp_alloc (cs);
    float *scratch = td_mlp_alloc (N * td_mlp_scratch_size (net));
    double *gb = calloc (net->n_params, sizeof (double)), *gr = calloc (net->n_params, sizeof (double));
    assert_true (cache && c1 && gb && gr && scratch);
    td_mlp_forward (net, x, N, out, cache);
    td_mlp_backward (net, cache, N, d, gb, scratch);
    double nocache [N * 3];
    td_mlp_forward (net, x, N, nocache, NULL);          //  a few rows at a time, no cache
    assert_memory_equal (nocache, out, sizeof nocache);
    for (int r = 0; r < N; r++) {
        td_mlp_forward (net, x + r * 5, 1, one, c1);
        assert_memory_equal (one, out + r * 3, sizeof one);
        td_mlp_backward (net, c1, 1, d + r * 3, gr, scratch);
    }
    for (size_t i = 0; i < net->n_params; i++)
        assert_true (fabs (gb [i] - gr [i]) < 1e-5 * (1.0 + fabs (gr [i])));
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
        cmocka_unit_test (test_fast_matches_reference),
        cmocka_unit_test (test_isa_paths),
        cmocka_unit_test (test_tanh),
        cmocka_unit_test (test_batch_equals_rows),
        cmocka_unit_test (test_orthogonal),
        cmocka_unit_test (test_bad_shapes),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
