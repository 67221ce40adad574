/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Authorization with polkit, asynchronously and without libpolkit, the way systemd does it: the
 * first time a method handler asks, CheckAuthorization goes out and the handler returns without
 * a reply; when polkit answers, the same method call is queued again, the handler runs again
 * from the start, and this time gets the answer. Nothing a handler does before asking may have
 * side effects.
 */

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "list.h"

#define KNEED_ACTION_START_ROUTINE "org.kneed.Kneed1.start-routine"
#define KNEED_ACTION_MANAGE "org.kneed.Kneed1.manage"

typedef struct PolkitQuery PolkitQuery;

typedef struct PolkitRegistry {
        sd_bus *bus;
        bool enabled; /* false: the bus's own access control is all there is */
        PolkitQuery *queries;
} PolkitRegistry;

void polkit_registry_init(PolkitRegistry *reg, sd_bus *bus, bool enabled);
/* Cancels what is pending; the calls waiting for it get no reply (the daemon is going). */
void polkit_registry_done(PolkitRegistry *reg);

/*
 * Is the sender of message allowed action? Returns 1: yes, go on. 0: asked polkit, return 1 from
 * the method handler without replying; it runs again with the answer. < 0: no, with error set
 * (Error.NotAuthorized, or org.freedesktop.DBus.Error.InteractiveAuthorizationRequired when the
 * caller could be asked to authenticate but didn't allow it).
 */
int polkit_check(PolkitRegistry *reg, sd_bus_message *message, const char *action,
                 sd_bus_error *error);
