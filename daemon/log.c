/* SPDX-License-Identifier: MIT */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "string-util.h"
#include "strv.h"

static int log_max_level = LOG_INFO;
static LogSink log_sink;

void log_set_sink(LogSink sink)
{
        log_sink = sink;
}

static const char *const level_names[] = {
        [LOG_EMERG] = "emerg", [LOG_ALERT] = "alert",     [LOG_CRIT] = "crit",
        [LOG_ERR] = "err",     [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
        [LOG_INFO] = "info",   [LOG_DEBUG] = "debug",
};

void log_set_max_level(int level)
{
        log_max_level = CLAMP(level, LOG_EMERG, LOG_DEBUG);
}

int log_get_max_level(void)
{
        return log_max_level;
}

int log_level_from_string(const char *s)
{
        unsigned u;

        for (size_t i = 0; i < ELEMENTSOF(level_names); i++)
                if (streq(s, level_names[i]))
                        return (int) i;
        if (safe_atou(s, &u) >= 0 && u <= LOG_DEBUG)
                return (int) u;
        return -EINVAL;
}

static void log_write(int level, int error, char *const *fields, const char *format, va_list ap)
        _printf_(4, 0);
static void log_write(int level, int error, char *const *fields, const char *format, va_list ap)
{
        char buf[2048];

        /* Let "%m" print the error we were given rather than whatever errno holds. */
        errno = error;
        vsnprintf(buf, sizeof(buf), format, ap);

        if (log_sink) {
                log_sink(level, error, buf, fields);
                return;
        }
        fputs(buf, stderr);
        if (fields && *fields) {
                fputs(" [", stderr);
                STRV_FOREACH (f, fields) {
                        if (f != fields)
                                fputc(' ', stderr);
                        fputs(*f, stderr);
                }
                fputc(']', stderr);
        }
        fputc('\n', stderr);
}

int log_internal(int level, int error, char *const *fields, const char *format, ...)
{
        int saved = errno;
        va_list ap;

        if (error < 0)
                error = -error;
        if (level <= log_max_level) {
                va_start(ap, format);
                log_write(level, error, fields, format, ap);
                va_end(ap);
        }
        errno = saved;
        return -error;
}

int log_event(int level, int error, unsigned session, const char *device, const char *reason,
              const char *format, ...)
{
        char session_field[32], device_field[128], reason_field[128];
        char *fields[4];
        size_t n = 0;
        int saved = errno;
        va_list ap;

        if (error < 0)
                error = -error;
        if (level > log_max_level) {
                errno = saved;
                return -error;
        }
        if (session > 0) {
                snprintf(session_field, sizeof(session_field), "KNEED_SESSION=%u", session);
                fields[n++] = session_field;
        }
        if (device) {
                snprintf(device_field, sizeof(device_field), "KNEED_DEVICE=%s", device);
                fields[n++] = device_field;
        }
        if (reason) {
                snprintf(reason_field, sizeof(reason_field), "KNEED_REASON=%s", reason);
                fields[n++] = reason_field;
        }
        fields[n] = NULL;

        va_start(ap, format);
        log_write(level, error, fields, format, ap);
        va_end(ap);
        errno = saved;
        return -error;
}
