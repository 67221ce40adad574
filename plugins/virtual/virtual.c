/* SPDX-License-Identifier: MIT */

/*
 * A simulated massager for the demo and the tests. It records every command it receives in the
 * trace file (--virtual-trace) so that tests can assert exactly what a device was told, models
 * a heater with a first-order thermal model, and a firmware dead-man switch. Device-file keys
 * make it fail in the ways real hardware does, so the tests can reach every error path.
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <kneed/plugin.h>
#include <math.h> /* isfinite(), a macro: no libm */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct Virtual {
        KneedDevice *device;
        int trace_fd;
        bool running;
        unsigned heat_target;
        /* Thermal model: the element moves towards its target exponentially. */
        double temperature;
        uint64_t temperature_usec;
        double ambient;
        double time_constant_s;
        double overshoot; /* a faulty heater, for tests: overshoots its target by this much */
        unsigned report_ms;
        KneedTimer *keepalive_timer;
        KneedTimer *thermal_timer;

        /* Simulated failures (see README.md). 0 means never. */
        unsigned fail_set_output;          /* from this set_output() on, fail with -EIO */
        unsigned fault_in_set_output;      /* at this set_output(), report a fault from inside it */
        bool fail_stop;                    /* stop() fails with -EIO while the output is on */
        unsigned fault_after_ms;           /* report a motor fault this long after output starts */
        unsigned drop_keepalives_after_ms; /* ignore keepalives once output ran this long */
        unsigned n_set_output;
        uint64_t running_since;
        KneedTimer *fault_timer;
} Virtual;

static const char *const pattern_names[KNEED_PATTERN_MAX] = {
        [KNEED_PATTERN_CONTINUOUS] = "continuous",
        [KNEED_PATTERN_PULSE] = "pulse",
        [KNEED_PATTERN_WAVE] = "wave",
        [KNEED_PATTERN_PERCUSSION] = "percussion",
        [KNEED_PATTERN_KNEAD] = "knead",
        [KNEED_PATTERN_SWEEP] = "sweep",
};

static void trace(Virtual *v, const char *format, ...) __attribute__((format(printf, 2, 3)));
static void trace(Virtual *v, const char *format, ...)
{
        char line[512];
        va_list ap;
        int n, m;

        if (v->trace_fd < 0)
                return;

        n = snprintf(line, sizeof(line), "t_us=%" PRIu64 " dev=%s ", kneed_now_usec(),
                     kneed_device_get_id(v->device));
        va_start(ap, format);
        m = vsnprintf(line + n, sizeof(line) - (size_t) n - 1, format, ap);
        va_end(ap);
        if (m < 0)
                return;
        n = (int) strlen(line);
        line[n++] = '\n';

        /* One write() per line on an O_APPEND fd: lines from several devices never interleave. */
        (void) !write(v->trace_fd, line, (size_t) n);
}

static double key_double(KneedDevice *d, const char *key, double def, double min, double max,
                         int *error)
{
        const char *s = kneed_device_get_key(d, key);
        char *end;
        double x;

        if (!s)
                return def;
        errno = 0;
        x = strtod(s, &end);
        if (errno != 0 || end == s || *end || !isfinite(x) || x < min || x > max)
                *error = -EINVAL;
        return x;
}

static unsigned key_unsigned(KneedDevice *d, const char *key, int *error)
{
        return (unsigned) key_double(d, key, 0, 0, 1e9, error);
}

static void simulated_fault(KneedDevice *d, void *userdata)
{
        KneedStatus st = {
                .temperature_decicelsius = KNEED_TEMPERATURE_UNKNOWN,
                .contact = -1,
                .faults = KNEED_FAULT_MOTOR,
        };
        kneed_device_report_status(d, &st);
}

/*
 * e^-x for x >= 0, and rounding to decidegrees, without libm: it would be the only reason the
 * daemon maps libm (0.3 MiB resident, bench/suite). e^-x = (1/e)^n e^-f with n whole and
 * f < 1, e^-f from its series; relative error below 1e-9, plenty for a simulated heater.
 */
static double exp_neg(double x)
{
        double result = 1.0, term = 1.0, f;
        unsigned n;

        if (!(x > 0))
                return 1.0;
        if (x > 700)
                return 0.0;
        n = (unsigned) x;
        f = x - n;
        for (unsigned k = 1; k <= 16; k++) {
                term *= -f / k;
                result += term;
        }
        for (unsigned i = 0; i < n; i++)
                result *= 0.36787944117144233; /* 1/e */
        return result;
}

static int32_t to_decidegrees(double celsius)
{
        double x = celsius * 10.0;

        return x >= 0 ? (int32_t) (x + 0.5) : -(int32_t) (-x + 0.5);
}

static void thermal_advance(Virtual *v)
{
        uint64_t now = kneed_now_usec();
        double dt = (double) (now - v->temperature_usec) / 1e6;
        double target = v->heat_target > 0 ? v->heat_target + v->overshoot : v->ambient;

        v->temperature = target + (v->temperature - target) * exp_neg(dt / v->time_constant_s);
        v->temperature_usec = now;
}

static void thermal_report(KneedDevice *d, void *userdata)
{
        Virtual *v = userdata;
        KneedStatus st = {.contact = -1};

        thermal_advance(v);
        st.temperature_decicelsius = to_decidegrees(v->temperature);

        /* Report while heating or cooling down; once back at ambient, stay quiet (no wakeups). */
        if (v->heat_target > 0 || v->temperature > v->ambient + 0.5)
                (void) kneed_timer_arm(v->thermal_timer, (uint64_t) v->report_ms * 1000);
        kneed_device_report_status(d, &st);
}

static void keepalive_expired(KneedDevice *d, void *userdata)
{
        Virtual *v = userdata;

        /* The daemon went quiet: do what real firmware with a dead-man switch does. */
        thermal_advance(v);
        v->running = false;
        v->heat_target = 0;
        trace(v, "op=stop reason=keepalive");
        kneed_device_report_stopped(d, "keepalive");
}

static void keepalive_rearm(Virtual *v)
{
        unsigned ms = kneed_device_get_keepalive_ms(v->device);

        if (ms == 0)
                return;
        if (v->running)
                (void) kneed_timer_arm(v->keepalive_timer, (uint64_t) ms * 1000);
        else
                kneed_timer_disarm(v->keepalive_timer);
}

static int virtual_probe(KneedDevice *d)
{
        const char *path;
        Virtual *v;
        int r = 0;

        /* Only devices the database (virtual:MODEL) assigns to us; never probe real hardware. */
        if (kneed_device_get_transport(d) != KNEED_TRANSPORT_VIRTUAL)
                return -ENODEV;

        v = calloc(1, sizeof(Virtual));
        if (!v)
                return -ENOMEM;
        v->device = d;
        v->trace_fd = -1;
        v->ambient = key_double(d, "AmbientCelsius", 30.0, 0.0, 40.0, &r);
        v->time_constant_s = key_double(d, "HeatTimeConstantSeconds", 60.0, 0.1, 3600.0, &r);
        v->overshoot = key_double(d, "HeaterOvershootCelsius", 0.0, 0.0, 30.0, &r);
        v->report_ms = (unsigned) key_double(d, "StatusIntervalMs", 1000.0, 10.0, 60000.0, &r);
        v->temperature = v->ambient;
        v->temperature_usec = kneed_now_usec();
        v->fail_set_output = key_unsigned(d, "FailSetOutput", &r);
        v->fault_in_set_output = key_unsigned(d, "FaultInSetOutput", &r);
        v->fault_after_ms = key_unsigned(d, "FaultAfterMs", &r);
        v->drop_keepalives_after_ms = key_unsigned(d, "DropKeepalivesAfterMs", &r);
        v->fail_stop = key_unsigned(d, "FailStop", &r) > 0;
        if (r < 0)
                goto fail;

        path = kneed_device_get_key(d, "Trace");
        if (path) {
                v->trace_fd =
                        open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
                if (v->trace_fd < 0) {
                        r = -errno;
                        goto fail;
                }
        }

        r = kneed_timer_new(d, keepalive_expired, v, &v->keepalive_timer);
        if (r >= 0)
                r = kneed_timer_new(d, thermal_report, v, &v->thermal_timer);
        if (r >= 0)
                r = kneed_timer_new(d, simulated_fault, v, &v->fault_timer);
        if (r < 0)
                goto fail;

        kneed_device_set_userdata(d, v);
        return 0;

fail:
        kneed_timer_free(v->keepalive_timer);
        kneed_timer_free(v->thermal_timer);
        kneed_timer_free(v->fault_timer);
        if (v->trace_fd >= 0)
                close(v->trace_fd);
        free(v);
        return r;
}

static void virtual_remove(KneedDevice *d)
{
        Virtual *v = kneed_device_get_userdata(d);

        kneed_timer_free(v->keepalive_timer);
        kneed_timer_free(v->thermal_timer);
        kneed_timer_free(v->fault_timer);
        if (v->trace_fd >= 0)
                close(v->trace_fd);
        free(v);
}

static int virtual_set_output(KneedDevice *d, const KneedOutput *o)
{
        Virtual *v = kneed_device_get_userdata(d);

        if (o->level > kneed_device_get_levels(d) ||
            o->heat_celsius > kneed_device_get_max_heat(d) ||
            (unsigned) o->pattern >= KNEED_PATTERN_MAX)
                return -EINVAL; /* the daemon's clamp should make this impossible */

        v->n_set_output++;
        if (v->fail_set_output > 0 && v->n_set_output >= v->fail_set_output)
                return -EIO; /* the command never reached the device */

        thermal_advance(v);
        v->heat_target = o->heat_celsius;
        if (!v->running)
                v->running_since = kneed_now_usec();
        v->running = o->level > 0 || o->heat_celsius > 0;
        trace(v, "op=set zone=%s level=%u pattern=%s heat=%u", o->zone, o->level,
              pattern_names[o->pattern], o->heat_celsius);

        if (v->fault_in_set_output > 0 && v->n_set_output == v->fault_in_set_output)
                kneed_device_report_fault(d, -EIO, "simulated motor fault");
        if (v->fault_after_ms > 0 && v->running)
                (void) kneed_timer_arm(v->fault_timer, (uint64_t) v->fault_after_ms * 1000);

        keepalive_rearm(v);
        if (v->heat_target > 0)
                (void) kneed_timer_arm(v->thermal_timer, (uint64_t) v->report_ms * 1000);
        return 0;
}

static int virtual_stop(KneedDevice *d)
{
        Virtual *v = kneed_device_get_userdata(d);

        if (v->fail_stop && v->running)
                return -EIO; /* the motor keeps running, as far as anyone can tell */

        kneed_timer_disarm(v->fault_timer);
        thermal_advance(v);
        v->running = false;
        v->heat_target = 0;
        trace(v, "op=stop");
        keepalive_rearm(v);
        return 0;
}

static int virtual_keepalive(KneedDevice *d)
{
        Virtual *v = kneed_device_get_userdata(d);

        /* A lossy link: keepalives stop arriving, so the dead-man switch will fire. */
        if (v->drop_keepalives_after_ms > 0 && v->running &&
            kneed_now_usec() - v->running_since >= (uint64_t) v->drop_keepalives_after_ms * 1000)
                return 0;

        trace(v, "op=keepalive");
        keepalive_rearm(v);
        return 0;
}

static int virtual_status(KneedDevice *d, KneedStatus *ret)
{
        Virtual *v = kneed_device_get_userdata(d);

        thermal_advance(v);
        *ret = (KneedStatus){
                .temperature_decicelsius = kneed_device_get_max_heat(d) > 0
                                                   ? to_decidegrees(v->temperature)
                                                   : KNEED_TEMPERATURE_UNKNOWN,
                .contact = -1,
                .faults = KNEED_FAULT_NONE,
        };
        return 0;
}

__attribute__((visibility("default"))) const KneedPlugin kneed_plugin = {
        .abi = KNEED_PLUGIN_ABI,
        .id = "virtual",
        .probe = virtual_probe,
        .remove = virtual_remove,
        .set_output = virtual_set_output,
        .stop = virtual_stop,
        .keepalive = virtual_keepalive,
        .status = virtual_status,
};
