/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The one door to a device's output. Every command a plugin's set_output() receives comes from
 * safety_output(), which clamps the request first. Nothing else calls set_output().
 */

#include <kneed/plugin.h>
#include <stdbool.h>

typedef struct KneedDevice Device;

/*
 * Built-in hard bound on any heater target: no device file, routine or policy passes it.
 * IEC 60601-1 puts applied parts at 41 degrees C; 43 leaves a policy room to allow a little
 * more, never more than that.
 */
#define SAFETY_HEAT_HARD_MAX_CELSIUS 43u
/* The default heat cap when the policy says nothing: IEC 60601-1's 41 degrees C. */
#define SAFETY_HEAT_DEFAULT_MAX_CELSIUS 41u

typedef struct OutputRequest {
        const char *zone;
        KneedPattern pattern;
        double intensity;      /* percent of the device's range, as the routine asks */
        unsigned heat_celsius; /* 0: heater off */
} OutputRequest;

typedef struct SafetyResult {
        bool capped;      /* the request was lowered */
        double intensity; /* what was applied, in percent */
        unsigned heat_celsius;
} SafetyResult;

/* The smallest intensity that still turns the device's motor on: one native step. */
double safety_lowest_intensity(const Device *d);

/*
 * Clamps req for device d and hands the result to the plugin. Returns 0; -EDOM for a zone that
 * may never be worked on; -EINVAL for a zone the device doesn't have; -EIO when the device is
 * faulted or the plugin failed (the device is then stopped and faulted).
 */
int safety_output(Device *d, const OutputRequest *req, SafetyResult *ret_result);
