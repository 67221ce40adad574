/* SPDX-License-Identifier: MIT */
#pragma once

#include <systemd/sd-bus.h>

#include "kneed-bus.h"

/*
 * Maps the errno values handlers return to kneed's error names, so that "return -EBUSY;" reaches
 * the client as org.kneed.Kneed1.Error.DeviceBusy. Errors that need a message naming what was
 * wrong are set with sd_bus_error_setf() and the name directly.
 */
extern const sd_bus_error_map kneed_error_map[];

int bus_errors_register(void);
