/* SPDX-License-Identifier: MIT */

/*
 * The hid-haptics plugin: a Simple Haptic Controller (HID Usage Tables, Haptics page 0x0E) over
 * hidraw, played as one continuous waveform at an intensity (README.md).
 */

#include <errno.h>
#include <kneed/plugin.h>
#include <stdlib.h>

#include "haptics-descriptor.h"
#include "hid-descriptor.h"

/* kneed's native level is the intensity in percent. */
#define HID_HAPTICS_LEVELS 100

typedef struct HidHaptics {
        HidDescriptor *hid; /* haptics points into it */
        HapticsDescriptor haptics;
        uint16_t ordinal; /* of the continuous waveform */
        /* hidraw always takes a report ID byte, 0 for a descriptor without IDs, which
         * haptics_build_play() then leaves out: room for it in front. */
        size_t prefix;
        size_t size; /* of report: prefix and the output report's wire size */
        uint8_t report[];
} HidHaptics;

static HidHaptics *hid_haptics_free(HidHaptics *h)
{
        if (!h)
                return NULL;
        hid_descriptor_free(h->hid);
        free(h);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(HidHaptics *, hid_haptics_free);

/* Finds the continuous waveform, from the Waveform List feature report when the device has one. */
static int find_waveform(KneedDevice *d, const HapticsDescriptor *h, uint16_t *ret_ordinal)
{
        /* Without report IDs hidraw still puts a 0 ID byte first (usbhid and i2c-hid do). */
        size_t skip = h->hid->numbered ? 0 : 1, size = 0, wire;
        const HidReport *list;
        _cleanup_free_ uint8_t *buf = NULL;
        uint16_t waveform;
        int r;

        list = hid_descriptor_find_report(h->hid, HID_REPORT_FEATURE, h->list_report_id);
        if (list) {
                wire = skip + hid_report_wire_size(list);
                buf = calloc(1, wire);
                if (!buf)
                        return -ENOMEM;
                r = kneed_device_hidraw_get_feature(d, h->list_report_id, buf, wire);
                if (r < 0)
                        return r;
                /* A short report is left to haptics_find_continuous_waveform() to refuse. */
                size = MIN((size_t) r, wire);
                size = size > skip ? size - skip : 0;
        }

        r = haptics_find_continuous_waveform(h, buf ? buf + skip : NULL, size, ret_ordinal,
                                             &waveform);
        if (r == -ENOENT)
                return -ENODEV;
        return r;
}

static int hid_haptics_probe(KneedDevice *d)
{
        static const char *const zones[] = {
                "quadriceps", "vastus-lateralis", "rectus-femoris", "vastus-medialis", "hamstrings",
                "calves",     "it-band",          "tfl-glutes",     "adductors",       NULL,
        };
        _cleanup_(hid_descriptor_freep) HidDescriptor *hid = NULL;
        _cleanup_(hid_haptics_freep) HidHaptics *h = NULL;
        HapticsDescriptor haptics;
        const uint8_t *data;
        uint16_t ordinal;
        size_t size, n, prefix;
        int r;

        if (kneed_device_get_transport(d) != KNEED_TRANSPORT_HIDRAW)
                return -ENODEV;

        r = kneed_device_get_report_descriptor(d, &data, &size);
        if (r < 0)
                return r;
        /* Unmatched hidraw nodes of every kind come here: a descriptor we can't read as a
         * haptic controller is a decline, not an error. */
        r = hid_descriptor_parse(data, size, &hid);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return -ENODEV;
        r = haptics_descriptor_parse(hid, &haptics);
        if (r < 0 || !haptics_descriptor_is_usable(&haptics))
                return -ENODEV;

        r = find_waveform(d, &haptics, &ordinal);
        if (r < 0)
                return r;

        prefix = hid->numbered ? 0 : 1;
        h = calloc(1, sizeof(HidHaptics) + prefix + haptics_output_report_size(&haptics));
        if (!h)
                return -ENOMEM;
        h->prefix = prefix;
        h->size = prefix + haptics_output_report_size(&haptics);
        h->ordinal = ordinal;
        h->haptics = haptics;
        h->hid = TAKE_PTR(hid);

        /* Both reports must build now, so that stop() and set_output() cannot fail later for
         * anything but the transport; a waveform Manual Trigger can't carry is unusable. */
        if (haptics_build_stop(&h->haptics, h->report + prefix, h->size - prefix, &n) < 0 ||
            haptics_build_play(&h->haptics, h->ordinal, HID_HAPTICS_LEVELS, h->report + prefix,
                               h->size - prefix, &n) < 0)
                return -ENODEV;

        if (!kneed_device_get_match(d)) {
                r = kneed_device_set_zones(d, zones);
                if (r < 0)
                        return r;
        }
        r = kneed_device_set_levels(d, HID_HAPTICS_LEVELS);
        if (r < 0)
                return r;
        /* Whatever a device file says: there is no heater and no dead-man switch to drive. */
        r = kneed_device_set_max_heat(d, 0);
        if (r < 0)
                return r;
        r = kneed_device_set_keepalive_supported(d, false);
        if (r < 0)
                return r;

        kneed_device_set_userdata(d, TAKE_PTR(h));
        return 0;
}

static void hid_haptics_remove(KneedDevice *d)
{
        hid_haptics_free(kneed_device_get_userdata(d));
        kneed_device_set_userdata(d, NULL);
}

static int send_play(KneedDevice *d, uint16_t ordinal, unsigned percent)
{
        HidHaptics *h = kneed_device_get_userdata(d);
        size_t n;
        int r;

        if (!h)
                return -ENODEV;
        /* haptics_build_stop() is this with ordinal 2 at intensity 0. */
        r = haptics_build_play(&h->haptics, ordinal, percent, h->report + h->prefix,
                               h->size - h->prefix, &n);
        if (r < 0)
                return r;
        return kneed_device_hidraw_write(d, h->report, h->prefix + n);
}

static int hid_haptics_set_output(KneedDevice *d, const KneedOutput *out)
{
        HidHaptics *h = kneed_device_get_userdata(d);

        if (!h)
                return -ENODEV;
        /* Level 0 is off: a play at intensity 0 would leave the waveform running. */
        if (out->level == 0)
                return send_play(d, HAPTICS_ORDINAL_STOP, 0);
        /* One actuator, one continuous waveform: the zone is where the person holds it, and
         * every pattern runs as continuous. */
        return send_play(d, h->ordinal, MIN(out->level, (unsigned) HID_HAPTICS_LEVELS));
}

static int hid_haptics_stop(KneedDevice *d)
{
        return send_play(d, HAPTICS_ORDINAL_STOP, 0);
}

__attribute__((visibility("default"))) const KneedPlugin kneed_plugin = {
        .abi = KNEED_PLUGIN_ABI,
        .id = "hid-haptics",
        .probe = hid_haptics_probe,
        .remove = hid_haptics_remove,
        .set_output = hid_haptics_set_output,
        .stop = hid_haptics_stop,
};
