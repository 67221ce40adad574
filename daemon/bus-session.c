/* SPDX-License-Identifier: MIT */

/* org.kneed.Kneed1.Session at /org/kneed/Kneed1/session/<n>. */

#include <inttypes.h>

#include "bus-session.h"
#include "device.h"
#include "kneed-bus.h"
#include "log.h"
#include "manager.h"
#include "pattern.h"
#include "session-limits.h"
#include "session.h"
#include "string-util.h"
#include "strv.h"
#include "time-util.h"

static Session *session_for_message(Manager *m, const char *path)
{
        const char *e = startswith(path, KNEED_SESSION_PATH_PREFIX "/");
        unsigned id;

        if (!e || e[0] == '0' || safe_atou(e, &id) < 0)
                return NULL;
        return manager_find_session(m, id);
}

void bus_session_emit_changed(Session *s, const char *const *names)
{
        int r;

        if (!s->manager->bus)
                return;
        r = sd_bus_emit_properties_changed_strv(s->manager->bus, s->path, KNEED_SESSION_INTERFACE,
                                                (char **) names);
        if (r < 0)
                log_debug_errno(r, "Session %u: failed to emit property changes, ignoring: %m",
                                s->id);
}

void bus_session_emit_added(Session *s)
{
        int r;

        if (!s->manager->bus)
                return;
        r = sd_bus_emit_object_added(s->manager->bus, s->path);
        if (r < 0)
                log_debug_errno(r, "Failed to announce %s, ignoring: %m", s->path);
}

void bus_session_emit_removed(Session *s)
{
        int r;

        if (!s->manager->bus)
                return;
        r = sd_bus_emit_object_removed(s->manager->bus, s->path);
        if (r < 0)
                log_debug_errno(r, "Failed to announce removal of %s, ignoring: %m", s->path);
}

static const Step *current_step(const Session *s)
{
        return &s->routine->steps[MIN(s->step, s->routine->n_steps - 1)];
}

void bus_session_emit_step_started(Session *s)
{
        const Step *step = current_step(s);
        int r;

        if (!s->manager->bus)
                return;
        r = sd_bus_emit_signal(s->manager->bus, s->path, KNEED_SESSION_INTERFACE, "StepStarted",
                               "ussus", s->step, zone_to_string(step->zone),
                               pattern_to_string(step->pattern), s->intensity, step->cue);
        if (r < 0)
                log_debug_errno(r, "Session %u: failed to emit StepStarted, ignoring: %m", s->id);
}

void bus_session_emit_finished(Session *s)
{
        int r;

        if (!s->manager->bus)
                return;
        r = sd_bus_emit_signal(s->manager->bus, s->path, KNEED_SESSION_INTERFACE, "Finished", "ss",
                               session_state_to_string(s->state), strempty(s->stop_reason));
        if (r < 0)
                log_debug_errno(r, "Session %u: failed to emit Finished, ignoring: %m", s->id);
}

static int session_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                               void **found, sd_bus_error *error)
{
        Session *s = session_for_message(userdata, path);

        if (!s)
                return 0;
        *found = s;
        return 1;
}

static int session_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes,
                                   sd_bus_error *error)
{
        Manager *m = userdata;
        char **l;
        size_t n = 0;
        Session *s;

        LIST_FOREACH (sessions, s, m->sessions)
                n++;
        l = calloc(n + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        n = 0;
        LIST_FOREACH (sessions, s, m->sessions) {
                l[n] = strdup(s->path);
                if (!l[n]) {
                        strv_free(l);
                        return -ENOMEM;
                }
                n++;
        }
        *nodes = l;
        return 1;
}

static int property_get_routine(sd_bus *bus, const char *path, const char *interface,
                                const char *property, sd_bus_message *reply, void *userdata,
                                sd_bus_error *error)
{
        Session *s = userdata;
        return sd_bus_message_append(reply, "s", s->routine->id);
}

static int property_get_device(sd_bus *bus, const char *path, const char *interface,
                               const char *property, sd_bus_message *reply, void *userdata,
                               sd_bus_error *error)
{
        Session *s = userdata;
        return sd_bus_message_append(reply, "o", s->device_path);
}

static int property_get_owner(sd_bus *bus, const char *path, const char *interface,
                              const char *property, sd_bus_message *reply, void *userdata,
                              sd_bus_error *error)
{
        Session *s = userdata;
        return sd_bus_message_append(reply, "u", (uint32_t) s->owner);
}

static int property_get_state(sd_bus *bus, const char *path, const char *interface,
                              const char *property, sd_bus_message *reply, void *userdata,
                              sd_bus_error *error)
{
        Session *s = userdata;
        return sd_bus_message_append(reply, "s", session_state_to_string(s->state));
}

static int property_get_step_index(sd_bus *bus, const char *path, const char *interface,
                                   const char *property, sd_bus_message *reply, void *userdata,
                                   sd_bus_error *error)
{
        Session *s = userdata;
        return sd_bus_message_append(reply, "u", s->step);
}

static int property_get_step_count(sd_bus *bus, const char *path, const char *interface,
                                   const char *property, sd_bus_message *reply, void *userdata,
                                   sd_bus_error *error)
{
        Session *s = userdata;
        return sd_bus_message_append(reply, "u", s->routine->n_steps);
}

static int property_get_step_field(sd_bus *bus, const char *path, const char *interface,
                                   const char *property, sd_bus_message *reply, void *userdata,
                                   sd_bus_error *error)
{
        const Step *step = current_step(userdata);

        if (streq(property, "Zone"))
                return sd_bus_message_append(reply, "s", zone_to_string(step->zone));
        if (streq(property, "Pattern"))
                return sd_bus_message_append(reply, "s", pattern_to_string(step->pattern));
        return sd_bus_message_append(reply, "s", step->cue);
}

static int property_get_intensity(sd_bus *bus, const char *path, const char *interface,
                                  const char *property, sd_bus_message *reply, void *userdata,
                                  sd_bus_error *error)
{
        Session *s = userdata;
        return sd_bus_message_append(reply, "u", s->intensity);
}

static int property_get_elapsed(sd_bus *bus, const char *path, const char *interface,
                                const char *property, sd_bus_message *reply, void *userdata,
                                sd_bus_error *error)
{
        Session *s = userdata;
        EnginePosition p = engine_position(&s->engine, now_usec(CLOCK_MONOTONIC));
        return sd_bus_message_append(reply, "u", p.elapsed_ms);
}

static int property_get_duration(sd_bus *bus, const char *path, const char *interface,
                                 const char *property, sd_bus_message *reply, void *userdata,
                                 sd_bus_error *error)
{
        Session *s = userdata;
        return sd_bus_message_append(reply, "u", s->routine->duration_ms);
}

static int property_get_stop_reason(sd_bus *bus, const char *path, const char *interface,
                                    const char *property, sd_bus_message *reply, void *userdata,
                                    sd_bus_error *error)
{
        Session *s = userdata;
        return sd_bus_message_append(reply, "s", strempty(s->stop_reason));
}

static int reply_or_error(sd_bus_message *message, Session *s, int r, sd_bus_error *error)
{
        if (r == -ESTALE)
                return sd_bus_error_setf(
                        error, KNEED_ERROR_SESSION_FINISHED, "Session %u has already %s (%s)",
                        s->id, session_state_to_string(s->state), strempty(s->stop_reason));
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(message, NULL);
}

/*
 * A session is its owner's (and root's) to control. Anyone may still stop the device under it
 * (Device.Stop, StopAll): stopping a motor is never refused, controlling someone's session is.
 */
static int check_owner(sd_bus_message *message, Session *s, sd_bus_error *error)
{
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        uid_t uid;
        int r;

        r = sd_bus_query_sender_creds(message, SD_BUS_CREDS_EUID, &creds);
        if (r >= 0)
                r = sd_bus_creds_get_euid(creds, &uid);
        if (r < 0)
                return r;
        if (uid == 0 || uid == s->owner)
                return 0;
        log_notice("Session %u: uid %u may not control uid %u's session (%s)", s->id,
                   (unsigned) uid, (unsigned) s->owner, sd_bus_message_get_member(message));
        return sd_bus_error_setf(error, KNEED_ERROR_NOT_AUTHORIZED,
                                 "Session %u belongs to uid %u: only its owner may control it. "
                                 "Anyone may stop the device itself (Device.Stop, StopAll).",
                                 s->id, (unsigned) s->owner);
}

static int method_pause(sd_bus_message *message, void *userdata, sd_bus_error *error)
{
        Session *s = userdata;
        int r = check_owner(message, s, error);
        if (r < 0)
                return r;
        return reply_or_error(message, s, session_pause(s), error);
}

static int method_resume(sd_bus_message *message, void *userdata, sd_bus_error *error)
{
        Session *s = userdata;
        int r = check_owner(message, s, error);
        if (r < 0)
                return r;
        return reply_or_error(message, s, session_resume(s), error);
}

static int method_stop(sd_bus_message *message, void *userdata, sd_bus_error *error)
{
        Session *s = userdata;
        int r = check_owner(message, s, error);
        if (r < 0)
                return r;

        /* For its owner stopping never needs authorization and never fails, even when over. */
        log_info("Session %u: stop requested by %s", s->id,
                 strna(sd_bus_message_get_sender(message)));
        session_end(s, "session-stop");
        return sd_bus_reply_method_return(message, NULL);
}

static int property_get_capped(sd_bus *bus, const char *path, const char *interface,
                               const char *property, sd_bus_message *reply, void *userdata,
                               sd_bus_error *error)
{
        Session *s = userdata;
        return sd_bus_message_append(reply, "b", s->capped);
}

static int method_report_pain(sd_bus_message *message, void *userdata, sd_bus_error *error)
{
        Session *s = userdata;
        Manager *m = s->manager;
        int r;

        /* Another uid could lock the owner out for a day; it may stop the device instead. */
        r = check_owner(message, s, error);
        if (r < 0)
                return r;

        /* Stop first, record after: nothing may stand between a pain report and the stop. */
        log_warning("Session %u: pain reported by %s, stopping at once", s->id,
                    strna(sd_bus_message_get_sender(message)));
        session_end(s, "pain");
        limits_lockout(m, POLICY_LOCKOUT_PAIN, NULL);
        return sd_bus_reply_method_return(message, NULL);
}

static int method_adjust_intensity(sd_bus_message *message, void *userdata, sd_bus_error *error)
{
        Session *s = userdata;
        int32_t delta;
        int r;

        r = check_owner(message, s, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(message, "i", &delta);
        if (r < 0)
                return r;
        if (delta < -SESSION_ADJUST_MAX || delta > SESSION_ADJUST_MAX)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "delta %" PRIi32 " is out of range: expected -%d..%d "
                                         "percentage points",
                                         delta, SESSION_ADJUST_MAX, SESSION_ADJUST_MAX);
        return reply_or_error(message, s, session_adjust_intensity(s, delta), error);
}

static const sd_bus_vtable session_vtable[] = {
        SD_BUS_VTABLE_START(0),

        SD_BUS_PROPERTY("Routine", "s", property_get_routine, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Device", "o", property_get_device, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Owner", "u", property_get_owner, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("State", "s", property_get_state, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("StepIndex", "u", property_get_step_index, 0,
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("StepCount", "u", property_get_step_count, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Zone", "s", property_get_step_field, 0,
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Pattern", "s", property_get_step_field, 0,
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Cue", "s", property_get_step_field, 0,
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Intensity", "u", property_get_intensity, 0,
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("ElapsedMs", "u", property_get_elapsed, 0,
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("DurationMs", "u", property_get_duration, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("StopReason", "s", property_get_stop_reason, 0,
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Capped", "b", property_get_capped, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),

        SD_BUS_METHOD_WITH_ARGS("Pause", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_pause,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Resume", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_resume,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Stop", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_stop,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ReportPain", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_report_pain,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("AdjustIntensity", SD_BUS_ARGS("i", delta), SD_BUS_NO_RESULT,
                                method_adjust_intensity, SD_BUS_VTABLE_UNPRIVILEGED),

        SD_BUS_SIGNAL_WITH_ARGS(
                "StepStarted",
                SD_BUS_ARGS("u", index, "s", zone, "s", pattern, "u", intensity, "s", cue), 0),
        SD_BUS_SIGNAL_WITH_ARGS("Finished", SD_BUS_ARGS("s", state, "s", reason), 0),

        SD_BUS_VTABLE_END,
};

int bus_session_register(Manager *m)
{
        int r;

        r = sd_bus_add_fallback_vtable(m->bus, NULL, KNEED_SESSION_PATH_PREFIX,
                                       KNEED_SESSION_INTERFACE, session_vtable, session_object_find,
                                       m);
        if (r < 0)
                return r;
        return sd_bus_add_node_enumerator(m->bus, NULL, KNEED_SESSION_PATH_PREFIX,
                                          session_node_enumerator, m);
}
