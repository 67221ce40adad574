/* SPDX-License-Identifier: MIT */

/* org.kneed.Kneed1.Device at /org/kneed/Kneed1/device/<id>. */

#include "bus-device.h"
#include "kneed-bus.h"
#include "log.h"
#include "manager.h"
#include "safety.h"
#include "strv.h"

static const char *const transport_names[] = {
        [KNEED_TRANSPORT_VIRTUAL] = "virtual",
        [KNEED_TRANSPORT_HIDRAW] = "hidraw",
        [KNEED_TRANSPORT_USB] = "usb",
};

void bus_device_emit_changed(Device *d, const char *property)
{
        Manager *m = d->manager;
        int r;

        if (!m->bus || !m->announcing || !d->exported)
                return;
        r = sd_bus_emit_properties_changed(m->bus, d->path, KNEED_DEVICE_INTERFACE, property, NULL);
        if (r < 0)
                log_debug_errno(r, "Failed to emit Device.%s change, ignoring: %m", property);
}

void bus_device_emit_added(Device *d)
{
        Manager *m = d->manager;
        int r;

        d->exported = true;
        if (!m->bus || !m->announcing)
                return;
        r = sd_bus_emit_object_added(m->bus, d->path);
        if (r < 0)
                log_debug_errno(r, "Failed to announce %s, ignoring: %m", d->path);
}

void bus_device_emit_removed(Device *d)
{
        Manager *m = d->manager;
        int r;

        /* Emitted while the object still resolves, so the signal can list its interfaces. */
        if (m->bus && d->exported) {
                r = sd_bus_emit_object_removed(m->bus, d->path);
                if (r < 0)
                        log_debug_errno(r, "Failed to announce removal of %s, ignoring: %m",
                                        d->path);
        }
        d->exported = false;
}

static int device_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                              void **found, sd_bus_error *error)
{
        Manager *m = userdata;
        const char *id;
        Device *d;

        id = startswith(path, KNEED_DEVICE_PATH_PREFIX "/");
        if (!id)
                return 0;
        d = manager_find_device(m, id);
        if (!d || !d->exported)
                return 0;
        *found = d;
        return 1;
}

static int device_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes,
                                  sd_bus_error *error)
{
        _cleanup_strv_free_ char **l = NULL;
        Manager *m = userdata;
        Device *d;
        int r;

        l = calloc(m->n_devices + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        LIST_FOREACH (devices, d, m->devices) {
                if (!d->exported)
                        continue;
                r = strv_extend(&l, d->path);
                if (r < 0)
                        return r;
        }
        *nodes = TAKE_PTR(l);
        return 1;
}

static int property_get_name(sd_bus *bus, const char *path, const char *interface,
                             const char *property, sd_bus_message *reply, void *userdata,
                             sd_bus_error *error)
{
        Device *d = userdata;
        return sd_bus_message_append(reply, "s", d->name);
}

static int property_get_plugin(sd_bus *bus, const char *path, const char *interface,
                               const char *property, sd_bus_message *reply, void *userdata,
                               sd_bus_error *error)
{
        Device *d = userdata;
        return sd_bus_message_append(reply, "s", d->plugin->id);
}

static int property_get_transport(sd_bus *bus, const char *path, const char *interface,
                                  const char *property, sd_bus_message *reply, void *userdata,
                                  sd_bus_error *error)
{
        Device *d = userdata;
        return sd_bus_message_append(reply, "s", transport_names[d->transport]);
}

static int property_get_zones(sd_bus *bus, const char *path, const char *interface,
                              const char *property, sd_bus_message *reply, void *userdata,
                              sd_bus_error *error)
{
        Device *d = userdata;
        return sd_bus_message_append_strv(reply, d->zones);
}

static int property_get_levels(sd_bus *bus, const char *path, const char *interface,
                               const char *property, sd_bus_message *reply, void *userdata,
                               sd_bus_error *error)
{
        Device *d = userdata;
        return sd_bus_message_append(reply, "u", d->levels);
}

static int property_get_has_heat(sd_bus *bus, const char *path, const char *interface,
                                 const char *property, sd_bus_message *reply, void *userdata,
                                 sd_bus_error *error)
{
        Device *d = userdata;
        return sd_bus_message_append(reply, "b", d->max_heat_celsius > 0);
}

static int property_get_state(sd_bus *bus, const char *path, const char *interface,
                              const char *property, sd_bus_message *reply, void *userdata,
                              sd_bus_error *error)
{
        Device *d = userdata;
        return sd_bus_message_append(reply, "s", device_state_to_string(d->state));
}

static int property_get_max_intensity(sd_bus *bus, const char *path, const char *interface,
                                      const char *property, sd_bus_message *reply, void *userdata,
                                      sd_bus_error *error)
{
        return sd_bus_message_append(reply, "u", safety_device_max_intensity(userdata));
}

static int method_stop(sd_bus_message *message, void *userdata, sd_bus_error *error)
{
        Device *d = userdata;

        /* Stopping never needs authorization and never fails the caller. */
        log_info("Device %s: stop requested by %s", d->id,
                 strna(sd_bus_message_get_sender(message)));
        (void) device_stop(d, "device-stop");
        return sd_bus_reply_method_return(message, NULL);
}

static int method_identify(sd_bus_message *message, void *userdata, sd_bus_error *error)
{
        Device *d = userdata;
        int r;

        r = device_identify(d);
        if (r == -EBUSY)
                return sd_bus_error_setf(error, KNEED_ERROR_DEVICE_BUSY,
                                         "Device %s is running a session; stop it first", d->id);
        if (r == -EBADMSG)
                return sd_bus_error_setf(error, KNEED_ERROR_POLICY_INVALID,
                                         "The safety policy is invalid, so kneed drives no device "
                                         "until it is fixed: %s",
                                         strna(d->manager->policy_error));
        if (r == -EIO)
                return sd_bus_error_setf(error, KNEED_ERROR_DEVICE_FAULTED,
                                         "Device %s is faulted (%s); unplug and replug it", d->id,
                                         strna(d->fault));
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(message, NULL);
}

static const sd_bus_vtable device_vtable[] = {
        SD_BUS_VTABLE_START(0),

        SD_BUS_PROPERTY("Name", "s", property_get_name, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Plugin", "s", property_get_plugin, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Transport", "s", property_get_transport, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Zones", "as", property_get_zones, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Levels", "u", property_get_levels, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("HasHeat", "b", property_get_has_heat, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("State", "s", property_get_state, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("MaxIntensity", "u", property_get_max_intensity, 0,
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),

        SD_BUS_METHOD_WITH_ARGS("Stop", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_stop,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Identify", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_identify,
                                SD_BUS_VTABLE_UNPRIVILEGED),

        SD_BUS_VTABLE_END,
};

int bus_device_register(Manager *m)
{
        int r;

        r = sd_bus_add_fallback_vtable(m->bus, NULL, KNEED_DEVICE_PATH_PREFIX,
                                       KNEED_DEVICE_INTERFACE, device_vtable, device_object_find,
                                       m);
        if (r < 0)
                return r;
        return sd_bus_add_node_enumerator(m->bus, NULL, KNEED_DEVICE_PATH_PREFIX,
                                          device_node_enumerator, m);
}
