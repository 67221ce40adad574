/* SPDX-License-Identifier: MIT */
#pragma once

typedef struct Manager Manager;
typedef struct KneedDevice Device;

/* Registers the fallback vtable and node enumerator for /org/kneed/Kneed1/device/<id>. */
int bus_device_register(Manager *m);

void bus_device_emit_added(Device *d);
void bus_device_emit_removed(Device *d);
void bus_device_emit_changed(Device *d, const char *property);
