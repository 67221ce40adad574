# SPDX-License-Identifier: MIT
"""The foundation: objects, properties, the contract, stops, signals, kneectl and bad input."""

import json
import os
import shutil
import signal
import socket
import time
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(__file__))
from kneedtest import (  # noqa: E402
    DEVICE_IFACE,
    DEVICE_PREFIX,
    KNEED,
    KNEECTL,
    MANAGER_IFACE,
    MANAGER_PATH,
    PLUGIN_DIR,
    SESSION_IFACE,
    Client,
    KneedTestCase,
    main,
    mapped_files,
    timeout,
    wait_for,
)

CONTRACT = os.environ["KNEED_INTROSPECTION_XML"]
LOADER_PLUGIN_DIR = os.environ["KNEED_LOADER_PLUGIN_DIR"]


def describe_interface(node):
    """What matters in an interface: members, argument names, types, directions, access and
    whether properties announce changes."""
    methods, props, signals = {}, {}, {}
    for m in node.findall("method"):
        methods[m.get("name")] = [
            (a.get("name"), a.get("type"), a.get("direction", "in")) for a in m.findall("arg")
        ]
    for p in node.findall("property"):
        emits = "true"
        for a in p.findall("annotation"):
            if a.get("name") == "org.freedesktop.DBus.Property.EmitsChangedSignal":
                emits = a.get("value")
        props[p.get("name")] = (p.get("type"), p.get("access"), emits)
    for s in node.findall("signal"):
        signals[s.get("name")] = [(a.get("name"), a.get("type")) for a in s.findall("arg")]
    return {"methods": methods, "properties": props, "signals": signals}


def interfaces(xml_text):
    root = ET.fromstring(xml_text)
    return {i.get("name"): describe_interface(i) for i in root.findall("interface")}


class FoundationTest(KneedTestCase):
    def test_objects_and_properties(self):
        self.start_kneed(virtual="2,virtual-heat")
        c = self.client
        (listed,) = c.call(MANAGER_PATH, MANAGER_IFACE, "ListDevices", reply="(ao)")
        expected = [DEVICE_PREFIX + f"virtual{i}" for i in range(3)]
        self.assertEqual(listed, expected)
        self.assertEqual(c.get(MANAGER_PATH, MANAGER_IFACE, "Devices"), expected)

        version = subprocess.run([KNEED, "--version"], capture_output=True, text=True,
                                 timeout=30).stdout
        self.assertEqual(version.strip(), "kneed " + c.get(MANAGER_PATH, MANAGER_IFACE, "Version"))

        hand = c.get_all(expected[0], DEVICE_IFACE)
        self.assertEqual(hand["Name"], "Virtual handheld massager")
        self.assertEqual(hand["Plugin"], "virtual")
        self.assertEqual(hand["Transport"], "virtual")
        self.assertEqual(hand["Levels"], 20)
        self.assertFalse(hand["HasHeat"])
        self.assertEqual(hand["State"], "idle")
        self.assertIn("quadriceps", hand["Zones"])
        self.assertNotIn("kneecap", hand["Zones"])

        wrap = c.get_all(expected[2], DEVICE_IFACE)
        self.assertEqual(wrap["Name"], "Virtual heated knee wrap")
        self.assertEqual(wrap["Levels"], 5)
        self.assertTrue(wrap["HasHeat"])
        self.assertEqual(wrap["Zones"], ["quadriceps", "hamstrings", "calves", "peripatellar"])

        # The ObjectManager reports the same objects and properties.
        objects = c.managed_objects()
        self.assertEqual(sorted(p for p in objects if p.startswith(DEVICE_PREFIX)), expected)
        self.assertEqual(objects[expected[2]][DEVICE_IFACE]["Levels"], 5)

    def test_busctl_tree_shows_manager_and_devices(self):
        self.start_kneed(virtual="2")
        out = self.busctl("tree", "--list", "org.kneed.Kneed1").stdout.split()
        for path in (MANAGER_PATH, DEVICE_PREFIX + "virtual0", DEVICE_PREFIX + "virtual1"):
            self.assertIn(path, out)

    def test_introspection_matches_contract(self):
        self.start_kneed(virtual="1")
        with open(CONTRACT) as f:
            contract = interfaces(f.read())
        session = self.start_routine("calf-release", detach=True)
        live = {
            MANAGER_IFACE: interfaces(self.client.introspect(MANAGER_PATH)),
            DEVICE_IFACE: interfaces(self.client.introspect(DEVICE_PREFIX + "virtual0")),
            SESSION_IFACE: interfaces(self.client.introspect(session)),
        }
        self.assertIn("org.freedesktop.DBus.ObjectManager", live[MANAGER_IFACE])
        for name, objects in live.items():
            with self.subTest(interface=name):
                self.assertEqual(objects[name], contract[name])
        # Every org.kneed interface in the contract is served by one of the object types.
        self.assertEqual(set(live), {n for n in contract if n.startswith("org.kneed.")})

    def test_start_stops_every_device_first(self):
        k = self.start_kneed(virtual="3")
        for dev in ("virtual0", "virtual1", "virtual2"):
            first = k.trace.commands(dev)[0]
            self.assertEqual(first["op"], "stop", f"first command to {dev} was not stop")

    def test_stop_all_stops_every_device(self):
        k = self.start_kneed(virtual="3")
        # A device that is running: identify makes it buzz.
        self.client.call(DEVICE_PREFIX + "virtual1", DEVICE_IFACE, "Identify")
        mark = len(k.trace.lines())
        # StopAll from gdbus, a real client of its own.
        self.gdbus("call", "--dest", "org.kneed.Kneed1", "--object-path", MANAGER_PATH,
                   "--method", MANAGER_IFACE + ".StopAll")
        after = k.trace.commands(start=mark)
        self.assertEqual(sorted(e["dev"] for e in after if e["op"] == "stop"),
                         ["virtual0", "virtual1", "virtual2"])
        self.assertFalse([e for e in after if e["op"] == "set"])
        self.assertEqual(self.client.get(DEVICE_PREFIX + "virtual1", DEVICE_IFACE, "State"), "idle")

    def test_identify_is_short_and_low(self):
        k = self.start_kneed(virtual="1")
        c = self.client
        path = DEVICE_PREFIX + "virtual0"
        c.pump()
        mark = len(c.signals)
        c.call(path, DEVICE_IFACE, "Identify")
        self.assertEqual(c.get(path, DEVICE_IFACE, "State"), "identifying")
        # State goes back to idle by itself, announced with PropertiesChanged.
        def back_to_idle():
            c.pump()
            return any(s[2] == "PropertiesChanged" and s[3][1].get("State") == "idle"
                       for s in c.signals[mark:])
        wait_for(back_to_idle, 3, what="State to return to idle")

        cmds = k.trace.commands("virtual0")[1:]  # after the start-up stop
        self.assertEqual([e["op"] for e in cmds], ["set", "stop"])
        self.assertEqual(cmds[0]["level"], "1")
        self.assertEqual(cmds[0]["heat"], "0")
        buzz_ms = (cmds[1]["t_us"] - cmds[0]["t_us"]) / 1000
        self.assertGreaterEqual(buzz_ms, 350)
        self.assertLess(buzz_ms, 1500)

    def test_identify_while_identifying_restarts_the_buzz(self):
        k = self.start_kneed(virtual="1")
        path = DEVICE_PREFIX + "virtual0"
        self.client.call(path, DEVICE_IFACE, "Identify")
        time.sleep(0.3)
        t_second = time.monotonic()
        self.client.call(path, DEVICE_IFACE, "Identify")
        self.assertEqual(self.client.get(path, DEVICE_IFACE, "State"), "identifying")
        wait_for(lambda: k.trace.commands("virtual0")[-1]["op"] == "stop", seconds=3,
                 what="the buzz to end")
        # The buzz ends 0.4 s after the second call, not the first.
        self.assertGreater(time.monotonic() - t_second, 0.35)
        ops = [e["op"] for e in k.trace.commands("virtual0")[1:]]
        self.assertEqual(ops, ["set", "stop"])  # the second call kept the same buzz going

    def test_device_stop_stops_only_that_device(self):
        k = self.start_kneed(virtual="2")
        mark = len(k.trace.lines())
        r = self.kneectl("stop", "virtual1")
        self.assertEqual(r.stdout.strip(), "Stopped virtual1.")
        after = k.trace.commands(start=mark)
        self.assertEqual([(e["dev"], e["op"]) for e in after], [("virtual1", "stop")])

    def test_unknown_device_object(self):
        self.start_kneed(virtual="1")
        self.assertDBusError("org.freedesktop.DBus.Error.UnknownObject", self.client.call,
                             DEVICE_PREFIX + "nosuch", DEVICE_IFACE, "Stop")
        r = self.kneectl("stop", "nosuch", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr.strip(), "kneectl: no device 'nosuch'")
        r = self.kneectl("stop", "no/such", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("is not a device id", r.stderr)

    def test_sigterm_stops_every_device_before_exit(self):
        k = self.start_kneed(virtual="3")
        self.client.call(DEVICE_PREFIX + "virtual0", DEVICE_IFACE, "Identify")
        mark = len(k.trace.lines())
        k.signal(signal.SIGTERM)
        self.assertEqual(k.wait_exit(), 0)
        after = k.trace.commands(start=mark)
        self.assertEqual(sorted((e["dev"], e["op"]) for e in after),
                         [("virtual0", "stop"), ("virtual1", "stop"), ("virtual2", "stop")])
        self.assertIn("Received Terminated, stopping every device and exiting", k.log())

    def test_sigint_exits_cleanly(self):
        k = self.start_kneed(virtual="1")
        k.signal(signal.SIGINT)
        self.assertEqual(k.wait_exit(), 0)

    def test_sighup_reloads_and_keeps_serving(self):
        k = self.start_kneed(virtual="1")
        local = os.path.join(self.tmpdir, "routines.d")
        os.mkdir(local)
        with open(os.path.join(local, "added.routine"), "w") as f:
            f.write("[Routine]\nId=added\nName=Added\nCondition=C\nSummary=S\nSource=S\n"
                    "[Step 1]\nZone=calves\nPattern=knead\nIntensity=10\nDuration=10s\n"
                    "Cue=Rest it on the calf.\n")
        k.signal(signal.SIGHUP)
        k.wait_log("Reloading configuration")
        wait_for(lambda: "added" in [r[0] for r in self.client.call(
            MANAGER_PATH, MANAGER_IFACE, "ListRoutines", reply="(a(sssu))")[0]],
            what="the new routine after SIGHUP")
        self.assertEqual(self.client.get(MANAGER_PATH, MANAGER_IFACE, "Devices"),
                         [DEVICE_PREFIX + "virtual0"])

    def test_name_already_owned(self):
        self.start_kneed(virtual="1")
        second = self.start_kneed(virtual="1", wait=False, trace=False, name="second",
                                  expect_failure=True)
        self.assertNotEqual(second.wait_exit(), 0)
        self.assertIn("The bus name org.kneed.Kneed1 is already owned", second.log())
        self.assertIn("is another kneed running?", second.log())

    def test_bus_unreachable(self):
        r = subprocess.run(
            [KNEED, "--bus-address=unix:path=" + os.path.join(self.tmpdir, "no-bus"),
             f"--plugin-dir={PLUGIN_DIR}"],
            capture_output=True, text=True, timeout=30,
        )
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, r"Failed to connect to unix:path=.*no-bus: "
                                   r"(No such file or directory|Connection refused)")

    def test_bus_disconnect_stops_devices_and_exits_nonzero(self):
        k = self.start_kneed(virtual="2", expect_failure=True)
        self.client.call(DEVICE_PREFIX + "virtual0", DEVICE_IFACE, "Identify")
        mark = len(k.trace.lines())
        self.bus.stop()
        self.assertNotEqual(k.wait_exit(), 0)
        after = k.trace.commands(start=mark)
        self.assertEqual(sorted(e["dev"] for e in after if e["op"] == "stop"),
                         ["virtual0", "virtual1"])
        self.assertIn("Lost the bus connection", k.log())
        self.assertNotIn("Event loop failed", k.log())  # said once, as what it is
        self._client = None  # the bus is gone; nothing to close

    def test_bad_plugins_are_reported_and_skipped(self):
        plugins = os.path.join(self.tmpdir, "plugins")
        os.mkdir(plugins)
        shutil.copy(os.path.join(PLUGIN_DIR, "virtual.so"), plugins)
        for name in ("bad-abi.so", "missing-hook.so", "no-descriptor.so", "not-elf.so",
                     "bad-id.so", "good.so", "zz-duplicate.so"):
            shutil.copy(os.path.join(LOADER_PLUGIN_DIR, name), plugins)

        k = self.start_kneed(virtual="1", plugin_dir=plugins)
        log = k.log()
        self.assertRegex(log, r"Refusing plugin .*/bad-abi.so: wrong ABI version: has ABI 99, "
                              r"this kneed needs ABI 1")
        self.assertRegex(log, r"Refusing plugin .*/missing-hook.so: missing required hook stop")
        self.assertRegex(log, r"Refusing plugin .*/no-descriptor.so: exports no 'kneed_plugin'")
        self.assertRegex(log, r"Refusing plugin .*/not-elf.so: cannot be loaded")
        self.assertRegex(log, r"Refusing plugin .*/bad-id.so: missing or invalid id")
        self.assertRegex(log, r"Refusing plugin .*/zz-duplicate.so: duplicate plugin id 'good'")
        self.assertRegex(log, r"Found plugin 'good' in .*/good.so")
        self.assertRegex(log, r"Found plugin 'virtual' in .*/virtual.so")
        # Loaded to be checked, then unloaded: only a device's plugin stays.
        self.assertRegex(log, r"Loaded plugin 'virtual' from .*/virtual.so")
        self.assertNotIn("Loaded plugin 'good'", log)
        mapped = mapped_files(k.process.pid)
        self.assertIn("virtual.so", mapped)
        self.assertNotIn("good.so", mapped)
        # The daemon carried on with the good ones.
        self.assertEqual(self.client.get(MANAGER_PATH, MANAGER_IFACE, "Devices"),
                         [DEVICE_PREFIX + "virtual0"])

    def test_objects_found_at_start_are_not_signalled(self):
        # Before kneed owns its name no client can be watching it: the devices it finds at
        # start are read with GetManagedObjects, not announced one by one.
        everything = Client(self.bus.address, sender=None)
        try:
            self.start_kneed(virtual="2")
            objects = self.client.managed_objects()
            self.assertIn(DEVICE_PREFIX + "virtual1", objects)
            everything.pump(0.3)
            self.assertEqual([s[:3] for s in everything.signals
                              if s[1] != "org.freedesktop.DBus"], [])

            # What changes once the name is owned is announced.
            path = self.start_routine("calf-release", detach=True)
            wait_for(lambda: everything.pump() or any(
                s[0] == "/org/kneed/Kneed1" and s[2] == "InterfacesAdded"
                and s[3][0] == path for s in everything.signals),
                what="InterfacesAdded for the session")
        finally:
            everything.close()

    def test_missing_plugin_dir_is_reported(self):
        k = self.start_kneed(virtual=None, plugin_dir=os.path.join(self.tmpdir, "none"))
        self.assertRegex(k.log(), r"Failed to read plugin directory .*/none, no plugins loaded")
        self.assertEqual(self.client.get(MANAGER_PATH, MANAGER_IFACE, "Devices"), [])

    def test_unknown_virtual_model_fails_start(self):
        k = self.start_kneed(virtual="nosuch", wait=False, expect_failure=True)
        self.assertEqual(k.wait_exit(), 1)
        self.assertIn("Unknown virtual device model 'nosuch'", k.log())

    @staticmethod
    def _index(messages, text):
        """Index of the first message containing text, or len(messages) if none does."""
        return next((i for i, m in enumerate(messages) if text in m), len(messages))

    def test_sd_notify_ready_and_watchdog(self):
        # Play systemd: a notify socket, a watchdog period, and read what kneed sends.
        path = os.path.join(self.tmpdir, "notify")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(path)
        sock.settimeout(timeout(10))
        messages = []

        # Read continuously, as systemd does: a full socket queue would block the sender.
        def drain():
            while True:
                try:
                    messages.append(sock.recv(4096).decode())
                except OSError:
                    return

        reader = threading.Thread(target=drain, daemon=True)
        reader.start()
        k = self.start_kneed(virtual="1",
                             env={"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "200000"})
        # READY once serving, and WATCHDOG keeps coming after it (every 100 ms here).
        wait_for(lambda: sum("WATCHDOG=1" in m
                             for m in messages[self._index(messages, "READY=1"):]) >= 2,
                 seconds=10, what="READY=1 and then WATCHDOG=1 twice")
        ready = messages[self._index(messages, "READY=1")]
        self.assertIn("STATUS=Serving 1 device(s)", ready)
        k.signal(signal.SIGTERM)
        self.assertEqual(k.wait_exit(), 0)
        wait_for(lambda: any("STOPPING=1" in m for m in messages), what="STOPPING=1")
        sock.shutdown(socket.SHUT_RDWR)
        sock.close()

    def test_help_and_version(self):
        r = subprocess.run([KNEED, "--help"], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0)
        for option in ("--session", "--bus-address=", "--plugin-dir=", "--data-dir=",
                       "--state-dir=", "--config=", "--virtual-devices=", "--virtual-trace="):
            self.assertIn(option, r.stdout)
        r = subprocess.run([KNEED, "--bogus"], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertIn("unknown option", r.stderr)


class KneectlTest(KneedTestCase):
    def test_devices_human_and_json(self):
        self.start_kneed(virtual="virtual,virtual-heat")
        out = self.kneectl("devices").stdout.splitlines()
        self.assertRegex(out[0], r"^ID\s+NAME\s+PLUGIN\s+TRANSPORT\s+LEVELS\s+HEAT\s+STATE$")
        self.assertRegex(out[1], r"^virtual0\s+Virtual handheld massager\s+virtual\s+virtual\s+20\s+no\s+idle$")
        self.assertRegex(out[2], r"^virtual1\s+Virtual heated knee wrap\s+virtual\s+virtual\s+5\s+yes\s+idle$")

        devices = json.loads(self.kneectl("--json", "devices").stdout)
        self.assertEqual([d["id"] for d in devices], ["virtual0", "virtual1"])
        self.assertEqual(devices[1]["zones"], ["quadriceps", "hamstrings", "calves", "peripatellar"])
        self.assertEqual(devices[1]["has_heat"], True)
        self.assertEqual(devices[0]["path"], DEVICE_PREFIX + "virtual0")

    def test_status(self):
        self.start_kneed(virtual="2")
        out = self.kneectl("status").stdout
        self.assertRegex(out, r"^kneed \S+ on unix:.*, 2 devices\n")
        self.assertIn("  virtual1: Virtual handheld massager (virtual), idle", out)
        status = json.loads(self.kneectl("--json", "status").stdout)
        self.assertEqual(len(status["devices"]), 2)
        self.assertTrue(status["version"])

    def test_stop_all(self):
        k = self.start_kneed(virtual="2")
        mark = len(k.trace.lines())
        self.assertEqual(self.kneectl("stop").stdout.strip(), "Stopped every device.")
        self.assertEqual(json.loads(self.kneectl("--json", "stop").stdout), {"stopped": "all"})
        self.assertEqual(len([e for e in k.trace.commands(start=mark) if e["op"] == "stop"]), 4)

    def test_daemon_absent(self):
        for args in (("devices",), ("status",), ("stop",), ("--json", "devices")):
            r = self.kneectl(*args, check=False)
            self.assertEqual(r.returncode, 1, args)
            self.assertEqual(r.stdout, "")
            self.assertEqual(
                r.stderr.strip(),
                f"kneectl: kneed is not running on {self.bus.address} "
                "(org.kneed.Kneed1 has no owner)",
            )

    def test_bus_absent(self):
        r = subprocess.run([KNEECTL, "--address=unix:path=/nonexistent/bus", "devices"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr.count("\n"), 1)
        self.assertIn("kneectl: cannot connect to unix:path=/nonexistent/bus", r.stderr)

    def test_usage_errors(self):
        for args, message in ((("frobnicate",), "unknown command 'frobnicate'"),
                              ((), "missing command"),
                              (("devices", "extra"), "wrong number of arguments for 'devices'")):
            r = subprocess.run([KNEECTL, *args], capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 1)
            self.assertIn(message, r.stderr)


if __name__ == "__main__":
    main()
