/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The limits that outlive a session and the daemon: sessions per day, the rest between
 * sessions, and lockouts, kept in the ledger in the state directory. When the ledger can't be
 * read or written, limits fail closed: no session starts.
 */

#include <systemd/sd-bus.h>

#include "policy.h"

typedef struct Manager Manager;
typedef struct Session Session;
typedef struct KneedDevice Device;

/* Opens the ledger (creating the state directory if needed). Failure is logged and kept:
 * every start is then refused with Error.LedgerUnavailable. */
int limits_open(Manager *m);
void limits_close(Manager *m);

/*
 * Whether a session may start on device d now. Returns 0, or a negative errno with error set
 * to the rule that refuses it: Error.LedgerUnavailable, Error.LockedOut (with the reason and
 * its end), Error.SessionLimit, Error.CoolingDown (with when the rest ends).
 */
int limits_check_start(Manager *m, const Device *d, sd_bus_error *error);

/* Records the start in the ledger (fsync'd); a session that can't be recorded doesn't start. */
int limits_record_start(Manager *m, Session *s);
/* Records the end; a failure is logged and makes later starts fail closed. */
void limits_record_end(Manager *m, Session *s);

/*
 * Locks sessions out for the policy's time for reason (no-op when that time is 0): on every
 * device when d is NULL (a pain report is about the person), else on devices of d's model
 * (an overheat or a fault is about the hardware; other devices carry on).
 */
void limits_lockout(Manager *m, PolicyLockout reason, const Device *d);
/* Lifts every lockout, and a fail-closed day after a corrupt ledger (ClearLockout()). */
int limits_clear(Manager *m);

unsigned limits_sessions_today(Manager *m);
