/*  td_mlp_kernels — the float32 kernels behind td_mlp's forward and backward passes (and the
 *  Adam step over the double parameters), and the choice of instruction set they run with.
 *
 *  The same source (td_mlp_kernels.inc) is compiled for the baseline CPU, for AVX2+FMA and for
 *  AVX-512; the best the CPU has is picked at run time. The two FMA paths compute bit-identical
 *  results (the same operations in the same order per element), so a run gives the same
 *  figures on any machine with AVX2; the baseline (CPUs without AVX2) rounds products
 *  separately and agrees to float rounding. td_mlp_set_isa lets tests and benchmarks run each
 *  path and compare them.
 *
 *  Layout contract (td_mlp.c keeps it): every vector dimension is padded to a multiple of
 *  TD_MLP_PAD floats with zeros, and every array is aligned to 64 bytes.
 */
#ifndef TD_MLP_KERNELS_H
#define TD_MLP_KERNELS_H

#include <stdbool.h>
#include <stddef.h>

#define TD_MLP_PAD 32

typedef struct {
    //  y (n × P_out) = b + x (n × in, row stride xs) · wt (in × P_out), tanh'd when act
    void (*affine) (const float *x, int xs, int n, int in, const float *wt, const float *b,
                    float *y, int P_out, bool act);
    //  gw (out × P_in) = dᵀ (over n rows of d, n × P_out) · x (n × P_in); gb (P_out) = Σ rows d
    void (*grad) (const float *d, int P_out, int out, const float *x, int P_in, int n,
                  float *gw, float *gb);
    //  prev (n × P_in) = (d (n × P_out; its first out columns) · w (out × P_in)) ∘ (1 − x²)
    void (*back) (const float *d, int P_out, int out, const float *w, const float *x, int P_in,
                  int n, float *prev);
    //  Adam over n doubles: m = b1·m + (1−b1)·g; v = b2·v + (1−b2)·g²;
    //  p −= lr_bc1 · m / (√v · inv_sqrt_bc2 + eps)
    void (*adam) (double *p, const double *g, double *m, double *v, size_t n, double b1,
                  double b2, double eps, double lr_bc1, double inv_sqrt_bc2);
} td_mlp_kernels_t;

//  The kernels in use: the best the CPU supports unless td_mlp_set_isa chose others.
const td_mlp_kernels_t *td_mlp_kernels (void);

//  Choose the kernels: "default" (baseline, any CPU), "avx2" (AVX2 and FMA), "avx512"
//  (AVX-512F), or NULL for the best the CPU supports. -1 (and nothing changes) when the name is unknown or the CPU lacks it. For tests
//  and benchmarks; the choice is process-wide.
int td_mlp_set_isa (const char *name);

//  The name of the kernels in use.
const char *td_mlp_isa (void);

#endif
