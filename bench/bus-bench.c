/* SPDX-License-Identifier: MIT */

/*
 * The native half of bench/suite: an sd-bus client and a bare sd-bus server, so that what is
 * measured is kneed and the bus, not a Python client's own overhead.
 *
 *     bus-bench echo-server ADDRESS NAME
 *         Owns NAME and serves nothing but what sd-bus answers by itself (Peer.Ping), with
 *         sd_bus_process() and sd_bus_wait(): the barest server there is. Runs until SIGTERM.
 *     bus-bench echo-server-event ADDRESS NAME
 *         The same on an sd-event loop, as sd-bus daemons are written: the in-run baseline.
 *     bus-bench calls ADDRESS COUNT DEST PATH CALL
 *         COUNT round trips of CALL: ping (Peer.Ping), version (Properties.Get of the
 *         Manager's Version), list-devices (Manager.ListDevices), session-elapsed
 *         (Properties.Get of ElapsedMs of the session at PATH) or session-props
 *         (Properties.GetAll of the Session interface at PATH) or history (Manager.GetHistory
 *         of up to 1000 sessions). Prints one line per call, the
 *         round trip in nanoseconds, after a warm-up of COUNT/10 calls.
 *     bus-bench exec-to-name ADDRESS NAME -- COMMAND...
 *         Runs COMMAND and prints the nanoseconds from just before exec to NAME being owned
 *         (NameOwnerChanged received), then stops it with SIGTERM and waits for it.
 *     bus-bench sessions ADDRESS COUNT DEVICE ROUTINE
 *         Starts and stops COUNT sessions one after the other on DEVICE (an object path).
 */

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>
#include <time.h>
#include <unistd.h>

#define KNEED_NAME "org.kneed.Kneed1"
#define MANAGER_PATH "/org/kneed/Kneed1"
#define MANAGER_IFACE "org.kneed.Kneed1.Manager"
#define SESSION_IFACE "org.kneed.Kneed1.Session"

static uint64_t now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

static int fail(const char *what, int r, const sd_bus_error *error)
{
        fprintf(stderr, "bus-bench: %s: %s\n", what,
                error && error->message ? error->message : strerror(r < 0 ? -r : r));
        return EXIT_FAILURE;
}

static int connect_to(const char *address, sd_bus **ret)
{
        sd_bus *bus = NULL;
        int r;

        r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_address(bus, address);
        if (r >= 0)
                r = sd_bus_set_bus_client(bus, 1);
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r < 0) {
                sd_bus_unref(bus);
                return r;
        }
        *ret = bus;
        return 0;
}

static int echo_server(const char *address, const char *name)
{
        sd_bus *bus = NULL;
        int r;

        r = connect_to(address, &bus);
        if (r >= 0)
                r = sd_bus_request_name(bus, name, 0);
        if (r < 0)
                return fail("echo server", r, NULL);
        for (;;) {
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        break;
                if (r > 0)
                        continue;
                r = sd_bus_wait(bus, UINT64_MAX);
                if (r < 0)
                        break;
        }
        sd_bus_flush_close_unref(bus);
        return EXIT_SUCCESS;
}

static const sd_bus_vtable echo_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Version", "s", NULL, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_VTABLE_END,
};

/*
 * The same, on sd-event, as every sd-bus daemon (kneed too) runs its bus. It also has kneed's
 * Manager.Version property (a constant string, like kneed's), so the same Get can be timed on
 * both: what is left between them is kneed's own cost.
 */
static int echo_server_event(const char *address, const char *name)
{
        static const char *version = "0.1.0";
        sd_event *event = NULL;
        sd_bus *bus = NULL;
        sigset_t mask;
        int r;

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        r = sd_event_default(&event);
        if (r >= 0)
                r = sd_event_add_signal(event, NULL, SIGTERM, NULL, NULL);
        if (r >= 0)
                r = connect_to(address, &bus);
        if (r >= 0)
                r = sd_bus_attach_event(bus, event, SD_EVENT_PRIORITY_NORMAL);
        if (r >= 0)
                r = sd_bus_add_object_vtable(bus, NULL, MANAGER_PATH, MANAGER_IFACE, echo_vtable,
                                             &version);
        if (r >= 0)
                r = sd_bus_request_name(bus, name, 0);
        if (r >= 0)
                r = sd_event_loop(event);
        if (r < 0)
                return fail("echo server (sd-event)", r, NULL);
        sd_bus_flush_close_unref(bus);
        sd_event_unref(event);
        return EXIT_SUCCESS;
}

static int one_call(sd_bus *bus, const char *dest, const char *path, const char *call,
                    sd_bus_error *error)
{
        sd_bus_message *reply = NULL;
        int r;

        if (strcmp(call, "ping") == 0)
                r = sd_bus_call_method(bus, dest, path, "org.freedesktop.DBus.Peer", "Ping", error,
                                       &reply, NULL);
        else if (strcmp(call, "version") == 0)
                r = sd_bus_call_method(bus, dest, path, "org.freedesktop.DBus.Properties", "Get",
                                       error, &reply, "ss", MANAGER_IFACE, "Version");
        else if (strcmp(call, "list-devices") == 0)
                r = sd_bus_call_method(bus, dest, path, MANAGER_IFACE, "ListDevices", error, &reply,
                                       NULL);
        else if (strcmp(call, "session-elapsed") == 0)
                r = sd_bus_call_method(bus, dest, path, "org.freedesktop.DBus.Properties", "Get",
                                       error, &reply, "ss", SESSION_IFACE, "ElapsedMs");
        else if (strcmp(call, "session-props") == 0)
                r = sd_bus_call_method(bus, dest, path, "org.freedesktop.DBus.Properties", "GetAll",
                                       error, &reply, "s", SESSION_IFACE);
        else if (strcmp(call, "history") == 0)
                r = sd_bus_call_method(bus, dest, path, MANAGER_IFACE, "GetHistory", error, &reply,
                                       "u", 1000);
        else
                r = -EINVAL;
        sd_bus_message_unref(reply);
        return r;
}

static int calls(const char *address, unsigned count, const char *dest, const char *path,
                 const char *call)
{
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus *bus = NULL;
        uint64_t *ns;
        int r;

        ns = calloc(count, sizeof(uint64_t));
        if (!ns)
                return fail("calls", -ENOMEM, NULL);
        r = connect_to(address, &bus);
        if (r < 0)
                return fail("connect", r, NULL);
        for (unsigned i = 0; i < count / 10; i++) {
                r = one_call(bus, dest, path, call, &error);
                if (r < 0)
                        return fail(call, r, &error);
        }
        for (unsigned i = 0; i < count; i++) {
                uint64_t t = now_ns();
                r = one_call(bus, dest, path, call, &error);
                ns[i] = now_ns() - t;
                if (r < 0)
                        return fail(call, r, &error);
        }
        for (unsigned i = 0; i < count; i++)
                printf("%llu\n", (unsigned long long) ns[i]);
        free(ns);
        sd_bus_flush_close_unref(bus);
        return EXIT_SUCCESS;
}

static int on_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        const char *name, *old_owner, *new_owner;
        uint64_t *owned_at = userdata;

        if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) >= 0 && *new_owner)
                *owned_at = now_ns();
        return 0;
}

static int exec_to_name(const char *address, const char *name, char **command)
{
        sd_bus *bus = NULL;
        uint64_t start, owned_at = 0;
        int r, status;
        pid_t pid;

        r = connect_to(address, &bus);
        if (r >= 0)
                r = sd_bus_match_signal(bus, NULL, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                        "org.freedesktop.DBus", "NameOwnerChanged",
                                        on_owner_changed, &owned_at);
        /* A round trip after AddMatch: the bus has the rule before the daemon starts. */
        if (r >= 0)
                r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "GetId", NULL, NULL, NULL);
        if (r < 0)
                return fail("exec-to-name", r, NULL);
        (void) name; /* the match covers every name; only NAME is ever acquired on this bus */

        start = now_ns();
        pid = fork();
        if (pid < 0)
                return fail("fork", -errno, NULL);
        if (pid == 0) {
                execvp(command[0], command);
                _exit(127);
        }
        while (owned_at == 0) {
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        return fail("waiting for the name", r, NULL);
                if (r == 0 && waitpid(pid, &status, WNOHANG) == pid) {
                        fprintf(stderr, "bus-bench: %s exited before owning its name\n",
                                command[0]);
                        return EXIT_FAILURE;
                }
                if (r == 0)
                        (void) sd_bus_wait(bus, 100000);
        }
        printf("%llu\n", (unsigned long long) (owned_at - start));
        fflush(stdout);
        kill(pid, SIGTERM);
        (void) waitpid(pid, &status, 0);
        sd_bus_flush_close_unref(bus);
        /* kneed exits 0 on SIGTERM; the bare echo server just dies of it. */
        if ((WIFEXITED(status) && WEXITSTATUS(status) == 0) ||
            (WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM))
                return EXIT_SUCCESS;
        fprintf(stderr, "bus-bench: %s failed on SIGTERM\n", command[0]);
        return EXIT_FAILURE;
}

static int sessions(const char *address, unsigned count, const char *device, const char *routine)
{
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus *bus = NULL;
        int r;

        r = connect_to(address, &bus);
        if (r < 0)
                return fail("connect", r, NULL);
        for (unsigned i = 0; i < count; i++) {
                sd_bus_message *reply = NULL;
                const char *path;

                r = sd_bus_call_method(bus, KNEED_NAME, MANAGER_PATH, MANAGER_IFACE, "StartRoutine",
                                       &error, &reply, "osa{sv}", device, routine, 0);
                if (r >= 0)
                        r = sd_bus_message_read(reply, "o", &path);
                if (r >= 0)
                        r = sd_bus_call_method(bus, KNEED_NAME, path, SESSION_IFACE, "Stop", &error,
                                               NULL, NULL);
                sd_bus_message_unref(reply);
                if (r < 0)
                        return fail("session", r, &error);
        }
        sd_bus_flush_close_unref(bus);
        return EXIT_SUCCESS;
}

int main(int argc, char *argv[])
{
        if (argc == 4 && strcmp(argv[1], "echo-server") == 0)
                return echo_server(argv[2], argv[3]);
        if (argc == 4 && strcmp(argv[1], "echo-server-event") == 0)
                return echo_server_event(argv[2], argv[3]);
        if (argc == 7 && strcmp(argv[1], "calls") == 0)
                return calls(argv[2], (unsigned) strtoul(argv[3], NULL, 10), argv[4], argv[5],
                             argv[6]);
        if (argc >= 6 && strcmp(argv[1], "exec-to-name") == 0 && strcmp(argv[4], "--") == 0)
                return exec_to_name(argv[2], argv[3], argv + 5);
        if (argc == 6 && strcmp(argv[1], "sessions") == 0)
                return sessions(argv[2], (unsigned) strtoul(argv[3], NULL, 10), argv[4], argv[5]);
        fprintf(stderr, "usage: see the comment at the top of bench/bus-bench.c\n");
        return 2;
}
