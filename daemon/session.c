/* SPDX-License-Identifier: MIT */

#include "session.h"
#include "bus-session.h"
#include "device.h"
#include "kneed-bus.h"
#include "log.h"
#include "manager.h"
#include "math-util.h"
#include "pattern.h"
#include "safety.h"
#include "session-limits.h"
#include "time-util.h"

static const char *const session_state_names[SESSION_STATE_MAX] = {
        [SESSION_RUNNING] = "running",     [SESSION_PAUSED] = "paused",
        [SESSION_COMPLETED] = "completed", [SESSION_STOPPED] = "stopped",
        [SESSION_ABORTED] = "aborted",
};

/* Reasons somebody asked for; everything else ends a session as "aborted". */
static const char *const stop_requests[] = {
        "session-stop", "stop-all", "device-stop", "client-vanished", "shutdown", "pause-timeout",
};

const char *session_state_to_string(SessionState s)
{
        return s < SESSION_STATE_MAX ? session_state_names[s] : NULL;
}

bool session_state_is_finished(SessionState s)
{
        return s == SESSION_COMPLETED || s == SESSION_STOPPED || s == SESSION_ABORTED;
}

SessionState session_state_for_reason(const char *reason)
{
        if (streq(reason, "completed"))
                return SESSION_COMPLETED;
        for (size_t i = 0; i < ELEMENTSOF(stop_requests); i++)
                if (streq(reason, stop_requests[i]))
                        return SESSION_STOPPED;
        return SESSION_ABORTED;
}

Session *session_free(Session *s)
{
        if (!s)
                return NULL;
        if (s->device)
                s->device->session = NULL;
        sd_event_source_disable_unref(s->timer);
        sd_event_source_disable_unref(s->pause_timeout);
        sd_event_source_disable_unref(s->linger);
        sd_bus_track_unref(s->track);
        routine_unref(s->routine);
        free(s->path);
        free(s->device_path);
        free(s->stop_reason);
        return mfree(s);
}

static uint64_t now_monotonic(void)
{
        return now_usec(CLOCK_MONOTONIC);
}

static int arm_timer(Session *s, uint64_t when);

/*
 * The routine time at which the policy ends this session during this step: its length cap, or
 * the cap on time spent on one zone.
 */
static uint64_t limit_ms(const Session *s, unsigned step, const char **ret_reason)
{
        const Policy *p = &s->manager->policy;
        const Step *st = &s->routine->steps[step];
        uint64_t limit = (uint64_t) p->max_session_minutes * 60000;
        uint64_t zone_cap = (uint64_t) p->max_zone_minutes * 60000, used = 0, zone_end;
        const char *reason = "session-limit";

        for (unsigned k = 0; k < step; k++)
                if (s->routine->steps[k].zone == st->zone)
                        used += s->routine->steps[k].duration_ms;
        zone_end = st->offset_ms + (used >= zone_cap ? 0 : zone_cap - used);
        if (zone_end < (uint64_t) st->offset_ms + st->duration_ms && zone_end < limit) {
                limit = zone_end;
                reason = "zone-limit";
        }
        *ret_reason = reason;
        return limit;
}

/* Brings the device to where the routine is at `now`, and announces what changed. */
static void session_apply(Session *s, uint64_t now)
{
        const char *changed[9];
        size_t n_changed = 0;
        EnginePosition pos;
        SafetyResult result;
        OutputRequest req;
        const Step *step;
        const char *limit_reason;
        uint64_t limit, next;
        unsigned applied;
        bool new_step, capped;
        int r;

        pos = engine_position(&s->engine, now);
        if (pos.finished) {
                session_end(s, "completed");
                return;
        }

        /* The session's length and the time on one zone end it, even in the middle of a step. */
        limit = limit_ms(s, pos.step, &limit_reason);
        if (now >= engine_routine_deadline(&s->engine, limit)) {
                log_info("Session %u: %s reached", s->id, limit_reason);
                session_end(s, limit_reason);
                return;
        }

        step = &s->routine->steps[pos.step];
        new_step = !s->step_announced || pos.step != s->step;

        req = (OutputRequest){
                .zone = zone_to_string(step->zone),
                .pattern = step->pattern,
                .intensity = CLAMP(pos.intensity + s->adjust, 0.0, 100.0),
                /* Heat where the device has it; routines that can't do without say Requires=heat.
                 */
                .heat_celsius = s->device->max_heat_celsius > 0 ? step->heat_celsius : 0,
        };
        s->safety.first_step = pos.step == 0;
        r = safety_output(s->device, &req, &s->safety, &result);
        if (r < 0) {
                if (session_state_is_finished(s->state))
                        return; /* the device ended it: a fault, or it stopped by itself */
                session_end(s, s->device->gone ? "unplugged"
                               : r == -EDOM    ? "forbidden-zone"
                               : r == -EBADMSG ? "policy-invalid"
                                               : "device-fault");
                return;
        }

        capped = result.capped_by != SAFETY_RULE_NONE || result.heat_capped;
        if (capped != s->capped) {
                s->capped = capped;
                changed[n_changed++] = "Capped";
                if (capped) {
                        const char *rule = result.capped_by != SAFETY_RULE_NONE
                                                   ? safety_rule_to_string(result.capped_by)
                                                   : "heat";
                        log_event(LOG_INFO, 0, s->id, s->device->id, rule,
                                  "Session %u: capped by the %s cap: %.0f%%, heat %u C (the "
                                  "routine asks %.0f%%, heat %u C)",
                                  s->id, rule, result.intensity, result.heat_celsius, req.intensity,
                                  req.heat_celsius);
                }
        }

        applied = (unsigned) round_nonneg(result.intensity);
        if (applied != s->intensity || new_step) {
                s->intensity = applied;
                changed[n_changed++] = "Intensity";
        }
        if (new_step) {
                s->step = pos.step;
                s->step_announced = true;
                changed[n_changed++] = "StepIndex";
                changed[n_changed++] = "Zone";
                changed[n_changed++] = "Pattern";
                changed[n_changed++] = "Cue";
                changed[n_changed++] = "ElapsedMs";
                bus_session_emit_step_started(s);
                log_debug("Session %u: step %u/%u, %s %s at %u%%", s->id, s->step + 1,
                          s->routine->n_steps, zone_to_string(step->zone),
                          pattern_to_string(step->pattern), applied);
        }
        changed[n_changed] = NULL;
        if (n_changed > 0)
                bus_session_emit_changed(s, changed);

        next = MIN(engine_next_wakeup(&s->engine, now), engine_routine_deadline(&s->engine, limit));
        /* Held back by the ramp limit: come back on the ramp grid until caught up. */
        if (result.ramp_limited)
                next = MIN(next, now + ENGINE_RAMP_INTERVAL_USEC);
        r = arm_timer(s, next);
        if (r < 0) {
                log_error_errno(r, "Session %u: failed to schedule the next step, stopping: %m",
                                s->id);
                session_end(s, "internal-error");
                return;
        }
        device_expect_refresh(s->device, next);
}

static int on_timer(sd_event_source *source, uint64_t usec, void *userdata)
{
        Session *s = userdata;

        /* Use the real time, not the scheduled one: if we woke late, catch up exactly. */
        session_apply(s, now_monotonic());
        return 0;
}

static int arm_timer(Session *s, uint64_t when)
{
        int r;

        if (when == ENGINE_NEVER)
                return sd_event_source_set_enabled(s->timer, SD_EVENT_OFF);
        r = sd_event_source_set_time(s->timer, when);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(s->timer, SD_EVENT_ONESHOT);
}

static int on_client_gone(sd_bus_track *track, void *userdata)
{
        Session *s = userdata;

        log_info("Session %u: its client left the bus, stopping", s->id);
        session_end(s, "client-vanished");
        return 1; /* handled; don't queue the track again */
}

static int on_pause_timeout(sd_event_source *source, uint64_t usec, void *userdata)
{
        Session *s = userdata;

        log_info("Session %u: paused for too long, stopping", s->id);
        session_end(s, "pause-timeout");
        return 0;
}

static int on_linger_done(sd_event_source *source, uint64_t usec, void *userdata)
{
        Session *s = userdata;

        manager_remove_session(s->manager, s);
        return 0;
}

void session_refresh(Session *s)
{
        if (s->state == SESSION_RUNNING)
                session_apply(s, now_monotonic());
}

int session_start(Manager *m, Device *d, Routine *r, uid_t owner, bool lowered,
                  sd_bus_message *caller, Session **ret, sd_bus_error *error)
{
        Session *s;
        int k;

        s = calloc(1, sizeof(Session));
        if (!s)
                return -ENOMEM;
        s->manager = m;
        s->id = ++m->last_session_id;
        s->routine = routine_ref(r);
        s->owner = owner;
        s->state = SESSION_RUNNING;
        s->device = d;
        if (asprintf(&s->path, "%s/%u", KNEED_SESSION_PATH_PREFIX, s->id) < 0 ||
            !(s->device_path = strdup(d->path))) {
                session_free(s);
                return -ENOMEM;
        }
        engine_init(&s->engine, r, m->options->time_scale);
        s->safety = (SafetyContext){
                .lowered = lowered,
                .first_step = true,
                .time_scale = m->options->time_scale,
        };
        s->started_realtime = now_usec(CLOCK_REALTIME);

        /* Accuracy 1 µs: the default 250 ms would let sd-event coalesce step starts. */
        k = sd_event_add_time(m->event, &s->timer, CLOCK_MONOTONIC, 0, 1, on_timer, s);
        if (k >= 0)
                k = sd_event_source_set_enabled(s->timer, SD_EVENT_OFF);
        if (k >= 0 && caller) {
                k = sd_bus_track_new(m->bus, &s->track, on_client_gone, s);
                /* -ENXIO when the caller has gone already: nobody would be there to stop the
                 * session, so it must not start. */
                if (k >= 0)
                        k = sd_bus_track_add_sender(s->track, caller);
        }
        if (k >= 0) {
                /* No ledger record, no session: the limits must survive a crash. */
                k = limits_record_start(m, s);
                if (k < 0)
                        k = sd_bus_error_setf(error, KNEED_ERROR_LEDGER_UNAVAILABLE,
                                              "Could not start: the session could not be "
                                              "recorded in the ledger (%s), and kneed runs no "
                                              "session it cannot count",
                                              strerror(-k));
        }
        if (k < 0) {
                session_free(s);
                return k;
        }

        d->heat_blocked = false;

        d->session = s;
        device_set_state(d, DEVICE_RUNNING);
        manager_add_session(m, s);

        log_event(LOG_INFO, 0, s->id, d->id, "start", "Session %u: %s on %s for uid %u%s%s", s->id,
                  r->id, d->id, (unsigned) owner, caller ? "" : " (detached)",
                  lowered ? ", caps lowered by screening" : "");
        engine_start(&s->engine, now_monotonic());
        session_apply(s, now_monotonic());

        *ret = s;
        return 0;
}

int session_pause(Session *s)
{
        int r;

        if (session_state_is_finished(s->state))
                return -ESTALE;
        if (s->state == SESSION_PAUSED)
                return 0;

        engine_pause(&s->engine, now_monotonic());
        (void) sd_event_source_set_enabled(s->timer, SD_EVENT_OFF);
        device_send_stop(s->device);

        r = sd_event_add_time_relative(s->manager->event, &s->pause_timeout, CLOCK_MONOTONIC,
                                       SESSION_PAUSE_TIMEOUT_USEC, USEC_PER_SEC, on_pause_timeout,
                                       s);
        if (r < 0)
                log_warning_errno(r, "Session %u: no pause timeout, ignoring: %m", s->id);

        s->state = SESSION_PAUSED;
        s->intensity = 0;
        bus_session_emit_changed(s, (const char *[]){"State", "Intensity", "ElapsedMs", NULL});
        log_info("Session %u: paused", s->id);
        return 0;
}

int session_resume(Session *s)
{
        if (session_state_is_finished(s->state))
                return -ESTALE;
        if (s->state == SESSION_RUNNING)
                return 0;

        s->pause_timeout = sd_event_source_disable_unref(s->pause_timeout);
        engine_resume(&s->engine, now_monotonic());
        s->state = SESSION_RUNNING;
        bus_session_emit_changed(s, (const char *[]){"State", NULL});
        log_info("Session %u: resumed", s->id);
        session_apply(s, now_monotonic());
        return 0;
}

int session_adjust_intensity(Session *s, int delta)
{
        if (session_state_is_finished(s->state))
                return -ESTALE;

        s->adjust = CLAMP(s->adjust + delta, -SESSION_ADJUST_MAX, SESSION_ADJUST_MAX);
        log_info("Session %u: intensity adjusted by %+d, now %+d", s->id, delta, s->adjust);
        if (s->state == SESSION_RUNNING)
                session_apply(s, now_monotonic());
        return 0;
}

void session_end(Session *s, const char *reason)
{
        Device *d = s->device;
        uint64_t linger;
        int r;

        if (session_state_is_finished(s->state))
                return;

        s->state = session_state_for_reason(reason);
        free(s->stop_reason);
        s->stop_reason = strdup(reason);
        engine_pause(&s->engine, now_monotonic()); /* freezes ElapsedMs */
        (void) sd_event_source_set_enabled(s->timer, SD_EVENT_OFF);
        s->pause_timeout = sd_event_source_disable_unref(s->pause_timeout);
        s->track = sd_bus_track_unref(s->track);

        if (d) {
                s->device = NULL;
                d->session = NULL;
                s->device_stop_result = device_stop(d, reason);
        }
        s->intensity = 0;
        s->capped = false;
        limits_record_end(s->manager, s);

        log_event(LOG_INFO, 0, s->id, d ? d->id : NULL, reason, "Session %u: %s (%s)", s->id,
                  session_state_to_string(s->state), reason);
        bus_session_emit_changed(s, (const char *[]){"State", "StopReason", "Intensity",
                                                     "ElapsedMs", "Capped", NULL});
        bus_session_emit_finished(s);

        /*
         * Keep the finished session readable for a while, then withdraw it. If the timer can't
         * be set up the session stays until the manager evicts the oldest finished ones.
         */
        linger = s->manager->options->session_linger_usec;
        r = sd_event_add_time_relative(s->manager->event, &s->linger, CLOCK_MONOTONIC, linger,
                                       USEC_PER_SEC / 10, on_linger_done, s);
        if (r < 0)
                log_warning_errno(r, "Session %u: failed to schedule its removal, ignoring: %m",
                                  s->id);
}
