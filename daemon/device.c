/* SPDX-License-Identifier: MIT */

#include "device.h"
#include "bus-device.h"
#include "kneed-bus.h"
#include "log.h"
#include "manager.h"
#include "safety.h"
#include "session-limits.h"
#include "session.h"
#include "strv.h"
#include "time-util.h"

/* Identify is a short, low buzz: long enough to notice, short enough not to be a massage. */
#define IDENTIFY_USEC (400 * USEC_PER_MSEC)

static const char *const device_state_names[DEVICE_STATE_MAX] = {
        [DEVICE_IDLE] = "idle",
        [DEVICE_IDENTIFYING] = "identifying",
        [DEVICE_RUNNING] = "running",
        [DEVICE_FAULTED] = "faulted",
};

const char *device_state_to_string(DeviceState s)
{
        return s < DEVICE_STATE_MAX ? device_state_names[s] : NULL;
}

int device_new(Manager *m, const char *id, const DeviceInfo *info, const DeviceMatch *match,
               const Plugin *plugin, Device **ret)
{
        _cleanup_(device_freep) Device *d = NULL;
        int r;

        d = calloc(1, sizeof(Device));
        if (!d)
                return -ENOMEM;

        d->manager = m;
        d->plugin = plugin;
        d->transport = KNEED_TRANSPORT_VIRTUAL;
        d->status.temperature_decicelsius = KNEED_TEMPERATURE_UNKNOWN;
        d->status.contact = -1;
        d->hidraw.fd = -1;
        d->id = strdup(id);
        if (!d->id || asprintf(&d->path, "%s/%s", KNEED_DEVICE_PATH_PREFIX, id) < 0)
                return -ENOMEM;

        if (info) {
                d->name = strdup(info->name);
                d->zones = strv_copy(info->zones);
                d->keys = strv_copy(info->plugin_keys);
                if (!d->name || !d->zones || (info->plugin_keys && !d->keys))
                        return -ENOMEM;
                d->levels = info->levels;
                d->max_heat_celsius = info->max_heat_celsius;
                d->keepalive_supported = info->keepalive;
        }
        if (match) {
                d->match = strdup(match->string);
                if (!d->match)
                        return -ENOMEM;
                d->vendor_id = match->vendor_id;
                d->product_id = match->product_id;
        }
        /* The key of the device's [Device ...] section in the policy. */
        if (match && match->type == DEVICE_MATCH_VIRTUAL)
                r = asprintf(&d->policy_key, "virtual:%s", match->model);
        else
                r = asprintf(&d->policy_key, "%04x:%04x", d->vendor_id, d->product_id);
        if (r < 0)
                return -ENOMEM;

        *ret = TAKE_PTR(d);
        return 0;
}

Device *device_free(Device *d)
{
        if (!d)
                return NULL;

        if (d->probed && d->plugin->desc->remove)
                d->plugin->desc->remove(d);

        while (d->timers)
                kneed_timer_free(d->timers);
        sd_event_source_disable_unref(d->identify_source);
        sd_event_source_disable_unref(d->keepalive_source);
        sd_event_source_disable_unref(d->watchdog_source);
        sd_event_source_disable_unref(d->vanish_source);
        hidraw_close(&d->hidraw);
        usb_device_release(d->usb);

        free(d->id);
        free(d->path);
        free(d->name);
        free(d->match);
        free(d->policy_key);
        free(d->syspath);
        free(d->devnode);
        free(d->fault);
        free(d->pending_fault);
        free(d->pending_stopped);
        strv_free(d->zones);
        strv_free(d->keys);
        return mfree(d);
}

void device_set_state(Device *d, DeviceState state)
{
        /* Faulted is final: only a new device object (a replug) starts over. */
        if (d->state == state || d->state == DEVICE_FAULTED)
                return;
        log_debug("Device %s: %s -> %s", d->id, device_state_to_string(d->state),
                  device_state_to_string(state));
        d->state = state;
        bus_device_emit_changed(d, "State");
}

bool device_has_zone(const Device *d, const char *zone)
{
        return strv_contains(d->zones, zone);
}

void device_hook_begin(Device *d)
{
        d->in_hook++;
}

int device_hook_end(Device *d)
{
        _cleanup_free_ char *fault = NULL, *stopped = NULL;

        if (--d->in_hook > 0)
                return 0;

        fault = TAKE_PTR(d->pending_fault);
        stopped = TAKE_PTR(d->pending_stopped);
        if (fault) {
                device_fault(d, d->pending_fault_error, fault);
                return -EIO;
        }
        if (stopped) {
                log_warning("Device %s stopped on its own (%s)", d->id, stopped);
                (void) device_stop(d, stopped);
                return -ECANCELED;
        }
        if (d->pending_status) {
                d->pending_status = false;
                if (safety_check_temperature(d, &d->status) > 0 && d->state != DEVICE_RUNNING)
                        return -ECANCELED;
        }
        return 0;
}

/*
 * A device file is the most its devices may do: what a plugin reads from the firmware can
 * narrow it (fewer zones, a cooler heater) but never widen it. Devices no file matched have
 * only what their plugin says.
 */
static int bound_by_device_file(Device *d, char **file_zones, unsigned file_levels,
                                unsigned file_heat)
{
        char **kept = NULL;
        int r;

        STRV_FOREACH (z, d->zones) {
                if (!strv_contains(file_zones, *z)) {
                        log_notice("Device %s: the firmware offers the %s, which its device file "
                                   "doesn't list; not used",
                                   d->id, *z);
                        continue;
                }
                r = strv_extend(&kept, *z);
                if (r < 0) {
                        strv_free(kept);
                        return r;
                }
        }
        strv_free(d->zones);
        d->zones = kept;

        if (d->levels > file_levels) {
                log_notice("Device %s: the firmware offers %u levels, its device file %u; using %u",
                           d->id, d->levels, file_levels, file_levels);
                d->levels = file_levels;
        }
        if (d->max_heat_celsius > file_heat) {
                log_notice("Device %s: the firmware heats up to %u C, its device file allows %u C",
                           d->id, d->max_heat_celsius, file_heat);
                d->max_heat_celsius = file_heat;
        }
        return 0;
}

int device_probe(Device *d)
{
        _cleanup_strv_free_ char **file_zones = NULL;
        unsigned file_levels = d->levels, file_heat = d->max_heat_celsius;
        int r;

        if (d->zones) {
                file_zones = strv_copy(d->zones);
                if (!file_zones)
                        return -ENOMEM;
        }

        d->probing = true;
        device_hook_begin(d);
        r = d->plugin->desc->probe(d);
        (void) device_hook_end(d);
        d->probing = false;
        if (r < 0)
                return r;

        if (file_zones) {
                r = bound_by_device_file(d, file_zones, file_levels, file_heat);
                if (r < 0)
                        return r;
        }

        /* A plugin that refined the capabilities must leave them usable. */
        if (!d->zones || !d->zones[0] || d->levels == 0 || !d->name) {
                d->probed = true;
                return -EINVAL;
        }
        d->probed = true;
        return 0;
}

static int keepalive_handler(sd_event_source *s, uint64_t usec, void *userdata)
{
        Device *d = userdata;
        unsigned interval = manager_keepalive_ms(d->manager);
        int r;

        device_hook_begin(d);
        r = d->plugin->desc->keepalive(d);
        if (device_hook_end(d) < 0)
                return 0; /* the device faulted or stopped itself meanwhile */
        if (r < 0) {
                device_fault(d, r, "keepalive could not be delivered");
                return 0;
        }

        /* Three keepalives per firmware timeout, so one late wakeup never trips the dead-man. */
        r = sd_event_source_set_time_relative(s, interval * USEC_PER_MSEC / 3);
        if (r >= 0)
                r = sd_event_source_set_enabled(s, SD_EVENT_ON);
        if (r < 0) {
                log_error_errno(r, "Device %s: failed to re-arm keepalive, stopping: %m", d->id);
                (void) device_stop(d, "keepalive-failed");
        }
        return 0;
}

static void keepalive_update(Device *d)
{
        unsigned interval;
        int r;

        if (!d->active || !d->keepalive_supported || !d->plugin->desc->keepalive) {
                d->keepalive_source = sd_event_source_disable_unref(d->keepalive_source);
                return;
        }
        if (d->keepalive_source)
                return;

        interval = manager_keepalive_ms(d->manager);
        r = sd_event_add_time_relative(d->manager->event, &d->keepalive_source, CLOCK_MONOTONIC,
                                       interval * USEC_PER_MSEC / 3, USEC_PER_MSEC,
                                       keepalive_handler, d);
        if (r < 0) {
                /* Without keepalives the firmware would stop on its own anyway; say so. */
                log_warning_errno(r, "Device %s: failed to start keepalives, stopping: %m", d->id);
                (void) device_stop(d, "keepalive-failed");
        }
}

static int watchdog_expired(sd_event_source *s, uint64_t usec, void *userdata)
{
        Device *d = userdata;

        log_error("Device %s: its output was not refreshed on schedule (output watchdog), "
                  "stopping it",
                  d->id);
        (void) device_stop(d, "output-watchdog");
        return 0;
}

void device_expect_refresh(Device *d, uint64_t deadline)
{
        uint64_t when = deadline == UINT64_MAX ? UINT64_MAX : deadline + DEVICE_WATCHDOG_GRACE_USEC;
        int r;

        if (!d->active || when == UINT64_MAX) {
                if (d->watchdog_source)
                        (void) sd_event_source_set_enabled(d->watchdog_source, SD_EVENT_OFF);
                return;
        }
        if (!d->watchdog_source)
                r = sd_event_add_time(d->manager->event, &d->watchdog_source, CLOCK_MONOTONIC, when,
                                      USEC_PER_MSEC, watchdog_expired, d);
        else {
                r = sd_event_source_set_time(d->watchdog_source, when);
                if (r >= 0)
                        r = sd_event_source_set_enabled(d->watchdog_source, SD_EVENT_ONESHOT);
        }
        if (r < 0) {
                /* A device nothing watches must not run. */
                log_error_errno(r, "Device %s: cannot arm the output watchdog, stopping: %m",
                                d->id);
                (void) device_stop(d, "output-watchdog");
        }
}

void device_note_output(Device *d, const KneedOutput *output)
{
        d->output = *output;
        d->output_valid = true;
        d->active = output->level > 0 || output->heat_celsius > 0;
        keepalive_update(d);
}

int device_send_stop(Device *d)
{
        int r;

        d->identify_source = sd_event_source_disable_unref(d->identify_source);
        d->active = false;
        d->output_valid = false;
        d->output = (KneedOutput){};
        d->ramp_percent = 0;
        d->ramp_usec = now_usec(CLOCK_MONOTONIC);
        keepalive_update(d);
        if (d->watchdog_source)
                (void) sd_event_source_set_enabled(d->watchdog_source, SD_EVENT_OFF);

        /* Unplugged: nothing can reach the device, and nothing runs it any more either. */
        if (d->gone)
                return 0;

        /* A fault the plugin reports while stopping is applied; the stop itself still counts. */
        device_hook_begin(d);
        r = d->plugin->desc->stop(d);
        (void) device_hook_end(d);
        if (r < 0) {
                /* The motor may still be running: say so loudly, and never call it idle. */
                log_error_errno(r, "Device %s: the stop command failed, marking it faulted: %m",
                                d->id);
                if (!d->fault)
                        d->fault = strdup("the stop command failed");
                device_set_state(d, DEVICE_FAULTED);
                return r;
        }
        return 0;
}

int device_stop(Device *d, const char *reason)
{
        int r;

        /* A session on the device ends first; it comes back here without one. */
        if (d->session) {
                Session *s = d->session;
                session_end(s, reason);
                return s->device_stop_result;
        }

        if (d->batch_stopped) {
                d->batch_stopped = false;
                r = d->batch_stop_result;
        } else
                r = device_send_stop(d);
        if (r >= 0) {
                log_debug("Device %s: stopped (%s)", d->id, strna(reason));
                device_set_state(d, DEVICE_IDLE);
        }
        return r;
}

void device_fault(Device *d, int error, const char *message)
{
        /* Unplugged devices fail at everything; their removal ends the session. */
        if (d->gone) {
                log_debug_errno(error, "Device %s: %s (it is gone)", d->id, strna(message));
                return;
        }
        /* Once faulted it has been told to stop and takes nothing more. Stopping it again here
         * would loop when the stop itself fails (a stalled transfer reports a fault). */
        if (d->state == DEVICE_FAULTED) {
                log_debug_errno(error, "Device %s: %s (already faulted: %s)", d->id, strna(message),
                                strna(d->fault));
                return;
        }
        free(d->fault);
        d->fault = message ? strdup(message) : NULL;
        device_set_state(d, DEVICE_FAULTED);
        limits_lockout(d->manager, POLICY_LOCKOUT_FAULT, d);
        if (d->manager->shutting_down) {
                /* Every device was told to stop at exit: this is that stop failing. Another
                 * try would outlast the exit; the exit status says it instead. */
                log_error_errno(error, "Device %s: %s, its stop may not have arrived: %m", d->id,
                                strna(message));
                manager_note_exit_error(d->manager, error);
                return;
        }
        log_error_errno(error, "Device %s: %s, stopping it: %m", d->id, strna(message));
        (void) device_stop(d, "device-fault");
}

static int on_vanished(sd_event_source *s, void *userdata)
{
        Device *d = userdata;

        manager_remove_device(d->manager, d, "unplugged");
        return 0;
}

void device_vanished(Device *d)
{
        int r;

        if (d->gone)
                return;
        log_debug("Device %s: its node reports that it is gone", d->id);
        d->gone = true;
        if (d->transport == KNEED_TRANSPORT_HIDRAW)
                (void) hidraw_watch_input(d, &d->hidraw, false);
        r = sd_event_add_defer(d->manager->event, &d->vanish_source, on_vanished, d);
        if (r < 0)
                /* udev's remove event will still come and remove it. */
                log_warning_errno(r, "Device %s: failed to schedule its removal: %m", d->id);
}

static int identify_done(sd_event_source *s, uint64_t usec, void *userdata)
{
        Device *d = userdata;

        d->identify_source = sd_event_source_disable_unref(d->identify_source);
        (void) device_stop(d, "identify");
        return 0;
}

int device_identify(Device *d)
{
        OutputRequest req;
        int r;

        if (d->state == DEVICE_FAULTED)
                return -EIO;
        if (d->session || d->state == DEVICE_RUNNING)
                return -EBUSY;

        req = (OutputRequest){
                .zone = d->zones[0],
                .pattern = KNEED_PATTERN_CONTINUOUS,
                .intensity = safety_lowest_intensity(d),
        };
        r = safety_output(d, &req, NULL, NULL);
        if (r < 0)
                return r;
        if (d->state == DEVICE_FAULTED)
                return -EIO;

        d->identify_source = sd_event_source_disable_unref(d->identify_source);
        r = sd_event_add_time_relative(d->manager->event, &d->identify_source, CLOCK_MONOTONIC,
                                       IDENTIFY_USEC, USEC_PER_MSEC, identify_done, d);
        if (r < 0) {
                (void) device_send_stop(d);
                return r;
        }
        device_expect_refresh(d, now_usec(CLOCK_MONOTONIC) + IDENTIFY_USEC);
        device_set_state(d, DEVICE_IDENTIFYING);
        return 0;
}
