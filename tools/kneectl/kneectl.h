/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "json-writer.h"
#include "strv.h"

typedef struct Kneectl {
        sd_bus *bus;
        const char *bus_description; /* "the system bus", for messages */
        bool json;
        JsonWriter out;
} Kneectl;

/* What kneectl knows about one device, from its D-Bus properties. */
typedef struct DeviceView {
        char *path;
        char *id;
        char *name;
        char *plugin;
        char *transport;
        char **zones;
        unsigned levels;
        bool has_heat;
        char *state;
} DeviceView;

void device_view_clear(DeviceView *d);
void device_views_free(DeviceView *views, size_t n);

/* Reads every device through ObjectManager.GetManagedObjects. */
int kneectl_get_devices(Kneectl *k, DeviceView **ret, size_t *ret_n);

/*
 * Turns a failed call into a one-line message on stderr and returns a negative errno. Knows the
 * errors that mean "kneed isn't running" and says so.
 */
int kneectl_error(Kneectl *k, const char *what, int r, const sd_bus_error *error);

/* Accepts a device id ("virtual0") or object path; writes the object path. */
int kneectl_device_path(const char *arg, char **ret);

int verb_devices(Kneectl *k, int argc, char *argv[]);
int verb_status(Kneectl *k, int argc, char *argv[]);
int verb_stop(Kneectl *k, int argc, char *argv[]);
