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

/* Percent to native steps, rounding down so that a cap in percent is never exceeded. */
static unsigned intensity_to_level(const Device *d, double intensity)
{
        double steps = intensity * (double) d->levels / 100.0;

        /* Tolerate float noise: 100/levels percent must map to exactly one step. */
        return (unsigned) floor(steps + 1e-9);
}

int safety_output(Device *d, const OutputRequest *req, SafetyResult *ret_result)
{
        KneedOutput out = {};
        double intensity;
        unsigned heat;
        int zi, r;

        if (d->state == DEVICE_FAULTED)
                return -EIO;

        /* 1. Forbidden zones: refuse, never clamp. The kneecap is never a target. */
        if (zone_from_string(req->zone) == ZONE_KNEECAP)
                return -EDOM;

        zi = strv_find(d->zones, req->zone);
        if (zi < 0)
                return -EINVAL;

        /* 2. The device's own range. */
        intensity = CLAMP(req->intensity, 0.0, 100.0);
        if (isnan(intensity))
                intensity = 0.0;
        heat = MIN(req->heat_celsius, d->max_heat_celsius);

        out = (KneedOutput){
                .zone = d->zones[zi],
                .zone_index = (unsigned) zi,
                .level = intensity_to_level(d, intensity),
                .pattern = req->pattern,
                .heat_celsius = heat,
        };

        r = d->plugin->desc->set_output(d, &out);
        if (r < 0) {
                device_fault(d, r, "output command failed");
                return -EIO;
        }
        device_note_output(d, &out);

        if (ret_result)
                *ret_result = (SafetyResult){
                        .capped = intensity < req->intensity || heat < req->heat_celsius,
                        .intensity = intensity,
                        .heat_celsius = heat,
                };
        return 0;
}
