/* SPDX-License-Identifier: MIT */

/* The okmp plugin: the open knee massager protocol over hidraw (README.md). */

#include <errno.h>
#include <kneed/plugin.h>
#include <stdlib.h>
#include <string.h>

#include "okmp-protocol.h"

/* Input reports in a row that make no sense before the device counts as broken. */
#define GARBAGE_MAX 64

typedef struct Okmp {
        KneedDevice *device;
        OkmpCapabilities caps;
        OkmpStatus last;
        bool have_status;
        uint8_t sequence;
        /* What kneed asked for last and the time before: a status report may still be on
         * its way from before the last command. */
        uint8_t commanded[2][OKMP_ZONES_MAX];
        uint8_t commanded_heat[2];
        unsigned garbage;
} Okmp;

static void remember(Okmp *o, const uint8_t *levels, uint8_t heat)
{
        memcpy(o->commanded[1], o->commanded[0], OKMP_ZONES_MAX);
        o->commanded_heat[1] = o->commanded_heat[0];
        memcpy(o->commanded[0], levels, OKMP_ZONES_MAX);
        o->commanded_heat[0] = heat;
}

static bool is_running(const Okmp *o)
{
        for (unsigned i = 0; i < OKMP_ZONES_MAX; i++)
                if (o->commanded[0][i] > 0)
                        return true;
        return o->commanded_heat[0] > 0;
}

static void on_input(KneedDevice *d, const uint8_t *data, size_t size, void *userdata)
{
        Okmp *o = userdata;
        OkmpStatus s;

        if (okmp_parse_status(data, size, &s) < 0) {
                if (++o->garbage == GARBAGE_MAX)
                        kneed_device_report_fault(d, -EBADMSG,
                                                  "the device sends only malformed status reports");
                return;
        }
        o->garbage = 0;
        o->last = s;
        o->have_status = true;

        /* The firmware must never run above what it was told. */
        for (unsigned i = 0; i < o->caps.n_zones; i++)
                if (s.levels[i] > o->commanded[0][i] && s.levels[i] > o->commanded[1][i]) {
                        kneed_device_report_fault(d, -EIO,
                                                  "the firmware runs a motor above what kneed "
                                                  "asked for");
                        return;
                }
        if (s.heat_celsius > o->commanded_heat[0] && s.heat_celsius > o->commanded_heat[1]) {
                kneed_device_report_fault(d, -EIO, "the firmware heats above what kneed asked for");
                return;
        }
        kneed_device_report_status(d, &s.status);

        /* Keepalives were lost on the way: the firmware stopped by itself, and kneed must not
         * go on believing it runs. Only news while something was meant to run. */
        if (s.deadman_stopped && is_running(o))
                kneed_device_report_stopped(d, "keepalive");
}

static int okmp_probe(KneedDevice *d)
{
        uint8_t report[OKMP_CAPABILITIES_SIZE];
        Okmp *o;
        int r;

        /* Only devices the database assigns: okmp is a vendor protocol, not a device class. */
        if (kneed_device_get_transport(d) != KNEED_TRANSPORT_HIDRAW || !kneed_device_get_match(d))
                return -ENODEV;

        o = calloc(1, sizeof(Okmp));
        if (!o)
                return -ENOMEM;
        o->device = d;

        r = kneed_device_hidraw_get_feature(d, OKMP_REPORT_CAPABILITIES, report, sizeof(report));
        if (r >= 0)
                r = okmp_parse_capabilities(report, (size_t) r, &o->caps);
        if (r >= 0)
                r = kneed_device_set_zones(d, o->caps.zones);
        if (r >= 0)
                r = kneed_device_set_levels(d, o->caps.levels);
        if (r >= 0)
                r = kneed_device_set_max_heat(d, o->caps.max_heat_celsius);
        if (r >= 0)
                r = kneed_device_set_keepalive_supported(d, o->caps.flags & OKMP_FLAG_DEADMAN);
        if (r >= 0)
                r = kneed_device_watch_input(d, on_input, o);
        if (r < 0) {
                free(o);
                return r;
        }
        kneed_device_set_userdata(d, o);
        return 0;
}

static void okmp_remove(KneedDevice *d)
{
        Okmp *o = kneed_device_get_userdata(d);

        (void) kneed_device_watch_input(d, NULL, NULL);
        free(o);
}

static int send_outputs(Okmp *o, unsigned zone_index, unsigned level, KneedPattern pattern,
                        unsigned heat)
{
        uint8_t report[OKMP_OUTPUTS_SIZE];
        unsigned deadman = kneed_device_get_keepalive_ms(o->device);
        int r;

        okmp_build_outputs(report, zone_index, (uint8_t) level, pattern, (uint8_t) heat,
                           (uint16_t) (deadman > 0xffff ? 0xffff : deadman), ++o->sequence);
        r = kneed_device_hidraw_write(o->device, report, sizeof(report));
        if (r >= 0)
                remember(o, report + 1, (uint8_t) heat);
        return r;
}

static int okmp_set_output(KneedDevice *d, const KneedOutput *out)
{
        Okmp *o = kneed_device_get_userdata(d);

        if (out->zone_index >= o->caps.n_zones || out->level > o->caps.levels)
                return -EINVAL;
        return send_outputs(o, out->zone_index, out->level, out->pattern, out->heat_celsius);
}

static int okmp_stop(KneedDevice *d)
{
        Okmp *o = kneed_device_get_userdata(d);
        uint8_t report[OKMP_OUTPUTS_SIZE];
        int r;

        /* Everything off; with nothing running the dead-man switch has nothing to do. */
        okmp_build_outputs(report, OKMP_ZONES_MAX, 0, KNEED_PATTERN_CONTINUOUS, 0, 0,
                           ++o->sequence);
        r = kneed_device_hidraw_write(d, report, sizeof(report));
        if (r >= 0)
                remember(o, report + 1, 0);
        return r;
}

static int okmp_keepalive(KneedDevice *d)
{
        Okmp *o = kneed_device_get_userdata(d);
        uint8_t report[OKMP_KEEPALIVE_SIZE];

        okmp_build_keepalive(report, ++o->sequence);
        return kneed_device_hidraw_write(d, report, sizeof(report));
}

static int okmp_status(KneedDevice *d, KneedStatus *ret)
{
        Okmp *o = kneed_device_get_userdata(d);

        if (!o->have_status)
                return -ENODATA;
        *ret = o->last.status;
        return 0;
}

__attribute__((visibility("default"))) const KneedPlugin kneed_plugin = {
        .abi = KNEED_PLUGIN_ABI,
        .id = "okmp",
        .probe = okmp_probe,
        .remove = okmp_remove,
        .set_output = okmp_set_output,
        .stop = okmp_stop,
        .keepalive = okmp_keepalive,
        .status = okmp_status,
};
