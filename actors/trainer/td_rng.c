/*  td_rng — xoshiro256** seeded by splitmix64 (see td_rng.h for why the trainer owns its RNG). */
#include <math.h>
#include "td_rng.h"

static uint64_t
s_splitmix (uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline uint64_t
s_rotl (uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void
td_rng_seed (td_rng_t *rng, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        rng->s [i] = s_splitmix (&x);
}

uint64_t
td_rng_next (td_rng_t *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = s_rotl (s [1] * 5, 7) * 9;
    uint64_t t = s [1] << 17;
    s [2] ^= s [0];
    s [3] ^= s [1];
    s [1] ^= s [2];
    s [0] ^= s [3];
    s [2] ^= t;
    s [3] = s_rotl (s [3], 45);
    return result;
}

double
td_rng_uniform (td_rng_t *rng)
{
    return (double) (td_rng_next (rng) >> 11) * 0x1.0p-53;
}

double
td_rng_range (td_rng_t *rng, double lo, double hi)
{
    return lo + (hi - lo) * td_rng_uniform (rng);
}

double
td_rng_normal (td_rng_t *rng)
{
    double u1 = 1.0 - td_rng_uniform (rng);         //  (0, 1]: log never sees 0
    double u2 = td_rng_uniform (rng);
    return sqrt (-2.0 * log (u1)) * cos (2.0 * M_PI * u2);
}

uint64_t
td_rng_below (td_rng_t *rng, uint64_t n)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;   //  reject the incomplete last block
    uint64_t x;
    do
        x = td_rng_next (rng);
    while (x >= limit);
    return x % n;
}

void
td_rng_shuffle (td_rng_t *rng, int *idx, int n)
{
    for (int i = n - 1; i > 0; i--) {
        int j = (int) td_rng_below (rng, (uint64_t) i + 1);
        int t = idx [i];
        idx [i] = idx [j];
        idx [j] = t;
    }
}
