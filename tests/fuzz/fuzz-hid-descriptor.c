/* SPDX-License-Identifier: MIT */

/*
 * The HID report descriptor parser and everything hid-haptics and kneed-hid-probe do with
 * what it returns. Input: a 16-bit little-endian descriptor length, the descriptor, then the
 * bytes the device answers with (its Waveform List feature report, or any report).
 */

#include "fuzz.h"
#include "haptics-descriptor.h"
#include "hid-descriptor.h"

/* Enough elements of each field to reach every code path, few enough to stay fast. */
#define ELEMENTS_MAX 64u

static void check_field(const HidDescriptor *d, const HidField *f, const uint8_t *report,
                        size_t size)
{
        const HidReport *r = hid_descriptor_find_report(d, f->report_type, f->report_id);
        uint8_t out[1 + HID_MAX_REPORT_SIZE];
        uint32_t usage;
        int64_t v, back;

        /* Every field lies inside its report, and every report inside the limit. */
        FUZZ_CHECK(r);
        FUZZ_CHECK(f->bit_size >= 1 && f->bit_size <= HID_MAX_REPORT_BITS && f->count >= 1);
        FUZZ_CHECK((uint64_t) f->bit_offset + (uint64_t) f->bit_size * f->count <= r->size_bits);
        FUZZ_CHECK(r->size <= HID_MAX_REPORT_SIZE && r->size == (r->size_bits + 7) / 8);
        FUZZ_CHECK(f->depth <= HID_MAX_COLLECTION_DEPTH && f->n_usages <= HID_MAX_USAGES);
        FUZZ_CHECK(hid_report_prepare(r, out, sizeof(out)) == (int) hid_report_wire_size(r));

        for (uint32_t i = 0; i < f->count && i < ELEMENTS_MAX; i++) {
                (void) hid_field_get_usage(f, i, &usage);
                if (hid_field_extract(f, i, report, size, &v) < 0)
                        continue;
                /* What a device may send must survive being written back unchanged. */
                if (hid_field_insert(f, i, v, out, hid_report_wire_size(r)) == 0) {
                        uint8_t id = out[0];
                        if (d->numbered)
                                out[0] = f->report_id;
                        FUZZ_CHECK(hid_field_extract(f, i, out, hid_report_wire_size(r), &back) ==
                                   0);
                        FUZZ_CHECK(back == v);
                        out[0] = id;
                }
        }
}

static void check_haptics(const HidDescriptor *hid, const uint8_t *report, size_t size)
{
        HapticsDescriptor h;
        uint8_t out[1 + HID_MAX_REPORT_SIZE];
        uint16_t ordinal, waveform;
        size_t n;

        if (haptics_descriptor_parse(hid, &h) < 0 || !haptics_descriptor_is_usable(&h))
                return;
        FUZZ_CHECK(haptics_output_report_size(&h) <= sizeof(out));
        FUZZ_CHECK(haptics_build_stop(&h, out, sizeof(out), &n) < 0 ||
                   n == haptics_output_report_size(&h));
        if (haptics_find_continuous_waveform(&h, size ? report : NULL, size, &ordinal, &waveform) <
            0)
                return;
        for (unsigned percent = 0; percent <= 100; percent += 25)
                FUZZ_CHECK(haptics_build_play(&h, ordinal, percent, out, sizeof(out), &n) < 0 ||
                           n == haptics_output_report_size(&h));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        HidDescriptor *hid = NULL;
        const uint8_t *report;
        size_t length, report_size;

        if (size < 2)
                return 0;
        length = (size_t) data[0] | (size_t) data[1] << 8;
        if (length > size - 2)
                length = size - 2;
        report = data + 2 + length;
        report_size = size - 2 - length;

        if (hid_descriptor_parse(data + 2, length, &hid) < 0)
                return 0;
        for (size_t i = 0; i < hid->n_fields; i++)
                check_field(hid, &hid->fields[i], report, report_size);
        check_haptics(hid, report, report_size);
        hid_descriptor_free(hid);
        return 0;
}
