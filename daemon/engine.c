/* SPDX-License-Identifier: MIT */

#include "engine.h"
#include "macro.h"
#include "math-util.h"

void engine_init(Engine *e, const Routine *r, double time_scale)
{
        *e = (Engine){
                .routine = r,
                .time_scale = time_scale >= 1.0 ? time_scale : 1.0,
        };
}

void engine_start(Engine *e, uint64_t now)
{
        e->start_usec = now;
        e->paused_at_usec = 0;
}

bool engine_is_paused(const Engine *e)
{
        return e->paused_at_usec != 0;
}

void engine_pause(Engine *e, uint64_t now)
{
        if (!engine_is_paused(e))
                e->paused_at_usec = MAX(now, 1u);
}

void engine_resume(Engine *e, uint64_t now)
{
        if (!engine_is_paused(e))
                return;
        /* Shift the whole schedule by the pause: the remaining time is kept exactly. */
        e->start_usec += now - e->paused_at_usec;
        e->paused_at_usec = 0;
}

static uint64_t routine_to_real_usec(const Engine *e, uint64_t routine_usec)
{
        if (e->time_scale == 1.0)
                return routine_usec;
        return round_nonneg((double) routine_usec / e->time_scale);
}

uint64_t engine_step_deadline(const Engine *e, unsigned i)
{
        uint64_t offset_ms = routine_step_offset_ms(e->routine, i);
        return e->start_usec + routine_to_real_usec(e, offset_ms * 1000);
}

uint64_t engine_routine_deadline(const Engine *e, uint64_t routine_ms)
{
        return e->start_usec + routine_to_real_usec(e, routine_ms * 1000);
}

uint64_t engine_duration_usec(const Engine *e)
{
        return routine_to_real_usec(e, (uint64_t) e->routine->duration_ms * 1000);
}

EnginePosition engine_position(const Engine *e, uint64_t now)
{
        const Routine *r = e->routine;
        EnginePosition p = {};
        uint64_t begin, end, elapsed;
        const Step *s;

        if (engine_is_paused(e))
                now = e->paused_at_usec;
        if (now < e->start_usec)
                now = e->start_usec;

        elapsed = round_nonneg((double) (now - e->start_usec) * e->time_scale / 1000.0);
        p.elapsed_ms = (uint32_t) MIN(elapsed, (uint64_t) r->duration_ms);

        /* The step is found by comparing with the deadlines themselves, so that a wakeup at
         * exactly a deadline is always in the new step, whatever the rounding. */
        while (p.step < r->n_steps && engine_step_deadline(e, p.step + 1) <= now)
                p.step++;
        if (p.step >= r->n_steps) {
                p.finished = true;
                p.elapsed_ms = r->duration_ms;
                return p;
        }

        s = &r->steps[p.step];
        begin = engine_step_deadline(e, p.step);
        end = engine_step_deadline(e, p.step + 1);
        p.ramping = s->intensity != s->intensity_end;
        if (p.ramping && end > begin)
                p.intensity = s->intensity + ((double) s->intensity_end - s->intensity) *
                                                     (double) (now - begin) /
                                                     (double) (end - begin);
        else
                p.intensity = s->intensity;
        return p;
}

uint64_t engine_next_wakeup(const Engine *e, uint64_t now)
{
        EnginePosition p;
        uint64_t end, tick;

        if (engine_is_paused(e))
                return ENGINE_NEVER;
        p = engine_position(e, now);
        if (p.finished)
                return ENGINE_NEVER;

        end = engine_step_deadline(e, p.step + 1);
        if (!p.ramping)
                return end;

        /* Next point on one 20 Hz grid for every session, so that ramping sessions wake kneed
         * together: one wakeup per tick however many there are. */
        tick = (now / ENGINE_RAMP_INTERVAL_USEC + 1) * ENGINE_RAMP_INTERVAL_USEC;
        return MIN(tick, end);
}
