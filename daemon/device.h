/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * A bound massage device: what the database and the plugin say it can do, its state, and the
 * plugin's private data. The struct is the KneedDevice plugins see through plugin-api.c.
 */

#include <kneed/plugin.h>
#include <systemd/sd-event.h>

#include "device-db.h"
#include "hidraw.h"
#include "list.h"
#include "plugin-loader.h"
#include "usb.h"

typedef struct Manager Manager;
typedef struct Session Session;
typedef struct KneedDevice Device;

typedef enum DeviceState {
        DEVICE_IDLE,
        DEVICE_IDENTIFYING,
        DEVICE_RUNNING,
        DEVICE_FAULTED,
        DEVICE_STATE_MAX,
} DeviceState;

struct KneedTimer {
        Device *device;
        sd_event_source *source;
        KneedTimerFunc func;
        void *userdata;
        LIST_FIELDS(KneedTimer, timers);
};

struct KneedDevice {
        Manager *manager;
        char *id;   /* object path element */
        char *path; /* object path */
        char *name;
        const Plugin *plugin;
        char *match; /* the Match= entry that bound it, NULL for a runtime probe */
        KneedTransport transport;
        uint16_t vendor_id;
        uint16_t product_id;
        char *syspath;

        char **zones;
        unsigned levels;
        unsigned max_heat_celsius;
        bool keepalive_supported;
        char **keys; /* "KEY=VALUE" from the device file's [Plugin <id>] section */

        DeviceState state;
        bool probing;        /* capability setters are allowed only inside probe() */
        bool probed;         /* probe() succeeded, so remove() is owed */
        bool active;         /* the last command left motors or heater on */
        bool exported;       /* announced on the bus */
        bool output_valid;   /* output holds the last set_output(), no stop since */
        bool heat_blocked;   /* ran too hot: no heat until the session ends */
        KneedOutput output;  /* the last command delivered */
        double ramp_percent; /* the last level delivered, in percent, for the ramp limit */
        uint64_t ramp_usec;  /* and when */
        char *policy_key;    /* "vvvv:pppp" or "virtual:MODEL", for [Device ...] policy */
        KneedStatus status;
        char *fault; /* why the device is faulted */

        /* Plugin reports made from inside one of its hooks wait until the hook returns. */
        unsigned in_hook;
        int pending_fault_error;
        char *pending_fault;
        char *pending_stopped;
        bool pending_status; /* a status came in during a hook: check it afterwards */

        /* manager_stop_all() sent the stop already; device_stop() takes its result. */
        bool batch_stopped;
        int batch_stop_result;

        char *devnode;
        bool gone;      /* unplugged: nothing can reach it any more */
        Hidraw hidraw;  /* hidraw transport; fd -1 otherwise */
        UsbDevice *usb; /* usb transport; NULL otherwise */
        sd_event_source *vanish_source;
        KneedInputFunc input_func;
        void *input_userdata;

        void *userdata;
        KneedTimer *timers;
        sd_event_source *identify_source;
        sd_event_source *keepalive_source;
        sd_event_source *watchdog_source;
        Session *session;

        LIST_FIELDS(Device, devices);
};

const char *device_state_to_string(DeviceState s);

/* Creates an unbound device from a database entry (which it copies; info may go away later). */
int device_new(Manager *m, const char *id, const DeviceInfo *info, const DeviceMatch *match,
               const Plugin *plugin, Device **ret);
Device *device_free(Device *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(Device *, device_free);

/* Calls the plugin's probe(). Returns -ENODEV when the plugin declines. */
int device_probe(Device *d);

/*
 * Stops the device for reason (a short token such as "stop-all"): any session on it ends with
 * that reason, then the plugin's stop() turns everything off. Cancels identify, keeps the
 * device faulted if it was. Safe to call at any time; returns the plugin's result.
 */
int device_stop(Device *d, const char *reason);

/* Only the plugin's stop(), for a pause: the session, if any, stays attached. */
int device_send_stop(Device *d);

/*
 * Stops the device and marks it faulted with message; it refuses output until it goes away
 * (faulted is final for a device object: a replugged device is a new one).
 */
void device_fault(Device *d, int error, const char *message);

/*
 * The transport found the device gone (its node hung up, the kernel said ENODEV) before udev's
 * remove event: nothing is sent to it any more, failures are no longer faults, and on the next
 * loop iteration, outside whatever hook noticed, it is removed as unplugged.
 */
void device_vanished(Device *d);

/*
 * Brackets every call into a plugin hook. Reports the plugin makes inside the hook (faults,
 * stopping on its own) are applied by device_hook_end(), after the hook returned, so that the
 * daemon never re-enters a plugin. Returns -EIO if the plugin reported a fault during the hook,
 * -ECANCELED if it reported stopping on its own, 0 otherwise.
 */
void device_hook_begin(Device *d);
int device_hook_end(Device *d);

/* A short, low buzz so that a person can tell which device this is. -EBUSY during a session. */
int device_identify(Device *d);

/*
 * The output watchdog. Whoever drives a device's output says when it will act next; if that
 * time passes by DEVICE_WATCHDOG_GRACE_USEC with nothing new from it, the device is stopped.
 * It costs no wakeup of its own while everything keeps its schedule.
 */
#define DEVICE_WATCHDOG_GRACE_USEC (500 * UINT64_C(1000))
void device_expect_refresh(Device *d, uint64_t deadline);

/* Called by safety.c after the plugin accepted a command. */
void device_note_output(Device *d, const KneedOutput *output);

void device_set_state(Device *d, DeviceState state);

/* Whether the device lists zone. */
bool device_has_zone(const Device *d, const char *zone);
