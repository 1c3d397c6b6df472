/*  td_rng — the trainer's deterministic random numbers.
 *
 *  A training run must give the same metrics for the same seed (issue 9), on any machine and
 *  whatever else the process does, so the trainer never uses rand() or a global generator: each
 *  run owns its generators, seeded from the run's seed. The generator is xoshiro256** seeded
 *  through splitmix64 (both public-domain algorithms by Blackman and Vigna, written here from
 *  their published descriptions); uniform doubles take the top 53 bits; normals use the
 *  Box-Muller transform without caching, so a draw consumes a fixed amount of the stream.
 */
#ifndef TD_RNG_H
#define TD_RNG_H

#include <stdint.h>

typedef struct {
    uint64_t s [4];
} td_rng_t;

//  Seed a generator; any seed (0 too) gives a valid, distinct stream.
void td_rng_seed (td_rng_t *rng, uint64_t seed);

//  The next 64 random bits.
uint64_t td_rng_next (td_rng_t *rng);

//  Uniform in [0, 1).
double td_rng_uniform (td_rng_t *rng);

//  Uniform in [lo, hi).
double td_rng_range (td_rng_t *rng, double lo, double hi);

//  Standard normal.
double td_rng_normal (td_rng_t *rng);

//  Uniform integer in [0, n), n >= 1, without modulo bias.
uint64_t td_rng_below (td_rng_t *rng, uint64_t n);

//  Shuffle indexes [0, n) in place (Fisher-Yates).
void td_rng_shuffle (td_rng_t *rng, int *idx, int n);

#endif
