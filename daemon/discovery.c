/* SPDX-License-Identifier: MIT */

#include <ctype.h>
#include <systemd/sd-device.h>

#include "discovery.h"
#include "hidraw.h"
#include "log.h"
#include "manager.h"
#include "string-util.h"
#include "strv.h"
#include "usb.h"

typedef struct Candidate {
        sd_device *dev;
        const char *syspath;
        const char *devnode;
        DeviceMatchType type;
        uint16_t vendor_id;
        uint16_t product_id;
        const char *name; /* for devices the database doesn't name */
} Candidate;

static int read_usb_ids(sd_device *dev, uint16_t *ret_vid, uint16_t *ret_pid)
{
        const char *v, *p;

        if (sd_device_get_sysattr_value(dev, "idVendor", &v) < 0 ||
            sd_device_get_sysattr_value(dev, "idProduct", &p) < 0)
                return -ENODATA;
        if (parse_hex16(v, ret_vid) < 0 || parse_hex16(p, ret_pid) < 0)
                return -EBADMSG;
        return 0;
}

/* HID_ID=0003:00001209:00000001 on the hidraw node's hid parent: bus, vendor, product. */
static int read_hid_ids(sd_device *dev, uint16_t *ret_vid, uint16_t *ret_pid, const char **ret_name)
{
        unsigned bus, vid, pid;
        sd_device *hid;
        const char *id;

        if (sd_device_get_parent_with_subsystem_devtype(dev, "hid", NULL, &hid) < 0 ||
            sd_device_get_property_value(hid, "HID_ID", &id) < 0)
                return -ENODATA;
        if (sscanf(id, "%x:%x:%x", &bus, &vid, &pid) != 3 || vid > 0xffff || pid > 0xffff)
                return -EBADMSG;
        *ret_vid = (uint16_t) vid;
        *ret_pid = (uint16_t) pid;
        if (sd_device_get_property_value(hid, "HID_NAME", ret_name) < 0)
                *ret_name = NULL;
        return 0;
}

static int candidate_from_device(sd_device *dev, Candidate *ret)
{
        const char *subsystem, *devtype;
        Candidate c = {.dev = dev};

        if (sd_device_get_subsystem(dev, &subsystem) < 0 ||
            sd_device_get_syspath(dev, &c.syspath) < 0 ||
            sd_device_get_devname(dev, &c.devnode) < 0)
                return -ENODEV;

        if (streq(subsystem, "usb")) {
                if (sd_device_get_devtype(dev, &devtype) < 0 || !streq(devtype, "usb_device"))
                        return -ENODEV; /* interfaces and hubs' ports are not devices here */
                c.type = DEVICE_MATCH_USB;
                if (read_usb_ids(dev, &c.vendor_id, &c.product_id) < 0)
                        return -ENODEV;
        } else if (streq(subsystem, "hidraw")) {
                c.type = DEVICE_MATCH_HIDRAW;
                if (read_hid_ids(dev, &c.vendor_id, &c.product_id, &c.name) < 0)
                        return -ENODEV;
        } else
                return -ENODEV;

        *ret = c;
        return 0;
}

/* hidraw3, or usb_1_4_2 for the USB device 1-4.2: object path elements. */
static char *device_id_for(sd_device *dev, DeviceMatchType type)
{
        const char *sysname;
        char *id;

        if (sd_device_get_sysname(dev, &sysname) < 0)
                return NULL;
        if (asprintf(&id, "%s%s", type == DEVICE_MATCH_USB ? "usb_" : "", sysname) < 0)
                return NULL;
        for (char *p = id; *p; p++)
                if (!isalnum((unsigned char) *p))
                        *p = '_';
        return id;
}

/* Says once per device, not at every event, that kneed may not open it, and what to do. */
static void report_access(Manager *m, const Candidate *c, int error, bool matched)
{
        if (!matched) {
                log_debug_errno(error, "Cannot open %s to probe it, skipping: %m", c->devnode);
                return;
        }
        if (strv_contains(m->refused_devices, c->syspath))
                return;
        (void) strv_extend(&m->refused_devices, c->syspath);
        log_warning_errno(error,
                          "Cannot open %s (%04x:%04x): %m. Install kneed's udev rules, which give "
                          "the kneed group access to supported devices, or run kneed with that "
                          "access; the device is skipped until it changes or is replugged.",
                          c->devnode, c->vendor_id, c->product_id);
}

static int open_transport(Manager *m, Device *d, const Candidate *c)
{
        int r;

        if (c->type == DEVICE_MATCH_HIDRAW) {
                d->transport = KNEED_TRANSPORT_HIDRAW;
                r = hidraw_open(c->devnode);
                if (r < 0)
                        return r;
                d->hidraw.fd = r;
                return 0;
        }

        d->transport = KNEED_TRANSPORT_USB;
        if (!m->usb) {
                r = usb_context_new(m->event, &m->usb);
                if (r < 0)
                        return log_error_errno(r, "Failed to set up libusb: %m");
                m->usb->drained = manager_usb_drained;
                m->usb->drained_userdata = m;
        }
        return usb_device_open(m->usb, d, c->devnode, &d->usb);
}

/* Tries one plugin on the candidate. -ENODEV: it declined. */
static int bind_with(Manager *m, const Candidate *c, const DeviceInfo *info,
                     const DeviceMatch *match, const Plugin *plugin)
{
        _cleanup_(device_freep) Device *d = NULL;
        _cleanup_free_ char *id = NULL;
        int r;

        id = device_id_for(c->dev, c->type);
        if (!id)
                return log_oom();
        r = device_new(m, id, info, match, plugin, &d);
        if (r < 0)
                return log_error_errno(r, "Failed to set up device %s: %m", id);
        d->vendor_id = c->vendor_id;
        d->product_id = c->product_id;
        d->syspath = strdup(c->syspath);
        d->devnode = strdup(c->devnode);
        if (!d->name)
                d->name = strdup(c->name ? c->name : id);
        if (!d->syspath || !d->devnode || !d->name)
                return log_oom();

        r = open_transport(m, d, c);
        if (r < 0) {
                if (r == -EACCES || r == -EPERM)
                        report_access(m, c, r, info != NULL);
                else
                        log_warning_errno(r, "Cannot open %s, skipping it: %m", c->devnode);
                return r;
        }

        r = device_probe(d);
        if (r == -ENODEV)
                return r;
        if (r < 0)
                return log_warning_errno(r, "Plugin %s could not set up %s, skipping it: %m",
                                         plugin->id, c->devnode);

        return manager_add_device(m, TAKE_PTR(d));
}

static void discovery_add(Manager *m, sd_device *dev)
{
        const DeviceMatch *match = NULL;
        const DeviceInfo *info;
        Plugin *plugin;
        Candidate c;

        if (candidate_from_device(dev, &c) < 0)
                return;
        if (manager_find_device_by_syspath(m, c.syspath))
                return;

        info = device_db_find(&m->devdb, c.type, c.vendor_id, c.product_id, NULL, &match);

        /* Time-scaled routines are for virtual devices; no real motor runs them. */
        if (m->options->time_scale != 1.0) {
                if (!info)
                        return;
                if (!strv_contains(m->refused_devices, c.syspath)) {
                        (void) strv_extend(&m->refused_devices, c.syspath);
                        log_warning("Not using %s (%04x:%04x): kneed runs routines faster than "
                                    "real time (--time-scale), which is only for virtual devices",
                                    c.devnode, c.vendor_id, c.product_id);
                }
                return;
        }

        if (info) {
                plugin = plugin_set_find(&m->plugins, info->plugin);
                if (!plugin) {
                        log_warning("%s (%04x:%04x) needs plugin '%s', which is not installed",
                                    c.devnode, c.vendor_id, c.product_id, info->plugin);
                        return;
                }
                if (plugin_open(plugin) < 0)
                        return;
                if (bind_with(m, &c, info, match, plugin) == -ENODEV)
                        log_warning("Plugin %s declined %s (%04x:%04x), which the device "
                                    "database assigns to it",
                                    plugin->id, c.devnode, c.vendor_id, c.product_id);
                return;
        }

        /* Not in the database: plugins for standard device classes may claim a hidraw node. */
        if (c.type != DEVICE_MATCH_HIDRAW)
                return;
        for (size_t i = 0; i < m->plugins.n_plugins; i++) {
                int r;

                plugin = m->plugins.plugins[i];
                if (plugin_open(plugin) < 0)
                        continue;
                r = bind_with(m, &c, NULL, NULL, plugin);
                if (r != -ENODEV)
                        return;
        }
}

static void discovery_remove(Manager *m, sd_device *dev)
{
        const char *syspath;
        Device *d;

        if (sd_device_get_syspath(dev, &syspath) < 0)
                return;
        strv_remove(m->refused_devices, syspath);
        d = manager_find_device_by_syspath(m, syspath);
        if (!d)
                return;
        d->gone = true;
        manager_remove_device(m, d, "unplugged");
}

static int on_uevent(sd_device_monitor *monitor, sd_device *dev, void *userdata)
{
        Manager *m = userdata;
        sd_device_action_t action;
        const char *syspath;

        if (sd_device_get_action(dev, &action) < 0)
                return 0;
        switch (action) {
        case SD_DEVICE_ADD:
        case SD_DEVICE_BIND:
                discovery_add(m, dev);
                break;
        case SD_DEVICE_CHANGE:
                /* udev may have just given kneed access: try again what was refused. */
                if (sd_device_get_syspath(dev, &syspath) >= 0)
                        strv_remove(m->refused_devices, syspath);
                discovery_add(m, dev);
                break;
        case SD_DEVICE_REMOVE:
                discovery_remove(m, dev);
                break;
        default:
                break;
        }
        return 0;
}

int discovery_start(Manager *m)
{
        int r;

        /* Listen before enumerating, so that nothing plugged in between is missed. */
        r = sd_device_monitor_new(&m->monitor);
        if (r >= 0)
                r = sd_device_monitor_filter_add_match_subsystem_devtype(m->monitor, "usb",
                                                                         "usb_device");
        if (r >= 0)
                r = sd_device_monitor_filter_add_match_subsystem_devtype(m->monitor, "hidraw",
                                                                         NULL);
        if (r >= 0)
                r = sd_device_monitor_attach_event(m->monitor, m->event);
        if (r >= 0)
                r = sd_device_monitor_start(m->monitor, on_uevent, m);
        if (r < 0)
                log_warning_errno(r, "Failed to watch for hotplugged devices, ignoring: %m");

        return discovery_enumerate(m);
}

int discovery_enumerate(Manager *m)
{
        _cleanup_(sd_device_enumerator_unrefp) sd_device_enumerator *e = NULL;
        int r;

        r = sd_device_enumerator_new(&e);
        if (r >= 0)
                r = sd_device_enumerator_add_match_subsystem(e, "usb", true);
        if (r >= 0)
                r = sd_device_enumerator_add_match_subsystem(e, "hidraw", true);
        if (r < 0)
                return log_error_errno(r, "Failed to enumerate devices: %m");
        for (sd_device *dev = sd_device_enumerator_get_device_first(e); dev;
             dev = sd_device_enumerator_get_device_next(e))
                discovery_add(m, dev);
        return 0;
}

void discovery_stop(Manager *m)
{
        m->monitor = sd_device_monitor_unref(m->monitor);
}
