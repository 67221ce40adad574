/* SPDX-License-Identifier: MIT */

#include "routine-set.h"
#include "routine.h"
#include "strv.h"
#include "tests.h"

#define HEADER                      \
        "[Routine]\n"               \
        "Id=test\n"                 \
        "Name=Test\n"               \
        "Condition=Testing\n"       \
        "Summary=A test routine.\n" \
        "Source=Knee Pain: Self-Massage Techniques, Benefits, and Precautions\n"

#define STEP1               \
        "[Step 1]\n"        \
        "Zone=quadriceps\n" \
        "Pattern=sweep\n"   \
        "Intensity=10\n"    \
        "Duration=20s\n"    \
        "Cue=Sweep the thigh.\n"

static int parse(const char *text, Routine **ret, char **error)
{
        return routine_parse_buffer("t.routine", text, strlen(text), ret, error);
}

static void test_parse_duration_ms(void)
{
        uint32_t ms;

        ASSERT_OK(parse_duration_ms("20s", &ms));
        ASSERT_EQ(ms, 20000);
        ASSERT_OK(parse_duration_ms("1m30s", &ms));
        ASSERT_EQ(ms, 90000);
        ASSERT_OK(parse_duration_ms("2m", &ms));
        ASSERT_EQ(ms, 120000);
        ASSERT_OK(parse_duration_ms("0s", &ms));
        ASSERT_EQ(ms, 0);
        ASSERT_ERROR(parse_duration_ms("20", &ms), EINVAL);
        ASSERT_ERROR(parse_duration_ms("30s1m", &ms), EINVAL);
        ASSERT_ERROR(parse_duration_ms("1m1m", &ms), EINVAL);
        ASSERT_ERROR(parse_duration_ms("1.5m", &ms), EINVAL);
        ASSERT_ERROR(parse_duration_ms("-5s", &ms), EINVAL);
        ASSERT_ERROR(parse_duration_ms("5 s", &ms), EINVAL);
        ASSERT_ERROR(parse_duration_ms("", &ms), EINVAL);
        ASSERT_ERROR(parse_duration_ms("5h", &ms), EINVAL);
        ASSERT_ERROR(parse_duration_ms("99999999999s", &ms), ERANGE);
}

static void test_routine_parse_valid(void)
{
        _cleanup_(routine_unrefp) Routine *r = NULL;
        _cleanup_free_ char *error = NULL;

        ASSERT_OK(parse(HEADER "Requires=heat\n" STEP1
                               "[Step 2]\nZone=calves\nPattern=knead\nIntensity=10\n"
                               "IntensityEnd=40\nDuration=1m30s\nHeat=40\nCue=Knead the calf.\n",
                        &r, &error));
        ASSERT_STREQ(r->id, "test");
        ASSERT_STREQ(r->name, "Test");
        ASSERT_EQ(strv_length(r->sources), 1);
        ASSERT_TRUE(routine_requires(r, "heat"));
        ASSERT_EQ(r->n_steps, 2);
        ASSERT_EQ(r->duration_ms, 110000);
        ASSERT_STREQ(zone_to_string(r->steps[0].zone), "quadriceps");
        ASSERT_EQ(r->steps[0].pattern, KNEED_PATTERN_SWEEP);
        /* Without IntensityEnd a step is constant. */
        ASSERT_EQ(r->steps[0].intensity_end, 10);
        ASSERT_EQ(r->steps[0].heat_celsius, 0);
        ASSERT_EQ(r->steps[1].intensity_end, 40);
        ASSERT_EQ(r->steps[1].heat_celsius, 40);
        ASSERT_EQ(routine_step_offset_ms(r, 1), 20000);
        ASSERT_EQ(routine_step_offset_ms(r, 2), 110000);
}

static void test_routine_parse_steps_in_any_order(void)
{
        _cleanup_(routine_unrefp) Routine *r = NULL;
        _cleanup_free_ char *error = NULL;

        ASSERT_OK(parse(
                HEADER
                "[Step 2]\nZone=calves\nPattern=knead\nIntensity=30\nDuration=10s\nCue=B\n" STEP1,
                &r, &error));
        ASSERT_STREQ(zone_to_string(r->steps[0].zone), "quadriceps");
        ASSERT_STREQ(zone_to_string(r->steps[1].zone), "calves");
}

static void check_error(const char *text, const char *expected)
{
        _cleanup_(routine_unrefp) Routine *r = NULL;
        _cleanup_free_ char *error = NULL;

        ASSERT_TRUE(parse(text, &r, &error) < 0);
        ASSERT_TRUE(r == NULL);
        ASSERT_STREQ(error, expected);
}

static void test_routine_parse_rejections(void)
{
        /* Unknown section and key, with the line they are on. */
        check_error(HEADER STEP1 "[Extras]\n",
                    "t.routine:13: unknown section [Extras] (expected [Routine] or [Step N])");
        check_error(HEADER "Colour=blue\n" STEP1, "t.routine:7: unknown key 'Colour' in [Routine]");
        check_error(HEADER STEP1 "Speed=3\n", "t.routine:13: unknown key 'Speed' in [Step 1]");
        /* Zones and patterns come from fixed vocabularies. */
        check_error(HEADER "[Step 1]\nZone=shin\n", "t.routine:8: unknown zone 'shin'");
        check_error(HEADER "[Step 1]\nPattern=tickle\n",
                    "t.routine:8: unknown pattern 'tickle' (known: continuous, pulse, wave, "
                    "percussion, knead, sweep)");
        /* Step numbers: valid, and none missing. */
        check_error(HEADER "[Step 0]\n",
                    "t.routine:7: invalid section [Step 0]: steps are numbered 1..64");
        check_error(HEADER "[Step x]\n",
                    "t.routine:7: invalid section [Step x]: steps are numbered 1..64");
        check_error(HEADER "[Step 65]\n",
                    "t.routine:7: invalid section [Step 65]: steps are numbered 1..64");
        check_error(HEADER STEP1
                    "[Step 3]\nZone=calves\nPattern=knead\nIntensity=30\nDuration=10s\nCue=B\n",
                    "t.routine: missing [Step 2] (steps are 1..3)");
        check_error(HEADER, "t.routine: no [Step 1]");
        /* Durations: zero and absurd. */
        check_error(HEADER "[Step 1]\nDuration=0s\n",
                    "t.routine:8: Duration '0s' out of range: a step lasts 1s to 20m");
        check_error(HEADER "[Step 1]\nDuration=21m\n",
                    "t.routine:8: Duration '21m' out of range: a step lasts 1s to 20m");
        check_error(HEADER "[Step 1]\nDuration=ten\n",
                    "t.routine:8: invalid Duration 'ten': expected minutes and seconds such as "
                    "20s, 2m or 1m30s");
        /* Intensities: whole percentages 0..100. */
        check_error(HEADER "[Step 1]\nIntensity=101\n",
                    "t.routine:8: invalid Intensity '101': expected a whole percentage 0..100");
        check_error(HEADER "[Step 1]\nIntensityEnd=-5\n",
                    "t.routine:8: invalid IntensityEnd '-5': expected a whole percentage 0..100");
        check_error(HEADER "[Step 1]\nIntensity=12.5\n",
                    "t.routine:8: invalid Intensity '12.5': expected a whole percentage 0..100");
        /* Heat within the hard bound. */
        check_error(HEADER "[Step 1]\nHeat=50\n",
                    "t.routine:8: invalid Heat '50': expected 0 (off) or 30..43 degrees Celsius");
        /* Missing pieces. */
        check_error("[Routine]\nId=x\n" STEP1, "t.routine: missing key Name in [Routine]");
        check_error(STEP1, "t.routine: missing section [Routine]");
        check_error(HEADER "[Step 1]\nZone=calves\nPattern=knead\nIntensity=10\nDuration=10s\n",
                    "t.routine:7: missing key Cue in [Step 1]");
        check_error(HEADER "Requires=wifi\n" STEP1,
                    "t.routine:7: unknown capability 'wifi' in Requires (known: heat)");
        check_error(HEADER "Id=Bad Id\n", "t.routine:7: duplicate key 'Id' in [Routine]");
        check_error("[Routine]\nId=Bad Id\n",
                    "t.routine:2: invalid Id 'Bad Id': expected [a-z0-9-]+");
        /* A routine longer than any session may last. */
        check_error(HEADER
                    "[Step 1]\nZone=calves\nPattern=knead\nIntensity=10\nDuration=20m\nCue=A\n"
                    "[Step 2]\nZone=calves\nPattern=knead\nIntensity=10\nDuration=11m\nCue=B\n",
                    "t.routine: the steps last 1860s in all, more than the 30 minute limit of any "
                    "session");
}

static void write_file(const char *dir, const char *name, const char *text)
{
        char path[512];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        ASSERT_TRUE((f = fopen(path, "we")));
        fputs(text, f);
        fclose(f);
}

static void test_routine_set_load_dir(void)
{
        char dir[] = "/tmp/kneed-test-routines-XXXXXX", cmd[600];
        _cleanup_strv_free_ char **errors = NULL;
        RoutineSet set = {};

        ASSERT_TRUE(mkdtemp(dir));
        write_file(dir, "a.routine", HEADER STEP1);
        write_file(dir, "b.routine", HEADER STEP1); /* same Id as a */
        write_file(dir, "c.routine", HEADER "Pattern=x\n");
        write_file(dir, "d.routine",
                   "[Routine]\nId=other\nName=O\nCondition=C\nSummary=S\nSource=S\n" STEP1);
        write_file(dir, "notes.txt", "not a routine");

        /* One bad file never stops the others. */
        ASSERT_EQ(routine_set_load_dir(&set, dir, &errors), 2);
        ASSERT_EQ(set.n_routines, 2);
        ASSERT_TRUE(routine_set_find(&set, "test") != NULL);
        ASSERT_TRUE(routine_set_find(&set, "other") != NULL);
        ASSERT_EQ(strv_length(errors), 2);
        ASSERT_CONTAINS(errors[0], "b.routine: duplicate routine Id 'test', already defined by");
        ASSERT_CONTAINS(errors[1], "c.routine:7: unknown key 'Pattern' in [Routine]");
        routine_set_clear(&set);

        ASSERT_ERROR(routine_set_load_dir(&set, "/nonexistent/routines", NULL), ENOENT);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        ASSERT_EQ(system(cmd), 0);
}

RUN_TESTS(TEST_CASE(test_parse_duration_ms), TEST_CASE(test_routine_parse_valid),
          TEST_CASE(test_routine_parse_steps_in_any_order),
          TEST_CASE(test_routine_parse_rejections), TEST_CASE(test_routine_set_load_dir))
