/* SPDX-License-Identifier: MIT */

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>

#include "log-journal.h"
#include "log.h"
#include "macro.h"

/* MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, ERRNO and the event's fields. */
#define JOURNAL_FIELDS_MAX 8

static void journal_sink(int level, int error, const char *message, char *const *fields)
{
        char priority[16], errno_field[32], *text = NULL;
        struct iovec iov[JOURNAL_FIELDS_MAX];
        size_t n = 0;

        if (asprintf(&text, "MESSAGE=%s", message) < 0) {
                /* Out of memory: say it the plain way rather than not at all. */
                fprintf(stderr, "%s\n", message);
                return;
        }
        snprintf(priority, sizeof(priority), "PRIORITY=%i", level);
        iov[n++] = (struct iovec){text, strlen(text)};
        iov[n++] = (struct iovec){priority, strlen(priority)};
        iov[n++] = (struct iovec){(char *) "SYSLOG_IDENTIFIER=kneed",
                                  strlen("SYSLOG_IDENTIFIER=kneed")};
        if (error > 0) {
                snprintf(errno_field, sizeof(errno_field), "ERRNO=%i", error);
                iov[n++] = (struct iovec){errno_field, strlen(errno_field)};
        }
        for (size_t i = 0; fields && fields[i] && n < JOURNAL_FIELDS_MAX; i++)
                iov[n++] = (struct iovec){fields[i], strlen(fields[i])};

        if (sd_journal_sendv(iov, (int) n) < 0)
                fprintf(stderr, "%s\n", message);
        free(text);
}

bool log_journal_setup(void)
{
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
                return false;
        if ((unsigned long long) st.st_dev != dev || (unsigned long long) st.st_ino != ino)
                return false;
        log_set_sink(journal_sink);
        return true;
}
