/* SPDX-License-Identifier: MIT */

#include <ctype.h>
#include <math.h> /* isfinite(), a macro: no libm */
#include <stddef.h>

#include "ini-file.h"
#include "math-util.h"
#include "policy.h"
#include "string-util.h"
#include "strv.h"

/* Where the numbers come from is in kneed-policy.conf(5); the hard bounds are the "max". */
const PolicyBound policy_bounds[] = {
        {"Limits", "MaxIntensity", 70, 1, 100, false, "percent"},
        {"Limits", "MaxSessionMinutes", 15, 1, 30, false, "minutes"},
        {"Limits", "MaxSessionsPerDay", 3, 1, POLICY_SESSIONS_PER_DAY_MAX, false, "sessions"},
        {"Limits", "MinRestMinutes", 60, 0, 1440, false, "minutes"},
        {"Limits", "MaxZoneMinutes", 10, 1, 30, false, "minutes"},
        {"Limits", "MaxRampPercentPerSecond", 3, 0.1, 10, false, "percent per second"},
        {"Limits", "StartIntensityMax", 20, 1, 50, false, "percent"},
        {"Limits", "MaxHeatCelsius", 41, 30, 43, true, "degrees Celsius"},
        {"Limits", "KeepaliveMs", 1000, 250, 5000, false, "milliseconds"},
        {"Screening", "LoweredMaxIntensity", 40, 1, 100, false, "percent"},
        {"Screening", "LoweredMaxHeatCelsius", 0, 30, 43, true, "degrees Celsius"},
        {"Lockout", "PainMinutes", 1440, 0, 10080, false, "minutes"},
        {"Lockout", "OverheatMinutes", 60, 0, 10080, false, "minutes"},
        {"Lockout", "FaultMinutes", 30, 0, 10080, false, "minutes"},
        {}};

/* Seeds 000, 001 and 002: refuse; seed 001 (and 000 on cartilage): lower the caps. */
static const ScreeningAction default_screening[SCREENING_MAX] = {
        [SCREENING_RECENT_INJURY] = SCREENING_REFUSE,
        [SCREENING_SWELLING_REDNESS_HEAT] = SCREENING_REFUSE,
        [SCREENING_DVT_SUSPECTED] = SCREENING_REFUSE,
        [SCREENING_INFECTION_FEVER] = SCREENING_REFUSE,
        [SCREENING_RECENT_SURGERY] = SCREENING_REFUSE,
        [SCREENING_OPEN_WOUND] = SCREENING_REFUSE,
        [SCREENING_VARICOSE_VEINS] = SCREENING_LOWER,
        [SCREENING_BLOOD_THINNERS] = SCREENING_LOWER,
        [SCREENING_BLEEDING_DISORDER] = SCREENING_LOWER,
        [SCREENING_SEVERE_OSTEOPOROSIS] = SCREENING_LOWER,
        [SCREENING_CARTILAGE_DAMAGE] = SCREENING_LOWER,
};

/* Seed 001: very gentle around the kneecap and on the patellar tendon. */
#define ZONE_CAP_AROUND_KNEECAP 20u

static const char *const lockout_names[POLICY_LOCKOUT_MAX] = {
        [POLICY_LOCKOUT_PAIN] = "pain",
        [POLICY_LOCKOUT_OVERHEAT] = "overheat",
        [POLICY_LOCKOUT_FAULT] = "fault",
};

const char *policy_lockout_to_string(PolicyLockout l)
{
        return l < POLICY_LOCKOUT_MAX ? lockout_names[l] : NULL;
}

static void *bound_field(Policy *p, const PolicyBound *b)
{
        static const struct {
                const char *key;
                size_t offset;
        } fields[] = {
                {"MaxIntensity", offsetof(Policy, max_intensity)},
                {"MaxSessionMinutes", offsetof(Policy, max_session_minutes)},
                {"MaxSessionsPerDay", offsetof(Policy, max_sessions_per_day)},
                {"MinRestMinutes", offsetof(Policy, min_rest_minutes)},
                {"MaxZoneMinutes", offsetof(Policy, max_zone_minutes)},
                {"MaxRampPercentPerSecond", offsetof(Policy, max_ramp_percent_per_second)},
                {"StartIntensityMax", offsetof(Policy, start_intensity_max)},
                {"MaxHeatCelsius", offsetof(Policy, max_heat_celsius)},
                {"KeepaliveMs", offsetof(Policy, keepalive_ms)},
                {"LoweredMaxIntensity", offsetof(Policy, lowered_max_intensity)},
                {"LoweredMaxHeatCelsius", offsetof(Policy, lowered_max_heat_celsius)},
                {"PainMinutes", offsetof(Policy, lockout_minutes[POLICY_LOCKOUT_PAIN])},
                {"OverheatMinutes", offsetof(Policy, lockout_minutes[POLICY_LOCKOUT_OVERHEAT])},
                {"FaultMinutes", offsetof(Policy, lockout_minutes[POLICY_LOCKOUT_FAULT])},
        };

        for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                if (streq(fields[i].key, b->key))
                        return (char *) p + fields[i].offset;
        return NULL;
}

static bool bound_is_double(const PolicyBound *b)
{
        return streq(b->key, "MaxRampPercentPerSecond");
}

void policy_init_defaults(Policy *p)
{
        *p = (Policy){
                .screening_required = true,
        };
        for (const PolicyBound *b = policy_bounds; b->key; b++) {
                if (bound_is_double(b))
                        *(double *) bound_field(p, b) = b->def;
                else
                        *(unsigned *) bound_field(p, b) = (unsigned) b->def;
        }
        /* The kneecap is never a target (seeds 000, 003); no file can change that. */
        p->forbidden[ZONE_KNEECAP] = true;
        for (int z = 0; z < ZONE_MAX; z++)
                p->zone_cap[z] = 100;
        p->zone_cap[ZONE_PERIPATELLAR] = ZONE_CAP_AROUND_KNEECAP;
        p->zone_cap[ZONE_PATELLAR_TENDON] = ZONE_CAP_AROUND_KNEECAP;
        for (int s = 0; s < SCREENING_MAX; s++)
                p->screening[s] = default_screening[s];
}

void policy_done(Policy *p)
{
        for (size_t i = 0; i < p->n_devices; i++)
                free(p->devices[i].match);
        free(p->devices);
        p->devices = NULL;
        p->n_devices = 0;
}

const DevicePolicy *policy_find_device(const Policy *p, const char *match)
{
        for (size_t i = 0; i < p->n_devices; i++)
                if (streq(p->devices[i].match, match))
                        return &p->devices[i];
        return NULL;
}

typedef struct ParseState {
        Policy policy;
        bool seen_refuse, seen_lower;
        ScreeningAction refuse_list[SCREENING_MAX]; /* as written in the file */
        bool in_refuse[SCREENING_MAX], in_lower[SCREENING_MAX];
        unsigned screening_line;
        DevicePolicy *device; /* the [Device ...] section we are in */
} ParseState;

static int parse_number(IniParser *p, const char *section, const char *key, const char *value,
                        const PolicyBound *b, double *ret)
{
        char *end;
        double v;

        errno = 0;
        v = strtod(value, &end);
        if (isempty(value) || errno != 0 || end == value || !isfinite(v))
                return ini_error(p, -EINVAL, "[%s] %s: '%s' is not a number (expected %s)", section,
                                 key, value, b->unit);
        if (*end)
                return ini_error(p, -EINVAL,
                                 "[%s] %s: '%s' has a unit or trailing text; write a plain number "
                                 "of %s",
                                 section, key, value, b->unit);
        if (!bound_is_double(b) && !double_is_whole(v))
                return ini_error(p, -EINVAL, "[%s] %s: '%s' must be a whole number of %s", section,
                                 key, value, b->unit);
        if (!(b->zero_allowed && v == 0) && (v < b->min || v > b->max))
                return ini_error(p, -ERANGE, "[%s] %s: %s is outside the hard bounds %g..%g %s%s",
                                 section, key, value, b->min, b->max, b->unit,
                                 b->zero_allowed ? " (or 0 for off)" : "");
        *ret = v;
        return 0;
}

static const PolicyBound *find_bound(const char *section, const char *key)
{
        for (const PolicyBound *b = policy_bounds; b->key; b++)
                if (streq(b->section, section) && streq(b->key, key))
                        return b;
        return NULL;
}

static int parse_zone_list(IniParser *p, const char *section, const char *key, const char *value,
                           bool out[ZONE_MAX])
{
        _cleanup_strv_free_ char **l = NULL;

        if (strv_split(value, ";", &l) < 0)
                return ini_error(p, -ENOMEM, "out of memory");
        STRV_FOREACH (z, l) {
                int k = zone_from_string(*z);
                if (k < 0)
                        return ini_error(p, -EINVAL, "[%s] %s: unknown zone '%s'", section, key,
                                         *z);
                out[k] = true;
        }
        return 0;
}

static int parse_screening_list(IniParser *p, const char *key, const char *value,
                                bool out[SCREENING_MAX])
{
        _cleanup_strv_free_ char **l = NULL;

        if (strv_split(value, ";", &l) < 0)
                return ini_error(p, -ENOMEM, "out of memory");
        STRV_FOREACH (a, l) {
                int k = screening_from_string(*a);
                if (k < 0)
                        return ini_error(p, -EINVAL, "[Screening] %s: unknown answer '%s'", key,
                                         *a);
                out[k] = true;
        }
        return 0;
}

static int parse_device_key(IniParser *p, ParseState *st, const char *section, const char *key,
                            const char *value)
{
        const PolicyBound *b = NULL;
        double v;
        int r;

        if (streq(key, "MaxIntensity"))
                b = find_bound("Limits", "MaxIntensity");
        else if (streq(key, "MaxHeatCelsius"))
                b = find_bound("Limits", "MaxHeatCelsius");
        else
                return ini_error(p, -EINVAL,
                                 "[%s] unknown key '%s' (expected MaxIntensity or MaxHeatCelsius)",
                                 section, key);
        r = parse_number(p, section, key, value, b, &v);
        if (r < 0)
                return r;
        if (streq(key, "MaxIntensity"))
                st->device->max_intensity = (int) v;
        else
                st->device->max_heat_celsius = (int) v;
        return 0;
}

static int on_section(IniParser *p, const char *section, void *userdata)
{
        ParseState *st = userdata;
        const char *m = startswith(section, "Device ");
        Policy *pol = &st->policy;
        DevicePolicy *grown;
        uint16_t vid, pid;

        st->device = NULL;
        if (streq(section, "Limits") || streq(section, "Zones") || streq(section, "Screening") ||
            streq(section, "Lockout"))
                return 0;
        if (!m)
                return ini_error(p, -EINVAL,
                                 "unknown section [%s] (expected [Limits], [Zones], [Screening], "
                                 "[Lockout] or [Device VVVV:PPPP])",
                                 section);

        /* VVVV:PPPP as in lsusb, or virtual:MODEL for the virtual devices. */
        if (!(strlen(m) == 9 && m[4] == ':' && parse_hex16(strndupa(m, 4), &vid) >= 0 &&
              parse_hex16(m + 5, &pid) >= 0) &&
            !(startswith(m, "virtual:") && id_is_valid(m + 8)))
                return ini_error(p, -EINVAL,
                                 "invalid section [%s]: expected [Device VVVV:PPPP] with four hex "
                                 "digits each, e.g. [Device 0b49:064f]",
                                 section);

        grown = realloc(pol->devices, sizeof(DevicePolicy) * (pol->n_devices + 1));
        if (!grown)
                return ini_error(p, -ENOMEM, "out of memory");
        pol->devices = grown;
        st->device = &pol->devices[pol->n_devices];
        *st->device =
                (DevicePolicy){.match = strdup(m), .max_intensity = -1, .max_heat_celsius = -1};
        if (!st->device->match)
                return ini_error(p, -ENOMEM, "out of memory");
        /* Compare case-insensitively, as lsusb prints lower case. */
        for (char *c = st->device->match; *c; c++)
                *c = (char) tolower((unsigned char) *c);
        pol->n_devices++;
        return 0;
}

static int on_key(IniParser *p, const char *section, const char *key, const char *value,
                  void *userdata)
{
        ParseState *st = userdata;
        Policy *pol = &st->policy;
        const PolicyBound *b;
        double v;
        int r, z;

        b = find_bound(section, key);
        if (b) {
                r = parse_number(p, section, key, value, b, &v);
                if (r < 0)
                        return r;
                if (bound_is_double(b))
                        *(double *) bound_field(pol, b) = v;
                else
                        *(unsigned *) bound_field(pol, b) = (unsigned) v;
                return 0;
        }

        if (streq(section, "Zones")) {
                if (streq(key, "Forbidden"))
                        return parse_zone_list(p, section, key, value, pol->forbidden);
                z = zone_from_string(key);
                if (z < 0)
                        return ini_error(p, -EINVAL,
                                         "[Zones] unknown key '%s' (expected Forbidden or a zone "
                                         "name with its cap in percent)",
                                         key);
                if (z == ZONE_KNEECAP)
                        return ini_error(p, -EINVAL,
                                         "[Zones] kneecap: the kneecap is always forbidden and has "
                                         "no cap");
                r = parse_number(p, section, key, value, find_bound("Limits", "MaxIntensity"), &v);
                if (r < 0)
                        return r;
                pol->zone_cap[z] = (unsigned) v;
                return 0;
        }
        if (streq(section, "Screening")) {
                if (streq(key, "Required")) {
                        r = parse_boolean(value);
                        if (r < 0)
                                return ini_error(p, -EINVAL,
                                                 "[Screening] Required: '%s' is not yes or no",
                                                 value);
                        pol->screening_required = r;
                        return 0;
                }
                if (streq(key, "Refuse")) {
                        st->seen_refuse = true;
                        st->screening_line = ini_parser_line(p);
                        return parse_screening_list(p, key, value, st->in_refuse);
                }
                if (streq(key, "Lower")) {
                        st->seen_lower = true;
                        st->screening_line = ini_parser_line(p);
                        return parse_screening_list(p, key, value, st->in_lower);
                }
        }
        if (st->device)
                return parse_device_key(p, st, section, key, value);

        return ini_error(p, -EINVAL, "[%s] unknown key '%s'", section, key);
}

/* A list given in the file replaces the default one; an answer may be on one list only. */
static int finish_screening(const char *name, ParseState *st, char **error_message)
{
        Policy *pol = &st->policy;

        for (int s = 0; s < SCREENING_MAX; s++) {
                bool refuse = st->seen_refuse ? st->in_refuse[s]
                                              : default_screening[s] == SCREENING_REFUSE;
                bool lower =
                        st->seen_lower ? st->in_lower[s] : default_screening[s] == SCREENING_LOWER;

                if (refuse && lower) {
                        if (asprintf(error_message,
                                     "%s:%u: [Screening] '%s' is on both the Refuse and the Lower "
                                     "list; give both lists to move it",
                                     name, st->screening_line, screening_to_string(s)) < 0)
                                *error_message = NULL;
                        return -EINVAL;
                }
                pol->screening[s] = refuse  ? SCREENING_REFUSE
                                    : lower ? SCREENING_LOWER
                                            : SCREENING_ALLOW;
        }
        return 0;
}

int policy_parse_buffer(const char *name, const char *data, size_t size, Policy *ret,
                        char **error_message)
{
        static const IniCallbacks callbacks = {.section = on_section, .key = on_key};
        ParseState st = {};
        int r;

        policy_init_defaults(&st.policy);
        r = ini_parse_buffer(name, data, size, &callbacks, &st, error_message);
        if (r >= 0)
                r = finish_screening(name, &st, error_message);
        if (r < 0) {
                policy_done(&st.policy);
                return r;
        }
        /* The kneecap stays forbidden whatever the file says. */
        st.policy.forbidden[ZONE_KNEECAP] = true;
        *ret = st.policy;
        return 0;
}

int policy_load(const char *path, Policy *ret, char **error_message)
{
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r;

        r = read_full_file(path, INI_FILE_MAX_SIZE, &data, &size);
        if (r < 0) {
                if (r != -ENOENT && asprintf(error_message, "%s: %s", path,
                                             r == -EFBIG ? "file is too large" : strerror(-r)) < 0)
                        *error_message = NULL;
                return r;
        }
        return policy_parse_buffer(path, data, size, ret, error_message);
}
