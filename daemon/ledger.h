/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The ledger: kneed's persistent record of sessions, lockouts and fail-closed periods, so that
 * "sessions per day", "rest since the last session" and lockouts survive restarts, crashes and
 * reboots. It is one append-only text file, "ledger", in the state directory, one record a line:
 *
 *     <seq> <realtime_usec> <type> <key=value>... crc=<crc32 of the bytes before " crc=">
 *
 *     start      routine=<id> device=<id> uid=<n>
 *     end        start=<seq> duration_ms=<n> state=<s> reason=<r>
 *     lockout    reason=<pain|overheat|fault> until=<realtime_usec> scope=<*|device model>
 *     clear
 *     failclosed until=<realtime_usec> why=<token>
 *
 * A session's reference is the seq of its start record, so start records carry no ref key.
 *
 * Every record is written with one write() and made durable with fdatasync() before the
 * in-memory state changes: what the ledger reports is always on disk. When an append fails, the
 * ledger is "broken" until it is opened again: every later append fails and limits fail closed,
 * because kneed must not run sessions it cannot record.
 *
 * Every function takes the CLOCK_REALTIME time in microseconds as "now", so the caller (and the
 * tests) decide the clock. Library-like: nothing here logs.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

/* The largest ledger file ledger_open() reads. */
#define LEDGER_FILE_MAX_SIZE (UINT64_C(16) * 1024 * 1024)
/* The most sessions one history read returns. */
#define LEDGER_HISTORY_MAX 1000
/*
 * How many session starts the ledger keeps in memory, to count the day's sessions: at least the
 * largest MaxSessionsPerDay a policy may set (POLICY_SESSIONS_PER_DAY_MAX).
 */
#define LEDGER_DAY_STARTS_MAX 1000
/* The longest value (routine, device, state, reason) a record may carry. */
#define LEDGER_VALUE_MAX 64

typedef enum LockoutReason {
        LOCKOUT_PAIN,
        LOCKOUT_OVERHEAT,
        LOCKOUT_FAULT,
        LOCKOUT_REASON_MAX,
} LockoutReason;

/* "pain", "overheat", "fault"; NULL for anything else. */
const char *lockout_reason_to_string(LockoutReason r);

/* One past (or still running) session, read back for history. The strings belong to the ledger. */
typedef struct LedgerSession {
        uint64_t ref;        /* seq of its start record */
        const char *routine; /* the strings belong to the ledger */
        const char *device;
        uint32_t uid;
        uint64_t start_usec; /* realtime */
        uint64_t end_usec;   /* 0 while still open */
        uint32_t duration_ms;
        const char *state;  /* NULL while open */
        const char *reason; /* NULL while open */
} LedgerSession;

typedef struct Ledger Ledger;

/*
 * Opens (creating it if missing, mode 0600) the ledger file "ledger" in dir and replays it.
 * dir must exist. The file is locked (flock) while the Ledger lives: a second open of the same
 * ledger returns -EBUSY.
 *
 * Repairs, which still return 0:
 * - an incomplete or damaged last record (a write torn by a crash) is dropped and the file is
 *   truncated to the last good record;
 * - a damaged record with more lines after it means the ledger cannot be trusted: the file is
 *   renamed to "ledger.corrupt-<now>" in dir, none of its records are replayed, and a fresh
 *   ledger is started whose first record makes limits fail closed until the next local
 *   midnight after now (why "ledger-corrupt");
 * - sessions that were started but never ended (the daemon died) get an end record with
 *   state "aborted", reason "daemon-restart", duration 0 and time now.
 *
 * Returns 0 and the ledger in ret, or a negative errno: -EFBIG if the file is larger than
 * LEDGER_FILE_MAX_SIZE, -EBUSY if it is locked, -ENOMEM, or whatever opening, reading, writing
 * or renaming failed with (-ENOENT if dir is missing, -EACCES, -EROFS, ...).
 *
 * error_message, when not NULL, is always set: to NULL, or to a newly allocated message (which
 * the caller frees) naming the path that says what failed or what was repaired, with the line
 * number of the bad record and, for a corrupt ledger, the name it was set aside as.
 */
int ledger_open(const char *dir, uint64_t now, Ledger **ret, char **error_message);

/* Closes the file and frees everything. Writes nothing. NULL-safe, returns NULL. */
Ledger *ledger_free(Ledger *l);
DEFINE_TRIVIAL_CLEANUP_FUNC(Ledger *, ledger_free);

/*
 * Records that a session started at now. routine is [a-z0-9-]+, device [A-Za-z0-9_]+, each at
 * most LEDGER_VALUE_MAX characters, else -EINVAL. Returns 0 and the session's reference (the
 * seq of its start record) in ret_ref (may be NULL), or a negative errno with nothing changed.
 */
int ledger_session_started(Ledger *l, uint64_t now, const char *routine, const char *device,
                           uint32_t uid, uint64_t *ret_ref);

/*
 * Records that the session ref ended at now. state and reason are [a-z-]+, at most
 * LEDGER_VALUE_MAX characters, else -EINVAL. Returns -EALREADY if it already ended (and is
 * among the newest LEDGER_DAY_STARTS_MAX sessions), -ENOENT if ref is no open session the
 * ledger knows, other negative errnos if the append failed.
 */
int ledger_session_ended(Ledger *l, uint64_t now, uint64_t ref, uint32_t duration_ms,
                         const char *state, const char *reason);

/* The scope of a lockout that applies to every device (a pain report is about the person). */
#define LEDGER_SCOPE_EVERYONE "*"

/*
 * Records a lockout until the realtime until, for scope: LEDGER_SCOPE_EVERYONE (or NULL), or
 * one device model ("0b49:064f", "virtual:NAME": [a-z0-9:-]+). -EINVAL for an unknown reason or
 * an invalid scope.
 */
int ledger_add_lockout(Ledger *l, uint64_t now, LockoutReason reason, const char *scope,
                       uint64_t until);

/*
 * Records that an administrator cleared all lockouts and the fail-closed state of a corrupt
 * ledger. It cannot clear a broken ledger (its append fails): only reopening does.
 */
int ledger_clear(Ledger *l, uint64_t now);

/*
 * The number of sessions started since the start of the local day containing now, counting
 * sessions that started "in the future" (the clock stepped back) too. Counts among the newest
 * LEDGER_DAY_STARTS_MAX sessions only.
 */
unsigned ledger_sessions_today(const Ledger *l, uint64_t now);

/* The latest end time of any session (possibly after now if the clock stepped back), or 0. */
uint64_t ledger_last_end(const Ledger *l);

/*
 * Whether a lockout recorded after the last clear applies at now to scope: one for everyone,
 * or one for that device model (scope NULL: only those for everyone). If so, returns true and
 * the reason and until of the one that ends last in ret_reason and ret_until (each may be
 * NULL).
 */
bool ledger_get_lockout(const Ledger *l, uint64_t now, const char *scope, LockoutReason *ret_reason,
                        uint64_t *ret_until);

/*
 * Whether limits must fail closed at now: because the ledger is broken (an append failed;
 * until UINT64_MAX, why "ledger-write-failed"), or because of a failclosed record after the
 * last clear whose until is after now (why "ledger-corrupt" after a corrupt ledger was set
 * aside). ret_why points into the ledger, valid until the next append.
 */
bool ledger_get_fail_closed(const Ledger *l, uint64_t now, uint64_t *ret_until,
                            const char **ret_why);
/* What the append that broke the ledger failed with (a negative errno), or 0. */
int ledger_get_write_error(const Ledger *l);

/*
 * Reads the newest sessions back from the file, at most max (and LEDGER_HISTORY_MAX) of them,
 * newest first: history is not kept in memory. Reads from the end of the file only as far back
 * as those sessions go. Returns how many and a newly allocated array in ret (the caller frees
 * it; its strings belong to the ledger, valid until ledger_free()), or a negative errno if the
 * file could not be read (-ESTALE if it is no longer the file the ledger appends to).
 */
int ledger_read_history(Ledger *l, size_t max, LedgerSession **ret);

/* The path of the ledger file. */
const char *ledger_get_path(const Ledger *l);

/*
 * For the tests only: replaces the ledger's file descriptor with fd (taking ownership), so they
 * can make appends fail for real even when running as root. Returns 0.
 */
int ledger_test_replace_fd(Ledger *l, int fd);
