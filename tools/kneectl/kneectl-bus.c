/* SPDX-License-Identifier: MIT */

/* Reading kneed's objects and turning bus errors into one plain line. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kneectl.h"
#include "kneed-bus.h"
#include "string-util.h"

void device_view_clear(DeviceView *d)
{
        free(d->path);
        free(d->id);
        free(d->name);
        free(d->plugin);
        free(d->transport);
        strv_free(d->zones);
        free(d->state);
        *d = (DeviceView){};
}

void device_views_free(DeviceView *views, size_t n)
{
        for (size_t i = 0; i < n; i++)
                device_view_clear(&views[i]);
        free(views);
}

int kneectl_error(Kneectl *k, const char *what, int r, const sd_bus_error *error)
{
        if (error && sd_bus_error_is_set(error)) {
                if (sd_bus_error_has_names(error, "org.freedesktop.DBus.Error.ServiceUnknown",
                                           "org.freedesktop.DBus.Error.NameHasNoOwner")) {
                        fprintf(stderr, "kneectl: kneed is not running on %s (%s has no owner)\n",
                                k->bus_description, KNEED_BUS_NAME);
                        return -ESRCH;
                }
                fprintf(stderr, "kneectl: %s: %s\n", what,
                        error->message ? error->message : error->name);
                return r < 0 ? r : -EIO;
        }
        fprintf(stderr, "kneectl: %s: %s\n", what, strerror(r < 0 ? -r : r));
        return r < 0 ? r : -EIO;
}

int kneectl_device_path(const char *arg, char **ret)
{
        char *p;

        if (startswith(arg, KNEED_DEVICE_PATH_PREFIX "/")) {
                if (!object_path_element_is_valid(arg + strlen(KNEED_DEVICE_PATH_PREFIX "/")))
                        return -EINVAL;
                p = strdup(arg);
        } else {
                if (!object_path_element_is_valid(arg))
                        return -EINVAL;
                if (asprintf(&p, "%s/%s", KNEED_DEVICE_PATH_PREFIX, arg) < 0)
                        p = NULL;
        }
        if (!p)
                return -ENOMEM;
        *ret = p;
        return 0;
}

static int read_string(sd_bus_message *m, char **ret)
{
        const char *s;
        int r;

        r = sd_bus_message_read(m, "v", "s", &s);
        if (r < 0)
                return r;
        free(*ret);
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

static int read_device_properties(sd_bus_message *m, DeviceView *d)
{
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *name;

                r = sd_bus_message_read(m, "s", &name);
                if (r < 0)
                        return r;
                if (streq(name, "Name"))
                        r = read_string(m, &d->name);
                else if (streq(name, "Plugin"))
                        r = read_string(m, &d->plugin);
                else if (streq(name, "Transport"))
                        r = read_string(m, &d->transport);
                else if (streq(name, "State"))
                        r = read_string(m, &d->state);
                else if (streq(name, "Levels"))
                        r = sd_bus_message_read(m, "v", "u", &d->levels);
                else if (streq(name, "HasHeat")) {
                        int b;
                        r = sd_bus_message_read(m, "v", "b", &b);
                        d->has_heat = b;
                } else if (streq(name, "Zones")) {
                        r = sd_bus_message_enter_container(m, 'v', "as");
                        if (r >= 0) {
                                d->zones = strv_free(d->zones);
                                r = sd_bus_message_read_strv(m, &d->zones);
                        }
                        if (r >= 0)
                                r = sd_bus_message_exit_container(m);
                } else
                        r = sd_bus_message_skip(m, "v");
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

int kneectl_get_devices(Kneectl *k, DeviceView **ret, size_t *ret_n)
{
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        DeviceView *views = NULL;
        size_t n = 0;
        int r;

        r = sd_bus_call_method(k->bus, KNEED_BUS_NAME, KNEED_MANAGER_PATH,
                               "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", &error,
                               &reply, NULL);
        if (r < 0)
                return kneectl_error(k, "Failed to list devices", r, &error);

        r = sd_bus_message_enter_container(reply, 'a', "{oa{sa{sv}}}");
        if (r < 0)
                goto fail;
        while ((r = sd_bus_message_enter_container(reply, 'e', "oa{sa{sv}}")) > 0) {
                DeviceView d = {};
                const char *path;
                bool is_device = false;

                r = sd_bus_message_read(reply, "o", &path);
                if (r < 0)
                        goto fail;
                r = sd_bus_message_enter_container(reply, 'a', "{sa{sv}}");
                if (r < 0)
                        goto fail;
                while ((r = sd_bus_message_enter_container(reply, 'e', "sa{sv}")) > 0) {
                        const char *iface;

                        r = sd_bus_message_read(reply, "s", &iface);
                        if (r < 0)
                                goto fail_device;
                        if (streq(iface, KNEED_DEVICE_INTERFACE)) {
                                is_device = true;
                                r = read_device_properties(reply, &d);
                        } else
                                r = sd_bus_message_skip(reply, "a{sv}");
                        if (r < 0)
                                goto fail_device;
                        r = sd_bus_message_exit_container(reply);
                        if (r < 0)
                                goto fail_device;
                }
                if (r < 0)
                        goto fail_device;
                r = sd_bus_message_exit_container(reply);
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
                if (r < 0)
                        goto fail_device;

                if (is_device) {
                        DeviceView *nv;
                        const char *slash = strrchr(path, '/');

                        d.path = strdup(path);
                        d.id = strdup(slash ? slash + 1 : path);
                        nv = realloc(views, sizeof(DeviceView) * (n + 1));
                        if (!d.path || !d.id || !nv) {
                                if (nv)
                                        views = nv;
                                r = -ENOMEM;
                                goto fail_device;
                        }
                        views = nv;
                        views[n++] = d;
                } else
                        device_view_clear(&d);
                continue;

        fail_device:
                device_view_clear(&d);
                goto fail;
        }
        if (r < 0)
                goto fail;

        /* GetManagedObjects has no order; show devices the way the daemon lists them, by id. */
        for (size_t i = 1; i < n; i++)
                for (size_t j = i; j > 0 && strverscmp(views[j - 1].id, views[j].id) > 0; j--) {
                        DeviceView t = views[j];
                        views[j] = views[j - 1];
                        views[j - 1] = t;
                }

        *ret = views;
        *ret_n = n;
        return 0;

fail:
        device_views_free(views, n);
        fprintf(stderr, "kneectl: Failed to parse the device list: %s\n", strerror(-r));
        return r;
}
