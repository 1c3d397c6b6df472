/*  bench_fsrs — scheduling throughput of the pure FSRS-6 function (td_fsrs), one core.
 *
 *  Why: every review, preview and due-queue decision goes through td_fsrs_review; the issue asks
 *  for its throughput against the reference figure of fsrs-rs (about 0.9 million card updates
 *  per second, the figure for fsrs-rs's criterion benchmarks, benches/benchmark.rs
 *  `next_states`/`calc_mem`). Two measures, each over a pool of 65536 cards with random
 *  histories (learning, review and relearning states, fuzz on, a seed per review):
 *    review       one td_fsrs_review per update (what POST /api/v1/reviews computes)
 *    next_states  the four outcomes of one card (what GET /cards/{id}/preview and fsrs-rs's
 *                 next_states compute), counted as 4 updates
 *  Usage: bench_fsrs [seconds per measure, default 2]. Prints the command and the figures.
 *  The end-to-end REST figures come from tools/bench/bench_fsrs.sh.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "srs/td_fsrs.h"

#define POOL 65536
#define REF_UPDATES_PER_S 900000.0

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t s_rng = 0x243F6A8885A308D3ULL;

static uint64_t
s_next (void)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return s_rng;
}

int
main (int argc, char **argv)
{
    double seconds = argc > 1? atof (argv [1]): 2.0;
    if (seconds <= 0 || seconds > 60) {
        fprintf (stderr, "usage: bench_fsrs [seconds 0..60]\n");
        return 2;
    }
    td_fsrs_params_t p;
    td_fsrs_params_default (&p);
    static td_fsrs_card_t cards [POOL];
    static int64_t when [POOL];
    const int64_t t0 = 1767225600000LL;             //  2026-01-01
    //  Random histories: 0..12 reviews each, at due time or off it.
    for (int i = 0; i < POOL; i++) {
        td_fsrs_card_new (&cards [i], t0);
        int64_t now = t0;
        int n = (int) (s_next () % 13);
        for (int k = 0; k < n; k++) {
            int64_t late = (int64_t) (s_next () % 3) * TD_FSRS_DAY_MS / 2;
            now = (cards [i].due > now? cards [i].due: now) + late;
            td_fsrs_fuzz_t fz = { .seed = s_next () };
            if (td_fsrs_review (&p, &cards [i], 1 + (int) (s_next () % 4), now, &fz, &cards [i]) != 0)
                return 1;
        }
        when [i] = (cards [i].due > now? cards [i].due: now) + (int64_t) (s_next () % 5) * 3600000;
    }
    printf ("$ %s %.1f\n", argv [0], seconds);

    //  review: one update per call; the result is folded into a checksum so nothing is elided
    double check = 0;
    long long updates = 0;
    double start = s_now (), end = start;
    while (end - start < seconds) {
        for (int i = 0; i < POOL; i++) {
            td_fsrs_card_t out;
            td_fsrs_fuzz_t fz = { .seed = (uint64_t) i * 0x9E3779B97F4A7C15ULL ^ (uint64_t) updates };
            if (td_fsrs_review (&p, &cards [i], 1 + (int) ((i + updates) & 3), when [i], &fz, &out) != 0)
                return 1;
            check += out.stability;
        }
        updates += POOL;
        end = s_now ();
    }
    double review_rate = updates / (end - start);

    //  next_states: the four outcomes of one card
    long long states = 0;
    start = s_now ();
    end = start;
    while (end - start < seconds) {
        for (int i = 0; i < POOL; i++) {
            td_fsrs_fuzz_t fz = { .seed = (uint64_t) i ^ (uint64_t) states };
            for (int r = 1; r <= 4; r++) {
                td_fsrs_card_t out;
                if (td_fsrs_review (&p, &cards [i], r, when [i], &fz, &out) != 0)
                    return 1;
                check += out.difficulty;
            }
        }
        states += POOL;
        end = s_now ();
    }
    double states_rate = states / (end - start);

    printf ("%-34s %14s %12s\n", "measure (one core)", "per second", "x reference");
    printf ("%-34s %14.0f %12.1f\n", "td_fsrs_review (card updates)", review_rate,
            review_rate / REF_UPDATES_PER_S);
    printf ("%-34s %14.0f %12.1f\n", "next_states (4 updates each)", states_rate,
            4 * states_rate / REF_UPDATES_PER_S);
    printf ("%-34s %14.0f %12s\n", "reference: fsrs-rs card updates", REF_UPDATES_PER_S, "1.0");
    printf ("# ns per update: %.1f (review), %.1f (next_states); checksum %.3g\n",
            1e9 / review_rate, 1e9 / (4 * states_rate), check);
    return 0;
}
