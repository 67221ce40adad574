/* SPDX-License-Identifier: MIT */

#include <locale.h>
#include <systemd/sd-daemon.h>

#include "log-journal.h"
#include "log.h"
#include "manager.h"
#include "options.h"

static int run(int argc, char *argv[])
{
        _cleanup_(options_done) Options options = {};
        _cleanup_(manager_freep) Manager *m = NULL;
        int r;

        setlocale(LC_ALL, "C");

        r = options_parse(argc, argv, stdout, stderr, &options);
        if (r <= 0)
                return r;
        log_set_max_level(options.log_level);
        (void) log_journal_setup();

        r = manager_new(&options, &m);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the daemon: %m");

        r = manager_startup(m);
        if (r < 0)
                return r;

        /* On purpose (a lost bus, say), the exit code is an error that was logged already. */
        r = sd_event_loop(m->event);
        if (r < 0 && !m->shutting_down)
                return log_error_errno(r, "Event loop failed: %m");

        log_info("Exiting");
        return r;
}

int main(int argc, char *argv[])
{
        int r = run(argc, argv);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
