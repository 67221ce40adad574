/* SPDX-License-Identifier: MIT */

/* kneectl routines | show ROUTINE */

#include <errno.h>
#include <langinfo.h>
#include <stdlib.h>
#include <string.h>

#include "kneectl.h"
#include "kneed-bus.h"
#include "routine-view.h"

/* Plots and tables fit an 80-column terminal. */
#define OUTPUT_WIDTH 80

int verb_routines(Kneectl *k, int argc, char *argv[])
{
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *id, *name, *condition;
        uint32_t seconds;
        bool any = false;
        int r;

        r = sd_bus_call_method(k->bus, KNEED_BUS_NAME, KNEED_MANAGER_PATH, KNEED_MANAGER_INTERFACE,
                               "ListRoutines", &error, &reply, NULL);
        if (r < 0)
                return kneectl_error(k, "Failed to list routines", r, &error);

        r = sd_bus_message_enter_container(reply, 'a', "(sssu)");
        if (r < 0)
                return kneectl_error(k, "Failed to parse the routine list", r, NULL);

        if (k->json)
                json_begin_array(&k->out);
        while ((r = sd_bus_message_read(reply, "(sssu)", &id, &name, &condition, &seconds)) > 0) {
                char length[16];

                if (k->json) {
                        json_begin_object(&k->out);
                        json_key(&k->out, "id");
                        json_string(&k->out, id);
                        json_key(&k->out, "name");
                        json_string(&k->out, name);
                        json_key(&k->out, "condition");
                        json_string(&k->out, condition);
                        json_key(&k->out, "seconds");
                        json_uint(&k->out, seconds);
                        json_end_object(&k->out);
                        continue;
                }
                if (!any)
                        printf("%-24s %-34s %6s\n", "ID", "NAME", "LENGTH");
                any = true;
                format_mmss(length, sizeof(length), (uint64_t) seconds * 1000);
                printf("%-24s %-34s %6s\n", id, name, length);
        }
        if (r < 0)
                return kneectl_error(k, "Failed to parse the routine list", r, NULL);
        if (k->json) {
                json_end_array(&k->out);
                json_finish(&k->out);
        } else if (!any)
                printf("No routines.\n");
        return 0;
}

int kneectl_get_routine(Kneectl *k, const char *id, RoutineView *ret)
{
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_call_method(k->bus, KNEED_BUS_NAME, KNEED_MANAGER_PATH, KNEED_MANAGER_INTERFACE,
                               "GetRoutine", &error, &reply, "s", id);
        if (r < 0)
                return kneectl_error(k, "Failed to get the routine", r, &error);
        r = routine_view_read(reply, id, ret);
        if (r < 0)
                return kneectl_error(k, "Failed to parse the routine", r, NULL);
        return 0;
}

/* Prints text wrapped at width, each line indented. */
static void print_wrapped(const char *text, unsigned indent, unsigned width)
{
        const char *p = text;

        while (*p) {
                size_t room = width - indent, n = strlen(p);

                if (n > room) {
                        n = room;
                        while (n > 0 && p[n] != ' ')
                                n--;
                        if (n == 0)
                                n = room;
                }
                printf("%*s%.*s\n", (int) indent, "", (int) n, p);
                p += n;
                while (*p == ' ')
                        p++;
        }
}

int verb_show(Kneectl *k, int argc, char *argv[])
{
        RoutineView rv = {};
        char length[16], total[16];
        bool utf8;
        int r;

        r = kneectl_get_routine(k, argv[1], &rv);
        if (r < 0)
                return r;

        if (k->json) {
                json_begin_object(&k->out);
                json_key(&k->out, "id");
                json_string(&k->out, rv.id);
                json_key(&k->out, "name");
                json_string(&k->out, rv.name);
                json_key(&k->out, "condition");
                json_string(&k->out, rv.condition);
                json_key(&k->out, "summary");
                json_string(&k->out, rv.summary);
                json_key(&k->out, "seconds");
                json_uint(&k->out, rv.total_seconds);
                json_key(&k->out, "steps");
                json_begin_array(&k->out);
                for (size_t i = 0; i < rv.n_steps; i++) {
                        const StepView *s = &rv.steps[i];
                        json_begin_object(&k->out);
                        json_key(&k->out, "zone");
                        json_string(&k->out, s->zone);
                        json_key(&k->out, "pattern");
                        json_string(&k->out, s->pattern);
                        json_key(&k->out, "intensity");
                        json_uint(&k->out, s->intensity);
                        json_key(&k->out, "intensity_end");
                        json_uint(&k->out, s->intensity_end);
                        json_key(&k->out, "duration_ms");
                        json_uint(&k->out, s->duration_ms);
                        json_key(&k->out, "cue");
                        json_string(&k->out, s->cue);
                        json_end_object(&k->out);
                }
                json_end_array(&k->out);
                json_end_object(&k->out);
                json_finish(&k->out);
                routine_view_clear(&rv);
                return 0;
        }

        format_mmss(total, sizeof(total), (uint64_t) rv.total_seconds * 1000);
        printf("%s (%s), %s\n", rv.name, rv.id, total);
        printf("For: %s\n", rv.condition);
        print_wrapped(rv.summary, 0, OUTPUT_WIDTH);
        printf("\n");

        for (size_t i = 0; i < rv.n_steps; i++) {
                const StepView *s = &rv.steps[i];
                char level[32];

                if (s->intensity == s->intensity_end)
                        snprintf(level, sizeof(level), "%u%%", s->intensity);
                else
                        snprintf(level, sizeof(level), "%u%% to %u%%", s->intensity,
                                 s->intensity_end);
                format_mmss(length, sizeof(length), s->duration_ms);
                printf("%2zu. %s, %s, %s, %s\n", i + 1, s->zone, s->pattern, level, length);
                print_wrapped(s->cue, 4, OUTPUT_WIDTH);
        }
        printf("\n");

        utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
        routine_view_plot(&rv, stdout, OUTPUT_WIDTH, utf8);
        routine_view_clear(&rv);
        return 0;
}
