/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Under systemd the daemon's stderr goes to the journal as plain lines; records with fields
 * (log_event()) are only structured if sent with sd_journal_send(). Like systemd's own daemons,
 * kneed sends every record to the journal directly when its stderr is the journal stream
 * ($JOURNAL_STREAM names stderr's device and inode), and writes to stderr otherwise.
 */

#include <stdbool.h>

/* Sends log records to the journal if stderr is connected to it. Returns whether it does. */
bool log_journal_setup(void);
