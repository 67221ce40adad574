/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The okmp wire format (README.md), apart from any I/O, so that it can be unit-tested and
 * fuzzed. Reports include their report ID as byte 0.
 */

#include <kneed/plugin.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OKMP_PROTOCOL_VERSION 1
#define OKMP_ZONES_MAX 8
#define OKMP_ZONE_CODES 11

#define OKMP_REPORT_CAPABILITIES 1
#define OKMP_REPORT_OUTPUTS 2
#define OKMP_REPORT_KEEPALIVE 3
#define OKMP_REPORT_STATUS 4

#define OKMP_CAPABILITIES_SIZE (1 + 15)
#define OKMP_OUTPUTS_SIZE (1 + 13)
#define OKMP_KEEPALIVE_SIZE (1 + 2)
#define OKMP_STATUS_SIZE (1 + 13)

#define OKMP_FLAG_TEMPERATURE (1u << 0)
#define OKMP_FLAG_CONTACT (1u << 1)
#define OKMP_FLAG_DEADMAN (1u << 2)

/* Status byte 3, besides the KneedFault bits: the dead-man switch stopped the outputs. */
#define OKMP_STATUS_DEADMAN_STOPPED (1u << 4)

typedef struct OkmpCapabilities {
        unsigned n_zones;
        const char *zones[OKMP_ZONES_MAX + 1]; /* NULL-terminated, kneed zone names */
        unsigned levels;
        unsigned max_heat_celsius;
        unsigned flags;
} OkmpCapabilities;

typedef struct OkmpStatus {
        KneedStatus status;
        uint8_t levels[OKMP_ZONES_MAX]; /* what the firmware runs */
        uint8_t heat_celsius;
        bool deadman_stopped; /* no keepalive in time: the firmware stopped by itself */
} OkmpStatus;

/* The kneed zone name of an okmp zone code, or NULL for an unknown code. */
const char *okmp_zone_name(uint8_t code);

/* Parses report 1. -EBADMSG names nothing: any malformed field makes the device unusable. */
int okmp_parse_capabilities(const uint8_t *report, size_t size, OkmpCapabilities *ret);

/* Builds report 2 into buf (OKMP_OUTPUTS_SIZE bytes): one zone at level, the rest off. */
void okmp_build_outputs(uint8_t buf[OKMP_OUTPUTS_SIZE], unsigned zone_index, uint8_t level,
                        KneedPattern pattern, uint8_t heat_celsius, uint16_t deadman_ms,
                        uint8_t sequence);
void okmp_build_keepalive(uint8_t buf[OKMP_KEEPALIVE_SIZE], uint8_t sequence);

/* Parses report 4. -EBADMSG for another report, a wrong size or undefined bits. */
int okmp_parse_status(const uint8_t *report, size_t size, OkmpStatus *ret);
