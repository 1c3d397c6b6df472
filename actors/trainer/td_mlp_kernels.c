/*  td_mlp_kernels — compiles td_mlp_kernels.inc once per instruction set (baseline, AVX2+FMA,
 *  AVX-512) and picks one at run time (see td_mlp_kernels.h). Written with GCC vector
 *  extensions, so every pass is the same source and any CPU can run the baseline; intrinsics
 *  only where vector extensions have no operator (fused multiply-add, double square root).
 */
#include <math.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "td_mlp_kernels.h"
#if defined(__x86_64__)
#   include <immintrin.h>
#endif

typedef float s_v4f __attribute__ ((vector_size (16)));
typedef int32_t s_v4i __attribute__ ((vector_size (16)));
typedef float s_v8f __attribute__ ((vector_size (32)));
typedef int32_t s_v8i __attribute__ ((vector_size (32)));
typedef double s_v2d __attribute__ ((vector_size (16)));
typedef double s_v4d __attribute__ ((vector_size (32)));
typedef double s_v8d __attribute__ ((vector_size (64)));
typedef float s_v16f __attribute__ ((vector_size (64)));
typedef int32_t s_v16i __attribute__ ((vector_size (64)));

//  a scalar in every lane (per pass: S_REP repeats its argument S_VW times); loads and stores
//  are aligned (td_mlp.c aligns every array to 64 bytes and every row to TD_MLP_PAD floats)
#define S_REP4(x)   x, x, x, x
#define S_REP8(x)   S_REP4 (x), S_REP4 (x)
#define S_REP16(x)  S_REP8 (x), S_REP8 (x)
#define S_REP2(x)   x, x
#define s_splat(x)  ((S_VF) { S_REP (x) })
#define s_splati(x) ((S_VI) { S_REP (x) })
#define s_load(p)   (*(const S_VF *) (const void *) (p))
#define s_store(p, v) (*(S_VF *) (void *) (p) = (v))
//  acc += a · b, fused (one rounding) where the pass has FMA (S_FMA (a, b, c) = a · b + c)
#define S_MAC(acc, a, b) ((acc) = S_FMA ((a), (b), (acc)))

//  expm1_neg and tanh: vectors in and out, always inlined into the kernels
#define S_INLINE __attribute__ ((always_inline)) static inline

//  the baseline: SSE2 on x86-64, whatever the target has elsewhere
#define S_NAME(x) s_base_##x
#define S_TARGET
#define S_VF s_v4f
#define S_VI s_v4i
#define S_VW 4
#define S_REP S_REP4
#define S_REPD S_REP2
#define S_VD s_v2d
#define S_FMA(a, b, c) ((a) * (b) + (c))
#if defined(__x86_64__)
#   define S_SQRTD(x) ((s_v2d) _mm_sqrt_pd ((__m128d) (x)))
#endif
#define S_BLK 8
#define S_RB 4
#include "td_mlp_kernels.inc"
#undef S_NAME
#undef S_TARGET
#undef S_VF
#undef S_VI
#undef S_VW
#undef S_REP
#undef S_REPD
#undef S_VD
#undef S_SQRTD
#undef S_FMA
#undef S_BLK
#undef S_RB

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#   define S_HAVE_AVX2 1
#   define S_NAME(x) s_avx2_##x
#   define S_TARGET __attribute__ ((target ("avx2,fma")))
#   define S_VF s_v8f
#   define S_VI s_v8i
#   define S_VW 8
#   define S_REP S_REP8
#   define S_REPD S_REP4
#   define S_VD s_v4d
#   define S_FMA(a, b, c) ((s_v8f) _mm256_fmadd_ps ((__m256) (a), (__m256) (b), (__m256) (c)))
#   define S_SQRTD(x) ((s_v4d) _mm256_sqrt_pd ((__m256d) (x)))
#   define S_BLK 16
#   define S_RB 4
#   include "td_mlp_kernels.inc"
#   undef S_NAME
#   undef S_TARGET
#   undef S_VF
#   undef S_VI
#   undef S_VW
#   undef S_REP
#   undef S_REPD
#   undef S_VD
#   undef S_SQRTD
#   undef S_FMA
#   undef S_BLK
#   undef S_RB
#   define S_NAME(x) s_avx512_##x
#   define S_TARGET __attribute__ ((target ("avx512f")))
#   define S_VF s_v16f
#   define S_VI s_v16i
#   define S_VW 16
#   define S_REP S_REP16
#   define S_REPD S_REP8
#   define S_VD s_v8d
#   define S_FMA(a, b, c) ((s_v16f) _mm512_fmadd_ps ((__m512) (a), (__m512) (b), (__m512) (c)))
#   define S_SQRTD(x) ((s_v8d) _mm512_sqrt_pd ((__m512d) (x)))
#   define S_BLK 32
#   define S_RB 8
#   include "td_mlp_kernels.inc"
#endif

static _Atomic (const td_mlp_kernels_t *) s_chosen;

static bool
s_cpu_has (const char *isa)
{
#ifdef S_HAVE_AVX2
    __builtin_cpu_init ();
    if (strcmp (isa, "avx2") == 0)
        return __builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma");
    if (strcmp (isa, "avx512f") == 0)
        return __builtin_cpu_supports ("avx512f");
#endif
    (void) isa;
    return false;
}

const td_mlp_kernels_t *
td_mlp_kernels (void)
{
    const td_mlp_kernels_t *k = atomic_load_explicit (&s_chosen, memory_order_acquire);
    if (!k) {
#ifdef S_HAVE_AVX2
        k = s_cpu_has ("avx512f")? &s_avx512_kernels: s_cpu_has ("avx2")? &s_avx2_kernels: &s_base_kernels;
#else
        k = &s_base_kernels;
#endif
        atomic_store_explicit (&s_chosen, k, memory_order_release);
    }
    return k;
}

int
td_mlp_set_isa (const char *name)
{
    const td_mlp_kernels_t *k = NULL;
    if (!name) {
        atomic_store_explicit (&s_chosen, NULL, memory_order_release);
        td_mlp_kernels ();
        return 0;
    }
    if (strcmp (name, "default") == 0)
        k = &s_base_kernels;
#ifdef S_HAVE_AVX2
    else
    if (strcmp (name, "avx2") == 0 && s_cpu_has ("avx2"))
        k = &s_avx2_kernels;
    else
    if (strcmp (name, "avx512") == 0 && s_cpu_has ("avx512f"))
        k = &s_avx512_kernels;
#endif
    if (!k)
        return -1;
    atomic_store_explicit (&s_chosen, k, memory_order_release);
    return 0;
}

const char *
td_mlp_isa (void)
{
    const td_mlp_kernels_t *k = td_mlp_kernels ();
#ifdef S_HAVE_AVX2
    if (k == &s_avx2_kernels)
        return "avx2";
    if (k == &s_avx512_kernels)
        return "avx512";
#endif
    return k == &s_base_kernels? "default": "?";
}
