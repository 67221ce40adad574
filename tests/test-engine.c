/* SPDX-License-Identifier: MIT */

#include <math.h>

#include "engine.h"
#include "tests.h"

#define S UINT64_C(1000000)
#define T0 (1000 * S) /* an arbitrary monotonic start */

/* Three steps: 10 s constant at 20 %, 20 s ramp 20 -> 60 %, 30 s constant at 60 %. */
static const char routine_text[] =
        "[Routine]\nId=t\nName=T\nCondition=C\nSummary=S\nSource=S\n"
        "[Step 1]\nZone=calves\nPattern=knead\nIntensity=20\nDuration=10s\nCue=a\n"
        "[Step 2]\nZone=calves\nPattern=knead\nIntensity=20\nIntensityEnd=60\nDuration=20s\nCue=b\n"
        "[Step 3]\nZone=hamstrings\nPattern=sweep\nIntensity=60\nDuration=30s\nCue=c\n";

static Routine *load(void)
{
        _cleanup_free_ char *error = NULL;
        Routine *r = NULL;

        ASSERT_OK(routine_parse_buffer("t", routine_text, strlen(routine_text), &r, &error));
        return r;
}

static bool near(double a, double b)
{
        return fabs(a - b) < 1e-6;
}

static void test_engine_position_and_ramp_values(void)
{
        _cleanup_(routine_unrefp) Routine *r = load();
        EnginePosition p;
        Engine e;

        engine_init(&e, r, 1.0);
        engine_start(&e, T0);

        p = engine_position(&e, T0);
        ASSERT_EQ(p.step, 0);
        ASSERT_FALSE(p.ramping);
        ASSERT_TRUE(near(p.intensity, 20));

        /* Exactly at a deadline, the new step has begun. */
        p = engine_position(&e, T0 + 10 * S);
        ASSERT_EQ(p.step, 1);
        ASSERT_TRUE(p.ramping);
        ASSERT_TRUE(near(p.intensity, 20));

        /* Linear interpolation along the ramp. */
        p = engine_position(&e, T0 + 15 * S);
        ASSERT_TRUE(near(p.intensity, 30));
        p = engine_position(&e, T0 + 25 * S);
        ASSERT_TRUE(near(p.intensity, 50));
        ASSERT_EQ(p.elapsed_ms, 25000);

        p = engine_position(&e, T0 + 30 * S);
        ASSERT_EQ(p.step, 2);
        ASSERT_TRUE(near(p.intensity, 60));

        p = engine_position(&e, T0 + 60 * S);
        ASSERT_TRUE(p.finished);
        ASSERT_EQ(p.elapsed_ms, 60000);
}

static void test_engine_next_wakeup_only_while_ramping(void)
{
        _cleanup_(routine_unrefp) Routine *r = load();
        Engine e;

        engine_init(&e, r, 1.0);
        engine_start(&e, T0);

        /* A constant step: nothing until it ends. */
        ASSERT_EQ(engine_next_wakeup(&e, T0), T0 + 10 * S);
        ASSERT_EQ(engine_next_wakeup(&e, T0 + 3 * S), T0 + 10 * S);
        /* A ramp: the next point of the 20 Hz grid (T0 is on it). */
        ASSERT_EQ(engine_next_wakeup(&e, T0 + 10 * S), T0 + 10 * S + ENGINE_RAMP_INTERVAL_USEC);
        ASSERT_EQ(engine_next_wakeup(&e, T0 + 10 * S + 73000), T0 + 10 * S + 100000);
        /* The last tick of a ramp is the step's end, not beyond it. */
        ASSERT_EQ(engine_next_wakeup(&e, T0 + 30 * S - 1), T0 + 30 * S);
        ASSERT_EQ(engine_next_wakeup(&e, T0 + 30 * S), T0 + 60 * S);
        ASSERT_EQ(engine_next_wakeup(&e, T0 + 60 * S), ENGINE_NEVER);
}

/* Sessions started at any time tick together, so that many ramps cost one wakeup per tick. */
static void test_engine_ramps_share_one_grid(void)
{
        _cleanup_(routine_unrefp) Routine *r = load();
        Engine a, b;

        engine_init(&a, r, 1.0);
        engine_start(&a, T0);
        engine_init(&b, r, 1.0);
        engine_start(&b, T0 + 17321);
        for (uint64_t now = T0 + 10 * S + 20000; now < T0 + 30 * S; now += 33333) {
                uint64_t tick = engine_next_wakeup(&a, now);

                ASSERT_EQ(engine_next_wakeup(&b, now), tick);
                ASSERT_EQ(tick % ENGINE_RAMP_INTERVAL_USEC, 0);
                ASSERT_TRUE(tick > now && tick - now <= ENGINE_RAMP_INTERVAL_USEC);
        }
}

static void test_engine_deadlines_do_not_drift(void)
{
        _cleanup_(routine_unrefp) Routine *r = load();
        Engine e;

        engine_init(&e, r, 1.0);
        engine_start(&e, T0);
        /* However late earlier wakeups were, the schedule stays anchored at the start. */
        (void) engine_position(&e, T0 + 10 * S + 900000);
        ASSERT_EQ(engine_step_deadline(&e, 2), T0 + 30 * S);
        ASSERT_EQ(engine_next_wakeup(&e, T0 + 29 * S + 999999), T0 + 30 * S);
}

static void test_engine_pause_keeps_remaining_time(void)
{
        _cleanup_(routine_unrefp) Routine *r = load();
        EnginePosition p;
        Engine e;

        engine_init(&e, r, 1.0);
        engine_start(&e, T0);
        engine_pause(&e, T0 + 15 * S); /* mid-ramp, at 30 % */
        ASSERT_TRUE(engine_is_paused(&e));
        ASSERT_EQ(engine_next_wakeup(&e, T0 + 16 * S), ENGINE_NEVER);

        /* Paused time doesn't count. */
        p = engine_position(&e, T0 + 100 * S);
        ASSERT_EQ(p.elapsed_ms, 15000);
        ASSERT_TRUE(near(p.intensity, 30));

        engine_resume(&e, T0 + 115 * S); /* paused for 100 s */
        p = engine_position(&e, T0 + 115 * S);
        ASSERT_EQ(p.elapsed_ms, 15000);
        ASSERT_TRUE(near(p.intensity, 30));
        /* Everything after moved by exactly the pause. */
        ASSERT_EQ(engine_step_deadline(&e, 2), T0 + 130 * S);
        ASSERT_EQ(engine_step_deadline(&e, 3), T0 + 160 * S);
        ASSERT_TRUE(engine_position(&e, T0 + 160 * S).finished);
        ASSERT_FALSE(engine_position(&e, T0 + 160 * S - 1).finished);
}

static void test_engine_stop_mid_ramp_freezes(void)
{
        _cleanup_(routine_unrefp) Routine *r = load();
        EnginePosition p;
        Engine e;

        /* A session stopping mid-ramp freezes the engine (session_end pauses it). */
        engine_init(&e, r, 1.0);
        engine_start(&e, T0);
        engine_pause(&e, T0 + 20 * S);
        p = engine_position(&e, T0 + 1000 * S);
        ASSERT_EQ(p.step, 1);
        ASSERT_TRUE(near(p.intensity, 40));
        ASSERT_EQ(p.elapsed_ms, 20000);
        ASSERT_EQ(engine_next_wakeup(&e, T0 + 21 * S), ENGINE_NEVER);
}

static void test_engine_time_scale(void)
{
        _cleanup_(routine_unrefp) Routine *r = load();
        EnginePosition p;
        Engine e;

        engine_init(&e, r, 10.0);
        engine_start(&e, T0);
        ASSERT_EQ(engine_duration_usec(&e), 6 * S);
        ASSERT_EQ(engine_step_deadline(&e, 1), T0 + 1 * S);
        p = engine_position(&e, T0 + 1500000);
        ASSERT_EQ(p.step, 1);
        ASSERT_EQ(p.elapsed_ms, 15000);
        ASSERT_TRUE(near(p.intensity, 30));
        /* The ramp grid stays 20 Hz in real time. */
        ASSERT_EQ(engine_next_wakeup(&e, T0 + 1 * S), T0 + 1 * S + ENGINE_RAMP_INTERVAL_USEC);
}

RUN_TESTS(TEST_CASE(test_engine_position_and_ramp_values),
          TEST_CASE(test_engine_next_wakeup_only_while_ramping),
          TEST_CASE(test_engine_ramps_share_one_grid),
          TEST_CASE(test_engine_deadlines_do_not_drift),
          TEST_CASE(test_engine_pause_keeps_remaining_time),
          TEST_CASE(test_engine_stop_mid_ramp_freezes), TEST_CASE(test_engine_time_scale))
