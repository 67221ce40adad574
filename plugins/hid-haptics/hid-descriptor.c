/* SPDX-License-Identifier: MIT */

/*
 * HID report descriptor parser, HID 1.11 §6.2.2. The descriptor comes from the device, so every
 * item is checked before it is used: each loop iteration consumes at least one byte, every read
 * is bounds-checked, and what is kept is capped by the HID_MAX_* limits.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hid-descriptor.h"

enum {
        ITEM_TYPE_MAIN = 0,
        ITEM_TYPE_GLOBAL = 1,
        ITEM_TYPE_LOCAL = 2,
        ITEM_TYPE_RESERVED = 3,
};

enum {
        MAIN_INPUT = 0x8,
        MAIN_OUTPUT = 0x9,
        MAIN_COLLECTION = 0xa,
        MAIN_FEATURE = 0xb,
        MAIN_END_COLLECTION = 0xc,
};

enum {
        GLOBAL_USAGE_PAGE = 0x0,
        GLOBAL_LOGICAL_MINIMUM = 0x1,
        GLOBAL_LOGICAL_MAXIMUM = 0x2,
        GLOBAL_PHYSICAL_MINIMUM = 0x3,
        GLOBAL_PHYSICAL_MAXIMUM = 0x4,
        GLOBAL_UNIT_EXPONENT = 0x5,
        GLOBAL_UNIT = 0x6,
        GLOBAL_REPORT_SIZE = 0x7,
        GLOBAL_REPORT_ID = 0x8,
        GLOBAL_REPORT_COUNT = 0x9,
        GLOBAL_PUSH = 0xa,
        GLOBAL_POP = 0xb,
};

enum {
        LOCAL_USAGE = 0x0,
        LOCAL_USAGE_MINIMUM = 0x1,
        LOCAL_USAGE_MAXIMUM = 0x2,
        LOCAL_DESIGNATOR_INDEX = 0x3,
        LOCAL_DESIGNATOR_MINIMUM = 0x4,
        LOCAL_DESIGNATOR_MAXIMUM = 0x5,
        LOCAL_STRING_INDEX = 0x7,
        LOCAL_STRING_MINIMUM = 0x8,
        LOCAL_STRING_MAXIMUM = 0x9,
        LOCAL_DELIMITER = 0xa,
};

#define LONG_ITEM_PREFIX 0xfe

/* An item's data as it was written: how it is read (signed or not) depends on the item. */
typedef struct ItemData {
        uint32_t raw;
        uint8_t size; /* 0, 1, 2 or 4 bytes */
} ItemData;

typedef struct GlobalState {
        uint16_t usage_page;
        /* Kept raw: whether a maximum is signed depends on the minimum in effect at the main
         * item, whichever order the two were written in. */
        ItemData logical_min;
        ItemData logical_max;
        ItemData physical_min;
        ItemData physical_max;
        int32_t unit_exponent;
        uint32_t unit;
        uint32_t report_size;
        uint32_t report_count;
        uint8_t report_id;
} GlobalState;

/* A usage as written: 1- and 2-byte usages take the Usage Page in effect at the main item. */
typedef struct LocalUsage {
        uint32_t value;
        bool extended;
} LocalUsage;

typedef struct LocalRange {
        LocalUsage min;
        LocalUsage max;
} LocalRange;

typedef struct LocalState {
        LocalRange usages[HID_MAX_USAGES];
        size_t n_usages;
        bool have_min;
        bool have_max;
        LocalUsage pending_min;
        LocalUsage pending_max;
        bool in_delimiter;
        bool delimiter_done; /* the delimited set already gave its first usage */
} LocalState;

typedef struct Parser {
        GlobalState global;
        GlobalState stack[HID_MAX_PUSH_DEPTH];
        size_t stack_depth;
        LocalState local;
        HidCollectionLevel collections[HID_MAX_COLLECTION_DEPTH];
        size_t depth;
        uint32_t n_collections;
        bool saw_unnumbered_data;
        HidDescriptor *d;
        size_t fields_allocated;
        size_t reports_allocated;
} Parser;

static int64_t item_signed(ItemData v)
{
        switch (v.size) {
        case 1:
                return (int64_t) ((v.raw & 0xffu) ^ 0x80u) - 0x80;
        case 2:
                return (int64_t) ((v.raw & 0xffffu) ^ 0x8000u) - 0x8000;
        case 4:
                return (int64_t) (v.raw ^ 0x80000000u) - 0x80000000LL;
        default:
                return 0;
        }
}

static int64_t item_unsigned(ItemData v)
{
        return (int64_t) v.raw;
}

static uint32_t resolve_usage(LocalUsage u, uint16_t page)
{
        return u.extended ? u.value : HID_USAGE(page, u.value);
}

static void local_reset(LocalState *l)
{
        l->n_usages = 0;
        l->have_min = l->have_max = false;
        l->in_delimiter = l->delimiter_done = false;
}

HidDescriptor *hid_descriptor_free(HidDescriptor *d)
{
        if (!d)
                return NULL;
        free(d->fields);
        free(d->reports);
        return mfree(d);
}

static int local_add(LocalState *l, LocalUsage min, LocalUsage max)
{
        if (l->n_usages >= HID_MAX_USAGES)
                return -E2BIG;
        l->usages[l->n_usages++] = (LocalRange){.min = min, .max = max};
        if (l->in_delimiter)
                l->delimiter_done = true;
        return 0;
}

/* Called once both ends of a Usage Minimum/Maximum pair were seen, in either order. */
static int local_add_pair(LocalState *l)
{
        LocalUsage min = l->pending_min, max = l->pending_max;

        l->have_min = l->have_max = false;

        /* A 4-byte end carries its page; it must agree with the other end's. */
        if (min.extended && max.extended) {
                if (HID_USAGE_PAGE(min.value) != HID_USAGE_PAGE(max.value))
                        return -EBADMSG;
        } else if (min.extended) {
                max = (LocalUsage){.value = HID_USAGE(HID_USAGE_PAGE(min.value), max.value),
                                   .extended = true};
        } else if (max.extended) {
                min = (LocalUsage){.value = HID_USAGE(HID_USAGE_PAGE(max.value), min.value),
                                   .extended = true};
        }
        if (HID_USAGE_ID(min.value) > HID_USAGE_ID(max.value))
                return -EBADMSG;

        return local_add(l, min, max);
}

static int parse_local(Parser *p, unsigned tag, ItemData v)
{
        LocalState *l = &p->local;
        LocalUsage u = {.value = v.raw, .extended = v.size == 4};

        switch (tag) {
        case LOCAL_USAGE:
                if (l->delimiter_done)
                        return 0; /* an alias of a usage we already have */
                return local_add(l, u, u);

        case LOCAL_USAGE_MINIMUM:
        case LOCAL_USAGE_MAXIMUM:
                if (l->delimiter_done)
                        return 0;
                if (tag == LOCAL_USAGE_MINIMUM) {
                        if (l->have_min)
                                return -EBADMSG;
                        l->pending_min = u;
                        l->have_min = true;
                } else {
                        if (l->have_max)
                                return -EBADMSG;
                        l->pending_max = u;
                        l->have_max = true;
                }
                return l->have_min && l->have_max ? local_add_pair(l) : 0;

        case LOCAL_DESIGNATOR_INDEX:
        case LOCAL_DESIGNATOR_MINIMUM:
        case LOCAL_DESIGNATOR_MAXIMUM:
        case LOCAL_STRING_INDEX:
        case LOCAL_STRING_MINIMUM:
        case LOCAL_STRING_MAXIMUM:
                return 0;

        case LOCAL_DELIMITER:
                if (v.raw == 1) {
                        if (l->in_delimiter)
                                return -EBADMSG; /* delimiters do not nest */
                        l->in_delimiter = true;
                        l->delimiter_done = false;
                        return 0;
                }
                if (v.raw == 0) {
                        if (!l->in_delimiter || l->have_min || l->have_max)
                                return -EBADMSG;
                        l->in_delimiter = l->delimiter_done = false;
                        return 0;
                }
                return -EBADMSG;

        default:
                return -EBADMSG;
        }
}

static int parse_global(Parser *p, unsigned tag, ItemData v)
{
        GlobalState *g = &p->global;

        switch (tag) {
        case GLOBAL_USAGE_PAGE:
                if (v.raw > 0xffff)
                        return -EBADMSG;
                g->usage_page = (uint16_t) v.raw;
                return 0;
        case GLOBAL_LOGICAL_MINIMUM:
                g->logical_min = v;
                return 0;
        case GLOBAL_LOGICAL_MAXIMUM:
                g->logical_max = v;
                return 0;
        case GLOBAL_PHYSICAL_MINIMUM:
                g->physical_min = v;
                return 0;
        case GLOBAL_PHYSICAL_MAXIMUM:
                g->physical_max = v;
                return 0;
        case GLOBAL_UNIT_EXPONENT:
                /* HID 1.11 §6.2.2.7 encodes it in a nibble (0xf is -1); descriptors that write
                 * a plain signed byte instead are read as such when it does not fit. */
                if (v.raw <= 0xf)
                        g->unit_exponent = v.raw >= 8 ? (int32_t) v.raw - 16 : (int32_t) v.raw;
                else
                        g->unit_exponent = (int32_t) item_signed(v);
                return 0;
        case GLOBAL_UNIT:
                g->unit = v.raw;
                return 0;
        case GLOBAL_REPORT_SIZE:
                if (v.raw > HID_MAX_REPORT_BITS)
                        return -EBADMSG;
                g->report_size = v.raw;
                return 0;
        case GLOBAL_REPORT_ID:
                if (v.raw == 0 || v.raw > 0xff)
                        return -EBADMSG;
                /* Either every report is numbered or none is (HID 1.11 §6.2.2.7). */
                if (p->saw_unnumbered_data)
                        return -EBADMSG;
                g->report_id = (uint8_t) v.raw;
                p->d->numbered = true;
                return 0;
        case GLOBAL_REPORT_COUNT:
                g->report_count = v.raw;
                return 0;
        case GLOBAL_PUSH:
                if (p->stack_depth >= HID_MAX_PUSH_DEPTH)
                        return -EBADMSG;
                p->stack[p->stack_depth++] = *g;
                return 0;
        case GLOBAL_POP:
                if (p->stack_depth == 0)
                        return -EBADMSG;
                *g = p->stack[--p->stack_depth];
                return 0;
        default:
                return -EBADMSG;
        }
}

static HidReport *find_or_add_report(Parser *p, HidReportType type, uint8_t id)
{
        HidDescriptor *d = p->d;

        for (size_t i = 0; i < d->n_reports; i++)
                if (d->reports[i].type == type && d->reports[i].id == id)
                        return &d->reports[i];

        /* At most 3 types times 256 IDs, so this stays bounded. */
        if (d->n_reports == p->reports_allocated) {
                size_t n = p->reports_allocated ? p->reports_allocated * 2 : 8;
                HidReport *r = reallocarray(d->reports, n, sizeof(HidReport));
                if (!r)
                        return NULL;
                d->reports = r;
                p->reports_allocated = n;
        }
        d->reports[d->n_reports] = (HidReport){.type = type, .id = id};
        return &d->reports[d->n_reports++];
}

static int add_field(Parser *p, HidReportType type, uint32_t flags)
{
        const GlobalState *g = &p->global;
        HidDescriptor *d = p->d;
        uint64_t bits = (uint64_t) g->report_size * g->report_count;
        HidReport *report;
        HidField *f;

        if (bits == 0)
                return 0; /* describes no data */

        if (g->report_id == 0) {
                if (d->numbered)
                        return -EBADMSG; /* e.g. a Pop back to before the first Report ID */
                p->saw_unnumbered_data = true;
        }

        report = find_or_add_report(p, type, g->report_id);
        if (!report)
                return -ENOMEM;
        if (report->size_bits + bits > (uint64_t) HID_MAX_REPORT_SIZE * 8)
                return -EBADMSG;

        if (d->n_fields >= HID_MAX_FIELDS)
                return -E2BIG;
        if (d->n_fields == p->fields_allocated) {
                size_t n = MIN(p->fields_allocated ? p->fields_allocated * 2 : 16,
                               (size_t) HID_MAX_FIELDS);
                HidField *fields = reallocarray(d->fields, n, sizeof(HidField));
                if (!fields)
                        return -ENOMEM;
                d->fields = fields;
                p->fields_allocated = n;
        }

        f = &d->fields[d->n_fields++];
        *f = (HidField){
                .report_type = type,
                .report_id = g->report_id,
                .bit_offset = report->size_bits,
                .bit_size = (uint16_t) g->report_size,
                .count = g->report_count,
                .flags = flags,
                .logical_min = item_signed(g->logical_min),
                .physical_min = item_signed(g->physical_min),
                .unit_exponent = g->unit_exponent,
                .unit = g->unit,
                .usage_page = g->usage_page,
                .n_usages = p->local.n_usages,
                .depth = p->depth,
        };
        f->logical_max =
                f->logical_min < 0 ? item_signed(g->logical_max) : item_unsigned(g->logical_max);
        f->physical_max =
                f->physical_min < 0 ? item_signed(g->physical_max) : item_unsigned(g->physical_max);
        for (size_t i = 0; i < p->local.n_usages; i++)
                f->usages[i] = (HidUsageRange){
                        .min = resolve_usage(p->local.usages[i].min, g->usage_page),
                        .max = resolve_usage(p->local.usages[i].max, g->usage_page),
                };
        memcpy(f->path, p->collections, p->depth * sizeof(HidCollectionLevel));

        report->size_bits += (uint32_t) bits;
        return 0;
}

static int parse_main(Parser *p, unsigned tag, ItemData v)
{
        LocalState *l = &p->local;
        int r;

        /* Local items describe the next main item only: a half-open pair or delimited set
         * cannot carry over. */
        if (l->have_min || l->have_max || l->in_delimiter)
                return -EBADMSG;

        switch (tag) {
        case MAIN_INPUT:
                r = add_field(p, HID_REPORT_INPUT, v.raw);
                break;
        case MAIN_OUTPUT:
                r = add_field(p, HID_REPORT_OUTPUT, v.raw);
                break;
        case MAIN_FEATURE:
                r = add_field(p, HID_REPORT_FEATURE, v.raw);
                break;

        case MAIN_COLLECTION:
                if (v.raw > 0xff || (v.raw > HID_COLLECTION_USAGE_MODIFIER && v.raw < 0x80))
                        return -EBADMSG;
                if (p->depth >= HID_MAX_COLLECTION_DEPTH)
                        return -E2BIG;
                p->collections[p->depth++] = (HidCollectionLevel){
                        .usage = l->n_usages > 0
                                         ? resolve_usage(l->usages[0].min, p->global.usage_page)
                                         : 0,
                        .type = (uint8_t) v.raw,
                        .index = p->n_collections++,
                };
                r = 0;
                break;

        case MAIN_END_COLLECTION:
                if (p->depth == 0)
                        return -EBADMSG;
                p->depth--;
                r = 0;
                break;

        default:
                return -EBADMSG;
        }

        local_reset(l);
        return r;
}

int hid_descriptor_parse(const uint8_t *data, size_t size, HidDescriptor **ret)
{
        _cleanup_(hid_descriptor_freep) HidDescriptor *d = NULL;
        _cleanup_free_ Parser *p = NULL;
        size_t pos = 0;
        int r;

        if ((!data && size > 0) || !ret)
                return -EINVAL;
        if (size == 0)
                return -EBADMSG;

        d = calloc(1, sizeof(HidDescriptor));
        p = calloc(1, sizeof(Parser));
        if (!d || !p)
                return -ENOMEM;
        p->d = d;

        while (pos < size) {
                uint8_t prefix = data[pos];
                size_t n;
                ItemData v;

                if (prefix == LONG_ITEM_PREFIX) {
                        /* bDataSize, bLongItemTag, then the data. No long item tags are
                         * defined (HID 1.11 §6.2.2.3), so they are skipped. */
                        if (size - pos < 3 || size - pos - 3 < data[pos + 1])
                                return -EBADMSG;
                        pos += 3 + (size_t) data[pos + 1];
                        continue;
                }

                n = (prefix & 0x3) == 0x3 ? 4 : (prefix & 0x3);
                if (size - pos - 1 < n)
                        return -EBADMSG;
                v = (ItemData){.size = (uint8_t) n};
                for (size_t i = 0; i < n; i++)
                        v.raw |= (uint32_t) data[pos + 1 + i] << (8 * i);
                pos += 1 + n;

                switch ((prefix >> 2) & 0x3) {
                case ITEM_TYPE_MAIN:
                        r = parse_main(p, prefix >> 4, v);
                        break;
                case ITEM_TYPE_GLOBAL:
                        r = parse_global(p, prefix >> 4, v);
                        break;
                case ITEM_TYPE_LOCAL:
                        r = parse_local(p, prefix >> 4, v);
                        break;
                default:
                        r = -EBADMSG; /* reserved item type */
                }
                if (r < 0)
                        return r;
        }

        if (p->depth > 0 || p->local.in_delimiter)
                return -EBADMSG;

        for (size_t i = 0; i < d->n_reports; i++)
                d->reports[i].size = (d->reports[i].size_bits + 7) / 8;

        *ret = TAKE_PTR(d);
        return 0;
}

const HidReport *hid_descriptor_find_report(const HidDescriptor *d, HidReportType type, uint8_t id)
{
        if (!d)
                return NULL;
        for (size_t i = 0; i < d->n_reports; i++)
                if (d->reports[i].type == type && d->reports[i].id == id)
                        return &d->reports[i];
        return NULL;
}

size_t hid_report_wire_size(const HidReport *report)
{
        return report->size + (report->id != 0 ? 1 : 0);
}

int hid_report_prepare(const HidReport *report, uint8_t *buf, size_t size)
{
        size_t n = hid_report_wire_size(report);

        if (!buf || size < n)
                return -ENOBUFS;
        memset(buf, 0, n);
        if (report->id != 0)
                buf[0] = report->id;
        return (int) n;
}

static uint32_t range_length(const HidUsageRange *range)
{
        return (uint32_t) HID_USAGE_ID(range->max) - HID_USAGE_ID(range->min) + 1;
}

int hid_field_get_usage(const HidField *field, uint32_t index, uint32_t *ret_usage)
{
        bool variable = field->flags & HID_FIELD_VARIABLE;
        uint32_t k = index;

        if (field->n_usages == 0 || (variable && index >= field->count))
                return -ENOENT;

        for (size_t i = 0; i < field->n_usages; i++) {
                uint32_t len = range_length(&field->usages[i]);
                if (k < len) {
                        *ret_usage = field->usages[i].min + k;
                        return 0;
                }
                k -= len;
        }
        if (!variable)
                return -ENOENT;

        /* More elements than usages: the last usage applies to the rest (HID 1.11 §6.2.2.8). */
        *ret_usage = field->usages[field->n_usages - 1].max;
        return 0;
}

int hid_field_find_usage(const HidField *field, uint32_t usage)
{
        uint32_t position = 0;

        if (!(field->flags & HID_FIELD_VARIABLE))
                return -ENOENT;

        for (size_t i = 0; i < field->n_usages && position < field->count; i++) {
                const HidUsageRange *range = &field->usages[i];
                if (usage >= range->min && usage <= range->max) {
                        uint32_t index = position + (usage - range->min);
                        return index < field->count ? (int) index : -ENOENT;
                }
                position += range_length(range);
        }
        return -ENOENT;
}

int hid_field_find_collection(const HidField *field, uint32_t usage)
{
        for (size_t i = 0; i < field->depth; i++)
                if (field->path[i].usage == usage)
                        return (int) i;
        return -ENOENT;
}

/* Where element index lies in a whole report: its first byte, its end byte (exclusive) and the
 * bit it starts at within the first byte. */
static void element_position(const HidField *field, uint32_t index, size_t *ret_start,
                             size_t *ret_end, unsigned *ret_shift)
{
        uint64_t bit = field->bit_offset + (uint64_t) index * field->bit_size;
        size_t header = field->report_id != 0 ? 1 : 0;

        *ret_start = header + (size_t) (bit / 8);
        *ret_end = header + (size_t) ((bit + field->bit_size + 7) / 8);
        *ret_shift = (unsigned) (bit % 8);
}

static uint64_t value_mask(unsigned bits)
{
        return bits >= 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
}

int hid_field_extract(const HidField *field, uint32_t index, const uint8_t *report, size_t size,
                      int64_t *ret_value)
{
        size_t start, end;
        unsigned shift;
        uint64_t acc = 0;

        if (index >= field->count)
                return -EINVAL;
        if (field->bit_size > HID_MAX_VALUE_BITS)
                return -EOPNOTSUPP;
        if (!report || (field->report_id != 0 && (size < 1 || report[0] != field->report_id)))
                return -EBADMSG;

        element_position(field, index, &start, &end, &shift);
        if (end > size)
                return -EBADMSG;

        /* At most 32 bits starting anywhere in a byte: at most 5 bytes, 39 bits. */
        for (size_t i = start; i < end; i++)
                acc |= (uint64_t) report[i] << (8 * (i - start));
        acc = (acc >> shift) & value_mask(field->bit_size);

        if (field->logical_min < 0 && (acc >> (field->bit_size - 1)) & 1)
                *ret_value = (int64_t) acc - (int64_t) (UINT64_C(1) << field->bit_size);
        else
                *ret_value = (int64_t) acc;
        return 0;
}

int hid_field_insert(const HidField *field, uint32_t index, int64_t value, uint8_t *report,
                     size_t size)
{
        unsigned bits = field->bit_size;
        size_t start, end;
        unsigned shift;
        uint64_t mask, data;

        if (index >= field->count)
                return -EINVAL;
        if (bits > HID_MAX_VALUE_BITS)
                return -EOPNOTSUPP;
        if (field->logical_min > field->logical_max || value < field->logical_min ||
            value > field->logical_max)
                return -ERANGE;
        /* The range must also fit the element, which a broken descriptor need not ensure. */
        if (field->logical_min < 0
                    ? value < -(INT64_C(1) << (bits - 1)) || value > (INT64_C(1) << (bits - 1)) - 1
                    : (uint64_t) value > value_mask(bits))
                return -ERANGE;

        element_position(field, index, &start, &end, &shift);
        if (!report || end > size)
                return -ENOBUFS;

        mask = value_mask(bits) << shift;
        data = ((uint64_t) value & value_mask(bits)) << shift;
        for (size_t i = start; i < end; i++) {
                uint8_t m = (uint8_t) (mask >> (8 * (i - start)));
                uint8_t b = (uint8_t) (data >> (8 * (i - start)));
                report[i] = (uint8_t) ((report[i] & ~m) | (b & m));
        }
        return 0;
}
