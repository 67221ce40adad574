/* SPDX-License-Identifier: MIT */

/*
 * The one clamp, on the daemon's own Manager and Device objects (no bus), with a plugin that
 * records what it is told: every rule alone, the rules together, heat, and the watchdog.
 */

#include "device.h"
#include "manager.h"
#include "safety.h"
#include "tests.h"
#include "time-util.h"

static KneedOutput last;
static unsigned n_set, n_stop;

static int rec_probe(KneedDevice *d)
{
        return 0;
}

static void rec_remove(KneedDevice *d)
{
}

static int rec_set_output(KneedDevice *d, const KneedOutput *o)
{
        last = *o;
        n_set++;
        return 0;
}

static int rec_stop(KneedDevice *d)
{
        n_stop++;
        return 0;
}

static const KneedPlugin recorder = {
        .abi = KNEED_PLUGIN_ABI,
        .id = "recorder",
        .probe = rec_probe,
        .remove = rec_remove,
        .set_output = rec_set_output,
        .stop = rec_stop,
};
static const Plugin recorder_plugin = {.id = (char *) "recorder", .desc = &recorder};

typedef struct Fixture {
        Options options;
        Manager *m;
        Device *d;
} Fixture;

/* A manager with the default policy and one 20-level device with a 45 C heater. */
static void setup(Fixture *f)
{
        static char quadriceps[] = "quadriceps", peripatellar[] = "peripatellar",
                    calves[] = "calves";
        static char *zones[] = {quadriceps, peripatellar, calves, NULL};
        DeviceMatch match = {.type = DEVICE_MATCH_VIRTUAL,
                             .model = (char *) "test",
                             .string = (char *) "virtual:test"};
        DeviceInfo info = {.name = (char *) "Test",
                           .plugin = (char *) "recorder",
                           .zones = zones,
                           .levels = 20,
                           .max_heat_celsius = 45};

        *f = (Fixture){.options = {.time_scale = 1.0}};
        ASSERT_OK(manager_new(&f->options, &f->m));
        policy_init_defaults(&f->m->policy);
        f->m->policy_valid = true;
        ASSERT_OK(device_new(f->m, "t0", &info, &match, &recorder_plugin, &f->d));
        ASSERT_OK(device_probe(f->d));
        n_set = n_stop = 0;
        last = (KneedOutput){};
}

static void teardown(Fixture *f)
{
        device_free(f->d);
        manager_free(f->m);
}

static int out(Fixture *f, const char *zone, double intensity, unsigned heat,
               const SafetyContext *ctx, SafetyResult *res)
{
        OutputRequest req = {.zone = zone, .intensity = intensity, .heat_celsius = heat};
        static const SafetyContext later = {.time_scale = 1.0};

        /* Let the ramp limit allow anything, unless a test is about it. */
        f->d->ramp_usec = 0;
        return safety_output(f->d, &req, ctx ? ctx : &later, res);
}

static void test_safety_forbidden_zones(void)
{
        Fixture f;

        setup(&f);
        /* The kneecap is refused, never clamped, even if the device claimed it. */
        ASSERT_ERROR(out(&f, "kneecap", 10, 0, NULL, NULL), EDOM);
        f.m->policy.forbidden[ZONE_CALVES] = true;
        ASSERT_ERROR(out(&f, "calves", 10, 0, NULL, NULL), EDOM);
        ASSERT_ERROR(out(&f, "hamstrings", 10, 0, NULL, NULL), EINVAL); /* not on the device */
        ASSERT_EQ(n_set, 0);
        teardown(&f);
}

static void test_safety_each_rule_alone(void)
{
        SafetyContext first = {.first_step = true, .time_scale = 1.0};
        SafetyContext lowered = {.lowered = true, .time_scale = 1.0};
        SafetyResult res;
        Fixture f;

        setup(&f);
        f.m->policy.max_intensity = 100;

        /* The device's range: 0..100 % onto 0..20 steps, the nearest step, at least one. */
        ASSERT_OK(out(&f, "quadriceps", 100, 0, NULL, &res));
        ASSERT_EQ(last.level, 20);
        ASSERT_EQ(res.capped_by, SAFETY_RULE_NONE);
        ASSERT_OK(out(&f, "quadriceps", 1, 0, NULL, &res));
        ASSERT_EQ(last.level, 1);
        ASSERT_OK(out(&f, "quadriceps", 37, 0, NULL, &res)); /* 7.4 steps */
        ASSERT_EQ(last.level, 7);

        /* The policy's cap, rounding down: 47 % of 20 steps is 9.4, so 9. */
        f.m->policy.max_intensity = 47;
        ASSERT_OK(out(&f, "quadriceps", 80, 0, NULL, &res));
        ASSERT_EQ(last.level, 9);
        ASSERT_EQ(res.capped_by, SAFETY_RULE_POLICY);
        ASSERT_TRUE(res.intensity == 45.0);
        f.m->policy.max_intensity = 100;

        /* The zone's cap: around the kneecap 20 % by default. */
        ASSERT_OK(out(&f, "peripatellar", 50, 0, NULL, &res));
        ASSERT_EQ(last.level, 4);
        ASSERT_EQ(res.capped_by, SAFETY_RULE_ZONE);

        /* Screening lowered the caps: 40 % by default. */
        ASSERT_OK(out(&f, "quadriceps", 90, 0, &lowered, &res));
        ASSERT_EQ(last.level, 8);
        ASSERT_EQ(res.capped_by, SAFETY_RULE_SCREENING);

        /* The model's cap. */
        f.m->policy.devices = calloc(1, sizeof(DevicePolicy));
        f.m->policy.devices[0] = (DevicePolicy){
                .match = strdup("virtual:test"), .max_intensity = 30, .max_heat_celsius = -1};
        f.m->policy.n_devices = 1;
        ASSERT_OK(out(&f, "quadriceps", 90, 0, NULL, &res));
        ASSERT_EQ(last.level, 6);
        ASSERT_EQ(res.capped_by, SAFETY_RULE_MODEL);
        ASSERT_EQ(safety_device_max_intensity(f.d), 30);
        policy_done(&f.m->policy);

        /* The start ceiling, in a session's first step: 20 %. */
        ASSERT_OK(out(&f, "quadriceps", 90, 0, &first, &res));
        ASSERT_EQ(last.level, 4);
        ASSERT_EQ(res.capped_by, SAFETY_RULE_START);
        teardown(&f);
}

static void test_safety_ramp_limit(void)
{
        OutputRequest req = {.zone = "quadriceps", .intensity = 60};
        SafetyContext ctx = {.time_scale = 1.0};
        SafetyResult res;
        Fixture f;

        setup(&f);
        /* From a standstill, anything up to the start ceiling comes at once... */
        ASSERT_OK(out(&f, "quadriceps", 20, 0, NULL, NULL));
        ASSERT_EQ(last.level, 4);
        /* ...beyond it, no faster than MaxRampPercentPerSecond (3 %/s): 2 s later, 26 %. */
        f.d->ramp_usec = now_usec(CLOCK_MONOTONIC) - 2 * USEC_PER_SEC;
        ASSERT_OK(safety_output(f.d, &req, &ctx, &res));
        ASSERT_EQ(last.level, 5); /* floor(26 % of 20 steps) */
        ASSERT_EQ(res.capped_by, SAFETY_RULE_RAMP);
        ASSERT_TRUE(res.ramp_limited);
        /* In routine time: a virtual device at 10x may rise ten times as fast. */
        ctx.time_scale = 10;
        f.d->ramp_usec = now_usec(CLOCK_MONOTONIC) - USEC_PER_SEC;
        ASSERT_OK(safety_output(f.d, &req, &ctx, &res));
        ASSERT_EQ(last.level, 11); /* 25 + 30 = 55 % */
        /* Going down is never limited. */
        req.intensity = 5;
        ASSERT_OK(safety_output(f.d, &req, &ctx, &res));
        ASSERT_EQ(last.level, 1);
        ASSERT_FALSE(res.ramp_limited);
        teardown(&f);
}

static void test_safety_rules_together(void)
{
        SafetyContext all = {.first_step = true, .lowered = true, .time_scale = 1.0};
        SafetyResult res;
        Fixture f;

        setup(&f);
        /* Policy 70, zone 20, screening 40, start 20: the lowest wins, and the first rule in
         * the documented order that holds the request back is named. */
        ASSERT_OK(out(&f, "peripatellar", 100, 0, &all, &res));
        ASSERT_EQ(last.level, 4);
        ASSERT_EQ(res.capped_by, SAFETY_RULE_POLICY);
        f.m->policy.max_intensity = 100;
        ASSERT_OK(out(&f, "peripatellar", 100, 0, &all, &res));
        ASSERT_EQ(res.capped_by, SAFETY_RULE_ZONE);
        f.m->policy.zone_cap[ZONE_PERIPATELLAR] = 10;
        ASSERT_OK(out(&f, "peripatellar", 100, 0, &all, &res));
        ASSERT_EQ(last.level, 2);
        teardown(&f);
}

static void test_safety_heat_caps(void)
{
        SafetyContext lowered = {.lowered = true, .time_scale = 1.0};
        KneedStatus hot = {.contact = -1};
        SafetyResult res;
        Fixture f;

        setup(&f);
        /* The policy's 41 C under the device's 45 C. */
        ASSERT_OK(out(&f, "calves", 10, 43, NULL, &res));
        ASSERT_EQ(last.heat_celsius, 41);
        ASSERT_TRUE(res.heat_capped);
        /* Screening lowered: no heat by default. */
        ASSERT_OK(out(&f, "calves", 10, 40, &lowered, &res));
        ASSERT_EQ(last.heat_celsius, 0);
        /* The hard bound, whatever the policy says. */
        f.m->policy.max_heat_celsius = 60;
        ASSERT_OK(out(&f, "calves", 10, 60, NULL, &res));
        ASSERT_EQ(last.heat_celsius, SAFETY_HEAT_HARD_MAX_CELSIUS);
        f.m->policy.max_heat_celsius = 41;

        /* Too hot: the heater goes off for good; the motor may go on. */
        hot.temperature_decicelsius = 418;
        ASSERT_EQ(safety_check_temperature(f.d, &hot), 1);
        ASSERT_OK(out(&f, "calves", 10, 40, NULL, &res));
        ASSERT_EQ(last.heat_celsius, 0);
        ASSERT_EQ(last.level, 2);
        ASSERT_EQ(f.d->state, DEVICE_IDLE);
        /* Past the hard bound: everything off. */
        n_stop = 0;
        hot.temperature_decicelsius = 440;
        ASSERT_EQ(safety_check_temperature(f.d, &hot), 1);
        ASSERT_EQ(n_stop, 1);
        teardown(&f);
}

static void test_safety_sends_only_changes(void)
{
        Fixture f;

        setup(&f);
        ASSERT_OK(out(&f, "quadriceps", 30, 0, NULL, NULL));
        ASSERT_OK(out(&f, "quadriceps", 31, 0, NULL, NULL)); /* the same step */
        ASSERT_EQ(n_set, 1);
        ASSERT_OK(out(&f, "calves", 31, 0, NULL, NULL));
        ASSERT_EQ(n_set, 2);
        /* After a stop the same command is sent again. */
        ASSERT_OK(device_send_stop(f.d));
        ASSERT_OK(out(&f, "calves", 31, 0, NULL, NULL));
        ASSERT_EQ(n_set, 3);
        teardown(&f);
}

static void test_safety_fails_closed(void)
{
        Fixture f;

        setup(&f);
        f.m->policy_valid = false;
        ASSERT_ERROR(out(&f, "quadriceps", 30, 0, NULL, NULL), EBADMSG);
        f.m->policy_valid = true;
        f.d->state = DEVICE_FAULTED;
        ASSERT_ERROR(out(&f, "quadriceps", 30, 0, NULL, NULL), EIO);
        ASSERT_EQ(n_set, 0);
        teardown(&f);
}

static void test_output_watchdog(void)
{
        uint64_t start;
        Fixture f;

        setup(&f);
        ASSERT_OK(out(&f, "quadriceps", 30, 0, NULL, NULL));
        /* The driver promises to be back within 50 ms, and then isn't. */
        device_expect_refresh(f.d, now_usec(CLOCK_MONOTONIC) + 50 * USEC_PER_MSEC);
        start = now_usec(CLOCK_MONOTONIC);
        while (n_stop == 0 && now_usec(CLOCK_MONOTONIC) - start < 2 * USEC_PER_SEC)
                ASSERT_OK(sd_event_run(f.m->event, 100 * USEC_PER_MSEC));
        ASSERT_EQ(n_stop, 1);
        /* 50 ms plus the 500 ms grace, not before. */
        ASSERT_TRUE(now_usec(CLOCK_MONOTONIC) - start >= 540 * USEC_PER_MSEC);

        /* Kept promises keep it quiet. */
        n_stop = 0;
        ASSERT_OK(out(&f, "quadriceps", 40, 0, NULL, NULL));
        start = now_usec(CLOCK_MONOTONIC);
        while (now_usec(CLOCK_MONOTONIC) - start < 800 * USEC_PER_MSEC) {
                device_expect_refresh(f.d, now_usec(CLOCK_MONOTONIC) + 50 * USEC_PER_MSEC);
                ASSERT_OK(sd_event_run(f.m->event, 50 * USEC_PER_MSEC));
        }
        ASSERT_EQ(n_stop, 0);
        teardown(&f);
}

RUN_TESTS(TEST_CASE(test_safety_forbidden_zones), TEST_CASE(test_safety_each_rule_alone),
          TEST_CASE(test_safety_ramp_limit), TEST_CASE(test_safety_rules_together),
          TEST_CASE(test_safety_heat_caps), TEST_CASE(test_safety_sends_only_changes),
          TEST_CASE(test_safety_fails_closed), TEST_CASE(test_output_watchdog))
