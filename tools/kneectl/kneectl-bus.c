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

void session_view_clear(SessionView *v)
{
        free(v->path);
        free(v->routine);
        free(v->device);
        free(v->state);
        free(v->zone);
        free(v->stop_reason);
        *v = (SessionView){};
}

void session_views_free(SessionView *views, size_t n)
{
        for (size_t i = 0; i < n; i++)
                session_view_clear(&views[i]);
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

static int read_session_properties(sd_bus_message *m, SessionView *v)
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
                if (streq(name, "Routine"))
                        r = read_string(m, &v->routine);
                else if (streq(name, "State"))
                        r = read_string(m, &v->state);
                else if (streq(name, "Zone"))
                        r = read_string(m, &v->zone);
                else if (streq(name, "StopReason"))
                        r = read_string(m, &v->stop_reason);
                else if (streq(name, "Device")) {
                        const char *o;
                        r = sd_bus_message_read(m, "v", "o", &o);
                        if (r >= 0) {
                                free(v->device);
                                v->device = strdup(o);
                                r = v->device ? 0 : -ENOMEM;
                        }
                } else if (streq(name, "StepIndex"))
                        r = sd_bus_message_read(m, "v", "u", &v->step_index);
                else if (streq(name, "StepCount"))
                        r = sd_bus_message_read(m, "v", "u", &v->step_count);
                else if (streq(name, "Intensity"))
                        r = sd_bus_message_read(m, "v", "u", &v->intensity);
                else if (streq(name, "ElapsedMs"))
                        r = sd_bus_message_read(m, "v", "u", &v->elapsed_ms);
                else if (streq(name, "DurationMs"))
                        r = sd_bus_message_read(m, "v", "u", &v->duration_ms);
                else
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

static int append(void **array, size_t *n, size_t size, const void *item)
{
        char *grown = realloc(*array, size * (*n + 1));

        if (!grown)
                return -ENOMEM;
        memcpy(grown + size * *n, item, size);
        *array = grown;
        (*n)++;
        return 0;
}

int kneectl_get_objects(Kneectl *k, DeviceView **ret_devices, size_t *ret_n_devices,
                        SessionView **ret_sessions, size_t *ret_n_sessions)
{
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        DeviceView *devices = NULL;
        SessionView *sessions = NULL;
        size_t n_devices = 0, n_sessions = 0;
        int r;

        r = sd_bus_call_method(k->bus, KNEED_BUS_NAME, KNEED_MANAGER_PATH,
                               "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", &error,
                               &reply, NULL);
        if (r < 0)
                return kneectl_error(k, "Failed to list devices", r, &error);

        r = sd_bus_message_enter_container(reply, 'a', "{oa{sa{sv}}}");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "oa{sa{sv}}")) > 0) {
                DeviceView d = {};
                SessionView v = {};
                const char *path, *slash;
                int kind = 0; /* 1 device, 2 session */

                r = sd_bus_message_read(reply, "o", &path);
                if (r >= 0)
                        r = sd_bus_message_enter_container(reply, 'a', "{sa{sv}}");
                while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "sa{sv}")) > 0) {
                        const char *iface;

                        r = sd_bus_message_read(reply, "s", &iface);
                        if (r < 0)
                                break;
                        if (streq(iface, KNEED_DEVICE_INTERFACE)) {
                                kind = 1;
                                r = read_device_properties(reply, &d);
                        } else if (streq(iface, KNEED_SESSION_INTERFACE)) {
                                kind = 2;
                                r = read_session_properties(reply, &v);
                        } else
                                r = sd_bus_message_skip(reply, "a{sv}");
                        if (r >= 0)
                                r = sd_bus_message_exit_container(reply);
                }
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);

                slash = strrchr(path, '/');
                if (r >= 0 && kind == 1) {
                        d.path = strdup(path);
                        d.id = strdup(slash + 1);
                        r = d.path && d.id ? append((void **) &devices, &n_devices, sizeof(d), &d)
                                           : -ENOMEM;
                        if (r >= 0)
                                d = (DeviceView){};
                } else if (r >= 0 && kind == 2) {
                        v.path = strdup(path);
                        v.id = (unsigned) strtoul(slash + 1, NULL, 10);
                        r = v.path ? append((void **) &sessions, &n_sessions, sizeof(v), &v)
                                   : -ENOMEM;
                        if (r >= 0)
                                v = (SessionView){};
                }
                /* Whatever was not handed over (on failure, or an object of no interest). */
                device_view_clear(&d);
                session_view_clear(&v);
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(reply);
        if (r < 0) {
                device_views_free(devices, n_devices);
                session_views_free(sessions, n_sessions);
                fprintf(stderr, "kneectl: Failed to parse the object list: %s\n", strerror(-r));
                return r;
        }

        /* GetManagedObjects has no order; show devices by id and sessions by number. */
        for (size_t i = 1; i < n_devices; i++)
                for (size_t j = i; j > 0 && strverscmp(devices[j - 1].id, devices[j].id) > 0; j--) {
                        DeviceView t = devices[j];
                        devices[j] = devices[j - 1];
                        devices[j - 1] = t;
                }
        for (size_t i = 1; i < n_sessions; i++)
                for (size_t j = i; j > 0 && sessions[j - 1].id > sessions[j].id; j--) {
                        SessionView t = sessions[j];
                        sessions[j] = sessions[j - 1];
                        sessions[j - 1] = t;
                }

        *ret_devices = devices;
        *ret_n_devices = n_devices;
        if (ret_sessions) {
                *ret_sessions = sessions;
                *ret_n_sessions = n_sessions;
        } else
                session_views_free(sessions, n_sessions);
        return 0;
}

int kneectl_get_devices(Kneectl *k, DeviceView **ret, size_t *ret_n)
{
        return kneectl_get_objects(k, ret, ret_n, NULL, NULL);
}
