/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>
#include <stdio.h>

#include "macro.h"

typedef enum PolkitMode {
        POLKIT_AUTO, /* polkit on the system bus; elsewhere the bus's own access control */
        POLKIT_YES,
        POLKIT_NO,
} PolkitMode;

typedef enum BusKind {
        BUS_KIND_SYSTEM,
        BUS_KIND_SESSION,
        BUS_KIND_ADDRESS,
} BusKind;

/* At most this many virtual devices; each is a full Device object. */
#define VIRTUAL_DEVICES_MAX 256u

typedef struct Options {
        BusKind bus_kind;
        char *bus_address;
        char *plugin_dir;
        char *data_dir;
        char *state_dir;
        char *config_path;
        char *extra_routine_dir;
        char **virtual_models; /* one entry per virtual device, the model name */
        char *virtual_trace;
        bool no_hardware; /* virtual devices only: never look at the machine's own */
        double time_scale;
        uint64_t session_linger_usec;
        uint64_t exit_idle_usec; /* 0: never exit for being idle */
        PolkitMode polkit;
        int log_level;
} Options;

void options_done(Options *o);

/*
 * Parses "N", "MODEL", "MODEL:N" and comma-separated lists of them into one model name per
 * device ("3" is three of the default model "virtual"), appending to *models (in and out).
 * Returns 0, or -EINVAL/-ERANGE with a message printed to err and *models unchanged.
 */
int options_parse_virtual_devices(const char *spec, FILE *err, char ***models);

/*
 * Parses the command line. Returns 1 to run the daemon, 0 when it printed --help or --version
 * to out and should exit successfully, or a negative errno after printing what was wrong to err.
 * Defaults for every path come from the build configuration.
 */
int options_parse(int argc, char *argv[], FILE *out, FILE *err, Options *ret);
