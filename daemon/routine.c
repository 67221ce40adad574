/* SPDX-License-Identifier: MIT */

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>

#include "ini-file.h"
#include "pattern.h"
#include "routine.h"
#include "string-util.h"
#include "strv.h"
#include "zone.h"

static const char *const known_capabilities[] = {"heat"};

static void step_done(Step *s)
{
        free(s->cue);
}

Routine *routine_ref(Routine *r)
{
        if (r)
                r->n_ref++;
        return r;
}

Routine *routine_unref(Routine *r)
{
        if (!r || --r->n_ref > 0)
                return NULL;
        for (unsigned i = 0; i < r->n_steps; i++)
                step_done(&r->steps[i]);
        free(r->steps);
        free(r->path);
        free(r->id);
        free(r->name);
        free(r->condition);
        free(r->summary);
        strv_free(r->sources);
        strv_free(r->requires);
        return mfree(r);
}

bool routine_requires(const Routine *r, const char *capability)
{
        return strv_contains(r->requires, capability);
}

uint32_t routine_step_offset_ms(const Routine *r, unsigned i)
{
        return i < r->n_steps ? r->steps[i].offset_ms : r->duration_ms;
}

int parse_duration_ms(const char *s, uint32_t *ret)
{
        uint64_t total = 0;
        bool seen_m = false, seen_s = false;
        const char *p = s;

        if (isempty(s))
                return -EINVAL;

        while (*p) {
                uint64_t v = 0;
                const char *start = p;

                while (isdigit((unsigned char) *p)) {
                        v = v * 10 + (uint64_t) (*p - '0');
                        if (v > UINT32_MAX)
                                return -ERANGE;
                        p++;
                }
                if (p == start)
                        return -EINVAL;
                /* Minutes, then seconds, each at most once: "1m30s", not "30s1m". */
                if (*p == 'm' && !seen_m && !seen_s) {
                        seen_m = true;
                        total += v * 60;
                } else if (*p == 's' && !seen_s) {
                        seen_s = true;
                        total += v;
                } else
                        return -EINVAL;
                p++;
                if (total > UINT32_MAX / 1000)
                        return -ERANGE;
        }

        *ret = (uint32_t) (total * 1000);
        return 0;
}

typedef struct ParseState {
        Routine *routine;
        bool seen_routine;
        Step *step;               /* the step whose section we are in */
        unsigned step_line;       /* where that section started */
        bool *seen_intensity_end; /* per step */
        bool *seen_duration;
        bool *seen_intensity;
        bool *seen_zone;
        bool *seen_pattern;
        bool *seen_cue;
        unsigned *section_lines;
        unsigned max_step; /* the highest step number seen */
} ParseState;

static int parse_percent(IniParser *p, const char *key, const char *value, unsigned *ret)
{
        unsigned v;

        if (safe_atou(value, &v) < 0 || v > 100)
                return ini_error(p, -EINVAL, "invalid %s '%s': expected a whole percentage 0..100",
                                 key, value);
        *ret = v;
        return 0;
}

static int set_string(IniParser *p, char **dst, const char *key, const char *value, size_t max_len)
{
        if (isempty(value))
                return ini_error(p, -EINVAL, "%s is empty", key);
        if (strlen(value) > max_len)
                return ini_error(p, -EINVAL, "%s is longer than %zu characters", key, max_len);
        *dst = strdup(value);
        return *dst ? 0 : ini_error(p, -ENOMEM, "out of memory");
}

static int parse_routine_key(IniParser *p, ParseState *st, const char *key, const char *value)
{
        Routine *r = st->routine;

        if (streq(key, "Id")) {
                if (!id_is_valid(value))
                        return ini_error(p, -EINVAL, "invalid Id '%s': expected [a-z0-9-]+", value);
                return set_string(p, &r->id, key, value, 64);
        }
        if (streq(key, "Name"))
                return set_string(p, &r->name, key, value, 80);
        if (streq(key, "Condition"))
                return set_string(p, &r->condition, key, value, 120);
        if (streq(key, "Summary"))
                return set_string(p, &r->summary, key, value, 190);
        if (streq(key, "Source")) {
                if (strv_split(value, ";", &r->sources) < 0)
                        return ini_error(p, -ENOMEM, "out of memory");
                if (!r->sources[0])
                        return ini_error(p, -EINVAL, "Source is empty");
                return 0;
        }
        if (streq(key, "Requires")) {
                if (strv_split(value, ";", &r->requires) < 0)
                        return ini_error(p, -ENOMEM, "out of memory");
                STRV_FOREACH (c, r->requires) {
                        bool known = false;
                        for (size_t i = 0; i < ELEMENTSOF(known_capabilities); i++)
                                known = known || streq(*c, known_capabilities[i]);
                        if (!known)
                                return ini_error(
                                        p, -EINVAL,
                                        "unknown capability '%s' in Requires (known: heat)", *c);
                }
                return 0;
        }
        return ini_error(p, -EINVAL, "unknown key '%s' in [Routine]", key);
}

static int parse_step_key(IniParser *p, ParseState *st, unsigned n, const char *key,
                          const char *value)
{
        Step *s;
        int r;

        if (n == 0) /* on_section() refused the header already */
                return -EINVAL;
        s = &st->routine->steps[n - 1];

        if (streq(key, "Zone")) {
                r = zone_from_string(value);
                if (r < 0)
                        return ini_error(p, -EINVAL, "unknown zone '%s'", value);
                s->zone = r;
                st->seen_zone[n - 1] = true;
                return 0;
        }
        if (streq(key, "Pattern")) {
                r = pattern_from_string(value);
                if (r < 0)
                        return ini_error(p, -EINVAL,
                                         "unknown pattern '%s' (known: continuous, pulse, wave, "
                                         "percussion, knead, sweep)",
                                         value);
                s->pattern = (KneedPattern) r;
                st->seen_pattern[n - 1] = true;
                return 0;
        }
        if (streq(key, "Intensity")) {
                st->seen_intensity[n - 1] = true;
                return parse_percent(p, key, value, &s->intensity);
        }
        if (streq(key, "IntensityEnd")) {
                st->seen_intensity_end[n - 1] = true;
                return parse_percent(p, key, value, &s->intensity_end);
        }
        if (streq(key, "Duration")) {
                r = parse_duration_ms(value, &s->duration_ms);
                if (r < 0)
                        return ini_error(p, -EINVAL,
                                         "invalid Duration '%s': expected minutes and seconds "
                                         "such as 20s, 2m or 1m30s",
                                         value);
                if (s->duration_ms < ROUTINE_STEP_MIN_MS || s->duration_ms > ROUTINE_STEP_MAX_MS)
                        return ini_error(p, -ERANGE,
                                         "Duration '%s' out of range: a step lasts 1s to 20m",
                                         value);
                st->seen_duration[n - 1] = true;
                return 0;
        }
        if (streq(key, "Heat")) {
                unsigned v;

                if (safe_atou(value, &v) < 0 ||
                    (v != 0 && (v < ROUTINE_HEAT_MIN_CELSIUS || v > ROUTINE_HEAT_MAX_CELSIUS)))
                        return ini_error(p, -EINVAL,
                                         "invalid Heat '%s': expected 0 (off) or %u..%u degrees "
                                         "Celsius",
                                         value, ROUTINE_HEAT_MIN_CELSIUS, ROUTINE_HEAT_MAX_CELSIUS);
                s->heat_celsius = v;
                return 0;
        }
        if (streq(key, "Cue")) {
                st->seen_cue[n - 1] = true;
                return set_string(p, &s->cue, key, value, ROUTINE_CUE_MAX);
        }
        return ini_error(p, -EINVAL, "unknown key '%s' in [Step %u]", key, n);
}

/* "Step N" with N in 1..ROUTINE_STEPS_MAX; returns N or 0. */
static unsigned step_number(const char *section)
{
        const char *n = startswith(section, "Step ");
        unsigned v;

        if (!n || safe_atou(n, &v) < 0 || v < 1 || v > ROUTINE_STEPS_MAX || n[0] == '0')
                return 0;
        return v;
}

static int on_section(IniParser *p, const char *section, void *userdata)
{
        ParseState *st = userdata;
        unsigned n;

        if (streq(section, "Routine")) {
                st->seen_routine = true;
                return 0;
        }
        if (startswith(section, "Step ")) {
                n = step_number(section);
                if (n == 0)
                        return ini_error(p, -EINVAL,
                                         "invalid section [%s]: steps are numbered 1..%u", section,
                                         ROUTINE_STEPS_MAX);
                st->section_lines[n - 1] = ini_parser_line(p);
                st->max_step = MAX(st->max_step, n);
                return 0;
        }
        return ini_error(p, -EINVAL, "unknown section [%s] (expected [Routine] or [Step N])",
                         section);
}

static int on_key(IniParser *p, const char *section, const char *key, const char *value,
                  void *userdata)
{
        ParseState *st = userdata;

        if (streq(section, "Routine"))
                return parse_routine_key(p, st, key, value);
        return parse_step_key(p, st, step_number(section), key, value);
}

static int fail(char **error_message, int r, const char *format, ...) _printf_(3, 4);
static int fail(char **error_message, int r, const char *format, ...)
{
        va_list ap;

        va_start(ap, format);
        if (vasprintf(error_message, format, ap) < 0)
                *error_message = NULL;
        va_end(ap);
        return r;
}

static int check_complete(const char *name, ParseState *st, char **error_message)
{
        Routine *r = st->routine;
        uint64_t total = 0;

        if (!st->seen_routine)
                return fail(error_message, -EINVAL, "%s: missing section [Routine]", name);
        if (!r->id)
                return fail(error_message, -EINVAL, "%s: missing key Id in [Routine]", name);
        if (!r->name)
                return fail(error_message, -EINVAL, "%s: missing key Name in [Routine]", name);
        if (!r->condition)
                return fail(error_message, -EINVAL, "%s: missing key Condition in [Routine]", name);
        if (!r->summary)
                return fail(error_message, -EINVAL, "%s: missing key Summary in [Routine]", name);
        if (!r->sources)
                return fail(error_message, -EINVAL, "%s: missing key Source in [Routine]", name);
        if (st->max_step == 0)
                return fail(error_message, -EINVAL, "%s: no [Step 1]", name);

        for (unsigned i = 0; i < st->max_step; i++) {
                Step *s = &r->steps[i];
                const char *missing = NULL;

                if (st->section_lines[i] == 0)
                        return fail(error_message, -EINVAL,
                                    "%s: missing [Step %u] (steps are %u..%u)", name, i + 1, 1u,
                                    st->max_step);
                if (!st->seen_zone[i])
                        missing = "Zone";
                else if (!st->seen_pattern[i])
                        missing = "Pattern";
                else if (!st->seen_intensity[i])
                        missing = "Intensity";
                else if (!st->seen_duration[i])
                        missing = "Duration";
                else if (!st->seen_cue[i])
                        missing = "Cue";
                if (missing)
                        return fail(error_message, -EINVAL, "%s:%u: missing key %s in [Step %u]",
                                    name, st->section_lines[i], missing, i + 1);
                if (!st->seen_intensity_end[i])
                        s->intensity_end = s->intensity;
                s->offset_ms = (uint32_t) MIN(total, (uint64_t) UINT32_MAX);
                total += s->duration_ms;
        }
        if (total > ROUTINE_TOTAL_MAX_MS)
                return fail(error_message, -ERANGE,
                            "%s: the steps last %" PRIu64 "s in all, more than the 30 minute "
                            "limit of any session",
                            name, total / 1000);

        r->n_steps = st->max_step;
        r->duration_ms = (uint32_t) total;
        return 0;
}

int routine_parse_buffer(const char *name, const char *data, size_t size, Routine **ret,
                         char **error_message)
{
        static const IniCallbacks callbacks = {.section = on_section, .key = on_key};
        _cleanup_(routine_unrefp) Routine *r = NULL;
        bool seen[6][ROUTINE_STEPS_MAX] = {};
        unsigned lines[ROUTINE_STEPS_MAX] = {};
        ParseState st = {
                .seen_zone = seen[0],
                .seen_pattern = seen[1],
                .seen_intensity = seen[2],
                .seen_intensity_end = seen[3],
                .seen_duration = seen[4],
                .seen_cue = seen[5],
                .section_lines = lines,
        };
        int k;

        r = calloc(1, sizeof(Routine));
        if (!r)
                return -ENOMEM;
        r->n_ref = 1;
        r->path = strdup(name);
        /* Steps are allocated up front: sections may come in any order. */
        r->steps = calloc(ROUTINE_STEPS_MAX, sizeof(Step));
        if (!r->path || !r->steps)
                return -ENOMEM;
        r->n_steps = ROUTINE_STEPS_MAX; /* so that unref frees every step parsed */
        st.routine = r;

        k = ini_parse_buffer(name, data, size, &callbacks, &st, error_message);
        if (k >= 0) {
                r->n_steps = ROUTINE_STEPS_MAX;
                k = check_complete(name, &st, error_message);
        }
        if (k < 0)
                return k;

        /* Free the unused tail; nothing in it was parsed. */
        r->steps = realloc(r->steps, sizeof(Step) * r->n_steps) ?: r->steps;
        *ret = TAKE_PTR(r);
        return 0;
}

int routine_load(const char *path, Routine **ret, char **error_message)
{
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r;

        r = read_full_file(path, INI_FILE_MAX_SIZE, &data, &size);
        if (r < 0)
                return fail(error_message, r, "%s: %s", path,
                            r == -EFBIG ? "file is too large" : strerror(-r));
        return routine_parse_buffer(path, data, size, ret, error_message);
}
