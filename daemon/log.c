/* SPDX-License-Identifier: MIT */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "string-util.h"
#include "strv.h"

static int log_max_level = LOG_INFO;

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

int log_internal(int level, int error, char *const *fields, const char *format, ...)
{
        char buf[2048];
        va_list ap;
        int saved = errno;

        if (error < 0)
                error = -error;

        if (level <= log_max_level) {
                /* Let "%m" print the error we were given rather than whatever errno holds. */
                errno = error;
                va_start(ap, format);
                vsnprintf(buf, sizeof(buf), format, ap);
                va_end(ap);

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

        errno = saved;
        return -error;
}
