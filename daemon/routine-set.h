/* SPDX-License-Identifier: MIT */
#pragma once

/* The routine library: the shipped presets plus local additions. */

#include "routine.h"

typedef struct RoutineSet {
        Routine **routines;
        size_t n_routines;
} RoutineSet;

/*
 * Loads every *.routine file in dir, in name order, adding to the set. A bad file, or one whose
 * Id is already in the set, is skipped and its error ("FILE:LINE: ...") appended to
 * *errors; the others still load. Returns the number loaded, or a negative errno when dir
 * can't be read (-ENOENT for a directory that doesn't exist).
 */
int routine_set_load_dir(RoutineSet *set, const char *dir, char ***errors);

Routine *routine_set_find(const RoutineSet *set, const char *id);
void routine_set_clear(RoutineSet *set);
