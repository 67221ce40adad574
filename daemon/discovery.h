/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Finding hardware: sd-device enumeration at start, then sd_device_monitor for hotplug, on the
 * usb and hidraw subsystems. A device the database names is bound to its plugin; an unmatched
 * hidraw device is offered to every plugin, which may claim a standard device class.
 */

typedef struct Manager Manager;

int discovery_start(Manager *m);
/* Looks at every device there is now and binds what isn't bound yet (the idle exit asks). */
int discovery_enumerate(Manager *m);
void discovery_stop(Manager *m);
