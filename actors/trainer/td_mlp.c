/*  td_mlp — forward and backward passes of a tanh MLP (see td_mlp.h). */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "td_mlp.h"

td_mlp_t *
td_mlp_new (int in, const int *hidden, int n_hidden, int out)
{
    if (in < 1 || out < 1 || n_hidden < 0 || n_hidden > TD_MLP_MAX_LAYERS - 1
    ||  in > TD_MLP_MAX_WIDTH || out > TD_MLP_MAX_WIDTH)
        return NULL;
    td_mlp_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->n_layers = n_hidden + 1;
    self->sizes [0] = in;
    for (int i = 0; i < n_hidden; i++) {
        if (hidden [i] < 1 || hidden [i] > TD_MLP_MAX_WIDTH) {
            free (self);
            return NULL;
        }
        self->sizes [i + 1] = hidden [i];
    }
    self->sizes [self->n_layers] = out;
    for (int l = 0; l < self->n_layers; l++)
        self->n_params += (size_t) self->sizes [l + 1] * ((size_t) self->sizes [l] + 1);
    self->params = calloc (self->n_params, sizeof (double));
    if (!self->params) {
        free (self);
        return NULL;
    }
    return self;
}

void
td_mlp_destroy (td_mlp_t **self_p)
{
    if (self_p && *self_p) {
        free ((*self_p)->params);
        free (*self_p);
        *self_p = NULL;
    }
}

//  Fill w (rows × cols) with a random matrix whose rows (rows <= cols) or columns are
//  orthonormal, by Gram-Schmidt over Gaussian vectors, then scale by gain.
static void
s_orthogonal (double *w, int rows, int cols, td_rng_t *rng, double gain)
{
    bool by_rows = rows <= cols;
    int n = by_rows? rows: cols;         //  vectors to orthonormalise
    int len = by_rows? cols: rows;       //  their length
    double v [TD_MLP_MAX_WIDTH];
    //  vector k is stored in w: row k (stride 1) or column k (stride cols)
    for (int k = 0; k < n; k++) {
        for (int attempt = 0; attempt < 8; attempt++) {
            for (int i = 0; i < len; i++)
                v [i] = td_rng_normal (rng);
            for (int j = 0; j < k; j++) {
                double dot = 0;
                for (int i = 0; i < len; i++)
                    dot += v [i] * (by_rows? w [j * cols + i]: w [i * cols + j]);
                for (int i = 0; i < len; i++)
                    v [i] -= dot * (by_rows? w [j * cols + i]: w [i * cols + j]);
            }
            double norm = 0;
            for (int i = 0; i < len; i++)
                norm += v [i] * v [i];
            norm = sqrt (norm);
            if (norm > 1e-8) {
                for (int i = 0; i < len; i++) {
                    if (by_rows)
                        w [k * cols + i] = v [i] / norm;
                    else
                        w [i * cols + k] = v [i] / norm;
                }
                break;
            }
        }
    }
    for (int i = 0; i < rows * cols; i++)
        w [i] *= gain;
}

void
td_mlp_init_orthogonal (td_mlp_t *self, td_rng_t *rng, double hidden_gain, double out_gain)
{
    double *p = self->params;
    for (int l = 0; l < self->n_layers; l++) {
        int in = self->sizes [l], out = self->sizes [l + 1];
        s_orthogonal (p, out, in, rng, l == self->n_layers - 1? out_gain: hidden_gain);
        p += (size_t) out * (size_t) in;
        memset (p, 0, sizeof (double) * (size_t) out);
        p += out;
    }
}

//  Σ a[i]·b[i] in four interleaved partial sums: the compiler turns it into vector code (a
//  plain running sum is a serial dependency it may not reorder), and the order is fixed, so
//  results stay deterministic.
static inline double
s_dot (const double *a, const double *b, int n)
{
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += a [i] * b [i];
        s1 += a [i + 1] * b [i + 1];
        s2 += a [i + 2] * b [i + 2];
        s3 += a [i + 3] * b [i + 3];
    }
    for (; i < n; i++)
        s0 += a [i] * b [i];
    return (s0 + s1) + (s2 + s3);
}

size_t
td_mlp_cache_size (const td_mlp_t *self)
{
    size_t n = 0;
    for (int l = 0; l <= self->n_layers; l++)
        n += (size_t) self->sizes [l];
    return n;
}

void
td_mlp_forward (const td_mlp_t *self, const double *x, double *out, double *cache)
{
    double a [2][TD_MLP_MAX_WIDTH];
    const double *cur = x;
    const double *p = self->params;
    size_t off = 0;
    if (cache) {
        memcpy (cache, x, sizeof (double) * (size_t) self->sizes [0]);
        off = (size_t) self->sizes [0];
    }
    for (int l = 0; l < self->n_layers; l++) {
        int in = self->sizes [l], n = self->sizes [l + 1];
        bool last = l == self->n_layers - 1;
        double *next = last? out: a [l & 1];
        const double *b = p + (size_t) n * (size_t) in;
        for (int o = 0; o < n; o++) {
            const double *row = p + (size_t) o * (size_t) in;
            double s = b [o] + s_dot (row, cur, in);
            next [o] = last? s: tanh (s);
        }
        if (cache) {
            memcpy (cache + off, next, sizeof (double) * (size_t) n);
            off += (size_t) n;
        }
        p = b + n;
        cur = next;
    }
}

//  gw[o][i] += d[o]·x[i]; gb[o] += d[o] (restrict: the compiler may vectorise the rows).
static void
s_accumulate (double *restrict gw, double *restrict gb, const double *restrict d,
              const double *restrict x, int n, int in)
{
    for (int o = 0; o < n; o++) {
        double *restrict grow = gw + (size_t) o * (size_t) in;
        double dv = d [o];
        for (int i = 0; i < in; i++)
            grow [i] += dv * x [i];
        gb [o] += dv;
    }
}

//  prev[i] = (Σ_o w[o][i]·d[o]) · (1 − x[i]²): the delta of the layer below, through tanh.
static void
s_back (const double *restrict w, const double *restrict d, const double *restrict x,
        double *restrict prev, int n, int in)
{
    for (int i = 0; i < in; i++)
        prev [i] = 0;
    for (int o = 0; o < n; o++) {
        const double *restrict row = w + (size_t) o * (size_t) in;
        double dv = d [o];
        for (int i = 0; i < in; i++)
            prev [i] += row [i] * dv;
    }
    for (int i = 0; i < in; i++)
        prev [i] *= 1.0 - x [i] * x [i];
}

void
td_mlp_backward (const td_mlp_t *self, const double *cache, const double *dout, double *grad)
{
    //  offsets of each layer's activations in the cache and of its parameters
    size_t act_off [TD_MLP_MAX_LAYERS + 1], par_off [TD_MLP_MAX_LAYERS];
    size_t a = 0, q = 0;
    for (int l = 0; l <= self->n_layers; l++) {
        act_off [l] = a;
        a += (size_t) self->sizes [l];
        if (l < self->n_layers) {
            par_off [l] = q;
            q += (size_t) self->sizes [l + 1] * ((size_t) self->sizes [l] + 1);
        }
    }
    double delta [2][TD_MLP_MAX_WIDTH];
    int cur = 0;
    memcpy (delta [cur], dout, sizeof (double) * (size_t) self->sizes [self->n_layers]);
    for (int l = self->n_layers - 1; l >= 0; l--) {
        int in = self->sizes [l], n = self->sizes [l + 1];
        const double *x = cache + act_off [l];
        const double *w = self->params + par_off [l];
        double *gw = grad + par_off [l];
        s_accumulate (gw, gw + (size_t) n * (size_t) in, delta [cur], x, n, in);
        if (l > 0) {
            //  back through the weights, then through tanh (x holds tanh outputs)
            s_back (w, delta [cur], x, delta [cur ^ 1], n, in);
            cur ^= 1;
        }
    }
}
