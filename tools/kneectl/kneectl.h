/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "json-writer.h"
#include "screening.h"
#include "strv.h"

typedef struct Kneectl {
        sd_bus *bus;
        const char *bus_description; /* "the system bus", for messages */
        bool json;
        JsonWriter out;
        /* What kneectl exits with when the command itself worked: start --watch exits 1 when
         * the session was aborted, 130 when a second Ctrl-C left it. */
        int exit_status;
} Kneectl;

/* What kneectl knows about one device, from its D-Bus properties. */
typedef struct DeviceView {
        char *path;
        char *id;
        char *name;
        char *plugin;
        char *transport;
        char **zones;
        unsigned levels;
        bool has_heat;
        char *state;
} DeviceView;

/* What kneectl knows about one session. */
typedef struct SessionView {
        char *path;
        unsigned id;
        char *routine;
        char *device;
        char *state;
        char *zone;
        char *stop_reason;
        unsigned step_index;
        unsigned step_count;
        unsigned intensity;
        unsigned elapsed_ms;
        unsigned duration_ms;
} SessionView;

void device_view_clear(DeviceView *d);
void device_views_free(DeviceView *views, size_t n);
void session_view_clear(SessionView *v);
void session_views_free(SessionView *views, size_t n);

/* Reads every device and session through one ObjectManager.GetManagedObjects call. */
int kneectl_get_objects(Kneectl *k, DeviceView **ret_devices, size_t *ret_n_devices,
                        SessionView **ret_sessions, size_t *ret_n_sessions);
int kneectl_get_devices(Kneectl *k, DeviceView **ret, size_t *ret_n);

/*
 * Turns a failed call into a one-line message on stderr and returns a negative errno. Knows the
 * errors that mean "kneed isn't running" and says so.
 */
int kneectl_error(Kneectl *k, const char *what, int r, const sd_bus_error *error);

/* Accepts a device id ("virtual0") or object path; writes the object path. */
int kneectl_device_path(const char *arg, char **ret);

typedef struct RoutineView RoutineView;
int kneectl_get_routine(Kneectl *k, const char *id, RoutineView *ret);

/* Accepts a session number ("3") or object path; writes the object path. */
int kneectl_session_path(const char *arg, char **ret);
bool kneectl_is_session_arg(const char *arg);
int kneectl_stop_session(Kneectl *k, const char *arg);

int verb_devices(Kneectl *k, int argc, char *argv[]);
int verb_routines(Kneectl *k, int argc, char *argv[]);
int verb_show(Kneectl *k, int argc, char *argv[]);
int verb_start(Kneectl *k, int argc, char *argv[]);
int verb_pause(Kneectl *k, int argc, char *argv[]);
int verb_limits(Kneectl *k, int argc, char *argv[]);
int verb_history(Kneectl *k, int argc, char *argv[]);
int verb_pain(Kneectl *k, int argc, char *argv[]);
int verb_clear_lockout(Kneectl *k, int argc, char *argv[]);

/* Calls method on a session given by number or path; prints "<Done> session N." */
int kneectl_session_call(Kneectl *k, const char *arg, const char *method, const char *done);

/* --screening KEY=yes|no,...: fills yes[] and answered[]. */
int kneectl_parse_screening(const char *spec, bool yes[SCREENING_MAX],
                            bool answered[SCREENING_MAX]);
/* Asks the questions the daemon's policy needs on the terminal. */
int kneectl_ask_screening(Kneectl *k, bool yes[SCREENING_MAX], bool answered[SCREENING_MAX],
                          bool *ret_asked);
int verb_resume(Kneectl *k, int argc, char *argv[]);
int verb_status(Kneectl *k, int argc, char *argv[]);
int verb_stop(Kneectl *k, int argc, char *argv[]);
