/* SPDX-License-Identifier: MIT */

#include <getopt.h>
#include <math.h>

#include "config.h"
#include "log.h"
#include "options.h"
#include "string-util.h"
#include "strv.h"

void options_done(Options *o)
{
        free(o->bus_address);
        free(o->plugin_dir);
        free(o->data_dir);
        free(o->state_dir);
        free(o->config_path);
        free(o->extra_routine_dir);
        strv_free(o->virtual_models);
        free(o->virtual_trace);
        *o = (Options){};
}

static void help(FILE *out)
{
        fprintf(out,
                "%s [OPTIONS...]\n\n"
                "The knee massager daemon: finds massage devices, runs knee routines on them and\n"
                "enforces the safety policy. Bus name "
                "org.kneed.Kneed1"
                ".\n\n"
                "  -h --help                 Show this help\n"
                "     --version              Show the version\n"
                "     --system               Serve on the system bus (default)\n"
                "     --session              Serve on the session bus\n"
                "     --bus-address=ADDRESS  Serve on the bus at ADDRESS\n"
                "     --plugin-dir=DIR       Load plugins from DIR (default %s)\n"
                "     --data-dir=DIR         Read routines/ and devices/ from DIR (default %s)\n"
                "     --routine-dir=DIR      Local routines (default %s)\n"
                "     --state-dir=DIR        Keep the session ledger in DIR (default %s)\n"
                "     --config=FILE          Policy file (default %s)\n"
                "     --virtual-devices=SPEC Add virtual devices: N, MODEL or MODEL:N, "
                "comma-separated\n"
                "     --virtual-trace=FILE   Append every command virtual devices receive to FILE\n"
                "     --time-scale=N         Run routines N times faster (virtual devices only)\n"
                "     --no-hardware          Use no real devices, only virtual ones\n"
                "     --session-linger=SEC   Keep finished sessions on the bus this long (default "
                "60)\n"
                "     --exit-idle-time=SEC   Exit after SEC seconds without devices or sessions "
                "(0, "
                "the\n"
                "                            default: never)\n"
                "     --polkit=yes|no|auto   Ask polkit to authorize starting routines and\n"
                "                            administration (auto: on the system bus only)\n"
                "     --log-level=LEVEL      err, warning, notice, info or debug (default info)\n",
                program_invocation_short_name, KNEED_PLUGIN_DIR, KNEED_DATA_DIR,
                KNEED_LOCAL_ROUTINE_DIR, KNEED_STATE_DIR, KNEED_POLICY_PATH);
}

int options_parse_virtual_devices(const char *spec, FILE *err, char ***models)
{
        _cleanup_strv_free_ char **items = NULL, **result = NULL;
        int r;

        r = strv_split(spec, ",", &items);
        if (r < 0)
                return r;
        if (!items[0]) {
                fprintf(err, "--virtual-devices: empty specification\n");
                return -EINVAL;
        }

        result = strv_copy(*models);
        if (!result)
                return -ENOMEM;

        STRV_FOREACH (item, items) {
                _cleanup_free_ char *model = NULL;
                unsigned count = 1;
                char *colon;

                if (safe_atou(*item, &count) >= 0)
                        model = strdup("virtual");
                else {
                        colon = strchr(*item, ':');
                        model = colon ? strndup(*item, (size_t) (colon - *item)) : strdup(*item);
                        if (model && colon && safe_atou(colon + 1, &count) < 0) {
                                fprintf(err, "--virtual-devices: invalid count in '%s'\n", *item);
                                return -EINVAL;
                        }
                }
                if (!model)
                        return -ENOMEM;
                if (!id_is_valid(model)) {
                        fprintf(err,
                                "--virtual-devices: invalid model name '%s' (expected "
                                "[a-z0-9-]+)\n",
                                model);
                        return -EINVAL;
                }
                if (count == 0) {
                        fprintf(err, "--virtual-devices: count must be at least 1 in '%s'\n",
                                *item);
                        return -EINVAL;
                }
                if (count > VIRTUAL_DEVICES_MAX ||
                    strv_length(result) + count > VIRTUAL_DEVICES_MAX) {
                        fprintf(err, "--virtual-devices: at most %u virtual devices\n",
                                VIRTUAL_DEVICES_MAX);
                        return -ERANGE;
                }
                for (unsigned i = 0; i < count; i++) {
                        r = strv_extend(&result, model);
                        if (r < 0)
                                return r;
                }
        }

        strv_free(*models);
        *models = TAKE_PTR(result);
        return 0;
}

static int set_path(char **dst, const char *value, const char *option, FILE *err)
{
        char *p;

        if (isempty(value)) {
                fprintf(err, "%s: empty path\n", option);
                return -EINVAL;
        }
        p = strdup(value);
        if (!p)
                return -ENOMEM;
        free(*dst);
        *dst = p;
        return 0;
}

static int set_default(char **dst, const char *value)
{
        if (*dst)
                return 0;
        *dst = strdup(value);
        return *dst ? 0 : -ENOMEM;
}

int options_parse(int argc, char *argv[], FILE *out, FILE *err, Options *ret)
{
        enum {
                ARG_VERSION = 0x100,
                ARG_SYSTEM,
                ARG_SESSION,
                ARG_BUS_ADDRESS,
                ARG_PLUGIN_DIR,
                ARG_DATA_DIR,
                ARG_ROUTINE_DIR,
                ARG_STATE_DIR,
                ARG_CONFIG,
                ARG_VIRTUAL_DEVICES,
                ARG_VIRTUAL_TRACE,
                ARG_TIME_SCALE,
                ARG_SESSION_LINGER,
                ARG_EXIT_IDLE_TIME,
                ARG_POLKIT,
                ARG_NO_HARDWARE,
                ARG_LOG_LEVEL,
        };
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, ARG_VERSION},
                {"system", no_argument, NULL, ARG_SYSTEM},
                {"session", no_argument, NULL, ARG_SESSION},
                {"bus-address", required_argument, NULL, ARG_BUS_ADDRESS},
                {"plugin-dir", required_argument, NULL, ARG_PLUGIN_DIR},
                {"data-dir", required_argument, NULL, ARG_DATA_DIR},
                {"routine-dir", required_argument, NULL, ARG_ROUTINE_DIR},
                {"state-dir", required_argument, NULL, ARG_STATE_DIR},
                {"config", required_argument, NULL, ARG_CONFIG},
                {"virtual-devices", required_argument, NULL, ARG_VIRTUAL_DEVICES},
                {"virtual-trace", required_argument, NULL, ARG_VIRTUAL_TRACE},
                {"time-scale", required_argument, NULL, ARG_TIME_SCALE},
                {"session-linger", required_argument, NULL, ARG_SESSION_LINGER},
                {"exit-idle-time", required_argument, NULL, ARG_EXIT_IDLE_TIME},
                {"polkit", required_argument, NULL, ARG_POLKIT},
                {"no-hardware", no_argument, NULL, ARG_NO_HARDWARE},
                {"log-level", required_argument, NULL, ARG_LOG_LEVEL},
                {}};
        _cleanup_(options_done) Options o = {
                .bus_kind = BUS_KIND_SYSTEM,
                .time_scale = 1.0,
                .session_linger_usec = 60 * UINT64_C(1000000),
                .log_level = LOG_INFO,
        };
        int c, r;

        /* getopt keeps global state; reset it so that the parser can be called more than once. */
        optind = 0;
        opterr = 0;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        help(out);
                        return 0;
                case ARG_VERSION:
                        fprintf(out, "kneed %s\n", KNEED_VERSION);
                        return 0;
                case ARG_SYSTEM:
                        o.bus_kind = BUS_KIND_SYSTEM;
                        break;
                case ARG_SESSION:
                        o.bus_kind = BUS_KIND_SESSION;
                        break;
                case ARG_BUS_ADDRESS:
                        o.bus_kind = BUS_KIND_ADDRESS;
                        r = set_path(&o.bus_address, optarg, "--bus-address", err);
                        if (r < 0)
                                return r;
                        break;
                case ARG_PLUGIN_DIR:
                        r = set_path(&o.plugin_dir, optarg, "--plugin-dir", err);
                        if (r < 0)
                                return r;
                        break;
                case ARG_DATA_DIR:
                        r = set_path(&o.data_dir, optarg, "--data-dir", err);
                        if (r < 0)
                                return r;
                        break;
                case ARG_ROUTINE_DIR:
                        r = set_path(&o.extra_routine_dir, optarg, "--routine-dir", err);
                        if (r < 0)
                                return r;
                        break;
                case ARG_STATE_DIR:
                        r = set_path(&o.state_dir, optarg, "--state-dir", err);
                        if (r < 0)
                                return r;
                        break;
                case ARG_CONFIG:
                        r = set_path(&o.config_path, optarg, "--config", err);
                        if (r < 0)
                                return r;
                        break;
                case ARG_VIRTUAL_DEVICES:
                        r = options_parse_virtual_devices(optarg, err, &o.virtual_models);
                        if (r < 0)
                                return r;
                        break;
                case ARG_VIRTUAL_TRACE:
                        r = set_path(&o.virtual_trace, optarg, "--virtual-trace", err);
                        if (r < 0)
                                return r;
                        break;
                case ARG_TIME_SCALE: {
                        char *end;
                        double v;

                        errno = 0;
                        v = strtod(optarg, &end);
                        if (errno != 0 || *end || end == optarg || !isfinite(v) || v < 1.0 ||
                            v > 1000.0) {
                                fprintf(err,
                                        "--time-scale: expected a number from 1 to 1000, got "
                                        "'%s'\n",
                                        optarg);
                                return -EINVAL;
                        }
                        o.time_scale = v;
                        break;
                }
                case ARG_SESSION_LINGER: {
                        unsigned sec;

                        if (safe_atou(optarg, &sec) < 0 || sec > 3600) {
                                fprintf(err,
                                        "--session-linger: expected seconds from 0 to 3600, got "
                                        "'%s'\n",
                                        optarg);
                                return -EINVAL;
                        }
                        o.session_linger_usec = (uint64_t) sec * 1000000;
                        break;
                }
                case ARG_EXIT_IDLE_TIME: {
                        unsigned sec;

                        if (safe_atou(optarg, &sec) < 0 || sec > 86400) {
                                fprintf(err,
                                        "--exit-idle-time: expected seconds from 0 to 86400, got "
                                        "'%s'\n",
                                        optarg);
                                return -EINVAL;
                        }
                        o.exit_idle_usec = (uint64_t) sec * 1000000;
                        break;
                }
                case ARG_POLKIT:
                        if (streq(optarg, "auto"))
                                o.polkit = POLKIT_AUTO;
                        else {
                                r = parse_boolean(optarg);
                                if (r < 0) {
                                        fprintf(err,
                                                "--polkit: expected yes, no or auto, got '%s'\n",
                                                optarg);
                                        return -EINVAL;
                                }
                                o.polkit = r ? POLKIT_YES : POLKIT_NO;
                        }
                        break;
                case ARG_NO_HARDWARE:
                        o.no_hardware = true;
                        break;
                case ARG_LOG_LEVEL:
                        r = log_level_from_string(optarg);
                        if (r < 0) {
                                fprintf(err, "--log-level: unknown level '%s'\n", optarg);
                                return r;
                        }
                        o.log_level = r;
                        break;
                case '?':
                default:
                        fprintf(err,
                                "%s: unknown option or missing argument: '%s'\n"
                                "Try '%s --help'.\n",
                                program_invocation_short_name, argv[optind - 1],
                                program_invocation_short_name);
                        return -EINVAL;
                }
        }

        if (optind < argc) {
                fprintf(err, "%s: unexpected argument '%s'\n", program_invocation_short_name,
                        argv[optind]);
                return -EINVAL;
        }

        if (o.virtual_trace && !o.virtual_models) {
                fprintf(err, "--virtual-trace needs --virtual-devices\n");
                return -EINVAL;
        }

        r = set_default(&o.plugin_dir, KNEED_PLUGIN_DIR);
        if (r >= 0)
                r = set_default(&o.data_dir, KNEED_DATA_DIR);
        if (r >= 0)
                r = set_default(&o.state_dir, KNEED_STATE_DIR);
        if (r >= 0)
                r = set_default(&o.config_path, KNEED_POLICY_PATH);
        if (r >= 0)
                r = set_default(&o.extra_routine_dir, KNEED_LOCAL_ROUTINE_DIR);
        if (r < 0)
                return r;

        *ret = o;
        o = (Options){};
        return 1;
}
