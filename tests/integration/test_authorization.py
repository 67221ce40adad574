# SPDX-License-Identifier: MIT
"""Authorization: polkit (a python-dbusmock polkitd on the private bus, tests/integration/
polkitd_template.py) for starting routines and for administration, sessions controlled only
by their owner, and stopping never refused."""

import os
import subprocess
import sys
import threading
import time

import gi

gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from kneedtest import (  # noqa: E402
    BUS_NAME,
    DEVICE_IFACE,
    DEVICE_PREFIX,
    MANAGER_IFACE,
    MANAGER_PATH,
    SESSION_IFACE,
    KneedTestCase,
    main,
    timeout,
    wait_for,
)

START = "org.kneed.Kneed1.start-routine"
MANAGE = "org.kneed.Kneed1.manage"
MOCK_IFACE = "org.freedesktop.DBus.Mock"
POLKIT = "org.freedesktop.PolicyKit1"
AUTHORITY = "/org/freedesktop/PolicyKit1/Authority"
TEMPLATE = os.path.join(os.path.dirname(__file__), "polkitd_template.py")
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


class AuthorizationTest(KneedTestCase):
    def start_polkitd(self):
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.bus.address)
        self.polkitd = subprocess.Popen(
            ["/usr/bin/python3", "-m", "dbusmock", "--system", "--template", TEMPLATE],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.addCleanup(self.stop_polkitd)
        wait_for(lambda: self.busctl("status", POLKIT, check=False).returncode == 0, 20,
                 what="the mock polkitd")

    def stop_polkitd(self):
        self.polkitd.terminate()
        self.polkitd.wait(timeout=10)
        self.polkitd.stderr.close()

    def polkit(self, method, signature=None, args=()):
        """Calls the mock's control interface."""
        params = GLib.Variant(f"({signature})", args) if signature else None
        return self.client.conn.call_sync(POLKIT, AUTHORITY, MOCK_IFACE, method, params, None,
                                          Gio.DBusCallFlags.NONE, 10000, None).unpack()

    def queries(self):
        (q,) = self.polkit("GetQueries")
        return [tuple(x) for x in q]

    def unique_name(self):
        return self.client.conn.get_unique_name()

    def as_nobody(self, *args):
        """busctl as uid 65534, which needs to reach the bus socket."""
        os.chmod(self.tmpdir, 0o755)
        return subprocess.run(NOBODY + ["busctl", f"--address={self.bus.address}", *args],
                              capture_output=True, text=True, timeout=timeout(30))

    def test_polkit_decides_who_may_start_a_routine(self):
        self.start_polkitd()
        k = self.start_kneed(virtual="2", args=["--polkit=yes"])
        self.polkit("SetAllowed", "as", ([START],))
        path = self.start_routine("calf-release", detach=True)
        self.assertEqual(self.client.get(path, SESSION_IFACE, "State"), "running")
        # Asked about this very caller, for this action, without interaction.
        self.assertEqual(self.queries(), [("system-bus-name", self.unique_name(), START, 0)])

        self.polkit("SetAllowed", "as", ([],))
        e = self.assertDBusError("org.kneed.Kneed1.Error.NotAuthorized", self.start_routine,
                                 "calf-release", "virtual1", detach=True)
        self.assertIn("Not authorized to start a massage routine", e.message)
        self.assertRegex(k.log(), r"StartRoutine from :[0-9.]+ refused: Not authorized to start "
                                  r"a massage routine \[KNEED_DEVICE=virtual1 "
                                  r"KNEED_REASON=not-authorized\]")
        # Nothing about the device or routine is said to a caller who may not start one.
        e = self.assertDBusError("org.kneed.Kneed1.Error.NotAuthorized", self.start_routine,
                                 "no-such-routine", "virtual9", detach=True)

    def test_the_daemon_keeps_serving_while_polkit_thinks(self):
        self.start_polkitd()
        self.start_kneed(virtual="1", args=["--polkit=yes"])
        self.polkit("SetAllowed", "as", ([START],))
        self.polkit("SetDelay", "d", (1.5,))
        result = {}

        def start():
            from kneedtest import Client
            c = Client(self.bus.address)
            try:
                result["path"] = self.start_routine("calf-release", detach=True, client=c)
            finally:
                c.close()

        t = threading.Thread(target=start)
        t.start()
        time.sleep(0.3)  # the question is with polkit now (the mock can't be asked meanwhile)
        # The call waits for polkit; the loop does not.
        begin = time.monotonic()
        self.client.call(MANAGER_PATH, MANAGER_IFACE, "ListDevices", reply="(ao)")
        self.busctl("call", BUS_NAME, DEVICE_PREFIX + "virtual0", DEVICE_IFACE, "Stop")
        self.assertLess(time.monotonic() - begin, 1.0)
        self.assertNotIn("path", result)
        t.join(timeout(10))
        self.assertIn("path", result)

    def test_administration_needs_authentication(self):
        self.start_polkitd()
        self.start_kneed(virtual="1", args=["--polkit=yes"])
        self.polkit("SetChallenge", "as", ([MANAGE],))
        for method in ("Reload", "ClearLockout"):
            # Without interaction polkit can't ask for the password: the caller is told so.
            e = self.assertDBusError("org.freedesktop.DBus.Error.InteractiveAuthorizationRequired",
                                     self.client.call, MANAGER_PATH, MANAGER_IFACE, method)
            self.assertIn("Authentication is required to manage kneed", e.message)
            # With it, polkit asks, the person authenticates, and the call goes through.
            self.client.call(MANAGER_PATH, MANAGER_IFACE, method, interactive=True)
        me = self.unique_name()
        self.assertEqual(self.queries(), [
            ("system-bus-name", me, MANAGE, 0), ("system-bus-name", me, MANAGE, 1),
            ("system-bus-name", me, MANAGE, 0), ("system-bus-name", me, MANAGE, 1)])

    def test_kneectl_lets_a_person_on_a_terminal_authenticate(self):
        self.start_polkitd()
        self.start_kneed(virtual="1", args=["--polkit=yes"])
        self.polkit("SetChallenge", "as", ([MANAGE],))
        # A script (no terminal) can't answer a password prompt: it is told what is needed.
        r = self.kneectl("clear-lockout", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("Authentication is required to manage kneed", r.stderr)
        # On a terminal kneectl lets polkit ask, and the call goes through.
        code, output = self.kneectl_on_terminal("clear-lockout")
        self.assertEqual(code, 0, output)
        self.assertIn(b"Lockouts cleared.", output)
        self.assertEqual([q[2:] for q in self.queries()], [(MANAGE, 0), (MANAGE, 1)])

    def test_stopping_never_asks(self):
        self.start_polkitd()
        k = self.start_kneed(virtual="2", args=["--polkit=yes"])
        self.polkit("SetAllowed", "as", ([START],))
        s0 = self.start_routine("calf-release", "virtual0", detach=True)
        s1 = self.start_routine("calf-release", "virtual1", detach=True)
        self.polkit("SetAllowed", "as", ([],))
        asked = len(self.queries())
        self.client.call(s0, SESSION_IFACE, "Stop")
        self.client.call(DEVICE_PREFIX + "virtual1", DEVICE_IFACE, "Stop")
        self.client.call(MANAGER_PATH, MANAGER_IFACE, "StopAll")
        self.assertEqual(self.client.get(s0, SESSION_IFACE, "StopReason"), "session-stop")
        self.assertEqual(self.client.get(s1, SESSION_IFACE, "StopReason"), "device-stop")
        self.assertEqual(len(self.queries()), asked)
        self.assertEqual([e["op"] for e in k.trace.commands("virtual1")][-1], "stop")

    def test_without_polkit_nobody_is_authorized(self):
        # --polkit=yes and no polkitd on the bus: fail closed, and say why.
        k = self.start_kneed(virtual="1", args=["--polkit=yes"])
        e = self.assertDBusError("org.kneed.Kneed1.Error.NotAuthorized", self.start_routine,
                                 "calf-release", detach=True)
        self.assertIn("polkit could not be asked", e.message)
        self.assertIn("Cannot ask polkit whether", k.log())
        self.client.call(MANAGER_PATH, MANAGER_IFACE, "StopAll")

    def test_off_the_system_bus_the_bus_decides(self):
        # The default (auto) asks polkit only on the system bus: here nobody is asked.
        self.start_kneed(virtual="1")
        path = self.start_routine("calf-release", detach=True)
        self.assertEqual(self.client.get(path, SESSION_IFACE, "State"), "running")
        self.client.call(MANAGER_PATH, MANAGER_IFACE, "Reload")

    def test_a_session_is_its_owners(self):
        k = self.start_kneed(virtual="2")
        path = self.start_routine("calf-release", "virtual0", detach=True)
        self.assertEqual(self.client.get(path, SESSION_IFACE, "Owner"), os.geteuid())
        for method, args in (("Pause", []), ("Resume", []), ("AdjustIntensity", ["i", "5"]),
                             ("ReportPain", []), ("Stop", [])):
            r = self.as_nobody("call", BUS_NAME, path, SESSION_IFACE, method, *args)
            self.assertNotEqual(r.returncode, 0, method)
            self.assertIn(f"Session 1 belongs to uid {os.geteuid()}: only its owner may control "
                          "it", r.stderr, method)
        self.assertEqual(self.client.get(path, SESSION_IFACE, "State"), "running")
        self.assertIn("uid 65534 may not control uid", k.log())
        # But anyone may stop the device, and with it the session.
        r = self.as_nobody("call", BUS_NAME, DEVICE_PREFIX + "virtual0", DEVICE_IFACE, "Stop")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.client.get(path, SESSION_IFACE, "StopReason"), "device-stop")
        self.start_routine("calf-release", "virtual1", detach=True)
        r = self.as_nobody("call", BUS_NAME, MANAGER_PATH, MANAGER_IFACE, "StopAll")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual([e["op"] for e in k.trace.commands("virtual1")][-1], "stop")


if __name__ == "__main__":
    main()
