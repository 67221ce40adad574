/* SPDX-License-Identifier: MIT */

#include <dirent.h>

#include "device-db.h"
#include "ini-file.h"
#include "string-util.h"
#include "strv.h"
#include "zone.h"

DeviceInfo *device_info_free(DeviceInfo *info)
{
        if (!info)
                return NULL;
        for (size_t i = 0; i < info->n_matches; i++) {
                free(info->matches[i].model);
                free(info->matches[i].string);
        }
        free(info->matches);
        free(info->path);
        free(info->name);
        free(info->plugin);
        strv_free(info->zones);
        strv_free(info->plugin_keys);
        return mfree(info);
}

typedef struct ParseState {
        DeviceInfo *info;
        char *plugin_section; /* the id of the [Plugin <id>] section, checked at the end */
        unsigned plugin_section_line;
        bool seen_device;
        bool seen_heat;
        int heat;
} ParseState;

static int parse_match(IniParser *p, const char *s, DeviceMatch *ret)
{
        _cleanup_strv_free_ char **parts = NULL;
        DeviceMatch m = {};
        int r;

        r = strv_split(s, ":", &parts);
        if (r < 0)
                return ini_error(p, r, "out of memory");

        if (strv_length(parts) == 2 && streq(parts[0], "virtual")) {
                if (!id_is_valid(parts[1]))
                        return ini_error(p, -EINVAL, "invalid virtual model name in Match: '%s'",
                                         s);
                m.type = DEVICE_MATCH_VIRTUAL;
                m.model = strdup(parts[1]);
                if (!m.model)
                        return ini_error(p, -ENOMEM, "out of memory");
        } else if (strv_length(parts) == 3 &&
                   (streq(parts[0], "usb") || streq(parts[0], "hidraw"))) {
                m.type = streq(parts[0], "usb") ? DEVICE_MATCH_USB : DEVICE_MATCH_HIDRAW;
                if (parse_hex16(parts[1], &m.vendor_id) < 0 ||
                    parse_hex16(parts[2], &m.product_id) < 0)
                        return ini_error(p, -EINVAL,
                                         "invalid Match '%s': expected four hex digits for vendor "
                                         "and product, as in usb:0b49:064f",
                                         s);
                if (m.vendor_id == 0)
                        return ini_error(p, -EINVAL, "invalid Match '%s': vendor ID 0000", s);
        } else
                return ini_error(p, -EINVAL,
                                 "invalid Match '%s': expected usb:VVVV:PPPP, hidraw:VVVV:PPPP or "
                                 "virtual:NAME",
                                 s);

        m.string = strdup(s);
        if (!m.string) {
                free(m.model);
                return ini_error(p, -ENOMEM, "out of memory");
        }
        *ret = m;
        return 0;
}

static int parse_device_key(IniParser *p, ParseState *st, const char *key, const char *value)
{
        DeviceInfo *info = st->info;
        int r;

        if (streq(key, "Name")) {
                if (isempty(value))
                        return ini_error(p, -EINVAL, "Name is empty");
                info->name = strdup(value);
                return info->name ? 0 : ini_error(p, -ENOMEM, "out of memory");
        }
        if (streq(key, "Plugin")) {
                if (!id_is_valid(value))
                        return ini_error(p, -EINVAL,
                                         "invalid Plugin '%s': expected a plugin id ([a-z0-9-]+)",
                                         value);
                info->plugin = strdup(value);
                return info->plugin ? 0 : ini_error(p, -ENOMEM, "out of memory");
        }
        if (streq(key, "Match")) {
                _cleanup_strv_free_ char **items = NULL;

                r = strv_split(value, ";", &items);
                if (r < 0)
                        return ini_error(p, r, "out of memory");
                if (!items[0])
                        return ini_error(p, -EINVAL, "Match is empty");
                info->matches = calloc(strv_length(items), sizeof(DeviceMatch));
                if (!info->matches)
                        return ini_error(p, -ENOMEM, "out of memory");
                STRV_FOREACH (i, items) {
                        for (size_t j = 0; j < info->n_matches; j++)
                                if (streq(info->matches[j].string, *i))
                                        return ini_error(p, -EINVAL, "Match lists '%s' twice", *i);
                        r = parse_match(p, *i, &info->matches[info->n_matches]);
                        if (r < 0)
                                return r;
                        info->n_matches++;
                }
                return 0;
        }
        if (streq(key, "Zones")) {
                r = strv_split(value, ";", &info->zones);
                if (r < 0)
                        return ini_error(p, r, "out of memory");
                if (!info->zones[0])
                        return ini_error(p, -EINVAL, "Zones is empty");
                STRV_FOREACH (z, info->zones) {
                        if (!zone_name_is_valid(*z))
                                return ini_error(p, -EINVAL, "unknown zone '%s' in Zones", *z);
                        if (zone_from_string(*z) == ZONE_KNEECAP)
                                return ini_error(
                                        p, -EINVAL,
                                        "the kneecap is never a massage target, not a device zone");
                        for (char *const *y = info->zones; y < z; y++)
                                if (streq(*y, *z))
                                        return ini_error(p, -EINVAL, "Zones lists '%s' twice", *z);
                }
                return 0;
        }
        if (streq(key, "Levels")) {
                r = safe_atou(value, &info->levels);
                if (r < 0 || info->levels < 1 || info->levels > DEVICE_LEVELS_MAX)
                        return ini_error(p, -EINVAL, "invalid Levels '%s': expected 1..%u", value,
                                         DEVICE_LEVELS_MAX);
                return 0;
        }
        if (streq(key, "Heat")) {
                st->heat = parse_boolean(value);
                if (st->heat < 0)
                        return ini_error(p, -EINVAL, "invalid Heat '%s': expected yes or no",
                                         value);
                st->seen_heat = true;
                return 0;
        }
        if (streq(key, "MaxHeatCelsius")) {
                r = safe_atou(value, &info->max_heat_celsius);
                if (r < 0 || info->max_heat_celsius < DEVICE_HEAT_MIN_CELSIUS ||
                    info->max_heat_celsius > DEVICE_HEAT_MAX_CELSIUS)
                        return ini_error(p, -EINVAL, "invalid MaxHeatCelsius '%s': expected %u..%u",
                                         value, DEVICE_HEAT_MIN_CELSIUS, DEVICE_HEAT_MAX_CELSIUS);
                return 0;
        }
        if (streq(key, "Keepalive")) {
                r = parse_boolean(value);
                if (r < 0)
                        return ini_error(p, -EINVAL, "invalid Keepalive '%s': expected yes or no",
                                         value);
                info->keepalive = r;
                return 0;
        }
        return ini_error(p, -EINVAL, "unknown key '%s' in [Device]", key);
}

static int on_section(IniParser *p, const char *section, void *userdata)
{
        ParseState *st = userdata;
        const char *id;

        if (streq(section, "Device")) {
                st->seen_device = true;
                return 0;
        }
        id = startswith(section, "Plugin ");
        if (id && !isempty(id)) {
                if (st->plugin_section)
                        return ini_error(p, -EINVAL, "more than one [Plugin ...] section");
                st->plugin_section = strdup(id);
                st->plugin_section_line = ini_parser_line(p);
                return st->plugin_section ? 0 : ini_error(p, -ENOMEM, "out of memory");
        }
        return ini_error(p, -EINVAL, "unknown section [%s] (expected [Device] or [Plugin <id>])",
                         section);
}

static int on_key(IniParser *p, const char *section, const char *key, const char *value,
                  void *userdata)
{
        ParseState *st = userdata;
        char *kv;

        if (streq(section, "Device"))
                return parse_device_key(p, st, key, value);

        /* [Plugin <id>]: free-form keys that only the plugin interprets. */
        if (asprintf(&kv, "%s=%s", key, value) < 0)
                return ini_error(p, -ENOMEM, "out of memory");
        return strv_consume(&st->info->plugin_keys, kv) < 0 ? ini_error(p, -ENOMEM, "out of memory")
                                                            : 0;
}

static int check_complete(const char *name, ParseState *st, char **error_message)
{
        DeviceInfo *info = st->info;
        const char *missing = NULL;

        if (!st->seen_device)
                missing = "section [Device]";
        else if (!info->name)
                missing = "key Name";
        else if (!info->plugin)
                missing = "key Plugin";
        else if (info->n_matches == 0)
                missing = "key Match";
        else if (!info->zones)
                missing = "key Zones";
        else if (info->levels == 0)
                missing = "key Levels";
        if (missing) {
                if (asprintf(error_message, "%s: missing %s", name, missing) < 0)
                        *error_message = NULL;
                return -EINVAL;
        }

        if (st->seen_heat && st->heat && info->max_heat_celsius == 0) {
                if (asprintf(error_message, "%s: Heat=yes needs MaxHeatCelsius", name) < 0)
                        *error_message = NULL;
                return -EINVAL;
        }
        if ((!st->seen_heat || !st->heat) && info->max_heat_celsius > 0) {
                if (asprintf(error_message, "%s: MaxHeatCelsius is set but Heat is not yes", name) <
                    0)
                        *error_message = NULL;
                return -EINVAL;
        }
        if (st->plugin_section && !streq(st->plugin_section, info->plugin)) {
                if (asprintf(error_message, "%s:%u: section [Plugin %s] does not match Plugin=%s",
                             name, st->plugin_section_line, st->plugin_section, info->plugin) < 0)
                        *error_message = NULL;
                return -EINVAL;
        }
        return 0;
}

int device_info_parse_buffer(const char *name, const char *data, size_t size, DeviceInfo **ret,
                             char **error_message)
{
        static const IniCallbacks callbacks = {.section = on_section, .key = on_key};
        _cleanup_(device_info_freep) DeviceInfo *info = NULL;
        ParseState st = {};
        int r;

        info = calloc(1, sizeof(DeviceInfo));
        if (!info)
                return -ENOMEM;
        info->path = strdup(name);
        if (!info->path)
                return -ENOMEM;
        st.info = info;

        r = ini_parse_buffer(name, data, size, &callbacks, &st, error_message);
        if (r >= 0)
                r = check_complete(name, &st, error_message);
        free(st.plugin_section);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(info);
        return 0;
}

int device_info_load(const char *path, DeviceInfo **ret, char **error_message)
{
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r;

        r = read_full_file(path, INI_FILE_MAX_SIZE, &data, &size);
        if (r < 0) {
                if (asprintf(error_message, "%s: %s", path, strerror(-r)) < 0)
                        *error_message = NULL;
                return r;
        }
        return device_info_parse_buffer(path, data, size, ret, error_message);
}

const char *device_info_get_plugin_key(const DeviceInfo *info, const char *key)
{
        size_t l = strlen(key);

        STRV_FOREACH (kv, info->plugin_keys)
                if (strncmp(*kv, key, l) == 0 && (*kv)[l] == '=')
                        return *kv + l + 1;
        return NULL;
}

static bool match_equal(const DeviceMatch *a, const DeviceMatch *b)
{
        if (a->type != b->type)
                return false;
        if (a->type == DEVICE_MATCH_VIRTUAL)
                return streq(a->model, b->model);
        return a->vendor_id == b->vendor_id && a->product_id == b->product_id;
}

const DeviceInfo *device_db_find(const DeviceDatabase *db, DeviceMatchType type, uint16_t vendor_id,
                                 uint16_t product_id, const char *model,
                                 const DeviceMatch **ret_match)
{
        DeviceMatch want = {
                .type = type,
                .vendor_id = vendor_id,
                .product_id = product_id,
                .model = (char *) model,
        };
        DeviceInfo *i;

        LIST_FOREACH (infos, i, db->infos)
                for (size_t j = 0; j < i->n_matches; j++)
                        if (match_equal(&i->matches[j], &want)) {
                                if (ret_match)
                                        *ret_match = &i->matches[j];
                                return i;
                        }
        return NULL;
}

static int filter_device_files(const struct dirent *de)
{
        size_t l = strlen(de->d_name);
        return de->d_name[0] != '.' && l > 7 && streq(de->d_name + l - 7, ".device");
}

int device_db_load_dir(DeviceDatabase *db, const char *dir, char ***errors)
{
        struct dirent **names = NULL;
        int n, loaded = 0;

        n = scandir(dir, &names, filter_device_files, alphasort);
        if (n < 0)
                return negative_errno();

        for (int k = 0; k < n; k++) {
                _cleanup_(device_info_freep) DeviceInfo *info = NULL;
                _cleanup_free_ char *path = NULL, *error = NULL;
                const DeviceInfo *other;
                int r;

                if (asprintf(&path, "%s/%s", dir, names[k]->d_name) < 0)
                        path = NULL;
                free(names[k]);
                if (!path)
                        continue;

                r = device_info_load(path, &info, &error);
                if (r >= 0)
                        for (size_t j = 0; j < info->n_matches; j++) {
                                const DeviceMatch *m = &info->matches[j];
                                other = device_db_find(db, m->type, m->vendor_id, m->product_id,
                                                       m->model, NULL);
                                if (other) {
                                        if (asprintf(&error,
                                                     "%s: Match '%s' is already claimed by %s",
                                                     path, m->string, other->path) < 0)
                                                error = NULL;
                                        r = -EEXIST;
                                        break;
                                }
                        }
                if (r < 0) {
                        if (errors)
                                (void) strv_consume(errors, error ? TAKE_PTR(error) : strdup(path));
                        continue;
                }

                LIST_APPEND(infos, db->infos, TAKE_PTR(info));
                db->n_infos++;
                loaded++;
        }
        free(names);
        return loaded;
}

void device_db_clear(DeviceDatabase *db)
{
        DeviceInfo *i, *n;

        LIST_FOREACH_SAFE (infos, i, n, db->infos) {
                LIST_REMOVE(infos, db->infos, i);
                device_info_free(i);
        }
        db->n_infos = 0;
}
