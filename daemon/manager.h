/* SPDX-License-Identifier: MIT */
#pragma once

/* The daemon's one context: the loop, the bus, plugins, the device database and devices. */

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "bus-polkit.h"
#include "device-db.h"
#include "device.h"
#include "options.h"
#include "plugin-loader.h"
#include "policy.h"
#include "routine-set.h"
#include "session.h"
#include "usb.h"

/* Finished sessions kept readable at most; the oldest go first beyond this. */
#define SESSIONS_FINISHED_MAX 32u

/* How long the exit waits for stop transfers to USB devices: longer than a plugin's transfer
 * timeout, so a device that doesn't answer is known as such rather than cut short. */
#define MANAGER_EXIT_WAIT_SEC 2u

struct Manager {
        const Options *options; /* borrowed from run() */
        sd_event *event;
        sd_bus *bus;
        PolkitRegistry polkit;

        PluginSet plugins;
        DeviceDatabase devdb;

        Device *devices;
        unsigned n_devices;
        struct sd_device_monitor *monitor;
        UsbContext *usb;        /* created when the first USB device is bound */
        char **refused_devices; /* syspaths already reported as unusable */
        int exit_code;          /* set when exiting waits for USB transfers to drain */
        sd_event_source *exit_deadline;
        sd_event_source *idle_source; /* --exit-idle-time: no devices, no sessions */
        unsigned n_virtual;           /* counter for virtual device ids */

        Policy policy;      /* the effective policy: the last good one, or the defaults */
        bool policy_valid;  /* false: the file was invalid at start, every session refused */
        char *policy_error; /* why the last load failed, NULL when it succeeded */

        struct Ledger *ledger; /* NULL when unavailable: limits fail closed */
        char *ledger_error;

        RoutineSet routines;
        Session *sessions; /* running, paused and recently finished, oldest first */
        unsigned last_session_id;

        /* Set once manager_serve() has bound what was there at start. Until then no signals:
         * nobody can be watching before the name is owned, and clients read GetManagedObjects
         * when it appears. */
        bool announcing;
        bool shutting_down;
};

int manager_new(const Options *options, Manager **ret);
Manager *manager_free(Manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);

/*
 * Everything up to serving: signals, manager_load(), the bus, manager_serve(), and finally the
 * bus name. Logs what failed.
 */
int manager_startup(Manager *m);
/* The configuration: policy, ledger, plugins, device database and routines. Never fails for a
 * bad file: what is wrong is logged and kept for the bus (PolicyError, refusals). */
void manager_load(Manager *m);
/*
 * Serves the D-Bus objects on bus (taking a reference) and binds the devices, each sent stop
 * right after it is bound. manager_startup() brings the bus; the bus fuzzer brings a
 * peer-to-peer one.
 */
int manager_serve(Manager *m, sd_bus *bus);

/* Adds a probed device, tells it to stop, and announces it on the bus. Takes ownership. */
int manager_add_device(Manager *m, Device *d);
/* Stops the device, withdraws it from the bus and frees it. */
void manager_remove_device(Manager *m, Device *d, const char *reason);
Device *manager_find_device(Manager *m, const char *id);
Device *manager_find_device_by_syspath(Manager *m, const char *syspath);

/* Ends the loop with code, once the stop commands in flight to USB devices have gone out. */
void manager_exit(Manager *m, int code);
/* libusb's last transfer in flight completed. */
void manager_usb_drained(void *userdata);
/* Starts or stops counting down to the idle exit, as devices and sessions come and go. */
void manager_update_idle(Manager *m);
/* A stop sent at exit failed: the exit status becomes an error, if it isn't one already. */
void manager_note_exit_error(Manager *m, int error);

/* Sends stop to every device. Returns the first error, after trying them all. */
int manager_stop_all(Manager *m, const char *reason);

void manager_add_session(Manager *m, Session *s);
/* Withdraws the session from the bus and frees it. */
void manager_remove_session(Manager *m, Session *s);
Session *manager_find_session(Manager *m, unsigned id);

/*
 * Re-reads configuration: the policy, routines and the device database (SIGHUP,
 * Manager.Reload()). An invalid policy leaves the last good one in force and is reported in
 * PolicyError; a valid one that tightens a limit applies to running sessions at once.
 */
int manager_reload(Manager *m);

unsigned manager_keepalive_ms(const Manager *m);
