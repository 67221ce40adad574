/* SPDX-License-Identifier: MIT */

#include <math.h>

#include "math-util.h"
#include "tests.h"

/* The same answers as libm's, which kneed no longer links, over what kneed rounds. */
static void test_round_nonneg_matches_lround(void)
{
        static const double values[] = {0.0,      0.4,    0.5,       0.49999999999999994, 1.5,
                                        2.5,      19.999, 33.333333, 66.66666666666667,   99.5,
                                        1e9 + 0.5};

        for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
                ASSERT_EQ(round_nonneg(values[i]), llround(values[i]));
        ASSERT_EQ(round_nonneg(-0.7), 0);
        ASSERT_EQ(round_nonneg(NAN), 0);
}

static void test_floor_nonneg(void)
{
        ASSERT_EQ(floor_nonneg(0.999999), 0);
        ASSERT_EQ(floor_nonneg(1.0), 1);
        ASSERT_EQ(floor_nonneg(7.9), 7);
        ASSERT_EQ(floor_nonneg(-2.5), 0);
}

static void test_double_is_whole(void)
{
        ASSERT_TRUE(double_is_whole(0));
        ASSERT_TRUE(double_is_whole(-3));
        ASSERT_TRUE(double_is_whole(1e300));
        ASSERT_FALSE(double_is_whole(2.5));
        ASSERT_FALSE(double_is_whole(-0.1));
}

RUN_TESTS(TEST_CASE(test_round_nonneg_matches_lround), TEST_CASE(test_floor_nonneg),
          TEST_CASE(test_double_is_whole))
