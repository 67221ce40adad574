/* SPDX-License-Identifier: MIT */

/* kneectl: the command-line client for kneed. */

#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "kneectl.h"

typedef struct Verb {
        const char *name;
        int min_args, max_args; /* counting the verb itself */
        int (*run)(Kneectl *k, int argc, char *argv[]);
} Verb;

static const Verb verbs[] = {
        {"devices", 1, 1, verb_devices}, {"status", 1, 1, verb_status},
        {"stop", 1, 2, verb_stop},       {"routines", 1, 1, verb_routines},
        {"show", 2, 2, verb_show},       {"start", 2, 8, verb_start},
        {"pause", 2, 2, verb_pause},     {"resume", 2, 2, verb_resume},
        {"pain", 2, 2, verb_pain},       {"limits", 1, 1, verb_limits},
        {"history", 1, 2, verb_history}, {"clear-lockout", 1, 1, verb_clear_lockout},
};

static void help(void)
{
        printf("kneectl [OPTIONS...] COMMAND ...\n\n"
               "Control the kneed knee massager daemon.\n\n"
               "Commands:\n"
               "  devices              List the devices kneed drives\n"
               "  status               Show the daemon's version and every device's state\n"
               "  stop [DEVICE]        Stop one device, or every device\n"
               "  routines             List the preset routines\n"
               "  show ROUTINE         Show a routine's steps and a plot of its intensity\n"
               "  start ROUTINE [--device DEVICE] [--watch] [--screening KEY=yes|no,...]\n"
               "                       Start a routine; --watch follows it live, and Ctrl-C\n"
               "                       stops it (without --watch it runs on its own). On a\n"
               "                       terminal the screening questions are asked; scripts\n"
               "                       answer them with --screening\n"
               "  pause SESSION        Pause a session (its number or object path)\n"
               "  resume SESSION       Resume a paused session\n"
               "  stop SESSION         Stop a session\n"
               "  pain SESSION         Report pain: stop at once, and lock sessions out\n"
               "  limits               Show the safety limits in force\n"
               "  history [N]          Show the last N sessions (default 10)\n"
               "  clear-lockout        Lift a lockout (administrators)\n\n"
               "Options:\n"
               "  -h --help            Show this help\n"
               "     --version         Show the version\n"
               "     --system          Talk to kneed on the system bus (default)\n"
               "     --session         Talk to kneed on the session bus\n"
               "     --address=ADDRESS Talk to kneed on the bus at ADDRESS\n"
               "     --json            Print JSON instead of text\n");
}

static int connect_bus(const char *address, bool session, sd_bus **ret)
{
        sd_bus *bus = NULL;
        int r;

        if (address) {
                r = sd_bus_new(&bus);
                if (r >= 0)
                        r = sd_bus_set_address(bus, address);
                if (r >= 0)
                        r = sd_bus_set_bus_client(bus, true);
                if (r >= 0)
                        r = sd_bus_start(bus);
        } else if (session)
                r = sd_bus_open_user(&bus);
        else
                r = sd_bus_open_system(&bus);
        /* On a terminal a person can answer polkit's password prompt (auth_admin_keep for
         * clear-lockout, say); scripts get Error.InteractiveAuthorizationRequired instead. */
        if (r >= 0)
                r = sd_bus_set_allow_interactive_authorization(bus, isatty(STDIN_FILENO));
        if (r < 0) {
                sd_bus_unref(bus);
                return r;
        }
        *ret = bus;
        return 0;
}

int main(int argc, char *argv[])
{
        enum {
                ARG_VERSION = 0x100,
                ARG_SYSTEM,
                ARG_SESSION,
                ARG_ADDRESS,
                ARG_JSON,
        };
        static const struct option options[] = {{"help", no_argument, NULL, 'h'},
                                                {"version", no_argument, NULL, ARG_VERSION},
                                                {"system", no_argument, NULL, ARG_SYSTEM},
                                                {"session", no_argument, NULL, ARG_SESSION},
                                                {"address", required_argument, NULL, ARG_ADDRESS},
                                                {"json", no_argument, NULL, ARG_JSON},
                                                {}};
        Kneectl k = {.out = {.f = stdout}, .bus_description = "the system bus"};
        const char *address = NULL;
        bool session = false;
        const Verb *verb = NULL;
        int c, r, nargs;

        setlocale(LC_ALL, "");

        /* "+": stop at the verb, so that verbs can have options of their own. */
        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        help();
                        return EXIT_SUCCESS;
                case ARG_VERSION:
                        printf("kneectl %s\n", KNEED_VERSION);
                        return EXIT_SUCCESS;
                case ARG_SYSTEM:
                        session = false;
                        address = NULL;
                        break;
                case ARG_SESSION:
                        session = true;
                        address = NULL;
                        break;
                case ARG_ADDRESS:
                        address = optarg;
                        break;
                case ARG_JSON:
                        k.json = true;
                        break;
                default:
                        fprintf(stderr, "Try 'kneectl --help'.\n");
                        return EXIT_FAILURE;
                }
        }

        if (optind >= argc) {
                fprintf(stderr, "kneectl: missing command. Try 'kneectl --help'.\n");
                return EXIT_FAILURE;
        }
        for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
                if (strcmp(argv[optind], verbs[i].name) == 0)
                        verb = &verbs[i];
        if (!verb) {
                fprintf(stderr, "kneectl: unknown command '%s'. Try 'kneectl --help'.\n",
                        argv[optind]);
                return EXIT_FAILURE;
        }
        nargs = argc - optind;
        if (nargs < verb->min_args || nargs > verb->max_args) {
                fprintf(stderr,
                        "kneectl: wrong number of arguments for '%s'. Try 'kneectl --help'.\n",
                        verb->name);
                return EXIT_FAILURE;
        }

        if (address)
                k.bus_description = address;
        else if (session)
                k.bus_description = "the session bus";

        r = connect_bus(address, session, &k.bus);
        if (r < 0) {
                fprintf(stderr, "kneectl: cannot connect to %s: %s\n", k.bus_description,
                        strerror(-r));
                return EXIT_FAILURE;
        }

        r = verb->run(&k, nargs, argv + optind);
        sd_bus_flush_close_unref(k.bus);
        return r < 0 ? EXIT_FAILURE : k.exit_status;
}
