/* SPDX-License-Identifier: MIT */

#include <math.h> /* isnan(), a macro: no libm */

#include "device.h"
#include "log.h"
#include "manager.h"
#include "math-util.h"
#include "safety.h"
#include "session-limits.h"
#include "session.h"
#include "strv.h"
#include "time-util.h"
#include "zone.h"

static const char *const rule_names[SAFETY_RULE_MAX] = {
        [SAFETY_RULE_NONE] = "none",   [SAFETY_RULE_POLICY] = "policy",
        [SAFETY_RULE_ZONE] = "zone",   [SAFETY_RULE_SCREENING] = "screening",
        [SAFETY_RULE_MODEL] = "model", [SAFETY_RULE_START] = "start",
        [SAFETY_RULE_RAMP] = "ramp",
};

const char *safety_rule_to_string(SafetyRule r)
{
        return r < SAFETY_RULE_MAX ? rule_names[r] : NULL;
}

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
        uint64_t level;

        if (!(intensity > 0.0))
                return 0;
        level = round_nonneg(intensity * (double) d->levels / 100.0);
        return (unsigned) CLAMP(level, UINT64_C(1), (uint64_t) d->levels);
}

/* A cap becomes native steps rounding down, so that a cap in percent is never exceeded. */
static unsigned cap_to_level(const Device *d, double cap)
{
        if (!(cap > 0.0))
                return 0;
        /* Tolerate float noise: 100/levels percent must allow exactly one step. */
        return (unsigned) MIN(floor_nonneg(cap * (double) d->levels / 100.0 + 1e-9),
                              (uint64_t) d->levels);
}

unsigned safety_device_max_intensity(const Device *d)
{
        const Policy *p = &d->manager->policy;
        const DevicePolicy *model = policy_find_device(p, d->policy_key);
        unsigned cap = p->max_intensity;

        if (model && model->max_intensity >= 0)
                cap = MIN(cap, (unsigned) model->max_intensity);
        return cap;
}

static unsigned heat_cap(const Device *d, const SafetyContext *ctx)
{
        const Policy *p = &d->manager->policy;
        const DevicePolicy *model = policy_find_device(p, d->policy_key);
        unsigned cap = MIN(d->max_heat_celsius, p->max_heat_celsius);

        if (ctx && ctx->lowered)
                cap = MIN(cap, p->lowered_max_heat_celsius);
        if (model && model->max_heat_celsius >= 0)
                cap = MIN(cap, (unsigned) model->max_heat_celsius);
        if (d->heat_blocked)
                cap = 0;
        return MIN(cap, SAFETY_HEAT_HARD_MAX_CELSIUS);
}

int safety_output(Device *d, const OutputRequest *req, const SafetyContext *ctx,
                  SafetyResult *ret_result)
{
        static const SafetyContext no_context = {.first_step = true, .time_scale = 1.0};
        const Policy *p = &d->manager->policy;
        const DevicePolicy *model;
        SafetyRule capped_by = SAFETY_RULE_NONE;
        unsigned level, wanted, heat;
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        KneedOutput out = {};
        double caps[SAFETY_RULE_MAX];
        bool ramp_limited = false;
        int z, zi, r, k;

        if (!ctx)
                ctx = &no_context;
        if (d->state == DEVICE_FAULTED)
                return -EIO;
        if (!d->manager->policy_valid)
                return -EBADMSG; /* fail closed: no output without a policy */

        /* 1. Forbidden zones: refuse, never clamp. The kneecap is always among them. */
        z = zone_from_string(req->zone);
        if (z < 0 || z == ZONE_KNEECAP || p->forbidden[z])
                return -EDOM;
        zi = strv_find(d->zones, req->zone);
        if (zi < 0)
                return -EINVAL;

        /* 2. The device's own range: 0..100 % becomes 0..Levels native steps. */
        wanted = request_to_level(d,
                                  isnan(req->intensity) ? 0.0 : CLAMP(req->intensity, 0.0, 100.0));

        /* 3-8. Caps in percent, in the order they are documented. */
        model = policy_find_device(p, d->policy_key);
        for (int i = 0; i < SAFETY_RULE_MAX; i++)
                caps[i] = 100.0;
        caps[SAFETY_RULE_POLICY] = p->max_intensity;
        caps[SAFETY_RULE_ZONE] = p->zone_cap[z];
        if (ctx->lowered)
                caps[SAFETY_RULE_SCREENING] = p->lowered_max_intensity;
        if (model && model->max_intensity >= 0)
                caps[SAFETY_RULE_MODEL] = model->max_intensity;
        if (ctx->first_step)
                caps[SAFETY_RULE_START] = p->start_intensity_max;
        /* Rising no faster than the ramp limit, in routine time; anything up to the start
         * ceiling may come at once, as a session's first step does. */
        caps[SAFETY_RULE_RAMP] =
                MAX(d->ramp_percent + p->max_ramp_percent_per_second * ctx->time_scale *
                                              (double) (now - d->ramp_usec) / USEC_PER_SEC,
                    (double) p->start_intensity_max);

        level = wanted;
        for (int i = SAFETY_RULE_POLICY; i < SAFETY_RULE_MAX; i++) {
                unsigned cap_level = cap_to_level(d, caps[i]);
                if (i == SAFETY_RULE_RAMP)
                        /* Held back only by the ramp: the caller must come back to catch up. */
                        ramp_limited = cap_level < level;
                if (cap_level < level) {
                        level = cap_level;
                        if (capped_by == SAFETY_RULE_NONE)
                                capped_by = (SafetyRule) i;
                }
        }

        /* 9. Heat: the device's, the policy's (lowered by screening), the model's, the hard
         * bound, and none at all once the device ran too hot. */
        heat = MIN(req->heat_celsius, heat_cap(d, ctx));

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
        d->ramp_percent = (double) level * 100.0 / (double) d->levels;
        d->ramp_usec = now;

done:
        if (ret_result)
                *ret_result = (SafetyResult){
                        .capped_by = capped_by,
                        .heat_capped = heat < req->heat_celsius,
                        .ramp_limited = ramp_limited,
                        .intensity = (double) d->output.level * 100.0 / (double) d->levels,
                        .heat_celsius = d->output.heat_celsius,
                };
        return 0;
}

int safety_check_temperature(Device *d, const KneedStatus *status)
{
        int32_t t = status->temperature_decicelsius;
        unsigned cap;

        if (t == KNEED_TEMPERATURE_UNKNOWN)
                return 0;

        if (t > (int32_t) SAFETY_HEAT_HARD_MAX_CELSIUS * 10) {
                log_error("Device %s: %.1f C is above the hard maximum of %u C, switching it off",
                          d->id, t / 10.0, SAFETY_HEAT_HARD_MAX_CELSIUS);
                d->heat_blocked = true;
                limits_lockout(d->manager, POLICY_LOCKOUT_OVERHEAT, d);
                (void) device_stop(d, "overheat");
                return 1;
        }

        cap = heat_cap(d, d->session ? &d->session->safety : NULL);
        if (!d->heat_blocked && t > (int32_t) MAX(cap, 30u) * 10) {
                log_warning("Device %s: %.1f C is above the heat cap of %u C, heater off for this "
                            "session",
                            d->id, t / 10.0, cap);
                d->heat_blocked = true;
                if (d->session)
                        session_refresh(d->session);
                return 1;
        }
        return 0;
}
