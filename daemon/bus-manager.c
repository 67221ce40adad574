/* SPDX-License-Identifier: MIT */

/* org.kneed.Kneed1.Manager at /org/kneed/Kneed1. */

#include "bus-manager.h"
#include "config.h"
#include "kneed-bus.h"
#include "ledger.h"
#include "log.h"
#include "manager.h"
#include "pattern.h"
#include "session-limits.h"
#include "strv.h"

void bus_manager_emit_changed(Manager *m, const char *property)
{
        int r;

        if (!m->bus || !m->announcing || m->shutting_down)
                return;
        r = sd_bus_emit_properties_changed(m->bus, KNEED_MANAGER_PATH, KNEED_MANAGER_INTERFACE,
                                           property, NULL);
        if (r < 0)
                log_debug_errno(r, "Failed to emit Manager.%s change, ignoring: %m", property);
}

static int append_device_paths(sd_bus_message *reply, Manager *m)
{
        Device *d;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "o");
        if (r < 0)
                return r;
        LIST_FOREACH (devices, d, m->devices) {
                r = sd_bus_message_append(reply, "o", d->path);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

static int property_get_version(sd_bus *bus, const char *path, const char *interface,
                                const char *property, sd_bus_message *reply, void *userdata,
                                sd_bus_error *error)
{
        return sd_bus_message_append(reply, "s", KNEED_VERSION);
}

static int property_get_devices(sd_bus *bus, const char *path, const char *interface,
                                const char *property, sd_bus_message *reply, void *userdata,
                                sd_bus_error *error)
{
        return append_device_paths(reply, userdata);
}

static int append_zone_list(sd_bus_message *reply, const bool set[ZONE_MAX])
{
        int r = sd_bus_message_open_container(reply, 'a', "s");
        for (int z = 0; r >= 0 && z < ZONE_MAX; z++)
                if (set[z])
                        r = sd_bus_message_append(reply, "s", zone_to_string(z));
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

static int append_screening_list(sd_bus_message *reply, const Policy *p, ScreeningAction a)
{
        int r = sd_bus_message_open_container(reply, 'a', "s");
        for (int s = 0; r >= 0 && s < SCREENING_MAX; s++)
                if (p->screening[s] == a)
                        r = sd_bus_message_append(reply, "s", screening_to_string(s));
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

static int property_get_limits(sd_bus *bus, const char *path, const char *interface,
                               const char *property, sd_bus_message *reply, void *userdata,
                               sd_bus_error *error)
{
        Manager *m = userdata;
        const Policy *p = &m->policy;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r < 0)
                return r;
        r = sd_bus_message_append(
                reply, "{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}",
                "MaxIntensity", "u", p->max_intensity, "MaxSessionMinutes", "u",
                p->max_session_minutes, "MaxSessionsPerDay", "u", p->max_sessions_per_day,
                "MinRestMinutes", "u", p->min_rest_minutes, "MaxZoneMinutes", "u",
                p->max_zone_minutes, "MaxRampPercentPerSecond", "d", p->max_ramp_percent_per_second,
                "StartIntensityMax", "u", p->start_intensity_max, "MaxHeatCelsius", "u",
                p->max_heat_celsius, "KeepaliveMs", "u", p->keepalive_ms, "ScreeningRequired", "b",
                (int) p->screening_required, "LoweredMaxIntensity", "u", p->lowered_max_intensity,
                "LoweredMaxHeatCelsius", "u", p->lowered_max_heat_celsius, "PainLockoutMinutes",
                "u", p->lockout_minutes[POLICY_LOCKOUT_PAIN], "OverheatLockoutMinutes", "u",
                p->lockout_minutes[POLICY_LOCKOUT_OVERHEAT], "FaultLockoutMinutes", "u",
                p->lockout_minutes[POLICY_LOCKOUT_FAULT]);
        if (r < 0)
                return r;

        r = sd_bus_message_open_container(reply, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append(reply, "s", "ForbiddenZones");
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'v', "as");
        if (r >= 0)
                r = append_zone_list(reply, p->forbidden);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);

        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append(reply, "s", "ZoneCaps");
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'v', "a{su}");
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "{su}");
        for (int z = 0; r >= 0 && z < ZONE_MAX; z++)
                if (!p->forbidden[z])
                        r = sd_bus_message_append(reply, "{su}", zone_to_string(z), p->zone_cap[z]);
        for (int i = 0; r >= 0 && i < 3; i++)
                r = sd_bus_message_close_container(reply);

        for (int a = 0; r >= 0 && a < 2; a++) {
                r = sd_bus_message_open_container(reply, 'e', "sv");
                if (r >= 0)
                        r = sd_bus_message_append(reply, "s",
                                                  a == 0 ? "ScreeningRefuse" : "ScreeningLower");
                if (r >= 0)
                        r = sd_bus_message_open_container(reply, 'v', "as");
                if (r >= 0)
                        r = append_screening_list(reply, p,
                                                  a == 0 ? SCREENING_REFUSE : SCREENING_LOWER);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
        }
        if (r < 0)
                return r;
        return sd_bus_message_close_container(reply);
}

static int property_get_policy_error(sd_bus *bus, const char *path, const char *interface,
                                     const char *property, sd_bus_message *reply, void *userdata,
                                     sd_bus_error *error)
{
        Manager *m = userdata;
        return sd_bus_message_append(reply, "s", strempty(m->policy_error));
}

static int property_get_sessions_today(sd_bus *bus, const char *path, const char *interface,
                                       const char *property, sd_bus_message *reply, void *userdata,
                                       sd_bus_error *error)
{
        return sd_bus_message_append(reply, "u", limits_sessions_today(userdata));
}

static int method_list_devices(sd_bus_message *message, void *userdata, sd_bus_error *error)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(message, &reply);
        if (r < 0)
                return r;
        r = append_device_paths(reply, userdata);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_stop_all(sd_bus_message *message, void *userdata, sd_bus_error *error)
{
        Manager *m = userdata;
        int r;

        /* Stopping never needs authorization, and never fails the caller: every device is tried.
         * The motors first, then the log line. */
        r = manager_stop_all(m, "stop-all");
        if (r < 0)
                log_warning_errno(r, "StopAll requested by %s: not every device confirmed: %m",
                                  strna(sd_bus_message_get_sender(message)));
        else
                log_info("StopAll requested by %s: every device stopped",
                         strna(sd_bus_message_get_sender(message)));
        return sd_bus_reply_method_return(message, NULL);
}

static int method_list_routines(sd_bus_message *message, void *userdata, sd_bus_error *error)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Manager *m = userdata;
        int r;

        r = sd_bus_message_new_method_return(message, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(sssu)");
        if (r < 0)
                return r;
        for (size_t i = 0; i < m->routines.n_routines; i++) {
                const Routine *rt = m->routines.routines[i];
                r = sd_bus_message_append(reply, "(sssu)", rt->id, rt->name, rt->condition,
                                          (uint32_t) (rt->duration_ms / 1000));
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int find_routine(Manager *m, const char *id, Routine **ret, sd_bus_error *error)
{
        Routine *rt = routine_set_find(&m->routines, id);

        if (!rt)
                return sd_bus_error_setf(error, KNEED_ERROR_UNKNOWN_ROUTINE,
                                         "No routine '%s'; ListRoutines() shows what there is", id);
        *ret = rt;
        return 0;
}

static int method_get_routine(sd_bus_message *message, void *userdata, sd_bus_error *error)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Manager *m = userdata;
        const char *id;
        Routine *rt = NULL;
        int r;

        r = sd_bus_message_read(message, "s", &id);
        if (r < 0)
                return r;
        r = find_routine(m, id, &rt, error);
        if (r < 0)
                return r;

        r = sd_bus_message_new_method_return(message, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_append(reply, "sssu", rt->name, rt->condition, rt->summary,
                                  (uint32_t) (rt->duration_ms / 1000));
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(ssuuus)");
        if (r < 0)
                return r;
        for (unsigned i = 0; i < rt->n_steps; i++) {
                const Step *st = &rt->steps[i];
                r = sd_bus_message_append(reply, "(ssuuus)", zone_to_string(st->zone),
                                          pattern_to_string(st->pattern), st->intensity,
                                          st->intensity_end, st->duration_ms, st->cue);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

typedef struct StartOptions {
        bool detach;
        bool screened; /* screening answers were given */
        bool answered[SCREENING_MAX];
        bool yes[SCREENING_MAX];
} StartOptions;

static int parse_screening(sd_bus_message *message, StartOptions *o, sd_bus_error *error)
{
        int r;

        if (sd_bus_message_verify_type(message, 'v', "a{sb}") <= 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "Option 'screening' must be a{sb}: each answer's name "
                                         "and whether it applies");
        r = sd_bus_message_enter_container(message, 'v', "a{sb}");
        if (r >= 0)
                r = sd_bus_message_enter_container(message, 'a', "{sb}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(message, 'e', "sb")) > 0) {
                const char *name;
                int yes, k;

                r = sd_bus_message_read(message, "sb", &name, &yes);
                if (r < 0)
                        return r;
                k = screening_from_string(name);
                if (k < 0)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                 "Unknown screening answer '%s'", name);
                o->answered[k] = true;
                o->yes[k] = yes;
                r = sd_bus_message_exit_container(message);
                if (r < 0)
                        return r;
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(message);
        if (r >= 0)
                r = sd_bus_message_exit_container(message);
        o->screened = true;
        return r;
}

static int parse_start_options(sd_bus_message *message, StartOptions *ret, sd_bus_error *error)
{
        StartOptions o = {};
        int r;

        r = sd_bus_message_enter_container(message, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(message, 'e', "sv")) > 0) {
                const char *key;

                r = sd_bus_message_read(message, "s", &key);
                if (r < 0)
                        return r;
                if (streq(key, "detach")) {
                        int b;

                        if (sd_bus_message_verify_type(message, 'v', "b") <= 0)
                                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                         "Option 'detach' must be a boolean (b)");
                        r = sd_bus_message_read(message, "v", "b", &b);
                        if (r < 0)
                                return r;
                        o.detach = b;
                } else if (streq(key, "screening")) {
                        r = parse_screening(message, &o, error);
                        if (r < 0)
                                return r;
                } else
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                 "Unknown option '%s' (known: detach, screening)",
                                                 key);
                r = sd_bus_message_exit_container(message);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(message);
        if (r < 0)
                return r;

        *ret = o;
        return 0;
}

/* Whether device d can run routine rt; sets a message naming what is missing. */
static int check_supported(Manager *m, Device *d, const Routine *rt, sd_bus_error *error)
{
        if (routine_requires(rt, "heat") && d->max_heat_celsius == 0)
                return sd_bus_error_setf(error, KNEED_ERROR_UNSUPPORTED,
                                         "Routine '%s' needs heat, and device %s has no heater",
                                         rt->id, d->id);
        for (unsigned i = 0; i < rt->n_steps; i++) {
                if (m->policy.forbidden[rt->steps[i].zone])
                        return sd_bus_error_setf(
                                error, KNEED_ERROR_FORBIDDEN_ZONE,
                                "Routine '%s' works on the %s (step %u), which the "
                                "safety policy forbids",
                                rt->id, zone_to_string(rt->steps[i].zone), i + 1);
        }
        for (unsigned i = 0; i < rt->n_steps; i++) {
                const char *zone = zone_to_string(rt->steps[i].zone);
                if (!device_has_zone(d, zone))
                        return sd_bus_error_setf(error, KNEED_ERROR_UNSUPPORTED,
                                                 "Routine '%s' works on the %s (step %u), which "
                                                 "device %s cannot reach",
                                                 rt->id, zone, i + 1, d->id);
        }
        if (m->options->time_scale != 1.0 && d->transport != KNEED_TRANSPORT_VIRTUAL)
                return sd_bus_error_setf(error, KNEED_ERROR_UNSUPPORTED,
                                         "Device %s is real hardware; --time-scale is only for "
                                         "virtual devices",
                                         d->id);
        return 0;
}

/*
 * Screening (seeds 000, 001, 002): refuses with Error.Contraindicated naming the answer, asks
 * for the answers the policy needs, or lowers the caps. Sets *ret_lowered.
 */
static int check_screening(Manager *m, const StartOptions *o, bool *ret_lowered,
                           sd_bus_error *error)
{
        const Policy *p = &m->policy;
        _cleanup_free_ char *missing = NULL;
        bool lowered = false;

        for (int s = 0; s < SCREENING_MAX; s++) {
                if (p->screening[s] == SCREENING_ALLOW || o->answered[s])
                        continue;
                if (!p->screening_required)
                        continue;
                char *n;
                if (asprintf(&n, "%s%s%s", strempty(missing), missing ? ", " : "",
                             screening_to_string(s)) < 0)
                        return -ENOMEM;
                free(missing);
                missing = n;
        }
        if (missing)
                return sd_bus_error_setf(error, KNEED_ERROR_SCREENING_REQUIRED,
                                         o->screened ? "Screening answers missing: %s"
                                                     : "Screening is required before a session; "
                                                       "answer: %s",
                                         missing);

        for (int s = 0; s < SCREENING_MAX; s++) {
                if (!o->yes[s])
                        continue;
                if (p->screening[s] == SCREENING_REFUSE)
                        return sd_bus_error_setf(error, KNEED_ERROR_CONTRAINDICATED,
                                                 "No session: you answered yes to %s (%s) Massage "
                                                 "could make it worse; please see a clinician "
                                                 "first.",
                                                 screening_to_string(s), screening_question(s));
                if (p->screening[s] == SCREENING_LOWER)
                        lowered = true;
        }
        *ret_lowered = lowered;
        return 0;
}

/* "org.kneed.Kneed1.Error.SessionLimit" -> "session-limit", for the log's KNEED_REASON. */
static void error_to_reason(const char *name, char *buf, size_t size)
{
        const char *p = name ? strrchr(name, '.') : NULL;
        size_t n = 0;

        for (p = p ? p + 1 : strempty(name); *p && n + 2 < size; p++) {
                if (*p >= 'A' && *p <= 'Z') {
                        if (n > 0)
                                buf[n++] = '-';
                        buf[n++] = (char) (*p - 'A' + 'a');
                } else
                        buf[n++] = *p;
        }
        buf[n] = '\0';
}

/* A caller may leave the bus right after its call, before kneed has answered. */
static int caller_gone(sd_bus_message *message, sd_bus_error *error)
{
        return sd_bus_error_setf(error, SD_BUS_ERROR_NAME_HAS_NO_OWNER,
                                 "The caller %s left the bus before its session started; nothing "
                                 "was started",
                                 strna(sd_bus_message_get_sender(message)));
}

static int start_routine(sd_bus_message *message, Manager *m, const char **ret_device,
                         sd_bus_error *error)
{
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        const char *device_path, *routine_id, *id;
        StartOptions options = {};
        bool lowered = false;
        Session *s;
        Routine *rt = NULL;
        Device *d;
        uid_t uid;
        int r;

        /* Read the arguments. */
        r = sd_bus_message_read(message, "os", &device_path, &routine_id);
        if (r < 0)
                return r;
        *ret_device = startswith(device_path, KNEED_DEVICE_PATH_PREFIX "/");
        r = parse_start_options(message, &options, error);
        if (r < 0)
                return r;

        /* Validate them. */
        id = startswith(device_path, KNEED_DEVICE_PATH_PREFIX "/");
        d = id ? manager_find_device(m, id) : NULL;
        if (!d)
                return sd_bus_error_setf(error, KNEED_ERROR_NO_SUCH_DEVICE,
                                         "No device at %s; ListDevices() shows what there is",
                                         device_path);
        r = find_routine(m, routine_id, &rt, error);
        if (r < 0)
                return r;
        if (d->state == DEVICE_FAULTED)
                return sd_bus_error_setf(error, KNEED_ERROR_DEVICE_FAULTED,
                                         "Device %s is faulted (%s); unplug and replug it", d->id,
                                         strna(d->fault));
        if (d->session)
                return sd_bus_error_setf(error, KNEED_ERROR_DEVICE_BUSY,
                                         "Device %s is already running session %u", d->id,
                                         d->session->id);
        r = check_supported(m, d, rt, error);
        if (r < 0)
                return r;

        /* The safety policy: valid, the person screened, and no limit in the way. */
        if (!m->policy_valid)
                return sd_bus_error_setf(error, KNEED_ERROR_POLICY_INVALID,
                                         "The safety policy is invalid, so kneed refuses every "
                                         "session until it is fixed: %s",
                                         strna(m->policy_error));
        r = check_screening(m, &options, &lowered, error);
        if (r < 0)
                return r;
        r = limits_check_start(m, d, error);
        if (r < 0)
                return r;

        r = sd_bus_query_sender_creds(message, SD_BUS_CREDS_EUID, &creds);
        if (r >= 0)
                r = sd_bus_creds_get_euid(creds, &uid);
        if (r == -ENXIO || r == -ESRCH)
                return caller_gone(message, error);
        if (r < 0)
                return r;

        /* Start. */
        r = session_start(m, d, rt, uid, lowered, options.detach ? NULL : message, &s, error);
        if (r == -ENXIO)
                return caller_gone(message, error);
        if (r < 0)
                return r;
        bus_manager_emit_changed(m, "SessionsToday");
        /* The session runs either way: a caller that can't get the answer has gone, and its
         * session stops with it (unless it asked for a detached one). */
        r = sd_bus_reply_method_return(message, "o", s->path);
        if (r < 0)
                log_warning_errno(r,
                                  "Session %u started, but the reply to %s could not be sent: %m",
                                  s->id, strna(sd_bus_message_get_sender(message)));
        return 1;
}

static int method_start_routine(sd_bus_message *message, void *userdata, sd_bus_error *error)
{
        const char *device = NULL;
        Manager *m = userdata;
        char reason[64];
        int r;

        /* Authorization first: nothing else is said to a caller who may not start routines. The
         * call may come back here with polkit's answer, so nothing before this has effects. */
        r = polkit_check(&m->polkit, message, KNEED_ACTION_START_ROUTINE, error);
        if (r == 0)
                return 1;
        if (r > 0)
                r = start_routine(message, m, &device, error);

        /* Every refusal is on record with the rule that refused it, and the device asked for
         * (read here when the refusal came before the arguments were). */
        if (r < 0 && sd_bus_error_is_set(error)) {
                const char *path;
                if (!device && sd_bus_message_rewind(message, true) >= 0 &&
                    sd_bus_message_read(message, "o", &path) >= 0)
                        device = startswith(path, KNEED_DEVICE_PATH_PREFIX "/");
                error_to_reason(error->name, reason, sizeof(reason));
                log_event(LOG_NOTICE, 0, 0, device, reason, "StartRoutine from %s refused: %s",
                          strna(sd_bus_message_get_sender(message)), strna(error->message));
        } else if (r < 0)
                log_event(LOG_ERR, 0, 0, device, "internal-error",
                          "StartRoutine from %s failed: %s",
                          strna(sd_bus_message_get_sender(message)), strerror(-r));
        return r;
}

static int method_clear_lockout(sd_bus_message *message, void *userdata, sd_bus_error *error)
{
        Manager *m = userdata;
        int r;

        /* Administrators only (polkit's manage action, auth_admin_keep). */
        r = polkit_check(&m->polkit, message, KNEED_ACTION_MANAGE, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        r = limits_clear(m);
        if (r < 0)
                return sd_bus_error_setf(error, KNEED_ERROR_LEDGER_UNAVAILABLE,
                                         "Could not record the cleared lockout: %s", strerror(-r));
        return sd_bus_reply_method_return(message, NULL);
}

static int method_get_history(sd_bus_message *message, void *userdata, sd_bus_error *error)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ LedgerSession *history = NULL;
        Manager *m = userdata;
        uint32_t max;
        int r, n = 0;

        r = sd_bus_message_read(message, "u", &max);
        if (r < 0)
                return r;
        if (m->ledger) {
                n = ledger_read_history(m->ledger, max == 0 ? LEDGER_HISTORY_MAX : max, &history);
                if (n < 0)
                        return sd_bus_error_setf(error, KNEED_ERROR_LEDGER_UNAVAILABLE,
                                                 "Reading the history from %s failed: %s",
                                                 ledger_get_path(m->ledger), strerror(-n));
        }

        r = sd_bus_message_new_method_return(message, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(sstuss)");
        for (int i = 0; r >= 0 && i < n; i++) {
                const LedgerSession *h = &history[i];
                r = sd_bus_message_append(reply, "(sstuss)", h->routine, h->device, h->start_usec,
                                          h->duration_ms, h->state ? h->state : "running",
                                          strempty(h->reason));
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_reload(sd_bus_message *message, void *userdata, sd_bus_error *error)
{
        Manager *m = userdata;
        int r;

        r = polkit_check(&m->polkit, message, KNEED_ACTION_MANAGE, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        r = manager_reload(m);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(message, NULL);
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),

        SD_BUS_PROPERTY("Version", "s", property_get_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Devices", "ao", property_get_devices, 0,
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Limits", "a{sv}", property_get_limits, 0,
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("PolicyError", "s", property_get_policy_error, 0,
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("SessionsToday", "u", property_get_sessions_today, 0,
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),

        SD_BUS_METHOD_WITH_ARGS("ListDevices", SD_BUS_NO_ARGS, SD_BUS_RESULT("ao", devices),
                                method_list_devices, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("StopAll", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_stop_all,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListRoutines", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(sssu)", routines),
                                method_list_routines, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetRoutine", SD_BUS_ARGS("s", id),
                                SD_BUS_RESULT("s", name, "s", condition, "s", summary, "u",
                                              total_seconds, "a(ssuuus)", steps),
                                method_get_routine, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS(
                "StartRoutine", SD_BUS_ARGS("o", device, "s", routine, "a{sv}", options),
                SD_BUS_RESULT("o", session), method_start_routine, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Reload", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_reload,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ClearLockout", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT,
                                method_clear_lockout, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetHistory", SD_BUS_ARGS("u", max),
                                SD_BUS_RESULT("a(sstuss)", sessions), method_get_history,
                                SD_BUS_VTABLE_UNPRIVILEGED),

        SD_BUS_VTABLE_END,
};

int bus_manager_register(Manager *m)
{
        int r;

        r = sd_bus_add_object_manager(m->bus, NULL, KNEED_MANAGER_PATH);
        if (r < 0)
                return r;
        return sd_bus_add_object_vtable(m->bus, NULL, KNEED_MANAGER_PATH, KNEED_MANAGER_INTERFACE,
                                        manager_vtable, m);
}
