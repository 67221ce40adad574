/* SPDX-License-Identifier: MIT */

/*
 * Arbitrary method calls to kneed's objects, in process. The real manager (plugins, preset
 * routines, a policy, two virtual devices) serves a peer-to-peer sd-bus connection; each input
 * becomes a few D-Bus messages written raw to the other end of the socket, so that sd-bus parses
 * them exactly as it would parse messages from the bus, and kneed's handlers read the
 * arguments. An input is a sequence of calls (so that a session can be started, then paused,
 * adjusted and read), each:
 *   1 byte      which method: METHODS[] below (modulo its size)
 *   1 byte      the message's flags (no reply expected, allow interactive authorization, ...)
 *   1 byte      n, then n bytes: the body's signature
 *   2 bytes     m, little-endian, then m bytes: the body
 * After the calls the loop runs until idle and every session is stopped, so that the next
 * input finds devices free. The seeds (make-seeds) are calls GLib marshalled.
 */

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"
#include "kneed-bus.h"
#include "ledger.h"
#include "log.h"
#include "manager.h"
#include "session-limits.h"

typedef enum Target {
        TARGET_MANAGER,
        TARGET_DEVICE,
        TARGET_SESSION, /* the newest session */
} Target;

static const struct {
        Target target;
        const char *interface;
        const char *member;
} METHODS[] = {
        {TARGET_MANAGER, KNEED_MANAGER_INTERFACE, "ListDevices"},
        {TARGET_MANAGER, KNEED_MANAGER_INTERFACE, "StopAll"},
        {TARGET_MANAGER, KNEED_MANAGER_INTERFACE, "ListRoutines"},
        {TARGET_MANAGER, KNEED_MANAGER_INTERFACE, "GetRoutine"},
        {TARGET_MANAGER, KNEED_MANAGER_INTERFACE, "StartRoutine"},
        {TARGET_MANAGER, KNEED_MANAGER_INTERFACE, "Reload"},
        {TARGET_MANAGER, KNEED_MANAGER_INTERFACE, "ClearLockout"},
        {TARGET_MANAGER, KNEED_MANAGER_INTERFACE, "GetHistory"},
        {TARGET_DEVICE, KNEED_DEVICE_INTERFACE, "Stop"},
        {TARGET_DEVICE, KNEED_DEVICE_INTERFACE, "Identify"},
        {TARGET_SESSION, KNEED_SESSION_INTERFACE, "Pause"},
        {TARGET_SESSION, KNEED_SESSION_INTERFACE, "Resume"},
        {TARGET_SESSION, KNEED_SESSION_INTERFACE, "Stop"},
        {TARGET_SESSION, KNEED_SESSION_INTERFACE, "ReportPain"},
        {TARGET_SESSION, KNEED_SESSION_INTERFACE, "AdjustIntensity"},
        {TARGET_MANAGER, "org.freedesktop.DBus.Properties", "Get"},
        {TARGET_MANAGER, "org.freedesktop.DBus.Properties", "GetAll"},
        {TARGET_MANAGER, "org.freedesktop.DBus.Properties", "Set"},
        {TARGET_DEVICE, "org.freedesktop.DBus.Properties", "Get"},
        {TARGET_DEVICE, "org.freedesktop.DBus.Properties", "GetAll"},
        {TARGET_SESSION, "org.freedesktop.DBus.Properties", "Get"},
        {TARGET_SESSION, "org.freedesktop.DBus.Properties", "GetAll"},
        {TARGET_MANAGER, "org.freedesktop.DBus.Introspectable", "Introspect"},
        {TARGET_DEVICE, "org.freedesktop.DBus.Introspectable", "Introspect"},
        {TARGET_SESSION, "org.freedesktop.DBus.Introspectable", "Introspect"},
        {TARGET_MANAGER, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects"},
        {TARGET_MANAGER, "org.freedesktop.DBus.Peer", "Ping"},
};

/* A policy that lets sessions start as often as the fuzzer asks, within the hard bounds. */
static const char POLICY[] = "[Limits]\n"
                             "MaxSessionsPerDay=1000\n"
                             "MinRestMinutes=0\n"
                             "[Screening]\n"
                             "Required=no\n"
                             "[Lockout]\n"
                             "PainMinutes=0\n"
                             "OverheatMinutes=0\n"
                             "FaultMinutes=0\n";

static Options options;
static Manager *manager;
static sd_bus *server;
static int client_fd = -1;
static uint32_t serial;

static void die(const char *what, int r)
{
        fprintf(stderr, "fuzz-bus-message: %s: %s\n", what, strerror(r < 0 ? -r : r));
        abort();
}

/* The client's half of the SASL handshake (D-Bus specification, "Authentication Protocol"). */
static void authenticate(void)
{
        char hello[64], answer[256], uid[16];
        size_t got = 0;
        int n;

        /* Our own uid, which the server checks against the socket's peer, hex-encoded. */
        snprintf(uid, sizeof(uid), "%u", (unsigned) getuid());
        n = snprintf(hello, sizeof(hello), "%cAUTH EXTERNAL ", 0);
        for (const char *p = uid; *p; p++)
                n += snprintf(hello + n, sizeof(hello) - (size_t) n, "%02x", (unsigned) *p);
        n += snprintf(hello + n, sizeof(hello) - (size_t) n, "\r\n");
        if (write(client_fd, hello, (size_t) n) != n)
                die("writing AUTH", errno);

        /* The server answers "OK <guid>" once sd-bus has read the request. */
        while (!memchr(answer, '\n', got)) {
                ssize_t k;
                if (sd_bus_process(server, NULL) < 0)
                        die("server handshake", EPROTO);
                k = read(client_fd, answer + got, sizeof(answer) - got - 1);
                if (k > 0)
                        got += (size_t) k;
                else if (k == 0)
                        die("the server hung up during the handshake", ECONNRESET);
                else if (errno != EAGAIN)
                        die("reading OK", errno);
        }
        if (got < 3 || strncmp(answer, "OK ", 3) != 0)
                die("handshake refused", EPERM);
        if (write(client_fd, "BEGIN\r\n", 7) != 7)
                die("writing BEGIN", errno);
        while (!sd_bus_is_ready(server))
                if (sd_bus_process(server, NULL) < 0)
                        die("server handshake", EPROTO);
}

/* At exit: the manager freed (so that leak checkers see only real leaks) and the state
 * directory removed. */
static void cleanup(void)
{
        const char *dir = options.state_dir;
        char path[PATH_MAX];

        manager = manager_free(manager);
        server = sd_bus_flush_close_unref(server);
        if (client_fd >= 0)
                client_fd = safe_close(client_fd);
        if (dir) {
                static const char *const files[] = {"ledger", "policy.conf"};
                for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
                        (void) unlink(path);
                }
                (void) rmdir(dir);
        }
        options_done(&options);
}

static int setup(void)
{
        char state_dir[64], policy_path[PATH_MAX], state_arg[PATH_MAX + 16],
                config_arg[PATH_MAX + 16], routine_arg[PATH_MAX + 32];
        int fds[2], r;
        sd_id128_t id;
        FILE *f;

        /* /dev/shm where there is one: the ledger fdatasync()s each session's end. */
        snprintf(state_dir, sizeof(state_dir), "%s/kneed-fuzz-XXXXXX",
                 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
        if (!mkdtemp(state_dir))
                die("mkdtemp", errno);
        snprintf(policy_path, sizeof(policy_path), "%s/policy.conf", state_dir);
        f = fopen(policy_path, "we");
        if (!f || fputs(POLICY, f) < 0 || fclose(f) != 0)
                die("writing the policy", errno);

        /* The daemon's own command line, so that everything not named has kneed's defaults. */
        snprintf(state_arg, sizeof(state_arg), "--state-dir=%s", state_dir);
        snprintf(config_arg, sizeof(config_arg), "--config=%s", policy_path);
        snprintf(routine_arg, sizeof(routine_arg), "--routine-dir=%s/routines.d", state_dir);
        char *argv[] = {
                (char *) "kneed",
                (char *) "--data-dir=" KNEED_FUZZ_DATA_DIR,
                (char *) "--plugin-dir=" KNEED_FUZZ_PLUGIN_DIR,
                state_arg,
                config_arg,
                routine_arg,
                (char *) "--virtual-devices=virtual,virtual-heat",
                (char *) "--no-hardware",
                (char *) "--polkit=no",
                (char *) "--log-level=err",
                NULL,
        };
        if (options_parse((int) ELEMENTSOF(argv) - 1, argv, stdout, stderr, &options) <= 0)
                die("parsing the options", EINVAL);
        /* kneed's log would drown libFuzzer's: only what is critical, unless asked. */
        log_set_max_level(getenv("KNEED_FUZZ_VERBOSE") ? LOG_DEBUG : LOG_CRIT);

        r = manager_new(&options, &manager);
        if (r < 0)
                die("manager_new", r);
        manager_load(manager);

        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds) < 0)
                die("socketpair", errno);
        client_fd = fds[1];
        r = sd_bus_new(&server);
        if (r >= 0)
                r = sd_bus_set_fd(server, fds[0], fds[0]);
        if (r >= 0)
                r = sd_id128_randomize(&id);
        if (r >= 0)
                r = sd_bus_set_server(server, true, id);
        if (r >= 0)
                r = sd_bus_start(server);
        if (r < 0)
                die("starting the server bus", r);
        authenticate();

        r = manager_serve(manager, server);
        if (r < 0)
                die("manager_serve", r);
        atexit(cleanup);
        return 0;
}

static void new_ledger(void)
{
        char path[PATH_MAX];

        limits_close(manager);
        snprintf(path, sizeof(path), "%s/ledger", options.state_dir);
        if (unlink(path) < 0)
                die("removing the ledger", errno);
        if (limits_open(manager) < 0)
                die("opening a new ledger", EIO);
}

/* D-Bus marshalling, little-endian, just enough for a method call header. */
typedef struct Buffer {
        uint8_t data[4096];
        size_t size;
} Buffer;

static void put(Buffer *b, const void *p, size_t n)
{
        if (b->size + n > sizeof(b->data))
                die("header too big", E2BIG);
        memcpy(b->data + b->size, p, n);
        b->size += n;
}

static void align(Buffer *b, size_t to)
{
        static const uint8_t zeros[8];
        put(b, zeros, (to - b->size % to) % to);
}

static void put_u32(Buffer *b, uint32_t v)
{
        uint32_t le = htole32(v); /* the header says 'l' */

        align(b, 4);
        put(b, &le, 4);
}

/* One header field: (byte code, variant) with a string-like value of type 's', 'o' or 'g'. */
static void put_field(Buffer *b, uint8_t code, char type, const char *value, size_t length)
{
        const uint8_t nul = 0;
        const char sig[3] = {1, type, 0};

        align(b, 8);
        put(b, &code, 1);
        put(b, sig, 3);
        if (type == 'g') {
                uint8_t n = (uint8_t) length;
                put(b, &n, 1);
        } else
                put_u32(b, (uint32_t) length);
        put(b, value, length);
        put(b, &nul, 1);
}

static void target_path(Target t, char *buf, size_t size)
{
        switch (t) {
        case TARGET_DEVICE:
                snprintf(buf, size, "%s/virtual1", KNEED_DEVICE_PATH_PREFIX);
                break;
        case TARGET_SESSION:
                snprintf(buf, size, "%s/%u", KNEED_SESSION_PATH_PREFIX, manager->last_session_id);
                break;
        case TARGET_MANAGER:
        default:
                snprintf(buf, size, "%s", KNEED_MANAGER_PATH);
        }
}

static void send_call(unsigned method, uint8_t flags, const char *signature, size_t sig_len,
                      const uint8_t *body, size_t body_size)
{
        Buffer b = {.size = 0};
        char path[128];
        size_t fields_start;
        uint32_t fields_size;
        const uint8_t fixed[4] = {'l', 1 /* METHOD_CALL */, flags, 1};

        put(&b, fixed, 4);
        put_u32(&b, (uint32_t) body_size);
        put_u32(&b, ++serial == 0 ? ++serial : serial);
        put_u32(&b, 0); /* the fields' length, filled in below */
        fields_start = b.size;

        target_path(METHODS[method].target, path, sizeof(path));
        put_field(&b, 1, 'o', path, strlen(path));
        put_field(&b, 2, 's', METHODS[method].interface, strlen(METHODS[method].interface));
        put_field(&b, 3, 's', METHODS[method].member, strlen(METHODS[method].member));
        /* No sender: on a peer-to-peer connection the caller is the socket's peer, and sd-bus
         * asks only a bus about a named sender. So only detached sessions start here (a
         * session that follows its caller needs the bus to tell it the caller left); the
         * integration tests cover the others. */
        if (sig_len > 0)
                put_field(&b, 8, 'g', signature, sig_len);
        fields_size = htole32((uint32_t) (b.size - fields_start));
        memcpy(b.data + 12, &fields_size, 4);
        align(&b, 8);

        if (write(client_fd, b.data, b.size) != (ssize_t) b.size ||
            (body_size > 0 && write(client_fd, body, body_size) != (ssize_t) body_size))
                die("writing the call", errno);
}

/* Runs everything that is ready, then throws away whatever kneed sent back. */
static void run_until_idle(void)
{
        uint8_t sink[65536];

        for (int quiet = 0; quiet < 2;) {
                int r = sd_event_run(manager->event, 0);
                if (r < 0)
                        die("sd_event_run", r);
                quiet = r == 0 ? quiet + 1 : 0;
                while (read(client_fd, sink, sizeof(sink)) > 0)
                        ;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const uint8_t *p = data, *end = data + size;

        if (!manager)
                setup();

        /* Each call is handled before the next is sent, as from a client that waits for its
         * answers: the session a call started is the one the next call finds. */
        while (end - p >= 3) {
                uint8_t method = p[0], flags = p[1], sig_len = p[2];
                const char *signature = (const char *) p + 3;
                size_t body_size;

                p += 3;
                if ((size_t) (end - p) < sig_len + 2u)
                        break;
                p += sig_len;
                body_size = (size_t) p[0] | (size_t) p[1] << 8;
                p += 2;
                if ((size_t) (end - p) < body_size)
                        break;
                send_call(method % ELEMENTSOF(METHODS), flags, signature, sig_len, p, body_size);
                p += body_size;
                run_until_idle();
        }

        /* sd-bus drops a message it can't parse and goes on; no call may end the connection
         * (that would stop every device and exit kneed). */
        FUZZ_CHECK(sd_bus_is_open(server) > 0);

        /* StopAll, as a client would, so that the next input finds the devices free. */
        (void) manager_stop_all(manager, "stop-all");
        run_until_idle();
        for (Device *d = manager->devices; d; d = d->devices_next)
                FUZZ_CHECK(!d->session || (d->session->state != SESSION_RUNNING &&
                                           d->session->state != SESSION_PAUSED));

        /* The policy's daily limit would soon refuse every start: a new day's ledger. */
        if (limits_sessions_today(manager) >= 900)
                new_ledger();
        return 0;
}
