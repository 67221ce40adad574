# SPDX-License-Identifier: MIT
"""
Integration test harness: a private dbus-daemon per test, the real kneed binary on it, and
real clients (GDBus through PyGObject, busctl, gdbus, kneectl).

Paths come from the environment meson sets (tests/meson.build). KNEED_DAEMON_WRAPPER, when set,
is a command prefix for kneed, e.g. valgrind; timeouts then stretch by KNEED_TIMEOUT_FACTOR.
"""

import os
import pty
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import gi

gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib  # noqa: E402

BUS_NAME = "org.kneed.Kneed1"
MANAGER_PATH = "/org/kneed/Kneed1"
MANAGER_IFACE = "org.kneed.Kneed1.Manager"
DEVICE_IFACE = "org.kneed.Kneed1.Device"
SESSION_IFACE = "org.kneed.Kneed1.Session"
DEVICE_PREFIX = "/org/kneed/Kneed1/device/"

KNEED = os.environ["KNEED_BINARY"]
KNEECTL = os.environ["KNEECTL_BINARY"]
PLUGIN_DIR = os.environ["KNEED_PLUGIN_DIR"]
DATA_DIR = os.environ["KNEED_DATA_DIR"]
SOURCE_DIR = os.environ["KNEED_SOURCE_DIR"]
BUILD_DIR = os.environ["KNEED_BUILD_DIR"]
WRAPPER = shlex.split(os.environ.get("KNEED_DAEMON_WRAPPER", ""))
# How far from its schedule a step may start here. The precision itself is unit-tested with an
# injected clock (tests/test-engine.c) and measured by bench/step-timing; on CI's two loaded
# cores (sanitizers, tests in parallel) a wakeup can come late by several milliseconds, and by
# 42 ms once when the VM's host was busy, so this only has to catch a wrong schedule: a step
# here lasts 500 ms or more. Under valgrind the daemon runs tens of times slower still.
TIMING_TOLERANCE_US = 3_000_000 if WRAPPER else 100_000
TIMEOUT_FACTOR = float(os.environ.get("KNEED_TIMEOUT_FACTOR", "1"))



# Tests that aren't about the limits run under a policy that lets them start as many sessions
# as they like, without screening; the safety tests write their own.
PERMISSIVE_POLICY = """[Limits]
MaxSessionsPerDay=1000
MinRestMinutes=0
[Screening]
Required=no
"""

def make_policy(**sections):
    """A policy file from {section: {key: value}}; section names with spaces are given with
    underscores ("Device_virtual:x")."""
    text = ""
    for section, keys in sections.items():
        text += f"[{section.replace('_', ' ')}]\n"
        text += "".join(f"{k}={v}\n" for k, v in keys.items())
    return text


# Every screening answer "no", for StartRoutine's screening option.
ALL_CLEAR = {name: False for name in (
    "recent-injury", "swelling-redness-heat", "dvt-suspected", "infection-fever",
    "recent-surgery", "open-wound", "varicose-veins", "blood-thinners", "bleeding-disorder",
    "severe-osteoporosis", "cartilage-damage")}


def timeout(seconds):
    return seconds * TIMEOUT_FACTOR


def rss_kib(pid):
    """A process's resident set, in KiB."""
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def mapped_files(pid):
    """The names of the files a process has mapped, without their directories."""
    with open(f"/proc/{pid}/maps") as f:
        return {os.path.basename(p[5]) for p in (line.split() for line in f) if len(p) > 5}


def cpu_ticks(pid):
    """User and system time of a process so far, in clock ticks (proc(5): fields 14 and 15)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def wait_for(predicate, seconds=5.0, interval=0.01, what="condition"):
    """Polls predicate until it returns a true value, which is returned."""
    deadline = time.monotonic() + timeout(seconds)
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout(seconds):.1f}s waiting for {what}")
        time.sleep(interval)


class PrivateBus:
    """A dbus-daemon of our own, so tests never touch the machine's buses."""

    def __init__(self, directory):
        self.directory = directory
        self.process = subprocess.Popen(
            [os.path.join(SOURCE_DIR, "tools", "private-bus"), directory],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.address = self.process.stdout.readline().strip()
        if not self.address:
            raise RuntimeError("dbus-daemon did not print an address")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process.stdout.close()


class DBusCallError(Exception):
    def __init__(self, name, message):
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


class Client:
    """A GDBus client connection to the private bus. It records kneed's signals, or with
    sender=None every signal on the bus."""

    def __init__(self, address, sender=BUS_NAME):
        self.conn = Gio.DBusConnection.new_for_address_sync(
            address,
            Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT
            | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION,
            None,
            None,
        )
        self.signals = []
        self.conn.signal_subscribe(
            sender, None, None, None, None, Gio.DBusSignalFlags.NONE, self._on_signal
        )

    def _on_signal(self, conn, sender, path, iface, member, params):
        self.signals.append((path, iface, member, params.unpack()))

    def close(self):
        self.conn.close_sync(None)

    def call(self, path, iface, method, signature=None, args=(), reply=None, timeout_ms=10000,
             interactive=False):
        """A method call; interactive: the caller allows interactive authorization."""
        params = GLib.Variant(f"({signature})", args) if signature else None
        flags = (Gio.DBusCallFlags.ALLOW_INTERACTIVE_AUTHORIZATION if interactive
                 else Gio.DBusCallFlags.NONE)
        try:
            result = self.conn.call_sync(
                BUS_NAME,
                path,
                iface,
                method,
                params,
                GLib.VariantType(reply) if reply else None,
                flags,
                int(timeout_ms * TIMEOUT_FACTOR),
                None,
            )
        except GLib.Error as e:
            name = Gio.DBusError.get_remote_error(e) or str(e.code)
            message = e.message
            prefix = f"GDBus.Error:{name}: "
            if message.startswith(prefix):
                message = message[len(prefix):]
            raise DBusCallError(name, message) from None
        return result.unpack() if result is not None else None

    def get(self, path, iface, prop):
        (value,) = self.call(
            path, "org.freedesktop.DBus.Properties", "Get", "ss", (iface, prop), "(v)"
        )
        return value

    def get_all(self, path, iface):
        (values,) = self.call(
            path, "org.freedesktop.DBus.Properties", "GetAll", "s", (iface,), "(a{sv})"
        )
        return values

    def managed_objects(self):
        (objects,) = self.call(
            MANAGER_PATH, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects",
            reply="(a{oa{sa{sv}}})",
        )
        return objects

    def introspect(self, path):
        (xml,) = self.call(path, "org.freedesktop.DBus.Introspectable", "Introspect", reply="(s)")
        return xml

    def pump(self, seconds=0.0):
        """Runs the GLib main context so that signals are delivered."""
        ctx = GLib.MainContext.default()
        deadline = time.monotonic() + seconds
        while True:
            while ctx.pending():
                ctx.iteration(False)
            if time.monotonic() >= deadline:
                break
            time.sleep(0.005)

    def wait_signal(self, member, seconds=5.0, path=None, start=0):
        """Waits for a signal received at index >= start; returns (index, signal)."""
        def find():
            self.pump()
            for i in range(start, len(self.signals)):
                s = self.signals[i]
                if s[2] == member and (path is None or s[0] == path):
                    return (i, s)
            return None

        return wait_for(find, seconds, what=f"signal {member}")


class Trace:
    """The virtual plugin's command trace: one dict per line."""

    LINE = re.compile(r"(\w+)=(\S+)")

    def __init__(self, path):
        self.path = path

    def lines(self):
        try:
            with open(self.path) as f:
                text = f.read()
        except FileNotFoundError:
            return []
        result = []
        for line in text.splitlines():
            entry = dict(self.LINE.findall(line))
            entry["t_us"] = int(entry["t_us"])
            result.append(entry)
        return result

    def commands(self, dev=None, start=0):
        """Lines from index start on, optionally for one device, without keepalives."""
        return [
            e for e in self.lines()[start:]
            if e.get("op") != "keepalive" and (dev is None or e["dev"] == dev)
        ]


class Kneed:
    """The real kneed binary, run against a private bus."""

    def __init__(self, test, bus, virtual="2", args=(), plugin_dir=PLUGIN_DIR, data_dir=DATA_DIR,
                 wait=True, trace=True, name="kneed", env=None, expect_failure=False,
                 policy=PERMISSIVE_POLICY, hardware=False, prefix=(), binary=KNEED,
                 wrapper=None):
        self.test = test
        self.dir = test.tmpdir
        self.log_path = os.path.join(self.dir, f"{name}.log")
        self.trace = Trace(os.path.join(self.dir, "trace"))
        self.policy_path = os.path.join(self.dir, "policy.conf")
        if policy is not None:
            self.write_policy(policy)
        # prefix: a command kneed runs under, such as setpriv; the wrapper (valgrind, unless
        # the test says otherwise) goes inside it.
        cmd = list(prefix) + list(WRAPPER if wrapper is None else wrapper) + [
            binary,
            f"--bus-address={bus.address}",
            f"--plugin-dir={plugin_dir}",
            f"--data-dir={data_dir}",
            f"--state-dir={os.path.join(self.dir, 'state')}",
            f"--config={self.policy_path}",
            f"--routine-dir={os.path.join(self.dir, 'routines.d')}",
            "--log-level=debug",
        ]
        # The machine's own devices are never touched, unless the test emulates them.
        if not hardware:
            cmd.append("--no-hardware")
        if virtual:
            cmd.append(f"--virtual-devices={virtual}")
            if trace:
                cmd.append(f"--virtual-trace={self.trace.path}")
        cmd += list(args)
        self.log_file = open(self.log_path, "w")
        # Extra environment goes to kneed alone, never to the helpers the test runs.
        self.process = subprocess.Popen(cmd, stdout=self.log_file, stderr=subprocess.STDOUT,
                                        env=dict(os.environ, **(env or {})))
        self.bus = bus
        self.expect_failure = expect_failure
        if wait:
            self.wait_ready()

    def write_policy(self, text):
        with open(self.policy_path, "w") as f:
            f.write(text)

    def wait_ready(self):
        def owned():
            if self.process.poll() is not None:
                raise AssertionError(
                    f"kneed exited with {self.process.returncode} before owning its name:\n"
                    + self.log()
                )
            try:
                r = subprocess.run(
                    ["busctl", f"--address={self.bus.address}", "status", BUS_NAME],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=timeout(10),
                )
            except subprocess.TimeoutExpired:
                return False
            return r.returncode == 0

        wait_for(owned, 20, interval=0.02, what="kneed to own its bus name")

    def log(self):
        if not self.log_file.closed:
            self.log_file.flush()
        with open(self.log_path) as f:
            return f.read()

    def wait_log(self, pattern, seconds=5.0):
        return wait_for(lambda: re.search(pattern, self.log()), seconds, what=f"log {pattern!r}")

    def signal(self, sig):
        self.process.send_signal(sig)

    def wait_exit(self, seconds=10.0):
        try:
            return self.process.wait(timeout=timeout(seconds))
        finally:
            if not self.log_file.closed:
                self.log_file.flush()

    def stop(self):
        """SIGTERM and wait; returns the exit code."""
        if self.process.poll() is None:
            self.process.terminate()
        return self.wait_exit()

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def check_clean_log(self):
        text = self.log()
        # valgrind --quiet prints only problems, so any "definitely lost" is a leak.
        for bad in ("ERROR: AddressSanitizer", "runtime error:", "LeakSanitizer",
                    "Invalid read", "Invalid write", "definitely lost", "uninitialised"):
            if re.search(bad, text):
                raise AssertionError(f"sanitizer or valgrind report in kneed's log:\n{text}")


class KneedTestCase(unittest.TestCase):
    """Each test gets a temporary directory, a private bus and a client; kneed is started on
    demand with start_kneed(). Whatever the test does, everything is torn down and kneed's
    log is checked for sanitizer reports."""

    def setUp(self):
        self.tmpdir = tempfile.mkdtemp(prefix="kneed-test-")
        self.bus = PrivateBus(self.tmpdir)
        self.daemons = []
        self._client = None

    def tearDown(self):
        failed = False
        try:
            for d in self.daemons:
                # A clean exit, so that LeakSanitizer and valgrind get to look at the end.
                if d.process.poll() is None:
                    d.process.terminate()
                    try:
                        code = d.process.wait(timeout=timeout(20))
                    except subprocess.TimeoutExpired:
                        d.kill()
                        code = "killed after SIGTERM timed out"
                    if code != 0 and not d.expect_failure:
                        failed = True
                        raise AssertionError(f"kneed exited with {code} on SIGTERM:\n{d.log()}")
                d.log_file.close()
                try:
                    d.check_clean_log()
                except AssertionError:
                    failed = True
                    raise
        finally:
            for d in self.daemons:
                d.kill()
                if not d.log_file.closed:
                    d.log_file.close()
        if self._client:
            self._client.close()
        self.bus.stop()
        if not failed and not os.environ.get("KNEED_KEEP_TMP"):
            shutil.rmtree(self.tmpdir, ignore_errors=True)
        else:
            print(f"kept {self.tmpdir}")

    @property
    def client(self):
        if not self._client:
            self._client = Client(self.bus.address)
        return self._client

    def start_kneed(self, **kwargs):
        d = Kneed(self, self.bus, **kwargs)
        self.daemons.append(d)
        return d

    def make_data_dir(self, devices=None):
        """A data dir with the shipped routines and devices plus test device models, given
        as {model: extra [Device] and [Plugin virtual] text}; each is a copy of the handheld
        virtual model with that text appended."""
        data = os.path.join(self.tmpdir, "data")
        shutil.copytree(DATA_DIR, data)
        with open(os.path.join(DATA_DIR, "devices", "virtual.device")) as f:
            base = f.read()
        for model, extra in (devices or {}).items():
            text = base.replace("Match=virtual:virtual", f"Match=virtual:{model}")
            if "[Plugin virtual]" not in extra:
                extra = "[Plugin virtual]\n" + extra
            with open(os.path.join(data, "devices", model + ".device"), "w") as f:
                f.write(text + "\n" + extra)
        return data

    def kneectl(self, *args, check=True):
        r = subprocess.run(
            [KNEECTL, f"--address={self.bus.address}", *args],
            capture_output=True, text=True, timeout=timeout(30),
        )
        if check and r.returncode != 0:
            raise AssertionError(f"kneectl {' '.join(args)} failed ({r.returncode}): {r.stderr}")
        return r

    def kneectl_on_terminal(self, *args, respond=None, seconds=20):
        """kneectl on the bus, on a pseudo terminal (so it believes a person is there) until it
        exits; respond(output, fd), when given, is called with all output so far after each
        read and may answer on fd. Returns (exit code, output)."""
        pid, fd = pty.fork()
        if pid == 0:
            os.execv(KNEECTL, [KNEECTL, f"--address={self.bus.address}", *args])
        output = b""
        deadline = time.monotonic() + timeout(seconds)
        while time.monotonic() < deadline:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break  # EIO: kneectl has exited and closed the terminal
            if not chunk:
                break
            output += chunk
            if respond:
                respond(output, fd)
        _, status = os.waitpid(pid, 0)
        os.close(fd)
        return os.waitstatus_to_exitcode(status), output

    def busctl(self, *args, check=True):
        r = subprocess.run(
            ["busctl", f"--address={self.bus.address}", *args],
            capture_output=True, text=True, timeout=timeout(30),
        )
        if check and r.returncode != 0:
            raise AssertionError(f"busctl {' '.join(args)} failed: {r.stderr}")
        return r

    def gdbus(self, *args, check=True):
        r = subprocess.run(
            ["gdbus", *args[:1], "--address", self.bus.address, *args[1:]],
            capture_output=True, text=True, timeout=timeout(30),
        )
        if check and r.returncode != 0:
            raise AssertionError(f"gdbus {' '.join(args)} failed: {r.stderr}")
        return r

    def start_routine(self, routine, device="virtual0", client=None, **options):
        """StartRoutine through GDBus; options become the a{sv} (detach=True, ...)."""
        def variant(key, value):
            if isinstance(value, GLib.Variant):
                return value
            if key == "screening":
                return GLib.Variant("a{sb}", value)
            return GLib.Variant("b", value)

        variants = {k: variant(k, v) for k, v in options.items()}
        (path,) = (client or self.client).call(
            MANAGER_PATH, MANAGER_IFACE, "StartRoutine", "osa{sv}",
            (DEVICE_PREFIX + device, routine, variants), "(o)",
        )
        return path

    def assertDBusError(self, name, func, *args, **kwargs):
        with self.assertRaises(DBusCallError) as cm:
            func(*args, **kwargs)
        self.assertEqual(cm.exception.name, name, cm.exception.message)
        return cm.exception


def expected_level(percent, levels):
    """The native level the safety clamp sends for a request, with no policy caps: the
    nearest step, at least one when anything is asked for."""
    if percent <= 0:
        return 0
    import math
    return max(1, min(levels, int(math.floor(percent * levels / 100.0 + 0.5))))


def read_routine(path):
    """A routine file as (header dict, [step dicts])."""
    import configparser
    cp = configparser.ConfigParser(interpolation=None, comment_prefixes=("#", ";"))
    cp.optionxform = str
    cp.read(path)
    steps = []
    n = 1
    while cp.has_section(f"Step {n}"):
        steps.append(dict(cp[f"Step {n}"]))
        n += 1
    return dict(cp["Routine"]), steps


def duration_ms(text):
    m = re.fullmatch(r"(?:(\d+)m)?(?:(\d+)s)?", text)
    return (int(m.group(1) or 0) * 60 + int(m.group(2) or 0)) * 1000


def main():
    unittest.main(verbosity=2)
