/* SPDX-License-Identifier: MIT */

#include <sys/stat.h>
#include <time.h>

#include "device.h"
#include "kneed-bus.h"
#include "ledger.h"
#include "log.h"
#include "manager.h"
#include "session-limits.h"
#include "session.h"
#include "time-util.h"

/* The ledger counts the day among the starts it keeps: every start the policy may allow. */
_Static_assert(LEDGER_DAY_STARTS_MAX >= POLICY_SESSIONS_PER_DAY_MAX,
               "the ledger keeps too few starts to count a day");

static uint64_t now_realtime(void)
{
        return now_usec(CLOCK_REALTIME);
}

/* "14:05" today, "2026-11-23 09:12" any other day, in local time. */
static void format_when(char *buf, size_t size, uint64_t usec)
{
        time_t t = (time_t) (usec / USEC_PER_SEC), now = time(NULL);
        struct tm tm, today;

        localtime_r(&t, &tm);
        localtime_r(&now, &today);
        if (tm.tm_year == today.tm_year && tm.tm_yday == today.tm_yday)
                strftime(buf, size, "%H:%M", &tm);
        else
                strftime(buf, size, "%Y-%m-%d %H:%M", &tm);
}

static int mkdir_parents(const char *path, mode_t mode)
{
        _cleanup_free_ char *p = strdup(path);

        if (!p)
                return -ENOMEM;
        for (char *s = p + 1; *s; s++)
                if (*s == '/') {
                        *s = 0;
                        if (mkdir(p, 0755) < 0 && errno != EEXIST)
                                return negative_errno();
                        *s = '/';
                }
        if (mkdir(p, mode) < 0 && errno != EEXIST)
                return negative_errno();
        return 0;
}

int limits_open(Manager *m)
{
        _cleanup_free_ char *message = NULL;
        const char *dir = m->options->state_dir;
        int r;

        m->ledger_error = mfree(m->ledger_error);
        r = mkdir_parents(dir, 0700);
        if (r < 0) {
                if (asprintf(&m->ledger_error, "cannot create the state directory %s: %s", dir,
                             strerror(-r)) < 0)
                        m->ledger_error = NULL;
                return log_error_errno(r,
                                       "Failed to create the state directory %s, refusing "
                                       "sessions: %m",
                                       dir);
        }

        r = ledger_open(dir, now_realtime(), &m->ledger, &message);
        if (r < 0) {
                m->ledger_error = message ? TAKE_PTR(message) : strdup(strerror(-r));
                return log_error_errno(r, "Session ledger unavailable, refusing sessions: %s",
                                       strna(m->ledger_error));
        }
        if (message)
                log_error("Session ledger: %s", message);
        return 0;
}

void limits_close(Manager *m)
{
        m->ledger = ledger_free(m->ledger);
        m->ledger_error = mfree(m->ledger_error);
}

unsigned limits_sessions_today(Manager *m)
{
        return m->ledger ? ledger_sessions_today(m->ledger, now_realtime()) : 0;
}

int limits_check_start(Manager *m, const Device *d, sd_bus_error *error)
{
        const Policy *p = &m->policy;
        uint64_t now = now_realtime(), until, last_end, rest_end;
        LockoutReason reason;
        const char *why;
        char when[32];
        unsigned today;

        if (!m->ledger)
                return sd_bus_error_setf(error, KNEED_ERROR_LEDGER_UNAVAILABLE,
                                         "The session ledger is unavailable (%s); kneed refuses "
                                         "sessions it cannot count",
                                         strna(m->ledger_error));

        if (ledger_get_fail_closed(m->ledger, now, &until, &why)) {
                if (until == UINT64_MAX)
                        return sd_bus_error_setf(
                                error, KNEED_ERROR_LEDGER_UNAVAILABLE,
                                "The session ledger in %s could not be written (%s: %s); kneed "
                                "refuses sessions it cannot count until it is restarted with a "
                                "writable state directory",
                                m->options->state_dir, why,
                                strerror(-ledger_get_write_error(m->ledger)));
                format_when(when, sizeof(when), until);
                return sd_bus_error_setf(error, KNEED_ERROR_LOCKED_OUT,
                                         "Sessions are locked until %s: the session ledger was "
                                         "found damaged (%s) and set aside, so today's count is "
                                         "unknown",
                                         when, why);
        }

        if (ledger_get_lockout(m->ledger, now, d->policy_key, &reason, &until)) {
                format_when(when, sizeof(when), until);
                return sd_bus_error_setf(
                        error, KNEED_ERROR_LOCKED_OUT,
                        "Locked out after %s until %s.%s An administrator can lift "
                        "it with ClearLockout()",
                        reason == LOCKOUT_PAIN       ? "a pain report"
                        : reason == LOCKOUT_OVERHEAT ? "the device overheated"
                                                     : "a device fault",
                        when,
                        reason == LOCKOUT_PAIN ? " If the pain persists, see a clinician." : "");
        }

        today = ledger_sessions_today(m->ledger, now);
        if (today >= p->max_sessions_per_day)
                return sd_bus_error_setf(error, KNEED_ERROR_SESSION_LIMIT,
                                         "%u of %u sessions used today; the count starts again at "
                                         "midnight",
                                         today, p->max_sessions_per_day);

        last_end = ledger_last_end(m->ledger);
        rest_end = last_end + (uint64_t) p->min_rest_minutes * USEC_PER_MINUTE;
        if (last_end > 0 && now < rest_end) {
                format_when(when, sizeof(when), rest_end);
                return sd_bus_error_setf(error, KNEED_ERROR_COOLING_DOWN,
                                         "Rest first: the next session can start at %s (%u minutes "
                                         "between sessions)",
                                         when, p->min_rest_minutes);
        }
        return 0;
}

int limits_record_start(Manager *m, Session *s)
{
        int r;

        if (!m->ledger)
                return -ENOLINK;
        r = ledger_session_started(m->ledger, s->started_realtime, s->routine->id,
                                   strrchr(s->device_path, '/') + 1, (uint32_t) s->owner,
                                   &s->ledger_ref);
        if (r < 0)
                return log_error_errno(r,
                                       "Failed to record session %u in the ledger, refusing it: "
                                       "%m",
                                       s->id);
        return 0;
}

void limits_record_end(Manager *m, Session *s)
{
        EnginePosition pos;
        int r;

        if (!m->ledger || s->ledger_ref == 0)
                return;
        pos = engine_position(&s->engine, now_usec(CLOCK_MONOTONIC));
        r = ledger_session_ended(m->ledger, now_realtime(), s->ledger_ref, pos.elapsed_ms,
                                 session_state_to_string(s->state), s->stop_reason);
        if (r < 0)
                log_error_errno(r,
                                "Failed to record the end of session %u in the ledger; "
                                "refusing new sessions: %m",
                                s->id);
}

void limits_lockout(Manager *m, PolicyLockout reason, const Device *d)
{
        unsigned minutes = m->policy.lockout_minutes[reason];
        uint64_t now = now_realtime();
        char when[32];
        int r;

        if (minutes == 0)
                return;
        if (!m->ledger) {
                log_error("Cannot record a %s lockout: the ledger is unavailable (sessions are "
                          "refused anyway)",
                          policy_lockout_to_string(reason));
                return;
        }
        r = ledger_add_lockout(m->ledger, now, (LockoutReason) reason, d ? d->policy_key : NULL,
                               now + (uint64_t) minutes * USEC_PER_MINUTE);
        if (r < 0) {
                log_error_errno(r, "Failed to record a %s lockout; refusing new sessions: %m",
                                policy_lockout_to_string(reason));
                return;
        }
        format_when(when, sizeof(when), now + (uint64_t) minutes * USEC_PER_MINUTE);
        log_event(LOG_WARNING, 0, 0, d ? d->id : NULL, policy_lockout_to_string(reason),
                  "Locked out %s after %s until %s (%u minutes)",
                  d ? d->policy_key : "on every device", policy_lockout_to_string(reason), when,
                  minutes);
}

int limits_clear(Manager *m)
{
        int r;

        if (!m->ledger)
                return -ENOLINK;
        r = ledger_clear(m->ledger, now_realtime());
        if (r < 0)
                return log_error_errno(r, "Failed to record the cleared lockout: %m");
        log_event(LOG_NOTICE, 0, 0, NULL, "lockout-cleared",
                  "Lockouts cleared by an administrator");
        return 0;
}
