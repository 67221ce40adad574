/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The safety policy (kneed-policy.conf(5)): defaults apply where the file says nothing, and
 * built-in hard bounds that no file can pass. A value outside the hard bounds is an error,
 * never a silent clamp.
 */

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"
#include "screening.h"
#include "zone.h"

/* The hard bound of [Limits] MaxSessionsPerDay: a person's day holds no more sessions. */
#define POLICY_SESSIONS_PER_DAY_MAX 1000

typedef enum ScreeningAction {
        SCREENING_ALLOW,
        SCREENING_LOWER,
        SCREENING_REFUSE,
} ScreeningAction;

typedef enum PolicyLockout {
        POLICY_LOCKOUT_PAIN,
        POLICY_LOCKOUT_OVERHEAT,
        POLICY_LOCKOUT_FAULT,
        POLICY_LOCKOUT_MAX,
} PolicyLockout;

/* [Device VVVV:PPPP] (or [Device virtual:MODEL]): caps for one model. -1: not set. */
typedef struct DevicePolicy {
        char *match;
        int max_intensity;
        int max_heat_celsius;
} DevicePolicy;

typedef struct Policy {
        /* [Limits] */
        unsigned max_intensity; /* percent of the device's range */
        unsigned max_session_minutes;
        unsigned max_sessions_per_day;
        unsigned min_rest_minutes;
        unsigned max_zone_minutes;
        double max_ramp_percent_per_second;
        unsigned start_intensity_max; /* ceiling during a session's first step */
        unsigned max_heat_celsius;    /* 0: no heat at all */
        unsigned keepalive_ms;

        /* [Zones] */
        bool forbidden[ZONE_MAX];
        unsigned zone_cap[ZONE_MAX];

        /* [Screening] */
        bool screening_required;
        ScreeningAction screening[SCREENING_MAX];
        unsigned lowered_max_intensity;
        unsigned lowered_max_heat_celsius;

        /* [Lockout] */
        unsigned lockout_minutes[POLICY_LOCKOUT_MAX];

        DevicePolicy *devices;
        size_t n_devices;
} Policy;

/* One numeric key: its default and hard bounds, for parsing, Limits and the man page. */
typedef struct PolicyBound {
        const char *section;
        const char *key;
        double def;
        double min;
        double max;
        bool zero_allowed; /* 0 is valid below min (e.g. heat off) */
        const char *unit;
} PolicyBound;

/* The numeric keys, terminated by an entry with key NULL. */
extern const PolicyBound policy_bounds[];

void policy_init_defaults(Policy *p);
void policy_done(Policy *p);

/*
 * Parses a policy file over the defaults. On failure *ret is untouched and *error_message says
 * "FILE:LINE: [Section] Key: what was wrong".
 */
int policy_parse_buffer(const char *name, const char *data, size_t size, Policy *ret,
                        char **error_message);
/* As above from a file; a missing file is -ENOENT (the caller decides it means defaults). */
int policy_load(const char *path, Policy *ret, char **error_message);

/* The caps for a model: "0b49:064f" or "virtual:virtual-heat". NULL when none. */
const DevicePolicy *policy_find_device(const Policy *p, const char *match);

const char *policy_lockout_to_string(PolicyLockout l);
