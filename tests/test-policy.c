/* SPDX-License-Identifier: MIT */

#include "policy.h"
#include "tests.h"

static int parse(const char *text, Policy *ret, char **error)
{
        return policy_parse_buffer("p.conf", text, strlen(text), ret, error);
}

static void test_policy_defaults(void)
{
        Policy p;

        policy_init_defaults(&p);
        /* DESIGN.md and the issue: 15-minute sessions, 3 a day, 60 minutes' rest, 10 minutes
         * per zone, heat <= 41 C, intensity <= 70 %. */
        ASSERT_EQ(p.max_session_minutes, 15);
        ASSERT_EQ(p.max_sessions_per_day, 3);
        ASSERT_EQ(p.min_rest_minutes, 60);
        ASSERT_EQ(p.max_zone_minutes, 10);
        ASSERT_EQ(p.max_heat_celsius, 41);
        ASSERT_EQ(p.max_intensity, 70);
        ASSERT_EQ(p.start_intensity_max, 20);
        ASSERT_TRUE(p.max_ramp_percent_per_second == 3.0);
        ASSERT_EQ(p.keepalive_ms, 1000);
        ASSERT_TRUE(p.forbidden[ZONE_KNEECAP]);
        ASSERT_FALSE(p.forbidden[ZONE_QUADRICEPS]);
        ASSERT_EQ(p.zone_cap[ZONE_PERIPATELLAR], 20);
        ASSERT_EQ(p.zone_cap[ZONE_PATELLAR_TENDON], 20);
        ASSERT_EQ(p.zone_cap[ZONE_CALVES], 100);
        ASSERT_TRUE(p.screening_required);
        ASSERT_EQ(p.screening[SCREENING_DVT_SUSPECTED], SCREENING_REFUSE);
        ASSERT_EQ(p.screening[SCREENING_RECENT_INJURY], SCREENING_REFUSE);
        ASSERT_EQ(p.screening[SCREENING_OPEN_WOUND], SCREENING_REFUSE);
        ASSERT_EQ(p.screening[SCREENING_VARICOSE_VEINS], SCREENING_LOWER);
        ASSERT_EQ(p.screening[SCREENING_CARTILAGE_DAMAGE], SCREENING_LOWER);
        ASSERT_EQ(p.lockout_minutes[POLICY_LOCKOUT_PAIN], 1440);
        policy_done(&p);
}

static void test_policy_parse_full(void)
{
        _cleanup_free_ char *error = NULL;
        const DevicePolicy *dp;
        Policy p;

        ASSERT_OK(parse("# a comment\n"
                        "[Limits]\nMaxIntensity=100\nMaxSessionMinutes=30\nMaxSessionsPerDay=5\n"
                        "MinRestMinutes=0\nMaxZoneMinutes=5\nMaxRampPercentPerSecond=0.5\n"
                        "StartIntensityMax=10\nMaxHeatCelsius=0\nKeepaliveMs=250\n"
                        "[Zones]\nForbidden=adductors;calves\nquadriceps=50\nperipatellar=10\n"
                        "[Screening]\nRequired=no\nRefuse=dvt-suspected\n"
                        "Lower=varicose-veins;recent-injury\nLoweredMaxIntensity=25\n"
                        "LoweredMaxHeatCelsius=38\n"
                        "[Lockout]\nPainMinutes=0\nOverheatMinutes=10080\nFaultMinutes=5\n"
                        "[Device 0B49:064F]\nMaxIntensity=30\n"
                        "[Device virtual:virtual-heat]\nMaxHeatCelsius=35\n",
                        &p, &error));
        /* Looser and stricter than the defaults alike, within the hard bounds. */
        ASSERT_EQ(p.max_intensity, 100);
        ASSERT_EQ(p.max_session_minutes, 30);
        ASSERT_EQ(p.min_rest_minutes, 0);
        ASSERT_TRUE(p.max_ramp_percent_per_second == 0.5);
        ASSERT_EQ(p.max_heat_celsius, 0);
        ASSERT_EQ(p.keepalive_ms, 250);
        ASSERT_TRUE(p.forbidden[ZONE_ADDUCTORS] && p.forbidden[ZONE_CALVES]);
        /* The kneecap stays forbidden though the list doesn't name it. */
        ASSERT_TRUE(p.forbidden[ZONE_KNEECAP]);
        ASSERT_EQ(p.zone_cap[ZONE_QUADRICEPS], 50);
        ASSERT_EQ(p.zone_cap[ZONE_PERIPATELLAR], 10);
        ASSERT_FALSE(p.screening_required);
        /* A given list replaces the default one; answers on no list are allowed. */
        ASSERT_EQ(p.screening[SCREENING_DVT_SUSPECTED], SCREENING_REFUSE);
        ASSERT_EQ(p.screening[SCREENING_RECENT_INJURY], SCREENING_LOWER);
        ASSERT_EQ(p.screening[SCREENING_OPEN_WOUND], SCREENING_ALLOW);
        ASSERT_EQ(p.screening[SCREENING_BLOOD_THINNERS], SCREENING_ALLOW);
        ASSERT_EQ(p.lowered_max_intensity, 25);
        ASSERT_EQ(p.lowered_max_heat_celsius, 38);
        ASSERT_EQ(p.lockout_minutes[POLICY_LOCKOUT_PAIN], 0);
        ASSERT_EQ(p.lockout_minutes[POLICY_LOCKOUT_OVERHEAT], 10080);
        dp = policy_find_device(&p, "0b49:064f");
        ASSERT_TRUE(dp);
        ASSERT_EQ(dp->max_intensity, 30);
        ASSERT_EQ(dp->max_heat_celsius, -1);
        dp = policy_find_device(&p, "virtual:virtual-heat");
        ASSERT_TRUE(dp && dp->max_heat_celsius == 35 && dp->max_intensity == -1);
        ASSERT_TRUE(policy_find_device(&p, "1209:0001") == NULL);
        policy_done(&p);
}

static void check_error(const char *text, const char *expected)
{
        _cleanup_free_ char *error = NULL;
        Policy p = {.max_intensity = 12345};

        ASSERT_TRUE(parse(text, &p, &error) < 0);
        ASSERT_STREQ(error, expected);
        ASSERT_EQ(p.max_intensity, 12345); /* untouched on failure */
}

static void test_policy_parse_rejections(void)
{
        /* Unknown sections and keys. */
        check_error("[Limits]\nMaxIntensity=50\n[Extras]\n",
                    "p.conf:3: unknown section [Extras] (expected [Limits], [Zones], [Screening], "
                    "[Lockout] or [Device VVVV:PPPP])");
        check_error("[Limits]\nMaxSpeed=3\n", "p.conf:2: [Limits] unknown key 'MaxSpeed'");
        check_error("[Lockout]\nBoredomMinutes=3\n",
                    "p.conf:2: [Lockout] unknown key 'BoredomMinutes'");
        check_error("[Device 0b49:064f]\nLevels=3\n",
                    "p.conf:2: [Device 0b49:064f] unknown key 'Levels' (expected MaxIntensity or "
                    "MaxHeatCelsius)");
        check_error("[Device 0b49]\n",
                    "p.conf:1: invalid section [Device 0b49]: expected [Device VVVV:PPPP] with "
                    "four hex digits each, e.g. [Device 0b49:064f]");
        /* Bad numbers and units. */
        check_error("[Limits]\nMaxIntensity=lots\n",
                    "p.conf:2: [Limits] MaxIntensity: 'lots' is not a number (expected percent)");
        check_error("[Limits]\nMaxSessionMinutes=15min\n",
                    "p.conf:2: [Limits] MaxSessionMinutes: '15min' has a unit or trailing text; "
                    "write a plain number of minutes");
        check_error("[Limits]\nMaxHeatCelsius=40.5\n",
                    "p.conf:2: [Limits] MaxHeatCelsius: '40.5' must be a whole number of degrees "
                    "Celsius");
        check_error("[Limits]\nMaxIntensity=\n",
                    "p.conf:2: [Limits] MaxIntensity: '' is not a number (expected percent)");
        /* The hard bounds: an error, never a silent clamp. */
        check_error("[Limits]\nMaxSessionMinutes=31\n",
                    "p.conf:2: [Limits] MaxSessionMinutes: 31 is outside the hard bounds 1..30 "
                    "minutes");
        check_error("[Limits]\nMaxHeatCelsius=44\n",
                    "p.conf:2: [Limits] MaxHeatCelsius: 44 is outside the hard bounds 30..43 "
                    "degrees Celsius (or 0 for off)");
        check_error("[Limits]\nMaxHeatCelsius=20\n",
                    "p.conf:2: [Limits] MaxHeatCelsius: 20 is outside the hard bounds 30..43 "
                    "degrees Celsius (or 0 for off)");
        check_error(
                "[Limits]\nMaxIntensity=101\n",
                "p.conf:2: [Limits] MaxIntensity: 101 is outside the hard bounds 1..100 percent");
        check_error("[Limits]\nMaxIntensity=0\n",
                    "p.conf:2: [Limits] MaxIntensity: 0 is outside the hard bounds 1..100 percent");
        check_error("[Limits]\nMaxRampPercentPerSecond=11\n",
                    "p.conf:2: [Limits] MaxRampPercentPerSecond: 11 is outside the hard bounds "
                    "0.1..10 percent per second");
        check_error("[Limits]\nKeepaliveMs=100\n",
                    "p.conf:2: [Limits] KeepaliveMs: 100 is outside the hard bounds 250..5000 "
                    "milliseconds");
        check_error("[Lockout]\nPainMinutes=99999\n",
                    "p.conf:2: [Lockout] PainMinutes: 99999 is outside the hard bounds 0..10080 "
                    "minutes");
        check_error("[Device 0b49:064f]\nMaxIntensity=150\n",
                    "p.conf:2: [Device 0b49:064f] MaxIntensity: 150 is outside the hard bounds "
                    "1..100 percent");
        /* Zones. */
        check_error("[Zones]\nForbidden=shin\n",
                    "p.conf:2: [Zones] Forbidden: unknown zone 'shin'");
        check_error("[Zones]\nelbow=20\n",
                    "p.conf:2: [Zones] unknown key 'elbow' (expected Forbidden or a zone name with "
                    "its cap in percent)");
        check_error("[Zones]\nkneecap=20\n",
                    "p.conf:2: [Zones] kneecap: the kneecap is always forbidden and has no cap");
        check_error("[Zones]\ncalves=120\n",
                    "p.conf:2: [Zones] calves: 120 is outside the hard bounds 1..100 percent");
        /* Screening. */
        check_error("[Screening]\nRequired=perhaps\n",
                    "p.conf:2: [Screening] Required: 'perhaps' is not yes or no");
        check_error("[Screening]\nRefuse=sore-toe\n",
                    "p.conf:2: [Screening] Refuse: unknown answer 'sore-toe'");
        check_error("[Screening]\nLower=dvt-suspected\n",
                    "p.conf:2: [Screening] 'dvt-suspected' is on both the Refuse and the Lower "
                    "list; give both lists to move it");
        /* Duplicates, through the shared INI reader. */
        check_error("[Limits]\nMaxIntensity=50\nMaxIntensity=60\n",
                    "p.conf:3: duplicate key 'MaxIntensity' in [Limits]");
}

static void test_policy_load_missing(void)
{
        _cleanup_free_ char *error = NULL;
        Policy p;

        /* A missing file is for the caller to decide (it means the defaults). */
        ASSERT_ERROR(policy_load("/nonexistent/policy.conf", &p, &error), ENOENT);
}

static void test_policy_bounds_table(void)
{
        /* Every default lies within its hard bounds. */
        for (const PolicyBound *b = policy_bounds; b->key; b++)
                ASSERT_TRUE((b->zero_allowed && b->def == 0) ||
                            (b->def >= b->min && b->def <= b->max));
}

RUN_TESTS(TEST_CASE(test_policy_defaults), TEST_CASE(test_policy_parse_full),
          TEST_CASE(test_policy_parse_rejections), TEST_CASE(test_policy_load_missing),
          TEST_CASE(test_policy_bounds_table))
