/* SPDX-License-Identifier: MIT */

#include <errno.h>

#include "macro.h"
#include "pattern.h"

static const char *const pattern_names[KNEED_PATTERN_MAX] = {
        [KNEED_PATTERN_CONTINUOUS] = "continuous",
        [KNEED_PATTERN_PULSE] = "pulse",
        [KNEED_PATTERN_WAVE] = "wave",
        [KNEED_PATTERN_PERCUSSION] = "percussion",
        [KNEED_PATTERN_KNEAD] = "knead",
        [KNEED_PATTERN_SWEEP] = "sweep",
};

const char *pattern_to_string(KneedPattern p)
{
        return (unsigned) p < KNEED_PATTERN_MAX ? pattern_names[p] : NULL;
}

int pattern_from_string(const char *s)
{
        for (int i = 0; i < KNEED_PATTERN_MAX; i++)
                if (streq(s, pattern_names[i]))
                        return i;
        return -EINVAL;
}
