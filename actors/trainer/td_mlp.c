/*  td_mlp — forward and backward passes of a tanh MLP (see td_mlp.h): the float32 passes on
 *  padded copies of the weights through td_mlp_kernels, and the double reference. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "td_mlp.h"
#include "td_mlp_kernels.h"

#define S_ALIGN 64

static int
s_pad (int n)
{
    return (n + TD_MLP_PAD - 1) / TD_MLP_PAD * TD_MLP_PAD;
}

float *
td_mlp_alloc (size_t floats)
{
    size_t bytes = (floats * sizeof (float) + S_ALIGN - 1) / S_ALIGN * S_ALIGN;
    if (bytes == 0)
        bytes = S_ALIGN;
    float *p = aligned_alloc (S_ALIGN, bytes);
    if (p)
        memset (p, 0, bytes);
    return p;
}

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
    for (int l = 0; l <= self->n_layers; l++)
        self->padded [l] = s_pad (self->sizes [l]);
    //  float layout: every block a multiple of TD_MLP_PAD floats, so each stays aligned
    size_t f = 0, g = 0;
    for (int l = 0; l < self->n_layers; l++) {
        size_t in_l = (size_t) self->sizes [l], out_l = (size_t) self->sizes [l + 1];
        size_t P_in = (size_t) self->padded [l], P_out = (size_t) self->padded [l + 1];
        self->n_params += out_l * (in_l + 1);
        self->w_off [l] = f;
        f += (size_t) s_pad ((int) (out_l * P_in));
        self->wt_off [l] = f;
        f += in_l * P_out;
        self->b_off [l] = f;
        f += P_out;
        self->gw_off [l] = g;
        g += (size_t) s_pad ((int) (out_l * P_in));
        self->gb_off [l] = g;
        g += P_out;
    }
    self->params = calloc (self->n_params, sizeof (double));
    self->f32 = td_mlp_alloc (f);
    self->g32 = td_mlp_alloc (g);
    if (!self->params || !self->f32 || !self->g32) {
        td_mlp_destroy (&self);
        return NULL;
    }
    return self;
}

void
td_mlp_destroy (td_mlp_t **self_p)
{
    if (self_p && *self_p) {
        free ((*self_p)->params);
        free ((*self_p)->f32);
        free ((*self_p)->g32);
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
    self->f32_valid = false;
}

void
td_mlp_changed (td_mlp_t *self)
{
    self->f32_valid = false;
}

//  Σ v [0..n-1]
static size_t
s_sum (const int *v, int n)
{
    size_t sum = 0;
    for (int i = 0; i < n; i++)
        sum += (size_t) v [i];
    return sum;
}

size_t
td_mlp_cache_size (const td_mlp_t *self)
{
    return s_sum (self->padded, self->n_layers + 1);
}

size_t
td_mlp_scratch_size (const td_mlp_t *self)
{
    size_t widest = 0;
    for (int l = 0; l <= self->n_layers; l++)
        if ((size_t) self->padded [l] > widest)
            widest = (size_t) self->padded [l];
    return 2 * widest;
}

//  The float copies of the parameters: w as it is (rows padded), its transpose for the forward
//  pass, the biases; padding stays zero (the arrays were zeroed when made).
static void
s_refresh (td_mlp_t *self)
{
    const double *p = self->params;
    for (int l = 0; l < self->n_layers; l++) {
        int in = self->sizes [l], out = self->sizes [l + 1];
        size_t P_in = (size_t) self->padded [l], P_out = (size_t) self->padded [l + 1];
        float *w = self->f32 + self->w_off [l], *wt = self->f32 + self->wt_off [l],
              *b = self->f32 + self->b_off [l];
        for (int o = 0; o < out; o++)
            for (int i = 0; i < in; i++) {
                float v = (float) p [(size_t) o * (size_t) in + (size_t) i];
                w [(size_t) o * P_in + (size_t) i] = v;
                wt [(size_t) i * P_out + (size_t) o] = v;
            }
        p += (size_t) out * (size_t) in;
        for (int o = 0; o < out; o++)
            b [o] = (float) p [o];
        p += out;
    }
    self->f32_valid = true;
}

//  The forward pass of n rows whose inputs are already in act [0] (n × padded [0]): layer l's
//  outputs go to act [l + 1]; act [n_layers] then holds the outputs.
static void
s_forward (td_mlp_t *self, float *const *act, int n)
{
    const td_mlp_kernels_t *k = td_mlp_kernels ();
    for (int l = 0; l < self->n_layers; l++)
        k->affine (act [l], self->padded [l], n, self->sizes [l], self->f32 + self->wt_off [l],
                   self->f32 + self->b_off [l], act [l + 1], self->padded [l + 1],
                   l < self->n_layers - 1);
}

//  Inputs in (n × in doubles) into a (n × padded floats), padding zero.
static void
s_stage (const double *in, int n, int width, int padded, float *a)
{
    for (int r = 0; r < n; r++) {
        float *row = a + (size_t) r * (size_t) padded;
        const double *src = in + (size_t) r * (size_t) width;
        for (int i = 0; i < width; i++)
            row [i] = (float) src [i];
        for (int i = width; i < padded; i++)
            row [i] = 0;
    }
}

static void
s_unstage (const float *a, int n, int width, int padded, double *out)
{
    for (int r = 0; r < n; r++)
        for (int i = 0; i < width; i++)
            out [(size_t) r * (size_t) width + (size_t) i] = a [(size_t) r * (size_t) padded + (size_t) i];
}

#define S_LOCAL_ROWS 8

void
td_mlp_forward (td_mlp_t *self, const double *x, int n, double *out, float *cache)
{
    if (!self->f32_valid)
        s_refresh (self);
    int L = self->n_layers, in = self->sizes [0], o = self->sizes [L];
    float *act [TD_MLP_MAX_LAYERS + 1];
    if (cache) {
        size_t at = 0;
        for (int l = 0; l <= L; l++) {
            act [l] = cache + at;
            at += (size_t) n * (size_t) self->padded [l];
        }
        s_stage (x, n, in, self->padded [0], act [0]);
        s_forward (self, act, n);
        s_unstage (act [L], n, o, self->padded [L], out);
        return;
    }
    //  without a cache the activations live on the stack, a few rows at a time (each row is
    //  computed the same whatever rows go with it)
    _Alignas (64) float local [2][S_LOCAL_ROWS * TD_MLP_MAX_WIDTH];
    _Alignas (64) float input [S_LOCAL_ROWS * TD_MLP_MAX_WIDTH];
    for (int r0 = 0; r0 < n; r0 += S_LOCAL_ROWS) {
        int rows = n - r0 < S_LOCAL_ROWS? n - r0: S_LOCAL_ROWS;
        act [0] = input;
        for (int l = 1; l <= L; l++)
            act [l] = local [(l - 1) & 1];
        s_stage (x + (size_t) r0 * (size_t) in, rows, in, self->padded [0], input);
        s_forward (self, act, rows);
        s_unstage (act [L], rows, o, self->padded [L], out + (size_t) r0 * (size_t) o);
    }
}

void
td_mlp_backward (td_mlp_t *self, const float *cache, int n, const double *dout, double *grad,
                 float *scratch)
{
    const td_mlp_kernels_t *k = td_mlp_kernels ();
    int L = self->n_layers;
    const float *act [TD_MLP_MAX_LAYERS + 1];
    size_t at = 0;
    for (int l = 0; l <= L; l++) {
        act [l] = cache + at;
        at += (size_t) n * (size_t) self->padded [l];
    }
    size_t half = td_mlp_scratch_size (self) / 2 * (size_t) n;
    float *delta [2] = { scratch, scratch + half };
    int cur = 0;
    s_stage (dout, n, self->sizes [L], self->padded [L], delta [0]);
    double *g = grad;
    size_t par_off [TD_MLP_MAX_LAYERS];
    for (int l = 0; l < L; l++) {
        par_off [l] = (size_t) (g - grad);
        g += (size_t) self->sizes [l + 1] * ((size_t) self->sizes [l] + 1);
    }
    for (int l = L - 1; l >= 0; l--) {
        int in = self->sizes [l], out = self->sizes [l + 1];
        int P_in = self->padded [l], P_out = self->padded [l + 1];
        float *gw = self->g32 + self->gw_off [l], *gb = self->g32 + self->gb_off [l];
        k->grad (delta [cur], P_out, out, act [l], P_in, n, gw, gb);
        double *dw = grad + par_off [l], *db = dw + (size_t) out * (size_t) in;
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++)
                dw [(size_t) o * (size_t) in + (size_t) i] += gw [(size_t) o * (size_t) P_in + (size_t) i];
            db [o] += gb [o];
        }
        if (l > 0) {
            k->back (delta [cur], P_out, out, self->f32 + self->w_off [l], act [l], P_in, n,
                     delta [cur ^ 1]);
            cur ^= 1;
        }
    }
}

//  --------------------------------------------------------------------------
//  The double-precision reference, one sample, plain loops

size_t
td_mlp_ref_cache_size (const td_mlp_t *self)
{
    return s_sum (self->sizes, self->n_layers + 1);
}

void
td_mlp_forward_ref (const td_mlp_t *self, const double *x, double *out, double *cache)
{
    const double *p = self->params;
    double *cur = cache;
    memcpy (cur, x, sizeof (double) * (size_t) self->sizes [0]);
    for (int l = 0; l < self->n_layers; l++) {
        int in = self->sizes [l], o = self->sizes [l + 1];
        const double *b = p + (size_t) o * (size_t) in;
        double *next = cur + in;
        for (int j = 0; j < o; j++) {
            double s = b [j];
            for (int i = 0; i < in; i++)
                s += p [(size_t) j * (size_t) in + (size_t) i] * cur [i];
            next [j] = l < self->n_layers - 1? tanh (s): s;
        }
        p = b + o;
        cur = next;
    }
    memcpy (out, cur, sizeof (double) * (size_t) self->sizes [self->n_layers]);
}

void
td_mlp_backward_ref (const td_mlp_t *self, const double *cache, const double *dout, double *grad)
{
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
    double delta [TD_MLP_MAX_WIDTH], prev [TD_MLP_MAX_WIDTH];
    memcpy (delta, dout, sizeof (double) * (size_t) self->sizes [self->n_layers]);
    for (int l = self->n_layers - 1; l >= 0; l--) {
        int in = self->sizes [l], o = self->sizes [l + 1];
        const double *x = cache + act_off [l], *w = self->params + par_off [l];
        double *gw = grad + par_off [l], *gb = gw + (size_t) o * (size_t) in;
        for (int j = 0; j < o; j++) {
            for (int i = 0; i < in; i++)
                gw [(size_t) j * (size_t) in + (size_t) i] += delta [j] * x [i];
            gb [j] += delta [j];
        }
        if (l > 0) {
            for (int i = 0; i < in; i++) {
                double s = 0;
                for (int j = 0; j < o; j++)
                    s += delta [j] * w [(size_t) j * (size_t) in + (size_t) i];
                prev [i] = s * (1.0 - x [i] * x [i]);
            }
            memcpy (delta, prev, sizeof (double) * (size_t) in);
        }
    }
}
