/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The one door to a device's output. Every command a plugin's set_output() receives comes from
 * safety_output(), which clamps the request against, in order: forbidden zones (refused),
 * the device's range, the policy's cap, the zone's cap, the screening-lowered cap, the model's
 * cap, the start ceiling, the ramp limit and the heat caps. Nothing else calls set_output().
 */

#include <kneed/plugin.h>
#include <stdbool.h>

typedef struct KneedDevice Device;
typedef struct Policy Policy;

/*
 * Built-in hard bound on any heater target: no device file, routine or policy passes it.
 * IEC 60601-1 puts applied parts at 41 degrees C; the policy may allow up to this, no more.
 * A device that reports a temperature above it is switched off entirely.
 */
#define SAFETY_HEAT_HARD_MAX_CELSIUS 43u

typedef enum SafetyRule {
        SAFETY_RULE_NONE,
        SAFETY_RULE_POLICY,
        SAFETY_RULE_ZONE,
        SAFETY_RULE_SCREENING,
        SAFETY_RULE_MODEL,
        SAFETY_RULE_START,
        SAFETY_RULE_RAMP,
        SAFETY_RULE_MAX,
} SafetyRule;

typedef struct OutputRequest {
        const char *zone;
        KneedPattern pattern;
        double intensity;      /* percent of the device's range, as the routine asks */
        unsigned heat_celsius; /* 0: heater off */
} OutputRequest;

/* What the request is part of. */
typedef struct SafetyContext {
        bool lowered;      /* screening answers lowered the caps */
        bool first_step;   /* the start ceiling applies */
        double time_scale; /* routine time runs this much faster (virtual devices only) */
} SafetyContext;

typedef struct SafetyResult {
        SafetyRule capped_by; /* the first rule that lowered the intensity, or NONE */
        bool heat_capped;
        bool ramp_limited; /* the ramp limit held it back: ask again soon */
        double intensity;  /* what the device now runs at, in percent */
        unsigned heat_celsius;
} SafetyResult;

const char *safety_rule_to_string(SafetyRule r);

/* The smallest intensity that still turns the device's motor on: one native step. */
double safety_lowest_intensity(const Device *d);

/* The device's intensity cap from the policy and its model, in percent (Device.MaxIntensity). */
unsigned safety_device_max_intensity(const Device *d);

/*
 * Clamps req for device d and hands the result to the plugin. Returns 0; -EDOM for a forbidden
 * zone; -EINVAL for a zone the device doesn't have; -EBADMSG when there is no valid policy;
 * -EIO when the device is faulted or faults now (it is then stopped and marked faulted).
 */
int safety_output(Device *d, const OutputRequest *req, const SafetyContext *ctx,
                  SafetyResult *ret_result);

/*
 * Acts on a temperature the device reported: above the heat cap the heater goes off for the
 * rest of the session; above the hard bound the device is stopped and an overheat lockout
 * recorded. Returns 1 if it acted, 0 if not.
 */
int safety_check_temperature(Device *d, const KneedStatus *status);
