/*  td_mlp — a small multi-layer perceptron with analytic gradients, for PPO's policy and value.
 *
 *  tanh on every hidden layer, linear output. The parameters of record are doubles in one
 *  contiguous array (layer by layer: weights out×in row-major, then biases), so Adam, gradient
 *  clipping and checkpoints treat the network as one vector. The passes run in float32 (as
 *  PyTorch does; the network is tiny and double buys nothing but half the vector lanes) on a
 *  float copy of the weights, padded and laid out for the kernels (td_mlp_kernels.h), refreshed
 *  after td_mlp_changed. The forward pass writes every layer's activations into a caller-owned
 *  cache that the backward pass reads, so many samples can be in flight without the network
 *  holding per-sample state.
 *
 *  A plain double-precision reference pass (one sample, _ref) is kept for the gradient checks:
 *  tests/unit/test_trainer_mlp.c checks it against finite differences, and the float32 passes
 *  against it.
 */
#ifndef TD_MLP_H
#define TD_MLP_H

#include <stdbool.h>
#include <stddef.h>
#include "td_rng.h"

#define TD_MLP_MAX_LAYERS 5         //  weight layers (so up to 4 hidden layers)
#define TD_MLP_MAX_WIDTH  512

typedef struct {
    int n_layers;                   //  weight layers
    int sizes [TD_MLP_MAX_LAYERS + 1];
    int padded [TD_MLP_MAX_LAYERS + 1];     //  sizes rounded up for the kernels
    size_t n_params;
    double *params;                 //  owned
    float *f32;                     //  owned: per layer w (out × P_in), wt (in × P_out), b (P_out)
    float *g32;                     //  owned: per layer the float gradient, gw (out × P_in), gb
    size_t w_off [TD_MLP_MAX_LAYERS], wt_off [TD_MLP_MAX_LAYERS], b_off [TD_MLP_MAX_LAYERS];
    size_t gw_off [TD_MLP_MAX_LAYERS], gb_off [TD_MLP_MAX_LAYERS];
    bool f32_valid;                 //  false after params changed (see td_mlp_changed)
} td_mlp_t;

//  in → hidden[0..n_hidden-1] → out. NULL on bad sizes or no memory.
td_mlp_t *td_mlp_new (int in, const int *hidden, int n_hidden, int out);
void td_mlp_destroy (td_mlp_t **self_p);

//  Orthogonal initialisation (as PPO implementations use): each weight matrix a random
//  orthogonal matrix scaled by gain (hidden layers hidden_gain, the last layer out_gain),
//  biases 0.
void td_mlp_init_orthogonal (td_mlp_t *self, td_rng_t *rng, double hidden_gain, double out_gain);

//  Tell the network its params were changed from outside (an optimiser step, a load).
void td_mlp_changed (td_mlp_t *self);

//  Floats the cache of one sample needs (a batch of n needs n times as many), and floats of
//  scratch td_mlp_backward needs per sample.
size_t td_mlp_cache_size (const td_mlp_t *self);
size_t td_mlp_scratch_size (const td_mlp_t *self);

//  A zeroed float array for caches and scratch, aligned for the kernels; free() it.
float *td_mlp_alloc (size_t floats);

//  A batch of n samples, row-major: out (n × out) = f(x (n × in)); cache (n ×
//  td_mlp_cache_size floats from td_mlp_alloc) keeps the activations for td_mlp_backward, or
//  NULL when not needed. Each row is computed in the same order whatever n is, so a sample
//  gets bit-identical outputs alone or in a batch.
void td_mlp_forward (td_mlp_t *self, const double *x, int n, double *out, float *cache);

//  grad += d(loss)/d(params) summed over the n samples whose cache is given (the sum taken in
//  float, then added), from d(loss)/d(out) (n × out). scratch: n × td_mlp_scratch_size floats
//  from td_mlp_alloc.
void td_mlp_backward (td_mlp_t *self, const float *cache, int n, const double *dout,
                      double *grad, float *scratch);

//  The double-precision reference of one sample: cache holds td_mlp_ref_cache_size doubles.
size_t td_mlp_ref_cache_size (const td_mlp_t *self);
void td_mlp_forward_ref (const td_mlp_t *self, const double *x, double *out, double *cache);
void td_mlp_backward_ref (const td_mlp_t *self, const double *cache, const double *dout,
                          double *grad);

#endif
