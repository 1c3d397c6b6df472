/*  td_mlp — a small multi-layer perceptron with analytic gradients, for PPO's policy and value.
 *
 *  tanh on every hidden layer, linear output. All weights and biases live in one contiguous
 *  array (layer by layer: weights out×in row-major, then biases), so Adam, gradient clipping
 *  and checkpoints treat the network as one vector. The forward pass writes every layer's
 *  activations into a caller-owned cache (td_mlp_cache_size doubles) that the backward pass
 *  reads, so many samples can be in flight without the network holding per-sample state.
 *  Gradients are checked against finite differences in tests/unit/test_trainer_mlp.c.
 */
#ifndef TD_MLP_H
#define TD_MLP_H

#include <stddef.h>
#include "td_rng.h"

#define TD_MLP_MAX_LAYERS 5         //  weight layers (so up to 4 hidden layers)
#define TD_MLP_MAX_WIDTH  512

typedef struct {
    int n_layers;                   //  weight layers
    int sizes [TD_MLP_MAX_LAYERS + 1];
    size_t n_params;
    double *params;                 //  owned
} td_mlp_t;

//  in → hidden[0..n_hidden-1] → out. NULL on bad sizes or no memory.
td_mlp_t *td_mlp_new (int in, const int *hidden, int n_hidden, int out);
void td_mlp_destroy (td_mlp_t **self_p);

//  Orthogonal initialisation (as PPO implementations use): each weight matrix a random
//  orthogonal matrix scaled by gain (hidden layers hidden_gain, the last layer out_gain),
//  biases 0.
void td_mlp_init_orthogonal (td_mlp_t *self, td_rng_t *rng, double hidden_gain, double out_gain);

//  Doubles the cache of one sample needs.
size_t td_mlp_cache_size (const td_mlp_t *self);

//  out = f(x); cache keeps the activations for td_mlp_backward (may be NULL when not needed).
void td_mlp_forward (const td_mlp_t *self, const double *x, double *out, double *cache);

//  grad += d(loss)/d(params) given d(loss)/d(out) of the sample whose cache is given.
void td_mlp_backward (const td_mlp_t *self, const double *cache, const double *dout,
                      double *grad);

#endif
