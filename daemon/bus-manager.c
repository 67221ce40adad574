/* SPDX-License-Identifier: MIT */

/* org.kneed.Kneed1.Manager at /org/kneed/Kneed1. */

#include "bus-manager.h"
#include "config.h"
#include "kneed-bus.h"
#include "log.h"
#include "manager.h"

void bus_manager_emit_changed(Manager *m, const char *property)
{
        int r;

        if (!m->bus || m->shutting_down)
                return;
        r = sd_bus_emit_properties_changed(m->bus, KNEED_MANAGER_PATH, KNEED_MANAGER_INTERFACE,
                                           property, NULL);
        if (r < 0)
                log_debug_errno(r, "Failed to emit Manager.%s change, ignoring: %m", property);
}

static int append_device_paths(sd_bus_message *reply, Manager *m)
{
        Device *d;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "o");
        if (r < 0)
                return r;
        LIST_FOREACH (devices, d, m->devices) {
                r = sd_bus_message_append(reply, "o", d->path);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

static int property_get_version(sd_bus *bus, const char *path, const char *interface,
                                const char *property, sd_bus_message *reply, void *userdata,
                                sd_bus_error *error)
{
        return sd_bus_message_append(reply, "s", KNEED_VERSION);
}

static int property_get_devices(sd_bus *bus, const char *path, const char *interface,
                                const char *property, sd_bus_message *reply, void *userdata,
                                sd_bus_error *error)
{
        return append_device_paths(reply, userdata);
}

static int method_list_devices(sd_bus_message *message, void *userdata, sd_bus_error *error)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(message, &reply);
        if (r < 0)
                return r;
        r = append_device_paths(reply, userdata);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_stop_all(sd_bus_message *message, void *userdata, sd_bus_error *error)
{
        Manager *m = userdata;

        /* Stopping never needs authorization, and never fails the caller: every device is tried. */
        log_info("StopAll requested by %s", strna(sd_bus_message_get_sender(message)));
        (void) manager_stop_all(m, "stop-all");
        return sd_bus_reply_method_return(message, NULL);
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),

        SD_BUS_PROPERTY("Version", "s", property_get_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Devices", "ao", property_get_devices, 0,
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),

        SD_BUS_METHOD_WITH_ARGS("ListDevices", SD_BUS_NO_ARGS, SD_BUS_RESULT("ao", devices),
                                method_list_devices, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("StopAll", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_stop_all,
                                SD_BUS_VTABLE_UNPRIVILEGED),

        SD_BUS_VTABLE_END,
};

int bus_manager_register(Manager *m)
{
        int r;

        r = sd_bus_add_object_manager(m->bus, NULL, KNEED_MANAGER_PATH);
        if (r < 0)
                return r;
        return sd_bus_add_object_vtable(m->bus, NULL, KNEED_MANAGER_PATH, KNEED_MANAGER_INTERFACE,
                                        manager_vtable, m);
}
