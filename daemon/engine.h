/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Routine timing, with the clock passed in. Every step starts at an absolute deadline computed
 * from the routine's start (shifted by pauses), never from the previous wakeup, so lateness of
 * one wakeup never accumulates. Ramps are interpolated on a fixed 20 Hz grid anchored at the
 * step start, and only while a step ramps; a constant step needs no wakeup until it ends.
 */

#include <stdbool.h>
#include <stdint.h>

#include "routine.h"

#define ENGINE_RAMP_INTERVAL_USEC UINT64_C(50000) /* 20 Hz */
#define ENGINE_NEVER UINT64_MAX

typedef struct Engine {
        const Routine *routine;
        double time_scale;       /* routine time runs this many times faster, >= 1 */
        uint64_t start_usec;     /* when routine time 0 was (or would have been, after pauses) */
        uint64_t paused_at_usec; /* 0 while not paused */
} Engine;

typedef struct EnginePosition {
        unsigned step; /* current step; routine->n_steps once finished */
        bool finished;
        bool ramping;        /* the current step changes intensity over time */
        double intensity;    /* the routine's intensity now, in percent */
        uint32_t elapsed_ms; /* routine time, excluding pauses */
} EnginePosition;

void engine_init(Engine *e, const Routine *r, double time_scale);
void engine_start(Engine *e, uint64_t now);
void engine_pause(Engine *e, uint64_t now);
void engine_resume(Engine *e, uint64_t now);
bool engine_is_paused(const Engine *e);

/* The absolute time step i starts (i == n_steps: the routine's end). */
uint64_t engine_step_deadline(const Engine *e, unsigned i);

EnginePosition engine_position(const Engine *e, uint64_t now);

/* When something next needs doing: a ramp tick or a step boundary; ENGINE_NEVER if paused or done.
 */
uint64_t engine_next_wakeup(const Engine *e, uint64_t now);

/* The absolute time at which routine time reaches routine_ms. */
uint64_t engine_routine_deadline(const Engine *e, uint64_t routine_ms);

/* The routine's length in real time, at this time scale. */
uint64_t engine_duration_usec(const Engine *e);
