/*  td_mlp — forward and backward passes of a tanh MLP (see td_mlp.h). */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
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
    self->wt = calloc (self->n_params, sizeof (double));
    if (!self->params || !self->wt) {
        free (self->params);
        free (self->wt);
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
        free ((*self_p)->wt);
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
    self->wt_valid = false;
}

void
td_mlp_changed (td_mlp_t *self)
{
    self->wt_valid = false;
}

size_t
td_mlp_cache_size (const td_mlp_t *self)
{
    size_t n = 0;
    for (int l = 0; l <= self->n_layers; l++)
        n += (size_t) self->sizes [l];
    return n;
}

//  Hot kernels are compiled twice, for AVX2 and for the baseline x86-64, and the loader picks
//  one for the CPU it runs on (GCC function multi-versioning). Floating-point contraction is
//  off under -std=c11, so both versions compute exactly the same numbers.
//  (no-trapping-math lets GCC evaluate both sides of the selects in s_tanh, which it needs to
//  vectorise it; it changes no value, only the assumption that an FP exception is observed.)
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#   define S_KERNEL __attribute__ ((target_clones ("avx2", "default")))
#   define S_NO_TRAPS __attribute__ ((optimize ("no-trapping-math")))
#else
#   define S_KERNEL
#   define S_NO_TRAPS
#endif

//  tanh over an array: 1 − 2 / (e^{2|x|} + 1) with the sign of x, through a branch-free exp of
//  our own (range reduction by ln 2, a degree-13 Taylor polynomial, the power of two built in
//  the exponent bits), so the loop is vector code; accurate to a few units in the last place.
S_KERNEL S_NO_TRAPS static void
s_tanh (double *restrict v, size_t n)
{
    const double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
    const double inv_ln2 = 1.44269504088896338700e+00;
    for (size_t k = 0; k < n; k++) {
        double x = v [k];
        double a = x < 0? -x: x;
        double z = a > 20.0? -40.0: -2.0 * a;       //  e^{-2|x|}, in (0, 1]
        //  round to nearest by adding 1.5·2^52 (|z / ln 2| < 58): the integer lands in the low
        //  bits of the sum, read back as an integer, so no call and no double-to-int conversion
        //  (which AVX2 lacks) keeps the loop from vectorising
        double shifted = z * inv_ln2 + 6755399441055744.0;
        double kf = shifted - 6755399441055744.0;
        int64_t ki;
        memcpy (&ki, &shifted, sizeof ki);
        ki -= INT64_C (0x4338000000000000);
        double r = (z - kf * ln2_hi) - kf * ln2_lo;  //  |r| <= ln2 / 2
        double p = 1.0 + r * (1.0 + r * (1.0 / 2 + r * (1.0 / 6 + r * (1.0 / 24 + r * (1.0 / 120
                 + r * (1.0 / 720 + r * (1.0 / 5040 + r * (1.0 / 40320 + r * (1.0 / 362880
                 + r * (1.0 / 3628800 + r * (1.0 / 39916800 + r * (1.0 / 479001600
                 + r * (1.0 / 6227020800.0)))))))))))));
        int64_t bits = (ki + 1023) << 52;
        double scale;
        memcpy (&scale, &bits, sizeof scale);
        double e = p * scale;
        double t = (1.0 - e) / (1.0 + e);
        v [k] = x < 0? -t: t;
    }
}

//  The three kernels below are written as long unit-stride "y += a·x" loops (never as running
//  sums), which the compiler turns into vector code; each output element is accumulated in a
//  fixed order, so results do not depend on the batch size or on the instruction set chosen.

//  y (n × out) = b + x (n × in) · wt (in × out)
S_KERNEL static void
s_affine (const double *restrict x, const double *restrict wt, const double *restrict b,
          double *restrict y, int n, int in, int out)
{
    for (int r = 0; r < n; r++) {
        double *restrict yr = y + (size_t) r * (size_t) out;
        const double *restrict xr = x + (size_t) r * (size_t) in;
        for (int o = 0; o < out; o++)
            yr [o] = b [o];
        for (int i = 0; i < in; i++) {
            const double xi = xr [i];
            const double *restrict wr = wt + (size_t) i * (size_t) out;
            for (int o = 0; o < out; o++)
                yr [o] += xi * wr [o];
        }
    }
}

//  gw (out × in) += dᵀ (out × n) · x (n × in);  gb (out) += Σ_rows d
S_KERNEL static void
s_accumulate (double *restrict gw, double *restrict gb, const double *restrict d,
              const double *restrict x, int n, int in, int out)
{
    for (int r = 0; r < n; r++) {
        const double *restrict dr = d + (size_t) r * (size_t) out;
        const double *restrict xr = x + (size_t) r * (size_t) in;
        for (int o = 0; o < out; o++) {
            double *restrict grow = gw + (size_t) o * (size_t) in;
            const double dv = dr [o];
            for (int i = 0; i < in; i++)
                grow [i] += dv * xr [i];
            gb [o] += dv;
        }
    }
}

//  prev (n × in) = (d (n × out) · w (out × in)) ∘ (1 − x²): the delta of the layer below,
//  through tanh (x holds that layer's tanh outputs)
S_KERNEL static void
s_back (const double *restrict w, const double *restrict d, const double *restrict x,
        double *restrict prev, int n, int in, int out)
{
    for (int r = 0; r < n; r++) {
        double *restrict pr = prev + (size_t) r * (size_t) in;
        const double *restrict dr = d + (size_t) r * (size_t) out;
        const double *restrict xr = x + (size_t) r * (size_t) in;
        for (int i = 0; i < in; i++)
            pr [i] = 0;
        for (int o = 0; o < out; o++) {
            const double dv = dr [o];
            const double *restrict row = w + (size_t) o * (size_t) in;
            for (int i = 0; i < in; i++)
                pr [i] += dv * row [i];
        }
        for (int i = 0; i < in; i++)
            pr [i] *= 1.0 - xr [i] * xr [i];
    }
}

//  Offsets of each layer's parameters and, for a batch of n, of its activations in the cache.
static void
s_offsets (const td_mlp_t *self, int n, size_t *act_off, size_t *par_off)
{
    size_t a = 0, q = 0;
    for (int l = 0; l <= self->n_layers; l++) {
        act_off [l] = a;
        a += (size_t) n * (size_t) self->sizes [l];
        if (l < self->n_layers) {
            par_off [l] = q;
            q += (size_t) self->sizes [l + 1] * ((size_t) self->sizes [l] + 1);
        }
    }
}

static void
s_transpose (td_mlp_t *self)
{
    size_t act_off [TD_MLP_MAX_LAYERS + 1], par_off [TD_MLP_MAX_LAYERS];
    s_offsets (self, 1, act_off, par_off);
    for (int l = 0; l < self->n_layers; l++) {
        int in = self->sizes [l], out = self->sizes [l + 1];
        const double *w = self->params + par_off [l];
        double *wt = self->wt + par_off [l];
        for (int o = 0; o < out; o++)
            for (int i = 0; i < in; i++)
                wt [(size_t) i * (size_t) out + (size_t) o] = w [(size_t) o * (size_t) in + (size_t) i];
        memcpy (wt + (size_t) out * (size_t) in, w + (size_t) out * (size_t) in,
                sizeof (double) * (size_t) out);        //  the biases, as they are
    }
    self->wt_valid = true;
}

void
td_mlp_forward (td_mlp_t *self, const double *x, int n, double *out, double *cache)
{
    if (!self->wt_valid)
        s_transpose (self);
    if (!cache && n > 8 && self->n_layers > 1) {
        //  without a cache the activations live on the stack: a large batch goes row by row
        for (int r = 0; r < n; r++)
            td_mlp_forward (self, x + (size_t) r * (size_t) self->sizes [0], 1,
                            out + (size_t) r * (size_t) self->sizes [self->n_layers], NULL);
        return;
    }
    size_t act_off [TD_MLP_MAX_LAYERS + 1], par_off [TD_MLP_MAX_LAYERS];
    s_offsets (self, n, act_off, par_off);
    double local [2 * 8 * TD_MLP_MAX_WIDTH];        //  two layers of up to 8 rows
    const double *cur = x;
    for (int l = 0; l < self->n_layers; l++) {
        int in = self->sizes [l], w = self->sizes [l + 1];
        bool last = l == self->n_layers - 1;
        double *next;
        if (last)
            next = out;
        else
        if (cache)
            next = cache + act_off [l + 1];
        else
            next = local + (size_t) (l & 1) * 8 * TD_MLP_MAX_WIDTH;
        const double *wt = self->wt + par_off [l];
        s_affine (cur, wt, wt + (size_t) w * (size_t) in, next, n, in, w);
        if (!last)
            s_tanh (next, (size_t) n * (size_t) w);
        cur = next;
    }
    if (cache) {
        memcpy (cache, x, sizeof (double) * (size_t) n * (size_t) self->sizes [0]);
        memcpy (cache + act_off [self->n_layers], out,
                sizeof (double) * (size_t) n * (size_t) self->sizes [self->n_layers]);
    }
}

void
td_mlp_backward (const td_mlp_t *self, const double *cache, int n, const double *dout,
                 double *grad, double *scratch)
{
    size_t act_off [TD_MLP_MAX_LAYERS + 1], par_off [TD_MLP_MAX_LAYERS];
    s_offsets (self, n, act_off, par_off);
    double *delta [2] = { scratch, scratch + (size_t) n * TD_MLP_MAX_WIDTH };
    int cur = 0;
    memcpy (delta [0], dout, sizeof (double) * (size_t) n * (size_t) self->sizes [self->n_layers]);
    for (int l = self->n_layers - 1; l >= 0; l--) {
        int in = self->sizes [l], out = self->sizes [l + 1];
        const double *x = cache + act_off [l];
        double *gw = grad + par_off [l];
        s_accumulate (gw, gw + (size_t) out * (size_t) in, delta [cur], x, n, in, out);
        if (l > 0) {
            s_back (self->params + par_off [l], delta [cur], x, delta [cur ^ 1], n, in, out);
            cur ^= 1;
        }
    }
}
