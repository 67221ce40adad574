/* SPDX-License-Identifier: MIT */

/*
 * The shipped preset library: every routine loads, and each follows the rules from the seed
 * articles that the engine can see. A routine or step that breaks one has no place in it.
 */

#include "routine-set.h"
#include "strv.h"
#include "tests.h"
#include "zone.h"

/* The seed articles, by title (../shared/seeds). */
static const char *const seed_titles[] = {
        "Can Massage Help Patellofemoral Pain Syndrome? What To Know",   /* 000 */
        "Knee Pain: Self-Massage Techniques, Benefits, and Precautions", /* 001 */
        "Does Massage Help Knee Pain? What the Science Says",            /* 002 */
        "Massage For Knee Pain",                                         /* 003 */
        "About My Aches: Runner's Knee",                                 /* 004 */
};

/* Seeds 000 and 001: start at the lowest or a light setting. The policy's StartIntensityMax. */
#define GENTLE_START_PERCENT 20
/* Seed 001: regular short sessions, 5-10 minutes per area. */
#define ZONE_MAX_MS (10 * 60 * 1000)
/* Product manuals: 15-minute sessions (the policy's MaxSessionMinutes default). */
#define ROUTINE_MAX_MS (15 * 60 * 1000)
/* Seeds 000, 001: increase gradually. Within a ramp (below the policy's default ramp limit
 * of 3 %/s, so the default policy never holds a preset back), and between steps. */
#define RAMP_MAX_PERCENT_PER_S 2.0
#define STEP_JUMP_MAX 10
/* Seed 001: very gentle around the kneecap and on the patellar tendon. */
#define PERIPATELLAR_MAX_PERCENT 20
/* IEC 60601-1: applied parts at or below 41 degrees Celsius. */
#define HEAT_MAX_CELSIUS 41

static RoutineSet library;

static void load_library(void)
{
        _cleanup_strv_free_ char **errors = NULL;
        char dir[4096];

        snprintf(dir, sizeof(dir), "%s/routines", getenv("KNEED_DATA_DIR"));
        ASSERT_OK(routine_set_load_dir(&library, dir, &errors));
        STRV_FOREACH (e, errors)
                fprintf(stderr, "%s\n", *e);
        ASSERT_EQ(strv_length(errors), 0);
}

static const Routine *get(const char *id)
{
        const Routine *r = routine_set_find(&library, id);
        if (!r)
                fprintf(stderr, "missing preset routine '%s'\n", id);
        ASSERT_TRUE(r);
        return r;
}

static void test_library_has_the_presets(void)
{
        static const char *const presets[] = {
                "pfps-massage-gun",    "pfps-body-massager", "quadriceps-release",
                "hamstring-release",   "it-band-release",    "calf-release",
                "peripatellar-gentle", "knee-oa-comfort",    "post-activity-recovery",
                "runners-knee-full",
        };

        load_library();
        for (size_t i = 0; i < ELEMENTSOF(presets); i++)
                (void) get(presets[i]);
}

static bool is_seed_title(const char *s)
{
        for (size_t i = 0; i < ELEMENTSOF(seed_titles); i++)
                if (streq(s, seed_titles[i]))
                        return true;
        return false;
}

static void test_library_follows_the_seeds(void)
{
        for (size_t i = 0; i < library.n_routines; i++) {
                const Routine *r = library.routines[i];
                uint32_t zone_ms[ZONE_MAX] = {};

                fprintf(stderr, "   %s\n", r->id);
                STRV_FOREACH (src, r->sources)
                        ASSERT_TRUE(is_seed_title(*src));
                ASSERT_TRUE(r->steps[0].intensity <= GENTLE_START_PERCENT);
                ASSERT_TRUE(r->duration_ms <= ROUTINE_MAX_MS);

                for (unsigned k = 0; k < r->n_steps; k++) {
                        const Step *s = &r->steps[k];
                        int z = s->zone;
                        double rise = ((double) s->intensity_end - s->intensity) /
                                      (s->duration_ms / 1000.0);

                        ASSERT_TRUE(z >= 0 && z < ZONE_MAX && z != ZONE_KNEECAP);
                        zone_ms[z] += s->duration_ms;
                        ASSERT_TRUE(rise <= RAMP_MAX_PERCENT_PER_S);
                        if (k > 0)
                                ASSERT_TRUE((int) s->intensity -
                                                    (int) r->steps[k - 1].intensity_end <=
                                            STEP_JUMP_MAX);
                        if (z == ZONE_PERIPATELLAR || z == ZONE_PATELLAR_TENDON)
                                ASSERT_TRUE(MAX(s->intensity, s->intensity_end) <=
                                            PERIPATELLAR_MAX_PERCENT);
                        ASSERT_TRUE(s->heat_celsius <= HEAT_MAX_CELSIUS);
                        ASSERT_TRUE(strlen(s->cue) > 10);
                }
                for (int z = 0; z < ZONE_MAX; z++)
                        ASSERT_TRUE(zone_ms[z] <= ZONE_MAX_MS);
        }
}

static uint32_t time_on(const Routine *r, const char *zone, unsigned from, unsigned to)
{
        uint32_t t = 0;
        for (unsigned k = from; k < to && k < r->n_steps; k++)
                if (streq(zone_to_string(r->steps[k].zone), zone))
                        t += r->steps[k].duration_ms;
        return t;
}

static void test_massage_gun_routine(void)
{
        const Routine *r = get("pfps-massage-gun");

        /* Seed 000: a 10-20 s warm-up sweep over quadriceps and hamstrings at the lowest setting.
         */
        ASSERT_EQ(r->steps[0].pattern, KNEED_PATTERN_SWEEP);
        ASSERT_STREQ(zone_to_string(r->steps[0].zone), "quadriceps");
        ASSERT_STREQ(zone_to_string(r->steps[1].zone), "hamstrings");
        ASSERT_EQ(r->steps[0].intensity, r->steps[1].intensity);
        ASSERT_TRUE(r->steps[0].duration_ms + r->steps[1].duration_ms >= 10000);
        ASSERT_TRUE(r->steps[0].duration_ms + r->steps[1].duration_ms <= 20000);
        /* Then a gradual increase, and 45-60 s on the quadriceps, then the hamstrings. */
        ASSERT_TRUE(r->steps[2].intensity_end > r->steps[2].intensity);
        ASSERT_TRUE(time_on(r, "quadriceps", 2, r->n_steps) >= 45000);
        ASSERT_TRUE(time_on(r, "quadriceps", 2, r->n_steps) <= 60000);
        ASSERT_TRUE(time_on(r, "hamstrings", 2, r->n_steps) >= 45000);
        ASSERT_TRUE(time_on(r, "hamstrings", 2, r->n_steps) <= 60000);
        ASSERT_STREQ(zone_to_string(r->steps[r->n_steps - 1].zone), "hamstrings");
}

static void test_body_massager_routine(void)
{
        const Routine *r = get("pfps-body-massager");
        uint32_t warmup = 0, deep = 0;
        unsigned k = 0;

        /* Seed 000: a light 1-2 minute warm-up of hamstrings, calves and quadriceps... */
        for (; k < r->n_steps && r->steps[k].intensity == r->steps[k].intensity_end; k++)
                warmup += r->steps[k].duration_ms;
        ASSERT_TRUE(warmup >= 60000 && warmup <= 120000);
        ASSERT_TRUE(time_on(r, "hamstrings", 0, k) > 0);
        ASSERT_TRUE(time_on(r, "calves", 0, k) > 0);
        ASSERT_TRUE(time_on(r, "quadriceps", 0, k) > 0);
        /* ...a gradual increase, then 5-10 minutes of deeper work on the same muscles. */
        ASSERT_TRUE(r->steps[k].intensity_end > r->steps[k].intensity);
        for (; k < r->n_steps; k++)
                deep += r->steps[k].duration_ms;
        ASSERT_TRUE(deep >= 5 * 60000 && deep <= 10 * 60000);
}

static void test_release_routines(void)
{
        const Routine *q = get("quadriceps-release"), *it = get("it-band-release");
        bool hold = false;

        /* Seed 001: the vastus lateralis is worked, and tender spots are held 20-30 s. */
        ASSERT_TRUE(time_on(q, "vastus-lateralis", 0, q->n_steps) > 0);
        for (unsigned k = 0; k < q->n_steps; k++)
                hold = hold ||
                       (q->steps[k].pattern == KNEED_PATTERN_KNEAD &&
                        q->steps[k].duration_ms >= 20000 && q->steps[k].duration_ms <= 30000);
        ASSERT_TRUE(hold);

        /* Seeds 001, 002: the IT band via the TFL and glutes, then down to above the knee. */
        ASSERT_STREQ(zone_to_string(it->steps[0].zone), "tfl-glutes");
        for (unsigned k = 0; k < it->n_steps; k++)
                ASSERT_TRUE(streq(zone_to_string(it->steps[k].zone), "tfl-glutes") ||
                            streq(zone_to_string(it->steps[k].zone), "it-band"));
        ASSERT_TRUE(time_on(it, "it-band", 0, it->n_steps) > 0);

        for (unsigned k = 0; k < get("calf-release")->n_steps; k++)
                ASSERT_STREQ(zone_to_string(get("calf-release")->steps[k].zone), "calves");
        for (unsigned k = 0; k < get("hamstring-release")->n_steps; k++)
                ASSERT_STREQ(zone_to_string(get("hamstring-release")->steps[k].zone), "hamstrings");
}

static void test_gentle_and_heat_routines(void)
{
        const Routine *p = get("peripatellar-gentle"), *oa = get("knee-oa-comfort");
        const Routine *full = get("runners-knee-full");
        bool heat = false;

        /* Seed 001: around the kneecap, never on it, at low intensity. */
        for (unsigned k = 0; k < p->n_steps; k++) {
                ASSERT_TRUE(streq(zone_to_string(p->steps[k].zone), "peripatellar") ||
                            streq(zone_to_string(p->steps[k].zone), "patellar-tendon"));
                ASSERT_TRUE(p->steps[k].intensity <= 15);
        }
        /* Seeds 002, 003: osteoarthritis with heat where there is a heater, not required. */
        for (unsigned k = 0; k < oa->n_steps; k++)
                heat = heat || oa->steps[k].heat_celsius > 0;
        ASSERT_TRUE(heat);
        ASSERT_FALSE(routine_requires(oa, "heat"));
        /* Seed 004: quads, hamstrings, calves, glutes and IT band. */
        for (size_t i = 0; i < 5; i++) {
                static const char *const zones[] = {"quadriceps", "hamstrings", "calves",
                                                    "tfl-glutes", "it-band"};
                ASSERT_TRUE(time_on(full, zones[i], 0, full->n_steps) > 0);
        }
        routine_set_clear(&library);
}

RUN_TESTS(TEST_CASE(test_library_has_the_presets), TEST_CASE(test_library_follows_the_seeds),
          TEST_CASE(test_massage_gun_routine), TEST_CASE(test_body_massager_routine),
          TEST_CASE(test_release_routines), TEST_CASE(test_gentle_and_heat_routines))
