/* SPDX-License-Identifier: MIT */

/* The okmp wire format, byte for byte, and every malformed report refused. */

#include <errno.h>

#include "okmp-protocol.h"
#include "tests.h"

static const uint8_t capabilities[OKMP_CAPABILITIES_SIZE] = {
        1, 1, 4, 1, 5, 6, 10, 0, 0, 0, 0, 10, 42, 0x07, 0, 0,
};

static void test_okmp_parse_capabilities(void)
{
        OkmpCapabilities c;
        uint8_t bad[OKMP_CAPABILITIES_SIZE];

        ASSERT_OK(okmp_parse_capabilities(capabilities, sizeof(capabilities), &c));
        ASSERT_EQ(c.n_zones, 4);
        ASSERT_STREQ(c.zones[0], "quadriceps");
        ASSERT_STREQ(c.zones[1], "hamstrings");
        ASSERT_STREQ(c.zones[2], "calves");
        ASSERT_STREQ(c.zones[3], "peripatellar");
        ASSERT_TRUE(c.zones[4] == NULL);
        ASSERT_EQ(c.levels, 10);
        ASSERT_EQ(c.max_heat_celsius, 42);
        ASSERT_EQ(c.flags, OKMP_FLAG_TEMPERATURE | OKMP_FLAG_CONTACT | OKMP_FLAG_DEADMAN);

        /* Each malformed field makes the device unusable. */
        struct {
                unsigned offset;
                uint8_t value;
                int error;
        } cases[] = {
                {0, 2, EBADMSG},     /* another report ID */
                {1, 2, EPROTO},      /* a protocol version we don't know */
                {2, 0, EBADMSG},     /* no zones */
                {2, 9, EBADMSG},     /* more zones than the report holds */
                {3, 12, EBADMSG},    /* zone code 12: there is none, and never the kneecap */
                {4, 1, EBADMSG},     /* quadriceps twice */
                {7, 3, EBADMSG},     /* a code beyond the zone count */
                {11, 0, EBADMSG},    /* no levels */
                {12, 29, EBADMSG},   /* a heater that can't reach a useful temperature */
                {12, 61, EBADMSG},   /* a heater beyond any cap */
                {13, 0x08, EBADMSG}, /* an undefined flag */
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                memcpy(bad, capabilities, sizeof(bad));
                bad[cases[i].offset] = cases[i].value;
                ASSERT_EQ(okmp_parse_capabilities(bad, sizeof(bad), &c), -cases[i].error);
        }
        ASSERT_ERROR(okmp_parse_capabilities(capabilities, sizeof(capabilities) - 1, &c), EBADMSG);
}

static void test_okmp_build_reports(void)
{
        static const uint8_t outputs[OKMP_OUTPUTS_SIZE] = {
                2, 0, 0, 7, 0, 0, 0, 0, 0, 4, 40, 0xe8, 0x03, 9,
        };
        static const uint8_t stop[OKMP_OUTPUTS_SIZE] = {2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10};
        uint8_t buf[OKMP_OUTPUTS_SIZE], ka[OKMP_KEEPALIVE_SIZE];

        okmp_build_outputs(buf, 2, 7, KNEED_PATTERN_KNEAD, 40, 1000, 9);
        ASSERT_EQ(memcmp(buf, outputs, sizeof(buf)), 0);
        okmp_build_outputs(buf, OKMP_ZONES_MAX, 0, KNEED_PATTERN_CONTINUOUS, 0, 0, 10);
        ASSERT_EQ(memcmp(buf, stop, sizeof(buf)), 0);
        okmp_build_keepalive(ka, 11);
        ASSERT_EQ(ka[0], 3);
        ASSERT_EQ(ka[1], 11);
        ASSERT_EQ(ka[2], 0);
}

static void test_okmp_parse_status(void)
{
        uint8_t report[OKMP_STATUS_SIZE] = {4, 0x9a, 0x01, 1, 0x02, 0, 0, 7, 0, 0, 0, 0, 0, 38};
        OkmpStatus s;

        ASSERT_OK(okmp_parse_status(report, sizeof(report), &s));
        ASSERT_EQ(s.status.temperature_decicelsius, 410);
        ASSERT_EQ(s.status.contact, 1);
        ASSERT_EQ(s.status.faults, KNEED_FAULT_HEATER);
        ASSERT_EQ(s.levels[2], 7);
        ASSERT_EQ(s.heat_celsius, 38);
        ASSERT_FALSE(s.deadman_stopped);

        /* The dead-man switch fired: that is an event, not a fault. */
        report[4] = 0x10;
        ASSERT_OK(okmp_parse_status(report, sizeof(report), &s));
        ASSERT_TRUE(s.deadman_stopped);
        ASSERT_EQ(s.status.faults, 0u);
        report[4] = 0x10 | 0x80;
        ASSERT_OK(okmp_parse_status(report, sizeof(report), &s));
        ASSERT_TRUE(s.deadman_stopped);
        ASSERT_EQ(s.status.faults, KNEED_FAULT_OTHER);

        /* Unknown temperature and contact; a negative temperature. */
        report[1] = 0x00, report[2] = 0x80, report[3] = 0xff, report[4] = 0;
        ASSERT_OK(okmp_parse_status(report, sizeof(report), &s));
        ASSERT_EQ(s.status.temperature_decicelsius, KNEED_TEMPERATURE_UNKNOWN);
        ASSERT_EQ(s.status.contact, -1);
        report[1] = 0xf6, report[2] = 0xff; /* -1.0 C */
        ASSERT_OK(okmp_parse_status(report, sizeof(report), &s));
        ASSERT_EQ(s.status.temperature_decicelsius, -10);

        /* Garbage: another ID, a wrong size, an undefined contact value or fault bit. */
        report[0] = 3;
        ASSERT_ERROR(okmp_parse_status(report, sizeof(report), &s), EBADMSG);
        report[0] = 4;
        ASSERT_ERROR(okmp_parse_status(report, sizeof(report) - 1, &s), EBADMSG);
        report[3] = 2;
        ASSERT_ERROR(okmp_parse_status(report, sizeof(report), &s), EBADMSG);
        report[3] = 0, report[4] = 0x20;
        ASSERT_ERROR(okmp_parse_status(report, sizeof(report), &s), EBADMSG);
        report[4] = 0x40;
        ASSERT_ERROR(okmp_parse_status(report, sizeof(report), &s), EBADMSG);
}

RUN_TESTS(TEST_CASE(test_okmp_parse_capabilities), TEST_CASE(test_okmp_build_reports),
          TEST_CASE(test_okmp_parse_status))
