/* SPDX-License-Identifier: MIT */

/*
 * Calls StopAll once on the kneed at the given bus address and prints when the call went out, in
 * CLOCK_MONOTONIC microseconds: the benchmark's start, taken as close to the socket as a client
 * gets (a Python client adds its own overhead before the message leaves).
 *
 *     stop-all-call ADDRESS
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>

static unsigned long long now_usec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (unsigned long long) ts.tv_sec * 1000000ULL + (unsigned long long) ts.tv_nsec / 1000;
}

int main(int argc, char **argv)
{
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus *bus = NULL;
        unsigned long long t0;
        int r;

        if (argc != 2) {
                fprintf(stderr, "usage: %s ADDRESS\n", argv[0]);
                return 2;
        }
        r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_address(bus, argv[1]);
        if (r >= 0)
                r = sd_bus_set_bus_client(bus, 1);
        if (r >= 0)
                r = sd_bus_start(bus);
        /* Hello is done before the clock starts: a connected client calling StopAll. */
        if (r >= 0)
                r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "GetId", &error, NULL, NULL);
        if (r < 0) {
                fprintf(stderr, "cannot connect to %s: %s\n", argv[1], strerror(-r));
                return 1;
        }
        t0 = now_usec();
        r = sd_bus_call_method(bus, "org.kneed.Kneed1", "/org/kneed/Kneed1",
                               "org.kneed.Kneed1.Manager", "StopAll", &error, NULL, NULL);
        if (r < 0) {
                fprintf(stderr, "StopAll failed: %s\n", error.message ? error.message : "");
                return 1;
        }
        printf("%llu\n", t0);
        sd_bus_error_free(&error);
        sd_bus_flush_close_unref(bus);
        return 0;
}
