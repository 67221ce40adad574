/* SPDX-License-Identifier: MIT */

/*
 * Tests for the HID report descriptor parser and the Simple Haptic Controller layer.
 *
 * The real descriptors live in test-descriptors/ (found through $HID_TEST_DESCRIPTORS, or
 * beside this file), each with a .txt naming its source:
 *   microsoft-surface-dial.bin              Microsoft Surface Dial, as dumped in udev-hid-bpf
 *   microsoft-radial-controller-sample.bin  Microsoft Learn, "Windows radial controller sample
 *                                           report descriptors", assembled as it says
 *   hid-1.11-boot-keyboard.bin              HID 1.11 Appendix B.1, the boot keyboard
 * Every descriptor written out in this file is hand-written for a test and says so.
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "haptics-descriptor.h"
#include "hid-descriptor.h"
#include "macro.h"
#include "tests.h"

#define MAX_DESCRIPTOR 4096

#define SURFACE_DIAL "microsoft-surface-dial.bin"
#define RADIAL_SAMPLE "microsoft-radial-controller-sample.bin"
#define BOOT_KEYBOARD "hid-1.11-boot-keyboard.bin"

/* Reads a test descriptor; a missing file fails the test, it does not skip it. */
static size_t load(const char *name, uint8_t *buf, size_t size)
{
        const char *dir = getenv("HID_TEST_DESCRIPTORS");
        _cleanup_free_ char *fallback = NULL, *path = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        size_t n;

        if (isempty(dir)) {
                /* Beside this source file, e.g. when run by hand from the source tree. */
                const char *slash = strrchr(__FILE__, '/');
                ASSERT_TRUE(asprintf(&fallback, "%.*s/test-descriptors",
                                     slash ? (int) (slash - __FILE__) : 1,
                                     slash ? __FILE__ : ".") >= 0);
                dir = fallback;
        }
        ASSERT_TRUE(asprintf(&path, "%s/%s", dir, name) >= 0);
        f = fopen(path, "re");
        if (!f) {
                fprintf(stderr, "cannot open %s: %m (set HID_TEST_DESCRIPTORS)\n", path);
                abort();
        }
        n = fread(buf, 1, size, f);
        ASSERT_FALSE(ferror(f));
        ASSERT_TRUE(feof(f)); /* the whole file fitted */
        return n;
}

static HidDescriptor *parse_ok(const uint8_t *data, size_t size)
{
        HidDescriptor *d = NULL;

        ASSERT_OK(hid_descriptor_parse(data, size, &d));
        ASSERT_TRUE(d);
        return d;
}

#define PARSE_OK(array) parse_ok(array, sizeof(array))
#define ASSERT_PARSE_ERROR(array, err)                                               \
        do {                                                                         \
                HidDescriptor *_d_ = NULL;                                           \
                ASSERT_ERROR(hid_descriptor_parse(array, sizeof(array), &_d_), err); \
                ASSERT_TRUE(_d_ == NULL);                                            \
        } while (0)

/* The n-th field of that report, in descriptor order. */
static const HidField *field_of(const HidDescriptor *d, HidReportType type, uint8_t id, size_t n)
{
        size_t left = n;

        for (size_t i = 0; i < d->n_fields; i++)
                if (d->fields[i].report_type == type && d->fields[i].report_id == id && left-- == 0)
                        return &d->fields[i];
        fprintf(stderr, "no field %zu in report %d/%u\n", n, (int) type, id);
        abort();
}

static size_t wire_size(const HidDescriptor *d, HidReportType type, uint8_t id)
{
        const HidReport *r = hid_descriptor_find_report(d, type, id);

        ASSERT_TRUE(r);
        return hid_report_wire_size(r);
}

static void assert_field(const HidField *f, uint32_t bit_offset, unsigned bit_size, uint32_t count,
                         int64_t logical_min, int64_t logical_max)
{
        ASSERT_EQ(f->bit_offset, bit_offset);
        ASSERT_EQ(f->bit_size, bit_size);
        ASSERT_EQ(f->count, count);
        ASSERT_EQ(f->logical_min, logical_min);
        ASSERT_EQ(f->logical_max, logical_max);
}

/* What must hold for any descriptor the parser accepts, whatever the input was. */
static void check_invariants(const HidDescriptor *d)
{
        for (size_t i = 0; i < d->n_reports; i++) {
                ASSERT_TRUE(d->reports[i].size <= HID_MAX_REPORT_SIZE);
                ASSERT_EQ(d->reports[i].size, (d->reports[i].size_bits + 7) / 8);
        }
        ASSERT_TRUE(d->n_fields <= HID_MAX_FIELDS);
        for (size_t i = 0; i < d->n_fields; i++) {
                const HidField *f = &d->fields[i];
                const HidReport *r = hid_descriptor_find_report(d, f->report_type, f->report_id);

                ASSERT_TRUE(r);
                ASSERT_TRUE(f->bit_size >= 1 && f->bit_size <= HID_MAX_REPORT_BITS);
                ASSERT_TRUE(f->count >= 1);
                ASSERT_TRUE(f->bit_offset + (uint64_t) f->count * f->bit_size <= r->size_bits);
                ASSERT_TRUE(d->numbered ? f->report_id != 0 : f->report_id == 0);
                ASSERT_TRUE(f->n_usages <= HID_MAX_USAGES);
                ASSERT_TRUE(f->depth <= HID_MAX_COLLECTION_DEPTH);
                for (size_t j = 0; j < f->n_usages; j++) {
                        ASSERT_EQ(HID_USAGE_PAGE(f->usages[j].min),
                                  HID_USAGE_PAGE(f->usages[j].max));
                        ASSERT_TRUE(f->usages[j].min <= f->usages[j].max);
                }
        }
}

/* Runs the haptics layer over whatever parsed; it must not crash or write out of bounds. */
static void exercise_haptics(const HidDescriptor *d, const uint8_t *noise, size_t noise_size)
{
        HapticsDescriptor h;
        uint8_t buf[HID_MAX_REPORT_SIZE + 1];
        uint16_t ordinal, waveform;
        size_t n = 0;
        int r;

        r = haptics_descriptor_parse(d, &h);
        if (r < 0) {
                ASSERT_TRUE(r == -ENODEV || r == -E2BIG);
                return;
        }
        (void) haptics_find_continuous_waveform(&h, NULL, 0, &ordinal, &waveform);
        (void) haptics_find_continuous_waveform(&h, noise, noise_size, &ordinal, &waveform);
        r = haptics_build_stop(&h, buf, sizeof(buf), &n);
        if (haptics_descriptor_is_usable(&h)) {
                ASSERT_TRUE(r == 0 || r == -ERANGE);
                if (r == 0)
                        ASSERT_EQ(n, haptics_output_report_size(&h));
        } else
                ASSERT_ERROR(r, EOPNOTSUPP);
        (void) haptics_build_play(&h, 3, 50, buf, sizeof(buf), &n);
        (void) haptics_build_play(&h, 3, 50, buf, 1, &n);
}

/* ---- Real descriptors --------------------------------------------------------------------- */

static void test_boot_keyboard(void)
{
        _cleanup_(hid_descriptor_freep) HidDescriptor *d = NULL;
        uint8_t data[MAX_DESCRIPTOR];
        size_t size = load(BOOT_KEYBOARD, data, sizeof(data));
        const HidField *modifiers, *reserved, *keys, *leds, *pad;
        HapticsDescriptor h;
        uint32_t usage;
        int64_t v;
        /* Left Shift held, 'a' (usage 0x04) and 'b' (0x05) down. */
        const uint8_t report[8] = {0x02, 0x00, 0x04, 0x05, 0x00, 0x00, 0x00, 0x00};

        ASSERT_EQ(size, 65);
        d = parse_ok(data, size);
        check_invariants(d);
        ASSERT_FALSE(d->numbered);
        ASSERT_EQ(d->n_fields, 5);
        ASSERT_EQ(d->n_reports, 2);
        ASSERT_EQ(wire_size(d, HID_REPORT_INPUT, 0), 8);
        ASSERT_EQ(wire_size(d, HID_REPORT_OUTPUT, 0), 1);

        modifiers = field_of(d, HID_REPORT_INPUT, 0, 0);
        assert_field(modifiers, 0, 1, 8, 0, 1);
        ASSERT_EQ(modifiers->flags, HID_FIELD_VARIABLE);
        ASSERT_EQ(modifiers->n_usages, 1);
        ASSERT_EQ(modifiers->usages[0].min, HID_USAGE(0x07, 0xe0));
        ASSERT_EQ(modifiers->usages[0].max, HID_USAGE(0x07, 0xe7));
        ASSERT_EQ(modifiers->depth, 1);
        ASSERT_EQ(modifiers->path[0].usage, HID_USAGE(0x01, 0x06));
        ASSERT_EQ(modifiers->path[0].type, HID_COLLECTION_APPLICATION);

        /* The reserved byte: constant, no usages, but it moves the offsets on. */
        reserved = field_of(d, HID_REPORT_INPUT, 0, 1);
        assert_field(reserved, 8, 8, 1, 0, 1);
        ASSERT_EQ(reserved->flags, HID_FIELD_CONSTANT);
        ASSERT_EQ(reserved->n_usages, 0);
        ASSERT_ERROR(hid_field_get_usage(reserved, 0, &usage), ENOENT);

        /* The key array: Logical Maximum 0x26 0xff 0x00 is 255, an array of 256 selectors. */
        keys = field_of(d, HID_REPORT_INPUT, 0, 2);
        assert_field(keys, 16, 8, 6, 0, 255);
        ASSERT_EQ(keys->flags, 0);
        ASSERT_OK(hid_field_get_usage(keys, 4, &usage));
        ASSERT_EQ(usage, HID_USAGE(0x07, 0x04));
        ASSERT_OK(hid_field_get_usage(keys, 255, &usage));
        ASSERT_EQ(usage, HID_USAGE(0x07, 0xff));
        ASSERT_ERROR(hid_field_get_usage(keys, 256, &usage), ENOENT);
        ASSERT_ERROR(hid_field_find_usage(keys, HID_USAGE(0x07, 0x04)), ENOENT); /* array */

        leds = field_of(d, HID_REPORT_OUTPUT, 0, 0);
        assert_field(leds, 0, 1, 5, 0, 1);
        ASSERT_EQ(leds->usages[0].min, HID_USAGE(0x08, 0x01));
        ASSERT_EQ(hid_field_find_usage(leds, HID_USAGE(0x08, 0x02)), 1); /* Caps Lock */
        pad = field_of(d, HID_REPORT_OUTPUT, 0, 1);
        assert_field(pad, 5, 3, 1, 0, 1);
        ASSERT_EQ(pad->flags, HID_FIELD_CONSTANT);

        ASSERT_OK(hid_field_get_usage(modifiers, 7, &usage));
        ASSERT_EQ(usage, HID_USAGE(0x07, 0xe7));
        ASSERT_ERROR(hid_field_get_usage(modifiers, 8, &usage), ENOENT);

        /* Reading a boot report: Left Shift is modifier bit 1, the keys follow the reserved
         * byte. No report ID byte without report IDs. */
        ASSERT_OK(hid_field_extract(modifiers, 1, report, sizeof(report), &v));
        ASSERT_EQ(v, 1);
        ASSERT_OK(hid_field_extract(modifiers, 0, report, sizeof(report), &v));
        ASSERT_EQ(v, 0);
        ASSERT_OK(hid_field_extract(keys, 1, report, sizeof(report), &v));
        ASSERT_EQ(v, 5);
        ASSERT_ERROR(hid_field_extract(keys, 5, report, 7, &v), EBADMSG);

        /* Not haptic. */
        ASSERT_ERROR(haptics_descriptor_parse(d, &h), ENODEV);
}

static void test_surface_dial(void)
{
        _cleanup_(hid_descriptor_freep) HidDescriptor *d = NULL;
        uint8_t data[MAX_DESCRIPTOR];
        size_t size = load(SURFACE_DIAL, data, sizeof(data));
        const HidField *dial, *f;
        uint8_t out[16], feature[16];
        int64_t v;
        /* Input report 1 with the button down and the dial turned one step back. */
        const uint8_t input[9] = {0x01, 0x01, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x3a};

        ASSERT_EQ(size, 488);
        d = parse_ok(data, size);
        check_invariants(d);
        ASSERT_TRUE(d->numbered);

        /* Report sizes, on the wire with their ID byte. Output report 1 and feature report 1
         * are the 5 and 8 bytes udev-hid-bpf's Surface Dial program sends and reads. */
        ASSERT_EQ(wire_size(d, HID_REPORT_INPUT, 1), 9);
        ASSERT_EQ(wire_size(d, HID_REPORT_OUTPUT, 1), 5);
        ASSERT_EQ(wire_size(d, HID_REPORT_FEATURE, 1), 8);
        ASSERT_EQ(wire_size(d, HID_REPORT_FEATURE, 2), 11);
        ASSERT_EQ(wire_size(d, HID_REPORT_OUTPUT, 48), 2);
        ASSERT_EQ(wire_size(d, HID_REPORT_INPUT, 42), 73);
        ASSERT_EQ(wire_size(d, HID_REPORT_OUTPUT, 42), 73);
        ASSERT_EQ(wire_size(d, HID_REPORT_FEATURE, 42), 53);
        ASSERT_EQ(wire_size(d, HID_REPORT_FEATURE, 43), 53);
        ASSERT_EQ(wire_size(d, HID_REPORT_INPUT, 44), 17);
        ASSERT_EQ(wire_size(d, HID_REPORT_FEATURE, 46), 45);
        ASSERT_EQ(wire_size(d, HID_REPORT_INPUT, 50), 2);
        ASSERT_EQ(wire_size(d, HID_REPORT_OUTPUT, 49), 11);
        ASSERT_TRUE(hid_descriptor_find_report(d, HID_REPORT_INPUT, 2) == NULL);

        /* Input report 1: button, touch, 6 bits of padding, then the signed 16-bit dial. */
        assert_field(field_of(d, HID_REPORT_INPUT, 1, 0), 0, 1, 1, 0, 1);
        assert_field(field_of(d, HID_REPORT_INPUT, 1, 2), 2, 1, 6, 0, 1);
        dial = field_of(d, HID_REPORT_INPUT, 1, 3);
        assert_field(dial, 8, 16, 1, -32767, 32767);
        ASSERT_EQ(dial->flags, HID_FIELD_VARIABLE | HID_FIELD_RELATIVE);
        ASSERT_EQ(dial->usages[0].min, HID_USAGE(0x01, 0x37));
        ASSERT_EQ(dial->depth, 4);
        ASSERT_EQ(dial->path[0].usage, HID_USAGE(0x01, 0x0e));
        ASSERT_EQ(dial->path[1].usage, HID_USAGE(0x0d, 0x21));
        ASSERT_EQ(dial->path[2].usage, 0); /* the Physical collection has no usage */
        ASSERT_EQ(dial->path[2].type, HID_COLLECTION_PHYSICAL);
        ASSERT_EQ(dial->path[3].usage, 0); /* its Usage (Dial) comes after the Collection */
        ASSERT_EQ(dial->path[3].index, 3);
        ASSERT_OK(hid_field_extract(dial, 0, input, sizeof(input), &v));
        ASSERT_EQ(v, -1);
        ASSERT_OK(hid_field_extract(field_of(d, HID_REPORT_INPUT, 1, 0), 0, input, 9, &v));
        ASSERT_EQ(v, 1);
        /* Unit Exponent 0x0f is -1 (a nibble), Unit 0x11 cm. */
        f = field_of(d, HID_REPORT_INPUT, 1, 6);
        assert_field(f, 56, 8, 1, 58, 58);
        ASSERT_EQ(f->unit_exponent, -1);
        ASSERT_EQ(f->physical_min, 58);
        f = field_of(d, HID_REPORT_INPUT, 1, 4);
        ASSERT_EQ(f->unit_exponent, -2);
        ASSERT_EQ(f->unit, 0x11);
        ASSERT_EQ(f->flags, HID_FIELD_VARIABLE | HID_FIELD_NULL_STATE);

        /* Two-byte main item data: Buffered Bytes. */
        f = field_of(d, HID_REPORT_INPUT, 42, 0);
        ASSERT_EQ(f->flags, HID_FIELD_VARIABLE | HID_FIELD_BUFFERED_BYTES);
        assert_field(f, 0, 8, 72, 0, 255);
        ASSERT_EQ(f->usages[0].min, HID_USAGE(0xff07, 0xc6));
        ASSERT_EQ(f->path[0].usage, HID_USAGE(0xff07, 0x71));
        /* Four-byte Logical Minimum -2^31 and Maximum 2^31 - 1, and usage ranges. */
        f = field_of(d, HID_REPORT_INPUT, 44, 0);
        assert_field(f, 0, 32, 4, INT32_MIN, INT32_MAX);
        ASSERT_EQ(f->usages[0].min, HID_USAGE(0xff07, 0xcc));
        ASSERT_EQ(f->usages[0].max, HID_USAGE(0xff07, 0xcf));
        ASSERT_EQ(hid_field_find_usage(f, HID_USAGE(0xff07, 0xce)), 2);
        /* Four-byte Logical Minimum 65591: the Dial usage the Auto Trigger goes with. */
        f = field_of(d, HID_REPORT_FEATURE, 2, 0);
        assert_field(f, 0, 32, 1, 0x10037, 0x10037);

        /* The byte-for-byte check of the insert helper against udev-hid-bpf, which sends
         * {1, 0, 5, 80, 0}: Repeat Count 0, Manual Trigger 5, Retrigger Period 80. */
        ASSERT_EQ(hid_report_prepare(hid_descriptor_find_report(d, HID_REPORT_OUTPUT, 1), out,
                                     sizeof(out)),
                  5);
        ASSERT_OK(hid_field_insert(field_of(d, HID_REPORT_OUTPUT, 1, 0), 0, 0, out, 5));
        ASSERT_OK(hid_field_insert(field_of(d, HID_REPORT_OUTPUT, 1, 1), 0, 5, out, 5));
        ASSERT_OK(hid_field_insert(field_of(d, HID_REPORT_OUTPUT, 1, 2), 0, 80, out, 5));
        ASSERT_EQ(memcmp(out, ((const uint8_t[]){0x01, 0x00, 0x05, 0x50, 0x00}), 5), 0);
        /* ... and its feature report: Resolution Multiplier 72, Repeat Count 0, Auto
         * Trigger 3, then Waveform Cutoff Time and Retrigger Period as they were. */
        ASSERT_EQ(hid_report_prepare(hid_descriptor_find_report(d, HID_REPORT_FEATURE, 1), feature,
                                     sizeof(feature)),
                  8);
        ASSERT_OK(hid_field_insert(field_of(d, HID_REPORT_FEATURE, 1, 0), 0, 72, feature, 8));
        ASSERT_OK(hid_field_insert(field_of(d, HID_REPORT_FEATURE, 1, 2), 0, 3, feature, 8));
        ASSERT_OK(hid_field_insert(field_of(d, HID_REPORT_FEATURE, 1, 3), 0, 5, feature, 8));
        ASSERT_OK(hid_field_insert(field_of(d, HID_REPORT_FEATURE, 1, 4), 0, 80, feature, 8));
        ASSERT_EQ(memcmp(feature, ((const uint8_t[]){0x01, 72, 0, 0, 3, 5, 80, 0}), 8), 0);
        /* Auto Trigger's range is 1..7. */
        ASSERT_ERROR(hid_field_insert(field_of(d, HID_REPORT_FEATURE, 1, 2), 0, 8, feature, 8),
                     ERANGE);
}

static void test_surface_dial_haptics(void)
{
        _cleanup_(hid_descriptor_freep) HidDescriptor *d = NULL;
        uint8_t data[MAX_DESCRIPTOR], buf[16];
        size_t size = load(SURFACE_DIAL, data, sizeof(data)), n = 0;
        HapticsDescriptor h;
        uint16_t ordinal = 0, waveform = 0;
        /* Feature report 2 as the device would return it: the Waveform List elements are
         * data fields whose only legal values are their own ordinals. */
        const uint8_t list_report[11] = {0x02, 0x37, 0x00, 0x01, 0x00, 10, 20, 30, 3, 4, 5};

        d = parse_ok(data, size);
        ASSERT_OK(haptics_descriptor_parse(d, &h));

        ASSERT_EQ(h.output_report_id, 1);
        ASSERT_TRUE(h.manual_trigger.field);
        assert_field(h.manual_trigger.field, 8, 8, 1, 1, 7);
        ASSERT_EQ(h.manual_trigger.field->flags, HID_FIELD_VARIABLE | HID_FIELD_NULL_STATE);
        ASSERT_EQ(h.manual_trigger.field->depth, 4);
        ASSERT_EQ(h.manual_trigger.field->path[3].usage, HAPTICS_USAGE_SIMPLE_HAPTIC_CONTROLLER);
        ASSERT_TRUE(h.intensity.field == NULL); /* the Dial has none */
        ASSERT_TRUE(h.repeat_count.field);
        ASSERT_EQ(h.repeat_count.field->bit_offset, 0);
        ASSERT_EQ(h.output_retrigger_period.field->bit_offset, 16);

        ASSERT_EQ(h.list_report_id, 2);
        ASSERT_EQ(h.n_waveforms, 3);
        ASSERT_EQ(h.waveforms[0].ordinal, 3);
        ASSERT_EQ(h.waveforms[2].ordinal, 5);
        ASSERT_EQ(h.waveforms[1].control.field->bit_offset, 64);
        ASSERT_EQ(h.waveforms[1].control.field->physical_min, HAPTICS_WAVEFORM_BUZZ_CONTINUOUS);
        ASSERT_EQ(h.n_durations, 3);
        ASSERT_EQ(h.durations[0].ordinal, 3);
        ASSERT_EQ(h.durations[2].control.index, 2);
        /* Auto Trigger and Retrigger Period are not in the list's report 2 but in report 1. */
        ASSERT_EQ(h.auto_trigger.field->report_id, 1);
        ASSERT_EQ(h.auto_trigger.field->bit_offset, 24);
        ASSERT_EQ(h.retrigger_period.field->bit_offset, 40);

        /* The waveforms come from Physical Minimum = Maximum, with or without the report. */
        ASSERT_EQ(haptics_find_waveform(&h, NULL, 0, HAPTICS_WAVEFORM_CLICK), 3);
        ASSERT_EQ(haptics_find_waveform(&h, NULL, 0, HAPTICS_WAVEFORM_STOP), 2);
        ASSERT_EQ(haptics_find_waveform(&h, NULL, 0, HAPTICS_WAVEFORM_NONE), 1);
        ASSERT_ERROR(haptics_find_waveform(&h, NULL, 0, HAPTICS_WAVEFORM_RUMBLE_CONTINUOUS),
                     ENOENT);
        ASSERT_OK(haptics_find_continuous_waveform(&h, NULL, 0, &ordinal, &waveform));
        ASSERT_EQ(ordinal, 4); /* 4 and 5 are both buzz: the lowest */
        ASSERT_EQ(waveform, HAPTICS_WAVEFORM_BUZZ_CONTINUOUS);
        ordinal = waveform = 0;
        ASSERT_OK(haptics_find_continuous_waveform(&h, list_report, sizeof(list_report), &ordinal,
                                                   &waveform));
        ASSERT_EQ(ordinal, 4);
        /* A report that is not feature report 2, or is cut short. */
        ASSERT_ERROR(haptics_find_continuous_waveform(&h, (const uint8_t[]){0x01, 0, 0}, 3,
                                                      &ordinal, &waveform),
                     EBADMSG);
        ASSERT_ERROR(haptics_find_continuous_waveform(&h, list_report, 8, &ordinal, &waveform),
                     EBADMSG);

        /* No Intensity: not something kneed can drive. */
        ASSERT_FALSE(haptics_descriptor_is_usable(&h));
        ASSERT_ERROR(haptics_build_play(&h, 4, 50, buf, sizeof(buf), &n), EOPNOTSUPP);
        ASSERT_ERROR(haptics_build_stop(&h, buf, sizeof(buf), &n), EOPNOTSUPP);
        ASSERT_EQ(haptics_output_report_size(&h), 5);
}

static void test_radial_controller_sample(void)
{
        _cleanup_(hid_descriptor_freep) HidDescriptor *d = NULL;
        uint8_t data[MAX_DESCRIPTOR + 1], report[9] = {};
        size_t size = load(RADIAL_SAMPLE, data, MAX_DESCRIPTOR);
        HidDescriptor *unbalanced = NULL;
        const HidField *dial, *trigger, *intensity;
        HapticsDescriptor h;
        uint16_t ordinal, waveform;
        uint8_t buf[16];
        size_t n;
        int64_t v;

        /* As published, the haptic snippet leaves its Simple Haptic Controller open. */
        ASSERT_EQ(size, 249);
        ASSERT_ERROR(hid_descriptor_parse(data, size, &unbalanced), EBADMSG);
        ASSERT_TRUE(unbalanced == NULL);

        data[size++] = 0xc0; /* the End Collection the sample lacks */
        d = parse_ok(data, size);
        check_invariants(d);
        ASSERT_EQ(wire_size(d, HID_REPORT_INPUT, 1), 9);
        ASSERT_EQ(wire_size(d, HID_REPORT_OUTPUT, 2), 6);
        ASSERT_EQ(wire_size(d, HID_REPORT_FEATURE, 2), 16);

        /* A 15-bit signed dial right after a 1-bit button: -3600 packs as 0x71f0 << 1. */
        dial = field_of(d, HID_REPORT_INPUT, 1, 1);
        assert_field(dial, 1, 15, 1, -3600, 3600);
        ASSERT_EQ(dial->unit_exponent, -1);
        ASSERT_EQ(dial->physical_min, -3600);
        ASSERT_EQ(hid_report_prepare(hid_descriptor_find_report(d, HID_REPORT_INPUT, 1), report,
                                     sizeof(report)),
                  9);
        ASSERT_OK(hid_field_insert(field_of(d, HID_REPORT_INPUT, 1, 0), 0, 1, report, 9));
        ASSERT_OK(hid_field_insert(dial, 0, -3600, report, 9));
        ASSERT_EQ(report[0], 0x01);
        ASSERT_EQ(report[1], 0xe1);
        ASSERT_EQ(report[2], 0xe3);
        ASSERT_OK(hid_field_extract(dial, 0, report, 9, &v));
        ASSERT_EQ(v, -3600);
        ASSERT_ERROR(hid_field_insert(dial, 0, 3601, report, 9), ERANGE);
        /* X: Unit Exponent 0x0d is -3 and Physical Maximum 24000. */
        ASSERT_EQ(field_of(d, HID_REPORT_INPUT, 1, 2)->unit_exponent, -3);
        ASSERT_EQ(field_of(d, HID_REPORT_INPUT, 1, 2)->physical_max, 24000);

        ASSERT_OK(haptics_descriptor_parse(d, &h));
        ASSERT_EQ(h.output_report_id, 2);
        trigger = h.manual_trigger.field;
        intensity = h.intensity.field;
        ASSERT_TRUE(trigger && intensity);
        assert_field(trigger, 0, 16, 1, 0x1000, 0x1004);
        assert_field(intensity, 16, 8, 1, 0, 127);
        ASSERT_EQ(h.repeat_count.field->bit_offset, 24);
        ASSERT_EQ(h.output_retrigger_period.field->bit_offset, 32);
        ASSERT_EQ(h.list_report_id, 2);
        ASSERT_EQ(h.n_waveforms, 2);
        ASSERT_EQ(h.waveforms[0].control.field->flags, HID_FIELD_CONSTANT | HID_FIELD_VARIABLE);
        ASSERT_EQ(h.waveforms[0].control.field->bit_offset, 88);
        ASSERT_EQ(h.n_durations, 2);
        ASSERT_EQ(h.auto_trigger.field->bit_offset, 0);
        ASSERT_EQ(h.retrigger_period.field->bit_offset, 64);
        ASSERT_OK(haptics_find_continuous_waveform(&h, NULL, 0, &ordinal, &waveform));
        ASSERT_EQ(ordinal, 4);
        ASSERT_EQ(waveform, HAPTICS_WAVEFORM_BUZZ_CONTINUOUS);

        /* Its Manual Trigger took the Auto Trigger's 0x1000..0x1004 range: no ordinal fits, so
         * not even WAVEFORM_STOP could be sent. */
        ASSERT_FALSE(haptics_descriptor_is_usable(&h));
        ASSERT_ERROR(haptics_build_stop(&h, buf, sizeof(buf), &n), EOPNOTSUPP);
}

/* Every prefix of a real descriptor: an error or a consistent result, never a crash. */
static void test_truncation(void)
{
        static const char *const names[] = {SURFACE_DIAL, RADIAL_SAMPLE, BOOT_KEYBOARD};
        uint8_t data[MAX_DESCRIPTOR];

        for (size_t k = 0; k < ELEMENTSOF(names); k++) {
                size_t size = load(names[k], data, sizeof(data));
                unsigned accepted = 0;

                for (size_t n = 0; n < size; n++) {
                        _cleanup_(hid_descriptor_freep) HidDescriptor *d = NULL;
                        int r = hid_descriptor_parse(n > 0 ? data : NULL, n, &d);

                        if (r < 0) {
                                ASSERT_TRUE(r == -EBADMSG);
                                ASSERT_TRUE(d == NULL);
                                continue;
                        }
                        accepted++;
                        check_invariants(d);
                        exercise_haptics(d, data, n);
                }
                /* Only prefixes that end between items with no collection open are whole
                 * descriptors: after the leading Usage Page and Usage items, and in the Dial
                 * after each of its first four top-level collections and after the global and
                 * local items that follow them (277, 280, 282, 299, 301, 438, 440, 442, 465,
                 * 467). */
                ASSERT_EQ(accepted, streq(names[k], SURFACE_DIAL) ? 12 : 2);
        }

        /* The Dial cut after its first top-level collection still holds the controller. */
        {
                _cleanup_(hid_descriptor_freep) HidDescriptor *d = NULL;
                HapticsDescriptor h;

                load(SURFACE_DIAL, data, sizeof(data));
                d = parse_ok(data, 277);
                ASSERT_OK(haptics_descriptor_parse(d, &h));
                ASSERT_EQ(h.n_waveforms, 3);
        }
}

/* ---- A drivable controller ------------------------------------------------------------------
 * Hand-written, not from a device. Its haptics collection follows the layout Wine's winebus
 * gives its virtual game pads (hid_device_add_haptics() in dlls/winebus.sys/hid.c): 4-byte
 * Ordinal usages, waveform usage IDs as 16-bit values of the Waveform List feature report, and
 * Intensity (0..65535) with Manual Trigger in one output report. Added: a Retrigger Period whose
 * range excludes 0, to check what the report builders put in fields they do not drive.
 */
/* clang-format off */
static const uint8_t gamepad_haptics[] = {
        0x05, 0x01,                   /* Usage Page (Generic Desktop) */
        0x09, 0x05,                   /* Usage (Game Pad) */
        0xa1, 0x01,                   /* Collection (Application) */
        0x85, 0x01,                   /*   Report ID (1) */
        0x05, 0x09,                   /*   Usage Page (Button) */
        0x19, 0x01, 0x29, 0x08,       /*   Usage Minimum (1), Usage Maximum (8) */
        0x15, 0x00, 0x25, 0x01,       /*   Logical Minimum (0), Logical Maximum (1) */
        0x75, 0x01, 0x95, 0x08,       /*   Report Size (1), Report Count (8) */
        0x81, 0x02,                   /*   Input (Data,Var,Abs) */
        0x05, 0x0e,                   /*   Usage Page (Haptics) */
        0x09, 0x01,                   /*   Usage (Simple Haptic Controller) */
        0xa1, 0x02,                   /*   Collection (Logical) */
        0x09, 0x10,                   /*     Usage (Waveform List) */
        0xa1, 0x04,                   /*     Collection (Named Array) */
        0x0b, 0x03, 0x00, 0x0a, 0x00, /*       Usage (Ordinal 3), 4 bytes */
        0x0b, 0x04, 0x00, 0x0a, 0x00, /*       Usage (Ordinal 4), 4 bytes */
        0x75, 0x10, 0x95, 0x02,       /*       Report Size (16), Report Count (2) */
        0x27, 0xff, 0xff, 0x00, 0x00, /*       Logical Maximum (65535) */
        0xb1, 0x42,                   /*       Feature (Data,Var,Abs,Null) */
        0xc0,                         /*     End Collection */
        0x09, 0x11,                   /*     Usage (Duration List) */
        0xa1, 0x04,                   /*     Collection (Named Array) */
        0x0b, 0x03, 0x00, 0x0a, 0x00, /*       Usage (Ordinal 3), 4 bytes */
        0x0b, 0x04, 0x00, 0x0a, 0x00, /*       Usage (Ordinal 4), 4 bytes */
        0xb1, 0x42,                   /*       Feature (Data,Var,Abs,Null) */
        0xc0,                         /*     End Collection */
        0x09, 0x23,                   /*     Usage (Intensity) */
        0x95, 0x01,                   /*     Report Count (1) */
        0x91, 0x02,                   /*     Output (Data,Var,Abs): 16 bits, 0..65535 */
        0x09, 0x21,                   /*     Usage (Manual Trigger) */
        0x15, 0x01, 0x25, 0x04,       /*     Logical Minimum (1), Logical Maximum (4) */
        0x75, 0x08,                   /*     Report Size (8) */
        0x91, 0x02,                   /*     Output (Data,Var,Abs) */
        0x09, 0x24,                   /*     Usage (Repeat Count) */
        0x15, 0x00, 0x25, 0x01,       /*     Logical Minimum (0), Logical Maximum (1) */
        0x91, 0x02,                   /*     Output (Data,Var,Abs) */
        0x09, 0x25,                   /*     Usage (Retrigger Period) */
        0x15, 0x0a, 0x26, 0xe8, 0x03, /*     Logical Minimum (10), Logical Maximum (1000) */
        0x75, 0x10,                   /*     Report Size (16) */
        0x91, 0x02,                   /*     Output (Data,Var,Abs) */
        0xc0,                         /*   End Collection */
        0xc0,                         /* End Collection */
};
/* clang-format on */

static void test_haptics_usable(void)
{
        _cleanup_(hid_descriptor_freep) HidDescriptor *d = PARSE_OK(gamepad_haptics);
        HapticsDescriptor h;
        uint16_t ordinal = 0, waveform = 0;
        /* Feature report 1: ordinal 3 is rumble, 4 buzz, durations 0 (continuous). */
        const uint8_t list[9] = {0x01, 0x05, 0x10, 0x04, 0x10, 0x00, 0x00, 0x00, 0x00};
        const uint8_t rumble_only[9] = {0x01, 0x05, 0x10, 0x00, 0x00};
        const uint8_t neither[9] = {0x01, 0x03, 0x10, 0x09, 0x00};

        check_invariants(d);
        ASSERT_OK(haptics_descriptor_parse(d, &h));
        ASSERT_TRUE(haptics_descriptor_is_usable(&h));
        ASSERT_EQ(h.output_report_id, 1);
        assert_field(h.intensity.field, 0, 16, 1, 0, 65535);
        assert_field(h.manual_trigger.field, 16, 8, 1, 1, 4);
        ASSERT_EQ(h.repeat_count.field->bit_offset, 24);
        ASSERT_EQ(h.output_retrigger_period.field->bit_offset, 32);
        ASSERT_EQ(haptics_output_report_size(&h), 7);

        /* 4-byte usages carry the Ordinal page whatever the Usage Page says. */
        ASSERT_EQ(h.list_report_id, 1);
        ASSERT_EQ(h.n_waveforms, 2);
        ASSERT_EQ(h.waveforms[0].ordinal, 3);
        ASSERT_EQ(h.waveforms[1].ordinal, 4);
        ASSERT_EQ(h.waveforms[1].control.index, 1);
        ASSERT_EQ(h.waveforms[0].control.field->usage_page, HID_PAGE_HAPTICS);
        ASSERT_EQ(h.n_durations, 2);
        ASSERT_EQ(h.durations[0].control.field->bit_offset, 32);
        ASSERT_TRUE(h.auto_trigger.field == NULL);

        /* Which ordinal is what comes from the feature report here. */
        ASSERT_ERROR(haptics_find_continuous_waveform(&h, NULL, 0, &ordinal, &waveform), ENOENT);
        ASSERT_OK(haptics_find_continuous_waveform(&h, list, sizeof(list), &ordinal, &waveform));
        ASSERT_EQ(ordinal, 4);
        ASSERT_EQ(waveform, HAPTICS_WAVEFORM_BUZZ_CONTINUOUS);
        ASSERT_EQ(haptics_find_waveform(&h, list, sizeof(list), HAPTICS_WAVEFORM_RUMBLE_CONTINUOUS),
                  3);
        ASSERT_OK(haptics_find_continuous_waveform(&h, rumble_only, sizeof(rumble_only), &ordinal,
                                                   &waveform));
        ASSERT_EQ(ordinal, 3);
        ASSERT_EQ(waveform, HAPTICS_WAVEFORM_RUMBLE_CONTINUOUS);
        ASSERT_ERROR(
                haptics_find_continuous_waveform(&h, neither, sizeof(neither), &ordinal, &waveform),
                ENOENT);
        ASSERT_EQ(haptics_find_waveform(&h, neither, sizeof(neither), HAPTICS_WAVEFORM_CLICK), 3);
        ASSERT_ERROR(haptics_find_waveform(&h, list, 4, HAPTICS_WAVEFORM_CLICK), EBADMSG);
}

static void assert_built(const HapticsDescriptor *h, uint16_t ordinal, unsigned percent,
                         const uint8_t expected[7])
{
        uint8_t buf[12];
        size_t n = 0;

        memset(buf, 0xaa, sizeof(buf));
        ASSERT_OK(haptics_build_play(h, ordinal, percent, buf, sizeof(buf), &n));
        ASSERT_EQ(n, 7);
        ASSERT_EQ(memcmp(buf, expected, 7), 0);
        ASSERT_EQ(buf[7], 0xaa); /* nothing past the report */
}

static void test_haptics_build(void)
{
        _cleanup_(hid_descriptor_freep) HidDescriptor *d = PARSE_OK(gamepad_haptics);
        HapticsDescriptor h;
        uint8_t buf[12];
        size_t n = 0;

        ASSERT_OK(haptics_descriptor_parse(d, &h));

        /* ID, Intensity (16 bits LE), Manual Trigger, Repeat Count 0, Retrigger Period at its
         * minimum 10 because 0 is out of its range. 50 % of 65535 rounds to 0x8000. */
        assert_built(&h, 4, 50, (const uint8_t[]){0x01, 0x00, 0x80, 0x04, 0x00, 0x0a, 0x00});
        assert_built(&h, 3, 100, (const uint8_t[]){0x01, 0xff, 0xff, 0x03, 0x00, 0x0a, 0x00});
        assert_built(&h, 4, 1, (const uint8_t[]){0x01, 0x8f, 0x02, 0x04, 0x00, 0x0a, 0x00});
        assert_built(&h, 4, 0, (const uint8_t[]){0x01, 0x00, 0x00, 0x04, 0x00, 0x0a, 0x00});

        /* Stop: WAVEFORM_STOP's ordinal 2 at the lowest intensity. */
        memset(buf, 0xaa, sizeof(buf));
        ASSERT_OK(haptics_build_stop(&h, buf, sizeof(buf), &n));
        ASSERT_EQ(n, 7);
        ASSERT_EQ(memcmp(buf, ((const uint8_t[]){0x01, 0x00, 0x00, 0x02, 0x00, 0x0a, 0x00}), 7), 0);

        ASSERT_ERROR(haptics_build_play(&h, 5, 50, buf, sizeof(buf), &n), ERANGE);
        ASSERT_ERROR(haptics_build_play(&h, 0, 50, buf, sizeof(buf), &n), ERANGE);
        ASSERT_ERROR(haptics_build_play(&h, 4, 101, buf, sizeof(buf), &n), ERANGE);
        ASSERT_ERROR(haptics_build_play(&h, 4, 50, buf, 6, &n), ENOBUFS);
        ASSERT_ERROR(haptics_build_stop(&h, buf, 6, &n), ENOBUFS);
        ASSERT_OK(haptics_build_stop(&h, buf, 7, &n));
}

/* Hand-written: one controller with Intensity only in a feature report, one with Manual Trigger
 * and Intensity in different output reports, neither with a Waveform List. */
static void test_haptics_not_usable(void)
{
        /* clang-format off */
        static const uint8_t split[] = {
                0x05, 0x0e, 0x09, 0x01, 0xa1, 0x01, /* Simple Haptic Controller (Application) */
                0x15, 0x00, 0x25, 0x07, 0x75, 0x08, 0x95, 0x01,
                0x85, 0x01, 0x09, 0x21, 0x91, 0x02,       /*   Report 1: Manual Trigger */
                0x85, 0x02, 0x09, 0x23, 0x91, 0x02,       /*   Report 2: Intensity */
                0x85, 0x03, 0x09, 0x23, 0xb1, 0x02,       /*   Report 3: Intensity, feature */
                0xc0,
        };
        /* clang-format on */
        /* clang-format off */
        static const uint8_t feature_only[] = {
                0x05, 0x0e, 0x09, 0x01, 0xa1, 0x01, 0x15, 0x00, 0x25, 0x64, 0x75, 0x08,
                0x95, 0x01, 0x09, 0x23, 0xb1, 0x02, 0xc0,
        };
        /* clang-format on */
        /* clang-format off */
        static const uint8_t elsewhere[] = {
                /* Manual Trigger outside any Simple Haptic Controller does not count. */
                0x05, 0x0e, 0x09, 0x21, 0x15, 0x01, 0x25, 0x04, 0x75, 0x08, 0x95, 0x01,
                0x91, 0x02,
        };
        /* clang-format on */
        _cleanup_(hid_descriptor_freep) HidDescriptor *a = PARSE_OK(split);
        _cleanup_(hid_descriptor_freep) HidDescriptor *b = PARSE_OK(feature_only);
        _cleanup_(hid_descriptor_freep) HidDescriptor *c = PARSE_OK(elsewhere);
        HapticsDescriptor h;

        ASSERT_OK(haptics_descriptor_parse(a, &h));
        ASSERT_EQ(h.output_report_id, 1);
        ASSERT_TRUE(h.manual_trigger.field);
        ASSERT_TRUE(h.intensity.field == NULL); /* only in other reports */
        ASSERT_EQ(h.n_waveforms, 0);
        ASSERT_FALSE(haptics_descriptor_is_usable(&h));

        ASSERT_OK(haptics_descriptor_parse(b, &h));
        ASSERT_TRUE(h.manual_trigger.field == NULL && h.intensity.field == NULL);
        ASSERT_EQ(haptics_output_report_size(&h), 0);
        ASSERT_FALSE(haptics_descriptor_is_usable(&h));

        ASSERT_ERROR(haptics_descriptor_parse(c, &h), ENODEV);
        ASSERT_ERROR(haptics_descriptor_parse(NULL, &h), EINVAL);
}

/* Hand-written: Waveform Lists at and past HAPTICS_MAX_LIST_ENTRIES, a list split over two
 * reports, and an output report with Intensity but no Manual Trigger. */
static void test_haptics_lists(void)
{
        /* clang-format off */
        uint8_t list[] = {
                0x05, 0x0e, 0x09, 0x01, 0xa1, 0x02,       /* Simple Haptic Controller */
                0x85, 0x01, 0x09, 0x10, 0xa1, 0x02,       /*   report 1: Waveform List */
                0x05, 0x0a, 0x19, 0x03, 0x29, 0x42,       /*     Ordinals 3..66 */
                0x75, 0x10, 0x95, 0x40, 0xb1, 0x02,       /*     64 elements */
                0x85, 0x02, 0x09, 0x43, 0x95, 0x01, 0xb1, 0x02, /* report 2: Ordinal 67 */
                0xc0,
                0x05, 0x0e, 0x09, 0x23, 0x91, 0x02,       /*   Intensity, output report 2 */
                0xc0,
        };
        /* clang-format on */
        _cleanup_(hid_descriptor_freep) HidDescriptor *d = PARSE_OK(list);
        HidDescriptor *more = NULL;
        HapticsDescriptor h;

        ASSERT_OK(haptics_descriptor_parse(d, &h));
        ASSERT_EQ(h.list_report_id, 1);
        ASSERT_EQ(h.n_waveforms, HAPTICS_MAX_LIST_ENTRIES); /* not report 2's ordinal 67 */
        ASSERT_EQ(h.waveforms[63].ordinal, 66);
        ASSERT_EQ(h.waveforms[63].control.index, 63);
        ASSERT_TRUE(h.manual_trigger.field == NULL);
        ASSERT_EQ(h.output_report_id, 2);
        ASSERT_TRUE(h.intensity.field);
        ASSERT_FALSE(haptics_descriptor_is_usable(&h));

        list[17] = 0x43, list[21] = 0x41; /* Ordinals 3..67, 65 elements */
        ASSERT_OK(hid_descriptor_parse(list, sizeof(list), &more));
        ASSERT_ERROR(haptics_descriptor_parse(more, &h), E2BIG);
        hid_descriptor_free(more);
}

/* ---- Parser edge cases (all hand-written) ---------------------------------------------------- */

static void test_push_pop(void)
{
        /* clang-format off */
        static const uint8_t push_pop[] = {
                0x05, 0x01, 0x09, 0x02, 0xa1, 0x01,
                0x15, 0x00, 0x25, 0x01, 0x75, 0x01, 0x95, 0x03, 0x85, 0x01,
                0xa4,                         /* Push */
                0x15, 0x81, 0x25, 0x7f, 0x75, 0x08, 0x95, 0x02, 0x85, 0x02,
                0x05, 0x09,                   /* Usage Page (Button), pushed away too */
                0x09, 0x30, 0x81, 0x06,       /* report 2: two signed bytes */
                0xb4,                         /* Pop: back to 1-bit, 0..1, report 1, page 1 */
                0x09, 0x31, 0x81, 0x02,
                0xc0,
        };
        /* clang-format on */
        static const uint8_t pop_without_push[] = {0xa4, 0xb4, 0xb4};
        static const uint8_t push8[] = {0xa4, 0xa4, 0xa4, 0xa4, 0xa4, 0xa4, 0xa4,
                                        0xa4, 0x75, 0x08, 0x95, 0x01, 0x81, 0x01};
        static const uint8_t push9[] = {0xa4, 0xa4, 0xa4, 0xa4, 0xa4, 0xa4, 0xa4, 0xa4, 0xa4};
        _cleanup_(hid_descriptor_freep) HidDescriptor *d = PARSE_OK(push_pop);
        _cleanup_(hid_descriptor_freep) HidDescriptor *d8 = PARSE_OK(push8);
        const HidField *inner, *outer;

        check_invariants(d);
        inner = field_of(d, HID_REPORT_INPUT, 2, 0);
        assert_field(inner, 0, 8, 2, -127, 127);
        ASSERT_EQ(inner->usages[0].min, HID_USAGE(0x09, 0x30));
        outer = field_of(d, HID_REPORT_INPUT, 1, 0);
        assert_field(outer, 0, 1, 3, 0, 1);
        ASSERT_EQ(outer->usages[0].min, HID_USAGE(0x01, 0x31));
        ASSERT_EQ(wire_size(d, HID_REPORT_INPUT, 1), 2);
        ASSERT_EQ(wire_size(d, HID_REPORT_INPUT, 2), 3);

        ASSERT_EQ(d8->n_fields, 1);
        ASSERT_PARSE_ERROR(pop_without_push, EBADMSG);
        ASSERT_PARSE_ERROR(push9, EBADMSG);
}

static void test_usage_ranges(void)
{
        /* clang-format off */
        static const uint8_t ranges[] = {
                0x05, 0x09, 0x75, 0x01, 0x95, 0x0a, 0x15, 0x00, 0x25, 0x01,
                0x19, 0x01, 0x29, 0x03,       /* Buttons 1..3 */
                0x09, 0x07,                   /* Button 7 */
                0x29, 0x0c, 0x19, 0x0a,       /* Buttons 10..12, maximum first */
                0x81, 0x02,
                /* Extended Minimum: its page applies to the short Maximum. */
                0x1b, 0x01, 0x00, 0x0a, 0x00, 0x29, 0x04, 0x95, 0x04, 0x81, 0x02,
                /* Usage Page after the Usage: short usages take the page at the main item. */
                0x09, 0x30, 0x05, 0x01, 0x95, 0x01, 0x81, 0x02,
                /* Fewer usages than elements: the last one repeats. */
                0x09, 0x31, 0x95, 0x03, 0x81, 0x02,
        };
        /* clang-format on */
        static const uint8_t reversed[] = {0x19, 0x05, 0x29, 0x04, 0x75,
                                           0x01, 0x95, 0x01, 0x81, 0x02};
        static const uint8_t unpaired[] = {0x19, 0x01, 0x75, 0x01, 0x95, 0x01, 0x81, 0x02};
        static const uint8_t twice[] = {0x19, 0x01, 0x19, 0x02, 0x29, 0x03};
        static const uint8_t pages[] = {0x1b, 0x01, 0x00, 0x09, 0x00, 0x2b, 0x03, 0x00, 0x0a, 0x00};
        _cleanup_(hid_descriptor_freep) HidDescriptor *d = PARSE_OK(ranges);
        const HidField *f;
        uint32_t usage;

        check_invariants(d);
        f = field_of(d, HID_REPORT_INPUT, 0, 0);
        ASSERT_EQ(f->n_usages, 3);
        ASSERT_EQ(f->usages[1].min, HID_USAGE(0x09, 0x07));
        ASSERT_EQ(f->usages[2].min, HID_USAGE(0x09, 0x0a));
        ASSERT_EQ(f->usages[2].max, HID_USAGE(0x09, 0x0c));
        ASSERT_OK(hid_field_get_usage(f, 3, &usage));
        ASSERT_EQ(usage, HID_USAGE(0x09, 0x07));
        ASSERT_OK(hid_field_get_usage(f, 5, &usage));
        ASSERT_EQ(usage, HID_USAGE(0x09, 0x0b));
        ASSERT_OK(hid_field_get_usage(f, 9, &usage)); /* past the 7 usages: the last */
        ASSERT_EQ(usage, HID_USAGE(0x09, 0x0c));
        ASSERT_EQ(hid_field_find_usage(f, HID_USAGE(0x09, 0x0c)), 6);
        ASSERT_ERROR(hid_field_find_usage(f, HID_USAGE(0x09, 0x04)), ENOENT);

        f = field_of(d, HID_REPORT_INPUT, 0, 1);
        ASSERT_EQ(f->usages[0].min, HID_USAGE(0x0a, 0x01));
        ASSERT_EQ(f->usages[0].max, HID_USAGE(0x0a, 0x04));
        ASSERT_EQ(f->usage_page, 0x09);

        f = field_of(d, HID_REPORT_INPUT, 0, 2);
        ASSERT_EQ(f->usages[0].min, HID_USAGE(0x01, 0x30));

        f = field_of(d, HID_REPORT_INPUT, 0, 3);
        ASSERT_OK(hid_field_get_usage(f, 2, &usage));
        ASSERT_EQ(usage, HID_USAGE(0x01, 0x31));
        ASSERT_ERROR(hid_field_get_usage(f, 3, &usage), ENOENT);

        ASSERT_PARSE_ERROR(reversed, EBADMSG);
        ASSERT_PARSE_ERROR(unpaired, EBADMSG);
        ASSERT_PARSE_ERROR(twice, EBADMSG);
        ASSERT_PARSE_ERROR(pages, EBADMSG);
}

static void test_report_ids(void)
{
        /* clang-format off */
        static const uint8_t ids[] = {
                0x06, 0x00, 0xff, 0x09, 0x01, 0xa1, 0x01,
                0x15, 0x00, 0x26, 0xff, 0x00, 0x75, 0x08,
                0x85, 0x03, 0x95, 0x02, 0x09, 0x01, 0x81, 0x02, /* input 3: bytes 0, 1 */
                0x85, 0x04, 0x95, 0x01, 0x09, 0x02, 0x81, 0x02, /* input 4: byte 0 */
                0x85, 0x03, 0x75, 0x04, 0x09, 0x03, 0x81, 0x02, /* input 3 again: bits 16..19 */
                0x09, 0x04, 0x91, 0x02,                         /* output 3: its own offsets */
                0x09, 0x05, 0xb1, 0x02,                         /* feature 3 */
                0xc0,
        };
        /* clang-format on */
        static const uint8_t id0[] = {0x85, 0x00};
        static const uint8_t id256[] = {0x86, 0x00, 0x01};
        static const uint8_t unnumbered_first[] = {0x75, 0x08, 0x95, 0x01, 0x81,
                                                   0x02, 0x85, 0x01, 0x81, 0x02};
        static const uint8_t pop_to_unnumbered[] = {0x75, 0x08, 0x95, 0x01, 0xa4, 0x85,
                                                    0x01, 0x81, 0x02, 0xb4, 0x81, 0x02};
        /* An ID set before any data is fine even when globals came first. */
        static const uint8_t id_late[] = {0x75, 0x08, 0x95, 0x01, 0x85, 0x07, 0x81, 0x02};
        _cleanup_(hid_descriptor_freep) HidDescriptor *d = PARSE_OK(ids);
        _cleanup_(hid_descriptor_freep) HidDescriptor *late = PARSE_OK(id_late);

        check_invariants(d);
        ASSERT_TRUE(d->numbered);
        ASSERT_EQ(d->n_reports, 4);
        assert_field(field_of(d, HID_REPORT_INPUT, 3, 0), 0, 8, 2, 0, 255);
        assert_field(field_of(d, HID_REPORT_INPUT, 4, 0), 0, 8, 1, 0, 255);
        assert_field(field_of(d, HID_REPORT_INPUT, 3, 1), 16, 4, 1, 0, 255);
        assert_field(field_of(d, HID_REPORT_OUTPUT, 3, 0), 0, 4, 1, 0, 255);
        assert_field(field_of(d, HID_REPORT_FEATURE, 3, 0), 0, 4, 1, 0, 255);
        ASSERT_EQ(hid_descriptor_find_report(d, HID_REPORT_INPUT, 3)->size_bits, 20);
        ASSERT_EQ(hid_descriptor_find_report(d, HID_REPORT_INPUT, 3)->size, 3);
        ASSERT_EQ(wire_size(d, HID_REPORT_INPUT, 3), 4);
        ASSERT_EQ(wire_size(d, HID_REPORT_INPUT, 4), 2);
        ASSERT_EQ(wire_size(d, HID_REPORT_OUTPUT, 3), 2);
        ASSERT_TRUE(hid_descriptor_find_report(d, HID_REPORT_OUTPUT, 4) == NULL);
        ASSERT_EQ(field_of(late, HID_REPORT_INPUT, 7, 0)->bit_offset, 0);

        ASSERT_PARSE_ERROR(id0, EBADMSG);
        ASSERT_PARSE_ERROR(id256, EBADMSG);
        ASSERT_PARSE_ERROR(unnumbered_first, EBADMSG);
        ASSERT_PARSE_ERROR(pop_to_unnumbered, EBADMSG);
}

static void test_long_items_and_ignored_locals(void)
{
        /* clang-format off */
        static const uint8_t long_item[] = {
                0x75, 0x08, 0x95, 0x01,
                0xfe, 0x03, 0x42, 0x81, 0x02, 0xc0, /* long item: its data looks like items */
                0xfe, 0x00, 0x10,                   /* empty long item */
                0x39, 0x01, 0x49, 0x02, 0x59, 0x03, /* designator index, minimum, maximum */
                0x79, 0x04, 0x89, 0x01, 0x99, 0x05, /* strings */
                0x09, 0x01, 0x81, 0x02,
        };
        /* clang-format on */
        static const uint8_t truncated_long[] = {0xfe, 0x04, 0x42, 0x81, 0x02, 0xc0};
        static const uint8_t truncated_header[] = {0x75, 0x08, 0xfe, 0x00};
        _cleanup_(hid_descriptor_freep) HidDescriptor *d = PARSE_OK(long_item);

        ASSERT_EQ(d->n_fields, 1);
        ASSERT_EQ(d->fields[0].bit_offset, 0);
        ASSERT_EQ(d->fields[0].depth, 0);
        ASSERT_EQ(d->fields[0].n_usages, 1);
        ASSERT_PARSE_ERROR(truncated_long, EBADMSG);
        ASSERT_PARSE_ERROR(truncated_header, EBADMSG);
}

static void test_signed_values(void)
{
        /* clang-format off */
        static const uint8_t ranges[] = {
                0x75, 0x08, 0x95, 0x01,
                0x15, 0x81, 0x25, 0x7f, 0x81, 0x02,                         /* -127..127 */
                0x16, 0x00, 0x80, 0x26, 0xff, 0x7f, 0x81, 0x02,             /* -32768..32767 */
                0x15, 0x00, 0x25, 0xff, 0x81, 0x02,                         /* 0..255 */
                0x25, 0xff, 0x15, 0xff, 0x81, 0x02,                         /* -1..-1 */
                0x17, 0x00, 0x00, 0x00, 0x80, 0x25, 0x00, 0x81, 0x02,       /* INT32_MIN..0 */
                0x14, 0x27, 0xff, 0xff, 0xff, 0xff, 0x81, 0x02,             /* 0..4294967295 */
                0x35, 0xf6, 0x46, 0xe8, 0x03, 0x81, 0x02,                   /* physical -10..1000 */
                0x55, 0x08, 0x81, 0x02, 0x55, 0x07, 0x81, 0x02, 0x55, 0xfe, 0x81, 0x02,
        };
        /* clang-format on */
        _cleanup_(hid_descriptor_freep) HidDescriptor *d = PARSE_OK(ranges);

        ASSERT_EQ(d->fields[0].logical_min, -127);
        ASSERT_EQ(d->fields[0].logical_max, 127);
        ASSERT_EQ(d->fields[1].logical_min, -32768);
        ASSERT_EQ(d->fields[1].logical_max, 32767);
        ASSERT_EQ(d->fields[2].logical_min, 0);
        ASSERT_EQ(d->fields[2].logical_max, 255);
        ASSERT_EQ(d->fields[3].logical_min, -1);
        ASSERT_EQ(d->fields[3].logical_max, -1);
        ASSERT_EQ(d->fields[4].logical_min, INT32_MIN);
        ASSERT_EQ(d->fields[4].logical_max, 0);
        ASSERT_EQ(d->fields[5].logical_min, 0); /* 0x14: Logical Minimum with no data */
        ASSERT_EQ(d->fields[5].logical_max, 4294967295LL);
        ASSERT_EQ(d->fields[6].physical_min, -10);
        ASSERT_EQ(d->fields[6].physical_max, 1000);
        ASSERT_EQ(d->fields[7].unit_exponent, -8); /* nibble 0x8 */
        ASSERT_EQ(d->fields[8].unit_exponent, 7);
        ASSERT_EQ(d->fields[9].unit_exponent, -2); /* a plain signed byte 0xfe */
}

static void test_collections(void)
{
        /* clang-format off */
        static const uint8_t nested[] = {
                0x05, 0x01, 0x09, 0x02, 0xa1, 0x01,       /* Mouse, Application */
                0x09, 0x01, 0xa1, 0x00,                   /*   Pointer, Physical */
                0x0a, 0x34, 0x12, 0xa1, 0x80,             /*     0x1234, vendor type 0x80 */
                0x75, 0x08, 0x95, 0x01, 0x09, 0x30, 0x81, 0x02,
                0xc0, 0xc0,
                0x09, 0x01, 0xa1, 0x00,                   /*   a second Pointer */
                0x09, 0x31, 0x81, 0x02,
                0xc0, 0xc0,
        };
        /* clang-format on */
        static const uint8_t end_without_begin[] = {0xa1, 0x01, 0xc0, 0xc0};
        static const uint8_t unclosed[] = {0xa1, 0x01, 0xa1, 0x02, 0xc0};
        static const uint8_t reserved_type[] = {0xa1, 0x07, 0xc0};
        static const uint8_t big_type[] = {0xa2, 0x00, 0x01, 0xc0};
        uint8_t deep[2 * (HID_MAX_COLLECTION_DEPTH + 1)];
        _cleanup_(hid_descriptor_freep) HidDescriptor *d = PARSE_OK(nested);
        HidDescriptor *x = NULL;
        const HidField *f;

        f = &d->fields[0];
        ASSERT_EQ(f->depth, 3);
        ASSERT_EQ(f->path[0].usage, HID_USAGE(0x01, 0x02));
        ASSERT_EQ(f->path[0].index, 0);
        ASSERT_EQ(f->path[1].usage, HID_USAGE(0x01, 0x01));
        ASSERT_EQ(f->path[1].type, HID_COLLECTION_PHYSICAL);
        ASSERT_EQ(f->path[2].usage, HID_USAGE(0x01, 0x1234));
        ASSERT_EQ(f->path[2].type, 0x80);
        ASSERT_EQ(hid_field_find_collection(f, HID_USAGE(0x01, 0x01)), 1);
        ASSERT_ERROR(hid_field_find_collection(f, HID_USAGE(0x01, 0x06)), ENOENT);
        f = &d->fields[1];
        ASSERT_EQ(f->depth, 2);
        ASSERT_EQ(f->path[1].usage, HID_USAGE(0x01, 0x01));
        ASSERT_EQ(f->path[1].index, 3); /* same usage, another collection */
        ASSERT_EQ(f->bit_offset, 8);

        ASSERT_PARSE_ERROR(end_without_begin, EBADMSG);
        ASSERT_PARSE_ERROR(unclosed, EBADMSG);
        ASSERT_PARSE_ERROR(reserved_type, EBADMSG);
        ASSERT_PARSE_ERROR(big_type, EBADMSG);

        /* 16 levels nest, 17 are too many. */
        for (size_t i = 0; i < HID_MAX_COLLECTION_DEPTH + 1; i++) {
                deep[i] = 0xa0; /* Collection, no data: Physical */
                deep[HID_MAX_COLLECTION_DEPTH + 1 + i] = 0xc0;
        }
        ASSERT_ERROR(hid_descriptor_parse(deep, sizeof(deep), &x), E2BIG);
        ASSERT_OK(hid_descriptor_parse(deep + 1, sizeof(deep) - 2, &x));
        x = hid_descriptor_free(x);
        ASSERT_TRUE(x == NULL);
}

static void test_delimiters(void)
{
        /* clang-format off */
        static const uint8_t aliases[] = {
                0x05, 0x01, 0x75, 0x08, 0x95, 0x02,
                0xa9, 0x01, 0x09, 0x30, 0x09, 0x40, 0x19, 0x50, 0x29, 0x51, 0xa9, 0x00,
                0x09, 0x31, 0x81, 0x02,
                0xa9, 0x01, 0x19, 0x01, 0x29, 0x02, 0x09, 0x07, 0xa9, 0x00, 0x81, 0x02,
        };
        /* clang-format on */
        static const uint8_t nested[] = {0xa9, 0x01, 0xa9, 0x01};
        static const uint8_t close_only[] = {0xa9, 0x00};
        static const uint8_t open_at_main[] = {0x75, 0x08, 0x95, 0x01, 0xa9, 0x01, 0x81, 0x02};
        static const uint8_t open_at_end[] = {0xa9, 0x01};
        static const uint8_t bad_value[] = {0xa9, 0x02};
        _cleanup_(hid_descriptor_freep) HidDescriptor *d = PARSE_OK(aliases);

        /* Of each delimited set, only the first usage counts. */
        ASSERT_EQ(d->fields[0].n_usages, 2);
        ASSERT_EQ(d->fields[0].usages[0].min, HID_USAGE(0x01, 0x30));
        ASSERT_EQ(d->fields[0].usages[1].min, HID_USAGE(0x01, 0x31));
        ASSERT_EQ(d->fields[1].n_usages, 1);
        ASSERT_EQ(d->fields[1].usages[0].max, HID_USAGE(0x01, 0x02));

        ASSERT_PARSE_ERROR(nested, EBADMSG);
        ASSERT_PARSE_ERROR(close_only, EBADMSG);
        ASSERT_PARSE_ERROR(open_at_main, EBADMSG);
        ASSERT_PARSE_ERROR(open_at_end, EBADMSG);
        ASSERT_PARSE_ERROR(bad_value, EBADMSG);
}

static void test_malformed_items(void)
{
        static const uint8_t reserved_type[] = {0x0c};    /* type 3, not a long item */
        static const uint8_t main_tag[] = {0xd0};         /* main tag 0xd */
        static const uint8_t global_tag[] = {0xc4, 0x00}; /* global tag 0xc */
        static const uint8_t local_tag[] = {0x68, 0x00};  /* local tag 6 */
        static const uint8_t truncated[] = {0x26, 0xff};  /* needs 2 data bytes */
        static const uint8_t truncated4[] = {0x27, 0xff, 0xff, 0xff};
        static const uint8_t usage_page[] = {0x07, 0x00, 0x00, 0x01, 0x00};
        static const uint8_t report_size[] = {0x76, 0x01, 0x01}; /* 257 bits */
        static const uint8_t report_4k[] = {0x75, 0x08, 0x96, 0x01, 0x10, 0x81, 0x02};
        static const uint8_t report_4k_ok[] = {0x75, 0x08, 0x96, 0x00, 0x10, 0x81, 0x02};
        static const uint8_t report_4k_sum[] = {0x75, 0x08, 0x96, 0x00, 0x10, 0x81,
                                                0x02, 0x95, 0x01, 0x81, 0x02};
        static const uint8_t overflow[] = {0x76, 0x00, 0x01, 0x97, 0xff,
                                           0xff, 0xff, 0xff, 0x81, 0x02};
        static const uint8_t no_data[] = {0x75, 0x00, 0x95, 0x10, 0x81, 0x02,
                                          0x75, 0x08, 0x95, 0x00, 0x81, 0x02};
        static const uint8_t empty[] = {0};
        _cleanup_(hid_descriptor_freep) HidDescriptor *ok = PARSE_OK(report_4k_ok);
        _cleanup_(hid_descriptor_freep) HidDescriptor *none = PARSE_OK(no_data);
        HidDescriptor *d = NULL;

        ASSERT_EQ(wire_size(ok, HID_REPORT_INPUT, 0), HID_MAX_REPORT_SIZE);
        ASSERT_EQ(none->n_fields, 0);
        ASSERT_EQ(none->n_reports, 0);

        ASSERT_PARSE_ERROR(reserved_type, EBADMSG);
        ASSERT_PARSE_ERROR(main_tag, EBADMSG);
        ASSERT_PARSE_ERROR(global_tag, EBADMSG);
        ASSERT_PARSE_ERROR(local_tag, EBADMSG);
        ASSERT_PARSE_ERROR(truncated, EBADMSG);
        ASSERT_PARSE_ERROR(truncated4, EBADMSG);
        ASSERT_PARSE_ERROR(usage_page, EBADMSG);
        ASSERT_PARSE_ERROR(report_size, EBADMSG);
        ASSERT_PARSE_ERROR(report_4k, EBADMSG);
        ASSERT_PARSE_ERROR(report_4k_sum, EBADMSG);
        ASSERT_PARSE_ERROR(overflow, EBADMSG);
        ASSERT_ERROR(hid_descriptor_parse(empty, 0, &d), EBADMSG);
        ASSERT_ERROR(hid_descriptor_parse(NULL, 0, &d), EBADMSG);
        ASSERT_ERROR(hid_descriptor_parse(NULL, 5, &d), EINVAL);
        ASSERT_ERROR(hid_descriptor_parse(empty, 1, NULL), EINVAL);
        ASSERT_TRUE(d == NULL);
}

static void test_limits(void)
{
        _cleanup_free_ uint8_t *many = NULL;
        uint8_t usages[8 + 2 * (HID_MAX_USAGES + 1)];
        HidDescriptor *d = NULL;
        size_t n = 0;

        /* HID_MAX_FIELDS one-bit fields parse, one more does not. */
        many = malloc(4 + 2 * (HID_MAX_FIELDS + 1));
        ASSERT_TRUE(many);
        many[n++] = 0x75, many[n++] = 0x01, many[n++] = 0x95, many[n++] = 0x01;
        for (size_t i = 0; i < HID_MAX_FIELDS + 1; i++)
                many[n++] = 0x81, many[n++] = 0x02;
        ASSERT_ERROR(hid_descriptor_parse(many, n, &d), E2BIG);
        ASSERT_OK(hid_descriptor_parse(many, n - 2, &d));
        ASSERT_EQ(d->n_fields, HID_MAX_FIELDS);
        ASSERT_EQ(d->reports[0].size, HID_MAX_FIELDS / 8);
        check_invariants(d);
        d = hid_descriptor_free(d);

        /* HID_MAX_USAGES usages for one item, then one more. */
        n = 0;
        usages[n++] = 0x75, usages[n++] = 0x01, usages[n++] = 0x95, usages[n++] = 0x01;
        for (size_t i = 0; i < HID_MAX_USAGES; i++)
                usages[n++] = 0x09, usages[n++] = (uint8_t) i;
        usages[n++] = 0x81, usages[n++] = 0x02;
        ASSERT_OK(hid_descriptor_parse(usages, n, &d));
        ASSERT_EQ(d->fields[0].n_usages, HID_MAX_USAGES);
        d = hid_descriptor_free(d);
        usages[n - 2] = 0x09, usages[n - 1] = 0x40;
        ASSERT_ERROR(hid_descriptor_parse(usages, n, &d), E2BIG);
        ASSERT_TRUE(d == NULL);
}

/* ---- Value helpers ----------------------------------------------------------------------------
 * Hand-written: report 5 packs elements of odd sizes across byte boundaries.
 */
/* clang-format off */
static const uint8_t packing[] = {
        0x06, 0x00, 0xff, 0x09, 0x01, 0xa1, 0x01, 0x85, 0x05,
        0x09, 0x02, 0x15, 0x00, 0x25, 0x07, 0x75, 0x03, 0x95, 0x01, 0x91, 0x02,  /* 3 bits @0 */
        0x09, 0x03, 0x16, 0x00, 0xf8, 0x26, 0xff, 0x07, 0x75, 0x0c, 0x91, 0x02,  /* 12 s @3 */
        0x09, 0x04, 0x15, 0x00, 0x25, 0x01, 0x75, 0x01, 0x95, 0x02, 0x91, 0x02,  /* 2x1 @15 */
        0x09, 0x05, 0x27, 0xff, 0xff, 0xff, 0xff, 0x75, 0x20, 0x95, 0x01, 0x91, 0x02, /* @17 */
        0x75, 0x07, 0x91, 0x03,                                                 /* pad @49 */
        0x09, 0x06, 0x17, 0x00, 0x00, 0x00, 0x80, 0x27, 0xff, 0xff, 0xff, 0x7f, /* s32 @56 */
        0x75, 0x20, 0x91, 0x02,
        0x09, 0x07, 0x15, 0x00, 0x25, 0x01, 0x75, 0x21, 0x91, 0x02,              /* 33 @88 */
        0x09, 0x08, 0x15, 0x05, 0x25, 0x01, 0x75, 0x08, 0x91, 0x02,              /* 5..1 @121 */
        0xc0,
};
/* clang-format on */

static void test_value_helpers(void)
{
        _cleanup_(hid_descriptor_freep) HidDescriptor *d = PARSE_OK(packing);
        const HidField *three, *twelve, *bits, *u32, *s32, *wide, *broken;
        uint8_t report[20];
        int64_t v;
        /* 5 | -2 << 3 | 1 << 15 | 0xdeadbeef << 17 | -2 << 56, little-endian, after the ID. */
        const uint8_t expected[17] = {0x05, 0xf5, 0xff, 0xde, 0x7d, 0x5b, 0xbd, 0x01, 0xfe,
                                      0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00};

        three = field_of(d, HID_REPORT_OUTPUT, 5, 0);
        twelve = field_of(d, HID_REPORT_OUTPUT, 5, 1);
        bits = field_of(d, HID_REPORT_OUTPUT, 5, 2);
        u32 = field_of(d, HID_REPORT_OUTPUT, 5, 3);
        s32 = field_of(d, HID_REPORT_OUTPUT, 5, 5);
        wide = field_of(d, HID_REPORT_OUTPUT, 5, 6);
        broken = field_of(d, HID_REPORT_OUTPUT, 5, 7);
        assert_field(twelve, 3, 12, 1, -2048, 2047);
        assert_field(u32, 17, 32, 1, 0, 4294967295LL);
        assert_field(s32, 56, 32, 1, INT32_MIN, INT32_MAX);
        ASSERT_EQ(wire_size(d, HID_REPORT_OUTPUT, 5), 18);

        memset(report, 0x77, sizeof(report));
        ASSERT_EQ(hid_report_prepare(hid_descriptor_find_report(d, HID_REPORT_OUTPUT, 5), report,
                                     sizeof(report)),
                  18);
        ASSERT_EQ(report[18], 0x77); /* prepare stops at the report's end */
        ASSERT_OK(hid_field_insert(three, 0, 5, report, 18));
        ASSERT_OK(hid_field_insert(twelve, 0, -2, report, 18));
        ASSERT_OK(hid_field_insert(bits, 0, 1, report, 18));
        ASSERT_OK(hid_field_insert(bits, 1, 0, report, 18));
        ASSERT_OK(hid_field_insert(u32, 0, 0xdeadbeef, report, 18));
        ASSERT_OK(hid_field_insert(s32, 0, -2, report, 18));
        ASSERT_EQ(memcmp(report, expected, sizeof(expected)), 0);
        ASSERT_EQ(report[17], 0x00);

        ASSERT_OK(hid_field_extract(three, 0, report, 18, &v));
        ASSERT_EQ(v, 5);
        ASSERT_OK(hid_field_extract(twelve, 0, report, 18, &v));
        ASSERT_EQ(v, -2);
        ASSERT_OK(hid_field_extract(bits, 0, report, 18, &v));
        ASSERT_EQ(v, 1);
        ASSERT_OK(hid_field_extract(u32, 0, report, 18, &v));
        ASSERT_EQ(v, 0xdeadbeefLL);
        ASSERT_OK(hid_field_extract(s32, 0, report, 18, &v));
        ASSERT_EQ(v, -2);
        ASSERT_OK(hid_field_insert(twelve, 0, -2048, report, 18));
        ASSERT_OK(hid_field_extract(twelve, 0, report, 18, &v));
        ASSERT_EQ(v, -2048);
        ASSERT_OK(hid_field_insert(s32, 0, INT32_MIN, report, 18));
        ASSERT_OK(hid_field_extract(s32, 0, report, 18, &v));
        ASSERT_EQ(v, INT32_MIN);

        /* Writing touches only the element's bits. */
        memset(report, 0xff, sizeof(report));
        report[0] = 0x05;
        ASSERT_OK(hid_field_insert(three, 0, 0, report, 18));
        ASSERT_EQ(report[1], 0xf8);
        ASSERT_EQ(report[2], 0xff);
        ASSERT_OK(hid_field_insert(u32, 0, 0, report, 18));
        ASSERT_EQ(report[2], 0xff); /* data bits 8..15 */
        ASSERT_EQ(report[3], 0x01); /* bit 16 (bits[1]) stays, 17.. cleared */
        ASSERT_EQ(report[4], 0x00);
        ASSERT_EQ(report[6], 0x00);
        ASSERT_EQ(report[7], 0xfe); /* bit 48, u32's last, cleared; the padding stays */

        ASSERT_ERROR(hid_field_insert(three, 0, 8, report, 18), ERANGE);
        ASSERT_ERROR(hid_field_insert(three, 0, -1, report, 18), ERANGE);
        ASSERT_ERROR(hid_field_insert(twelve, 0, 2048, report, 18), ERANGE);
        ASSERT_ERROR(hid_field_insert(twelve, 0, -2049, report, 18), ERANGE);
        ASSERT_ERROR(hid_field_insert(broken, 0, 3, report, 18), ERANGE); /* min > max */
        ASSERT_ERROR(hid_field_insert(bits, 2, 0, report, 18), EINVAL);
        ASSERT_ERROR(hid_field_insert(wide, 0, 1, report, 18), EOPNOTSUPP);
        ASSERT_ERROR(hid_field_extract(wide, 0, report, 18, &v), EOPNOTSUPP);
        ASSERT_ERROR(hid_field_insert(u32, 0, 1, report, 7), ENOBUFS); /* ends in byte 7 */
        ASSERT_OK(hid_field_insert(u32, 0, 1, report, 8));
        ASSERT_ERROR(hid_field_extract(u32, 0, report, 7, &v), EBADMSG);
        ASSERT_ERROR(hid_field_extract(bits, 5, report, 18, &v), EINVAL);
        report[0] = 0x06;
        ASSERT_ERROR(hid_field_extract(three, 0, report, 18, &v), EBADMSG); /* not report 5 */
        ASSERT_ERROR(hid_field_extract(three, 0, report, 0, &v), EBADMSG);
        ASSERT_ERROR(
                hid_report_prepare(hid_descriptor_find_report(d, HID_REPORT_OUTPUT, 5), report, 17),
                ENOBUFS);
}

/* Hand-written: a descriptor whose range does not fit its element (0..100 in 4 bits). */
static void test_value_range_wider_than_field(void)
{
        static const uint8_t narrow[] = {0x15, 0x00, 0x25, 0x64, 0x75,
                                         0x04, 0x95, 0x01, 0x91, 0x02};
        _cleanup_(hid_descriptor_freep) HidDescriptor *d = PARSE_OK(narrow);
        uint8_t report[1] = {};
        int64_t v;

        ASSERT_OK(hid_field_insert(&d->fields[0], 0, 15, report, 1));
        ASSERT_EQ(report[0], 0x0f);
        ASSERT_ERROR(hid_field_insert(&d->fields[0], 0, 16, report, 1), ERANGE);
        ASSERT_EQ(report[0], 0x0f);
        ASSERT_OK(hid_field_extract(&d->fields[0], 0, report, 1, &v));
        ASSERT_EQ(v, 15);
}

/* ---- Random input ------------------------------------------------------------------------- */

static uint64_t next_random(uint64_t *state)
{
        /* xorshift64*: deterministic, so a failure reproduces. */
        *state ^= *state >> 12;
        *state ^= *state << 25;
        *state ^= *state >> 27;
        return *state * UINT64_C(2685821657736338717);
}

static void parse_anything(const uint8_t *data, size_t size)
{
        _cleanup_(hid_descriptor_freep) HidDescriptor *d = NULL;
        int r = hid_descriptor_parse(data, size, &d);

        if (r < 0) {
                ASSERT_TRUE(r == -EBADMSG || r == -E2BIG);
                ASSERT_TRUE(d == NULL);
                return;
        }
        check_invariants(d);
        exercise_haptics(d, data, size);
}

static void test_random_bytes(void)
{
        /* Item prefixes that take the parser deep, so random input is not refused at once. */
        /* clang-format off */
        static const uint8_t prefixes[] = {
                0x05, 0x06, 0x07, 0x09, 0x0a, 0x0b, 0x15, 0x16, 0x17, 0x25, 0x26, 0x27,
                0x35, 0x45, 0x55, 0x65, 0x75, 0x85, 0x95, 0x96, 0xa4, 0xb4, 0x19, 0x29,
                0x1b, 0x2b, 0xa9, 0x81, 0x91, 0xb1, 0x82, 0xa1, 0xa0, 0xc0, 0xfe, 0x39,
        };
        /* clang-format on */
        static const uint8_t haptic_bytes[] = {0x0e, 0x0a, 0x01, 0x10, 0x11, 0x20,
                                               0x21, 0x23, 0x02, 0x42, 0x04, 0x10};
        static const char *const names[] = {SURFACE_DIAL, RADIAL_SAMPLE, BOOT_KEYBOARD};
        uint8_t buf[600], real[3][MAX_DESCRIPTOR];
        size_t real_size[3];
        uint64_t state = UINT64_C(0x6b6e656564); /* "kneed" */

        for (size_t k = 0; k < ELEMENTSOF(names); k++)
                real_size[k] = load(names[k], real[k], sizeof(real[k]));

        for (unsigned i = 0; i < 20000; i++) {
                size_t n = next_random(&state) % 300;
                for (size_t j = 0; j < n; j++)
                        buf[j] = (uint8_t) next_random(&state);
                parse_anything(buf, n);
        }

        /* Structured noise: plausible prefixes, data drawn from haptics-ish values. */
        for (unsigned i = 0; i < 20000; i++) {
                size_t n = 0, items = next_random(&state) % 80;
                for (size_t j = 0; j < items && n + 5 <= sizeof(buf); j++) {
                        uint8_t prefix = prefixes[next_random(&state) % sizeof(prefixes)];
                        size_t len = (prefix & 3) == 3 ? 4 : (prefix & 3);
                        buf[n++] = prefix;
                        for (size_t b = 0; b < len; b++)
                                buf[n++] = next_random(&state) % 4 == 0
                                                   ? (uint8_t) next_random(&state)
                                                   : haptic_bytes[next_random(&state) %
                                                                  sizeof(haptic_bytes)];
                }
                parse_anything(buf, n);
        }

        /* Mutations of the real descriptors: a few bytes changed, maybe cut short. */
        for (unsigned i = 0; i < 6000; i++) {
                size_t k = next_random(&state) % ELEMENTSOF(names);
                size_t n = real_size[k], changes = 1 + next_random(&state) % 4;
                uint8_t copy[MAX_DESCRIPTOR];

                memcpy(copy, real[k], n);
                for (size_t j = 0; j < changes; j++)
                        copy[next_random(&state) % n] = (uint8_t) next_random(&state);
                if (next_random(&state) % 4 == 0)
                        n = next_random(&state) % n;
                parse_anything(copy, n);
        }
}

RUN_TESTS(TEST_CASE(test_boot_keyboard), TEST_CASE(test_surface_dial),
          TEST_CASE(test_surface_dial_haptics), TEST_CASE(test_radial_controller_sample),
          TEST_CASE(test_truncation), TEST_CASE(test_haptics_usable), TEST_CASE(test_haptics_build),
          TEST_CASE(test_haptics_not_usable), TEST_CASE(test_haptics_lists),
          TEST_CASE(test_push_pop), TEST_CASE(test_usage_ranges), TEST_CASE(test_report_ids),
          TEST_CASE(test_long_items_and_ignored_locals), TEST_CASE(test_signed_values),
          TEST_CASE(test_collections), TEST_CASE(test_delimiters), TEST_CASE(test_malformed_items),
          TEST_CASE(test_limits), TEST_CASE(test_value_helpers),
          TEST_CASE(test_value_range_wider_than_field), TEST_CASE(test_random_bytes));
