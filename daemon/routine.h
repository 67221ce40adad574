/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * A routine: one INI file (kneed.routine(5)) with a [Routine] header and numbered [Step N]
 * sections. Routines are immutable once parsed and reference-counted, so that a session keeps
 * the routine it started with across a reload.
 */

#include <kneed/plugin.h>
#include <stdint.h>

#include "macro.h"
#include "zone.h"

#define ROUTINE_STEPS_MAX 64u
#define ROUTINE_STEP_MIN_MS 1000u                /* 1 s */
#define ROUTINE_STEP_MAX_MS (20u * 60u * 1000u)  /* 20 min */
#define ROUTINE_TOTAL_MAX_MS (30u * 60u * 1000u) /* the hard session limit, 30 min */
#define ROUTINE_CUE_MAX 160u
#define ROUTINE_HEAT_MIN_CELSIUS 30u
#define ROUTINE_HEAT_MAX_CELSIUS 43u /* the policy's hard heat bound */

typedef struct Step {
        Zone zone;
        KneedPattern pattern;
        unsigned intensity;     /* percent, 0..100, at the start of the step */
        unsigned intensity_end; /* percent at the end; equal to intensity for a constant step */
        uint32_t duration_ms;
        uint32_t offset_ms;    /* when the step starts, in routine time */
        unsigned heat_celsius; /* 0: no heat in this step */
        char *cue;
} Step;

typedef struct Routine {
        unsigned n_ref;
        char *path;
        char *id;
        char *name;
        char *condition;
        char *summary;
        char **sources;  /* seed article titles */
        char **requires; /* capabilities, e.g. "heat" */
        Step *steps;
        unsigned n_steps;
        uint32_t duration_ms;
} Routine;

Routine *routine_ref(Routine *r);
Routine *routine_unref(Routine *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(Routine *, routine_unref);

/* Parses one routine. On failure *error_message says "FILE:LINE: what was wrong". */
int routine_parse_buffer(const char *name, const char *data, size_t size, Routine **ret,
                         char **error_message);
int routine_load(const char *path, Routine **ret, char **error_message);

/* Whether the routine needs a capability ("heat"). */
bool routine_requires(const Routine *r, const char *capability);
/* Start of step i in routine time, in milliseconds. */
uint32_t routine_step_offset_ms(const Routine *r, unsigned i);

/*
 * Parses "20s", "1m30s", "2m" (no other units, no fractions) into milliseconds. Returns 0,
 * -EINVAL or -ERANGE.
 */
int parse_duration_ms(const char *s, uint32_t *ret);
