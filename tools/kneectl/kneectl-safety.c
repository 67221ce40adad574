/* SPDX-License-Identifier: MIT */

/* kneectl limits | history [N] | pain SESSION | clear-lockout, and the screening questions. */

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kneectl.h"
#include "kneed-bus.h"
#include "screening.h"
#include "string-util.h"

/* Prints one value of a{sv} as text, or as JSON. Handles the types Limits uses. */
static int print_value(Kneectl *k, sd_bus_message *m)
{
        const char *contents;
        char type;
        int r;

        r = sd_bus_message_peek_type(m, &type, &contents);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(m, 'v', contents);
        if (r < 0)
                return r;

        if (streq(contents, "u")) {
                uint32_t u;
                r = sd_bus_message_read(m, "u", &u);
                if (k->json)
                        json_uint(&k->out, u);
                else
                        printf("%" PRIu32, u);
        } else if (streq(contents, "d")) {
                double d;
                r = sd_bus_message_read(m, "d", &d);
                if (k->json)
                        json_double(&k->out, d);
                else
                        printf("%g", d);
        } else if (streq(contents, "b")) {
                int b;
                r = sd_bus_message_read(m, "b", &b);
                if (k->json)
                        json_bool(&k->out, b);
                else
                        printf("%s", b ? "yes" : "no");
        } else if (streq(contents, "as")) {
                _cleanup_strv_free_ char **l = NULL;
                r = sd_bus_message_read_strv(m, &l);
                if (k->json) {
                        json_begin_array(&k->out);
                        STRV_FOREACH (s, l)
                                json_string(&k->out, *s);
                        json_end_array(&k->out);
                } else {
                        _cleanup_free_ char *j = strv_join(l, ", ");
                        printf("%s", isempty(j) ? "(none)" : j);
                }
        } else if (streq(contents, "a{su}")) {
                const char *key;
                uint32_t u;
                bool first = true;

                r = sd_bus_message_enter_container(m, 'a', "{su}");
                if (k->json)
                        json_begin_object(&k->out);
                while (r >= 0 && (r = sd_bus_message_read(m, "{su}", &key, &u)) > 0) {
                        if (k->json) {
                                json_key(&k->out, key);
                                json_uint(&k->out, u);
                        } else
                                printf("%s%s %" PRIu32 "%%", first ? "" : ", ", key, u);
                        first = false;
                }
                if (k->json)
                        json_end_object(&k->out);
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        } else
                r = sd_bus_message_skip(m, contents);
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

int verb_limits(Kneectl *k, int argc, char *argv[])
{
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *key;
        int r;

        r = sd_bus_get_property(k->bus, KNEED_BUS_NAME, KNEED_MANAGER_PATH, KNEED_MANAGER_INTERFACE,
                                "Limits", &error, &reply, "a{sv}");
        if (r < 0)
                return kneectl_error(k, "Failed to read the limits", r, &error);

        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        if (k->json)
                json_begin_object(&k->out);
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                r = sd_bus_message_read(reply, "s", &key);
                if (r < 0)
                        break;
                if (k->json)
                        json_key(&k->out, key);
                else
                        printf("%-24s ", key);
                r = print_value(k, reply);
                if (!k->json)
                        putchar('\n');
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
        }
        if (r < 0)
                return kneectl_error(k, "Failed to parse the limits", r, NULL);
        if (k->json) {
                json_end_object(&k->out);
                json_finish(&k->out);
        }
        return 0;
}

int verb_history(Kneectl *k, int argc, char *argv[])
{
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *routine, *device, *state, *reason;
        unsigned max = 10;
        uint64_t start;
        uint32_t duration;
        bool any = false;
        int r;

        if (argc > 1 && safe_atou(argv[1], &max) < 0) {
                fprintf(stderr, "kneectl: '%s' is not a number of sessions\n", argv[1]);
                return -EINVAL;
        }
        r = sd_bus_call_method(k->bus, KNEED_BUS_NAME, KNEED_MANAGER_PATH, KNEED_MANAGER_INTERFACE,
                               "GetHistory", &error, &reply, "u", max);
        if (r < 0)
                return kneectl_error(k, "Failed to read the history", r, &error);

        r = sd_bus_message_enter_container(reply, 'a', "(sstuss)");
        if (k->json)
                json_begin_array(&k->out);
        while (r >= 0 && (r = sd_bus_message_read(reply, "(sstuss)", &routine, &device, &start,
                                                  &duration, &state, &reason)) > 0) {
                time_t t = (time_t) (start / 1000000);
                char when[32], length[16];
                struct tm tm;

                if (k->json) {
                        json_begin_object(&k->out);
                        json_key(&k->out, "routine");
                        json_string(&k->out, routine);
                        json_key(&k->out, "device");
                        json_string(&k->out, device);
                        json_key(&k->out, "start_usec");
                        json_uint(&k->out, start);
                        json_key(&k->out, "duration_ms");
                        json_uint(&k->out, duration);
                        json_key(&k->out, "state");
                        json_string(&k->out, state);
                        json_key(&k->out, "reason");
                        json_string(&k->out, reason);
                        json_end_object(&k->out);
                        continue;
                }
                if (!any)
                        printf("%-16s %-24s %-10s %6s  %-10s %s\n", "STARTED", "ROUTINE", "DEVICE",
                               "LENGTH", "STATE", "REASON");
                any = true;
                localtime_r(&t, &tm);
                strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
                snprintf(length, sizeof(length), "%u:%02u", duration / 60000,
                         (duration / 1000) % 60);
                printf("%-16s %-24s %-10s %6s  %-10s %s\n", when, routine, device, length, state,
                       reason);
        }
        if (r < 0)
                return kneectl_error(k, "Failed to parse the history", r, NULL);
        if (k->json) {
                json_end_array(&k->out);
                json_finish(&k->out);
        } else if (!any)
                printf("No sessions yet.\n");
        return 0;
}

int verb_pain(Kneectl *k, int argc, char *argv[])
{
        return kneectl_session_call(k, argv[1], "ReportPain", "stopped");
}

int verb_clear_lockout(Kneectl *k, int argc, char *argv[])
{
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_call_method(k->bus, KNEED_BUS_NAME, KNEED_MANAGER_PATH, KNEED_MANAGER_INTERFACE,
                               "ClearLockout", &error, NULL, NULL);
        if (r < 0)
                return kneectl_error(k, "Failed to clear the lockout", r, &error);
        if (!k->json)
                printf("Lockouts cleared.\n");
        return 0;
}

int kneectl_parse_screening(const char *spec, bool yes[SCREENING_MAX], bool answered[SCREENING_MAX])
{
        _cleanup_strv_free_ char **items = NULL;
        int r;

        r = strv_split(spec, ",", &items);
        if (r < 0)
                return r;
        STRV_FOREACH (i, items) {
                char *eq = strchr(*i, '=');
                int s, b;

                if (!eq) {
                        fprintf(stderr, "kneectl: --screening wants KEY=yes|no, not '%s'\n", *i);
                        return -EINVAL;
                }
                *eq = 0;
                s = screening_from_string(*i);
                b = parse_boolean(eq + 1);
                if (s < 0) {
                        fprintf(stderr,
                                "kneectl: unknown screening question '%s'; the questions "
                                "are:",
                                *i);
                        for (int q = 0; q < SCREENING_MAX; q++)
                                fprintf(stderr, " %s", screening_to_string(q));
                        fputc('\n', stderr);
                        return -EINVAL;
                }
                if (b < 0) {
                        fprintf(stderr, "kneectl: answer yes or no for %s, not '%s'\n", *i, eq + 1);
                        return -EINVAL;
                }
                answered[s] = true;
                yes[s] = b;
        }
        return 0;
}

/* The questions the daemon's policy asks, from Limits: those on its Refuse and Lower lists. */
static int questions_needed(Kneectl *k, bool needed[SCREENING_MAX], bool *ret_required)
{
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *key;
        int r;

        *ret_required = false;
        r = sd_bus_get_property(k->bus, KNEED_BUS_NAME, KNEED_MANAGER_PATH, KNEED_MANAGER_INTERFACE,
                                "Limits", &error, &reply, "a{sv}");
        if (r < 0)
                return kneectl_error(k, "Failed to read the limits", r, &error);
        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                r = sd_bus_message_read(reply, "s", &key);
                if (r < 0)
                        break;
                if (streq(key, "ScreeningRequired")) {
                        int b;
                        r = sd_bus_message_read(reply, "v", "b", &b);
                        *ret_required = b;
                } else if (streq(key, "ScreeningRefuse") || streq(key, "ScreeningLower")) {
                        _cleanup_strv_free_ char **l = NULL;
                        r = sd_bus_message_enter_container(reply, 'v', "as");
                        if (r >= 0)
                                r = sd_bus_message_read_strv(reply, &l);
                        if (r >= 0)
                                r = sd_bus_message_exit_container(reply);
                        STRV_FOREACH (s, l) {
                                int q = screening_from_string(*s);
                                if (q >= 0)
                                        needed[q] = true;
                        }
                } else
                        r = sd_bus_message_skip(reply, "v");
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
        }
        return r < 0 ? kneectl_error(k, "Failed to parse the limits", r, NULL) : 0;
}

int kneectl_ask_screening(Kneectl *k, bool yes[SCREENING_MAX], bool answered[SCREENING_MAX],
                          bool *ret_asked)
{
        bool needed[SCREENING_MAX] = {}, required;
        int r;

        *ret_asked = false;
        r = questions_needed(k, needed, &required);
        if (r < 0)
                return r;
        if (!required)
                return 0;

        printf("Before a session, a few questions (answer y or n):\n");
        for (int q = 0; q < SCREENING_MAX; q++) {
                char line[64];

                if (!needed[q])
                        continue;
                for (;;) {
                        int b;

                        printf("  %s [y/n] ", screening_question(q));
                        fflush(stdout);
                        if (!fgets(line, sizeof(line), stdin)) {
                                fprintf(stderr, "\nkneectl: no answer, not starting\n");
                                return -ECANCELED;
                        }
                        strstrip(line);
                        b = streq(line, "y") ? 1 : streq(line, "n") ? 0 : parse_boolean(line);
                        if (b >= 0) {
                                answered[q] = true;
                                yes[q] = b;
                                break;
                        }
                }
        }
        *ret_asked = true;
        return 0;
}
