/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * A session: one routine running on one device for one caller. It drives the device through
 * the safety clamp on the engine's schedule, stops it when it ends for whatever reason, and
 * stays readable on the bus for a while after it finished.
 */

#include <stdbool.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "engine.h"
#include "list.h"
#include "routine.h"
#include "safety.h"

typedef struct Manager Manager;
typedef struct KneedDevice Device;
typedef struct Session Session;

typedef enum SessionState {
        SESSION_RUNNING,
        SESSION_PAUSED,
        SESSION_COMPLETED,
        SESSION_STOPPED,
        SESSION_ABORTED,
        SESSION_STATE_MAX,
} SessionState;

/* A paused session that nobody resumes ends after this long, so no device is held forever. */
#define SESSION_PAUSE_TIMEOUT_USEC (10 * 60 * UINT64_C(1000000))
#define SESSION_ADJUST_MAX 100

struct Session {
        Manager *manager;
        unsigned id;
        char *path;
        Routine *routine;
        Device *device;    /* NULL once the session ended */
        char *device_path; /* kept for the Device property after the device is gone */
        uid_t owner;
        SessionState state;
        char *stop_reason;
        int device_stop_result; /* what stopping the device returned when the session ended */

        Engine engine;
        SafetyContext safety; /* what the clamp needs to know about this session */
        unsigned step;        /* the step whose StepStarted was sent */
        bool step_announced;
        unsigned intensity;  /* what the device runs at, in whole percent */
        int adjust;          /* AdjustIntensity offset in percentage points */
        bool capped;         /* the clamp is holding the routine below what it asks */
        uint64_t ledger_ref; /* its start record in the ledger, 0 if not recorded */
        uint64_t started_realtime;

        sd_event_source *timer;
        sd_event_source *pause_timeout;
        sd_event_source *linger;
        sd_bus_track *track;

        LIST_FIELDS(Session, sessions);
};

const char *session_state_to_string(SessionState s);
bool session_state_is_finished(SessionState s);

/*
 * Starts routine r on device d. caller, when not NULL, is the message whose sender the session
 * is tied to: when that client leaves the bus, the session stops. lowered: screening answers
 * lowered the caps. Checks nothing about the device's suitability or the limits: the caller
 * (StartRoutine) did. Records the session in the ledger first and fails if it can't. On failure
 * nothing runs, and error says why when the ledger failed; -ENXIO means the caller left the bus
 * before its session could be tied to it.
 */
int session_start(Manager *m, Device *d, Routine *r, uid_t owner, bool lowered,
                  sd_bus_message *caller, Session **ret, sd_bus_error *error);

/* Re-applies the session's output now: after a policy reload, or when a cap changed. */
void session_refresh(Session *s);

int session_pause(Session *s);
int session_resume(Session *s);
/* Shifts the routine's intensity by delta percentage points (clamped to ±100 in all). */
int session_adjust_intensity(Session *s, int delta);

/*
 * Ends the session: stops the device, records state and reason, emits Finished, and schedules
 * the object's removal. The reason decides the state (see session_state_for_reason()).
 */
void session_end(Session *s, const char *reason);
SessionState session_state_for_reason(const char *reason);

Session *session_free(Session *s);
