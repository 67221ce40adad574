/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Daemon logging. Only the daemon logs above debug; parsers and plugins return errors instead.
 * The *_errno() variants set errno from the error so "%m" prints it, and return the negative
 * error so a caller can write "return log_error_errno(r, ...);".
 */

#include <syslog.h>

#include "macro.h"

void log_set_max_level(int level);
int log_get_max_level(void);
/* Parses "err", "warning", "notice", "info", "debug" or a number 0..7. */
int log_level_from_string(const char *s);

/*
 * fields: optional NULL-terminated list of "KEY=value" strings attached to the record
 * (journal fields under systemd, appended in brackets on stderr).
 */
int log_internal(int level, int error, char *const *fields, const char *format, ...) _printf_(4, 5);

#define log_full_errno(level, error, ...) log_internal((level), (error), NULL, __VA_ARGS__)
#define log_full(level, ...) (void) log_full_errno((level), 0, __VA_ARGS__)

#define log_debug(...) log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...) log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...) log_full(LOG_ERR, __VA_ARGS__)

#define log_debug_errno(error, ...) log_full_errno(LOG_DEBUG, (error), __VA_ARGS__)
#define log_info_errno(error, ...) log_full_errno(LOG_INFO, (error), __VA_ARGS__)
#define log_warning_errno(error, ...) log_full_errno(LOG_WARNING, (error), __VA_ARGS__)
#define log_error_errno(error, ...) log_full_errno(LOG_ERR, (error), __VA_ARGS__)

#define log_oom() log_error_errno(-ENOMEM, "Out of memory.")

/*
 * An event for the record: a session starting, refused, capped or ending, a lockout, a policy
 * load. Carries KNEED_SESSION= (when session is not 0), KNEED_DEVICE= and KNEED_REASON= (when
 * not NULL): journal fields under systemd, "[KEY=value ...]" after the message on stderr.
 */
int log_event(int level, int error, unsigned session, const char *device, const char *reason,
              const char *format, ...) _printf_(6, 7);

/*
 * Where records go instead of stderr (the daemon sets the journal when stderr is connected to
 * it): the formatted message and the NULL-terminated "KEY=value" fields.
 */
typedef void (*LogSink)(int level, int error, const char *message, char *const *fields);
void log_set_sink(LogSink sink);
