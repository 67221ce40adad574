/* SPDX-License-Identifier: MIT */

/* kneectl devices | status | stop [DEVICE] */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kneectl.h"
#include "kneed-bus.h"

static void json_device(JsonWriter *j, const DeviceView *d)
{
        json_begin_object(j);
        json_key(j, "id");
        json_string(j, d->id);
        json_key(j, "path");
        json_string(j, d->path);
        json_key(j, "name");
        json_string(j, d->name);
        json_key(j, "plugin");
        json_string(j, d->plugin);
        json_key(j, "transport");
        json_string(j, d->transport);
        json_key(j, "zones");
        json_begin_array(j);
        STRV_FOREACH (z, d->zones)
                json_string(j, *z);
        json_end_array(j);
        json_key(j, "levels");
        json_uint(j, d->levels);
        json_key(j, "has_heat");
        json_bool(j, d->has_heat);
        json_key(j, "state");
        json_string(j, d->state);
        json_end_object(j);
}

int verb_devices(Kneectl *k, int argc, char *argv[])
{
        DeviceView *views = NULL;
        size_t n = 0;
        int r;

        r = kneectl_get_devices(k, &views, &n);
        if (r < 0)
                return r;

        if (k->json) {
                json_begin_array(&k->out);
                for (size_t i = 0; i < n; i++)
                        json_device(&k->out, &views[i]);
                json_end_array(&k->out);
                json_finish(&k->out);
        } else if (n == 0)
                printf("No devices.\n");
        else {
                printf("%-12s %-30s %-10s %-10s %6s %-5s %s\n", "ID", "NAME", "PLUGIN", "TRANSPORT",
                       "LEVELS", "HEAT", "STATE");
                for (size_t i = 0; i < n; i++)
                        printf("%-12s %-30s %-10s %-10s %6u %-5s %s\n", views[i].id,
                               strempty(views[i].name), strempty(views[i].plugin),
                               strempty(views[i].transport), views[i].levels,
                               views[i].has_heat ? "yes" : "no", strempty(views[i].state));
        }

        device_views_free(views, n);
        return 0;
}

static void json_session(JsonWriter *j, const SessionView *s)
{
        json_begin_object(j);
        json_key(j, "id");
        json_uint(j, s->id);
        json_key(j, "path");
        json_string(j, s->path);
        json_key(j, "routine");
        json_string(j, s->routine);
        json_key(j, "device");
        json_string(j, s->device);
        json_key(j, "state");
        json_string(j, s->state);
        json_key(j, "step");
        json_uint(j, s->step_index);
        json_key(j, "steps");
        json_uint(j, s->step_count);
        json_key(j, "zone");
        json_string(j, s->zone);
        json_key(j, "intensity");
        json_uint(j, s->intensity);
        json_key(j, "elapsed_ms");
        json_uint(j, s->elapsed_ms);
        json_key(j, "duration_ms");
        json_uint(j, s->duration_ms);
        json_key(j, "stop_reason");
        json_string(j, s->stop_reason);
        json_end_object(j);
}

int verb_status(Kneectl *k, int argc, char *argv[])
{
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *version = NULL, *policy_error = NULL;
        uint32_t sessions_today = 0;
        DeviceView *views = NULL;
        SessionView *sessions = NULL;
        size_t n = 0, n_sessions = 0;
        int r;

        r = sd_bus_get_property_string(k->bus, KNEED_BUS_NAME, KNEED_MANAGER_PATH,
                                       KNEED_MANAGER_INTERFACE, "Version", &error, &version);
        if (r < 0)
                return kneectl_error(k, "Failed to read the daemon's version", r, &error);

        (void) sd_bus_get_property_string(k->bus, KNEED_BUS_NAME, KNEED_MANAGER_PATH,
                                          KNEED_MANAGER_INTERFACE, "PolicyError", NULL,
                                          &policy_error);
        (void) sd_bus_get_property_trivial(k->bus, KNEED_BUS_NAME, KNEED_MANAGER_PATH,
                                           KNEED_MANAGER_INTERFACE, "SessionsToday", NULL, 'u',
                                           &sessions_today);

        r = kneectl_get_objects(k, &views, &n, &sessions, &n_sessions);
        if (r < 0)
                return r;

        if (k->json) {
                json_begin_object(&k->out);
                json_key(&k->out, "version");
                json_string(&k->out, version);
                json_key(&k->out, "policy_error");
                json_string(&k->out, strempty(policy_error));
                json_key(&k->out, "sessions_today");
                json_uint(&k->out, sessions_today);
                json_key(&k->out, "devices");
                json_begin_array(&k->out);
                for (size_t i = 0; i < n; i++)
                        json_device(&k->out, &views[i]);
                json_end_array(&k->out);
                json_key(&k->out, "sessions");
                json_begin_array(&k->out);
                for (size_t i = 0; i < n_sessions; i++)
                        json_session(&k->out, &sessions[i]);
                json_end_array(&k->out);
                json_end_object(&k->out);
                json_finish(&k->out);
        } else {
                printf("kneed %s on %s, %zu device%s\n", version, k->bus_description, n,
                       n == 1 ? "" : "s");
                if (!isempty(policy_error))
                        printf("Policy: INVALID, %s\n", policy_error);
                printf("Sessions today: %u\n", sessions_today);
                for (size_t i = 0; i < n; i++) {
                        _cleanup_free_ char *zones = strv_join(views[i].zones, ", ");

                        printf("  %s: %s (%s), %s\n", views[i].id, strempty(views[i].name),
                               strempty(views[i].plugin), strempty(views[i].state));
                        printf("      %u levels%s; zones: %s\n", views[i].levels,
                               views[i].has_heat ? ", heat" : "", strempty(zones));
                }
                for (size_t i = 0; i < n_sessions; i++) {
                        const SessionView *s = &sessions[i];
                        const char *dev = s->device ? strrchr(s->device, '/') + 1 : "?";

                        if (streq_ptr(s->state, "running") || streq_ptr(s->state, "paused"))
                                printf("Session %u: %s on %s, %s, step %u/%u (%s) at %u%%\n", s->id,
                                       strempty(s->routine), dev, s->state, s->step_index + 1,
                                       s->step_count, strempty(s->zone), s->intensity);
                        else
                                printf("Session %u: %s on %s, %s (%s)\n", s->id,
                                       strempty(s->routine), dev, strempty(s->state),
                                       strempty(s->stop_reason));
                }
        }

        device_views_free(views, n);
        session_views_free(sessions, n_sessions);
        return 0;
}

int verb_stop(Kneectl *k, int argc, char *argv[])
{
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *path = NULL;
        int r;

        if (argc > 2) {
                fprintf(stderr, "kneectl: stop takes at most one device\n");
                return -EINVAL;
        }

        if (argc < 2) {
                r = sd_bus_call_method(k->bus, KNEED_BUS_NAME, KNEED_MANAGER_PATH,
                                       KNEED_MANAGER_INTERFACE, "StopAll", &error, NULL, NULL);
                if (r < 0)
                        return kneectl_error(k, "Failed to stop the devices", r, &error);
                if (k->json) {
                        json_begin_object(&k->out);
                        json_key(&k->out, "stopped");
                        json_string(&k->out, "all");
                        json_end_object(&k->out);
                        json_finish(&k->out);
                } else
                        printf("Stopped every device.\n");
                return 0;
        }

        /* A number or a session path names a session; anything else a device. */
        if (kneectl_is_session_arg(argv[1]))
                return kneectl_stop_session(k, argv[1]);

        r = kneectl_device_path(argv[1], &path);
        if (r < 0) {
                fprintf(stderr, "kneectl: '%s' is not a device id or device path\n", argv[1]);
                return r;
        }
        r = sd_bus_call_method(k->bus, KNEED_BUS_NAME, path, KNEED_DEVICE_INTERFACE, "Stop", &error,
                               NULL, NULL);
        if (r < 0) {
                if (sd_bus_error_has_names(&error, "org.freedesktop.DBus.Error.UnknownObject",
                                           "org.freedesktop.DBus.Error.UnknownMethod")) {
                        fprintf(stderr, "kneectl: no device '%s'\n", argv[1]);
                        return -ENODEV;
                }
                return kneectl_error(k, "Failed to stop the device", r, &error);
        }
        if (k->json) {
                json_begin_object(&k->out);
                json_key(&k->out, "stopped");
                json_string(&k->out, argv[1]);
                json_end_object(&k->out);
                json_finish(&k->out);
        } else
                printf("Stopped %s.\n", argv[1]);
        return 0;
}
