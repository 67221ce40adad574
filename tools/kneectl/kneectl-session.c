/* SPDX-License-Identifier: MIT */

/* kneectl start ROUTINE [--device D] [--watch] | pause | resume | stop SESSION */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <langinfo.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-event.h>
#include <time.h>
#include <unistd.h>

#include "kneectl.h"
#include "kneed-bus.h"
#include "routine-view.h"
#include "string-util.h"

#define REFRESH_USEC (250 * 1000) /* redraw rate of the progress line on a terminal */
#define BAR_WIDTH 24

int kneectl_session_path(const char *arg, char **ret)
{
        const char *n = startswith(arg, KNEED_SESSION_PATH_PREFIX "/");
        unsigned id;

        if (safe_atou(n ? n : arg, &id) < 0 || id == 0)
                return -EINVAL;
        if (asprintf(ret, "%s/%u", KNEED_SESSION_PATH_PREFIX, id) < 0)
                return -ENOMEM;
        return 0;
}

bool kneectl_is_session_arg(const char *arg)
{
        _cleanup_free_ char *p = NULL;
        return kneectl_session_path(arg, &p) >= 0;
}

int kneectl_session_call(Kneectl *k, const char *arg, const char *method, const char *done)
{
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *path = NULL;
        int r;

        r = kneectl_session_path(arg, &path);
        if (r < 0) {
                fprintf(stderr, "kneectl: '%s' is not a session number or session path\n", arg);
                return r;
        }
        r = sd_bus_call_method(k->bus, KNEED_BUS_NAME, path, KNEED_SESSION_INTERFACE, method,
                               &error, NULL, NULL);
        if (r < 0) {
                if (sd_bus_error_has_names(&error, "org.freedesktop.DBus.Error.UnknownObject",
                                           "org.freedesktop.DBus.Error.UnknownMethod")) {
                        fprintf(stderr, "kneectl: no session '%s'\n", arg);
                        return -ESRCH;
                }
                return kneectl_error(k, method, r, &error);
        }
        if (k->json) {
                json_begin_object(&k->out);
                json_key(&k->out, done);
                json_string(&k->out, path);
                json_end_object(&k->out);
                json_finish(&k->out);
        } else
                printf("%c%s session %s.\n", done[0] - 'a' + 'A', done + 1, strrchr(path, '/') + 1);
        return 0;
}

int verb_pause(Kneectl *k, int argc, char *argv[])
{
        return kneectl_session_call(k, argv[1], "Pause", "paused");
}

int verb_resume(Kneectl *k, int argc, char *argv[])
{
        return kneectl_session_call(k, argv[1], "Resume", "resumed");
}

int kneectl_stop_session(Kneectl *k, const char *arg)
{
        return kneectl_session_call(k, arg, "Stop", "stopped");
}

/* The first idle device that lists every zone the routine uses. */
static int pick_device(Kneectl *k, const RoutineView *rv, char **ret)
{
        DeviceView *views = NULL;
        size_t n = 0;
        int r;

        r = kneectl_get_devices(k, &views, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                bool fits = streq_ptr(views[i].state, "idle");
                for (size_t s = 0; fits && s < rv->n_steps; s++)
                        fits = strv_contains(views[i].zones, rv->steps[s].zone);
                if (fits) {
                        *ret = strdup(views[i].path);
                        device_views_free(views, n);
                        return *ret ? 0 : -ENOMEM;
                }
        }
        device_views_free(views, n);
        fprintf(stderr, "kneectl: no idle device can run '%s'; choose one with --device\n", rv->id);
        return -ENODEV;
}

typedef struct Watch {
        Kneectl *k;
        sd_event *event;
        const char *path;
        const RoutineView *routine;
        const char *device;
        bool tty;
        bool utf8;
        bool status_shown;
        bool stopping;
        bool have_step;
        unsigned step;
        unsigned intensity;
        uint32_t elapsed_ms;
        uint32_t duration_ms;
        char state[16];
        int exit_code;
} Watch;

static void clear_status(Watch *w)
{
        if (w->tty && w->status_shown) {
                fputs("\r\033[K", stdout);
                w->status_shown = false;
        }
}

static void draw_status(Watch *w)
{
        char elapsed[16], total[16], left[16];
        unsigned filled;

        if (!w->tty)
                return;
        filled = w->duration_ms ? (unsigned) ((uint64_t) w->elapsed_ms * BAR_WIDTH / w->duration_ms)
                                : 0;
        filled = filled > BAR_WIDTH ? BAR_WIDTH : filled;
        format_mmss(elapsed, sizeof(elapsed), w->elapsed_ms);
        format_mmss(total, sizeof(total), w->duration_ms);
        format_mmss(left, sizeof(left),
                    w->duration_ms -
                            (w->elapsed_ms < w->duration_ms ? w->elapsed_ms : w->duration_ms));

        fputs("\r\033[K  ", stdout);
        for (unsigned i = 0; i < BAR_WIDTH; i++)
                fputs(i < filled ? (w->utf8 ? "█" : "#") : (w->utf8 ? "░" : "."), stdout);
        printf("  %s / %s  %3u%%  %s left%s", elapsed, total, w->intensity, left,
               streq(w->state, "paused") ? "  (paused)" : "");
        fflush(stdout);
        w->status_shown = true;
}

static void show_step(Watch *w, unsigned index, const char *zone, const char *pattern,
                      unsigned intensity, const char *cue)
{
        if (w->have_step && index == w->step)
                return;
        w->have_step = true;
        w->step = index;
        w->intensity = intensity;

        clear_status(w);
        printf("Step %u/%zu: %s, %s, %u%%\n", index + 1, w->routine->n_steps, zone, pattern,
               intensity);
        printf("  %s\n", cue);
        fflush(stdout);
        draw_status(w);
}

static void finish(Watch *w, const char *state, const char *reason)
{
        clear_status(w);
        if (streq(state, "completed"))
                printf("Finished: the routine is complete.\n");
        else
                printf("Finished: %s (%s).\n", state, reason);
        fflush(stdout);
        w->exit_code = streq(state, "aborted") ? 1 : 0;
        sd_event_exit(w->event, 0);
}

static void update_from_properties(Watch *w, sd_bus_message *m)
{
        bool state_changed = false;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return;
        while (sd_bus_message_enter_container(m, 'e', "sv") > 0) {
                const char *name, *s;

                if (sd_bus_message_read(m, "s", &name) < 0)
                        return;
                if (streq(name, "Intensity"))
                        r = sd_bus_message_read(m, "v", "u", &w->intensity);
                else if (streq(name, "ElapsedMs"))
                        r = sd_bus_message_read(m, "v", "u", &w->elapsed_ms);
                else if (streq(name, "DurationMs"))
                        r = sd_bus_message_read(m, "v", "u", &w->duration_ms);
                else if (streq(name, "State")) {
                        r = sd_bus_message_read(m, "v", "s", &s);
                        if (r >= 0 && !streq(w->state, s)) {
                                state_changed = w->state[0] != 0;
                                snprintf(w->state, sizeof(w->state), "%s", s);
                        }
                } else
                        r = sd_bus_message_skip(m, "v");
                if (r < 0 || sd_bus_message_exit_container(m) < 0)
                        return;
        }
        (void) sd_bus_message_exit_container(m);

        if (state_changed && (streq(w->state, "paused") || streq(w->state, "running"))) {
                clear_status(w);
                printf("%s\n", streq(w->state, "paused") ? "Paused." : "Resumed.");
        }
        draw_status(w);
}

static int on_step_started(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Watch *w = userdata;
        const char *zone, *pattern, *cue;
        unsigned index, intensity;

        if (!streq_ptr(sd_bus_message_get_path(m), w->path))
                return 0;
        if (sd_bus_message_read(m, "ussus", &index, &zone, &pattern, &intensity, &cue) >= 0)
                show_step(w, index, zone, pattern, intensity, cue);
        return 0;
}

static int on_finished(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Watch *w = userdata;
        const char *state, *reason;

        if (!streq_ptr(sd_bus_message_get_path(m), w->path))
                return 0;
        if (sd_bus_message_read(m, "ss", &state, &reason) >= 0)
                finish(w, state, reason);
        return 0;
}

static int on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Watch *w = userdata;
        const char *iface;

        if (!streq_ptr(sd_bus_message_get_path(m), w->path))
                return 0;
        if (sd_bus_message_read(m, "s", &iface) < 0 || !streq(iface, KNEED_SESSION_INTERFACE))
                return 0;
        update_from_properties(w, m);
        return 0;
}

static int on_name_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Watch *w = userdata;
        const char *name, *old_owner, *new_owner;

        if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0)
                return 0;
        if (streq(name, KNEED_BUS_NAME) && isempty(new_owner)) {
                clear_status(w);
                fprintf(stderr, "kneectl: kneed left the bus; the session is over\n");
                w->exit_code = 1;
                sd_event_exit(w->event, 0);
        }
        return 0;
}

static int on_refresh_reply(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        if (!sd_bus_message_is_method_error(m, NULL))
                update_from_properties(userdata, m);
        return 0;
}

static int on_refresh(sd_event_source *s, uint64_t usec, void *userdata)
{
        Watch *w = userdata;

        /* ElapsedMs runs continuously; read it rather than wait for the next change. */
        (void) sd_bus_call_method_async(w->k->bus, NULL, KNEED_BUS_NAME, w->path,
                                        "org.freedesktop.DBus.Properties", "GetAll",
                                        on_refresh_reply, w, "s", KNEED_SESSION_INTERFACE);
        (void) sd_event_source_set_time_relative(s, REFRESH_USEC);
        return sd_event_source_set_enabled(s, SD_EVENT_ON);
}

static int on_interrupt(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        Watch *w = userdata;

        if (w->stopping) {
                /* Second Ctrl-C: leave at once; kneed stops the session when we disconnect. */
                clear_status(w);
                w->exit_code = 130;
                return sd_event_exit(w->event, 0);
        }
        w->stopping = true;
        clear_status(w);
        printf("Stopping the session...\n");
        fflush(stdout);
        return sd_bus_call_method_async(w->k->bus, NULL, KNEED_BUS_NAME, w->path,
                                        KNEED_SESSION_INTERFACE, "Stop", NULL, NULL, NULL);
}

static int add_matches(Kneectl *k, Watch *w)
{
        int r;

        r = sd_bus_match_signal(k->bus, NULL, KNEED_BUS_NAME, NULL, KNEED_SESSION_INTERFACE,
                                "StepStarted", on_step_started, w);
        if (r >= 0)
                r = sd_bus_match_signal(k->bus, NULL, KNEED_BUS_NAME, NULL, KNEED_SESSION_INTERFACE,
                                        "Finished", on_finished, w);
        if (r >= 0)
                r = sd_bus_match_signal(k->bus, NULL, KNEED_BUS_NAME, NULL,
                                        "org.freedesktop.DBus.Properties", "PropertiesChanged",
                                        on_properties_changed, w);
        if (r >= 0)
                r = sd_bus_match_signal(k->bus, NULL, "org.freedesktop.DBus",
                                        "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                        "NameOwnerChanged", on_name_owner_changed, w);
        return r;
}

static int watch_run(Kneectl *k, Watch *w)
{
        _cleanup_(sd_event_source_unrefp) sd_event_source *refresh = NULL;
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        sigset_t mask;
        int r;

        r = sd_event_new(&event);
        if (r < 0)
                return r;
        w->event = event;

        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        r = sd_event_add_signal(event, NULL, SIGINT, on_interrupt, w);
        if (r >= 0)
                r = sd_event_add_signal(event, NULL, SIGTERM, on_interrupt, w);
        if (r >= 0 && w->tty)
                r = sd_event_add_time_relative(event, &refresh, CLOCK_MONOTONIC, REFRESH_USEC,
                                               10 * 1000, on_refresh, w);
        if (r >= 0)
                r = sd_bus_attach_event(k->bus, event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return r;

        r = sd_event_loop(event);
        sd_bus_detach_event(k->bus);
        if (r < 0)
                return r;
        k->exit_status = w->exit_code;
        return 0;
}

int verb_start(Kneectl *k, int argc, char *argv[])
{
        enum {
                ARG_DEVICE = 0x100,
                ARG_WATCH,
                ARG_SCREENING,
        };
        static const struct option options[] = {
                {"device", required_argument, NULL, ARG_DEVICE},
                {"watch", no_argument, NULL, ARG_WATCH},
                {"screening", required_argument, NULL, ARG_SCREENING},
                {},
        };
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        bool yes[SCREENING_MAX] = {}, answered[SCREENING_MAX] = {}, screened = false;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *device = NULL, *path = NULL;
        const char *routine_id = NULL, *session_path;
        RoutineView rv = {};
        Watch w = {.k = k};
        bool watch = false;
        int c, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0) {
                switch (c) {
                case ARG_DEVICE:
                        free(device);
                        if (kneectl_device_path(optarg, &device) < 0) {
                                fprintf(stderr, "kneectl: '%s' is not a device id or path\n",
                                        optarg);
                                return -EINVAL;
                        }
                        break;
                case ARG_WATCH:
                        watch = true;
                        break;
                case ARG_SCREENING:
                        if (kneectl_parse_screening(optarg, yes, answered) < 0)
                                return -EINVAL;
                        screened = true;
                        break;
                default:
                        fprintf(stderr, "Usage: kneectl start ROUTINE [--device DEVICE] [--watch] "
                                        "[--screening KEY=yes|no,...]\n");
                        return -EINVAL;
                }
        }
        if (optind != argc - 1) {
                fprintf(stderr, "Usage: kneectl start ROUTINE [--device DEVICE] [--watch] "
                                "[--screening KEY=yes|no,...]\n");
                return -EINVAL;
        }
        routine_id = argv[optind];

        r = kneectl_get_routine(k, routine_id, &rv);
        if (r < 0)
                return r;
        if (!device) {
                r = pick_device(k, &rv, &device);
                if (r < 0)
                        goto finish;
        }

        /* Subscribe before starting, so that nothing the session announces is missed. */
        if (watch) {
                r = add_matches(k, &w);
                if (r < 0) {
                        r = kneectl_error(k, "Failed to subscribe to session signals", r, NULL);
                        goto finish;
                }
        }

        /* On a terminal, ask the screening questions the policy needs; scripts pass them. */
        if (!screened && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
                r = kneectl_ask_screening(k, yes, answered, &screened);
                if (r < 0)
                        goto finish;
        }

        /* Without --watch nobody stays to stop it, so the session runs on its own (detach). */
        r = sd_bus_message_new_method_call(k->bus, &call, KNEED_BUS_NAME, KNEED_MANAGER_PATH,
                                           KNEED_MANAGER_INTERFACE, "StartRoutine");
        if (r >= 0)
                r = sd_bus_message_append(call, "os", device, routine_id);
        if (r >= 0)
                r = sd_bus_message_open_container(call, 'a', "{sv}");
        if (r >= 0)
                r = sd_bus_message_append(call, "{sv}", "detach", "b", (int) !watch);
        if (r >= 0 && screened) {
                r = sd_bus_message_open_container(call, 'e', "sv");
                if (r >= 0)
                        r = sd_bus_message_append(call, "s", "screening");
                if (r >= 0)
                        r = sd_bus_message_open_container(call, 'v', "a{sb}");
                if (r >= 0)
                        r = sd_bus_message_open_container(call, 'a', "{sb}");
                for (int q = 0; r >= 0 && q < SCREENING_MAX; q++)
                        if (answered[q])
                                r = sd_bus_message_append(call, "{sb}", screening_to_string(q),
                                                          (int) yes[q]);
                for (int i = 0; r >= 0 && i < 3; i++)
                        r = sd_bus_message_close_container(call);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(call);
        if (r < 0) {
                r = kneectl_error(k, "Failed to build the request", r, NULL);
                goto finish;
        }
        r = sd_bus_call(k->bus, call, 0, &error, &reply);
        if (r < 0) {
                r = kneectl_error(k, "Failed to start the routine", r, &error);
                goto finish;
        }
        r = sd_bus_message_read(reply, "o", &session_path);
        if (r < 0 || !(path = strdup(session_path))) {
                r = kneectl_error(k, "Failed to parse the reply", r < 0 ? r : -ENOMEM, NULL);
                goto finish;
        }

        if (!watch) {
                if (k->json) {
                        json_begin_object(&k->out);
                        json_key(&k->out, "session");
                        json_string(&k->out, path);
                        json_key(&k->out, "device");
                        json_string(&k->out, device);
                        json_key(&k->out, "routine");
                        json_string(&k->out, routine_id);
                        json_end_object(&k->out);
                        json_finish(&k->out);
                } else
                        printf("Started %s on %s: %s\n", routine_id, strrchr(device, '/') + 1,
                               path);
                r = 0;
                goto finish;
        }

        w.path = path;
        w.routine = &rv;
        w.device = device;
        w.tty = isatty(STDOUT_FILENO);
        w.utf8 = streq(nl_langinfo(CODESET), "UTF-8");
        w.duration_ms = rv.total_seconds * 1000;
        snprintf(w.state, sizeof(w.state), "running");
        printf("%s on %s (%s). Ctrl-C stops it.\n", rv.name, strrchr(device, '/') + 1,
               strrchr(path, '/') + 1);
        fflush(stdout);
        r = watch_run(k, &w);

finish:
        routine_view_clear(&rv);
        return r;
}
