/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * A strict HID report descriptor parser (Device Class Definition for HID 1.11, §6.2.2) and the
 * bit-level helpers to read and write the fields it finds in report buffers.
 *
 * The parser takes untrusted bytes (a device's descriptor, read from sysfs or hidraw) and must
 * never crash, loop or allocate without bound on any input. Everything it accepts is bounded
 * by the HID_MAX_* limits below; a descriptor that needs more is refused with -E2BIG. Anything
 * the specification forbids is refused with -EBADMSG. It never logs and keeps no global state.
 *
 * Usages are "extended" 32-bit values throughout: usage page in the high 16 bits, usage ID in
 * the low 16, as HID 1.11 §6.2.2.8 defines them for 4-byte Usage items.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

/* Limits: a descriptor that needs more is refused with -E2BIG. */
#define HID_MAX_FIELDS 1024         /* Input, Output and Feature items that carry data */
#define HID_MAX_USAGES 64           /* Usage and Usage Minimum/Maximum pairs per main item */
#define HID_MAX_COLLECTION_DEPTH 16 /* nesting of Collection items */
/* Limits from the specification or the kernel; exceeding them is -EBADMSG. */
#define HID_MAX_PUSH_DEPTH 8     /* Push items without a Pop */
#define HID_MAX_REPORT_SIZE 4096 /* bytes of one report, without its report ID byte */
#define HID_MAX_REPORT_BITS 256  /* Report Size, in bits (as Linux's hid-core) */
#define HID_MAX_VALUE_BITS 32    /* widest element hid_field_extract()/insert() handle */

#define HID_USAGE(page, id) ((uint32_t) (((uint32_t) (page) << 16) | (uint16_t) (id)))
#define HID_USAGE_PAGE(usage) ((uint16_t) ((uint32_t) (usage) >> 16))
#define HID_USAGE_ID(usage) ((uint16_t) (usage)) /* the low 16 bits */

typedef enum HidReportType {
        HID_REPORT_INPUT,
        HID_REPORT_OUTPUT,
        HID_REPORT_FEATURE,
        _HID_REPORT_TYPE_MAX,
} HidReportType;

/* Collection item data (HID 1.11 §6.2.2.6); 0x80..0xff are vendor-defined and kept as is. */
typedef enum HidCollectionType {
        HID_COLLECTION_PHYSICAL = 0x00,
        HID_COLLECTION_APPLICATION = 0x01,
        HID_COLLECTION_LOGICAL = 0x02,
        HID_COLLECTION_REPORT = 0x03,
        HID_COLLECTION_NAMED_ARRAY = 0x04,
        HID_COLLECTION_USAGE_SWITCH = 0x05,
        HID_COLLECTION_USAGE_MODIFIER = 0x06,
} HidCollectionType;

/* Input/Output/Feature item data bits (HID 1.11 §6.2.2.5). Bit 7 is Volatile for Output and
 * Feature items and reserved for Input items. */
#define HID_FIELD_CONSTANT (1u << 0)
#define HID_FIELD_VARIABLE (1u << 1) /* clear: an array of usage selectors */
#define HID_FIELD_RELATIVE (1u << 2)
#define HID_FIELD_WRAP (1u << 3)
#define HID_FIELD_NONLINEAR (1u << 4)
#define HID_FIELD_NO_PREFERRED (1u << 5)
#define HID_FIELD_NULL_STATE (1u << 6)
#define HID_FIELD_VOLATILE (1u << 7)
#define HID_FIELD_BUFFERED_BYTES (1u << 8)

/* One Usage (min == max) or one Usage Minimum/Maximum pair, as extended usages. */
typedef struct HidUsageRange {
        uint32_t min;
        uint32_t max;
} HidUsageRange;

/* One collection enclosing a field, outermost first. */
typedef struct HidCollectionLevel {
        uint32_t usage; /* extended; 0 when the Collection item had no Usage */
        uint8_t type;   /* HidCollectionType, or a vendor value 0x80..0xff */
        uint32_t index; /* the Collection item's number in the descriptor, from 0: tells
                         * apart two collections with the same usage */
} HidCollectionLevel;

typedef struct HidField {
        HidReportType report_type;
        uint8_t report_id; /* 0 when the descriptor uses no report IDs */
        /* Position of element 0 in bits, counted from the first bit after the report ID byte
         * (from the first bit of the report when there are no report IDs). Element i starts at
         * bit_offset + i * bit_size. */
        uint32_t bit_offset;
        uint16_t bit_size; /* Report Size: 1 .. HID_MAX_REPORT_BITS */
        uint32_t count;    /* Report Count: >= 1 */
        uint32_t flags;    /* HID_FIELD_* */
        /* Logical Maximum is read as unsigned when Logical Minimum is >= 0, as Linux and most
         * descriptors in the wild do ("15 00 25 ff" means 0..255); likewise the physical pair. */
        int64_t logical_min;
        int64_t logical_max;
        int64_t physical_min;
        int64_t physical_max;
        int32_t unit_exponent;
        uint32_t unit;
        uint16_t usage_page; /* the Usage Page in effect at the main item */
        /* What the elements map to. For a variable field, element i maps to the i-th usage of
         * the list (ranges expanded), the last one repeating; for an array field these are the
         * usages a value can select. Empty for padding. See hid_field_get_usage(). */
        size_t n_usages;
        HidUsageRange usages[HID_MAX_USAGES];
        size_t depth; /* collections enclosing the field */
        HidCollectionLevel path[HID_MAX_COLLECTION_DEPTH];
} HidField;

typedef struct HidReport {
        HidReportType type;
        uint8_t id;         /* 0 when the descriptor uses no report IDs */
        uint32_t size_bits; /* bits of data, without the report ID byte */
        size_t size;        /* bytes of data, without the report ID byte: size_bits rounded up */
} HidReport;

/* A parsed descriptor. Read-only for users; free it with hid_descriptor_free(). */
typedef struct HidDescriptor {
        HidField *fields; /* in descriptor order */
        size_t n_fields;
        HidReport *reports; /* one per (type, id) that has at least one field */
        size_t n_reports;
        bool numbered; /* the descriptor uses Report ID items */
} HidDescriptor;

/*
 * Parses a report descriptor. data may be NULL only when size is 0.
 *
 * Returns 0 and a new descriptor in *ret (owned by the caller) on success, otherwise:
 *   -EINVAL    data is NULL with a non-zero size, or ret is NULL
 *   -EBADMSG   malformed: empty or truncated input, a reserved item type or tag, End Collection
 *              without Collection, unclosed collections or delimiters, Pop without Push, Push
 *              deeper than HID_MAX_PUSH_DEPTH, Report ID 0 or above 255, a Usage Page above
 *              0xffff, a Report Size above HID_MAX_REPORT_BITS, a report above
 *              HID_MAX_REPORT_SIZE bytes, data items with and without report IDs in one
 *              descriptor, an unpaired or reversed Usage Minimum/Maximum, nested delimiters, a
 *              reserved collection type
 *   -E2BIG     more than HID_MAX_FIELDS fields, HID_MAX_USAGES usages for one item or
 *              HID_MAX_COLLECTION_DEPTH nested collections
 *   -ENOMEM
 * Long items (HID 1.11 §6.2.2.3) are skipped; Designator and String items are ignored; of a
 * delimited set of aliased usages only the first is kept, as Linux does. *ret is untouched on
 * failure.
 */
int hid_descriptor_parse(const uint8_t *data, size_t size, HidDescriptor **ret);

/* Accepts NULL; returns NULL. */
HidDescriptor *hid_descriptor_free(HidDescriptor *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(HidDescriptor *, hid_descriptor_free);

/* The report of that type and ID, or NULL when the descriptor has none. Use id 0 for a
 * descriptor without report IDs. The pointer lives as long as d. */
const HidReport *hid_descriptor_find_report(const HidDescriptor *d, HidReportType type, uint8_t id);

/* Bytes of the report as it travels over hidraw: the data plus the report ID byte, if any. */
size_t hid_report_wire_size(const HidReport *report);

/*
 * Starts an outgoing report in buf: zeroes its hid_report_wire_size() bytes and writes the
 * report ID byte. Returns the wire size, or -ENOBUFS when size is too small.
 */
int hid_report_prepare(const HidReport *report, uint8_t *buf, size_t size);

/*
 * The usage element index of field maps to (variable fields), or the index-th usage a value
 * can select (array fields). Returns 0 and writes *ret_usage, or -ENOENT when the field has no
 * usages or index is past them (arrays) or past count (variable fields).
 */
int hid_field_get_usage(const HidField *field, uint32_t index, uint32_t *ret_usage);

/* The first element of a variable field that maps to usage, or -ENOENT. */
int hid_field_find_usage(const HidField *field, uint32_t usage);

/* The depth (>= 0) of the outermost enclosing collection with that usage, or -ENOENT. */
int hid_field_find_collection(const HidField *field, uint32_t usage);

/*
 * Reads element index of field from a whole report as it came from the device: the report
 * ID byte first when the descriptor is numbered. The value is sign-extended when the field's
 * Logical Minimum is negative.
 * Returns 0 and writes *ret_value, or:
 *   -EINVAL      index >= count
 *   -EOPNOTSUPP  the element is wider than HID_MAX_VALUE_BITS
 *   -EBADMSG     the report is shorter than the element's end, or its ID byte is not the
 *                field's report ID
 */
int hid_field_extract(const HidField *field, uint32_t index, const uint8_t *report, size_t size,
                      int64_t *ret_value);

/*
 * Writes value into element index of field in a whole outgoing report (prepared with
 * hid_report_prepare()), leaving every other bit alone. The report ID byte is not checked or
 * written.
 * Returns 0, or:
 *   -EINVAL      index >= count
 *   -EOPNOTSUPP  the element is wider than HID_MAX_VALUE_BITS
 *   -ERANGE      value is outside Logical Minimum..Maximum or does not fit the element (a
 *                field with Logical Minimum > Maximum accepts nothing)
 *   -ENOBUFS     size does not reach the element's end
 */
int hid_field_insert(const HidField *field, uint32_t index, int64_t value, uint8_t *report,
                     size_t size);
