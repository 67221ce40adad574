/* SPDX-License-Identifier: MIT */

#include <errno.h>

#include "macro.h"
#include "zone.h"

static const char *const zone_names[ZONE_MAX] = {
        [ZONE_QUADRICEPS] = "quadriceps",
        [ZONE_VASTUS_LATERALIS] = "vastus-lateralis",
        [ZONE_RECTUS_FEMORIS] = "rectus-femoris",
        [ZONE_VASTUS_MEDIALIS] = "vastus-medialis",
        [ZONE_HAMSTRINGS] = "hamstrings",
        [ZONE_CALVES] = "calves",
        [ZONE_IT_BAND] = "it-band",
        [ZONE_TFL_GLUTES] = "tfl-glutes",
        [ZONE_ADDUCTORS] = "adductors",
        [ZONE_PERIPATELLAR] = "peripatellar",
        [ZONE_PATELLAR_TENDON] = "patellar-tendon",
        [ZONE_KNEECAP] = "kneecap",
};

const char *zone_to_string(Zone z)
{
        return z < ZONE_MAX ? zone_names[z] : NULL;
}

int zone_from_string(const char *s)
{
        for (int i = 0; i < ZONE_MAX; i++)
                if (streq(s, zone_names[i]))
                        return i;
        return -EINVAL;
}

bool zone_name_is_valid(const char *s)
{
        return zone_from_string(s) >= 0;
}
