/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The fixed zone vocabulary (DESIGN.md). Muscles above and below the knee that the seed
 * articles name, the soft tissue around the kneecap, and the kneecap itself, which exists only
 * so that it can be forbidden.
 */

#include <stdbool.h>

typedef enum Zone {
        ZONE_QUADRICEPS,
        ZONE_VASTUS_LATERALIS,
        ZONE_RECTUS_FEMORIS,
        ZONE_VASTUS_MEDIALIS,
        ZONE_HAMSTRINGS,
        ZONE_CALVES,
        ZONE_IT_BAND,
        ZONE_TFL_GLUTES,
        ZONE_ADDUCTORS,
        ZONE_PERIPATELLAR,
        ZONE_PATELLAR_TENDON,
        ZONE_KNEECAP,
        ZONE_MAX,
} Zone;

const char *zone_to_string(Zone z);
/* Returns the zone or -EINVAL. */
int zone_from_string(const char *s);
bool zone_name_is_valid(const char *s);
