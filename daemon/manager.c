/* SPDX-License-Identifier: MIT */

#include <signal.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>

#include "bus-device.h"
#include "bus-errors.h"
#include "bus-manager.h"
#include "bus-session.h"
#include "config.h"
#include "discovery.h"
#include "kneed-bus.h"
#include "log.h"
#include "manager.h"
#include "session-limits.h"
#include "strv.h"
#include "time-util.h"

int manager_new(const Options *options, Manager **ret)
{
        _cleanup_(manager_freep) Manager *m = NULL;
        int r;

        m = calloc(1, sizeof(Manager));
        if (!m)
                return -ENOMEM;
        m->options = options;

        r = sd_event_default(&m->event);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(m);
        return 0;
}

Manager *manager_free(Manager *m)
{
        Device *d, *n;

        if (!m)
                return NULL;

        discovery_stop(m);

        /* Whatever path got us here (a startup failure, say), no device is left running. */
        LIST_FOREACH_SAFE (devices, d, n, m->devices) {
                if (!m->shutting_down)
                        (void) device_stop(d, "shutdown");
                LIST_REMOVE(devices, m->devices, d);
                device_free(d);
        }

        while (m->sessions) {
                Session *s = m->sessions;
                LIST_REMOVE(sessions, m->sessions, s);
                session_free(s);
        }

        /* Devices first: their remove() hooks live in the plugin modules. */
        plugin_set_clear(&m->plugins);
        m->usb = usb_context_free(m->usb);
        strv_free(m->refused_devices);
        sd_event_source_disable_unref(m->exit_deadline);
        sd_event_source_disable_unref(m->idle_source);
        device_db_clear(&m->devdb);
        routine_set_clear(&m->routines);
        policy_done(&m->policy);
        free(m->policy_error);
        limits_close(m);

        polkit_registry_done(&m->polkit);
        sd_bus_flush_close_unref(m->bus);
        sd_event_unref(m->event);
        return mfree(m);
}

unsigned manager_keepalive_ms(const Manager *m)
{
        return m->policy.keepalive_ms;
}

/*
 * Loads the policy file. At start an invalid file leaves the daemon running with every session
 * refused (fail closed); on reload it leaves the last good policy in force. Either way the
 * error is kept for Manager.PolicyError.
 */
static int load_policy(Manager *m, bool reload)
{
        _cleanup_free_ char *error = NULL;
        const char *path = m->options->config_path;
        Policy p;
        int r;

        r = policy_load(path, &p, &error);
        if (r == -ENOENT) {
                log_info("No policy file at %s, using the built-in defaults", path);
                policy_init_defaults(&p);
                r = 0;
        }
        if (r < 0) {
                free(m->policy_error);
                m->policy_error = error ? TAKE_PTR(error) : strdup(strerror(-r));
                if (reload && m->policy_valid)
                        log_event(LOG_ERR, 0, 0, NULL, "policy-invalid",
                                  "Invalid policy, keeping the last good one: %s", m->policy_error);
                else
                        log_event(LOG_ERR, 0, 0, NULL, "policy-invalid",
                                  "Invalid policy, refusing every session until it is fixed: %s",
                                  m->policy_error);
                bus_manager_emit_changed(m, "PolicyError");
                return r;
        }

        policy_done(&m->policy);
        m->policy = p;
        m->policy_valid = true;
        m->policy_error = mfree(m->policy_error);
        log_event(LOG_INFO, 0, 0, NULL, reload ? "policy-reload" : "policy-load",
                  "Policy loaded: intensity <= %u%%, %u min sessions, %u a day, %u min rest, heat "
                  "<= %u C",
                  m->policy.max_intensity, m->policy.max_session_minutes,
                  m->policy.max_sessions_per_day, m->policy.min_rest_minutes,
                  m->policy.max_heat_celsius);
        return 0;
}

Device *manager_find_device_by_syspath(Manager *m, const char *syspath)
{
        Device *d;

        LIST_FOREACH (devices, d, m->devices)
                if (streq_ptr(d->syspath, syspath))
                        return d;
        return NULL;
}

static int on_exit_deadline(sd_event_source *s, uint64_t usec, void *userdata)
{
        Manager *m = userdata;

        log_error("USB devices did not confirm their stop within %u seconds, exiting anyway",
                  MANAGER_EXIT_WAIT_SEC);
        return sd_event_exit(m->event, m->exit_code < 0 ? m->exit_code : -ETIMEDOUT);
}

void manager_note_exit_error(Manager *m, int error)
{
        if (m->exit_code >= 0)
                m->exit_code = error < 0 ? error : -EIO;
}

void manager_usb_drained(void *userdata)
{
        Manager *m = userdata;

        if (m->exit_deadline)
                (void) sd_event_exit(m->event, m->exit_code);
}

void manager_exit(Manager *m, int code)
{
        int r;

        m->exit_code = code;
        if (!m->usb || m->usb->n_pending == 0) {
                (void) sd_event_exit(m->event, code);
                return;
        }
        /* Stop commands to USB devices are asynchronous: let them go out first. */
        r = sd_event_add_time_relative(m->event, &m->exit_deadline, CLOCK_MONOTONIC,
                                       MANAGER_EXIT_WAIT_SEC * USEC_PER_SEC, USEC_PER_MSEC,
                                       on_exit_deadline, m);
        if (r < 0)
                (void) sd_event_exit(m->event, code);
}

Device *manager_find_device(Manager *m, const char *id)
{
        Device *d;

        LIST_FOREACH (devices, d, m->devices)
                if (streq(d->id, id))
                        return d;
        return NULL;
}

int manager_add_device(Manager *m, Device *d)
{
        LIST_APPEND(devices, m->devices, d);
        m->n_devices++;

        /* A device may have been left running by a crashed daemon: stop before anything else. */
        (void) device_stop(d, "bind");

        log_info("Device %s: %s (plugin %s) ready", d->id, d->name, d->plugin->id);
        bus_device_emit_added(d);
        bus_manager_emit_changed(m, "Devices");
        manager_update_idle(m);
        return 0;
}

void manager_remove_device(Manager *m, Device *d, const char *reason)
{
        (void) device_stop(d, reason);
        bus_device_emit_removed(d);
        LIST_REMOVE(devices, m->devices, d);
        m->n_devices--;
        bus_manager_emit_changed(m, "Devices");
        log_info("Device %s removed (%s)", d->id, reason);
        device_free(d);
        manager_update_idle(m);
}

int manager_stop_all(Manager *m, const char *reason)
{
        Device *d;
        int ret = 0;

        /* Every motor first, then each session's bookkeeping (a ledger record written with
         * fdatasync(), signals): the last device must not wait for the others' paperwork. */
        LIST_FOREACH (devices, d, m->devices) {
                d->batch_stop_result = device_send_stop(d);
                d->batch_stopped = true;
        }
        LIST_FOREACH (devices, d, m->devices) {
                int r = device_stop(d, reason);
                d->batch_stopped = false;
                if (r < 0 && ret == 0)
                        ret = r;
        }
        return ret;
}

static int load_plugins(Manager *m)
{
        int r;

        r = plugin_set_add_dir(&m->plugins, m->options->plugin_dir);
        if (r < 0)
                return log_warning_errno(
                        r, "Failed to read plugin directory %s, no plugins loaded: %m",
                        m->options->plugin_dir);
        log_debug("Found %d plugin(s) in %s", r, m->options->plugin_dir);
        return 0;
}

static int load_device_db(Manager *m)
{
        _cleanup_free_ char *dir = NULL;
        _cleanup_strv_free_ char **errors = NULL;
        int r;

        if (asprintf(&dir, "%s/devices", m->options->data_dir) < 0)
                return log_oom();

        r = device_db_load_dir(&m->devdb, dir, &errors);
        STRV_FOREACH (e, errors)
                log_warning("Ignoring device file: %s", *e);
        if (r < 0)
                return log_warning_errno(r, "Failed to read device database %s, ignoring: %m", dir);
        log_debug("Loaded %d device file(s) from %s", r, dir);
        return 0;
}

static int on_idle(sd_event_source *s, uint64_t usec, void *userdata)
{
        Manager *m = userdata;
        int r;

        /* A device plugged in just now may not have reached us yet, and udev won't start a
         * kneed that is still running for it: look once more before going. */
        if (!m->options->no_hardware)
                (void) discovery_enumerate(m);
        if (m->n_devices > 0)
                return 0;

        log_info("No devices and no sessions for %" PRIu64 " s, exiting; D-Bus activation and "
                 "udev start kneed again",
                 m->options->exit_idle_usec / USEC_PER_SEC);
        /* Give the name up first, so that calls from now on wait for the next kneed, then
         * answer the ones already here. */
        r = sd_bus_release_name(m->bus, KNEED_BUS_NAME);
        if (r < 0)
                log_warning_errno(r, "Failed to release the bus name, exiting anyway: %m");
        while (sd_bus_process(m->bus, NULL) > 0)
                ;
        manager_exit(m, 0);
        return 0;
}

void manager_update_idle(Manager *m)
{
        bool idle = m->n_devices == 0 && !m->sessions && !m->shutting_down;
        int r;

        if (m->options->exit_idle_usec == 0 || !m->bus)
                return;
        if (!idle) {
                if (m->idle_source)
                        (void) sd_event_source_set_enabled(m->idle_source, SD_EVENT_OFF);
                return;
        }
        /* Already counting down: an idle daemon stays on its first deadline. */
        if (m->idle_source && sd_event_source_get_enabled(m->idle_source, NULL) > 0)
                return;
        if (m->idle_source) {
                r = sd_event_source_set_time_relative(m->idle_source, m->options->exit_idle_usec);
                if (r >= 0)
                        r = sd_event_source_set_enabled(m->idle_source, SD_EVENT_ONESHOT);
        } else
                r = sd_event_add_time_relative(m->event, &m->idle_source, CLOCK_MONOTONIC,
                                               m->options->exit_idle_usec, USEC_PER_SEC, on_idle,
                                               m);
        if (r < 0)
                log_warning_errno(r, "Failed to arm the idle timer, staying: %m");
}

void manager_add_session(Manager *m, Session *s)
{
        unsigned finished = 0;
        Session *i, *n;

        LIST_APPEND(sessions, m->sessions, s);
        bus_session_emit_added(s);
        manager_update_idle(m);

        /* Bound the memory finished sessions take, whatever their linger time. */
        LIST_FOREACH (sessions, i, m->sessions)
                finished += session_state_is_finished(i->state);
        LIST_FOREACH_SAFE (sessions, i, n, m->sessions) {
                if (finished <= SESSIONS_FINISHED_MAX)
                        break;
                if (session_state_is_finished(i->state)) {
                        manager_remove_session(m, i);
                        finished--;
                }
        }
}

void manager_remove_session(Manager *m, Session *s)
{
        bus_session_emit_removed(s);
        LIST_REMOVE(sessions, m->sessions, s);
        session_free(s);
        manager_update_idle(m);
}

Session *manager_find_session(Manager *m, unsigned id)
{
        Session *s;

        LIST_FOREACH (sessions, s, m->sessions)
                if (s->id == id)
                        return s;
        return NULL;
}

static int load_routine_dir(RoutineSet *set, const char *dir, bool must_exist)
{
        _cleanup_strv_free_ char **errors = NULL;
        int r;

        r = routine_set_load_dir(set, dir, &errors);
        STRV_FOREACH (e, errors)
                log_warning("Ignoring routine: %s", *e);
        if (r == -ENOENT && !must_exist) {
                log_debug("No local routines in %s", dir);
                return 0;
        }
        if (r < 0)
                return log_warning_errno(r, "Failed to read routines from %s, ignoring: %m", dir);
        log_debug("Loaded %d routine(s) from %s", r, dir);
        return 0;
}

static void load_routines(Manager *m)
{
        _cleanup_free_ char *dir = NULL;

        if (asprintf(&dir, "%s/routines", m->options->data_dir) < 0) {
                log_oom();
                return;
        }
        /* Presets first: a local file can add routines but not replace a preset's Id. */
        (void) load_routine_dir(&m->routines, dir, true);
        (void) load_routine_dir(&m->routines, m->options->extra_routine_dir, false);
        log_info("%zu routine(s) available", m->routines.n_routines);
}

static int add_virtual_device(Manager *m, const char *model)
{
        _cleanup_(device_freep) Device *d = NULL;
        _cleanup_free_ char *id = NULL;
        const DeviceMatch *match;
        const DeviceInfo *info;
        Plugin *plugin;
        int r;

        info = device_db_find(&m->devdb, DEVICE_MATCH_VIRTUAL, 0, 0, model, &match);
        if (!info)
                return log_error_errno(-ENOENT,
                                       "Unknown virtual device model '%s': no device file in "
                                       "%s/devices has Match=virtual:%s",
                                       model, m->options->data_dir, model);
        plugin = plugin_set_find(&m->plugins, info->plugin);
        if (!plugin)
                return log_error_errno(
                        -ENOENT, "Virtual device model '%s' needs plugin '%s', which is not in %s",
                        model, info->plugin, m->options->plugin_dir);
        r = plugin_open(plugin);
        if (r < 0)
                return r;

        if (asprintf(&id, "virtual%u", m->n_virtual++) < 0)
                return log_oom();

        r = device_new(m, id, info, match, plugin, &d);
        if (r < 0)
                return log_error_errno(r, "Failed to create virtual device %s: %m", id);
        d->transport = KNEED_TRANSPORT_VIRTUAL;

        if (m->options->virtual_trace) {
                char *kv;

                if (asprintf(&kv, "Trace=%s", m->options->virtual_trace) < 0 ||
                    strv_consume(&d->keys, kv) < 0)
                        return log_oom();
        }

        r = device_probe(d);
        if (r < 0)
                return log_error_errno(r, "Plugin '%s' refused virtual device %s: %m", info->plugin,
                                       id);

        return manager_add_device(m, TAKE_PTR(d));
}

static int add_virtual_devices(Manager *m)
{
        int r;

        STRV_FOREACH (model, m->options->virtual_models) {
                r = add_virtual_device(m, *model);
                if (r < 0)
                        return r;
        }
        return 0;
}

int manager_reload(Manager *m)
{
        DeviceDatabase old_db = m->devdb;
        RoutineSet old_routines = m->routines;
        Session *s;
        Device *d;

        log_info("Reloading configuration");

        if (load_policy(m, true) >= 0) {
                /* A tighter limit applies to what is running now, not at its next step. */
                LIST_FOREACH (sessions, s, m->sessions)
                        session_refresh(s);
                bus_manager_emit_changed(m, "Limits");
                bus_manager_emit_changed(m, "PolicyError");
                LIST_FOREACH (devices, d, m->devices)
                        bus_device_emit_changed(d, "MaxIntensity");
        }

        /* Bound devices keep their copies of their entries; the new database serves new ones. */
        m->devdb = (DeviceDatabase){};
        (void) load_device_db(m);
        device_db_clear(&old_db);

        /* Running sessions hold a reference to their routine, so it outlives the old set. */
        m->routines = (RoutineSet){};
        load_routines(m);
        routine_set_clear(&old_routines);
        return 0;
}

static int on_shutdown_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        Manager *m = userdata;

        int r;

        log_info("Received %s, stopping every device and exiting", strsignal((int) si->ssi_signo));
        m->shutting_down = true;
        (void) sd_notify(false, "STOPPING=1");
        r = manager_stop_all(m, "shutdown");
        if (r < 0)
                log_error_errno(r, "Not every device confirmed the stop: %m");
        manager_exit(m, r < 0 ? r : 0);
        return 0;
}

static int on_reload_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        Manager *m = userdata;

        (void) sd_notify(false, "RELOADING=1");
        (void) manager_reload(m);
        (void) sd_notify(false, "READY=1");
        return 0;
}

static int on_bus_disconnected(sd_bus_message *message, void *userdata, sd_bus_error *error)
{
        Manager *m = userdata;

        /* Without the bus nobody can stop a session: stop everything and let systemd restart us. */
        log_error("Lost the bus connection, stopping every device and exiting");
        m->shutting_down = true;
        (void) manager_stop_all(m, "bus-disconnected");
        manager_exit(m, -ECONNRESET);
        return 0;
}

static int setup_signals(Manager *m)
{
        sigset_t mask;
        int r;

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_error_errno(negative_errno(), "Failed to block signals: %m");

        r = sd_event_add_signal(m->event, NULL, SIGTERM, on_shutdown_signal, m);
        if (r >= 0)
                r = sd_event_add_signal(m->event, NULL, SIGINT, on_shutdown_signal, m);
        if (r >= 0)
                r = sd_event_add_signal(m->event, NULL, SIGHUP, on_reload_signal, m);
        if (r < 0)
                return log_error_errno(r, "Failed to install signal handlers: %m");

        /* Sends WATCHDOG=1 on its own when systemd asks for it (WatchdogSec=). */
        r = sd_event_set_watchdog(m->event, true);
        if (r < 0)
                return log_error_errno(r, "Failed to enable the watchdog: %m");
        return 0;
}

static const char *bus_description(const Manager *m)
{
        switch (m->options->bus_kind) {
        case BUS_KIND_SESSION:
                return "the session bus";
        case BUS_KIND_ADDRESS:
                return m->options->bus_address;
        case BUS_KIND_SYSTEM:
        default:
                return "the system bus";
        }
}

static int open_bus(Manager *m, sd_bus **ret)
{
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        switch (m->options->bus_kind) {
        case BUS_KIND_SESSION:
                r = sd_bus_open_user(&bus);
                break;
        case BUS_KIND_ADDRESS:
                r = sd_bus_new(&bus);
                if (r >= 0)
                        r = sd_bus_set_address(bus, m->options->bus_address);
                if (r >= 0)
                        r = sd_bus_set_bus_client(bus, true);
                if (r >= 0)
                        r = sd_bus_start(bus);
                break;
        case BUS_KIND_SYSTEM:
        default:
                r = sd_bus_open_system(&bus);
                break;
        }
        if (r < 0)
                return log_error_errno(r, "Failed to connect to %s: %m", bus_description(m));
        *ret = TAKE_PTR(bus);
        return 0;
}

static int attach_bus(Manager *m, sd_bus *bus)
{
        int r;

        r = sd_bus_attach_event(bus, m->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "Failed to attach the bus to the event loop: %m");

        r = sd_bus_match_signal(bus, NULL, NULL, "/org/freedesktop/DBus/Local",
                                "org.freedesktop.DBus.Local", "Disconnected", on_bus_disconnected,
                                m);
        if (r < 0)
                return log_error_errno(r, "Failed to watch for bus disconnection: %m");

        m->bus = sd_bus_ref(bus);
        /* polkit on the system bus; on others the bus's own access control is the rule. */
        polkit_registry_init(&m->polkit, m->bus,
                             m->options->polkit == POLKIT_YES ||
                                     (m->options->polkit == POLKIT_AUTO &&
                                      m->options->bus_kind == BUS_KIND_SYSTEM));
        return 0;
}

static int request_name(Manager *m)
{
        int r;

        r = sd_bus_request_name(m->bus, KNEED_BUS_NAME, 0);
        if (r == -EEXIST)
                return log_error_errno(
                        r, "The bus name %s is already owned on %s: is another kneed running?",
                        KNEED_BUS_NAME, bus_description(m));
        if (r < 0)
                return log_error_errno(r, "Failed to acquire the bus name %s on %s: %m",
                                       KNEED_BUS_NAME, bus_description(m));
        return 0;
}

void manager_load(Manager *m)
{
        /* The defaults are in force until a policy file says otherwise; a broken file at start
         * clears policy_valid, and every session is refused. */
        policy_init_defaults(&m->policy);
        if (load_policy(m, false) < 0)
                m->policy_valid = false;
        (void) limits_open(m);

        (void) load_plugins(m);
        (void) load_device_db(m);
        load_routines(m);
}

int manager_serve(Manager *m, sd_bus *bus)
{
        int r;

        r = bus_errors_register();
        if (r < 0)
                return log_error_errno(r, "Failed to register the D-Bus error map: %m");

        r = attach_bus(m, bus);
        if (r < 0)
                return r;

        r = bus_manager_register(m);
        if (r >= 0)
                r = bus_device_register(m);
        if (r >= 0)
                r = bus_session_register(m);
        if (r < 0)
                return log_error_errno(r, "Failed to register D-Bus objects: %m");

        r = add_virtual_devices(m);
        if (r < 0)
                return r;

        /* Hardware: what is plugged in now, and what comes later. */
        if (!m->options->no_hardware) {
                r = discovery_start(m);
                if (r < 0)
                        return r;
        }
        m->announcing = true;
        return 0;
}

int manager_startup(Manager *m)
{
        /* Only a reference: manager_serve() takes its own, and closing it would end the
         * connection under the manager. */
        _cleanup_(sd_bus_unrefp) sd_bus *bus = NULL;
        int r;

        r = setup_signals(m);
        if (r < 0)
                return r;

        manager_load(m);

        r = open_bus(m, &bus);
        if (r < 0)
                return r;

        r = manager_serve(m, bus);
        if (r < 0)
                return r;

        /* The name comes last: once clients see it, everything above is ready. */
        r = request_name(m);
        if (r < 0)
                return r;

        log_info("kneed %s serving %s with %u device(s)", KNEED_VERSION, bus_description(m),
                 m->n_devices);
        manager_update_idle(m);
        (void) sd_notifyf(false, "READY=1\nSTATUS=Serving %u device(s)", m->n_devices);
        return 0;
}
