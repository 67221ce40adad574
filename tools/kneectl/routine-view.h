/* SPDX-License-Identifier: MIT */
#pragma once

/* A routine as Manager.GetRoutine() returns it, and the terminal plot of it. */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <systemd/sd-bus.h>

typedef struct StepView {
        char *zone;
        char *pattern;
        unsigned intensity;
        unsigned intensity_end;
        uint32_t duration_ms;
        char *cue;
} StepView;

typedef struct RoutineView {
        char *id;
        char *name;
        char *condition;
        char *summary;
        uint32_t total_seconds;
        StepView *steps;
        size_t n_steps;
} RoutineView;

void routine_view_clear(RoutineView *r);
/* Reads the reply of GetRoutine(). */
int routine_view_read(sd_bus_message *reply, const char *id, RoutineView *ret);

/* The routine's intensity at time t (ms) in each zone lane, or -1 when the zone is idle. */
double routine_view_intensity_at(const RoutineView *r, const char *zone, uint64_t t_ms);

/*
 * Draws intensity over time, one lane per zone in order of first use, in `width` columns
 * overall. Uses block characters when utf8, ASCII otherwise.
 */
void routine_view_plot(const RoutineView *r, FILE *f, unsigned width, bool utf8);

/* "1:30", "0:05", "12:00". */
void format_mmss(char *buf, size_t size, uint64_t ms);
