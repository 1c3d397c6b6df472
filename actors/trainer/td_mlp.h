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

#include <stdbool.h>
#include <stddef.h>
#include "td_rng.h"

#define TD_MLP_MAX_LAYERS 5         //  weight layers (so up to 4 hidden layers)
#define TD_MLP_MAX_WIDTH  512

typedef struct {
    int n_layers;                   //  weight layers
    int sizes [TD_MLP_MAX_LAYERS + 1];
    size_t n_params;
    double *params;                 //  owned
    double *wt;                     //  owned: the weights transposed (in×out), for the forward pass
    bool wt_valid;                  //  false after params changed (see td_mlp_changed)
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

//  Doubles the cache of one sample needs (a batch of n needs n times as many).
size_t td_mlp_cache_size (const td_mlp_t *self);

//  A batch of n samples, row-major: out (n × out) = f(x (n × in)); cache keeps the activations
//  for td_mlp_backward (may be NULL when not needed). Each row is computed in the same order
//  whatever n is, so a sample gets bit-identical outputs alone or in a batch.
void td_mlp_forward (td_mlp_t *self, const double *x, int n, double *out, double *cache);

//  grad += d(loss)/d(params) summed over the n samples whose cache is given, from d(loss)/d(out)
//  (n × out). scratch: 2 × n × TD_MLP_MAX_WIDTH doubles.
void td_mlp_backward (const td_mlp_t *self, const double *cache, int n, const double *dout,
                      double *grad, double *scratch);

#endif
