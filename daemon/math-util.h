/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The little rounding kneed does, without libm: linking libm costs the daemon about 0.3 MiB of
 * resident memory (bench/suite) for four one-line functions. Exact for what kneed rounds:
 * intensities, levels and times, all non-negative and far below 2^52.
 */

#include <stdbool.h>
#include <stdint.h>

/* Like lround() for x >= 0 (halves away from zero); 0 for anything else, NaN included. */
static inline uint64_t round_nonneg(double x)
{
        uint64_t i;

        if (!(x > 0))
                return 0;
        i = (uint64_t) x;
        return x - (double) i >= 0.5 ? i + 1 : i;
}

/* Like floor() for x >= 0; 0 for anything else. */
static inline uint64_t floor_nonneg(double x)
{
        return x > 0 ? (uint64_t) x : 0;
}

/* Whether a finite x has no fractional part. Doubles of 2^53 and beyond all do. */
static inline bool double_is_whole(double x)
{
        if (x >= 9007199254740992.0 || x <= -9007199254740992.0)
                return true;
        return x == (double) (int64_t) x;
}
