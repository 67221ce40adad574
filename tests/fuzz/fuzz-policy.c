/* SPDX-License-Identifier: MIT */

/* The policy file parser: no crash, no leak, and nothing accepted outside the hard bounds. */

#include <string.h>

#include "fuzz.h"
#include "policy.h"

static bool in_bounds(const char *key, double value)
{
        for (const PolicyBound *b = policy_bounds; b->key; b++)
                if (strcmp(b->key, key) == 0)
                        return (value >= b->min && value <= b->max) ||
                               (b->zero_allowed && value == 0);
        abort(); /* a key this target doesn't know: the table changed, so must this */
}

static void check_policy(const Policy *p)
{
        FUZZ_CHECK(in_bounds("MaxIntensity", p->max_intensity));
        FUZZ_CHECK(in_bounds("MaxSessionMinutes", p->max_session_minutes));
        FUZZ_CHECK(in_bounds("MaxSessionsPerDay", p->max_sessions_per_day));
        FUZZ_CHECK(in_bounds("MinRestMinutes", p->min_rest_minutes));
        FUZZ_CHECK(in_bounds("MaxZoneMinutes", p->max_zone_minutes));
        FUZZ_CHECK(in_bounds("MaxRampPercentPerSecond", p->max_ramp_percent_per_second));
        FUZZ_CHECK(in_bounds("StartIntensityMax", p->start_intensity_max));
        FUZZ_CHECK(in_bounds("MaxHeatCelsius", p->max_heat_celsius));
        FUZZ_CHECK(in_bounds("KeepaliveMs", p->keepalive_ms));
        FUZZ_CHECK(in_bounds("LoweredMaxIntensity", p->lowered_max_intensity));
        FUZZ_CHECK(in_bounds("LoweredMaxHeatCelsius", p->lowered_max_heat_celsius));
        FUZZ_CHECK(in_bounds("PainMinutes", p->lockout_minutes[POLICY_LOCKOUT_PAIN]));
        FUZZ_CHECK(in_bounds("OverheatMinutes", p->lockout_minutes[POLICY_LOCKOUT_OVERHEAT]));
        FUZZ_CHECK(in_bounds("FaultMinutes", p->lockout_minutes[POLICY_LOCKOUT_FAULT]));

        /* No file can allow the kneecap (DESIGN.md's forbidden zone). */
        FUZZ_CHECK(p->forbidden[ZONE_KNEECAP]);
        for (unsigned z = 0; z < ZONE_MAX; z++)
                FUZZ_CHECK(p->zone_cap[z] <= 100);
        for (size_t i = 0; i < p->n_devices; i++) {
                const DevicePolicy *d = &p->devices[i];
                FUZZ_CHECK(d->match && d->match[0]);
                FUZZ_CHECK(d->max_intensity == -1 || in_bounds("MaxIntensity", d->max_intensity));
                FUZZ_CHECK(d->max_heat_celsius == -1 ||
                           in_bounds("MaxHeatCelsius", d->max_heat_celsius));
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *error = NULL;
        Policy p;
        int r;

        policy_init_defaults(&p);
        r = policy_parse_buffer("fuzz.conf", (const char *) data, size, &p, &error);
        if (r >= 0)
                check_policy(&p);
        else
                FUZZ_CHECK(fuzz_error_names_file(r, error, "fuzz.conf"));
        free(error);
        policy_done(&p);
        return 0;
}
