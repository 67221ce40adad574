/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Finds a Simple Haptic Controller (HID Usage Tables, Haptics page 0x0E) in a parsed report
 * descriptor and builds the reports that drive it.
 *
 * The model, from the HUT Haptics page, Microsoft's radial controller documentation and Linux's
 * drivers/hid/hid-haptic.c:
 *   - the host plays a waveform by writing its *ordinal* into Manual Trigger (0x21) of an
 *     output report, with Intensity (0x23) beside it;
 *   - ordinal 1 is always WAVEFORM_NONE and ordinal 2 WAVEFORM_STOP; the device lists its
 *     other waveforms in the Waveform List collection (0x10) of a feature report, one Ordinal
 *     page (0x0A) usage per ordinal. Which waveform an ordinal is comes from the value the
 *     device reports for it (Linux's reading), or, when that value is no waveform usage, from
 *     an equal Physical Minimum and Maximum on its field (Microsoft's "declares supported
 *     waveforms by the physical minimum and maximum of each ordinal").
 *
 * Nothing here allocates, logs or keeps global state.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hid-descriptor.h"

#define HID_PAGE_ORDINAL 0x0a
#define HID_PAGE_HAPTICS 0x0e

#define HAPTICS_USAGE_SIMPLE_HAPTIC_CONTROLLER HID_USAGE(HID_PAGE_HAPTICS, 0x01)
#define HAPTICS_USAGE_WAVEFORM_LIST HID_USAGE(HID_PAGE_HAPTICS, 0x10)
#define HAPTICS_USAGE_DURATION_LIST HID_USAGE(HID_PAGE_HAPTICS, 0x11)
#define HAPTICS_USAGE_AUTO_TRIGGER HID_USAGE(HID_PAGE_HAPTICS, 0x20)
#define HAPTICS_USAGE_MANUAL_TRIGGER HID_USAGE(HID_PAGE_HAPTICS, 0x21)
#define HAPTICS_USAGE_AUTO_TRIGGER_ASSOCIATED_CONTROL HID_USAGE(HID_PAGE_HAPTICS, 0x22)
#define HAPTICS_USAGE_INTENSITY HID_USAGE(HID_PAGE_HAPTICS, 0x23)
#define HAPTICS_USAGE_REPEAT_COUNT HID_USAGE(HID_PAGE_HAPTICS, 0x24)
#define HAPTICS_USAGE_RETRIGGER_PERIOD HID_USAGE(HID_PAGE_HAPTICS, 0x25)
#define HAPTICS_USAGE_WAVEFORM_CUTOFF_TIME HID_USAGE(HID_PAGE_HAPTICS, 0x28)

/* Waveform usage IDs (Haptics page): standard 0x1001..0x1fff, vendor 0x2001..0x2fff. */
#define HAPTICS_WAVEFORM_NONE 0x1001
#define HAPTICS_WAVEFORM_STOP 0x1002
#define HAPTICS_WAVEFORM_CLICK 0x1003
#define HAPTICS_WAVEFORM_BUZZ_CONTINUOUS 0x1004
#define HAPTICS_WAVEFORM_RUMBLE_CONTINUOUS 0x1005
#define HAPTICS_WAVEFORM_MIN 0x1001
#define HAPTICS_WAVEFORM_MAX 0x2fff

/* The implicit ordinals every Simple Haptic Controller has. */
#define HAPTICS_ORDINAL_NONE 1
#define HAPTICS_ORDINAL_STOP 2

/* Waveform List and Duration List entries kept; a device listing more is refused (-E2BIG). */
#define HAPTICS_MAX_LIST_ENTRIES 64

/* One element of one field; field is NULL when the device lacks the control. */
typedef struct HapticsControl {
        const HidField *field;
        uint32_t index;
} HapticsControl;

/* One ordinal of the Waveform List or Duration List, and the element that describes it. */
typedef struct HapticsListEntry {
        HapticsControl control;
        uint16_t ordinal;
} HapticsListEntry;

/*
 * What haptics_descriptor_parse() found. The fields point into the HidDescriptor it was given,
 * which must outlive this and stay unchanged. Any control may be missing; see
 * haptics_descriptor_is_usable() for what driving the device needs.
 */
typedef struct HapticsDescriptor {
        const HidDescriptor *hid;
        uint32_t collection_index; /* HidCollectionLevel.index of the controller */

        /* The output report that plays waveforms: Manual Trigger, preferably with Intensity
         * beside it, and the optional Repeat Count and Retrigger Period of the same report. */
        uint8_t output_report_id;
        HapticsControl manual_trigger;
        HapticsControl intensity;
        HapticsControl repeat_count;
        HapticsControl output_retrigger_period;

        /* The feature report with the Waveform List, and what else it carries. */
        uint8_t list_report_id;
        HapticsListEntry waveforms[HAPTICS_MAX_LIST_ENTRIES];
        size_t n_waveforms;
        HapticsListEntry durations[HAPTICS_MAX_LIST_ENTRIES];
        size_t n_durations;
        HapticsControl auto_trigger;
        HapticsControl retrigger_period;
} HapticsDescriptor;

/*
 * Looks for the first Simple Haptic Controller collection in hid and describes its controls.
 * Only variable fields inside that collection count; Waveform and Duration List entries must be
 * Ordinal-page usages of feature fields inside the list's collection, in the list's report.
 * Returns 0 and fills *ret (a controller was found, maybe not a usable one), or:
 *   -ENODEV  no Simple Haptic Controller collection
 *   -E2BIG   more than HAPTICS_MAX_LIST_ENTRIES list entries
 *   -EINVAL  hid or ret is NULL
 */
int haptics_descriptor_parse(const HidDescriptor *hid, HapticsDescriptor *ret);

/*
 * Whether the controller can be driven: Manual Trigger and Intensity in one output report, both
 * at most HID_MAX_VALUE_BITS wide, an Intensity range of more than one value, a non-empty
 * Waveform List, and a Manual Trigger range that includes WAVEFORM_STOP's ordinal 2 — a device
 * we cannot stop is not one to start.
 */
bool haptics_descriptor_is_usable(const HapticsDescriptor *h);

/*
 * The ordinal under which the device offers waveform (a HAPTICS_WAVEFORM_* usage ID): 1 for
 * NONE and 2 for STOP, else the lowest Waveform List ordinal whose waveform it is. report is the
 * Waveform List feature report as read from the device (report ID byte first when numbered), or
 * NULL to go by what the descriptor declares alone.
 * Returns the ordinal (> 0), or -ENOENT (not offered), or the errors of hid_field_extract() for
 * a report that does not match the descriptor.
 */
int haptics_find_waveform(const HapticsDescriptor *h, const uint8_t *report, size_t size,
                          uint16_t waveform);

/*
 * A continuous waveform to massage with: Buzz Continuous if offered, else Rumble Continuous.
 * Returns 0 and writes *ret_ordinal and *ret_waveform, or -ENOENT, or as haptics_find_waveform().
 */
int haptics_find_continuous_waveform(const HapticsDescriptor *h, const uint8_t *report, size_t size,
                                     uint16_t *ret_ordinal, uint16_t *ret_waveform);

/* Wire size of the output report, report ID byte included; 0 without Manual Trigger. */
size_t haptics_output_report_size(const HapticsDescriptor *h);

/*
 * Builds the output report that plays ordinal at intensity_percent (0..100, scaled onto the
 * Intensity field's logical range and rounded) into buf. Other data fields of the report get
 * 0, or their Logical Minimum when 0 is out of their range and they have no null state; so
 * Repeat Count is 0 (play once). Writes the report's wire size to *ret_size.
 * Returns 0, or:
 *   -EOPNOTSUPP  !haptics_descriptor_is_usable(h)
 *   -ERANGE      intensity_percent > 100, or ordinal 0 or outside Manual Trigger's range
 *   -ENOBUFS     size < haptics_output_report_size(h)
 */
int haptics_build_play(const HapticsDescriptor *h, uint16_t ordinal, unsigned intensity_percent,
                       uint8_t *buf, size_t size, size_t *ret_size);

/* As haptics_build_play(h, HAPTICS_ORDINAL_STOP, 0, ...): WAVEFORM_STOP at the lowest intensity. */
int haptics_build_stop(const HapticsDescriptor *h, uint8_t *buf, size_t size, size_t *ret_size);
