/* SPDX-License-Identifier: MIT */
#pragma once

#include <systemd/sd-bus.h>

#include "kneed-bus.h"

/*
 * kneed's error names with an errno each. libsystemd uses such a map in one direction only:
 * from a name to an errno (sd_bus_error_get_errno() in a client, or a handler's error logged
 * by the daemon). It does not turn a handler's "return -EBUSY" into DeviceBusy: that becomes
 * System.Error.EBUSY. So every handler sets kneed's errors explicitly, with
 * sd_bus_error_setf(error, KNEED_ERROR_..., "message naming what was wrong"); a bare negative
 * errno is left for the unexpected, where the standard names are right.
 */
extern const sd_bus_error_map kneed_error_map[];

int bus_errors_register(void);
