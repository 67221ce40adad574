/* SPDX-License-Identifier: MIT */

#include <math.h>

#include "device.h"
#include "log.h"
#include "safety.h"
#include "strv.h"
#include "zone.h"

double safety_lowest_intensity(const Device *d)
{
        return 100.0 / (double) d->levels;
}

/*
 * A request becomes the nearest native step, and at least one step when it asks for anything,
 * so that "the lowest setting" runs the motor even on a device with few levels.
 */
static unsigned request_to_level(const Device *d, double intensity)
{
        long level;

        if (!(intensity > 0.0))
                return 0;
        level = lround(intensity * (double) d->levels / 100.0);
        return (unsigned) CLAMP(level, 1L, (long) d->levels);
}

/* A cap becomes native steps rounding down, so that a cap in percent is never exceeded. */
static unsigned cap_to_level(const Device *d, double cap)
{
        /* Tolerate float noise: 100/levels percent must allow exactly one step. */
        return (unsigned) MIN(floor(cap * (double) d->levels / 100.0 + 1e-9), (double) d->levels);
}

int safety_output(Device *d, const OutputRequest *req, SafetyResult *ret_result)
{
        KneedOutput out = {};
        unsigned level, cap_level, heat;
        double cap = 100.0;
        int zi, r, k;

        if (d->state == DEVICE_FAULTED)
                return -EIO;

        /* 1. Forbidden zones: refuse, never clamp. The kneecap is never a target. */
        if (zone_from_string(req->zone) == ZONE_KNEECAP)
                return -EDOM;

        zi = strv_find(d->zones, req->zone);
        if (zi < 0)
                return -EINVAL;

        /* 2. The device's own range. */
        level = request_to_level(d, isnan(req->intensity) ? 0.0 : req->intensity);
        cap_level = cap_to_level(d, cap);
        if (level > cap_level)
                level = cap_level;
        heat = MIN(MIN(req->heat_celsius, d->max_heat_celsius), SAFETY_HEAT_DEFAULT_MAX_CELSIUS);
        heat = MIN(heat, SAFETY_HEAT_HARD_MAX_CELSIUS);

        out = (KneedOutput){
                .zone = d->zones[zi],
                .zone_index = (unsigned) zi,
                .level = level,
                .pattern = req->pattern,
                .heat_celsius = heat,
        };

        /* Ramps recompute 20 times a second; the device hears only actual changes. */
        if (d->output_valid && d->output.zone_index == out.zone_index &&
            d->output.level == out.level && d->output.pattern == out.pattern &&
            d->output.heat_celsius == out.heat_celsius)
                goto done;

        device_hook_begin(d);
        r = d->plugin->desc->set_output(d, &out);
        k = device_hook_end(d);
        if (r < 0) {
                device_fault(d, r, "output command failed");
                return -EIO;
        }
        if (k < 0 || d->state == DEVICE_FAULTED)
                return k < 0 ? k : -EIO; /* it reported a fault, or stopping, from inside */
        device_note_output(d, &out);

done:
        if (ret_result)
                *ret_result = (SafetyResult){
                        .capped = level < request_to_level(d, req->intensity) ||
                                  heat < req->heat_celsius,
                        .intensity = (double) level * 100.0 / (double) d->levels,
                        .heat_celsius = heat,
                };
        return 0;
}
