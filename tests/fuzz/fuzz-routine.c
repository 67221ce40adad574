/* SPDX-License-Identifier: MIT */

/* The routine file parser: no crash, no leak, and no routine outside kneed.routine(5)'s rules. */

#include "fuzz.h"
#include "routine.h"

static void check_routine(const Routine *r)
{
        uint32_t total = 0;

        FUZZ_CHECK(r->id && r->name);
        FUZZ_CHECK(r->n_steps >= 1 && r->n_steps <= ROUTINE_STEPS_MAX);
        for (unsigned i = 0; i < r->n_steps; i++) {
                const Step *s = &r->steps[i];
                FUZZ_CHECK(zone_to_string(s->zone));
                FUZZ_CHECK(s->intensity <= 100 && s->intensity_end <= 100);
                FUZZ_CHECK(s->duration_ms >= ROUTINE_STEP_MIN_MS &&
                           s->duration_ms <= ROUTINE_STEP_MAX_MS);
                FUZZ_CHECK(s->offset_ms == total);
                FUZZ_CHECK(routine_step_offset_ms(r, i) == total);
                FUZZ_CHECK(s->heat_celsius == 0 || (s->heat_celsius >= ROUTINE_HEAT_MIN_CELSIUS &&
                                                    s->heat_celsius <= ROUTINE_HEAT_MAX_CELSIUS));
                FUZZ_CHECK(!s->cue || strlen(s->cue) <= ROUTINE_CUE_MAX);
                total += s->duration_ms;
        }
        FUZZ_CHECK(total == r->duration_ms && total <= ROUTINE_TOTAL_MAX_MS);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        Routine *routine = NULL;
        char *error = NULL;
        int r;

        r = routine_parse_buffer("fuzz.routine", (const char *) data, size, &routine, &error);
        if (r >= 0)
                check_routine(routine);
        else
                FUZZ_CHECK(fuzz_error_names_file(r, error, "fuzz.routine"));
        free(error);
        routine_unref(routine);
        return 0;
}
