/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The device database: data/devices/NAME.device, one model per file. It is the single source for
 * matching devices to plugins, for their capabilities and for the generated udev rules.
 */

#include <stdbool.h>
#include <stdint.h>

#include "list.h"
#include "macro.h"

typedef enum DeviceMatchType {
        DEVICE_MATCH_USB,
        DEVICE_MATCH_HIDRAW,
        DEVICE_MATCH_VIRTUAL,
} DeviceMatchType;

typedef struct DeviceMatch {
        DeviceMatchType type;
        uint16_t vendor_id;
        uint16_t product_id;
        char *model;  /* DEVICE_MATCH_VIRTUAL only */
        char *string; /* as written, e.g. "usb:0b49:064f" */
} DeviceMatch;

#define DEVICE_LEVELS_MAX 1000u
#define DEVICE_HEAT_MIN_CELSIUS 30u
#define DEVICE_HEAT_MAX_CELSIUS 60u

typedef struct DeviceInfo DeviceInfo;
struct DeviceInfo {
        char *path; /* the file it came from */
        char *name;
        char *plugin;
        DeviceMatch *matches;
        size_t n_matches;
        char **zones;
        unsigned levels;
        unsigned max_heat_celsius; /* 0: no heater */
        bool keepalive;
        char **plugin_keys; /* "KEY=VALUE" from the [Plugin <plugin>] section */
        LIST_FIELDS(DeviceInfo, infos);
};

DeviceInfo *device_info_free(DeviceInfo *info);
DEFINE_TRIVIAL_CLEANUP_FUNC(DeviceInfo *, device_info_free);

/* Parses one device file. On failure *error_message says "FILE:LINE: what was wrong". */
int device_info_parse_buffer(const char *name, const char *data, size_t size, DeviceInfo **ret,
                             char **error_message);
int device_info_load(const char *path, DeviceInfo **ret, char **error_message);

/* Looks up a key of the [Plugin <id>] section; NULL when absent. */
const char *device_info_get_plugin_key(const DeviceInfo *info, const char *key);

typedef struct DeviceDatabase {
        DeviceInfo *infos;
        unsigned n_infos;
} DeviceDatabase;

/*
 * Loads every *.device file in dir, in name order. A bad file is reported (returned through
 * the errors list, "FILE:LINE: ..." each) and skipped; a match already claimed by an earlier
 * file is refused the same way. Returns the number of files loaded, or a negative errno when
 * the directory can't be read.
 */
int device_db_load_dir(DeviceDatabase *db, const char *dir, char ***errors);
void device_db_clear(DeviceDatabase *db);

const DeviceInfo *device_db_find(const DeviceDatabase *db, DeviceMatchType type, uint16_t vendor_id,
                                 uint16_t product_id, const char *model,
                                 const DeviceMatch **ret_match);
