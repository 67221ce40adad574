/* SPDX-License-Identifier: MIT */

/* The device file parser (kneed.device(5)): no crash, no leak, nothing out of its bounds. */

#include "device-db.h"
#include "fuzz.h"
#include "zone.h"

static void check_device_info(const DeviceInfo *info)
{
        FUZZ_CHECK(info->name && info->plugin);
        FUZZ_CHECK(info->n_matches >= 1);
        for (size_t i = 0; i < info->n_matches; i++)
                FUZZ_CHECK(
                        info->matches[i].string &&
                        (info->matches[i].type != DEVICE_MATCH_VIRTUAL || info->matches[i].model));
        FUZZ_CHECK(info->levels >= 1 && info->levels <= DEVICE_LEVELS_MAX);
        FUZZ_CHECK(info->max_heat_celsius == 0 ||
                   (info->max_heat_celsius >= DEVICE_HEAT_MIN_CELSIUS &&
                    info->max_heat_celsius <= DEVICE_HEAT_MAX_CELSIUS));
        /* Zones come from DESIGN.md's list, and the kneecap is never one a device offers. */
        for (char **z = info->zones; z && *z; z++)
                FUZZ_CHECK(zone_from_string(*z) >= 0 && zone_from_string(*z) != ZONE_KNEECAP);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        DeviceInfo *info = NULL;
        char *error = NULL;
        int r;

        r = device_info_parse_buffer("fuzz.device", (const char *) data, size, &info, &error);
        if (r >= 0)
                check_device_info(info);
        else
                FUZZ_CHECK(fuzz_error_names_file(r, error, "fuzz.device"));
        free(error);
        device_info_free(info);
        return 0;
}
