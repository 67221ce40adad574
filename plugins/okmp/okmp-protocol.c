/* SPDX-License-Identifier: MIT */

#include <errno.h>
#include <string.h>

#include "okmp-protocol.h"

static const char *const zone_names[OKMP_ZONE_CODES + 1] = {
        [1] = "quadriceps",      [2] = "vastus-lateralis", [3] = "rectus-femoris",
        [4] = "vastus-medialis", [5] = "hamstrings",       [6] = "calves",
        [7] = "it-band",         [8] = "tfl-glutes",       [9] = "adductors",
        [10] = "peripatellar",   [11] = "patellar-tendon",
};

const char *okmp_zone_name(uint8_t code)
{
        return code >= 1 && code <= OKMP_ZONE_CODES ? zone_names[code] : NULL;
}

int okmp_parse_capabilities(const uint8_t *r, size_t size, OkmpCapabilities *ret)
{
        OkmpCapabilities c = {};
        const uint8_t *p = r + 1;

        if (size < OKMP_CAPABILITIES_SIZE || r[0] != OKMP_REPORT_CAPABILITIES)
                return -EBADMSG;
        if (p[0] != OKMP_PROTOCOL_VERSION)
                return -EPROTO;
        c.n_zones = p[1];
        if (c.n_zones < 1 || c.n_zones > OKMP_ZONES_MAX)
                return -EBADMSG;
        for (unsigned i = 0; i < OKMP_ZONES_MAX; i++) {
                if (i >= c.n_zones) {
                        if (p[2 + i] != 0)
                                return -EBADMSG;
                        continue;
                }
                c.zones[i] = okmp_zone_name(p[2 + i]);
                if (!c.zones[i])
                        return -EBADMSG;
                for (unsigned k = 0; k < i; k++)
                        if (c.zones[k] == c.zones[i])
                                return -EBADMSG; /* a zone listed twice */
        }
        c.levels = p[10];
        c.max_heat_celsius = p[11];
        c.flags = p[12];
        if (c.levels == 0)
                return -EBADMSG;
        if (c.max_heat_celsius != 0 && (c.max_heat_celsius < 30 || c.max_heat_celsius > 60))
                return -EBADMSG;
        if (c.flags & ~(OKMP_FLAG_TEMPERATURE | OKMP_FLAG_CONTACT | OKMP_FLAG_DEADMAN))
                return -EBADMSG;
        *ret = c;
        return 0;
}

void okmp_build_outputs(uint8_t buf[OKMP_OUTPUTS_SIZE], unsigned zone_index, uint8_t level,
                        KneedPattern pattern, uint8_t heat_celsius, uint16_t deadman_ms,
                        uint8_t sequence)
{
        memset(buf, 0, OKMP_OUTPUTS_SIZE);
        buf[0] = OKMP_REPORT_OUTPUTS;
        if (zone_index < OKMP_ZONES_MAX)
                buf[1 + zone_index] = level;
        buf[9] = (uint8_t) ((unsigned) pattern < KNEED_PATTERN_MAX ? pattern : 0);
        buf[10] = heat_celsius;
        buf[11] = (uint8_t) (deadman_ms & 0xff);
        buf[12] = (uint8_t) (deadman_ms >> 8);
        buf[13] = sequence;
}

void okmp_build_keepalive(uint8_t buf[OKMP_KEEPALIVE_SIZE], uint8_t sequence)
{
        buf[0] = OKMP_REPORT_KEEPALIVE;
        buf[1] = sequence;
        buf[2] = 0;
}

int okmp_parse_status(const uint8_t *r, size_t size, OkmpStatus *ret)
{
        const uint8_t *p = r + 1;
        OkmpStatus s = {};
        int16_t t;

        if (size != OKMP_STATUS_SIZE || r[0] != OKMP_REPORT_STATUS)
                return -EBADMSG;
        t = (int16_t) (uint16_t) (p[0] | (p[1] << 8));
        s.status.temperature_decicelsius = (uint16_t) t == 0x8000 ? KNEED_TEMPERATURE_UNKNOWN : t;
        if (p[2] > 1 && p[2] != 0xff)
                return -EBADMSG;
        s.status.contact = p[2] == 0xff ? -1 : p[2];
        if (p[3] & 0x60)
                return -EBADMSG; /* bits 5 and 6 are not defined */
        s.deadman_stopped = p[3] & OKMP_STATUS_DEADMAN_STOPPED;
        s.status.faults = p[3] & ~OKMP_STATUS_DEADMAN_STOPPED;
        memcpy(s.levels, p + 4, OKMP_ZONES_MAX);
        s.heat_celsius = p[12];
        *ret = s;
        return 0;
}
