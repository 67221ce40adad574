/* SPDX-License-Identifier: MIT */

/*
 * Simple Haptic Controller discovery and output reports. See haptics-descriptor.h for the model;
 * Linux's drivers/hid/hid-haptic.c reads the same usages (it keys the Waveform List on the
 * report that carries Auto Trigger, we key it on the list's own collection).
 */

#include <errno.h>
#include <string.h>

#include "haptics-descriptor.h"

/* The depth of the controller's collection in field's path, or -1 when field is outside it. */
static int controller_level(const HidField *field, uint32_t collection_index)
{
        for (size_t i = 0; i < field->depth; i++)
                if (field->path[i].index == collection_index &&
                    field->path[i].usage == HAPTICS_USAGE_SIMPLE_HAPTIC_CONTROLLER)
                        return (int) i;
        return -1;
}

/* Whether field sits in a collection with that usage, inside the controller (below level). */
static bool in_sub_collection(const HidField *field, int level, uint32_t usage)
{
        for (size_t i = (size_t) level + 1; i < field->depth; i++)
                if (field->path[i].usage == usage)
                        return true;
        return false;
}

static bool is_list_field(const HidField *field, int level)
{
        return in_sub_collection(field, level, HAPTICS_USAGE_WAVEFORM_LIST) ||
               in_sub_collection(field, level, HAPTICS_USAGE_DURATION_LIST);
}

/* Looks for usage among the variable fields of one type (and one report ID, unless any_id) in
 * the controller, outside its lists. */
static HapticsControl find_control(const HapticsDescriptor *h, HidReportType type, bool any_id,
                                   uint8_t id, uint32_t usage)
{
        for (size_t i = 0; i < h->hid->n_fields; i++) {
                const HidField *f = &h->hid->fields[i];
                int level, index;

                if (f->report_type != type || (!any_id && f->report_id != id))
                        continue;
                level = controller_level(f, h->collection_index);
                if (level < 0 || is_list_field(f, level))
                        continue;
                index = hid_field_find_usage(f, usage);
                if (index >= 0)
                        return (HapticsControl){.field = f, .index = (uint32_t) index};
        }
        return (HapticsControl){};
}

/* Adds one entry per distinct Ordinal usage of a list field. */
static int add_list_entries(const HidField *f, HapticsListEntry *entries, size_t *n)
{
        uint32_t total = 0;

        for (size_t i = 0; i < f->n_usages; i++)
                total += (uint32_t) HID_USAGE_ID(f->usages[i].max) -
                         HID_USAGE_ID(f->usages[i].min) + 1;

        /* Elements past the usages repeat the last usage: they name no further ordinal. */
        for (uint32_t i = 0; i < MIN(total, f->count); i++) {
                uint32_t usage;

                if (hid_field_get_usage(f, i, &usage) < 0 ||
                    HID_USAGE_PAGE(usage) != HID_PAGE_ORDINAL || HID_USAGE_ID(usage) == 0)
                        continue;
                if (*n >= HAPTICS_MAX_LIST_ENTRIES)
                        return -E2BIG;
                entries[(*n)++] = (HapticsListEntry){
                        .control = {.field = f, .index = i},
                        .ordinal = HID_USAGE_ID(usage),
                };
        }
        return 0;
}

int haptics_descriptor_parse(const HidDescriptor *hid, HapticsDescriptor *ret)
{
        HapticsDescriptor h = {.hid = hid};
        HapticsControl trigger = {};
        bool found = false, have_list = false;
        int r;

        if (!hid || !ret)
                return -EINVAL;

        /* Fields come in descriptor order, so the first one inside a controller belongs to the
         * first controller that has any. */
        for (size_t i = 0; i < hid->n_fields && !found; i++)
                for (size_t j = 0; j < hid->fields[i].depth; j++)
                        if (hid->fields[i].path[j].usage ==
                            HAPTICS_USAGE_SIMPLE_HAPTIC_CONTROLLER) {
                                h.collection_index = hid->fields[i].path[j].index;
                                found = true;
                                break;
                        }
        if (!found)
                return -ENODEV;

        /* The output report to play with: the first one with both Manual Trigger and
         * Intensity, else the first with Manual Trigger, else the first with Intensity. */
        for (size_t i = 0; i < hid->n_fields; i++) {
                const HidField *f = &hid->fields[i];
                int level = controller_level(f, h.collection_index);

                if (f->report_type != HID_REPORT_OUTPUT || level < 0 || is_list_field(f, level) ||
                    hid_field_find_usage(f, HAPTICS_USAGE_MANUAL_TRIGGER) < 0)
                        continue;
                if (!trigger.field)
                        trigger.field = f;
                if (find_control(&h, HID_REPORT_OUTPUT, false, f->report_id,
                                 HAPTICS_USAGE_INTENSITY)
                            .field) {
                        trigger.field = f;
                        break;
                }
        }
        if (trigger.field)
                h.output_report_id = trigger.field->report_id;
        else {
                HapticsControl intensity =
                        find_control(&h, HID_REPORT_OUTPUT, true, 0, HAPTICS_USAGE_INTENSITY);
                if (intensity.field)
                        h.output_report_id = intensity.field->report_id;
        }
        h.manual_trigger = find_control(&h, HID_REPORT_OUTPUT, false, h.output_report_id,
                                        HAPTICS_USAGE_MANUAL_TRIGGER);
        h.intensity = find_control(&h, HID_REPORT_OUTPUT, false, h.output_report_id,
                                   HAPTICS_USAGE_INTENSITY);
        h.repeat_count = find_control(&h, HID_REPORT_OUTPUT, false, h.output_report_id,
                                      HAPTICS_USAGE_REPEAT_COUNT);
        h.output_retrigger_period = find_control(&h, HID_REPORT_OUTPUT, false, h.output_report_id,
                                                 HAPTICS_USAGE_RETRIGGER_PERIOD);

        /* The lists: feature fields inside the list collections, in the Waveform List's report. */
        for (size_t i = 0; i < hid->n_fields; i++) {
                const HidField *f = &hid->fields[i];
                int level = controller_level(f, h.collection_index);

                if (f->report_type != HID_REPORT_FEATURE || level < 0 ||
                    !(f->flags & HID_FIELD_VARIABLE) ||
                    !in_sub_collection(f, level, HAPTICS_USAGE_WAVEFORM_LIST))
                        continue;
                if (!have_list) {
                        h.list_report_id = f->report_id;
                        have_list = true;
                }
                if (f->report_id != h.list_report_id)
                        continue;
                r = add_list_entries(f, h.waveforms, &h.n_waveforms);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; have_list && i < hid->n_fields; i++) {
                const HidField *f = &hid->fields[i];
                int level = controller_level(f, h.collection_index);

                if (f->report_type != HID_REPORT_FEATURE || level < 0 ||
                    f->report_id != h.list_report_id || !(f->flags & HID_FIELD_VARIABLE) ||
                    !in_sub_collection(f, level, HAPTICS_USAGE_DURATION_LIST))
                        continue;
                r = add_list_entries(f, h.durations, &h.n_durations);
                if (r < 0)
                        return r;
        }

        /* Auto Trigger and Retrigger Period: in the list's report if there, else anywhere. */
        h.auto_trigger = find_control(&h, HID_REPORT_FEATURE, false, h.list_report_id,
                                      HAPTICS_USAGE_AUTO_TRIGGER);
        if (!h.auto_trigger.field)
                h.auto_trigger =
                        find_control(&h, HID_REPORT_FEATURE, true, 0, HAPTICS_USAGE_AUTO_TRIGGER);
        h.retrigger_period = find_control(&h, HID_REPORT_FEATURE, false, h.list_report_id,
                                          HAPTICS_USAGE_RETRIGGER_PERIOD);
        if (!h.retrigger_period.field)
                h.retrigger_period = find_control(&h, HID_REPORT_FEATURE, true, 0,
                                                  HAPTICS_USAGE_RETRIGGER_PERIOD);

        *ret = h;
        return 0;
}

bool haptics_descriptor_is_usable(const HapticsDescriptor *h)
{
        const HidField *trigger, *intensity;

        if (!h || !h->manual_trigger.field || !h->intensity.field || h->n_waveforms == 0)
                return false;
        trigger = h->manual_trigger.field;
        intensity = h->intensity.field;

        return trigger->report_type == HID_REPORT_OUTPUT &&
               intensity->report_type == HID_REPORT_OUTPUT &&
               trigger->report_id == intensity->report_id &&
               trigger->bit_size <= HID_MAX_VALUE_BITS &&
               intensity->bit_size <= HID_MAX_VALUE_BITS &&
               intensity->logical_min < intensity->logical_max &&
               trigger->logical_min <= HAPTICS_ORDINAL_STOP &&
               trigger->logical_max >= HAPTICS_ORDINAL_STOP;
}

static bool is_waveform(int64_t v)
{
        return v >= HAPTICS_WAVEFORM_MIN && v <= HAPTICS_WAVEFORM_MAX;
}

/* The waveform usage ID an entry names, or -ENOENT when neither the report nor the descriptor
 * says. */
static int entry_waveform(const HapticsListEntry *e, const uint8_t *report, size_t size)
{
        const HidField *f = e->control.field;

        if (report) {
                int64_t value;
                int r = hid_field_extract(f, e->control.index, report, size, &value);
                if (r < 0)
                        return r;
                if (is_waveform(value))
                        return (int) value;
        }
        if (f->physical_min == f->physical_max && is_waveform(f->physical_min))
                return (int) f->physical_min;
        return -ENOENT;
}

int haptics_find_waveform(const HapticsDescriptor *h, const uint8_t *report, size_t size,
                          uint16_t waveform)
{
        int best = -ENOENT;

        if (waveform == HAPTICS_WAVEFORM_NONE)
                return HAPTICS_ORDINAL_NONE;
        if (waveform == HAPTICS_WAVEFORM_STOP)
                return HAPTICS_ORDINAL_STOP;

        for (size_t i = 0; i < h->n_waveforms; i++) {
                const HapticsListEntry *e = &h->waveforms[i];
                int r = entry_waveform(e, report, size);

                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return r;
                if (r == waveform && (best < 0 || e->ordinal < best))
                        best = e->ordinal;
        }
        return best;
}

int haptics_find_continuous_waveform(const HapticsDescriptor *h, const uint8_t *report, size_t size,
                                     uint16_t *ret_ordinal, uint16_t *ret_waveform)
{
        static const uint16_t preferred[] = {
                HAPTICS_WAVEFORM_BUZZ_CONTINUOUS,
                HAPTICS_WAVEFORM_RUMBLE_CONTINUOUS,
        };

        for (size_t i = 0; i < ELEMENTSOF(preferred); i++) {
                int r = haptics_find_waveform(h, report, size, preferred[i]);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return r;
                *ret_ordinal = (uint16_t) r;
                *ret_waveform = preferred[i];
                return 0;
        }
        return -ENOENT;
}

size_t haptics_output_report_size(const HapticsDescriptor *h)
{
        const HidReport *report;

        if (!h->manual_trigger.field)
                return 0;
        report = hid_descriptor_find_report(h->hid, HID_REPORT_OUTPUT, h->output_report_id);
        return report ? hid_report_wire_size(report) : 0;
}

/* Gives every data element of the output report a value that asks for nothing. */
static void fill_neutral(const HapticsDescriptor *h, uint8_t *buf, size_t size)
{
        for (size_t i = 0; i < h->hid->n_fields; i++) {
                const HidField *f = &h->hid->fields[i];

                if (f->report_type != HID_REPORT_OUTPUT || f->report_id != h->output_report_id ||
                    (f->flags & HID_FIELD_CONSTANT) || f->bit_size > HID_MAX_VALUE_BITS)
                        continue;
                for (uint32_t j = 0; j < f->count; j++)
                        if (hid_field_insert(f, j, 0, buf, size) == -ERANGE &&
                            !(f->flags & HID_FIELD_NULL_STATE))
                                (void) hid_field_insert(f, j, f->logical_min, buf, size);
        }
}

int haptics_build_play(const HapticsDescriptor *h, uint16_t ordinal, unsigned intensity_percent,
                       uint8_t *buf, size_t size, size_t *ret_size)
{
        const HidField *trigger, *intensity;
        const HidReport *report;
        int64_t level;
        int r;

        if (!haptics_descriptor_is_usable(h))
                return -EOPNOTSUPP;
        trigger = h->manual_trigger.field;
        intensity = h->intensity.field;

        if (intensity_percent > 100 || ordinal == 0 || ordinal < trigger->logical_min ||
            ordinal > trigger->logical_max)
                return -ERANGE;

        report = hid_descriptor_find_report(h->hid, HID_REPORT_OUTPUT, h->output_report_id);
        if (!report)
                return -EOPNOTSUPP;
        r = hid_report_prepare(report, buf, size);
        if (r < 0)
                return r;

        fill_neutral(h, buf, size);

        r = hid_field_insert(trigger, h->manual_trigger.index, ordinal, buf, size);
        if (r < 0)
                return r;
        /* The range spans at most 2^33, so this cannot overflow. */
        level = intensity->logical_min +
                ((intensity->logical_max - intensity->logical_min) * intensity_percent + 50) / 100;
        r = hid_field_insert(intensity, h->intensity.index, level, buf, size);
        if (r < 0)
                return r;

        *ret_size = hid_report_wire_size(report);
        return 0;
}

int haptics_build_stop(const HapticsDescriptor *h, uint8_t *buf, size_t size, size_t *ret_size)
{
        return haptics_build_play(h, HAPTICS_ORDINAL_STOP, 0, buf, size, ret_size);
}
