/* SPDX-License-Identifier: MIT */

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "routine-view.h"
#include "strv.h"

#define LANE_LABEL_WIDTH 17
#define SAMPLES_PER_COLUMN 8

void routine_view_clear(RoutineView *r)
{
        for (size_t i = 0; i < r->n_steps; i++) {
                free(r->steps[i].zone);
                free(r->steps[i].pattern);
                free(r->steps[i].cue);
        }
        free(r->steps);
        free(r->id);
        free(r->name);
        free(r->condition);
        free(r->summary);
        *r = (RoutineView){};
}

int routine_view_read(sd_bus_message *reply, const char *id, RoutineView *ret)
{
        const char *name, *condition, *summary, *zone, *pattern, *cue;
        RoutineView r = {};
        unsigned a, b;
        uint32_t d;
        int k;

        k = sd_bus_message_read(reply, "sssu", &name, &condition, &summary, &r.total_seconds);
        if (k < 0)
                return k;
        r.id = strdup(id);
        r.name = strdup(name);
        r.condition = strdup(condition);
        r.summary = strdup(summary);
        if (!r.id || !r.name || !r.condition || !r.summary) {
                routine_view_clear(&r);
                return -ENOMEM;
        }

        k = sd_bus_message_enter_container(reply, 'a', "(ssuuus)");
        while (k >= 0 && (k = sd_bus_message_read(reply, "(ssuuus)", &zone, &pattern, &a, &b, &d,
                                                  &cue)) > 0) {
                StepView *n = realloc(r.steps, sizeof(StepView) * (r.n_steps + 1));
                if (!n) {
                        k = -ENOMEM;
                        break;
                }
                r.steps = n;
                r.steps[r.n_steps++] = (StepView){
                        .zone = strdup(zone),
                        .pattern = strdup(pattern),
                        .intensity = a,
                        .intensity_end = b,
                        .duration_ms = d,
                        .cue = strdup(cue),
                };
        }
        if (k >= 0)
                k = sd_bus_message_exit_container(reply);
        if (k < 0) {
                routine_view_clear(&r);
                return k;
        }
        *ret = r;
        return 0;
}

void format_mmss(char *buf, size_t size, uint64_t ms)
{
        /* Routines last at most 30 minutes; the cast keeps the compiler's length check happy. */
        unsigned s = (unsigned) MIN((ms + 500) / 1000, (uint64_t) 99 * 60 + 59);
        snprintf(buf, size, "%u:%02u", s / 60, s % 60);
}

double routine_view_intensity_at(const RoutineView *r, const char *zone, uint64_t t_ms)
{
        uint64_t start = 0;

        for (size_t i = 0; i < r->n_steps; i++) {
                const StepView *s = &r->steps[i];
                uint64_t end = start + s->duration_ms;

                if (t_ms >= start && t_ms < end) {
                        if (!streq(s->zone, zone))
                                return -1;
                        return s->intensity + ((double) s->intensity_end - s->intensity) *
                                                      (double) (t_ms - start) /
                                                      (double) s->duration_ms;
                }
                start = end;
        }
        return -1;
}

static void put_level(FILE *f, double intensity, bool utf8)
{
        static const char *const blocks[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
        static const char ascii[] = ".:-=+*#@";
        int i;

        if (intensity < 0) {
                fputc(' ', f);
                return;
        }
        /* Eight heights over 0..100 %; anything running shows at least the lowest. */
        i = (int) (intensity / 12.5);
        i = CLAMP(i, 0, 7);
        if (utf8)
                fputs(blocks[i], f);
        else
                fputc(ascii[i], f);
}

void routine_view_plot(const RoutineView *r, FILE *f, unsigned width, bool utf8)
{
        _cleanup_strv_free_ char **lanes = NULL;
        uint64_t total = 0;
        unsigned cols;
        char a[16], b[16];

        for (size_t i = 0; i < r->n_steps; i++) {
                total += r->steps[i].duration_ms;
                if (!strv_contains(lanes, r->steps[i].zone) &&
                    strv_extend(&lanes, r->steps[i].zone) < 0)
                        return;
        }
        if (total == 0 || width < LANE_LABEL_WIDTH + 10)
                return;
        cols = width - LANE_LABEL_WIDTH - 3;

        STRV_FOREACH (lane, lanes) {
                fprintf(f, "%*s %s", LANE_LABEL_WIDTH, *lane, utf8 ? "│" : "|");
                for (unsigned c = 0; c < cols; c++) {
                        double best = -1;

                        /* The highest point within the column, so short steps still show. */
                        for (unsigned k = 0; k < SAMPLES_PER_COLUMN; k++) {
                                uint64_t t = (total * (c * SAMPLES_PER_COLUMN + k)) /
                                             ((uint64_t) cols * SAMPLES_PER_COLUMN);
                                double v = routine_view_intensity_at(r, *lane, t);
                                best = MAX(best, v);
                        }
                        put_level(f, best, utf8);
                }
                fputs(utf8 ? "│\n" : "|\n", f);
        }

        fprintf(f, "%*s %s", LANE_LABEL_WIDTH, "", utf8 ? "└" : "+");
        for (unsigned c = 0; c < cols; c++)
                fputs(utf8 ? "─" : "-", f);
        fputs(utf8 ? "┘\n" : "+\n", f);

        format_mmss(a, sizeof(a), 0);
        format_mmss(b, sizeof(b), total);
        fprintf(f, "%*s %-*s%s\n", LANE_LABEL_WIDTH, "", (int) (cols + 2 - strlen(b)), a, b);
}
